//! Tests of the RS responder: golden typed RAs, real captured RSs, emitted
//! frames parsed back (checksum verified), truncation.

use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::proto::testutil::*;
use crate::value::pref64::{parse_prefix, Pref64};

const GUEST_LL: &str = "fe80::a800:ff:fe00:10";

/// An RS message with an optional SLLA option.
fn rs_msg(slla: Option<MacAddr>) -> Vec<u8> {
    let mut m = vec![ICMPV6_ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
    if let Some(mac) = slla {
        ndp::emit_lla_option(OPT_SOURCE_LLA, mac, &mut m);
    }
    m
}

fn rs(src: &str, slla: Option<MacAddr>) -> Vec<u8> {
    icmp_packet(a6(src), a6("ff02::2"), 255, &rs_msg(slla))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().unwrap())
}

fn decode_names(mut b: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    while let Some((&n, rest)) = b.split_first() {
        if n == 0 {
            if !labels.is_empty() {
                names.push(labels.join("."));
                labels.clear();
            }
            b = rest;
            continue;
        }
        labels.push(String::from_utf8(rest[..usize::from(n)].to_vec()).unwrap());
        b = &rest[usize::from(n)..];
    }
    names
}

/// A PREF64 option read back (RFC 8781 §4).
fn decode_pref64(opt: &[u8]) -> Pref64Info {
    assert_eq!(opt.len(), 16);
    let field = u16::from_be_bytes([opt[2], opt[3]]);
    let mut a = [0u8; 16];
    a[..12].copy_from_slice(&opt[4..16]);
    let len = Pref64::LENGTHS[usize::from(field & 0b111)];
    Pref64Info {
        prefix: Pref64::new(Ipv6Net::new(a.into(), len).unwrap()).unwrap(),
        lifetime: field & !0b111,
    }
}

/// A Route Information option read back (RFC 4191 §2.3).
fn decode_route(opt: &[u8]) -> RouteInfo {
    let mut a = [0u8; 16];
    a[..opt.len() - 8].copy_from_slice(&opt[8..]);
    let preference = match (opt[3] >> RA_PRF_SHIFT) & 0b11 {
        0b01 => RouterPreference::High,
        0b00 => RouterPreference::Medium,
        0b11 => RouterPreference::Low,
        _ => panic!("reserved Prf"),
    };
    assert_eq!(opt[3] & !(0b11 << RA_PRF_SHIFT), 0, "reserved bits");
    RouteInfo {
        prefix: Ipv6Net::new(a.into(), opt[2]).unwrap(),
        preference,
        lifetime: be32(&opt[4..8]),
    }
}

/// Parses an emitted RA frame back into the typed value (checksum verified).
fn parse_ra(f: &[u8]) -> RouterAdvert {
    let ip = frame::parse_ipv6_icmp(frame::ip_of_frame(f).unwrap()).expect("valid checksum");
    assert_eq!(ip.hop_limit, 255);
    let m = ip.payload;
    assert_eq!((m[0], m[1]), (ICMPV6_ROUTER_ADVERT, 0));
    let flags = m[ra_field::FLAGS];
    let preference = match (flags >> RA_PRF_SHIFT) & 0b11 {
        0b01 => RouterPreference::High,
        0b00 => RouterPreference::Medium,
        0b11 => RouterPreference::Low,
        _ => panic!("reserved Prf"),
    };
    let mut ra = RouterAdvert {
        eth_src: frame::eth_src(f).unwrap(),
        eth_dst: frame::eth_dst(f).unwrap(),
        src: ip.src,
        dst: ip.dst,
        cur_hop_limit: m[ra_field::CUR_HOP_LIMIT],
        managed: flags & RA_FLAG_MANAGED != 0,
        other: flags & RA_FLAG_OTHER != 0,
        preference,
        router_lifetime: u16::from_be_bytes(m[ra_field::ROUTER_LIFETIME].try_into().unwrap()),
        reachable_time: be32(&m[ra_field::REACHABLE_TIME]),
        retrans_timer: be32(&m[ra_field::RETRANS_TIMER]),
        source_lla: MacAddr::default(),
        mtu: None,
        prefix: None,
        rdnss: None,
        dnssl: None,
        pref64: None,
        routes: Vec::new(),
    };
    let mut o = &m[ra_field::OPTIONS..];
    while !o.is_empty() {
        let len = usize::from(o[1]) * OPT_UNIT;
        assert!(len > 0);
        let opt = &o[..len];
        match opt[0] {
            OPT_SOURCE_LLA => ra.source_lla = MacAddr::from_slice(&opt[2..]).unwrap(),
            OPT_MTU => ra.mtu = Some(be32(&opt[4..8])),
            OPT_PREFIX_INFO => {
                let prefix: [u8; 16] = opt[16..32].try_into().unwrap();
                ra.prefix = Some(PrefixInfo {
                    prefix: Ipv6Net::new(prefix.into(), opt[2]).unwrap(),
                    on_link: opt[3] & PREFIX_FLAG_ON_LINK != 0,
                    autonomous: opt[3] & PREFIX_FLAG_AUTONOMOUS != 0,
                    valid_lifetime: be32(&opt[4..8]),
                    preferred_lifetime: be32(&opt[8..12]),
                })
            }
            OPT_RDNSS => {
                let servers = opt[8..]
                    .chunks(16)
                    .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).unwrap()))
                    .collect();
                ra.rdnss = Some((be32(&opt[4..8]), servers));
            }
            OPT_DNSSL => ra.dnssl = Some((be32(&opt[4..8]), decode_names(&opt[8..]))),
            OPT_PREF64 => ra.pref64 = Some(decode_pref64(opt)),
            OPT_ROUTE_INFO => ra.routes.push(decode_route(opt)),
            other => panic!("unexpected option {other}"),
        }
        o = &o[len..];
    }
    ra
}

fn expected(dst: &str, eth_dst: MacAddr) -> RouterAdvert {
    RouterAdvert {
        eth_src: SERVER_MAC,
        eth_dst,
        src: SERVER_MAC.link_local(),
        dst: a6(dst),
        cur_hop_limit: 64,
        managed: false,
        other: true,
        preference: RouterPreference::Medium,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_timer: 0,
        source_lla: SERVER_MAC,
        mtu: None,
        prefix: Some(PrefixInfo {
            prefix: "2001:db8:1::/64".parse().unwrap(),
            on_link: true,
            autonomous: true,
            valid_lifetime: 2_592_000,
            preferred_lifetime: 604_800,
        }),
        rdnss: Some((900, vec![a6("2001:db8:53::1"), a6("2001:db8:53::2")])),
        dnssl: Some((900, vec!["vm.example.org".into(), "example.org".into()])),
        pref64: None,
        routes: Vec::new(),
    }
}

fn decide_with(c: &Config, b: &Binding, p: &[u8]) -> Result<RouterAdvert, DropReason> {
    decide(&ctx(c, b), p)
}

#[test]
fn rs_gets_unicast_ra_golden() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let ra = decide_with(&c, &b, &rs(GUEST_LL, Some(GUEST_MAC))).unwrap();
    assert_eq!(ra, expected(GUEST_LL, GUEST_MAC));
    assert_eq!(parse_ra(&ra.emit()), ra);
}

#[test]
fn flags_follow_the_mode() {
    let b = tap_routed();
    for (mode, m, o) in [
        (Ipv6Mode::Slaac, false, false),
        (Ipv6Mode::SlaacDhcpv6, false, true),
        (Ipv6Mode::Dhcpv6, true, true),
    ] {
        let ra = decide_with(&config(mode), &b, &rs(GUEST_LL, None)).unwrap();
        assert_eq!((ra.managed, ra.other), (m, o), "{mode:?}");
    }
}

#[test]
fn router_lifetime_clamped_and_preference_encoded() {
    let b = tap_routed();
    let mut c = config(Ipv6Mode::Slaac);
    c.ipv6.router_lifetime = 14_400; // the original's value, above the RFC maximum
    c.ipv6.router_preference = RouterPreference::High;
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.router_lifetime, 9000);
    let f = ra.emit();
    let flags = f[frame::ETH_HDR_LEN + frame::IPV6_HDR_LEN + ra_field::FLAGS];
    assert_eq!(flags, 0b01 << 3);
    c.ipv6.router_preference = RouterPreference::Low;
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(parse_ra(&ra.emit()).preference, RouterPreference::Low);
    // Below MaxRtrAdvInterval: raised to it.
    c.ipv6.router_lifetime = 100;
    assert_eq!(
        decide_with(&c, &b, &rs(GUEST_LL, None))
            .unwrap()
            .router_lifetime,
        300
    );
}

#[test]
fn mtu_and_non_64_prefix() {
    let mut b = tap_routed();
    b.mtu = Some(1450);
    b.subnet6 = Some("2001:db8:1::/56".parse().unwrap());
    let c = config(Ipv6Mode::Slaac);
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.mtu, Some(1450));
    let p = ra.prefix.clone().unwrap();
    assert!(p.on_link && !p.autonomous);
    assert_eq!(parse_ra(&ra.emit()), ra);
    b.mtu = Some(1000); // below the IPv6 minimum: not announced
    assert_eq!(decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap().mtu, None);
}

#[test]
fn dns_lifetimes_follow_rfc8106_and_bad_domains_skipped() {
    let b = tap_routed();
    let mut c = config(Ipv6Mode::Slaac);
    c.ipv6.ra_period = 1;
    assert_eq!(dns_lifetime(c.ipv6.ra_period), 12);
    assert_eq!(dns_lifetime(100_000), 5400);
    c.ipv6.domains = vec![
        "".into(),
        "a..b".into(),
        "x".repeat(64),
        "ok.example.".into(),
    ];
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.dnssl, Some((12, vec!["ok.example".into()])));
    assert_eq!(parse_ra(&ra.emit()), ra);
    c.ipv6.nameservers.clear();
    c.ipv6.domains.clear();
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!((ra.rdnss, ra.dnssl), (None, None));
}

#[test]
fn rs_from_unspecified_goes_to_all_nodes() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let ra = decide_with(&c, &b, &rs("::", None)).unwrap();
    assert_eq!(ra, expected("ff02::1", ALL_NODES_MAC));
    // With an SLLA option it is invalid.
    assert_eq!(
        decide_with(&c, &b, &rs("::", Some(GUEST_MAC))),
        Err(DropReason::Invalid)
    );
}

#[test]
fn non_eui64_link_local_is_answered() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let ra = decide_with(&c, &b, &rs("fe80::1234:5678:9abc:def0", Some(GUEST_MAC))).unwrap();
    assert_eq!(ra, expected("fe80::1234:5678:9abc:def0", GUEST_MAC));
}

#[test]
fn spoof_invalid_and_not_configured() {
    let mut b = tap_routed();
    let c = config(Ipv6Mode::Slaac);
    assert_eq!(
        decide_with(&c, &b, &rs(GUEST_LL, Some(OTHER_MAC))),
        Err(DropReason::SpoofedMac)
    );
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    assert_eq!(
        decide(&cx, &rs(GUEST_LL, None)),
        Err(DropReason::SpoofedMac)
    );
    let msg = rs_msg(None);
    let p = icmp_packet(a6(GUEST_LL), a6("ff02::2"), 64, &msg);
    assert_eq!(decide_with(&c, &b, &p), Err(DropReason::Invalid));
    let mut m = msg.clone();
    m[icmp_field::CODE] = 3;
    let p = icmp_packet(a6(GUEST_LL), a6("ff02::2"), 255, &m);
    assert_eq!(decide_with(&c, &b, &p), Err(DropReason::Invalid));
    let p = icmp_packet(a6(GUEST_LL), a6("ff02::2"), 255, &msg[..6]);
    assert_eq!(decide_with(&c, &b, &p), Err(DropReason::Invalid));
    let mut m = rs_msg(Some(GUEST_MAC));
    m[RS_OPTIONS + 1] = 0;
    let p = icmp_packet(a6(GUEST_LL), a6("ff02::2"), 255, &m);
    assert_eq!(decide_with(&c, &b, &p), Err(DropReason::Invalid));
    b.macspoof = true;
    assert!(decide_with(&c, &b, &rs(GUEST_LL, Some(OTHER_MAC))).is_ok());
    b.subnet6 = None;
    assert_eq!(
        decide_with(&c, &b, &rs(GUEST_LL, None)),
        Err(DropReason::NotConfigured)
    );
}

#[test]
fn unsolicited_and_final_ra() {
    let (c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let cx = ctx(&c, &b);
    assert_eq!(
        build_unsolicited_ra_advert(&cx, false),
        Some(expected("ff02::1", ALL_NODES_MAC))
    );
    let last = build_unsolicited_ra(&cx, true).unwrap();
    assert_eq!(last.kind, ReplyKind::RouterAdvert);
    let ra = parse_ra(&last.frame);
    assert_eq!(ra.router_lifetime, 0);
    assert_eq!(ra.preference, RouterPreference::Medium);
    assert_eq!(ra.prefix, expected("ff02::1", ALL_NODES_MAC).prefix);
    b.private = true;
    let cx = ctx(&c, &b);
    assert_eq!(
        build_unsolicited_ra_advert(&cx, false).map(|r| r.router_lifetime),
        Some(0)
    );
    b.subnet6 = None;
    assert_eq!(build_unsolicited_ra(&ctx(&c, &b), false), None);
}

#[test]
fn real_rs_fixtures_are_answered() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    for (file, src) in [
        ("kernel-rs.pcap", GUEST_LL),
        ("rdisc6.pcap", GUEST_LL),
        ("kernel-rs-random-ll.pcap", "fe80::cd97:12d:cd78:55c5"),
    ] {
        for (mac, pkt) in fixture(file) {
            let mut cx = ctx(&c, &b);
            cx.src_mac = Some(mac);
            let ra = decide(&cx, &pkt).unwrap_or_else(|e| panic!("{file}: {e:?}"));
            assert_eq!(ra, expected(src, GUEST_MAC), "{file}");
            let Outcome::Reply(r) = handle(&cx, &pkt) else {
                panic!("{file} answered")
            };
            assert_eq!(parse_ra(&r.frame), ra);
        }
    }
}

#[test]
fn every_truncation_is_dropped_without_panic() {
    let (c, b) = (config(Ipv6Mode::Dhcpv6), tap_routed());
    let (_, p) = fixture("kernel-rs.pcap").remove(0);
    assert_prefixes_dropped("", &p, |q| handle(&ctx(&c, &b), q));
    flip_each_byte(&p, 0x5a, |q| handle(&ctx(&c, &b), q));
}

#[test]
fn ipv6_disabled_gets_no_ra() {
    let (mut c, b) = (config(Ipv6Mode::Slaac), tap_routed());
    c.ipv6.enabled = false;
    assert_eq!(
        decide_with(&c, &b, &rs(GUEST_LL, None)),
        Err(DropReason::Disabled)
    );
    assert_eq!(build_unsolicited_ra(&ctx(&c, &b), false), None);
}

fn pref64(s: &str, lifetime: u16) -> Option<Pref64Info> {
    Some(Pref64Info {
        prefix: parse_prefix(s).unwrap(),
        lifetime,
    })
}

#[test]
fn pref64_from_the_config_solicited_and_unsolicited() {
    let (mut c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    c.ipv6.pref64 = Some(parse_prefix("64:ff9b::/96").unwrap());
    // Router lifetime 1800 > 3 × 300: the prefix lives as long as the router.
    let want = pref64("64:ff9b::/96", 1800);
    let ra = decide_with(&c, &b, &rs(GUEST_LL, Some(GUEST_MAC))).unwrap();
    assert_eq!(ra.pref64, want);
    assert_eq!(parse_ra(&ra.emit()), ra);
    let cx = ctx(&c, &b);
    let periodic = build_unsolicited_ra_advert(&cx, false).unwrap();
    assert_eq!(periodic.pref64, want);
    // The final RA withdraws the default router, not the NAT64 prefix.
    let last = parse_ra(&build_unsolicited_ra(&cx, true).unwrap().frame);
    assert_eq!((last.router_lifetime, last.pref64), (0, want));
}

#[test]
fn pref64_lifetime_is_at_least_the_router_lifetime_and_three_periods() {
    let (mut c, mut b) = (config(Ipv6Mode::Slaac), tap_routed());
    c.ipv6.pref64 = Some(parse_prefix("2001:db8:64::/96").unwrap());
    for (ra_period, router_lifetime, want) in [
        // 3 × 300 = 900 < 1800: the router lifetime.
        (300, 1800, 1800),
        // 3 × 600 = 1800 > 1000: three periods.
        (600, 1000, 1800),
        // Not a default router: three periods, rounded up to 8 s.
        (101, 0, 304),
        // The longest router lifetime, 9000 s, a multiple of 8 already.
        (1800, 9000, 9000),
        // 9001 is clamped to 9000 first (RFC 4861 §6.2.1).
        (30, 9001, 9000),
    ] {
        c.ipv6.ra_period = ra_period;
        c.ipv6.router_lifetime = router_lifetime;
        let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
        assert_eq!(
            ra.pref64.map(|p| p.lifetime),
            Some(want),
            "{ra_period} {router_lifetime}"
        );
        assert_eq!(parse_ra(&ra.emit()), ra);
    }
    // PRIVATE: no default router, the same PREF64 lifetime.
    b.private = true;
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(
        (ra.router_lifetime, ra.pref64.map(|p| p.lifetime)),
        (0, Some(9000))
    );
}

#[test]
fn pref64_binding_overrides_or_turns_off_the_config() {
    let (mut c, mut b) = (config(Ipv6Mode::Slaac), tap_routed());
    let ra = |c: &Config, b: &Binding| decide_with(c, b, &rs(GUEST_LL, None)).unwrap().pref64;
    assert_eq!(ra(&c, &b), None);
    b.pref64 = Some(Some(parse_prefix("2001:db8:46::/48").unwrap()));
    assert_eq!(ra(&c, &b), pref64("2001:db8:46::/48", 1800));
    c.ipv6.pref64 = Some(parse_prefix("64:ff9b::/96").unwrap());
    assert_eq!(ra(&c, &b), pref64("2001:db8:46::/48", 1800));
    b.pref64 = Some(None);
    assert_eq!(ra(&c, &b), None);
    b.pref64 = None;
    assert_eq!(ra(&c, &b), pref64("64:ff9b::/96", 1800));
}

fn routes(b: &mut Binding, v: &str) {
    b.routes6 = crate::binding::file::routes6::parse(v, b).unwrap();
}

fn route_info(prefix: &str, preference: RouterPreference, lifetime: u32) -> RouteInfo {
    RouteInfo {
        prefix: prefix.parse().unwrap(),
        preference,
        lifetime,
    }
}

#[test]
fn routes6_become_route_information_options() {
    use RouterPreference::*;
    let (mut c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    routes(
        &mut b,
        "2001:db8:100::/48 high, 2001:db8:200::/56, fd00:1::1/128 low",
    );
    let want = vec![
        route_info("2001:db8:100::/48", High, 1800),
        route_info("2001:db8:200::/56", Medium, 1800),
        route_info("fd00:1::1/128", Low, 1800),
    ];
    let ra = decide_with(&c, &b, &rs(GUEST_LL, Some(GUEST_MAC))).unwrap();
    assert_eq!(ra.routes, want);
    assert_eq!(parse_ra(&ra.emit()), ra);
    let cx = ctx(&c, &b);
    assert_eq!(
        build_unsolicited_ra_advert(&cx, false).unwrap().routes,
        want
    );
    // The final RA withdraws them with the default router.
    let last = parse_ra(&build_unsolicited_ra(&cx, true).unwrap().frame);
    assert!(last.routes.iter().all(|r| r.lifetime == 0), "{last:?}");
    assert_eq!(last.routes.len(), 3);
    // route_lifetime, when set, is theirs.
    c.ipv6.route_lifetime = Some(600);
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert!(ra.routes.iter().all(|r| r.lifetime == 600), "{ra:?}");
}

#[test]
fn route_lifetime_follows_the_router_and_private_keeps_routes() {
    let (mut c, mut b) = (config(Ipv6Mode::Slaac), tap_routed());
    routes(&mut b, "2001:db8:100::/48");
    let lifetime = |c: &Config, b: &Binding| {
        decide_with(c, b, &rs(GUEST_LL, None)).unwrap().routes[0].lifetime
    };
    assert_eq!(lifetime(&c, &b), 1800);
    // Not a default router at all: three RA periods, like the DNS options.
    c.ipv6.router_lifetime = 0;
    assert_eq!(lifetime(&c, &b), 900);
    c.ipv6.router_lifetime = 9000;
    assert_eq!(lifetime(&c, &b), 9000);
    // PRIVATE: no default router, but the routes stand.
    b.private = true;
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!((ra.router_lifetime, ra.routes[0].lifetime), (0, 9000));
}

/// The IPv6 packet length of an emitted RA.
fn ip_len(ra: &RouterAdvert) -> usize {
    ra.emit().len() - frame::ETH_HDR_LEN
}

#[test]
fn buffer_len_is_the_emitted_length() {
    let (mut c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    b.mtu = Some(9000);
    routes(&mut b, "2001:db8:100::/48, 2001:db8:200::1/128 high");
    c.ipv6.pref64 = Some(parse_prefix("64:ff9b::/96").unwrap());
    c.ipv6.domains = vec!["a.example".into(), "x".repeat(63), "b".into()];
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.buffer_len(), ra.icmp_bytes().len());
    c.ipv6.domains.clear();
    c.ipv6.nameservers.clear();
    b.routes6.clear();
    b.mtu = None;
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.buffer_len(), ra.icmp_bytes().len());
}

#[test]
fn an_ra_over_the_mtu_leaves_out_search_list_then_routes_then_dns_then_pref64() {
    let (mut c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    c.ipv6.pref64 = Some(parse_prefix("64:ff9b::/96").unwrap());
    let many: Vec<String> = (0..16)
        .map(|i| format!("2001:db8:{:x}::/48", 0x100 + i))
        .collect();
    routes(&mut b, &many.join(","));
    // 40 names of 63 + 2 bytes: one DNSSL of 2608 bytes is cut to 255 units.
    c.ipv6.domains = (0..40).map(|i| format!("{i:0>61}.x")).collect();
    for mtu in [None, Some(1280), Some(1400)] {
        b.mtu = mtu;
        let budget = usize::from(mtu.unwrap_or(1500));
        let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
        assert!(ip_len(&ra) <= budget, "{} > {budget}", ip_len(&ra));
        // Only search domains went, a few of them kept.
        assert_eq!(
            (ra.routes.len(), ra.rdnss.as_ref().map(|r| r.1.len())),
            (16, Some(2))
        );
        assert!(ra.pref64.is_some());
        let kept = ra.dnssl.as_ref().map_or(0, |d| d.1.len());
        assert!((1..40).contains(&kept), "{kept} names");
        assert_eq!(parse_ra(&ra.emit()), ra);
        assert!(ip_len(&ra) + 72 > budget, "cut more than needed");
    }
    // 120 DNS servers: the search list and every route go, then servers.
    c.ipv6.nameservers = (1..=120u16)
        .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, i))
        .collect();
    b.mtu = Some(1280);
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert!(ip_len(&ra) <= 1280);
    assert_eq!((ra.dnssl.as_ref(), ra.routes.len()), (None, 0));
    // IPv6 40, RA 16, SLLA 8, MTU 8, PIO 32, PREF64 16, RDNSS header 8:
    // 128 bytes, and 1152 left for 72 servers.
    let servers = &ra.rdnss.as_ref().unwrap().1;
    assert_eq!(servers[..], c.ipv6.nameservers[..72]);
    assert!(ra.pref64.is_some());
    assert_eq!(parse_ra(&ra.emit()), ra);
    // Below the IPv6 minimum MTU: cut to 1280 all the same.
    b.mtu = Some(1000);
    assert!(ip_len(&decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap()) <= 1280);
}

#[test]
fn fit_drops_pref64_last_and_never_the_prefix() {
    let (mut c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    c.ipv6.pref64 = Some(parse_prefix("64:ff9b::/96").unwrap());
    let mut ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    // Header, SLLA, PIO: 56 bytes; + PREF64 72.
    let full = ra.buffer_len();
    assert!(ra.fit(full));
    assert!(ra.fit(72) && ra.pref64.is_some());
    assert_eq!((ra.rdnss.as_ref(), ra.dnssl.as_ref()), (None, None));
    assert!(ra.fit(71) && ra.pref64.is_none() && ra.prefix.is_some());
    assert_eq!(ra.buffer_len(), 56);
    assert!(!ra.fit(55));
}

#[test]
fn the_bindings_dns_servers_and_search_list_replace_the_configs() {
    let (c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    b.nameservers6 = Some(vec![a6("2001:db8:5300::53")]);
    b.domains = Some(vec!["vm7.example.net".into()]);
    let ra = decide_with(&c, &b, &rs(GUEST_LL, None)).unwrap();
    assert_eq!(ra.rdnss, Some((900, vec![a6("2001:db8:5300::53")])));
    assert_eq!(ra.dnssl, Some((900, vec!["vm7.example.net".into()])));
    assert_eq!(parse_ra(&ra.emit()), ra);
    // `none`: neither option, whatever the config has.
    b.nameservers6 = Some(vec![]);
    b.domains = Some(vec![]);
    let ra = build_unsolicited_ra_advert(&ctx(&c, &b), false).unwrap();
    assert_eq!((ra.rdnss, ra.dnssl), (None, None));
}
