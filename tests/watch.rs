//! The binding manager on a real temporary directory with real inotify.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nfdhcpd::binding::store::Link;
use nfdhcpd::binding::table::State;
use nfdhcpd::binding::watch::{Event, Handle};
use nfdhcpd::datapath::tap::{Manager, Snapshot, Table};
use nfdhcpd::mac::MacAddr;

struct Fixture {
    dir: tempfile::TempDir,
    table: Arc<Table>,
    handle: Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.handle.send(Event::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn binding(mac_last: u8, ip_last: u8) -> String {
    format!("MAC=aa:00:00:00:00:{mac_last:02x}\nIP=192.0.2.{ip_last}\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n")
}

fn start(pre: impl FnOnce(&Path)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    pre(dir.path());
    let table = Table::new();
    let m = Manager::new(dir.path().to_path_buf(), true, table.clone());
    let handle = m.handle();
    // Every tap "exists": links named tap0..tap2999 with ifindex 1000+n.
    let links = (0..3000u32)
        .map(|n| {
            (
                format!("tap{n}"),
                Link {
                    ifindex: 1000 + n,
                    mac: Some(MacAddr([0xfe, 0, 0, 0, (n >> 8) as u8, n as u8])),
                },
            )
        })
        .collect();
    handle.send(Event::Links(links));
    let thread = Some(m.spawn().unwrap());
    Fixture {
        dir,
        table,
        handle,
        thread,
    }
}

/// Waits (bounded) until `cond` holds on the table; panics with the last snapshot otherwise.
fn wait_for(f: &Fixture, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = f.table.load();
        if cond(&s) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{what}: not reached; table: {:?}", s.entries);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ip_of(s: &Snapshot, n: u32) -> Option<String> {
    s.lookup(1000 + n)
        .and_then(|b| b.binding.ip)
        .map(|ip| ip.to_string())
}

#[test]
fn initial_scan_skips_temp_files() {
    let f = start(|d| {
        std::fs::write(d.join("tap1"), binding(1, 11)).unwrap();
        std::fs::write(d.join("tap2.tmp"), binding(2, 12)).unwrap();
        std::fs::write(d.join(".tap3"), binding(3, 13)).unwrap();
        std::fs::write(d.join("tap4~"), binding(4, 14)).unwrap();
    });
    wait_for(&f, "first scan", |s| {
        s.generation >= 1 && ip_of(s, 1).is_some()
    });
    assert!(f
        .handle
        .first_scan_done
        .load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(f.table.load().entries.len(), 1);
}

#[test]
fn create_rewrite_in_place_rename_in_delete_move_out() {
    let f = start(|_| {});
    let d = f.dir.path();
    std::fs::write(d.join("tap1"), binding(1, 11)).unwrap();
    wait_for(&f, "created", |s| {
        ip_of(s, 1).as_deref() == Some("192.0.2.11")
    });

    // Truncate + write in place (act on close-write).
    std::fs::write(d.join("tap1"), binding(1, 21)).unwrap();
    wait_for(&f, "rewritten", |s| {
        ip_of(s, 1).as_deref() == Some("192.0.2.21")
    });

    // Write a temp file and rename it in.
    std::fs::write(d.join(".tap2.new"), binding(2, 12)).unwrap();
    std::fs::rename(d.join(".tap2.new"), d.join("tap2")).unwrap();
    wait_for(&f, "renamed in", |s| {
        ip_of(s, 2).as_deref() == Some("192.0.2.12")
    });
    // Rename over an existing binding replaces it.
    std::fs::write(d.join("tap2.tmp"), binding(2, 22)).unwrap();
    std::fs::rename(d.join("tap2.tmp"), d.join("tap2")).unwrap();
    wait_for(&f, "renamed over", |s| {
        ip_of(s, 2).as_deref() == Some("192.0.2.22")
    });

    std::fs::remove_file(d.join("tap1")).unwrap();
    wait_for(&f, "deleted", |s| {
        ip_of(s, 1).is_none() && s.entries.len() == 1
    });

    let out = tempfile::tempdir_in(d.parent().unwrap()).unwrap();
    std::fs::rename(d.join("tap2"), out.path().join("tap2")).unwrap();
    wait_for(&f, "moved out", |s| {
        s.entries.is_empty() && s.by_ifindex.is_empty()
    });
}

#[test]
fn invalid_rewrite_keeps_last_good() {
    let f = start(|d| std::fs::write(d.join("tap5"), binding(5, 15)).unwrap());
    wait_for(&f, "loaded", |s| ip_of(s, 5).is_some());
    std::fs::write(
        f.dir.path().join("tap5"),
        "MAC=aa:00:00:00:00:05\nIP=192.0.2.300\n",
    )
    .unwrap();
    wait_for(&f, "invalid reported", |s| {
        matches!(s.entries[0].state, State::Invalid { .. })
    });
    let s = f.table.load();
    assert_eq!(
        ip_of(&s, 5).as_deref(),
        Some("192.0.2.15"),
        "last good binding stays in force"
    );
    match &s.entries[0].state {
        State::Invalid {
            error,
            last_good_served,
        } => {
            assert!(*last_good_served);
            assert!(error.contains("IP=\"192.0.2.300\""), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // Fixed again: active.
    std::fs::write(f.dir.path().join("tap5"), binding(5, 25)).unwrap();
    wait_for(&f, "fixed", |s| {
        ip_of(s, 5).as_deref() == Some("192.0.2.25") && s.entries[0].state == State::Active
    });
}

#[test]
fn burst_of_1000_files() {
    let f = start(|_| {});
    for n in 0..1000u32 {
        let tmp = f.dir.path().join(format!("tap{n}.tmp"));
        std::fs::write(&tmp, binding((n % 250) as u8, (n % 250 + 2) as u8)).unwrap();
        if n % 2 == 0 {
            std::fs::rename(&tmp, f.dir.path().join(format!("tap{n}"))).unwrap();
        } else {
            std::fs::remove_file(&tmp).unwrap();
            std::fs::write(
                f.dir.path().join(format!("tap{n}")),
                binding((n % 250) as u8, (n % 250 + 2) as u8),
            )
            .unwrap();
        }
    }
    wait_for(&f, "all 1000", |s| {
        s.by_ifindex.len() == 1000 && s.entries.len() == 1000
    });
    for n in 0..1000u32 {
        std::fs::remove_file(f.dir.path().join(format!("tap{n}"))).unwrap();
    }
    wait_for(&f, "all gone", |s| s.entries.is_empty());
}

#[test]
fn symlinks_fifos_and_oversized_files_are_refused() {
    let f = start(|d| {
        std::fs::write(d.join("real"), binding(1, 11)).unwrap();
    });
    let d = f.dir.path();
    std::os::unix::fs::symlink(d.join("real"), d.join("tap7")).unwrap();
    let big = format!("{}{}", binding(8, 18), "# padding\n".repeat(10_000));
    std::fs::write(d.join("tap8"), big).unwrap();
    wait_for(&f, "refused", |s| {
        let st = |t: &str| {
            s.entries
                .iter()
                .find(|e| e.tap == t)
                .map(|e| e.state.clone())
        };
        matches!(st("tap7"), Some(State::Invalid { error, .. }) if error.contains("symbolic link"))
            && matches!(st("tap8"), Some(State::Invalid { error, .. }) if error.contains("limit"))
    });
    assert!(ip_of(&f.table.load(), 7).is_none() && ip_of(&f.table.load(), 8).is_none());
}

#[test]
fn directory_removed_and_recreated_is_rescanned() {
    let f = start(|d| std::fs::write(d.join("tap1"), binding(1, 11)).unwrap());
    wait_for(&f, "loaded", |s| ip_of(s, 1).is_some());
    let d = f.dir.path().to_path_buf();
    std::fs::remove_dir_all(&d).unwrap();
    wait_for(&f, "withdrawn", |s| s.entries.is_empty());
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("tap2"), binding(2, 12)).unwrap();
    wait_for(&f, "rescanned", |s| {
        ip_of(s, 2).is_some() && s.entries.len() == 1
    });
}

#[test]
fn rescan_event_rereads_everything() {
    let f = start(|d| std::fs::write(d.join("tap1"), binding(1, 11)).unwrap());
    wait_for(&f, "loaded", |s| ip_of(s, 1).is_some());
    let g = f.table.load().generation;
    f.handle.send(Event::Rescan);
    wait_for(&f, "republished", |s| {
        s.generation > g && ip_of(s, 1).is_some()
    });
}

#[test]
fn world_writable_files_and_directories_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tap1");
    std::fs::write(&f, binding(1, 11)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = nfdhcpd::binding::watch::read_binding(dir.path(), "tap1", true).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.0.contains("writable by every user")),
        "{:?}",
        p.warnings
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        nfdhcpd::binding::watch::read_binding(dir.path(), "tap1", true)
            .unwrap()
            .warnings
            .is_empty()
    );
    assert_eq!(
        nfdhcpd::binding::watch::check_dir_permissions(dir.path()),
        None
    );
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(nfdhcpd::binding::watch::check_dir_permissions(dir.path())
        .unwrap()
        .contains("writable by every user"));
}

#[test]
fn a_burst_of_20000_files_ends_with_the_table_equal_to_the_directory() {
    // 20,000 files in one burst: whether the kernel's inotify queue (16,384
    // events by default) overflows or not, the table must end equal to the
    // directory (an overflow notice triggers a rescan, tested below).
    let f = start(|_| {});
    let d = f.dir.path();
    for n in 0..20_000u32 {
        std::fs::write(
            d.join(format!("t{n}")),
            binding((n % 250) as u8, (n % 250 + 2) as u8),
        )
        .unwrap();
    }
    wait_for(&f, "all 20,000 files in the table", |s| {
        s.entries.len() == 20_000
    });
    for n in (0..20_000u32).step_by(2) {
        std::fs::remove_file(d.join(format!("t{n}"))).unwrap();
    }
    wait_for(&f, "10,000 left", |s| {
        s.entries.len() == 10_000
            && s.entries
                .iter()
                .all(|e| e.tap[1..].parse::<u32>().unwrap() % 2 == 1)
    });
}

#[test]
fn an_overflow_notice_triggers_a_full_rescan() {
    use notify::event::{EventKind, Flag};
    let f = start(|d| std::fs::write(d.join("tap1"), binding(1, 11)).unwrap());
    wait_for(&f, "loaded", |s| ip_of(s, 1).is_some());
    let before = f.handle.rescans.load(std::sync::atomic::Ordering::SeqCst);
    // What notify delivers on IN_Q_OVERFLOW.
    f.handle.send(Event::Fs(Ok(
        notify::Event::new(EventKind::Other).set_flag(Flag::Rescan)
    )));
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.handle.rescans.load(std::sync::atomic::Ordering::SeqCst) == before {
        assert!(
            Instant::now() < deadline,
            "no rescan after an overflow notice"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // A watcher error is handled the same way.
    let before = f.handle.rescans.load(std::sync::atomic::Ordering::SeqCst);
    f.handle
        .send(Event::Fs(Err(notify::Error::generic("watcher failed"))));
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.handle.rescans.load(std::sync::atomic::Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "no rescan after a watcher error");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(ip_of(&f.table.load(), 1).is_some());
}
