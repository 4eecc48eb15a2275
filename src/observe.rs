//! What the daemon tells its operator: the `/metrics` endpoint, the
//! control socket (`status`, `trace`) and the one-line packet summaries.
//! It reads the counters (`metrics`, beside every layer) and the
//! datapath's per-tap state.

pub mod control;
pub mod prom;
pub mod summary;
pub mod trace;
