//! Faults and isolation: fail-open and fail-closed, kill -9 and restart,
//! binding churn under load, and replies only on their own tap.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BINDING_R: &str =
    "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n";

/// Sends `n` DHCP DISCOVERs from the routed VM (which needs an address).
fn send_discovers(t: &Topology, n: u32) {
    let sent = burst_command(&t.vm_r, "0.0.0.0", MAC_R, n)
        .status()
        .unwrap();
    assert!(sent.success(), "DISCOVERs not sent");
}

/// Sends `n` DISCOVERs with client hardware address `mac` from `vm` (whose
/// eth0 has address `addr`), as fast as it can.
fn burst_command(vm: &Netns, addr: &str, mac: &str, n: u32) -> std::process::Command {
    let py = format!(
        r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("{addr}", 68))
pkt = bytes([1, 1, 6, 0, 1, 2, 3, 4]) + bytes(20) + bytes.fromhex("{hex}") + bytes(202) + bytes([99, 130, 83, 99, 53, 1, 1, 255])
for _ in range({n}):
    s.sendto(pkt, ("255.255.255.255", 67))
"#,
        hex = mac.replace(':', "")
    );
    let mut c = std::process::Command::new("ip");
    c.args(["netns", "exec", &vm.name, "python3", "-c", &py]);
    c
}

/// Packets that went past the queue into the filter table.
fn passed(t: &Topology) -> u64 {
    t.host
        .run("iptables -L INPUT -v -x -n | awk '/dpt:67/ {print $1}'")
        .trim()
        .parse()
        .unwrap_or(0)
}

fn fail_topology(tag: &str, bypass: bool) -> Topology {
    let t = Topology::new(tag);
    t.write_binding("tap-r", BINDING_R);
    let extra = if bypass { " --queue-bypass" } else { "" };
    t.host.run(&format!("iptables -t mangle -A PREROUTING -i tap-r -p udp --dport 67 -j NFQUEUE --queue-num 42{extra}"));
    t.host
        .run("iptables -A INPUT -i tap-r -p udp --dport 67 -j ACCEPT");
    t.vm_r.run("ip addr add 192.0.2.99/24 dev eth0");
    t
}

#[test]
fn fail_closed_by_default_fail_open_with_queue_bypass() {
    if !prerequisites(&["python3"]) {
        return;
    }
    // Default rule, no daemon: nothing answered, nothing leaked.
    let t = fail_topology("fc", false);
    send_discovers(&t, 50);
    assert_eq!(
        passed(&t),
        0,
        "fail-closed: guest packets must not pass while the daemon is down"
    );
    // --queue-bypass, no daemon: the guest's packets go on as if nfdhcpd were not there.
    let t = fail_topology("fb", true);
    send_discovers(&t, 50);
    assert_eq!(
        passed(&t),
        50,
        "--queue-bypass: packets pass while no daemon is bound"
    );
}

#[test]
fn a_full_queue_drops_by_default_and_passes_with_fail_open() {
    if !prerequisites(&["python3"]) {
        return;
    }
    for (tag, fail_open) in [("fo", true), ("fz", false)] {
        let t = fail_topology(tag, false);
        let cfg = t.write_config("", "");
        let text = std::fs::read_to_string(&cfg).unwrap().replace(
            "[general]\n",
            &format!("[general]\nqueue_max_len = 8\nfail_open = {fail_open}\n"),
        );
        std::fs::write(&cfg, text).unwrap();
        let mut d = t.start_daemon(&cfg);
        let pid = Pid::from_raw(d.status().pid as i32);
        // The daemon stops consuming: the kernel queue fills up after 8 packets.
        kill(pid, Signal::SIGSTOP).unwrap();
        send_discovers(&t, 100);
        let through = passed(&t);
        let stat = t.queue_stats();
        kill(pid, Signal::SIGCONT).unwrap();
        if fail_open {
            assert_eq!(
                through, 92,
                "fail-open: what the full queue cannot hold goes on; {stat:?}"
            );
        } else {
            assert_eq!(through, 0, "fail-closed: a full queue drops; {stat:?}");
            assert!(
                stat.iter().any(|q| q.queue == 42 && q.queue_dropped >= 92),
                "{stat:?}"
            );
        }
        // Resumed, it gives the 8 queued packets their verdict.
        d.wait_for("queued packets handled", |s| {
            s.counters.get("dhcpv4.received").copied().unwrap_or(0) >= 8
        });
        std::thread::sleep(Duration::from_millis(100));
        t.wait_queues_empty();
        assert!(d.stop().success());
    }
}

fn dir_table(dir: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                return None;
            }
            let text = std::fs::read_to_string(e.path()).ok()?;
            let ip = text
                .lines()
                .find_map(|l| l.strip_prefix("IP="))?
                .to_string();
            Some((name, ip))
        })
        .collect()
}

fn status_table(d: &Daemon) -> BTreeMap<String, String> {
    d.status()
        .bindings
        .into_iter()
        .map(|b| (b.tap, b.ip.unwrap_or_default()))
        .collect()
}

fn churn_binding(n: u32, gen: u32) -> String {
    format!(
        "MAC=aa:00:00:01:{:02x}:{:02x}\nIP=203.0.113.{}\nSUBNET=203.0.113.0/24\n",
        n >> 8,
        n & 0xff,
        1 + (n + gen) % 250
    )
}

#[test]
fn binding_churn_while_serving_ends_with_table_equal_to_directory() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("ch");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    let d = t.start_daemon(&t.write_config("", ""));
    let pid = d.status().pid;
    let dir = t.bindings();
    // Answering throughout: a client renews in the background.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = {
        let (stop, vm, script) = (
            stop.clone(),
            t.vm_r.name.clone(),
            client_script(t.dir.path(), "churn-client").0,
        );
        std::thread::spawn(move || {
            let mut ok = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let out = sh_out(&format!(
                    "ip netns exec {vm} udhcpc -i eth0 -f -n -q -t 3 -T 1 -s {}",
                    script.display()
                ));
                assert!(out.status.success(), "lease failed during churn");
                ok += 1;
            }
            ok
        })
    };
    // 30 s here; the 10-minute soak of BENCHMARKS.md sets NFDHCPD_CHURN_SECS.
    let secs = std::env::var("NFDHCPD_CHURN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut rss_warm = 0;
    // RSS ten times over the run, to show it flat on a long soak.
    let (mut rss_seen, mut rss_next) = (Vec::new(), Duration::ZERO);
    let start = Instant::now();
    let mut op = 0u32;
    while start.elapsed() < Duration::from_secs(secs) {
        // 1,000 operations per second over 2,000 taps.
        let due = start + Duration::from_micros(u64::from(op) * 1000);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let n = fastrand::u32(0..2000);
        let name = format!("c{n}");
        let path = dir.join(&name);
        match op % 4 {
            0 => std::fs::write(&path, churn_binding(n, op)).unwrap(),
            1 => {
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, churn_binding(n, op)).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
            }
            2 => {
                if path.exists() {
                    std::fs::write(&path, churn_binding(n, op)).unwrap();
                }
            }
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
        op += 1;
        if rss_warm == 0 && start.elapsed() > Duration::from_secs(5) {
            rss_warm = rss_kib(pid);
        }
        if start.elapsed() >= rss_next {
            rss_seen.push(rss_kib(pid));
            rss_next += Duration::from_secs(secs.div_ceil(10));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let leases = client.join().expect("client thread");
    let want = dir_table(&dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = status_table(&d);
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "table differs from the directory: {} vs {} entries",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss_end = rss_kib(pid);
    eprintln!("churn: {op} operations in {secs} s, {} bindings at the end, {leases} leases, RSS {rss_warm} KiB after warm-up, {rss_end} KiB at the end (KiB along the run: {rss_seen:?})", want.len());
    assert!(leases >= 10, "only {leases} leases during churn");
    assert!(
        rss_end < rss_warm + 32 * 1024,
        "memory grew: {rss_warm} KiB → {rss_end} KiB"
    );
}

#[test]
fn killed_under_load_then_restarted_serves_every_binding() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("kl");
    t.write_binding("tap-r", BINDING_R);
    for n in 0..10_000u32 {
        std::fs::write(t.bindings().join(format!("c{n}")), churn_binding(n, 0)).unwrap();
    }
    t.install_rules();
    let cfg = t.write_config("", "");
    let mut d = t.start_daemon(&cfg);
    d.wait_for("all bindings", |s| s.bindings.len() == 10_001);
    // Load: the bridged VM floods DISCOVERs (it has no binding: accepted, not answered).
    t.vm_b.run("ip addr add 198.51.100.99/24 dev eth0");
    let mut flood = std::process::Command::new("ip")
        .args(["netns", "exec", &t.vm_b.name, "python3", "-c"])
        .arg("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.bind(('198.51.100.99',68))\nend=time.time()+6\nwhile time.time()<end: s.sendto(bytes(300),('255.255.255.255',67))")
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(d.status().pid as i32), Signal::SIGKILL).unwrap();
    let _ = d.stop();
    let started = Instant::now();
    let d = t.start_daemon(&cfg);
    let s = d.wait_for("every binding back", |s| {
        s.bindings.len() == 10_001
            && s.bindings
                .iter()
                .any(|b| b.tap == "tap-r" && b.state == "active")
    });
    eprintln!(
        "restart to ready with 10,001 bindings under load: {:?}",
        started.elapsed()
    );
    assert!(s.ready);
    let _ = flood.wait();
    std::thread::sleep(Duration::from_millis(300));
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.wait_queues_empty())).is_err() {
        let log = d.log_text();
        let interesting: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .take(40)
            .collect();
        panic!(
            "queues not drained; counters {:?}\n{}",
            d.status().counters,
            interesting.join("\n")
        );
    }
    assert!(udhcpc_once(&t, &t.vm_r, "after-restart", "").0);
}

#[test]
fn each_reply_leaves_only_through_its_own_tap() {
    if !prerequisites(&["udhcpc", "rdisc6", "tcpdump"]) {
        return;
    }
    let t = Topology::new("is");
    // A third VM on the same bridge as vm-b.
    let vm_c = Netns::new(&format!("{}c", t.host.name));
    vm_c.run("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    t.host.run(&format!("ip link add tap-c type veth peer name eth0 netns {} && ip link set tap-c master br0 && ip link set tap-c up", vm_c.name));
    vm_c.run("ip link set eth0 address aa:00:00:00:00:30 && ip link set eth0 up");
    t.host.run("ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap-c -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43");
    t.host.run("iptables -t mangle -A PREROUTING -p udp -m physdev --physdev-in tap-c -m udp --dport 67 -j NFQUEUE --queue-num 42");
    t.install_rules();
    let vms: [(&Netns, &str, &str, &str, &str); 3] = [
        (
            &t.vm_r,
            "tap-r",
            "aa:00:00:00:00:10",
            "192.0.2.10",
            "2001:db8:1::",
        ),
        (
            &t.vm_b,
            "tap-b",
            "aa:00:00:00:00:20",
            "198.51.100.20",
            "2001:db8:2::",
        ),
        (
            &vm_c,
            "tap-c",
            "aa:00:00:00:00:30",
            "198.51.100.30",
            "2001:db8:3::",
        ),
    ];
    for (_, tap, mac, ip, p6) in vms {
        let indev = if tap == "tap-r" { "tap-r" } else { "br0" };
        let net = if tap == "tap-r" {
            "192.0.2.0/24"
        } else {
            "198.51.100.0/24"
        };
        t.write_binding(
            tap,
            &format!("INDEV={indev}\nMAC={mac}\nIP={ip}\nSUBNET={net}\nSUBNET6={p6}/64\n"),
        );
    }
    let d = t.start_daemon(&t.write_config("", "ra_period = 1"));
    d.wait_for("3 active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 3
    });
    let caps: Vec<_> = vms
        .iter()
        .map(|(vm, tap, ..)| {
            let f = t.dir.path().join(format!("{tap}.txt"));
            let child = std::process::Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &vm.name,
                    "timeout",
                    "5",
                    "tcpdump",
                    "-l",
                    "-n",
                    "-e",
                    "-v",
                    "-i",
                    "eth0",
                    "udp src port 67 or (icmp6 and ip6[40] == 134)",
                ])
                .stdout(std::fs::File::create(&f).unwrap())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            (child, f)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    for (vm, ..) in vms {
        let (script, _) = client_script(t.dir.path(), &format!("iso-{}", vm.name));
        // -B: ask for broadcast replies, the case where a leak would show.
        assert!(vm
            .run_out(&format!(
                "udhcpc -B -i eth0 -f -n -q -t 3 -T 1 -s {}",
                script.display()
            ))
            .status
            .success());
        vm.run("rdisc6 -1 -r 2 -w 1000 eth0 >/dev/null");
    }
    for ((mut child, f), (_, tap, mac, ip, p6)) in caps.into_iter().zip(vms) {
        let _ = child.wait();
        let text = std::fs::read_to_string(&f).unwrap();
        let mut dhcp = 0;
        let mut ras = 0;
        for l in text.lines() {
            if l.contains("Your-IP") {
                assert!(
                    l.contains(&format!("Your-IP {ip}")),
                    "{tap} saw another VM's reply: {l}"
                );
                dhcp += 1;
            }
            if l.contains("Client-Ethernet-Address") {
                assert!(l.contains(mac), "{tap} saw another VM's reply: {l}");
            }
            if l.contains("prefix info option") {
                assert!(
                    l.contains(&format!("): {p6}/64,")),
                    "{tap} saw another VM's RA: {l}"
                );
                ras += 1;
            }
        }
        assert!(
            dhcp >= 2 && ras >= 1,
            "{tap}: {dhcp} DHCP replies, {ras} RAs in:\n{text}"
        );
    }
}

#[test]
fn starting_under_load_leaves_no_packet_stuck_in_the_queue() {
    if !prerequisites(&["python3"]) {
        return;
    }
    // Packets that reach a queue while it is being configured (between the
    // bind and the last acknowledgement) must still get a verdict.
    let t = Topology::new("sl");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    t.vm_b.run("ip addr add 198.51.100.99/24 dev eth0");
    let mut flood = std::process::Command::new("ip")
        .args(["netns", "exec", &t.vm_b.name, "python3", "-c"])
        .arg("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.bind(('198.51.100.99',68))\nend=time.time()+4\nwhile time.time()<end: s.sendto(bytes(300),('255.255.255.255',67))")
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let cfg = t.write_config("", "");
    let mut started = Vec::new();
    // Restart a few times while the flood goes on: each start is a new window.
    for _ in 0..3 {
        let mut d = t.start_daemon(&cfg);
        std::thread::sleep(Duration::from_millis(200));
        started.push(
            d.log_text()
                .contains("packets queued while the queue was being configured"),
        );
        assert!(d.stop().success());
    }
    let d = t.start_daemon(&cfg);
    let _ = flood.wait();
    t.wait_queues_empty();
    eprintln!("configuration windows that caught packets: {started:?}");
    assert!(!d.log_text().contains("are stuck"), "{}", d.log_text());
}

/// A counter, by name, among a status' counters (0 when absent: only
/// non-zero ones are listed).
fn counter(counters: &BTreeMap<String, u64>, name: &str) -> u64 {
    counters.get(name).copied().unwrap_or(0)
}

/// Every DHCPv4 outcome the daemon counted: replies, drops, requests
/// consumed without reply, packets not ours (ACCEPT) and replies not sent.
fn dhcpv4_outcomes(counters: &BTreeMap<String, u64>) -> u64 {
    counters
        .iter()
        .filter(|(k, _)| {
            ["dhcpv4.reply.", "dhcpv4.drop.", "dhcpv4.consumed."]
                .iter()
                .any(|p| k.starts_with(p))
                || *k == "dhcpv4.accepted_not_ours"
                || *k == "dhcpv4.send_errors"
        })
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn a_burst_from_several_vms_gets_one_verdict_each_whatever_the_receive_batch() {
    if !prerequisites(&["python3"]) {
        return;
    }
    const EACH: u32 = 250;
    const VMS: u64 = 4;
    // recv_batch: the default (several queue messages per system call),
    // then one; both with the default nap (a busy worker naps on a timer
    // instead of sleeping on its socket). Then no nap and queue_spin_us
    // (the worker spins on its drained queue while packets come close
    // together). The counter each must move, and the one it must not.
    for (tag, setting, moves, still) in [
        ("rb", "", "dhcpv4.queue_naps", "dhcpv4.queue_spins"),
        (
            "r1",
            "recv_batch = 1\n",
            "dhcpv4.queue_naps",
            "dhcpv4.queue_spins",
        ),
        (
            "sp",
            "queue_spin_us = 1000\nqueue_nap_us = 0\n",
            "dhcpv4.queue_spins",
            "dhcpv4.queue_naps",
        ),
    ] {
        let one_per_call = setting.starts_with("recv_batch");
        let t = Topology::new(tag);
        // Three VMs with a binding (routed, bridged, routed), one without.
        let vm_c = t.add_vm("tap-c", "aa:00:00:00:00:30", false);
        let vm_d = t.add_vm("tap-d", "aa:00:00:00:00:40", false);
        t.write_binding("tap-r", BINDING_R);
        t.write_binding(
            "tap-b",
            "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\n",
        );
        t.write_binding(
            "tap-c",
            "INDEV=tap-c\nIP=192.0.2.30\nMAC=aa:00:00:00:00:30\nSUBNET=192.0.2.0/24\n",
        );
        t.install_rules();
        for tap in ["tap-c", "tap-d"] {
            t.host.run(&format!("iptables -t mangle -A PREROUTING -i {tap} -p udp --dport 67 -j NFQUEUE --queue-num 42"));
        }
        // What the verdicts let through (ACCEPT) reaches this counter
        // (no reverse-path check: the VMs' source addresses have no route here).
        t.host.run("sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.tap-d.rp_filter=0");
        t.host.run("iptables -N passed && iptables -A passed -j RETURN && iptables -A INPUT -p udp --dport 67 -j passed");
        let cfg = t.write_config("", "");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("[general]\n", &format!("[general]\n{setting}"));
        std::fs::write(&cfg, text).unwrap();
        let d = t.start_daemon(&cfg);
        d.wait_for("bindings active", |s| {
            s.bindings.iter().filter(|b| b.state == "active").count() == 3
        });
        let pid = Pid::from_raw(d.status().pid as i32);
        let vms = [
            (&t.vm_r, "203.0.113.10", MAC_R),
            (&t.vm_b, "203.0.113.20", MAC_B),
            (&vm_c, "203.0.113.30", "aa:00:00:00:00:30"),
            (&vm_d, "203.0.113.40", "aa:00:00:00:00:40"),
        ];
        for (vm, addr, _) in vms {
            vm.run(&format!("ip addr add {addr}/24 dev eth0"));
        }
        // First while the daemon serves, then while it is stopped, so that
        // the whole burst waits in its socket when it resumes.
        let mut total = 0;
        for stopped in [false, true] {
            let calls_before = counter(&d.status().counters, "dhcpv4.receive_calls");
            if stopped {
                kill(pid, Signal::SIGSTOP).unwrap();
            }
            // All VMs at once: the queue fills faster than one packet per receive.
            let senders: Vec<_> = vms
                .iter()
                .map(|(vm, addr, mac)| burst_command(vm, addr, mac, EACH).spawn().unwrap())
                .collect();
            for mut s in senders {
                assert!(s.wait().unwrap().success());
            }
            total += u64::from(EACH) * VMS;
            if stopped {
                let deadline = Instant::now() + Duration::from_secs(10);
                let waiting = || {
                    let q = t.queue_stats();
                    q.iter().find(|q| q.queue == 42).map_or(0, |q| q.total)
                };
                while u64::from(waiting()) < u64::from(EACH) * VMS {
                    assert!(Instant::now() < deadline, "{:?}", t.queue_stats());
                    std::thread::sleep(Duration::from_millis(20));
                }
                kill(pid, Signal::SIGCONT).unwrap();
            }
            d.wait_for("every packet received and accounted for", |s| {
                counter(&s.counters, "dhcpv4.received") >= total
                    && dhcpv4_outcomes(&s.counters) >= total
            });
            t.wait_queues_empty();
            let calls = counter(&d.status().counters, "dhcpv4.receive_calls") - calls_before;
            let burst = u64::from(EACH) * VMS;
            eprintln!("{tag}, stopped {stopped}: {burst} packets in {calls} receive calls");
            if !one_per_call && stopped {
                // The whole burst waited: up to 32 messages per call.
                assert!(
                    calls * 8 <= burst,
                    "{tag}: {calls} calls for {burst} packets"
                );
            }
        }
        let q = t.queue_stats();
        let q42 = q.iter().find(|q| q.queue == 42).expect("queue 42 listed");
        assert_eq!(
            (q42.queue_dropped, q42.user_dropped),
            (0, 0),
            "{tag}: the kernel lost none: {q:?}"
        );
        let passed: u64 = t
            .host
            .run("iptables -nvxL INPUT | awk '$3 == \"passed\" {print $1}'")
            .trim()
            .parse()
            .unwrap();
        let s = d.status();
        eprintln!("{tag}: {:?}", s.counters);
        assert_eq!(
            counter(&s.counters, "dhcpv4.received"),
            total,
            "{tag}: {s:?}"
        );
        assert_eq!(
            dhcpv4_outcomes(&s.counters),
            total,
            "{tag}: one outcome per packet: {:?}",
            s.counters
        );
        assert_eq!(counter(&s.counters, "dhcpv4.verdict_errors"), 0, "{tag}");
        // Never a spin unless asked (off by default), never a nap when off.
        assert_eq!(counter(&s.counters, still), 0, "{tag}: {still}");
        if one_per_call {
            assert_eq!(
                counter(&s.counters, "dhcpv4.receive_calls"),
                total,
                "{tag}: one message per call"
            );
        }
        let unbound = total / VMS;
        assert_eq!(
            counter(&s.counters, "dhcpv4.accepted_not_ours"),
            unbound,
            "{tag}: the VM without a binding is not ours"
        );
        assert_eq!(
            passed, unbound,
            "{tag}: exactly its packets got ACCEPT, every other one DROP"
        );
        assert!(
            counter(&s.counters, "dhcpv4.reply.offer") > 0,
            "{tag}: {:?}",
            s.counters
        );
        // The worker spins (where asked, packets closer together than
        // 1 ms) or naps (packets at least two to 250 µs) once a burst
        // comes while the daemon serves; on a loaded machine a burst may
        // reach the worker in a few large batches only, so bursts are
        // sent until one has (at most 10).
        let moved = |d: &Daemon| counter(&d.status().counters, moves) > 0;
        for _ in 0..10 {
            if moved(&d) {
                break;
            }
            let (vm, addr, mac) = vms[0];
            assert!(burst_command(vm, addr, mac, EACH)
                .status()
                .unwrap()
                .success());
            t.wait_queues_empty();
        }
        assert!(moved(&d), "{tag}: {moves}: {:?}", d.status().counters);
        assert_eq!(counter(&d.status().counters, still), 0, "{tag}: {still}");
    }
}
