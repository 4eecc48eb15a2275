//! Verdicts in runs: the kernel's NFQNL_MSG_VERDICT_BATCH gives one verdict
//! to every packet of a queue whose id is up to a given id, so a run of
//! packets with the same verdict costs one netlink message instead of one
//! per packet. Sans-IO: [`Batcher`] only says what to send and when.
//!
//! Correct only because a queue's packet ids increase by one per packet and
//! the kernel delivers them in that order over the one socket bound to the
//! queue, which decides them in that order: when a run up to id N is sent,
//! every packet up to N has been decided (and those already given a verdict
//! are no longer in the queue, so the batch does not touch them).
//!
//! That also means a run whose verdict could not be sent must not be
//! overtaken: the next run's batch would give its packets the next run's
//! verdict, possibly the opposite. [`Pending`] keeps such runs and sends
//! them again, in order, before anything later.

use std::collections::VecDeque;

use crate::datapath::respond::Verdict;

/// The longest run held back: bounds how long a decided packet keeps its
/// slot in the kernel queue (a fraction of the queue length, see
/// [`Batcher::new`]).
pub const VERDICT_RUN_MAX: u32 = 64;

/// One verdict for every packet of the queue with an id up to `max_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// The verdict.
    pub verdict: Verdict,
    /// The last packet id of the run.
    pub max_id: u32,
    /// How many packets the run holds.
    pub count: u32,
}

/// Collects decided packets into runs of one verdict.
#[derive(Debug)]
pub struct Batcher {
    pending: Option<Batch>,
    max: u32,
}

impl Batcher {
    /// A batcher for a queue of length `queue_len`: runs are at most
    /// [`VERDICT_RUN_MAX`] packets and at most a quarter of the queue, so held-back
    /// packets never crowd out new ones.
    pub fn new(queue_len: u32) -> Batcher {
        Batcher {
            pending: None,
            max: (queue_len / 4).clamp(1, VERDICT_RUN_MAX),
        }
    }

    /// Records packet `id`'s verdict. Returns the run to send now, if any:
    /// the previous run when the verdict changes (the new packet starts a
    /// run of its own), or the run this packet completes at the maximum
    /// length.
    #[must_use]
    pub fn push(&mut self, id: u32, verdict: Verdict) -> Option<Batch> {
        let out = match &mut self.pending {
            Some(run) if run.verdict == verdict => {
                run.max_id = id;
                run.count += 1;
                None
            }
            _ => self.pending.replace(Batch {
                verdict,
                max_id: id,
                count: 1,
            }),
        };
        if out.is_none() && self.pending.is_some_and(|r| r.count >= self.max) {
            return self.pending.take();
        }
        out
    }

    /// The run held back, to send now (the queue is drained, or the worker
    /// stops).
    #[must_use]
    pub fn flush(&mut self) -> Option<Batch> {
        self.pending.take()
    }
}

/// Runs decided but not yet given to the kernel, oldest first: a run
/// whose batch verdict failed waits here, with every later run behind it,
/// until it is sent (the worker tries again at each flush).
#[derive(Debug, Default)]
pub struct Pending {
    runs: VecDeque<Batch>,
}

impl Pending {
    /// Queues `run` behind the others (merged with the last one when the
    /// verdict is the same: ids are contiguous, so one batch covers both).
    pub fn push(&mut self, run: Batch) {
        match self.runs.back_mut() {
            Some(last) if last.verdict == run.verdict => {
                last.max_id = run.max_id;
                last.count += run.count;
            }
            _ => self.runs.push_back(run),
        }
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Packets waiting for their verdict.
    pub fn waiting(&self) -> u32 {
        self.runs.iter().map(|r| r.count).sum()
    }

    /// Sends the runs in order with `send` (one batch verdict each), and
    /// stops at the first that fails: it and the runs behind it stay, and
    /// the error is returned with the number of packets still waiting.
    pub fn send_in_order(
        &mut self,
        mut send: impl FnMut(&Batch) -> std::io::Result<()>,
    ) -> Result<(), (std::io::Error, u32)> {
        while let Some(front) = self.runs.front() {
            if let Err(e) = send(front) {
                return Err((e, self.waiting()));
            }
            self.runs.pop_front();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel queue as a batch verdict sees it: each packet id gets the
    /// verdict of the first batch whose max_id reaches it.
    #[derive(Default)]
    struct KernelQueue {
        given: std::collections::BTreeMap<u32, Verdict>,
        /// Ids queued so far (1..=queued).
        queued: u32,
    }

    impl KernelQueue {
        fn batch(&mut self, b: &Batch) {
            for id in 1..=b.max_id.min(self.queued) {
                self.given.entry(id).or_insert(b.verdict);
            }
        }
    }

    /// Feeds `verdicts` (ids 1..) through a Batcher and Pending like the
    /// worker does, with `fail(n)` saying whether the n-th send fails, then
    /// flushes until every run is sent; returns the verdict each id got.
    fn serve(verdicts: &[Verdict], fail: impl Fn(usize) -> bool) -> KernelQueue {
        let mut k = KernelQueue::default();
        let mut b = Batcher::new(16);
        let mut p = Pending::default();
        let mut sends = 0;
        let mut deliver = |p: &mut Pending, k: &mut KernelQueue| {
            let _ = p.send_in_order(|run| {
                sends += 1;
                if fail(sends) {
                    return Err(std::io::Error::from_raw_os_error(libc::ENOBUFS));
                }
                k.batch(run);
                Ok(())
            });
        };
        for (i, v) in verdicts.iter().enumerate() {
            k.queued = i as u32 + 1;
            if let Some(run) = b.push(i as u32 + 1, *v) {
                p.push(run);
                deliver(&mut p, &mut k);
            }
        }
        p.extend_from(b.flush());
        for _ in 0..100 {
            deliver(&mut p, &mut k);
            if p.is_empty() {
                break;
            }
        }
        assert!(p.is_empty(), "runs never sent");
        k
    }

    impl Pending {
        fn extend_from(&mut self, run: Option<Batch>) {
            if let Some(r) = run {
                self.push(r);
            }
        }
    }

    #[test]
    fn a_failed_run_keeps_its_own_verdict() {
        use Verdict::{Accept as A, Drop as D};
        let verdicts = [D, D, D, A, A, D, D, D, A, D];
        // The first send (the DROP run 1..=3) fails once.
        let k = serve(&verdicts, |n| n == 1);
        for (i, v) in verdicts.iter().enumerate() {
            assert_eq!(k.given.get(&(i as u32 + 1)), Some(v), "packet {}", i + 1);
        }
    }

    #[test]
    fn runs_never_inherit_a_later_verdict_whatever_fails() {
        // A fixed pseudo-random pattern of verdicts and of failed sends.
        let verdicts: Vec<Verdict> = (0..500u32)
            .map(|i| {
                if i.wrapping_mul(2_654_435_761).rotate_left(5) % 3 == 0 {
                    Verdict::Accept
                } else {
                    Verdict::Drop
                }
            })
            .collect();
        for seed in 1..20u32 {
            let k = serve(&verdicts, |n| {
                (n as u32)
                    .wrapping_mul(seed.wrapping_mul(0x9e37_79b9))
                    .rotate_left(11)
                    % 4
                    == 0
            });
            for (i, v) in verdicts.iter().enumerate() {
                assert_eq!(
                    k.given.get(&(i as u32 + 1)),
                    Some(v),
                    "seed {seed}, packet {}",
                    i + 1
                );
            }
        }
    }

    fn batch(verdict: Verdict, max_id: u32, count: u32) -> Option<Batch> {
        Some(Batch {
            verdict,
            max_id,
            count,
        })
    }

    #[test]
    fn a_run_of_one_verdict_is_sent_once_when_flushed() {
        let mut b = Batcher::new(4096);
        for id in 1..=10 {
            assert_eq!(b.push(id, Verdict::Drop), None);
        }
        assert_eq!(b.flush(), batch(Verdict::Drop, 10, 10));
        assert_eq!(b.flush(), None, "a flushed run is gone");
    }

    #[test]
    fn a_change_of_verdict_sends_the_previous_run_first() {
        let mut b = Batcher::new(4096);
        assert_eq!(b.push(7, Verdict::Drop), None);
        assert_eq!(b.push(8, Verdict::Drop), None);
        assert_eq!(b.push(9, Verdict::Accept), batch(Verdict::Drop, 8, 2));
        assert_eq!(b.push(10, Verdict::Drop), batch(Verdict::Accept, 9, 1));
        assert_eq!(b.flush(), batch(Verdict::Drop, 10, 1));
    }

    #[test]
    fn a_run_is_sent_when_it_reaches_its_length() {
        let mut b = Batcher::new(4096);
        for id in 1..VERDICT_RUN_MAX {
            assert_eq!(b.push(id, Verdict::Drop), None);
        }
        assert_eq!(
            b.push(VERDICT_RUN_MAX, Verdict::Drop),
            batch(Verdict::Drop, VERDICT_RUN_MAX, VERDICT_RUN_MAX)
        );
        assert_eq!(b.flush(), None);
    }

    #[test]
    fn a_short_queue_gets_short_runs() {
        let mut b = Batcher::new(8);
        assert_eq!(b.push(1, Verdict::Drop), None);
        assert_eq!(b.push(2, Verdict::Drop), batch(Verdict::Drop, 2, 2));
        let mut one = Batcher::new(1);
        assert_eq!(one.push(1, Verdict::Accept), batch(Verdict::Accept, 1, 1));
    }

    #[test]
    fn every_packet_is_covered_by_exactly_one_run() {
        // Verdicts from a fixed pseudo-random pattern; the runs sent must
        // cover ids 1..=n in order, each with its own verdict.
        let mut b = Batcher::new(100);
        let verdicts: Vec<Verdict> = (0..1000u32)
            .map(|i| {
                if i.wrapping_mul(2_654_435_761).rotate_left(7) % 5 == 0 {
                    Verdict::Accept
                } else {
                    Verdict::Drop
                }
            })
            .collect();
        let mut runs = Vec::new();
        for (i, v) in verdicts.iter().enumerate() {
            runs.extend(b.push(i as u32 + 1, *v));
        }
        runs.extend(b.flush());
        let mut next = 1u32;
        for r in runs {
            assert!(r.count >= 1 && r.count <= 25);
            assert_eq!(r.max_id, next + r.count - 1, "runs are contiguous");
            for id in next..=r.max_id {
                assert_eq!(verdicts[id as usize - 1], r.verdict, "id {id}");
            }
            next = r.max_id + 1;
        }
        assert_eq!(next, 1001, "every id covered");
    }
}
