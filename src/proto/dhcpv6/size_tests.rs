//! Tests of the DHCPv6 reply size (issue #15, finding 4): at most
//! [`MAX_IAS_PER_MESSAGE`] IAs answered, replies within the link MTU
//! whatever the request, length fields equal to the real lengths.

use super::test_support::*;
use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::proto::testutil::*;
use dhcproto::v6 as d6;
use dhcproto::{Decodable, Decoder};

/// An IA_NA with `n` addresses of 2001:db8:ffff::/64 (off-link, not ours).
fn ia_na(iaid: u32, n: u16) -> (u16, Vec<u8>) {
    let mut d = iaid.to_be_bytes().to_vec();
    d.extend_from_slice(&[0; 8]);
    for i in 0..n {
        let mut ad = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, iaid as u16, i)
            .octets()
            .to_vec();
        ad.extend_from_slice(&[0; 8]);
        push_opt(&mut d, opt::IAADDR, &ad).unwrap();
    }
    (opt::IA_NA, d)
}

/// The reply frame to `payload` from the guest, checked: within `mtu`,
/// IPv6 payload length and UDP length equal to the real lengths, and
/// decodable by dhcproto.
fn reply_frame(c: &Config, b: &Binding, payload: &[u8], mtu: usize) -> Vec<u8> {
    let pkt = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), payload);
    let Outcome::Reply(r) = handle(&ctx(c, b), &pkt) else {
        panic!("no reply to a {}-byte request", payload.len())
    };
    let f = r.frame;
    let ip_len = f.len() - frame::ETH_HDR_LEN;
    assert!(
        ip_len <= mtu,
        "{ip_len}-byte packet over the {mtu}-byte MTU"
    );
    let be16 = |at: usize| usize::from(u16::from_be_bytes([f[at], f[at + 1]]));
    let udp_at = frame::ETH_HDR_LEN + frame::IPV6_HDR_LEN;
    assert_eq!(be16(frame::ETH_HDR_LEN + 4), ip_len - frame::IPV6_HDR_LEN);
    assert_eq!(be16(udp_at + 4), ip_len - frame::IPV6_HDR_LEN);
    let u = frame::parse_ipv6_udp(frame::ip_of_frame(&f).unwrap()).expect("checksum");
    d6::Message::decode(&mut Decoder::new(u.payload)).expect("dhcproto decodes it");
    f
}

/// The 1,426-byte Solicit of issue #15 (88 IA_NAs) once got a 6 KB reply.
#[test]
fn a_solicit_with_many_ias_gets_eight_answered_within_the_mtu() {
    let (c, b) = stateful();
    let mut opts = vec![cid()];
    opts.extend((0..88).map(|i| ia_na(i, 0)));
    let p = message(msg::SOLICIT, &opts);
    assert_eq!(p.len(), 1426);
    assert_eq!(parse_request(&p).unwrap().ignored_ias, 80);
    let pkt = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), &p);
    let r = decide(&ctx(&c, &b), &pkt).unwrap();
    let iaids: Vec<u32> = r.ia_na.iter().map(|ia| ia.iaid).collect();
    assert_eq!(iaids, (0..8).collect::<Vec<_>>());
    assert!(r.ia_na.iter().all(|ia| ia.addrs[0].addr == a6(EUI64)));
    assert_eq!(r.domains.len(), 2, "config options kept: the reply fits");
    assert_eq!(r.buffer_len(), r.payload().unwrap().len());
    reply_frame(&c, &b, &p, 1500);
}

/// The limit counts IA_NA, IA_TA and IA_PD together, in message order,
/// and an IA past it is still checked.
#[test]
fn the_first_eight_ias_of_any_kind_are_answered() {
    let (c, b) = stateful();
    let ta = |iaid: u32| (opt::IA_TA, iaid.to_be_bytes().to_vec());
    let pd = |iaid: u32| {
        let mut d = iaid.to_be_bytes().to_vec();
        d.extend_from_slice(&[0; 8]);
        (opt::IA_PD, d)
    };
    let mut opts = vec![cid(), sid(), pd(100), ta(200), ta(201)];
    opts.extend((0..10).map(|i| ia_na(i, 0)));
    opts.push(pd(101));
    let r = run_request(&c, &b, &message(msg::REQUEST, &opts));
    assert_eq!(r.ia_pd.iter().map(|ia| ia.iaid).collect::<Vec<_>>(), [100]);
    assert_eq!(r.ia_ta, [200, 201]);
    assert_eq!(r.ia_na.len(), 5);
    let req = message(msg::REQUEST, &opts);
    assert_eq!(parse_request(&req).unwrap().ignored_ias, 6);
    // A malformed IA_NA after the eighth still makes the message malformed.
    opts.push((opt::IA_NA, vec![0; 3]));
    let bad = message(msg::REQUEST, &opts);
    assert_eq!(parse_request(&bad), Err(DropReason::Malformed));
}

fn run_request(c: &Config, b: &Binding, p: &[u8]) -> Dhcpv6Reply {
    let pkt = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), p);
    decide(&ctx(c, b), &pkt).expect("answered")
}

/// A request of 64 KiB (possible after reassembly) once made a reply over
/// 65,535 bytes, sent with a truncated IPv6 payload length. Every
/// stateful message type now gets a reply within the link MTU.
#[test]
fn a_64_kib_request_gets_a_reply_within_the_link_mtu() {
    let mut opts = vec![cid(), sid()];
    opts.extend((0..46).map(|i| ia_na(i, 50)));
    let without_sid: Vec<_> = opts
        .iter()
        .filter(|o| o.0 != opt::SERVERID)
        .cloned()
        .collect();
    for mtu in [None, Some(1280), Some(1400), Some(9000)] {
        let (c, mut b) = stateful();
        b.mtu = mtu;
        let link = usize::from(mtu.unwrap_or(1500));
        for t in [msg::REQUEST, msg::RENEW, msg::RELEASE, msg::DECLINE] {
            let p = message(t, &opts);
            assert!(p.len() > 65_000 && p.len() <= frame::MAX_LEN_FIELD - frame::UDP_HDR_LEN);
            reply_frame(&c, &b, &p, link);
        }
        for t in [msg::SOLICIT, msg::REBIND, msg::CONFIRM] {
            reply_frame(&c, &b, &message(t, &without_sid), link);
        }
    }
}

/// Renew: the addresses returned with lifetime 0 go first, and only as
/// many as needed; then the search list; then the NTP servers; then the
/// DNS servers.
#[test]
fn fit_trims_zero_lifetime_addresses_then_domains_then_dns() {
    let (c, b) = stateful();
    let p = message(msg::RENEW, &[cid(), sid(), ia_na(1, 100)]);
    let r = run_request(&c, &b, &p);
    let budget = 1500 - frame::IPV6_HDR_LEN - frame::UDP_HDR_LEN;
    let ia = &r.ia_na[0];
    assert_eq!(ia.addrs[0].addr, a6(EUI64));
    assert!(ia.addrs[1..]
        .iter()
        .all(|a| a.valid == 0 && a.preferred == 0));
    assert!(ia.addrs.len() < 101);
    assert!(r.buffer_len() <= budget && r.buffer_len() + IAADDR_OPT_LEN > budget);
    assert_eq!((r.dns_servers.len(), r.domains.len()), (2, 2));
    // Smaller budgets: every such address, then the search list, then the
    // DNS servers; never the rest.
    let no_echo = r.buffer_len() - (ia.addrs.len() - 1) * IAADDR_OPT_LEN;
    let mut r = r;
    assert!(r.fit(no_echo));
    assert_eq!(r.ia_na[0].addrs.len(), 1);
    assert_eq!((r.dns_servers.len(), r.domains.len()), (2, 2));
    assert!(r.fit(no_echo - 1));
    assert_eq!((r.dns_servers.len(), r.domains.len()), (2, 0));
    // NTP servers go after the search list, before the DNS servers.
    r.ntp_servers = vec![a6("2001:db8:123::1")];
    assert!(r.fit(r.buffer_len() - 1));
    assert_eq!((r.dns_servers.len(), r.ntp_servers.len()), (2, 0));
    assert!(r.fit(r.buffer_len() - 1));
    assert!(r.dns_servers.is_empty());
    assert!(!r.fit(r.buffer_len() - 1), "the rest is never cut");
    assert_eq!(r.ia_na[0].addrs[0].addr, a6(EUI64));
}

/// What `fit` never trims fits the 1232 bytes of a 1280-byte link, for
/// the largest of everything: DUID, eight IAs of each kind, statuses.
#[test]
fn the_untrimmed_part_of_any_reply_fits_the_ipv6_minimum_mtu() {
    let min_budget = usize::from(IPV6_MIN_MTU) - frame::IPV6_HDR_LEN - frame::UDP_HDR_LEN;
    let ia = |status| IaNa {
        iaid: u32::MAX,
        t1: 1,
        t2: 2,
        addrs: vec![],
        status: Some(status),
    };
    let with_addr = IaNa {
        addrs: vec![IaAddress {
            addr: a6(EUI64),
            preferred: 1,
            valid: 2,
        }],
        status: None,
        ..ia(Status::Success)
    };
    let pd = |status| IaPd {
        iaid: u32::MAX,
        t1: 1,
        t2: 2,
        prefixes: vec![],
        status: Some(status),
    };
    let holder = IaPd {
        prefixes: vec![
            IaPrefix {
                prefix: "2001:db8:100::/56".parse().unwrap(),
                preferred: 1,
                valid: 2,
            };
            crate::binding::file::delegated::MAX_PREFIXES
        ],
        status: None,
        ..pd(Status::Success)
    };
    let n = MAX_IAS_PER_MESSAGE;
    let worst = Dhcpv6Reply {
        eth_src: SERVER_MAC,
        eth_dst: GUEST_MAC,
        src: SERVER_MAC.link_local(),
        dst: a6(GUEST_LL),
        msg_type: ReplyType::Reply,
        xid: [1, 2, 3],
        server_id: server_duid(SERVER_MAC),
        client_id: Some(vec![0xff; DUID_MAX_LEN]),
        rapid_commit: true,
        status: Some(Status::NotOnLink),
        ia_na: vec![],
        ia_ta: vec![],
        ia_pd: vec![],
        dns_servers: vec![a6("2001:db8:53::1"); 4100],
        domains: vec!["a".repeat(63) + ".example.org"; 300],
        ntp_servers: vec![a6("2001:db8:123::1"); 3000],
        raw_options: vec![],
        bootfile_url: Some("u".repeat(crate::value::boot::MAX_LEN)),
    };
    let statuses = [
        Status::NoAddrsAvail,
        Status::NoBinding,
        Status::NotOnLink,
        Status::NoPrefixAvail,
    ];
    let mut cases = vec![
        Dhcpv6Reply {
            ia_ta: vec![u32::MAX; n],
            ..worst.clone()
        },
        Dhcpv6Reply {
            ia_pd: vec![pd(Status::NoPrefixAvail); n],
            ..worst.clone()
        },
        // A binding's every prefix in one IA_PD, each other IA the longest
        // kind (a status with the longest message).
        Dhcpv6Reply {
            ia_pd: std::iter::once(holder)
                .chain(vec![pd(Status::NoPrefixAvail); n - 1])
                .collect(),
            ..worst.clone()
        },
        Dhcpv6Reply {
            ia_na: vec![with_addr; n],
            ..worst.clone()
        },
    ];
    cases.extend(statuses.map(|s| Dhcpv6Reply {
        ia_na: vec![ia(s); n],
        ..worst.clone()
    }));
    for mut r in cases {
        assert!(
            r.buffer_len() > frame::MAX_LEN_FIELD,
            "config options alone overflow"
        );
        assert!(matches!(r.payload(), Err(EmitError::OptionTooLong { .. })));
        assert!(r.fit(min_budget));
        assert!(r.dns_servers.is_empty() && r.domains.is_empty() && r.ntp_servers.is_empty());
        assert_eq!(r.payload().unwrap().len(), r.buffer_len());
        assert!(r.emit().unwrap().len() <= frame::ETH_HDR_LEN + usize::from(IPV6_MIN_MTU));
    }
}
