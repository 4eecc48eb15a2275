//! `PREFIX6_DELEGATED`: the IPv6 prefixes delegated to the VM by DHCPv6
//! (IA_PD, RFC 8415 §6.3), e.g. `PREFIX6_DELEGATED=2001:db8:100::/56`.
//!
//! One or more prefixes, separated by commas and/or spaces, at most
//! [`MAX_PREFIXES`]. Each must be written as its network (host bits zero:
//! a typo such as `/48` for `/56` is refused rather than rounded), of
//! length [`MIN_LEN`]..=128 (shorter is a typo, not a delegation; longer
//! than /64 is warned: the VM cannot autoconfigure a LAN from it), a
//! global or unique-local prefix (not multicast, link-local, loopback or
//! `::`), and overlap neither another of the list nor the VM's own
//! `SUBNET6`, `GATEWAY6`, `EUI64` or `IP6`. Overlaps with other bindings
//! are not this file's to know: see [`crate::binding::overlap`].

use ipnet::Ipv6Net;

use super::Warning;
use crate::binding::Binding;
use crate::value::not_global;

/// The binding key.
pub const KEY: &str = "PREFIX6_DELEGATED";
/// Most prefixes one binding delegates (a reply carries them all in one
/// IA_PD and must still fit 1280 bytes; see `proto::dhcpv6`).
pub const MAX_PREFIXES: usize = 8;
/// Shortest prefix length accepted.
pub const MIN_LEN: u8 = 16;
/// Longest prefix length from which the VM can still number a LAN by SLAAC.
const SLAAC_LEN: u8 = 64;

/// Why a `PREFIX6_DELEGATED` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    /// An item is not `x::/len`.
    #[error("{0:?} is not an IPv6 prefix (x::/len)")]
    NotPrefix(String),
    /// Bits set past the prefix length.
    #[error("{given} has host bits set (its network is {network})")]
    HostBitsSet {
        /// As written.
        given: Ipv6Net,
        /// What was probably meant.
        network: Ipv6Net,
    },
    /// Length under [`MIN_LEN`].
    #[error("{0}: a delegated prefix is /{MIN_LEN} to /128")]
    BadLength(Ipv6Net),
    /// Multicast, link-local, loopback or the unspecified address.
    #[error("{0} is not a global or unique-local prefix")]
    NotGlobal(Ipv6Net),
    /// More than [`MAX_PREFIXES`].
    #[error("{0} prefixes: at most {MAX_PREFIXES}")]
    TooMany(usize),
    /// Overlaps one of the VM's own prefixes or addresses, or another
    /// delegated prefix of the list.
    #[error("{prefix} overlaps {key} {with}")]
    Overlaps {
        /// The delegated prefix.
        prefix: Ipv6Net,
        /// The key it overlaps.
        key: &'static str,
        /// That key's value.
        with: String,
    },
}

/// True when `a` and `b` share an address.
pub fn overlap(a: &Ipv6Net, b: &Ipv6Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// Parses and checks the value `v` of `b`'s `PREFIX6_DELEGATED` against
/// the rest of `b`.
pub fn parse(
    v: &str,
    b: &Binding,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Ipv6Net>, DelegationError> {
    let items: Vec<&str> = v
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() > MAX_PREFIXES {
        return Err(DelegationError::TooMany(items.len()));
    }
    let mut out: Vec<Ipv6Net> = Vec::with_capacity(items.len());
    for item in items {
        let p: Ipv6Net = item
            .parse()
            .map_err(|_| DelegationError::NotPrefix(item.to_string()))?;
        if p.trunc() != p {
            return Err(DelegationError::HostBitsSet {
                given: p,
                network: p.trunc(),
            });
        }
        if p.prefix_len() < MIN_LEN {
            return Err(DelegationError::BadLength(p));
        }
        if not_global(p.network()) {
            return Err(DelegationError::NotGlobal(p));
        }
        let own = [("SUBNET6", b.subnet6)]
            .into_iter()
            .chain(
                [("GATEWAY6", b.gateway6), ("EUI64", b.eui64), ("IP6", b.ip6)]
                    .map(|(k, a)| (k, a.map(Ipv6Net::from))),
            )
            .chain(out.iter().map(|o| (KEY, Some(*o))));
        for (key, with) in own {
            if let Some(with) = with.filter(|w| overlap(&p, w)) {
                let with = if with.prefix_len() == 128 {
                    with.addr().to_string()
                } else {
                    with.to_string()
                };
                return Err(DelegationError::Overlaps {
                    prefix: p,
                    key,
                    with,
                });
            }
        }
        if p.prefix_len() > SLAAC_LEN {
            warnings.push(Warning(format!(
                "{}: {KEY} {p} is longer than /{SLAAC_LEN}: the VM cannot number a LAN from it by SLAAC",
                b.tap
            )));
        }
        out.push(p);
    }
    Ok(out)
}
