//! Ethernet MAC addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet (EUI-48) address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

/// Why a text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a MAC address (want six hex octets separated by ':' or '-')")]
pub struct BadMac;

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Builds from the first six bytes of `b`, if there are six.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        b.get(..6).map(|s| {
            let mut m = [0u8; 6];
            m.copy_from_slice(s);
            MacAddr(m)
        })
    }

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// True for a group (multicast or broadcast) address.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// The modified EUI-64 interface identifier (RFC 4291 §2.5.1, appendix A).
    pub fn eui64_interface_id(&self) -> [u8; 8] {
        let m = self.0;
        [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }

    /// The IPv6 address `prefix` (upper 64 bits) + modified EUI-64 of this MAC.
    pub fn eui64_address(&self, prefix: std::net::Ipv6Addr) -> std::net::Ipv6Addr {
        let mut o = prefix.octets();
        o[8..].copy_from_slice(&self.eui64_interface_id());
        std::net::Ipv6Addr::from(o)
    }

    /// The link-local address fe80::/64 + modified EUI-64 of this MAC.
    pub fn link_local(&self) -> std::net::Ipv6Addr {
        self.eui64_address(std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0))
    }
}

impl FromStr for MacAddr {
    type Err = BadMac;

    /// Case-insensitive; ':' or '-' separated.
    fn from_str(s: &str) -> Result<Self, BadMac> {
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split([':', '-']) {
            if n == 6 || part.is_empty() || part.len() > 2 {
                return Err(BadMac);
            }
            out[n] = u8::from_str_radix(part, 16).map_err(|_| BadMac)?;
            n += 1;
        }
        if n != 6 {
            return Err(BadMac);
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        let a: MacAddr = "AA:00:00:00:00:20".parse().unwrap();
        let b: MacAddr = "aa-00-00-00-00-20".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "aa:00:00:00:00:20");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "aa:00:00:00:00",
            "aa:00:00:00:00:00:00",
            "zz:00:00:00:00:00",
            "aaa:0:0:0:0:0",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(BadMac), "{bad}");
        }
    }

    #[test]
    fn eui64_matches_compat_fixture() {
        // ../shared/compat/bindings/tap-routed: MAC aa:00:00:00:00:10, EUI64 2001:db8:1::a800:ff:fe00:10
        let m: MacAddr = "aa:00:00:00:00:10".parse().unwrap();
        let a = m.eui64_address("2001:db8:1::".parse().unwrap());
        assert_eq!(
            a,
            "2001:db8:1::a800:ff:fe00:10"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
        );
        assert_eq!(
            m.link_local(),
            "fe80::a800:ff:fe00:10"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
        );
    }
}
