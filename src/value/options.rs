//! Arbitrary DHCP options: `OPTION_<code>=<value>` (DHCPv4) and
//! `OPTION6_<code>=<value>` (DHCPv6), in a binding file or in the config's
//! `[options]` section (the defaults every binding gets unless it gives
//! the same code itself).
//!
//! A value is typed, so that an operator can write it by hand:
//!
//! | value | bytes on the wire |
//! |---|---|
//! | `ip:192.0.2.1,192.0.2.2` | IPv4 addresses, 4 bytes each (comma or space separated) |
//! | `ip6:2001:db8::1 2001:db8::2` | IPv6 addresses, 16 bytes each (space or comma separated) |
//! | `string:any text` | the text's bytes (UTF-8), everything after the colon |
//! | `u8:7`, `u16:1500`, `u32:86400` | the number, big-endian (network order) |
//! | `0x01020a`, `0x01:02:0a` | the bytes written in hex |
//! | `none` | not sent (in a binding: drops the config's default) |
//!
//! A leading `always ` sends the option to a client that did not ask for
//! it; without it the option is sent only to a client whose parameter
//! request list (DHCPv4 option 55) or Option Request option (DHCPv6
//! option 6) names it, as Kea does without `always-send` and dnsmasq
//! without `dhcp-option-force`.
//!
//! Codes nfdhcpd sets or reads itself are refused, with the key that sets
//! them where there is one: a raw option must not contradict the
//! protocol's own fields.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Prefix of a DHCPv4 option key.
pub const PREFIX4: &str = "OPTION_";
/// Prefix of a DHCPv6 option key.
pub const PREFIX6: &str = "OPTION6_";
/// Most options of one family in one binding file, and in the config.
pub const MAX_PER_SOURCE: usize = 16;
/// Most bytes of one value (a DHCPv4 value over 255 bytes is split over
/// several options, RFC 3396).
pub const MAX_VALUE_LEN: usize = 1024;
/// The word that sends an option unasked.
const ALWAYS: &str = "always";
/// The value that sends nothing.
const NONE: &str = "none";

/// Which protocol an option belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// DHCPv4 (`OPTION_`), codes 1..=254.
    V4,
    /// DHCPv6 (`OPTION6_`), codes 1..=65535.
    V6,
}

/// One option given by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Custom {
    /// The option code (at most 254 for DHCPv4).
    pub code: u16,
    /// Sent to a client that did not ask for it.
    pub always: bool,
    /// The value's bytes; `None` for `none` (nothing sent).
    pub data: Option<Box<[u8]>>,
}

/// The options of one source (a binding file or the config), per family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customs {
    /// DHCPv4 options (`OPTION_<code>`), in code order.
    pub v4: Vec<Custom>,
    /// DHCPv6 options (`OPTION6_<code>`), in code order.
    pub v6: Vec<Custom>,
}

/// Why an option key or value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The code part of the key is not a number in range.
    #[error("not an option code (OPTION_1..OPTION_254, OPTION6_1..OPTION6_65535)")]
    BadCode,
    /// A code nfdhcpd sets or reads itself.
    #[error("option {code} is set by nfdhcpd{}", hint.map(|h| format!(": use {h}")).unwrap_or_default())]
    Owned {
        /// The code.
        code: u16,
        /// What sets it instead, when something does.
        hint: Option<&'static str>,
    },
    /// No `type:` and not `0x` hex.
    #[error("not TYPE:VALUE (ip, ip6, string, u8, u16, u32), 0x hex bytes, or none")]
    NoType,
    /// An unknown type.
    #[error("unknown type {0:?} (ip, ip6, string, u8, u16, u32)")]
    UnknownType(String),
    /// An empty value after the type.
    #[error("empty value")]
    Empty,
    /// An item of an `ip:` list that is not an IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    NotIpv4(String),
    /// An item of an `ip6:` list that is not an IPv6 address.
    #[error("{0:?} is not an IPv6 address")]
    NotIpv6(String),
    /// A number that does not fit its type.
    #[error("{0:?} is not a {1}")]
    BadNumber(String, &'static str),
    /// Hex that is not whole bytes.
    #[error("not hex bytes (0x0a0b or 0x0a:0b)")]
    BadHex,
    /// A value over [`MAX_VALUE_LEN`].
    #[error("{0} bytes: at most {MAX_VALUE_LEN}")]
    TooLong(usize),
    /// More than [`MAX_PER_SOURCE`] options of one family.
    #[error("{0} options: at most {MAX_PER_SOURCE} OPTION_ and {MAX_PER_SOURCE} OPTION6_ keys")]
    TooMany(usize),
    /// `none` where there is no default to drop.
    #[error("none is for a binding file (it drops the config's default)")]
    NoneInConfig,
}

/// The family and code of an option key, `None` when `key` is not one.
pub fn parse_key(key: &str) -> Option<Result<(Family, u16), OptionError>> {
    let (family, code) = if let Some(c) = key.strip_prefix(PREFIX6) {
        (Family::V6, c)
    } else {
        (Family::V4, key.strip_prefix(PREFIX4)?)
    };
    let max = match family {
        Family::V4 => u16::from(u8::MAX),
        Family::V6 => u16::MAX,
    };
    // Written as the number is (no sign, no leading zero): one key per code.
    let code = match code.parse::<u16>() {
        Ok(n) if n.to_string() == code && (n < max || (family == Family::V6 && n == max)) => n,
        _ => return Some(Err(OptionError::BadCode)),
    };
    Some(refuse_owned(family, code).map(|()| (family, code)))
}

/// DHCPv4 codes nfdhcpd sets or reads (or sets by a key of its own:
/// 60, 66, 67 for network boot, 108 IPv6-only preferred, 121 routes),
/// and the key that sets each, where there is one.
const OWNED4: &[(u16, Option<&'static str>)] = &[
    (0, None), // Pad (RFC 2132 §3.1)
    (1, Some("SUBNET")),
    (3, Some("GATEWAY")),
    (6, Some("NAMESERVERS")),
    (12, Some("HOSTNAME")),
    (15, Some("HOSTNAME or [dhcp] domain")),
    (26, Some("MTU")),
    (28, Some("SUBNET")),
    (42, Some("NTP")),
    (50, Some("IP")),
    (51, Some("[dhcp] lease_lifetime")),
    (52, None), // option overload
    (53, None), // message type
    (54, None), // server identifier
    (55, None), // parameter request list
    (57, None), // maximum message size
    (58, Some("[dhcp] lease_renewal")),
    (59, Some("[dhcp] lease_lifetime")),
    (60, None), // vendor class identifier
    (61, None), // client identifier
    (66, Some("TFTP_SERVER")),
    (67, Some("BOOTFILE")),
    (80, None), // rapid commit
    (82, None), // relay agent information
    (108, Some("V6ONLY_WAIT")),
    (119, Some("DOMAINS")),
    (121, Some("ROUTES")),
    (255, None), // End
];

/// DHCPv6 codes nfdhcpd sets or reads (RFC 8415 §21 and those listed).
const OWNED6: &[(u16, Option<&'static str>)] = &[
    (0, None),
    (1, None), // Client Identifier
    (2, None), // Server Identifier
    (3, Some("IP6 or EUI64")),
    (4, None), // IA_TA
    (5, Some("IP6 or EUI64")),
    (6, None),  // Option Request
    (7, None),  // Preference
    (8, None),  // Elapsed Time
    (9, None),  // Relay Message
    (11, None), // Authentication
    (12, None), // Server Unicast
    (13, None), // Status Code
    (14, None), // Rapid Commit
    (18, None), // Interface-Id
    (19, None), // Reconfigure Message
    (20, None), // Reconfigure Accept
    (23, Some("NAMESERVERS6")),
    (24, Some("DOMAINS")),
    (25, Some("PREFIX6_DELEGATED")),
    (26, Some("PREFIX6_DELEGATED")),
    (56, Some("NTP6")),
    (59, Some("BOOTFILE6")), // Boot File URL (RFC 5970)
    (60, None),              // Boot File Parameters (RFC 5970)
];

fn refuse_owned(family: Family, code: u16) -> Result<(), OptionError> {
    let owned = match family {
        Family::V4 => OWNED4,
        Family::V6 => OWNED6,
    };
    match owned.iter().find(|(c, _)| *c == code) {
        Some(&(code, hint)) => Err(OptionError::Owned { code, hint }),
        None => Ok(()),
    }
}

/// Parses a value (see the module's table) for option `code`.
pub fn parse_value(code: u16, text: &str) -> Result<Custom, OptionError> {
    let text = text.trim();
    let (always, text) = match text.split_once(char::is_whitespace) {
        Some((w, rest)) if w.eq_ignore_ascii_case(ALWAYS) => (true, rest.trim_start()),
        _ => (false, text),
    };
    let data = if text.eq_ignore_ascii_case(NONE) {
        None
    } else {
        Some(parse_bytes(text)?.into_boxed_slice())
    };
    if let Some(len) = data
        .as_ref()
        .map(|d| d.len())
        .filter(|&l| l > MAX_VALUE_LEN)
    {
        return Err(OptionError::TooLong(len));
    }
    Ok(Custom { code, always, data })
}

fn parse_bytes(text: &str) -> Result<Vec<u8>, OptionError> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return parse_hex(hex);
    }
    let (ty, v) = text.split_once(':').ok_or(OptionError::NoType)?;
    let ty = ty.trim().to_ascii_lowercase();
    // A string keeps its spaces; the other types are trimmed.
    if ty == "string" {
        return if v.is_empty() {
            Err(OptionError::Empty)
        } else {
            Ok(v.as_bytes().to_vec())
        };
    }
    let v = v.trim();
    if v.is_empty() {
        return Err(OptionError::Empty);
    }
    let number = |kind| OptionError::BadNumber(v.to_string(), kind);
    match ty.as_str() {
        "ip" => items(v)
            .map(|i| {
                i.parse::<Ipv4Addr>()
                    .map(|a| a.octets())
                    .map_err(|_| OptionError::NotIpv4(i.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.concat()),
        "ip6" => items(v)
            .map(|i| {
                i.parse::<Ipv6Addr>()
                    .map(|a| a.octets())
                    .map_err(|_| OptionError::NotIpv6(i.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.concat()),
        "u8" => v.parse::<u8>().map(|n| vec![n]).map_err(|_| number("u8")),
        "u16" => v
            .parse::<u16>()
            .map(|n| n.to_be_bytes().to_vec())
            .map_err(|_| number("u16")),
        "u32" => v
            .parse::<u32>()
            .map(|n| n.to_be_bytes().to_vec())
            .map_err(|_| number("u32")),
        _ => Err(OptionError::UnknownType(ty)),
    }
}

fn items(v: &str) -> impl Iterator<Item = &str> {
    v.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

fn parse_hex(hex: &str) -> Result<Vec<u8>, OptionError> {
    let digits: Vec<u8> = hex.bytes().filter(|b| *b != b':').collect();
    if digits.is_empty() || digits.len() % 2 != 0 {
        return Err(OptionError::BadHex);
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| OptionError::BadHex)?;
            u8::from_str_radix(s, 16).map_err(|_| OptionError::BadHex)
        })
        .collect()
}

impl Customs {
    /// Reads every `(key, value)` pair that is an option key, ignoring the
    /// others; an error names the pair's key and value.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Customs, (&'a str, &'a str, OptionError)> {
        let mut c = Customs::default();
        for (key, value) in pairs {
            let Some(parsed) = parse_key(key) else {
                continue;
            };
            let fail = |e| (key, value, e);
            let (family, code) = parsed.map_err(fail)?;
            let custom = parse_value(code, value).map_err(fail)?;
            let list = match family {
                Family::V4 => &mut c.v4,
                Family::V6 => &mut c.v6,
            };
            list.push(custom);
            if list.len() > MAX_PER_SOURCE {
                return Err(fail(OptionError::TooMany(list.len())));
            }
        }
        c.v4.sort_by_key(|o| o.code);
        c.v6.sort_by_key(|o| o.code);
        Ok(c)
    }

    /// True when no option is set.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// The options a VM gets, from its own (`binding`) and the config's
/// (`defaults`): the binding's first, then each default whose code the
/// binding does not give (a binding's `none` drops it). Yields code,
/// always, bytes; allocates nothing.
pub fn effective<'a>(
    binding: &'a [Custom],
    defaults: &'a [Custom],
) -> impl Iterator<Item = (u16, bool, &'a [u8])> + 'a {
    let overridden = |code| binding.iter().any(|o| o.code == code);
    binding
        .iter()
        .chain(defaults.iter().filter(move |d| !overridden(d.code)))
        .filter_map(|o| Some((o.code, o.always, o.data.as_deref()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &str) -> Vec<u8> {
        parse_value(224, v).unwrap().data.unwrap().to_vec()
    }

    fn err(v: &str) -> String {
        parse_value(224, v).unwrap_err().to_string()
    }

    #[test]
    fn value_syntax() {
        assert_eq!(
            bytes("ip:192.0.2.1, 198.51.100.2"),
            [192, 0, 2, 1, 198, 51, 100, 2]
        );
        assert_eq!(bytes("IP: 192.0.2.1 192.0.2.2").len(), 8);
        let mut v6 = vec![0x20, 0x01, 0x0d, 0xb8];
        v6.extend([0; 11]);
        v6.push(1);
        assert_eq!(bytes("ip6:2001:db8::1"), v6);
        assert_eq!(bytes("string: a b "), b" a b");
        assert_eq!(
            bytes("string:http://wpad.example/x"),
            b"http://wpad.example/x"
        );
        assert_eq!(bytes("u8:7"), [7]);
        assert_eq!(bytes("u16:1500"), [0x05, 0xdc]);
        assert_eq!(bytes("u32:86400"), [0, 1, 0x51, 0x80]);
        assert_eq!(bytes("0x01020a"), [1, 2, 10]);
        assert_eq!(bytes("0X01:02:FF"), [1, 2, 255]);
        let always = parse_value(224, "always string:x").unwrap();
        assert!(always.always);
        assert_eq!(always.data.as_deref(), Some(&b"x"[..]));
        assert!(!parse_value(224, "string:always x").unwrap().always);
        assert_eq!(parse_value(224, "none").unwrap().data, None);
        assert_eq!(parse_value(224, "always NONE").unwrap().data, None);
    }

    #[test]
    fn value_refusals() {
        assert_eq!(
            err("text"),
            "not TYPE:VALUE (ip, ip6, string, u8, u16, u32), 0x hex bytes, or none"
        );
        assert_eq!(
            err("u64:1"),
            "unknown type \"u64\" (ip, ip6, string, u8, u16, u32)"
        );
        assert_eq!(err("u8:256"), "\"256\" is not a u8");
        assert_eq!(err("u16:-1"), "\"-1\" is not a u16");
        assert_eq!(err("u32:4294967296"), "\"4294967296\" is not a u32");
        assert_eq!(
            err("ip:192.0.2.300"),
            "\"192.0.2.300\" is not an IPv4 address"
        );
        assert_eq!(err("ip6:192.0.2.1"), "\"192.0.2.1\" is not an IPv6 address");
        assert_eq!(err("string:"), "empty value");
        assert_eq!(err("ip: "), "empty value");
        for hex in ["0x", "0x123", "0xzz", "0x0é"] {
            assert_eq!(err(hex), "not hex bytes (0x0a0b or 0x0a:0b)", "{hex}");
        }
        let long = format!("string:{}", "x".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(err(&long), "1025 bytes: at most 1024");
        assert_eq!(
            bytes(&format!("string:{}", "x".repeat(MAX_VALUE_LEN))).len(),
            MAX_VALUE_LEN
        );
    }

    #[test]
    fn keys_and_owned_codes() {
        assert_eq!(parse_key("HOSTNAME"), None);
        assert_eq!(parse_key("OPTION_252"), Some(Ok((Family::V4, 252))));
        assert_eq!(parse_key("OPTION6_65535"), Some(Ok((Family::V6, 65535))));
        for bad in [
            "OPTION_",
            "OPTION_x",
            "OPTION_255",
            "OPTION_256",
            "OPTION6_65536",
        ] {
            assert_eq!(parse_key(bad), Some(Err(OptionError::BadCode)), "{bad}");
        }
        let owned = |k| parse_key(k).unwrap().unwrap_err().to_string();
        assert_eq!(
            owned("OPTION_6"),
            "option 6 is set by nfdhcpd: use NAMESERVERS"
        );
        assert_eq!(owned("OPTION_42"), "option 42 is set by nfdhcpd: use NTP");
        assert_eq!(owned("OPTION_53"), "option 53 is set by nfdhcpd");
        assert_eq!(owned("OPTION_0"), "option 0 is set by nfdhcpd");
        assert_eq!(
            owned("OPTION6_23"),
            "option 23 is set by nfdhcpd: use NAMESERVERS6"
        );
        assert_eq!(owned("OPTION6_1"), "option 1 is set by nfdhcpd");
        for code in [
            1, 3, 6, 12, 15, 26, 28, 42, 50, 51, 52, 53, 54, 55, 57, 58, 59, 60, 61,
        ] {
            assert!(matches!(
                refuse_owned(Family::V4, code),
                Err(OptionError::Owned { .. })
            ));
        }
        for code in [66, 67, 80, 82, 108, 119, 121, 255] {
            assert!(matches!(
                refuse_owned(Family::V4, code),
                Err(OptionError::Owned { .. })
            ));
        }
        // A code owned in one family is free in the other.
        assert_eq!(parse_key("OPTION6_42"), Some(Ok((Family::V6, 42))));
        assert_eq!(parse_key("OPTION_23"), Some(Ok((Family::V4, 23))));
    }

    #[test]
    fn parse_pairs_sorts_caps_and_names_the_pair() {
        let c = Customs::parse([
            ("OPTION_252", "string:b"),
            ("HOSTNAME", "vm"),
            ("OPTION_224", "u8:1"),
            ("OPTION6_4242", "always 0x01"),
        ])
        .unwrap();
        assert_eq!(c.v4.iter().map(|o| o.code).collect::<Vec<_>>(), [224, 252]);
        assert_eq!(c.v6[0].code, 4242);
        assert!(c.v6[0].always);
        let keys: Vec<String> = (224..241).map(|c| format!("OPTION_{c}")).collect();
        let e = Customs::parse(keys.iter().map(|k| (k.as_str(), "u8:1"))).unwrap_err();
        assert_eq!(e, ("OPTION_240", "u8:1", OptionError::TooMany(17)));
        let e = Customs::parse([("OPTION_224", "u8:x")]).unwrap_err();
        assert_eq!(e.0, "OPTION_224");
        assert_eq!(e.1, "u8:x");
    }

    #[test]
    fn binding_overrides_and_drops_defaults() {
        let opts = |pairs: &[(&'static str, &'static str)]| {
            Customs::parse(pairs.iter().copied()).unwrap().v4
        };
        let defaults = opts(&[
            ("OPTION_224", "u8:1"),
            ("OPTION_225", "u8:2"),
            ("OPTION_226", "u8:3"),
        ]);
        let binding = opts(&[("OPTION_225", "always u8:9"), ("OPTION_226", "none")]);
        let got: Vec<_> = effective(&binding, &defaults).collect();
        assert_eq!(got, [(225, true, &[9u8][..]), (224, false, &[1u8][..])]);
        assert_eq!(effective(&[], &defaults).count(), 3);
    }
}
