//! Golden tests of `nfdhcpd replay`: every capture of tests/fixtures (real
//! clients' requests, see the READMEs there) replayed against the compat
//! config and bindings through the library; replies decoded with dhcproto
//! (DHCPv4, DHCPv6) and pnet (RA, NA) and checked field by field. The
//! command itself writes the replies to a pcap that tshark must dissect
//! without a complaint (tshark: a prerequisite, fatal when CI is set).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dhcproto::v4::{self, DhcpOption as O4, OptionCode as C4};
use dhcproto::v6::{self, DhcpOption as O6};
use dhcproto::{Decodable, Decoder};
use pnet_packet::icmpv6::ndp::{
    NdpOptionTypes, NeighborAdvertFlags, NeighborAdvertPacket, RouterAdvertFlags,
    RouterAdvertPacket,
};

use nfdhcpd::config::{Config, Ipv6Mode};
use nfdhcpd::datapath::respond::Verdict;
use nfdhcpd::mac::MacAddr;
use nfdhcpd::metrics::Protocol;
use nfdhcpd::ops::replay::{self, Classified, Frame, LinkType, Replayed, DEFAULT_SERVER_MAC};
use nfdhcpd::proto::frame::{self, ip_of_frame};
use nfdhcpd::proto::{Consumed, DropReason, Outcome, Reply, ReplyKind};

const VM_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x10]);
const VM_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const VM_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0xa800, 0xff, 0xfe00, 0x10);
const VM_EUI64: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0xa800, 0xff, 0xfe00, 0x10);
const GW6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compat_conf() -> PathBuf {
    root().join("tests/fixtures/compat/nfdhcpd.conf")
}

fn bindings() -> PathBuf {
    root().join("tests/fixtures/compat/bindings")
}

/// tap-routed with PREFIX6_DELEGATED (tests/fixtures/ipv6/pd-bindings).
fn pd_bindings() -> PathBuf {
    root().join("tests/fixtures/ipv6/pd-bindings")
}

/// tap-routed with V6ONLY_WAIT and ROUTES (tests/fixtures/dhcpv4/v6only-bindings).
fn v6only_bindings() -> PathBuf {
    root().join("tests/fixtures/dhcpv4/v6only-bindings")
}

/// tap-routed with every per-VM IPv6 key (tests/fixtures/ipv6/options-bindings).
fn options_bindings() -> PathBuf {
    root().join("tests/fixtures/ipv6/options-bindings")
}

/// tap-routed with NTP and raw options (tests/fixtures/dhcpv4/options-bindings).
fn raw_options_bindings() -> PathBuf {
    root().join("tests/fixtures/dhcpv4/options-bindings")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn compat(mode: Option<Ipv6Mode>) -> Config {
    let mut c = replay::load_config(&compat_conf()).expect("the compat config loads");
    if let Some(m) = mode {
        c.ipv6.mode = m;
    }
    c
}

fn frames(name: &str) -> Vec<Frame> {
    let f = std::fs::File::open(fixture(name)).expect("fixture exists");
    let cap = replay::read_capture(f).expect("a readable capture");
    assert!(cap.damaged.is_none(), "{name}: {:?}", cap.damaged);
    assert!(!cap.frames.is_empty(), "{name} holds frames");
    cap.frames
}

/// Replays `name` as coming from `tap` with config `c`.
fn run(name: &str, tap: &str, c: &Config) -> Vec<Replayed> {
    run_in(&bindings(), name, tap, c)
}

/// [`run`] with the bindings of `dir`.
fn run_in(dir: &Path, name: &str, tap: &str, c: &Config) -> Vec<Replayed> {
    let (snap, problem) = replay::build_snapshot(c, dir, tap, DEFAULT_SERVER_MAC);
    assert_eq!(problem, None);
    let out = replay::replay_all(c, &snap, &frames(name));
    for r in &out {
        if let Some(reply) = r.reply() {
            nfdhcpd::fuzz::verify_reply(reply, DEFAULT_SERVER_MAC)
                .unwrap_or_else(|e| panic!("{name} #{}: {e}", r.number));
        }
    }
    out
}

fn reply(r: &Replayed) -> &Reply {
    r.reply()
        .unwrap_or_else(|| panic!("#{} has no reply: {:?}", r.number, r.decision))
}

fn outcome(r: &Replayed) -> &Outcome {
    let d = r.decision.as_ref().expect("queued");
    assert_eq!(d.verdict(), Verdict::Drop);
    d.outcome().expect("served")
}

// ---------------------------------------------------------------- DHCPv4

/// A DHCPv4 reply decoded: (IPv4/UDP view fields, message).
struct V4 {
    ip_src: Ipv4Addr,
    ip_dst: Ipv4Addr,
    udp_dst: u16,
    ip_len: usize,
    msg: v4::Message,
}

fn decode_v4(r: &Reply) -> V4 {
    let ip = ip_of_frame(&r.frame).expect("an IP packet");
    let udp = frame::parse_ipv4_udp(ip).expect("IPv4/UDP re-parses");
    let msg = v4::Message::decode(&mut Decoder::new(udp.payload)).expect("dhcproto decodes");
    V4 {
        ip_src: udp.src,
        ip_dst: udp.dst,
        udp_dst: udp.dst_port,
        ip_len: ip.len(),
        msg,
    }
}

fn request_xid(f: &Frame) -> u32 {
    let ip = replay::ip_packet(f).unwrap();
    let udp = frame::parse_ipv4_udp(ip).unwrap();
    v4::Message::decode(&mut Decoder::new(udp.payload))
        .unwrap()
        .xid()
}

fn msg_type(m: &v4::Message) -> v4::MessageType {
    match m.opts().get(C4::MessageType) {
        Some(O4::MessageType(t)) => *t,
        other => panic!("no message type: {other:?}"),
    }
}

/// The lease every routed reply carries: address, server, mask, router,
/// DNS, host name, domain, lease time.
fn check_routed_lease(v: &V4, want: v4::MessageType) {
    let m = &v.msg;
    assert_eq!(msg_type(m), want);
    assert_eq!(m.opcode(), v4::Opcode::BootReply);
    assert_eq!(m.yiaddr(), VM_IP);
    assert_eq!(&m.chaddr()[..6], &VM_MAC.0);
    assert_eq!((v.ip_src, v.ip_dst, v.udp_dst), (SERVER_IP, VM_IP, 68));
    let o = m.opts();
    assert_eq!(
        o.get(C4::ServerIdentifier),
        Some(&O4::ServerIdentifier(SERVER_IP))
    );
    assert_eq!(
        o.get(C4::SubnetMask),
        Some(&O4::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(
        o.get(C4::Router),
        Some(&O4::Router(vec![Ipv4Addr::new(192, 0, 2, 1)]))
    );
    assert_eq!(
        o.get(C4::AddressLeaseTime),
        Some(&O4::AddressLeaseTime(604_800))
    );
    if let Some(dns) = o.get(C4::DomainNameServer) {
        assert_eq!(
            dns,
            &O4::DomainNameServer(vec![
                Ipv4Addr::new(192, 0, 2, 53),
                Ipv4Addr::new(198, 51, 100, 53)
            ])
        );
    }
    if let Some(h) = o.get(C4::Hostname) {
        assert_eq!(h, &O4::Hostname("web1".into()));
    }
    if let Some(d) = o.get(C4::DomainName) {
        assert_eq!(d, &O4::DomainName("vm.example.org".into()));
    }
}

#[test]
fn udhcpc_max_message_size_576_is_honoured() {
    let fr = frames("dhcpv4/udhcpc.pcap");
    let out = run("dhcpv4/udhcpc.pcap", "tap-routed", &compat(None));
    assert_eq!(out.len(), 3);
    use v4::MessageType::*;
    for (r, want) in out.iter().zip([Offer, Offer, Ack]) {
        assert_eq!(r.classified, Classified::Queued(Protocol::Dhcpv4));
        let v = decode_v4(reply(r));
        check_routed_lease(&v, want);
        assert_eq!(v.msg.xid(), request_xid(&fr[r.number - 1]));
        // udhcpc sends option 57 = 576: the whole IP datagram fits in it.
        assert!(v.ip_len <= 576, "{} bytes", v.ip_len);
        // It asked for 6, 12, 15: all there.
        for c in [C4::DomainNameServer, C4::Hostname, C4::DomainName] {
            assert!(v.msg.opts().get(c).is_some(), "{c:?}");
        }
    }
}

#[test]
fn dhclient_offer_acks_and_release() {
    let out = run("dhcpv4/dhclient.pcap", "tap-routed", &compat(None));
    assert_eq!(out.len(), 7);
    use v4::MessageType::*;
    for (r, want) in out.iter().take(6).zip([Offer, Offer, Ack, Ack, Ack, Ack]) {
        let v = decode_v4(reply(r));
        check_routed_lease(&v, want);
        // Debian's request list has 121: the default route goes there too.
        assert_eq!(
            v.msg.opts().get(C4::ClasslessStaticRoute),
            Some(&O4::ClasslessStaticRoute(vec![(
                "0.0.0.0/0".parse().unwrap(),
                Ipv4Addr::new(192, 0, 2, 1)
            )]))
        );
    }
    // The renewal: unicast, ciaddr echoed.
    assert_eq!(decode_v4(reply(&out[5])).msg.ciaddr(), VM_IP);
    assert_eq!(outcome(&out[6]), &Outcome::Consumed(Consumed::Release));
}

/// The binding's NTP (dhclient asks for 42) and OPTION_224 (`always`) in
/// every reply; its OPTION_252, not asked for, in none.
#[test]
fn dhclient_gets_the_bindings_ntp_and_raw_options() {
    let dir = raw_options_bindings();
    let out = run_in(&dir, "dhcpv4/dhclient.pcap", "tap-routed", &compat(None));
    assert_eq!(out.len(), 7);
    for r in out.iter().take(6) {
        let v = decode_v4(reply(r));
        assert_eq!(
            v.msg.opts().get(C4::NtpServers),
            Some(&O4::NtpServers(vec![Ipv4Addr::new(203, 0, 113, 123)]))
        );
        assert_eq!(
            v.msg.opts().get(C4::Unknown(224)),
            Some(&O4::Unknown(v4::UnknownOption::new(
                C4::Unknown(224),
                b"rack 7".to_vec()
            )))
        );
        assert_eq!(v.msg.opts().get(C4::Unknown(252)), None);
    }
}

/// The binding's OPTION6_4242 (`always`) in a DHCPv6 reply.
#[test]
fn dhclient6_gets_the_bindings_raw_option() {
    let dir = raw_options_bindings();
    let name = "ipv6/dhclient6-info-request.pcap";
    let out = run_in(&dir, name, "tap-routed", &compat(None));
    assert_eq!(out.len(), 3);
    for r in &out {
        let (_, m) = decode_v6(reply(r));
        assert_eq!(
            m.opts().get(v6::OptionCode::Unknown(4242)),
            Some(&O6::Unknown(v6::UnknownOption::new(
                v6::OptionCode::Unknown(4242),
                b"rack 7".to_vec()
            )))
        );
    }
}

#[test]
fn dhcpcd_rapid_commit_and_inform() {
    let out = run("dhcpv4/dhcpcd.pcap", "tap-routed", &compat(None));
    assert_eq!(out.len(), 3);
    let rapid = decode_v4(reply(&out[0]));
    check_routed_lease(&rapid, v4::MessageType::Ack);
    assert_eq!(
        rapid.msg.opts().get(C4::RapidCommit),
        Some(&O4::RapidCommit)
    );
    check_routed_lease(&decode_v4(reply(&out[1])), v4::MessageType::Ack);
    // RFC 2131 §4.3.5: the ACK to an INFORM has no yiaddr and no lease time.
    let inform = decode_v4(reply(&out[2]));
    assert_eq!(msg_type(&inform.msg), v4::MessageType::Ack);
    assert_eq!(inform.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(inform.msg.opts().get(C4::AddressLeaseTime), None);
    assert_eq!(inform.ip_dst, VM_IP);
}

/// Option 108 (RFC 8925) of a reply, read raw: dhcproto 0.15 files
/// IPv6-Only Preferred under code 106, so it decodes 108 as unknown.
fn v6only_wait(m: &v4::Message) -> Option<u32> {
    match m.opts().get(C4::Unknown(108)) {
        Some(O4::Unknown(o)) => Some(u32::from_be_bytes(o.data().try_into().expect("4 bytes"))),
        None => None,
        other => panic!("option 108: {other:?}"),
    }
}

/// Option 121 of a reply, as (destination, router) pairs.
fn classless_routes(m: &v4::Message) -> Vec<(String, Ipv4Addr)> {
    match m.opts().get(C4::ClasslessStaticRoute) {
        Some(O4::ClasslessStaticRoute(r)) => r.iter().map(|(n, g)| (n.to_string(), *g)).collect(),
        other => panic!("option 121: {other:?}"),
    }
}

#[test]
fn dhcpcd_asking_for_option_108_gets_an_offer_of_no_address_where_v6only_wait_is_set() {
    let c = compat(None);
    let out = run_in(
        &v6only_bindings(),
        "dhcpv4/dhcpcd-v6only.pcap",
        "tap-routed",
        &c,
    );
    assert_eq!(out.len(), 2);
    // RFC 8925 §3.3: the DISCOVER's OFFER has yiaddr 0.0.0.0 (broadcast
    // then) and option 108 with the binding's V6ONLY_WAIT.
    let offer = decode_v4(reply(&out[0]));
    assert_eq!(msg_type(&offer.msg), v4::MessageType::Offer);
    assert_eq!(offer.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(offer.ip_dst, Ipv4Addr::BROADCAST);
    assert_eq!(v6only_wait(&offer.msg), Some(1800));
    // A REQUEST for the address (a client that went on anyway): its ACK,
    // option 108 again; option 121 with the default route, then ROUTES.
    let ack = decode_v4(reply(&out[1]));
    check_routed_lease(&ack, v4::MessageType::Ack);
    assert_eq!(v6only_wait(&ack.msg), Some(1800));
    let gw = Ipv4Addr::new(192, 0, 2, 1);
    assert_eq!(
        classless_routes(&ack.msg),
        [
            ("0.0.0.0/0".to_string(), gw),
            ("198.51.100.0/24".to_string(), gw),
            (
                "203.0.113.128/25".to_string(),
                Ipv4Addr::new(192, 0, 2, 254)
            ),
        ]
    );
    // The same requests to the compat binding (no V6ONLY_WAIT): a lease.
    let out = run("dhcpv4/dhcpcd-v6only.pcap", "tap-routed", &c);
    let offer = decode_v4(reply(&out[0]));
    check_routed_lease(&offer, v4::MessageType::Offer);
    assert_eq!(v6only_wait(&offer.msg), None);
    assert_eq!(
        classless_routes(&offer.msg),
        [("0.0.0.0/0".to_string(), gw)]
    );
}

#[test]
fn a_frame_from_another_mac_on_the_bridged_tap_is_dropped_as_spoofed() {
    let out = run("dhcpv4/udhcpc.pcap", "tap-bridged", &compat(None));
    for r in &out {
        assert_eq!(outcome(r), &Outcome::Dropped(DropReason::SpoofedMac));
    }
}

#[test]
fn a_tap_without_binding_gets_accept_for_every_frame() {
    let c = compat(None);
    let (snap, problem) = replay::build_snapshot(&c, &bindings(), "tap-none", DEFAULT_SERVER_MAC);
    assert!(problem.is_some());
    for r in replay::replay_all(&c, &snap, &frames("dhcpv4/dhclient.pcap")) {
        let d = r.decision.unwrap();
        assert_eq!((d.verdict(), d.outcome()), (Verdict::Accept, None));
    }
}

// ---------------------------------------------------------------- RA / NA

fn nd_ip(r: &Reply) -> frame::Ip6<'_> {
    frame::parse_ipv6_icmp(ip_of_frame(&r.frame).unwrap()).expect("ICMPv6 re-parses")
}

fn check_ra(r: &Reply, to: Ipv6Addr) {
    assert_eq!(r.kind, ReplyKind::RouterAdvert);
    let ip = nd_ip(r);
    assert_eq!(
        (ip.src, ip.dst, ip.hop_limit),
        (DEFAULT_SERVER_MAC.link_local(), to, 255)
    );
    assert_eq!(frame::eth_dst(&r.frame), Some(VM_MAC));
    let ra = RouterAdvertPacket::new(ip.payload).expect("an RA");
    assert_eq!(ra.get_icmpv6_code().0, 0);
    assert_eq!(ra.get_hop_limit(), 64);
    // compat mode auto → slaac+dhcpv6: O, not M.
    assert_eq!(ra.get_flags(), RouterAdvertFlags::OtherConf);
    assert_eq!(ra.get_lifetime(), 1800);
    let opts = ra.get_options();
    let of = |t| opts.iter().filter(move |o| o.option_type == t);
    let sll: Vec<_> = of(NdpOptionTypes::SourceLLAddr).collect();
    assert_eq!(sll.len(), 1);
    assert_eq!(&sll[0].data[..6], &DEFAULT_SERVER_MAC.0);
    let pio: Vec<_> = of(NdpOptionTypes::PrefixInformation).collect();
    assert_eq!(pio.len(), 1);
    let d = &pio[0].data;
    // prefix length, L|A, valid 2592000, preferred 604800, prefix.
    assert_eq!(d[0], 64);
    assert_eq!(d[1] & 0xc0, 0xc0);
    assert_eq!(u32::from_be_bytes(d[2..6].try_into().unwrap()), 2_592_000);
    assert_eq!(u32::from_be_bytes(d[6..10].try_into().unwrap()), 604_800);
    assert_eq!(
        Ipv6Addr::from(<[u8; 16]>::try_from(&d[14..30]).unwrap()),
        "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
    );
    // RDNSS (25) with both servers, DNSSL (31).
    let rdnss: Vec<_> = opts.iter().filter(|o| o.option_type.0 == 25).collect();
    assert_eq!(rdnss.len(), 1);
    let servers: Vec<Ipv6Addr> = rdnss[0].data[6..]
        .chunks_exact(16)
        .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).unwrap()))
        .collect();
    assert_eq!(
        servers,
        [
            "2001:db8:53::1".parse::<Ipv6Addr>().unwrap(),
            "2001:db8:53::2".parse().unwrap()
        ]
    );
    assert_eq!(opts.iter().filter(|o| o.option_type.0 == 31).count(), 1);
}

#[test]
fn kernel_and_rdisc6_router_solicitations_get_router_adverts() {
    let c = compat(None);
    let random_ll: Ipv6Addr = "fe80::cd97:12d:cd78:55c5".parse().unwrap();
    for (name, from) in [
        ("ipv6/kernel-rs.pcap", VM_LL),
        ("ipv6/rdisc6.pcap", VM_LL),
        // Non-EUI-64 link-local: answered too (the original ignored it).
        ("ipv6/kernel-rs-random-ll.pcap", random_ll),
    ] {
        for r in run(name, "tap-routed", &c) {
            assert_eq!(r.classified, Classified::Queued(Protocol::RouterSolicit));
            check_ra(reply(&r), from);
        }
    }
}

/// The bytes after Type and Length of every option of type `t`.
fn nd_options(ra: &RouterAdvertPacket<'_>, t: u8) -> Vec<Vec<u8>> {
    ra.get_options()
        .into_iter()
        .filter(|o| o.option_type.0 == t)
        .map(|o| o.data)
        .collect()
}

#[test]
fn router_adverts_carry_the_bindings_routes_pref64_and_dns() {
    let c = compat(None);
    for name in ["ipv6/kernel-rs.pcap", "ipv6/rdisc6.pcap"] {
        for r in run_in(&options_bindings(), name, "tap-routed", &c) {
            let r = reply(&r);
            let ip = nd_ip(r);
            let ra = RouterAdvertPacket::new(ip.payload).expect("an RA");
            assert_eq!(ra.get_lifetime(), 1800);
            // RFC 4191 §2.3: prefix length, Prf (high 01, medium 00, low
            // 11 in bits 3-4), lifetime = the router's, then 8 bytes of
            // prefix for a /48 or /56 (Length 2), 16 for a /128 (Length 3).
            let mut want = vec![
                vec![
                    48, 0x08, 0, 0, 0x07, 0x08, 0x20, 0x01, 0x0d, 0xb8, 0x03, 0, 0, 0,
                ],
                vec![
                    56, 0x00, 0, 0, 0x07, 0x08, 0x20, 0x01, 0x0d, 0xb8, 0x04, 0, 0, 0,
                ],
                vec![128, 0x18, 0, 0, 0x07, 0x08],
            ];
            want[2].extend_from_slice(&"2001:db8:500::1".parse::<Ipv6Addr>().unwrap().octets());
            assert_eq!(nd_options(&ra, 24), want, "{name}");
            // RFC 8781 §4: Scaled Lifetime 225 (1800 s) << 3 | PLC 0 (/96),
            // then 96 bits of prefix.
            assert_eq!(
                nd_options(&ra, 38),
                [vec![
                    0x07, 0x08, 0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0
                ]],
                "{name}"
            );
            // RDNSS: the binding's one server, not the config's two.
            let rdnss = nd_options(&ra, 25);
            assert_eq!(rdnss.len(), 1);
            assert_eq!(
                rdnss[0][6..],
                "2001:db8:5300::53".parse::<Ipv6Addr>().unwrap().octets()
            );
            // DNSSL: vm7.example.net, encoded, padded to 8.
            let dnssl = nd_options(&ra, 31);
            assert_eq!(dnssl.len(), 1);
            assert_eq!(&dnssl[0][6..23], b"\x03vm7\x07example\x03net\x00");
        }
    }
}

#[test]
fn ndisc6_neighbour_solicitation_for_the_gateway_gets_a_router_na() {
    let out = run("ipv6/ndisc6.pcap", "tap-routed", &compat(None));
    assert_eq!(out.len(), 1);
    let r = reply(&out[0]);
    assert_eq!(r.kind, ReplyKind::NeighbourAdvert);
    let ip = nd_ip(r);
    assert_eq!((ip.src, ip.dst, ip.hop_limit), (GW6, VM_LL, 255));
    let na = NeighborAdvertPacket::new(ip.payload).expect("an NA");
    assert_eq!(na.get_target_addr(), GW6);
    assert_eq!(
        na.get_flags(),
        NeighborAdvertFlags::Router
            | NeighborAdvertFlags::Solicited
            | NeighborAdvertFlags::Override
    );
    let opts = na.get_options();
    assert_eq!(opts.len(), 1);
    assert_eq!(opts[0].option_type, NdpOptionTypes::TargetLLAddr);
    assert_eq!(&opts[0].data[..6], &DEFAULT_SERVER_MAC.0);
}

#[test]
fn the_kernels_dad_probe_is_not_answered() {
    let out = run("ipv6/kernel-dad-ns.pcap", "tap-routed", &compat(None));
    assert_eq!(
        out[0].classified,
        Classified::Queued(Protocol::NeighbourSolicit)
    );
    assert_eq!(outcome(&out[0]), &Outcome::Dropped(DropReason::NotOurs));
}

// ---------------------------------------------------------------- DHCPv6

fn decode_v6(r: &Reply) -> (frame::Udp6<'_>, v6::Message) {
    let udp = frame::parse_ipv6_udp(ip_of_frame(&r.frame).unwrap()).expect("IPv6/UDP re-parses");
    let m = v6::Message::decode(&mut Decoder::new(udp.payload)).expect("dhcproto decodes");
    (udp, m)
}

fn request_v6(f: &Frame) -> v6::Message {
    let udp = frame::parse_ipv6_udp(replay::ip_packet(f).unwrap()).unwrap();
    v6::Message::decode(&mut Decoder::new(udp.payload)).unwrap()
}

/// Server id DUID-LL of the server MAC, client id and xid echoed, DNS and domains.
fn check_v6_common(reply: &v6::Message, req: &v6::Message) {
    assert_eq!(reply.xid(), req.xid());
    let mut duid = vec![0, 3, 0, 1];
    duid.extend_from_slice(&DEFAULT_SERVER_MAC.0);
    assert_eq!(
        reply.opts().get(v6::OptionCode::ServerId),
        Some(&O6::ServerId(duid))
    );
    assert_eq!(
        reply.opts().get(v6::OptionCode::ClientId),
        req.opts().get(v6::OptionCode::ClientId)
    );
    assert_eq!(
        reply.opts().get(v6::OptionCode::DomainNameServers),
        Some(&O6::DomainNameServers(vec![
            "2001:db8:53::1".parse().unwrap(),
            "2001:db8:53::2".parse().unwrap()
        ]))
    );
    match reply.opts().get(v6::OptionCode::DomainSearchList) {
        Some(O6::DomainSearchList(l)) => {
            let l: Vec<String> = l.iter().map(|n| n.to_utf8()).collect();
            assert_eq!(l, ["vm.example.org.", "example.org."]);
        }
        other => panic!("domain list {other:?}"),
    }
}

#[test]
fn dhclient6_information_requests_get_replies_with_dns() {
    let fr = frames("ipv6/dhclient6-info-request.pcap");
    let out = run(
        "ipv6/dhclient6-info-request.pcap",
        "tap-routed",
        &compat(None),
    );
    assert_eq!(out.len(), 3);
    for r in &out {
        let rep = reply(r);
        assert_eq!(rep.kind, ReplyKind::Dhcpv6Reply);
        let (udp, m) = decode_v6(rep);
        assert_eq!(m.msg_type(), v6::MessageType::Reply);
        assert_eq!((udp.ip.dst, udp.dst_port), (VM_LL, 546));
        check_v6_common(&m, &request_v6(&fr[r.number - 1]));
        assert!(m.opts().get(v6::OptionCode::IANA).is_none());
    }
}

/// The binding's NAMESERVERS6 and DOMAINS replace the config's; its NTP6
/// is not sent, as this client's ORO (23 24 39 31) does not ask for 56.
#[test]
fn dhclient6_information_requests_get_the_bindings_dns_and_search_list() {
    let name = "ipv6/dhclient6-info-request.pcap";
    let out = run_in(&options_bindings(), name, "tap-routed", &compat(None));
    assert_eq!(out.len(), 3);
    for r in &out {
        let (_, m) = decode_v6(reply(r));
        assert_eq!(m.msg_type(), v6::MessageType::Reply);
        assert_eq!(
            m.opts().get(v6::OptionCode::DomainNameServers),
            Some(&O6::DomainNameServers(vec!["2001:db8:5300::53"
                .parse()
                .unwrap()]))
        );
        match m.opts().get(v6::OptionCode::DomainSearchList) {
            Some(O6::DomainSearchList(l)) => {
                let l: Vec<String> = l.iter().map(|n| n.to_utf8()).collect();
                assert_eq!(l, ["vm7.example.net."]);
            }
            other => panic!("domain list {other:?}"),
        }
        assert_eq!(m.opts().get(v6::OptionCode::NtpServer), None);
    }
}

#[test]
fn dhclient6_solicit_is_refused_in_slaac_mode_and_advertised_in_dhcpv6_mode() {
    let name = "ipv6/dhclient6-solicit.pcap";
    for r in run(name, "tap-routed", &compat(None)) {
        assert_eq!(outcome(&r), &Outcome::Dropped(DropReason::Disabled));
    }
    let fr = frames(name);
    for r in run(name, "tap-routed", &compat(Some(Ipv6Mode::Dhcpv6))) {
        let rep = reply(&r);
        assert_eq!(rep.kind, ReplyKind::Advertise);
        let (_, m) = decode_v6(rep);
        assert_eq!(m.msg_type(), v6::MessageType::Advertise);
        check_v6_common(&m, &request_v6(&fr[r.number - 1]));
        match m.opts().get(v6::OptionCode::IANA) {
            Some(O6::IANA(ia)) => {
                assert_eq!(ia.id, 16);
                match ia.opts.get(v6::OptionCode::IAAddr) {
                    Some(O6::IAAddr(a)) => {
                        assert_eq!(a.addr, VM_EUI64);
                        assert_eq!((a.preferred_life, a.valid_life), (604_800, 2_592_000));
                    }
                    other => panic!("IA address {other:?}"),
                }
            }
            other => panic!("IA_NA {other:?}"),
        }
    }
}

#[test]
fn dhcpcd6_solicit_gets_an_advertise_for_its_ia_na() {
    let name = "ipv6/dhcpcd6-solicit.pcap";
    let fr = frames(name);
    let out = run(name, "tap-routed", &compat(Some(Ipv6Mode::Dhcpv6)));
    assert_eq!(out.len(), 3);
    for r in &out {
        let (udp, m) = decode_v6(reply(r));
        let req = request_v6(&fr[r.number - 1]);
        assert_eq!(m.msg_type(), v6::MessageType::Advertise);
        assert_eq!((udp.ip.dst, udp.dst_port), (VM_LL, 546));
        assert_eq!(m.xid(), req.xid());
        // Its DUID-LLT client id is echoed; our server id is DUID-LL.
        match m.opts().get(v6::OptionCode::ClientId) {
            Some(O6::ClientId(d)) => {
                assert_eq!(&d[..2], &[0, 1]);
                assert_eq!(&d[8..], &VM_MAC.0);
            }
            other => panic!("client id {other:?}"),
        }
        let mut duid = vec![0, 3, 0, 1];
        duid.extend_from_slice(&DEFAULT_SERVER_MAC.0);
        assert_eq!(
            m.opts().get(v6::OptionCode::ServerId),
            Some(&O6::ServerId(duid))
        );
        match m.opts().get(v6::OptionCode::IANA) {
            Some(O6::IANA(ia)) => {
                assert_eq!(ia.id, 1);
                assert!(matches!(
                    ia.opts.get(v6::OptionCode::IAAddr),
                    Some(O6::IAAddr(a)) if a.addr == VM_EUI64
                ));
            }
            other => panic!("IA_NA {other:?}"),
        }
    }
}

// ------------------------------------------------- DHCPv6 prefix delegation

const P56: (&str, u8) = ("2001:db8:100::", 56);
const P60: (&str, u8) = ("2001:db8:200::", 60);

/// One IA of a reply: IAID, T1, T2, its leases (address or prefix/len,
/// preferred, valid) and its status.
#[derive(Debug, PartialEq, Eq)]
struct Ia {
    id: u32,
    t1: u32,
    t2: u32,
    leases: Vec<(String, u32, u32)>,
    status: Option<v6::Status>,
}

/// The IAs `code` (IANA or IAPD) of `m`, decoded by dhcproto.
fn ias(m: &v6::Message, code: v6::OptionCode) -> Vec<Ia> {
    let list = m.opts().get_all(code).unwrap_or_default();
    list.iter()
        .map(|o| {
            let (id, t1, t2, opts) = match o {
                O6::IANA(ia) => (ia.id, ia.t1, ia.t2, &ia.opts),
                O6::IAPD(pd) => (pd.id, pd.t1, pd.t2, &pd.opts),
                other => panic!("{other:?}"),
            };
            let mut ia = Ia {
                id,
                t1,
                t2,
                leases: vec![],
                status: None,
            };
            for o in opts.iter() {
                match o {
                    O6::IAAddr(a) => {
                        ia.leases
                            .push((a.addr.to_string(), a.preferred_life, a.valid_life))
                    }
                    O6::IAPrefix(p) => ia.leases.push((
                        format!("{}/{}", p.prefix_ip, p.prefix_len),
                        p.preferred_lifetime,
                        p.valid_lifetime,
                    )),
                    O6::StatusCode(c) => ia.status = Some(c.status),
                    other => panic!("{other:?}"),
                }
            }
            ia
        })
        .collect()
}

/// An IA holding `leases` with the compat lifetimes (T1/T2 0.5/0.8 of
/// the preferred 604800; valid 2592000), or lifetimes 0 for `stale`.
fn ia(id: u32, leases: &[(&str, u8)], stale: &[(&str, u8)]) -> Ia {
    let lease = |(a, len): &(&str, u8), p, v| {
        let text = if *len == 128 {
            a.to_string()
        } else {
            format!("{a}/{len}")
        };
        (text, p, v)
    };
    Ia {
        id,
        t1: if leases.is_empty() { 0 } else { 302_400 },
        t2: if leases.is_empty() { 0 } else { 483_840 },
        leases: leases
            .iter()
            .map(|l| lease(l, 604_800, 2_592_000))
            .chain(stale.iter().map(|l| lease(l, 0, 0)))
            .collect(),
        status: None,
    }
}

fn ia_status(id: u32, status: v6::Status, stale: &[(&str, u8)]) -> Ia {
    Ia {
        status: Some(status),
        ..ia(id, &[], stale)
    }
}

fn top_status(m: &v6::Message) -> Option<v6::Status> {
    match m.opts().get(v6::OptionCode::StatusCode) {
        Some(O6::StatusCode(c)) => Some(c.status),
        None => None,
        other => panic!("{other:?}"),
    }
}

/// ISC dhclient -6 -N -P against a binding delegating a /56 and a /60, in
/// the compat config's mode (auto: slaac+dhcpv6): the prefixes in every
/// answer, the IA_NA refused (NoAddrsAvail, then NoBinding on Renew and
/// Rebind, RFC 8415 §18.3.2, §18.3.4), the Release a Success.
#[test]
fn dhclient6_prefix_delegation_in_slaac_dhcpv6_mode() {
    use v6::OptionCode::{IANA, IAPD};
    use v6::Status::*;
    let name = "ipv6/dhclient6-pd.pcap";
    let fr = frames(name);
    let out = run_in(&pd_bindings(), name, "tap-routed", &compat(None));
    assert_eq!(out.len(), 5);
    let types = [
        v6::MessageType::Advertise,
        v6::MessageType::Reply,
        v6::MessageType::Reply,
        v6::MessageType::Reply,
        v6::MessageType::Reply,
    ];
    let na = [NoAddrsAvail, NoAddrsAvail, NoBinding, NoBinding];
    for (i, r) in out.iter().enumerate() {
        let (udp, m) = decode_v6(reply(r));
        let req = request_v6(&fr[i]);
        assert_eq!((m.msg_type(), m.xid()), (types[i], req.xid()), "#{}", i + 1);
        assert_eq!((udp.ip.dst, udp.dst_port), (VM_LL, 546));
        if let Some(na) = na.get(i) {
            assert_eq!(ias(&m, IANA), [ia_status(16, *na, &[])], "#{}", i + 1);
            check_v6_common(&m, &req);
            assert_eq!(top_status(&m), None);
            assert_eq!(ias(&m, IAPD), [ia(16, &[P56, P60], &[])], "#{}", i + 1);
        }
    }
    // The Release (of its IA_PD only): Success, no IA listed.
    let (_, m) = decode_v6(reply(&out[4]));
    assert_eq!(top_status(&m), Some(Success));
    assert_eq!((ias(&m, IANA), ias(&m, IAPD)), (vec![], vec![]));
}

/// The same client in mode dhcpv6: the IA_NA gets the address as well.
/// Against the compat binding, which delegates nothing: the address, and
/// NoPrefixAvail (NoBinding, with lifetimes 0 for what it holds, on Renew
/// and Rebind; NoBinding for its Release).
#[test]
fn dhclient6_prefix_delegation_in_dhcpv6_mode_and_no_prefix_avail() {
    use v6::OptionCode::{IANA, IAPD};
    use v6::Status::*;
    let name = "ipv6/dhclient6-pd.pcap";
    let c = compat(Some(Ipv6Mode::Dhcpv6));
    let addr = (VM_EUI64.to_string(), 128u8);
    let addr = (addr.0.as_str(), addr.1);
    for r in run_in(&pd_bindings(), name, "tap-routed", &c)
        .iter()
        .take(4)
    {
        let (_, m) = decode_v6(reply(r));
        assert_eq!(ias(&m, IANA), [ia(16, &[addr], &[])], "#{}", r.number);
        assert_eq!(ias(&m, IAPD), [ia(16, &[P56, P60], &[])], "#{}", r.number);
    }
    let out = run(name, "tap-routed", &c);
    let pd = [
        ia_status(16, NoPrefixAvail, &[]),
        ia_status(16, NoPrefixAvail, &[]),
        ia_status(16, NoBinding, &[P56, P60]),
        ia_status(16, NoBinding, &[P56, P60]),
        ia_status(16, NoBinding, &[]),
    ];
    for (r, want) in out.iter().zip(pd) {
        let (_, m) = decode_v6(reply(r));
        assert_eq!(ias(&m, IAPD), [want], "#{}", r.number);
        if r.number < 5 {
            assert_eq!(ias(&m, IANA), [ia(16, &[addr], &[])], "#{}", r.number);
        }
    }
    // Mode slaac+dhcpv6 and no prefix: nothing to assign at all.
    let out = run(name, "tap-routed", &compat(None));
    let (_, m) = decode_v6(reply(&out[0]));
    assert_eq!(m.msg_type(), v6::MessageType::Advertise);
    assert_eq!(top_status(&m), Some(NoAddrsAvail));
    assert!(ias(&m, IANA).is_empty() && ias(&m, IAPD).is_empty());
}

/// dhcpcd, ia_pd only, Rapid Commit (RFC 8415 §18.3.1): a committed Reply
/// with the prefixes; NoPrefixAvail from a binding without.
#[test]
fn dhcpcd6_rapid_commit_prefix_delegation() {
    use v6::OptionCode::IAPD;
    let name = "ipv6/dhcpcd6-pd-rapid.pcap";
    for (dir, want) in [
        (pd_bindings(), ia(1, &[P56, P60], &[])),
        (bindings(), ia_status(1, v6::Status::NoPrefixAvail, &[])),
    ] {
        let out = run_in(&dir, name, "tap-routed", &compat(None));
        assert_eq!(out.len(), 1);
        let rep = reply(&out[0]);
        assert_eq!(rep.kind, ReplyKind::Dhcpv6Reply);
        let (_, m) = decode_v6(rep);
        assert_eq!(m.msg_type(), v6::MessageType::Reply);
        assert!(m.opts().get(v6::OptionCode::RapidCommit).is_some());
        assert_eq!(ias(&m, IAPD), [want]);
    }
}

// ---------------------------------------------------------------- formats

/// The IP packets of a fixture rewritten as pcapng with raw-IP interfaces.
fn as_raw_ip_pcapng(name: &str) -> Vec<u8> {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    for dl in [DataLink::IPV4, DataLink::IPV6, DataLink::RAW] {
        w.write_pcapng_block(InterfaceDescriptionBlock::new(dl, 65535))
            .unwrap();
    }
    for (i, f) in frames(name).iter().enumerate() {
        let ip = replay::ip_packet(f).unwrap();
        let interface_id = match ip[0] >> 4 {
            4 => 0,
            _ if i % 2 == 0 => 1,
            _ => 2,
        };
        let epb = EnhancedPacketBlock {
            interface_id,
            timestamp: Duration::from_secs(i as u64),
            original_len: ip.len() as u32,
            data: ip.to_vec().into(),
            options: vec![],
        };
        w.write_pcapng_block(epb).unwrap();
    }
    w.into_inner()
}

#[test]
fn pcapng_with_raw_ip_frames_replays_like_ethernet() {
    let c = compat(None);
    let (snap, _) = replay::build_snapshot(&c, &bindings(), "tap-routed", DEFAULT_SERVER_MAC);
    for name in [
        "dhcpv4/dhclient.pcap",
        "ipv6/rdisc6.pcap",
        "ipv6/dhclient6-info-request.pcap",
    ] {
        let cap = replay::read_capture(&as_raw_ip_pcapng(name)[..]).unwrap();
        assert!(cap.damaged.is_none());
        assert!(cap.frames.iter().all(|f| f.link == LinkType::RawIp));
        let raw = replay::replay_all(&c, &snap, &cap.frames);
        let eth = replay::replay_all(&c, &snap, &frames(name));
        assert_eq!(raw.len(), eth.len());
        for (a, b) in raw.iter().zip(&eth) {
            assert_eq!(a.classified, b.classified);
            // No source MAC in a raw IP frame: the replies' kinds agree.
            let kind = |r: &Replayed| r.reply().map(|r| r.kind);
            assert_eq!(kind(a), kind(b), "{name} #{}", a.number);
        }
    }
}

#[test]
fn frames_the_rules_would_not_queue_are_said_so() {
    let mut f = frames("dhcpv4/udhcpc.pcap").remove(0);
    // UDP destination port 67 → 68: not queued.
    let at = 14 + 20 + 3;
    f.data[at] = 68;
    match replay::classify(&f) {
        Classified::NotQueued(why) => assert_eq!(why, "IPv4 UDP to port 68"),
        q => panic!("{q:?}"),
    }
    f.data[12] = 0x08;
    f.data[13] = 0x06; // ARP
    assert!(matches!(replay::classify(&f), Classified::NotQueued(_)));
}

// ---------------------------------------------------------------- the command

fn nfdhcpd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
}

fn replay_cmd(
    capture: &Path,
    tap: &str,
    out: Option<&Path>,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = nfdhcpd();
    cmd.arg("-c")
        .arg(compat_conf())
        .arg("replay")
        .arg("--datapath")
        .arg(bindings())
        .args(["--tap", tap])
        .args(extra)
        .arg(capture);
    if let Some(o) = out {
        cmd.arg("--out").arg(o);
    }
    cmd.output().expect("run nfdhcpd replay")
}

#[test]
fn the_command_prints_one_line_per_frame_and_exits_0() {
    let out = replay_cmd(&fixture("dhcpv4/dhclient.pcap"), "tap-routed", None, &[]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].contains("DHCPv4 DISCOVER") && lines[0].contains("DROP, reply DHCPv4 OFFER"));
    assert!(lines[6].contains("RELEASE") && lines[6].ends_with("consumed: Release"));
    // A tap without binding: ACCEPT, still exit 0.
    let out = replay_cmd(&fixture("dhcpv4/udhcpc.pcap"), "tap-none", None, &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ACCEPT, ignored: tap not served"));
}

#[test]
fn the_command_shows_routes_and_pref64_of_an_ra() {
    let out = nfdhcpd()
        .arg("-c")
        .arg(compat_conf())
        .arg("replay")
        .arg("--datapath")
        .arg(options_bindings())
        .args(["--tap", "tap-routed"])
        .arg(fixture("ipv6/rdisc6.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "prefix 2001:db8:1::/64 route 2001:db8:300::/48 route 2001:db8:400::/56 route 2001:db8:500::1/128 pref64 2001:db8:64::/96 1800s"
        ),
        "{text}"
    );
}

#[test]
fn unreadable_input_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"not a capture at all").unwrap();
    let out = replay_cmd(&junk, "tap-routed", None, &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = replay_cmd(&dir.path().join("missing.pcap"), "tap-routed", None, &[]);
    assert_eq!(out.status.code(), Some(1));
    // A truncated last record: the frames before it are replayed, exit 1.
    let whole = std::fs::read(fixture("dhcpv4/udhcpc.pcap")).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let out = replay_cmd(&cut, "tap-routed", None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn server_mac_option_sets_the_replies_source() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o.pcap");
    let out = replay_cmd(
        &fixture("ipv6/rdisc6.pcap"),
        "tap-routed",
        Some(&o),
        &["--server-mac", "02:00:00:00:00:fe"],
    );
    assert!(out.status.success(), "{out:?}");
    let cap = replay::read_capture(std::fs::File::open(&o).unwrap()).unwrap();
    assert_eq!(cap.frames.len(), 1);
    assert_eq!(cap.frames[0].link, LinkType::Ethernet);
    assert_eq!(
        cap.frames[0].src_mac(),
        Some("02:00:00:00:00:fe".parse().unwrap())
    );
}

/// tshark, or skip (panic when CI is set).
fn tshark() -> Option<PathBuf> {
    let found = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join("tshark"))
        .find(|p| p.is_file());
    if found.is_none() {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(!ci, "tshark missing (CI is set: .ci/setup installs it)");
        eprintln!("SKIP: tshark missing");
    }
    found
}

/// Every capture, replayed by the command with --out; tshark dissects each
/// reply as the expected message, with no malformed packet or error.
#[test]
fn tshark_dissects_every_reply_without_complaint() {
    let Some(tshark) = tshark() else { return };
    let dir = tempfile::tempdir().unwrap();
    // (capture, mode, bindings: compat unless "pd", "opts" or "v6only", reply types)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("dhcpv4/udhcpc.pcap", "", "", "dhcp:2,2,5"),
        ("dhcpv4/dhclient.pcap", "", "", "dhcp:2,2,5,5,5,5"),
        ("dhcpv4/dhcpcd.pcap", "", "", "dhcp:5,5,5"),
        ("dhcpv4/dhcpcd-v6only.pcap", "", "", "dhcp:2,5"),
        ("dhcpv4/dhcpcd-v6only.pcap", "", "v6only", "dhcp:2,5"),
        ("ipv6/kernel-rs.pcap", "", "", "icmpv6:134,134"),
        ("ipv6/rdisc6.pcap", "", "", "icmpv6:134"),
        ("ipv6/ndisc6.pcap", "", "", "icmpv6:136"),
        ("ipv6/dhclient6-info-request.pcap", "", "", "dhcpv6:7,7,7"),
        ("ipv6/dhclient6-solicit.pcap", "dhcpv6", "", "dhcpv6:2,2,2"),
        ("ipv6/dhcpcd6-solicit.pcap", "dhcpv6", "", "dhcpv6:2,2,2"),
        ("ipv6/dhclient6-pd.pcap", "", "pd", "dhcpv6:2,7,7,7,7"),
        ("ipv6/dhclient6-pd.pcap", "dhcpv6", "", "dhcpv6:2,7,7,7,7"),
        ("ipv6/dhcpcd6-pd-rapid.pcap", "", "pd", "dhcpv6:7"),
        ("ipv6/dhcpcd6-pd-rapid.pcap", "", "", "dhcpv6:7"),
        ("ipv6/kernel-rs.pcap", "", "opts", "icmpv6:134,134"),
        ("ipv6/rdisc6.pcap", "", "opts", "icmpv6:134"),
        (
            "ipv6/dhclient6-info-request.pcap",
            "",
            "opts",
            "dhcpv6:7,7,7",
        ),
    ];
    for (name, mode, datapath, want) in cases {
        let conf = if mode.is_empty() {
            compat_conf()
        } else {
            let text = std::fs::read_to_string(compat_conf())
                .unwrap()
                .replace("mode = auto", &format!("mode = {mode}"));
            let p = dir.path().join(format!("{mode}.conf"));
            std::fs::write(&p, text).unwrap();
            p
        };
        let o = dir.path().join("out.pcap");
        let out = nfdhcpd()
            .arg("-c")
            .arg(&conf)
            .arg("replay")
            .arg("--datapath")
            .arg(match *datapath {
                "pd" => pd_bindings(),
                "opts" => options_bindings(),
                "v6only" => v6only_bindings(),
                _ => bindings(),
            })
            .args(["--tap", "tap-routed", "--out"])
            .arg(&o)
            .arg(fixture(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let name = format!("{name} ({mode} {datapath})");
        let v = Command::new(&tshark)
            .arg("-r")
            .arg(&o)
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
            ])
            .arg("-V")
            .output()
            .unwrap();
        assert!(v.status.success(), "{name}: tshark {v:?}");
        let text = String::from_utf8_lossy(&v.stdout);
        assert!(!text.contains("Malformed"), "{name}: {text}");
        assert!(!text.contains("Expert Info (Error"), "{name}: {text}");
        assert!(!text.contains("[incorrect"), "{name}: bad checksum: {text}");
        let (proto, types) = want.split_once(':').unwrap();
        let field = match proto {
            "dhcp" => "dhcp.option.dhcp",
            "dhcpv6" => "dhcpv6.msgtype",
            _ => "icmpv6.type",
        };
        let f = Command::new(&tshark)
            .arg("-r")
            .arg(&o)
            .args(["-T", "fields", "-e", field])
            .output()
            .unwrap();
        let got: Vec<String> = String::from_utf8_lossy(&f.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let want: Vec<&str> = types.split(',').collect();
        assert_eq!(got, want, "{name}");
    }
}
