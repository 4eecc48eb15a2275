//! NFQUEUE workers: one blocking thread per queue number. Each receives,
//! decides (pure), sends and gives the verdict itself: no hop, no lock.
//!
//! Every received packet gets exactly one verdict, decided in one place in
//! [`Worker::handle`] after the decision and the send; a panic in the
//! decision is caught and turns into DROP (counted), never a leaked packet.
//! Verdicts go to the kernel in runs ([`crate::verdict`]): a run is sent when
//! the verdict changes, when it reaches its length, and whenever the queue
//! socket is drained, so an idle queue holds nothing back and a busy one
//! spends one netlink message per run instead of one per packet. Replies
//! are held the same way, up to [`SEND_BATCH_MAX`], and go out in one
//! sendmmsg(2) when the socket is drained or the batch is full: one system
//! call per burst, not per reply.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use tracing::{debug, error, info, warn};

use crate::binding::table::Table;
use crate::config::Config;
use crate::domain::Protocol;
use crate::logthrottle::{Permit, WarnLimiter};
use crate::mac::MacAddr;
use crate::metrics::Metrics;
use crate::proto::{DropReason, Outcome};
use crate::respond::{self, Decision, Meta, Verdict};
use crate::send::{OutFrame, Sender, SEND_BATCH_MAX};
use crate::verdict::{Batch, Batcher, Pending};

/// Largest packet copied from the kernel (DHCP and ND are far smaller).
pub const COPY_RANGE: u16 = 65535;
/// How long an idle worker waits for a packet before checking whether it
/// was retired.
pub const IDLE_WAIT_MS: i32 = 200;

/// Receive buffer asked for each queue's netlink socket (the kernel
/// doubles it): room for a full queue of small packets, so a burst is not
/// lost as `user_dropped` while the worker is busy.
pub const RCVBUF: usize = 8 << 20;

/// An opened (not yet bound) queue socket.
pub struct Opened {
    /// The queue.
    pub queue: nfq::Queue,
    /// Its socket's fd (borrowed: `queue` owns and closes it), or why it
    /// could not be identified.
    pub fd: std::io::Result<std::os::fd::RawFd>,
    /// The receive buffer obtained, or why it could not be raised.
    pub rcvbuf: std::io::Result<usize>,
}

/// Opens an NFQUEUE netlink socket and raises its receive buffer to
/// [`RCVBUF`]. `nfq` 0.2 does not expose the socket's fd, so it is found as
/// the one NETLINK_NETFILTER socket of this process (/proc/net/netlink ∩
/// /proc/self/fd) that `Queue::open` added; queues must therefore be opened
/// one at a time (the daemon binds them from one thread).
pub fn open_queue() -> std::io::Result<Opened> {
    let before = netfilter_sockets();
    let queue = nfq::Queue::open()?;
    let fd = before.and_then(|before| {
        let new: Vec<_> = netfilter_sockets()?
            .into_iter()
            .filter(|s| !before.iter().any(|b| b.1 == s.1))
            .collect();
        match new[..] {
            [(fd, _)] => Ok(fd),
            _ => Err(std::io::Error::other(format!(
                "{} new netfilter netlink sockets: cannot tell which is the queue's",
                new.len()
            ))),
        }
    });
    let rcvbuf = match &fd {
        Ok(fd) => crate::send::set_rcvbuf_force(*fd, RCVBUF),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    };
    Ok(Opened { queue, fd, rcvbuf })
}

/// This process's NETLINK_NETFILTER sockets: (fd, socket inode).
fn netfilter_sockets() -> std::io::Result<Vec<(std::os::fd::RawFd, u64)>> {
    /// Protocol number of NETLINK_NETFILTER in /proc/net/netlink's `Eth` column.
    const NETLINK_NETFILTER: &str = "12";
    let table = std::fs::read_to_string("/proc/net/netlink")?;
    let inodes: std::collections::HashSet<u64> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1) == Some(&NETLINK_NETFILTER))
                .then(|| f.get(9)?.parse().ok())
                .flatten()
        })
        .collect();
    let mut out = Vec::new();
    for ent in std::fs::read_dir("/proc/self/fd")? {
        let ent = ent?;
        let (Some(fd), Ok(target)) = (
            ent.file_name().to_str().and_then(|n| n.parse().ok()),
            std::fs::read_link(ent.path()),
        ) else {
            continue;
        };
        let inode = target
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse().ok());
        if let Some(inode) = inode.filter(|i| inodes.contains(i)) {
            out.push((fd, inode));
        }
    }
    Ok(out)
}

/// Why a queue could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Opening the netlink socket failed.
    #[error("queue {queue}: cannot open nfnetlink socket: {source}")]
    Open {
        /// Queue number.
        queue: u16,
        /// Cause.
        source: std::io::Error,
    },
    /// Binding failed (EPERM: already bound in this namespace, or no CAP_NET_ADMIN).
    #[error("queue {queue}: cannot bind (already bound by another process, or no CAP_NET_ADMIN?): {source}")]
    Bind {
        /// Queue number.
        queue: u16,
        /// Cause.
        source: std::io::Error,
    },
    /// Opening the raw sender failed.
    #[error("cannot open AF_PACKET socket (needs CAP_NET_RAW): {0}")]
    Sender(std::io::Error),
}

/// One queue's worker.
pub struct Worker {
    queue: nfq::Queue,
    num: u16,
    protocol: Protocol,
    table: Arc<Table>,
    config: Arc<ArcSwap<Config>>,
    metrics: Arc<Metrics>,
    sender: Sender,
    received: Arc<AtomicU64>,
    /// The queue socket's fd, for the batch verdict `nfq` lacks.
    fd: Option<std::os::fd::RawFd>,
    /// Whether the first packet since binding was seen.
    first_seen: bool,
    /// Set to stop serving (see [`Worker::retire_flag`]).
    retired: Arc<std::sync::atomic::AtomicBool>,
    warnings: WarnLimiter,
    /// Verdicts held back to be sent as one run (only with a known fd).
    batch: Batcher,
    /// Runs decided whose verdict is not sent yet (a failed send).
    pending: Pending,
    /// Replies held back to be sent together (see [`Worker::replies_max`]).
    replies: Vec<PendingReply>,
}

/// A reply built and not yet sent.
struct PendingReply {
    ifindex: u32,
    kind: crate::proto::ReplyKind,
    frame: Vec<u8>,
    /// When its request was received (for the latency histogram).
    start: Instant,
}

impl OutFrame for PendingReply {
    fn ifindex(&self) -> u32 {
        self.ifindex
    }
    fn frame(&self) -> &[u8] {
        &self.frame
    }
}

impl Worker {
    /// Opens and binds queue `num` for `protocol`.
    pub fn bind(
        num: u16,
        protocol: Protocol,
        table: Arc<Table>,
        config: Arc<ArcSwap<Config>>,
        metrics: Arc<Metrics>,
    ) -> Result<Worker, QueueError> {
        let Opened {
            mut queue,
            fd,
            rcvbuf,
        } = open_queue().map_err(|source| QueueError::Open { queue: num, source })?;
        match rcvbuf {
            Ok(bytes) => debug!(queue = num, bytes, "queue receive buffer raised"),
            Err(e) => warn!(queue = num, error = %e, "queue receive buffer not raised"),
        }
        queue
            .bind(num)
            .map_err(|source| QueueError::Bind { queue: num, source })?;
        let cfg =
            |r: std::io::Result<()>| r.map_err(|source| QueueError::Bind { queue: num, source });
        cfg(queue.set_copy_range(num, COPY_RANGE))?;
        let (max_len, fail_open) = {
            let c = config.load();
            (c.general.queue_max_len, c.general.fail_open)
        };
        cfg(queue.set_queue_max_len(num, max_len))?;
        // Fail-open: when the kernel queue is full, packets go on unanswered
        // instead of being dropped (the default, fail-closed).
        cfg(queue.set_fail_open(num, fail_open))?;
        let sender = Sender::open().map_err(QueueError::Sender)?;
        info!(queue = num, protocol = protocol.as_str(), "queue bound");
        let received = metrics.register_queue(num, protocol);
        Ok(Worker {
            received,
            replies: Vec::with_capacity(SEND_BATCH_MAX),
            fd: fd.ok(),
            first_seen: false,
            retired: Arc::default(),
            warnings: WarnLimiter::default(),
            batch: Batcher::new(max_len),
            pending: Pending::default(),
            queue,
            num,
            protocol,
            table,
            config,
            metrics,
            sender,
        })
    }

    /// Serves the queue for ever (the thread ends with the process).
    pub fn run(mut self) {
        // Non-blocking with a bounded wait when idle, so the worker notices
        // when it is retired (its queue removed by a reload); blocking if
        // the socket's fd is unknown (then it serves until the process ends).
        let fd = self.fd;
        self.queue.set_nonblocking(fd.is_some());
        loop {
            match self.queue.recv() {
                Ok(msg) => {
                    self.handle(msg);
                    // A retired queue stops even under load (its rule is gone).
                    if self.retired.load(Ordering::Relaxed) {
                        self.flush();
                        break;
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                // The kernel's report that a verdict named a packet it had
                // already dropped (its interface was deleted meanwhile): nfq
                // returns it from recv. Counted; never a reason to pause.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    self.metrics
                        .proto(self.protocol)
                        .verdict_errors
                        .fetch_add(1, Ordering::Relaxed);
                    debug!(
                        queue = self.num,
                        "verdict for a packet already gone (interface deleted)"
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // Drained: nothing is held back while the queue is idle.
                    self.flush();
                    if self.retired.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Some(fd) = fd {
                        crate::send::wait_readable(fd, IDLE_WAIT_MS);
                    }
                }
                Err(e) => {
                    self.flush();
                    error!(queue = self.num, error = %e, "queue receive failed");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
        // Packets still queued get DROP when the queue instance goes away.
        self.queue.set_nonblocking(false);
        if let Err(e) = self.queue.unbind(self.num) {
            warn!(queue = self.num, error = %e, "unbind failed; closing the socket unbinds it");
        }
        info!(
            queue = self.num,
            protocol = self.protocol.as_str(),
            "queue unbound"
        );
    }

    /// The flag that retires this worker: once set, it unbinds its queue and
    /// returns from [`Worker::run`] within [`IDLE_WAIT_MS`] of the queue
    /// going idle.
    pub fn retire_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.retired.clone()
    }

    /// `nfq` reads the kernel's acknowledgements of the configuration sent
    /// after binding (copy range, queue length, flags) and discards any packet
    /// message that arrives meanwhile: those packets would wait in the kernel
    /// queue for ever. Packet ids are sequential from 1 per bound queue and
    /// delivered in order, so the ids below the first one we see are exactly
    /// those: they get a DROP in one batch verdict (the guests retry).
    fn release_swallowed(&mut self, first_id: u32) {
        if first_id <= 1 {
            return;
        }
        let n = first_id - 1;
        match self.fd {
            Some(fd) => match crate::send::nfq_batch_verdict(fd, self.num, n, false) {
                Ok(()) => warn!(queue = self.num, packets = n, "packets queued while the queue was being configured: dropped"),
                Err(e) => error!(queue = self.num, packets = n, error = %e, "packets queued while the queue was being configured are stuck: batch verdict failed"),
            },
            None => error!(queue = self.num, packets = n, "packets queued while the queue was being configured are stuck: queue socket unknown"),
        }
    }

    fn handle(&mut self, mut msg: nfq::Message) {
        if !self.first_seen {
            self.first_seen = true;
            self.release_swallowed(msg.get_packet_id());
        }
        let start = Instant::now();
        self.metrics
            .proto(self.protocol)
            .received
            .fetch_add(1, Ordering::Relaxed);
        self.received.fetch_add(1, Ordering::Relaxed);
        let meta = Meta {
            indev: msg.get_indev(),
            physindev: msg.get_physindev(),
            src_mac: msg.get_hw_addr().and_then(MacAddr::from_slice),
        };
        let now = crate::ratelimit::now_ns();
        let decision = {
            let config = self.config.load();
            let snap = self.table.guard();
            let payload = msg.get_payload();
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                respond::decide_limited(&config, &snap, self.protocol, &meta, payload, now)
            }))
            .unwrap_or_else(|_| {
                error!(queue = self.num, "responder panicked; packet dropped");
                Decision {
                    verdict: Verdict::Drop,
                    ifindex: meta.tap(),
                    outcome: Some(Outcome::Dropped(DropReason::Malformed)),
                }
            })
        };
        if !self.account(decision.outcome, decision.ifindex, start) {
            self.metrics.latency.observe(start.elapsed());
        }
        if let Some(fd) = self.fd {
            if let Some(run) = self.batch.push(msg.get_packet_id(), decision.verdict) {
                self.send_run(fd, run);
            }
            return;
        }
        msg.set_verdict(match decision.verdict {
            Verdict::Accept => nfq::Verdict::Accept,
            Verdict::Drop => nfq::Verdict::Drop,
        });
        if let Err(e) = self.queue.verdict(msg) {
            self.verdict_failed(&e, 1);
        }
    }

    /// How many replies are held at most: [`SEND_BATCH_MAX`], or 1 when the
    /// fd is unknown (the blocking receive has no "drained" moment to send at).
    fn replies_max(&self) -> usize {
        if self.fd.is_some() {
            SEND_BATCH_MAX
        } else {
            1
        }
    }

    /// Sends what is held back: replies first (the guests wait for them),
    /// then the run of verdicts.
    fn flush(&mut self) {
        self.flush_replies();
        self.flush_verdicts();
    }

    /// Sends the replies held back, in one sendmmsg per [`SEND_BATCH_MAX`],
    /// and accounts for each.
    fn flush_replies(&mut self) {
        let (m, p) = (&self.metrics, self.protocol);
        let warnings = &mut self.warnings;
        self.sender.send_all(&self.replies, |r, res| {
            match res {
                Ok(()) => {
                    m.reply(p, r.kind);
                    debug!(protocol = p.as_str(), ifindex = r.ifindex, kind = ?r.kind, "replied");
                }
                Err(e) => {
                    m.proto(p).send_errors.fetch_add(1, Ordering::Relaxed);
                    warn_tap(warnings, p, r.ifindex, "reply not sent", &e);
                }
            }
            m.latency.observe(r.start.elapsed());
        });
        self.replies.clear();
    }

    /// Sends the run of verdicts held back, if any (runs are only built when
    /// the queue's fd is known).
    /// A run whose verdict failed is sent again here, before any later one.
    fn flush_verdicts(&mut self) {
        let Some(fd) = self.fd else { return };
        match self.batch.flush() {
            Some(run) => self.send_run(fd, run),
            None if !self.pending.is_empty() => self.send_pending(fd),
            None => {}
        }
    }

    /// Sends `run` after any run still waiting (never before it: its batch
    /// would give the waiting packets this run's verdict).
    fn send_run(&mut self, fd: std::os::fd::RawFd, run: Batch) {
        self.pending.push(run);
        self.send_pending(fd);
    }

    fn send_pending(&mut self, fd: std::os::fd::RawFd) {
        let num = self.num;
        let sent = self.pending.send_in_order(|run| {
            let accept = run.verdict == Verdict::Accept;
            crate::send::nfq_batch_verdict(fd, num, run.max_id, accept)
        });
        if let Err((e, waiting)) = sent {
            self.verdict_failed(&e, waiting);
        }
    }

    fn verdict_failed(&mut self, e: &std::io::Error, packets: u32) {
        self.metrics
            .proto(self.protocol)
            .verdict_errors
            .fetch_add(1, Ordering::Relaxed);
        warn!(queue = self.num, packets, error = %e, "verdict failed");
    }

    /// Counts the outcome of a packet received at `start` and, for a reply,
    /// holds it to be sent (sending the batch when it is full). Returns
    /// whether it was a reply, whose latency is observed when it is sent.
    fn account(&mut self, outcome: Option<Outcome>, ifindex: u32, start: Instant) -> bool {
        let m = &self.metrics;
        let p = self.protocol;
        match outcome {
            None => {
                m.proto(p).not_ours.fetch_add(1, Ordering::Relaxed);
            }
            Some(Outcome::Dropped(DropReason::SpoofedMac)) => {
                m.dropped(p, DropReason::SpoofedMac);
                warn_tap(
                    &mut self.warnings,
                    p,
                    ifindex,
                    "request with a MAC other than the binding's dropped",
                    &"spoofed_mac",
                );
            }
            Some(Outcome::Dropped(DropReason::RateLimited)) => {
                m.dropped(p, DropReason::RateLimited);
                let snap = self.table.guard();
                if let Some(served) = snap.lookup(ifindex) {
                    if let Some(n) = served.limiter.log_due(crate::ratelimit::now_ns()) {
                        warn!(tap = %served.binding.tap, protocol = p.as_str(), dropped = n,
                            "guest over its packet rate limit: excess dropped");
                    }
                }
            }
            Some(Outcome::Dropped(r)) => {
                m.dropped(p, r);
                debug!(
                    protocol = p.as_str(),
                    ifindex = ifindex,
                    reason = r.as_str(),
                    "dropped"
                );
            }
            Some(Outcome::Consumed(c)) => {
                m.consumed(p, c);
                info!(protocol = p.as_str(), ifindex = ifindex, what = ?c, "handled without reply");
            }
            Some(Outcome::Reply(r)) => {
                self.replies.push(PendingReply {
                    ifindex,
                    kind: r.kind,
                    frame: r.frame,
                    start,
                });
                if self.replies.len() >= self.replies_max() {
                    self.flush_replies();
                }
                return true;
            }
        }
        false
    }
}

/// Logs a per-tap warning through the worker's rate limiter.
fn warn_tap(
    limiter: &mut WarnLimiter,
    p: Protocol,
    ifindex: u32,
    what: &str,
    detail: &dyn std::fmt::Display,
) {
    match limiter.check(ifindex, Instant::now()) {
        Permit::Suppress => {}
        Permit::Log { suppressed: 0 } => {
            warn!(protocol = p.as_str(), ifindex, detail = %detail, "{what}");
        }
        Permit::Log { suppressed } => {
            warn!(protocol = p.as_str(), ifindex, detail = %detail, suppressed, "{what} (suppressed {suppressed} similar messages for this tap)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_queue_finds_its_socket_and_raises_the_buffer() {
        // Works unprivileged: only lists; opening a queue needs no privilege either,
        // but raising the buffer with SO_RCVBUFFORCE needs CAP_NET_ADMIN.
        let socks = netfilter_sockets().expect("/proc readable");
        let opened = open_queue().expect("a netlink socket can be opened");
        let raised = opened.rcvbuf;
        assert!(opened.fd.is_ok());
        let after = netfilter_sockets().expect("/proc readable");
        assert_eq!(after.len(), socks.len() + 1, "{socks:?} then {after:?}");
        if nix::unistd::Uid::effective().is_root() {
            assert!(raised.expect("root may force the buffer") >= RCVBUF);
        }
    }
}
