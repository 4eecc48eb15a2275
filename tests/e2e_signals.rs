//! Signals: SIGHUP reloads without losing a packet, SIGUSR1 logs the
//! table, SIGTERM and SIGINT stop cleanly; `status` states and exit codes;
//! JSON logs.

mod common;

use std::time::Duration;

use common::*;
use nix::sys::signal::Signal;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n";

fn lease(t: &Topology, name: &str) -> std::collections::BTreeMap<String, String> {
    let (ok, events) = udhcpc_once(t, &t.vm_r, name, "");
    assert!(ok, "{name}: no lease");
    events
        .into_iter()
        .rev()
        .find(|(e, _)| e == "bound")
        .expect("bound event")
        .1
}

#[test]
fn sighup_reloads_config_and_bindings_while_serving_and_sigterm_exits_zero() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("sg");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    let cfg = t.write_config("", "");
    let mut d = t.start_daemon(&cfg);
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));
    assert_eq!(lease(&t, "before")["dns"], "192.0.2.53 198.51.100.53");

    // A steady stream of requests from the bridged VM (no binding: each is
    // accepted) spans the reloads; every one must get its verdict.
    t.vm_b.run("ip addr add 198.51.100.99/24 dev eth0");
    let sender = std::process::Command::new("ip")
        .args(["netns", "exec", &t.vm_b.name, "python3", "-c"])
        .arg("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.bind(('198.51.100.99',68))\nfor i in range(3000):\n    s.sendto(bytes(300),('255.255.255.255',67))\n    time.sleep(0.001)")
        .spawn()
        .unwrap();
    t.host
        .run("iptables -A INPUT -i br0 -p udp --dport 67 -j ACCEPT");

    // New nameservers, then SIGHUP (repeatedly: the original died on it).
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "nameservers = 192.0.2.53, 198.51.100.53",
        "nameservers = 203.0.113.53",
    );
    std::fs::write(&cfg, text).unwrap();
    for _ in 0..5 {
        d.signal(Signal::SIGHUP);
        std::thread::sleep(Duration::from_millis(100));
    }
    d.signal(Signal::SIGUSR1);
    let out = sender.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        d.alive(),
        "SIGHUP must not stop the daemon; log:\n{}",
        d.log_text()
    );
    let v = lease(&t, "after");
    assert_eq!(v["dns"], "203.0.113.53", "reloaded config in force");
    // Not one of the 3,000 requests was lost across the reloads.
    let s = d.wait_for("all 3,000 seen", |s| {
        s.counters
            .get("dhcpv4.accepted_not_ours")
            .copied()
            .unwrap_or(0)
            >= 3000
    });
    let passed: u64 = t
        .host
        .run("iptables -L INPUT -v -x -n | awk '/br0.*dpt:67/ {print $1}'")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(passed, 3000, "{:?}", s.counters);
    assert!(
        t.queue_stats()
            .iter()
            .all(|q| q.total == 0 && q.queue_dropped == 0 && q.user_dropped == 0),
        "{:?}",
        t.queue_stats()
    );

    // An invalid config on SIGHUP keeps the old one.
    std::fs::write(&cfg, "[dhcp]\nserver_ip = nope\n").unwrap();
    d.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(lease(&t, "kept")["dns"], "203.0.113.53");

    let log = d.log_text();
    assert!(
        log.contains("binding table") && log.contains("tap-r"),
        "SIGUSR1 dump missing:\n{log}"
    );
    assert!(log.contains("keeping the old one"), "{log}");
    let st = d.stop();
    assert!(st.success(), "SIGTERM: {st:?}");
    assert!(d.log_text().contains("stopped"));
}

/// Replaces `from` with `to` in the config file, then sends SIGHUP.
fn reload_with(d: &Daemon, cfg: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(cfg).unwrap();
    assert!(text.contains(from), "{from:?} not in the config");
    std::fs::write(cfg, text.replace(from, to)).unwrap();
    d.signal(Signal::SIGHUP);
}

/// (queue, portid) pairs bound in the host namespace.
fn bound_queues(t: &Topology) -> Vec<(u16, u32)> {
    t.host
        .run("cat /proc/net/netfilter/nfnetlink_queue")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.first()?.parse().ok()?, f.get(1)?.parse().ok()?))
        })
        .collect()
}

#[test]
fn sighup_rebinds_only_the_queues_whose_numbers_changed() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("rq");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    let cfg = t.write_config("", "");
    let d = t.start_daemon(&cfg);
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));
    let before = bound_queues(&t);
    assert_eq!(
        before.iter().map(|q| q.0).collect::<Vec<_>>(),
        vec![42, 43, 44, 45]
    );

    // The operator moves DHCPv4 to queue 46: rules first, then the config, then SIGHUP.
    t.host.run("iptables -t mangle -F PREROUTING && iptables -t mangle -A PREROUTING -i tap-r -p udp --dport 67 -j NFQUEUE --queue-num 46");
    reload_with(&d, &cfg, "dhcp_queue = 42", "dhcp_queue = 46");
    let s = d.wait_for("queue 46 bound", |s| {
        s.queues.iter().any(|q| q.queue == 46 && q.bound) && !s.queues.iter().any(|q| q.queue == 42)
    });
    assert!(s.ready, "{s:?}");
    let after = bound_queues(&t);
    assert_eq!(
        after.iter().map(|q| q.0).collect::<Vec<_>>(),
        vec![43, 44, 45, 46],
        "queue 42 unbound, 46 bound"
    );
    // The unchanged queues were not rebound (same netlink port).
    for q in [43, 44, 45] {
        assert_eq!(
            before.iter().find(|b| b.0 == q),
            after.iter().find(|a| a.0 == q),
            "queue {q} was rebound"
        );
    }
    assert_eq!(lease(&t, "on-46")["ip"], "192.0.2.10");
    assert!(
        d.status()
            .counters
            .get("dhcpv4.reply.ack")
            .copied()
            .unwrap_or(0)
            >= 1
    );

    // A range (--queue-balance) grows by one queue.
    reload_with(&d, &cfg, "dhcp_queue = 46", "dhcp_queue = 46:47");
    let s = d.wait_for("queue 47 bound too", |s| {
        s.queues.iter().any(|q| q.queue == 47 && q.bound)
    });
    assert_eq!(
        s.queues.iter().map(|q| q.queue).collect::<Vec<_>>(),
        vec![43, 44, 45, 46, 47]
    );
}

/// Another nfdhcpd in the host namespace holding a queue; killed by its PID
/// when dropped, whatever the test's outcome.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `nfdhcpd status --socket S EXTRA…`: (exit code, stdout).
fn status_cmd(t: &Topology, extra: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .args(["status", "--socket"])
        .arg(t.control_socket())
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn json_logs_status_states_a_queue_it_cannot_bind_and_sigint() {
    if !prerequisites(&[]) {
        return;
    }
    let t = Topology::new("js");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-bad", "MAC=aa:00:00:00:00:99\nIP=192.0.2.300\n");
    t.write_binding(
        "tap-pd",
        "MAC=aa:00:00:00:00:30\nSUBNET6=2001:db8:3::/64\nHOSTNAME=pd1\nPREFIX6_DELEGATED=2001:db8:100::/56,2001:db8:200::/60\n",
    );
    t.install_rules();
    let cfg = t.write_config("", "");
    let mut d = t.start_daemon_with(&cfg, &[], &["--log-format", "json"]);

    // Each binding with its state; the invalid one with its reason.
    let s = d.wait_for("tap-r active", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.state == "active")
    });
    let bad = s.binding("tap-bad").expect("tap-bad listed");
    assert_eq!(bad.state, "invalid");
    assert!(
        bad.error
            .as_deref()
            .is_some_and(|e| e.contains("192.0.2.300")),
        "{bad:?}"
    );
    let (code, text) = status_cmd(&t, &[]);
    assert_eq!(code, Some(0), "ready: {text}");
    assert!(text.contains(": ready") && text.contains("tap-bad") && text.contains("invalid"));
    // Delegated prefixes on a line of their own under the row, whose
    // columns stay as they were (hostname last).
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.starts_with("tap-pd "))
        .unwrap_or_else(|| panic!("no tap-pd row: {text}"));
    let cols: Vec<&str> = lines[row].split_whitespace().collect();
    assert_eq!(
        (cols.len(), cols[1], cols[6]),
        (7, "tap_missing", "pd1"),
        "{text}"
    );
    assert_eq!(
        lines[row + 1],
        "    delegated: 2001:db8:100::/56, 2001:db8:200::/60",
        "{text}"
    );
    assert_eq!(text.matches("delegated:").count(), 1, "{text}");
    let (code, json) = status_cmd(&t, &["--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&json).expect("status --json is JSON");
    assert_eq!(v["ready"], true);
    assert!(
        v["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["tap"] == "tap-bad" && b["state"] == "invalid" && b["error"].is_string()),
        "{json}"
    );
    let delegated = |tap: &str| {
        v["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["tap"] == tap)
            .map(|b| b["prefix6_delegated"].clone())
    };
    assert_eq!(
        delegated("tap-pd"),
        Some(serde_json::json!([
            "2001:db8:100::/56",
            "2001:db8:200::/60"
        ])),
        "{json}"
    );
    assert_eq!(delegated("tap-r"), Some(serde_json::json!([])), "{json}");

    // SIGUSR1: the table, one JSON object per binding with every column.
    d.signal(Signal::SIGUSR1);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let row = loop {
        let log = d.log_text();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let found = lines
            .into_iter()
            .find(|v| v["fields"]["message"] == "binding" && v["fields"]["tap"] == "tap-r");
        if let Some(v) = found {
            break v["fields"].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no JSON dump row:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    for (key, want) in [
        ("ifindex", "Some("),
        ("mac", "aa:00:00:00:00:10"),
        ("ipv4", "192.0.2.10"),
        ("ipv6", ""),
        ("hostname", "web1"),
        ("state", "active"),
    ] {
        let v = row[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing: {row}"));
        assert!(v.contains(want), "{key} = {v}");
    }

    // A queue another process holds: after SIGHUP the daemon cannot bind
    // it, says so, keeps serving the rest, and `status` exits 1.
    let holder_cfg = t.dir.path().join("holder.conf");
    std::fs::write(
        &holder_cfg,
        format!(
            "[general]\ndatapath = {}\ncontrol_socket = {}\n[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 46\n[ipv6]\nenable_ipv6 = no\n",
            t.bindings().display(),
            t.dir.path().join("holder.sock").display()
        ),
    )
    .unwrap();
    let _holder = Holder(
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &t.host.name,
                env!("CARGO_BIN_EXE_nfdhcpd"),
                "-c",
            ])
            .arg(&holder_cfg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !bound_queues(&t).iter().any(|q| q.0 == 46) {
        assert!(
            std::time::Instant::now() < deadline,
            "holder did not bind 46"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    reload_with(&d, &cfg, "dhcp_queue = 42", "dhcp_queue = 46");
    let s = d.wait_for("queue 46 not bound", |s| {
        s.queues.iter().any(|q| q.queue == 46 && !q.bound)
    });
    assert!(!s.ready, "{s:?}");
    assert!(
        s.queues.iter().filter(|q| q.queue != 46).all(|q| q.bound),
        "{s:?}"
    );
    let (code, text) = status_cmd(&t, &[]);
    assert_eq!(code, Some(1), "not ready: {text}");
    assert!(
        text.contains("NOT ready") && text.contains("NOT bound"),
        "{text}"
    );

    // SIGINT: exit 0, its queues unbound (only the holder's 46 is left).
    let st = d.stop_with(Signal::SIGINT);
    assert!(st.success(), "SIGINT: {st:?}");
    assert_eq!(
        bound_queues(&t).iter().map(|q| q.0).collect::<Vec<_>>(),
        vec![46]
    );
    let (code, _) = status_cmd(&t, &[]);
    assert_eq!(code, Some(3), "not running");
}

#[test]
fn a_queue_removed_and_re_added_by_reloads_keeps_one_metric_series() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("rm");
    t.write_binding("tap-r", BINDING_R);
    t.install_rules();
    let cfg = t.write_config("", "");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[metrics]\nlisten = 127.0.0.1:9108\n");
    std::fs::write(&cfg, text).unwrap();
    let d = t.start_daemon(&cfg);
    d.wait_for("active", |s| s.bindings.iter().any(|b| b.state == "active"));
    assert_eq!(lease(&t, "before")["ip"], "192.0.2.10");

    // Queue 42 removed, then added back.
    reload_with(&d, &cfg, "dhcp_queue = 42", "dhcp_queue = 46");
    d.wait_for("42 gone", |s| !s.queues.iter().any(|q| q.queue == 42));
    reload_with(&d, &cfg, "dhcp_queue = 46", "dhcp_queue = 42");
    d.wait_for("42 back", |s| {
        s.queues.iter().any(|q| q.queue == 42 && q.bound)
    });
    assert_eq!(lease(&t, "after")["ip"], "192.0.2.10");

    let scrape = t.host.run(
        "python3 -c 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(\"http://127.0.0.1:9108/metrics\", timeout=5).read().decode())'",
    );
    assert_eq!(
        nfdhcpd::observe::prom::repeated_series(&scrape),
        None,
        "{scrape}"
    );
    // And the strict OpenMetrics parser of the Prometheus Python client
    // (Debian's python3-prometheus-client, under the system python3)
    // accepts the whole exposition.
    let file = t.dir.path().join("scrape.txt");
    std::fs::write(&file, &scrape).unwrap();
    let parsed = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import sys; from prometheus_client.openmetrics.parser import text_string_to_metric_families as p; print(len(list(p(open(sys.argv[1]).read()))))")
        .arg(&file)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        parsed.status.success(),
        "the OpenMetrics parser refused the scrape: {}\n{scrape}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    // The link monitor's health, as `status` shows it.
    let links = d.status().links;
    for want in [
        format!(
            "nfdhcpd_link_monitor_following {}",
            u8::from(links.following)
        ),
        format!("nfdhcpd_link_monitor_resyncs_total {}", links.resyncs),
        format!("nfdhcpd_link_monitor_overruns_total {}", links.overruns),
        format!("nfdhcpd_link_monitor_errors_total {}", links.errors),
    ] {
        assert!(
            scrape.lines().any(|l| l == want),
            "missing {want:?} in\n{scrape}"
        );
    }
    // Both leases counted on the one series of queue 42 (DISCOVER and REQUEST each).
    let line = scrape
        .lines()
        .find(|l| l.starts_with("nfdhcpd_packets_received_total{queue=\"42\""))
        .unwrap_or_else(|| panic!("no queue 42 series in\n{scrape}"));
    let n: u64 = line.rsplit_once(' ').unwrap().1.parse().unwrap();
    assert!(n >= 4, "{line}");
}
