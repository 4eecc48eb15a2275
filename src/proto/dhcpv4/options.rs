//! The options of a reply: [`list`] is the one place that says what we
//! send (code and value); [`for_reply`] then orders them by the client's
//! parameter request list and fits them to its maximum message size.

use std::net::Ipv4Addr;
use std::rc::Rc;

use ipnet::Ipv4Net;
use smallvec::SmallVec;

use super::{
    boot, code, field, search, Plan, Request, DEFAULT_LINK_MTU, IP_UDP_LEN, MIN_MESSAGE_SIZE,
};
use crate::binding::Binding;
use crate::proto::{Context, ReplyKind};
use crate::value::options::{self, effective};

/// RFC 2132 §5.1: the minimum legal MTU value is 68.
const MIN_MTU: u16 = 68;

/// Options never dropped to fit the client's maximum message size: without
/// them the reply is not a valid OFFER/ACK (RFC 2131 §4.3.1 table 3) or
/// rapid-commit ACK (RFC 4039 §4).
/// Nor is option 108: an OFFER whose yiaddr is 0.0.0.0 for it is no
/// offer without it (RFC 8925 §3.3).
const ESSENTIAL: [u8; 5] = [
    code::MESSAGE_TYPE,
    code::SERVER_ID,
    code::LEASE_TIME,
    code::RAPID_COMMIT,
    code::IPV6_ONLY_PREFERRED,
];

/// Most data one option carries: its length is one byte (RFC 2132 §2).
const MAX_OPT_DATA: usize = u8::MAX as usize;
/// Bytes of an option's code and length.
const OPT_HDR_LEN: usize = 2;
/// Bytes of the End option.
pub(super) const END_LEN: usize = 1;
/// Bytes of an IPv4 address.
const ADDR_LEN: usize = 4;
/// Addresses in one option of an address list: a long list is split into
/// several options (RFC 3396), none cutting an address in two.
const ADDRS_PER_OPTION: usize = MAX_OPT_DATA / ADDR_LEN;
/// Bytes of all the values [`list`] copies: 53, 54, 80, 108, 51, 58, 59,
/// 1, 121 (host and default routes), 28, 26.
const COPIED_LEN: usize = 1 + 4 + 4 + 4 * 3 + 4 + Routes::HOST_LEN + Routes::DEFAULT_LEN + 4 + 2;
/// Most options in one reply: one per entry of [`list`], the binding's
/// and the config's `OPTION_<code>` included (at most 64, the bits of
/// [`List::order`]'s set).
const MAX_OPTIONS: usize = 64;
const _: () = assert!(MAX_OPTIONS <= 64 && COPIED_LEN <= u8::MAX as usize);
// The fixed entries of `list` (16, option 108, and the boot options 66,
// 67, 60) and two sources of raw options fit.
const _: () = assert!(20 + 2 * options::MAX_PER_SOURCE <= MAX_OPTIONS);

/// The options of one reply into `opts` (empty), ordered and fitted;
/// returns their length on the wire (End not included).
pub(super) fn for_reply<'a>(
    opts: &mut List<'a>,
    ctx: &Context<'a>,
    req: &Request<'_>,
    plan: &Plan,
) -> usize {
    list(opts, ctx, req, plan);
    opts.order(req.params().unwrap_or_default());
    opts.fit(budget(ctx, req.max_size()))
}

/// Every option of a reply, in our order: 53, 54 (and 80) first, then,
/// in an OFFER or ACK, the parameters we have for the binding, most
/// important first. Sending one more option is one more entry here.
fn list<'a>(l: &mut List<'a>, ctx: &Context<'a>, req: &Request<'_>, plan: &Plan) {
    // RFC 2131 §4.3.1 table 3: every reply carries 53 and 54.
    l.copy(code::MESSAGE_TYPE, [plan.msg_type().0]);
    l.copy(code::SERVER_ID, plan.server.octets());
    if plan.rapid_commit {
        // RFC 4039 §4: the ACK to a rapid-commit DISCOVER MUST carry option 80.
        l.copy(code::RAPID_COMMIT, []);
    }
    l.pin();
    // RFC 2131 §4.3.2 and table 3: a NAK carries only 53, 54 (and MAY 56).
    if plan.kind == ReplyKind::Nak {
        return;
    }
    if let Some(wait) = plan.v6only_wait {
        // RFC 8925 §3.1: "If the server pool is explicitly configured with
        // a V6ONLY_WAIT timer, the server MUST set the field to that
        // configured value"; "The server MUST set the length field to 4."
        l.copy(code::IPV6_ONLY_PREFERRED, wait.to_be_bytes());
    }
    let b: &'a Binding = ctx.binding;
    let dhcp = &ctx.config.dhcp;
    if plan.lease {
        let lease = dhcp.lease_lifetime;
        let (t1, t2) = renewal_times(lease, dhcp.lease_renewal);
        l.copy(code::LEASE_TIME, lease.to_be_bytes());
        l.copy(code::RENEWAL_TIME, t1.to_be_bytes());
        l.copy(code::REBINDING_TIME, t2.to_be_bytes());
    }
    if let Some(net) = b.subnet {
        l.copy(code::SUBNET_MASK, net.netmask().octets());
    }
    if let (Some(gw), false) = (&b.gateway, b.private) {
        l.addrs(code::ROUTER, std::slice::from_ref(gw));
    }
    if req.asks_for(code::CLASSLESS_ROUTES) {
        let extra = b.routes.wire();
        if let Some(routes) = classless_routes(b.subnet, b.gateway, b.private, extra) {
            l.routes(code::CLASSLESS_ROUTES, &routes);
        }
    }
    // The binding's NAMESERVERS, else the config's.
    let nameservers = b.nameservers(&dhcp.nameservers);
    if !nameservers.is_empty() {
        l.addrs(code::DOMAIN_NAME_SERVER, nameservers);
    }
    // RFC 2132 §8.3, only to a client that asks (as Kea and dnsmasq do):
    // the binding's NTP, else the config's.
    let ntp = b.ntp(&dhcp.ntp);
    if !ntp.is_empty() && req.asks_for(code::NTP_SERVERS) {
        l.addrs(code::NTP_SERVERS, ntp);
    }
    if let Some(net) = b.subnet {
        l.copy(code::BROADCAST_ADDRESS, net.broadcast().octets());
    }
    if let Some(mtu) = b.mtu.filter(|&m| m >= MIN_MTU) {
        l.copy(code::INTERFACE_MTU, mtu.to_be_bytes());
    }
    let domain = domain(ctx);
    if let Some(d) = domain {
        l.borrow(code::DOMAIN_NAME, d.as_bytes());
    }
    // RFC 2132 §3.14, §3.17: minimum length 1.
    if let Some(h) = b.hostname.as_deref().filter(|h| !h.is_empty()) {
        l.borrow(code::HOST_NAME, h.as_bytes());
    }
    // The binding's DOMAINS (`none`: no list, not even option 15's domain),
    // else the config's `domains`, else option 15's domain.
    let fallback = domain.filter(|_| b.domains.is_none());
    if let Some(names) = search::option(b.domains(&ctx.config.ipv6.domains), fallback) {
        l.share(code::DOMAIN_SEARCH, names);
    }
    if let Some((choice, keys)) = plan.boot.and_then(|c| Some((c, boot::Keys::of(ctx)?))) {
        for (code, value) in boot::options(keys, choice, req).into_iter().flatten() {
            l.borrow(code, value);
        }
    }
    raw_options(l, ctx, req);
}

/// The binding's `OPTION_<code>`, then the config's `[options]` it does
/// not override: each only to a client whose parameter request list names
/// it (as Kea and dnsmasq), unless `always`. Last in our order: the
/// first dropped to fit. A value over 255 bytes is split (RFC 3396).
fn raw_options<'a>(l: &mut List<'a>, ctx: &Context<'a>, req: &Request<'_>) {
    for (code, always, data) in effective(&ctx.binding.options.v4, &ctx.config.options.v4) {
        let code = u8::try_from(code).expect("OPTION_ codes are validated below 255");
        if (always || req.asks_for(code)) && !l.is_listed(code) {
            l.borrow(code, data);
        }
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

/// Option 15: the configured domain, else what follows the first dot of
/// the binding's HOSTNAME (as the original; none if it has no dot).
fn domain<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    let configured = ctx.config.dhcp.domain.as_deref().filter(|d| !d.is_empty());
    configured.or_else(|| {
        let (_, domain) = ctx.binding.hostname.as_deref()?.split_once('.')?;
        (!domain.is_empty()).then_some(domain)
    })
}

/// Option 121 (RFC 3442): an on-link host route to a gateway outside the
/// subnet, then the default route (none for a PRIVATE binding), then the
/// binding's `ROUTES` (`extra`, already in option 121's form); none
/// without a route to give.
///
/// RFC 3442 §3: "If the DHCP server returns both a Classless Static Routes
/// option and a Router option, the DHCP client MUST ignore the Router
/// option." So the default route MUST be in this option too.
pub(super) fn classless_routes(
    subnet: Option<Ipv4Net>,
    gateway: Option<Ipv4Addr>,
    private: bool,
    extra: &[u8],
) -> Option<Routes<'_>> {
    let default = gateway.filter(|_| !private);
    if default.is_none() && extra.is_empty() {
        return None;
    }
    // `ROUTES` may use a GATEWAY outside the subnet (a PRIVATE binding's
    // too): the guest reaches it through the host route.
    let host_route = gateway.filter(|gw| !subnet.is_some_and(|n| n.contains(gw)));
    Some(Routes {
        host_route,
        default,
        extra,
    })
}

/// Option 121's routes: a /32 to the gateway itself when it is not in
/// the subnet, the default route via the gateway, then the extra routes.
pub(super) struct Routes<'a> {
    host_route: Option<Ipv4Addr>,
    default: Option<Ipv4Addr>,
    extra: &'a [u8],
}

impl Routes<'_> {
    /// A /32 route: prefix length, 4 octets of destination, 4 of router.
    const HOST_LEN: usize = 9;
    /// The default route: prefix length, no destination octet, the router.
    const DEFAULT_LEN: usize = 5;

    /// Bytes of the host and default routes, which [`Routes::write`] writes.
    pub(super) fn len(&self) -> usize {
        usize::from(self.host_route.is_some()) * Self::HOST_LEN
            + usize::from(self.default.is_some()) * Self::DEFAULT_LEN
    }

    /// Writes the host and default routes into `out` ([`Routes::len`]
    /// bytes): each route is its prefix length, the significant octets of
    /// its destination, then its router (RFC 3442 §2).
    pub(super) fn write(&self, out: &mut [u8]) {
        let rest = match self.host_route {
            Some(gw) => {
                // Router 0.0.0.0: the destination is on the link (RFC 3442 §2).
                out[0] = 32;
                out[1..5].copy_from_slice(&gw.octets());
                out[5..Self::HOST_LEN].fill(0);
                &mut out[Self::HOST_LEN..]
            }
            None => out,
        };
        if let Some(gw) = self.default {
            rest[0] = 0;
            rest[1..Self::DEFAULT_LEN].copy_from_slice(&gw.octets());
        }
    }
}

/// The largest DHCP payload the client takes: option 57 (never below 576,
/// RFC 2132 §9.10), no more than the link MTU, less the IP and UDP headers
/// (the limit counts the whole IP datagram, RFC 2131 §2).
fn budget(ctx: &Context<'_>, max_size: Option<u16>) -> usize {
    let asked = max_size.unwrap_or(MIN_MESSAGE_SIZE);
    let mtu = ctx.binding.mtu.unwrap_or(DEFAULT_LINK_MTU);
    let limit = asked.min(mtu).max(MIN_MESSAGE_SIZE);
    usize::from(limit) - IP_UDP_LEN
}

/// Bytes on the wire of an option with `len` bytes of data: one code
/// and length per option it is split into (RFC 3396), at least one. (A
/// division by a constant: no division instruction.)
fn bytes_len(len: usize) -> usize {
    len + OPT_HDR_LEN * len.div_ceil(MAX_OPT_DATA).max(1)
}

/// A length as stored in [`List`] (a value that large never fits a reply).
fn wire_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Where an option's value is.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// Copied into the list's `copied` bytes: numbers, addresses, routes.
    Copied { at: u8, len: u8 },
    /// Bytes of the config or the binding: names.
    Borrowed(&'a [u8]),
    /// A list of addresses, never cut in two when split.
    Addrs(&'a [Ipv4Addr]),
    /// The list's `shared` bytes.
    Shared,
    /// Copied bytes followed by borrowed ones: option 121's host and
    /// default routes, then the binding's `ROUTES`.
    Routes { at: u8, len: u8, extra: &'a [u8] },
}

/// One option of a reply: its code, value and bytes on the wire
/// (headers included, counted when listed, where the kind of value is
/// known).
#[derive(Clone, Copy)]
struct Entry<'a> {
    value: Value<'a>,
    wire_len: u32,
    code: u8,
}

/// The options of one reply: each option's code and value in our order
/// (as listed), and the wire order, which [`List::order`] and
/// [`List::fit`] change. On the stack, filled in place: no allocation.
/// The entries are an inline vector left uninitialised until pushed (a
/// reply lists a dozen options, not the 64 it could), so that a new list
/// costs a few small stores and no 2 KiB of zeroes.
pub(super) struct List<'a> {
    entries: SmallVec<[Entry<'a>; MAX_OPTIONS]>,
    /// The first `pinned` options stay first, whatever the client asks.
    pinned: usize,
    /// Indices into `entries`, in wire order; the first `wire_n` are sent.
    wire: [u8; MAX_OPTIONS],
    wire_n: usize,
    /// The codes listed, as a set of 256 bits.
    listed: [u64; 4],
    /// Each listed code's index in `entries` (meaningful only for the
    /// codes in `listed`): [`List::order`] finds an asked option in one
    /// load instead of a search.
    index: [u8; 256],
    /// The bytes of the values copied in.
    copied: [u8; COPIED_LEN],
    copied_len: usize,
    /// A value computed once and shared between replies, held for this one.
    shared: Option<Rc<[u8]>>,
}

impl<'a> List<'a> {
    /// No options.
    pub(super) fn new() -> Self {
        List {
            entries: SmallVec::new(),
            pinned: 0,
            wire: [0; MAX_OPTIONS],
            wire_n: 0,
            listed: [0; 4],
            index: [0; 256],
            copied: [0; COPIED_LEN],
            copied_len: 0,
            shared: None,
        }
    }

    /// Adds option `code` with a short value, copied. (An array: the
    /// copy is of a known size, a few moves, never a call to memcpy.)
    #[inline]
    fn copy<const N: usize>(&mut self, code: u8, data: [u8; N]) {
        self.copy_with(code, N, |out| out.copy_from_slice(&data));
    }

    /// Adds option `code` with a short value of `len` bytes that `fill`
    /// writes in place.
    #[inline]
    fn copy_with(&mut self, code: u8, len: usize, fill: impl FnOnce(&mut [u8])) {
        let at = self.copied_len;
        let end = at + len;
        assert!(
            end <= COPIED_LEN,
            "COPIED_LEN counts every value `list` copies"
        );
        fill(&mut self.copied[at..end]);
        self.copied_len = end;
        self.push(
            code,
            Value::Copied {
                at: at as u8,
                len: len as u8,
            },
            bytes_len(len),
        );
    }

    /// Adds option `code` with option 121's `routes`: the host and default
    /// routes copied, the binding's own borrowed.
    fn routes(&mut self, code: u8, routes: &Routes<'a>) {
        self.copy_with(code, routes.len(), |out| routes.write(out));
        let last = self.entries.last_mut().expect("just pushed");
        if let Value::Copied { at, len } = last.value {
            let extra = routes.extra;
            last.value = Value::Routes { at, len, extra };
            last.wire_len = wire_u32(bytes_len(usize::from(len) + extra.len()));
        }
    }

    /// Adds option `code` with a value the config or binding holds.
    pub(super) fn borrow(&mut self, code: u8, data: &'a [u8]) {
        self.push(code, Value::Borrowed(data), bytes_len(data.len()));
    }

    /// Adds option `code` with a list of addresses.
    fn addrs(&mut self, code: u8, ips: &'a [Ipv4Addr]) {
        let len = ips.len() * ADDR_LEN + OPT_HDR_LEN * ips.len().div_ceil(ADDRS_PER_OPTION).max(1);
        self.push(code, Value::Addrs(ips), len);
    }

    /// Adds option `code` with a value shared between replies (one per reply).
    fn share(&mut self, code: u8, data: Rc<[u8]>) {
        assert!(self.shared.is_none(), "one shared value per reply");
        let len = bytes_len(data.len());
        self.shared = Some(data);
        self.push(code, Value::Shared, len);
    }

    /// Adds option `code` with `value`, `wire_len` bytes on the wire.
    /// `list` names each code once; were one named twice, the first is
    /// the one a parameter request list places.
    fn push(&mut self, code: u8, value: Value<'a>, wire_len: usize) {
        let i = self.entries.len();
        assert!(i < MAX_OPTIONS, "MAX_OPTIONS counts every entry of `list`");
        self.entries.push(Entry {
            value,
            wire_len: wire_u32(wire_len),
            code,
        });
        self.wire[i] = i as u8;
        self.wire_n = i + 1;
        if !self.is_listed(code) {
            self.index[usize::from(code)] = i as u8;
            self.listed[usize::from(code / 64)] |= 1 << (code % 64);
        }
    }

    /// The options so far stay first.
    fn pin(&mut self) {
        self.pinned = self.entries.len();
    }

    fn is_listed(&self, code: u8) -> bool {
        self.listed[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }

    /// The entry sent `w`-th.
    fn at_wire(&self, w: usize) -> &Entry<'a> {
        &self.entries[usize::from(self.wire[w])]
    }

    /// The bytes copied in at `at`.
    fn copied_at(&self, at: u8, len: u8) -> &[u8] {
        let at = usize::from(at);
        &self.copied[at..at + usize::from(len)]
    }

    /// The parameters the client asked for (option 55) first, in its
    /// order, then the rest in ours. RFC 2131 §4.3.1 leaves the order to
    /// the server; clients that keep only the first options they read get
    /// what they asked first.
    fn order(&mut self, asked: &[u8]) {
        // Bit i: option i has its place.
        let mut placed = (1u64 << self.pinned) - 1;
        let mut next = self.pinned;
        for &code in asked {
            if !self.is_listed(code) {
                continue;
            }
            let i = usize::from(self.index[usize::from(code)]);
            // A pinned option keeps its place; a code asked twice is placed once.
            if placed & (1 << i) == 0 {
                self.wire[next] = i as u8;
                placed |= 1 << i;
                next += 1;
            }
        }
        for i in self.pinned..self.entries.len() {
            if placed & (1 << i) == 0 {
                self.wire[next] = i as u8;
                next += 1;
            }
        }
    }

    /// Drops the last non-essential options (in wire order) until the
    /// DHCP payload fits `budget`; returns the options' length on the
    /// wire (End not included).
    fn fit(&mut self, budget: usize) -> usize {
        let mut len: usize = self.sent().map(|e| e.wire_len as usize).sum();
        while field::OPTIONS + len + END_LEN > budget {
            let last = (0..self.wire_n)
                .rev()
                .find(|&w| !ESSENTIAL.contains(&self.at_wire(w).code));
            let Some(w) = last else { break };
            len -= self.at_wire(w).wire_len as usize;
            self.wire.copy_within(w + 1..self.wire_n, w);
            self.wire_n -= 1;
        }
        len
    }

    /// The options sent, in wire order.
    fn sent(&self) -> impl Iterator<Item = &Entry<'a>> + '_ {
        self.wire[..self.wire_n]
            .iter()
            .map(|&i| &self.entries[usize::from(i)])
    }

    /// Writes the options sent, in order, at the start of `out` (at least
    /// the length [`List::fit`] returned); returns the bytes written.
    pub(super) fn write(&self, out: &mut [u8]) -> usize {
        let mut w = Writer { out, at: 0 };
        for e in self.sent() {
            let code = e.code;
            match e.value {
                Value::Copied { at, len } => w.option(code, self.copied_at(at, len)),
                Value::Borrowed(data) => w.option(code, data),
                Value::Shared => w.option(code, self.shared.as_deref().unwrap_or_default()),
                Value::Routes { at, len, extra } => w.split(code, self.copied_at(at, len), extra),
                Value::Addrs(ips) => {
                    for chunk in ips.chunks(ADDRS_PER_OPTION) {
                        w.bytes(&[code, (chunk.len() * ADDR_LEN) as u8]);
                        for ip in chunk {
                            w.bytes(&ip.octets());
                        }
                    }
                }
            }
        }
        w.at
    }
}

/// Writes options into a buffer sized for them: no capacity check per
/// option, and the padding after End is the buffer's zeroes.
struct Writer<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, data: &[u8]) {
        self.out[self.at..self.at + data.len()].copy_from_slice(data);
        self.at += data.len();
    }

    /// Option `code` with value `data`, split into options of at most
    /// 255 bytes when longer (RFC 3396); an empty value is one option of
    /// length 0.
    fn option(&mut self, code: u8, data: &[u8]) {
        if data.len() <= MAX_OPT_DATA {
            self.bytes(&[code, data.len() as u8]);
            self.bytes(data);
        } else {
            for chunk in data.chunks(MAX_OPT_DATA) {
                self.bytes(&[code, chunk.len() as u8]);
                self.bytes(chunk);
            }
        }
    }

    /// Option `code` whose value is `first` then `then`, split into
    /// options of at most 255 bytes of data (RFC 3396 §6: the receiver
    /// concatenates them in order; a split may fall anywhere).
    fn split(&mut self, code: u8, mut first: &[u8], mut then: &[u8]) {
        while !first.is_empty() || !then.is_empty() {
            let n = (first.len() + then.len()).min(MAX_OPT_DATA);
            self.bytes(&[code, n as u8]);
            let a = n.min(first.len());
            self.bytes(&first[..a]);
            self.bytes(&then[..n - a]);
            first = &first[a..];
            then = &then[n - a..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_part_value_splits_into_options_of_255_bytes() {
        let first: Vec<u8> = (0..200).map(|i| i as u8).collect();
        let then: Vec<u8> = (0..120).map(|i| (i + 200) as u8).collect();
        let mut buf = vec![0; 2 + 255 + 2 + 65];
        let mut w = Writer {
            out: &mut buf,
            at: 0,
        };
        w.split(code::CLASSLESS_ROUTES, &first, &then);
        assert_eq!(w.at, buf.len());
        assert_eq!(buf[..2], [code::CLASSLESS_ROUTES, 255]);
        assert_eq!(buf[257..259], [code::CLASSLESS_ROUTES, 65]);
        // RFC 3396 §6: the pieces concatenate back to the value.
        let joined: Vec<u8> = [&buf[2..257], &buf[259..]].concat();
        assert_eq!(joined, [first, then].concat());
        let mut short = [0; 5];
        let mut w = Writer {
            out: &mut short,
            at: 0,
        };
        w.split(code::CLASSLESS_ROUTES, &[1, 2], &[3]);
        assert_eq!(short, [code::CLASSLESS_ROUTES, 3, 1, 2, 3]);
    }
}
