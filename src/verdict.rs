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

use crate::respond::Verdict;

/// The longest run held back: bounds how long a decided packet keeps its
/// slot in the kernel queue (a fraction of the queue length, see
/// [`Batcher::new`]).
pub const BATCH_MAX: u32 = 64;

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
    /// [`BATCH_MAX`] packets and at most a quarter of the queue, so held-back
    /// packets never crowd out new ones.
    pub fn new(queue_len: u32) -> Batcher {
        Batcher {
            pending: None,
            max: (queue_len / 4).clamp(1, BATCH_MAX),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for id in 1..BATCH_MAX {
            assert_eq!(b.push(id, Verdict::Drop), None);
        }
        assert_eq!(
            b.push(BATCH_MAX, Verdict::Drop),
            batch(Verdict::Drop, BATCH_MAX, BATCH_MAX)
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
