//! Binding files: the original's `KEY=VALUE` format, one file per tap.
//!
//! Format (as provisioning hooks write it): file name = tap name; lines
//! `KEY=VALUE`; keys `INDEV IP MAC HOSTNAME SUBNET GATEWAY SUBNET6 GATEWAY6
//! EUI64 MTU MACSPOOF PRIVATE TAGS` (and `IP6`, `PREFIX6_DELEGATED`,
//! `PREF64`, `ROUTES6`, `NAMESERVERS6`, `DOMAINS`, `NTP6`, `ROUTES`,
//! `V6ONLY_WAIT`, `OPTION_<code>`, `OPTION6_<code>`, new; see
//! [`delegated`], [`pref64`], [`routes6`], [`overrides`], [`routes`],
//! [`v6only`], [`options`]; the network boot keys `NEXT_SERVER`,
//! `TFTP_SERVER`, `BOOTFILE*`, see [`boot`]); unknown keys ignored;
//! an empty value means unset (the original rejected an empty `MTU=`);
//! values may be quoted; `#` starts a comment line; surrounding whitespace
//! and CRLF are tolerated; MACs compare case-insensitively. A key given
//! twice and a quote without its partner make the file invalid: both are
//! what a value carrying a newline into the file looks like, and taking
//! the last value of a repeated key let such a value set other keys.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::Binding;
use crate::mac::MacAddr;

/// Largest binding file read (a real one is a few hundred bytes).
pub const MAX_FILE_SIZE: u64 = 64 * 1024;

/// Why a binding file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// A value is wrong.
    #[error("{file}: {key}={value:?}: {reason}")]
    Invalid {
        /// The file (tap) name.
        file: String,
        /// The key.
        key: &'static str,
        /// The value as written.
        value: String,
        /// Why.
        reason: Reason,
    },
    /// A line that is not `KEY=VALUE`.
    #[error("{file}:{line}: not KEY=VALUE: {text:?}")]
    BadLine {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The line.
        text: String,
    },
    /// A key given a second time. Any repeated key is refused, known or
    /// not: the file is then ambiguous (a key unknown today may be known
    /// tomorrow, and a newline smuggled into a value shows up as repeated
    /// lines), and no hook has a reason to write one key twice.
    #[error("{file}:{line}: {key}={value:?}: {key} already given on line {first}")]
    DuplicateKey {
        /// The file.
        file: String,
        /// 1-based line of the repetition.
        line: usize,
        /// The key.
        key: String,
        /// The repeated value as written.
        value: String,
        /// 1-based line where the key was first given.
        first: usize,
    },
    /// A value that starts with a quote it does not end with, or ends with
    /// a quote it does not start with (a quoted value spans one line only).
    #[error("{file}:{line}: {key}={value:?}: unbalanced quote")]
    UnbalancedQuote {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// An `OPTION_<code>` or `OPTION6_<code>` key or value is wrong
    /// (boxed: errors stay small).
    #[error(transparent)]
    BadOption(Box<BadOption>),
    /// The file cannot be read or is not a plain file.
    #[error("{file}: {reason}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// Why a value is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// Required key missing.
    #[error("required")]
    Missing,
    /// Not a MAC address.
    #[error("not a MAC address")]
    NotMac,
    /// Not an IPv4 address.
    #[error("not an IPv4 address")]
    NotIpv4,
    /// Not an IPv6 address.
    #[error("not an IPv6 address")]
    NotIpv6,
    /// Not an IPv4 prefix a.b.c.d/n.
    #[error("not an IPv4 prefix (a.b.c.d/len)")]
    NotIpv4Net,
    /// Not an IPv6 prefix.
    #[error("not an IPv6 prefix (x::/len)")]
    NotIpv6Net,
    /// IP outside SUBNET.
    #[error("not inside SUBNET {0}")]
    OutsideSubnet(Ipv4Net),
    /// A network, broadcast, multicast or unspecified address where a host is needed.
    #[error("not a host address")]
    NotHost,
    /// IPv6 prefix length not usable.
    #[error("prefix length must be between 1 and 128 (64 for SLAAC)")]
    BadPrefixLen,
    /// MTU out of range.
    #[error("MTU must be within {0}..=65535")]
    BadMtu(u16),
    /// Not an RFC 1123 host name.
    #[error("not a valid host name: {0}")]
    BadHostname(NameError),
    /// Not a valid interface name.
    #[error("not a valid interface name")]
    BadIfName,
    /// Not a boolean-ish flag.
    #[error("not a flag (1/0, yes/no, true/false)")]
    NotFlag,
    /// Control characters or other bytes not allowed in a value.
    #[error("contains control characters")]
    ControlChars,
    /// A `PREFIX6_DELEGATED` prefix that cannot be delegated (boxed: it
    /// names two prefixes, and errors stay small).
    #[error(transparent)]
    BadDelegation(Box<delegated::DelegationError>),
    /// A `PREF64` that is not a NAT64 prefix an RA can carry.
    #[error(transparent)]
    BadPref64(Box<pref64::Pref64Error>),
    /// A `ROUTES6` route that cannot be announced.
    #[error(transparent)]
    BadRoute(Box<routes6::RouteError>),
    /// A `V6ONLY_WAIT` that option 108 cannot carry.
    #[error(transparent)]
    BadV6OnlyWait(v6only::V6OnlyError),
    /// A `ROUTES` route that cannot be given in DHCPv4 option 121.
    #[error(transparent)]
    BadRoutes(Box<routes::RoutesError>),
    /// A `NAMESERVERS6`, `DOMAINS` or `NTP6` item that cannot be given.
    #[error(transparent)]
    BadOverride(Box<overrides::OverrideError>),
    /// A network boot key (`NEXT_SERVER`, `TFTP_SERVER`, `BOOTFILE*`)
    /// that cannot be given.
    #[error(transparent)]
    BadBoot(Box<boot::BootError>),
}

pub use crate::domain::{validate_dns_name, NameError};

/// Why an `OPTION_<code>` or `OPTION6_<code>` key is refused (its key is
/// not one of a fixed set, hence not in [`BindingError::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}={value:?}: {reason}")]
pub struct BadOption {
    /// The file (tap) name.
    pub file: String,
    /// The key.
    pub key: String,
    /// The value as written.
    pub value: String,
    /// Why.
    pub reason: crate::value::options::OptionError,
}

/// A warning about a binding that is still usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

/// A binding parsed from a file, with its warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The binding.
    pub binding: Binding,
    /// Things worth a warning.
    pub warnings: Vec<Warning>,
}

/// True for names the watcher and scanner skip: dotfiles and editor/temp files.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".tmp")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
}

/// Linux interface names: 1..=15 bytes, no '/', whitespace or ':'.
pub fn is_valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

/// The raw `KEY=VALUE` pairs of the keys we know (each at most once).
#[derive(Debug, Default)]
struct Raw<'a> {
    values: Vec<(&'static str, &'a str)>,
    /// `OPTION_<code>` and `OPTION6_<code>` pairs (see [`options`]).
    options: Vec<(&'a str, &'a str)>,
}

const KEYS: &[&str] = &[
    "INDEV",
    "IP",
    "MAC",
    "HOSTNAME",
    "SUBNET",
    "GATEWAY",
    "SUBNET6",
    "GATEWAY6",
    "EUI64",
    "IP6",
    "MTU",
    "MACSPOOF",
    "PRIVATE",
    "TAGS",
    delegated::KEY,
    pref64::KEY,
    routes6::KEY,
    routes::KEY,
    v6only::KEY,
    overrides::NAMESERVERS6,
    overrides::NAMESERVERS,
    overrides::NTP,
    overrides::DOMAINS,
    overrides::NTP6,
    boot::NEXT_SERVER,
    boot::TFTP_SERVER,
    boot::BOOTFILE,
    boot::BOOTFILE_EFI,
    boot::BOOTFILE_BIOS,
    boot::BOOTFILE_IPXE,
    boot::BOOTFILE_HTTP,
    boot::BOOTFILE6,
];

impl<'a> Raw<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
    }
}

/// `v` without its surrounding quotes; None when a quote at either end
/// has no partner at the other.
/// The items of a comma-separated list value (`ROUTES`, `ROUTES6`),
/// trimmed, empty ones left out; `Err(n)` when there are `n` > `max`.
fn list_items(v: &str, max: usize) -> Result<Vec<&str>, usize> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() > max {
        return Err(items.len());
    }
    Ok(items)
}

fn unquote(v: &str) -> Option<&str> {
    let quote = |b: Option<&u8>| matches!(b, Some(b'"' | b'\''));
    let b = v.as_bytes();
    match (quote(b.first()), quote(b.last())) {
        (false, false) => Some(v),
        (true, true) if b.len() >= 2 && b[0] == b[b.len() - 1] => Some(&v[1..v.len() - 1]),
        _ => None,
    }
}

fn read_raw<'a>(file: &str, text: &'a str) -> Result<Raw<'a>, BindingError> {
    let mut raw = Raw::default();
    // Every key seen, known or not, with its 1-based line (a map: a 64 KiB
    // file can hold thousands of keys).
    let mut seen: HashMap<&'a str, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t);
        let Some((k, v)) = t.split_once('=') else {
            return Err(BindingError::BadLine {
                file: file.to_string(),
                line: i + 1,
                text: t.to_string(),
            });
        };
        let (k, v) = (k.trim(), v.trim());
        if let Some(&first) = seen.get(k) {
            return Err(BindingError::DuplicateKey {
                file: file.to_string(),
                line: i + 1,
                key: k.to_string(),
                value: v.to_string(),
                first,
            });
        }
        seen.insert(k, i + 1);
        let Some(unquoted) = unquote(v) else {
            return Err(BindingError::UnbalancedQuote {
                file: file.to_string(),
                line: i + 1,
                key: k.to_string(),
                value: v.to_string(),
            });
        };
        if let Some(key) = KEYS.iter().find(|key| **key == k) {
            raw.values.push((key, unquoted.trim()));
        } else if options::is_key(k) && !unquoted.trim().is_empty() {
            raw.options.push((k, unquoted.trim()));
        }
    }
    Ok(raw)
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, key: &'static str, value: &str, reason: Reason) -> BindingError {
        BindingError::Invalid {
            file: self.file.to_string(),
            key,
            value: value.to_string(),
            reason,
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        raw: &Raw<'_>,
        key: &'static str,
        reason: Reason,
    ) -> Result<Option<T>, BindingError> {
        match raw.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| self.bad(key, v, reason)),
        }
    }

    fn flag(&self, raw: &Raw<'_>, key: &'static str) -> Result<bool, BindingError> {
        match raw.get(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) => match v.as_str() {
                "1" | "yes" | "true" | "on" => Ok(true),
                "0" | "no" | "false" | "off" => Ok(false),
                _ => Err(self.bad(key, raw.get(key).unwrap_or_default(), Reason::NotFlag)),
            },
        }
    }
}

/// Parses and validates the text of the binding file of tap `tap`.
/// `ipv6_served`: whether the daemon serves IPv6 (MTU must then be ≥ 1280).
pub fn parse(tap: &str, text: &str, ipv6_served: bool) -> Result<Parsed, BindingError> {
    let c = Ctx { file: tap };
    if !is_valid_ifname(tap) {
        return Err(c.bad("INDEV", tap, Reason::BadIfName));
    }
    if let Some(ch) = text
        .chars()
        .find(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        return Err(c.bad(
            "TAGS",
            &ch.escape_default().to_string(),
            Reason::ControlChars,
        ));
    }
    let raw = read_raw(tap, text)?;
    let mut warnings = Vec::new();
    let mac_text = raw
        .get("MAC")
        .ok_or_else(|| c.bad("MAC", "", Reason::Missing))?;
    let mac: MacAddr = mac_text
        .parse()
        .map_err(|_| c.bad("MAC", mac_text, Reason::NotMac))?;
    let mut b = Binding::new(tap, mac);
    if let Some(indev) = raw.get("INDEV") {
        if !is_valid_ifname(indev) {
            return Err(c.bad("INDEV", indev, Reason::BadIfName));
        }
        b.indev = indev.to_string();
    }
    b.ip = c.parse::<Ipv4Addr>(&raw, "IP", Reason::NotIpv4)?;
    b.subnet = c
        .parse::<Ipv4Net>(&raw, "SUBNET", Reason::NotIpv4Net)?
        .map(|n| n.trunc());
    b.gateway = c.parse::<Ipv4Addr>(&raw, "GATEWAY", Reason::NotIpv4)?;
    validate_ipv4(&c, &raw, &b, &mut warnings)?;
    b.subnet6 = c
        .parse::<Ipv6Net>(&raw, "SUBNET6", Reason::NotIpv6Net)?
        .map(|n| n.trunc());
    b.gateway6 = c.parse::<Ipv6Addr>(&raw, "GATEWAY6", Reason::NotIpv6)?;
    b.eui64 = c.parse::<Ipv6Addr>(&raw, "EUI64", Reason::NotIpv6)?;
    b.ip6 = c.parse::<Ipv6Addr>(&raw, "IP6", Reason::NotIpv6)?;
    validate_ipv6(&c, &raw, &b, &mut warnings)?;
    if let Some(v) = raw.get(delegated::KEY) {
        b.prefix6_delegated = delegated::parse(v, &b, &mut warnings)
            .map_err(|e| c.bad(delegated::KEY, v, Reason::BadDelegation(Box::new(e))))?;
    }
    if let Some(v) = raw.get(pref64::KEY) {
        b.pref64 = Some(
            pref64::parse(v).map_err(|e| c.bad(pref64::KEY, v, Reason::BadPref64(Box::new(e))))?,
        );
    }
    if let Some(v) = raw.get(routes6::KEY) {
        b.routes6 = routes6::parse(v, &b)
            .map_err(|e| c.bad(routes6::KEY, v, Reason::BadRoute(Box::new(e))))?;
    }
    if let Some(v) = raw.get(routes::KEY) {
        b.routes = routes::parse(v, &b)
            .map_err(|e| c.bad(routes::KEY, v, Reason::BadRoutes(Box::new(e))))?;
    }
    if let Some(v) = raw.get(v6only::KEY) {
        let secs = v6only::parse(v).map_err(|e| c.bad(v6only::KEY, v, Reason::BadV6OnlyWait(e)))?;
        b.v6only_wait = Some(secs);
    }
    let bad_override = |key, v, e| c.bad(key, v, Reason::BadOverride(Box::new(e)));
    if let Some(v) = raw.get(overrides::NAMESERVERS6) {
        let servers =
            overrides::parse_addrs(v).map_err(|e| bad_override(overrides::NAMESERVERS6, v, e))?;
        b.nameservers6 = Some(servers);
    }
    if let Some(v) = raw.get(overrides::DOMAINS) {
        let domains =
            overrides::parse_domains(v).map_err(|e| bad_override(overrides::DOMAINS, v, e))?;
        b.domains = Some(domains);
    }
    if let Some(v) = raw.get(overrides::NTP6) {
        let servers = overrides::parse_addrs(v).map_err(|e| bad_override(overrides::NTP6, v, e))?;
        b.ntp6 = Some(servers);
    }
    if let Some(v) = raw.get(overrides::NAMESERVERS) {
        let servers =
            overrides::parse_addrs4(v).map_err(|e| bad_override(overrides::NAMESERVERS, v, e))?;
        b.nameservers = Some(servers);
    }
    if let Some(v) = raw.get(overrides::NTP) {
        let servers = overrides::parse_addrs4(v).map_err(|e| bad_override(overrides::NTP, v, e))?;
        b.ntp = Some(servers);
    }
    b.boot = boot::parse(|k| raw.get(k)).map_err(|(key, e)| {
        c.bad(
            key,
            raw.get(key).unwrap_or_default(),
            Reason::BadBoot(Box::new(e)),
        )
    })?;
    if b.subnet6.is_none() {
        let ra_only = [
            (routes6::KEY, !b.routes6.is_empty()),
            (pref64::KEY, b.pref64.is_some()),
        ];
        for (key, _) in ra_only.iter().filter(|(_, set)| *set) {
            warnings.push(Warning(format!(
                "{tap}: {key} set without SUBNET6: this VM gets no RA to carry it"
            )));
        }
    }
    if let Some(v) = raw.get("MTU") {
        let min = if ipv6_served && b.subnet6.is_some() {
            1280
        } else {
            68
        };
        let mtu: u16 = v
            .parse()
            .map_err(|_| c.bad("MTU", v, Reason::BadMtu(min)))?;
        if mtu < min {
            return Err(c.bad("MTU", v, Reason::BadMtu(min)));
        }
        b.mtu = Some(mtu);
    }
    if let Some(h) = raw.get("HOSTNAME") {
        let h = h.trim_end_matches('.');
        validate_dns_name(h).map_err(|e| c.bad("HOSTNAME", h, Reason::BadHostname(e)))?;
        b.hostname = Some(h.to_string());
    }
    b.options = options::parse(tap, &raw.options)?;
    b.macspoof = c.flag(&raw, "MACSPOOF")?;
    b.private = c.flag(&raw, "PRIVATE")?;
    b.tags = raw
        .get("TAGS")
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Parsed {
        binding: b,
        warnings,
    })
}

fn validate_ipv4(
    c: &Ctx<'_>,
    raw: &Raw<'_>,
    b: &Binding,
    warnings: &mut Vec<Warning>,
) -> Result<(), BindingError> {
    let text = |k| raw.get(k).unwrap_or_default();
    if let Some(ip) = b.ip {
        if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || ip.is_loopback() {
            return Err(c.bad("IP", text("IP"), Reason::NotHost));
        }
        if let Some(net) = b.subnet {
            if !net.contains(&ip) {
                return Err(c.bad("IP", text("IP"), Reason::OutsideSubnet(net)));
            }
            if net.prefix_len() < 31 && (ip == net.network() || ip == net.broadcast()) {
                return Err(c.bad("IP", text("IP"), Reason::NotHost));
            }
        }
    }
    if let Some(gw) = b.gateway {
        if gw.is_unspecified()
            || gw.is_multicast()
            || gw.is_broadcast()
            || gw.is_loopback()
            || Some(gw) == b.ip
        {
            return Err(c.bad("GATEWAY", text("GATEWAY"), Reason::NotHost));
        }
        match b.subnet {
            Some(net)
                if net.prefix_len() < 31 && (gw == net.network() || gw == net.broadcast()) =>
            {
                return Err(c.bad("GATEWAY", text("GATEWAY"), Reason::NotHost));
            }
            Some(net) if !net.contains(&gw) => warnings.push(Warning(format!(
                "{}: GATEWAY={gw} is outside SUBNET {net}: guests get an on-link route to it",
                c.file
            ))),
            _ => {}
        }
    }
    if b.ip.is_some() && b.subnet.is_none() {
        warnings.push(Warning(format!(
            "{}: IP set without SUBNET: no DHCPv4 mask can be given",
            c.file
        )));
    }
    Ok(())
}

fn validate_ipv6(
    c: &Ctx<'_>,
    raw: &Raw<'_>,
    b: &Binding,
    warnings: &mut Vec<Warning>,
) -> Result<(), BindingError> {
    let text = |k| raw.get(k).unwrap_or_default();
    if let Some(net) = b.subnet6 {
        if net.prefix_len() == 0 || net.addr().is_multicast() {
            return Err(c.bad("SUBNET6", text("SUBNET6"), Reason::BadPrefixLen));
        }
        if net.prefix_len() != 64 {
            warnings.push(Warning(format!(
                "{}: SUBNET6 {net} is not a /64: guests cannot autoconfigure (SLAAC) from it",
                c.file
            )));
        }
        if let Some(eui) = b.eui64 {
            let want = b.mac.eui64_address(net.network());
            if eui != want {
                warnings.push(Warning(format!(
                    "{}: EUI64={eui} is not the EUI-64 address of MAC {} in {net} ({want})",
                    c.file, b.mac
                )));
            }
        }
    }
    for (key, addr) in [("GATEWAY6", b.gateway6), ("EUI64", b.eui64), ("IP6", b.ip6)] {
        let Some(a) = addr else { continue };
        if a.is_unspecified() || a.is_multicast() || a.is_loopback() {
            return Err(c.bad(key, text(key), Reason::NotHost));
        }
    }
    if let (Some(net), Some(ip6)) = (b.subnet6, b.ip6) {
        if !net.contains(&ip6) {
            warnings.push(Warning(format!(
                "{}: IP6={ip6} is outside SUBNET6 {net}",
                c.file
            )));
        }
    }
    Ok(())
}

pub mod delegated;
pub mod options;
pub mod overrides;
// The values a binding file shares with the config, by their earlier
// paths (`binding::file::boot`, …).
pub use crate::value::{boot, pref64, v6only};
pub mod routes;
pub mod routes6;
#[cfg(test)]
mod tests;
