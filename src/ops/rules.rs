//! `nfdhcpd rules`: the iptables rules (iptables-restore format) that send
//! a config's traffic to its queues, for routed taps (`-i tap+`) and for
//! taps in a bridge (`-m physdev --physdev-in tap+`).
//!
//! The rules go into the mangle table's PREROUTING chain, as the original's
//! documentation had them; load them with `iptables-restore --noflush` (and
//! `ip6tables-restore --noflush`) so the rest of the table is kept. The
//! shipped files in `iptables/` are this output for the default queues.

use std::fmt::Write as _;

use crate::config::{Config, QueueRange};
use crate::daemon::queues_of;
use crate::domain::Protocol;

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
    /// Interface pattern of the taps (`tap+`).
    pub taps: String,
    /// Fail open: accept packets while no daemon listens (`--queue-bypass`).
    pub bypass: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            modes: vec![TapMode::Routed, TapMode::Bridged],
            taps: "tap+".into(),
            bypass: false,
        }
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

/// The rules of one family for `cfg`'s queues, in iptables-restore format
/// (a `*mangle` table with `-A PREROUTING` lines and `COMMIT`).
pub fn render(cfg: &Config, family: Family, o: &Options) -> String {
    let mut s = String::from("*mangle\n");
    for (p, q) in queues_of(cfg) {
        let (f, m) = matcher(p);
        if f != family {
            continue;
        }
        for mode in &o.modes {
            let dev = match mode {
                TapMode::Routed => format!("-i {}", o.taps),
                TapMode::Bridged => format!("-m physdev --physdev-in {}", o.taps),
            };
            let _ = writeln!(s, "-A PREROUTING {dev} {m} {}", target(q, o.bypass));
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
}
