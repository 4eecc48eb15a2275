//! `PREF64`: the NAT64 prefix announced to the VM in its RAs (RFC 8781),
//! e.g. `PREF64=64:ff9b::/96`; it overrides the config's `[ipv6] pref64`
//! for that VM, and `PREF64=none` announces none to it. An empty value
//! means unset (the config's, as for every key).
//!
//! A NAT64 prefix ([`Pref64`]) is written as its network (host bits zero),
//! of one of the lengths RFC 8781 §4 can encode ([`Pref64::LENGTHS`]), a
//! /96 with bits 64 to 71 zero (RFC 6052 §2.2), and is not multicast,
//! link-local, loopback or `::`. The config's `pref64` is checked by the
//! same [`parse_prefix`].

use ipnet::Ipv6Net;

use super::not_global;

/// The binding key.
pub const KEY: &str = "PREF64";
/// The value that announces no PREF64 to the VM.
pub const NONE: &str = "none";

/// A NAT64 prefix an RA can carry (RFC 8781 §4), checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pref64(Ipv6Net);

/// Why a NAT64 prefix is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pref64Error {
    /// Not `x::/len`.
    #[error("{0:?} is not an IPv6 prefix (x::/len)")]
    NotPrefix(String),
    /// A length the Prefix Length Code cannot say.
    #[error("{0}: a NAT64 prefix is a /96, /64, /56, /48, /40 or /32 (RFC 8781 §4)")]
    BadLength(Ipv6Net),
    /// Bits set past the prefix length.
    #[error("{given} has host bits set (its network is {network})")]
    HostBitsSet {
        /// As written.
        given: Ipv6Net,
        /// What was probably meant.
        network: Ipv6Net,
    },
    /// A /96 whose bits 64 to 71 are not zero.
    #[error("{0}: bits 64 to 71 of a /96 NAT64 prefix must be zero (RFC 6052 §2.2)")]
    ReservedBitsSet(Ipv6Net),
    /// Multicast, link-local, loopback or `::`.
    #[error("{0} is not a global or unique-local prefix")]
    NotGlobal(Ipv6Net),
}

impl Pref64 {
    /// The prefix lengths a PREF64 option carries, indexed by their Prefix
    /// Length Code. RFC 8781 §4: "The PLC field values 0, 1, 2, 3, 4, and 5
    /// indicate the NAT64 prefix length of 96, 64, 56, 48, 40, and 32 bits,
    /// respectively."
    pub const LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

    /// Checks `net` (see the module documentation).
    pub fn new(net: Ipv6Net) -> Result<Pref64, Pref64Error> {
        if !Self::LENGTHS.contains(&net.prefix_len()) {
            return Err(Pref64Error::BadLength(net));
        }
        if net.trunc() != net {
            return Err(Pref64Error::HostBitsSet {
                given: net,
                network: net.trunc(),
            });
        }
        // RFC 6052 §2.2: "When using a /96 Network-Specific Prefix, the
        // administrators MUST ensure that the bits 64 to 71 are set to zero."
        if net.network().octets()[8] != 0 {
            return Err(Pref64Error::ReservedBitsSet(net));
        }
        if not_global(net.network()) {
            return Err(Pref64Error::NotGlobal(net));
        }
        Ok(Pref64(net))
    }

    /// The prefix.
    pub fn prefix(&self) -> Ipv6Net {
        self.0
    }

    /// Its Prefix Length Code (RFC 8781 §4).
    pub fn plc(&self) -> u8 {
        let at = Self::LENGTHS
            .iter()
            .position(|l| *l == self.0.prefix_len())
            .expect("Pref64::new admits only the lengths of LENGTHS");
        u8::try_from(at).expect("LENGTHS has 6 entries")
    }
}

impl std::fmt::Display for Pref64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses a NAT64 prefix written `x::/len` (the config's and a binding's).
pub fn parse_prefix(text: &str) -> Result<Pref64, Pref64Error> {
    let net: Ipv6Net = text
        .trim()
        .parse()
        .map_err(|_| Pref64Error::NotPrefix(text.to_string()))?;
    Pref64::new(net)
}

/// Parses a binding's `PREF64` value: `Some(prefix)`, or `None` for [`NONE`].
pub fn parse(v: &str) -> Result<Option<Pref64>, Pref64Error> {
    if v.eq_ignore_ascii_case(NONE) {
        return Ok(None);
    }
    parse_prefix(v).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_of_the_plc_table_and_no_other() {
        for (plc, len) in Pref64::LENGTHS.iter().enumerate() {
            let p = parse_prefix(&format!("2001:db8::/{len}")).unwrap();
            assert_eq!((p.plc(), p.prefix().prefix_len()), (plc as u8, *len));
        }
        for len in [0, 16, 33, 63, 80, 95, 97, 128] {
            assert!(
                matches!(
                    parse_prefix(&format!("2001:db8::/{len}")),
                    Err(Pref64Error::BadLength(_))
                ),
                "/{len}"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            parse_prefix("2001:db8:64::1/96").unwrap_err().to_string(),
            "2001:db8:64::1/96 has host bits set (its network is 2001:db8:64::/96)"
        );
        assert_eq!(
            parse_prefix("2001:db8:64:0:ff00::/96")
                .unwrap_err()
                .to_string(),
            "2001:db8:64:0:ff00::/96: bits 64 to 71 of a /96 NAT64 prefix must be zero (RFC 6052 §2.2)"
        );
        assert!(matches!(
            parse_prefix("fe80::/64"),
            Err(Pref64Error::NotGlobal(_))
        ));
        assert!(matches!(
            parse_prefix("::/96"),
            Err(Pref64Error::NotGlobal(_))
        ));
        assert!(matches!(
            parse_prefix("64:ff9b::"),
            Err(Pref64Error::NotPrefix(_))
        ));
        assert_eq!(
            parse_prefix("2001:db8::/80").unwrap_err().to_string(),
            "2001:db8::/80: a NAT64 prefix is a /96, /64, /56, /48, /40 or /32 (RFC 8781 §4)"
        );
    }

    #[test]
    fn the_well_known_prefix_and_none() {
        assert_eq!(
            parse("64:ff9b::/96").unwrap().map(|p| p.to_string()),
            Some("64:ff9b::/96".into())
        );
        assert_eq!(parse("None"), Ok(None));
    }
}
