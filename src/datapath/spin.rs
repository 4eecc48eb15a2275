//! What a queue worker that has drained its socket does next, sans-IO:
//! spin before it sleeps (`[general] queue_spin_us`, [`Spin`]) or, while
//! the queue is busy, nap on a timer instead of sleeping on the socket
//! (`[general] queue_nap_us`, [`Nap`]).
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

/// Packets a nap aims to bring, at the current rate (see [`Nap`]).
const NAP_BATCH: u64 = 16;

/// `d` in nanoseconds, saturating.
fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `avg` moved towards `sample` by 1 / 2^[`AVG_SHIFT`].
fn average(avg: u64, sample: u64) -> u64 {
    avg - (avg >> AVG_SHIFT) + (sample >> AVG_SHIFT)
}

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
        let budget_ns = ns(budget);
        Spin {
            budget_ns,
            avg_gap_ns: budget_ns,
        }
    }

    /// A new budget (after a reload), keeping what was learnt.
    pub fn set_budget(&mut self, budget: Duration) {
        self.budget_ns = ns(budget);
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
        let gap = ns(gap);
        // Capped, so one long pause does not keep a busy queue from
        // spinning for long after it is busy again.
        let gap = gap.min(self.budget_ns.saturating_mul(8));
        self.avg_gap_ns = average(self.avg_gap_ns, gap);
    }
}

/// The nap policy of one worker (`[general] queue_nap_us`).
///
/// A busy worker that sleeps on its socket after each drain is woken
/// once per packet, by the sender (see the module's text): at a few
/// thousand packets per second that wakeup, paid by the guest's sender
/// and by the worker's CPU leaving idle, is most of what a packet
/// costs the machine. While packets come at least two to a nap, the
/// worker instead sleeps on a timer for the nap and then takes all
/// that came meanwhile in one receive: no sleeper on the socket, so the
/// senders wake no one, and one wakeup, one receive, one sendmmsg and
/// one verdict run per nap instead of per packet. The price is latency:
/// a reply waits at most one nap longer, and only while the queue is
/// busy. It stops napping when naps bring fewer than four packets in
/// three, so a quiet queue sleeps on the socket and answers at once.
#[derive(Debug, Clone)]
pub struct Nap {
    /// Length of a nap (0: never nap).
    nap_ns: u64,
    /// Running average of the time per packet over the recent idle
    /// periods (an idle period's length over the packets after it).
    avg_gap_ns: u64,
    /// The last idle period (a nap or a wait on the socket), not yet
    /// weighed against the packets it brought.
    last_ns: Option<u64>,
    napping: bool,
}

impl Nap {
    /// A policy napping for `nap` while the queue is busy (zero: never).
    /// It starts awake, at the threshold: the first period shorter than
    /// half a nap per packet starts the naps, a longer one does not.
    pub fn new(nap: Duration) -> Self {
        let nap_ns = ns(nap);
        Nap {
            nap_ns,
            avg_gap_ns: nap_ns / 2,
            last_ns: None,
            napping: false,
        }
    }

    /// A new nap length (after a reload), keeping what was learnt; zero
    /// stops napping at once.
    pub fn set_nap(&mut self, nap: Duration) {
        self.nap_ns = ns(nap);
        if self.nap_ns == 0 {
            self.napping = false;
        }
    }

    /// The queue is drained again, `packets` after the last idle period:
    /// how long to nap now (zero: wait on the socket).
    pub fn next(&mut self, packets: u32) -> Duration {
        if self.nap_ns == 0 {
            return Duration::ZERO;
        }
        if let Some(last) = self.last_ns.take() {
            // An idle period that brought nothing weighs as twice its
            // length per packet; each sample is capped, so one long
            // pause does not keep a busy queue awake for long after.
            let per_packet = match packets {
                0 => last.saturating_mul(2),
                n => last / u64::from(n),
            };
            let sample = per_packet.min(self.nap_ns.saturating_mul(8));
            self.avg_gap_ns = average(self.avg_gap_ns, sample);
        }
        // Hysteresis: start at two packets a nap, stop under four in
        // three naps. (Measured: started at four a nap, it never engaged
        // at 4,000 exchanges/s, and the machine's CPU per exchange there
        // did not move; at two it fell to 0.79-0.82 of dnsmasq's.)
        if self.napping && self.avg_gap_ns >= self.nap_ns / 4 * 3 {
            self.napping = false;
        } else if !self.napping && self.avg_gap_ns < self.nap_ns / 2 {
            self.napping = true;
        }
        if self.napping {
            // About NAP_BATCH packets a nap at the current rate, at most
            // the configured nap: the faster they come, the shorter the
            // nap, so the replies to one nap leave in bursts no larger
            // than that (a guest's socket takes a burst of them).
            let nap = self.avg_gap_ns.saturating_mul(NAP_BATCH).min(self.nap_ns);
            Duration::from_nanos(nap)
        } else {
            Duration::ZERO
        }
    }

    /// The worker was idle for `period` (a nap, or a wait on the socket
    /// until its next packet or the wait's end).
    pub fn idled(&mut self, period: Duration) {
        self.last_ns = Some(ns(period));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    /// `rounds` idle periods of `period`, each followed by `packets`;
    /// the nap decided after each.
    fn drive(n: &mut Nap, rounds: usize, period: Duration, packets: u32) -> Vec<Duration> {
        (0..rounds)
            .map(|_| {
                n.idled(period);
                n.next(packets)
            })
            .collect()
    }

    #[test]
    fn a_zero_nap_never_naps() {
        let mut n = Nap::new(Duration::ZERO);
        assert!(drive(&mut n, 100, US, 32).iter().all(|d| d.is_zero()));
    }

    #[test]
    fn a_quiet_queue_waits_on_its_socket() {
        let mut n = Nap::new(250 * US);
        assert_eq!(n.next(0), Duration::ZERO, "awake before anything is learnt");
        // 1,000 packets/s, one at a time: 1 ms between them.
        assert!(drive(&mut n, 1000, 1000 * US, 1)
            .iter()
            .all(|d| d.is_zero()));
        // 7,000 packets/s: 143 µs each, under two a nap.
        assert!(drive(&mut n, 1000, 143 * US, 1).iter().all(|d| d.is_zero()));
    }

    #[test]
    fn a_busy_queue_naps_and_wakes_when_the_rate_falls() {
        let mut n = Nap::new(250 * US);
        // 20,000 packets/s, woken per packet: 50 µs gaps.
        let first = drive(&mut n, 100, 50 * US, 1)
            .iter()
            .position(|d| !d.is_zero())
            .expect("short gaps start the naps");
        assert!(first < 10, "after {first} gaps");
        // Napping at the same rate: five packets a nap, it goes on.
        assert!(drive(&mut n, 1000, 250 * US, 5)
            .iter()
            .all(|d| *d == 250 * US));
        // The rate falls to one packet a nap: it stops within a few.
        let awake = drive(&mut n, 100, 250 * US, 1)
            .iter()
            .position(|d| d.is_zero())
            .expect("stops napping");
        assert!(awake < 10, "after {awake} naps");
        // And a queue gone quiet (naps that bring nothing) stops within
        // four naps.
        let mut n = Nap::new(250 * US);
        drive(&mut n, 100, 10 * US, 1);
        assert_eq!(drive(&mut n, 4, 250 * US, 0).last(), Some(&Duration::ZERO));
    }

    #[test]
    fn between_four_in_three_and_two_packets_a_nap_it_keeps_what_it_does() {
        // Three packets in two naps: napping goes on, and waking per
        // packet at the same rate (167 µs gaps against a 250 µs nap)
        // does not start it.
        let mut n = Nap::new(250 * US);
        drive(&mut n, 100, 10 * US, 1);
        assert!(drive(&mut n, 500, 500 * US, 3).iter().all(|d| !d.is_zero()));
        let mut n = Nap::new(250 * US);
        assert!(drive(&mut n, 500, 167 * US, 1).iter().all(|d| d.is_zero()));
    }

    #[test]
    fn the_faster_packets_come_the_shorter_the_nap() {
        // A nap of at most 1 ms, at 100,000 packets/s (10 µs each): about
        // sixteen packets a nap, not a hundred.
        let mut n = Nap::new(1000 * US);
        let naps = drive(&mut n, 200, 10 * US, 1);
        let last = *naps.last().unwrap();
        assert!(last > 100 * US && last < 200 * US, "{last:?}");
        // Napping on at that rate: the naps stay near 160 µs.
        let naps = drive(&mut n, 200, 160 * US, 16);
        assert!(
            naps.iter().all(|d| *d > 100 * US && *d < 200 * US),
            "{naps:?}"
        );
        // At 10,000 packets/s (100 µs each) it naps the whole 1 ms.
        let naps = drive(&mut n, 200, 1000 * US, 10);
        assert_eq!(naps.last(), Some(&(1000 * US)));
    }

    #[test]
    fn a_nap_set_to_zero_stops_at_once() {
        let mut n = Nap::new(250 * US);
        drive(&mut n, 100, 10 * US, 1);
        n.idled(250 * US);
        n.set_nap(Duration::ZERO);
        assert_eq!(n.next(8), Duration::ZERO);
    }

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
