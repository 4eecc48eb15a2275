//! The typical exchanges of one served tap, put through the daemon's
//! [`decide`] and decoded into a [`Report`].

use std::net::Ipv4Addr;

use super::source::Sources;
use super::{decode, request, Exchange, Field, Report, Which};
use crate::binding::Binding;
use crate::config::{Config, Ipv6Mode};
use crate::datapath::respond::{decide, Meta};
use crate::datapath::tap::Snapshot;
use crate::domain::{DropReason, Protocol};
use crate::proto::Outcome;

/// Puts the typical requests of one served tap through [`decide`].
pub(super) struct Exchanger<'a> {
    pub(super) config: &'a Config,
    pub(super) snap: &'a Snapshot,
    pub(super) binding: &'a Binding,
    pub(super) meta: Meta,
    pub(super) sources: Sources<'a>,
}

impl Exchanger<'_> {
    /// The daemon's outcome for `packet`.
    fn decide(&self, p: Protocol, packet: &[u8]) -> Outcome {
        let d = decide(self.config, self.snap, p, &self.meta, packet, 1);
        d.outcome()
            .cloned()
            .unwrap_or(Outcome::Dropped(DropReason::NotOurs))
    }

    /// Fields with their sources.
    fn fields(&self, values: Vec<decode::Value>) -> Vec<Field> {
        values
            .into_iter()
            .map(|(name, value)| Field {
                name: name.into(),
                value,
                source: self.sources.of(name),
            })
            .collect()
    }

    /// DISCOVER → OFFER, REQUEST → ACK; why nothing, if so.
    pub(super) fn dhcpv4(&self, r: &mut Report) -> Option<String> {
        let mac = self.binding.mac;
        let prl = request::DHCPV4_PRL.map(|c| c.to_string()).join(" ");
        let mut select = None;
        for step in 0..2 {
            let (name, packet) = match (step, select) {
                (0, _) => ("DHCPDISCOVER", request::dhcpv4(mac, None)),
                (_, Some(sel)) => ("DHCPREQUEST", request::dhcpv4(mac, Some(sel))),
                (_, None) => break,
            };
            let request = format!("{name} (parameter request list {prl})");
            let frame = match self.decide(Protocol::Dhcpv4, &packet) {
                Outcome::Reply(reply) => reply.frame,
                other => {
                    return Some(self.no_reply(r, request, &other, Which::Dhcpv4));
                }
            };
            match decode::dhcpv4(&frame) {
                Ok((m, values)) => {
                    let kind = m.opts().msg_type().map_or("?".into(), |t| format!("{t:?}"));
                    select = server_id(&m).map(|sid| (m.yiaddr(), sid));
                    r.exchanges.push(Exchange {
                        request,
                        reply: format!("DHCP{}", kind.to_uppercase()),
                        fields: self.fields(values),
                    });
                }
                Err(e) => return Some(e.to_string()),
            }
        }
        None
    }

    /// RS → RA; why nothing, if so.
    pub(super) fn ra(&self, r: &mut Report) -> Option<String> {
        let request = "Router Solicitation (source link-layer address)".to_string();
        let packet = request::router_solicit(self.binding.mac);
        let frame = match self.decide(Protocol::RouterSolicit, &packet) {
            Outcome::Reply(reply) => reply.frame,
            other => return Some(self.no_reply(r, request, &other, Which::Ra)),
        };
        match decode::router_advert(&frame) {
            Ok(values) => {
                r.exchanges.push(Exchange {
                    request,
                    reply: "Router Advertisement".into(),
                    fields: self.fields(values),
                });
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }

    /// Solicit → Advertise, Request → Reply in mode `dhcpv6` or for a
    /// binding that delegates prefixes; else Information-Request → Reply.
    pub(super) fn dhcpv6(&self, r: &mut Report) -> Option<String> {
        let mut ask = request::Ask6 {
            address: self.config.ipv6.mode == Ipv6Mode::Dhcpv6,
            prefixes: !self.binding.prefix6_delegated.is_empty(),
            advertised: None,
        };
        let oro = request::DHCPV6_ORO.map(|c| c.to_string()).join(" ");
        let steps = if ask.address || ask.prefixes { 2 } else { 1 };
        for _ in 0..steps {
            let name = match (&ask.advertised, ask.address || ask.prefixes) {
                (Some(_), _) => "Request",
                (None, true) => "Solicit",
                (None, false) => "Information-Request",
            };
            let mut request = format!("{name} (option request {oro}");
            if ask.address {
                request.push_str(", IA_NA");
            }
            if ask.prefixes {
                request.push_str(", IA_PD");
            }
            request.push(')');
            let packet = request::dhcpv6(self.binding.mac, &ask);
            let frame = match self.decide(Protocol::Dhcpv6, &packet) {
                Outcome::Reply(reply) => reply.frame,
                other => return Some(self.no_reply(r, request, &other, Which::Dhcpv6)),
            };
            let (m, values) = match decode::dhcpv6(&frame) {
                Ok(d) => d,
                Err(e) => return Some(e.to_string()),
            };
            let ias = m
                .opts()
                .iter()
                .filter(|o| {
                    matches!(
                        o,
                        dhcproto::v6::DhcpOption::IANA(_) | dhcproto::v6::DhcpOption::IAPD(_)
                    )
                })
                .cloned()
                .collect();
            let server = m.opts().iter().find_map(|o| match o {
                dhcproto::v6::DhcpOption::ServerId(d) => Some(d.clone()),
                _ => None,
            });
            let granted = values
                .iter()
                .any(|(n, _)| matches!(*n, "address6" | "delegated_prefix"));
            let status = values
                .iter()
                .find(|(n, _)| n.ends_with("status"))
                .map(|(_, v)| v.clone());
            r.exchanges.push(Exchange {
                request,
                reply: format!("{:?}", m.msg_type()),
                fields: self.fields(values),
            });
            // RFC 8415 §18.2.1: a client waits for an Advertise with
            // something it asked for; it sends no Request without one.
            if steps == 2 && !granted {
                return Some(format!(
                    "the binding has no IPv6 address (IP6, EUI64) or delegated prefix (PREFIX6_DELEGATED) to give ({})",
                    status.as_deref().unwrap_or("no status")
                ));
            }
            ask.advertised = server.map(|s| (s, ias));
        }
        None
    }

    /// Records a request that got no reply; returns why.
    fn no_reply(&self, r: &mut Report, request: String, o: &Outcome, w: Which) -> String {
        let (reply, why) = match o {
            Outcome::Dropped(reason) => (
                format!("dropped: {}", reason.as_str()),
                dropped_because(*reason, w),
            ),
            Outcome::Consumed(c) => (
                format!("consumed: {}", c.as_str()),
                "the request is consumed without a reply".into(),
            ),
            Outcome::Reply(_) => unreachable!("a reply is no missing reply"),
        };
        r.exchanges.push(Exchange {
            request,
            reply,
            fields: Vec::new(),
        });
        why
    }
}

/// The server identifier of a DHCPv4 reply.
fn server_id(m: &dhcproto::v4::Message) -> Option<Ipv4Addr> {
    match m.opts().get(dhcproto::v4::OptionCode::ServerIdentifier)? {
        dhcproto::v4::DhcpOption::ServerIdentifier(a) => Some(*a),
        _ => None,
    }
}

/// Why a typical request of `w` is dropped, in words.
fn dropped_because(reason: DropReason, w: Which) -> String {
    match (reason, w) {
        (DropReason::NotConfigured, Which::Dhcpv4) => {
            "the binding has no IP (or the config no server_ip)".into()
        }
        (DropReason::NotConfigured, Which::Ra) => "the binding has no SUBNET6".into(),
        (DropReason::NotConfigured, Which::Dhcpv6) => {
            "the binding has nothing to give by DHCPv6 (no address, prefix or DNS)".into()
        }
        (DropReason::Disabled, _) => "disabled in the config".into(),
        (r, _) => format!("the daemon drops it ({})", r.as_str()),
    }
}
