//! One-line summaries of requests (any bytes: never panics) and of our
//! replies, for `nfdhcpd trace` and the replay output.

use std::fmt::Write as _;
use std::net::Ipv6Addr;

use dhcproto::{v6, Decodable, Decoder};

use crate::domain::Protocol;
use crate::mac::MacAddr;
use crate::proto::frame::{self, ip_of_frame, ETH_HDR_LEN};
use crate::proto::ndp::{self, NA_FLAG_OVERRIDE, NA_FLAG_ROUTER, NA_FLAG_SOLICITED};
use crate::proto::ra::{
    OPT_PREF64, OPT_PREFIX_INFO, OPT_ROUTE_INFO, RA_FLAG_MANAGED, RA_FLAG_OTHER,
};
use crate::proto::{dhcpv4, dhcpv6, Reply, ReplyKind};
use crate::value::pref64::Pref64;

/// Byte offsets in the ICMPv6 messages summarized.
mod field {
    use std::ops::Range;
    /// RA: flags.
    pub const RA_FLAGS: usize = 5;
    /// RA: router lifetime.
    pub const RA_LIFETIME: Range<usize> = 6..8;
    /// RA: first option.
    pub const RA_OPTIONS: usize = 16;
    /// NA / NS: flags.
    pub const NA_FLAGS: usize = 4;
    /// NA / NS: target address.
    pub const TARGET: Range<usize> = 8..24;
    /// Prefix Information option: prefix length.
    pub const PIO_LEN: usize = 2;
    /// Prefix Information option: the prefix.
    pub const PIO_PREFIX: Range<usize> = 16..32;
    /// Route Information option: prefix length.
    pub const RIO_LEN: usize = 2;
    /// Route Information option: the prefix (0, 8 or 16 bytes).
    pub const RIO_PREFIX: usize = 8;
    /// PREF64 option: Scaled Lifetime and PLC.
    pub const PREF64_LIFETIME_PLC: Range<usize> = 2..4;
    /// PREF64 option: the prefix's 96 bits.
    pub const PREF64_PREFIX: Range<usize> = 4..16;
}

fn addr6(b: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from)
}

/// The summary of an IP packet queued as `protocol` (as NFQUEUE delivers
/// it, with the frame's source MAC when known): the same text as replay's
/// request summary (never fails). `nfdhcpd trace` prints it.
pub fn summarize_queued(protocol: Protocol, ip: &[u8], src_mac: Option<MacAddr>) -> String {
    let body = queued_request(protocol, ip);
    match src_mac {
        Some(m) => format!("{body} from {m}"),
        None => body,
    }
}

/// The summary of an IP packet queued as `protocol`, without its source.
pub fn queued_request(protocol: Protocol, ip: &[u8]) -> String {
    match protocol {
        Protocol::Dhcpv4 => dhcpv4_request(ip),
        Protocol::Dhcpv6 => dhcpv6_request(ip),
        Protocol::RouterSolicit => icmp_request("RS", ip),
        Protocol::NeighbourSolicit => icmp_request("NS", ip),
    }
}

/// The source and destination of an IP packet not queued (never fails).
pub fn ip_header(ip: &[u8]) -> String {
    if let Ok(i) = frame::parse_ipv6(ip) {
        return format!("IPv6 {} > {}", i.src, i.dst);
    }
    match pnet_packet::ipv4::Ipv4Packet::new(ip) {
        Some(p) if p.get_version() == 4 => {
            format!("IPv4 {} > {}", p.get_source(), p.get_destination())
        }
        _ => format!("IP? ({} bytes)", ip.len()),
    }
}

fn dhcpv4_request(ip: &[u8]) -> String {
    let udp = match frame::parse_ipv4_udp(ip) {
        Ok(u) => u,
        Err(e) => return format!("DHCPv4 ({e}) {}", ip_header(ip)),
    };
    match dhcpv4::Request::parse(udp.payload) {
        Ok(r) => {
            let mut s = format!(
                "DHCPv4 {} xid {:#010x} {} > {}",
                r.msg_type(),
                r.message().xid(),
                udp.src,
                udp.dst
            );
            if let Some(m) = r.max_size() {
                let _ = write!(s, " max-size {m}");
            }
            if let Some(p) = r.params() {
                let codes: Vec<String> = p.iter().map(u8::to_string).collect();
                let _ = write!(s, " params {}", codes.join(","));
            }
            s
        }
        Err(reason) => format!("DHCPv4 ({}) {} > {}", reason.as_str(), udp.src, udp.dst),
    }
}

fn dhcpv6_request(ip: &[u8]) -> String {
    let udp = match frame::parse_ipv6_udp(ip) {
        Ok(u) => u,
        Err(e) => return format!("DHCPv6 ({e}) {}", ip_header(ip)),
    };
    let (s, d) = (udp.ip.src, udp.ip.dst);
    match dhcpv6::parse_request(udp.payload) {
        Ok(r) => {
            let name = format!("{:?}", v6::MessageType::from(r.msg_type)).to_uppercase();
            let x = r.xid;
            let mut out = format!(
                "DHCPv6 {name} xid {:02x}{:02x}{:02x} {s} > {d}",
                x[0], x[1], x[2]
            );
            if !r.ia_na.is_empty() {
                let _ = write!(out, " ia_na {}", r.ia_na.len());
            }
            if r.ignored_ias > 0 {
                let _ = write!(out, " ignored_ias {}", r.ignored_ias);
            }
            if let Some(oro) = &r.oro {
                let codes: Vec<String> = oro.iter().map(u16::to_string).collect();
                let _ = write!(out, " oro {}", codes.join(","));
            }
            out
        }
        Err(reason) => format!("DHCPv6 ({}) {s} > {d}", reason.as_str()),
    }
}

fn icmp_request(name: &str, ip: &[u8]) -> String {
    let Ok(i) = frame::parse_ipv6_icmp(ip) else {
        return format!("{name} (malformed) {}", ip_header(ip));
    };
    let mut s = format!("{name} {} > {} hlim {}", i.src, i.dst, i.hop_limit);
    if name == "NS" {
        if let Some(t) = i.payload.get(field::TARGET).and_then(addr6) {
            let _ = write!(s, " who-has {t}");
        }
    }
    s
}

/// Our reply's summary: message, addresses and the main values.
pub fn summarize_reply(reply: &Reply) -> String {
    let frame = &reply.frame;
    let dst_mac = frame::eth_dst(frame).map_or_else(|| "?".into(), |m| m.to_string());
    let body = match reply.kind {
        ReplyKind::Offer | ReplyKind::Ack | ReplyKind::Nak => dhcpv4_reply(frame),
        ReplyKind::Advertise | ReplyKind::Dhcpv6Reply => dhcpv6_reply(frame),
        ReplyKind::RouterAdvert => ra_reply(frame),
        ReplyKind::NeighbourAdvert => na_reply(frame),
    };
    format!("{body} to {dst_mac} ({} bytes)", frame.len())
}

fn dhcpv4_reply(frame: &[u8]) -> String {
    let Some(udp) = ip_of_frame(frame).and_then(|ip| frame::parse_ipv4_udp(ip).ok()) else {
        return "DHCPv4 (unparseable!)".into();
    };
    let Ok(m) = dhcpv4::Message::parse(udp.payload) else {
        return "DHCPv4 (undecodable!)".into();
    };
    let option = |code: u8| {
        m.options()
            .find_map(|o| o.ok().filter(|&(c, _)| c == code))
            .map(|(_, data)| data)
    };
    let ty = match option(dhcpv4::code::MESSAGE_TYPE) {
        Some(&[t]) => dhcpv4::MessageType(t).to_string(),
        _ => "?".into(),
    };
    let mut s = format!("DHCPv4 {ty} {} > {}", udp.src, udp.dst);
    if !m.yiaddr().is_unspecified() {
        let _ = write!(s, " yiaddr {}", m.yiaddr());
    }
    if let Some(&[a, b, c, d]) = option(dhcpv4::code::LEASE_TIME) {
        let _ = write!(s, " lease {}", u32::from_be_bytes([a, b, c, d]));
    }
    if !m.siaddr().is_unspecified() {
        let _ = write!(s, " next-server {}", m.siaddr());
    }
    // The boot file: option 67, else the `file` field.
    let file = option(dhcpv4::code::BOOTFILE).unwrap_or(m.file());
    if !file.is_empty() {
        let _ = write!(s, " file \"{}\"", file.escape_ascii());
    }
    s
}

fn dhcpv6_reply(frame: &[u8]) -> String {
    let Some(udp) = ip_of_frame(frame).and_then(|ip| frame::parse_ipv6_udp(ip).ok()) else {
        return "DHCPv6 (unparseable!)".into();
    };
    let Ok(m) = v6::Message::decode(&mut Decoder::new(udp.payload)) else {
        return "DHCPv6 (undecodable!)".into();
    };
    let name = format!("{:?}", m.msg_type()).to_uppercase();
    let mut s = format!("DHCPv6 {name} {} > {}", udp.ip.src, udp.ip.dst);
    for o in m.opts().iter() {
        if let v6::DhcpOption::IANA(ia) = o {
            for a in ia.opts.iter() {
                if let v6::DhcpOption::IAAddr(a) = a {
                    let _ = write!(s, " ia_na {} addr {}", ia.id, a.addr);
                }
            }
        }
        if let v6::DhcpOption::DomainNameServers(d) = o {
            let _ = write!(s, " dns {}", d.len());
        }
    }
    s
}

fn icmp_of(frame: &[u8]) -> Option<frame::Ip6<'_>> {
    frame::parse_ipv6_icmp(frame.get(ETH_HDR_LEN..)?).ok()
}

fn ra_reply(frame: &[u8]) -> String {
    let Some(ip) = icmp_of(frame) else {
        return "RA (unparseable!)".into();
    };
    let m = ip.payload;
    let flags = m.get(field::RA_FLAGS).copied().unwrap_or(0);
    let life = m
        .get(field::RA_LIFETIME)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let mut s = format!("RA {} > {} lifetime {life}", ip.src, ip.dst);
    for (bit, name) in [(RA_FLAG_MANAGED, " M"), (RA_FLAG_OTHER, " O")] {
        if flags & bit != 0 {
            s.push_str(name);
        }
    }
    let opts = m.get(field::RA_OPTIONS..).unwrap_or_default();
    let mut rest = opts;
    while let [ty, len, ..] = *rest {
        let n = usize::from(len) * ndp::OPT_UNIT;
        let Some(opt) = rest.get(..n).filter(|_| n > 0) else {
            break;
        };
        match ty {
            OPT_PREFIX_INFO => {
                if let (Some(p), Some(l)) = (
                    opt.get(field::PIO_PREFIX).and_then(addr6),
                    opt.get(field::PIO_LEN),
                ) {
                    let _ = write!(s, " prefix {p}/{l}");
                }
            }
            OPT_ROUTE_INFO => {
                let mut a = [0u8; 16];
                let bytes = opt.get(field::RIO_PREFIX..).unwrap_or_default();
                let n = bytes.len().min(a.len());
                a[..n].copy_from_slice(&bytes[..n]);
                if let Some(l) = opt.get(field::RIO_LEN) {
                    let _ = write!(s, " route {}/{l}", Ipv6Addr::from(a));
                }
            }
            OPT_PREF64 => {
                if let (Some(f), Some(p)) = (
                    opt.get(field::PREF64_LIFETIME_PLC),
                    opt.get(field::PREF64_PREFIX),
                ) {
                    let f = u16::from_be_bytes([f[0], f[1]]);
                    let mut a = [0u8; 16];
                    a[..p.len()].copy_from_slice(p);
                    let plc = usize::from(f & 0b111);
                    let len = Pref64::LENGTHS
                        .get(plc)
                        .map_or_else(|| format!("?plc{plc}"), u8::to_string);
                    let _ = write!(s, " pref64 {}/{len} {}s", Ipv6Addr::from(a), f & !0b111);
                }
            }
            _ => {}
        }
        rest = &rest[n..];
    }
    s
}

fn na_reply(frame: &[u8]) -> String {
    let Some(ip) = icmp_of(frame) else {
        return "NA (unparseable!)".into();
    };
    let m = ip.payload;
    let target = m.get(field::TARGET).and_then(addr6);
    let flags = m.get(field::NA_FLAGS).copied().unwrap_or(0);
    let mut s = format!(
        "NA {} > {} tgt-is {}",
        ip.src,
        ip.dst,
        target.map_or_else(|| "?".into(), |t| t.to_string())
    );
    for (bit, name) in [
        (NA_FLAG_ROUTER, " R"),
        (NA_FLAG_SOLICITED, " S"),
        (NA_FLAG_OVERRIDE, " O"),
    ] {
        if flags & bit != 0 {
            s.push_str(name);
        }
    }
    s
}
