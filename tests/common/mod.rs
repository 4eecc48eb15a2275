//! End-to-end harness: network namespaces, iptables rules, the real daemon
//! and real clients. Everything a test creates is removed by guards, even
//! when the test fails or panics.
//!
//! Topology (names are unique per test):
//!
//! ```text
//!  ns H (hypervisor)                    ns R (vm-r)     ns B (vm-b)
//!    tap-r ───────────── veth ─────────── eth0
//!    br0 ── tap-b ────── veth ─────────────────────────── eth0
//!    nfdhcpd + iptables rules
//! ```
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nfdhcpd::observe::control::Status;

/// MAC of the routed VM (matches tests/fixtures/compat/bindings/tap-routed).
pub const MAC_R: &str = "aa:00:00:00:00:10";
/// MAC of the bridged VM (matches tap-bridged).
pub const MAC_B: &str = "aa:00:00:00:00:20";

/// Every network boot key of a binding, one value each (the boot tests'
/// VMs): the file per client kind is told apart by its directory.
pub const BOOT_KEYS: &str = "NEXT_SERVER=192.0.2.5\nTFTP_SERVER=boot.example.org\nBOOTFILE=boot/default.0\nBOOTFILE_EFI=efi/grubx64.efi\nBOOTFILE_BIOS=bios/pxelinux.0\nBOOTFILE_IPXE=http://192.0.2.5/boot.ipxe\nBOOTFILE_HTTP=http://192.0.2.5/efi/shim.efi\n";

/// True when the suite must not skip (CI).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Checks the prerequisites of an end-to-end test. Returns false (skip) when
/// one is missing outside CI; panics in CI, where a skip would hide a failure.
pub fn prerequisites(tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::Uid::effective().is_root() {
        missing.push("root".to_string());
    }
    for t in ["ip", "iptables", "ip6tables"].iter().chain(tools) {
        if which(t).is_none() {
            missing.push(t.to_string());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("end-to-end prerequisites missing: {}", missing.join(", "));
    if in_ci() {
        panic!("{msg} (CI is set: install them, see .ci/run)");
    }
    eprintln!("SKIP: {msg}");
    false
}

/// Resident memory of process `pid`, KiB (0 if it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Finds an executable on PATH (and the sbin directories).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// Runs a command, panicking with its output if it fails.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh");
    if !out.status.success() {
        panic!(
            "command failed: {cmd}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command and returns its output whatever the exit status.
pub fn sh_out(cmd: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh")
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A unique short tag for this test's namespaces.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id() % 100_000,
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// A network namespace, deleted on drop (with its links and rules).
pub struct Netns {
    /// Name.
    pub name: String,
}

impl Netns {
    /// Creates it, with loopback up.
    pub fn new(name: &str) -> Netns {
        sh(&format!("ip netns add {name}"));
        let ns = Netns {
            name: name.to_string(),
        };
        ns.run("ip link set lo up");
        ns
    }

    /// Runs a shell command inside it.
    pub fn run(&self, cmd: &str) -> String {
        sh(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    /// Runs a shell command inside it, returning its output whatever the status.
    pub fn run_out(&self, cmd: &str) -> Output {
        sh_out(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    /// Runs `dhclient -v -1` (DHCPv4) on eth0 with config `conf`, hook
    /// script `script`, lease file `leases` and pid file `pid`, then stops
    /// the daemon it leaves after a lease (by its pid file); returns how
    /// the first run ended.
    pub fn dhclient_once(&self, conf: &Path, script: &Path, leases: &Path, pid: &Path) -> Output {
        let out = self.run_out(&format!(
            "dhclient -v -1 -cf {} -sf {} -lf {} -pf {} eth0",
            conf.display(),
            script.display(),
            leases.display(),
            pid.display()
        ));
        let _ = self.run_out(&format!("dhclient -x -pf {}", pid.display()));
        out
    }

    /// The interface's ifindex.
    pub fn ifindex(&self, dev: &str) -> u32 {
        self.run(&format!("cat /sys/class/net/{dev}/ifindex"))
            .trim()
            .parse()
            .expect("ifindex")
    }

    /// Waits (bounded) until `dev` has its non-tentative link-local address.
    pub fn wait_link_local(&self, dev: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let a = self.run(&format!("ip -6 addr show dev {dev} scope link"));
            if a.contains("fe80::") && !a.contains("tentative") {
                return;
            }
            assert!(Instant::now() < deadline, "no link-local on {dev}: {a}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The interface's MAC.
    pub fn mac(&self, dev: &str) -> String {
        self.run(&format!("cat /sys/class/net/{dev}/address"))
            .trim()
            .to_string()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh_out(&format!("ip netns del {}", self.name));
    }
}

/// A tcpdump capture running in a namespace (`Netns::capture`,
/// `Capture::start`), stopped by [`Capture::stop`] or on drop, and by its
/// own timeout in any case.
pub struct Capture {
    child: Option<std::process::Child>,
    /// The pcap file.
    pub pcap: PathBuf,
    ns: String,
}

impl Netns {
    /// Starts tcpdump on `dev` writing `dir/NAME.pcap` for packets that match
    /// `filter`, for at most `secs` seconds; returns once tcpdump listens.
    pub fn capture(&self, dev: &str, dir: &Path, name: &str, filter: &str, secs: u32) -> Capture {
        Capture::spawn(
            self,
            dev,
            "",
            filter,
            &dir.join(format!("{name}.pcap")),
            secs,
        )
    }
}

impl Capture {
    /// Starts `tcpdump -i dev ARGS FILTER` in `ns` writing to `file` (at
    /// most 60 s); returns once tcpdump listens.
    pub fn start(ns: &Netns, dev: &str, args: &str, filter: &str, file: &Path) -> Capture {
        Capture::spawn(ns, dev, args, filter, file, 60)
    }

    /// Immediate mode: packets are not held in the kernel's buffer for up
    /// to a second, and lost when tcpdump is stopped.
    fn spawn(ns: &Netns, dev: &str, args: &str, filter: &str, file: &Path, secs: u32) -> Capture {
        let err = file.with_extension("tcpdump");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "timeout",
                &secs.to_string(),
                "tcpdump",
            ])
            .args(["--immediate-mode", "-U", "-n", "-Z", "root", "-i", dev])
            .args(args.split_whitespace())
            .arg("-w")
            .arg(file)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("tcpdump log"))
            .spawn()
            .expect("spawn tcpdump");
        let c = Capture {
            child: Some(child),
            pcap: file.to_path_buf(),
            ns: ns.name.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&err)
            .unwrap_or_default()
            .contains("listening on")
        {
            assert!(
                Instant::now() < deadline,
                "tcpdump did not start: {}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        c
    }

    /// Stops tcpdump after 300 ms for what is still on its way (SIGTERM:
    /// `ip netns exec` execs timeout, which passes it on) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            std::thread::sleep(Duration::from_millis(300));
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = c.wait();
        }
    }

    /// Waits for tcpdump to end by its own timeout.
    pub fn wait(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Stops the capture and returns the packets matching `filter`, one
    /// line each (`tcpdump -r -nn -e`: link-layer addresses included).
    pub fn packets(&mut self, filter: &str) -> Vec<String> {
        self.stop();
        let out = sh_out(&format!(
            "ip netns exec {} tcpdump -r {} -nn -e '{filter}' 2>/dev/null",
            self.ns,
            self.pcap.display()
        ));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Hypervisor namespace with a routed and a bridged VM.
pub struct Topology {
    /// Temporary directory: config, bindings, logs, client files.
    pub dir: tempfile::TempDir,
    /// The VMs' namespaces (dropped before the host).
    pub vm_r: Netns,
    /// Bridged VM.
    pub vm_b: Netns,
    /// The hypervisor namespace.
    pub host: Netns,
}

impl Topology {
    /// Creates the namespaces and links (no rules, no daemon yet).
    pub fn new(tag: &str) -> Topology {
        let id = unique(tag);
        let host = Netns::new(&format!("{id}h"));
        let vm_r = Netns::new(&format!("{id}r"));
        let vm_b = Netns::new(&format!("{id}b"));
        let dir = tempfile::Builder::new()
            .prefix("nfdhcpd-e2e-")
            .tempdir()
            .expect("tempdir");
        for vm in [&vm_r, &vm_b] {
            vm.run("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
        }
        // Routed tap.
        host.run(&format!(
            "ip link add tap-r type veth peer name eth0 netns {}",
            vm_r.name
        ));
        // Bridged tap.
        host.run("ip link add br0 type bridge && ip link set br0 address fe:00:00:00:00:b0 && ip link set br0 up");
        host.run(&format!(
            "ip link add tap-b type veth peer name eth0 netns {}",
            vm_b.name
        ));
        host.run("ip link set tap-b master br0");
        host.run("ip link set tap-r address fe:00:00:00:00:01 && ip link set tap-b address fe:00:00:00:00:02");
        host.run("ip link set tap-r up && ip link set tap-b up");
        host.run(
            "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || true",
        );
        // The routed host side owns the gateway, so unicast renewals resolve it.
        host.run("ip addr add 192.0.2.1/32 dev tap-r && ip route add 192.0.2.0/24 dev tap-r");
        vm_r.run(&format!(
            "ip link set eth0 address {MAC_R} && ip link set eth0 up"
        ));
        vm_b.run(&format!(
            "ip link set eth0 address {MAC_B} && ip link set eth0 up"
        ));
        std::fs::create_dir(dir.path().join("bindings")).expect("bindings dir");
        Topology {
            dir,
            vm_r,
            vm_b,
            host,
        }
    }

    /// The IPv6 tests' start: quiet VMs (no RS of their own unless a test
    /// asks), `binding_r` on tap-r and `binding_b` on tap-b, the rules, the
    /// config with `extra_ipv6`, the daemon; returns once both VMs have
    /// their link-local address and both bindings are active.
    pub fn start_ipv6(&self, binding_r: &str, binding_b: &str, extra_ipv6: &str) -> Daemon {
        for vm in [&self.vm_r, &self.vm_b] {
            vm.run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
        }
        self.write_binding("tap-r", binding_r);
        self.write_binding("tap-b", binding_b);
        self.install_rules();
        let d = self.start_daemon(&self.write_config("", extra_ipv6));
        for vm in [&self.vm_r, &self.vm_b] {
            vm.wait_link_local("eth0");
        }
        d.wait_for("both bindings active", |s| {
            s.bindings.iter().filter(|b| b.state == "active").count() == 2
        });
        d
    }

    /// The binding directory.
    pub fn bindings(&self) -> PathBuf {
        self.dir.path().join("bindings")
    }

    /// Writes a binding atomically (temp + rename), as a hook does.
    pub fn write_binding(&self, tap: &str, text: &str) {
        let tmp = self.bindings().join(format!(".{tap}.tmp"));
        std::fs::write(&tmp, text).expect("write binding");
        std::fs::rename(&tmp, self.bindings().join(tap)).expect("rename binding");
    }

    /// Installs the rules of the original docs (routed by -i, bridged by physdev).
    pub fn install_rules(&self) {
        self.host.run(
            "iptables -t mangle -A PREROUTING -i tap-r -p udp --dport 67 -j NFQUEUE --queue-num 42 && \
             iptables -t mangle -A PREROUTING -p udp -m physdev --physdev-in tap-b -m udp --dport 67 -j NFQUEUE --queue-num 42 && \
             ip6tables -t mangle -A PREROUTING -i tap-r -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43 && \
             ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap-b -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43 && \
             ip6tables -t mangle -A PREROUTING -i tap-r -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44 && \
             ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap-b -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44 && \
             ip6tables -t mangle -A PREROUTING -i tap-r -p udp --dport 547 -j NFQUEUE --queue-num 45 && \
             ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap-b -p udp --dport 547 -j NFQUEUE --queue-num 45",
        );
    }

    /// Writes the config (INI, as the original) and returns its path.
    pub fn write_config(&self, extra_dhcp: &str, extra_ipv6: &str) -> PathBuf {
        let p = self.dir.path().join("nfdhcpd.conf");
        let text = format!(
            "[general]\ndatapath = {d}\ncontrol_socket = {s}\npidfile = {pid}\n\n[dhcp]\nenable_dhcp = yes\nlease_lifetime = 604800\nlease_renewal = 3600\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nnameservers = 192.0.2.53, 198.51.100.53\ndomain = vm.example.org\n{extra_dhcp}\n\n[ipv6]\nenable_ipv6 = yes\nra_period = 300\nrs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45\nnameservers = 2001:db8:53::1, 2001:db8:53::2\ndomains = vm.example.org, example.org\n{extra_ipv6}\n",
            d = self.bindings().display(),
            s = self.control_socket().display(),
            pid = self.dir.path().join("nfdhcpd.pid").display(),
        );
        std::fs::write(&p, text).expect("write config");
        p
    }

    /// The daemon's control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.dir.path().join("control.sock")
    }

    /// Starts the daemon in the host namespace and waits until it is ready.
    pub fn start_daemon(&self, config: &Path) -> Daemon {
        self.start_daemon_env(config, &[])
    }

    /// [`Topology::start_daemon`] with extra environment variables.
    pub fn start_daemon_env(&self, config: &Path, env: &[(&str, &str)]) -> Daemon {
        self.start_daemon_with(config, env, &[])
    }

    /// [`Topology::start_daemon`] with extra environment variables and
    /// command-line arguments.
    pub fn start_daemon_with(&self, config: &Path, env: &[(&str, &str)], args: &[&str]) -> Daemon {
        self.start_daemon_wrapped(config, env, args, &[])
    }

    /// [`Topology::start_daemon_with`] run under a wrapper command (e.g.
    /// `prlimit --nofile=256:256 --`), which must exec the daemon so that
    /// the child's PID stays the daemon's.
    pub fn start_daemon_wrapped(
        &self,
        config: &Path,
        env: &[(&str, &str)],
        args: &[&str],
        wrapper: &[&str],
    ) -> Daemon {
        let log = self.dir.path().join("nfdhcpd.log");
        let logf = std::fs::File::create(&log).expect("log file");
        let (program, pre) = match wrapper.split_first() {
            Some((p, rest)) => (*p, rest),
            None => ("ip", &[][..]),
        };
        let mut cmd = Command::new(program);
        cmd.args(pre);
        if !wrapper.is_empty() {
            cmd.arg("ip");
        }
        let child = cmd
            .envs(env.iter().copied())
            .args([
                "netns",
                "exec",
                &self.host.name,
                env!("CARGO_BIN_EXE_nfdhcpd"),
                "-c",
            ])
            .arg(config)
            .arg("-d")
            .args(args)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("dup log"))
            .stderr(logf)
            .spawn()
            .expect("spawn nfdhcpd");
        let d = Daemon {
            child: Some(child),
            socket: self.control_socket(),
            log,
        };
        d.wait_ready();
        d
    }

    /// Waits (bounded) until no packet waits for a verdict in any queue;
    /// panics with the counters otherwise.
    pub fn wait_queues_empty(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let q = self.queue_stats();
            if q.iter().all(|q| q.total == 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "packets left waiting for a verdict: {q:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The kernel's per-queue counters in the host namespace.
    pub fn queue_stats(&self) -> Vec<QueueStat> {
        parse_queue_stats(&self.host.run("cat /proc/net/netfilter/nfnetlink_queue"))
    }
}

/// One line of /proc/net/netfilter/nfnetlink_queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStat {
    /// Queue number.
    pub queue: u16,
    /// Packets waiting for a verdict.
    pub total: u32,
    /// Dropped by the kernel (queue full).
    pub queue_dropped: u32,
    /// Dropped because the socket buffer was full.
    pub user_dropped: u32,
}

/// Parses /proc/net/netfilter/nfnetlink_queue.
pub fn parse_queue_stats(text: &str) -> Vec<QueueStat> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<u32> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (f.len() >= 7).then(|| QueueStat {
                queue: f[0] as u16,
                total: f[2],
                queue_dropped: f[5],
                user_dropped: f[6],
            })
        })
        .collect()
}

/// The running daemon; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Daemon {
    child: Option<Child>,
    /// Control socket.
    pub socket: PathBuf,
    /// Log file.
    pub log: PathBuf,
}

impl Daemon {
    /// Its status over the control socket.
    pub fn status(&self) -> Status {
        nfdhcpd::observe::control::query(&self.socket)
            .unwrap_or_else(|e| panic!("status: {e}\nlog:\n{}", self.log_text()))
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(s) = nfdhcpd::observe::control::query(&self.socket) {
                if s.ready {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon not ready in time; log:\n{}", self.log_text());
    }

    /// Waits (bounded) until the status satisfies `cond`.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&Status) -> bool) -> Status {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.status();
            if cond(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not reached; status: {s:#?}\nlog:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The daemon's PID (`ip netns exec` and the wrappers exec it).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Is the process still running?
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Sends a signal to the daemon (by the PID it reports).
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = self.status().pid as i32;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).expect("kill");
    }

    /// Stops it with SIGTERM and returns its exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.stop_with(nix::sys::signal::Signal::SIGTERM)
    }

    /// Stops it with `sig` and returns its exit status (killed after 10 s).
    pub fn stop_with(&mut self, sig: nix::sys::signal::Signal) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        // `ip netns exec` execs the daemon, so the child PID is the daemon's.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), sig);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                return st;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return c.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            for _ in 0..100 {
                if c.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A client hook script that logs each event's variables to `log` and
/// applies the lease inside the namespace (never touching /etc/resolv.conf).
pub fn client_script(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    hook_script(dir, name, |log| {
        format!(
            r#"#!/bin/sh
ev="${{1:-$reason}}"
{{ echo "EVENT $ev"; env | grep -E '^(ip|subnet|router|dns|domain|hostname|mtu|broadcast|lease|serverid|staticroutes|search|ntpsrv|siaddr|sname|boot_file|opt[0-9]+|new_[a-z0-9_]+)=' | sort; echo "END"; }} >> {log}
case "$ev" in
  bound|renew)
    ip addr replace "$ip/$subnet" dev "$interface" 2>/dev/null || ip addr replace "$ip/24" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${{router%% *}}" dev "$interface" ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    [ -n "$new_routers" ] && ip route replace default via "${{new_routers%% *}}" dev "$interface" ;;
esac
exit 0
"#,
            log = log.display()
        )
    })
}

/// Writes the client hook script `{name}-script` in `dir`: `text(log)`,
/// where `log` is `{name}-events.log` beside it, for the script to log its
/// events to. Returns the script and the log.
pub fn hook_script(
    dir: &Path,
    name: &str,
    text: impl FnOnce(&Path) -> String,
) -> (PathBuf, PathBuf) {
    let script = dir.join(format!("{name}-script"));
    let log = dir.join(format!("{name}-events.log"));
    std::fs::write(&script, text(&log)).expect("write script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    (script, log)
}

/// Runs udhcpc once in `vm` (3 tries, 1 s apart, `opts` added) with a
/// logging hook script named after `name`; returns whether it got a lease
/// and the events the hook logged.
pub fn udhcpc_once(t: &Topology, vm: &Netns, name: &str, opts: &str) -> (bool, Vec<ClientEvent>) {
    udhcpc_with(vm, &client_script(t.dir.path(), name), opts)
}

/// [`udhcpc_once`] with a hook script of the caller's: `script` is the
/// script and the log its events go to, as [`client_script`] gives them.
pub fn udhcpc_with(
    vm: &Netns,
    (script, log): &(PathBuf, PathBuf),
    opts: &str,
) -> (bool, Vec<ClientEvent>) {
    let out = vm.run_out(&format!(
        "udhcpc -i eth0 -f -n -q -t 3 -T 1 {opts} -s {}",
        script.display()
    ));
    (out.status.success(), client_events(log))
}

/// Runs dhcpcd once for DHCPv4 in `vm` on eth0 (8 s at the most, its
/// config file `conf`) with a hook script of the caller's, as
/// [`client_script`] gives it; returns whether it got a lease, its output
/// (stdout, then stderr) and the events the hook logged.
pub fn dhcpcd_with(
    vm: &Netns,
    conf: &Path,
    (script, log): &(PathBuf, PathBuf),
) -> (bool, String, Vec<ClientEvent>) {
    let out = vm.run_out(&format!(
        "dhcpcd -4 -1 -B -t 8 -A -f {} -c {} eth0",
        conf.display(),
        script.display()
    ));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, client_events(log))
}

/// The values of rdisc6's (or ndisc6's) lines that start with `name`.
pub fn rdisc6_field<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.trim_start().starts_with(name))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .collect()
}

/// One client script event: its name and variables.
pub type ClientEvent = (String, std::collections::BTreeMap<String, String>);

/// The variables of the last of `kinds` among `events`; panics, showing
/// the events and `context`, when there is none.
pub fn last_event(
    events: &[ClientEvent],
    kinds: &[&str],
    context: &str,
) -> std::collections::BTreeMap<String, String> {
    events
        .iter()
        .rev()
        .find(|(e, _)| kinds.contains(&e.as_str()))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {kinds:?} event in {events:#?}\n{context}"))
}

/// The events logged by a client script: (event name, variables).
pub fn client_events(log: &Path) -> Vec<ClientEvent> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = Vec::new();
    let mut cur: Option<(String, std::collections::BTreeMap<String, String>)> = None;
    for line in text.lines() {
        if let Some(ev) = line.strip_prefix("EVENT ") {
            cur = Some((ev.to_string(), Default::default()));
        } else if line == "END" {
            out.extend(cur.take());
        } else if let (Some((_, vars)), Some((k, v))) = (cur.as_mut(), line.split_once('=')) {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    out
}

impl Topology {
    /// Adds another VM: a namespace whose eth0 (MAC `mac`, DAD off) is the
    /// peer of host interface `port`, a port of br0 when `bridged`, else a
    /// routed link. The namespace is deleted on drop (its link with it).
    pub fn add_vm(&self, port: &str, mac: &str, bridged: bool) -> Netns {
        let vm = Netns::new(&format!("{}-{port}", self.host.name));
        vm.run("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
        self.host.run(&format!(
            "ip link add {port} type veth peer name eth0 netns {}",
            vm.name
        ));
        if bridged {
            self.host.run(&format!("ip link set {port} master br0"));
        }
        self.host.run(&format!("ip link set {port} up"));
        vm.run(&format!(
            "ip link set eth0 address {mac} && ip link set eth0 up"
        ));
        vm
    }
}
