//! Property tests of the responder, in the ordinary suite (a few seconds):
//! random bytes and mutations of the captured requests through
//! `respond::decide` for every protocol — no panic, a decision every time,
//! every reply re-parses (the same checks as the fuzz targets, see
//! `nfdhcpd::fuzz`). And the fuzzers' regression inputs, replayed.

use std::path::PathBuf;

use proptest::prelude::*;

use nfdhcpd::metrics::Protocol;
use nfdhcpd::proto::frame;
use nfdhcpd::replay::{self, Classified};

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
