//! 10,000 binding files through the real binding manager (`binding::watch`):
//! time from start to the first published snapshot with every binding
//! active, the memory it takes, and the time until a rewritten file
//! (write-temp + rename, as a hook does) is in force in the table.
//!
//! `bindings_load [N] [CHANGES]` (default 10000 and 20). No privilege needed;
//! the taps are announced to the manager as links, as the link monitor does.
//! Prints `key=value` lines; reports, never asserts.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nfdhcpd::binding::store::Link;
use nfdhcpd::binding::watch::Event;
use nfdhcpd::datapath::tap::{Manager, Table};
use nfdhcpd::mac::MacAddr;

fn binding_text(i: usize, host: usize) -> String {
    let (hi, lo) = (i / 256, i % 256);
    format!(
        "INDEV=tap{i}\nIP=10.{hi}.{lo}.{host}\nMAC=aa:00:00:00:{hi:02x}:{lo:02x}\nHOSTNAME=vm{i}\n\
         TAGS=\"nfdhcpd ip-less-routed\"\nGATEWAY=10.{hi}.{lo}.1\nSUBNET=10.{hi}.{lo}.0/24\n\
         GATEWAY6=2001:db8:{i:x}::1\nSUBNET6=2001:db8:{i:x}::/64\nMTU=1450\n"
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let changes = args.get(1).copied().unwrap_or(20);
    let dir = tempfile::Builder::new()
        .prefix("nfdhcpd-bench-")
        .tempdir()
        .expect("tempdir");
    for i in 0..n {
        std::fs::write(dir.path().join(format!("tap{i}")), binding_text(i, 10)).expect("write");
    }
    let links: Vec<(String, Link)> = (0..n)
        .map(|i| {
            let mac = MacAddr([0xfe, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            let link = Link {
                ifindex: 100 + i as u32,
                mac: Some(mac),
            };
            (format!("tap{i}"), link)
        })
        .collect();
    let rss0 = rss_kib();
    let table = Table::new();
    let start = Instant::now();
    let m = Manager::new(dir.path().to_path_buf(), true, table.clone());
    let h = m.handle();
    h.send(Event::Links(links));
    let _thread = m.spawn().expect("manager thread");
    while !(h.first_scan_done.load(Ordering::SeqCst) && table.load().by_ifindex.len() == n) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let ready = start.elapsed();
    let rss1 = rss_kib();
    println!("bindings={n} ready_ms={:.1}", ready.as_secs_f64() * 1e3);
    println!(
        "rss_before_kib={rss0} rss_ready_kib={rss1} rss_per_binding_bytes={}",
        (rss1.saturating_sub(rss0)) * 1024 / n.max(1) as u64
    );

    let mut lat = Vec::new();
    for c in 0..changes {
        let i = (c * 7919) % n;
        let host = 11 + c % 200;
        let want: std::net::Ipv4Addr = format!("10.{}.{}.{host}", i / 256, i % 256)
            .parse()
            .expect("ip");
        let tmp = dir.path().join(format!(".tap{i}.tmp"));
        std::fs::write(&tmp, binding_text(i, host)).expect("write");
        let t = Instant::now();
        std::fs::rename(&tmp, dir.path().join(format!("tap{i}"))).expect("rename");
        loop {
            let snap = table.guard();
            if snap.lookup(100 + i as u32).and_then(|s| s.binding.ip) == Some(want) {
                break;
            }
            drop(snap);
            if t.elapsed() > Duration::from_secs(5) {
                panic!("change {c} not in force after 5 s");
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(20));
    }
    lat.sort_by(f64::total_cmp);
    if !lat.is_empty() {
        println!(
            "changes={changes} in_force_ms_p50={:.2} in_force_ms_max={:.2}",
            lat[lat.len() / 2],
            lat[lat.len() - 1]
        );
    }
    h.send(Event::Stop);
}
