//! The workers' side of `nfdhcpd trace`: the attached tracers, and the
//! event a worker hands them for each packet.
//!
//! Zero cost while no tracer is attached: a worker reads one atomic
//! ([`Tracers::attached`]) per packet and does nothing else. With tracers
//! attached, each has a bounded channel the workers fill with `try_send`:
//! a worker never waits for a tracer. A tracer that reads too slowly loses
//! events, counted. Each tracer also has a line rate
//! ([`DEFAULT_MAX_RATE`] unless it asks otherwise): past it, in each tenth
//! of a second, packets are counted lost before any event is built, so a
//! flood costs an attached tracer, the daemon's socket task and the
//! workers no more than that rate of lines. Events are plain data (the request's bytes, the
//! decision, the reply frame); the lines a tracer reads are written by
//! the control socket's task, off the workers (`observe::trace`).

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::mpsc;

use crate::datapath::respond::{Decision, Verdict};
use crate::domain::{Consumed, DropReason, Protocol};
use crate::mac::MacAddr;
use crate::proto::{Outcome, Reply};

/// Tracers attached at once; more are refused with an error line.
pub const MAX_TRACERS: usize = 8;
/// Events waiting for one tracer; past this, events are lost (counted).
pub const TRACE_BACKLOG: usize = 1024;
/// Lines per second a tracer gets unless it asks for another rate
/// (`nfdhcpd trace --max-rate`; 0: no limit). Well above what one VM
/// sends; a flood beyond it is reported as lines lost.
pub const DEFAULT_MAX_RATE: u32 = 10_000;
/// The rate is enforced per window of this length.
pub(crate) const RATE_WINDOW: Duration = Duration::from_millis(100);
/// Rate windows in a second.
const WINDOWS_PER_SECOND: u32 = (1000 / RATE_WINDOW.as_millis()) as u32;

/// What became of a traced packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traced {
    /// From a tap without a binding: ACCEPTed untouched.
    NoBinding,
    /// Dropped, with its reason.
    Dropped(DropReason),
    /// Handled without reply (RELEASE, DECLINE).
    Consumed(Consumed),
    /// Answered: the reply, how long after the request it left (or was
    /// decided, in shadow mode), and why it could not be sent, if so.
    Reply {
        /// The reply.
        reply: Reply,
        /// Request received → reply sent (shadow: decided).
        latency: Duration,
        /// The send error, if the reply did not leave.
        error: Option<String>,
    },
}

/// One packet, as a worker hands it to the tracers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it was received (milliseconds since the Unix epoch).
    pub unix_ms: u64,
    /// The serving tap.
    pub ifindex: u32,
    /// Its queue's protocol.
    pub protocol: Protocol,
    /// Source MAC of its frame.
    pub src_mac: Option<MacAddr>,
    /// The IP packet, as queued.
    pub request: Vec<u8>,
    /// The verdict it got.
    pub verdict: Verdict,
    /// Shadow mode was on.
    pub shadow: bool,
    /// What became of it.
    pub outcome: Traced,
}

impl Event {
    /// The event of a packet and its decision (a reply's latency and send
    /// result are filled in when it is sent).
    pub fn of(
        protocol: Protocol,
        src_mac: Option<MacAddr>,
        request: &[u8],
        decision: &Decision,
        verdict: Verdict,
        shadow: bool,
    ) -> Event {
        let outcome = match decision.outcome() {
            None => Traced::NoBinding,
            Some(Outcome::Dropped(r)) => Traced::Dropped(*r),
            Some(Outcome::Consumed(c)) => Traced::Consumed(*c),
            Some(Outcome::Reply(r)) => Traced::Reply {
                reply: r.clone(),
                latency: Duration::ZERO,
                error: None,
            },
        };
        Event {
            unix_ms: crate::datapath::lastseen::unix_ms_now(),
            ifindex: decision.ifindex(),
            protocol,
            src_mac,
            request: request.to_vec(),
            verdict,
            shadow,
            outcome,
        }
    }

    /// Sets a reply's latency and send error.
    pub fn replied(&mut self, took: Duration, err: Option<String>) {
        if let Traced::Reply { latency, error, .. } = &mut self.outcome {
            *latency = took;
            *error = err;
        }
    }
}

/// One attached tracer: its filter, its channel and its losses.
#[derive(Debug)]
pub struct Tracer {
    /// Taps by ifindex; empty: all.
    taps: Vec<u32>,
    /// Bit `p as usize` set for each protocol wanted.
    protocols: u8,
    tx: mpsc::Sender<Arc<Event>>,
    lost: AtomicU64,
    /// Lines per [`RATE_WINDOW`] (0: no limit).
    per_window: u32,
    /// The window `used` counts in.
    window: AtomicU64,
    /// Lines taken in `window`.
    used: AtomicU32,
}

impl Tracer {
    fn wants(&self, ifindex: u32, protocol: Protocol) -> bool {
        self.protocols & (1 << protocol as usize) != 0
            && (self.taps.is_empty() || self.taps.contains(&ifindex))
    }

    /// Takes one line of window `window`'s allowance; false when it is
    /// spent. Workers race only at a window's start, where a reset may
    /// let a few lines more through: the rate is a bound on cost, not
    /// an exact count.
    fn admit(&self, window: u64) -> bool {
        if self.per_window == 0 {
            return true;
        }
        if self.window.load(Ordering::Relaxed) != window {
            self.window.store(window, Ordering::Relaxed);
            self.used.store(0, Ordering::Relaxed);
        }
        self.used.fetch_add(1, Ordering::Relaxed) < self.per_window
    }

    /// Events lost since the last call.
    pub fn take_lost(&self) -> u64 {
        self.lost.swap(0, Ordering::Relaxed)
    }
}

/// The tracers a packet is for, chosen before its event is built.
#[derive(Debug)]
pub struct Targets {
    tracers: Arc<Vec<Arc<Tracer>>>,
    /// Bit i: `tracers[i]` wants it and had room.
    mask: u64,
}

/// Every attached tracer; shared by the workers and the control socket.
#[derive(Debug, Default)]
pub struct Tracers {
    /// How many are attached: the one load a worker does per packet.
    count: AtomicUsize,
    list: ArcSwap<Vec<Arc<Tracer>>>,
    /// Serializes attach and detach.
    edit: Mutex<()>,
}

impl Tracers {
    /// Whether any tracer is attached (one relaxed load).
    #[inline]
    pub fn attached(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// How many are attached.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether none is attached.
    pub fn is_empty(&self) -> bool {
        !self.attached()
    }

    /// The tracers that want a packet of `protocol` from `ifindex` and
    /// have room for it; those that want it and have none count it lost.
    /// None when no one takes it (build no event).
    pub fn select(&self, ifindex: u32, protocol: Protocol) -> Option<Targets> {
        let tracers = self.list.load();
        let mut mask = 0;
        let mut window = None;
        for (i, t) in tracers.iter().enumerate() {
            if !t.wants(ifindex, protocol) {
                continue;
            }
            let window = *window.get_or_insert_with(current_window);
            if t.tx.capacity() == 0 || !t.admit(window) {
                t.lost.fetch_add(1, Ordering::Relaxed);
            } else {
                mask |= 1 << i;
            }
        }
        // Kept (one reference more) only for a packet someone takes.
        (mask != 0).then(|| Targets {
            tracers: arc_swap::Guard::into_inner(tracers),
            mask,
        })
    }

    /// Hands `event` to the tracers chosen by [`Tracers::select`], never
    /// waiting: a full channel counts it lost.
    pub fn publish(targets: Targets, event: Event) {
        let event = Arc::new(event);
        for (i, t) in targets.tracers.iter().enumerate() {
            if targets.mask & (1 << i) != 0 && t.tx.try_send(event.clone()).is_err() {
                t.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Attaches a tracer for `taps` (ifindexes; empty: all) and
    /// `protocols` (empty: all), at most `max_rate` lines per second (0:
    /// no limit; rounded up to a multiple of ten); it is detached when
    /// the returned [`Attached`] is dropped. None when [`MAX_TRACERS`]
    /// are attached.
    pub fn attach(
        self: &Arc<Self>,
        taps: Vec<u32>,
        protocols: &[Protocol],
        max_rate: u32,
    ) -> Option<Attached> {
        let _g = self.edit.lock().unwrap_or_else(|e| e.into_inner());
        let list = self.list.load_full();
        if list.len() >= MAX_TRACERS {
            return None;
        }
        let (tx, rx) = mpsc::channel(TRACE_BACKLOG);
        let mask = if protocols.is_empty() {
            u8::MAX
        } else {
            protocols.iter().fold(0, |m, p| m | 1 << *p as usize)
        };
        let tracer = Arc::new(Tracer {
            taps,
            protocols: mask,
            tx,
            lost: AtomicU64::new(0),
            per_window: max_rate.div_ceil(WINDOWS_PER_SECOND),
            window: AtomicU64::new(0),
            used: AtomicU32::new(0),
        });
        let mut next = (*list).clone();
        next.push(tracer.clone());
        self.list.store(Arc::new(next));
        self.count.fetch_add(1, Ordering::Relaxed);
        Some(Attached {
            hub: self.clone(),
            tracer,
            rx,
        })
    }

    fn detach(&self, tracer: &Arc<Tracer>) {
        let _g = self.edit.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (*self.list.load_full()).clone();
        next.retain(|t| !Arc::ptr_eq(t, tracer));
        self.list.store(Arc::new(next));
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The number of the rate window now is in (one clock read; only when a
/// tracer wants the packet).
fn current_window() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let since = EPOCH.get_or_init(Instant::now).elapsed();
    u64::try_from(since.as_millis() / RATE_WINDOW.as_millis()).unwrap_or(u64::MAX)
}

/// An attached tracer's receiving end; detaches on drop.
#[derive(Debug)]
pub struct Attached {
    hub: Arc<Tracers>,
    /// The tracer (its lost count).
    pub tracer: Arc<Tracer>,
    /// Its events.
    pub rx: mpsc::Receiver<Arc<Event>>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.hub.detach(&self.tracer);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A dropped DHCPv4 packet from tap `ifindex`.
    pub(crate) fn event(ifindex: u32) -> Event {
        Event {
            unix_ms: 3_723_004,
            ifindex,
            protocol: Protocol::Dhcpv4,
            src_mac: None,
            request: vec![],
            verdict: Verdict::Drop,
            shadow: false,
            outcome: Traced::Dropped(DropReason::SpoofedMac),
        }
    }

    #[test]
    fn nothing_is_selected_without_a_tracer() {
        let hub = Arc::new(Tracers::default());
        assert!(!hub.attached());
        assert!(hub.select(1, Protocol::Dhcpv4).is_none());
        let a = hub.attach(vec![], &[], 0).unwrap();
        assert!(hub.attached());
        drop(a);
        assert!(!hub.attached(), "detached on drop");
        assert!(hub.select(1, Protocol::Dhcpv4).is_none());
    }

    #[test]
    fn each_tracer_gets_what_it_asked_for() {
        let hub = Arc::new(Tracers::default());
        let mut all = hub.attach(vec![], &[], 0).unwrap();
        let mut tap2 = hub.attach(vec![2], &[Protocol::Dhcpv4], 0).unwrap();
        let mut v6 = hub.attach(vec![], &[Protocol::Dhcpv6], 0).unwrap();
        for i in [1, 2] {
            let t = hub.select(i, Protocol::Dhcpv4).unwrap();
            Tracers::publish(t, event(i));
        }
        assert!(hub.select(1, Protocol::Dhcpv6).is_some());
        assert_eq!(all.rx.try_recv().unwrap().ifindex, 1);
        assert_eq!(all.rx.try_recv().unwrap().ifindex, 2);
        assert_eq!(tap2.rx.try_recv().unwrap().ifindex, 2);
        assert!(tap2.rx.try_recv().is_err());
        assert!(v6.rx.try_recv().is_err());
    }

    #[test]
    fn a_slow_tracer_loses_events_counted_and_never_blocks() {
        let hub = Arc::new(Tracers::default());
        let slow = hub.attach(vec![], &[], 0).unwrap();
        let mut fast = hub.attach(vec![], &[], 0).unwrap();
        let extra = 10;
        for n in 0..TRACE_BACKLOG + extra {
            if let Some(t) = hub.select(1, Protocol::Dhcpv4) {
                Tracers::publish(t, event(1));
            }
            // The fast one reads as it goes.
            assert!(fast.rx.try_recv().is_ok(), "event {n}");
        }
        assert_eq!(slow.tracer.take_lost(), extra as u64);
        assert_eq!(slow.tracer.take_lost(), 0, "reported once");
        assert_eq!(fast.tracer.take_lost(), 0);
    }

    #[test]
    fn a_tracer_gets_at_most_its_rate_the_rest_counted_lost() {
        let hub = Arc::new(Tracers::default());
        let mut capped = hub.attach(vec![], &[], 50).unwrap();
        let mut free = hub.attach(vec![], &[], 0).unwrap();
        // 50 lines/s: 5 per tenth of a second. A burst of 100 within one
        // window (or across two, if the clock ticks meanwhile).
        for _ in 0..100 {
            if let Some(t) = hub.select(1, Protocol::Dhcpv4) {
                Tracers::publish(t, event(1));
            }
            free.rx.try_recv().expect("no limit: every event");
        }
        let mut got = 0;
        while capped.rx.try_recv().is_ok() {
            got += 1;
        }
        assert!(
            (5..=10).contains(&got),
            "{got} events through a cap of 5 per window"
        );
        assert_eq!(capped.tracer.take_lost(), 100 - got);
        assert_eq!(free.tracer.take_lost(), 0);
        // The next window has a new allowance.
        std::thread::sleep(RATE_WINDOW * 2);
        let t = hub.select(1, Protocol::Dhcpv4).expect("a new window");
        Tracers::publish(t, event(1));
        assert!(capped.rx.try_recv().is_ok());
    }

    #[test]
    fn tracers_are_capped() {
        let hub = Arc::new(Tracers::default());
        let held: Vec<_> = (0..MAX_TRACERS)
            .map(|_| hub.attach(vec![], &[], 0).unwrap())
            .collect();
        assert!(hub.attach(vec![], &[], 0).is_none());
        drop(held);
        assert!(hub.attach(vec![], &[], 0).is_some());
    }
}
