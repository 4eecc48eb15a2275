//! NFQUEUE workers: one blocking thread per queue number. Each receives,
//! decides (pure), sends and gives the verdict itself: no hop, no lock.
//! It receives up to `[general] recv_batch` queue messages per system call
//! (recvmmsg(2)) and handles each of them, in order, before the next.
//!
//! Every received packet gets exactly one verdict, decided in one place in
//! [`Worker::handle`] after the decision and the send; a panic in the
//! decision is caught and turns into DROP (counted), never a leaked packet.
//! Verdicts go to the kernel in runs ([`crate::datapath::verdict`]): a run is sent when
//! the verdict changes, when it reaches its length, and whenever the queue
//! socket is drained, so an idle queue holds nothing back and a busy one
//! spends one netlink message per run instead of one per packet. Replies
//! are held the same way, up to [`REPLY_BATCH_MAX`], and go out in one
//! sendmmsg(2) when the socket is drained or the batch is full: one system
//! call per burst, not per reply. In shadow mode (`[general] shadow`) every
//! packet gets ACCEPT and no reply is sent; everything else is as usual.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tracing::{debug, error, info, warn};

use crate::config::Config;
use crate::datapath::logthrottle::WarnLimiter;
use crate::datapath::nfqueue::wire::Received;
use crate::datapath::nfqueue::{Options, Packet, Queue, RecvBuffers};
use crate::datapath::respond::{self, Decision, Meta, Verdict};
use crate::datapath::send::{OutFrame, Sender, REPLY_BATCH_MAX};
use crate::datapath::spin::{Nap, Spin};
use crate::datapath::tap::Table;
use crate::datapath::tracers::{Event, Targets, Tracers};
use crate::datapath::verdict::{Batch, Batcher, Pending};
use crate::domain::Protocol;
use crate::metrics::Metrics;
use crate::proto::{DropReason, Outcome};

/// Largest packet copied from the kernel (DHCP and ND are far smaller).
pub const COPY_RANGE: u16 = 65535;
/// How long an idle worker waits for a packet before checking whether it
/// was retired.
pub const IDLE_WAIT_MS: i32 = 200;

/// Receive buffer asked for each queue's netlink socket (the kernel
/// doubles it): room for a full queue of small packets, so a burst is not
/// lost as `user_dropped` while the worker is busy.
pub const RCVBUF: usize = 8 << 20;

/// Why a queue could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Opening, binding or configuring the queue failed (EPERM: already
    /// bound in this namespace, or no CAP_NET_ADMIN).
    #[error("queue {queue}: cannot bind (already bound by another process, or no CAP_NET_ADMIN?): {source}")]
    Bind {
        /// Queue number.
        queue: u16,
        /// Cause.
        source: crate::datapath::nfqueue::NfqueueError,
    },
    /// Opening the raw sender failed.
    #[error("cannot open AF_PACKET socket (needs CAP_NET_RAW): {0}")]
    Sender(std::io::Error),
}

/// One queue's worker.
pub struct Worker {
    queue: Queue,
    num: u16,
    protocol: Protocol,
    table: Arc<Table>,
    config: Arc<ArcSwap<Config>>,
    metrics: Arc<Metrics>,
    sender: Sender,
    received: Arc<AtomicU64>,
    /// Set to stop serving (see [`Worker::retire_flag`]).
    retired: Arc<std::sync::atomic::AtomicBool>,
    warnings: WarnLimiter,
    /// Verdicts held back to be sent as one run.
    batch: Batcher,
    /// Runs decided whose verdict is not sent yet (a failed send).
    pending: Pending,
    /// Replies held back to be sent together (up to [`REPLY_BATCH_MAX`]).
    replies: Vec<PendingReply>,
    /// Attached tracers (`nfdhcpd trace`).
    tracers: Arc<Tracers>,
    /// Whether to spin before sleeping on a drained queue.
    spin: Spin,
    /// Whether to nap on a timer instead of sleeping on the socket.
    nap: Nap,
    /// Packets handled since the worker was last idle.
    since_idle: u32,
}

/// A packet's trace event and the tracers it goes to (only while a tracer
/// that wants it is attached).
type Trace = Option<Box<(Targets, Event)>>;

/// A reply built and not yet sent.
struct PendingReply {
    ifindex: u32,
    kind: crate::proto::ReplyKind,
    frame: Vec<u8>,
    /// When its request was received (for the latency histogram).
    start: Instant,
    /// Its trace event, completed when it is sent.
    trace: std::cell::Cell<Trace>,
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
        tracers: Arc<Tracers>,
    ) -> Result<Worker, QueueError> {
        let (max_len, fail_open, spin_us, nap_us) = {
            let c = config.load();
            let g = &c.general;
            (
                g.queue_max_len,
                g.fail_open,
                g.queue_spin_us,
                g.queue_nap_us,
            )
        };
        // Fail-open: when the kernel queue is full, packets go on unanswered
        // instead of being dropped (the default, fail-closed).
        let opts = Options {
            copy_range: COPY_RANGE,
            max_len,
            fail_open,
            rcvbuf: RCVBUF,
        };
        let queue =
            Queue::bind(num, opts).map_err(|source| QueueError::Bind { queue: num, source })?;
        let sender = Sender::open().map_err(QueueError::Sender)?;
        info!(queue = num, protocol = protocol.as_str(), "queue bound");
        let received = metrics.register_queue(num, protocol);
        Ok(Worker {
            received,
            replies: Vec::with_capacity(REPLY_BATCH_MAX),
            retired: Arc::default(),
            spin: Spin::new(Duration::from_micros(spin_us.into())),
            nap: Nap::new(Duration::from_micros(nap_us.into())),
            since_idle: 0,
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
            tracers,
        })
    }

    /// Serves the queue until it is retired.
    pub fn run(mut self) {
        // The receive buffers, allocated once: a packet borrows them, not
        // the worker.
        let mut rx = RecvBuffers::new();
        loop {
            // Read at each receive, so a reload changes it at once.
            let max = self.config.load().general.recv_batch;
            match self.queue.recv_batch(&mut rx, max) {
                Ok(n) => {
                    self.metrics
                        .proto(self.protocol)
                        .receive_calls
                        .fetch_add(1, Ordering::Relaxed);
                    for m in rx.messages() {
                        match m {
                            Received::Packet(p) => self.handle(p),
                            Received::Error(errno) => {
                                self.failed(std::io::Error::from_raw_os_error(errno));
                            }
                            Received::Malformed => {
                                self.failed(std::io::ErrorKind::InvalidData.into());
                            }
                            Received::Truncated | Received::Ignored => {}
                        }
                    }
                    // A retired queue stops even under load (its rule is gone).
                    if self.retired.load(Ordering::Relaxed) {
                        self.flush();
                        break;
                    }
                    // Fewer than asked: the socket was drained, as a
                    // WouldBlock would say one system call later.
                    if n < max {
                        self.flush();
                        self.idle();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // Drained: nothing is held back while the queue is idle.
                    self.flush();
                    if self.retired.load(Ordering::SeqCst) {
                        break;
                    }
                    self.idle();
                }
                Err(e) => self.failed(e),
            }
        }
        // Packets still queued get DROP when the queue instance goes away.
        if let Err(e) = self.queue.unbind() {
            warn!(queue = self.num, error = %e, "unbind failed; closing the socket unbinds it");
        }
        info!(
            queue = self.num,
            protocol = self.protocol.as_str(),
            "queue unbound"
        );
    }

    /// Waits for the drained queue socket to be readable. While the queue
    /// is busy (packets at least two to a `[general] queue_nap_us`), it
    /// naps on a timer instead and returns: what came meanwhile is read
    /// at once (see [`crate::datapath::spin::Nap`]). Otherwise it spins
    /// first while packets have lately come closer together than
    /// `[general] queue_spin_us` (see [`crate::datapath::spin::Spin`]),
    /// then sleeps in poll(2) for at most [`IDLE_WAIT_MS`].
    fn idle(&mut self) {
        let (budget, nap_us) = {
            let g = &self.config.load().general;
            (g.queue_spin_us, g.queue_nap_us)
        };
        self.spin.set_budget(Duration::from_micros(budget.into()));
        self.nap.set_nap(Duration::from_micros(nap_us.into()));
        let start = Instant::now();
        let nap = self.nap.next(std::mem::take(&mut self.since_idle));
        if !nap.is_zero() {
            self.metrics
                .proto(self.protocol)
                .naps
                .fetch_add(1, Ordering::Relaxed);
            // A timer, not the socket: the senders meanwhile find no
            // sleeper to wake.
            std::thread::sleep(nap);
            self.nap.idled(start.elapsed());
            return;
        }
        self.idle_on_socket(start);
        self.nap.idled(start.elapsed());
    }

    /// Spins (see [`Worker::idle`]), then sleeps on the queue socket.
    fn idle_on_socket(&mut self, start: Instant) {
        let fd = self.queue.fd();
        let spin = self.spin.now();
        if !spin.is_zero() {
            self.metrics
                .proto(self.protocol)
                .spins
                .fetch_add(1, Ordering::Relaxed);
            // poll(2) with no timeout puts no sleeper on the socket: a
            // packet arriving meanwhile costs its sender no wakeup. Each
            // round yields the CPU to any other runnable thread on it (a
            // vCPU, a VMM thread, the generator here): the spin only uses
            // time nobody else wants (measured under perfdhcp -g single:
            // 28.2-30.1 k exchanges/s with it, 26.8-27.0 k without).
            while start.elapsed() < spin {
                if crate::datapath::send::wait_readable(fd, 0) {
                    self.spin.idle_for(start.elapsed());
                    return;
                }
                std::thread::yield_now();
            }
        }
        crate::datapath::send::wait_readable(fd, IDLE_WAIT_MS);
        self.spin.idle_for(start.elapsed());
    }

    /// A receive that failed, or an error the kernel reported in a
    /// message of the batch.
    fn failed(&mut self, e: std::io::Error) {
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            // The kernel's report that a verdict named a packet it had
            // already dropped (its interface was deleted meanwhile).
            // Counted; never a reason to pause.
            Some(libc::ENOENT) => {
                self.metrics
                    .proto(self.protocol)
                    .verdict_errors
                    .fetch_add(1, Ordering::Relaxed);
                debug!(
                    queue = self.num,
                    "verdict for a packet already gone (interface deleted)"
                );
            }
            _ => {
                self.flush();
                error!(queue = self.num, error = %e, "queue receive failed");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }

    /// The flag that retires this worker: once set, it unbinds its queue and
    /// returns from [`Worker::run`] within [`IDLE_WAIT_MS`] of the queue
    /// going idle.
    pub fn retire_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.retired.clone()
    }

    fn handle(&mut self, packet: Packet<'_>) {
        let start = Instant::now();
        self.metrics
            .proto(self.protocol)
            .received
            .fetch_add(1, Ordering::Relaxed);
        self.received.fetch_add(1, Ordering::Relaxed);
        self.since_idle = self.since_idle.saturating_add(1);
        let meta = Meta {
            indev: packet.indev,
            physindev: packet.physindev,
            src_mac: packet.hw_addr,
        };
        // The one clock read of this packet: latency and the rate limit.
        let now = crate::datapath::ratelimit::ns_at(start);
        let (decision, shadow) = {
            let config = self.config.load();
            let shadow = config.general.shadow;
            let snap = self.table.guard();
            let payload = packet.payload;
            let decision = std::panic::catch_unwind(AssertUnwindSafe(|| {
                respond::decide(&config, &snap, self.protocol, &meta, payload, now)
            }))
            .unwrap_or_else(|_| {
                // Only a protocol handler can panic, so the tap is served.
                error!(queue = self.num, "responder panicked; packet dropped");
                Decision::Served {
                    ifindex: meta.tap(),
                    outcome: Outcome::Dropped(DropReason::Malformed),
                }
            });
            (decision, shadow)
        };
        // Shadow mode: every packet goes on to the server beside us.
        let verdict = if shadow {
            Verdict::Accept
        } else {
            decision.verdict()
        };
        // The one load a packet costs while no tracer is attached.
        let trace = if self.tracers.attached() {
            self.trace_event(&meta, packet.payload, &decision, verdict, shadow)
        } else {
            None
        };
        if !self.account(decision, start, shadow, trace) {
            self.metrics.latency.observe(start.elapsed());
        }
        if let Some(run) = self.batch.push(packet.id, verdict) {
            self.send_run(run);
        }
    }

    /// The packet's trace event, if an attached tracer wants it and has
    /// room for it (else nothing is built).
    fn trace_event(
        &self,
        meta: &Meta,
        payload: &[u8],
        decision: &Decision,
        verdict: Verdict,
        shadow: bool,
    ) -> Trace {
        let to = self.tracers.select(decision.ifindex(), self.protocol)?;
        let e = Event::of(
            self.protocol,
            meta.src_mac,
            payload,
            decision,
            verdict,
            shadow,
        );
        Some(Box::new((to, e)))
    }

    /// Sends what is held back: replies first (the guests wait for them),
    /// then the run of verdicts.
    fn flush(&mut self) {
        self.flush_replies();
        self.flush_verdicts();
    }

    /// Sends the replies held back, in one sendmmsg per [`REPLY_BATCH_MAX`],
    /// and accounts for each.
    fn flush_replies(&mut self) {
        let (m, p) = (&self.metrics, self.protocol);
        let warnings = &mut self.warnings;
        self.sender.send_all(&self.replies, |r, res| {
            let took = r.start.elapsed();
            if let Some(mut t) = r.trace.take() {
                t.1.replied(took, res.as_ref().err().map(ToString::to_string));
                let (to, e) = *t;
                Tracers::publish(to, e);
            }
            match res {
                Ok(()) => {
                    m.reply(p, r.kind);
                    debug!(protocol = p.as_str(), ifindex = r.ifindex, kind = ?r.kind, "replied");
                }
                Err(e) => {
                    m.proto(p).send_errors.fetch_add(1, Ordering::Relaxed);
                    warnings.warn(r.ifindex, r.start, p.as_str(), "reply not sent", &e);
                }
            }
            m.latency.observe(took);
        });
        self.replies.clear();
    }

    /// Sends the run of verdicts held back, if any; a run whose verdict
    /// failed is sent again here, before any later one.
    fn flush_verdicts(&mut self) {
        match self.batch.flush() {
            Some(run) => self.send_run(run),
            None if !self.pending.is_empty() => self.send_pending(),
            None => {}
        }
    }

    /// Sends `run` after any run still waiting (never before it: its batch
    /// would give the waiting packets this run's verdict).
    fn send_run(&mut self, run: Batch) {
        self.pending.push(run);
        self.send_pending();
    }

    fn send_pending(&mut self) {
        let queue = &self.queue;
        let sent = self
            .pending
            .send_in_order(|run| queue.verdict_batch(run.max_id, run.verdict == Verdict::Accept));
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
    /// In `shadow` mode a reply is counted as if sent, and not sent. The
    /// packet's `trace` event goes to its tracers now, or with its reply.
    fn account(&mut self, decision: Decision, start: Instant, shadow: bool, trace: Trace) -> bool {
        let m = &self.metrics;
        let p = self.protocol;
        let (ifindex, outcome) = match decision {
            Decision::NotOurs { .. } => {
                m.proto(p).not_ours.fetch_add(1, Ordering::Relaxed);
                publish(trace, start);
                return false;
            }
            Decision::Served { ifindex, outcome } => (ifindex, outcome),
        };
        match outcome {
            Outcome::Dropped(r @ (DropReason::SpoofedMac | DropReason::RateLimited)) => {
                m.dropped(p, r);
                let what = match r {
                    DropReason::SpoofedMac => "request with a MAC other than the binding's dropped",
                    _ => "guest over its packet rate limit: excess dropped",
                };
                self.warnings
                    .warn(ifindex, start, p.as_str(), what, &r.as_str());
            }
            Outcome::Dropped(r) => {
                m.dropped(p, r);
                debug!(
                    protocol = p.as_str(),
                    ifindex = ifindex,
                    reason = r.as_str(),
                    "dropped"
                );
            }
            Outcome::Consumed(c) => {
                m.consumed(p, c);
                info!(protocol = p.as_str(), ifindex = ifindex, what = ?c, "handled without reply");
            }
            Outcome::Reply(r) if shadow => {
                m.reply(p, r.kind);
                debug!(protocol = p.as_str(), ifindex = ifindex, kind = ?r.kind, "shadow: reply not sent");
            }
            Outcome::Reply(r) => {
                self.replies.push(PendingReply {
                    ifindex,
                    kind: r.kind,
                    frame: r.frame,
                    start,
                    trace: std::cell::Cell::new(trace),
                });
                if self.replies.len() >= REPLY_BATCH_MAX {
                    self.flush_replies();
                }
                return true;
            }
        }
        publish(trace, start);
        false
    }
}

/// Hands a packet's trace event, if any, to its tracers (a reply decided
/// and not sent, in shadow mode, gets its decision time as latency).
fn publish(trace: Trace, start: Instant) {
    if let Some(t) = trace {
        let (to, mut e) = *t;
        e.replied(start.elapsed(), None);
        Tracers::publish(to, e);
    }
}
