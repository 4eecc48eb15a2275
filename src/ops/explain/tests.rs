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
fn explaining_leaves_the_taps_last_seen_record_alone() {
    let c = config("", "");
    let snap = snapshot("tap0", &format!("{V4}{V6}"), true);
    let x = explain(
        &c,
        &snap,
        "tap0",
        &[Which::Dhcpv4, Which::Ra, Which::Dhcpv6],
        Queues::Offline,
    );
    assert!(
        x.protocols.iter().all(|r| !r.exchanges.is_empty()),
        "{x:#?}"
    );
    let seen = &snap.lookup(7).unwrap().seen;
    assert_eq!(
        seen.report(u64::MAX, u64::MAX),
        vec![],
        "explain's made-up requests are not the VM's"
    );
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
            pair("0.0.0.0/0 via 192.0.2.1", "binding GATEWAY, when asked")
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

/// The report of protocol `w` for a tap with binding `binding` under `c`.
fn explain_one(c: &Config, binding: &str, w: Which) -> Report {
    let x = explain(
        c,
        &snapshot("tap0", binding, true),
        "tap0",
        &[w],
        Queues::Offline,
    );
    x.protocols.into_iter().next().expect("one protocol asked")
}

/// Exchange `i`'s values, by name, with their sources.
fn shown(r: &Report, i: usize) -> Vec<(String, String, String)> {
    r.exchanges[i]
        .fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.value.clone(),
                f.source.as_ref().map_or("-".into(), ToString::to_string),
            )
        })
        .collect()
}

fn row(n: &str, v: &str, s: &str) -> (String, String, String) {
    (n.into(), v.into(), s.into())
}

#[test]
fn raw_options_binding_over_config_always_or_when_asked() {
    let c = config(
        "",
        "\n[options]\nOPTION_224 = string:site\nOPTION_225 = always ip:203.0.113.5\nOPTION_226 = u8:7\n",
    );
    let binding = format!("{V4}OPTION_224=\"string:vm private\"\n");
    let r = &explain_one(&c, &binding, Which::Dhcpv4);
    assert_eq!(r.nothing, None, "{r:#?}");
    // The typical client asks for neither 224 nor 226: only the `always`
    // option is in its replies.
    for i in 0..2 {
        assert!(!r.exchanges[i].extra);
        assert_eq!(
            field(r, i, "option 225"),
            pair("0xcb007105", "config [options] OPTION_225, always")
        );
        assert!(r.exchanges[i].fields.iter().all(|f| f.name != "option 224"));
    }
    // A client asking for them gets the binding's 224 (not the config's)
    // and the config's 226; only what the typical ACK lacks is shown.
    let e = &r.exchanges[2];
    assert!(e.extra);
    assert_eq!(
        e.request,
        "DHCPREQUEST asking also for 224 226 (sent only to a client that asks)"
    );
    assert_eq!(e.reply, "DHCPACK");
    assert_eq!(
        shown(r, 2),
        [
            row(
                "option 224",
                "0x766d2070726976617465 \"vm private\"",
                "binding OPTION_224, when asked"
            ),
            row(
                "option 226",
                "0x07",
                "config [options] OPTION_226, when asked"
            ),
        ]
    );
    assert_eq!(r.exchanges.len(), 3, "{r:#?}");
    let snap = snapshot("tap0", &binding, true);
    let text = render(&explain(
        &c,
        &snap,
        "tap0",
        &[Which::Dhcpv4],
        Queues::Offline,
    ));
    assert!(text.contains("binding OPTION_224, when asked"), "{text}");
}

#[test]
fn dhcpv6_raw_options_and_the_boot_file_url_when_asked() {
    let c = config(
        "",
        "mode = slaac+dhcpv6\nbootfile6 = tftp://[2001:db8::5]/site.efi\n\n[options]\nOPTION6_4242 = string:site six\nOPTION6_4243 = always u16:1500\nOPTION6_16 = always 0x0000a4ea0004626f6f74\nOPTION6_17 = always 0x01\n",
    );
    let binding = format!("{V4}SUBNET6=2001:db8:1::/64\nOPTION6_4242=\"string:vm six\"\n");
    let r = &explain_one(&c, &binding, Which::Dhcpv6);
    assert_eq!(r.nothing, None, "{r:#?}");
    // A code dhcproto has a type for (16, vendor class) is shown raw too,
    // and one whose bytes do not fit that type (17, vendor options)
    // hides nothing after it.
    assert_eq!(
        field(r, 0, "option6 17"),
        pair("0x01", "config [options] OPTION6_17, always")
    );
    assert_eq!(
        field(r, 0, "option6 16"),
        pair(
            "0x0000a4ea0004626f6f74",
            "config [options] OPTION6_16, always"
        )
    );
    assert_eq!(
        field(r, 0, "option6 4243"),
        pair("0x05dc", "config [options] OPTION6_4243, always")
    );
    let e = &r.exchanges[1];
    assert!(e.extra);
    assert_eq!(
        e.request,
        "Information-Request asking also for 59 4242 (sent only to a client that asks)"
    );
    assert_eq!(
        shown(r, 1),
        [
            row(
                "bootfile_url",
                "tftp://[2001:db8::5]/site.efi",
                "config [ipv6] bootfile6, when asked"
            ),
            row(
                "option6 4242",
                "0x766d20736978 \"vm six\"",
                "binding OPTION6_4242, when asked"
            ),
        ]
    );
    // The binding's BOOTFILE6 wins over the config's.
    let own = format!("{binding}BOOTFILE6=http://[2001:db8::6]/vm.efi\n");
    assert_eq!(
        field(&explain_one(&c, &own, Which::Dhcpv6), 1, "bootfile_url"),
        pair(
            "http://[2001:db8::6]/vm.efi",
            "binding BOOTFILE6, when asked"
        )
    );
}

#[test]
fn a_raw_option_dhcproto_cannot_type_hides_no_other_value() {
    // Option 2 (time offset) is 4 bytes to dhcproto; a 1-byte one made it
    // stop reading the options there, and drop the router, DNS …
    let r = explain_one(
        &config("", ""),
        &format!("{V4}OPTION_2=u8:1\n"),
        Which::Dhcpv4,
    );
    assert_eq!(
        field(&r, 0, "option 2"),
        pair("0x01", "binding OPTION_2, when asked")
    );
    assert_eq!(field(&r, 0, "router"), pair("192.0.2.1", "binding GATEWAY"));
    assert_eq!(
        field(&r, 0, "lease_time"),
        pair("86400", "config [dhcp] lease_lifetime")
    );
    assert_eq!(field(&r, 0, "mtu"), pair("1400", "binding MTU"));
}

#[test]
fn routes_are_the_bindings_and_the_default_route_gateways() {
    let c = config("", "");
    let binding =
        format!("{V4}NTP=192.0.2.123\nROUTES=\"198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254\"\n");
    let r = &explain_one(&c, &binding, Which::Dhcpv4);
    for i in 0..2 {
        assert_eq!(
            field(r, i, "classless_routes"),
            pair("0.0.0.0/0 via 192.0.2.1", "binding GATEWAY, when asked")
        );
        assert_eq!(
            field(r, i, "routes"),
            pair(
                "198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254",
                "binding ROUTES, when asked"
            )
        );
        assert_eq!(
            field(r, i, "ntp"),
            pair("192.0.2.123", "binding NTP, when asked")
        );
    }
    // Nothing asked only: no extra exchange.
    assert_eq!(r.exchanges.len(), 2, "{r:#?}");
}

#[test]
fn v6only_wait_is_given_when_asked_and_its_discover_gets_no_address() {
    for (extra_dhcp, binding, source) in [
        (
            "v6only_wait = 900",
            "",
            "config [dhcp] v6only_wait, when asked",
        ),
        (
            "v6only_wait = 900",
            "V6ONLY_WAIT=1800\n",
            "binding V6ONLY_WAIT, when asked",
        ),
    ] {
        let c = config(extra_dhcp, "");
        let r = &explain_one(&c, &format!("{V4}{binding}"), Which::Dhcpv4);
        let wait = if binding.is_empty() { "900" } else { "1800" };
        // The typical client does not ask for 108: its lease is as ever.
        assert_eq!(field(r, 0, "address"), pair("192.0.2.10", "binding IP"));
        assert!(r.exchanges[1]
            .fields
            .iter()
            .all(|f| f.name != "v6only_wait"));
        let e = &r.exchanges[2];
        assert_eq!(
            (e.request.as_str(), e.reply.as_str()),
            (
                "DHCPREQUEST asking also for 108 (sent only to a client that asks)",
                "DHCPACK"
            )
        );
        assert_eq!(shown(r, 2), [row("v6only_wait", wait, source)]);
        // RFC 8925 §3.3: a DISCOVER asking for 108 is offered 0.0.0.0.
        let e = &r.exchanges[3];
        assert_eq!(
            (e.request.as_str(), e.reply.as_str()),
            (
                "DHCPDISCOVER asking also for 108 (IPv6-only preferred, RFC 8925)",
                "DHCPOFFER of yiaddr 0.0.0.0"
            )
        );
        assert_eq!(shown(r, 3), [row("v6only_wait", wait, source)]);
    }
}

#[test]
fn boot_keys_binding_over_config_per_boot_firmware() {
    let c = config(
        "next_server = 192.0.2.5\ntftp_server = boot.example.org\nbootfile = site.0\nbootfile_efi = efi/site.efi",
        "",
    );
    let binding = format!("{V4}BOOTFILE=vm.0\nBOOTFILE_IPXE=http://192.0.2.6/vm.ipxe\n");
    let r = &explain_one(&c, &binding, Which::Dhcpv4);
    assert_eq!(r.nothing, None, "{r:#?}");
    // The typical client: BOOTFILE in `file`, the next server and its name.
    for i in 0..2 {
        assert_eq!(
            field(r, i, "next_server"),
            pair("192.0.2.5", "config [dhcp] next_server")
        );
        assert_eq!(
            field(r, i, "server_name"),
            pair("boot.example.org", "config [dhcp] tftp_server")
        );
        assert_eq!(field(r, i, "boot_file"), pair("vm.0", "binding BOOTFILE"));
    }
    // Asked for, 66 and 67 come as options too.
    let e = &r.exchanges[2];
    assert_eq!(
        e.request,
        "DHCPREQUEST asking also for 66 67 (sent only to a client that asks)"
    );
    assert_eq!(
        shown(r, 2),
        [
            row(
                "tftp_server_name",
                "boot.example.org",
                "config [dhcp] tftp_server"
            ),
            row("bootfile_name", "vm.0", "binding BOOTFILE"),
        ]
    );
    // One line per firmware: which file each gets, and from where.
    let file = |i: usize| -> (String, Option<(String, String)>) {
        let e = &r.exchanges[i];
        assert!(e.extra);
        (
            e.request.clone(),
            e.fields
                .iter()
                .find(|f| f.name == "boot_file")
                .map(|f| (f.value.clone(), f.source.as_ref().unwrap().to_string())),
        )
    };
    let some = |v: &str, s: &str| Some((v.to_string(), s.to_string()));
    assert_eq!(
        [file(3), file(4), file(5), file(6)],
        [
            (
                "DHCPDISCOVER of a BIOS PXE client (vendor class PXEClient, arch 0)".into(),
                some("vm.0", "binding BOOTFILE")
            ),
            (
                "DHCPDISCOVER of a UEFI PXE client (vendor class PXEClient, arch 7)".into(),
                some("efi/site.efi", "config [dhcp] bootfile_efi")
            ),
            (
                "DHCPDISCOVER of iPXE (user class iPXE, arch 7)".into(),
                some("http://192.0.2.6/vm.ipxe", "binding BOOTFILE_IPXE")
            ),
            (
                "DHCPDISCOVER of a UEFI HTTP boot client (vendor class HTTPClient, arch 16)".into(),
                None
            ),
        ]
    );
    // A PXE client gets option 60 back; boot values only are shown.
    assert!(shown(r, 3).contains(&row(
        "vendor_class",
        "PXEClient",
        "request option 60 (echoed)"
    )));
    assert!(r.exchanges[3].fields.iter().all(|f| f.name != "dns"));
    assert_eq!(r.exchanges.len(), 7, "{r:#?}");
}

#[test]
fn without_new_keys_there_is_no_extra_exchange() {
    let x = explain(
        &config("", "mode = dhcpv6"),
        &snapshot("tap0", &format!("{V4}{V6}"), true),
        "tap0",
        &Which::ALL,
        Queues::Offline,
    );
    for r in &x.protocols {
        assert!(r.exchanges.iter().all(|e| !e.extra), "{r:#?}");
    }
}

#[test]
fn pref64_is_the_bindings_else_the_configs() {
    let c = config("", "pref64 = 2001:db8:64::/96");
    let ra = |binding: &str| {
        field(
            &explain_one(&c, &format!("{V4}{V6}{binding}"), Which::Ra),
            0,
            "pref64",
        )
    };
    assert_eq!(ra(""), pair("2001:db8:64::/96", "config [ipv6] pref64"));
    assert_eq!(
        ra("PREF64=2001:db8:65::/96\n"),
        pair("2001:db8:65::/96", "binding PREF64")
    );
}
