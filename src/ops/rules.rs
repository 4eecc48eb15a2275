//! `nfdhcpd rules`: the firewall rules that send a config's traffic to its
//! queues, and the optional guard rules, for one of two backends.
//!
//! - iptables (the default, the original's): rules in iptables-restore
//!   format for the mangle table's PREROUTING chain, for routed taps
//!   (`-i tap+`) and for taps in a bridge (`-m physdev --physdev-in tap+`,
//!   which needs br_netfilter). Load them with `iptables-restore --noflush`
//!   (and `ip6tables-restore --noflush`) so the rest of the table is kept.
//!   The shipped files in `iptables/` are this output for the default
//!   queues.
//! - nftables ([`nft`]): one self-contained, re-loadable `nft -f` ruleset,
//!   `table inet nfdhcpd` for routed taps and `table bridge nfdhcpd` for
//!   taps in a bridge (no br_netfilter needed). The shipped files in
//!   `nftables/` are its output.
//!
//! Guard rules (`--guard`, both backends) drop, on packets *from* taps,
//! what only a router or a server should send: ICMPv6 Router
//! Advertisements (134) and Redirects (137), UDP 67→68 (DHCPv4 server
//! replies) and UDP 547→546 (DHCPv6 server replies). nfdhcpd's own replies
//! leave through the tap, never come in from it, so they are never hit.

use std::fmt::Write as _;

use crate::config::{queues_of, Config, QueueRange};
use crate::domain::Protocol;

pub mod nft;

/// Longest interface name (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

/// How the taps reach the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapMode {
    /// The tap is the packet's input device.
    Routed,
    /// The tap is a bridge port: match it with physdev.
    Bridged,
}

/// Address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// iptables.
    Ipv4,
    /// ip6tables.
    Ipv6,
}

/// What to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Tap modes to cover.
    pub modes: Vec<TapMode>,
    /// Interface name pattern of the taps: a name, or a prefix ending in
    /// the wildcard (`tap+` for iptables, `tap*` for nftables; either is
    /// accepted by both).
    pub taps: String,
    /// nftables: match the taps by the named set `taps` (filled by the
    /// hook) instead of by `taps`.
    pub tap_set: bool,
    /// Fail open: accept packets while no daemon listens (`--queue-bypass`).
    pub bypass: bool,
    /// The rules that send the requests to the queues.
    pub queue: bool,
    /// The guard rules (RA, Redirect and DHCP server replies from taps).
    pub guard: bool,
    /// nftables: per-tap source anti-spoofing from the hook's sets.
    pub guard_spoof: bool,
    /// nftables: the in-kernel per-tap rate limits ahead of the queues.
    pub ratelimit: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            modes: vec![TapMode::Routed, TapMode::Bridged],
            taps: "tap+".into(),
            tap_set: false,
            bypass: false,
            queue: true,
            guard: false,
            guard_spoof: false,
            ratelimit: false,
        }
    }
}

/// Why a tap pattern cannot be used in rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Nothing before the wildcard (every interface would match).
    #[error("the tap pattern {0:?} matches every interface")]
    Empty(String),
    /// Longer than an interface name.
    #[error("the tap pattern {0:?} is longer than an interface name (15)")]
    TooLong(String),
    /// A character that is not a letter, digit, `-`, `_`, `.`, `:` or `@`,
    /// or a wildcard before the end.
    #[error("the tap pattern {0:?} may hold only letters, digits, '-', '_', '.', ':', '@' and one final '+' or '*'")]
    BadChar(String),
}

/// A tap pattern split into its fixed part and whether it ends in a
/// wildcard; renderers spell the wildcard their way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern<'a> {
    /// The name, or the prefix before the wildcard.
    pub stem: &'a str,
    /// Ends in a wildcard (`+` / `*`).
    pub wildcard: bool,
}

/// Checks a tap pattern: a non-empty interface name or prefix of safe
/// characters, optionally ending in `+` or `*`.
pub fn parse_pattern(p: &str) -> Result<Pattern<'_>, PatternError> {
    let (stem, wildcard) = match p.strip_suffix(['+', '*']) {
        Some(s) => (s, true),
        None => (p, false),
    };
    if stem.is_empty() {
        return Err(PatternError::Empty(p.into()));
    }
    if stem.len() > IFNAME_MAX {
        return Err(PatternError::TooLong(p.into()));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@');
    if !stem.chars().all(ok) {
        return Err(PatternError::BadChar(p.into()));
    }
    Ok(Pattern { stem, wildcard })
}

/// The rate limits of the in-kernel first line of defence, per tap and
/// protocol: (packets per second, burst). Those of the shipped
/// `iptables/ratelimit-tap*.rules` templates.
pub fn kernel_limit(p: Protocol) -> (u32, u32) {
    match p {
        Protocol::Dhcpv4 | Protocol::Dhcpv6 => (50, 100),
        Protocol::RouterSolicit => (20, 40),
        Protocol::NeighbourSolicit => (100, 200),
    }
}

fn target(q: QueueRange, bypass: bool) -> String {
    let mut t = if q.first == q.last {
        format!("-j NFQUEUE --queue-num {}", q.first)
    } else {
        format!("-j NFQUEUE --queue-balance {}:{}", q.first, q.last)
    };
    if bypass {
        t.push_str(" --queue-bypass");
    }
    t
}

fn matcher(p: Protocol) -> (Family, &'static str) {
    match p {
        Protocol::Dhcpv4 => (Family::Ipv4, "-p udp -m udp --dport 67"),
        Protocol::RouterSolicit => (
            Family::Ipv6,
            "-p ipv6-icmp -m icmp6 --icmpv6-type router-solicitation",
        ),
        Protocol::NeighbourSolicit => (
            Family::Ipv6,
            "-p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation",
        ),
        Protocol::Dhcpv6 => (Family::Ipv6, "-p udp -m udp --dport 547"),
    }
}

/// What the guard rules drop from taps, per family.
fn guard_matchers(family: Family) -> &'static [&'static str] {
    match family {
        // DHCPv4 server → client.
        Family::Ipv4 => &["-p udp -m udp --sport 67 --dport 68"],
        Family::Ipv6 => &[
            "-p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement",
            "-p ipv6-icmp -m icmp6 --icmpv6-type redirect",
            // DHCPv6 server → client.
            "-p udp -m udp --sport 547 --dport 546",
        ],
    }
}

/// The rules of one family for `cfg`'s queues, in iptables-restore format
/// (a `*mangle` table with `-A PREROUTING` lines and `COMMIT`): the queue
/// rules (unless `o.queue` is off), then the guard rules (with `o.guard`).
/// `o.taps` must have passed [`parse_pattern`]; its wildcard is written `+`.
pub fn render(cfg: &Config, family: Family, o: &Options) -> String {
    let taps = match parse_pattern(&o.taps) {
        Ok(Pattern { stem, wildcard }) => format!("{stem}{}", if wildcard { "+" } else { "" }),
        Err(_) => o.taps.clone(),
    };
    let dev = |mode: &TapMode| match mode {
        TapMode::Routed => format!("-i {taps}"),
        TapMode::Bridged => format!("-m physdev --physdev-in {taps}"),
    };
    let mut s = String::from("*mangle\n");
    if o.queue {
        for (p, q) in queues_of(cfg) {
            let (f, m) = matcher(p);
            if f != family {
                continue;
            }
            for mode in &o.modes {
                let _ = writeln!(s, "-A PREROUTING {} {m} {}", dev(mode), target(q, o.bypass));
            }
        }
    }
    if o.guard {
        for m in guard_matchers(family) {
            for mode in &o.modes {
                let _ = writeln!(s, "-A PREROUTING {} {m} -j DROP", dev(mode));
            }
        }
    }
    s.push_str("COMMIT\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let mut c = Config::default();
        c.dhcp.queue = Some(QueueRange {
            first: 42,
            last: 43,
        });
        c.ipv6.rs_queue = Some(QueueRange::single(44));
        c.ipv6.ns_queue = None;
        c.ipv6.dhcpv6_queue = None;
        c
    }

    #[test]
    fn ranges_balance_and_bypass_is_appended() {
        let o = Options {
            modes: vec![TapMode::Bridged],
            bypass: true,
            ..Options::default()
        };
        assert_eq!(
            render(&cfg(), Family::Ipv4, &o),
            "*mangle\n-A PREROUTING -m physdev --physdev-in tap+ -p udp -m udp --dport 67 -j NFQUEUE --queue-balance 42:43 --queue-bypass\nCOMMIT\n"
        );
        assert_eq!(
            render(&cfg(), Family::Ipv6, &Options::default()),
            "*mangle\n-A PREROUTING -i tap+ -p ipv6-icmp -m icmp6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 44\n\
             -A PREROUTING -m physdev --physdev-in tap+ -p ipv6-icmp -m icmp6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 44\nCOMMIT\n"
        );
    }

    #[test]
    fn a_disabled_protocol_has_no_rules() {
        let mut c = cfg();
        c.dhcp.enabled = false;
        assert_eq!(
            render(&c, Family::Ipv4, &Options::default()),
            "*mangle\nCOMMIT\n"
        );
    }

    #[test]
    fn guard_rules_drop_server_traffic_from_taps_whatever_the_queues() {
        let mut c = cfg();
        c.ipv6.enabled = false;
        let o = Options {
            modes: vec![TapMode::Routed],
            taps: "vm*".into(),
            queue: false,
            guard: true,
            ..Options::default()
        };
        assert_eq!(
            render(&c, Family::Ipv4, &o),
            "*mangle\n-A PREROUTING -i vm+ -p udp -m udp --sport 67 --dport 68 -j DROP\nCOMMIT\n"
        );
        assert_eq!(
            render(&c, Family::Ipv6, &Options { modes: vec![TapMode::Bridged], ..o }),
            "*mangle\n\
             -A PREROUTING -m physdev --physdev-in vm+ -p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement -j DROP\n\
             -A PREROUTING -m physdev --physdev-in vm+ -p ipv6-icmp -m icmp6 --icmpv6-type redirect -j DROP\n\
             -A PREROUTING -m physdev --physdev-in vm+ -p udp -m udp --sport 547 --dport 546 -j DROP\nCOMMIT\n"
        );
        // With the queue rules: queue first, guard after, never the same packet.
        let both = render(
            &cfg(),
            Family::Ipv4,
            &Options {
                guard: true,
                ..Options::default()
            },
        );
        assert_eq!(both.matches("NFQUEUE").count(), 2);
        assert_eq!(both.matches("-j DROP").count(), 2);
    }

    #[test]
    fn tap_patterns_are_checked_and_either_wildcard_is_accepted() {
        assert_eq!(
            parse_pattern("tap+"),
            Ok(Pattern {
                stem: "tap",
                wildcard: true
            })
        );
        assert_eq!(
            parse_pattern("tap*"),
            Ok(Pattern {
                stem: "tap",
                wildcard: true
            })
        );
        assert_eq!(
            parse_pattern("tap-vm1"),
            Ok(Pattern {
                stem: "tap-vm1",
                wildcard: false
            })
        );
        for bad in [
            "+", "*", "", "tap\"", "t p+", "tap+x", "ta*p", "tap;drop", "tap}",
        ] {
            assert!(parse_pattern(bad).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse_pattern("abcdefghijklmnop"),
            Err(PatternError::TooLong(_))
        ));
        assert!(parse_pattern("abcdefghijklmno+").is_ok());
    }
}
