//! What the daemon tells its operator: counters, the `/metrics` endpoint,
//! the control socket (`status`, `trace`), per-VM last seen, and the
//! per-tap log throttle.

pub mod control;
pub mod lastseen;
pub mod logthrottle;
pub mod metrics;
pub mod prom;
pub mod trace;
