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
