//! The options of OFFER / ACK replies: which, in what order, how many fit.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType, OptionCode};
use dhcproto::{Encodable, Encoder, Name};
use ipnet::Ipv4Net;

use super::{field, Request, DEFAULT_LINK_MTU, IP_UDP_LEN, MIN_MESSAGE_SIZE};
use crate::proto::Context;

/// RFC 2132 §5.1: the minimum legal MTU value is 68.
pub(super) const MIN_MTU: u16 = 68;

/// Options never dropped to fit the client's maximum message size: without
/// them the reply is not a valid OFFER/ACK (RFC 2131 §4.3.1 table 3).
pub(super) const ESSENTIAL: [OptionCode; 4] = [
    OptionCode::MessageType,
    OptionCode::ServerIdentifier,
    OptionCode::AddressLeaseTime,
    OptionCode::RapidCommit,
];

/// Builds the option list of one reply.
pub(super) struct Builder<'a, 'c> {
    ctx: &'a Context<'c>,
    req: &'a Request,
    server: Ipv4Addr,
    msg_type: MessageType,
    rapid_commit: bool,
    lease: bool,
}

impl<'a, 'c> Builder<'a, 'c> {
    /// A builder for a reply of `msg_type` from `server`.
    pub(super) fn new(
        ctx: &'a Context<'c>,
        req: &'a Request,
        server: Ipv4Addr,
        msg_type: MessageType,
    ) -> Self {
        Builder {
            ctx,
            req,
            server,
            msg_type,
            rapid_commit: false,
            lease: false,
        }
    }

    /// Adds option 80 (RFC 4039 §4).
    pub(super) fn rapid_commit(mut self, yes: bool) -> Self {
        self.rapid_commit = yes;
        self
    }

    /// Adds the lease times 51, 58, 59 (not for INFORM, RFC 2131 §4.3.5).
    pub(super) fn lease(mut self, yes: bool) -> Self {
        self.lease = yes;
        self
    }

    /// 53, 54 (and 80) first, then the parameters in the order the client
    /// asked for them, then the rest; trimmed to the client's size limit.
    pub(super) fn build(self) -> Vec<DhcpOption> {
        let mut opts = vec![
            DhcpOption::MessageType(self.msg_type),
            DhcpOption::ServerIdentifier(self.server),
        ];
        if self.rapid_commit {
            opts.push(DhcpOption::RapidCommit);
        }
        opts.extend(order(self.parameters(), self.req.params.as_deref()));
        fit(opts, budget(self.ctx, self.req.max_size))
    }

    /// The parameters we have for this binding, most important first.
    fn parameters(&self) -> Vec<DhcpOption> {
        let b = self.ctx.binding;
        let dhcp = &self.ctx.config.dhcp;
        let mut opts = Vec::new();
        if self.lease {
            let (t1, t2) = renewal_times(dhcp.lease_lifetime, dhcp.lease_renewal);
            opts.push(DhcpOption::AddressLeaseTime(dhcp.lease_lifetime));
            opts.push(DhcpOption::Renewal(t1));
            opts.push(DhcpOption::Rebinding(t2));
        }
        if let Some(net) = b.subnet {
            opts.push(DhcpOption::SubnetMask(net.netmask()));
        }
        if let (Some(gw), false) = (b.gateway, b.private) {
            opts.push(DhcpOption::Router(vec![gw]));
        }
        if self.wants(OptionCode::ClasslessStaticRoute) {
            let routes = classless_routes(b.subnet, b.gateway, b.private);
            if !routes.is_empty() {
                opts.push(DhcpOption::ClasslessStaticRoute(routes));
            }
        }
        if !dhcp.nameservers.is_empty() {
            opts.push(DhcpOption::DomainNameServer(dhcp.nameservers.clone()));
        }
        if let Some(net) = b.subnet {
            opts.push(DhcpOption::BroadcastAddr(net.broadcast()));
        }
        if let Some(mtu) = b.mtu.filter(|&m| m >= MIN_MTU) {
            opts.push(DhcpOption::InterfaceMtu(mtu));
        }
        let domain = self.domain();
        if let Some(d) = &domain {
            opts.push(DhcpOption::DomainName(d.clone()));
        }
        // RFC 2132 §3.14, §3.17: minimum length 1.
        if let Some(h) = b.hostname.as_ref().filter(|h| !h.is_empty()) {
            opts.push(DhcpOption::Hostname(h.clone()));
        }
        let search = search_list(&self.ctx.config.ipv6.domains, domain.as_deref());
        if !search.is_empty() {
            opts.push(DhcpOption::DomainSearch(search));
        }
        opts
    }

    fn wants(&self, code: OptionCode) -> bool {
        self.req.params.as_ref().is_some_and(|p| p.contains(&code))
    }

    /// Option 15: the configured domain, else what follows the first dot
    /// of the binding's HOSTNAME (as the original; none if it has no dot).
    fn domain(&self) -> Option<String> {
        let from_host = || {
            let host = self.ctx.binding.hostname.as_deref()?;
            let (_, domain) = host.split_once('.')?;
            (!domain.is_empty()).then(|| domain.to_string())
        };
        let configured = self.ctx.config.dhcp.domain.as_ref();
        configured
            .filter(|d| !d.is_empty())
            .cloned()
            .or_else(from_host)
    }
}

/// T1 and T2 for a lease: T1 from the config when it is below T2, else the
/// RFC 2131 §4.4.5 default of half the lease; T2 is 7/8 of the lease.
pub(super) fn renewal_times(lease: u32, renewal: u32) -> (u32, u32) {
    let t2 = u32::try_from(u64::from(lease) * 7 / 8).expect("7/8 of a u32 fits a u32");
    let t1 = if renewal > 0 && renewal < t2 {
        renewal
    } else {
        lease / 2
    };
    (t1, t2)
}

/// Option 121 (RFC 3442): an on-link host route to a gateway outside the
/// subnet, then the default route; nothing default for a PRIVATE binding.
///
/// RFC 3442 §3: "If the DHCP server returns both a Classless Static Routes
/// option and a Router option, the DHCP client MUST ignore the Router
/// option." So the default route MUST be in this option too.
pub(super) fn classless_routes(
    subnet: Option<Ipv4Net>,
    gateway: Option<Ipv4Addr>,
    private: bool,
) -> Vec<(Ipv4Net, Ipv4Addr)> {
    let Some(gw) = gateway.filter(|_| !private) else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    if !subnet.is_some_and(|n| n.contains(&gw)) {
        // Router 0.0.0.0: the destination is on the link (RFC 3442 §2).
        let host = Ipv4Net::new(gw, 32).expect("32 is a valid IPv4 prefix length");
        routes.push((host, Ipv4Addr::UNSPECIFIED));
    }
    routes.push((Ipv4Net::default(), gw));
    routes
}

/// Option 119 (RFC 3397): the IPv6 search domains, else option 15's domain.
/// Names that are not valid DNS names are left out.
pub(super) fn search_list(domains: &[String], fallback: Option<&str>) -> Vec<Name> {
    let names: Vec<&str> = if domains.is_empty() {
        fallback.into_iter().collect()
    } else {
        domains.iter().map(String::as_str).collect()
    };
    names
        .into_iter()
        .filter_map(|d| Name::from_ascii(d).ok())
        .map(|mut n| {
            n.set_fqdn(true);
            n
        })
        .collect()
}

/// Parameters the client asked for (option 55), in its order, then the rest
/// in ours. RFC 2131 §4.3.1 leaves the order to the server; clients that
/// keep only the first options they read get what they asked first.
fn order(mut opts: Vec<DhcpOption>, params: Option<&[OptionCode]>) -> Vec<DhcpOption> {
    let mut out = Vec::with_capacity(opts.len());
    for code in params.unwrap_or_default() {
        if let Some(i) = opts.iter().position(|o| OptionCode::from(o) == *code) {
            out.push(opts.remove(i));
        }
    }
    out.append(&mut opts);
    out
}

/// The largest DHCP payload the client takes: option 57 (never below 576,
/// RFC 2132 §9.10), no more than the link MTU, less the IP and UDP headers
/// (the limit counts the whole IP datagram, RFC 2131 §2).
pub(super) fn budget(ctx: &Context<'_>, max_size: Option<u16>) -> usize {
    let asked = max_size.unwrap_or(MIN_MESSAGE_SIZE);
    let mtu = ctx.binding.mtu.unwrap_or(DEFAULT_LINK_MTU);
    let limit = asked.min(mtu).max(MIN_MESSAGE_SIZE);
    usize::from(limit) - IP_UDP_LEN
}

/// Drops the last non-essential options until the message fits `budget`.
fn fit(mut opts: Vec<DhcpOption>, budget: usize) -> Vec<DhcpOption> {
    // Options that cannot be encoded are not sent at all.
    opts.retain(|o| encode(o).is_some());
    let size = |opts: &[DhcpOption]| -> usize {
        let end = 1;
        field::OPTIONS
            + end
            + opts
                .iter()
                .filter_map(encode)
                .map(|b| b.len())
                .sum::<usize>()
    };
    while size(&opts) > budget {
        let Some(i) = opts
            .iter()
            .rposition(|o| !ESSENTIAL.contains(&OptionCode::from(o)))
        else {
            break;
        };
        opts.remove(i);
    }
    opts
}

/// One option's wire bytes (code, length, data; split per RFC 3396 if long).
pub(super) fn encode(opt: &DhcpOption) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    opt.encode(&mut Encoder::new(&mut buf)).ok()?;
    Some(buf)
}
