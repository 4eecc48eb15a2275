//! Observing the live daemon end to end: shadow mode beside a real dnsmasq,
//! per-VM last seen in `status`, and `nfdhcpd trace`, with real clients in
//! network namespaces.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\n";

/// A dnsmasq serving DHCPv4 on tap-r only (192.0.2.100–150), in the host
/// namespace: no config file, no DNS, its pid and lease files in `dir`;
/// killed by its PID on drop.
struct Dnsmasq {
    child: Child,
    log: std::path::PathBuf,
}

impl Dnsmasq {
    fn start(t: &Topology) -> Dnsmasq {
        // dnsmasq serves the subnet of an address of the interface: the
        // routed gateway's /32 becomes a /24.
        t.host.run(
            "ip route del 192.0.2.0/24 dev tap-r && ip addr del 192.0.2.1/32 dev tap-r && \
             ip addr add 192.0.2.1/24 dev tap-r",
        );
        let dir = t.dir.path();
        let log = dir.join("dnsmasq.log");
        let logf = std::fs::File::create(&log).expect("dnsmasq log");
        let child = Command::new("ip")
            .args(["netns", "exec", &t.host.name, "dnsmasq"])
            .args([
                "--keep-in-foreground",
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
                "--interface=tap-r",
                "--bind-interfaces",
                "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
                "--dhcp-authoritative",
                "--no-ping",
                "--log-dhcp",
            ])
            .arg(format!(
                "--dhcp-leasefile={}",
                dir.join("dnsmasq.leases").display()
            ))
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("dup log"))
            .stderr(logf)
            .spawn()
            .expect("spawn dnsmasq");
        let d = Dnsmasq { child, log };
        // Listening once it has logged its DHCP range.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !d.log_text().contains("DHCP, IP range") {
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not start:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// A topology with both bindings and the rules; no daemon yet.
fn topology(tag: &str) -> Topology {
    let t = Topology::new(tag);
    t.host.run("ip addr add 198.51.100.1/24 dev br0");
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    t
}

fn wait_active(d: &Daemon, n: usize) {
    d.wait_for("bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == n
    });
}

/// `nfdhcpd ARGS` run against the topology's config, its output.
fn nfdhcpd(cfg: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .arg("-c")
        .arg(cfg)
        .args(args)
        .output()
        .expect("run nfdhcpd")
}

#[test]
fn shadow_mode_leaves_dnsmasq_answering() {
    if !prerequisites(&["udhcpc", "dnsmasq"]) {
        return;
    }
    let t = topology("shd");
    let cfg = t.write_config("", "");
    let dnsmasq = Dnsmasq::start(&t);
    let d = t.start_daemon_with(&cfg, &[], &["--shadow"]);
    wait_active(&d, 2);
    assert!(d.status().shadow, "status says shadow");
    let out = nfdhcpd(&cfg, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SHADOW MODE"), "{text}");
    let trace = Tracer::start(&cfg, &["--json"]);

    let (ok, ev) = udhcpc_once(&t, &t.vm_r, "udhcpc-shadow", "");
    assert!(
        ok,
        "udhcpc failed; log:\n{}\ndnsmasq:\n{}",
        d.log_text(),
        dnsmasq.log_text()
    );
    let (_, v) = ev
        .iter()
        .rev()
        .find(|(e, _)| e == "bound")
        .unwrap_or_else(|| panic!("no bound event: {ev:#?}"));
    let ip: std::net::Ipv4Addr = v["ip"].parse().expect("an address");
    assert!(
        (100..=150).contains(&ip.octets()[3]),
        "the lease is dnsmasq's, not the binding's 192.0.2.10: {v:?}"
    );
    // nfdhcpd decided and counted its answers, and sent none of them: an
    // OFFER of the binding's address, then a NAK of the REQUEST for
    // dnsmasq's (the difference an operator looks for before switching).
    let s = d.status();
    let n = |k: &str| s.counters.get(k).copied().unwrap_or(0);
    assert!(
        n("dhcpv4.reply.offer") >= 1 && n("dhcpv4.reply.nak") >= 1,
        "{:?}",
        s.counters
    );
    // The trace shows what it would have answered, and the ACCEPT.
    let l = trace.wait_for("the OFFER it would have sent", |l| {
        packet(l).is_some_and(|p| p.reply.is_some_and(|r| r.starts_with("DHCPv4 OFFER")))
    });
    let p = packet(&l).unwrap();
    assert_eq!((p.verdict.as_str(), p.shadow), ("ACCEPT", true), "{l}");
    assert!(p.reply.unwrap().contains("yiaddr 192.0.2.10"), "{l}");
    trace.wait_for("the NAK it would have sent", |l| {
        packet(l).is_some_and(|p| {
            p.shadow
                && p.verdict == "ACCEPT"
                && p.reply.is_some_and(|r| r.starts_with("DHCPv4 NAK"))
        })
    });
    t.wait_queues_empty();
}

/// The routed VM's DHCPv4 last seen, from `status`.
fn seen_v4(d: &Daemon) -> nfdhcpd::datapath::lastseen::SeenStatus {
    let s = d.status();
    let b = s.binding("tap-r").expect("tap-r");
    b.last_seen
        .iter()
        .find(|l| l.protocol == "dhcpv4")
        .cloned()
        .unwrap_or_else(|| panic!("no dhcpv4 last seen: {b:?}"))
}

#[test]
fn last_seen_moves_when_a_vm_renews() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = topology("lse");
    let cfg = t.write_config("", "\n[metrics]\nlisten = 127.0.0.1:9108\nper_tap = yes\n");
    let d = t.start_daemon(&cfg);
    wait_active(&d, 2);
    // (The VMs' kernels may have sent a Router Solicitation already.)
    let s = d.status();
    assert!(
        s.bindings
            .iter()
            .all(|b| b.last_seen.iter().all(|l| l.protocol != "dhcpv4")),
        "no DHCPv4 seen yet: {:?}",
        s.bindings
    );
    // udhcpc stays running after its lease; SIGUSR1 makes it renew.
    let (script, log) = client_script(t.dir.path(), "renew");
    let mut client = Command::new("ip")
        .args(["netns", "exec", &t.vm_r.name, "udhcpc", "-i", "eth0", "-f"])
        .args(["-t", "3", "-T", "1", "-s"])
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn udhcpc");
    let _kill = KillOnDrop(client.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client_events(&log).iter().any(|(e, _)| e == "bound") {
        assert!(
            Instant::now() < deadline,
            "no lease; log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = seen_v4(&d);
    assert_eq!(first.reply.as_deref(), Some("ack"), "{first:?}");
    let (req, rep) = (first.request_unix_ms.unwrap(), first.reply_unix_ms.unwrap());
    let now = nfdhcpd::datapath::lastseen::unix_ms_now();
    assert!(req <= now && now - req < 10_000, "{req} vs now {now}");
    assert_eq!(first.drop, None);

    std::thread::sleep(Duration::from_millis(1100));
    signal(client.id(), nix::sys::signal::Signal::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(10);
    let renewed = loop {
        let s = seen_v4(&d);
        if s.request_unix_ms > Some(req) {
            break s;
        }
        assert!(Instant::now() < deadline, "no renewal seen; {s:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(renewed.reply.as_deref(), Some("ack"));
    assert!(renewed.reply_unix_ms > Some(rep), "{renewed:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client_events(&log).iter().any(|(e, _)| e == "renew") {
        assert!(Instant::now() < deadline, "udhcpc did not renew");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The per-tap Prometheus series ([metrics] per_tap) follow it.
    let scrape = t.host.run(
        "python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:9108/metrics\", timeout=5).read().decode())'",
    );
    let series = "nfdhcpd_tap_last_reply_timestamp_seconds{tap=\"tap-r\",protocol=\"dhcpv4\"} ";
    let at: u64 = scrape
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .unwrap_or_else(|| panic!("no {series} in\n{scrape}"))
        .parse()
        .expect("seconds");
    // The series says what status says: the last reply, this renewal's
    // or (should udhcpc have sent its request again meanwhile) a later one.
    let renewed_at = renewed.reply_unix_ms.unwrap() / 1000;
    let last_at = seen_v4(&d).reply_unix_ms.unwrap() / 1000;
    assert!(
        at + 1 >= renewed_at && at <= last_at + 1,
        "series {at}, renewal reply {renewed_at}, last reply {last_at}"
    );
    assert!(
        scrape.contains("nfdhcpd_tap_rate_limited_total{tap=\"tap-b\",protocol=\"dhcpv4\"} 0"),
        "{scrape}"
    );

    // The text status and the SIGUSR1 dump show it too.
    let out = nfdhcpd(&cfg, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.trim().starts_with("dhcpv4 request ") && l.contains(", reply ack ")),
        "{text}"
    );
    d.signal(nix::sys::signal::Signal::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !d.log_text().contains("reply ack") {
        assert!(
            Instant::now() < deadline,
            "no last seen in the dump:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = client.kill();
    let _ = client.wait();
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("signal");
}

/// Kills a process started by the test, by its PID, when dropped.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0 as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// `nfdhcpd trace ARGS` running against the topology's daemon, its output
/// lines collected as they come; killed by its PID on drop.
struct Tracer {
    child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Tracer {
    /// Starts it and waits until it is attached (its first line).
    fn start(cfg: &Path, args: &[&str]) -> Tracer {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
            .arg("-c")
            .arg(cfg)
            .arg("trace")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn nfdhcpd trace");
        let out = child.stdout.take().expect("piped");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let to = lines.clone();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                to.lock().unwrap().push(l);
            }
        });
        let t = Tracer { child, lines };
        t.wait_for("attached", |l| {
            l.contains("attached") || l.starts_with("-- tracing")
        });
        t
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first line matching `pred`, waited for (bounded).
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| pred(l)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "trace: no {what} line in:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A trace JSON line, parsed.
fn packet(l: &str) -> Option<nfdhcpd::observe::trace::PacketLine> {
    match serde_json::from_str(l).ok()? {
        nfdhcpd::observe::trace::Line::Packet(p) => Some(p),
        _ => None,
    }
}

/// Sends `n` copies of the first frame of `pcap` (a DHCPDISCOVER from the
/// routed VM's MAC) out of `vm`'s eth0, as fast as python can.
fn flood(vm: &Netns, pcap: &Path, n: u32) {
    vm.run(&format!(
        "python3 -c '
import socket, struct
d = open(\"{}\", \"rb\").read()
incl = struct.unpack(\"<I\", d[32:36])[0]
f = d[40:40 + incl]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((\"eth0\", 0))
for _ in range({n}):
    s.send(f)
'",
        pcap.display()
    ));
}

#[test]
fn trace_shows_exchanges_drops_floods_and_unbound_taps() {
    if !prerequisites(&["udhcpc", "python3"]) {
        return;
    }
    let t = topology("trc");
    // An unbound tap the rules queue too.
    let vm_x = t.add_vm("tap-x", "aa:00:00:00:00:30", false);
    t.host.run(
        "iptables -t mangle -A PREROUTING -i tap-x -p udp --dport 67 -j NFQUEUE --queue-num 42",
    );
    let cfg = t.write_config("", "\n[limits]\nrate = 5\nburst = 10\n");
    let d = t.start_daemon(&cfg);
    wait_active(&d, 2);

    // Several tracers at once: everything as JSON; tap-r's DHCPv4 as text;
    // one that stops after two packets.
    let all = Tracer::start(&cfg, &["--json"]);
    let text = Tracer::start(&cfg, &["tap-r", "--protocol", "dhcpv4"]);
    let mut two = Tracer::start(&cfg, &["--json", "--count", "2", "tap-r"]);

    // A udhcpc exchange: DISCOVER→OFFER, REQUEST→ACK.
    let (ok, _) = udhcpc_once(&t, &t.vm_r, "udhcpc-trace", "");
    assert!(ok, "udhcpc failed; log:\n{}", d.log_text());
    for (req, rep) in [("DISCOVER", "OFFER"), ("REQUEST", "ACK")] {
        let l = all.wait_for(req, |l| {
            packet(l).is_some_and(|p| p.request.starts_with(&format!("DHCPv4 {req}")))
        });
        let p = packet(&l).unwrap();
        assert_eq!(
            (p.tap.as_str(), p.verdict.as_str(), p.outcome.as_str()),
            ("tap-r", "DROP", "reply"),
            "{l}"
        );
        let reply = p.reply.unwrap_or_default();
        assert!(reply.starts_with(&format!("DHCPv4 {rep}")), "{l}");
        assert!(reply.contains("192.0.2.10"), "{l}");
        assert!(p.latency_us.is_some_and(|us| us < 1_000_000), "{l}");
        assert!(p.request.contains("from aa:00:00:00:00:10"), "{l}");
        text.wait_for(req, |l| {
            l.contains(&format!(" tap-r dhcpv4 DHCPv4 {req} "))
                && l.contains(&format!("=> DROP, reply DHCPv4 {rep} "))
                && l.contains(" µs")
        });
    }
    assert!(two.child.wait().expect("trace --count").success());
    assert_eq!(
        two.lines().iter().filter(|l| packet(l).is_some()).count(),
        2
    );

    // A spoofed MAC: dropped, and said why.
    t.vm_r
        .run("ip link set eth0 down && ip link set eth0 address aa:00:00:00:00:99 && ip link set eth0 up");
    let _ = udhcpc_once(&t, &t.vm_r, "udhcpc-spoof", "-t 1");
    t.vm_r.run(&format!(
        "ip link set eth0 down && ip link set eth0 address {MAC_R} && ip link set eth0 up"
    ));
    let l = all.wait_for("spoofed_mac", |l| {
        packet(l).is_some_and(|p| p.reason.as_deref() == Some("spoofed_mac"))
    });
    let p = packet(&l).unwrap();
    assert_eq!(
        (p.tap.as_str(), p.verdict.as_str()),
        ("tap-r", "DROP"),
        "{l}"
    );
    assert!(p.request.contains("from aa:00:00:00:00:99"), "{l}");
    text.wait_for("spoofed_mac", |l| {
        l.ends_with("=> DROP, dropped: spoofed_mac")
    });

    // A tap without a binding: shown, ACCEPTed, and said why.
    let _ = udhcpc_once(&t, &vm_x, "udhcpc-unbound", "-t 1");
    let l = all.wait_for("unbound tap", |l| {
        packet(l).is_some_and(|p| p.tap == "tap-x")
    });
    let p = packet(&l).unwrap();
    assert_eq!(
        (p.verdict.as_str(), p.outcome.as_str(), p.reason.as_deref()),
        ("ACCEPT", "ignored", Some("no binding")),
        "{l}"
    );
    assert!(p.request.starts_with("DHCPv4 DISCOVER"), "{l}");

    // A flood, rate limited, while one tracer does not read: it loses
    // lines, is told how many, and the daemon does not wait for it.
    let slow = Tracer::start(&cfg, &["--json", "tap-r"]);
    for t in [&slow, &text] {
        signal(t.pid(), nix::sys::signal::Signal::SIGSTOP);
    }
    let received = |d: &Daemon| {
        d.status()
            .counters
            .get("dhcpv4.received")
            .copied()
            .unwrap_or(0)
    };
    let before = received(&d);
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dhcpv4/udhcpc.pcap");
    flood(&t.vm_r, &pcap, 20_000);
    // Meanwhile status answers, and the reading tracer goes on.
    d.wait_for("the flood limited", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.rate_limited > 0)
    });
    all.wait_for("rate_limited", |l| {
        packet(l).is_some_and(|p| p.reason.as_deref() == Some("rate_limited"))
    });
    t.wait_queues_empty();
    let mut flooded = received(&d);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = received(&d);
        if now == flooded {
            break;
        }
        flooded = now;
    }
    // Far more reached the daemon than a tracer's backlog (1024) and its
    // socket hold: the stopped ones must have lost some.
    let flooded = flooded - before;
    assert!(
        flooded > 2048,
        "only {flooded} packets of the flood received"
    );
    for t in [&slow, &text] {
        signal(t.pid(), nix::sys::signal::Signal::SIGCONT);
    }
    // Every packet of the flood is either a line or counted lost.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let lines = slow.lines();
        let shown = lines.iter().filter(|l| packet(l).is_some()).count() as u64;
        let lost: u64 = lines
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["lost"].as_u64())
            .sum();
        if shown + lost == flooded && lost > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{flooded} packets flooded, {shown} shown + {lost} lost"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    slow.wait_for("rate_limited", |l| {
        packet(l).is_some_and(|p| p.reason.as_deref() == Some("rate_limited"))
    });
    text.wait_for("lost", |l| {
        l.starts_with("-- ")
            && l.ends_with(" line(s) lost: this reader is too slow, or over --max-rate")
    });
    t.wait_queues_empty();
    // Detached tracers free their place: 8 attach at once, a ninth is
    // refused, and status answers meanwhile.
    assert_eq!(d.status().tracers, 3);
    drop((all, text, slow));
    d.wait_for("tracers detached", |s| s.tracers == 0);
    let held: Vec<Tracer> = (0..8).map(|_| Tracer::start(&cfg, &["--json"])).collect();
    assert_eq!(d.status().tracers, 8);
    let ninth = nfdhcpd(&cfg, &["trace"]);
    assert_eq!(ninth.status.code(), Some(1), "{ninth:?}");
    assert!(
        String::from_utf8_lossy(&ninth.stderr).contains("too many tracers"),
        "{ninth:?}"
    );
    assert!(d.status().ready);
    drop(held);
}

#[test]
fn shadow_mode_sends_no_router_advertisement() {
    if !prerequisites(&["rdisc6"]) {
        return;
    }
    let t = Topology::new("shr");
    for vm in [&t.vm_r, &t.vm_b] {
        vm.run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
    }
    t.write_binding(
        "tap-r",
        &format!("{BINDING_R}SUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n"),
    );
    t.install_rules();
    let d = t.start_daemon_with(&t.write_config("", ""), &[], &["--shadow"]);
    t.vm_r.wait_link_local("eth0");
    wait_active(&d, 1);
    // The RS is decided (an RA counted, traced) and the RA not sent.
    let out = t.vm_r.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    assert!(
        !out.status.success(),
        "an RA reached the VM: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let s = d.status();
    let n = |k: &str| s.counters.get(k).copied().unwrap_or(0);
    assert!(n("rs.reply.router_advert") >= 1, "{:?}", s.counters);
    // Nor the initial unsolicited RAs of a tap that became active.
    assert_eq!(n("ra.periodic"), 0, "{:?}", s.counters);
    t.wait_queues_empty();
}
