//! The DHCPv4 reply path without intermediate values: the request is read
//! in place over the packet's bytes and the reply is written straight into
//! its frame buffer, sized once (one allocation per reply).
//!
//! It decides and encodes exactly as [`super::decide`] and
//! [`super::Answer::emit`], which stay the typed reference the golden tests
//! compare; in debug builds [`super::handle`] checks every outcome of this
//! path against that reference. A request repeating an option this path
//! reads (RFC 3396 §7 concatenation) is left to the typed path.

use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::rc::Rc;

use dhcproto::v4::{DhcpOption, MessageType, OptionCode};

use super::options::{self, MIN_MTU};
use super::{
    field, nonzero, server_identifier, BOOTP_MIN_LEN, CLIENT_PORT, ETHER_HLEN, SERVER_PORT,
};
use crate::mac::MacAddr;
use crate::proto::frame::{self, IPV4_UDP_HEADROOM};
use crate::proto::{Consumed, Context, DropReason, Outcome, Reply, ReplyKind};

/// op of a client message (RFC 951).
const BOOTREQUEST: u8 = 1;
/// op of a server message (RFC 951).
const BOOTREPLY: u8 = 2;
/// htype of Ethernet (RFC 1700 hardware types).
const HTYPE_ETHER: u8 = 1;
/// The BROADCAST bit of `flags` (RFC 2131 §2, figure 2).
const FLAG_BROADCAST: u16 = 0x8000;
/// Longest data of one option; longer data is split (RFC 3396).
const MAX_OPT_DATA: usize = u8::MAX as usize;
/// Addresses in one chunk of an address-list option (as dhcproto splits).
const IPS_PER_CHUNK: usize = MAX_OPT_DATA / 4;
/// Most parameters a reply carries (see [`parameters`]).
const MAX_PARAMS: usize = 12;
/// Name lists whose option 119 is kept per thread.
const SEARCH_CACHE_LEN: usize = 8;

/// Option codes as bytes (RFC 2132, RFC 4039), compared without dhcproto's
/// `OptionCode` conversions on the hot path.
mod code {
    /// Pad (0).
    pub const PAD: u8 = 0;
    /// End (255).
    pub const END: u8 = 255;
    /// The options the responder reads: 53, 50, 54, 55, 57, 80.
    pub const READ: [u8; 6] = [53, 50, 54, 55, 57, 80];
    /// `options::ESSENTIAL` as bytes: 53, 54, 51, 80.
    pub const ESSENTIAL: [u8; 4] = [53, 54, 51, 80];
    /// Classless static routes (RFC 3442).
    pub const CLASSLESS_ROUTES: u8 = 121;
}

/// Answers one DHCPv4 packet; None when the typed path must decide.
pub(super) fn handle(ctx: &Context<'_>, packet: &[u8]) -> Option<Outcome> {
    let Ok(udp) = frame::parse_ipv4_udp(packet) else {
        return Some(Outcome::Dropped(DropReason::Malformed));
    };
    if udp.dst_port != SERVER_PORT {
        return Some(Outcome::Dropped(DropReason::NotDhcp));
    }
    let view = match View::parse(udp.payload) {
        Ok(Some(v)) => v,
        Ok(None) => return None,
        Err(reason) => return Some(Outcome::Dropped(reason)),
    };
    Some(match plan(ctx, &view) {
        Ok(Plan::Reply(shape)) => Outcome::Reply(Reply {
            kind: shape.kind,
            frame: emit(ctx, &view, &shape),
        }),
        Ok(Plan::Consumed(c)) => Outcome::Consumed(c),
        Err(reason) => Outcome::Dropped(reason),
    })
}

/// A request read in place: its fixed header and the options we act on.
struct View<'a> {
    /// The fixed fields and the magic cookie.
    fixed: &'a [u8],
    msg_type: MessageType,
    requested_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    params: Option<&'a [u8]>,
    max_size: Option<u16>,
    rapid_commit: bool,
}

impl<'a> View<'a> {
    /// As [`super::parse_message`]; Ok(None) when an option we read repeats.
    fn parse(payload: &'a [u8]) -> Result<Option<View<'a>>, DropReason> {
        let fixed = payload.get(..field::OPTIONS).ok_or(DropReason::NotDhcp)?;
        if fixed[field::MAGIC] != dhcproto::v4::MAGIC || fixed[field::OP] != BOOTREQUEST {
            return Err(DropReason::NotDhcp);
        }
        let mut found: [Option<&[u8]>; code::READ.len()] = [None; code::READ.len()];
        let mut bytes = &payload[field::OPTIONS..];
        while let Some((&opt, rest)) = bytes.split_first() {
            match opt {
                code::PAD => bytes = rest,
                code::END => break,
                _ => {
                    let (&len, rest) = rest.split_first().ok_or(DropReason::Malformed)?;
                    let len = usize::from(len);
                    let data = rest.get(..len).ok_or(DropReason::Malformed)?;
                    if let Some(i) = code::READ.iter().position(|&c| c == opt) {
                        if found[i].replace(data).is_some() {
                            return Ok(None);
                        }
                    }
                    bytes = &rest[len..];
                }
            }
        }
        let [msg_type, requested, server, params, max_size, rapid] = found;
        let msg_type = match msg_type {
            Some(&[t]) => MessageType::from(t),
            _ => return Err(DropReason::NotDhcp),
        };
        let max_size = match max_size {
            None => None,
            Some(&[hi, lo]) => Some(u16::from_be_bytes([hi, lo])),
            Some(_) => return Err(DropReason::Invalid),
        };
        Ok(Some(View {
            fixed,
            msg_type,
            requested_ip: ipv4(requested)?,
            server_id: ipv4(server)?,
            params,
            max_size,
            rapid_commit: rapid.is_some(),
        }))
    }

    fn addr(&self, range: std::ops::Range<usize>) -> Ipv4Addr {
        let b: [u8; 4] = self.fixed[range]
            .try_into()
            .expect("address fields are 4 bytes");
        Ipv4Addr::from(b)
    }

    fn flags(&self) -> u16 {
        u16::from_be_bytes([
            self.fixed[field::FLAGS.start],
            self.fixed[field::FLAGS.start + 1],
        ])
    }

    /// chaddr when it is an Ethernet address.
    fn eth_chaddr(&self) -> Option<MacAddr> {
        let eth = self.fixed[field::HTYPE] == HTYPE_ETHER && self.fixed[field::HLEN] == ETHER_HLEN;
        eth.then(|| MacAddr::from_slice(&self.fixed[field::CHADDR]))
            .flatten()
    }
}

fn ipv4(data: Option<&[u8]>) -> Result<Option<Ipv4Addr>, DropReason> {
    match data {
        None => Ok(None),
        Some(&[a, b, c, d]) => Ok(Some(Ipv4Addr::new(a, b, c, d))),
        Some(_) => Err(DropReason::Invalid),
    }
}

/// What to answer, as [`super::decide`] decides it.
enum Plan {
    Reply(Shape),
    Consumed(Consumed),
}

/// The reply's type, addresses and which option groups it carries.
struct Shape {
    kind: ReplyKind,
    msg_type: MessageType,
    yiaddr: Ipv4Addr,
    ciaddr: Ipv4Addr,
    server: Ipv4Addr,
    /// Lease times and parameters (not in a NAK; no lease times in an INFORM's ACK).
    lease: bool,
    rapid: bool,
    nak: bool,
}

/// The decision of [`super::decide`], over a [`View`].
fn plan(ctx: &Context<'_>, v: &View<'_>) -> Result<Plan, DropReason> {
    let client_ok = v.eth_chaddr() == Some(ctx.binding.mac)
        && ctx.src_mac.map_or(true, |src| src == ctx.binding.mac);
    if !ctx.binding.macspoof && !client_ok {
        return Err(DropReason::SpoofedMac);
    }
    let ip = ctx.binding.ip.ok_or(DropReason::NotConfigured)?;
    let server = server_identifier(ctx).ok_or(DropReason::NotConfigured)?;
    let ciaddr = v.addr(field::CIADDR);
    let zero = Ipv4Addr::UNSPECIFIED;
    let reply = |kind, msg_type, yiaddr, ciaddr, lease| {
        let rapid = v.msg_type == MessageType::Discover && kind == ReplyKind::Ack;
        let nak = kind == ReplyKind::Nak;
        Ok(Plan::Reply(Shape {
            kind,
            msg_type,
            yiaddr,
            ciaddr,
            server,
            lease,
            rapid,
            nak,
        }))
    };
    let check_server = || super::check_server_id(v.server_id, server);
    match v.msg_type {
        MessageType::Discover if v.rapid_commit => {
            reply(ReplyKind::Ack, MessageType::Ack, ip, ciaddr, true)
        }
        MessageType::Discover => reply(ReplyKind::Offer, MessageType::Offer, ip, zero, true),
        MessageType::Request => {
            check_server()?;
            let asked = v
                .requested_ip
                .or_else(|| nonzero(ciaddr))
                .ok_or(DropReason::Invalid)?;
            if asked == ip {
                reply(ReplyKind::Ack, MessageType::Ack, ip, ciaddr, true)
            } else {
                reply(ReplyKind::Nak, MessageType::Nak, zero, zero, false)
            }
        }
        MessageType::Inform => reply(ReplyKind::Ack, MessageType::Ack, zero, ciaddr, false),
        MessageType::Release => check_server().map(|()| Plan::Consumed(Consumed::Release)),
        MessageType::Decline => check_server().map(|()| Plan::Consumed(Consumed::Decline)),
        _ => Err(DropReason::UnsupportedMessage),
    }
}

/// The whole reply frame: headers, fixed fields, options, end, padding.
fn emit(ctx: &Context<'_>, v: &View<'_>, s: &Shape) -> Vec<u8> {
    let mut head = [0u8; 11];
    let mut head_len = 0;
    for part in [
        &[u8::from(OptionCode::MessageType), 1, u8::from(s.msg_type)][..],
        &[u8::from(OptionCode::ServerIdentifier), 4],
        &s.server.octets(),
    ] {
        head[head_len..head_len + part.len()].copy_from_slice(part);
        head_len += part.len();
    }
    if s.rapid {
        head[head_len..head_len + 2].copy_from_slice(&[u8::from(OptionCode::RapidCommit), 0]);
        head_len += 2;
    }
    let mut params: [Option<Opt<'_>>; MAX_PARAMS] = Default::default();
    let mut order = [0usize; MAX_PARAMS];
    let mut n = 0;
    if !s.nak {
        n = parameters(ctx, v, s.lease, &mut params);
        order_by_request(&params[..n], v.params.unwrap_or_default(), &mut order[..n]);
        fit(&mut params, &order[..n], head_len, budget(ctx, v));
    }
    let options_len: usize = head_len + params.iter().flatten().map(Opt::wire_len).sum::<usize>();
    let payload_len = (field::OPTIONS + options_len + 1).max(BOOTP_MIN_LEN);
    let mut buf = Vec::with_capacity(IPV4_UDP_HEADROOM + payload_len);
    buf.resize(IPV4_UDP_HEADROOM, 0);
    write_fixed(&mut buf, v, s);
    buf.extend_from_slice(&head[..head_len]);
    for &i in &order[..n] {
        if let Some(opt) = &params[i] {
            opt.write(&mut buf);
        }
    }
    buf.push(u8::from(OptionCode::End));
    // RFC 1542 §3.1.1: pad up to the 300-byte BOOTP message.
    buf.resize(IPV4_UDP_HEADROOM + payload_len, u8::from(OptionCode::Pad));
    let (eth_dst, ip_dst, udp_dst) = destination(ctx, v, s);
    frame::emit_ipv4_udp_in_place(
        &mut buf,
        ctx.server_mac,
        eth_dst,
        s.server,
        ip_dst,
        SERVER_PORT,
        udp_dst,
    )
    .expect("a DHCPv4 reply is fitted to option 57 and the MTU, both under 64 KiB");
    buf
}

/// RFC 2131 §4.3.1 table 3: the request's fixed fields, with op, hops,
/// secs, ciaddr, yiaddr, siaddr, sname and file set for the reply.
fn write_fixed(buf: &mut Vec<u8>, v: &View<'_>, s: &Shape) {
    let base = buf.len();
    buf.extend_from_slice(v.fixed);
    let f = &mut buf[base..];
    f[field::OP] = BOOTREPLY;
    f[field::HOPS] = 0;
    f[field::SECS].fill(0);
    f[field::CIADDR].copy_from_slice(&s.ciaddr.octets());
    f[field::YIADDR].copy_from_slice(&s.yiaddr.octets());
    f[field::SIADDR].fill(0);
    f[field::SNAME_FILE].fill(0);
    if s.nak && nonzero(v.addr(field::GIADDR)).is_some() {
        // RFC 2131 §4.3.2: the server MUST set the broadcast bit in a
        // DHCPNAK to a relayed request.
        f[field::FLAGS].copy_from_slice(&(v.flags() | FLAG_BROADCAST).to_be_bytes());
    }
}

/// As the typed path's destination (RFC 2131 §4.1).
fn destination(ctx: &Context<'_>, v: &View<'_>, s: &Shape) -> (MacAddr, Ipv4Addr, u16) {
    let client = v.eth_chaddr().or(ctx.src_mac).unwrap_or(ctx.binding.mac);
    let broadcast = (MacAddr::BROADCAST, Ipv4Addr::BROADCAST, CLIENT_PORT);
    if let Some(relay) = nonzero(v.addr(field::GIADDR)) {
        (ctx.src_mac.unwrap_or(client), relay, SERVER_PORT)
    } else if s.nak {
        broadcast
    } else if let Some(ciaddr) = nonzero(v.addr(field::CIADDR)) {
        (client, ciaddr, CLIENT_PORT)
    } else if v.flags() & FLAG_BROADCAST != 0 {
        broadcast
    } else if let Some(yiaddr) = nonzero(s.yiaddr) {
        (client, yiaddr, CLIENT_PORT)
    } else {
        broadcast
    }
}

/// As [`options::budget`].
fn budget(ctx: &Context<'_>, v: &View<'_>) -> usize {
    options::budget(ctx, v.max_size)
}

/// One option of a reply, ready to write.
enum Data<'a> {
    /// Up to 18 bytes of data.
    Small([u8; 18], u8),
    /// Data split in chunks of 255 (RFC 3396).
    Bytes(&'a [u8]),
    /// Addresses, split in chunks of 63.
    Ips(&'a [Ipv4Addr]),
    /// The whole option, code and length included.
    Encoded(Rc<[u8]>),
}

struct Opt<'a> {
    code: u8,
    data: Data<'a>,
}

impl<'a> Opt<'a> {
    fn small(code: OptionCode, data: &[u8]) -> Opt<'a> {
        let code = u8::from(code);
        let mut b = [0u8; 18];
        b[..data.len()].copy_from_slice(data);
        let len = u8::try_from(data.len()).expect("at most 18 bytes");
        Opt {
            code,
            data: Data::Small(b, len),
        }
    }

    fn wire_len(&self) -> usize {
        let chunked = |len: usize, per: usize| len + 2 * len.div_ceil(per);
        match &self.data {
            Data::Small(_, len) => 2 + usize::from(*len),
            Data::Bytes(b) => chunked(b.len(), MAX_OPT_DATA),
            Data::Ips(ips) => chunked(ips.len(), IPS_PER_CHUNK) + 3 * ips.len(),
            Data::Encoded(b) => b.len(),
        }
    }

    fn write(&self, buf: &mut Vec<u8>) {
        let code = self.code;
        match &self.data {
            Data::Small(b, len) => {
                buf.extend_from_slice(&[code, *len]);
                buf.extend_from_slice(&b[..usize::from(*len)]);
            }
            Data::Bytes(b) => {
                for chunk in b.chunks(MAX_OPT_DATA) {
                    buf.extend_from_slice(&[code, chunk.len() as u8]);
                    buf.extend_from_slice(chunk);
                }
            }
            Data::Ips(ips) => {
                for chunk in ips.chunks(IPS_PER_CHUNK) {
                    buf.extend_from_slice(&[code, (chunk.len() * 4) as u8]);
                    for ip in chunk {
                        buf.extend_from_slice(&ip.octets());
                    }
                }
            }
            Data::Encoded(b) => buf.extend_from_slice(b),
        }
    }
}

/// As `options::Builder::parameters`: our parameters, in our order, into
/// `out`; returns how many.
fn parameters<'a>(
    ctx: &Context<'a>,
    v: &View<'_>,
    lease: bool,
    out: &mut [Option<Opt<'a>>; MAX_PARAMS],
) -> usize {
    let b = ctx.binding;
    let dhcp = &ctx.config.dhcp;
    let mut n = 0;
    let mut push = |o: Opt<'a>| {
        out[n] = Some(o);
        n += 1;
    };
    if lease {
        let (t1, t2) = options::renewal_times(dhcp.lease_lifetime, dhcp.lease_renewal);
        push(Opt::small(
            OptionCode::AddressLeaseTime,
            &dhcp.lease_lifetime.to_be_bytes(),
        ));
        push(Opt::small(OptionCode::Renewal, &t1.to_be_bytes()));
        push(Opt::small(OptionCode::Rebinding, &t2.to_be_bytes()));
    }
    if let Some(net) = b.subnet {
        push(Opt::small(OptionCode::SubnetMask, &net.netmask().octets()));
    }
    if !b.private {
        if let Some(gw) = &b.gateway {
            push(Opt {
                code: u8::from(OptionCode::Router),
                data: Data::Ips(std::slice::from_ref(gw)),
            });
        }
    }
    let wants_routes = v
        .params
        .is_some_and(|p| p.contains(&code::CLASSLESS_ROUTES));
    if wants_routes {
        if let Some(routes) = classless_routes(ctx) {
            push(routes);
        }
    }
    if !dhcp.nameservers.is_empty() {
        push(Opt {
            code: u8::from(OptionCode::DomainNameServer),
            data: Data::Ips(&dhcp.nameservers),
        });
    }
    if let Some(net) = b.subnet {
        push(Opt::small(
            OptionCode::BroadcastAddr,
            &net.broadcast().octets(),
        ));
    }
    if let Some(mtu) = b.mtu.filter(|&m| m >= MIN_MTU) {
        push(Opt::small(OptionCode::InterfaceMtu, &mtu.to_be_bytes()));
    }
    let domain = domain(ctx);
    if let Some(d) = domain {
        push(Opt {
            code: u8::from(OptionCode::DomainName),
            data: Data::Bytes(d.as_bytes()),
        });
    }
    if let Some(h) = b.hostname.as_deref().filter(|h| !h.is_empty()) {
        push(Opt {
            code: u8::from(OptionCode::Hostname),
            data: Data::Bytes(h.as_bytes()),
        });
    }
    if let Some(bytes) = search_option(&ctx.config.ipv6.domains, domain) {
        push(Opt {
            code: u8::from(OptionCode::DomainSearch),
            data: Data::Encoded(bytes),
        });
    }
    n
}

/// As `options::Builder::domain`, borrowed.
fn domain<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    let configured = ctx.config.dhcp.domain.as_deref().filter(|d| !d.is_empty());
    configured.or_else(|| {
        let (_, domain) = ctx.binding.hostname.as_deref()?.split_once('.')?;
        (!domain.is_empty()).then_some(domain)
    })
}

/// Option 121 as [`options::classless_routes`] encodes it, without allocating.
fn classless_routes<'a>(ctx: &Context<'_>) -> Option<Opt<'a>> {
    let b = ctx.binding;
    let gw = b.gateway.filter(|_| !b.private)?;
    let mut data = [0u8; 18];
    let mut len = 0;
    if !b.subnet.is_some_and(|n| n.contains(&gw)) {
        // A /32 to the gateway, router 0.0.0.0: on the link (RFC 3442 §2).
        data[0] = 32;
        data[1..5].copy_from_slice(&gw.octets());
        len = 9;
    }
    // The default route: prefix length 0, no destination octets.
    data[len + 1..len + 5].copy_from_slice(&gw.octets());
    len += 5;
    Some(Opt::small(OptionCode::ClasslessStaticRoute, &data[..len]))
}

/// Option 119's wire bytes (None: nothing to send) for one list of names.
type SearchEntry = (Vec<String>, Option<Rc<[u8]>>);

thread_local! {
    /// Option 119's wire bytes for the last name lists seen, newest first:
    /// the RFC 3397 encoding is the costliest part of a reply and depends
    /// only on the config (or the binding's domain). A memo keyed by the
    /// names themselves, so a reload or another config can never see stale bytes.
    static SEARCH: RefCell<Vec<SearchEntry>> = const { RefCell::new(Vec::new()) };
}

/// Option 119 (RFC 3397) for `domains`, else `fallback`, as the typed path
/// encodes it; None when there is no valid name to send.
fn search_option(domains: &[String], fallback: Option<&str>) -> Option<Rc<[u8]>> {
    let names = || {
        domains
            .iter()
            .map(String::as_str)
            .chain(fallback.filter(|_| domains.is_empty()))
    };
    SEARCH.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(i) = cache
            .iter()
            .position(|(key, _)| key.iter().map(String::as_str).eq(names()))
        {
            let hit = cache[i].1.clone();
            if i != 0 {
                let entry = cache.remove(i);
                cache.insert(0, entry);
            }
            return hit;
        }
        let list = options::search_list(domains, fallback);
        let bytes = if list.is_empty() {
            None
        } else {
            options::encode(&DhcpOption::DomainSearch(list)).map(Rc::from)
        };
        cache.insert(0, (names().map(str::to_string).collect(), bytes.clone()));
        cache.truncate(SEARCH_CACHE_LEN);
        bytes
    })
}

/// As `options::order`: the indices of `opts`, those the client asked for
/// (option 55) first in its order, then the rest in ours.
fn order_by_request(opts: &[Option<Opt<'_>>], asked: &[u8], order: &mut [usize]) {
    let mut taken = [false; MAX_PARAMS];
    let mut n = 0;
    for &code in asked {
        let hit = (0..opts.len())
            .find(|&i| !taken[i] && opts[i].as_ref().is_some_and(|o| o.code == code));
        if let Some(i) = hit {
            taken[i] = true;
            order[n] = i;
            n += 1;
        }
    }
    for (i, _) in taken[..opts.len()].iter().enumerate().filter(|(_, &t)| !t) {
        order[n] = i;
        n += 1;
    }
}

/// As `options::fit`: drops the last non-essential parameters (in wire
/// order) until the message fits `budget`.
fn fit(opts: &mut [Option<Opt<'_>>; MAX_PARAMS], order: &[usize], head_len: usize, budget: usize) {
    let size = |opts: &[Option<Opt<'_>>]| {
        let end = 1;
        field::OPTIONS + end + head_len + opts.iter().flatten().map(Opt::wire_len).sum::<usize>()
    };
    while size(&opts[..]) > budget {
        let last = order.iter().rev().find(|&&i| {
            opts[i]
                .as_ref()
                .is_some_and(|o| !code::ESSENTIAL.contains(&o.code))
        });
        let Some(&i) = last else { break };
        opts[i] = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_codes_are_dhcprotos() {
        let read = [
            OptionCode::MessageType,
            OptionCode::RequestedIpAddress,
            OptionCode::ServerIdentifier,
            OptionCode::ParameterRequestList,
            OptionCode::MaxMessageSize,
            OptionCode::RapidCommit,
        ];
        assert_eq!(code::READ, read.map(u8::from));
        assert_eq!(code::ESSENTIAL, options::ESSENTIAL.map(u8::from));
        assert_eq!(code::PAD, u8::from(OptionCode::Pad));
        assert_eq!(code::END, u8::from(OptionCode::End));
        assert_eq!(
            code::CLASSLESS_ROUTES,
            u8::from(OptionCode::ClasslessStaticRoute)
        );
    }
}
