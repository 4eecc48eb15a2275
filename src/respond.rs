//! Dispatch: one queued packet's metadata and payload → one [`Decision`].
//!
//! Pure: the daemon, the replay command, tests, fuzzers and benches all
//! call [`decide`]. The serving tap is the queue's physindev when set
//! (bridged), else its indev (routed). A packet from a tap without a
//! binding is ACCEPTed untouched; every packet from a bound tap is
//! DROPped, after its reply (if any) was sent.

use crate::binding::table::{Served, Snapshot};
use crate::config::Config;
use crate::domain::Protocol;
use crate::mac::MacAddr;
use crate::proto::{self, Context, DropReason, Outcome};

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
    match snap.lookup(ifindex) {
        None => Decision {
            verdict: Verdict::Accept,
            ifindex,
            outcome: None,
        },
        Some(served) => serve(config, served, protocol, meta, payload),
    }
}

/// As [`decide`], with the tap's rate limit applied right after the tap
/// lookup, before any parsing: over the limit → DROP (`rate_limited`).
/// `now_ns` is the monotonic time the limiter measures rates with.
pub fn decide_limited(
    config: &Config,
    snap: &Snapshot,
    protocol: Protocol,
    meta: &Meta,
    payload: &[u8],
    now_ns: u64,
) -> Decision {
    let ifindex = meta.tap();
    match snap.lookup(ifindex) {
        None => Decision {
            verdict: Verdict::Accept,
            ifindex,
            outcome: None,
        },
        Some(served) if !served.limiter.allow(protocol, config.limits, now_ns) => Decision {
            verdict: Verdict::Drop,
            ifindex,
            outcome: Some(Outcome::Dropped(DropReason::RateLimited)),
        },
        Some(served) => serve(config, served, protocol, meta, payload),
    }
}

/// Runs the protocol handler for a packet from a bound tap.
fn serve(
    config: &Config,
    served: &Served,
    protocol: Protocol,
    meta: &Meta,
    payload: &[u8],
) -> Decision {
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
        ifindex: meta.tap(),
        outcome: Some(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::file::parse;
    use crate::binding::store::{Link, Store};
    use crate::ratelimit::Limit;

    fn snapshot() -> Snapshot {
        let mut s = Store::new();
        for (n, tap, mac) in [
            (1u8, "tap1", "aa:00:00:00:00:01"),
            (2, "tap2", "aa:00:00:00:00:02"),
        ] {
            let text = format!("MAC={mac}\nIP=192.0.2.{n}0\nSUBNET=192.0.2.0/24\n");
            s.set_file(tap, parse(tap, &text, true));
            s.link_up(
                tap,
                Link {
                    ifindex: u32::from(n),
                    mac: Some(MacAddr([0xfe, 0, 0, 0, 0, n])),
                },
            );
        }
        s.snapshot(&Snapshot::default()).0
    }

    fn meta(ifindex: u32) -> Meta {
        Meta {
            indev: ifindex,
            physindev: 0,
            src_mac: None,
        }
    }

    #[test]
    fn serving_tap_is_physindev_when_bridged() {
        assert_eq!(
            Meta {
                indev: 7,
                physindev: 3,
                src_mac: None
            }
            .tap(),
            3
        );
        assert_eq!(
            Meta {
                indev: 7,
                physindev: 0,
                src_mac: None
            }
            .tap(),
            7
        );
    }

    #[test]
    fn unknown_tap_is_accepted_untouched() {
        let d = decide(
            &Config::default(),
            &snapshot(),
            Protocol::Dhcpv4,
            &meta(99),
            b"anything",
        );
        assert_eq!(
            d,
            Decision {
                verdict: Verdict::Accept,
                ifindex: 99,
                outcome: None
            }
        );
    }

    #[test]
    fn bound_tap_always_drops_even_garbage() {
        let d = decide(
            &Config::default(),
            &snapshot(),
            Protocol::Dhcpv4,
            &meta(1),
            b"",
        );
        assert_eq!(d.verdict, Verdict::Drop);
        assert!(matches!(d.outcome, Some(Outcome::Dropped(_))));
    }

    #[test]
    fn rate_limit_cuts_one_tap_and_spares_the_others() {
        let snap = snapshot();
        let cfg = Config {
            limits: Limit { rate: 1, burst: 2 },
            ..Config::default()
        };
        let t = 5_000_000_000;
        let limited = |ifindex, proto| {
            decide_limited(&cfg, &snap, proto, &meta(ifindex), b"x", t).outcome
                == Some(Outcome::Dropped(DropReason::RateLimited))
        };
        assert!(!limited(1, Protocol::Dhcpv4));
        assert!(!limited(1, Protocol::Dhcpv4));
        assert!(
            limited(1, Protocol::Dhcpv4),
            "third packet in the same instant is over the burst"
        );
        assert!(!limited(2, Protocol::Dhcpv4), "another tap is not affected");
        assert!(
            !limited(1, Protocol::Dhcpv6),
            "another protocol is not affected"
        );
        assert_eq!(snap.lookup(1).unwrap().limiter.dropped(Protocol::Dhcpv4), 1);
        // Unknown taps are never limited: they are accepted.
        assert_eq!(
            decide_limited(&cfg, &snap, Protocol::Dhcpv4, &meta(42), b"x", t).verdict,
            Verdict::Accept
        );
    }
}
