//! Per-tap rate limiting of repetitive warnings, so a noisy guest (a
//! spoofed MAC on every request, a flood over its packet rate limit, a tap
//! whose sends keep failing) cannot flood the log. Each queue worker owns one limiter: no lock.
//!
//! At most `burst` messages per tap per `interval`; the rest of that
//! interval is suppressed and counted, and the first message of a later
//! interval reports how many were suppressed. The clock is passed in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Default: messages per tap per interval.
pub const DEFAULT_BURST: u32 = 5;
/// Default interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// Taps remembered before old windows are forgotten (bounds memory).
const MAX_KEYS: usize = 4096;

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Log it; `suppressed` messages of this tap were dropped before it.
    Log {
        /// Messages suppressed since the last one logged.
        suppressed: u64,
    },
    /// Do not log it.
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    logged: u32,
    suppressed: u64,
}

/// A per-key (tap ifindex) message limiter.
#[derive(Debug)]
pub struct WarnLimiter {
    burst: u32,
    interval: Duration,
    windows: HashMap<u32, Window>,
}

impl Default for WarnLimiter {
    fn default() -> Self {
        WarnLimiter::new(DEFAULT_BURST, DEFAULT_INTERVAL)
    }
}

impl WarnLimiter {
    /// Logs `what` about tap `ifindex` (with `protocol` and `detail`) at
    /// `now` if this limiter lets it through, saying how many like it were
    /// suppressed before. The one way repetitive per-tap warnings are
    /// written (queue workers, the RA advertiser).
    pub fn warn(
        &mut self,
        ifindex: u32,
        now: Instant,
        protocol: &str,
        what: &str,
        detail: &dyn std::fmt::Display,
    ) {
        match self.check(ifindex, now) {
            Permit::Suppress => {}
            Permit::Log { suppressed: 0 } => {
                tracing::warn!(protocol, ifindex, detail = %detail, "{what}");
            }
            Permit::Log { suppressed } => {
                tracing::warn!(protocol, ifindex, detail = %detail, suppressed, "{what} (suppressed {suppressed} similar messages for this tap)");
            }
        }
    }

    /// At most `burst` messages per key per `interval`.
    pub fn new(burst: u32, interval: Duration) -> WarnLimiter {
        WarnLimiter {
            burst: burst.max(1),
            interval,
            windows: HashMap::new(),
        }
    }

    /// Decides about one message for `key` at `now`.
    pub fn check(&mut self, key: u32, now: Instant) -> Permit {
        if self.windows.len() >= MAX_KEYS && !self.windows.contains_key(&key) {
            let interval = self.interval;
            self.windows
                .retain(|_, w| now.saturating_duration_since(w.start) < interval);
        }
        let w = self.windows.entry(key).or_insert(Window {
            start: now,
            logged: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(w.start) >= self.interval {
            w.start = now;
            w.logged = 0;
        }
        if w.logged < self.burst {
            w.logged += 1;
            let suppressed = std::mem::take(&mut w.suppressed);
            Permit::Log { suppressed }
        } else {
            w.suppressed += 1;
            Permit::Suppress
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_suppress_then_summary() {
        let mut l = WarnLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(l.check(7, t0), Permit::Log { suppressed: 0 });
        assert_eq!(l.check(7, t0 + s(1)), Permit::Log { suppressed: 0 });
        for i in 0..5 {
            assert_eq!(l.check(7, t0 + s(2 + i)), Permit::Suppress);
        }
        // Another tap is not affected.
        assert_eq!(l.check(8, t0 + s(3)), Permit::Log { suppressed: 0 });
        // Next interval: the first message carries the count.
        assert_eq!(l.check(7, t0 + s(10)), Permit::Log { suppressed: 5 });
        assert_eq!(l.check(7, t0 + s(11)), Permit::Log { suppressed: 0 });
        assert_eq!(l.check(7, t0 + s(12)), Permit::Suppress);
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = WarnLimiter::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        for k in 0..(MAX_KEYS as u32 * 2) {
            l.check(k, t0 + Duration::from_secs(u64::from(k) / 1000 * 2));
        }
        assert!(l.windows.len() <= MAX_KEYS);
    }
}
