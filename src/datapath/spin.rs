//! When a queue worker that has drained its socket should spin before it
//! sleeps (`[general] queue_spin_us`), sans-IO.
//!
//! A worker asleep in poll(2) is woken by the kernel in the *sender's*
//! context: the guest's packet, on its way through the netfilter hook,
//! finds a sleeper on the queue socket and wakes it (an inter-processor
//! interrupt when the worker sleeps on another CPU, a VM exit when the
//! host is itself a guest). At high rates that wakeup is paid per packet
//! by the VM's vhost or tap-writer thread, and it is most of what NFQUEUE
//! costs the sender (see BENCHMARKS.md). A worker that polls the socket
//! without sleeping for a few microseconds after it drains has no
//! sleeper on the socket, so the next packet costs its sender no wakeup.
//!
//! Spinning costs a core, so it is adaptive: the worker spins only while
//! packets have lately been arriving closer together than the spin lasts
//! (an average of the last idle gaps), so a queue at a few thousand
//! packets per second, or an idle one, sleeps at once as before.

use std::time::Duration;

/// Weight of the newest gap in the running average: 1 / 2^AVG_SHIFT.
const AVG_SHIFT: u32 = 3;

/// The spin policy of one worker.
#[derive(Debug, Clone)]
pub struct Spin {
    /// Longest spin (0: never spin).
    budget_ns: u64,
    /// Running average of the idle gaps, in ns (drained to readable).
    avg_gap_ns: u64,
}

impl Spin {
    /// A policy spinning at most `budget` (zero: never). It starts at
    /// the threshold, not spinning: the first gap shorter than the budget
    /// turns spinning on, the first longer one keeps it off.
    pub fn new(budget: Duration) -> Self {
        let budget_ns = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
        Spin {
            budget_ns,
            avg_gap_ns: budget_ns,
        }
    }

    /// A new budget (after a reload), keeping what was learnt.
    pub fn set_budget(&mut self, budget: Duration) {
        self.budget_ns = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
    }

    /// How long to spin before sleeping now: the budget while the recent
    /// gaps are shorter than it, else zero.
    pub fn now(&self) -> Duration {
        if self.budget_ns > 0 && self.avg_gap_ns < self.budget_ns {
            Duration::from_nanos(self.budget_ns)
        } else {
            Duration::ZERO
        }
    }

    /// The queue was idle for `gap` before its next packet (or for at
    /// least `gap`, when the worker gave up waiting).
    pub fn idle_for(&mut self, gap: Duration) {
        let gap = u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX);
        // Capped, so one long pause does not keep a busy queue from
        // spinning for long after it is busy again.
        let gap = gap.min(self.budget_ns.saturating_mul(8));
        self.avg_gap_ns = self.avg_gap_ns - (self.avg_gap_ns >> AVG_SHIFT) + (gap >> AVG_SHIFT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    #[test]
    fn a_zero_budget_never_spins() {
        let mut s = Spin::new(Duration::ZERO);
        for _ in 0..100 {
            s.idle_for(Duration::ZERO);
        }
        assert_eq!(s.now(), Duration::ZERO);
    }

    #[test]
    fn an_idle_queue_sleeps_at_once() {
        let s = Spin::new(50 * US);
        assert_eq!(s.now(), Duration::ZERO, "no spin before any short gap");
        let mut s = s;
        // 4,000 packets/s: 250 µs between packets, over the budget.
        for _ in 0..1000 {
            s.idle_for(250 * US);
        }
        assert_eq!(s.now(), Duration::ZERO);
    }

    #[test]
    fn a_busy_queue_spins_and_stops_when_the_rate_falls() {
        let mut s = Spin::new(50 * US);
        let mut spun_after = None;
        for i in 0..100 {
            s.idle_for(10 * US);
            if s.now() > Duration::ZERO {
                spun_after = Some(i);
                break;
            }
        }
        let n = spun_after.expect("short gaps turn spinning on");
        assert_eq!(n, 0, "the first short gap turns it on");
        assert_eq!(s.now(), 50 * US);
        // The rate falls: spins that end without a packet (a gap of at
        // least the budget) turn it off again, within a few of them.
        let mut off_after = None;
        for i in 0..100 {
            s.idle_for(s.now().max(400 * US));
            if s.now() == Duration::ZERO {
                off_after = Some(i);
                break;
            }
        }
        assert!(off_after.expect("turns off") < 20);
    }

    #[test]
    fn one_long_pause_does_not_keep_a_busy_queue_from_spinning_for_long() {
        let mut s = Spin::new(50 * US);
        for _ in 0..100 {
            s.idle_for(5 * US);
        }
        s.idle_for(Duration::from_secs(3600));
        let back = (0..100).find(|_| {
            s.idle_for(5 * US);
            s.now() > Duration::ZERO
        });
        assert!(back.expect("spins again") < 20);
    }
}
