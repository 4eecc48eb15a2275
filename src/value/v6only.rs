//! `V6ONLY_WAIT` and the config's `[dhcp] v6only_wait`: DHCPv4 option 108,
//! IPv6-Only Preferred (RFC 8925), e.g. `V6ONLY_WAIT=1800`.
//!
//! The value is the number of seconds a client that prefers IPv6-only
//! stops DHCPv4 for (RFC 8925 §3.1). `0`, `off` or `no` turn the option
//! off (a binding's turns it off for that VM even when the config has
//! it on); an empty binding value is unset (the config's). A number under
//! [`MIN_V6ONLY_WAIT`] is refused: a client would use that minimum
//! instead (RFC 8925 §3.2), so such a value only misleads its reader.

/// The binding key.
pub const KEY: &str = "V6ONLY_WAIT";
/// RFC 8925 §3.4: "MIN_V6ONLY_WAIT: The lower boundary for V6ONLY_WAIT.
/// Value: 300 seconds".
pub const MIN_V6ONLY_WAIT: u32 = 300;

/// Why a `V6ONLY_WAIT` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum V6OnlyError {
    /// Not a number of seconds nor `off`.
    #[error("{0:?} is not a number of seconds or off")]
    NotSeconds(String),
    /// Under [`MIN_V6ONLY_WAIT`].
    #[error("{0} s is under {MIN_V6ONLY_WAIT} s, the least a client waits (RFC 8925 §3.2); 0 or off turns it off")]
    TooShort(u32),
}

/// Parses a `V6ONLY_WAIT` or `v6only_wait` value: the seconds, 0 for off.
pub fn parse(v: &str) -> Result<u32, V6OnlyError> {
    let v = v.trim();
    if ["off", "no", "false"]
        .iter()
        .any(|off| v.eq_ignore_ascii_case(off))
    {
        return Ok(0);
    }
    let secs: u32 = v
        .parse()
        .map_err(|_| V6OnlyError::NotSeconds(v.to_string()))?;
    if secs != 0 && secs < MIN_V6ONLY_WAIT {
        return Err(V6OnlyError::TooShort(secs));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_or_off() {
        assert_eq!(parse("1800"), Ok(1800));
        assert_eq!(parse("300"), Ok(300));
        assert_eq!(parse(" 4294967295 "), Ok(u32::MAX));
        for off in ["0", "off", "OFF", "no", "false"] {
            assert_eq!(parse(off), Ok(0), "{off}");
        }
        assert_eq!(
            parse("299").unwrap_err().to_string(),
            "299 s is under 300 s, the least a client waits (RFC 8925 §3.2); 0 or off turns it off"
        );
        for bad in ["30m", "-1", "4294967296", "yes", "1800 s"] {
            assert_eq!(
                parse(bad),
                Err(V6OnlyError::NotSeconds(bad.to_string())),
                "{bad}"
            );
        }
    }
}
