//! Per-tap, per-protocol token buckets: one guest cannot starve the others.
//!
//! Applied by the worker right after the tap lookup, before any parsing
//! (a flood must cost as little as a lookup and an atomic
//! update). State is fixed-size per binding, so a guest cannot make it grow
//! (no per-MAC, per-xid or per-DUID state exists anywhere in the daemon).
//! Time is passed in (nanoseconds on a monotonic clock), so the logic is
//! testable without sleeping. Logging the drops is the worker's, through
//! the one per-tap log throttle (`logthrottle`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::domain::Protocol;

pub use crate::config::Limit;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ns: u64,
}

/// The buckets and counters of one tap.
#[derive(Debug)]
pub struct TapLimiter {
    buckets: [Mutex<Bucket>; 4],
    dropped: [AtomicU64; 4],
}

impl Default for TapLimiter {
    fn default() -> Self {
        TapLimiter {
            buckets: std::array::from_fn(|_| {
                Mutex::new(Bucket {
                    tokens: f64::NAN,
                    last_ns: 0,
                })
            }),
            dropped: Default::default(),
        }
    }
}

impl TapLimiter {
    /// Takes one token for `proto` at time `now_ns`; false when over the limit.
    pub fn allow(&self, proto: Protocol, limit: Limit, now_ns: u64) -> bool {
        if limit.rate == 0 {
            return true;
        }
        let (rate, burst) = (f64::from(limit.rate), f64::from(limit.burst.max(1)));
        let i = proto as usize;
        let ok = {
            let mut b = self.buckets[i].lock().unwrap_or_else(|e| e.into_inner());
            if b.tokens.is_nan() {
                b.tokens = burst;
                b.last_ns = now_ns;
            }
            let elapsed = now_ns.saturating_sub(b.last_ns) as f64 / 1e9;
            b.tokens = (b.tokens + elapsed * rate).min(burst);
            b.last_ns = now_ns.max(b.last_ns);
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                true
            } else {
                false
            }
        };
        if !ok {
            self.dropped[i].fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Packets dropped for `proto` so far.
    pub fn dropped(&self, proto: Protocol) -> u64 {
        self.dropped[proto as usize].load(Ordering::Relaxed)
    }

    /// Packets dropped over all protocols.
    pub fn dropped_total(&self) -> u64 {
        Protocol::ALL.iter().map(|p| self.dropped(*p)).sum()
    }
}

/// Monotonic nanoseconds since an arbitrary start (process-wide).
pub fn now_ns() -> u64 {
    ns_at(std::time::Instant::now())
}

/// [`now_ns`] of an instant already read (no second clock read per packet).
pub fn ns_at(t: std::time::Instant) -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let start = *START.get_or_init(|| t);
    u64::try_from(t.saturating_duration_since(start).as_nanos()).unwrap_or(u64::MAX) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn burst_then_rate() {
        let l = TapLimiter::default();
        let lim = Limit { rate: 10, burst: 5 };
        let t0 = 7 * SEC;
        assert_eq!(
            (0..5)
                .filter(|_| l.allow(Protocol::Dhcpv4, lim, t0))
                .count(),
            5
        );
        assert!(!l.allow(Protocol::Dhcpv4, lim, t0));
        // 100 ms later: one more token.
        assert!(l.allow(Protocol::Dhcpv4, lim, t0 + SEC / 10));
        assert!(!l.allow(Protocol::Dhcpv4, lim, t0 + SEC / 10));
        assert_eq!(l.dropped(Protocol::Dhcpv4), 2);
        // A flood of 10,000 packets in one second passes only about rate + burst.
        let passed = (0..10_000u64)
            .filter(|k| l.allow(Protocol::Dhcpv4, lim, t0 + SEC + k * 100_000))
            .count();
        assert!((9..=16).contains(&passed), "{passed}");
    }

    #[test]
    fn protocols_are_independent() {
        let l = TapLimiter::default();
        let lim = Limit { rate: 1, burst: 1 };
        assert!(l.allow(Protocol::Dhcpv4, lim, SEC));
        assert!(!l.allow(Protocol::Dhcpv4, lim, SEC));
        assert!(l.allow(Protocol::RouterSolicit, lim, SEC));
        assert!(l.allow(Protocol::NeighbourSolicit, lim, SEC));
        assert!(l.allow(Protocol::Dhcpv6, lim, SEC));
        assert_eq!(l.dropped_total(), 1);
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let l = TapLimiter::default();
        let lim = Limit { rate: 0, burst: 0 };
        assert!((0..1000).all(|_| l.allow(Protocol::Dhcpv4, lim, SEC)));
    }

    #[test]
    fn tokens_never_exceed_burst_after_idle() {
        let l = TapLimiter::default();
        let lim = Limit {
            rate: 100,
            burst: 3,
        };
        assert!(l.allow(Protocol::Dhcpv6, lim, SEC));
        let later = 1000 * SEC;
        assert_eq!(
            (0..10)
                .filter(|_| l.allow(Protocol::Dhcpv6, lim, later))
                .count(),
            3
        );
    }
}
