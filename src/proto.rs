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

pub use crate::domain::{Consumed, DropReason, ReplyKind};

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
