//! The binding table: an immutable snapshot behind an atomic pointer.
//!
//! Queue workers read it without locks or waiting (`Table::load`); the
//! binding manager builds a whole new [`Snapshot`] on each change and
//! swaps it in: readers never wait for writers (ARCHITECTURE.md, "Where state lives").

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Binding;
use crate::mac::MacAddr;

/// A binding in force on a tap that exists: what a worker needs per packet.
#[derive(Debug, Clone)]
pub struct Served {
    /// The binding.
    pub binding: Arc<Binding>,
    /// The tap's ifindex (replies leave through it).
    pub ifindex: u32,
    /// MAC of the INDEV interface (tap or bridge): source of every reply.
    pub server_mac: MacAddr,
    /// This tap's rate limiter (kept across snapshots while the file exists).
    pub limiter: Arc<crate::datapath::ratelimit::TapLimiter>,
    /// This tap's last request, reply and drop (kept with the limiter).
    pub seen: Arc<crate::datapath::lastseen::LastSeen>,
}

impl PartialEq for Served {
    /// Same binding on the same tap with the same identity (limiter state aside).
    fn eq(&self, o: &Self) -> bool {
        self.binding == o.binding && self.ifindex == o.ifindex && self.server_mac == o.server_mac
    }
}

impl Eq for Served {}

/// The state of one binding file, as `status` and `check` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// In force.
    Active,
    /// Valid, but no interface with the tap's name exists (yet).
    TapMissing,
    /// Valid, the tap exists, but its INDEV interface does not.
    IndevMissing,
    /// The file is invalid; the last good binding (if any) stays in force.
    Invalid {
        /// Why.
        error: String,
        /// Whether an earlier good version is still served.
        last_good_served: bool,
    },
}

impl State {
    /// Short label for tables and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            State::Active => "active",
            State::TapMissing => "tap_missing",
            State::IndevMissing => "indev_missing",
            State::Invalid { .. } => "invalid",
        }
    }
}

/// One binding file's row in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Tap (file) name.
    pub tap: String,
    /// The binding in force or last good one, if any.
    pub binding: Option<Arc<Binding>>,
    /// The tap's ifindex if it exists.
    pub ifindex: Option<u32>,
    /// State.
    pub state: State,
}

/// An immutable view of every binding.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Active bindings by tap ifindex.
    pub by_ifindex: HashMap<u32, Served>,
    /// Every binding file, sorted by tap name.
    pub entries: Vec<Entry>,
    /// Increases with every published snapshot.
    pub generation: u64,
}

impl Snapshot {
    /// The binding served on tap `ifindex`.
    pub fn lookup(&self, ifindex: u32) -> Option<&Served> {
        self.by_ifindex.get(&ifindex)
    }
}

/// The shared, atomically swapped table.
#[derive(Debug, Default)]
pub struct Table(ArcSwap<Snapshot>);

impl Table {
    /// An empty table.
    pub fn new() -> Arc<Table> {
        Arc::new(Table::default())
    }

    /// The current snapshot (wait-free for readers).
    pub fn load(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// A cheap guard on the current snapshot, for the hot path.
    pub fn guard(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.0.load()
    }

    /// Publishes a new snapshot.
    pub fn publish(&self, s: Snapshot) {
        self.0.store(Arc::new(s));
    }
}
