//! Live interface tracking with rtnetlink link events (no polling).
//!
//! Dumps every link once, then follows RTM_NEWLINK / RTM_DELLINK from the
//! RTMGRP_LINK multicast group, and tells the binding manager. Subscribing
//! before the dump means no change is missed between the two; replaying an
//! event the dump already showed is harmless (updates are idempotent). If
//! the event stream breaks (e.g. the socket overflowed), it starts over
//! with a fresh dump.

use futures::stream::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{AsyncSocket, SocketAddr};
use tracing::{debug, warn};

use crate::binding::store::Link;
use crate::binding::watch::{Event, Handle};
use crate::mac::MacAddr;

/// Why the link monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The netlink socket could not be opened or bound.
    #[error("rtnetlink socket: {0}")]
    Socket(#[from] std::io::Error),
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

/// Follows links for ever, telling `to`. Returns only on a setup error.
pub async fn monitor(to: Handle) -> Result<(), LinkError> {
    loop {
        let (mut conn, handle, mut messages) = rtnetlink::new_connection()?;
        conn.socket_mut()
            .socket_mut()
            .bind(&SocketAddr::new(0, rtnetlink::constants::RTMGRP_LINK))?;
        let task = tokio::spawn(conn);
        let all: Vec<(String, Link)> = handle
            .link()
            .get()
            .execute()
            .try_filter_map(|m| async move { Ok(link_of(&m)) })
            .try_collect()
            .await?;
        debug!(links = all.len(), "link dump");
        to.send(Event::Links(all));
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
                _ => {}
            }
        }
        warn!("rtnetlink event stream ended; resynchronising links");
        task.abort();
    }
}
