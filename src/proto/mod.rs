//! Sans-IO protocol code: bytes and values in, values out.
//!
//! Every handler takes a [`Context`] (config, binding, identities) and the
//! IP packet exactly as NFQUEUE delivers it (no Ethernet header), and
//! returns an [`Outcome`]: a reply frame to send out of the tap, a request
//! understood that owes no reply, or a drop with its reason.

pub mod checksum;
pub mod dhcpv4;
pub mod dhcpv6;
pub mod frame;
pub mod ndp;
pub mod ra;
#[cfg(test)]
mod testutil;

use crate::binding::Binding;
use crate::config::Config;
use crate::mac::MacAddr;

/// Everything a protocol handler may know about one queued packet.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The daemon configuration.
    pub config: &'a Config,
    /// The binding of the serving tap.
    pub binding: &'a Binding,
    /// MAC of the binding's INDEV interface: source MAC of every reply.
    pub server_mac: MacAddr,
    /// Source MAC of the frame, as the queue reported it (None if unknown).
    pub src_mac: Option<MacAddr>,
}

/// A reply frame, ready for the wire (Ethernet header included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What was answered, for logs and metrics.
    pub kind: ReplyKind,
    /// The whole Ethernet frame.
    pub frame: Vec<u8>,
}

/// What a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    /// DHCPOFFER
    Offer,
    /// DHCPACK
    Ack,
    /// DHCPNAK
    Nak,
    /// Router Advertisement
    RouterAdvert,
    /// Neighbour Advertisement
    NeighbourAdvert,
    /// DHCPv6 Advertise
    Advertise,
    /// DHCPv6 Reply
    Dhcpv6Reply,
}

/// A request understood and handled that owes no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consumed {
    /// DHCPRELEASE
    Release,
    /// DHCPDECLINE: the guest found its address in use.
    Decline,
}

/// Why a packet from a bound tap gets no reply (verdict DROP).
/// One variant per metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not parseable at the IP/UDP/ICMPv6 layer.
    Malformed,
    /// A UDP packet to the DHCP port that is not DHCP (no magic cookie, …).
    NotDhcp,
    /// A message type we never answer (e.g. a BOOTREPLY, an RA).
    UnsupportedMessage,
    /// chaddr / frame source MAC / ND link-layer option is not the binding's MAC.
    SpoofedMac,
    /// REQUEST addressed to another server (option 54).
    OtherServer,
    /// The binding has nothing to offer for this protocol (no IP, no SUBNET6).
    NotConfigured,
    /// Fails RFC validation (hop limit, code, options…).
    Invalid,
    /// NS for an address we must not answer (the guest's own, …).
    NotOurs,
    /// The protocol is disabled or the mode does not serve it.
    Disabled,
    /// Over the per-tap rate limit.
    RateLimited,
}

impl DropReason {
    /// Metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::NotDhcp => "not_dhcp",
            DropReason::UnsupportedMessage => "unsupported_message",
            DropReason::SpoofedMac => "spoofed_mac",
            DropReason::OtherServer => "other_server",
            DropReason::NotConfigured => "not_configured",
            DropReason::Invalid => "invalid",
            DropReason::NotOurs => "not_ours",
            DropReason::Disabled => "disabled",
            DropReason::RateLimited => "rate_limited",
        }
    }
}

/// What a protocol handler decided for one packet from a bound tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this frame out of the tap.
    Reply(Reply),
    /// Handled; no reply is owed.
    Consumed(Consumed),
    /// No reply; the reason.
    Dropped(DropReason),
}
