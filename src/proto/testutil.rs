//! Test helpers for the IPv6 responders: the compat fixture binding and
//! config built by hand, packet builders, and the captured pcaps.

use std::net::Ipv6Addr;
use std::path::PathBuf;

use crate::binding::Binding;
use crate::config::{Config, Ipv6Mode};
use crate::mac::MacAddr;

use super::frame::{self, ETH_HDR_LEN};
use super::{Context, Outcome};

/// MAC of the guest in compat/bindings/tap-routed.
pub const GUEST_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x10]);
/// A made-up INDEV MAC (the host end of the tap).
pub const SERVER_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);
/// Another VM's MAC.
pub const OTHER_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x99]);

/// Parses an IPv6 address literal.
pub fn a6(s: &str) -> Ipv6Addr {
    s.parse().expect("test literal is an IPv6 address")
}

/// compat/bindings/tap-routed, by hand.
pub fn tap_routed() -> Binding {
    let mut b = Binding::new("tap-routed", GUEST_MAC);
    b.ip = Some("192.0.2.10".parse().unwrap());
    b.subnet = Some("192.0.2.0/24".parse().unwrap());
    b.gateway = Some("192.0.2.1".parse().unwrap());
    b.hostname = Some("web1".into());
    b.gateway6 = Some(a6("2001:db8:1::1"));
    b.subnet6 = Some("2001:db8:1::/64".parse().unwrap());
    b.eui64 = Some(a6("2001:db8:1::a800:ff:fe00:10"));
    b.tags = vec!["nfdhcpd".into(), "ip-less-routed".into()];
    b
}

/// compat/nfdhcpd.conf's [ipv6] values, in the given mode.
pub fn config(mode: Ipv6Mode) -> Config {
    let mut c = Config::default();
    c.ipv6.mode = mode;
    c.ipv6.ra_period = 300;
    c.ipv6.nameservers = vec![a6("2001:db8:53::1"), a6("2001:db8:53::2")];
    c.ipv6.domains = vec!["vm.example.org".into(), "example.org".into()];
    c
}

/// A context for `b` and `c`, the frame coming from the guest's MAC.
pub fn ctx<'a>(c: &'a Config, b: &'a Binding) -> Context<'a> {
    Context {
        config: c,
        binding: b,
        server_mac: SERVER_MAC,
        src_mac: Some(b.mac),
    }
}

/// An IPv6 packet (no Ethernet header) carrying ICMPv6 `msg`, checksum set.
pub fn icmp_packet(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, msg: &[u8]) -> Vec<u8> {
    let f = frame::emit_ipv6_icmp(GUEST_MAC, GUEST_MAC, src, dst, hop_limit, msg)
        .expect("a test packet is under 64 KiB");
    f[ETH_HDR_LEN..].to_vec()
}

/// The Ethernet frames of `tests/fixtures/ipv6/<name>`: (source MAC, IP packet).
pub fn fixture(name: &str) -> Vec<(MacAddr, Vec<u8>)> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/ipv6", name]
        .iter()
        .collect();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut reader = pcap_file::pcap::PcapReader::new(file).expect("a pcap file");
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.expect("a readable pcap record");
        let data = pkt.data.into_owned();
        let src = frame::eth_src(&data).expect("an Ethernet frame");
        out.push((src, data[ETH_HDR_LEN..].to_vec()));
    }
    assert!(!out.is_empty(), "{name} holds packets");
    out
}
/// An IPv6 packet (no Ethernet header) carrying UDP `payload` 546 → 547.
pub fn dhcpv6_packet(src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    let f = frame::emit_ipv6_udp(GUEST_MAC, GUEST_MAC, src, dst, 546, 547, payload)
        .expect("a test packet is under 64 KiB");
    f[ETH_HDR_LEN..].to_vec()
}

/// Checks that `handle` drops every proper prefix of `packet` (the
/// assertion names `label` and the length).
pub fn assert_prefixes_dropped(label: &str, packet: &[u8], handle: impl Fn(&[u8]) -> Outcome) {
    for n in 0..packet.len() {
        assert!(
            matches!(handle(&packet[..n]), Outcome::Dropped(_)),
            "{label}len {n}"
        );
    }
}

/// Hands `handle` `packet` with each byte in turn xor-ed with `mask`: it
/// must not panic, whatever it decides.
pub fn flip_each_byte(packet: &[u8], mask: u8, handle: impl Fn(&[u8]) -> Outcome) {
    for i in 0..packet.len() {
        let mut q = packet.to_vec();
        q[i] ^= mask;
        let _ = handle(&q);
    }
}
