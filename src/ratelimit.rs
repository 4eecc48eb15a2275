//! Per-tap, per-protocol token buckets: one guest cannot starve the others.
//!
//! Applied by the worker right after the tap lookup, before any parsing
//! (DESIGN.md: a flood must cost as little as a lookup and an atomic
//! update). State is fixed-size per binding, so a guest cannot make it grow
//! (no per-MAC, per-xid or per-DUID state exists anywhere in the daemon).
//! Time is passed in (nanoseconds on a monotonic clock), so the logic is
//! testable without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::domain::Protocol;

pub use crate::config::Limit;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ns: u64,
}

/// How often a rate-limited tap may be logged.
pub const LOG_INTERVAL_NS: u64 = 10_000_000_000;

/// The buckets and counters of one tap.
#[derive(Debug)]
pub struct TapLimiter {
    buckets: [Mutex<Bucket>; 4],
    dropped: [AtomicU64; 4],
    last_log_ns: AtomicU64,
    logged_dropped: AtomicU64,
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
            last_log_ns: AtomicU64::new(0),
            logged_dropped: AtomicU64::new(0),
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

    /// Whether a "rate limited" log line is due now (at most one per tap per
    /// [`LOG_INTERVAL_NS`]); returns the drops since the last line if so.
    pub fn log_due(&self, now_ns: u64) -> Option<u64> {
        let last = self.last_log_ns.load(Ordering::Relaxed);
        if last != 0 && now_ns.saturating_sub(last) < LOG_INTERVAL_NS {
            return None;
        }
        self.last_log_ns
            .compare_exchange(last, now_ns.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        let total = self.dropped_total();
        Some(total - self.logged_dropped.swap(total, Ordering::Relaxed))
    }
}

/// Monotonic nanoseconds since an arbitrary start (process-wide).
pub fn now_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
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

    #[test]
    fn logging_is_once_per_interval_with_the_count() {
        let l = TapLimiter::default();
        let lim = Limit { rate: 1, burst: 1 };
        for _ in 0..5 {
            l.allow(Protocol::NeighbourSolicit, lim, SEC);
        }
        assert_eq!(l.log_due(SEC), Some(4));
        for _ in 0..3 {
            l.allow(Protocol::NeighbourSolicit, lim, SEC);
        }
        assert_eq!(l.log_due(2 * SEC), None);
        assert_eq!(l.log_due(SEC + LOG_INTERVAL_NS), Some(3));
    }
}
