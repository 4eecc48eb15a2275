//! Router Solicitation → Router Advertisement (RFC 4861 §6), with router
//! preference (RFC 4191 §2.2), Route Information (RFC 4191 §2.3), DNS
//! options RDNSS / DNSSL (RFC 8106) and the NAT64 prefix, PREF64 (RFC 8781).
//!
//! Supported: solicited RAs (unicast to the soliciting guest, or to ff02::1
//! for an RS from `::`) and the periodic unsolicited RA, including the final
//! one (router lifetime 0) sent on shutdown. The guest is identified by the
//! frame's MAC and the RS's source link-layer option, never by assuming an
//! EUI-64 link-local (guests with stable-privacy or random link-locals get
//! their RAs). Announced: M/O flags from the mode, SLLA, MTU, one Prefix
//! Information for SUBNET6 (autonomous only for a /64), RDNSS and DNSSL
//! (the binding's `NAMESERVERS6` and `DOMAINS`, else the config's),
//! a Route Information option per route of the binding's `ROUTES6`, and
//! PREF64 when the config's `pref64` or the binding's `PREF64` names a
//! prefix. PREF64 lives as long as the default router, and at least as
//! long as the DNS options ([`lasting_lifetime`]); routes too, unless
//! `route_lifetime` says otherwise. The final RA keeps PREF64, as it keeps
//! the DNS options (a restart must not cut IPv6-only guests off IPv4), and
//! withdraws the routes (lifetime 0) with the default router. A PRIVATE
//! binding gets its routes and PREF64: only the default router is withheld.
//! An RA never exceeds the link MTU: the least important options give way
//! (see `fit.rs` for the order).
//!
//! Deliberately not supported: the captive portal option, the random
//! delay and the spacing of solicited RAs (RFC 4861 §6.2.6
//! MAX_RA_DELAY_TIME, MIN_DELAY_BETWEEN_RAS: an RS is answered at once,
//! out of the guest's own tap, and the only limit is the daemon's per-tap
//! packet rate limit, `[limits]`), infinite lifetimes (every lifetime is
//! finite), several prefixes, and splitting options over several RAs
//! (RFC 4861 §6.2.3 allows it). A binding with PRIVATE set is announced
//! with router lifetime 0: it gets its prefix, routes and DNS, but no
//! default router.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use crate::config::{Ipv6Mode, RouterPreference};
use crate::mac::MacAddr;

use super::frame;
use super::ndp::{
    self, icmp_field, ALL_NODES, ALL_NODES_MAC, ICMPV6_ROUTER_ADVERT, ICMPV6_ROUTER_SOLICIT,
    ND_HOP_LIMIT, OPT_SOURCE_LLA, OPT_UNIT,
};
use super::{Context, DropReason, Outcome, Reply, ReplyKind};

mod fit;
mod opts;
pub use opts::{
    pref64_lifetime, Pref64Info, RouteInfo, OPT_PREF64, OPT_ROUTE_INFO, PREF64_MAX_LIFETIME,
};

/// Byte ranges of an RA (RFC 4861 §4.2).
pub mod ra_field {
    use std::ops::Range;
    /// Cur Hop Limit.
    pub const CUR_HOP_LIMIT: usize = 4;
    /// M, O flags and the RFC 4191 preference.
    pub const FLAGS: usize = 5;
    /// Router Lifetime.
    pub const ROUTER_LIFETIME: Range<usize> = 6..8;
    /// Reachable Time.
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    /// Retrans Timer.
    pub const RETRANS_TIMER: Range<usize> = 12..16;
    /// First option.
    pub const OPTIONS: usize = 16;
}

/// First option of an RS, after its 4 reserved bytes (RFC 4861 §4.1).
pub const RS_OPTIONS: usize = 8;
/// RFC 4861 §6.1.1: "ICMP length (derived from the IP length) is 8 or more octets."
pub const RS_MIN_LEN: usize = RS_OPTIONS;

/// RA flag: Managed address configuration.
pub const RA_FLAG_MANAGED: u8 = 0x80;
/// RA flag: Other configuration.
pub const RA_FLAG_OTHER: u8 = 0x40;
/// Shift of the 2-bit Prf field in the flags byte (RFC 4191 §2.2).
pub const RA_PRF_SHIFT: u8 = 3;
/// Cur Hop Limit announced (the Linux default).
pub const CUR_HOP_LIMIT: u8 = 64;
/// RFC 4861 §6.2.1: AdvDefaultLifetime "MUST be … no greater than 9000 seconds".
pub const MAX_ROUTER_LIFETIME: u16 = 9000;
/// RFC 4861 §6.2.1: MaxRtrAdvInterval "MUST be no less than 4 seconds".
pub const MIN_MAX_RTR_ADV_INTERVAL: u32 = 4;
/// RFC 4861 §6.2.1: MaxRtrAdvInterval "… and no greater than 1800 seconds".
pub const MAX_MAX_RTR_ADV_INTERVAL: u32 = 1800;
/// RFC 8106 §5.1: lifetime "SHOULD by default be at least 3 × MaxRtrAdvInterval".
pub const DNS_LIFETIME_FACTOR: u32 = 3;
/// A lifetime of all ones means infinity (RFC 4861 §4.6.2, RFC 8106 §5.1): never sent.
pub const INFINITE_LIFETIME: u32 = u32::MAX;
/// IPv6 minimum link MTU (RFC 8200 §5): smaller MTU options are not announced.
pub const IPV6_MIN_MTU: u16 = 1280;
/// Prefix length that SLAAC on Ethernet needs (RFC 4862 §5.5.3, RFC 2464 §4).
pub const SLAAC_PREFIX_LEN: u8 = 64;

/// ND option type: Prefix Information (RFC 4861 §4.6.2).
pub const OPT_PREFIX_INFO: u8 = 3;
/// ND option type: MTU (RFC 4861 §4.6.4).
pub const OPT_MTU: u8 = 5;
/// ND option type: Recursive DNS Server (RFC 8106 §5.1).
pub const OPT_RDNSS: u8 = 25;
/// ND option type: DNS Search List (RFC 8106 §5.2).
pub const OPT_DNSSL: u8 = 31;
/// Prefix Information flag: on-link.
pub const PREFIX_FLAG_ON_LINK: u8 = 0x80;
/// Prefix Information flag: autonomous address configuration.
pub const PREFIX_FLAG_AUTONOMOUS: u8 = 0x40;
/// Length of a Prefix Information option (RFC 4861 §4.6.2).
pub const PREFIX_INFO_LEN: usize = 32;
/// Length of an MTU option (RFC 4861 §4.6.4).
pub const MTU_OPT_LEN: usize = 8;
/// The largest ND option, in units (an 8-bit length field).
pub const MAX_OPT_UNITS: usize = 255;
/// Most RDNSS addresses one option holds: (255 − 1) / 2.
pub const MAX_RDNSS_SERVERS: usize = (MAX_OPT_UNITS - 1) / 2;
/// RFC 1035 §2.3.4: labels are 63 octets or less.
pub const MAX_LABEL_LEN: usize = 63;
/// RFC 1035 §2.3.4: names are 255 octets or less (on the wire).
pub const MAX_NAME_LEN: usize = 255;
/// One address of an RDNSS option.
const IPV6_ADDR_LEN: usize = 16;

/// A Prefix Information option (RFC 4861 §4.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixInfo {
    /// The prefix, host bits zero.
    pub prefix: Ipv6Net,
    /// L flag.
    pub on_link: bool,
    /// A flag.
    pub autonomous: bool,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
}

/// A Router Advertisement, as decided (RFC 4861 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterAdvert {
    /// Ethernet source (the INDEV MAC).
    pub eth_src: MacAddr,
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// IPv6 source (the router link-local).
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// Cur Hop Limit.
    pub cur_hop_limit: u8,
    /// M flag.
    pub managed: bool,
    /// O flag.
    pub other: bool,
    /// Default router preference (RFC 4191 §2.2).
    pub preference: RouterPreference,
    /// Router Lifetime, seconds (0: not a default router).
    pub router_lifetime: u16,
    /// Reachable Time, ms (0: unspecified).
    pub reachable_time: u32,
    /// Retrans Timer, ms (0: unspecified).
    pub retrans_timer: u32,
    /// Source link-layer address option.
    pub source_lla: MacAddr,
    /// MTU option.
    pub mtu: Option<u32>,
    /// Prefix Information option.
    pub prefix: Option<PrefixInfo>,
    /// RDNSS option: lifetime and servers (RFC 8106 §5.1).
    pub rdnss: Option<(u32, Vec<Ipv6Addr>)>,
    /// DNSSL option: lifetime and domains (RFC 8106 §5.2).
    pub dnssl: Option<(u32, Vec<String>)>,
    /// PREF64 option (RFC 8781 §4).
    pub pref64: Option<Pref64Info>,
    /// Route Information options (RFC 4191 §2.3).
    pub routes: Vec<RouteInfo>,
}

/// The RFC 4191 §2.2 two-bit Prf value.
fn prf_bits(p: RouterPreference) -> u8 {
    match p {
        RouterPreference::High => 0b01,
        RouterPreference::Medium => 0b00,
        RouterPreference::Low => 0b11,
    }
}

/// Encodes `name` uncompressed (RFC 1035 §3.1), or None if it is not a valid name.
pub fn encode_domain_name(name: &str) -> Option<Vec<u8>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return None;
        }
        out.push(u8::try_from(label.len()).ok()?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    (out.len() <= MAX_NAME_LEN).then_some(out)
}

impl RouterAdvert {
    /// The ICMPv6 message, checksum zero (filled in by [`frame::emit_ipv6_icmp`]).
    pub fn icmp_bytes(&self) -> Vec<u8> {
        let mut m = vec![ICMPV6_ROUTER_ADVERT, 0, 0, 0, self.cur_hop_limit];
        let mut flags = prf_bits(self.preference) << RA_PRF_SHIFT;
        if self.managed {
            flags |= RA_FLAG_MANAGED;
        }
        if self.other {
            flags |= RA_FLAG_OTHER;
        }
        m.push(flags);
        m.extend_from_slice(&self.router_lifetime.to_be_bytes());
        m.extend_from_slice(&self.reachable_time.to_be_bytes());
        m.extend_from_slice(&self.retrans_timer.to_be_bytes());
        ndp::emit_lla_option(OPT_SOURCE_LLA, self.source_lla, &mut m);
        if let Some(mtu) = self.mtu {
            m.extend_from_slice(&[OPT_MTU, (MTU_OPT_LEN / OPT_UNIT) as u8, 0, 0]);
            m.extend_from_slice(&mtu.to_be_bytes());
        }
        if let Some(p) = &self.prefix {
            emit_prefix_info(p, &mut m);
        }
        for r in &self.routes {
            r.emit(&mut m);
        }
        if let Some((lifetime, servers)) = &self.rdnss {
            emit_rdnss(*lifetime, servers, &mut m);
        }
        if let Some((lifetime, domains)) = &self.dnssl {
            emit_dnssl(*lifetime, domains, &mut m);
        }
        if let Some(p) = &self.pref64 {
            opts::emit_pref64(p, &mut m);
        }
        m
    }

    /// The whole Ethernet frame.
    pub fn emit(&self) -> Vec<u8> {
        frame::emit_ipv6_icmp(
            self.eth_src,
            self.eth_dst,
            self.src,
            self.dst,
            ND_HOP_LIMIT,
            &self.icmp_bytes(),
        )
        .expect("build_ra cuts an RA to the link MTU, far below the 64 KiB limit")
    }
}

fn emit_prefix_info(p: &PrefixInfo, m: &mut Vec<u8>) {
    let mut flags = 0;
    if p.on_link {
        flags |= PREFIX_FLAG_ON_LINK;
    }
    if p.autonomous {
        flags |= PREFIX_FLAG_AUTONOMOUS;
    }
    m.extend_from_slice(&[
        OPT_PREFIX_INFO,
        (PREFIX_INFO_LEN / OPT_UNIT) as u8,
        p.prefix.prefix_len(),
        flags,
    ]);
    m.extend_from_slice(&p.valid_lifetime.to_be_bytes());
    m.extend_from_slice(&p.preferred_lifetime.to_be_bytes());
    m.extend_from_slice(&[0; 4]); // Reserved2
    m.extend_from_slice(&p.prefix.network().octets());
}

fn emit_rdnss(lifetime: u32, servers: &[Ipv6Addr], m: &mut Vec<u8>) {
    let servers = &servers[..servers.len().min(MAX_RDNSS_SERVERS)];
    if servers.is_empty() {
        return;
    }
    // RFC 8106 §5.1: Length is 1 + 2 × the number of addresses.
    let units = rdnss_len(servers.len()) / OPT_UNIT;
    m.extend_from_slice(&[OPT_RDNSS, units as u8, 0, 0]);
    m.extend_from_slice(&lifetime.to_be_bytes());
    for s in servers {
        m.extend_from_slice(&s.octets());
    }
}

/// Length of an RDNSS option carrying `servers` addresses (0: not sent).
fn rdnss_len(servers: usize) -> usize {
    match servers.min(MAX_RDNSS_SERVERS) {
        0 => 0,
        n => OPT_UNIT + n * IPV6_ADDR_LEN,
    }
}

/// The names of a DNSSL option, encoded: as many of `domains` as one
/// option holds (invalid names skipped).
fn dnssl_names(domains: &[String]) -> Vec<u8> {
    let mut names = Vec::new();
    for d in domains.iter().filter_map(|d| encode_domain_name(d)) {
        // Header (8) + names must fit an 8-bit length in units.
        if OPT_UNIT + names.len() + d.len() > MAX_OPT_UNITS * OPT_UNIT {
            break;
        }
        names.extend_from_slice(&d);
    }
    names
}

/// Length of a DNSSL option carrying `names` bytes of names (0: not sent).
/// RFC 8106 §5.2: "the padding field MUST be set to zero" up to a multiple of 8.
fn dnssl_len(names: usize) -> usize {
    match names {
        0 => 0,
        n => (OPT_UNIT + n).div_ceil(OPT_UNIT) * OPT_UNIT,
    }
}

fn emit_dnssl(lifetime: u32, domains: &[String], m: &mut Vec<u8>) {
    let names = dnssl_names(domains);
    if names.is_empty() {
        return;
    }
    let len = dnssl_len(names.len());
    m.extend_from_slice(&[OPT_DNSSL, (len / OPT_UNIT) as u8, 0, 0]);
    m.extend_from_slice(&lifetime.to_be_bytes());
    m.extend_from_slice(&names);
    m.resize(m.len() + len - OPT_UNIT - names.len(), 0);
}

/// RDNSS / DNSSL lifetime: 3 × MaxRtrAdvInterval (RFC 8106 §5.1), with
/// MaxRtrAdvInterval clamped to RFC 4861 §6.2.1's 4..=1800 s, so at most
/// 5400 s: DNS data outlives a lost RA or two, never a gone router by hours.
pub fn dns_lifetime(ra_period: u32) -> u32 {
    max_rtr_adv_interval(ra_period) * DNS_LIFETIME_FACTOR
}

/// The lifetime of what outlives one RA and names no address of its own:
/// PREF64 (and, from the binding, routes). RFC 8781 §4.1 asks that the
/// NAT64 prefix not expire before the default router, and by default
/// gives it 3 × MaxRtrAdvInterval: the larger of `router_lifetime` (the
/// one a default router is given, 0 for none) and [`dns_lifetime`].
pub fn lasting_lifetime(ra_period: u32, router_lifetime: u16) -> u32 {
    u32::from(router_lifetime).max(dns_lifetime(ra_period))
}

/// MaxRtrAdvInterval: the RA period within RFC 4861 §6.2.1's 4..=1800 s.
pub fn max_rtr_adv_interval(ra_period: u32) -> u32 {
    ra_period.clamp(MIN_MAX_RTR_ADV_INTERVAL, MAX_MAX_RTR_ADV_INTERVAL)
}

/// Builds the RA for this binding to `dst` / `eth_dst`, or None without SUBNET6.
fn build_ra(
    ctx: &Context<'_>,
    dst: Ipv6Addr,
    eth_dst: MacAddr,
    final_ra: bool,
) -> Option<RouterAdvert> {
    let b = ctx.binding;
    let v6 = &ctx.config.ipv6;
    if !v6.enabled {
        return None;
    }
    let subnet6 = b.subnet6?.trunc();
    let (managed, other) = match v6.mode {
        Ipv6Mode::Slaac => (false, false),
        Ipv6Mode::SlaacDhcpv6 => (false, true),
        Ipv6Mode::Dhcpv6 => (true, true),
    };
    let default_router_lifetime = default_router_lifetime(v6);
    // RFC 4861 §6.2.5: a router ceasing to be one sends RAs with Router
    // Lifetime zero. PRIVATE: never a default router.
    let router_lifetime = if final_ra || b.private {
        0
    } else {
        default_router_lifetime
    };
    let lasting = lasting_lifetime(v6.ra_period, default_router_lifetime);
    // RFC 4191 §2.2: "If the Router Lifetime is zero, the preference value
    // MUST be set to (00) by the sender".
    let preference = if router_lifetime == 0 {
        RouterPreference::Medium
    } else {
        v6.router_preference
    };
    // RFC 4861 §4.6.2: never infinity; preferred ≤ valid (RFC 4862 §5.5.3 c).
    let valid = v6.prefix_valid_lifetime.min(INFINITE_LIFETIME - 1);
    let prefix = PrefixInfo {
        prefix: subnet6,
        on_link: true,
        // RFC 4862 §5.5.3 d: SLAAC needs prefix length + interface id = 128,
        // i.e. a /64 on Ethernet.
        autonomous: subnet6.prefix_len() == SLAAC_PREFIX_LEN,
        valid_lifetime: valid,
        preferred_lifetime: v6.prefix_preferred_lifetime.min(valid),
    };
    let (rdnss, dnssl) = dns_options(ctx);
    let mut ra = RouterAdvert {
        eth_src: ctx.server_mac,
        eth_dst,
        src: ndp::router_link_local(ctx),
        dst,
        cur_hop_limit: CUR_HOP_LIMIT,
        managed,
        other,
        preference,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        source_lla: ctx.server_mac,
        mtu: b.mtu.filter(|m| *m >= IPV6_MIN_MTU).map(u32::from),
        prefix: Some(prefix),
        rdnss,
        dnssl,
        pref64: b.pref64(v6.pref64).map(|prefix| Pref64Info {
            prefix,
            lifetime: pref64_lifetime(lasting),
        }),
        routes: routes(ctx, final_ra, lasting),
    };
    // Never None: what fit never drops takes 64 bytes (see fit.rs).
    ra.fit(fit::budget(b)).then_some(ra)
}

/// The router lifetime of a default router under this config (0: none).
fn default_router_lifetime(v6: &crate::config::Ipv6) -> u16 {
    if v6.router_lifetime == 0 {
        return 0;
    }
    // RFC 4861 §6.2.1: "MUST be either zero or between MaxRtrAdvInterval and 9000 seconds."
    let max_rtr_adv = max_rtr_adv_interval(v6.ra_period);
    let floor = u16::try_from(max_rtr_adv).unwrap_or(MAX_ROUTER_LIFETIME);
    v6.router_lifetime.clamp(floor, MAX_ROUTER_LIFETIME)
}

/// The RDNSS and DNSSL of an RA (see [`RouterAdvert`]).
type DnsOptions = (Option<(u32, Vec<Ipv6Addr>)>, Option<(u32, Vec<String>)>);

/// RDNSS and DNSSL: the binding's `NAMESERVERS6` and `DOMAINS`, else the
/// config's, with the RFC 8106 lifetime.
fn dns_options(ctx: &Context<'_>) -> DnsOptions {
    let (b, v6) = (ctx.binding, &ctx.config.ipv6);
    let dns = dns_lifetime(v6.ra_period);
    let servers: Vec<Ipv6Addr> = b
        .nameservers6(&v6.nameservers)
        .iter()
        .take(MAX_RDNSS_SERVERS)
        .copied()
        .collect();
    // Invalid names are skipped (the parsers should have refused them).
    let domains: Vec<String> = b
        .domains(&v6.domains)
        .iter()
        .filter(|d| encode_domain_name(d).is_some())
        .map(|d| d.strip_suffix('.').unwrap_or(d).to_string())
        .collect();
    (
        (!servers.is_empty()).then_some((dns, servers)),
        (!domains.is_empty()).then_some((dns, domains)),
    )
}

/// The Route Information options of the binding's `ROUTES6`: lifetime
/// `route_lifetime`, else `lasting`; 0 in the final RA.
fn routes(ctx: &Context<'_>, final_ra: bool, lasting: u32) -> Vec<RouteInfo> {
    let lifetime = if final_ra {
        0
    } else {
        ctx.config.ipv6.route_lifetime.unwrap_or(lasting)
    };
    ctx.binding
        .routes6
        .iter()
        .map(|r| RouteInfo {
            prefix: r.prefix,
            preference: r.preference,
            lifetime,
        })
        .collect()
}

/// A validated RS (RFC 4861 §6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterSolicit {
    /// IPv6 source (`::` before the guest has an address).
    pub src: Ipv6Addr,
    /// Its source link-layer address option.
    pub source_lla: Option<MacAddr>,
}

/// Parses and validates an RS (RFC 4861 §6.1.1).
pub fn parse_rs(packet: &[u8]) -> Result<RouterSolicit, DropReason> {
    let ip = ndp::parse_icmp_of_type(packet, ICMPV6_ROUTER_SOLICIT)?;
    let m = ip.payload;
    // RFC 4861 §6.1.1: "The IP Hop Limit field has a value of 255".
    if ip.hop_limit != ND_HOP_LIMIT {
        return Err(DropReason::Invalid);
    }
    // RFC 4861 §6.1.1: "ICMP Code is 0."
    if m.get(icmp_field::CODE) != Some(&0) {
        return Err(DropReason::Invalid);
    }
    // RFC 4861 §6.1.1: "ICMP length (derived from the IP length) is 8 or more octets."
    let opts = m.get(RS_OPTIONS..).ok_or(DropReason::Invalid)?;
    // RFC 4861 §6.1.1: "All included options have a length that is greater than zero."
    let opts = ndp::parse_nd_options(opts).map_err(|_| DropReason::Invalid)?;
    // RFC 4861 §6.1.1: "If the IP source address is the unspecified address,
    // there is no source link-layer address option in the message."
    if ip.src.is_unspecified() && opts.source_lla.is_some() {
        return Err(DropReason::Invalid);
    }
    Ok(RouterSolicit {
        src: ip.src,
        source_lla: opts.source_lla,
    })
}

/// Decides the RA answering an RS, or why none is sent.
pub fn decide(ctx: &Context<'_>, packet: &[u8]) -> Result<RouterAdvert, DropReason> {
    let rs = parse_rs(packet)?;
    ndp::check_guest_mac(ctx, rs.source_lla)?;
    if !ctx.config.ipv6.enabled {
        return Err(DropReason::Disabled);
    }
    let (dst, eth_dst) = if rs.src.is_unspecified() {
        // RFC 4861 §6.2.6: a solicitation from the unspecified address is
        // answered to the all-nodes multicast address.
        (ALL_NODES, ALL_NODES_MAC)
    } else {
        // RFC 4861 §6.2.6: the router "MAY send the response directly to the
        // soliciting host's address". Any source address works: the guest is
        // known by its MAC, not by an EUI-64 link-local.
        let mac = ctx.src_mac.or(rs.source_lla).unwrap_or(ctx.binding.mac);
        (rs.src, mac)
    };
    build_ra(ctx, dst, eth_dst, false).ok_or(DropReason::NotConfigured)
}

/// Answers a Router Solicitation (the packet as NFQUEUE delivers it).
pub fn handle(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    match decide(ctx, packet) {
        Ok(ra) => Outcome::Reply(Reply {
            kind: ReplyKind::RouterAdvert,
            frame: ra.emit(),
        }),
        Err(reason) => Outcome::Dropped(reason),
    }
}

/// The periodic unsolicited RA to ff02::1 (RFC 4861 §6.2.4), or None when the
/// binding has no SUBNET6 or IPv6 is disabled. `final_ra`: the shutdown RA, router lifetime 0 (§6.2.5).
pub fn build_unsolicited_ra_advert(ctx: &Context<'_>, final_ra: bool) -> Option<RouterAdvert> {
    build_ra(ctx, ALL_NODES, ALL_NODES_MAC, final_ra)
}

/// The periodic unsolicited RA frame (see [`build_unsolicited_ra_advert`]).
pub fn build_unsolicited_ra(ctx: &Context<'_>, final_ra: bool) -> Option<Reply> {
    build_unsolicited_ra_advert(ctx, final_ra).map(|ra| Reply {
        kind: ReplyKind::RouterAdvert,
        frame: ra.emit(),
    })
}

#[cfg(test)]
mod tests;
