//! Guard rules (`nfdhcpd rules --guard`), both backends, end to end in
//! network namespaces: a guest on the bridge plays router and DHCP
//! server (Router Advertisements, Redirects, DHCPOFFERs, DHCPv6
//! Advertises, from raw sockets); without the guard rules its neighbour
//! sees all of it (so the rules are what stops it), with them nothing,
//! while the neighbour is still served by nfdhcpd through the iptables
//! queue rules. The guard rules need no nft `queue` statement, so they run
//! natively on any kernel with nf_tables.

mod common;

use std::path::Path;

use common::*;

const BINDING_R: &str = "IP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nGATEWAY=198.51.100.1\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\n";
/// The rogue guest's MAC, on bridge port tap-x.
const ROGUE_MAC: &str = "aa:00:00:00:00:30";

/// Crafts and sends Ethernet frames from eth0 (AF_PACKET), one kind per
/// argument, each `KIND[,ARG...]`, every frame three times. The source MAC
/// is eth0's unless a kind takes one.
///
/// ra, redirect, offer, advertise: a router's or a server's message.
/// udp4,MAC,SRC,DST,DPORT and udp6,…: a datagram from MAC (`own`: eth0's).
/// arp,MAC,SENDER_IP,TARGET_IP,OP: an ARP request (1) or reply (2) from MAC.
/// na,MAC,SRC,TARGET: an unsolicited Neighbour Advertisement.
/// vlan,MAC: a datagram tagged for VLAN 5.
const FORGE: &str = r#"
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def mac(s):
    return bytes.fromhex(s.replace(":", ""))

def a4(s):
    return socket.inet_pton(socket.AF_INET, s)

def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)

def eth(dst, src, typ, payload):
    return dst + src + struct.pack("!H", typ) + payload

def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, 255) + src + dst + payload

def l4sum6(src, dst, nh, seg):
    return csum(src + dst + struct.pack("!I", len(seg)) + b"\0\0\0" + bytes([nh]) + seg)

def icmp6(src, dst, body):
    c = l4sum6(src, dst, 58, body)
    return ip6(src, dst, 58, body[:2] + struct.pack("!H", c) + body[4:])

def udp6(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4sum6(src, dst, 17, u) or 0xffff
    return ip6(src, dst, 17, u[:6] + struct.pack("!H", c) + u[8:])

def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def udp4(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = csum(src + dst + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xffff
    return ip4(src, dst, 17, u[:6] + struct.pack("!H", c) + u[8:])

def bootp(op, chaddr, yiaddr, opts):
    b = struct.pack("!BBBBIHH4s4s4s4s", op, 1, 6, 0, 0x5eed, 0, 0x8000, bytes(4), a4(yiaddr), bytes(4), bytes(4))
    return b + mac(chaddr) + bytes(10) + bytes(192) + bytes([99, 130, 83, 99]) + opts + b"\xff"

def link_local(m):
    b = bytearray(mac(m))
    b[0] ^= 2
    return "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % tuple(b)

BCAST = mac("ff:ff:ff:ff:ff:ff")
ALLNODES = mac("33:33:00:00:00:01")
own = open("/sys/class/net/eth0/address").read().strip()
ll = a6(link_local(own))

def frame(kind, args, src):
    if kind == "ra":
        pio = struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0, a6("2001:db8:bad::"))
        body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + pio
        return eth(ALLNODES, src, 0x86DD, icmp6(ll, a6("ff02::1"), body))
    if kind == "redirect":
        body = struct.pack("!BBHI", 137, 0, 0, 0) + a6("fe80::bad") + a6("2001:db8:2::99")
        return eth(ALLNODES, src, 0x86DD, icmp6(ll, a6("ff02::1"), body))
    if kind == "offer":
        opts = bytes([53, 1, 2, 54, 4]) + a4("198.51.100.66") + bytes([1, 4, 255, 255, 255, 0, 3, 4]) + a4("198.51.100.66") + bytes([51, 4, 0, 0, 14, 16])
        return eth(BCAST, src, 0x0800, udp4(a4("198.51.100.66"), a4("255.255.255.255"), 67, 68, bootp(2, "aa:00:00:00:00:20", "198.51.100.99", opts)))
    if kind == "advertise":
        duid = struct.pack("!HH", 3, 1) + src
        data = bytes([2, 0x12, 0x34, 0x56]) + struct.pack("!HH", 2, len(duid)) + duid
        return eth(ALLNODES, src, 0x86DD, udp6(ll, a6("ff02::1"), 547, 546, data))
    m = src if args[0] == "own" else mac(args[0])
    if kind == "udp4":
        return eth(BCAST, m, 0x0800, udp4(a4(args[1]), a4(args[2]), 40000, int(args[3]), b"x"))
    if kind == "udp6":
        return eth(ALLNODES, m, 0x86DD, udp6(a6(args[1]), a6(args[2]), 40000, int(args[3]), b"x"))
    if kind == "arp":
        body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, int(args[3])) + m + a4(args[1]) + bytes(6) + a4(args[2])
        return eth(BCAST, m, 0x0806, body)
    if kind == "na":
        body = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + a6(args[2]) + bytes([2, 1]) + m
        return eth(ALLNODES, m, 0x86DD, icmp6(a6(args[1]), a6("ff02::1"), body))
    if kind == "vlan":
        inner = udp4(a4("198.51.100.30"), a4("255.255.255.255"), 40000, 40099, b"x")
        return BCAST + m + struct.pack("!HHH", 0x8100, 5, 0x0800) + inner
    raise SystemExit("unknown kind " + kind)

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for arg in sys.argv[1:]:
    kind, *args = arg.split(",")
    f = frame(kind, args, mac(own))
    for _ in range(3):
        s.send(f)
        time.sleep(0.02)
"#;

/// What a rogue router or server sends, and how tcpdump shows it.
const ROGUE_KINDS: [(&str, &str); 4] = [
    ("ra", "router advertisement"),
    ("redirect", "redirect"),
    ("offer", "BOOTP/DHCP, Reply"),
    ("advertise", "dhcp6 advertise"),
];

fn forge(t: &Topology, vm: &Netns, kinds: &[&str]) {
    let f = t.dir.path().join("forge.py");
    std::fs::write(&f, FORGE).unwrap();
    vm.run(&format!("python3 {} {}", f.display(), kinds.join(" ")));
}

/// Starts a capture of what reaches the neighbour (vm-b).
fn capture_neighbour(t: &Topology, name: &str) -> Capture {
    Capture::start(
        &t.vm_b,
        "eth0",
        "-Q in",
        "",
        &t.dir.path().join(format!("{name}.pcap")),
    )
}

/// How many of each rogue kind the capture holds from the rogue's MAC.
fn rogue_seen(cap: &mut Capture) -> Vec<(&'static str, usize)> {
    let lines = cap.packets(&format!("ether src {ROGUE_MAC}"));
    ROGUE_KINDS
        .iter()
        .map(|(k, shown)| (*k, lines.iter().filter(|l| l.contains(shown)).count()))
        .collect()
}

/// `nfdhcpd -c CONF rules ARGS`.
fn rules(conf: &Path, args: &str) -> String {
    sh(&format!(
        "{} -c {} rules {args}",
        env!("CARGO_BIN_EXE_nfdhcpd"),
        conf.display()
    ))
}

/// Loads the guard rules (no queue rules) of `backend` in the host.
fn load_guard(t: &Topology, conf: &Path, backend: &str) {
    let dir = t.dir.path();
    if backend == "nft" {
        let f = dir.join("guard.nft");
        std::fs::write(&f, rules(conf, "--backend nft --guard --no-queue")).unwrap();
        t.host.run(&format!("nft -f {}", f.display()));
        return;
    }
    for (fam, tool) in [("ipv4", "iptables"), ("ipv6", "ip6tables")] {
        let f = dir.join(format!("guard-{fam}.rules"));
        std::fs::write(
            &f,
            rules(conf, &format!("--guard --no-queue --family {fam}")),
        )
        .unwrap();
        t.host
            .run(&format!("{tool}-restore --noflush < {}", f.display()));
    }
}

/// Packets dropped by each guard rule of `backend`, as (rule, count).
fn guard_drops(t: &Topology, backend: &str) -> Vec<(String, u64)> {
    let text = if backend == "nft" {
        t.host
            .run("nft list chain inet nfdhcpd guard; nft list chain bridge nfdhcpd guard")
    } else {
        t.host
            .run("iptables-save -c -t mangle; ip6tables-save -c -t mangle")
    };
    text.lines()
        .filter(|l| l.contains("drop") || l.contains("-j DROP"))
        .map(|l| {
            let n = if backend == "nft" {
                l.split("counter packets ").nth(1).unwrap()
            } else {
                &l[1..]
            };
            let n = n
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (l.trim().to_string(), n)
        })
        .collect()
}

fn rogue_servers_never_reach_the_neighbour(backend: &str) {
    let mut tools = vec!["tcpdump", "python3", "udhcpc", "rdisc6", "dhclient"];
    if backend == "nft" {
        tools.push("nft");
    }
    if !prerequisites(&tools) {
        return;
    }
    let t = Topology::new(&format!("g{}", &backend[..1]));
    let rogue = t.add_vm("tap-x", ROGUE_MAC, true);
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let conf = t.write_config("", "");
    let d = t.start_daemon(&conf);
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    t.vm_b.wait_link_local("eth0");
    let kinds: Vec<&str> = ROGUE_KINDS.iter().map(|(k, _)| *k).collect();

    // Without guard rules, the neighbour sees all of it.
    let mut cap = capture_neighbour(&t, "unguarded");
    forge(&t, &rogue, &kinds);
    let seen = rogue_seen(&mut cap);
    eprintln!("{backend}: without guard rules the neighbour saw {seen:?}");
    assert!(seen.iter().all(|(_, n)| *n >= 3), "{seen:?}");

    // With them, nothing; nfdhcpd still serves the neighbour.
    load_guard(&t, &conf, backend);
    let mut cap = capture_neighbour(&t, "guarded");
    forge(&t, &rogue, &kinds);
    // A routed guest's are dropped too (before the host takes them).
    forge(&t, &t.vm_r, &kinds);
    let (leased, _) = udhcpc_once(&t, &t.vm_b, "neighbour", "");
    let ra = t.vm_b.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    let (s6, log6) = client_script(t.dir.path(), "neighbour6");
    let dir = t.dir.path().display();
    let _ = t.vm_b.run_out(&format!(
        "timeout 3 dhclient -6 -S -v -1 -d -sf {} -lf {dir}/n6.leases -pf {dir}/n6.pid eth0",
        s6.display()
    ));
    let informed = client_events(&log6)
        .iter()
        .any(|(e, _)| e == "INFORM6" || e == "RENEW6");
    assert!(
        leased && ra.status.success() && informed,
        "the neighbour was not served: udhcpc {leased}, rdisc6 {:?}, dhclient -6 {informed}\nlog:\n{}",
        ra.status,
        d.log_text()
    );
    let seen = rogue_seen(&mut cap);
    eprintln!("{backend}: with guard rules the neighbour saw {seen:?}");
    assert!(seen.iter().all(|(_, n)| *n == 0), "{seen:?}");
    // What it did see of the kinds the guard drops is nfdhcpd's.
    for filter in [
        "udp src port 67",
        "icmp6 and ip6[40] == 134",
        "udp src port 547",
    ] {
        assert!(
            !cap.packets(filter).is_empty(),
            "nfdhcpd's {filter} did not reach the neighbour"
        );
    }
    // Every guard rule, routed and bridged, dropped something.
    let drops = guard_drops(&t, backend);
    // iptables: one rule per kind, family and mode; nft: RA and Redirect
    // share a rule, both families share a table.
    let rules_per_backend = if backend == "nft" { 6 } else { 8 };
    assert_eq!(drops.len(), rules_per_backend, "{drops:?}");
    assert!(drops.iter().all(|(_, n)| *n > 0), "{drops:?}");
}

#[test]
fn iptables_guard_rules_stop_a_rogue_router_and_dhcp_server() {
    rogue_servers_never_reach_the_neighbour("iptables");
}

#[test]
fn nft_guard_rules_stop_a_rogue_router_and_dhcp_server() {
    rogue_servers_never_reach_the_neighbour("nft");
}

const BINDING_X: [&str; 5] = [
    "MAC=aa:00:00:00:00:30",
    "IP=198.51.100.30",
    "SUBNET=198.51.100.0/24",
    "GATEWAY=198.51.100.1",
    "SUBNET6=2001:db8:3::/64",
];

/// The elements of `family`'s nfdhcpd set `set`, sorted.
fn set_elements(t: &Topology, family: &str, set: &str) -> Vec<String> {
    let text = t.host.run(&format!("nft list set {family} nfdhcpd {set}"));
    let Some((_, e)) = text.split_once("elements = {") else {
        return Vec::new();
    };
    let mut v: Vec<String> = e
        .split(['}', ','])
        .map(str::trim)
        .filter(|s| s.starts_with('"'))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Asserts every anti-spoofing set of both tables holds exactly `want`
/// (set, element) pairs.
fn assert_sets(t: &Topology, want: &[(&str, &str)]) {
    for family in ["inet", "bridge"] {
        for set in [
            "spoof_anymac",
            "spoof_mac",
            "spoof_ip4",
            "spoof_ip6",
            "spoof_nd6",
        ] {
            let mut w: Vec<String> = want
                .iter()
                .filter(|(s, _)| *s == set)
                .map(|(_, e)| e.to_string())
                .collect();
            w.sort();
            assert_eq!(set_elements(t, family, set), w, "{family} {set}");
        }
    }
}

/// Runs the shipped hook in the host namespace, on the test's datapath.
fn hook(t: &Topology, args: &str) {
    t.host.run(&format!(
        "DATAPATH={} sh {} {args}",
        t.bindings().display(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bindings-examples/nfdhcpd-hook")
            .display()
    ));
}

/// What a guest forges and whether its neighbour must see it: (forge
/// argument, what tcpdump shows of it, passes).
const SPOOF_CASES: [(&str, &str, bool); 14] = [
    (
        "udp4,own,198.51.100.30,198.51.100.20,40001",
        ".40001:",
        true,
    ),
    (
        "udp4,aa:00:00:00:00:99,198.51.100.30,198.51.100.20,40002",
        ".40002:",
        false,
    ),
    (
        "udp4,own,198.51.100.20,198.51.100.21,40003",
        ".40003:",
        false,
    ),
    (
        "udp6,own,2001:db8:3::30,2001:db8:2::20,40004",
        ".40004:",
        true,
    ),
    (
        "udp6,own,fe80::a800:ff:fe00:30,ff02::1,40005",
        ".40005:",
        true,
    ),
    (
        "udp6,own,2001:db8:2::30,2001:db8:2::20,40006",
        ".40006:",
        false,
    ),
    (
        "arp,own,198.51.100.30,198.51.100.1,2",
        "Reply 198.51.100.30 is-at",
        true,
    ),
    ("arp,own,0.0.0.0,198.51.100.30,1", "tell 0.0.0.0", true),
    (
        "arp,own,198.51.100.20,198.51.100.1,2",
        "Reply 198.51.100.20 is-at",
        false,
    ),
    (
        "arp,aa:00:00:00:00:20,198.51.100.20,198.51.100.1,2",
        "is-at aa:00:00:00:00:20",
        false,
    ),
    (
        "na,own,fe80::a800:ff:fe00:30,2001:db8:3::30",
        "tgt is 2001:db8:3::30",
        true,
    ),
    (
        "na,own,fe80::a800:ff:fe00:30,fe80::a800:ff:fe00:30",
        "tgt is fe80::a800:ff:fe00:30",
        true,
    ),
    (
        "na,own,fe80::a800:ff:fe00:30,2001:db8:2::20",
        "tgt is 2001:db8:2::20",
        false,
    ),
    ("vlan,own", "vlan 5", false),
];

/// The cases the neighbour wrongly saw or wrongly missed.
fn spoof_mistakes(
    t: &Topology,
    guest: &Netns,
    name: &str,
    cases: &[(&str, &str, bool)],
) -> Vec<String> {
    let mut cap = capture_neighbour(t, name);
    forge(t, guest, &cases.iter().map(|c| c.0).collect::<Vec<_>>());
    let lines = cap.packets("not ether src aa:00:00:00:00:20 and not ether src fe:00:00:00:00:b0");
    let mistakes: Vec<String> = cases
        .iter()
        .filter(|(_, shown, pass)| lines.iter().any(|l| l.contains(shown)) != *pass)
        .map(|(arg, _, pass)| format!("{arg}: {}", if *pass { "dropped" } else { "passed" }))
        .collect();
    if !mistakes.is_empty() {
        eprintln!("the neighbour saw:\n{}", lines.join("\n"));
    }
    mistakes
}

#[test]
fn guard_spoof_lets_a_guest_send_only_as_itself_and_the_hook_keeps_the_sets() {
    if !prerequisites(&["nft", "tcpdump", "python3", "udhcpc"]) {
        return;
    }
    let t = Topology::new("gs");
    let guest = t.add_vm("tap-x", ROGUE_MAC, true);
    // The queue rules for every tap (tap+), the shipped anti-spoofing.
    let conf = t.write_config("", "");
    for (fam, tool) in [("ipv4", "iptables"), ("ipv6", "ip6tables")] {
        let f = t.dir.path().join(format!("{fam}.rules"));
        std::fs::write(&f, rules(&conf, &format!("--family {fam}"))).unwrap();
        t.host
            .run(&format!("{tool}-restore --noflush < {}", f.display()));
    }
    t.host.run(&format!(
        "nft -f {}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("nftables/antispoof.nft")
            .display()
    ));
    // Before the hook, a tap matching tap* can send nothing at all.
    let shut = spoof_mistakes(
        &t,
        &guest,
        "unbound",
        &SPOOF_CASES.map(|(a, s, _)| (a, s, false)),
    );
    assert!(shut.is_empty(), "{shut:?}");

    // The hook writes the bindings and fills the sets.
    hook(&t, &format!("up tap-x {}", BINDING_X.join(" ")));
    hook(
        &t,
        "up tap-b MAC=aa:00:00:00:00:20 IP=198.51.100.20 SUBNET=198.51.100.0/24 SUBNET6=2001:db8:2::/64 PREFIX6_DELEGATED=2001:db8:100::/56",
    );
    hook(
        &t,
        "up tap-r MAC=aa:00:00:00:00:10 IP=192.0.2.10 SUBNET=192.0.2.0/24 MACSPOOF=yes",
    );
    let bound: [(&str, &str); 12] = [
        ("spoof_mac", "\"tap-x\" . aa:00:00:00:00:30"),
        ("spoof_mac", "\"tap-b\" . aa:00:00:00:00:20"),
        ("spoof_mac", "\"tap-r\" . aa:00:00:00:00:10"),
        ("spoof_anymac", "\"tap-r\""),
        ("spoof_ip4", "\"tap-x\" . 198.51.100.30"),
        ("spoof_ip4", "\"tap-b\" . 198.51.100.20"),
        ("spoof_ip4", "\"tap-r\" . 192.0.2.10"),
        ("spoof_ip6", "\"tap-x\" . 2001:db8:3::/64"),
        ("spoof_ip6", "\"tap-b\" . 2001:db8:2::/64"),
        ("spoof_ip6", "\"tap-b\" . 2001:db8:100::/56"),
        (
            "spoof_nd6",
            "\"tap-x\" . 0x20010db8000300000000000000000000-0x20010db800030000ffffffffffffffff",
        ),
        (
            "spoof_nd6",
            "\"tap-b\" . 0x20010db8000200000000000000000000-0x20010db800020000ffffffffffffffff",
        ),
    ];
    let mut want = bound.to_vec();
    want.push((
        "spoof_nd6",
        "\"tap-b\" . 0x20010db8010000000000000000000000-0x20010db8010000ffffffffffffffffff",
    ));
    assert_sets(&t, &want);
    let d = t.start_daemon(&conf);
    d.wait_for("bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 3
    });

    // Own traffic passes; forged MAC, IPv4, IPv6, ARP, NA and VLAN do not.
    let wrong = spoof_mistakes(&t, &guest, "bound", &SPOOF_CASES);
    assert!(wrong.is_empty(), "{wrong:?}");
    // DHCP from 0.0.0.0 passes: a real client leases through the queue.
    let (leased, ev) = udhcpc_once(&t, &guest, "guest", "");
    assert!(leased, "{ev:?}\nlog:\n{}", d.log_text());
    // A routed tap is checked too, in the inet table (MACSPOOF: any MAC).
    let drops = |t: &Topology| {
        t.host
            .run("nft list chain inet nfdhcpd antispoof")
            .lines()
            .find(|l| l.contains("ip saddr != @spoof_ip4"))
            .and_then(|l| l.split("counter packets ").nth(1))
            .and_then(|n| n.split_whitespace().next())
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = drops(&t);
    forge(
        &t,
        &t.vm_r,
        &["udp4,aa:00:00:00:00:98,192.0.2.10,192.0.2.1,40010"],
    );
    assert_eq!(
        drops(&t),
        before,
        "its own address from another MAC (MACSPOOF)"
    );
    forge(&t, &t.vm_r, &["udp4,own,192.0.2.99,192.0.2.1,40011"]);
    assert_eq!(drops(&t), before + 3, "a forged address");

    // The hook keeps the sets equal to the bindings: a new binding replaces
    // the old elements, "down" takes them all out.
    hook(
        &t,
        "up tap-x MAC=aa:00:00:00:00:30 IP=198.51.100.31 SUBNET=198.51.100.0/24",
    );
    let mut want: Vec<(&str, &str)> = bound
        .iter()
        .filter(|(_, e)| !e.starts_with("\"tap-x\""))
        .copied()
        .collect();
    want.extend([
        (
            "spoof_nd6",
            "\"tap-b\" . 0x20010db8010000000000000000000000-0x20010db8010000ffffffffffffffffff",
        ),
        ("spoof_mac", "\"tap-x\" . aa:00:00:00:00:30"),
        ("spoof_ip4", "\"tap-x\" . 198.51.100.31"),
    ]);
    assert_sets(&t, &want);
    let wrong = spoof_mistakes(
        &t,
        &guest,
        "rebound",
        &[
            (
                "udp4,own,198.51.100.31,198.51.100.20,40007",
                ".40007:",
                true,
            ),
            (
                "udp4,own,198.51.100.30,198.51.100.20,40008",
                ".40008:",
                false,
            ),
            (
                "udp6,own,2001:db8:3::30,2001:db8:2::20,40009",
                ".40009:",
                false,
            ),
        ],
    );
    assert!(wrong.is_empty(), "{wrong:?}");
    hook(&t, "down tap-x");
    want.retain(|(_, e)| !e.starts_with("\"tap-x\""));
    assert_sets(&t, &want);
    assert!(!t.bindings().join("tap-x").exists());
    hook(&t, "down tap-b");
    hook(&t, "down tap-r");
    assert_sets(&t, &[]);
}
