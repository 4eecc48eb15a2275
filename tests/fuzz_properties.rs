//! Property tests of the responder, in the ordinary suite (a few seconds):
//! random bytes and mutations of the captured requests through
//! `respond::decide` for every protocol — no panic, a decision every time,
//! every reply re-parses (the same checks as the fuzz targets, see
//! `nfdhcpd::fuzz`). And the fuzzers' regression inputs, replayed.

use std::path::PathBuf;

use proptest::prelude::*;

use dhcproto::Decodable;
use nfdhcpd::datapath::respond::{self, Meta};
use nfdhcpd::datapath::tap::Snapshot;
use nfdhcpd::domain::Protocol;
use nfdhcpd::ops::replay::{self, Classified};
use nfdhcpd::proto::dhcpv6::{self, msg, opt};
use nfdhcpd::proto::{frame, DropReason, Outcome};

/// The clock the property tests pass to `decide`.
static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every captured request of tests/fixtures: (protocol, IP packet).
fn requests() -> &'static [(Protocol, Vec<u8>)] {
    static R: std::sync::OnceLock<Vec<(Protocol, Vec<u8>)>> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let mut out = Vec::new();
        for dir in ["dhcpv4", "ipv6"] {
            let mut paths: Vec<_> = std::fs::read_dir(root().join("tests/fixtures").join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
                .collect();
            paths.sort();
            for p in paths {
                let cap = replay::read_capture(std::fs::File::open(&p).unwrap()).unwrap();
                for f in cap.frames {
                    if let Classified::Queued(proto) = replay::classify(&f) {
                        out.push((proto, replay::ip_packet(&f).unwrap().to_vec()));
                    }
                }
            }
        }
        assert!(out.len() > 20, "the fixtures hold requests");
        out
    })
}

/// Applies byte edits to `bytes` (positions taken modulo its length).
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    if !bytes.is_empty() {
        for &(at, v) in edits {
            let n = bytes.len();
            bytes[at % n] = v;
        }
    }
    if let Some(c) = cut {
        bytes.truncate(c);
    }
    bytes
}

/// Mutates the transport payload of `packet` and re-frames it with correct
/// checksums, so that the mutation reaches the protocol parsers.
fn mutate_inside(
    proto: Protocol,
    packet: &[u8],
    edits: &[(usize, u8)],
    cut: Option<usize>,
) -> Vec<u8> {
    let m = nfdhcpd::mac::MacAddr([2, 0, 0, 0, 0, 1]);
    let framed = match proto {
        Protocol::Dhcpv4 => frame::parse_ipv4_udp(packet).ok().map(|u| {
            frame::emit_ipv4_udp(
                m,
                m,
                u.src,
                u.dst,
                u.src_port,
                u.dst_port,
                &mutate(u.payload.to_vec(), edits, cut),
            )
            .expect("a mutated request is no longer than the captured one")
        }),
        Protocol::Dhcpv6 => frame::parse_ipv6_udp(packet).ok().map(|u| {
            frame::emit_ipv6_udp(
                m,
                m,
                u.ip.src,
                u.ip.dst,
                u.src_port,
                u.dst_port,
                &mutate(u.payload.to_vec(), edits, cut),
            )
            .expect("a mutated request is no longer than the captured one")
        }),
        Protocol::RouterSolicit | Protocol::NeighbourSolicit => {
            frame::parse_ipv6_icmp(packet).ok().map(|i| {
                // Keep the ICMPv6 type and code: mutate what follows.
                let mut msg = i.payload.to_vec();
                let body = mutate(msg.split_off(4.min(msg.len())), edits, cut);
                msg.extend(body);
                frame::emit_ipv6_icmp(m, m, i.src, i.dst, i.hop_limit, &msg)
                    .expect("a mutated request is no longer than the captured one")
            })
        }
    };
    let framed = framed.expect("a captured request parses");
    frame::ip_of_frame(&framed).unwrap().to_vec()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1500,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_get_a_decision(data in proptest::collection::vec(any::<u8>(), 0..700)) {
        nfdhcpd::fuzz::respond(&data);
    }

    #[test]
    fn mutated_requests_get_a_decision_and_replies_reparse(
        which in any::<prop::sample::Index>(),
        sel in any::<u8>(),
        other_protocol in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::weighted(0.2, 0usize..600),
    ) {
        let (proto, packet) = which.get(requests());
        // Raw mutations (mostly refused at the IP layer) …
        let raw = mutate(packet.clone(), &edits, cut);
        nfdhcpd::fuzz::respond_with(*proto, sel, &raw);
        // … and mutations inside the payload, re-framed with good checksums.
        let inside = mutate_inside(*proto, packet, &edits, cut);
        nfdhcpd::fuzz::respond_with(*proto, sel, &inside);
        // The same bytes queued as another protocol.
        nfdhcpd::fuzz::respond_with(*other_protocol.get(&Protocol::ALL), sel, &inside);
    }

    #[test]
    fn binding_and_config_text_never_panics(text in "[A-Za-z0-9_=#\"' .:/,\\[\\]\n-]{0,300}") {
        nfdhcpd::fuzz::binding_file(text.as_bytes());
        nfdhcpd::fuzz::config(text.as_bytes());
    }
}

/// DHCPv6 client messages, any type a client sends.
const DHCPV6_TYPES: [u8; 8] = [
    msg::SOLICIT,
    msg::REQUEST,
    msg::CONFIRM,
    msg::RENEW,
    msg::REBIND,
    msg::RELEASE,
    msg::DECLINE,
    msg::INFORMATION_REQUEST,
];
/// Largest DHCPv6 message an IPv6 packet carries: 65,535 less the UDP header.
const DHCPV6_MAX: usize = frame::MAX_LEN_FIELD - frame::UDP_HDR_LEN;
/// The guest of tests/fixtures/compat/bindings/tap-routed.
const VM_MAC: nfdhcpd::mac::MacAddr = nfdhcpd::mac::MacAddr([0xaa, 0, 0, 0, 0, 0x10]);

/// One IA option: kind (IA_NA, IA_TA, IA_PD), IAID, and for an IA_NA its
/// addresses, each picked by a byte: the binding's, on-link, or off-link;
/// for an IA_PD its prefixes: one of the binding's, another, or a hint.
#[derive(Debug, Clone)]
struct IaSpec {
    kind: u8,
    iaid: u32,
    addrs: Vec<u8>,
}

/// A generated client message, before encoding.
#[derive(Debug, Clone)]
struct Dhcpv6Spec {
    msg_type: u8,
    xid: [u8; 3],
    duid: Vec<u8>,
    oro: Option<Vec<u16>>,
    rapid_commit: bool,
    ias: Vec<IaSpec>,
    /// An unknown option of this many bytes, after the IAs.
    filler: Option<usize>,
}

fn push_opt(m: &mut Vec<u8>, code: u16, data: &[u8]) -> bool {
    let Ok(len) = u16::try_from(data.len()) else {
        return false;
    };
    if m.len() + 4 + data.len() > DHCPV6_MAX {
        return false;
    }
    m.extend_from_slice(&code.to_be_bytes());
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(data);
    true
}

impl Dhcpv6Spec {
    /// The message: identifiers the type needs (RFC 8415 §16), then the
    /// IAs and the filler while they fit 65,527 bytes.
    fn encode(&self) -> Vec<u8> {
        let mut m = vec![self.msg_type, self.xid[0], self.xid[1], self.xid[2]];
        push_opt(&mut m, opt::CLIENTID, &self.duid);
        if matches!(
            self.msg_type,
            msg::REQUEST | msg::RENEW | msg::RELEASE | msg::DECLINE
        ) {
            let sid = dhcpv6::server_duid(replay::DEFAULT_SERVER_MAC);
            push_opt(&mut m, opt::SERVERID, &sid);
        }
        if let Some(oro) = &self.oro {
            let codes: Vec<u8> = oro.iter().flat_map(|c| c.to_be_bytes()).collect();
            push_opt(&mut m, opt::ORO, &codes);
        }
        if self.rapid_commit {
            push_opt(&mut m, opt::RAPID_COMMIT, &[]);
        }
        for ia in &self.ias {
            let mut d = ia.iaid.to_be_bytes().to_vec();
            let code = match ia.kind % 3 {
                0 => opt::IA_NA,
                1 => opt::IA_TA,
                _ => opt::IA_PD,
            };
            if code != opt::IA_TA {
                // T1 and T2.
                d.extend_from_slice(&[0; 8]);
            }
            for (i, pick) in ia.addrs.iter().enumerate().filter(|_| code == opt::IA_NA) {
                let i = i as u16;
                let a: std::net::Ipv6Addr = match pick % 3 {
                    0 => "2001:db8:1::a800:ff:fe00:10".parse().unwrap(),
                    1 => std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 7, i),
                    _ => std::net::Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 7, i),
                };
                let mut ad = a.octets().to_vec();
                ad.extend_from_slice(&[0; 8]);
                push_opt(&mut d, opt::IAADDR, &ad);
            }
            for (i, pick) in ia.addrs.iter().enumerate().filter(|_| code == opt::IA_PD) {
                let i = i as u16;
                let (p, len) = match pick % 3 {
                    0 => (
                        std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0),
                        56,
                    ),
                    1 => (
                        std::net::Ipv6Addr::new(0x2001, 0xdb8, 0xffff, i, 0, 0, 0, 0),
                        64,
                    ),
                    _ => (std::net::Ipv6Addr::UNSPECIFIED, 0),
                };
                let mut pd = vec![0; 8];
                pd.push(len);
                pd.extend_from_slice(&p.octets());
                push_opt(&mut d, opt::IAPREFIX, &pd);
            }
            if !push_opt(&mut m, code, &d) {
                break;
            }
        }
        if let Some(n) = self.filler {
            let room = DHCPV6_MAX.saturating_sub(m.len() + 4);
            push_opt(&mut m, 0xfff0, &vec![0x5a; n.min(room)]);
        }
        m
    }
}

fn dhcpv6_spec() -> impl Strategy<Value = Dhcpv6Spec> {
    let ia = (
        any::<u8>(),
        any::<u32>(),
        prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..3),
            1 => proptest::collection::vec(any::<u8>(), 0..120),
        ],
    )
        .prop_map(|(kind, iaid, addrs)| IaSpec { kind, iaid, addrs });
    (
        prop::sample::select(&DHCPV6_TYPES[..]),
        any::<[u8; 3]>(),
        // Any DUID type and body (RFC 8415 §11: opaque), of any legal length.
        proptest::collection::vec(any::<u8>(), 3..=130),
        proptest::option::of(proptest::collection::vec(
            prop_oneof![Just(23u16), Just(24), any::<u16>()],
            0..3000,
        )),
        any::<bool>(),
        prop_oneof![
            1 => proptest::collection::vec(ia.clone(), 0..4),
            2 => proptest::collection::vec(ia, 0..700),
        ],
        proptest::option::weighted(0.3, 0usize..70_000),
    )
        .prop_map(
            |(msg_type, xid, duid, oro, rapid_commit, ias, filler)| Dhcpv6Spec {
                msg_type,
                xid,
                duid,
                oro,
                rapid_commit,
                ias,
                filler,
            },
        )
}

/// A config, with the tap-routed binding served at each link MTU.
type Dhcpv6Setup = (nfdhcpd::config::Config, Vec<(u16, Snapshot)>);

/// The compat config in mode dhcpv6, plain and with DNS options too big
/// for any link; and the tap-routed binding at several MTUs, delegating
/// the most prefixes a binding may.
fn dhcpv6_setups() -> &'static [Dhcpv6Setup] {
    static S: std::sync::OnceLock<Vec<Dhcpv6Setup>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let compat = root().join("tests/fixtures/compat");
        let mut c = replay::load_config(&compat.join("nfdhcpd.conf")).unwrap();
        c.ipv6.mode = nfdhcpd::config::Ipv6Mode::Dhcpv6;
        let mut big = c.clone();
        big.ipv6.nameservers = (0..200)
            .map(|i| std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, i))
            .collect();
        big.ipv6.domains = (0..40).map(|i| format!("d{i}.vm.example.org")).collect();
        big.ipv6.ntp = (0..200)
            .map(|i| std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x123, 0, 0, 0, 0, i))
            .collect();
        let mut text = std::fs::read_to_string(compat.join("bindings/tap-routed")).unwrap();
        let prefixes: Vec<String> = (0..nfdhcpd::binding::file::delegated::MAX_PREFIXES)
            .map(|i| format!("2001:db8:{:x}00::/56", i + 1))
            .collect();
        text.push_str(&format!("PREFIX6_DELEGATED=\"{}\"\n", prefixes.join(" ")));
        [c, big]
            .into_iter()
            .map(|c| {
                let snaps = [None, Some(1280u16), Some(1400), Some(9000)]
                    .into_iter()
                    .map(|mtu| {
                        let dir = tempfile::tempdir().unwrap();
                        let line = mtu.map_or(String::new(), |m| format!("MTU={m}\n"));
                        std::fs::write(dir.path().join("tap-routed"), format!("{text}{line}"))
                            .unwrap();
                        let (snap, problem) = replay::build_snapshot(
                            &c,
                            dir.path(),
                            "tap-routed",
                            replay::DEFAULT_SERVER_MAC,
                        );
                        assert_eq!(problem, None);
                        (mtu.unwrap_or(1500), snap)
                    })
                    .collect();
                (c, snaps)
            })
            .collect()
    })
}

fn dhcpv6_config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(dhcpv6_config())]

    /// Issue #15, finding 4: whatever a guest sends (hundreds of IAs,
    /// thousands of addresses, options up to 64 KiB), the DHCPv6 reply
    /// fits the link MTU, answers at most MAX_IAS_PER_MESSAGE IAs, and its
    /// IPv6 payload length and UDP length are the real ones.
    #[test]
    fn dhcpv6_replies_stay_within_the_link_mtu(spec in dhcpv6_spec(), setup in any::<prop::sample::Index>()) {
        let msg = spec.encode();
        prop_assert!(msg.len() <= DHCPV6_MAX);
        let src = "fe80::a800:ff:fe00:10".parse().unwrap();
        let dst = "ff02::1:2".parse().unwrap();
        let f = frame::emit_ipv6_udp(VM_MAC, VM_MAC, src, dst, 546, 547, &msg).unwrap();
        let packet = frame::ip_of_frame(&f).unwrap();
        let all: Vec<_> = dhcpv6_setups()
            .iter()
            .flat_map(|(c, snaps)| snaps.iter().map(move |(mtu, s)| (c, *mtu, s)))
            .collect();
        let (c, mtu, snap) = setup.get(&all);
        let meta = Meta { indev: replay::TAP_IFINDEX, physindev: 0, src_mac: Some(VM_MAC) };
        // A second apart each: the shared snapshot's rate limit never bites.
        let now = NOW.fetch_add(1_000_000_000, std::sync::atomic::Ordering::Relaxed);
        let d = respond::decide(c, snap, Protocol::Dhcpv6, &meta, packet, now);
        let r = match d.outcome().cloned() {
            Some(Outcome::Reply(r)) => r,
            // Confirm with no address among its first IAs (RFC 8415 §18.3.3).
            Some(Outcome::Dropped(DropReason::Invalid)) if spec.msg_type == msg::CONFIRM => return Ok(()),
            other => return Err(TestCaseError::fail(format!("not answered: {other:?}"))),
        };
        let ip_len = r.frame.len() - frame::ETH_HDR_LEN;
        prop_assert!(ip_len <= usize::from(*mtu), "{} bytes over MTU {}", ip_len, mtu);
        let be16 = |at: usize| usize::from(u16::from_be_bytes([r.frame[at], r.frame[at + 1]]));
        let udp_at = frame::ETH_HDR_LEN + frame::IPV6_HDR_LEN;
        prop_assert_eq!(be16(frame::ETH_HDR_LEN + 4), ip_len - frame::IPV6_HDR_LEN);
        prop_assert_eq!(be16(udp_at + 4), ip_len - frame::IPV6_HDR_LEN);
        nfdhcpd::fuzz::verify_reply(&r, replay::DEFAULT_SERVER_MAC)
            .map_err(TestCaseError::fail)?;
        let u = frame::parse_ipv6_udp(frame::ip_of_frame(&r.frame).unwrap()).unwrap();
        let m = dhcproto::v6::Message::decode(&mut dhcproto::Decoder::new(u.payload)).unwrap();
        let ias = m
            .opts()
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    dhcproto::v6::DhcpOption::IANA(_)
                        | dhcproto::v6::DhcpOption::IATA(_)
                        | dhcproto::v6::DhcpOption::IAPD(_)
                )
            })
            .count();
        prop_assert!(ias <= dhcpv6::MAX_IAS_PER_MESSAGE);
    }
}

/// An RA's options by type: (type, length in bytes), in order.
fn ra_options(ip: &[u8]) -> Vec<(u8, usize)> {
    let icmp = frame::parse_ipv6_icmp(ip).unwrap();
    let mut out = Vec::new();
    let mut o = &icmp.payload[nfdhcpd::proto::ra::ra_field::OPTIONS..];
    while let [ty, len, ..] = *o {
        let n = usize::from(len) * nfdhcpd::proto::ndp::OPT_UNIT;
        out.push((ty, n));
        o = &o[n..];
    }
    out
}

/// A binding with `routes` routes (at most MAX_ROUTES) and PREF64 at
/// `mtu`, and that many DNS servers and search domains of its own unless
/// `per_vm` is `None`.
fn ra_snapshot(
    c: &nfdhcpd::config::Config,
    mtu: Option<u16>,
    routes: usize,
    per_vm: Option<(usize, usize)>,
) -> Snapshot {
    let compat = root().join("tests/fixtures/compat");
    let mut text = std::fs::read_to_string(compat.join("bindings/tap-routed")).unwrap();
    let r: Vec<String> = (0..routes)
        .map(|i| format!("2001:db8:{:x}::{}/{}", 0x1000 + i, i % 2, 48 + 80 * (i % 2)))
        .collect();
    text.push_str(&format!(
        "ROUTES6=\"{}\"\nPREF64=2001:db8:64::/96\n",
        r.join(", ")
    ));
    if let Some(m) = mtu {
        text.push_str(&format!("MTU={m}\n"));
    }
    if let Some((servers, domains)) = per_vm {
        let s: Vec<String> = (0..servers)
            .map(|i| format!("2001:db8:5300::{i:x}"))
            .collect();
        let d: Vec<String> = (0..domains)
            .map(|i| format!("{}.vm{i}.example", "x".repeat(60)))
            .collect();
        // An empty list is `none` (an empty value would be the config's).
        let list = |l: Vec<String>| {
            if l.is_empty() {
                "none".to_string()
            } else {
                l.join(" ")
            }
        };
        text.push_str(&format!(
            "NAMESERVERS6=\"{}\"\nDOMAINS=\"{}\"\n",
            list(s),
            list(d)
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tap-routed"), text).unwrap();
    let (snap, problem) =
        replay::build_snapshot(c, dir.path(), "tap-routed", replay::DEFAULT_SERVER_MAC);
    assert_eq!(problem, None);
    snap
}

proptest! {
    #![proptest_config(dhcpv6_config())]

    /// Whatever the routes, DNS servers and search domains (the config's
    /// or the binding's), an RA fits the link MTU, and what it leaves out
    /// goes in order: search domains, then routes, then DNS servers, then
    /// PREF64 (proto/ra/fit.rs).
    #[test]
    fn router_adverts_stay_within_the_link_mtu(
        mtu in prop_oneof![Just(None), (1280u16..=9000).prop_map(Some)],
        routes in 0..=nfdhcpd::binding::file::routes6::MAX_ROUTES,
        servers in 0u16..=200,
        domains in 0usize..=80,
        label in 1usize..=63,
        per_vm in proptest::option::of((0usize..=8, 0usize..=8)),
    ) {
        let mut c = replay::load_config(&root().join("tests/fixtures/compat/nfdhcpd.conf")).unwrap();
        c.ipv6.nameservers = (0..servers).map(|i| std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, i)).collect();
        c.ipv6.domains = (0..domains).map(|i| format!("{}.d{i}.example", "y".repeat(label))).collect();
        let snap = ra_snapshot(&c, mtu, routes, per_vm);
        let (given_servers, given_domains) = per_vm.unwrap_or((usize::from(servers), domains));
        let rs = requests().iter().find(|(p, _)| *p == Protocol::RouterSolicit).unwrap();
        let meta = Meta { indev: replay::TAP_IFINDEX, physindev: 0, src_mac: Some(VM_MAC) };
        let now = NOW.fetch_add(1_000_000_000, std::sync::atomic::Ordering::Relaxed);
        let d = respond::decide(&c, &snap, Protocol::RouterSolicit, &meta, &rs.1, now);
        let Some(Outcome::Reply(r)) = d.outcome().cloned() else {
            return Err(TestCaseError::fail(format!("no RA: {d:?}")));
        };
        nfdhcpd::fuzz::verify_reply(&r, replay::DEFAULT_SERVER_MAC).map_err(TestCaseError::fail)?;
        let limit = usize::from(mtu.unwrap_or(1500).max(1280));
        let ip = frame::ip_of_frame(&r.frame).unwrap();
        prop_assert!(ip.len() <= limit, "{} bytes over {}", ip.len(), limit);
        let opts = ra_options(ip);
        let count = |t: u8| opts.iter().filter(|(ty, _)| *ty == t).count();
        let rdnss = opts.iter().find(|(t, _)| *t == 25).map_or(0, |(_, n)| (n - 8) / 16);
        let (sent_routes, dnssl, pref64) = (count(24), count(31) > 0, count(38) > 0);
        prop_assert_eq!(count(3), 1, "the prefix always stays");
        // Something of a kind went only when all of the kinds before it did.
        if sent_routes < routes {
            prop_assert!(!dnssl);
        }
        if rdnss < given_servers.min(127) {
            prop_assert!(!dnssl && sent_routes == 0);
        }
        if !pref64 {
            prop_assert!(!dnssl && sent_routes == 0 && rdnss == 0);
        }
        if given_domains == 0 {
            prop_assert!(!dnssl);
        }
    }
}

#[test]
fn every_captured_request_in_every_setup_gets_a_decision() {
    for (proto, packet) in requests() {
        for sel in 0..64 {
            nfdhcpd::fuzz::respond_with(*proto, sel, packet);
        }
    }
}

/// The inputs the fuzzers once crashed on (tests/fuzz/regressions/<target>/),
/// and the seeds of the respond corpus, through the fuzz target bodies.
#[test]
fn fuzz_regressions_and_seeds_pass() {
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 3] = [
        ("respond", nfdhcpd::fuzz::respond),
        ("binding_file", nfdhcpd::fuzz::binding_file),
        ("config", nfdhcpd::fuzz::config),
    ];
    let mut n = 0;
    for (name, target) in targets {
        for sub in ["regressions", "seeds"] {
            let dir = root().join("tests/fuzz").join(sub).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                if path.file_name().is_some_and(|f| f == "README.md") {
                    continue;
                }
                target(&std::fs::read(&path).unwrap());
                n += 1;
            }
        }
    }
    assert!(n > 0, "regression and seed inputs exist");
}
