//! nfdhcpd: answers the autoconfiguration traffic (DHCPv4, Router and
//! Neighbour Solicitation, DHCPv6) of the VMs on a hypervisor, packet by
//! packet from netfilter queues, from one small binding file per tap.
//!
//! The protocol work (`proto`, `respond`) is sans-IO: pure functions over
//! bytes and values, shared by the daemon, the tests and the benches.
#![deny(unsafe_code)]

pub mod advert;
pub mod binding;
pub mod check;
pub mod config;
pub mod control;
pub mod daemon;
pub mod domain;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz;
pub mod gc;
pub mod link;
pub mod logthrottle;
pub mod mac;
pub mod metrics;
pub mod nfqueue;
pub mod privs;
pub mod prom;
pub mod proto;
pub mod queue;
pub mod ratelimit;
pub mod replay;
pub mod respond;
pub mod rules;
pub mod send;
pub mod verdict;
