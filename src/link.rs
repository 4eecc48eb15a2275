//! Live interface tracking with rtnetlink link events (no polling).
//!
//! Dumps every link once, then follows RTM_NEWLINK / RTM_DELLINK from the
//! RTMGRP_LINK multicast group, and tells the binding manager. Subscribing
//! before the dump means no change is missed between the two; replaying an
//! event the dump already showed is harmless (updates are idempotent).
//! When events are lost (the receive buffer overran: the kernel reports
//! ENOBUFS, netlink-proto passes it on as an Overrun message) or the
//! stream breaks, it starts over with a fresh dump; a failure to open or
//! dump is retried with backoff, never ends the monitor, and shows in
//! `status` ([`Health`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{AsyncSocket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt};
use tracing::{debug, error, warn};

use crate::binding::store::Link;
use crate::binding::watch::{Event, Handle};
use crate::mac::MacAddr;

/// Why the link monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The netlink socket could not be opened or bound.
    #[error("rtnetlink socket: {0}")]
    Socket(#[from] std::io::Error),
    /// The receive buffer could not be set.
    #[error("rtnetlink socket receive buffer: {0}")]
    Buffer(#[from] nix::Error),
    /// The link dump failed.
    #[error("rtnetlink link dump: {0}")]
    Dump(#[from] rtnetlink::Error),
}

/// Name and link of an rtnetlink link message.
pub fn link_of(msg: &LinkMessage) -> Option<(String, Link)> {
    let mut name = None;
    let mut mac = None;
    for a in &msg.attributes {
        match a {
            LinkAttribute::IfName(n) => name = Some(n.clone()),
            LinkAttribute::Address(b) if b.len() == 6 => mac = MacAddr::from_slice(b),
            _ => {}
        }
    }
    name.map(|n| {
        (
            n,
            Link {
                ifindex: msg.header.index,
                mac,
            },
        )
    })
}

/// Dumps the links once (for `check` and `gc`, outside the daemon).
pub async fn dump_links() -> Result<Vec<(String, Link)>, LinkError> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let task = tokio::spawn(conn);
    let links = handle
        .link()
        .get()
        .execute()
        .try_filter_map(|m| async move { Ok(link_of(&m)) })
        .try_collect()
        .await;
    task.abort();
    Ok(links?)
}

/// Receive buffer asked for the event socket: a burst of link changes (a
/// host booting its VMs, a mass migration: thousands of RTM_NEWLINK of
/// ~1 KiB each) must fit while the runtime thread is busy elsewhere. Set
/// with SO_RCVBUFFORCE (CAP_NET_ADMIN, kept after the privilege drop),
/// falling back to SO_RCVBUF (capped by net.core.rmem_max).
/// `NFDHCPD_LINK_RCVBUF` (bytes) overrides it.
pub const EVENT_RCVBUF: usize = 8 << 20;

/// The receive buffer to ask for: [`EVENT_RCVBUF`] unless
/// `NFDHCPD_LINK_RCVBUF` says otherwise.
fn event_rcvbuf() -> usize {
    std::env::var("NFDHCPD_LINK_RCVBUF")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(EVENT_RCVBUF)
}

/// First wait after a failed (re)start of the monitor; doubled each time,
/// up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// Longest wait between two tries.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// How the link monitor is doing, for `status` and the metrics.
#[derive(Debug, Default)]
pub struct Health {
    /// Following events after a good dump (false while starting or retrying).
    pub following: AtomicBool,
    /// Full dumps done after the first (overrun, stream end, error).
    pub resyncs: AtomicU64,
    /// Receive buffer overruns: events lost, each followed by a full dump.
    pub overruns: AtomicU64,
    /// Failures to open, bind or dump (each retried with backoff).
    pub errors: AtomicU64,
    /// The last failure, if any.
    pub last_error: Mutex<Option<String>>,
}

/// Why one run of the monitor ended.
enum End {
    /// Events were lost: resynchronise with a full dump.
    Overrun,
    /// The event stream ended.
    StreamEnded,
}

/// Follows links for ever, telling `to`; never returns. Any failure is
/// logged, counted in `health` and retried with backoff; lost events (a
/// receive buffer overrun) and a broken stream are followed by a fresh
/// dump, so the binding table never keeps a stale view of the taps.
pub async fn monitor(to: Handle, health: Arc<Health>) {
    let mut wait = RETRY_FIRST;
    let mut first = true;
    loop {
        if !first {
            health.resyncs.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        match follow(&to, &health).await {
            Ok(End::Overrun) => {
                health.overruns.fetch_add(1, Ordering::Relaxed);
                warn!("link events lost (netlink receive buffer overrun): resynchronising with a full dump");
                wait = RETRY_FIRST;
            }
            Ok(End::StreamEnded) => {
                warn!("rtnetlink event stream ended: resynchronising links");
                wait = RETRY_FIRST;
            }
            Err(e) => {
                health.errors.fetch_add(1, Ordering::Relaxed);
                *health
                    .last_error
                    .lock()
                    .expect("link health lock is never poisoned") = Some(e.to_string());
                error!(error = %e, retry_in = ?wait, "link monitor failed: taps appearing or vanishing are not followed until it is back");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
        health.following.store(false, Ordering::Relaxed);
    }
}

/// One run: subscribe, dump, then follow events until they are lost or end.
async fn follow(to: &Handle, health: &Health) -> Result<End, LinkError> {
    let (mut conn, handle, mut messages) = rtnetlink::new_connection()?;
    let sock = conn.socket_mut().socket_mut();
    let size = event_rcvbuf();
    if let Err(e) = setsockopt(&*sock, sockopt::RcvBufForce, &size) {
        debug!(error = %e, "SO_RCVBUFFORCE refused; asking SO_RCVBUF");
        sock.set_rx_buf_sz(size)?;
    }
    sock.bind(&SocketAddr::new(0, rtnetlink::constants::RTMGRP_LINK))?;
    let task = tokio::spawn(conn);
    let _abort = AbortOnDrop(task);
    let all: Vec<(String, Link)> = handle
        .link()
        .get()
        .execute()
        .try_filter_map(|m| async move { Ok(link_of(&m)) })
        .try_collect()
        .await?;
    debug!(links = all.len(), "link dump");
    to.send(Event::Links(all));
    health.following.store(true, Ordering::Relaxed);
    while let Some((msg, _)) = messages.next().await {
        match msg.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                if let Some((name, link)) = link_of(&m) {
                    debug!(name, ifindex = link.ifindex, "link up/changed");
                    to.send(Event::LinkUp(name, link));
                }
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                debug!(ifindex = m.header.index, "link deleted");
                to.send(Event::LinkDown(m.header.index));
            }
            NetlinkPayload::Overrun(_) => return Ok(End::Overrun),
            _ => {}
        }
    }
    Ok(End::StreamEnded)
}

/// Ends the connection task with the run that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
