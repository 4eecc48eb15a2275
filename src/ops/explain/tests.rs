//! Tests of `explain`: the replies of the real decision path, decoded and
//! sourced, and every reason for nothing.

use super::*;
use crate::binding::file::parse;
use crate::config::{parse as parse_config, Format};
use crate::mac::MacAddr;

const TAP_MAC: MacAddr = MacAddr([0xfe, 0, 0, 0, 0, 1]);

/// A config as the end-to-end tests write it, plus `extra` in `[ipv6]`.
fn config(extra_dhcp: &str, extra_ipv6: &str) -> Config {
    let text = format!(
        "[general]\ndatapath = /nonexistent\n\n[dhcp]\nenable_dhcp = yes\nlease_lifetime = 86400\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nnameservers = 192.0.2.53, 198.51.100.53\ndomain = vm.example.org\n{extra_dhcp}\n\n[ipv6]\nenable_ipv6 = yes\nrs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45\nnameservers = 2001:db8:53::1\ndomains = vm.example.org, example.org\n{extra_ipv6}\n"
    );
    parse_config(&text, Format::Ini, "test.conf")
        .expect("valid config")
        .config
}

/// A snapshot of `tap` with binding `text`, its link up when `link`.
fn snapshot(tap: &str, text: &str, link: bool) -> Snapshot {
    let mut s = Store::new();
    s.set_file(tap, parse(tap, text, true));
    if link {
        s.link_up(
            tap,
            Link {
                ifindex: 7,
                mac: Some(TAP_MAC),
            },
        );
    }
    s.snapshot(&Snapshot::default()).0
}

const V4: &str = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nHOSTNAME=web1\nMTU=1400\n";
const V6: &str = "SUBNET6=2001:db8:1::/64\nGATEWAY6=fe80::1\nEUI64=2001:db8:1::a800:ff:fe00:10\nNAMESERVERS6=2001:db8:53::99\nPREFIX6_DELEGATED=2001:db8:100::/56\n";

/// The value and source of field `name` of exchange `i`.
fn field(r: &Report, i: usize, name: &str) -> (String, String) {
    let f = r.exchanges[i]
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name} in {:#?}", r.exchanges[i]));
    (
        f.value.clone(),
        f.source.as_ref().map_or("-".into(), ToString::to_string),
    )
}

fn pair(v: &str, s: &str) -> (String, String) {
    (v.into(), s.into())
}

#[test]
fn dhcpv4_offer_and_ack_with_every_value_and_its_source() {
    let c = config("", "");
    let x = explain(
        &c,
        &snapshot("tap0", V4, true),
        "tap0",
        &[Which::Dhcpv4],
        Queues::Offline,
    );
    assert_eq!(
        (x.state.as_str(), x.ifindex, x.live),
        ("active", Some(7), false)
    );
    let r = &x.protocols[0];
    assert_eq!(r.nothing, None, "{r:#?}");
    assert_eq!(r.queue, "42 (state unknown offline)");
    let kinds: Vec<_> = r.exchanges.iter().map(|e| e.reply.as_str()).collect();
    assert_eq!(kinds, ["DHCPOFFER", "DHCPACK"]);
    assert!(r.exchanges[1].request.starts_with("DHCPREQUEST"));
    for i in 0..2 {
        assert_eq!(field(r, i, "address"), pair("192.0.2.10", "binding IP"));
        assert_eq!(
            field(r, i, "subnet_mask"),
            pair("255.255.255.0", "binding SUBNET")
        );
        assert_eq!(field(r, i, "router"), pair("192.0.2.1", "binding GATEWAY"));
        assert_eq!(
            field(r, i, "dns"),
            pair("192.0.2.53, 198.51.100.53", "config [dhcp] nameservers")
        );
        assert_eq!(
            field(r, i, "lease_time"),
            pair("86400", "config [dhcp] lease_lifetime")
        );
        // lease_renewal left at its default of 3600 (below 7/8 of the lease).
        assert_eq!(
            field(r, i, "renewal_time"),
            pair("3600", "config [dhcp] lease_renewal")
        );
        assert_eq!(field(r, i, "mtu"), pair("1400", "binding MTU"));
        assert_eq!(field(r, i, "hostname"), pair("web1", "binding HOSTNAME"));
        assert_eq!(
            field(r, i, "domain"),
            pair("vm.example.org", "config [dhcp] domain")
        );
        assert_eq!(
            field(r, i, "search"),
            pair("vm.example.org, example.org", "config [ipv6] domains")
        );
        assert_eq!(
            field(r, i, "server_id"),
            pair("192.0.2.1", "config [dhcp] server_ip")
        );
        assert_eq!(
            field(r, i, "classless_routes"),
            pair("0.0.0.0/0 via 192.0.2.1", "binding GATEWAY")
        );
    }
    let text = render(&x);
    assert!(text.contains("DHCPDISCOVER"), "{text}");
    assert!(text.contains("binding GATEWAY"), "{text}");
}

#[test]
fn explaining_spends_none_of_the_taps_rate_limit() {
    let mut c = config("", "");
    c.limits = Limit { rate: 1, burst: 1 };
    let snap = snapshot("tap0", V4, true);
    let x = explain(&c, &snap, "tap0", &[Which::Dhcpv4], Queues::Offline);
    assert_eq!(x.protocols[0].exchanges.len(), 2, "{x:#?}");
    let s = snap.lookup(7).unwrap();
    assert!(s.limiter.allow(Protocol::Dhcpv4, c.limits, 1), "token left");
    assert_eq!(s.limiter.dropped_total(), 0);
}

#[test]
fn ra_shows_the_prefix_and_the_bindings_dns_over_the_configs() {
    let c = config("", "mode = dhcpv6");
    let x = explain(
        &c,
        &snapshot("tap0", &format!("{V4}{V6}"), true),
        "tap0",
        &[Which::Ra],
        Queues::Offline,
    );
    let r = &x.protocols[0];
    assert_eq!(r.nothing, None, "{r:#?}");
    assert_eq!(r.exchanges[0].reply, "Router Advertisement");
    assert_eq!(field(r, 0, "managed"), pair("yes", "config [ipv6] mode"));
    assert_eq!(
        field(r, 0, "prefix"),
        pair(
            "2001:db8:1::/64 (on-link yes, autonomous yes)",
            "binding SUBNET6"
        )
    );
    assert_eq!(
        field(r, 0, "rdnss"),
        pair("2001:db8:53::99", "binding NAMESERVERS6")
    );
    assert_eq!(
        field(r, 0, "dnssl"),
        pair("vm.example.org, example.org", "config [ipv6] domains")
    );
    assert_eq!(field(r, 0, "mtu"), pair("1400", "binding MTU"));
    assert_eq!(
        field(r, 0, "source_lla"),
        pair("fe:00:00:00:00:01", "link tap0 (INDEV)")
    );
    assert_eq!(
        field(r, 0, "router_lifetime"),
        pair("1800", "default [ipv6] router_lifetime")
    );
}

#[test]
fn dhcpv6_stateful_gives_the_address_and_the_delegated_prefix() {
    let c = config("", "mode = dhcpv6");
    let x = explain(
        &c,
        &snapshot("tap0", &format!("{V4}{V6}"), true),
        "tap0",
        &[Which::Dhcpv6],
        Queues::Offline,
    );
    let r = &x.protocols[0];
    assert_eq!(r.nothing, None, "{r:#?}");
    let kinds: Vec<_> = r.exchanges.iter().map(|e| e.reply.as_str()).collect();
    assert_eq!(kinds, ["Advertise", "Reply"]);
    assert!(r.exchanges[0].request.contains("IA_NA, IA_PD"));
    for i in 0..2 {
        assert_eq!(
            field(r, i, "address6"),
            pair("2001:db8:1:0:a800:ff:fe00:10", "binding EUI64")
        );
        assert_eq!(
            field(r, i, "delegated_prefix"),
            pair("2001:db8:100::/56", "binding PREFIX6_DELEGATED")
        );
        assert_eq!(
            field(r, i, "dns6"),
            pair("2001:db8:53::99", "binding NAMESERVERS6")
        );
        assert_eq!(
            field(r, i, "valid_lifetime"),
            pair("2592000", "default [ipv6] dhcpv6_valid_lifetime")
        );
    }
}

#[test]
fn dhcpv6_stateful_without_an_address_stops_at_the_advertise() {
    let c = config("", "mode = dhcpv6");
    let x = explain(
        &c,
        &snapshot("tap0", V4, true),
        "tap0",
        &[Which::Dhcpv6],
        Queues::Offline,
    );
    let r = &x.protocols[0];
    assert_eq!(r.exchanges.len(), 1, "{r:#?}");
    assert_eq!(r.exchanges[0].reply, "Advertise");
    assert_eq!(
        r.nothing.as_deref(),
        Some("the binding has no IPv6 address (IP6, EUI64) or delegated prefix (PREFIX6_DELEGATED) to give (NoAddrsAvail: no address for this VM)")
    );
}

#[test]
fn dhcpv6_stateless_is_an_information_request() {
    let c = config("", "mode = slaac+dhcpv6");
    let x = explain(
        &c,
        &snapshot("tap0", &format!("{V4}SUBNET6=2001:db8:1::/64\n"), true),
        "tap0",
        &[Which::Dhcpv6],
        Queues::Offline,
    );
    let r = &x.protocols[0];
    assert_eq!(r.exchanges.len(), 1, "{r:#?}");
    assert!(r.exchanges[0].request.starts_with("Information-Request"));
    assert_eq!(
        field(r, 0, "dns6"),
        pair("2001:db8:53::1", "config [ipv6] nameservers")
    );
    assert!(r.exchanges[0].fields.iter().all(|f| f.name != "address6"));
}

#[test]
fn every_reason_for_nothing_is_named() {
    let c = config("", "");
    let all = &Which::ALL[..];
    let nothing = |x: &Explanation| -> Vec<Option<String>> {
        x.protocols.iter().map(|r| r.nothing.clone()).collect()
    };
    // No binding file.
    let x = explain(
        &c,
        &snapshot("tap0", V4, true),
        "tap9",
        all,
        Queues::Offline,
    );
    assert_eq!(x.state, "no_binding");
    assert_eq!(
        nothing(&x),
        vec![Some("no binding file for tap9 in /nonexistent".to_string()); 3]
    );
    // An invalid file, never good.
    let bad = "MAC=aa:00:00:00:00:10\nIP=192.0.2.300\n";
    let x = explain(
        &c,
        &snapshot("tap0", bad, true),
        "tap0",
        all,
        Queues::Offline,
    );
    assert_eq!(x.state, "invalid");
    assert_eq!(
        x.protocols[0].nothing.as_deref(),
        Some("binding invalid: tap0: IP=\"192.0.2.300\": not an IPv4 address")
    );
    // The tap does not exist.
    let x = explain(
        &c,
        &snapshot("tap0", V4, false),
        "tap0",
        all,
        Queues::Offline,
    );
    assert_eq!(
        x.protocols[1].nothing.as_deref(),
        Some("tap tap0 does not exist")
    );
    // DHCPv4 disabled; IPv6 disabled.
    let off = config("enable_dhcp = no", "");
    let x = explain(
        &off,
        &snapshot("tap0", V4, true),
        "tap0",
        all,
        Queues::Offline,
    );
    assert_eq!(
        x.protocols[0].nothing.as_deref(),
        Some("DHCPv4 is disabled in the config ([dhcp] enable_dhcp = no)")
    );
    assert!(x.protocols[0].exchanges.is_empty());
    let mut off6 = config("", "");
    off6.ipv6.enabled = false;
    let x = explain(
        &off6,
        &snapshot("tap0", V4, true),
        "tap0",
        all,
        Queues::Offline,
    );
    assert_eq!(
        x.protocols[2].nothing.as_deref(),
        Some("IPv6 is disabled in the config ([ipv6] enable_ipv6 = no)")
    );
    // A binding without IPv6: no RA to give.
    let x = explain(
        &c,
        &snapshot("tap0", V4, true),
        "tap0",
        all,
        Queues::Offline,
    );
    assert_eq!(x.protocols[0].nothing, None);
    assert_eq!(
        x.protocols[1].nothing.as_deref(),
        Some("the binding has no SUBNET6")
    );
    assert_eq!(x.protocols[1].exchanges[0].reply, "dropped: not_configured");
}

#[test]
fn an_invalid_file_whose_last_good_version_is_served_is_a_note() {
    let mut s = Store::new();
    s.set_file("tap0", parse("tap0", V4, true));
    s.set_file("tap0", parse("tap0", "MAC=aa:00:00:00:00:10\nIP=x\n", true));
    s.link_up(
        "tap0",
        Link {
            ifindex: 7,
            mac: Some(TAP_MAC),
        },
    );
    let snap = s.snapshot(&Snapshot::default()).0;
    let x = explain(
        &config("", ""),
        &snap,
        "tap0",
        &[Which::Dhcpv4],
        Queues::Offline,
    );
    assert_eq!(x.state, "invalid");
    assert_eq!(
        x.notes,
        ["the binding file is invalid (tap0: IP=\"x\": not an IPv4 address); its last good version is served"]
    );
    assert_eq!(x.protocols[0].nothing, None);
    assert_eq!(
        field(&x.protocols[0], 1, "address"),
        pair("192.0.2.10", "binding IP")
    );
}

#[test]
fn live_queue_states_are_reported_and_an_unbound_queue_means_nothing() {
    let c = config("", "");
    let snap = snapshot("tap0", V4, true);
    let q = |queue, protocol: &str, bound| QueueState {
        queue,
        protocol: protocol.into(),
        bound,
    };
    let qs = [q(42, "dhcpv4", false), q(43, "rs", true)];
    let x = explain(
        &c,
        &snap,
        "tap0",
        &[Which::Dhcpv4, Which::Ra],
        Queues::Live(&qs),
    );
    assert!(x.live);
    let r = &x.protocols[0];
    assert_eq!(r.queue, "42: NOT bound: [42]");
    assert_eq!(r.nothing.as_deref(), Some("queue 42 is not bound"));
    // What it would get once bound is still shown.
    assert_eq!(r.exchanges.len(), 2);
    assert_eq!(x.protocols[1].queue, "43 bound");
    // No DHCPv4 queue in the config at all.
    let mut noq = c.clone();
    noq.dhcp.queue = None;
    let x = explain(&noq, &snap, "tap0", &[Which::Dhcpv4], Queues::Offline);
    assert_eq!(
        x.protocols[0].nothing.as_deref(),
        Some("no queue: [dhcp] dhcp_queue is not set, so no dhcpv4 request reaches the daemon")
    );
}

#[test]
fn the_explanation_round_trips_through_json() {
    let c = config("", "mode = dhcpv6");
    let x = explain(
        &c,
        &snapshot("tap0", &format!("{V4}{V6}"), true),
        "tap0",
        &Which::ALL,
        Queues::Offline,
    );
    let json = serde_json::to_string(&x).unwrap();
    assert_eq!(serde_json::from_str::<Explanation>(&json).unwrap(), x);
    assert!(json.contains("\"origin\":\"binding\""), "{json}");
}
