//! The packet path: the NFQUEUE socket, the queue workers, the one pure
//! `decide`, verdicts in runs, the AF_PACKET sender, the per-tap rate
//! limit, last seen and log throttle, and the RA advertiser that shares
//! the sender.

pub mod advert;
pub mod lastseen;
pub mod logthrottle;
pub mod nfqueue;
pub mod queue;
pub mod ratelimit;
pub mod respond;
pub mod send;
pub mod spin;
pub mod tap;
pub mod tracers;
pub mod verdict;
