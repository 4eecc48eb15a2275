//! The nftables ruleset of `nfdhcpd rules --backend nft`, in network
//! namespaces: the shipped files are its output; it loads, reloads as one
//! copy keeping the sets' elements, touches no other table and holds no xt
//! (compat) expression; its queue rules match exactly what the iptables
//! rules queue, routed and bridged, with the br_netfilter sysctls off too,
//! and nothing from a non-tap port or the uplink; after a SIGHUP with new
//! queue numbers the daemon and `rules --backend nft` agree; the per-tap
//! meters of `--ratelimit` cut a flood.
//!
//! A kernel without CONFIG_NFT_QUEUE (this kind of machine) refuses any
//! `queue` statement, `nft -c` too. There the queue rules' matching is
//! tested with each `queue …` statement replaced by `counter`, nothing
//! else changed, against the counters of the iptables rules that really
//! queue to the daemon; where the kernel has it, the real ruleset serves
//! real clients end to end. Each test prints which path ran.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const BINDING_R: &str = "IP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nGATEWAY=198.51.100.1\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\n";

/// The protocols of the queue rules, as this file names them.
const PROTOCOLS: [&str; 4] = ["dhcpv4", "rs", "ns", "dhcpv6"];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nfdhcpd")
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `nfdhcpd -c CONF rules ARGS`.
fn rules(conf: &Path, args: &str) -> String {
    sh(&format!("{} -c {} rules {args}", bin(), conf.display()))
}

/// The ruleset with each `queue …` statement replaced by `counter`,
/// nothing else changed (the queue statement ends its rule).
fn queue_to_counter(ruleset: &str) -> String {
    ruleset
        .lines()
        .map(|l| match l.find(" queue num ") {
            Some(i) if !l.starts_with('#') => format!("{} counter\n", &l[..i]),
            _ => format!("{l}\n"),
        })
        .collect()
}

/// Whether this kernel takes nft's queue statement, asked of `nft -c` in
/// a scratch namespace. A refusal for any other reason than the missing
/// expression (a syntax error, say) fails the test.
fn nft_queue_available() -> bool {
    let ns = Netns::new(&unique("nq"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("probe.nft");
    std::fs::write(
        &f,
        "add table inet probe\n\
         add chain inet probe c { type filter hook prerouting priority raw; }\n\
         add rule inet probe c iifname \"tap*\" udp dport 67 queue num 42-43 fanout,bypass\n",
    )
    .unwrap();
    let out = ns.run_out(&format!("nft -c -f {}", f.display()));
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No such file or directory"),
        "nft refused a queue rule for another reason: {err}"
    );
    false
}

/// Loads `text` with `nft -f` in `ns` (through a file in `dir`).
fn load(ns: &Netns, dir: &Path, name: &str, text: &str) {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    ns.run(&format!("nft -f {}", f.display()));
}

/// Which queue rule a rule line is (`nft list` or `ip6tables-save` spelling).
fn protocol_of(rule: &str) -> Option<&'static str> {
    if rule.contains("dport 67") {
        Some("dhcpv4")
    } else if rule.contains("nd-router-solicit") || rule.contains("icmpv6-type 133") {
        Some("rs")
    } else if rule.contains("nd-neighbor-solicit") || rule.contains("icmpv6-type 135") {
        Some("ns")
    } else if rule.contains("dport 547") {
        Some("dhcpv6")
    } else {
        None
    }
}

/// Packets counted by each queue rule of `family`'s table (chain `serve`).
fn nft_counts(ns: &Netns, family: &str) -> BTreeMap<&'static str, u64> {
    let text = ns.run(&format!("nft list chain {family} nfdhcpd serve"));
    let mut m = BTreeMap::new();
    for l in text.lines() {
        let (Some(p), Some(n)) = (protocol_of(l), l.split("counter packets ").nth(1)) else {
            continue;
        };
        let n: u64 = n.split_whitespace().next().unwrap().parse().unwrap();
        *m.entry(p).or_default() += n;
    }
    m
}

/// Packets counted by the iptables queue rules, by (mode, protocol).
fn ipt_counts(ns: &Netns) -> Counts {
    let mut m = BTreeMap::new();
    let text = ns.run("iptables-save -c -t mangle; ip6tables-save -c -t mangle");
    for l in text.lines().filter(|l| l.contains("NFQUEUE")) {
        let Some(p) = protocol_of(l) else { continue };
        let mode = if l.contains("physdev") {
            "bridged"
        } else {
            "routed"
        };
        let n: u64 = l[1..l.find(':').unwrap()].parse().unwrap();
        *m.entry((mode, p)).or_default() += n;
    }
    m
}

/// Packets counted, by (mode, protocol).
type Counts = BTreeMap<(&'static str, &'static str), u64>;

/// The counters of both sides, by (mode, protocol): the nft tables' queue
/// rules (inet = routed, bridge = bridged), and the iptables rules.
fn counters(t: &Topology) -> (Counts, Counts) {
    let mut nft = BTreeMap::new();
    for (family, mode) in [("inet", "routed"), ("bridge", "bridged")] {
        for (p, n) in nft_counts(&t.host, family) {
            nft.insert((mode, p), n);
        }
    }
    (nft, ipt_counts(&t.host))
}

fn delta<K: Ord + Copy>(after: &BTreeMap<K, u64>, before: &BTreeMap<K, u64>) -> BTreeMap<K, u64> {
    after
        .iter()
        .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
        .collect()
}

/// What the clients of [`clients`] achieved (and what they printed).
#[derive(Debug)]
struct Served {
    udhcpc: bool,
    dhclient: bool,
    rdisc6: bool,
    ndisc6: bool,
    dhclient6: bool,
    output: String,
}

/// Runs the real clients in `vm`: udhcpc then dhclient (IPv4), while
/// rdisc6, ndisc6 (for `gw6`) and dhclient -6 (Information-Request) run
/// beside them. Each is bounded (about 5 s in all when nobody answers).
fn clients(t: &Topology, vm: &Netns, name: &str, gw6: &str) -> Served {
    let d = t.dir.path().display().to_string();
    let (s4, _) = client_script(t.dir.path(), &format!("{name}-udhcpc"));
    let (sd, _) = client_script(t.dir.path(), &format!("{name}-dhclient"));
    let (s6, log6) = client_script(t.dir.path(), &format!("{name}-dhclient6"));
    std::fs::write(
        format!("{d}/{name}.conf"),
        "timeout 3; retry 1; initial-interval 1;\n",
    )
    .unwrap();
    let rc = |c: &str| format!(">{d}/{name}-{c}.out 2>&1; echo $? >{d}/{name}-{c}.rc");
    vm.run(&format!(
        "( udhcpc -i eth0 -f -n -q -t 2 -T 1 -s {s4} {u}; \
           dhclient -v -1 -cf {d}/{name}.conf -sf {sd} -lf {d}/{name}.l4 -pf {d}/{name}.p4 eth0 {dc}; \
           dhclient -x -pf {d}/{name}.p4 >/dev/null 2>&1 ) & \
         ( rdisc6 -1 -r 2 -w 700 eth0 {r} ) & \
         ( ndisc6 -1 -r 2 -w 700 {gw6} eth0 {n} ) & \
         ( timeout 3 dhclient -6 -S -v -1 -d -sf {s6} -lf {d}/{name}.l6 -pf {d}/{name}.p6 eth0 {d6} ) & \
         wait",
        s4 = s4.display(),
        sd = sd.display(),
        s6 = s6.display(),
        u = rc("udhcpc"),
        dc = rc("dhclient"),
        r = rc("rdisc6"),
        n = rc("ndisc6"),
        d6 = rc("dhclient6"),
    ));
    let ok = |c: &str| {
        std::fs::read_to_string(format!("{d}/{name}-{c}.rc"))
            .unwrap_or_default()
            .trim()
            == "0"
    };
    Served {
        udhcpc: ok("udhcpc"),
        dhclient: ok("dhclient"),
        rdisc6: ok("rdisc6"),
        ndisc6: ok("ndisc6"),
        // dhclient -6 -S names its event INFORM6, or RENEW6 once it has one.
        dhclient6: client_events(&log6)
            .iter()
            .any(|(e, _)| e == "INFORM6" || e == "RENEW6"),
        output: format!("{:?}\n", client_events(&log6))
            + &["udhcpc", "dhclient", "rdisc6", "ndisc6", "dhclient6"]
                .map(|c| {
                    let out = std::fs::read_to_string(format!("{d}/{name}-{c}.out"));
                    format!("--- {c}:\n{}", out.unwrap_or_default())
                })
                .join("\n"),
    }
}

fn all_served(s: &Served) -> bool {
    s.udhcpc && s.dhclient && s.rdisc6 && s.ndisc6 && s.dhclient6
}

/// Packets received by host interface `dev` so far.
fn rx_packets(t: &Topology, dev: &str) -> u64 {
    t.host
        .run(&format!("cat /sys/class/net/{dev}/statistics/rx_packets"))
        .trim()
        .parse()
        .unwrap()
}

fn br_netfilter(t: &Topology, on: bool) {
    let v = u8::from(on);
    t.host.run(&format!(
        "sysctl -qw net.bridge.bridge-nf-call-iptables={v} net.bridge.bridge-nf-call-ip6tables={v} net.bridge.bridge-nf-call-arptables={v}"
    ));
}

/// The topology with its bindings, an uplink (`up0`, a br0 port that is no
/// tap) and a routed interface that is no tap (`vnet0`), each with a
/// client namespace. The VMs send no RS of their own.
fn setup(tag: &str) -> (Topology, Netns, Netns, PathBuf) {
    let t = Topology::new(tag);
    let up = t.add_vm("up0", "aa:00:00:00:00:e0", true);
    let other = t.add_vm("vnet0", "aa:00:00:00:00:e1", false);
    for vm in [&t.vm_r, &t.vm_b, &up, &other] {
        vm.run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
        vm.wait_link_local("eth0");
    }
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    let conf = t.write_config("", "");
    (t, up, other, conf)
}

#[test]
fn shipped_nft_files_are_the_rules_output() {
    let conf = repo("bindings-examples/nfdhcpd.default.toml");
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("nftables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nft"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let args = text
            .lines()
            .find_map(|l| l.strip_prefix("# Generated by: nfdhcpd rules "))
            .unwrap_or_else(|| panic!("{}: no 'Generated by' line", f.display()));
        assert!(args.contains("--backend nft"), "{}", f.display());
        // The file is its header (comments, a blank line), then the output.
        let body: String = text
            .lines()
            .skip_while(|l| l.starts_with('#') || l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            body,
            rules(&conf, args),
            "{} differs from `nfdhcpd rules {args}`",
            f.display()
        );
    }
}

#[test]
fn each_shipped_ruleset_loads_twice_as_one_copy_and_touches_nothing_else() {
    if !prerequisites(&["nft"]) {
        return;
    }
    let real = nft_queue_available();
    eprintln!(
        "PATH: {}",
        if real {
            "the kernel has nft_queue: the rulesets load as shipped"
        } else {
            "no nft_queue in this kernel: queue statements loaded as counters"
        }
    );
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(repo("nftables")).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        let text = if real { text } else { queue_to_counter(&text) };
        let ns = Netns::new(&unique("nl"));
        // Someone else's table, which must come out untouched.
        ns.run(
            "nft add table inet filter && \
             nft add chain inet filter input \"{ type filter hook input priority 0; policy accept; }\" && \
             nft add rule inet filter input tcp dport 22 accept",
        );
        let other = ns.run("nft list table inet filter");
        load(&ns, dir.path(), &name, &text);
        let first = ns.run("nft list ruleset");
        // A set element (the hook's) survives a reload.
        let antispoof = name == "antispoof.nft";
        if antispoof {
            ns.run("nft add element bridge nfdhcpd spoof_mac \"{ \\\"tap-b\\\" . aa:00:00:00:00:20 }\"");
        }
        load(&ns, dir.path(), &name, &text);
        load(&ns, dir.path(), &name, &text);
        let again = ns.run("nft list ruleset");
        if antispoof {
            assert!(again.contains("\"tap-b\" . aa:00:00:00:00:20"), "{again}");
            ns.run("nft delete element bridge nfdhcpd spoof_mac \"{ \\\"tap-b\\\" . aa:00:00:00:00:20 }\"");
            assert_eq!(ns.run("nft list ruleset"), first, "{name}");
        } else {
            assert_eq!(again, first, "{name}: a reload is not one copy");
        }
        assert!(
            !first.contains(" xt "),
            "{name}: compat expression: {first}"
        );
        assert_eq!(ns.run("nft list table inet filter"), other, "{name}");
        let tables: Vec<String> = ns
            .run("nft list tables")
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(
            tables,
            [
                "table inet filter",
                "table inet nfdhcpd",
                "table bridge nfdhcpd"
            ],
            "{name}"
        );
        // One rule per line of the file that adds one.
        let added = text.lines().filter(|l| l.starts_with("add rule")).count();
        let listed = ns
            .run("nft -a list table inet nfdhcpd; nft -a list table bridge nfdhcpd")
            .lines()
            .filter(|l| l.starts_with("\t\t") && l.contains("# handle"))
            .count();
        assert_eq!(listed, added, "{name}: {first}");
    }
}

/// Asserts the nft counters equal the iptables ones for every (mode,
/// protocol), and that each counted something.
fn assert_counts_equal(what: &str, nft: &Counts, ipt: &Counts) {
    eprintln!("{what}: nft {nft:?}\n{what}: iptables {ipt:?}");
    for mode in ["routed", "bridged"] {
        for p in PROTOCOLS {
            let k = (mode, p);
            assert_eq!(nft.get(&k), ipt.get(&k), "{what}: {k:?}");
            assert!(
                nft.get(&k).copied().unwrap_or(0) > 0,
                "{what}: {k:?} saw nothing"
            );
        }
    }
}

#[test]
fn the_nft_queue_rules_take_exactly_what_the_iptables_rules_queue() {
    if !prerequisites(&["nft", "udhcpc", "dhclient", "rdisc6", "ndisc6", "tcpdump"]) {
        return;
    }
    if nft_queue_available() {
        eprintln!("PATH: the kernel has nft_queue: real clients lease through the nft ruleset");
        return leases_through_the_real_ruleset();
    }
    eprintln!("PATH: no nft_queue in this kernel: queue statements loaded as counters, compared with the iptables rules that queue");
    let (t, up, other, conf) = setup("nq");
    let dir = t.dir.path().to_path_buf();
    load(
        &t.host,
        &dir,
        "counted.nft",
        &queue_to_counter(&rules(&conf, "--backend nft")),
    );
    // The queues are fed by the iptables rules, as the original's.
    for fam in ["ipv4", "ipv6"] {
        let tool = if fam == "ipv4" {
            "iptables"
        } else {
            "ip6tables"
        };
        let f = dir.join(format!("{fam}.rules"));
        std::fs::write(&f, rules(&conf, &format!("--family {fam}"))).unwrap();
        t.host
            .run(&format!("{tool}-restore --noflush < {}", f.display()));
    }
    let d = t.start_daemon(&conf);
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });

    // 1. br_netfilter on (iptables needs it for bridged taps): every packet
    //    the iptables rules queue, the nft rules count, and no other.
    let (nft0, ipt0) = counters(&t);
    let (r, b) = std::thread::scope(|s| {
        let r = s.spawn(|| clients(&t, &t.vm_r, "r", "2001:db8:1::1"));
        let b = s.spawn(|| clients(&t, &t.vm_b, "b", "2001:db8:2::1"));
        (r.join().unwrap(), b.join().unwrap())
    });
    for s in [&r, &b] {
        assert!(all_served(s), "{}\nlog:\n{}", s.output, d.log_text());
    }
    t.wait_queues_empty();
    let (nft1, ipt1) = counters(&t);
    assert_counts_equal("taps", &delta(&nft1, &nft0), &delta(&ipt1, &ipt0));

    // 2. br_netfilter off: iptables no longer sees the bridged tap; the
    //    bridge table still counts every request it sends (a capture on
    //    the host side of the tap is the reference), and nothing from a
    //    bridge port that is no tap (the uplink) or from a routed
    //    interface that is no tap, which send the same requests meanwhile.
    br_netfilter(&t, false);
    let mut cap = Capture::start(&t.host, "tap-b", "-Q in", "ip or ip6", &dir.join("b.pcap"));
    let rx0 = (rx_packets(&t, "up0"), rx_packets(&t, "vnet0"));
    let (nft2, ipt2) = counters(&t);
    let b = std::thread::scope(|s| {
        s.spawn(|| clients(&t, &up, "up", "2001:db8:2::1"));
        s.spawn(|| clients(&t, &other, "other", "2001:db8:1::1"));
        clients(&t, &t.vm_b, "b-off", "2001:db8:2::1")
    });
    assert!(
        !b.udhcpc,
        "bridged client served without br_netfilter: {b:?}"
    );
    let sent: BTreeMap<&str, u64> = [
        ("dhcpv4", "ip and udp dst port 67"),
        ("rs", "icmp6 and ip6[40] == 133"),
        ("ns", "icmp6 and ip6[40] == 135"),
        ("dhcpv6", "ip6 and udp dst port 547"),
    ]
    .into_iter()
    .map(|(p, f)| (p, cap.packets(f).len() as u64))
    .collect();
    let (nft3, ipt3) = counters(&t);
    let rx1 = (rx_packets(&t, "up0"), rx_packets(&t, "vnet0"));
    assert!(
        rx1.0 > rx0.0 + 8 && rx1.1 > rx0.1 + 8,
        "the uplink and the non-tap interface sent nothing: {rx0:?} {rx1:?}"
    );
    let (dn, di) = (delta(&nft3, &nft2), delta(&ipt3, &ipt2));
    eprintln!("br_netfilter off: tap-b sent {sent:?}\nnft {dn:?}\niptables {di:?}");
    for p in PROTOCOLS {
        assert!(sent[p] > 0, "{p}: the client sent nothing");
        assert_eq!(dn[&("bridged", p)], sent[p], "{p}");
        assert_eq!(dn[&("routed", p)], 0, "{p}: counted from no tap");
        assert_eq!(
            di[&("bridged", p)],
            0,
            "{p}: iptables saw it without br_netfilter"
        );
        assert_eq!(di[&("routed", p)], 0, "{p}: iptables counted from no tap");
    }
}

/// Where the kernel has nft_queue: the real ruleset, br_netfilter off, no
/// iptables rule; real clients lease routed and bridged, the uplink and a
/// non-tap interface get nothing.
fn leases_through_the_real_ruleset() {
    let (t, up, other, conf) = setup("nr");
    br_netfilter(&t, false);
    load(
        &t.host,
        t.dir.path(),
        "nfdhcpd.nft",
        &rules(&conf, "--backend nft"),
    );
    let d = t.start_daemon(&conf);
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    for (vm, name, gw6) in [
        (&t.vm_r, "r", "2001:db8:1::1"),
        (&t.vm_b, "b", "2001:db8:2::1"),
    ] {
        let s = clients(&t, vm, name, gw6);
        assert!(
            all_served(&s),
            "{name}: {}\nlog:\n{}",
            s.output,
            d.log_text()
        );
    }
    for (vm, name) in [(&up, "up"), (&other, "other")] {
        let s = clients(&t, vm, name, "2001:db8:2::1");
        assert!(!s.udhcpc && !s.rdisc6, "{name} served: {s:?}");
    }
    t.wait_queues_empty();
    assert!(t.host.run("nft list ruleset").contains("queue"));
}

/// The queue numbers of a ruleset's queue statements, ranges expanded.
fn queue_numbers(ruleset: &str) -> Vec<u16> {
    let mut v: Vec<u16> = ruleset
        .lines()
        .filter_map(|l| l.split(" queue num ").nth(1))
        .flat_map(|q| {
            let q = q.split_whitespace().next().unwrap();
            let (a, b) = q.split_once('-').unwrap_or((q, q));
            a.parse::<u16>().unwrap()..=b.parse::<u16>().unwrap()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn after_a_sighup_with_new_queues_the_daemon_and_the_nft_rules_agree() {
    if !prerequisites(&[]) {
        return;
    }
    let t = Topology::new("nh");
    let conf = t.write_config("", "");
    let d = t.start_daemon(&conf);
    let bound = |t: &Topology| {
        let mut q: Vec<u16> = t.queue_stats().iter().map(|q| q.queue).collect();
        q.sort();
        q
    };
    assert_eq!(bound(&t), [42, 43, 44, 45]);
    assert_eq!(
        queue_numbers(&rules(&conf, "--backend nft")),
        [42, 43, 44, 45]
    );
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("dhcp_queue = 42", "dhcp_queue = 52:53")
        .replace("rs_queue = 43", "rs_queue = 54")
        .replace("ns_queue = 44", "ns_queue = 55")
        .replace("dhcpv6_queue = 45", "dhcpv6_queue = 56");
    std::fs::write(&conf, text).unwrap();
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while bound(&t) != [52, 53, 54, 55, 56] {
        assert!(
            std::time::Instant::now() < deadline,
            "queues after SIGHUP: {:?}\nlog:\n{}",
            bound(&t),
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = rules(&conf, "--backend nft");
    assert_eq!(queue_numbers(&r), bound(&t), "{r}");
    assert!(r.contains("queue num 52-53 fanout"), "{r}");
}

/// A one-second DHCPDISCOVER flood from eth0, as fast as it goes; prints
/// how many were sent.
const FLOOD: &str = r#"
import socket, sys, time
end = time.time() + float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 68))
pkt = bytes([1, 1, 6, 0, 1, 2, 3, 4]) + bytes(20) + bytes.fromhex("aa0000000010") + bytes(202) + bytes([99, 130, 83, 99, 53, 1, 1, 255])
n = 0
while time.time() < end:
    for _ in range(1000):
        try:
            s.sendto(pkt, ("255.255.255.255", 67))
            n += 1
        except OSError:
            pass
print(n)
"#;

#[test]
fn the_nft_meters_cut_a_flood_per_tap_before_the_queue() {
    if !prerequisites(&["nft", "udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("nm");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let shipped = std::fs::read_to_string(repo("nftables/ratelimit.nft")).unwrap();
    load(&t.host, t.dir.path(), "ratelimit.nft", &shipped);
    let d = t.start_daemon(&t.write_config("", "[limits]\nrate = 0"));
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    std::fs::write(t.dir.path().join("flood.py"), FLOOD).unwrap();
    let out = t.vm_r.run(&format!(
        "python3 {} 1",
        t.dir.path().join("flood.py").display()
    ));
    let sent: u64 = out.trim().parse().unwrap();
    t.wait_queues_empty();
    let received = d
        .status()
        .counters
        .get("dhcpv4.received")
        .copied()
        .unwrap_or(0);
    let listing = t.host.run("nft list chain inet nfdhcpd ratelimit");
    let dropped: u64 = listing
        .lines()
        .find(|l| l.contains("dport 67"))
        .and_then(|l| l.split("counter packets ").nth(1))
        .and_then(|n| n.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    eprintln!("sent {sent}, queued {received}, dropped by the meter {dropped}");
    assert!(sent > 1000, "generator too slow: {sent}");
    // Burst 100, then 50/s for about a second.
    assert!(
        received <= 100 + 50 * 2,
        "the meter let {received} of {sent} through"
    );
    assert_eq!(received + dropped, sent);
    // The meter is per tap: the neighbour's first request goes through.
    let (ok, _) = udhcpc_once(&t, &t.vm_b, "neighbour", "");
    assert!(ok, "log:\n{}", d.log_text());
    // And the flooder is served again once it is within its limit.
    std::thread::sleep(Duration::from_secs(2));
    let (ok, _) = udhcpc_once(&t, &t.vm_r, "flooder", "");
    assert!(ok, "log:\n{}", d.log_text());
}
