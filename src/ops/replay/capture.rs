//! Reading pcap / pcapng captures, finding the IP packet in each frame and
//! classifying it as the original's iptables rules would; writing replies.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

use crate::domain::Protocol;
use crate::mac::MacAddr;
use crate::proto::frame::{ETH_HDR_LEN, IPV4_HDR_LEN, IPV6_HDR_LEN, PROTO_ICMPV6, PROTO_UDP};
use crate::proto::ndp::{ICMPV6_NEIGHBOUR_SOLICIT, ICMPV6_ROUTER_SOLICIT};

/// First four bytes of a pcapng file (a Section Header Block).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// Ethertype of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// Ethertype of IPv6.
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Linux cooked capture (SLL) header length.
const SLL_HDR_LEN: usize = 16;
/// DHCPv4 server port.
const DHCPV4_SERVER_PORT: u16 = 67;
/// DHCPv6 server port.
const DHCPV6_SERVER_PORT: u16 = 547;
/// Snap length of the reply pcap.
const OUT_SNAPLEN: u32 = 65_535;

/// Byte ranges of the headers looked at.
mod field {
    use std::ops::Range;
    /// Ethernet source MAC.
    pub const ETH_SRC: Range<usize> = 6..12;
    /// Ethertype.
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// SLL: link-layer address length.
    pub const SLL_ADDR_LEN: Range<usize> = 4..6;
    /// SLL: link-layer address (first 6 bytes for Ethernet).
    pub const SLL_ADDR: Range<usize> = 6..12;
    /// SLL: protocol (ethertype).
    pub const SLL_PROTOCOL: Range<usize> = 14..16;
    /// IPv4: flags and fragment offset.
    pub const IPV4_FRAG: Range<usize> = 6..8;
    /// IPv4: protocol.
    pub const IPV4_PROTO: usize = 9;
    /// IPv6: next header.
    pub const IPV6_NEXT: usize = 6;
    /// UDP: destination port.
    pub const UDP_DST: Range<usize> = 2..4;
}

/// The link layer of a capture's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II (LINKTYPE_ETHERNET, 1).
    Ethernet,
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113), as `tcpdump -i any` writes.
    LinuxSll,
    /// Raw IP, version from the first nibble (LINKTYPE_RAW 101, IPV4 228, IPV6 229).
    RawIp,
    /// Anything else: its frames are not replayed.
    Other(u32),
}

impl From<DataLink> for LinkType {
    fn from(d: DataLink) -> LinkType {
        match d {
            DataLink::ETHERNET => LinkType::Ethernet,
            DataLink::LINUX_SLL => LinkType::LinuxSll,
            DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => LinkType::RawIp,
            other => LinkType::Other(u32::from(other)),
        }
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture timestamp.
    pub timestamp: Duration,
    /// Its link layer.
    pub link: LinkType,
    /// The bytes captured.
    pub data: Vec<u8>,
}

impl Frame {
    /// The source MAC, for the link layers that carry one.
    pub fn src_mac(&self) -> Option<MacAddr> {
        match self.link {
            LinkType::Ethernet => self.data.get(field::ETH_SRC).and_then(MacAddr::from_slice),
            LinkType::LinuxSll => {
                let len = self.data.get(field::SLL_ADDR_LEN)?;
                (u16::from_be_bytes([len[0], len[1]]) == 6)
                    .then(|| self.data.get(field::SLL_ADDR).and_then(MacAddr::from_slice))
                    .flatten()
            }
            LinkType::RawIp | LinkType::Other(_) => None,
        }
    }
}

/// The IP packet of a frame, as NFQUEUE would deliver it (None when the
/// frame carries no IPv4 / IPv6).
pub fn ip_packet(frame: &Frame) -> Option<&[u8]> {
    let (ethertype, at) = match frame.link {
        LinkType::Ethernet => (frame.data.get(field::ETHERTYPE)?, ETH_HDR_LEN),
        LinkType::LinuxSll => (frame.data.get(field::SLL_PROTOCOL)?, SLL_HDR_LEN),
        LinkType::RawIp => return Some(&frame.data),
        LinkType::Other(_) => return None,
    };
    match u16::from_be_bytes([ethertype[0], ethertype[1]]) {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => frame.data.get(at..),
        _ => None,
    }
}

/// Whether the iptables rules would queue a frame, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// Queued to this protocol's queue.
    Queued(Protocol),
    /// Not queued; why (for the printed line).
    NotQueued(String),
}

fn be16(b: &[u8], r: std::ops::Range<usize>) -> Option<u16> {
    b.get(r).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// Classifies a frame as the original's rules would: IPv4 UDP dport 67,
/// ICMPv6 133 / 135, IPv6 UDP dport 547 (after any extension headers, as
/// ip6tables' `-p` does).
pub fn classify(frame: &Frame) -> Classified {
    let not = |why: &str| Classified::NotQueued(why.to_string());
    let Some(ip) = ip_packet(frame) else {
        return match frame.link {
            LinkType::Other(n) => Classified::NotQueued(format!("linktype {n}")),
            _ => not("not IP"),
        };
    };
    match ip.first().map(|b| b >> 4) {
        Some(4) => classify_v4(ip),
        Some(6) => classify_v6(ip),
        _ => not("not IPv4 or IPv6"),
    }
}

fn classify_v4(ip: &[u8]) -> Classified {
    let not = |why: &str| Classified::NotQueued(why.to_string());
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ihl < IPV4_HDR_LEN || ip.len() < ihl {
        return not("truncated IPv4 header");
    }
    // Only a first fragment has the UDP header the rule matches.
    if be16(ip, field::IPV4_FRAG).is_some_and(|f| f & 0x1fff != 0) {
        return not("IPv4 non-first fragment");
    }
    if ip[field::IPV4_PROTO] != PROTO_UDP {
        return Classified::NotQueued(format!("IPv4 protocol {}", ip[field::IPV4_PROTO]));
    }
    match be16(&ip[ihl..], field::UDP_DST) {
        Some(DHCPV4_SERVER_PORT) => Classified::Queued(Protocol::Dhcpv4),
        Some(p) => Classified::NotQueued(format!("IPv4 UDP to port {p}")),
        None => not("truncated UDP header"),
    }
}

/// IPv6 extension headers ip6tables skips to find the transport (RFC 8200 §4).
const EXT_HOP_BY_HOP: u8 = 0;
const EXT_ROUTING: u8 = 43;
const EXT_FRAGMENT: u8 = 44;
const EXT_DEST_OPTS: u8 = 60;

fn classify_v6(ip: &[u8]) -> Classified {
    let not = |why: &str| Classified::NotQueued(why.to_string());
    if ip.len() < IPV6_HDR_LEN {
        return not("truncated IPv6 header");
    }
    let (mut next, mut at) = (ip[field::IPV6_NEXT], IPV6_HDR_LEN);
    while matches!(
        next,
        EXT_HOP_BY_HOP | EXT_ROUTING | EXT_FRAGMENT | EXT_DEST_OPTS
    ) {
        let Some(hdr) = ip.get(at..at + 2) else {
            return not("truncated IPv6 extension header");
        };
        if next == EXT_FRAGMENT && be16(ip, at + 2..at + 4).is_some_and(|o| o & 0xfff8 != 0) {
            return not("IPv6 non-first fragment");
        }
        let len = if next == EXT_FRAGMENT {
            8
        } else {
            (usize::from(hdr[1]) + 1) * 8
        };
        (next, at) = (hdr[0], at + len);
    }
    let transport = ip.get(at..).unwrap_or_default();
    match next {
        PROTO_ICMPV6 => match transport.first() {
            Some(&ICMPV6_ROUTER_SOLICIT) => Classified::Queued(Protocol::RouterSolicit),
            Some(&ICMPV6_NEIGHBOUR_SOLICIT) => Classified::Queued(Protocol::NeighbourSolicit),
            Some(t) => Classified::NotQueued(format!("ICMPv6 type {t}")),
            None => not("truncated ICMPv6 header"),
        },
        PROTO_UDP => match be16(transport, field::UDP_DST) {
            Some(DHCPV6_SERVER_PORT) => Classified::Queued(Protocol::Dhcpv6),
            Some(p) => Classified::NotQueued(format!("IPv6 UDP to port {p}")),
            None => not("truncated UDP header"),
        },
        n => Classified::NotQueued(format!("IPv6 next header {n}")),
    }
}

/// Why a capture cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// Not a pcap or pcapng file, or a damaged one.
    #[error("not a readable pcap or pcapng capture: {0}")]
    Format(#[from] pcap_file::PcapError),
}

/// The frames of a capture.
#[derive(Debug)]
pub struct Capture {
    /// Every frame read, in order.
    pub frames: Vec<Frame>,
    /// A damaged record that ended the reading early (a truncated last
    /// record, as a killed tcpdump leaves): the frames before it are kept.
    pub damaged: Option<CaptureError>,
}

/// Reads a pcap or pcapng capture (told apart by the first bytes).
/// An unreadable header is an error; a damaged record later on ends the
/// reading, keeping the frames before it.
pub fn read_capture(mut input: impl Read) -> Result<Capture, CaptureError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    if bytes.starts_with(&PCAPNG_MAGIC) {
        read_pcapng(&bytes)
    } else {
        read_pcap(&bytes)
    }
}

fn read_pcap(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let mut reader = PcapReader::new(bytes)?;
    let link = LinkType::from(reader.header().datalink);
    let mut frames = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        match pkt {
            Ok(p) => frames.push(Frame {
                timestamp: p.timestamp,
                link,
                data: p.data.into_owned(),
            }),
            Err(e) => {
                return Ok(Capture {
                    frames,
                    damaged: Some(e.into()),
                })
            }
        }
    }
    Ok(Capture {
        frames,
        damaged: None,
    })
}

fn read_pcapng(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let mut reader = PcapNgReader::new(bytes)?;
    // Linktype of each interface of the current section.
    let mut interfaces: Vec<LinkType> = Vec::new();
    let mut frames = Vec::new();
    let link_of = |ifs: &[LinkType], id: u32| {
        usize::try_from(id)
            .ok()
            .and_then(|i| ifs.get(i).copied())
            .unwrap_or(LinkType::Other(u32::MAX))
    };
    while let Some(block) = reader.next_block() {
        let block = match block {
            Ok(b) => b,
            Err(e) => {
                return Ok(Capture {
                    frames,
                    damaged: Some(e.into()),
                })
            }
        };
        let (timestamp, link, data): (_, _, Cow<'_, [u8]>) = match block {
            Block::SectionHeader(_) => {
                interfaces.clear();
                continue;
            }
            Block::InterfaceDescription(idb) => {
                interfaces.push(idb.linktype.into());
                continue;
            }
            Block::EnhancedPacket(p) => (p.timestamp, link_of(&interfaces, p.interface_id), p.data),
            Block::SimplePacket(p) => (Duration::ZERO, link_of(&interfaces, 0), p.data),
            // The obsolete Packet Block: timestamps in the default unit, µs.
            Block::Packet(p) => (
                Duration::from_micros(p.timestamp),
                link_of(&interfaces, u32::from(p.interface_id)),
                p.data,
            ),
            _ => continue,
        };
        frames.push(Frame {
            timestamp,
            link,
            data: data.into_owned(),
        });
    }
    Ok(Capture {
        frames,
        damaged: None,
    })
}

/// Writes reply frames (timestamp, Ethernet frame) to a pcap (LINKTYPE_ETHERNET).
pub fn write_replies(out: impl Write, replies: &[(Duration, &[u8])]) -> Result<(), CaptureError> {
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        snaplen: OUT_SNAPLEN,
        endianness: pcap_file::Endianness::Little,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(out, header)?;
    for (ts, frame) in replies {
        let len = u32::try_from(frame.len()).expect("a reply frame is far below 4 GiB");
        w.write_packet(&PcapPacket::new(*ts, len, frame))?;
    }
    w.into_writer().flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::frame::{emit_ipv6_icmp, emit_ipv6_udp};

    const M: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x10]);

    fn frame(link: LinkType, data: Vec<u8>) -> Frame {
        Frame {
            timestamp: Duration::ZERO,
            link,
            data,
        }
    }

    #[test]
    fn linux_cooked_frames_give_their_ip_packet_and_source_mac() {
        let eth = emit_ipv6_icmp(
            M,
            M,
            "fe80::1".parse().unwrap(),
            "ff02::2".parse().unwrap(),
            255,
            &[133, 0, 0, 0, 0, 0, 0, 0],
        )
        .unwrap();
        // SLL: packet type, ARPHRD_ETHER, address length 6, address + 2 pad, protocol.
        let mut sll = vec![0, 0, 0, 1, 0, 6];
        sll.extend_from_slice(&M.0);
        sll.extend_from_slice(&[0, 0, 0x86, 0xdd]);
        sll.extend_from_slice(&eth[ETH_HDR_LEN..]);
        let f = frame(LinkType::LinuxSll, sll);
        assert_eq!(f.src_mac(), Some(M));
        assert_eq!(ip_packet(&f), Some(&eth[ETH_HDR_LEN..]));
        assert_eq!(classify(&f), Classified::Queued(Protocol::RouterSolicit));
    }

    #[test]
    fn ipv6_extension_headers_are_skipped_like_ip6tables_does() {
        let eth = emit_ipv6_udp(
            M,
            M,
            "fe80::1".parse().unwrap(),
            "ff02::1:2".parse().unwrap(),
            546,
            547,
            b"x",
        )
        .unwrap();
        let mut ip = eth[ETH_HDR_LEN..].to_vec();
        // Insert a hop-by-hop header (8 bytes: next = UDP, len 0, PadN).
        ip[field::IPV6_NEXT] = EXT_HOP_BY_HOP;
        let hbh = [PROTO_UDP, 0, 1, 4, 0, 0, 0, 0];
        ip.splice(IPV6_HDR_LEN..IPV6_HDR_LEN, hbh);
        let f = frame(LinkType::RawIp, ip.clone());
        assert_eq!(classify(&f), Classified::Queued(Protocol::Dhcpv6));
        // Truncated in the extension header: not queued, no panic.
        let cut = frame(LinkType::RawIp, ip[..IPV6_HDR_LEN + 1].to_vec());
        assert!(matches!(classify(&cut), Classified::NotQueued(_)));
    }

    #[test]
    fn any_prefix_of_any_frame_classifies_without_panic() {
        let eth = emit_ipv6_udp(
            M,
            M,
            "fe80::1".parse().unwrap(),
            "ff02::1:2".parse().unwrap(),
            546,
            547,
            b"x",
        )
        .unwrap();
        for link in [LinkType::Ethernet, LinkType::LinuxSll, LinkType::RawIp] {
            for n in 0..eth.len() {
                let f = frame(link, eth[..n].to_vec());
                let _ = (classify(&f), f.src_mac());
            }
        }
    }

    #[test]
    fn garbage_is_not_a_capture_and_replies_round_trip() {
        assert!(read_capture(&b"garbage, not a pcap"[..]).is_err());
        let mut out = Vec::new();
        write_replies(&mut out, &[(Duration::from_secs(7), &[1u8, 2, 3][..])]).unwrap();
        let cap = read_capture(&out[..]).unwrap();
        assert!(cap.damaged.is_none());
        assert_eq!(cap.frames.len(), 1);
        assert_eq!(
            (cap.frames[0].link, cap.frames[0].timestamp),
            (LinkType::Ethernet, Duration::from_secs(7))
        );
        assert_eq!(cap.frames[0].data, [1, 2, 3]);
    }
}
