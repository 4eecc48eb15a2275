//! The binding table: an immutable snapshot behind an atomic pointer.
//!
//! Queue workers read it without locks or waiting (`Table::load`); the
//! binding manager builds a whole new [`Snapshot`] on each change and
//! swaps it in: readers never wait for writers (ARCHITECTURE.md, "Where state lives").
//!
//! Each served entry also holds what the datapath keeps per tap, its rate
//! limiter (`L`) and its last seen record (`S`), kept across snapshots
//! while the tap's file exists so that they live and die with the binding.
//! They are opaque here: the table is generic over them, and the datapath
//! names the table it uses (`datapath::tap`).

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Binding;
use crate::mac::MacAddr;

/// A binding in force on a tap that exists: what a worker needs per packet.
#[derive(Debug)]
pub struct Served<L, S> {
    /// The binding.
    pub binding: Arc<Binding>,
    /// The tap's ifindex (replies leave through it).
    pub ifindex: u32,
    /// MAC of the INDEV interface (tap or bridge): source of every reply.
    pub server_mac: MacAddr,
    /// This tap's rate limiter (kept across snapshots while the file exists).
    pub limiter: Arc<L>,
    /// This tap's last request, reply and drop (kept with the limiter).
    pub seen: Arc<S>,
}

impl<L, S> Clone for Served<L, S> {
    fn clone(&self) -> Self {
        Served {
            binding: self.binding.clone(),
            ifindex: self.ifindex,
            server_mac: self.server_mac,
            limiter: self.limiter.clone(),
            seen: self.seen.clone(),
        }
    }
}

impl<L, S> PartialEq for Served<L, S> {
    /// Same binding on the same tap with the same identity (limiter state aside).
    fn eq(&self, o: &Self) -> bool {
        self.binding == o.binding && self.ifindex == o.ifindex && self.server_mac == o.server_mac
    }
}

impl<L, S> Eq for Served<L, S> {}

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
#[derive(Debug)]
pub struct Snapshot<L, S> {
    /// Active bindings by tap ifindex.
    pub by_ifindex: HashMap<u32, Served<L, S>>,
    /// Every binding file, sorted by tap name.
    pub entries: Vec<Entry>,
    /// Increases with every published snapshot.
    pub generation: u64,
}

impl<L, S> Default for Snapshot<L, S> {
    fn default() -> Self {
        Snapshot {
            by_ifindex: HashMap::new(),
            entries: Vec::new(),
            generation: 0,
        }
    }
}

impl<L, S> Clone for Snapshot<L, S> {
    fn clone(&self) -> Self {
        Snapshot {
            by_ifindex: self.by_ifindex.clone(),
            entries: self.entries.clone(),
            generation: self.generation,
        }
    }
}

impl<L, S> Snapshot<L, S> {
    /// The binding served on tap `ifindex`.
    pub fn lookup(&self, ifindex: u32) -> Option<&Served<L, S>> {
        self.by_ifindex.get(&ifindex)
    }
}

/// The shared, atomically swapped table.
#[derive(Debug)]
pub struct Table<L, S>(ArcSwap<Snapshot<L, S>>);

impl<L, S> Default for Table<L, S> {
    fn default() -> Self {
        Table(ArcSwap::from_pointee(Snapshot::default()))
    }
}

impl<L, S> Table<L, S> {
    /// An empty table.
    pub fn new() -> Arc<Self> {
        Arc::new(Table::default())
    }

    /// The current snapshot (wait-free for readers).
    pub fn load(&self) -> Arc<Snapshot<L, S>> {
        self.0.load_full()
    }

    /// A cheap guard on the current snapshot, for the hot path.
    pub fn guard(&self) -> arc_swap::Guard<Arc<Snapshot<L, S>>> {
        self.0.load()
    }

    /// Publishes a new snapshot.
    pub fn publish(&self, s: Snapshot<L, S>) {
        self.0.store(Arc::new(s));
    }
}
