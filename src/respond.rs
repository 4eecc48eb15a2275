//! Dispatch: one queued packet's metadata and payload → one [`Decision`].
//!
//! Pure: the daemon, the replay command, tests, fuzzers and benches all
//! call [`decide`]. The serving tap is the queue's physindev when set
//! (bridged), else its indev (routed). A packet from a tap without a
//! binding is ACCEPTed untouched; every packet from a bound tap is
//! DROPped, after its reply (if any) was sent.

use crate::binding::table::Snapshot;
use crate::config::Config;
use crate::mac::MacAddr;
use crate::metrics::Protocol;
use crate::proto::{self, Context, Outcome};

/// The netfilter verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the packet go on: not a tap we serve.
    Accept,
    /// Consume it: we answered (or refused) it.
    Drop,
}

/// What the queue told us about a packet besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    /// Input interface (the bridge, for a bridged tap).
    pub indev: u32,
    /// Physical input interface (the tap behind a bridge), 0 if none.
    pub physindev: u32,
    /// Source MAC of the frame.
    pub src_mac: Option<MacAddr>,
}

impl Meta {
    /// The serving tap: physindev if non-zero, else indev.
    pub fn tap(&self) -> u32 {
        if self.physindev != 0 {
            self.physindev
        } else {
            self.indev
        }
    }
}

/// The decision for one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The verdict to give.
    pub verdict: Verdict,
    /// The tap the reply (if any) leaves through.
    pub ifindex: u32,
    /// What the protocol handler decided; None when the tap is not ours.
    pub outcome: Option<Outcome>,
}

/// Decides what to do with one queued packet.
pub fn decide(
    config: &Config,
    snap: &Snapshot,
    protocol: Protocol,
    meta: &Meta,
    payload: &[u8],
) -> Decision {
    let ifindex = meta.tap();
    let Some(served) = snap.lookup(ifindex) else {
        return Decision {
            verdict: Verdict::Accept,
            ifindex,
            outcome: None,
        };
    };
    let ctx = Context {
        config,
        binding: &served.binding,
        server_mac: served.server_mac,
        src_mac: meta.src_mac,
    };
    let outcome = match protocol {
        Protocol::Dhcpv4 => proto::dhcpv4::handle(&ctx, payload),
        Protocol::RouterSolicit => proto::ra::handle_rs(&ctx, payload),
        Protocol::NeighbourSolicit => proto::ndp::handle_ns(&ctx, payload),
        Protocol::Dhcpv6 => proto::dhcpv6::handle(&ctx, payload),
    };
    Decision {
        verdict: Verdict::Drop,
        ifindex,
        outcome: Some(outcome),
    }
}
