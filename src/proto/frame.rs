//! Ethernet / IPv4 / IPv6 / UDP / ICMPv6 framing, with checksums.
//!
//! Parsing takes the IP packet as NFQUEUE delivers it (no link header)
//! through pnet's length-checked views, and checks what those views do not
//! (header length, total length, checksum of UDP when present). Emitting
//! builds a whole Ethernet frame for an AF_PACKET socket, since the source
//! MAC must be the INDEV's (the bridge's for a bridged tap), not the tap's.
//!
//! Emitting never truncates a length: the IPv4 total length, the IPv6
//! payload length and the UDP length are 16-bit fields, and a packet that
//! would not fit them is refused with [`EmitError::TooLong`] (no jumbograms,
//! RFC 2675). Keeping a reply within the link MTU is the protocol's job
//! (DHCPv4 and DHCPv6 fit their replies to it); this is the last guard.
//!
//! Not supported, deliberately: IPv4 options are skipped not interpreted;
//! IPv6 extension headers are refused (guests' DHCPv6/ND carry none, and
//! RFC 4861 ND messages are invalid behind most of them); IP fragments are
//! refused (a DHCP request is never fragmented on a tap).

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::icmpv6::Icmpv6Packet;
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::{Ipv4Packet, MutableIpv4Packet};
use pnet_packet::ipv6::{Ipv6Packet, MutableIpv6Packet};
use pnet_packet::udp::{MutableUdpPacket, UdpPacket};

use super::checksum;
use crate::mac::MacAddr;

/// Ethernet header length.
pub const ETH_HDR_LEN: usize = 14;
/// IPv4 header length without options.
pub const IPV4_HDR_LEN: usize = 20;
/// IPv6 fixed header length.
pub const IPV6_HDR_LEN: usize = 40;
/// UDP header length.
pub const UDP_HDR_LEN: usize = 8;
/// Offset of the checksum in the UDP header.
const UDP_CHECKSUM: usize = 6;
/// Offset of the header checksum in the IPv4 header.
const IPV4_CHECKSUM: usize = 10;
/// IPv4 IHL (32-bit words) of a header without options.
const IHL_NO_OPTIONS: u8 = (IPV4_HDR_LEN / 4) as u8;
/// TTL of IPv4 replies.
pub const IPV4_TTL: u8 = 64;
/// Largest IP datagram sent on a link whose binding has no MTU (DHCPv4, DHCPv6 and RAs alike).
pub const DEFAULT_LINK_MTU: u16 = 1500;
pub use super::checksum::{PROTO_ICMPV6, PROTO_UDP};

/// Why bytes are not a packet we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Shorter than its headers say.
    #[error("packet too short")]
    TooShort,
    /// IP version nibble is not the one expected.
    #[error("wrong IP version")]
    WrongVersion,
    /// IPv4 IHL below 5 or past the packet.
    #[error("bad IPv4 header length")]
    BadHeaderLength,
    /// A fragment (MF set or offset non-zero).
    #[error("IP fragment")]
    Fragment,
    /// Not the transport protocol expected (or an IPv6 extension header).
    #[error("unexpected protocol {0}")]
    WrongProtocol(u8),
    /// UDP length field inconsistent with the packet.
    #[error("bad UDP length")]
    BadUdpLength,
    /// Transport checksum does not verify.
    #[error("bad checksum")]
    BadChecksum,
}

/// Largest value of a 16-bit length field: IPv4 total length (RFC 791),
/// IPv6 payload length (RFC 8200 §3), UDP length (RFC 768).
pub const MAX_LEN_FIELD: usize = u16::MAX as usize;

/// Why a frame cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// A length (IP packet or payload, UDP datagram) over its 16-bit field.
    #[error("{len} bytes do not fit a 16-bit length field (at most {MAX_LEN_FIELD})")]
    TooLong {
        /// The length that would have been written.
        len: usize,
    },
    /// The buffer is shorter than the headers it must hold.
    #[error("buffer of {len} bytes has no room for the headers")]
    NoHeadroom {
        /// The buffer's length.
        len: usize,
    },
}

/// `len` as a 16-bit length field, or why it does not fit.
fn len_field(len: usize) -> Result<u16, EmitError> {
    u16::try_from(len).map_err(|_| EmitError::TooLong { len })
}

/// A UDP datagram inside IPv4, borrowed from the queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp4<'a> {
    /// IP source.
    pub src: Ipv4Addr,
    /// IP destination.
    pub dst: Ipv4Addr,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// UDP payload.
    pub payload: &'a [u8],
}

/// Parses an IPv4 packet carrying UDP.
pub fn parse_ipv4_udp(packet: &[u8]) -> Result<Udp4<'_>, FrameError> {
    let ip = Ipv4Packet::new(packet).ok_or(FrameError::TooShort)?;
    if ip.get_version() != 4 {
        return Err(FrameError::WrongVersion);
    }
    let hdr = usize::from(ip.get_header_length()) * 4;
    let total = usize::from(ip.get_total_length());
    if hdr < IPV4_HDR_LEN || hdr > total {
        return Err(FrameError::BadHeaderLength);
    }
    if total > packet.len() {
        return Err(FrameError::TooShort);
    }
    // MF flag (0b001) or a non-zero offset.
    if ip.get_flags() & 1 != 0 || ip.get_fragment_offset() != 0 {
        return Err(FrameError::Fragment);
    }
    let proto = ip.get_next_level_protocol().0;
    if proto != PROTO_UDP {
        return Err(FrameError::WrongProtocol(proto));
    }
    let (src, dst) = (ip.get_source(), ip.get_destination());
    let udp_bytes = &packet[hdr..total];
    let udp = parse_udp(udp_bytes)?;
    let len = usize::from(udp.get_length());
    // RFC 768: a zero checksum field means the sender computed none.
    if udp.get_checksum() != 0 && !checksum::verifies_v4(src, dst, PROTO_UDP, &udp_bytes[..len]) {
        return Err(FrameError::BadChecksum);
    }
    Ok(Udp4 {
        src,
        dst,
        src_port: udp.get_source(),
        dst_port: udp.get_destination(),
        payload: &udp_bytes[UDP_HDR_LEN..len],
    })
}

fn parse_udp(bytes: &[u8]) -> Result<UdpPacket<'_>, FrameError> {
    let udp = UdpPacket::new(bytes).ok_or(FrameError::TooShort)?;
    let len = usize::from(udp.get_length());
    if len < UDP_HDR_LEN || len > bytes.len() {
        return Err(FrameError::BadUdpLength);
    }
    // Trim the view to the UDP length so checksums cover exactly the datagram.
    UdpPacket::new(&bytes[..len]).ok_or(FrameError::TooShort)
}

/// An IPv6 packet, borrowed from the queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip6<'a> {
    /// IP source.
    pub src: Ipv6Addr,
    /// IP destination.
    pub dst: Ipv6Addr,
    /// Hop limit.
    pub hop_limit: u8,
    /// Next header (the transport: no extension headers are accepted).
    pub next_header: u8,
    /// The payload (exactly payload-length bytes).
    pub payload: &'a [u8],
}

/// Parses an IPv6 packet's fixed header.
pub fn parse_ipv6(packet: &[u8]) -> Result<Ip6<'_>, FrameError> {
    let ip = Ipv6Packet::new(packet).ok_or(FrameError::TooShort)?;
    if ip.get_version() != 6 {
        return Err(FrameError::WrongVersion);
    }
    let len = usize::from(ip.get_payload_length());
    if IPV6_HDR_LEN + len > packet.len() {
        return Err(FrameError::TooShort);
    }
    Ok(Ip6 {
        src: ip.get_source(),
        dst: ip.get_destination(),
        hop_limit: ip.get_hop_limit(),
        next_header: ip.get_next_header().0,
        payload: &packet[IPV6_HDR_LEN..IPV6_HDR_LEN + len],
    })
}

/// A UDP datagram inside IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp6<'a> {
    /// The IPv6 header fields.
    pub ip: Ip6<'a>,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// UDP payload.
    pub payload: &'a [u8],
}

/// Parses an IPv6 packet carrying UDP; the checksum is mandatory (RFC 8200 §8.1).
pub fn parse_ipv6_udp(packet: &[u8]) -> Result<Udp6<'_>, FrameError> {
    let ip = parse_ipv6(packet)?;
    if ip.next_header != PROTO_UDP {
        return Err(FrameError::WrongProtocol(ip.next_header));
    }
    let udp = parse_udp(ip.payload)?;
    let len = usize::from(udp.get_length());
    // RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum".
    if udp.get_checksum() == 0
        || !checksum::verifies_v6(ip.src, ip.dst, PROTO_UDP, &ip.payload[..len])
    {
        return Err(FrameError::BadChecksum);
    }
    Ok(Udp6 {
        ip,
        src_port: udp.get_source(),
        dst_port: udp.get_destination(),
        payload: &ip.payload[UDP_HDR_LEN..len],
    })
}

/// Parses an IPv6 packet carrying ICMPv6 and verifies the checksum.
/// Returns the IPv6 header and the ICMPv6 message (type, code, checksum, body).
pub fn parse_ipv6_icmp(packet: &[u8]) -> Result<Ip6<'_>, FrameError> {
    let ip = parse_ipv6(packet)?;
    if ip.next_header != PROTO_ICMPV6 {
        return Err(FrameError::WrongProtocol(ip.next_header));
    }
    Icmpv6Packet::new(ip.payload).ok_or(FrameError::TooShort)?;
    if !checksum::verifies_v6(ip.src, ip.dst, PROTO_ICMPV6, ip.payload) {
        return Err(FrameError::BadChecksum);
    }
    Ok(ip)
}

fn write_eth(
    frame: &mut [u8],
    src: MacAddr,
    dst: MacAddr,
    ethertype: pnet_packet::ethernet::EtherType,
) {
    let mut eth = MutableEthernetPacket::new(frame).expect("frame buffer holds an Ethernet header");
    eth.set_source(src.0.into());
    eth.set_destination(dst.0.into());
    eth.set_ethertype(ethertype);
}

/// Bytes of Ethernet, IPv4 and UDP header in front of a UDP payload.
pub const IPV4_UDP_HEADROOM: usize = ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN;

/// Builds Ethernet + IPv4 + UDP around `payload`; refused when the IP
/// packet would be over 65,535 bytes.
pub fn emit_ipv4_udp(
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Result<Vec<u8>, EmitError> {
    // Checked before allocating: the IP packet is headers plus payload.
    len_field(IPV4_HDR_LEN + UDP_HDR_LEN + payload.len())?;
    let mut frame = vec![0u8; IPV4_UDP_HEADROOM + payload.len()];
    frame[IPV4_UDP_HEADROOM..].copy_from_slice(payload);
    emit_ipv4_udp_in_place(&mut frame, eth_src, eth_dst, src, dst, src_port, dst_port)?;
    Ok(frame)
}

/// As [`emit_ipv4_udp`], in place: `frame` is [`IPV4_UDP_HEADROOM`] bytes
/// (any value, overwritten) followed by the UDP payload.
pub fn emit_ipv4_udp_in_place(
    frame: &mut [u8],
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
) -> Result<(), EmitError> {
    if frame.len() < IPV4_UDP_HEADROOM {
        return Err(EmitError::NoHeadroom { len: frame.len() });
    }
    let ip_len = frame.len() - ETH_HDR_LEN;
    let ip_len16 = len_field(ip_len)?;
    // Smaller than the IP length, so it fits too.
    let udp_len16 = len_field(ip_len - IPV4_HDR_LEN)?;
    frame[..IPV4_UDP_HEADROOM].fill(0);
    write_eth(frame, eth_src, eth_dst, EtherTypes::Ipv4);
    {
        let mut udp =
            MutableUdpPacket::new(&mut frame[ETH_HDR_LEN + IPV4_HDR_LEN..]).expect("sized for UDP");
        udp.set_source(src_port);
        udp.set_destination(dst_port);
        udp.set_length(udp_len16);
    }
    let udp_at = ETH_HDR_LEN + IPV4_HDR_LEN;
    let ck = checksum::udp_v4(src, dst, &frame[udp_at..]);
    frame[udp_at + UDP_CHECKSUM..udp_at + UDP_CHECKSUM + 2].copy_from_slice(&ck);
    let mut ip = MutableIpv4Packet::new(&mut frame[ETH_HDR_LEN..]).expect("sized for IPv4");
    ip.set_version(4);
    ip.set_header_length(IHL_NO_OPTIONS);
    ip.set_total_length(ip_len16);
    ip.set_ttl(IPV4_TTL);
    ip.set_next_level_protocol(IpNextHeaderProtocols::Udp);
    ip.set_source(src);
    ip.set_destination(dst);
    let ck = checksum::ipv4_header(&frame[ETH_HDR_LEN..ETH_HDR_LEN + IPV4_HDR_LEN]);
    frame[ETH_HDR_LEN + IPV4_CHECKSUM..ETH_HDR_LEN + IPV4_CHECKSUM + 2].copy_from_slice(&ck);
    Ok(())
}

fn emit_ipv6(
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    next: u8,
    payload_len: usize,
) -> Result<Vec<u8>, EmitError> {
    // Checked before allocating; RFC 8200 §3: a 16-bit payload length.
    let payload_len16 = len_field(payload_len)?;
    let mut frame = vec![0u8; ETH_HDR_LEN + IPV6_HDR_LEN + payload_len];
    write_eth(&mut frame, eth_src, eth_dst, EtherTypes::Ipv6);
    let mut ip = MutableIpv6Packet::new(&mut frame[ETH_HDR_LEN..]).expect("sized for IPv6");
    ip.set_version(6);
    ip.set_payload_length(payload_len16);
    ip.set_next_header(pnet_packet::ip::IpNextHeaderProtocol(next));
    ip.set_hop_limit(hop_limit);
    ip.set_source(src);
    ip.set_destination(dst);
    Ok(frame)
}

/// Builds Ethernet + IPv6 + UDP around `payload` (hop limit 64); refused
/// when the UDP datagram would be over 65,535 bytes.
pub fn emit_ipv6_udp(
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Result<Vec<u8>, EmitError> {
    let udp_len = UDP_HDR_LEN + payload.len();
    // The UDP length is the IPv6 payload length, checked by emit_ipv6.
    let mut frame = emit_ipv6(eth_src, eth_dst, src, dst, 64, PROTO_UDP, udp_len)?;
    let udp_len16 = len_field(udp_len)?;
    let mut udp =
        MutableUdpPacket::new(&mut frame[ETH_HDR_LEN + IPV6_HDR_LEN..]).expect("sized for UDP");
    udp.set_source(src_port);
    udp.set_destination(dst_port);
    udp.set_length(udp_len16);
    udp.set_payload(payload);
    let udp_at = ETH_HDR_LEN + IPV6_HDR_LEN;
    let ck = checksum::udp_v6(src, dst, &frame[udp_at..]);
    frame[udp_at + UDP_CHECKSUM..udp_at + UDP_CHECKSUM + 2].copy_from_slice(&ck);
    Ok(frame)
}

/// Builds Ethernet + IPv6 + ICMPv6. `icmp` is the whole ICMPv6 message
/// (type, code, checksum placeholder, body); the checksum is filled in here.
/// Refused when the message is over 65,535 bytes.
pub fn emit_ipv6_icmp(
    eth_src: MacAddr,
    eth_dst: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    icmp: &[u8],
) -> Result<Vec<u8>, EmitError> {
    let mut frame = emit_ipv6(
        eth_src,
        eth_dst,
        src,
        dst,
        hop_limit,
        PROTO_ICMPV6,
        icmp.len(),
    )?;
    let off = ETH_HDR_LEN + IPV6_HDR_LEN;
    frame[off..].copy_from_slice(icmp);
    frame[off + 2..off + 4].fill(0);
    let ck = checksum::icmpv6(src, dst, &frame[off..]);
    frame[off + 2..off + 4].copy_from_slice(&ck);
    Ok(frame)
}

/// The IP packet inside an Ethernet frame (what NFQUEUE would have delivered).
pub fn ip_of_frame(frame: &[u8]) -> Option<&[u8]> {
    frame.get(ETH_HDR_LEN..)
}

/// Destination MAC of an Ethernet frame.
pub fn eth_dst(frame: &[u8]) -> Option<MacAddr> {
    MacAddr::from_slice(frame)
}

/// Source MAC of an Ethernet frame.
pub fn eth_src(frame: &[u8]) -> Option<MacAddr> {
    frame.get(6..12).and_then(MacAddr::from_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 2]);

    #[test]
    fn ipv4_udp_round_trips_with_valid_checksums() {
        let f = emit_ipv4_udp(
            A,
            B,
            "192.0.2.1".parse().unwrap(),
            "192.0.2.10".parse().unwrap(),
            67,
            68,
            b"hello",
        )
        .unwrap();
        assert_eq!(eth_src(&f), Some(A));
        assert_eq!(eth_dst(&f), Some(B));
        let ip = ip_of_frame(&f).unwrap();
        let ck = Ipv4Packet::new(ip).unwrap();
        assert_eq!(pnet_packet::ipv4::checksum(&ck), ck.get_checksum());
        let u = parse_ipv4_udp(ip).unwrap();
        assert_eq!((u.src_port, u.dst_port, u.payload), (67, 68, &b"hello"[..]));
    }

    #[test]
    fn ipv4_corrupted_udp_checksum_is_refused() {
        let f = emit_ipv4_udp(
            A,
            B,
            "192.0.2.1".parse().unwrap(),
            "192.0.2.10".parse().unwrap(),
            67,
            68,
            b"hello",
        )
        .unwrap();
        let mut ip = ip_of_frame(&f).unwrap().to_vec();
        let last = ip.len() - 1;
        ip[last] ^= 0xff;
        assert_eq!(parse_ipv4_udp(&ip), Err(FrameError::BadChecksum));
    }

    #[test]
    fn truncations_never_panic_and_are_refused() {
        let f = emit_ipv4_udp(
            A,
            B,
            "192.0.2.1".parse().unwrap(),
            "192.0.2.10".parse().unwrap(),
            67,
            68,
            b"hello",
        )
        .unwrap();
        let ip = ip_of_frame(&f).unwrap();
        for n in 0..ip.len() {
            assert!(parse_ipv4_udp(&ip[..n]).is_err(), "len {n}");
        }
        let f6 = emit_ipv6_udp(
            A,
            B,
            "fe80::1".parse().unwrap(),
            "fe80::2".parse().unwrap(),
            547,
            546,
            b"x",
        )
        .unwrap();
        let ip6 = ip_of_frame(&f6).unwrap();
        assert!(parse_ipv6_udp(ip6).is_ok());
        for n in 0..ip6.len() {
            assert!(parse_ipv6_udp(&ip6[..n]).is_err(), "len {n}");
        }
    }

    #[test]
    fn ipv6_icmp_checksum_verifies() {
        let msg = [134u8, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
        let f = emit_ipv6_icmp(
            A,
            B,
            "fe80::1".parse().unwrap(),
            "ff02::1".parse().unwrap(),
            255,
            &msg,
        )
        .unwrap();
        let ip = parse_ipv6_icmp(ip_of_frame(&f).unwrap()).unwrap();
        assert_eq!(ip.hop_limit, 255);
        assert_eq!(ip.payload[0], 134);
    }

    /// The 16-bit length fields are written exactly up to 65,535 and a
    /// longer packet is refused, never built with a wrapped-around length.
    #[test]
    fn lengths_over_sixteen_bits_are_refused_not_truncated() {
        let (s4, d4): (Ipv4Addr, Ipv4Addr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap());
        let (s6, d6): (Ipv6Addr, Ipv6Addr) =
            ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap());
        let max4 = MAX_LEN_FIELD - IPV4_HDR_LEN - UDP_HDR_LEN;
        let f = emit_ipv4_udp(A, B, s4, d4, 67, 68, &vec![7; max4]).unwrap();
        let u = parse_ipv4_udp(ip_of_frame(&f).unwrap()).unwrap();
        assert_eq!(u.payload.len(), max4);
        assert_eq!(
            emit_ipv4_udp(A, B, s4, d4, 67, 68, &vec![7; max4 + 1]),
            Err(EmitError::TooLong { len: 65_536 })
        );
        let max6 = MAX_LEN_FIELD - UDP_HDR_LEN;
        let f = emit_ipv6_udp(A, B, s6, d6, 547, 546, &vec![7; max6]).unwrap();
        let u = parse_ipv6_udp(ip_of_frame(&f).unwrap()).unwrap();
        assert_eq!(u.payload.len(), max6);
        assert_eq!(f.len(), ETH_HDR_LEN + IPV6_HDR_LEN + MAX_LEN_FIELD);
        // The 288 KB frame of issue #15 is refused.
        for n in [max6 + 1, 288 * 1024] {
            assert_eq!(
                emit_ipv6_udp(A, B, s6, d6, 547, 546, &vec![7; n]),
                Err(EmitError::TooLong {
                    len: UDP_HDR_LEN + n
                })
            );
        }
        let mut icmp = vec![0u8; MAX_LEN_FIELD];
        icmp[0] = 134;
        let f = emit_ipv6_icmp(A, B, s6, d6, 255, &icmp).unwrap();
        assert_eq!(
            parse_ipv6_icmp(ip_of_frame(&f).unwrap())
                .unwrap()
                .payload
                .len(),
            MAX_LEN_FIELD
        );
        icmp.push(0);
        assert_eq!(
            emit_ipv6_icmp(A, B, s6, d6, 255, &icmp),
            Err(EmitError::TooLong { len: 65_536 })
        );
        let mut short = vec![0u8; IPV4_UDP_HEADROOM - 1];
        assert_eq!(
            emit_ipv4_udp_in_place(&mut short, A, B, s4, d4, 67, 68),
            Err(EmitError::NoHeadroom { len: 41 })
        );
    }

    /// A datagram whose computed UDP checksum is zero: emitted with 0xFFFF
    /// in the field (RFC 768; a zero field would be "no checksum" over IPv4
    /// and dropped over IPv6, RFC 8200 §8.1), and accepted when a client
    /// sends it that way, over both IP versions.
    #[test]
    fn a_computed_zero_udp_checksum_travels_as_all_ones() {
        let (s4, d4): (Ipv4Addr, Ipv4Addr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap());
        let (s6, d6): (Ipv6Addr, Ipv6Addr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        // The payload's last word is chosen so that the whole sum is all
        // ones: it is the checksum computed with that word zero.
        let zero_sum_payload = |ck: [u8; 2]| {
            let mut p = b"payload!".to_vec();
            let n = p.len();
            p[n - 2..].copy_from_slice(&ck);
            p
        };
        let p = zero_sum_payload([0, 0]);
        let f = emit_ipv4_udp(A, B, s4, d4, 67, 68, &p).unwrap();
        let ck4 = [f[ETH_HDR_LEN + 26], f[ETH_HDR_LEN + 27]];
        let f = emit_ipv4_udp(A, B, s4, d4, 67, 68, &zero_sum_payload(ck4)).unwrap();
        let ip = ip_of_frame(&f).unwrap();
        assert_eq!(ip[IPV4_HDR_LEN + UDP_CHECKSUM..][..2], [0xff, 0xff]);
        assert!(parse_ipv4_udp(ip).is_ok());

        let f = emit_ipv6_udp(A, B, s6, d6, 547, 546, &p).unwrap();
        let ck6 = [f[ETH_HDR_LEN + 46], f[ETH_HDR_LEN + 47]];
        let f = emit_ipv6_udp(A, B, s6, d6, 547, 546, &zero_sum_payload(ck6)).unwrap();
        let ip = ip_of_frame(&f).unwrap();
        assert_eq!(ip[IPV6_HDR_LEN + UDP_CHECKSUM..][..2], [0xff, 0xff]);
        assert!(parse_ipv6_udp(ip).is_ok());
    }
}
