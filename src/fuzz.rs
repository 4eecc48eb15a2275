//! The bodies of the fuzz targets (tests/fuzz/), shared with the property
//! tests and the regression test of the ordinary suite, so that all three
//! check the same invariants. Each function panics when an invariant fails:
//! that is what a fuzzer reports as a crash.
//!
//! Invariants: parsing untrusted bytes or text never panics; every queued
//! packet gets a [`Decision`] (DROP with an outcome for a served tap,
//! ACCEPT without one otherwise); every reply is a well-formed frame that
//! re-parses, its length fields equal to the real lengths ([`verify_reply`]).

use std::sync::OnceLock;

use dhcproto::{v4, v6, Decodable, Decoder};

use crate::binding::file;
use crate::binding::Binding;
use crate::config::{self, Config, Format, Ipv6Mode};
use crate::datapath::respond::{self, Decision, Meta};
use crate::datapath::tap::Snapshot;
use crate::domain::Protocol;
use crate::mac::MacAddr;
use crate::ops::replay;
use crate::proto::frame::{self, ip_of_frame};
use crate::proto::ndp::{self, ICMPV6_NEIGHBOUR_ADVERT, ICMPV6_ROUTER_ADVERT, ND_HOP_LIMIT};
use crate::proto::{dhcpv4, Outcome, Reply, ReplyKind};

/// The compat config (tests/fixtures/compat/nfdhcpd.conf).
const COMPAT_CONFIG: &str = include_str!("../tests/fixtures/compat/nfdhcpd.conf");
/// The valid compat bindings, by tap name, and tap-routed delegating two
/// prefixes with every per-VM IPv6 key (routes, PREF64, DNS, search list,
/// NTP; tests/fixtures/ipv6/options-bindings), every network boot key
/// (tests/fixtures/boot/boot-keys), with option 108's `V6ONLY_WAIT` and
/// option 121's `ROUTES` besides: the binding the first byte's two
/// binding bits pick.
const BINDINGS: [(&str, &str); 4] = [
    (
        "tap-routed",
        include_str!("../tests/fixtures/compat/bindings/tap-routed"),
    ),
    (
        "tap-bridged",
        include_str!("../tests/fixtures/compat/bindings/tap-bridged"),
    ),
    (
        "tap-private",
        include_str!("../tests/fixtures/compat/bindings/tap-private"),
    ),
    (
        "tap-routed",
        concat!(
            include_str!("../tests/fixtures/ipv6/options-bindings/tap-routed"),
            include_str!("../tests/fixtures/boot/boot-keys"),
            "V6ONLY_WAIT=1800\n",
            "ROUTES=\"198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254\"\n",
        ),
    ),
];
/// A MAC that is no binding's.
const STRANGER_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x99]);

/// The xid and chaddr fields of a DHCP message (RFC 2131 §2).
const DHCP_XID: std::ops::Range<usize> = 4..8;
const DHCP_CHADDR: std::ops::Range<usize> = 28..44;

/// Byte offset of the options in an RA and an NA (RFC 4861 §4.2, §4.4).
const RA_OPTIONS: usize = 16;
const NA_OPTIONS: usize = 24;

/// The compat config in each IPv6 mode and with `server_on_link`, PREF64,
/// NTP servers, a route lifetime, network boot defaults and a
/// V6ONLY_WAIT; the bindings (parsed once).
struct Fixture {
    configs: Vec<Config>,
    bindings: Vec<Binding>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let base = config::parse(COMPAT_CONFIG, Format::Ini, "compat")
            .expect("the compat config is valid")
            .config;
        let mut configs = Vec::new();
        for mode in [Ipv6Mode::SlaacDhcpv6, Ipv6Mode::Slaac, Ipv6Mode::Dhcpv6] {
            let mut c = base.clone();
            c.ipv6.mode = mode;
            configs.push(c);
        }
        let mut on_link = base.clone();
        on_link.dhcp.server_on_link = true;
        on_link.dhcp.server_ip = None;
        on_link.ipv6.pref64 = file::pref64::parse_prefix("2001:db8:64::/48").ok();
        on_link.ipv6.ntp = vec![std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x123, 0, 0, 0, 0, 1)];
        on_link.ipv6.route_lifetime = Some(600);
        // Raw options for every binding: unasked, asked for, and a value
        // split in two (RFC 3396) that a small maximum size leaves out.
        let long = format!("always 0x{}", "5a".repeat(300));
        on_link.options = config::options::Customs::parse([
            ("OPTION_224", "always string:rack 7"),
            ("OPTION_43", "0x0104c0000201"),
            ("OPTION_250", long.as_str()),
            ("OPTION6_4242", "always ip6:2001:db8::42"),
            ("OPTION6_17", long.as_str()),
        ])
        .expect("the fuzz options are valid");
        // Network boot defaults, under the fourth binding's own keys.
        on_link.dhcp.boot = Some(Box::new(file::boot::Boot {
            next_server: Some(std::net::Ipv4Addr::new(192, 0, 2, 6)),
            file_bios: Some("node/pxelinux.0".into()),
            file_http: Some("http://192.0.2.6/node.efi".into()),
            ..Default::default()
        }));
        on_link.ipv6.bootfile6 = Some("http://[2001:db8::6]/node.efi".into());
        on_link.dhcp.v6only_wait = 900;
        configs.push(on_link);
        let bindings = BINDINGS
            .iter()
            .map(|(tap, text)| {
                file::parse(tap, text, true)
                    .expect("the fuzz bindings are valid")
                    .binding
            })
            .collect();
        Fixture { configs, bindings }
    })
}

/// A snapshot serving `b` on the replay tap ifindex.
fn snapshot_of(b: &Binding) -> Snapshot {
    let mut snap = Snapshot::default();
    snap.by_ifindex.insert(
        replay::TAP_IFINDEX,
        crate::datapath::tap::Served {
            binding: std::sync::Arc::new(b.clone()),
            ifindex: replay::TAP_IFINDEX,
            server_mac: replay::DEFAULT_SERVER_MAC,
            limiter: Default::default(),
            seen: Default::default(),
        },
    );
    snap
}

/// Fuzz target `respond`: the first byte picks the protocol, the binding,
/// the config and the frame's source MAC; the rest is the queued packet.
pub fn respond(data: &[u8]) {
    let Some((&sel, packet)) = data.split_first() else {
        return;
    };
    let protocol = Protocol::ALL[usize::from(sel & 0b11)];
    respond_with(protocol, sel >> 2, packet);
}

/// Feeds `packet` as `protocol` with the setup `sel` picks, and checks the invariants.
pub fn respond_with(protocol: Protocol, sel: u8, packet: &[u8]) {
    let f = fixture();
    let b = &f.bindings[usize::from(sel & 0b11) % f.bindings.len()];
    let c = &f.configs[usize::from((sel >> 2) & 0b11)];
    let src_mac = match (sel >> 4) & 0b11 {
        0 | 1 => Some(b.mac),
        2 => Some(STRANGER_MAC),
        _ => None,
    };
    let snap = snapshot_of(b);
    let meta = Meta {
        indev: replay::TAP_IFINDEX,
        physindev: 0,
        src_mac,
    };
    // The one decide, rate limit included: a fresh snapshot's limiter allows.
    let d = respond::decide(c, &snap, protocol, &meta, packet, 1);
    check_decision(&d, true);
    if let (Protocol::Dhcpv4, Some(Outcome::Reply(r))) = (protocol, d.outcome()) {
        if let Err(e) = check_dhcpv4_answer(packet, r, b) {
            panic!("DHCPv4 reply does not answer its request: {e}: {r:?}");
        }
    }
    if let Some(Outcome::Reply(r)) = d.outcome() {
        check_ipv6_mtu(r, b);
    }
    // The same packet from a tap we do not serve is ACCEPTed untouched.
    let other = Meta {
        indev: replay::TAP_IFINDEX + 1,
        ..meta
    };
    check_decision(
        &respond::decide(c, &snap, protocol, &other, packet, 1),
        false,
    );
}

/// An IPv6 reply (RA, NA, DHCPv6) fits the binding's link MTU: its `MTU`,
/// else 1500, never below 1280.
fn check_ipv6_mtu(r: &Reply, b: &Binding) {
    if r.kind.protocol() == Protocol::Dhcpv4 {
        return;
    }
    let mtu = b.mtu.unwrap_or(1500).max(1280);
    let len = r.frame.len() - frame::ETH_HDR_LEN;
    assert!(
        len <= usize::from(mtu),
        "{:?}: {len} bytes over MTU {mtu}",
        r.kind
    );
}

/// Checks one decision: served or not as expected; a reply re-parses.
pub fn check_decision(d: &Decision, served: bool) {
    match (served, d) {
        (
            true,
            Decision::Served {
                outcome: Outcome::Reply(r),
                ..
            },
        ) => {
            if let Err(e) = verify_reply(r, replay::DEFAULT_SERVER_MAC) {
                panic!("reply does not re-parse: {e}: {r:?}");
            }
        }
        (true, Decision::Served { .. }) | (false, Decision::NotOurs { .. }) => {}
        other => panic!("unexpected decision (served {served}): {other:?}"),
    }
}

/// Checks that a reply frame re-parses as the message its kind says: the
/// IP/UDP/ICMPv6 layers with their checksums (frame.rs), DHCP payloads
/// with dhcproto, ND options with ndp.rs; Ethernet source `server_mac`.
pub fn verify_reply(r: &Reply, server_mac: MacAddr) -> Result<(), String> {
    if frame::eth_src(&r.frame) != Some(server_mac) {
        return Err("Ethernet source is not the server MAC".into());
    }
    let ip = ip_of_frame(&r.frame).ok_or("no IP packet")?;
    check_lengths(ip)?;
    match r.kind {
        ReplyKind::Offer | ReplyKind::Ack | ReplyKind::Nak => {
            let udp = frame::parse_ipv4_udp(ip).map_err(|e| format!("IPv4/UDP: {e}"))?;
            let m = v4::Message::decode(&mut Decoder::new(udp.payload))
                .map_err(|e| format!("DHCPv4: {e}"))?;
            let want = match r.kind {
                ReplyKind::Offer => v4::MessageType::Offer,
                ReplyKind::Ack => v4::MessageType::Ack,
                _ => v4::MessageType::Nak,
            };
            match m.opts().get(v4::OptionCode::MessageType) {
                Some(v4::DhcpOption::MessageType(t)) if *t == want => Ok(()),
                other => Err(format!("DHCPv4 message type {other:?}, want {want:?}")),
            }
        }
        ReplyKind::Advertise | ReplyKind::Dhcpv6Reply => {
            let udp = frame::parse_ipv6_udp(ip).map_err(|e| format!("IPv6/UDP: {e}"))?;
            let m = v6::Message::decode(&mut Decoder::new(udp.payload))
                .map_err(|e| format!("DHCPv6: {e}"))?;
            let want = match r.kind {
                ReplyKind::Advertise => v6::MessageType::Advertise,
                _ => v6::MessageType::Reply,
            };
            if m.msg_type() != want {
                return Err(format!("DHCPv6 type {:?}, want {want:?}", m.msg_type()));
            }
            Ok(())
        }
        ReplyKind::RouterAdvert => verify_nd(ip, ICMPV6_ROUTER_ADVERT, RA_OPTIONS),
        ReplyKind::NeighbourAdvert => verify_nd(ip, ICMPV6_NEIGHBOUR_ADVERT, NA_OPTIONS),
    }
}

/// A DHCPv4 reply answers its request: the same xid and chaddr (RFC 2131
/// §4.3.1 table 3), and an IP datagram no longer than the binding's link
/// MTU (1500 when unset), or than 576, which every client takes (RFC 2131 §2).
fn check_dhcpv4_answer(request: &[u8], reply: &Reply, b: &Binding) -> Result<(), String> {
    let req = frame::parse_ipv4_udp(request).map_err(|e| format!("request: {e}"))?;
    let ip = ip_of_frame(&reply.frame).ok_or("no IP packet")?;
    let rep = frame::parse_ipv4_udp(ip).map_err(|e| format!("IPv4/UDP: {e}"))?;
    for (name, range) in [("xid", DHCP_XID), ("chaddr", DHCP_CHADDR)] {
        if req.payload.get(range.clone()) != rep.payload.get(range) {
            return Err(format!("{name} is not the request's"));
        }
    }
    let mtu = b.mtu.unwrap_or(dhcpv4::DEFAULT_LINK_MTU);
    let limit = usize::from(mtu.max(dhcpv4::MIN_MESSAGE_SIZE));
    if ip.len() > limit {
        return Err(format!(
            "{} bytes of IP over the limit of {limit}",
            ip.len()
        ));
    }
    Ok(())
}

/// The IP length field and, for UDP, the UDP length are exactly the bytes
/// sent: nothing wrapped around or left over (the parsers accept a packet
/// longer than its length fields say).
fn check_lengths(ip: &[u8]) -> Result<(), String> {
    let be16 = |at: usize| {
        ip.get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| format!("no length field at {at}"))
    };
    let (ip_len, hdr, proto) = match ip.first().map(|b| b >> 4) {
        Some(4) => {
            let hdr = usize::from(ip[0] & 0x0f) * 4;
            (be16(2)?, hdr, ip.get(9).copied())
        }
        Some(6) => (
            frame::IPV6_HDR_LEN + be16(4)?,
            frame::IPV6_HDR_LEN,
            ip.get(6).copied(),
        ),
        v => return Err(format!("IP version {v:?}")),
    };
    if ip_len != ip.len() {
        return Err(format!(
            "IP length field {ip_len}, packet {} bytes",
            ip.len()
        ));
    }
    if proto == Some(frame::PROTO_UDP) && be16(hdr + 4)? != ip.len() - hdr {
        return Err(format!(
            "UDP length field {}, datagram {} bytes",
            be16(hdr + 4)?,
            ip.len() - hdr
        ));
    }
    Ok(())
}

fn verify_nd(ip: &[u8], ty: u8, options_at: usize) -> Result<(), String> {
    let i = frame::parse_ipv6_icmp(ip).map_err(|e| format!("IPv6/ICMPv6: {e}"))?;
    if i.hop_limit != ND_HOP_LIMIT {
        return Err(format!("hop limit {}", i.hop_limit));
    }
    if i.payload.first() != Some(&ty) {
        return Err(format!("ICMPv6 type {:?}, want {ty}", i.payload.first()));
    }
    let opts = i.payload.get(options_at..).ok_or("truncated ND message")?;
    ndp::parse_nd_options(opts)
        .map(|_| ())
        .map_err(|e| format!("ND options: {e:?}"))
}

/// Fuzz target `binding_file`: any text through the binding file parser,
/// with and without IPv6 served. A parsed binding's invariants hold.
pub fn binding_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for ipv6 in [false, true] {
        if let Ok(p) = file::parse("tap-fuzz", &text, ipv6) {
            let b = p.binding;
            if let (Some(ip), Some(net)) = (b.ip, b.subnet) {
                assert!(net.contains(&ip), "IP {ip} outside SUBNET {net}");
            }
            check_ipv6_keys(&b);
            check_raw_options(&b);
            check_boot_keys(&b);
            check_dhcpv4_keys(&b);
            let pd = &b.prefix6_delegated;
            assert!(pd.len() <= file::delegated::MAX_PREFIXES, "{pd:?}");
            for (i, p) in pd.iter().enumerate() {
                assert_eq!(p.trunc(), *p, "host bits set");
                assert!(p.prefix_len() >= file::delegated::MIN_LEN, "{p}");
                let own = b.subnet6.iter().chain(&pd[..i]);
                for o in own {
                    assert!(!file::delegated::overlap(p, o), "{p} overlaps {o}");
                }
            }
            assert!(!b.indev.is_empty(), "empty INDEV");
        }
    }
}

/// The invariants of `OPTION_<code>` and `OPTION6_<code>`: few, short, in
/// range, none that nfdhcpd sets itself.
fn check_raw_options(b: &Binding) {
    use config::options::{parse_key, Family, MAX_PER_SOURCE, MAX_VALUE_LEN, PREFIX4, PREFIX6};
    for (family, list) in [(Family::V4, &b.options.v4), (Family::V6, &b.options.v6)] {
        assert!(list.len() <= MAX_PER_SOURCE, "{list:?}");
        // In code order, each code once.
        assert!(list.windows(2).all(|w| w[0].code < w[1].code), "{list:?}");
        for o in list {
            let prefix = if family == Family::V4 {
                PREFIX4
            } else {
                PREFIX6
            };
            let key = format!("{prefix}{}", o.code);
            assert_eq!(parse_key(&key), Some(Ok((family, o.code))), "{key}");
            let len = o.data.as_ref().map_or(0, |d| d.len());
            assert!(len <= MAX_VALUE_LEN, "{key}: {len} bytes");
        }
    }
}

/// The invariants of `PREF64`, `ROUTES6`, `NAMESERVERS6`, `DOMAINS`, `NTP6`.
fn check_ipv6_keys(b: &Binding) {
    use file::{overrides, routes6};
    if let Some(Some(p)) = b.pref64 {
        check_pref64(p);
    }
    assert!(b.routes6.len() <= routes6::MAX_ROUTES, "{:?}", b.routes6);
    for (i, r) in b.routes6.iter().enumerate() {
        assert_eq!(r.prefix.trunc(), r.prefix, "host bits set");
        assert!(r.prefix.prefix_len() > 0, "::/0 announced as a route");
        assert!(
            b.routes6[..i].iter().all(|o| o.prefix != r.prefix),
            "{r:?} twice"
        );
        let own = b.subnet6.iter().chain(&b.prefix6_delegated);
        for o in own {
            assert!(!o.contains(&r.prefix), "{r:?} inside {o}");
        }
    }
    let addrs = [&b.nameservers6, &b.ntp6];
    for list in addrs.into_iter().flatten() {
        assert!(list.len() <= overrides::MAX_ITEMS, "{list:?}");
        for a in list {
            assert!(
                !(a.is_multicast() || a.is_unspecified() || a.is_loopback()),
                "{a}"
            );
        }
    }
    if let Some(d) = &b.domains {
        assert!(d.len() <= overrides::MAX_ITEMS, "{d:?}");
        for n in d {
            assert!(file::validate_dns_name(n).is_ok(), "{n:?}");
        }
    }
}

/// The invariants of the network boot keys: a unicast next server,
/// printable values that fit one option, URLs where one is due.
fn check_boot_keys(b: &Binding) {
    if let Some(boot) = &b.boot {
        check_boot(boot);
    }
}

/// The invariants of a binding's or the config's boot keys.
fn check_boot(boot: &file::boot::Boot) {
    use file::boot::MAX_LEN;
    assert_ne!(*boot, file::boot::Boot::default(), "an empty Boot");
    if let Some(ip) = boot.next_server {
        assert!(
            !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast()),
            "{ip}"
        );
    }
    let values = [
        &boot.tftp_server,
        &boot.file,
        &boot.file_efi,
        &boot.file_bios,
        &boot.file_ipxe,
        &boot.file_http,
        &boot.file6,
    ];
    for v in values.into_iter().flatten() {
        assert!(!v.is_empty() && v.len() <= MAX_LEN, "{v:?}");
        assert!(v.bytes().all(|c| c.is_ascii_graphic()), "{v:?}");
    }
    for url in [&boot.file_http, &boot.file6].into_iter().flatten() {
        assert!(url.contains("://"), "{url:?}");
    }
}

/// The invariants of `ROUTES` and `V6ONLY_WAIT`.
fn check_dhcpv4_keys(b: &Binding) {
    use file::{routes, v6only};
    let list = b.routes.list();
    assert!(list.len() <= routes::MAX_ROUTES, "{list:?}");
    assert!(b.routes.wire().len() <= list.len() * routes::MAX_ROUTE_LEN);
    for (i, r) in list.iter().enumerate() {
        assert_eq!(r.dest.trunc(), r.dest, "host bits set");
        assert!(r.dest.prefix_len() > 0, "0.0.0.0/0 given as a route");
        assert!(list[..i].iter().all(|o| o.dest != r.dest), "{r:?} twice");
        if let Some(net) = b.subnet {
            assert!(!net.contains(&r.dest), "{r:?} inside {net}");
        }
        let reachable = Some(r.router) == b.gateway
            || b.subnet
                .is_some_and(|n| n.contains(&r.router) && Some(r.router) != b.ip);
        assert!(reachable, "{r:?} unreachable");
    }
    if let Some(w) = b.v6only_wait {
        assert!(w == 0 || w >= v6only::MIN_V6ONLY_WAIT, "V6ONLY_WAIT {w}");
    }
}

/// A NAT64 prefix is one an RA can carry (RFC 8781 §4).
fn check_pref64(p: file::pref64::Pref64) {
    let net = p.prefix();
    assert!(
        file::pref64::Pref64::LENGTHS.contains(&net.prefix_len()),
        "{net}"
    );
    assert_eq!(net.trunc(), net, "host bits set");
    assert_eq!(net.network().octets()[8], 0, "{net}: bits 64 to 71");
}

/// Fuzz target `config`: any text through the config parser, in both formats.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for format in [Format::Ini, Format::Toml] {
        if let Ok(l) = config::parse(&text, format, "fuzz") {
            let c = l.config;
            assert!(
                c.ipv6.router_lifetime <= config::MAX_ROUTER_LIFETIME,
                "router lifetime {} over the maximum",
                c.ipv6.router_lifetime
            );
            assert!(c.ipv6.prefix_preferred_lifetime <= c.ipv6.prefix_valid_lifetime);
            if let Some(p) = c.ipv6.pref64 {
                check_pref64(p);
            }
            assert_ne!(
                c.ipv6.route_lifetime,
                Some(u32::MAX),
                "infinite route lifetime"
            );
            assert_ne!(c.ipv6.route_lifetime, Some(0), "route lifetime 0");
            if let Some(boot) = &c.dhcp.boot {
                check_boot(boot);
                assert_eq!(boot.file6, None, "bootfile6 in [dhcp]");
            }
            if let Some(url) = &c.ipv6.bootfile6 {
                assert!(
                    url.contains("://") && url.len() <= file::boot::MAX_LEN,
                    "{url:?}"
                );
            }
            let w = c.dhcp.v6only_wait;
            assert!(
                w == 0 || w >= file::v6only::MIN_V6ONLY_WAIT,
                "v6only_wait {w}"
            );
            for a in &c.ipv6.ntp {
                assert!(
                    !(a.is_multicast() || a.is_unspecified() || a.is_loopback()),
                    "{a}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply to a seed of the respond target, decided as the target does.
    fn seed_reply(seed: &[u8]) -> Reply {
        let (&sel, packet) = seed.split_first().expect("a seed");
        let f = fixture();
        let b = &f.bindings[usize::from((sel >> 2) & 0b11)];
        let c = &f.configs[usize::from((sel >> 4) & 0b11)];
        let meta = Meta {
            indev: replay::TAP_IFINDEX,
            physindev: 0,
            src_mac: Some(b.mac),
        };
        let protocol = Protocol::ALL[usize::from(sel & 0b11)];
        let d = respond::decide(c, &snapshot_of(b), protocol, &meta, packet, 1);
        let Some(Outcome::Reply(r)) = d.outcome() else {
            panic!("{d:?}")
        };
        r.clone()
    }

    /// The RS seeds of the fourth binding and config (first byte 61) get
    /// Route Information and PREF64; the Information-request asking for
    /// option 56 (63) gets the binding's NTP server.
    #[test]
    fn the_ra_and_ntp_seeds_reach_the_new_options() {
        for seed in [
            &include_bytes!("../tests/fuzz/seeds/respond/rdisc6-0-61")[..],
            include_bytes!("../tests/fuzz/seeds/respond/kernel-rs-0-61"),
        ] {
            let r = seed_reply(seed);
            let ip = frame::parse_ipv6_icmp(ip_of_frame(&r.frame).expect("IP")).expect("ICMPv6");
            // The option types, in order (verify_reply checked the lengths).
            let mut types = Vec::new();
            let mut o = &ip.payload[RA_OPTIONS..];
            while let [ty, len, ..] = *o {
                types.push(ty);
                o = &o[usize::from(len) * ndp::OPT_UNIT..];
            }
            assert_eq!(
                types
                    .iter()
                    .filter(|t| **t == crate::proto::ra::OPT_ROUTE_INFO)
                    .count(),
                3
            );
            assert!(types.contains(&crate::proto::ra::OPT_PREF64), "{types:?}");
        }
        let r = seed_reply(include_bytes!(
            "../tests/fuzz/seeds/respond/dhclient6-info-request-ntp-0-63"
        ));
        let udp = frame::parse_ipv6_udp(ip_of_frame(&r.frame).expect("IP")).expect("IPv6/UDP");
        let m = v6::Message::decode(&mut Decoder::new(udp.payload)).expect("DHCPv6");
        assert_eq!(
            m.opts().get(v6::OptionCode::NtpServer),
            Some(&v6::DhcpOption::NtpServer(vec![
                v6::NtpSuboption::ServerAddress(std::net::Ipv6Addr::new(
                    0x2001, 0xdb8, 0x1230, 0, 0, 0, 0, 7
                ))
            ]))
        );
    }

    /// The seeds of the boot firmware requests (tests/fixtures/boot, chaddr
    /// made the binding's; first byte 12: DHCPv4, the binding with the boot
    /// keys) get the boot file their client is due in `file`.
    #[test]
    fn the_boot_seeds_reach_the_boot_file_choice() {
        let seeds: [(&[u8], &[u8]); 4] = [
            (
                include_bytes!("../tests/fuzz/seeds/respond/pxe-bios-0-12"),
                b"bios/pxelinux.0",
            ),
            (
                include_bytes!("../tests/fuzz/seeds/respond/ipxe-0-12"),
                b"http://192.0.2.5/boot.ipxe",
            ),
            (
                include_bytes!("../tests/fuzz/seeds/respond/pxe-efi-0-12"),
                b"efi/grubx64.efi",
            ),
            (
                include_bytes!("../tests/fuzz/seeds/respond/http-efi-0-12"),
                b"http://192.0.2.5/efi/shim.efi",
            ),
        ];
        for (seed, file) in seeds {
            let r = seed_reply(seed);
            let udp = frame::parse_ipv4_udp(ip_of_frame(&r.frame).expect("IP")).expect("UDP");
            // siaddr (RFC 2131 §2, bytes 20..24) and file (108..236).
            assert_eq!(udp.payload[20..24], [192, 0, 2, 5]);
            let f = &udp.payload[108..236];
            assert_eq!(&f[..file.len()], file);
            assert_eq!(f[file.len()], 0);
        }
    }

    /// dhcpcd's requests asking for option 108 (first byte 12: DHCPv4, the
    /// fourth binding, with V6ONLY_WAIT and ROUTES) get an OFFER of 0.0.0.0
    /// and an ACK, both with option 108 and 121; to tap-routed with the
    /// config's V6ONLY_WAIT (48), option 108 says 900.
    #[test]
    fn the_v6only_seeds_reach_options_108_and_121() {
        let seeds: [(&[u8], _, _, _); 3] = [
            (
                include_bytes!("../tests/fuzz/seeds/respond/dhcpcd-v6only-0-12"),
                ReplyKind::Offer,
                std::net::Ipv4Addr::UNSPECIFIED,
                1800u32,
            ),
            (
                include_bytes!("../tests/fuzz/seeds/respond/dhcpcd-v6only-1-12"),
                ReplyKind::Ack,
                std::net::Ipv4Addr::new(192, 0, 2, 10),
                1800,
            ),
            (
                include_bytes!("../tests/fuzz/seeds/respond/dhcpcd-v6only-0-48"),
                ReplyKind::Offer,
                std::net::Ipv4Addr::UNSPECIFIED,
                900,
            ),
        ];
        for (seed, kind, yiaddr, wait) in seeds {
            let r = seed_reply(seed);
            assert_eq!(r.kind, kind);
            let udp = frame::parse_ipv4_udp(ip_of_frame(&r.frame).expect("IP")).expect("UDP");
            let m = dhcpv4::Message::parse(udp.payload).expect("DHCP");
            assert_eq!(m.yiaddr(), yiaddr);
            let opts: Vec<(u8, &[u8])> = m.options().map(|o| o.expect("well formed")).collect();
            let get = |code| opts.iter().find(|(c, _)| *c == code).map(|(_, d)| *d);
            assert_eq!(
                get(dhcpv4::code::IPV6_ONLY_PREFERRED),
                Some(&wait.to_be_bytes()[..])
            );
            // The default route and, for the fourth binding, its two ROUTES.
            let routes = get(dhcpv4::code::CLASSLESS_ROUTES).expect("option 121");
            let want = if wait == 900 { 5 } else { 5 + 8 + 9 };
            assert_eq!(routes.len(), want);
        }
    }

    /// The seeds of the captured IA_PD requests (first byte 15: DHCPv6,
    /// the delegating binding, mode slaac+dhcpv6) get the prefixes.
    #[test]
    fn the_prefix_delegation_seeds_reach_iaprefix_options() {
        let seed = include_bytes!("../tests/fuzz/seeds/respond/dhclient6-pd-0-15");
        let b = &fixture().bindings[usize::from((seed[0] >> 2) & 0b11)];
        assert!(!b.prefix6_delegated.is_empty());
        let r = seed_reply(seed);
        let ip = ip_of_frame(&r.frame).expect("an IP packet");
        let udp = frame::parse_ipv6_udp(ip).expect("IPv6/UDP");
        let m = v6::Message::decode(&mut Decoder::new(udp.payload)).expect("DHCPv6");
        let Some(v6::DhcpOption::IAPD(pd)) = m.opts().get(v6::OptionCode::IAPD) else {
            panic!("no IA_PD: {m:?}")
        };
        assert!(pd.opts.get(v6::OptionCode::IAPrefix).is_some(), "{pd:?}");
    }
}
