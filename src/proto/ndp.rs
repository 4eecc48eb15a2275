//! Neighbour Discovery: Neighbour Solicitation → Neighbour Advertisement
//! (RFC 4861 §7), and the ND pieces shared with [`super::ra`] (option
//! parsing, the router's identity, the guest anti-spoof check).
//!
//! Supported: NS for the router's link-local address (fe80::EUI-64 of the
//! INDEV MAC), for GATEWAY6, and — as the original did, since the host is
//! the VM's only neighbour — for any other address of SUBNET6, answered with
//! the INDEV MAC. DAD probes (source `::`) are answered only to defend the
//! router's own addresses. NS without a source link-layer option are
//! answered too, to the frame's source MAC.
//!
//! Deliberately not supported: answering for the guest's own addresses (its
//! EUI64 / IP6 / EUI-64-of-MAC addresses: its DAD must succeed), addresses
//! outside SUBNET6, Secure ND (RFC 3971) options (ignored), NS behind
//! extension headers (refused by `frame`), and any neighbour cache: the
//! answer is a pure function of the binding.

use std::net::Ipv6Addr;

use crate::mac::MacAddr;

use super::frame::{self, FrameError, Ip6};
use super::{Context, DropReason, Outcome, Reply, ReplyKind};

/// ICMPv6 type of a Router Solicitation.
pub const ICMPV6_ROUTER_SOLICIT: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ICMPV6_ROUTER_ADVERT: u8 = 134;
/// ICMPv6 type of a Neighbour Solicitation.
pub const ICMPV6_NEIGHBOUR_SOLICIT: u8 = 135;
/// ICMPv6 type of a Neighbour Advertisement.
pub const ICMPV6_NEIGHBOUR_ADVERT: u8 = 136;
/// Hop limit of every ND message, sent and accepted (RFC 4861 §6.1.1, §7.1.1).
pub const ND_HOP_LIMIT: u8 = 255;

/// ND option type: Source Link-Layer Address (RFC 4861 §4.6.1).
pub const OPT_SOURCE_LLA: u8 = 1;
/// ND option type: Target Link-Layer Address (RFC 4861 §4.6.1).
pub const OPT_TARGET_LLA: u8 = 2;
/// ND options come in units of 8 octets (RFC 4861 §4.6).
pub const OPT_UNIT: usize = 8;
/// Length (in units) of a link-layer address option for Ethernet (RFC 2464 §8).
pub const OPT_LLA_UNITS: u8 = 1;

/// Byte ranges of the ICMPv6 header common to all messages.
pub mod icmp_field {
    use std::ops::Range;
    /// Type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// First byte past the common header.
    pub const BODY: usize = 4;
}

/// Byte ranges of an NS / NA message (RFC 4861 §4.3, §4.4).
pub mod ns_field {
    use std::ops::Range;
    /// NA flags byte (R, S, O in the top bits); reserved in an NS.
    pub const FLAGS: usize = 4;
    /// Reserved bytes after the flags.
    pub const RESERVED: Range<usize> = 5..8;
    /// Target address.
    pub const TARGET: Range<usize> = 8..24;
    /// First option.
    pub const OPTIONS: usize = 24;
}

/// Shortest valid NS: header + target (RFC 4861 §7.1.1: "ICMP length … is 24 or more octets").
pub const NS_MIN_LEN: usize = ns_field::OPTIONS;
/// NA flag: Router.
pub const NA_FLAG_ROUTER: u8 = 0x80;
/// NA flag: Solicited.
pub const NA_FLAG_SOLICITED: u8 = 0x40;
/// NA flag: Override.
pub const NA_FLAG_OVERRIDE: u8 = 0x20;

/// ff02::1, all-nodes.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Ethernet group address of ff02::1 (RFC 2464 §7).
pub const ALL_NODES_MAC: MacAddr = MacAddr([0x33, 0x33, 0, 0, 0, 1]);

/// The ND options this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdOptions {
    /// Source link-layer address option, if present.
    pub source_lla: Option<MacAddr>,
}

/// Why ND options are invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NdOptionError {
    /// An option with length 0 (RFC 4861 §6.1.1, §7.1.1).
    #[error("ND option with length 0")]
    ZeroLength,
    /// An option running past the message.
    #[error("ND option past the end of the message")]
    Truncated,
    /// A link-layer address option that is not an Ethernet address.
    #[error("link-layer address option of the wrong size")]
    BadLinkLayerAddress,
}

/// Parses the options of an ND message, checking every option's length.
pub fn parse_nd_options(mut bytes: &[u8]) -> Result<NdOptions, NdOptionError> {
    let mut out = NdOptions::default();
    while !bytes.is_empty() {
        let (kind, units) = match bytes {
            [k, u, ..] => (*k, *u),
            _ => return Err(NdOptionError::Truncated),
        };
        // RFC 4861 §6.1.1 / §7.1.1: "All included options have a length that is greater than zero."
        if units == 0 {
            return Err(NdOptionError::ZeroLength);
        }
        let len = usize::from(units) * OPT_UNIT;
        let opt = bytes.get(..len).ok_or(NdOptionError::Truncated)?;
        if kind == OPT_SOURCE_LLA {
            if units != OPT_LLA_UNITS {
                return Err(NdOptionError::BadLinkLayerAddress);
            }
            out.source_lla = MacAddr::from_slice(&opt[2..]);
        }
        // RFC 4861 §4.6: unrecognised options are silently ignored.
        bytes = &bytes[len..];
    }
    Ok(out)
}

/// Encodes a link-layer address option (source or target) for an Ethernet MAC.
pub fn emit_lla_option(kind: u8, mac: MacAddr, out: &mut Vec<u8>) {
    out.push(kind);
    out.push(OPT_LLA_UNITS);
    out.extend_from_slice(&mac.octets());
}

/// The router's identity on every tap: fe80::/64 + EUI-64 of the INDEV MAC.
pub fn router_link_local(ctx: &Context<'_>) -> Ipv6Addr {
    ctx.server_mac.link_local()
}

/// Anti-spoof: the frame's source MAC and the source link-layer option (when
/// known) must be the binding's MAC, unless MACSPOOF allows any.
pub fn check_guest_mac(ctx: &Context<'_>, source_lla: Option<MacAddr>) -> Result<(), DropReason> {
    if ctx.binding.macspoof {
        return Ok(());
    }
    let mac = ctx.binding.mac;
    if ctx.src_mac.is_some_and(|m| m != mac) || source_lla.is_some_and(|m| m != mac) {
        return Err(DropReason::SpoofedMac);
    }
    Ok(())
}

/// True for a solicited-node multicast address ff02::1:ffXX:XXXX (RFC 4291 §2.7.1).
pub fn is_solicited_node(a: &Ipv6Addr) -> bool {
    let s = a.segments();
    s[..5] == [0xff02, 0, 0, 0, 0] && s[5] == 1 && s[6] & 0xff00 == 0xff00
}

/// Maps a parse error of the IP/ICMPv6 layers onto a drop reason.
pub(crate) fn frame_drop(_e: FrameError) -> DropReason {
    DropReason::Malformed
}

/// Parses an IPv6 packet carrying an ICMPv6 message of type `want`.
/// Returns the IP header and the ICMPv6 message, or why it is dropped.
pub(crate) fn parse_icmp_of_type(packet: &[u8], want: u8) -> Result<Ip6<'_>, DropReason> {
    let ip = frame::parse_ipv6_icmp(packet).map_err(frame_drop)?;
    if ip.payload.get(icmp_field::TYPE) != Some(&want) {
        return Err(DropReason::UnsupportedMessage);
    }
    Ok(ip)
}

/// A Neighbour Advertisement, as decided (RFC 4861 §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourAdvert {
    /// Ethernet source (the INDEV MAC).
    pub eth_src: MacAddr,
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// IPv6 source (the target address answered for).
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// R flag.
    pub router: bool,
    /// S flag.
    pub solicited: bool,
    /// O flag.
    pub override_flag: bool,
    /// Target address (copied from the NS).
    pub target: Ipv6Addr,
    /// Target link-layer address option.
    pub target_lla: MacAddr,
}

impl NeighbourAdvert {
    /// Length of the ICMPv6 message (header, target, one TLLA option).
    pub fn buffer_len(&self) -> usize {
        ns_field::OPTIONS + OPT_UNIT
    }

    /// The ICMPv6 message, checksum zero (filled in by [`frame::emit_ipv6_icmp`]).
    pub fn icmp_bytes(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.buffer_len());
        m.extend_from_slice(&[ICMPV6_NEIGHBOUR_ADVERT, 0, 0, 0]);
        let mut flags = 0;
        if self.router {
            flags |= NA_FLAG_ROUTER;
        }
        if self.solicited {
            flags |= NA_FLAG_SOLICITED;
        }
        if self.override_flag {
            flags |= NA_FLAG_OVERRIDE;
        }
        m.extend_from_slice(&[flags, 0, 0, 0]);
        m.extend_from_slice(&self.target.octets());
        emit_lla_option(OPT_TARGET_LLA, self.target_lla, &mut m);
        m
    }

    /// The whole Ethernet frame.
    pub fn emit(&self) -> Vec<u8> {
        frame::emit_ipv6_icmp(
            self.eth_src,
            self.eth_dst,
            self.src,
            self.dst,
            ND_HOP_LIMIT,
            &self.icmp_bytes(),
        )
        .expect("an NA is 32 bytes")
    }

    /// Reads an NA back from an Ethernet frame (tests, replay), checksum verified.
    pub fn parse(frame_bytes: &[u8]) -> Option<NeighbourAdvert> {
        let ip = frame::parse_ipv6_icmp(frame::ip_of_frame(frame_bytes)?).ok()?;
        let m = ip.payload;
        if m.first() != Some(&ICMPV6_NEIGHBOUR_ADVERT) || ip.hop_limit != ND_HOP_LIMIT {
            return None;
        }
        let flags = *m.get(ns_field::FLAGS)?;
        let target: [u8; 16] = m.get(ns_field::TARGET)?.try_into().ok()?;
        let tlla = m.get(ns_field::OPTIONS..)?;
        if tlla.first() != Some(&OPT_TARGET_LLA) || tlla.get(1) != Some(&OPT_LLA_UNITS) {
            return None;
        }
        Some(NeighbourAdvert {
            eth_src: frame::eth_src(frame_bytes)?,
            eth_dst: frame::eth_dst(frame_bytes)?,
            src: ip.src,
            dst: ip.dst,
            router: flags & NA_FLAG_ROUTER != 0,
            solicited: flags & NA_FLAG_SOLICITED != 0,
            override_flag: flags & NA_FLAG_OVERRIDE != 0,
            target: Ipv6Addr::from(target),
            target_lla: MacAddr::from_slice(tlla.get(2..)?)?,
        })
    }
}

/// A validated NS (RFC 4861 §7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourSolicit {
    /// IPv6 source (`::` for a DAD probe).
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// The address asked about.
    pub target: Ipv6Addr,
    /// Its source link-layer address option.
    pub source_lla: Option<MacAddr>,
}

/// Parses and validates an NS (RFC 4861 §7.1.1).
pub fn parse_ns(packet: &[u8]) -> Result<NeighbourSolicit, DropReason> {
    let ip = parse_icmp_of_type(packet, ICMPV6_NEIGHBOUR_SOLICIT)?;
    let m = ip.payload;
    // RFC 4861 §7.1.1: "The IP Hop Limit field has a value of 255".
    if ip.hop_limit != ND_HOP_LIMIT {
        return Err(DropReason::Invalid);
    }
    // RFC 4861 §7.1.1: "ICMP Code is 0."
    if m.get(icmp_field::CODE) != Some(&0) {
        return Err(DropReason::Invalid);
    }
    // RFC 4861 §7.1.1: "ICMP length (derived from the IP length) is 24 or more octets."
    let (Some(target), Some(opts)) = (m.get(ns_field::TARGET), m.get(ns_field::OPTIONS..)) else {
        return Err(DropReason::Invalid);
    };
    let target: [u8; 16] = target.try_into().map_err(|_| DropReason::Invalid)?;
    let target = Ipv6Addr::from(target);
    // RFC 4861 §7.1.1: "Target Address is not a multicast address."
    if target.is_multicast() {
        return Err(DropReason::Invalid);
    }
    let opts = parse_nd_options(opts).map_err(|_| DropReason::Invalid)?;
    if ip.src.is_unspecified() {
        // RFC 4861 §7.1.1: "If the IP source address is the unspecified address,
        // the IP destination address is a solicited-node multicast address" and
        // "there is no source link-layer address option in the message."
        if !is_solicited_node(&ip.dst) || opts.source_lla.is_some() {
            return Err(DropReason::Invalid);
        }
    }
    Ok(NeighbourSolicit {
        src: ip.src,
        dst: ip.dst,
        target,
        source_lla: opts.source_lla,
    })
}

/// What a target address is to this tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    /// The router's own: its link-local or GATEWAY6.
    Router,
    /// Another address of SUBNET6, answered by proxy.
    Proxied,
}

/// True when `a` is, or could be, one of the guest's own addresses.
fn is_guest_address(ctx: &Context<'_>, a: Ipv6Addr) -> bool {
    let b = ctx.binding;
    // dhcpv6_address() is IP6 or EUI64, both listed.
    [
        Some(b.mac.link_local()),
        b.eui64,
        b.ip6,
        b.subnet6.map(|n| b.mac.eui64_address(n.network())),
    ]
    .contains(&Some(a))
}

/// Classifies a target, or says why it is not answered.
fn classify_target(ctx: &Context<'_>, target: Ipv6Addr) -> Result<TargetKind, DropReason> {
    let subnet6 = ctx.binding.subnet6.ok_or(DropReason::NotConfigured)?;
    // Never claim the guest's own addresses: its DAD must succeed.
    if is_guest_address(ctx, target) {
        return Err(DropReason::NotOurs);
    }
    if target == router_link_local(ctx) || Some(target) == ctx.binding.gateway6 {
        return Ok(TargetKind::Router);
    }
    if subnet6.contains(&target) {
        return Ok(TargetKind::Proxied);
    }
    Err(DropReason::NotOurs)
}

/// Decides the NA answering an NS, or why none is sent.
pub fn decide(ctx: &Context<'_>, packet: &[u8]) -> Result<NeighbourAdvert, DropReason> {
    let ns = parse_ns(packet)?;
    check_guest_mac(ctx, ns.source_lla)?;
    if !ctx.config.ipv6.enabled {
        return Err(DropReason::Disabled);
    }
    let kind = classify_target(ctx, ns.target)?;
    // A node does not ask for its own address but in DAD; never answer it.
    if ns.target == ns.src {
        return Err(DropReason::NotOurs);
    }
    let dad = ns.src.is_unspecified();
    if dad && kind != TargetKind::Router {
        // Only the router's addresses are defended; any other tentative
        // address of the subnet is the guest's to take.
        return Err(DropReason::NotOurs);
    }
    let (dst, eth_dst) = if dad {
        // RFC 4861 §7.2.4: "If the source of the solicitation is the unspecified
        // address, the node MUST set the Solicited flag to zero and multicast
        // the advertisement to the all-nodes address."
        (ALL_NODES, ALL_NODES_MAC)
    } else {
        // RFC 4861 §7.2.4: "Otherwise, the node MUST set the Solicited flag to
        // one and unicast the advertisement to the Source Address of the solicitation."
        let mac = ns.source_lla.or(ctx.src_mac).unwrap_or(ctx.binding.mac);
        (ns.src, mac)
    };
    Ok(NeighbourAdvert {
        eth_src: ctx.server_mac,
        eth_dst,
        // RFC 4861 §7.2.2: the source is "an address assigned to the interface
        // from which the advertisement is sent"; we answer as the owner of the
        // target, so the target itself is the source. Clients such as ndisc6
        // accept an NA only from the address they asked about.
        src: ns.target,
        dst,
        // RFC 4861 §7.2.4: "the Router flag is set to the value of the IsRouter" — we route.
        router: true,
        solicited: !dad,
        // RFC 4861 §7.2.4: "If the Target Address is … a unicast address for
        // which the node is providing proxy service … the Override flag SHOULD
        // be set to zero. Otherwise, the Override flag SHOULD be set to one."
        override_flag: kind == TargetKind::Router,
        target: ns.target,
        target_lla: ctx.server_mac,
    })
}

/// Answers a Neighbour Solicitation (the packet as NFQUEUE delivers it).
pub fn handle(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    match decide(ctx, packet) {
        Ok(na) => Outcome::Reply(Reply {
            kind: ReplyKind::NeighbourAdvert,
            frame: na.emit(),
        }),
        Err(reason) => Outcome::Dropped(reason),
    }
}

#[cfg(test)]
mod tests;
