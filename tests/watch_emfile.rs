//! The binding manager out of descriptors: a failed listing is not an empty
//! directory, and a binding that could not be opened is read again once
//! descriptors are back. Its own test binary: it exhausts the process's
//! descriptors, which would disturb tests running beside it.

use std::time::{Duration, Instant};

use nfdhcpd::binding::store::Link;
use nfdhcpd::binding::table::State;
use nfdhcpd::binding::watch::Event;
use nfdhcpd::datapath::tap::{Manager, Snapshot, Table};
use nfdhcpd::mac::MacAddr;

fn binding(mac_last: u8, ip_last: u8) -> String {
    format!("MAC=aa:00:00:00:00:{mac_last:02x}\nIP=192.0.2.{ip_last}\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n")
}

fn ip_of(s: &Snapshot, n: u32) -> Option<String> {
    s.lookup(1000 + n)
        .and_then(|b| b.binding.ip)
        .map(|ip| ip.to_string())
}

fn wait_for(table: &Table, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = table.load();
        if cond(&s) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached; table: {:?}",
            s.entries
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Opens /dev/null until the process is out of descriptors.
fn exhaust() -> Vec<std::fs::File> {
    let mut held = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return held,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
}

#[test]
fn out_of_descriptors_keeps_the_bindings_and_retries() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, 256.min(hard), hard).unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tap0"), binding(0x10, 10)).unwrap();
    std::fs::write(dir.path().join("tap1"), binding(0x11, 11)).unwrap();
    let table = Table::new();
    let m = Manager::new(dir.path().to_path_buf(), true, table.clone());
    let handle = m.handle();
    let links = (0..2u32)
        .map(|n| {
            let link = Link {
                ifindex: 1000 + n,
                mac: Some(MacAddr([0xfe, 0, 0, 0, 0, n as u8])),
            };
            (format!("tap{n}"), link)
        })
        .collect();
    handle.send(Event::Links(links));
    let thread = m.spawn().unwrap();
    wait_for(&table, "both active", |s| {
        ip_of(s, 0).as_deref() == Some("192.0.2.10") && ip_of(s, 1).as_deref() == Some("192.0.2.11")
    });

    // Prepared while descriptors remain; renamed in (no descriptor needed) once they are gone.
    let tmp = dir.path().join(".tap0.new");
    std::fs::write(&tmp, binding(0x10, 20)).unwrap();
    let held = exhaust();
    std::fs::rename(&tmp, dir.path().join("tap0")).unwrap();
    let before = handle.rescans.load(std::sync::atomic::Ordering::SeqCst);
    handle.send(Event::Rescan);
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.rescans.load(std::sync::atomic::Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the rescan never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    let s = table.load();
    // The failed listing withdrew nothing; the unreadable rewrite kept the last good binding.
    assert_eq!(
        ip_of(&s, 1).as_deref(),
        Some("192.0.2.11"),
        "{:?}",
        s.entries
    );
    assert_eq!(
        ip_of(&s, 0).as_deref(),
        Some("192.0.2.10"),
        "{:?}",
        s.entries
    );
    drop(held);

    wait_for(&table, "the rewrite read once descriptors are back", |s| {
        ip_of(s, 0).as_deref() == Some("192.0.2.20")
            && ip_of(s, 1).as_deref() == Some("192.0.2.11")
            && s.entries.iter().all(|e| e.state == State::Active)
    });
    handle.send(Event::Stop);
    thread.join().unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();
}
