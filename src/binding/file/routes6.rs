//! `ROUTES6`: routes announced to the VM in its RAs, as Route Information
//! options (RFC 4191 §2.3), e.g.
//! `ROUTES6="2001:db8:100::/48 high, 2001:db8:200::/56"`.
//!
//! Comma-separated items `PREFIX [PREFERENCE]`, the preference `high`,
//! `medium` (the default) or `low`; at most [`MAX_ROUTES`], in order of
//! importance (an RA that would not fit the link drops the last first).
//! Each prefix is written as its network (host bits zero, as for
//! `PREFIX6_DELEGATED`), given once, /1 to /128 (`::/0` is the default
//! route, which the RA's router lifetime announces), not multicast,
//! link-local, loopback or `::`, and not inside the VM's own `SUBNET6`
//! (on-link already) nor a prefix delegated to it (routed to the VM, not
//! through the router). A prefix that covers them is fine: the longer
//! prefix wins.

use ipnet::Ipv6Net;

use crate::binding::Binding;
use crate::domain::RouterPreference;
use crate::value::not_global;

/// The binding key.
pub const KEY: &str = "ROUTES6";
/// Most routes one binding announces (each takes at most 24 bytes of an
/// RA; see `proto::ra` for what an RA over the link MTU leaves out).
pub const MAX_ROUTES: usize = 16;

/// One route of `ROUTES6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route6 {
    /// The destination prefix, host bits zero, /1 to /128.
    pub prefix: Ipv6Net,
    /// Its preference (RFC 4191 §2.3 Prf).
    pub preference: RouterPreference,
}

/// Why a `ROUTES6` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// An item that is not `PREFIX [PREFERENCE]`.
    #[error("{0:?} is not PREFIX [high|medium|low]")]
    NotRoute(String),
    /// Not `x::/len`.
    #[error("{0:?} is not an IPv6 prefix (x::/len)")]
    NotPrefix(String),
    /// Not `high`, `medium` or `low`.
    #[error("{0:?} is not a preference (high, medium, low)")]
    BadPreference(String),
    /// Bits set past the prefix length.
    #[error("{given} has host bits set (its network is {network})")]
    HostBitsSet {
        /// As written.
        given: Ipv6Net,
        /// What was probably meant.
        network: Ipv6Net,
    },
    /// `::/0`.
    #[error("::/0 is the default route: the RA's router lifetime announces it")]
    DefaultRoute,
    /// Multicast, link-local, loopback or `::`.
    #[error("{0} is not a global or unique-local prefix")]
    NotGlobal(Ipv6Net),
    /// A prefix given twice.
    #[error("{0} is given twice")]
    Duplicate(Ipv6Net),
    /// Inside `SUBNET6` or a delegated prefix.
    #[error("{prefix} is inside {key} {with}")]
    Inside {
        /// The route's prefix.
        prefix: Ipv6Net,
        /// The key it is inside.
        key: &'static str,
        /// That key's prefix.
        with: Ipv6Net,
    },
    /// More than [`MAX_ROUTES`].
    #[error("{0} routes: at most {MAX_ROUTES}")]
    TooMany(usize),
}

fn parse_item(item: &str) -> Result<Route6, RouteError> {
    let words: Vec<&str> = item.split_whitespace().collect();
    let (prefix, preference) = match words[..] {
        [p] => (p, RouterPreference::Medium),
        [p, pref] => (
            p,
            RouterPreference::parse(pref)
                .ok_or_else(|| RouteError::BadPreference(pref.to_string()))?,
        ),
        _ => return Err(RouteError::NotRoute(item.to_string())),
    };
    let prefix: Ipv6Net = prefix
        .parse()
        .map_err(|_| RouteError::NotPrefix(prefix.to_string()))?;
    if prefix.trunc() != prefix {
        return Err(RouteError::HostBitsSet {
            given: prefix,
            network: prefix.trunc(),
        });
    }
    if prefix.prefix_len() == 0 {
        return Err(RouteError::DefaultRoute);
    }
    if not_global(prefix.network()) {
        return Err(RouteError::NotGlobal(prefix));
    }
    Ok(Route6 { prefix, preference })
}

/// Parses and checks the value `v` of `b`'s `ROUTES6` against the rest of
/// `b` (its `SUBNET6` and `PREFIX6_DELEGATED`, parsed before).
pub fn parse(v: &str, b: &Binding) -> Result<Vec<Route6>, RouteError> {
    let items = super::list_items(v, MAX_ROUTES).map_err(RouteError::TooMany)?;
    let mut out: Vec<Route6> = Vec::with_capacity(items.len());
    for item in items {
        let r = parse_item(item)?;
        if out.iter().any(|o| o.prefix == r.prefix) {
            return Err(RouteError::Duplicate(r.prefix));
        }
        let own = b.subnet6.map(|n| ("SUBNET6", n)).into_iter().chain(
            b.prefix6_delegated
                .iter()
                .map(|p| (super::delegated::KEY, *p)),
        );
        for (key, with) in own {
            if with.contains(&r.prefix) {
                return Err(RouteError::Inside {
                    prefix: r.prefix,
                    key,
                    with,
                });
            }
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::MacAddr;

    fn binding() -> Binding {
        let mut b = Binding::new("tap0", MacAddr([0xaa, 0, 0, 0, 0, 0x10]));
        b.subnet6 = Some("2001:db8:1::/64".parse().unwrap());
        b.prefix6_delegated = vec!["2001:db8:100::/56".parse().unwrap()];
        b
    }

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn items_with_and_without_preference() {
        let r = parse(
            " 2001:db8:200::/48 high,2001:db8:300::/56 ,  fd00:1::/64 LOW, 2001:db8::/32 medium,",
            &binding(),
        )
        .unwrap();
        assert_eq!(
            r,
            [
                Route6 {
                    prefix: net("2001:db8:200::/48"),
                    preference: RouterPreference::High
                },
                Route6 {
                    prefix: net("2001:db8:300::/56"),
                    preference: RouterPreference::Medium
                },
                Route6 {
                    prefix: net("fd00:1::/64"),
                    preference: RouterPreference::Low
                },
                // Covers SUBNET6 and the delegation: allowed.
                Route6 {
                    prefix: net("2001:db8::/32"),
                    preference: RouterPreference::Medium
                },
            ]
        );
        assert_eq!(parse("2001:db8:200::1/128", &binding()).unwrap().len(), 1);
    }

    #[test]
    fn refusals_say_why() {
        let b = binding();
        let e = |v: &str| parse(v, &b).unwrap_err().to_string();
        assert_eq!(
            e("2001:db8:200::/48 highest"),
            "\"highest\" is not a preference (high, medium, low)"
        );
        assert_eq!(
            e("2001:db8:200::/48 high low"),
            "\"2001:db8:200::/48 high low\" is not PREFIX [high|medium|low]"
        );
        assert_eq!(
            e("2001:db8:200::"),
            "\"2001:db8:200::\" is not an IPv6 prefix (x::/len)"
        );
        assert_eq!(
            e("2001:db8:200::1/48"),
            "2001:db8:200::1/48 has host bits set (its network is 2001:db8:200::/48)"
        );
        assert_eq!(
            e("::/0 high"),
            "::/0 is the default route: the RA's router lifetime announces it"
        );
        assert_eq!(
            e("fe80::/64"),
            "fe80::/64 is not a global or unique-local prefix"
        );
        assert_eq!(
            e("2001:db8:200::/48, 2001:db8:200::/48 low"),
            "2001:db8:200::/48 is given twice"
        );
        assert_eq!(
            e("2001:db8:1::/64"),
            "2001:db8:1::/64 is inside SUBNET6 2001:db8:1::/64"
        );
        assert_eq!(
            e("2001:db8:100:40::/60"),
            "2001:db8:100:40::/60 is inside PREFIX6_DELEGATED 2001:db8:100::/56"
        );
        let many: Vec<String> = (0..=MAX_ROUTES)
            .map(|i| format!("2001:db8:{:x}::/48", 0x1000 + i))
            .collect();
        assert_eq!(e(&many.join(",")), "17 routes: at most 16");
    }
}
