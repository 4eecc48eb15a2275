//! Counters shared by the workers and read by `status` and the Prometheus
//! endpoint (`prom`). Lock-free: one relaxed atomic add per event.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::domain::Protocol;
use crate::domain::{Consumed, DropReason, ReplyKind};

const N_PROTO: usize = Protocol::ALL.len();
const N_REPLY: usize = ReplyKind::ALL.len();
const N_DROP: usize = DropReason::ALL.len();
const N_CONSUMED: usize = Consumed::ALL.len();

/// One labelled counter of a protocol: a reply, a no-reply outcome or a drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labelled {
    /// Replies sent of this kind.
    Reply(ReplyKind),
    /// Requests handled without reply, of this kind.
    Consumed(Consumed),
    /// Packets dropped for this reason.
    Drop(DropReason),
}

impl Labelled {
    /// The label value (message type or reason).
    pub fn label(&self) -> &'static str {
        match self {
            Labelled::Reply(k) => k.as_str(),
            Labelled::Consumed(c) => c.as_str(),
            Labelled::Drop(d) => d.as_str(),
        }
    }

    /// The kind's name in `status` keys (`protocol.kind.label`).
    pub fn kind(&self) -> &'static str {
        match self {
            Labelled::Reply(_) => "reply",
            Labelled::Consumed(_) => "consumed",
            Labelled::Drop(_) => "drop",
        }
    }

    /// Whether it can happen for protocol `p` at all (every drop reason
    /// can; a reply only for its own protocol).
    pub fn applies_to(&self, p: Protocol) -> bool {
        match self {
            Labelled::Reply(k) => k.protocol() == p,
            Labelled::Consumed(_) => Consumed::applies_to(p),
            Labelled::Drop(_) => true,
        }
    }
}

/// Per-protocol counters.
#[derive(Debug, Default)]
pub struct ProtoCounters {
    /// Packets received from the queue.
    pub received: AtomicU64,
    /// System calls that received queue messages (`recv_batch`: packets
    /// per call = `received` / this).
    pub receive_calls: AtomicU64,
    /// Times a worker spun on its drained queue before sleeping
    /// (`queue_spin_us`).
    pub spins: AtomicU64,
    /// Times a busy worker napped on a timer instead of sleeping on its
    /// queue socket (`queue_nap_us`).
    pub naps: AtomicU64,
    /// Accepted: not from a tap we serve.
    pub not_ours: AtomicU64,
    /// Replies sent, by kind.
    replies: [AtomicU64; N_REPLY],
    /// Handled without reply, by kind.
    consumed: [AtomicU64; N_CONSUMED],
    /// Dropped, by reason.
    drops: [AtomicU64; N_DROP],
    /// Replies that could not be sent.
    pub send_errors: AtomicU64,
    /// Verdicts that could not be given.
    pub verdict_errors: AtomicU64,
}

/// Upper bounds (inclusive, nanoseconds) of the reply latency buckets.
pub const LATENCY_BOUNDS_NS: [u64; 14] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    1_000_000_000,
];

/// A fixed-bucket histogram of the time from receive to verdict: one bucket
/// add and one sum add per packet.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Per bucket (not cumulative); the last one is +Inf.
    buckets: [AtomicU64; LATENCY_BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = LATENCY_BOUNDS_NS
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(LATENCY_BOUNDS_NS.len());
        inc(&self.buckets[i]);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// (sum in seconds, count, per-bucket (not cumulative) counts as
    /// (upper bound in seconds, count)), the shape prometheus-client encodes.
    pub fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let mut count = 0;
        let mut out = Vec::with_capacity(self.buckets.len());
        for (i, b) in self.buckets.iter().enumerate() {
            let n = b.load(Ordering::Relaxed);
            count += n;
            let le = LATENCY_BOUNDS_NS
                .get(i)
                .map_or(f64::INFINITY, |ns| *ns as f64 / 1e9);
            out.push((le, n));
        }
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (sum, count, out)
    }
}

/// The packets received on one queue.
#[derive(Debug, Clone)]
pub struct QueueCounter {
    /// Queue number.
    pub queue: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// Packets received.
    pub received: Arc<AtomicU64>,
}

/// All counters.
#[derive(Debug, Default)]
pub struct Metrics {
    per: [ProtoCounters; N_PROTO],
    /// Unsolicited RAs sent.
    pub periodic_ra: AtomicU64,
    /// Unsolicited RAs that could not be sent.
    pub periodic_ra_errors: AtomicU64,
    /// Configuration reloads (SIGHUP).
    pub reloads: AtomicU64,
    /// Reloads whose new configuration was refused.
    pub reload_errors: AtomicU64,
    /// Time from receive to the decision carried out (reply sent).
    pub latency: LatencyHistogram,
    /// Per-queue receive counters, registered as queues are bound.
    queues: Mutex<Vec<QueueCounter>>,
}

fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// Registers queue `queue`; its worker adds to the returned counter.
    /// A queue bound again (a reload that removed and re-added it) gets its
    /// earlier counter back: one series per (queue, protocol), and a
    /// counter that never goes backwards.
    pub fn register_queue(&self, queue: u16, protocol: Protocol) -> Arc<AtomicU64> {
        let mut queues = self
            .queues
            .lock()
            .expect("queue counter lock is never poisoned");
        if let Some(q) = queues
            .iter()
            .find(|q| q.queue == queue && q.protocol == protocol)
        {
            return q.received.clone();
        }
        let received = Arc::new(AtomicU64::new(0));
        queues.push(QueueCounter {
            queue,
            protocol,
            received: received.clone(),
        });
        received
    }

    /// The per-queue counters.
    pub fn queues(&self) -> Vec<QueueCounter> {
        self.queues
            .lock()
            .expect("queue counter lock is never poisoned")
            .clone()
    }

    /// Visits every labelled counter of protocol `p` with its value.
    pub fn for_each_labelled(&self, p: Protocol, mut f: impl FnMut(Labelled, u64)) {
        let c = self.proto(p);
        for k in ReplyKind::ALL {
            f(
                Labelled::Reply(k),
                c.replies[k as usize].load(Ordering::Relaxed),
            );
        }
        for k in Consumed::ALL {
            f(
                Labelled::Consumed(k),
                c.consumed[k as usize].load(Ordering::Relaxed),
            );
        }
        for r in DropReason::ALL {
            f(
                Labelled::Drop(r),
                c.drops[r as usize].load(Ordering::Relaxed),
            );
        }
    }

    /// The counters of protocol `p`.
    pub fn proto(&self, p: Protocol) -> &ProtoCounters {
        &self.per[p as usize]
    }

    /// Counts a reply.
    pub fn reply(&self, p: Protocol, k: ReplyKind) {
        inc(&self.proto(p).replies[k as usize]);
    }

    /// Counts a request handled without reply.
    pub fn consumed(&self, p: Protocol, c: Consumed) {
        inc(&self.proto(p).consumed[c as usize]);
    }

    /// Counts a drop.
    pub fn dropped(&self, p: Protocol, r: DropReason) {
        inc(&self.proto(p).drops[r as usize]);
    }

    /// Every non-zero counter as `protocol.kind.label` → value.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        let mut rows: Vec<(String, u64)> = Vec::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for p in Protocol::ALL {
            let c = self.proto(p);
            let n = p.as_str();
            rows.push((format!("{n}.received"), load(&c.received)));
            rows.push((format!("{n}.receive_calls"), load(&c.receive_calls)));
            rows.push((format!("{n}.queue_spins"), load(&c.spins)));
            rows.push((format!("{n}.queue_naps"), load(&c.naps)));
            rows.push((format!("{n}.accepted_not_ours"), load(&c.not_ours)));
            rows.push((format!("{n}.send_errors"), load(&c.send_errors)));
            rows.push((format!("{n}.verdict_errors"), load(&c.verdict_errors)));
            self.for_each_labelled(p, |l, v| {
                rows.push((format!("{n}.{}.{}", l.kind(), l.label()), v));
            });
        }
        rows.push(("ra.periodic".into(), load(&self.periodic_ra)));
        rows.push(("ra.periodic_errors".into(), load(&self.periodic_ra_errors)));
        rows.push(("reload.count".into(), load(&self.reloads)));
        rows.push(("reload.errors".into(), load(&self.reload_errors)));
        let m: BTreeMap<String, u64> = rows.into_iter().filter(|(_, v)| *v != 0).collect();
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_line_up_with_enums() {
        let m = Metrics::default();
        m.reply(Protocol::Dhcpv4, ReplyKind::Dhcpv6Reply);
        m.reply(Protocol::Dhcpv4, ReplyKind::Offer);
        m.consumed(Protocol::Dhcpv4, Consumed::Decline);
        m.dropped(Protocol::Dhcpv6, DropReason::RateLimited);
        let map = m.to_map();
        assert_eq!(map.get("dhcpv4.reply.dhcpv6_reply"), Some(&1));
        assert_eq!(map.get("dhcpv4.reply.offer"), Some(&1));
        assert_eq!(map.get("dhcpv4.consumed.decline"), Some(&1));
        assert_eq!(map.get("dhcpv6.drop.rate_limited"), Some(&1));
        assert_eq!(map.len(), 4);
    }

    #[test]
    fn latency_buckets_count_each_observation_once() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(5));
        h.observe(Duration::from_micros(30));
        h.observe(Duration::from_secs(5));
        let (sum, count, b) = h.snapshot();
        assert_eq!(count, 3);
        assert!((sum - 5.000035).abs() < 1e-9, "{sum}");
        assert_eq!(b[0], (10e-6, 1));
        assert_eq!(b[2], (50e-6, 1));
        assert_eq!(b[b.len() - 2].1, 0);
        assert_eq!(b[b.len() - 1], (f64::INFINITY, 1));
    }
}
