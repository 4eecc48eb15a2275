//! The RA options beyond RFC 4861's own: PREF64 (RFC 8781).

use crate::binding::file::pref64::Pref64;

use super::ndp::OPT_UNIT;

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
    use crate::binding::file::pref64::parse_prefix;

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
