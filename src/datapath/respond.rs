//! Dispatch: one queued packet's metadata and payload → one [`Decision`].
//!
//! Pure: the daemon, the replay command, tests, fuzzers and benches all
//! call the one [`decide`], rate limit included (time is passed in). The serving tap is the queue's physindev when set
//! (bridged), else its indev (routed). A packet from a tap without a
//! binding is ACCEPTed untouched; every packet from a bound tap is
//! DROPped, after its reply (if any) was sent.

use crate::config::Config;
use crate::datapath::tap::{Served, Snapshot};
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

/// The decision for one packet: not ours (ACCEPT, untouched), or served
/// (DROP, after its outcome — a reply, a request consumed, a drop with its
/// reason — is carried out). Nothing else can be expressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not from a tap we serve: ACCEPT, untouched.
    NotOurs {
        /// The tap it came in on.
        ifindex: u32,
    },
    /// From a bound tap: DROP once `outcome` is carried out.
    Served {
        /// The tap it came in on, and the reply (if any) leaves through.
        ifindex: u32,
        /// What the protocol handler (or the rate limit) decided.
        outcome: Outcome,
    },
}

impl Decision {
    /// The netfilter verdict it implies.
    pub fn verdict(&self) -> Verdict {
        match self {
            Decision::NotOurs { .. } => Verdict::Accept,
            Decision::Served { .. } => Verdict::Drop,
        }
    }

    /// The serving tap.
    pub fn ifindex(&self) -> u32 {
        match self {
            Decision::NotOurs { ifindex } | Decision::Served { ifindex, .. } => *ifindex,
        }
    }

    /// The outcome, for a served packet.
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Decision::NotOurs { .. } => None,
            Decision::Served { outcome, .. } => Some(outcome),
        }
    }
}

/// Decides what to do with one queued packet: the tap lookup, then the
/// tap's rate limit (before any parsing: over the limit → DROP,
/// `rate_limited`), then the protocol handler. `now_ns` is the monotonic
/// time the limiter measures rates with (the caller's clock, read once per
/// packet: the daemon's receive time, a capture's timestamps in replay).
/// The tap's last seen ([`crate::datapath::lastseen`]) records the request
/// and its outcome at that time.
pub fn decide(
    config: &Config,
    snap: &Snapshot,
    protocol: Protocol,
    meta: &Meta,
    payload: &[u8],
    now_ns: u64,
) -> Decision {
    let ifindex = meta.tap();
    let Some(served) = snap.lookup(ifindex) else {
        return Decision::NotOurs { ifindex };
    };
    let outcome = if served.limiter.allow(protocol, config.limits, now_ns) {
        serve(config, served, protocol, meta, payload)
    } else {
        Outcome::Dropped(DropReason::RateLimited)
    };
    served.seen.record(protocol, now_ns, &outcome);
    Decision::Served { ifindex, outcome }
}

/// Runs the protocol handler for a packet from a bound tap.
fn serve(
    config: &Config,
    served: &Served,
    protocol: Protocol,
    meta: &Meta,
    payload: &[u8],
) -> Outcome {
    let ctx = Context {
        config,
        binding: &served.binding,
        server_mac: served.server_mac,
        src_mac: meta.src_mac,
    };
    match protocol {
        Protocol::Dhcpv4 => proto::dhcpv4::handle(&ctx, payload),
        Protocol::RouterSolicit => proto::ra::handle(&ctx, payload),
        Protocol::NeighbourSolicit => proto::ndp::handle(&ctx, payload),
        Protocol::Dhcpv6 => proto::dhcpv6::handle(&ctx, payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::file::parse;
    use crate::binding::store::{Link, Store};
    use crate::datapath::ratelimit::Limit;

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

    /// A DHCPDISCOVER from `mac`, as the IP packet a queue delivers.
    fn discover(mac: MacAddr) -> Vec<u8> {
        use dhcproto::v4::{DhcpOption, Message, MessageType};
        use dhcproto::{Encodable, Encoder};
        use std::net::Ipv4Addr;
        let z = Ipv4Addr::UNSPECIFIED;
        let mut m = Message::new_with_id(7, z, z, z, z, &mac.0);
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Discover));
        let mut payload = Vec::new();
        m.encode(&mut Encoder::new(&mut payload)).expect("encode");
        let f = crate::proto::frame::emit_ipv4_udp(
            mac,
            MacAddr::BROADCAST,
            z,
            Ipv4Addr::BROADCAST,
            68,
            67,
            &payload,
        )
        .expect("frame");
        crate::proto::frame::ip_of_frame(&f).expect("ip").to_vec()
    }

    /// A packet queued from nft's bridge family (or by iptables through
    /// br_netfilter) names the bridge as indev and the port as physindev
    /// (nfnetlink_queue, kernels with CONFIG_BRIDGE_NETFILTER); without
    /// br_netfilter built in, the port is the indev. Either way the port is
    /// served: its binding, a DROP verdict, the reply framed for its VM
    /// from the port's MAC, to go out of the port, not the bridge.
    #[test]
    fn a_packet_queued_from_the_bridge_family_is_served_for_its_port() {
        let mut cfg = Config::default();
        cfg.dhcp.server_ip = Some(std::net::Ipv4Addr::new(192, 0, 2, 254));
        let snap = snapshot();
        let vm = MacAddr([0xaa, 0, 0, 0, 0, 0x01]);
        let bridge = 50;
        for meta in [
            Meta {
                indev: bridge,
                physindev: 1,
                src_mac: Some(vm),
            },
            Meta {
                indev: 1,
                physindev: 0,
                src_mac: Some(vm),
            },
        ] {
            let d = decide(&cfg, &snap, Protocol::Dhcpv4, &meta, &discover(vm), 1);
            assert_eq!((d.ifindex(), d.verdict()), (1, Verdict::Drop), "{meta:?}");
            let Some(Outcome::Reply(r)) = d.outcome() else {
                panic!("no reply: {d:?}");
            };
            assert_eq!(&r.frame[..6], &vm.0, "to the VM");
            assert_eq!(
                &r.frame[6..12],
                &[0xfe, 0, 0, 0, 0, 1],
                "from the port's MAC"
            );
        }
        // The bridge itself is no tap: a packet whose only device is the
        // bridge is not ours.
        let d = decide(
            &cfg,
            &snap,
            Protocol::Dhcpv4,
            &meta(bridge),
            &discover(vm),
            1,
        );
        assert_eq!(d.verdict(), Verdict::Accept);
    }

    #[test]
    fn unknown_tap_is_accepted_untouched() {
        let d = decide(
            &Config::default(),
            &snapshot(),
            Protocol::Dhcpv4,
            &meta(99),
            b"anything",
            1,
        );
        assert_eq!(d, Decision::NotOurs { ifindex: 99 });
        assert_eq!((d.verdict(), d.outcome()), (Verdict::Accept, None));
    }

    #[test]
    fn bound_tap_always_drops_even_garbage() {
        let d = decide(
            &Config::default(),
            &snapshot(),
            Protocol::Dhcpv4,
            &meta(1),
            b"",
            1,
        );
        assert_eq!(d.verdict(), Verdict::Drop);
        assert!(matches!(d.outcome(), Some(Outcome::Dropped(_))));
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
            decide(&cfg, &snap, proto, &meta(ifindex), b"x", t).outcome()
                == Some(&Outcome::Dropped(DropReason::RateLimited))
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
            decide(&cfg, &snap, Protocol::Dhcpv4, &meta(42), b"x", t).verdict(),
            Verdict::Accept
        );
    }
}
