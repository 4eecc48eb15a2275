//! Resource exhaustion from local users: idle connections to /metrics and
//! to the control socket must not cost the daemon its descriptors, and so
//! its bindings; a failed directory listing or binding read is retried,
//! never taken for an empty directory or a bad file.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Holds `n` idle TCP connections to the metrics endpoint and `n` to the
/// control socket, opening a new one whenever the daemon closes one, until
/// a line (or EOF) arrives on stdin; prints how many it opened in all.
const HOLDER: &str = r#"
import resource, selectors, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sel = selectors.DefaultSelector()
have = {"tcp": 0, "unix": 0}
opened = 0
def open_one(kind):
    global opened
    if kind == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return False
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return False
    sel.register(s, selectors.EVENT_READ, kind)
    have[kind] += 1
    opened += 1
    return True
sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
announced = False
while True:
    for kind in have:
        while have[kind] < n and open_one(kind):
            pass
    if not announced:
        print("holding", flush=True)
        announced = True
    for key, _ in sel.select(timeout=0.05):
        if key.data == "stdin":
            print(opened, flush=True)
            sys.exit(0)
        try:
            data = key.fileobj.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            have[key.data] -= 1
"#;

fn binding(ip: &str, n: usize) -> String {
    format!(
        "IP={ip}\nMAC=aa:00:00:00:{:02x}:{:02x}\nSUBNET=203.0.113.0/24\nGATEWAY=203.0.113.1\n",
        n / 256,
        n % 256
    )
}

/// The IPs the status shows per tap, with any error.
fn table(d: &Daemon) -> BTreeMap<String, (Option<String>, Option<String>)> {
    d.status()
        .bindings
        .into_iter()
        .map(|b| (b.tap, (b.ip, b.error)))
        .collect()
}

#[test]
fn idle_connections_do_not_cost_the_bindings() {
    if !prerequisites(&["udhcpc", "python3", "prlimit"]) {
        return;
    }
    let t = Topology::new("fd");
    let r = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n";
    let b = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nGATEWAY=198.51.100.1\n";
    t.write_binding("tap-r", r);
    t.write_binding("tap-b", b);
    // Bindings of VMs elsewhere on the node (taps not here): the table must
    // still equal the directory afterwards.
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..40 {
        let ip = format!("203.0.113.{}", 10 + i);
        t.write_binding(&format!("tap-x{i}"), &binding(&ip, i));
        want.insert(format!("tap-x{i}"), ip);
    }
    t.install_rules();
    let mut cfg = std::fs::read_to_string(t.write_config("", "")).unwrap();
    cfg.push_str("\n[metrics]\nlisten = 127.0.0.1:9108\n");
    let cfg_path = t.dir.path().join("nfdhcpd.conf");
    std::fs::write(&cfg_path, cfg).unwrap();
    // A hard limit the attack would exhaust without the connection caps.
    let d = t.start_daemon_wrapped(&cfg_path, &[], &[], &["prlimit", "--nofile=200:200", "--"]);
    d.wait_for("both VMs active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });

    let holder_py = t.dir.path().join("holder.py");
    std::fs::write(&holder_py, HOLDER).unwrap();
    let mut holder = Command::new("ip")
        .args(["netns", "exec", &t.host.name, "python3"])
        .arg(&holder_py)
        .args(["9108", d.socket.to_str().unwrap(), "300"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the connection holder");
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "holding");
    std::thread::sleep(Duration::from_millis(500));

    // Under attack: rewrite, add, remove bindings and reload.
    let pid = nix::unistd::Pid::from_raw(d.pid() as i32);
    let hup = || nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("SIGHUP");
    t.write_binding("tap-r", &r.replace("192.0.2.10", "192.0.2.11"));
    t.write_binding("tap-b", &b.replace("198.51.100.20", "198.51.100.21"));
    for i in 0..40 {
        let ip = format!("203.0.113.{}", 100 + i);
        t.write_binding(&format!("tap-x{i}"), &binding(&ip, i));
        want.insert(format!("tap-x{i}"), ip);
    }
    hup();
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..10 {
        std::fs::remove_file(t.bindings().join(format!("tap-x{i}"))).unwrap();
        want.remove(&format!("tap-x{i}"));
    }
    for i in 40..60 {
        let ip = format!("203.0.113.{}", 100 + i);
        // In place (truncate + write), as the original's hooks do.
        std::fs::write(t.bindings().join(format!("tap-x{i}")), binding(&ip, i)).unwrap();
        want.insert(format!("tap-x{i}"), ip);
    }
    hup();
    std::thread::sleep(Duration::from_millis(1500));
    writeln!(holder.stdin.as_mut().unwrap()).unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let opened: usize = line.trim().parse().expect("holder count");
    assert!(holder.wait().unwrap().success());
    assert!(opened >= 600, "the holder opened only {opened} connections");

    want.insert("tap-r".into(), "192.0.2.11".into());
    want.insert("tap-b".into(), "198.51.100.21".into());
    let want: BTreeMap<_, _> = want
        .into_iter()
        .map(|(k, v)| (k, (Some(v), None)))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = table(&d);
        if got == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the table does not equal the directory:\n{got:#?}\nlog:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, ev) = udhcpc_once(&t, &t.vm_r, "fd-r", "");
    assert!(
        ok && ev
            .iter()
            .any(|(_, v)| v.get("ip").map(String::as_str) == Some("192.0.2.11")),
        "{ev:?}"
    );
    let (ok, ev) = udhcpc_once(&t, &t.vm_b, "fd-b", "");
    assert!(
        ok && ev
            .iter()
            .any(|(_, v)| v.get("ip").map(String::as_str) == Some("198.51.100.21")),
        "{ev:?}"
    );
}

#[test]
fn the_soft_descriptor_limit_is_raised_to_the_hard_one() {
    if !prerequisites(&["prlimit"]) {
        return;
    }
    let t = Topology::new("fl");
    let d = t.start_daemon_wrapped(
        &t.write_config("", ""),
        &[],
        &[],
        &["prlimit", "--nofile=64:4096", "--"],
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", d.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("the open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[3..5], ["4096", "4096"], "{line}");
}
