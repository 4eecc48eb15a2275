//! Per-VM values that replace the config's for that VM:
//!
//! - `NAMESERVERS6`: DNS servers (DHCPv6 option 23, RA RDNSS), instead of
//!   `[ipv6] nameservers`;
//! - `DOMAINS`: the search list (DHCPv6 option 24, RA DNSSL), instead of
//!   `[ipv6] domains` (parsed here for every protocol that may use it);
//! - `NTP6`: NTP servers (DHCPv6 option 56, RFC 5908), instead of
//!   `[ipv6] ntp`.
//!
//! Each is a comma- and/or space-separated list of at most [`MAX_ITEMS`];
//! `none` gives the VM none, even when the config has some; an empty value
//! is unset (the config's). Addresses are unicast (not multicast,
//! loopback or `::`); names are host-name syntax (RFC 1123), a trailing
//! dot dropped, as the config's `domains`.

use std::net::Ipv6Addr;

use super::{validate_dns_name, NameError};

/// The key of the VM's DNS servers.
pub const NAMESERVERS6: &str = "NAMESERVERS6";
/// The key of the VM's search list.
pub const DOMAINS: &str = "DOMAINS";
/// The key of the VM's NTP servers.
pub const NTP6: &str = "NTP6";
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
