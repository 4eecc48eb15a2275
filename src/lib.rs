//! nfdhcpd: answers the autoconfiguration traffic (DHCPv4, Router and
//! Neighbour Solicitation, DHCPv6) of the VMs on a hypervisor, packet by
//! packet from netfilter queues, from one small binding file per tap.
//!
//! Layers, bottom up, each importing only those below it: `domain` (the
//! shared vocabulary), `value` (values both config and binding files
//! carry), `config` and `binding`, `proto` (sans-IO protocol code),
//! `datapath` (the queue workers around the one pure `respond::decide`,
//! and the per-tap state), `observe` (status, `/metrics`, trace), `ops`
//! (offline commands); `daemon` wires them; `metrics` (the counters) sits
//! beside them all. See ARCHITECTURE.md.
#![deny(unsafe_code)]
// One file convention for module folders: `x.rs` beside `x/`, no `mod.rs`.
#![deny(clippy::mod_module_files)]

pub mod binding;
pub mod config;
pub mod daemon;
pub mod datapath;
pub mod domain;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz;
pub mod link;
pub mod mac;
pub mod metrics;
pub mod observe;
pub mod ops;
pub mod privs;
pub mod proto;
pub mod value;
