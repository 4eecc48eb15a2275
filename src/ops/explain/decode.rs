//! Decoding an explained reply frame into named fields: DHCPv4 and DHCPv6
//! with dhcproto (independent of our encoders), Router Advertisements by a
//! plain walk over the RFC 4861 §4.2 layout and its options.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

use dhcproto::{v4, v6, Decodable, Decoder};

use crate::proto::frame;

/// One decoded value: its field name (the key of the source table) and
/// its text. A raw option's name is `option CODE` (DHCPv4) or `option6
/// CODE` (DHCPv6).
pub type Value = (Cow<'static, str>, String);

/// Where a DHCPv4 message's options start: after the fixed fields (236
/// bytes) and the magic cookie (RFC 2131 §3).
const DHCPV4_OPTIONS: usize = 240;
/// DHCPv4 Pad and End (RFC 2132 §3.1, §3.2).
const PAD: u8 = 0;
const END: u8 = 255;
/// DHCPv4 option 108, IPv6-Only Preferred (RFC 8925 §3.1): dhcproto
/// 0.15 takes it for 106, so it is read from the bytes.
const V6ONLY: u8 = 108;
/// DHCPv4 option codes decoded by name (108 from the bytes); any other
/// is shown raw.
const NAMED4: [u8; 20] = [
    1, 3, 6, 12, 15, 26, 28, 42, 51, 53, 54, 58, 59, 60, 66, 67, 80, V6ONLY, 119, 121,
];
/// Where a DHCPv6 message's options start: after its type and
/// transaction id (RFC 8415 §8).
const DHCPV6_OPTIONS: usize = 4;
/// Bytes of a DHCPv6 option's code and length (RFC 8415 §21.1).
const OPTION6_HDR_LEN: usize = 4;
/// DHCPv6 option 59, the boot file URL (RFC 5970 §3.1).
const BOOTFILE_URL: u16 = 59;
/// DHCPv6 option codes decoded by name (or part of the exchange: client
/// and server identifiers, preference); any other is shown raw.
const NAMED6: [u16; 12] = [1, 2, 3, 7, 8, 13, 14, 23, 24, 25, 56, BOOTFILE_URL];

/// The name of a raw DHCPv4 option's field.
pub fn raw4(code: u8) -> String {
    format!("option {code}")
}

/// The name of a raw DHCPv6 option's field.
pub fn raw6(code: u16) -> String {
    format!("option6 {code}")
}

/// Why a reply frame could not be decoded (never expected: it is ours).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame's IP or UDP headers are wrong.
    #[error("reply frame: {0}")]
    Frame(#[from] frame::FrameError),
    /// dhcproto refused the message.
    #[error("reply message: {0}")]
    Message(String),
    /// An RA too short for its header or an option.
    #[error("router advertisement truncated")]
    Truncated,
}

/// A decoded DHCPv4 reply: its message type, and its fields in the order
/// the reply carries them.
pub fn dhcpv4(f: &[u8]) -> Result<(v4::Message, Vec<Value>), DecodeError> {
    let u = frame::parse_ipv4_udp(frame::ip_of_frame(f).unwrap_or_default())?;
    let options = options4(u.payload);
    // dhcproto reads only the options named here: a raw option it has a
    // type for but whose bytes do not fit that type would end its reading
    // of the options there, and hide the rest.
    let mut named = u.payload[..DHCPV4_OPTIONS.min(u.payload.len())].to_vec();
    for (_, tlv) in options.iter().filter(|(c, _)| NAMED4.contains(c)) {
        named.extend_from_slice(tlv);
    }
    named.push(END);
    let m = v4::Message::decode(&mut Decoder::new(&named))
        .map_err(|e| DecodeError::Message(e.to_string()))?;
    let mut raw: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    for (code, tlv) in options
        .iter()
        .filter(|(c, _)| !NAMED4.contains(c) || *c == V6ONLY)
    {
        raw.entry(*code).or_default().extend_from_slice(&tlv[2..]);
    }
    let mut out: Vec<Value> = Vec::new();
    let mut push = |name: &'static str, v: String| out.push((name.into(), v));
    if !m.yiaddr().is_unspecified() {
        push("address", m.yiaddr().to_string());
    }
    // RFC 2131 §2: the next server (`siaddr`), its name (`sname`) and the
    // boot file (`file`), NUL-terminated.
    if !m.siaddr().is_unspecified() {
        push("next_server", m.siaddr().to_string());
    }
    if let Some(n) = m.sname().and_then(nul_terminated) {
        push("server_name", n);
    }
    if let Some(f) = m.fname().and_then(nul_terminated) {
        push("boot_file", f);
    }
    for (_, o) in m.opts().iter() {
        use v4::DhcpOption as O;
        match o {
            O::SubnetMask(a) => push("subnet_mask", a.to_string()),
            O::Router(a) => push("router", join(a)),
            O::DomainNameServer(a) => push("dns", join(a)),
            O::NtpServers(a) => push("ntp", join(a)),
            O::Hostname(h) => push("hostname", h.clone()),
            O::DomainName(d) => push("domain", d.clone()),
            O::InterfaceMtu(m) => push("mtu", m.to_string()),
            O::BroadcastAddr(a) => push("broadcast", a.to_string()),
            O::AddressLeaseTime(t) => push("lease_time", t.to_string()),
            O::Renewal(t) => push("renewal_time", t.to_string()),
            O::Rebinding(t) => push("rebinding_time", t.to_string()),
            O::ServerIdentifier(a) => push("server_id", a.to_string()),
            O::DomainSearch(n) => push("search", join(n.iter().map(|n| name(&n.to_string())))),
            O::ClasslessStaticRoute(r) => {
                // The default route and the on-link host route to a
                // GATEWAY outside SUBNET (`own`), then the binding's ROUTES.
                let show = |own: bool| {
                    join(
                        r.iter()
                            .filter(|(net, gw)| {
                                (net.prefix_len() == 0 || gw.is_unspecified()) == own
                            })
                            .map(|(net, gw)| format!("{net} via {gw}")),
                    )
                };
                for (own, field) in [(true, "classless_routes"), (false, "routes")] {
                    let v = show(own);
                    if !v.is_empty() {
                        push(field, v);
                    }
                }
            }
            O::RapidCommit => push("rapid_commit", "yes".into()),
            O::ClassIdentifier(v) => push("vendor_class", text(v)),
            O::TFTPServerName(v) => push("tftp_server_name", text(v)),
            O::BootfileName(v) => push("bootfile_name", text(v)),
            _ => {}
        }
    }
    // Option 108 (which dhcproto takes for 106) and every option not
    // named, from the bytes: the raw options.
    for (code, data) in raw {
        match code {
            // RFC 8925 §3.1: V6ONLY_WAIT, a 4-byte number of seconds.
            V6ONLY => out.push((
                "v6only_wait".into(),
                <[u8; 4]>::try_from(data.as_slice())
                    .map_or_else(|_| raw_value(&data), |w| u32::from_be_bytes(w).to_string()),
            )),
            c => out.push((raw4(c).into(), raw_value(&data))),
        }
    }
    Ok((m, out))
}

/// The options of DHCPv4 message `payload` in order, each its code and
/// its whole bytes (code, length, data); Pad skipped, up to End (RFC 2132
/// §3). A split option (RFC 3396) comes as its pieces.
fn options4(payload: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = payload.get(DHCPV4_OPTIONS..).unwrap_or_default();
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            PAD => {
                rest = tail;
                continue;
            }
            END => break,
            _ => {}
        }
        let Some(&len) = tail.first() else {
            break;
        };
        let Some(tlv) = rest.get(..2 + usize::from(len)) else {
            break;
        };
        out.push((code, tlv));
        rest = &rest[tlv.len()..];
    }
    out
}

/// A raw option's bytes in hex, and as text when they are printable.
fn raw_value(data: &[u8]) -> String {
    let mut v = format!("0x{}", hex(data));
    if !data.is_empty() && data.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        let _ = write!(v, " {:?}", String::from_utf8_lossy(data));
    }
    v
}

/// A fixed field's name, up to its NUL (RFC 2131 §2); None when empty.
fn nul_terminated(b: &[u8]) -> Option<String> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    (end > 0).then(|| text(&b[..end]))
}

/// Bytes as text.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A decoded DHCPv6 reply: the message and its fields.
pub fn dhcpv6(f: &[u8]) -> Result<(v6::Message, Vec<Value>), DecodeError> {
    let u = frame::parse_ipv6_udp(frame::ip_of_frame(f).unwrap_or_default())?;
    // As for DHCPv4: dhcproto reads only the options named here, a raw
    // one it has a type for (16, 17 …) cannot end its reading early.
    let options = options6(u.payload);
    let mut named = u.payload[..DHCPV6_OPTIONS.min(u.payload.len())].to_vec();
    for (_, tlv) in options.iter().filter(|(c, _)| NAMED6.contains(c)) {
        named.extend_from_slice(tlv);
    }
    let m = v6::Message::decode(&mut Decoder::new(&named))
        .map_err(|e| DecodeError::Message(e.to_string()))?;
    let mut out: Vec<Value> = Vec::new();
    for o in m.opts().iter() {
        use v6::DhcpOption as O;
        let mut push = |name: &'static str, v: String| out.push((name.into(), v));
        match o {
            O::ServerId(d) => push("server_duid", hex(d)),
            O::IANA(ia) => ia_na(ia, &mut out),
            O::IAPD(ia) => ia_pd(ia, &mut out),
            O::DomainNameServers(a) => push("dns6", join(a)),
            O::DomainSearchList(n) => {
                push("domains6", join(n.iter().map(|n| name(&n.to_string()))))
            }
            O::NtpServer(s) => push(
                "ntp6",
                join(s.iter().map(|s| match s {
                    v6::NtpSuboption::ServerAddress(a) | v6::NtpSuboption::MulticastAddress(a) => {
                        a.to_string()
                    }
                    v6::NtpSuboption::FQDN(n) => name(&n.to_string()),
                })),
            ),
            O::StatusCode(s) => push("status", status(s)),
            O::RapidCommit => push("rapid_commit", "yes".into()),
            O::Unknown(u) if u16::from(u.code()) == BOOTFILE_URL => {
                push("bootfile_url", text(u.data()))
            }
            _ => {}
        }
    }
    let mut raw: BTreeMap<u16, &[u8]> = BTreeMap::new();
    for (code, tlv) in options.iter().filter(|(c, _)| !NAMED6.contains(c)) {
        raw.insert(*code, &tlv[OPTION6_HDR_LEN..]);
    }
    for (code, data) in raw {
        out.push((raw6(code).into(), raw_value(data)));
    }
    Ok((m, out))
}

/// The options of DHCPv6 message `payload` in order, each its code and
/// its whole bytes (code, length, data; RFC 8415 §21.1).
fn options6(payload: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut rest = payload.get(DHCPV6_OPTIONS..).unwrap_or_default();
    while let [c0, c1, l0, l1, ..] = *rest {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(tlv) = rest.get(..OPTION6_HDR_LEN + len) else {
            break;
        };
        out.push((u16::from_be_bytes([c0, c1]), tlv));
        rest = &rest[tlv.len()..];
    }
    out
}

/// An IA_NA's address, lifetimes, T1/T2 (or its status).
fn ia_na(ia: &v6::IANA, out: &mut Vec<Value>) {
    let mut any = false;
    let mut push = |name: &'static str, v: String| out.push((name.into(), v));
    for o in ia.opts.iter() {
        match o {
            v6::DhcpOption::IAAddr(a) => {
                push("address6", a.addr.to_string());
                push("preferred_lifetime", a.preferred_life.to_string());
                push("valid_lifetime", a.valid_life.to_string());
                any = true;
            }
            v6::DhcpOption::StatusCode(s) => push("ia_na_status", status(s)),
            _ => {}
        }
    }
    if any {
        push("t1", ia.t1.to_string());
        push("t2", ia.t2.to_string());
    }
}

/// An IA_PD's prefixes (or its status).
fn ia_pd(ia: &v6::IAPD, out: &mut Vec<Value>) {
    let mut prefixes = Vec::new();
    for o in ia.opts.iter() {
        match o {
            v6::DhcpOption::IAPrefix(p) => {
                prefixes.push(format!("{}/{}", p.prefix_ip, p.prefix_len))
            }
            v6::DhcpOption::StatusCode(s) => out.push(("ia_pd_status".into(), status(s))),
            _ => {}
        }
    }
    if !prefixes.is_empty() {
        out.push(("delegated_prefix".into(), prefixes.join(", ")));
    }
}

/// Byte layout of a Router Advertisement (RFC 4861 §4.2) from its ICMPv6 type.
mod ra_field {
    /// M, O and the router preference (RFC 4191 §2.2) bits.
    pub const FLAGS: usize = 5;
    /// Router Lifetime.
    pub const LIFETIME: std::ops::Range<usize> = 6..8;
    /// Start of the options, after Reachable Time and Retrans Timer.
    pub const OPTIONS: usize = 16;
    /// The M flag.
    pub const MANAGED: u8 = 0x80;
    /// The O flag.
    pub const OTHER: u8 = 0x40;
}

/// A decoded Router Advertisement: its fields in the order it carries them.
pub fn router_advert(f: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let ip = frame::parse_ipv6_icmp(frame::ip_of_frame(f).unwrap_or_default())?;
    let ra = ip.payload;
    let opts = ra.get(ra_field::OPTIONS..).ok_or(DecodeError::Truncated)?;
    let flags = ra[ra_field::FLAGS];
    let mut out = vec![
        ("managed", yes(flags & ra_field::MANAGED != 0)),
        ("other", yes(flags & ra_field::OTHER != 0)),
        ("router_lifetime", be16(&ra[ra_field::LIFETIME]).to_string()),
        ("router_preference", preference(flags >> 3).into()),
    ];
    let mut rest = opts;
    while let [t, len, ..] = *rest {
        let n = usize::from(len) * 8;
        let (opt, tail) = match (n, rest.len() >= n) {
            (8.., true) => rest.split_at(n),
            _ => return Err(DecodeError::Truncated),
        };
        ra_option(t, &opt[2..], &mut out)?;
        rest = tail;
    }
    Ok(out.into_iter().map(|(n, v)| (n.into(), v)).collect())
}

/// One RA option's fields (`d`: the option after its type and length).
fn ra_option(t: u8, d: &[u8], out: &mut Vec<(&'static str, String)>) -> Result<(), DecodeError> {
    let short = || DecodeError::Truncated;
    match t {
        // RFC 4861 §4.6.1
        1 => out.push(("source_lla", mac(d.get(..6).ok_or_else(short)?))),
        // RFC 4861 §4.6.2
        3 => {
            let p = d.get(..30).ok_or_else(short)?;
            let a = Ipv6Addr::from(<[u8; 16]>::try_from(&p[14..30]).expect("16 bytes"));
            let mut v = format!("{a}/{}", p[0]);
            let _ = write!(
                v,
                " (on-link {}, autonomous {})",
                yes(p[1] & 0x80 != 0),
                yes(p[1] & 0x40 != 0)
            );
            out.push(("prefix", v));
            out.push(("prefix_valid_lifetime", be32(&p[2..6]).to_string()));
            out.push(("prefix_preferred_lifetime", be32(&p[6..10]).to_string()));
        }
        // RFC 4861 §4.6.4
        5 => out.push(("mtu", be32(d.get(2..6).ok_or_else(short)?).to_string())),
        // RFC 4191 §2.3
        24 => {
            let p = d.get(..6).ok_or_else(short)?;
            let mut a = [0u8; 16];
            let body = &d[6..];
            a[..body.len().min(16)].copy_from_slice(&body[..body.len().min(16)]);
            out.push((
                "route",
                format!("{}/{} {}", Ipv6Addr::from(a), p[0], preference(p[1] >> 3)),
            ));
            out.push(("route_lifetime", be32(&p[2..6]).to_string()));
        }
        // RFC 8106 §5.1
        25 => {
            let p = d.get(..6).ok_or_else(short)?;
            let addrs = d[6..]
                .chunks_exact(16)
                .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).expect("16 bytes")).to_string());
            out.push(("rdnss", join(addrs)));
            out.push(("dns_lifetime", be32(&p[2..6]).to_string()));
        }
        // RFC 8106 §5.2
        31 => {
            let _ = d.get(..6).ok_or_else(short)?;
            out.push(("dnssl", join(dns_names(&d[6..]))));
        }
        // RFC 8781 §4
        38 => {
            let p = d.get(..14).ok_or_else(short)?;
            let word = be16(&p[..2]);
            let len = match word & 0x7 {
                0 => 96,
                1 => 64,
                2 => 56,
                3 => 48,
                4 => 40,
                _ => 32,
            };
            let mut a = [0u8; 16];
            a[..12].copy_from_slice(&p[2..14]);
            out.push(("pref64", format!("{}/{len}", Ipv6Addr::from(a))));
            out.push(("pref64_lifetime", (u32::from(word & !0x7)).to_string()));
        }
        _ => out.push(("other", format!("option {t}"))),
    }
    Ok(())
}

/// The names of a DNSSL (RFC 1035 §3.1 labels, zero-padded).
fn dns_names(mut b: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    while let Some((&len, rest)) = b.split_first() {
        let len = usize::from(len);
        if len == 0 {
            if !cur.is_empty() {
                names.push(cur.join("."));
                cur.clear();
            }
            b = rest;
            continue;
        }
        let Some(label) = rest.get(..len) else { break };
        cur.push(String::from_utf8_lossy(label).into_owned());
        b = &rest[len..];
    }
    names
}

/// RFC 4191 §2.1 preference bits (the two lowest of `bits`).
fn preference(bits: u8) -> &'static str {
    match bits & 0x3 {
        0b01 => "high",
        0b11 => "low",
        0b00 => "medium",
        _ => "reserved",
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn mac(b: &[u8]) -> String {
    crate::mac::MacAddr::from_slice(b).map_or_else(String::new, |m| m.to_string())
}

/// A DNS name without its root dot.
fn name(n: &str) -> String {
    n.strip_suffix('.').unwrap_or(n).to_string()
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn status(s: &v6::StatusCode) -> String {
    format!("{:?}: {}", s.status, s.msg)
}
