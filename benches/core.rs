//! Core benchmarks (criterion, `cargo bench --bench core`): the pure hot
//! path on the bytes of real client requests, and the binding table.
//!
//! Every request is replayed through `respond::decide` exactly as a queue
//! worker calls it (snapshot lookup + protocol handler + reply frame
//! built), as the compat binding `tap-routed` with the compat config.
//! Throughput is reported per element, i.e. replies/s on one core.
//! Under `cargo test --all-targets` criterion runs each bench once.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use nfdhcpd::binding::file;
use nfdhcpd::binding::store::Link;
use nfdhcpd::config::{self, Config, Format, Ipv6Mode};
use nfdhcpd::datapath::respond::{self, Meta};
use nfdhcpd::datapath::tap::{Snapshot, Store};
use nfdhcpd::datapath::tracers::Tracers;
use nfdhcpd::domain::Protocol;
use nfdhcpd::mac::MacAddr;
use nfdhcpd::proto::{Outcome, ReplyKind};

/// Ethernet header length: NFQUEUE delivers the IP packet without it.
const ETH_HDR_LEN: usize = 14;
/// The tap's ifindex in the benches' snapshots.
const TAP_IFINDEX: u32 = 7;
/// The source MAC of every captured request (compat binding tap-routed).
const GUEST_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x10]);
/// Number of bindings in the large-table benches.
const MANY: usize = 10_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The IP packets of a capture, as NFQUEUE delivers them.
fn packets(rel: &str) -> Vec<Vec<u8>> {
    let path = fixtures().join(rel);
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut r = pcap_file::pcap::PcapReader::new(f).expect("a pcap file");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        out.push(p.expect("a whole pcap record").data[ETH_HDR_LEN..].to_vec());
    }
    out
}

/// The compat config (tests/fixtures/compat/nfdhcpd.conf), in `mode`, no rate limit.
fn compat_config(mode: Ipv6Mode) -> Config {
    let text =
        std::fs::read_to_string(fixtures().join("compat/nfdhcpd.conf")).expect("compat config");
    let mut c = config::parse(&text, Format::Ini, "nfdhcpd.conf")
        .expect("the compat config is valid")
        .config;
    c.ipv6.mode = mode;
    c.limits.rate = 0;
    c
}

/// The compat binding tap-routed, active on ifindex 7.
fn compat_snapshot() -> Snapshot {
    let text = std::fs::read_to_string(fixtures().join("compat/bindings/tap-routed"))
        .expect("compat binding");
    let mut s = Store::new();
    s.set_file("tap-routed", file::parse("tap-routed", &text, true));
    s.link_up(
        "tap-routed",
        Link {
            ifindex: TAP_IFINDEX,
            mac: Some(MacAddr([0xfe, 0, 0, 0, 0, 1])),
        },
    );
    s.snapshot(&Snapshot::default()).0
}

fn meta() -> Meta {
    Meta {
        indev: TAP_IFINDEX,
        physindev: 0,
        src_mac: Some(GUEST_MAC),
    }
}

/// The first packet of capture `rel` that `decide` answers with `kind`.
fn request(cfg: &Config, snap: &Snapshot, p: Protocol, rel: &str, kind: ReplyKind) -> Vec<u8> {
    packets(rel)
        .into_iter()
        .find(|pkt| {
            matches!(
                respond::decide(cfg, snap, p, &meta(), pkt, 1).outcome(),
                Some(Outcome::Reply(r)) if r.kind == kind
            )
        })
        .unwrap_or_else(|| panic!("{rel}: no request answered with {kind:?}"))
}

fn replies(c: &mut Criterion) {
    let snap = compat_snapshot();
    let slaac = compat_config(Ipv6Mode::SlaacDhcpv6);
    let stateful = compat_config(Ipv6Mode::Dhcpv6);
    let cases = [
        (
            "dhcpv4 DISCOVER->OFFER (udhcpc)",
            &slaac,
            Protocol::Dhcpv4,
            "dhcpv4/udhcpc.pcap",
            ReplyKind::Offer,
        ),
        (
            "dhcpv4 REQUEST->ACK (udhcpc)",
            &slaac,
            Protocol::Dhcpv4,
            "dhcpv4/udhcpc.pcap",
            ReplyKind::Ack,
        ),
        (
            "dhcpv4 DISCOVER->OFFER (dhclient)",
            &slaac,
            Protocol::Dhcpv4,
            "dhcpv4/dhclient.pcap",
            ReplyKind::Offer,
        ),
        (
            "dhcpv4 REQUEST->ACK (dhclient)",
            &slaac,
            Protocol::Dhcpv4,
            "dhcpv4/dhclient.pcap",
            ReplyKind::Ack,
        ),
        (
            "RS->RA (kernel)",
            &slaac,
            Protocol::RouterSolicit,
            "ipv6/kernel-rs.pcap",
            ReplyKind::RouterAdvert,
        ),
        (
            "NS->NA (ndisc6)",
            &slaac,
            Protocol::NeighbourSolicit,
            "ipv6/ndisc6.pcap",
            ReplyKind::NeighbourAdvert,
        ),
        (
            "dhcpv6 Information-Request->Reply (dhclient)",
            &slaac,
            Protocol::Dhcpv6,
            "ipv6/dhclient6-info-request.pcap",
            ReplyKind::Dhcpv6Reply,
        ),
        (
            "dhcpv6 Solicit->Advertise (dhclient)",
            &stateful,
            Protocol::Dhcpv6,
            "ipv6/dhclient6-solicit.pcap",
            ReplyKind::Advertise,
        ),
    ];
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(1));
    for (name, cfg, p, rel, kind) in cases {
        let pkt = request(cfg, &snap, p, rel, kind);
        g.bench_function(name, |b| {
            b.iter(|| respond::decide(cfg, &snap, p, &meta(), black_box(&pkt), 1))
        });
    }
    // What a queue worker adds per packet for `nfdhcpd trace` while no
    // tracer is attached: one load (compare with the first case).
    let tracers = Tracers::default();
    let (name, cfg, p, rel, kind) = cases[0];
    let pkt = request(cfg, &snap, p, rel, kind);
    g.bench_function(format!("{name} + trace check, no tracer"), |b| {
        b.iter(|| {
            let d = respond::decide(cfg, &snap, p, &meta(), black_box(&pkt), 1);
            let traced = black_box(&tracers).attached() && tracers.select(d.ifindex(), p).is_some();
            (d, traced)
        })
    });
    g.finish();
}

/// Binding file text for VM `i` (distinct tap, MAC, IPv4 and IPv6 addresses).
fn binding_text(i: usize) -> String {
    let (hi, lo) = (i / 256, i % 256);
    format!(
        "INDEV=tap{i}\nIP=10.{hi}.{lo}.10\nMAC=aa:00:00:00:{hi:02x}:{lo:02x}\nHOSTNAME=vm{i}\n\
         TAGS=\"nfdhcpd ip-less-routed\"\nGATEWAY=10.{hi}.{lo}.1\nSUBNET=10.{hi}.{lo}.0/24\n\
         GATEWAY6=2001:db8:{i:x}::1\nSUBNET6=2001:db8:{i:x}::/64\nMTU=1450\n"
    )
}

/// A store holding `n` valid bindings, each with its tap up.
fn big_store(n: usize) -> Store {
    let mut s = Store::new();
    for i in 0..n {
        let tap = format!("tap{i}");
        s.set_file(&tap, file::parse(&tap, &binding_text(i), true));
        s.link_up(
            &tap,
            Link {
                ifindex: 100 + i as u32,
                mac: Some(MacAddr([0xfe, 0, 0, 0, (i >> 8) as u8, i as u8])),
            },
        );
    }
    s
}

fn bindings(c: &mut Criterion) {
    let text = std::fs::read_to_string(fixtures().join("compat/bindings/tap-routed"))
        .expect("compat binding");
    let mut g = c.benchmark_group("bindings");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse tap-routed", |b| {
        b.iter(|| file::parse("tap-routed", black_box(&text), true))
    });
    g.throughput(Throughput::Elements(MANY as u64));
    g.sample_size(20);
    let mut store = big_store(MANY);
    g.bench_function("snapshot of 10000 bindings", |b| {
        b.iter(|| store.snapshot(&Snapshot::default()))
    });
    let (snap, _) = store.snapshot(&Snapshot::default());
    g.throughput(Throughput::Elements(1));
    g.sample_size(100);
    let mut i = 0u32;
    g.bench_function("lookup in 10000", |b| {
        b.iter(|| {
            i = (i + 7919) % MANY as u32;
            black_box(snap.lookup(100 + i)).is_some()
        })
    });
    g.finish();
}

criterion_group!(benches, replies, bindings);
criterion_main!(benches);
