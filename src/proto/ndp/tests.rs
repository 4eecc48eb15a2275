//! Tests of the NS responder: golden typed replies, real captured NS, fuzz-ish truncation.

use super::*;
use crate::config::Ipv6Mode;
use crate::proto::testutil::*;

const GUEST_LL: &str = "fe80::a800:ff:fe00:10";

/// An NS message for `target`, with an optional SLLA option.
fn ns_msg(target: Ipv6Addr, slla: Option<MacAddr>) -> Vec<u8> {
    let mut m = vec![ICMPV6_NEIGHBOUR_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&target.octets());
    if let Some(mac) = slla {
        emit_lla_option(OPT_SOURCE_LLA, mac, &mut m);
    }
    m
}

fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

fn ns(src: &str, target: &str, slla: Option<MacAddr>) -> Vec<u8> {
    let t = a6(target);
    icmp_packet(a6(src), solicited_node(t), 255, &ns_msg(t, slla))
}

fn decide_with(b: &crate::binding::Binding, packet: &[u8]) -> Result<NeighbourAdvert, DropReason> {
    let c = config(Ipv6Mode::SlaacDhcpv6);
    decide(&ctx(&c, b), packet)
}

fn router_ll() -> Ipv6Addr {
    SERVER_MAC.link_local()
}

#[test]
fn gateway6_is_answered_unicast_solicited_override() {
    let b = tap_routed();
    let na = decide_with(&b, &ns(GUEST_LL, "2001:db8:1::1", Some(GUEST_MAC))).unwrap();
    assert_eq!(
        na,
        NeighbourAdvert {
            eth_src: SERVER_MAC,
            eth_dst: GUEST_MAC,
            // Answered as the owner of the target (ndisc6 requires it).
            src: a6("2001:db8:1::1"),
            dst: a6(GUEST_LL),
            router: true,
            solicited: true,
            override_flag: true,
            target: a6("2001:db8:1::1"),
            target_lla: SERVER_MAC,
        }
    );
}

#[test]
fn router_link_local_is_answered() {
    let b = tap_routed();
    let na = decide_with(&b, &ns(GUEST_LL, &router_ll().to_string(), Some(GUEST_MAC))).unwrap();
    assert_eq!((na.target, na.override_flag), (router_ll(), true));
}

#[test]
fn other_subnet_address_is_proxied_without_override() {
    let b = tap_routed();
    let na = decide_with(&b, &ns(GUEST_LL, "2001:db8:1::77", Some(GUEST_MAC))).unwrap();
    assert_eq!(na.target, a6("2001:db8:1::77"));
    assert!(na.router && na.solicited && !na.override_flag);
}

#[test]
fn ns_without_slla_is_answered_to_frame_mac() {
    let b = tap_routed();
    let na = decide_with(&b, &ns(GUEST_LL, "2001:db8:1::1", None)).unwrap();
    assert_eq!(na.eth_dst, GUEST_MAC);
    assert_eq!(na.dst, a6(GUEST_LL));
}

#[test]
fn guest_own_addresses_are_never_answered() {
    let mut b = tap_routed();
    b.ip6 = Some(a6("2001:db8:1::10"));
    for own in ["2001:db8:1::a800:ff:fe00:10", "2001:db8:1::10", GUEST_LL] {
        assert_eq!(
            decide_with(&b, &ns(GUEST_LL, own, Some(GUEST_MAC))),
            Err(DropReason::NotOurs),
            "{own}"
        );
        assert_eq!(
            decide_with(&b, &ns("::", own, None)),
            Err(DropReason::NotOurs)
        );
    }
    // EUI-64 of the MAC in subnet6 even with EUI64 unset.
    b.eui64 = None;
    assert_eq!(
        decide_with(&b, &ns("::", "2001:db8:1::a800:ff:fe00:10", None)),
        Err(DropReason::NotOurs)
    );
}

#[test]
fn dad_for_guest_address_gets_no_answer_but_router_is_defended() {
    let b = tap_routed();
    // A stable-privacy address of the subnet: the guest's to take.
    assert_eq!(
        decide_with(&b, &ns("::", "2001:db8:1::1234:5678", None)),
        Err(DropReason::NotOurs)
    );
    let na = decide_with(&b, &ns("::", "2001:db8:1::1", None)).unwrap();
    assert_eq!(
        na,
        NeighbourAdvert {
            eth_src: SERVER_MAC,
            eth_dst: ALL_NODES_MAC,
            src: a6("2001:db8:1::1"),
            dst: ALL_NODES,
            router: true,
            solicited: false,
            override_flag: true,
            target: a6("2001:db8:1::1"),
            target_lla: SERVER_MAC,
        }
    );
}

#[test]
fn outside_subnet_is_not_ours_and_no_subnet6_is_not_configured() {
    let mut b = tap_routed();
    assert_eq!(
        decide_with(&b, &ns(GUEST_LL, "2001:db8:2::1", Some(GUEST_MAC))),
        Err(DropReason::NotOurs)
    );
    assert_eq!(
        decide_with(&b, &ns(GUEST_LL, "fe80::1", Some(GUEST_MAC))),
        Err(DropReason::NotOurs)
    );
    b.subnet6 = None;
    assert_eq!(
        decide_with(&b, &ns(GUEST_LL, "2001:db8:1::1", Some(GUEST_MAC))),
        Err(DropReason::NotConfigured)
    );
}

#[test]
fn spoofed_mac_is_dropped_unless_macspoof() {
    let mut b = tap_routed();
    assert_eq!(
        decide_with(&b, &ns(GUEST_LL, "2001:db8:1::1", Some(OTHER_MAC))),
        Err(DropReason::SpoofedMac)
    );
    let c = config(Ipv6Mode::Slaac);
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    assert_eq!(
        decide(&cx, &ns(GUEST_LL, "2001:db8:1::1", None)),
        Err(DropReason::SpoofedMac)
    );
    b.macspoof = true;
    let na = decide_with(&b, &ns(GUEST_LL, "2001:db8:1::1", Some(OTHER_MAC))).unwrap();
    assert_eq!(na.eth_dst, OTHER_MAC);
}

#[test]
fn rfc4861_validation() {
    let b = tap_routed();
    let t = a6("2001:db8:1::1");
    let good = ns_msg(t, Some(GUEST_MAC));
    let dst = solicited_node(t);
    // Hop limit not 255.
    let p = icmp_packet(a6(GUEST_LL), dst, 64, &good);
    assert_eq!(decide_with(&b, &p), Err(DropReason::Invalid));
    // Code not 0.
    let mut m = good.clone();
    m[icmp_field::CODE] = 1;
    assert_eq!(
        decide_with(&b, &icmp_packet(a6(GUEST_LL), dst, 255, &m)),
        Err(DropReason::Invalid)
    );
    // Shorter than 24.
    let p = icmp_packet(a6(GUEST_LL), dst, 255, &good[..20]);
    assert_eq!(decide_with(&b, &p), Err(DropReason::Invalid));
    // Multicast target.
    let p = icmp_packet(a6(GUEST_LL), dst, 255, &ns_msg(ALL_NODES, None));
    assert_eq!(decide_with(&b, &p), Err(DropReason::Invalid));
    // Option of length 0.
    let mut m = good.clone();
    m[ns_field::OPTIONS + 1] = 0;
    assert_eq!(
        decide_with(&b, &icmp_packet(a6(GUEST_LL), dst, 255, &m)),
        Err(DropReason::Invalid)
    );
    // DAD with an SLLA option.
    let p = icmp_packet(Ipv6Addr::UNSPECIFIED, dst, 255, &good);
    assert_eq!(decide_with(&b, &p), Err(DropReason::Invalid));
    // DAD not to a solicited-node group.
    let p = icmp_packet(Ipv6Addr::UNSPECIFIED, t, 255, &ns_msg(t, None));
    assert_eq!(decide_with(&b, &p), Err(DropReason::Invalid));
    // Bad checksum.
    let mut p = icmp_packet(a6(GUEST_LL), dst, 255, &good);
    p[frame::IPV6_HDR_LEN + 2] ^= 0xff;
    assert_eq!(decide_with(&b, &p), Err(DropReason::Malformed));
    // Not an NS.
    let mut m = good.clone();
    m[icmp_field::TYPE] = ICMPV6_NEIGHBOUR_ADVERT;
    let p = icmp_packet(a6(GUEST_LL), dst, 255, &m);
    assert_eq!(decide_with(&b, &p), Err(DropReason::UnsupportedMessage));
}

#[test]
fn emitted_na_parses_back_with_valid_checksum() {
    let b = tap_routed();
    let c = config(Ipv6Mode::Slaac);
    let p = ns(GUEST_LL, "2001:db8:1::1", Some(GUEST_MAC));
    let na = decide(&ctx(&c, &b), &p).unwrap();
    let Outcome::Reply(reply) = handle(&ctx(&c, &b), &p) else {
        panic!("NS answered")
    };
    assert_eq!(reply.kind, ReplyKind::NeighbourAdvert);
    assert_eq!(NeighbourAdvert::parse(&reply.frame), Some(na));
}

#[test]
fn every_truncation_is_dropped_without_panic() {
    let b = tap_routed();
    let c = config(Ipv6Mode::Slaac);
    let p = ns(GUEST_LL, "2001:db8:1::1", Some(GUEST_MAC));
    assert_prefixes_dropped("", &p, |q| handle(&ctx(&c, &b), q));
    // Byte flips never panic either.
    flip_each_byte(&p, 0xa5, |q| handle(&ctx(&c, &b), q));
}

#[test]
fn real_ndisc6_ns_for_gateway_is_answered() {
    let b = tap_routed();
    let c = config(Ipv6Mode::Slaac);
    let pkts = fixture("ndisc6.pcap");
    let (mac, pkt) = &pkts[0];
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(*mac);
    let na = decide(&cx, pkt).unwrap();
    assert_eq!(na.target, a6("2001:db8:1::1"));
    assert_eq!((na.dst, na.eth_dst), (a6(GUEST_LL), GUEST_MAC));
    assert!(na.solicited && na.router && na.override_flag);
}

#[test]
fn real_kernel_dad_ns_for_own_link_local_is_not_answered() {
    let b = tap_routed();
    let c = config(Ipv6Mode::Slaac);
    for (mac, pkt) in fixture("kernel-dad-ns.pcap") {
        let ns = parse_ns(&pkt).unwrap();
        assert!(ns.src.is_unspecified());
        let mut cx = ctx(&c, &b);
        cx.src_mac = Some(mac);
        assert_eq!(decide(&cx, &pkt), Err(DropReason::NotOurs));
    }
}

#[test]
fn solicited_node_recognised() {
    assert!(is_solicited_node(&a6("ff02::1:ff00:10")));
    assert!(!is_solicited_node(&a6("ff02::1")));
    assert!(!is_solicited_node(&a6("ff02::2:ff00:10")));
}

#[test]
fn ipv6_disabled_gets_no_na() {
    let b = tap_routed();
    let mut c = config(Ipv6Mode::Slaac);
    c.ipv6.enabled = false;
    let p = ns(GUEST_LL, "2001:db8:1::1", Some(GUEST_MAC));
    assert_eq!(decide(&ctx(&c, &b), &p), Err(DropReason::Disabled));
}
