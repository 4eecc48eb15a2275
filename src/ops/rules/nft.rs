//! The nftables backend of `nfdhcpd rules`: one self-contained `nft -f`
//! ruleset.
//!
//! - `table inet nfdhcpd` serves routed taps (the tap is the input device),
//!   `table bridge nfdhcpd` taps in a bridge: the bridge family sees the
//!   port as the input device, so neither br_netfilter nor its
//!   `bridge-nf-call-*` sysctls nor physdev are needed. The kernel's nft
//!   `queue` statement works in both (it needs `CONFIG_NFT_QUEUE`, the
//!   nft_queue module).
//! - Each concern is a base chain of its own on the prerouting hook, so
//!   rulesets rendered with different options can be loaded side by side
//!   (say the queue rules and, separately, the guard rules): `antispoof`,
//!   then `guard`, then `ratelimit`, then `serve` (the queue rules), in
//!   priority order. Within a family, the lower priority runs first.
//! - Re-loadable: every table, set and chain is declared with `add`
//!   (a no-op when it exists) and each chain is flushed before its rules
//!   are added, so `nft -f` twice leaves one copy; sets keep their
//!   elements (the hook's), and no other table is touched. To change a
//!   chain's priority or a set's type, `nft delete table inet nfdhcpd`
//!   (and `bridge`) first.
//! - Taps are matched by name (`iifname "tap*"`) or, with `tap_set`, by the
//!   set `taps` that the hook fills (`add element inet nfdhcpd taps {
//!   "tap-vm1" }`).
//!
//! The queue rules match exactly what the iptables rules queue: IPv4 UDP to
//! port 67, ICMPv6 types 133 and 135, IPv6 UDP to port 547, from a tap.
//! In the bridge family, VLAN-tagged frames are not matched (as physdev
//! does not see them either).

use std::fmt::Write as _;

use super::{kernel_limit, parse_pattern, Options, TapMode};
use crate::config::{queues_of, Config, QueueRange};
use crate::domain::Protocol;

/// The name of every table this ruleset creates (one per family).
pub const TABLE: &str = "nfdhcpd";

/// What differs between the two tables.
#[derive(Debug, Clone, Copy)]
struct Table {
    /// nft family: `inet` or `bridge`.
    family: &'static str,
    /// Named priority of the `serve` chain; the others run before it.
    priority: &'static str,
    /// The bridge family sees every frame (ARP, VLAN …), not only IP.
    bridge: bool,
}

impl Table {
    fn of(mode: TapMode) -> Table {
        match mode {
            // Before conntrack (-200): a queued request that is answered
            // and dropped never creates a conntrack entry.
            TapMode::Routed => Table {
                family: "inet",
                priority: "raw",
                bridge: false,
            },
            TapMode::Bridged => Table {
                family: "bridge",
                priority: "filter",
                bridge: true,
            },
        }
    }

    /// Restricts a rule to IPv4 (`v6` false) or IPv6.
    fn ip(&self, v6: bool) -> &'static str {
        match (self.bridge, v6) {
            (false, false) => "meta nfproto ipv4",
            (false, true) => "meta nfproto ipv6",
            (true, false) => "ether type ip",
            (true, true) => "ether type ip6",
        }
    }
}

/// The taps, as a match: `iifname "tap*"` or `iifname @taps`.
fn taps(o: &Options, negate: bool) -> String {
    let not = if negate { "!= " } else { "" };
    if o.tap_set {
        return format!("iifname {not}@taps");
    }
    match parse_pattern(&o.taps) {
        Ok(p) => format!(
            "iifname {not}\"{}{}\"",
            p.stem,
            if p.wildcard { "*" } else { "" }
        ),
        // Refused before rendering by the CLI; quoted as is otherwise.
        Err(_) => format!("iifname {not}{:?}", o.taps),
    }
}

/// The request a protocol's queue takes.
fn request(t: Table, p: Protocol) -> String {
    match p {
        Protocol::Dhcpv4 => format!("{} udp dport 67", t.ip(false)),
        Protocol::RouterSolicit => "icmpv6 type nd-router-solicit".into(),
        Protocol::NeighbourSolicit => "icmpv6 type nd-neighbor-solicit".into(),
        Protocol::Dhcpv6 => format!("{} udp dport 547", t.ip(true)),
    }
}

/// `queue num N` / `queue num A-B fanout`, with `bypass` to fail open.
fn queue(q: QueueRange, bypass: bool) -> String {
    let mut flags = Vec::new();
    let num = if q.first == q.last {
        q.first.to_string()
    } else {
        flags.push("fanout");
        format!("{}-{}", q.first, q.last)
    };
    if bypass {
        flags.push("bypass");
    }
    if flags.is_empty() {
        format!("queue num {num}")
    } else {
        format!("queue num {num} {}", flags.join(","))
    }
}

/// The sets of `--guard-spoof`, which the hook fills from the bindings.
const SPOOF_SETS: [(&str, &str); 5] = [
    // Taps whose binding has MACSPOOF: their source MAC is not checked.
    ("spoof_anymac", "type ifname;"),
    ("spoof_mac", "type ifname . ether_addr;"),
    ("spoof_ip4", "type ifname . ipv4_addr;"),
    // SUBNET6 and the delegated prefixes.
    ("spoof_ip6", "type ifname . ipv6_addr; flags interval;"),
    // The same prefixes as integers: nft before 1.0.7 has no name for an
    // NA's target address, only its offset (`@th,64,128`).
    ("spoof_nd6", "typeof iifname . @th,64,128; flags interval;"),
];

/// The `antispoof` chain's rules after its first one (which lets through
/// what does not come from a tap). Rules that end in `accept` only end
/// this chain: the later chains (guard, queue) still see the packet.
fn antispoof(t: Table) -> Vec<&'static str> {
    let mut r = vec!["iifname != @spoof_anymac iifname . ether saddr != @spoof_mac counter drop"];
    if t.bridge {
        r.extend([
            // Only IPv4, ARP and IPv6 (no VLAN tags, no other protocol).
            "ether type != { ip, arp, ip6 } counter drop",
            // ARP for Ethernet and IPv4 only, from the tap's MAC and its
            // own IPv4 address (or 0.0.0.0: a probe, RFC 5227).
            "arp htype != 1 counter drop",
            "arp ptype != ip counter drop",
            "arp hlen != 6 counter drop",
            "arp plen != 4 counter drop",
            "iifname != @spoof_anymac iifname . arp saddr ether != @spoof_mac counter drop",
            "arp saddr ip 0.0.0.0 accept",
            "iifname . arp saddr ip != @spoof_ip4 counter drop",
        ]);
    }
    r.extend([
        // DHCPv4 from a client without an address yet.
        "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept",
        "iifname . ip saddr != @spoof_ip4 counter drop",
        // Neighbour Advertisements only for the tap's own addresses (or a
        // link-local one).
        "icmpv6 type nd-neighbor-advert @th,64,64 != 0xfe80000000000000 iifname . @th,64,128 != @spoof_nd6 counter drop",
        // Duplicate address detection and its MLD report come from ::.
        "ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } accept",
        "ip6 saddr != fe80::/64 iifname . ip6 saddr != @spoof_ip6 counter drop",
    ]);
    r
}

/// The `guard` chain's rules: what only a router or a server sends.
fn guard(t: Table, tap: &str) -> Vec<String> {
    vec![
        format!("{tap} icmpv6 type {{ nd-router-advert, nd-redirect }} counter drop"),
        format!(
            "{tap} {} udp sport 67 udp dport 68 counter drop",
            t.ip(false)
        ),
        format!(
            "{tap} {} udp sport 547 udp dport 546 counter drop",
            t.ip(true)
        ),
    ]
}

/// One base chain on prerouting: its name, its priority offset from the
/// table's (negative: earlier) and its rules.
struct Chain {
    name: &'static str,
    offset: i32,
    rules: Vec<String>,
}

fn table(cfg: &Config, mode: TapMode, o: &Options, s: &mut String) {
    let t = Table::of(mode);
    let f = t.family;
    let tap = taps(o, false);
    let _ = writeln!(s, "add table {f} {TABLE}");
    if o.tap_set {
        let _ = writeln!(s, "add set {f} {TABLE} taps {{ type ifname; }}");
    }
    let mut chains = Vec::new();
    if o.guard_spoof {
        for (name, spec) in SPOOF_SETS {
            let _ = writeln!(s, "add set {f} {TABLE} {name} {{ {spec} }}");
        }
        let mut rules = vec![format!("{} accept", taps(o, true))];
        rules.extend(antispoof(t).into_iter().map(String::from));
        chains.push(Chain {
            name: "antispoof",
            offset: -20,
            rules,
        });
    }
    if o.guard {
        chains.push(Chain {
            name: "guard",
            offset: -10,
            rules: guard(t, &tap),
        });
    }
    if o.ratelimit {
        let mut rules = Vec::new();
        for (p, _) in queues_of(cfg) {
            let set = format!("ratelimit_{}", p.as_str());
            let (rate, burst) = kernel_limit(p);
            let _ = writeln!(
                s,
                "add set {f} {TABLE} {set} {{ type ifname; size 65535; flags dynamic,timeout; timeout 1m; }}"
            );
            rules.push(format!(
                "{tap} {} update @{set} {{ iifname limit rate over {rate}/second burst {burst} packets }} counter drop",
                request(t, p)
            ));
        }
        chains.push(Chain {
            name: "ratelimit",
            offset: -5,
            rules,
        });
    }
    if o.queue {
        let rules = queues_of(cfg)
            .into_iter()
            .map(|(p, q)| format!("{tap} {} {}", request(t, p), queue(q, o.bypass)))
            .collect();
        chains.push(Chain {
            name: "serve",
            offset: 0,
            rules,
        });
    }
    for c in chains {
        let prio = match c.offset {
            0 => t.priority.to_string(),
            n => format!("{} - {}", t.priority, -n),
        };
        let _ = writeln!(
            s,
            "add chain {f} {TABLE} {} {{ type filter hook prerouting priority {prio}; policy accept; }}",
            c.name
        );
        let _ = writeln!(s, "flush chain {f} {TABLE} {}", c.name);
        for r in c.rules {
            let _ = writeln!(s, "add rule {f} {TABLE} {} {r}", c.name);
        }
    }
}

/// The ruleset for `cfg`'s queues and `o`, for `nft -f`: one table per
/// tap mode (`inet` routed, `bridge` bridged), blank-line separated.
/// `o.taps` must have passed [`parse_pattern`]; its wildcard is written `*`.
pub fn render(cfg: &Config, o: &Options) -> String {
    let mut s = String::new();
    for (i, mode) in o.modes.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        table(cfg, *mode, o, &mut s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QueueRange;

    fn cfg() -> Config {
        let mut c = Config::default();
        c.dhcp.queue = Some(QueueRange {
            first: 42,
            last: 43,
        });
        c.ipv6.rs_queue = Some(QueueRange::single(44));
        c.ipv6.ns_queue = None;
        c.ipv6.dhcpv6_queue = Some(QueueRange::single(45));
        c
    }

    #[test]
    fn routed_taps_get_an_inet_table_that_reloads_as_one_copy() {
        let o = Options {
            modes: vec![TapMode::Routed],
            ..Options::default()
        };
        assert_eq!(
            render(&cfg(), &o),
            "add table inet nfdhcpd\n\
             add chain inet nfdhcpd serve { type filter hook prerouting priority raw; policy accept; }\n\
             flush chain inet nfdhcpd serve\n\
             add rule inet nfdhcpd serve iifname \"tap*\" meta nfproto ipv4 udp dport 67 queue num 42-43 fanout\n\
             add rule inet nfdhcpd serve iifname \"tap*\" icmpv6 type nd-router-solicit queue num 44\n\
             add rule inet nfdhcpd serve iifname \"tap*\" meta nfproto ipv6 udp dport 547 queue num 45\n"
        );
    }

    #[test]
    fn bridged_taps_get_a_bridge_table_and_bypass_joins_the_flags() {
        let o = Options {
            modes: vec![TapMode::Bridged],
            taps: "vnet+".into(),
            bypass: true,
            ..Options::default()
        };
        let r = render(&cfg(), &o);
        assert!(r.starts_with("add table bridge nfdhcpd\nadd chain bridge nfdhcpd serve { type filter hook prerouting priority filter; policy accept; }\n"), "{r}");
        assert!(r.contains("add rule bridge nfdhcpd serve iifname \"vnet*\" ether type ip udp dport 67 queue num 42-43 fanout,bypass\n"), "{r}");
        assert!(
            r.contains("iifname \"vnet*\" icmpv6 type nd-router-solicit queue num 44 bypass\n"),
            "{r}"
        );
        assert!(
            r.contains("iifname \"vnet*\" ether type ip6 udp dport 547 queue num 45 bypass\n"),
            "{r}"
        );
    }

    #[test]
    fn a_tap_set_replaces_the_pattern_and_is_declared_in_each_table() {
        let o = Options {
            tap_set: true,
            guard: true,
            ..Options::default()
        };
        let r = render(&cfg(), &o);
        for f in ["inet", "bridge"] {
            assert!(
                r.contains(&format!("add set {f} nfdhcpd taps {{ type ifname; }}\n")),
                "{r}"
            );
        }
        assert!(!r.contains("tap*"), "{r}");
        assert_eq!(r.matches("iifname @taps").count(), 2 * (3 + 3), "{r}");
    }

    #[test]
    fn guard_only_has_no_queue_statement_and_runs_before_the_queues() {
        let o = Options {
            queue: false,
            guard: true,
            ..Options::default()
        };
        let r = render(&cfg(), &o);
        assert!(!r.contains("queue"), "{r}");
        assert!(r.contains("add chain inet nfdhcpd guard { type filter hook prerouting priority raw - 10; policy accept; }\n"), "{r}");
        assert!(r.contains("add rule bridge nfdhcpd guard iifname \"tap*\" icmpv6 type { nd-router-advert, nd-redirect } counter drop\n"), "{r}");
        assert!(r.contains("add rule bridge nfdhcpd guard iifname \"tap*\" ether type ip udp sport 67 udp dport 68 counter drop\n"), "{r}");
        assert!(r.contains("add rule inet nfdhcpd guard iifname \"tap*\" meta nfproto ipv6 udp sport 547 udp dport 546 counter drop\n"), "{r}");
    }

    #[test]
    fn ratelimit_meters_are_keyed_by_tap_for_each_served_protocol() {
        let o = Options {
            modes: vec![TapMode::Routed],
            queue: false,
            ratelimit: true,
            ..Options::default()
        };
        let r = render(&cfg(), &o);
        assert!(r.contains("add set inet nfdhcpd ratelimit_rs { type ifname; size 65535; flags dynamic,timeout; timeout 1m; }\n"), "{r}");
        assert!(r.contains("add rule inet nfdhcpd ratelimit iifname \"tap*\" icmpv6 type nd-router-solicit update @ratelimit_rs { iifname limit rate over 20/second burst 40 packets } counter drop\n"), "{r}");
        assert_eq!(r.matches("update @").count(), 3, "NS has no queue: {r}");
    }

    #[test]
    fn antispoof_checks_arp_only_in_the_bridge_table() {
        let o = Options {
            queue: false,
            guard_spoof: true,
            ..Options::default()
        };
        let r = render(&cfg(), &o);
        let (inet, bridge) = r.split_once("\n\n").unwrap();
        for t in [inet, bridge] {
            assert!(t.contains("antispoof iifname != \"tap*\" accept\n"), "{t}");
            assert!(
                t.contains("iifname . ip saddr != @spoof_ip4 counter drop"),
                "{t}"
            );
            assert!(
                t.contains("typeof iifname . @th,64,128; flags interval;"),
                "{t}"
            );
        }
        assert!(!inet.contains("arp"), "{inet}");
        assert!(
            bridge.contains("iifname . arp saddr ip != @spoof_ip4 counter drop"),
            "{bridge}"
        );
    }

    #[test]
    fn a_disabled_protocol_has_no_queue_rule() {
        let mut c = cfg();
        c.ipv6.enabled = false;
        let r = render(&c, &Options::default());
        assert_eq!(r.matches(" queue num ").count(), 2, "{r}");
    }
}
