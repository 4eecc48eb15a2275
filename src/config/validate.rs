//! Raw file values → validated [`Config`].

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::raw::{Lines, List, RawConfig, Scalar};
use super::{BadValue, Config, ConfigError, Invalid, Ipv6Mode, QueueRange, RouterPreference};
use crate::domain::validate_dns_name;
use crate::value::boot::{self, Boot};
use crate::value::options::{parse_key, parse_value, Customs, OptionError};
use crate::value::pref64::parse_prefix;
use crate::value::v6only;

/// RFC 4861 §6.2.1: AdvDefaultLifetime "MUST be either zero or between
/// MaxRtrAdvInterval and 9000 seconds".
pub const MAX_ROUTER_LIFETIME: u16 = 9000;

/// Validation state: the file name, where keys were, and warnings so far.
pub(super) struct Checker<'a> {
    pub file: &'a str,
    pub lines: &'a Lines,
    pub warnings: Vec<String>,
}

impl Checker<'_> {
    fn err(&self, section: &str, key: &str, value: String, reason: Invalid) -> ConfigError {
        ConfigError::Invalid(Box::new(BadValue {
            file: self.file.to_string(),
            line: self.lines.get(section, key),
            section: section.to_string(),
            key: key.to_string(),
            value,
            reason,
        }))
    }

    fn bool(
        &self,
        s: &str,
        k: &str,
        v: &Option<Scalar>,
        default: bool,
    ) -> Result<bool, ConfigError> {
        match v {
            None => Ok(default),
            Some(Scalar::Bool(b)) => Ok(*b),
            Some(sc) => match sc.text().trim().to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => Ok(true),
                "no" | "false" | "off" | "0" => Ok(false),
                _ => Err(self.err(s, k, sc.text(), Invalid::NotBool)),
            },
        }
    }

    fn int(
        &self,
        s: &str,
        k: &str,
        v: &Option<Scalar>,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(sc) = v else { return Ok(None) };
        let n = match sc {
            Scalar::Int(i) => u64::try_from(*i).ok(),
            Scalar::Str(t) if t.trim().is_empty() => return Ok(None),
            Scalar::Str(t) => t.trim().parse::<u64>().ok(),
            Scalar::Bool(_) => None,
        };
        match n {
            None => Err(self.err(s, k, sc.text(), Invalid::NotInteger)),
            Some(n) if n < min || n > max => {
                Err(self.err(s, k, sc.text(), Invalid::OutOfRange { min, max }))
            }
            Some(n) => Ok(Some(n)),
        }
    }

    fn u32(
        &self,
        s: &str,
        k: &str,
        v: &Option<Scalar>,
        min: u32,
        default: u32,
    ) -> Result<u32, ConfigError> {
        self.u32_in(s, k, v, min, u32::MAX, default)
    }

    /// A `u32` key within `min..=max`, or `default` when absent.
    fn u32_in(
        &self,
        s: &str,
        k: &str,
        v: &Option<Scalar>,
        min: u32,
        max: u32,
        default: u32,
    ) -> Result<u32, ConfigError> {
        Ok(self
            .int(s, k, v, min.into(), max.into())?
            .map_or(default, |n| n as u32))
    }

    fn string(v: &Option<Scalar>) -> Option<String> {
        v.as_ref()
            .map(|s| super::raw::unquote(s.text().trim()).to_string())
            .filter(|s| !s.is_empty())
    }

    fn queue(
        &self,
        s: &str,
        k: &str,
        v: &Option<Scalar>,
    ) -> Result<Option<QueueRange>, ConfigError> {
        let Some(sc) = v else { return Ok(None) };
        let text = sc.text();
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let bad = || self.err(s, k, text.clone(), Invalid::BadQueue);
        let (a, b) = t.split_once(':').unwrap_or((t, t));
        let first: u16 = a.trim().parse().map_err(|_| bad())?;
        let last: u16 = b.trim().parse().map_err(|_| bad())?;
        if last < first {
            return Err(bad());
        }
        Ok(Some(QueueRange { first, last }))
    }

    fn ipv4(&self, s: &str, k: &str, v: &Option<Scalar>) -> Result<Option<Ipv4Addr>, ConfigError> {
        match Self::string(v) {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| self.err(s, k, t, Invalid::NotIpv4)),
        }
    }

    fn list<T: std::str::FromStr>(
        &self,
        s: &str,
        k: &str,
        v: &Option<List>,
        reason: Invalid,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(l) = v else { return Ok(Vec::new()) };
        l.items()
            .into_iter()
            .map(|item| {
                item.parse::<T>()
                    .map_err(|_| self.err(s, k, item.clone(), reason.clone()))
            })
            .collect()
    }

    /// The network boot keys of section `s`, each given as its binding
    /// key and value, validated as in a binding file; the config's key is
    /// the binding key in lower case.
    fn boot(
        &self,
        s: &str,
        keys: &[(&'static str, &Option<Scalar>)],
    ) -> Result<Option<Box<Boot>>, ConfigError> {
        let values: Vec<(&str, String)> = keys
            .iter()
            .filter_map(|(k, v)| Self::string(v).map(|v| (*k, v)))
            .collect();
        let get = |key: &str| {
            let found = values.iter().find(|(k, _)| *k == key);
            found.map(|(_, v)| v.as_str())
        };
        boot::parse(get).map_err(|(key, e)| {
            let value = get(key).unwrap_or_default().to_string();
            self.err(s, &key.to_ascii_lowercase(), value, Invalid::BadBoot(e))
        })
    }

    fn domain(&self, s: &str, k: &str, name: String) -> Result<String, ConfigError> {
        let name = name.trim_end_matches('.').to_string();
        validate_dns_name(&name)
            .map_err(|e| self.err(s, k, name.clone(), Invalid::BadDomain(e.to_string())))?;
        Ok(name)
    }
}

/// Validates a raw config read from `file`.
pub(super) fn validate(raw: &RawConfig, c: &mut Checker<'_>) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    let g = &raw.general;
    cfg.general.pidfile = Checker::string(&g.pidfile).map(PathBuf::from);
    if let Some(d) = Checker::string(&g.datapath) {
        cfg.general.datapath = PathBuf::from(d);
    }
    cfg.general.logdir = Checker::string(&g.logdir).map(PathBuf::from);
    cfg.general.user = Checker::string(&g.user);
    if let Some(p) = Checker::string(&g.control_socket) {
        cfg.general.control_socket = PathBuf::from(p);
    }
    cfg.general.queue_max_len = c.u32(
        "general",
        "queue_max_len",
        &g.queue_max_len,
        1,
        cfg.general.queue_max_len,
    )?;
    cfg.general.fail_open = c.bool("general", "fail_open", &g.fail_open, false)?;
    let most = super::RECV_BATCH_MAX as u64;
    if let Some(n) = c.int("general", "recv_batch", &g.recv_batch, 1, most)? {
        cfg.general.recv_batch = usize::try_from(n).expect("at most RECV_BATCH_MAX");
    }
    cfg.general.queue_spin_us = c.u32_in(
        "general",
        "queue_spin_us",
        &g.queue_spin_us,
        0,
        super::QUEUE_SPIN_MAX_US,
        cfg.general.queue_spin_us,
    )?;
    cfg.general.queue_nap_us = c.u32_in(
        "general",
        "queue_nap_us",
        &g.queue_nap_us,
        0,
        super::QUEUE_NAP_MAX_US,
        cfg.general.queue_nap_us,
    )?;
    cfg.general.shadow = c.bool("general", "shadow", &g.shadow, false)?;

    if let Some(l) = Checker::string(&raw.metrics.listen) {
        let addr = l
            .parse()
            .map_err(|_| c.err("metrics", "listen", l.clone(), Invalid::NotSocketAddr))?;
        cfg.metrics.listen = Some(addr);
    }
    cfg.metrics.per_tap = c.bool("metrics", "per_tap", &raw.metrics.per_tap, false)?;

    cfg.options = validate_options(raw, c)?;

    let d = &raw.dhcp;
    let dh = &mut cfg.dhcp;
    dh.enabled = c.bool("dhcp", "enable_dhcp", &d.enable_dhcp, true)?;
    dh.lease_lifetime = c.u32(
        "dhcp",
        "lease_lifetime",
        &d.lease_lifetime,
        1,
        dh.lease_lifetime,
    )?;
    dh.lease_renewal = c.u32(
        "dhcp",
        "lease_renewal",
        &d.lease_renewal,
        1,
        dh.lease_renewal,
    )?;
    if dh.lease_renewal >= dh.lease_lifetime {
        let v = dh.lease_renewal.to_string();
        return Err(c.err(
            "dhcp",
            "lease_renewal",
            v,
            Invalid::RenewalNotBelowLease(dh.lease_lifetime),
        ));
    }
    dh.server_ip = c.ipv4("dhcp", "server_ip", &d.server_ip)?;
    dh.server_on_link = c.bool("dhcp", "server_on_link", &d.server_on_link, false)?;
    dh.queue = c.queue("dhcp", "dhcp_queue", &d.dhcp_queue)?;
    dh.nameservers = c.list("dhcp", "nameservers", &d.nameservers, Invalid::NotIpv4)?;
    dh.ntp = c.list("dhcp", "ntp", &d.ntp, Invalid::NotIpv4)?;
    if let Some(a) = dh
        .ntp
        .iter()
        .find(|a| a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast())
    {
        return Err(c.err("dhcp", "ntp", a.to_string(), Invalid::NotUnicast));
    }
    if let Some(v) = &d.v6only_wait {
        // TOML's `false` is off too.
        let text = match v {
            Scalar::Bool(false) => "off".to_string(),
            other => other.text(),
        };
        dh.v6only_wait = v6only::parse(&text)
            .map_err(|e| c.err("dhcp", "v6only_wait", v.text(), Invalid::BadV6OnlyWait(e)))?;
    }
    dh.domain = match Checker::string(&d.domain) {
        Some(n) => Some(c.domain("dhcp", "domain", n)?),
        None => None,
    };
    let keys = [
        (boot::NEXT_SERVER, &d.next_server),
        (boot::TFTP_SERVER, &d.tftp_server),
        (boot::BOOTFILE, &d.bootfile),
        (boot::BOOTFILE_EFI, &d.bootfile_efi),
        (boot::BOOTFILE_BIOS, &d.bootfile_bios),
        (boot::BOOTFILE_IPXE, &d.bootfile_ipxe),
        (boot::BOOTFILE_HTTP, &d.bootfile_http),
    ];
    dh.boot = c.boot("dhcp", &keys)?;
    if dh.enabled {
        if dh.queue.is_none() {
            return Err(c.err(
                "dhcp",
                "dhcp_queue",
                String::new(),
                Invalid::Required("enable_dhcp is yes"),
            ));
        }
        if dh.server_ip.is_none() && !dh.server_on_link {
            return Err(c.err(
                "dhcp",
                "server_ip",
                String::new(),
                Invalid::Required("server_on_link is no"),
            ));
        }
    }

    validate_ipv6(raw, c, &mut cfg)?;
    let l = &raw.limits;
    cfg.limits.rate = c.u32("limits", "rate", &l.rate, 0, cfg.limits.rate)?;
    cfg.limits.burst = c.u32("limits", "burst", &l.burst, 1, cfg.limits.burst)?;
    check_queues_disjoint(&cfg, c)?;
    Ok(cfg)
}

fn validate_ipv6(
    raw: &RawConfig,
    c: &mut Checker<'_>,
    cfg: &mut Config,
) -> Result<(), ConfigError> {
    let r = &raw.ipv6;
    let v6 = &mut cfg.ipv6;
    v6.enabled = c.bool("ipv6", "enable_ipv6", &r.enable_ipv6, true)?;
    v6.ra_period = c.u32("ipv6", "ra_period", &r.ra_period, 1, v6.ra_period)?;
    v6.rs_queue = c.queue("ipv6", "rs_queue", &r.rs_queue)?;
    v6.ns_queue = c.queue("ipv6", "ns_queue", &r.ns_queue)?;
    v6.dhcpv6_queue = c.queue("ipv6", "dhcpv6_queue", &r.dhcpv6_queue)?;
    let old = c.queue("ipv6", "dhcp_queue", &r.dhcp_queue)?;
    if old.is_some() {
        c.warnings.push(
            "[ipv6] dhcp_queue is deprecated in favour of dhcpv6_queue; please update the configuration".into(),
        );
        if v6.dhcpv6_queue.is_none() {
            v6.dhcpv6_queue = old;
        }
    }
    v6.nameservers = c.list("ipv6", "nameservers", &r.nameservers, Invalid::NotIpv6)?;
    v6.ntp = c.list("ipv6", "ntp", &r.ntp, Invalid::NotIpv6)?;
    if let Some(a) = v6
        .ntp
        .iter()
        .find(|a| a.is_unspecified() || a.is_loopback() || a.is_multicast())
    {
        return Err(c.err("ipv6", "ntp", a.to_string(), Invalid::NotUnicast));
    }
    if let Some(p) = Checker::string(&r.pref64) {
        v6.pref64 = Some(
            parse_prefix(&p)
                .map_err(|e| c.err("ipv6", "pref64", p.clone(), Invalid::BadPref64(e)))?,
        );
    }
    let mut domains = Vec::new();
    for d in r.domains.as_ref().map(List::items).unwrap_or_default() {
        domains.push(c.domain("ipv6", "domains", d)?);
    }
    v6.domains = domains;
    v6.bootfile6 = c
        .boot("ipv6", &[(boot::BOOTFILE6, &r.bootfile6)])?
        .and_then(|b| b.file6);
    if let Some(n) = c.int(
        "ipv6",
        "router_lifetime",
        &r.router_lifetime,
        0,
        MAX_ROUTER_LIFETIME.into(),
    )? {
        v6.router_lifetime = n as u16;
    }
    if let Some(p) = Checker::string(&r.router_preference) {
        v6.router_preference = RouterPreference::parse(&p).ok_or_else(|| {
            c.err(
                "ipv6",
                "router_preference",
                p.clone(),
                Invalid::BadPreference,
            )
        })?;
    }
    v6.prefix_valid_lifetime = c.u32(
        "ipv6",
        "prefix_valid_lifetime",
        &r.prefix_valid_lifetime,
        1,
        v6.prefix_valid_lifetime,
    )?;
    v6.prefix_preferred_lifetime = c.u32(
        "ipv6",
        "prefix_preferred_lifetime",
        &r.prefix_preferred_lifetime,
        0,
        v6.prefix_preferred_lifetime,
    )?;
    v6.route_lifetime = c
        .int(
            "ipv6",
            "route_lifetime",
            &r.route_lifetime,
            1,
            u32::MAX.into(),
        )?
        .map(|n| n as u32);
    // RFC 4861 §4.6.2 and RFC 4191 §2.3: infinity (all ones) is allowed on
    // the wire, but we keep lifetimes finite so a stale binding eventually
    // ages out.
    for (k, val) in [
        ("prefix_valid_lifetime", v6.prefix_valid_lifetime),
        ("prefix_preferred_lifetime", v6.prefix_preferred_lifetime),
        ("route_lifetime", v6.route_lifetime.unwrap_or(0)),
    ] {
        if val == u32::MAX {
            return Err(c.err("ipv6", k, val.to_string(), Invalid::Infinite));
        }
    }
    if v6.prefix_preferred_lifetime > v6.prefix_valid_lifetime {
        let v = v6.prefix_preferred_lifetime.to_string();
        return Err(c.err(
            "ipv6",
            "prefix_preferred_lifetime",
            v,
            Invalid::PreferredAboveValid,
        ));
    }
    v6.dhcpv6_valid_lifetime = c.u32(
        "ipv6",
        "dhcpv6_valid_lifetime",
        &r.dhcpv6_valid_lifetime,
        1,
        v6.dhcpv6_valid_lifetime,
    )?;
    v6.dhcpv6_preferred_lifetime = c.u32(
        "ipv6",
        "dhcpv6_preferred_lifetime",
        &r.dhcpv6_preferred_lifetime,
        0,
        v6.dhcpv6_preferred_lifetime,
    )?;
    if v6.dhcpv6_preferred_lifetime > v6.dhcpv6_valid_lifetime {
        let v = v6.dhcpv6_preferred_lifetime.to_string();
        return Err(c.err(
            "ipv6",
            "dhcpv6_preferred_lifetime",
            v,
            Invalid::PreferredAboveValid,
        ));
    }
    if !v6.enabled {
        return Ok(());
    }
    let mode_text = Checker::string(&r.mode).unwrap_or_else(|| "auto".into());
    let has = |m: Ipv6Mode| -> Vec<&'static str> {
        let need: &[(&str, bool)] = match m {
            Ipv6Mode::SlaacDhcpv6 => &[
                ("rs_queue", v6.rs_queue.is_some()),
                ("ns_queue", v6.ns_queue.is_some()),
                ("dhcpv6_queue", v6.dhcpv6_queue.is_some()),
            ],
            Ipv6Mode::Slaac => &[
                ("rs_queue", v6.rs_queue.is_some()),
                ("ns_queue", v6.ns_queue.is_some()),
            ],
            Ipv6Mode::Dhcpv6 => &[("dhcpv6_queue", v6.dhcpv6_queue.is_some())],
        };
        need.iter()
            .filter(|(_, set)| !set)
            .map(|(k, _)| *k)
            .collect()
    };
    let mode = match mode_text.to_ascii_lowercase().as_str() {
        // As the original: auto picks slaac+dhcpv6, then slaac, then dhcpv6, from the queues set.
        "auto" => [Ipv6Mode::SlaacDhcpv6, Ipv6Mode::Slaac, Ipv6Mode::Dhcpv6]
            .into_iter()
            .find(|m| has(*m).is_empty())
            .ok_or_else(|| c.err("ipv6", "mode", mode_text.clone(), Invalid::NoModeFits))?,
        "slaac" => Ipv6Mode::Slaac,
        "slaac+dhcpv6" => Ipv6Mode::SlaacDhcpv6,
        "dhcpv6" => Ipv6Mode::Dhcpv6,
        _ => return Err(c.err("ipv6", "mode", mode_text, Invalid::BadMode)),
    };
    let missing = has(mode);
    if !missing.is_empty() {
        return Err(c.err(
            "ipv6",
            "mode",
            mode_text,
            Invalid::QueuesMissing(missing.join(", ")),
        ));
    }
    v6.mode = mode;
    Ok(())
}

fn check_queues_disjoint(cfg: &Config, c: &Checker<'_>) -> Result<(), ConfigError> {
    let mut seen: Vec<(&str, &str, QueueRange)> = Vec::new();
    let all = [
        (
            "dhcp",
            "dhcp_queue",
            cfg.dhcp.queue.filter(|_| cfg.dhcp.enabled),
        ),
        (
            "ipv6",
            "rs_queue",
            cfg.ipv6.rs_queue.filter(|_| cfg.ipv6.enabled),
        ),
        (
            "ipv6",
            "ns_queue",
            cfg.ipv6.ns_queue.filter(|_| cfg.ipv6.enabled),
        ),
        (
            "ipv6",
            "dhcpv6_queue",
            cfg.ipv6.dhcpv6_queue.filter(|_| cfg.ipv6.enabled),
        ),
    ];
    for (s, k, q) in all {
        let Some(q) = q else { continue };
        if let Some((os, ok, _)) = seen.iter().find(|(_, _, o)| o.overlaps(&q)) {
            return Err(c.err(
                s,
                k,
                q.to_string(),
                Invalid::QueueShared(format!("[{os}] {ok}")),
            ));
        }
        seen.push((s, k, q));
    }
    Ok(())
}

/// `[options]`: the same keys and values as a binding file's, but `none`
/// (there is no default to drop).
fn validate_options(raw: &RawConfig, c: &Checker<'_>) -> Result<Customs, ConfigError> {
    let bad = |k: &str, v: &str, e| c.err("options", k, v.to_string(), Invalid::BadOption(e));
    let texts: Vec<(&str, String)> = raw
        .options
        .iter()
        .map(|(k, v)| (k.as_str(), super::raw::unquote(&v.text()).to_string()))
        .collect();
    for (k, v) in &texts {
        match parse_key(k) {
            None => return Err(bad(k, v, OptionError::BadCode)),
            Some(Ok((_, code))) if parse_value(code, v).is_ok_and(|o| o.data.is_none()) => {
                return Err(bad(k, v, OptionError::NoneInConfig));
            }
            Some(_) => {}
        }
    }
    let customs = Customs::parse(texts.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|(k, v, e)| bad(k, v, e))?;
    Ok(customs)
}
