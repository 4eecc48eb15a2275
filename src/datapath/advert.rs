//! Unsolicited Router Advertisements (RFC 4861 §6.2.4, §6.2.5).
//!
//! A thread that sends, to every active binding with SUBNET6: a periodic RA
//! every `ra_period` seconds (jittered); a prompt initial burst when a
//! binding or its tap appears; and on shutdown a final RA with router
//! lifetime 0. One failing tap never stops a round. In shadow mode
//! (`[general] shadow`) nothing is sent.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tracing::{debug, info};

use crate::config::Config;
use crate::datapath::logthrottle::WarnLimiter;
use crate::datapath::send::{OutFrame, Sender};
use crate::datapath::tap::{Served, Table};
use crate::metrics::Metrics;
use crate::proto::{ra, Context};

/// RFC 4861 §10: MAX_INITIAL_RTR_ADVERTISEMENTS.
pub const MAX_INITIAL_RTR_ADVERTISEMENTS: u32 = 3;
/// RFC 4861 §10: MAX_INITIAL_RTR_ADVERT_INTERVAL, seconds.
pub const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = Duration::from_secs(16);

/// What the advertiser is told.
#[derive(Debug)]
pub enum Command {
    /// These taps became active or changed.
    Activated(Vec<u32>),
    /// Send the final RAs, then answer on the channel and stop.
    Stop(std::sync::mpsc::SyncSender<()>),
}

/// The periodic RA sender.
pub struct Advertiser {
    /// Binding table.
    pub table: Arc<Table>,
    /// Config in force.
    pub config: Arc<ArcSwap<Config>>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Raw sender.
    pub sender: Sender,
    /// Per-tap limiter of send-failure warnings (this thread only).
    pub warnings: std::cell::RefCell<WarnLimiter>,
}

/// The next periodic interval: uniform in [0.75, 1.0] × ra_period
/// (RFC 4861 §6.2.4: "a random value between MinRtrAdvInterval and MaxRtrAdvInterval").
fn jittered(period: u32) -> Duration {
    let p = Duration::from_secs(period.max(1).into());
    p.mul_f64(0.75 + 0.25 * fastrand::f64())
}

/// An RA built for one tap.
struct Ra<'a> {
    served: &'a Served,
    frame: Vec<u8>,
}

impl OutFrame for Ra<'_> {
    fn ifindex(&self) -> u32 {
        self.served.ifindex
    }
    fn frame(&self) -> &[u8] {
        &self.frame
    }
}

impl Advertiser {
    /// Sends an unsolicited RA to each of `taps` (those with SUBNET6), in
    /// sendmmsg batches; returns how many were sent and how many failed.
    fn send_to<'a>(
        &self,
        taps: impl IntoIterator<Item = &'a Served>,
        config: &Config,
        final_ra: bool,
    ) -> (u64, u64) {
        // Shadow mode sends nothing, unsolicited RAs included.
        if config.general.shadow {
            return (0, 0);
        }
        let ras: Vec<Ra<'a>> = taps
            .into_iter()
            .filter_map(|served| {
                let ctx = Context {
                    config,
                    binding: &served.binding,
                    server_mac: served.server_mac,
                    src_mac: None,
                };
                let reply = ra::build_unsolicited_ra(&ctx, final_ra)?;
                Some(Ra {
                    served,
                    frame: reply.frame,
                })
            })
            .collect();
        let (mut ok, mut failed) = (0, 0);
        self.sender.send_all(&ras, |ra, r| match r {
            Ok(()) => {
                self.metrics.periodic_ra.fetch_add(1, Ordering::Relaxed);
                ok += 1;
            }
            Err(e) => {
                self.metrics
                    .periodic_ra_errors
                    .fetch_add(1, Ordering::Relaxed);
                failed += 1;
                let detail = format!("tap {}: {e}", ra.served.binding.tap);
                self.warnings.borrow_mut().warn(
                    ra.served.ifindex,
                    Instant::now(),
                    "ra",
                    "unsolicited RA not sent",
                    &detail,
                );
            }
        });
        (ok, failed)
    }

    fn round(&self, final_ra: bool) {
        let config = self.config.load();
        let snap = self.table.load();
        let (ok, failed) = self.send_to(snap.by_ifindex.values(), &config, final_ra);
        debug!(sent = ok, failed, final_ra, "RA round");
    }

    /// Runs until told to stop.
    pub fn run(self, rx: Receiver<Command>) {
        let mut next_round = Instant::now() + jittered(self.config.load().ipv6.ra_period);
        // ifindex → (next initial RA due, initial RAs left)
        let mut initial: HashMap<u32, (Instant, u32)> = HashMap::new();
        loop {
            let now = Instant::now();
            let due = initial
                .values()
                .map(|(t, _)| *t)
                .chain([next_round])
                .min()
                .unwrap_or(next_round);
            match rx.recv_timeout(due.saturating_duration_since(now)) {
                Ok(Command::Activated(taps)) => {
                    for t in taps {
                        initial.insert(t, (Instant::now(), MAX_INITIAL_RTR_ADVERTISEMENTS));
                    }
                }
                Ok(Command::Stop(done)) => {
                    info!("sending final router advertisements (lifetime 0)");
                    self.round(true);
                    let _ = done.send(());
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if now >= next_round {
                self.round(false);
                next_round = now + jittered(self.config.load().ipv6.ra_period);
            }
            let config = self.config.load();
            let snap = self.table.load();
            let mut due_now = Vec::new();
            initial.retain(|ifindex, (at, left)| {
                if *at > now {
                    return true;
                }
                due_now.extend(snap.lookup(*ifindex));
                *left -= 1;
                let gap = MAX_INITIAL_RTR_ADVERT_INTERVAL
                    .min(Duration::from_secs(config.ipv6.ra_period.into()));
                *at = now + gap.mul_f64(0.25 + 0.25 * fastrand::f64());
                *left > 0
            });
            self.send_to(due_now, &config, false);
        }
    }
}
