//! DHCPv4 end to end: the real daemon, real iptables rules and real
//! clients (udhcpc, dhclient, dhcpcd, perfdhcp) in network namespaces.

mod common;

use std::time::Duration;

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nTAGS=\"nfdhcpd ip-less-routed\"\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\nMTU=1450\n";
const BINDING_B: &str = "MTU=\nPRIVATE=\nMACSPOOF=\nINDEV=br0\nIP=198.51.100.20\nMAC=AA:00:00:00:00:20\nHOSTNAME=db2.example.net\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\n";

/// A topology with both bindings, the rules and a running daemon.
fn setup(tag: &str) -> (Topology, Daemon) {
    setup_with(tag, "")
}

/// As [`setup`], with extra config text at the end of the file.
fn setup_with(tag: &str, extra: &str) -> (Topology, Daemon) {
    let t = Topology::new(tag);
    t.host.run("ip addr add 198.51.100.1/24 dev br0");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let cfg = t.write_config("", extra);
    let d = t.start_daemon(&cfg);
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    (t, d)
}

fn udhcpc(vm: &Netns, t: &Topology, name: &str) -> (bool, Vec<ClientEvent>) {
    udhcpc_once(t, vm, name, "-O staticroutes -O search -O mtu")
}

#[test]
fn udhcpc_routed_and_bridged_get_exactly_their_binding() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let (t, d) = setup("u4");
    let (ok, ev) = udhcpc(&t.vm_r, &t, "udhcpc-r");
    assert!(ok, "udhcpc failed; log:\n{}", d.log_text());
    let v = last_event(&ev, &["bound"], "");
    assert_eq!(v["ip"], "192.0.2.10");
    assert_eq!(v["subnet"], "255.255.255.0");
    assert_eq!(v["router"], "192.0.2.1");
    assert_eq!(v["dns"], "192.0.2.53 198.51.100.53");
    assert_eq!(v["domain"], "vm.example.org");
    assert_eq!(v["hostname"], "web1");
    assert_eq!(v["mtu"], "1450");
    assert_eq!(v["broadcast"], "192.0.2.255");
    assert_eq!(v["serverid"], "192.0.2.1");
    assert_eq!(v["lease"], "604800");
    assert_eq!(v["staticroutes"], "0.0.0.0/0 192.0.2.1");
    assert_eq!(v["search"], "vm.example.org example.org");
    // The lease is really applied in the VM.
    assert!(t
        .vm_r
        .run("ip -4 addr show dev eth0")
        .contains("192.0.2.10/24"));

    let (ok, ev) = udhcpc(&t.vm_b, &t, "udhcpc-b");
    assert!(ok, "bridged udhcpc failed; log:\n{}", d.log_text());
    let v = last_event(&ev, &["bound"], "");
    assert_eq!(v["ip"], "198.51.100.20");
    assert_eq!(v["router"], "198.51.100.1");
    assert_eq!(v["hostname"], "db2.example.net");
    assert!(!v.contains_key("mtu"), "no MTU in the binding: {v:?}");
    let st = d.status();
    assert_eq!(
        st.counters.get("dhcpv4.reply.offer"),
        Some(&2),
        "{:?}",
        st.counters
    );
    assert_eq!(
        st.counters.get("dhcpv4.reply.ack"),
        Some(&2),
        "{:?}",
        st.counters
    );
}

#[test]
fn dhclient_routed_and_bridged() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("dc4");
    let conf = t.dir.path().join("dhclient.conf");
    std::fs::write(
        &conf,
        "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n\
         timeout 6; retry 1; initial-interval 1;\n\
         request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, interface-mtu, rfc3442-classless-static-routes, domain-search;\n",
    )
    .unwrap();
    for (vm, name, ip, router, host) in [
        (&t.vm_r, "dhclient-r", "192.0.2.10", "192.0.2.1", "web1"),
        (
            &t.vm_b,
            "dhclient-b",
            "198.51.100.20",
            "198.51.100.1",
            "db2.example.net",
        ),
    ] {
        let (script, log) = client_script(t.dir.path(), name);
        let pid = t.dir.path().join(format!("{name}.pid"));
        let leases = t.dir.path().join(format!("{name}.leases"));
        let out = vm.dhclient_once(&conf, &script, &leases, &pid);
        assert!(
            out.status.success(),
            "dhclient failed: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            d.log_text()
        );
        let v = last_event(&client_events(&log), &["BOUND"], "");
        assert_eq!(v["new_ip_address"], ip);
        assert_eq!(v["new_subnet_mask"], "255.255.255.0");
        assert_eq!(v["new_routers"], router);
        assert_eq!(v["new_domain_name_servers"], "192.0.2.53 198.51.100.53");
        assert_eq!(v["new_domain_name"], "vm.example.org");
        assert_eq!(v["new_host_name"], host);
        assert_eq!(v["new_domain_search"], "vm.example.org. example.org.");
        // RFC 3442 with the default route: 0 (prefix len), router octets.
        let r: Vec<&str> = router.split('.').collect();
        assert_eq!(
            v["new_rfc3442_classless_static_routes"],
            format!("0 {} {} {} {}", r[0], r[1], r[2], r[3])
        );
        if name == "dhclient-r" {
            assert_eq!(v["new_interface_mtu"], "1450");
        }
    }
}

#[test]
fn dhcpcd_routed_and_bridged() {
    if !prerequisites(&["dhcpcd"]) {
        return;
    }
    let (t, d) = setup("dd4");
    let conf = t.dir.path().join("dhcpcd.conf");
    std::fs::write(
        &conf,
        "noarp\noption classless_static_routes, interface_mtu, domain_search, host_name\n",
    )
    .unwrap();
    for (vm, name, ip, host) in [
        (&t.vm_r, "dhcpcd-r", "192.0.2.10", "web1"),
        (&t.vm_b, "dhcpcd-b", "198.51.100.20", "db2.example.net"),
    ] {
        let (ok, output, events) = dhcpcd_with(vm, &conf, &client_script(t.dir.path(), name));
        assert!(ok, "dhcpcd failed: {output}\nlog:\n{}", d.log_text());
        let v = last_event(&events, &["BOUND", "REBOOT"], "");
        assert_eq!(v["new_ip_address"], ip);
        assert_eq!(v["new_subnet_cidr"], "24");
        assert_eq!(v["new_domain_name_servers"], "192.0.2.53 198.51.100.53");
        assert_eq!(v["new_domain_name"], "vm.example.org");
        assert_eq!(v["new_host_name"], host);
        if name == "dhcpcd-r" {
            assert_eq!(v["new_interface_mtu"], "1450");
            assert_eq!(v["new_classless_static_routes"], "0.0.0.0/0 192.0.2.1");
        }
    }
}

/// Runs udhcpc in the background (renewing on SIGUSR1); returns its pid and event log.
fn udhcpc_background(t: &Topology, vm: &Netns, name: &str) -> (ClientGuard, std::path::PathBuf) {
    let (script, log) = client_script(t.dir.path(), name);
    // In the foreground under our own hand: `ip netns exec` execs udhcpc,
    // so the child's PID is the client's (no pid file race with its fork).
    let child = std::process::Command::new("ip")
        .args([
            "netns", "exec", &vm.name, "udhcpc", "-f", "-i", "eth0", "-t", "3", "-T", "1", "-A",
            "1", "-s",
        ])
        .arg(&script)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn udhcpc");
    let guard = ClientGuard(child);
    wait_until("udhcpc bound", || {
        client_events(&log).iter().any(|(e, _)| e == "bound")
    });
    (guard, log)
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}: timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A background client, stopped and reaped on drop.
struct ClientGuard(std::process::Child);
impl Drop for ClientGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn renewal_then_address_change_is_naked_then_deletion_is_not_answered() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let (t, d) = setup("rn4");
    let (guard, log) = udhcpc_background(&t, &t.vm_r, "renew");
    let pid = guard.0.id();
    let sig = |s| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), s).unwrap();

    // Renewal (unicast REQUEST from ciaddr to the server): ACKed.
    sig(nix::sys::signal::Signal::SIGUSR1);
    wait_until("renewed", || {
        client_events(&log).iter().any(|(e, _)| e == "renew")
    });
    assert!(
        d.status()
            .counters
            .get("dhcpv4.reply.ack")
            .copied()
            .unwrap_or(0)
            >= 2
    );

    // The binding's address changes while the VM holds the old lease: the
    // renewal is NAKed, the client starts over and gets the new address.
    t.write_binding(
        "tap-r",
        &BINDING_R.replace("IP=192.0.2.10", "IP=192.0.2.11"),
    );
    d.wait_for("new address in force", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.ip.as_deref() == Some("192.0.2.11"))
    });
    sig(nix::sys::signal::Signal::SIGUSR1);
    wait_until("re-bound with the new address", || {
        client_events(&log)
            .iter()
            .any(|(e, v)| e == "bound" && v.get("ip").map(String::as_str) == Some("192.0.2.11"))
    });
    assert!(
        d.status()
            .counters
            .get("dhcpv4.reply.nak")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        d.status().counters
    );

    // Deleted: the tap is no longer ours; its packets are accepted, unanswered.
    std::fs::remove_file(t.bindings().join("tap-r")).unwrap();
    d.wait_for("binding gone", |s| {
        !s.bindings.iter().any(|b| b.tap == "tap-r")
    });
    drop(guard);
    let (ok, _) = udhcpc(&t.vm_r, &t, "after-delete");
    assert!(!ok, "a deleted binding must not be served");
    assert!(
        d.status()
            .counters
            .get("dhcpv4.accepted_not_ours")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

#[test]
fn foreign_mac_gets_nothing_and_unbound_tap_is_accepted() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("sp4");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    // A counter after the queue: packets the daemon ACCEPTs reach the filter table.
    t.host
        .run("iptables -A INPUT -p udp --dport 67 -m physdev --physdev-in tap-b -j ACCEPT");
    let cfg = t.write_config("", "");
    let d = t.start_daemon(&cfg);
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));

    // The routed VM changes its MAC: nothing is answered, the drop is counted.
    t.vm_r.run("ip link set eth0 down && ip link set eth0 address aa:00:00:00:00:99 && ip link set eth0 up");
    let (ok, ev) = udhcpc(&t.vm_r, &t, "spoof");
    assert!(!ok && ev.iter().all(|(e, _)| e != "bound"), "{ev:?}");
    assert!(
        d.status()
            .counters
            .get("dhcpv4.drop.spoofed_mac")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        d.status().counters
    );

    // tap-b has no binding: its DISCOVERs get verdict ACCEPT and go on to the filter table.
    let (ok, _) = udhcpc(&t.vm_b, &t, "unbound");
    assert!(!ok);
    let accepted = d
        .status()
        .counters
        .get("dhcpv4.accepted_not_ours")
        .copied()
        .unwrap_or(0);
    assert!(accepted >= 1, "{:?}", d.status().counters);
    let counted = t
        .host
        .run("iptables -L INPUT -v -x -n | awk '/physdev/ {print $1}'");
    assert!(
        counted.trim().parse::<u64>().unwrap() >= accepted,
        "filter INPUT saw {counted}"
    );
}

#[test]
fn malformed_packets_leave_no_queued_packet_and_the_daemon_running() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    // No rate limit: every malformed packet must reach the parsers.
    let (t, mut d) = setup_with("mf4", "[limits]\nrate = 0");
    t.vm_r
        .run("ip addr add 192.0.2.99/24 dev eth0 && ping -c 1 -W 2 192.0.2.1 >/dev/null");
    let script = r#"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("192.0.2.99", 68))
hdr = bytes([1, 1, 6, 0]) + b"\x12\x34\x56\x78" + bytes(20) + bytes.fromhex("aa0000000010") + bytes(10 + 192)
cookie = bytes([99, 130, 83, 99])
cases = [b"", b"\x01", bytes(236), bytes(300), hdr, hdr + cookie, hdr + cookie + b"\x35", hdr + cookie + b"\x35\x01",
         hdr + cookie + b"\x35\x05\x01", hdr + cookie + b"\x35\x01\x07\xff", bytes([2]) + hdr[1:] + cookie + b"\x35\x01\x01\xff",
         hdr + cookie + b"\x37\xff" + bytes(10), b"\xff" * 1400]
# Hostile text in the host name (12) and client id (61): an escape sequence
# and a forged log line; once from the binding's MAC, once from another.
evil = b"\x1b[31mINJECTED\n2001-01-01T00:00:00Z ERROR forged line"
opts = b"\x35\x01\x01\x0c" + bytes([len(evil)]) + evil + b"\x3d" + bytes([len(evil)]) + evil + b"\xff"
cases += [hdr + cookie + opts, hdr[:28] + bytes.fromhex("aa00000000ee") + hdr[34:] + cookie + opts]
import time
for i in range(20):
    for c in cases:
        s.sendto(c, ("255.255.255.255", 67))
        s.sendto(c[: len(c) // 2], ("192.0.2.1", 67))
        time.sleep(0.001)
"#;
    std::fs::write(t.dir.path().join("garbage.py"), script).unwrap();
    t.vm_r.run(&format!(
        "python3 {}",
        t.dir.path().join("garbage.py").display()
    ));
    d.wait_for("all garbage received", |s| {
        s.counters.get("dhcpv4.received").copied().unwrap_or(0) >= 600
    });
    let q = t.queue_stats();
    assert!(
        q.iter()
            .all(|q| q.queue_dropped == 0 && q.user_dropped == 0),
        "{q:?}"
    );
    t.wait_queues_empty();
    assert!(d.alive(), "daemon died; log:\n{}", d.log_text());
    // Guest bytes never reach the (debug) log raw: no escape sequence, no
    // forged line; the hostile requests were handled, answered from the
    // binding's MAC and dropped as spoofed from the other.
    let st = d.status();
    for (counter, at_least) in [("dhcpv4.reply.offer", 20), ("dhcpv4.drop.spoofed_mac", 20)] {
        assert!(
            st.counters.get(counter).copied().unwrap_or(0) >= at_least,
            "{counter}: {:?}",
            st.counters
        );
    }
    let log = d.log_text();
    assert!(!log.contains('\x1b'), "raw escape in the log:\n{log}");
    assert!(
        !log.lines().any(|l| l.starts_with("2001-01-01T00:00:00Z")),
        "forged log line:\n{log}"
    );
    // Twenty spoofed requests from one tap, at most five warnings about
    // them (the per-tap warning limit): a noisy guest cannot flood the log.
    let spoof_warnings = log
        .lines()
        .filter(|l| l.contains("request with a MAC other than the binding's"))
        .count();
    assert!(
        (1..=5).contains(&spoof_warnings),
        "{spoof_warnings} spoof warnings:\n{log}"
    );
    let st = d.status();
    assert!(
        !st.counters.contains_key("dhcpv4.drop.rate_limited"),
        "{:?}",
        st.counters
    );
    assert!(
        st.counters
            .get("dhcpv4.drop.not_dhcp")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        st.counters
    );
    assert!(
        st.counters
            .get("dhcpv4.drop.malformed")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        st.counters
    );
    // And it still serves a real client afterwards.
    t.vm_r.run("ip addr flush dev eth0");
    let (ok, _) = udhcpc(&t.vm_r, &t, "after-garbage");
    assert!(ok, "log:\n{}", d.log_text());
    assert!(d.stop().success());
}

#[test]
fn perfdhcp_relayed_exchanges_complete_without_drops() {
    if !prerequisites(&["perfdhcp"]) {
        return;
    }
    // perfdhcp is a load generator, not a booting guest: 50 exchanges/s
    // from one tap is over the default per-tap limit, so lift it here.
    let (t, d) = setup_with("pf4", "[limits]\nrate = 0");
    // perfdhcp acts as a relay: giaddr = its address, source port 67.
    t.vm_r.run("ip addr add 192.0.2.10/24 dev eth0");
    let out = t.vm_r.run_out(&format!(
        "perfdhcp -4 -l eth0 -r 50 -p 4 -R 1 -b mac={MAC_R} 192.0.2.1"
    ));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() || text.contains("received packets"),
        "perfdhcp: {text}\nlog:\n{}",
        d.log_text()
    );
    let drops: Vec<u64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("drops:"))
        .filter_map(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(drops.len(), 2, "DO and RA drop lines expected in:\n{text}");
    assert!(drops.iter().all(|&n| n == 0), "drops {drops:?} in:\n{text}");
    let received: Vec<u64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("received packets:"))
        .filter_map(|l| l.split_whitespace().nth(2).and_then(|n| n.parse().ok()))
        .collect();
    assert!(
        received.iter().all(|&n| n >= 50),
        "received {received:?} in:\n{text}"
    );
}

/// Per-VM DNS servers, NTP servers (option 42) and search list from the
/// binding, the config's for the VM without them, as udhcpc receives them.
#[test]
fn per_vm_dns_ntp_and_search_list_reach_udhcpc() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("pv4");
    t.host.run("ip addr add 198.51.100.1/24 dev br0");
    let own =
        "NAMESERVERS=203.0.113.53\nNTP=203.0.113.123, 203.0.113.124\nDOMAINS=\"vm7.example.net\"\n";
    t.write_binding("tap-r", &format!("{BINDING_R}{own}"));
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let d = t.start_daemon(&t.write_config("ntp = 192.0.2.123", ""));
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    let opts = "-O ntpsrv -O search";
    let (ok, ev) = udhcpc_once(&t, &t.vm_r, "pv4-r", opts);
    assert!(ok, "{}", d.log_text());
    let r = last_event(&ev, &["bound"], "");
    assert_eq!(r["dns"].trim(), "203.0.113.53", "{r:?}");
    assert_eq!(r["ntpsrv"].trim(), "203.0.113.123 203.0.113.124", "{r:?}");
    assert_eq!(r["search"].trim(), "vm7.example.net", "{r:?}");
    let (ok, ev) = udhcpc_once(&t, &t.vm_b, "pv4-b", opts);
    assert!(ok, "{}", d.log_text());
    let b = last_event(&ev, &["bound"], "");
    assert_eq!(b["dns"].trim(), "192.0.2.53 198.51.100.53", "{b:?}");
    assert_eq!(b["ntpsrv"].trim(), "192.0.2.123", "{b:?}");
}
