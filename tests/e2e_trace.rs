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
    t.wait_queues_empty();
}

/// The routed VM's DHCPv4 last seen, from `status`.
fn seen_v4(d: &Daemon) -> nfdhcpd::lastseen::SeenStatus {
    let s = d.status();
    let b = s.bindings.iter().find(|b| b.tap == "tap-r").expect("tap-r");
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
    let cfg = t.write_config("", "");
    let d = t.start_daemon(&cfg);
    wait_active(&d, 2);
    let s = d.status();
    assert!(
        s.bindings.iter().all(|b| b.last_seen.is_empty()),
        "nothing seen yet: {:?}",
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
    let now = nfdhcpd::lastseen::unix_ms_now();
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
