//! Hostile guests: floods, foreign MACs, replies only on their own tap.

mod common;

use std::time::{Duration, Instant};

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nGATEWAY=198.51.100.1\nSUBNET6=2001:db8:2::/64\n";

/// A flood generator: `kind` is dhcp, rs or ns; runs for `secs` seconds as fast as it can.
const FLOOD: &str = r#"
import socket, sys, time
kind, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs
n = 0
if kind == "dhcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.bind(("0.0.0.0", 68))
    pkt = bytes([1, 1, 6, 0, 1, 2, 3, 4]) + bytes(20) + bytes.fromhex("aa0000000020") + bytes(202) + bytes([99, 130, 83, 99, 53, 1, 1, 255])
    dst = ("255.255.255.255", 67)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    idx = socket.if_nametoindex("eth0")
    if kind == "rs":
        pkt = bytes([133, 0, 0, 0, 0, 0, 0, 0, 1, 1]) + bytes.fromhex("aa0000000020")
        dst = ("ff02::2", 0, 0, idx)
    else:
        pkt = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, "2001:db8:2::1") + bytes([1, 1]) + bytes.fromhex("aa0000000020")
        dst = ("ff02::1:ff00:1", 0, 0, idx)
while time.time() < end:
    for _ in range(1000):
        try:
            s.sendto(pkt, dst)
            n += 1
        except OSError:
            pass
print(n)
"#;

#[test]
fn a_flooding_guest_does_not_starve_its_neighbour() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("fl");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let d = t.start_daemon(&t.write_config("", ""));
    d.wait_for("active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    std::fs::write(t.dir.path().join("flood.py"), FLOOD).unwrap();
    let limited_b = |d: &Daemon| d.status().binding("tap-b").unwrap().rate_limited;
    for kind in ["dhcp", "rs", "ns"] {
        let before = limited_b(&d);
        let flood = std::process::Command::new("ip")
            .args(["netns", "exec", &t.vm_b.name, "python3"])
            .arg(t.dir.path().join("flood.py"))
            .args([kind, "10"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // The neighbour keeps getting leases (and RAs) while the flood lasts.
        let start = Instant::now();
        let mut leases = 0;
        while start.elapsed() < Duration::from_secs(8) {
            let (ok, events) = udhcpc_once(&t, &t.vm_r, &format!("victim-{kind}-{leases}"), "");
            assert!(
                ok,
                "victim got no lease during the {kind} flood; log:\n{}",
                d.log_text()
            );
            assert!(events
                .iter()
                .any(|(e, v)| e == "bound" && v["ip"] == "192.0.2.10"));
            leases += 1;
        }
        let sent: u64 = String::from_utf8_lossy(&flood.wait_with_output().unwrap().stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        let limited = limited_b(&d) - before;
        eprintln!("{kind} flood: {sent} packets sent, {limited} rate-limited, victim leased {leases} times");
        assert!(leases >= 3, "{kind}: only {leases} leases");
        assert!(
            limited > sent / 2,
            "{kind}: the flood was not cut: {limited} of {sent}"
        );
        let s = d.status();
        let r = s.binding("tap-r").unwrap();
        assert_eq!(r.rate_limited, 0, "the victim was never limited");
    }
    // Nothing is left in the queues.
    std::thread::sleep(Duration::from_millis(300));
    t.wait_queues_empty();
}

#[test]
fn in_kernel_per_tap_limit_rules_cut_a_flood_before_the_queue() {
    if !prerequisites(&["python3"]) {
        return;
    }
    let t = Topology::new("kr");
    t.write_binding("tap-r", BINDING_R);
    let rules = |file: &str, cmd: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("iptables")
            .join(file);
        t.host.run(&format!(
            "sed 's/@TAP@/tap-r/g' {} | {cmd} --noflush",
            path.display()
        ));
    };
    rules("ratelimit-tap.rules", "iptables-restore");
    rules("ratelimit-tap6.rules", "ip6tables-restore");
    let d = t.start_daemon(&t.write_config("", ""));
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));
    // A one-second DISCOVER flood: the kernel passes about burst + rate × time.
    std::fs::write(t.dir.path().join("flood.py"), FLOOD).unwrap();
    let out = t.vm_r.run(&format!(
        "python3 {} dhcp 1",
        t.dir.path().join("flood.py").display()
    ));
    let sent: u64 = out.trim().parse().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let received = d
        .status()
        .counters
        .get("dhcpv4.received")
        .copied()
        .unwrap_or(0);
    let dropped: u64 = t
        .host
        .run("iptables -t mangle -L PREROUTING -v -x -n | awk '$3 == \"DROP\" {print $1}'")
        .trim()
        .parse()
        .unwrap();
    eprintln!("sent {sent}, queued {received}, dropped in-kernel {dropped}");
    assert!(sent > 1000, "generator too slow: {sent}");
    assert!(
        received <= 100 + 50 * 2,
        "the kernel let {received} of {sent} through"
    );
    assert_eq!(received + dropped, sent);
    // Within the limit, a real client is still served.
    std::thread::sleep(Duration::from_secs(2));
    assert!(udhcpc_once(&t, &t.vm_r, "limited", "").0);
}

#[test]
fn a_tap_deleted_while_being_answered_harms_no_one_else() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("td");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    // No rate limit: every RS of the flood is answered until the tap goes.
    let d = t.start_daemon(&t.write_config("", "[limits]\nrate = 0"));
    d.wait_for("active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    std::fs::write(
        t.dir.path().join("flood.py"),
        FLOOD.replace("aa0000000020", "aa0000000010"),
    )
    .unwrap();
    let flood = std::process::Command::new("ip")
        .args(["netns", "exec", &t.vm_r.name, "python3"])
        .arg(t.dir.path().join("flood.py"))
        .args(["rs", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    d.wait_for("replies flowing", |s| {
        s.counters
            .get("rs.reply.router_advert")
            .copied()
            .unwrap_or(0)
            > 1000
    });
    // The tap vanishes mid-flood (the VM is destroyed).
    t.host.run("ip link del tap-r");
    let _ = flood.wait_with_output();
    d.wait_for("tap reported missing", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.state == "tap_missing")
    });
    // The worker and the other tap are unaffected.
    assert!(
        udhcpc_once(&t, &t.vm_b, "other", "").0,
        "the other VM was not served; log:\n{}",
        d.log_text()
    );
    let out = t.vm_b.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    assert!(
        out.status.success(),
        "no RA for the other VM: {}{}\ncounters {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.status().counters
    );
    t.wait_queues_empty();
    let s = d.status();
    eprintln!("counters after the deletion: {:?}", s.counters);
    assert!(
        s.counters.get("rs.send_errors").copied().unwrap_or(0) >= 1,
        "failed sends are counted: {:?}",
        s.counters
    );
}

/// Requests that differ in every value a server might key state on: a new
/// chaddr and xid in every DHCPv4 DISCOVER, a new DUID in every DHCPv6
/// Solicit, for `secs` seconds.
const VARIED: &str = r#"
import random, socket, struct, sys, time
secs = float(sys.argv[1])
idx = socket.if_nametoindex("eth0")
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s4.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s4.bind(("0.0.0.0", 68))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.bind(("::", 546, 0, idx))
end = time.time() + secs
n = 0
while time.time() < end:
    for _ in range(200):
        r = random.getrandbits(128).to_bytes(16, "big")
        mac = b"\x02" + r[:5]
        d4 = bytes([1, 1, 6, 0]) + r[5:9] + bytes(20) + mac + bytes(202) + bytes([99, 130, 83, 99, 53, 1, 1, 255])
        d6 = bytes([1]) + r[9:12] + struct.pack("!HHH", 1, 18, 4) + r + struct.pack("!HHH", 8, 2, 0) + struct.pack("!HHIII", 3, 12, 1, 0, 0)
        try:
            s4.sendto(d4, ("255.255.255.255", 67))
            s6.sendto(d6, ("ff02::1:2", 547, 0, idx))
            n += 2
        except OSError:
            pass
print(n)
"#;

#[test]
fn many_macs_xids_and_duids_allocate_nothing_per_value() {
    if !prerequisites(&["python3"]) {
        return;
    }
    let t = Topology::new("mv");
    // MACSPOOF: every chaddr is answered; stateful DHCPv6: every Solicit is
    // advertised an address. So each request goes the whole way.
    t.write_binding(
        "tap-b",
        &format!("{BINDING_B}MACSPOOF=yes\nIP6=2001:db8:2::20\n"),
    );
    t.install_rules();
    let d = t.start_daemon(&t.write_config("", "mode = dhcpv6\n[limits]\nrate = 0"));
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));
    std::fs::write(t.dir.path().join("varied.py"), VARIED).unwrap();
    let pid = d.status().pid;
    let run = |secs: &str| {
        let out = t.vm_b.run(&format!(
            "python3 {} {secs}",
            t.dir.path().join("varied.py").display()
        ));
        out.trim().parse::<u64>().expect("sent count")
    };
    run("2"); // warm-up: allocator and buffers at their working size
    let before = rss_kib(pid);
    let sent = run("10");
    t.wait_queues_empty();
    let after = rss_kib(pid);
    let st = d.status();
    eprintln!(
        "{sent} varied requests: RSS {before} KiB -> {after} KiB; {:?}",
        st.counters
    );
    let offers = st.counters.get("dhcpv4.reply.offer").copied().unwrap_or(0);
    let v6 = st
        .counters
        .get("dhcpv6.reply.advertise")
        .copied()
        .unwrap_or(0);
    assert!(
        offers >= 10_000 && v6 >= 10_000,
        "too little traffic: {:?}",
        st.counters
    );
    // Tens of thousands of distinct MACs, xids and DUIDs: a server keeping
    // even 32 bytes for each would have grown by megabytes here.
    assert!(
        after < before + 1024,
        "memory grew with distinct values: {before} KiB -> {after} KiB after {sent} requests"
    );
}
