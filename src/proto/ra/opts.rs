//! The RA options beyond RFC 4861's own: Route Information (RFC 4191
//! §2.3) and PREF64 (RFC 8781).

use ipnet::Ipv6Net;

use crate::config::RouterPreference;
use crate::value::pref64::Pref64;

use super::ndp::OPT_UNIT;
use super::{prf_bits, RA_PRF_SHIFT};

/// ND option type: Route Information (RFC 4191 §2.3).
pub const OPT_ROUTE_INFO: u8 = 24;
/// Type, Length, Prefix Length, flags and Route Lifetime of a Route
/// Information option: the part before the prefix (RFC 4191 §2.3).
pub const ROUTE_INFO_HDR_LEN: usize = 8;
/// Longest prefix a Route Information option of 2 units carries whole.
const HALF_PREFIX_BITS: u8 = 64;

/// ND option type: PREF64 (RFC 8781 §4).
pub const OPT_PREF64: u8 = 38;
/// Length of a PREF64 option (RFC 8781 §4: Length 2).
pub const PREF64_OPT_LEN: usize = 16;
/// Bytes of the prefix a PREF64 option carries (RFC 8781 §4: "Highest
/// 96 bits of the Prefix").
pub const PREF64_PREFIX_BYTES: usize = 12;
/// Width of the Prefix Length Code, under the Scaled Lifetime (RFC 8781 §4).
pub const PLC_BITS: u32 = 3;
/// RFC 8781 §4: the Scaled Lifetime counts "units of 8 seconds".
pub const PREF64_LIFETIME_UNIT: u32 = 1 << PLC_BITS;
/// RFC 8781 §4.1: the longest lifetime 13 bits of 8-second units say.
pub const PREF64_MAX_LIFETIME: u16 = 65528;

/// A PREF64 option (RFC 8781 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pref64Info {
    /// The NAT64 prefix.
    pub prefix: Pref64,
    /// Lifetime, seconds: a multiple of 8, at most [`PREF64_MAX_LIFETIME`].
    pub lifetime: u16,
}

/// A Route Information option (RFC 4191 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// The destination prefix (host bits zero).
    pub prefix: Ipv6Net,
    /// Route Preference.
    pub preference: RouterPreference,
    /// Route Lifetime, seconds (finite).
    pub lifetime: u32,
}

impl RouteInfo {
    /// The option's length in units. RFC 4191 §2.3: "The Length field is
    /// 1, 2, or 3 depending on the Prefix Length. If Prefix Length is
    /// greater than 64, then Length must be 3. If Prefix Length is greater
    /// than 0, then Length must be 2 or 3." The shortest is sent.
    pub fn units(&self) -> usize {
        match self.prefix.prefix_len() {
            0 => 1,
            1..=HALF_PREFIX_BITS => 2,
            _ => 3,
        }
    }

    /// Appends the option.
    pub fn emit(&self, m: &mut Vec<u8>) {
        let units = self.units();
        m.extend_from_slice(&[
            OPT_ROUTE_INFO,
            units as u8,
            self.prefix.prefix_len(),
            // Resvd (3 bits), Prf (2 bits), Resvd (3 bits): Prf sits where
            // it does in the RA header, and is never the reserved 10.
            prf_bits(self.preference) << RA_PRF_SHIFT,
        ]);
        m.extend_from_slice(&self.lifetime.to_be_bytes());
        // RFC 4191 §2.3: "The bits in the prefix after the prefix length
        // (if any) are reserved and MUST be initialized to zero by the
        // sender": the network's bits, as many bytes as the length holds.
        let bytes = units * OPT_UNIT - ROUTE_INFO_HDR_LEN;
        m.extend_from_slice(&self.prefix.trunc().network().octets()[..bytes]);
    }
}

/// The PREF64 lifetime for `seconds`, as RFC 8781 §4.1 says to encode a
/// lifetime that is not a multiple of 8: "round the provided value up to
/// the nearest integer that is divisible by 8 and smaller than 65536"; a
/// nonzero value under 8 becomes 8 (a Scaled Lifetime of 1). Capped at
/// [`PREF64_MAX_LIFETIME`].
pub fn pref64_lifetime(seconds: u32) -> u16 {
    let capped = seconds.min(PREF64_MAX_LIFETIME.into());
    let rounded = capped.div_ceil(PREF64_LIFETIME_UNIT) * PREF64_LIFETIME_UNIT;
    u16::try_from(rounded).expect("capped at 65528, a multiple of 8")
}

/// Appends the PREF64 option for `p`.
pub fn emit_pref64(p: &Pref64Info, m: &mut Vec<u8>) {
    // RFC 8781 §4: Scaled Lifetime (13 bits) then PLC (3 bits). The
    // lifetime is a multiple of 8, so its scaled value shifted back into
    // place is the lifetime itself.
    let scaled = u32::from(p.lifetime) / PREF64_LIFETIME_UNIT;
    let field = u16::try_from(scaled << PLC_BITS | u32::from(p.prefix.plc()))
        .expect("a lifetime of at most 65528 s scales to 13 bits");
    m.extend_from_slice(&[OPT_PREF64, (PREF64_OPT_LEN / OPT_UNIT) as u8]);
    m.extend_from_slice(&field.to_be_bytes());
    // Pref64 admits no bit past its length, so the 96 bits sent are the
    // prefix with the rest zero.
    m.extend_from_slice(&p.prefix.prefix().network().octets()[..PREF64_PREFIX_BYTES]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::pref64::parse_prefix;

    fn route(prefix: &str, preference: RouterPreference, lifetime: u32) -> Vec<u8> {
        let mut m = Vec::new();
        let r = RouteInfo {
            prefix: prefix.parse().unwrap(),
            preference,
            lifetime,
        };
        r.emit(&mut m);
        assert_eq!(m.len(), r.units() * OPT_UNIT);
        m
    }

    #[test]
    fn route_info_golden_bytes_one_two_and_three_units() {
        use RouterPreference::*;
        // ::/0: Length 1, no prefix bytes; medium is 00.
        assert_eq!(
            route("::/0", Medium, 1800),
            [24, 1, 0, 0x00, 0, 0, 0x07, 0x08]
        );
        // /48, high (01): Length 2, 8 prefix bytes.
        assert_eq!(
            route("2001:db8:100::/48", High, 1800),
            [24, 2, 48, 0x08, 0, 0, 0x07, 0x08, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0]
        );
        // /64 still fits 2 units; low is 11.
        assert_eq!(
            route("2001:db8:200:1::/64", Low, 9000),
            [24, 2, 64, 0x18, 0, 0, 0x23, 0x28, 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x00, 0, 1]
        );
        // /65 needs 3; lifetime 0 withdraws it.
        let mut want = vec![24, 3, 65, 0x00, 0, 0, 0, 0];
        want.extend_from_slice(
            &"2001:db8:300:1:8000::"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        assert_eq!(route("2001:db8:300:1:8000::/65", Medium, 0), want);
        // A /128 host route.
        assert_eq!(
            route("2001:db8::1/128", High, 1)[..8],
            [24, 3, 128, 0x08, 0, 0, 0, 1]
        );
    }

    fn emitted(prefix: &str, lifetime: u16) -> Vec<u8> {
        let mut m = Vec::new();
        let prefix = parse_prefix(prefix).unwrap();
        emit_pref64(&Pref64Info { prefix, lifetime }, &mut m);
        assert_eq!(m.len(), PREF64_OPT_LEN);
        m
    }

    #[test]
    fn pref64_golden_bytes_for_every_plc() {
        // The well-known prefix, 1800 s: Scaled Lifetime 225, PLC 0.
        assert_eq!(
            emitted("64:ff9b::/96", 1800),
            [38, 2, 0x07, 0x08, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        // 2001:db8:122:344::/64 … /32: PLC 1 … 5, in the low 3 bits.
        let db8 = [0x20, 0x01, 0x0d, 0xb8];
        for (prefix, plc, tail) in [
            ("2001:db8:122:344::/64", 1, [0x01, 0x22, 0x03, 0x44]),
            ("2001:db8:122:300::/56", 2, [0x01, 0x22, 0x03, 0x00]),
            ("2001:db8:122::/48", 3, [0x01, 0x22, 0, 0]),
            ("2001:db8:100::/40", 4, [0x01, 0, 0, 0]),
            ("2001:db8::/32", 5, [0, 0, 0, 0]),
        ] {
            let mut want = vec![38, 2, 0x00, 0x60 | plc];
            want.extend_from_slice(&db8);
            want.extend_from_slice(&tail);
            want.extend_from_slice(&[0; 4]);
            assert_eq!(emitted(prefix, 96), want, "{prefix}");
        }
        // The longest lifetime: Scaled Lifetime 8191, all 13 bits.
        assert_eq!(emitted("64:ff9b::/96", 65528)[2..4], [0xff, 0xf8]);
    }

    #[test]
    fn pref64_lifetimes_round_up_to_8_and_cap_at_65528() {
        for (seconds, want) in [
            (0, 0),
            (1, 8),
            (8, 8),
            (900, 904),
            (1800, 1800),
            (5401, 5408),
            (65527, 65528),
            (65536, 65528),
            (u32::MAX, 65528),
        ] {
            assert_eq!(pref64_lifetime(seconds), want, "{seconds}");
        }
    }
}
