//! Per-VM "last seen": for each tap and protocol, when the last request
//! came, when the last reply was decided and of what type, and the last
//! drop with its reason. Fixed size per binding (a guest cannot make it
//! grow), lock-free (a few relaxed stores per packet), kept across
//! snapshots with the tap's rate limiter. Times are the worker's monotonic
//! nanoseconds ([`crate::datapath::ratelimit::ns_at`]); [`LastSeen::report`]
//! turns them into wall-clock times for `status` and the SIGUSR1 dump.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

use crate::domain::{DropReason, Protocol, ReplyKind};
use crate::proto::Outcome;

/// One protocol's last events (0 = never).
#[derive(Debug, Default)]
struct Slot {
    request_ns: AtomicU64,
    reply_ns: AtomicU64,
    /// 1 + the reply kind's index in [`ReplyKind::ALL`].
    reply_kind: AtomicU8,
    drop_ns: AtomicU64,
    /// 1 + the reason's index in [`DropReason::ALL`].
    drop_reason: AtomicU8,
}

/// The last events of one tap, per protocol.
#[derive(Debug, Default)]
pub struct LastSeen {
    slots: [Slot; Protocol::ALL.len()],
}

/// One protocol's last events, as `status` shows them (times in
/// milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenStatus {
    /// Protocol label.
    pub protocol: String,
    /// The last request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_unix_ms: Option<u64>,
    /// The last reply.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_unix_ms: Option<u64>,
    /// Its type (offer, ack, nak, router_advert, neighbour_advert, advertise, dhcpv6_reply).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply: Option<String>,
    /// The last drop.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drop_unix_ms: Option<u64>,
    /// Its reason (rate_limited, spoofed_mac, malformed, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drop: Option<String>,
}

impl LastSeen {
    /// Records a request of `protocol` at `now_ns` and its outcome.
    pub fn record(&self, protocol: Protocol, now_ns: u64, outcome: &Outcome) {
        let s = &self.slots[protocol as usize];
        s.request_ns.store(now_ns, Ordering::Relaxed);
        match outcome {
            Outcome::Reply(r) => {
                s.reply_kind.store(r.kind as u8 + 1, Ordering::Relaxed);
                s.reply_ns.store(now_ns, Ordering::Relaxed);
            }
            Outcome::Dropped(d) => {
                s.drop_reason.store(*d as u8 + 1, Ordering::Relaxed);
                s.drop_ns.store(now_ns, Ordering::Relaxed);
            }
            Outcome::Consumed(_) => {}
        }
    }

    /// The protocols seen at least once, with wall-clock times: `now_ns`
    /// (monotonic) is the same instant as `now_unix_ms`.
    pub fn report(&self, now_ns: u64, now_unix_ms: u64) -> Vec<SeenStatus> {
        let wall = |ns: u64| {
            (ns != 0).then(|| now_unix_ms.saturating_sub(now_ns.saturating_sub(ns) / 1_000_000))
        };
        Protocol::ALL
            .iter()
            .zip(&self.slots)
            .filter(|(_, s)| s.request_ns.load(Ordering::Relaxed) != 0)
            .map(|(p, s)| SeenStatus {
                protocol: p.as_str().to_string(),
                request_unix_ms: wall(s.request_ns.load(Ordering::Relaxed)),
                reply_unix_ms: wall(s.reply_ns.load(Ordering::Relaxed)),
                reply: label(&s.reply_kind, &ReplyKind::ALL, ReplyKind::as_str),
                drop_unix_ms: wall(s.drop_ns.load(Ordering::Relaxed)),
                drop: label(&s.drop_reason, &DropReason::ALL, DropReason::as_str),
            })
            .collect()
    }
}

/// The label of a stored 1-based index, if any.
fn label<T>(v: &AtomicU8, all: &[T], name: fn(&T) -> &'static str) -> Option<String> {
    let i = usize::from(v.load(Ordering::Relaxed)).checked_sub(1)?;
    all.get(i).map(|t| name(t).to_string())
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// "3s ago", "2m ago", "1h ago", from two Unix millisecond times.
pub fn ago(at_ms: u64, now_ms: u64) -> String {
    let s = now_ms.saturating_sub(at_ms) / 1000;
    match s {
        0..=119 => format!("{s}s ago"),
        120..=7199 => format!("{}m ago", s / 60),
        _ => format!("{}h ago", s / 3600),
    }
}

/// One line per protocol: "dhcpv4 request 3s ago, reply ack 3s ago, drop
/// rate_limited 1m ago".
pub fn describe(s: &SeenStatus, now_ms: u64) -> String {
    let mut out = s.protocol.clone();
    let parts = [
        ("request", None, s.request_unix_ms),
        ("reply", s.reply.as_deref(), s.reply_unix_ms),
        ("drop", s.drop.as_deref(), s.drop_unix_ms),
    ];
    for (what, label, at) in parts {
        if let Some(at) = at {
            let label = label.map(|l| format!(" {l}")).unwrap_or_default();
            out.push_str(&format!(" {what}{label} {},", ago(at, now_ms)));
        }
    }
    out.trim_end_matches(',').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Reply;

    #[test]
    fn records_the_last_request_reply_and_drop_per_protocol() {
        let l = LastSeen::default();
        assert!(l.report(1, 1_000_000).is_empty(), "nothing seen yet");
        let ack = Outcome::Reply(Reply {
            kind: ReplyKind::Ack,
            frame: vec![],
        });
        l.record(Protocol::Dhcpv4, 1_000_000_000, &ack);
        l.record(
            Protocol::Dhcpv4,
            3_000_000_000,
            &Outcome::Dropped(DropReason::RateLimited),
        );
        // Now is 5 s on the monotonic clock, 100 000 ms on the wall clock.
        let r = l.report(5_000_000_000, 100_000);
        assert_eq!(
            r,
            vec![SeenStatus {
                protocol: "dhcpv4".into(),
                request_unix_ms: Some(98_000),
                reply_unix_ms: Some(96_000),
                reply: Some("ack".into()),
                drop_unix_ms: Some(98_000),
                drop: Some("rate_limited".into()),
            }]
        );
        assert_eq!(
            describe(&r[0], 100_000),
            "dhcpv4 request 2s ago, reply ack 4s ago, drop rate_limited 2s ago"
        );
    }
}
