//! The typical exchanges of one served tap, put through the daemon's
//! [`decide`] and decoded into a [`Report`].

use std::net::Ipv4Addr;

use super::request::BootClient;
use super::source::Sources;
use super::{decode, request, Exchange, Field, Report, Which};
use crate::binding::Binding;
use crate::config::options::effective;
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

    /// Fields with their sources (`client`: the boot firmware asking, whose
    /// boot file has a source of its own).
    fn fields(&self, values: Vec<decode::Value>, client: Option<BootClient>) -> Vec<Field> {
        values
            .into_iter()
            .map(|(name, value)| Field {
                source: match (&*name, client) {
                    ("boot_file" | "bootfile_name", Some(c)) => self.sources.boot_file(Some(c)),
                    (n, _) => self.sources.of(n),
                },
                name: name.into_owned(),
                value,
            })
            .collect()
    }

    /// A DHCPv4 request's reply decoded: its kind, yiaddr, server
    /// identifier and values; Err: what happened instead.
    fn reply4(&self, packet: &[u8]) -> Result<Reply4, NoReply4> {
        let frame = match self.decide(Protocol::Dhcpv4, packet) {
            Outcome::Reply(reply) => reply.frame,
            other => return Err(NoReply4::Outcome(other)),
        };
        let (m, values) = decode::dhcpv4(&frame).map_err(NoReply4::Decode)?;
        let kind = m.opts().msg_type().map_or("?".into(), |t| format!("{t:?}"));
        Ok(Reply4 {
            kind: format!("DHCP{}", kind.to_uppercase()),
            select: server_id(&m).map(|sid| (m.yiaddr(), sid)),
            yiaddr: m.yiaddr(),
            values,
        })
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
            match self.reply4(&packet) {
                Ok(reply) => {
                    select = reply.select;
                    r.exchanges.push(Exchange {
                        request,
                        reply: reply.kind,
                        fields: self.fields(reply.values, None),
                        extra: false,
                    });
                }
                Err(NoReply4::Outcome(o)) => {
                    return Some(self.no_reply(r, request, &o, Which::Dhcpv4))
                }
                Err(NoReply4::Decode(e)) => return Some(e.to_string()),
            }
        }
        if let Some(sel) = select {
            self.dhcpv4_more(r, sel);
        }
        None
    }

    /// What the typical exchange does not show: the options sent only to
    /// a client that asks for them (raw options, 66 and 67, 108), the
    /// OFFER of a DISCOVER asking for option 108, and the boot file of
    /// each kind of boot firmware. Each is an extra exchange showing only
    /// the values the typical ACK lacks (the boot values, for firmware).
    fn dhcpv4_more(&self, r: &mut Report, select: (Ipv4Addr, Ipv4Addr)) {
        let typical: Vec<String> = r
            .exchanges
            .last()
            .map(|e| e.fields.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        let new = |f: &Field| !typical.contains(&f.name);
        let mac = self.binding.mac;
        let (b, c) = (self.binding, self.config);
        let v6only = b.v6only_wait(c.dhcp.v6only_wait).is_some();
        let boot = b.boot.is_some() || c.dhcp.boot.is_some();
        let mut more: Vec<u8> = effective(&b.options.v4, &c.options.v4)
            .filter(|&(code, always, _)| {
                !always && !request::DHCPV4_PRL.iter().any(|&p| u16::from(p) == code)
            })
            .filter_map(|(code, _, _)| u8::try_from(code).ok())
            .collect();
        if boot {
            more.extend([request::TFTP_SERVER_NAME, request::BOOTFILE_NAME]);
        }
        if v6only {
            more.push(request::IPV6_ONLY_PREFERRED);
        }
        let codes = |m: &[u8]| m.iter().map(u8::to_string).collect::<Vec<_>>().join(" ");
        if !more.is_empty() {
            let ask = request::Ask4 {
                more: &more,
                boot: None,
            };
            let request = format!(
                "DHCPREQUEST asking also for {} (sent only to a client that asks)",
                codes(&more)
            );
            self.extra4(
                r,
                request,
                &request::dhcpv4_asking(mac, Some(select), ask),
                None,
                &new,
            );
        }
        if v6only {
            // RFC 8925 §3.3: the OFFER's yiaddr is 0.0.0.0.
            let ask = request::Ask4 {
                more: &[request::IPV6_ONLY_PREFERRED],
                boot: None,
            };
            let request =
                "DHCPDISCOVER asking also for 108 (IPv6-only preferred, RFC 8925)".to_string();
            self.extra4(
                r,
                request,
                &request::dhcpv4_asking(mac, None, ask),
                None,
                &new,
            );
        }
        if boot {
            for client in BootClient::ALL {
                let ask = request::Ask4 {
                    more: &[],
                    boot: Some(client),
                };
                let request = format!("DHCPDISCOVER of {}", client.label());
                let packet = request::dhcpv4_asking(mac, None, ask);
                self.extra4(r, request, &packet, Some(client), &|f: &Field| {
                    BOOT_FIELDS.contains(&f.name.as_str())
                });
            }
        }
    }

    /// One extra DHCPv4 exchange, showing the fields `show` keeps.
    fn extra4(
        &self,
        r: &mut Report,
        request: String,
        packet: &[u8],
        client: Option<BootClient>,
        show: &dyn Fn(&Field) -> bool,
    ) {
        let (reply, fields) = match self.reply4(packet) {
            Ok(reply) => {
                let mut kind = reply.kind;
                if reply.yiaddr.is_unspecified() {
                    kind.push_str(" of yiaddr 0.0.0.0");
                }
                let fields = self.fields(reply.values, client);
                (kind, fields.into_iter().filter(|f| show(f)).collect())
            }
            Err(NoReply4::Outcome(o)) => (missing(&o), Vec::new()),
            Err(NoReply4::Decode(e)) => (e.to_string(), Vec::new()),
        };
        r.exchanges.push(Exchange {
            request,
            reply,
            fields,
            extra: true,
        });
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
                    fields: self.fields(values, None),
                    extra: false,
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
            more: Vec::new(),
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
                .any(|(n, _)| matches!(&**n, "address6" | "delegated_prefix"));
            let status = values
                .iter()
                .find(|(n, _)| n.ends_with("status"))
                .map(|(_, v)| v.clone());
            r.exchanges.push(Exchange {
                request,
                reply: format!("{:?}", m.msg_type()),
                fields: self.fields(values, None),
                extra: false,
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
        self.dhcpv6_more(r);
        None
    }

    /// The DHCPv6 options sent only to a client that asks (the boot file
    /// URL, raw options): an extra Information-Request asking for them,
    /// showing only the values the typical reply lacks.
    fn dhcpv6_more(&self, r: &mut Report) {
        let (b, c) = (self.binding, self.config);
        let mut more: Vec<u16> = Vec::new();
        let own_url = b.boot.as_ref().is_some_and(|x| x.file6.is_some());
        if own_url || c.ipv6.bootfile6.is_some() {
            more.push(request::BOOTFILE_URL);
        }
        more.extend(
            effective(&b.options.v6, &c.options.v6)
                .filter(|&(code, always, _)| !always && !request::DHCPV6_ORO.contains(&code))
                .map(|(code, _, _)| code),
        );
        if more.is_empty() {
            return;
        }
        let typical: Vec<String> = r
            .exchanges
            .last()
            .map(|e| e.fields.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        let codes: Vec<String> = more.iter().map(u16::to_string).collect();
        let request = format!(
            "Information-Request asking also for {} (sent only to a client that asks)",
            codes.join(" ")
        );
        let ask = request::Ask6 {
            more,
            ..request::Ask6::default()
        };
        let (reply, fields) = match self.decide(Protocol::Dhcpv6, &request::dhcpv6(b.mac, &ask)) {
            Outcome::Reply(reply) => match decode::dhcpv6(&reply.frame) {
                Ok((m, values)) => (
                    format!("{:?}", m.msg_type()),
                    self.fields(values, None)
                        .into_iter()
                        .filter(|f| !typical.contains(&f.name))
                        .collect(),
                ),
                Err(e) => (e.to_string(), Vec::new()),
            },
            other => (missing(&other), Vec::new()),
        };
        r.exchanges.push(Exchange {
            request,
            reply,
            fields,
            extra: true,
        });
    }

    /// Records a request that got no reply; returns why.
    fn no_reply(&self, r: &mut Report, request: String, o: &Outcome, w: Which) -> String {
        let why = match o {
            Outcome::Dropped(reason) => dropped_because(*reason, w),
            _ => "the request is consumed without a reply".into(),
        };
        let reply = missing(o);
        r.exchanges.push(Exchange {
            request,
            reply,
            fields: Vec::new(),
            extra: false,
        });
        why
    }
}

/// What happened instead of a reply (`dropped: …`, `consumed: …`).
fn missing(o: &Outcome) -> String {
    match o {
        Outcome::Dropped(reason) => format!("dropped: {}", reason.as_str()),
        Outcome::Consumed(c) => format!("consumed: {}", c.as_str()),
        Outcome::Reply(_) => unreachable!("a reply is no missing reply"),
    }
}

/// Why a DHCPv4 request got no reply to show.
enum NoReply4 {
    /// The daemon dropped or consumed it.
    Outcome(Outcome),
    /// Its reply could not be decoded (never expected: it is ours).
    Decode(decode::DecodeError),
}

/// The values a boot firmware's exchange shows (dhcpv4/boot.rs).
const BOOT_FIELDS: [&str; 6] = [
    "next_server",
    "server_name",
    "boot_file",
    "tftp_server_name",
    "bootfile_name",
    "vendor_class",
];

/// A DHCPv4 reply, decoded.
struct Reply4 {
    /// `DHCPOFFER`, `DHCPACK` …
    kind: String,
    /// The offered address and the server identifier, for a REQUEST.
    select: Option<(Ipv4Addr, Ipv4Addr)>,
    /// yiaddr.
    yiaddr: Ipv4Addr,
    /// Its values.
    values: Vec<decode::Value>,
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
