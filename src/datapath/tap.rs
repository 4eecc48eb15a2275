//! What the datapath keeps per tap beside its binding: the rate limiter
//! ([`TapLimiter`]) and the last seen record ([`LastSeen`]), both
//! recorded by `respond::decide`. The binding table holds them, opaque to
//! it, in each served entry and keeps them across snapshots while the
//! tap's file exists, so they live and die with the binding. Here, the
//! table's types as the daemon uses them.

use super::lastseen::LastSeen;
use super::ratelimit::TapLimiter;
use crate::binding::{store, table, watch};

/// The binding table.
pub type Table = table::Table<TapLimiter, LastSeen>;
/// One snapshot of the binding table.
pub type Snapshot = table::Snapshot<TapLimiter, LastSeen>;
/// A binding in force on a tap, with the tap's limiter and last seen.
pub type Served = table::Served<TapLimiter, LastSeen>;
/// The binding manager's state.
pub type Store = store::Store<TapLimiter, LastSeen>;
/// The binding manager.
pub type Manager = watch::Manager<TapLimiter, LastSeen>;
