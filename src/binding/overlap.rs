//! Delegated prefixes (`PREFIX6_DELEGATED`) that overlap another
//! binding's delegated prefix or `SUBNET6`: two VMs would be routed the
//! same addresses. One file cannot see it, so it is not a reason to
//! refuse a file: `nfdhcpd check` reports it as a problem and the daemon
//! logs it when a binding is loaded; both bindings stay in force.

use std::fmt;

use ipnet::Ipv6Net;

use super::file::delegated::{overlap, KEY};
use super::Binding;

/// One delegated prefix overlapping a prefix of another binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The tap whose delegated prefix it is.
    pub tap: String,
    /// The delegated prefix.
    pub prefix: Ipv6Net,
    /// The other binding's tap.
    pub other_tap: String,
    /// What the other prefix is: `PREFIX6_DELEGATED` or `SUBNET6`.
    pub other_key: &'static str,
    /// The other prefix.
    pub other: Ipv6Net,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{KEY} {} of {} overlaps {} {} of {}",
            self.prefix, self.tap, self.other_key, self.other, self.other_tap
        )
    }
}

/// `a`'s delegated prefixes against `theirs`, prefixes of tap `other_tap`.
fn against(
    a: &Binding,
    theirs: impl Iterator<Item = (&'static str, Ipv6Net)>,
    other_tap: &str,
    out: &mut Vec<Overlap>,
) {
    for (other_key, other) in theirs {
        for p in a.prefix6_delegated.iter().filter(|p| overlap(p, &other)) {
            out.push(Overlap {
                tap: a.tap.clone(),
                prefix: *p,
                other_tap: other_tap.to_string(),
                other_key,
                other,
            });
        }
    }
}

/// The overlaps between two bindings of different taps, each reported once.
pub fn between(a: &Binding, b: &Binding) -> Vec<Overlap> {
    let mut out = Vec::new();
    if a.prefix6_delegated.is_empty() && b.prefix6_delegated.is_empty() {
        return out;
    }
    let delegated = b.prefix6_delegated.iter().map(|p| (KEY, *p));
    let subnet = |x: &Binding| x.subnet6.map(|n| ("SUBNET6", n));
    against(a, delegated.chain(subnet(b)), &b.tap, &mut out);
    // Delegated against delegated is counted once, from `a`'s side.
    against(b, subnet(a).into_iter(), &a.tap, &mut out);
    out
}

/// Every overlap among `bindings`, each pair of taps looked at once. Only
/// pairs with a delegating binding can overlap, so the work is the
/// delegating bindings times all, not all squared.
pub fn all(bindings: &[&Binding]) -> Vec<Overlap> {
    let mut out = Vec::new();
    for (i, a) in bindings.iter().enumerate() {
        if a.prefix6_delegated.is_empty() {
            continue;
        }
        for (j, b) in bindings.iter().enumerate() {
            // A pair of delegating bindings once, from the lower index.
            if i == j || (!b.prefix6_delegated.is_empty() && j < i) {
                continue;
            }
            out.extend(between(a, b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::file::parse;

    fn b(tap: &str, n: u8, extra: &str) -> Binding {
        parse(tap, &format!("MAC=aa:00:00:00:00:{n:02x}\n{extra}"), true)
            .unwrap_or_else(|e| panic!("{e}"))
            .binding
    }

    #[test]
    fn overlaps_with_other_delegations_and_subnets_are_found_once() {
        let one = b(
            "tap1",
            1,
            "SUBNET6=2001:db8:1::/64\nPREFIX6_DELEGATED=2001:db8:100::/56\n",
        );
        // Its /60 inside tap1's /56, and its SUBNET6 inside it too.
        let two = b(
            "tap2",
            2,
            "SUBNET6=2001:db8:100:ff::/64\nPREFIX6_DELEGATED=2001:db8:100:10::/60\n",
        );
        // A delegation covering tap1's SUBNET6.
        let three = b("tap3", 3, "PREFIX6_DELEGATED=2001:db8::/32\n");
        // Same SUBNET6 as tap1, no delegation: not a problem.
        let four = b("tap4", 4, "SUBNET6=2001:db8:1::/64\n");
        let found: Vec<String> = all(&[&one, &two, &three, &four])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "PREFIX6_DELEGATED 2001:db8:100::/56 of tap1 overlaps PREFIX6_DELEGATED 2001:db8:100:10::/60 of tap2",
                "PREFIX6_DELEGATED 2001:db8:100::/56 of tap1 overlaps SUBNET6 2001:db8:100:ff::/64 of tap2",
                "PREFIX6_DELEGATED 2001:db8:100::/56 of tap1 overlaps PREFIX6_DELEGATED 2001:db8::/32 of tap3",
                "PREFIX6_DELEGATED 2001:db8::/32 of tap3 overlaps SUBNET6 2001:db8:1::/64 of tap1",
                "PREFIX6_DELEGATED 2001:db8:100:10::/60 of tap2 overlaps PREFIX6_DELEGATED 2001:db8::/32 of tap3",
                "PREFIX6_DELEGATED 2001:db8::/32 of tap3 overlaps SUBNET6 2001:db8:100:ff::/64 of tap2",
                "PREFIX6_DELEGATED 2001:db8::/32 of tap3 overlaps SUBNET6 2001:db8:1::/64 of tap4",
            ]
        );
        let five = b("tap5", 5, "PREFIX6_DELEGATED=2001:db8:200::/56\n");
        assert!(between(&one, &five).is_empty() && between(&four, &one).is_empty());
    }
}
