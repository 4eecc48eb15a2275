//! Per-VM values that replace the config's for that VM:
//!
//! - `NAMESERVERS6`: DNS servers (DHCPv6 option 23, RA RDNSS), instead of
//!   `[ipv6] nameservers`;
//! - `DOMAINS`: the search list (DHCPv6 option 24, RA DNSSL), instead of
//!   `[ipv6] domains` (parsed here for every protocol that may use it);
//! - `NTP6`: NTP servers (DHCPv6 option 56, RFC 5908), instead of
//!   `[ipv6] ntp`;
//! - `NAMESERVERS`: DNS servers (DHCPv4 option 6), instead of
//!   `[dhcp] nameservers`;
//! - `NTP`: NTP servers (DHCPv4 option 42), instead of `[dhcp] ntp`.
//!
//! `DOMAINS` is the DHCPv4 search list (option 119) too.
//!
//! Each is a comma- and/or space-separated list of at most [`MAX_ITEMS`];
//! `none` gives the VM none, even when the config has some; an empty value
//! is unset (the config's). Addresses are unicast (not multicast,
//! loopback or `::`); names are host-name syntax (RFC 1123), a trailing
//! dot dropped, as the config's `domains`.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{validate_dns_name, NameError};

/// The key of the VM's DNS servers.
pub const NAMESERVERS6: &str = "NAMESERVERS6";
/// The key of the VM's search list.
pub const DOMAINS: &str = "DOMAINS";
/// The key of the VM's NTP servers.
pub const NTP6: &str = "NTP6";
/// The key of the VM's IPv4 DNS servers.
pub const NAMESERVERS: &str = "NAMESERVERS";
/// The key of the VM's IPv4 NTP servers.
pub const NTP: &str = "NTP";
/// The value that gives the VM none.
pub const NONE: &str = "none";
/// Most items of one list (a reply holds them all, well within 1280 bytes).
pub const MAX_ITEMS: usize = 8;

/// Why an override's value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// An item that is not an IPv6 address.
    #[error("{0:?} is not an IPv6 address")]
    NotIpv6(String),
    /// Multicast, loopback or `::`.
    #[error("{0} is not a unicast address")]
    NotUnicast(Ipv6Addr),
    /// An item that is not an IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    NotIpv4(String),
    /// Multicast, broadcast, loopback or `0.0.0.0`.
    #[error("{0} is not a unicast address")]
    NotUnicast4(Ipv4Addr),
    /// A name that is not a host name.
    #[error("{name:?} is not a valid domain name: {error}")]
    BadDomain {
        /// As written.
        name: String,
        /// Why.
        error: NameError,
    },
    /// More than [`MAX_ITEMS`].
    #[error("{0} items: at most {MAX_ITEMS}")]
    TooMany(usize),
}

/// The items of `v`, or `Some(empty)` for [`NONE`].
fn items(v: &str) -> Result<Vec<&str>, OverrideError> {
    if v.eq_ignore_ascii_case(NONE) {
        return Ok(Vec::new());
    }
    let items: Vec<&str> = v
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() > MAX_ITEMS {
        return Err(OverrideError::TooMany(items.len()));
    }
    Ok(items)
}

/// Parses `NAMESERVERS6` or `NTP6`.
pub fn parse_addrs(v: &str) -> Result<Vec<Ipv6Addr>, OverrideError> {
    items(v)?
        .into_iter()
        .map(|item| {
            let a: Ipv6Addr = item
                .parse()
                .map_err(|_| OverrideError::NotIpv6(item.to_string()))?;
            if a.is_unspecified() || a.is_loopback() || a.is_multicast() {
                return Err(OverrideError::NotUnicast(a));
            }
            Ok(a)
        })
        .collect()
}

/// Parses `NAMESERVERS` or `NTP`.
pub fn parse_addrs4(v: &str) -> Result<Vec<Ipv4Addr>, OverrideError> {
    items(v)?
        .into_iter()
        .map(|item| {
            let a: Ipv4Addr = item
                .parse()
                .map_err(|_| OverrideError::NotIpv4(item.to_string()))?;
            if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
                return Err(OverrideError::NotUnicast4(a));
            }
            Ok(a)
        })
        .collect()
}

/// Parses `DOMAINS`.
pub fn parse_domains(v: &str) -> Result<Vec<String>, OverrideError> {
    items(v)?
        .into_iter()
        .map(|item| {
            let name = item.strip_suffix('.').unwrap_or(item);
            validate_dns_name(name).map_err(|error| OverrideError::BadDomain {
                name: item.to_string(),
                error,
            })?;
            Ok(name.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_lists_none_and_refusals() {
        assert_eq!(
            parse_addrs4("192.0.2.53, 198.51.100.53").unwrap(),
            [
                "192.0.2.53".parse::<Ipv4Addr>().unwrap(),
                "198.51.100.53".parse().unwrap()
            ]
        );
        assert_eq!(parse_addrs4("none").unwrap(), Vec::<Ipv4Addr>::new());
        assert_eq!(
            parse_addrs4("192.0.2.300"),
            Err(OverrideError::NotIpv4("192.0.2.300".into()))
        );
        for bad in ["0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255"] {
            assert!(
                matches!(parse_addrs4(bad), Err(OverrideError::NotUnicast4(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn lists_none_and_refusals() {
        assert_eq!(
            parse_addrs("2001:db8:53::1, 2001:db8:53::2 fe80::53").unwrap(),
            [
                "2001:db8:53::1".parse::<Ipv6Addr>().unwrap(),
                "2001:db8:53::2".parse().unwrap(),
                "fe80::53".parse().unwrap(),
            ]
        );
        assert_eq!(parse_addrs("NONE"), Ok(Vec::new()));
        assert_eq!(
            parse_domains("vm1.example.org. example.org").unwrap(),
            ["vm1.example.org", "example.org"]
        );
        assert_eq!(parse_domains("none"), Ok(Vec::new()));
        let e = |r: Result<Vec<Ipv6Addr>, OverrideError>| r.unwrap_err().to_string();
        assert_eq!(
            e(parse_addrs("192.0.2.53")),
            "\"192.0.2.53\" is not an IPv6 address"
        );
        assert_eq!(
            e(parse_addrs("ff02::101")),
            "ff02::101 is not a unicast address"
        );
        assert_eq!(e(parse_addrs("::")), ":: is not a unicast address");
        assert_eq!(
            e(parse_addrs(&["2001:db8::1"; 9].join(","))),
            "9 items: at most 8"
        );
        assert_eq!(
            parse_domains("ok.example, bad_name.example")
                .unwrap_err()
                .to_string(),
            "\"bad_name.example\" is not a valid domain name: character '_' not allowed"
        );
    }
}
