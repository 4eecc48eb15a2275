//! Typed values that an operator writes both in a binding file and in the
//! config (as a per-VM value and its config-wide default): raw DHCP
//! options, the network boot keys, the NAT64 prefix and the IPv6-only
//! wait. Each is parsed and checked here, once, into the type that
//! `config` and `binding` both hold, with one error type that each wraps
//! with its own file, line and key. Below `config` and `binding`; imports
//! only `domain`.

use std::net::Ipv6Addr;

pub mod boot;
pub mod options;
pub mod pref64;
pub mod v6only;

/// fe80::/10 (RFC 4291 §2.5.6).
fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// Multicast, link-local, loopback or `::`: never a prefix to announce.
pub fn not_global(a: Ipv6Addr) -> bool {
    a.is_unspecified() || a.is_loopback() || a.is_multicast() || is_link_local(a)
}
