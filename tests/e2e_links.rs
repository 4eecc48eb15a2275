//! Tap tracking (rtnetlink) and unsolicited RAs as taps come and go, with
//! the real daemon in a network namespace.

mod common;

use std::time::Duration;

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n";

fn tap_row(
    s: &nfdhcpd::observe::control::Status,
    tap: &str,
) -> Option<nfdhcpd::observe::control::BindingStatus> {
    s.binding(tap).cloned()
}

#[test]
fn binding_before_tap_then_tap_recreated_with_a_new_ifindex() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("lk");
    // A binding for a tap that does not exist yet.
    t.write_binding(
        "tap-new",
        &BINDING_R.replace("INDEV=tap-r", "INDEV=tap-new"),
    );
    t.install_rules();
    t.host.run(
        "iptables -t mangle -A PREROUTING -i tap-new -p udp --dport 67 -j NFQUEUE --queue-num 42",
    );
    let d = t.start_daemon(&t.write_config("", ""));
    let s = d.wait_for("reported missing", |s| tap_row(s, "tap-new").is_some());
    let row = tap_row(&s, "tap-new").unwrap();
    assert_eq!((row.state.as_str(), row.ifindex), ("tap_missing", None));

    // The tap appears: the binding becomes active, and a VM behind it is served.
    let vm = Netns::new(&format!("{}n", t.host.name));
    t.host.run(&format!(
        "ip link add tap-new type veth peer name eth0 netns {} && ip link set tap-new up",
        vm.name
    ));
    vm.run(&format!(
        "ip link set eth0 address {MAC_R} && ip link set eth0 up"
    ));
    let first = t.host.ifindex("tap-new");
    d.wait_for("active on the new tap", |s| {
        tap_row(s, "tap-new").is_some_and(|r| r.state == "active" && r.ifindex == Some(first))
    });
    assert!(udhcpc_once(&t, &vm, "first", "").0, "{}", d.log_text());

    // Deleted: kept, inactive, reported.
    t.host.run("ip link del tap-new");
    d.wait_for("tap gone", |s| {
        tap_row(s, "tap-new").is_some_and(|r| r.state == "tap_missing")
    });

    // Recreated with a new ifindex: followed.
    t.host.run(&format!(
        "ip link add tap-new type veth peer name eth0 netns {} && ip link set tap-new up",
        vm.name
    ));
    vm.run(&format!(
        "ip link set eth0 address {MAC_R} && ip link set eth0 up"
    ));
    let second = t.host.ifindex("tap-new");
    assert_ne!(first, second);
    d.wait_for("active on the recreated tap", |s| {
        tap_row(s, "tap-new").is_some_and(|r| r.state == "active" && r.ifindex == Some(second))
    });
    let (ok, events) = udhcpc_once(&t, &vm, "second", "");
    assert!(ok, "{}", d.log_text());
    assert!(events
        .iter()
        .any(|(e, v)| e == "bound" && v["ip"] == "192.0.2.10"));
}

/// Captures up to `count` RAs on the routed VM's eth0 within `secs`.
fn capture_ras(t: &Topology, count: u32, secs: u32) -> std::process::Child {
    std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &t.vm_r.name,
            "timeout",
            &secs.to_string(),
            "tcpdump",
            "-l",
            "-n",
            "-i",
            "eth0",
            "-c",
            &count.to_string(),
            "icmp6 and ip6[40] == 134",
        ])
        .stdout(std::fs::File::create(t.dir.path().join("ra.txt")).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_new_binding_gets_an_ra_at_once() {
    if !prerequisites(&["tcpdump"]) {
        return;
    }
    let t = Topology::new("ra");
    t.vm_r
        .run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
    t.install_rules();
    // ra_period 300: an RA within seconds can only be the initial burst.
    let d = t.start_daemon(&t.write_config("", "ra_period = 300"));
    let mut cap = capture_ras(&t, 1, 5);
    std::thread::sleep(Duration::from_millis(500));
    t.write_binding("tap-r", BINDING_R);
    let st = cap.wait().unwrap();
    let text = std::fs::read_to_string(t.dir.path().join("ra.txt")).unwrap();
    assert!(
        st.success() && text.contains("router advertisement"),
        "no initial RA: {text}\nlog:\n{}",
        d.log_text()
    );
}

#[test]
fn a_down_tap_never_stops_a_periodic_round() {
    if !prerequisites(&["tcpdump"]) {
        return;
    }
    let t = Topology::new("rd");
    t.vm_r
        .run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
    t.install_rules();
    // tap-b's binding exists but its tap is down: every RA to it fails.
    t.host.run("ip link set tap-b down");
    t.write_binding(
        "tap-b",
        "INDEV=br0\nMAC=aa:00:00:00:00:20\nSUBNET6=2001:db8:2::/64\n",
    );
    t.write_binding("tap-r", BINDING_R);
    let d = t.start_daemon(&t.write_config("", "ra_period = 2"));
    // Let the initial bursts (3 RAs, at most 1 s apart) pass, then count periodic RAs only.
    std::thread::sleep(Duration::from_millis(2500));
    let mut cap = capture_ras(&t, 2, 6);
    let st = cap.wait().unwrap();
    let text = std::fs::read_to_string(t.dir.path().join("ra.txt")).unwrap();
    assert!(
        st.success(),
        "periodic RAs stopped: {text}\nlog:\n{}",
        d.log_text()
    );
    let s = d.status();
    assert!(
        s.counters.get("ra.periodic_errors").copied().unwrap_or(0) >= 2,
        "tap-b's failures are counted: {:?}",
        s.counters
    );
}

#[test]
fn a_burst_of_a_thousand_taps_all_become_active() {
    if !prerequisites(&[]) {
        return;
    }
    burst(&[], false);
}

#[test]
fn lost_link_events_are_resynchronised() {
    if !prerequisites(&["python3"]) {
        return;
    }
    // A receive buffer far too small for the burst: events are lost, and
    // every loss must be followed by a full dump.
    let b = burst(&[("NFDHCPD_LINK_RCVBUF", "16384")], true);
    let links = &b.links;
    assert!(links.overruns >= 1, "no overrun seen: {links:?}");
    assert!(links.resyncs >= links.overruns, "{links:?}");
    // /metrics says the same as `status`, and the counters moved.
    let [before, after] = b.scrapes.expect("scraped");
    assert_eq!(
        nfdhcpd::observe::prom::repeated_series(&after),
        None,
        "{after}"
    );
    assert_eq!(
        sample(&after, "nfdhcpd_link_monitor_following"),
        1,
        "{after}"
    );
    let overruns = sample(&after, "nfdhcpd_link_monitor_overruns_total");
    let resyncs = sample(&after, "nfdhcpd_link_monitor_resyncs_total");
    assert!(overruns >= 1 && resyncs >= overruns, "{after}");
    // Scraped after the status read: only more loss could have come since.
    assert!(
        overruns >= links.overruns && resyncs >= links.resyncs,
        "{links:?}\n{after}"
    );
    assert!(
        resyncs > sample(&before, "nfdhcpd_link_monitor_resyncs_total"),
        "before the burst:\n{before}\nafter:\n{after}"
    );
}

/// The value of the unlabelled sample `name` in a scrape.
fn sample(scrape: &str, name: &str) -> u64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{scrape}"))
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}\n{scrape}"))
}

/// What [`burst`] saw.
struct Burst {
    /// The link monitor's status once every binding is active.
    links: nfdhcpd::observe::control::LinkMonitorStatus,
    /// `/metrics` before the burst and once every binding is active.
    scrapes: Option<[String; 2]>,
}

/// Creates 1,000 taps with bindings in one `ip -batch` while the daemon is
/// stopped (SIGSTOP: the extreme of a busy daemon, every event waits in the
/// socket's receive buffer), then lets it go on; waits until every binding
/// is active. With `metrics`, scrapes `/metrics` before and after.
fn burst(env: &[(&str, &str)], metrics: bool) -> Burst {
    const N: usize = 1000;
    let t = Topology::new("bu");
    for i in 0..N {
        let text = format!(
            "IP=203.0.113.{}\nMAC=aa:00:00:00:{:02x}:{:02x}\nSUBNET=203.0.113.0/24\nGATEWAY=203.0.113.1\n",
            2 + i % 250,
            i / 256,
            i % 256
        );
        std::fs::write(t.bindings().join(format!("tb{i}")), text).unwrap();
    }
    let cfg = t.write_config("", "");
    if metrics {
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str("\n[metrics]\nlisten = 127.0.0.1:9108\n");
        std::fs::write(&cfg, text).unwrap();
    }
    let scrape = || {
        t.host.run(
            "python3 -c 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(\"http://127.0.0.1:9108/metrics\", timeout=5).read().decode())'",
        )
    };
    let d = t.start_daemon_env(&cfg, env);
    d.wait_for("all reported missing", |s| {
        s.bindings
            .iter()
            .filter(|b| b.state == "tap_missing")
            .count()
            == N
    });

    let before = metrics.then(scrape);

    let pid = nix::unistd::Pid::from_raw(d.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
    // One burst: every tap created and set up by one `ip -batch`.
    let batch = t.dir.path().join("taps.batch");
    let text: String = (0..N)
        .map(|i| format!("tuntap add dev tb{i} mode tap\nlink set tb{i} up\n"))
        .collect();
    std::fs::write(&batch, text).unwrap();
    t.host.run(&format!("ip -batch {}", batch.display()));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("SIGCONT");

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = d.status();
        let active = s.bindings.iter().filter(|b| b.state == "active").count();
        if active == N {
            assert!(s.links.following, "{:?}", s.links);
            return Burst {
                links: s.links,
                scrapes: before.map(|b| [b, scrape()]),
            };
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{active} of {N} taps active; log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
