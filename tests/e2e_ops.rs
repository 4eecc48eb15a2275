//! Operations, end to end: privilege drop, systemd notification, the
//! Prometheus endpoint, `gc`, the iptables rule files and the binding hook,
//! with the real daemon in network namespaces.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n";

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nfdhcpd")
}

fn udhcpc_lease(t: &Topology, d: &Daemon, name: &str) {
    let (script, log) = client_script(t.dir.path(), name);
    let out = t.vm_r.run_out(&format!(
        "udhcpc -i eth0 -f -n -q -t 3 -T 1 -s {}",
        script.display()
    ));
    assert!(
        out.status.success()
            && client_events(&log)
                .iter()
                .any(|(e, v)| e == "bound" && v["ip"] == "192.0.2.10"),
        "no lease: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
}

/// The `Name:\tvalue` lines of /proc/PID/status.
fn proc_status(pid: u32) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("proc status")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn the_pidfile_never_follows_a_symlink() {
    if !prerequisites(&[]) {
        return;
    }
    let t = Topology::new("ps");
    let victim = t.dir.path().join("victim");
    std::fs::write(&victim, "not the daemon's\n").unwrap();
    let pidfile = t.dir.path().join("nfdhcpd.pid");
    std::os::unix::fs::symlink(&victim, &pidfile).unwrap();
    let d = t.start_daemon(&t.write_config("", ""));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "not the daemon's\n"
    );
    let m = std::fs::symlink_metadata(&pidfile).unwrap();
    assert!(m.file_type().is_file(), "{m:?}");
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap().trim(),
        d.pid().to_string()
    );
}

#[test]
fn started_as_root_it_drops_to_the_user_with_two_capabilities_and_still_serves() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("pv");
    // The unprivileged user must be able to read the config and bindings.
    std::fs::set_permissions(t.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t.install_rules();
    t.write_binding("tap-r", BINDING_R);
    let conf = t.write_config("", "");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("[general]\n", "[general]\nuser = nobody\n");
    std::fs::write(&conf, text).unwrap();
    let d = t.start_daemon(&conf);
    let pid = d.status().pid;
    let st = proc_status(pid);
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let (uid, gid) = (nobody.uid.to_string(), nobody.gid.to_string());
    for k in ["Uid", "Gid"] {
        let ids: Vec<&str> = st[k].split_whitespace().collect();
        let want = if k == "Uid" { &uid } else { &gid };
        assert_eq!(ids, vec![want.as_str(); 4], "{k}: {st:?}");
    }
    assert_eq!(st["Groups"], gid, "{st:?}");
    // CAP_NET_ADMIN (12) | CAP_NET_RAW (13).
    for k in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(st[k], "0000000000003000", "{k}: {st:?}");
    }
    assert_eq!(st["CapInh"], "0000000000000000");
    // No exec'd program could gain privileges back.
    assert_eq!(st["NoNewPrivs"], "1", "{st:?}");
    // Every thread too (capabilities are per thread).
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let s = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        assert!(s.contains("CapEff:\t0000000000003000"), "{s}");
    }
    // The control socket is private to the daemon's user.
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(t.control_socket()).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o777), (nobody.uid.as_raw(), 0o600));
    }
    // The pidfile was written (before the drop) with the daemon's pid.
    let pidfile = std::fs::read_to_string(t.dir.path().join("nfdhcpd.pid")).unwrap();
    assert_eq!(pidfile.trim(), pid.to_string());
    // Queues, raw sockets and bindings still work after the drop.
    udhcpc_lease(&t, &d, "priv");
    // So do binding changes (the manager reads files as the user).
    t.write_binding("tap-r", &BINDING_R.replace("192.0.2.10", "192.0.2.11"));
    d.wait_for("new binding read", |s| {
        s.bindings
            .iter()
            .any(|b| b.ip.as_deref() == Some("192.0.2.11"))
    });
}

#[test]
fn systemd_gets_ready_and_status_and_prometheus_gets_metrics() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = Topology::new("sd");
    t.install_rules();
    t.write_binding("tap-r", BINDING_R);
    let conf = t.write_config("", "");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\n[metrics]\nlisten = 127.0.0.1:9108\n");
    std::fs::write(&conf, text).unwrap();
    let sock_path = t.dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let d = t.start_daemon_env(&conf, &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())]);
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("a notification");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        msg.lines().any(|l| l == "READY=1"),
        "{msg}\n{}",
        d.log_text()
    );
    let status = msg
        .lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .expect("a STATUS= line");
    assert!(status.contains("4 queue(s)"), "{status}");

    udhcpc_lease(&t, &d, "metrics");
    let scrape = t.host.run(
        "python3 -c 'import urllib.request as u; r = u.urlopen(\"http://127.0.0.1:9108/metrics\", timeout=5); print(r.headers[\"Content-Type\"]); print(r.read().decode())'",
    );
    for want in [
        "application/openmetrics-text",
        "nfdhcpd_packets_received_total{queue=\"42\",protocol=\"dhcpv4\"}",
        "nfdhcpd_replies_sent_total{protocol=\"dhcpv4\",type=\"offer\"} 1",
        "nfdhcpd_replies_sent_total{protocol=\"dhcpv4\",type=\"ack\"} 1",
        "nfdhcpd_bindings{state=\"active\"} 1",
        "nfdhcpd_kernel_queue_dropped_total{queue=\"42\"} 0",
        "nfdhcpd_kernel_user_dropped_total{queue=\"45\"} 0",
        "nfdhcpd_reload_errors_total 0",
        "nfdhcpd_reply_latency_seconds_count",
        "# EOF",
    ] {
        assert!(scrape.contains(want), "missing {want:?} in\n{scrape}");
    }
    let count: u64 = scrape
        .lines()
        .find_map(|l| l.strip_prefix("nfdhcpd_reply_latency_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 2, "{scrape}");
    // SIGHUP: a reload, counted and reported to systemd.
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let n = sock.recv(&mut buf).expect("a reload notification");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STATUS=reloaded"));
    d.wait_for("reload counted", |s| {
        s.counters.get("reload.count") == Some(&1)
    });
}

#[test]
fn gc_removes_bindings_of_absent_taps_and_honours_keep_and_dry_run() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new(&unique("gc"));
    ns.run("ip link add tap-a type veth peer name tap-b");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bindings");
    std::fs::create_dir(&data).unwrap();
    for f in ["tap-a", "tap-b", "tap-gone", ".tap-x.tmp"] {
        std::fs::write(data.join(f), "MAC=aa:00:00:00:00:01\n").unwrap();
    }
    let conf = dir.path().join("nfdhcpd.toml");
    std::fs::write(
        &conf,
        format!(
            "[general]\ndatapath = \"{}\"\n[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n",
            data.display()
        ),
    )
    .unwrap();
    let gc = |args: &str| ns.run(&format!("{} -c {} gc {args}", bin(), conf.display()));
    let left = || {
        let mut v: Vec<String> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let out = gc("--dry-run");
    assert!(
        out.contains("would remove") && out.contains("tap-gone"),
        "{out}"
    );
    assert_eq!(left(), [".tap-x.tmp", "tap-a", "tap-b", "tap-gone"]);
    let out = gc("");
    assert!(
        out.contains("removed") && out.contains("tap-gone (tap does not exist)"),
        "{out}"
    );
    assert_eq!(left(), [".tap-x.tmp", "tap-a", "tap-b"]);
    // The keep list is authoritative: tap-b goes although it exists; a kept
    // binding whose tap does not exist yet stays.
    std::fs::write(data.join("tap-new"), "MAC=aa:00:00:00:00:02\n").unwrap();
    let out = gc("--keep tap-a tap-new");
    assert!(out.contains("tap-b (not in the keep list)"), "{out}");
    assert_eq!(left(), [".tap-x.tmp", "tap-a", "tap-new"]);
}

#[test]
fn every_rule_file_and_the_rules_command_load_with_iptables_restore() {
    if !prerequisites(&["iptables-restore", "ip6tables-restore"]) {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("iptables"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        // Per-tap rate-limit templates are tested in e2e_hardening.
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ratelimit-")
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "{files:?}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let v6 = name.contains('6');
        let tool = if v6 { "ip6tables" } else { "iptables" };
        let ns = Netns::new(&unique("ipt"));
        ns.run(&format!("{tool}-restore --noflush < {}", f.display()));
        let listed = ns.run(&format!("{tool} -t mangle -S PREROUTING"));
        let want = if v6 { 3 } else { 1 };
        let got = listed.matches("-j NFQUEUE").count();
        let bypass = listed.matches("--queue-bypass").count();
        assert_eq!(got, want, "{name}: {listed}");
        assert_eq!(
            bypass,
            if name.contains("bypass") { want } else { 0 },
            "{name}"
        );
        assert_eq!(
            listed.contains("physdev"),
            name.starts_with("bridged"),
            "{name}"
        );
        // The shipped file is the `rules` output for the default queues.
        let mode = if name.starts_with("bridged") {
            "bridged"
        } else {
            "routed"
        };
        let fam = if v6 { "ipv6" } else { "ipv4" };
        let bp = if name.contains("bypass") {
            "--queue-bypass"
        } else {
            ""
        };
        let generated = sh(&format!(
            "{} -c {} rules --family {fam} --mode {mode} {bp}",
            bin(),
            repo("bindings-examples/nfdhcpd.default.toml").display()
        ));
        let shipped: String = std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(shipped, generated, "{name} differs from `nfdhcpd rules`");
    }
    // `rules` for a config with a queue range, both families, loads too.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("q.conf");
    std::fs::write(
        &conf,
        "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 50:53\n[ipv6]\nrs_queue = 54\nns_queue = 55\n",
    )
    .unwrap();
    let ns = Netns::new(&unique("ipr"));
    for (fam, tool) in [("ipv4", "iptables"), ("ipv6", "ip6tables")] {
        ns.run(&format!(
            "{} -c {} rules --family {fam} | {tool}-restore --noflush",
            bin(),
            conf.display()
        ));
    }
    assert!(ns
        .run("iptables -t mangle -S")
        .contains("--queue-balance 50:53"));
    assert_eq!(
        ns.run("ip6tables -t mangle -S").matches("NFQUEUE").count(),
        4
    );
}

#[test]
fn the_hook_writes_and_removes_a_binding_for_the_running_daemon() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("hk");
    t.install_rules();
    let d = t.start_daemon(&t.write_config("", ""));
    let hook = repo("bindings-examples/nfdhcpd-hook");
    let run = |args: &str| {
        // Run in the root namespace: no nft there (NFDHCPD_NFT=no).
        sh(&format!(
            "NFDHCPD_NFT=no DATAPATH={} sh {} {args}",
            t.bindings().display(),
            hook.display()
        ))
    };
    run("up tap-r INDEV=tap-r IP=192.0.2.10 MAC=aa:00:00:00:00:10 SUBNET=192.0.2.0/24 GATEWAY=192.0.2.1 'TAGS=web db'");
    let text = std::fs::read_to_string(t.bindings().join("tap-r")).unwrap();
    assert!(text.contains("TAGS=\"web db\"\n"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(t.bindings())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["tap-r"], "no temporary file is left");
    d.wait_for("hook binding active", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.state == "active")
    });
    udhcpc_lease(&t, &d, "hook");
    run("down tap-r");
    d.wait_for("hook binding gone", |s| s.bindings.is_empty());
    // Idempotent, and bad input is refused.
    run("down tap-r");
    assert!(!sh_out(&format!(
        "NFDHCPD_NFT=no sh {} up ../x MAC=1",
        hook.display()
    ))
    .status
    .success());
}
