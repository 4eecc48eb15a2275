//! Load generator of the whole-path benchmark (`benches/load.sh`): replays
//! one captured client request (an Ethernet frame from a fixture pcap) out
//! of an interface at a fixed rate and counts the replies of the expected
//! kind coming back on it.
//!
//! `loadgen IFACE PCAP INDEX KIND RATE SECS`; KIND is `dhcp4`, `ra`, `na`
//! or `dhcp6`; RATE is frames/s (0: as fast as possible). For `dhcp4` each
//! frame gets a fresh xid (UDP checksum zeroed, allowed for IPv4) and the
//! round trip of every reply is measured. Prints one line of `key=value`.
//! Runs inside the VM's namespace, as root (AF_PACKET). With IFACE
//! `tap:NAME` it is the VM of an existing tap NAME instead: it attaches to
//! the tap (in the host's namespace) as a hypervisor's VMM does, writes the
//! requests into it and reads what the host sends out of it.
//! With `LOADGEN_MARK=TEXT` in the environment it also prints, as
//! `mark_first_unix_ns`, the wall-clock time of the first reply whose bytes
//! contain TEXT (0: none did): when a changed binding is first seen in a
//! reply.
#![allow(unsafe_code)]

use std::io;

use nfdhcpd::datapath::send::wait_readable;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Ethernet header length.
const ETH: usize = 14;
/// Offset of the DHCP xid in an Ethernet/IPv4(no options)/UDP/BOOTP frame.
const XID: usize = ETH + 20 + 8 + 4;
/// Offset of the UDP checksum in the same frame.
const UDP_CSUM: usize = ETH + 20 + 6;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Dhcp4,
    Ra,
    Na,
    Dhcp6,
}

impl Kind {
    /// Is `f` (an Ethernet frame) a reply of this kind?
    fn matches(self, f: &[u8]) -> bool {
        let et = f.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
        match self {
            Kind::Dhcp4 => {
                et == Some(0x0800)
                    && f.get(ETH + 9) == Some(&17)
                    && f.get(ETH + 22..ETH + 24) == Some(&[0, 68])
            }
            Kind::Ra | Kind::Na => {
                let ty = if self == Kind::Ra { 134 } else { 136 };
                et == Some(0x86dd) && f.get(ETH + 6) == Some(&58) && f.get(ETH + 40) == Some(&ty)
            }
            Kind::Dhcp6 => {
                et == Some(0x86dd)
                    && f.get(ETH + 6) == Some(&17)
                    && f.get(ETH + 42..ETH + 44) == Some(&[2, 34])
            }
        }
    }
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// An AF_PACKET socket bound to `ifindex`, receiving every protocol.
fn packet_socket(ifindex: i32) -> io::Result<libc::c_int> {
    let all = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: socket(2) with constant arguments.
    let fd = check(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(all)) })?;
    // SAFETY: sockaddr_ll is plain old data.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = all;
    sa.sll_ifindex = ifindex;
    // SAFETY: a live, initialised sockaddr_ll of the given size.
    check(unsafe {
        libc::bind(
            fd,
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    })?;
    let buf: libc::c_int = 32 << 20;
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    let one: libc::c_int = 1;
    // SAFETY: option values are live locals of the sizes given.
    unsafe {
        // Without this, every frame sent is also copied back to this socket
        // (it sees all protocols), doubling the generator's own work.
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            (&one as *const i32).cast(),
            4,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&buf as *const i32).cast(),
            4,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        );
    }
    Ok(fd)
}

/// Attaches to the existing tap `name` (IFF_TAP, no packet information):
/// what is written to the fd arrives on the tap, what the host sends out of
/// the tap is read from it. Non-blocking: the reader waits with
/// [`wait_readable`].
fn tap_fd(name: &str) -> io::Result<libc::c_int> {
    // SAFETY: open(2) of a constant, NUL-terminated path.
    let fd =
        check(unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) })?;
    // struct ifreq: the name (16 bytes, NUL-terminated), then the flags.
    let mut ifr = [0u8; 40];
    assert!(name.len() < 16, "tap name too long");
    ifr[..name.len()].copy_from_slice(name.as_bytes());
    let flags = (libc::IFF_TAP | libc::IFF_NO_PI) as i16;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq; the buffer is a
    // live local at least that large.
    check(unsafe { libc::ioctl(fd, libc::TUNSETIFF, ifr.as_mut_ptr()) })?;
    Ok(fd)
}

fn frame_from_pcap(path: &str, index: usize) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut r = pcap_file::pcap::PcapReader::new(f).expect("a pcap file");
    let mut i = 0;
    while let Some(p) = r.next_packet() {
        let p = p.expect("a pcap record");
        if i == index {
            return p.data.into_owned();
        }
        i += 1;
    }
    panic!("{path} has no frame #{index}");
}

/// Frames whose round trip is measured (the first ones; 32 MiB of send
/// times), so a long flood does not need memory in proportion to it.
const RTT_TRACKED: usize = 4 << 20;

/// Send times of DHCPv4 frames by xid (xid = sequence number).
struct Clock {
    start: Instant,
    sent_ns: Vec<AtomicU64>,
}

/// What the receiver counted: replies, DHCPv4 round trips (ns), the longest
/// silence between two replies, and when the mark was first seen.
struct Received {
    n: u64,
    rtts: Vec<u64>,
    max_gap: Duration,
    mark_seen: Option<std::time::SystemTime>,
}

fn receiver(
    fd: libc::c_int,
    tap: bool,
    kind: Kind,
    stop: Arc<AtomicBool>,
    clock: Arc<Clock>,
    mark: Option<Vec<u8>>,
) -> Received {
    let mut mark_seen = None;
    let mut look_for_mark = |f: &[u8]| {
        if let Some(m) = mark.as_deref().filter(|_| mark_seen.is_none()) {
            if f.windows(m.len()).any(|w| w == m) {
                mark_seen = Some(std::time::SystemTime::now());
            }
        }
    };
    let mut buf = vec![0u8; 65536];
    let (mut n, mut rtts) = (0u64, Vec::new());
    // The longest silence between two replies (an outage under load).
    let (mut last, mut max_gap) = (None::<Instant>, Duration::ZERO);
    while !stop.load(Ordering::Relaxed) {
        if tap {
            // SAFETY: the buffer is a live local of the size given.
            let len = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if len <= 0 {
                wait_readable(fd, 100);
                continue;
            }
            if kind.matches(&buf[..len as usize]) {
                n += 1;
                look_for_mark(&buf[..len as usize]);
                note_reply(
                    &buf[..len as usize],
                    kind,
                    &clock,
                    &mut rtts,
                    &mut last,
                    &mut max_gap,
                );
            }
            continue;
        }
        // SAFETY: sockaddr_ll is plain old data.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut sl = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: buffer and address are live locals of the sizes given.
        let len = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut sa as *mut libc::sockaddr_ll).cast(),
                &mut sl,
            )
        };
        if len <= 0 || sa.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        let f = &buf[..len as usize];
        if kind.matches(f) {
            n += 1;
            look_for_mark(f);
            note_reply(f, kind, &clock, &mut rtts, &mut last, &mut max_gap);
        }
    }
    Received {
        n,
        rtts,
        max_gap,
        mark_seen,
    }
}

/// Accounts for one reply `f`: the gap since the previous one and, for
/// DHCPv4, its round trip (by xid).
fn note_reply(
    f: &[u8],
    kind: Kind,
    clock: &Clock,
    rtts: &mut Vec<u64>,
    last: &mut Option<Instant>,
    max_gap: &mut Duration,
) {
    let now = Instant::now();
    if let Some(l) = *last {
        *max_gap = (*max_gap).max(now - l);
    }
    *last = Some(now);
    if kind != Kind::Dhcp4 {
        return;
    }
    if let Some(x) = f.get(XID..XID + 4) {
        let seq = u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as usize;
        if let Some(t) = clock.sent_ns.get(seq) {
            let now = clock.start.elapsed().as_nanos() as u64;
            let t = t.load(Ordering::Relaxed);
            if t != 0 && now > t {
                rtts.push(now - t);
            }
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        a.len() == 6,
        "usage: loadgen IFACE PCAP INDEX KIND RATE SECS"
    );
    let mut frame = frame_from_pcap(&a[1], a[2].parse().expect("index"));
    let kind = match a[3].as_str() {
        "dhcp4" => Kind::Dhcp4,
        "ra" => Kind::Ra,
        "na" => Kind::Na,
        "dhcp6" => Kind::Dhcp6,
        k => panic!("unknown kind {k}"),
    };
    let rate: f64 = a[4].parse().expect("rate");
    let secs: f64 = a[5].parse().expect("seconds");
    let tap = a[0].starts_with("tap:");
    let fd = match a[0].strip_prefix("tap:") {
        Some(name) => tap_fd(name).expect("attach to the tap (root? does it exist?)"),
        None => {
            let ifindex: i32 = std::fs::read_to_string(format!("/sys/class/net/{}/ifindex", a[0]))
                .expect("interface")
                .trim()
                .parse()
                .expect("ifindex");
            packet_socket(ifindex).expect("AF_PACKET socket (root?)")
        }
    };
    let max = if rate > 0.0 {
        (rate * secs) as usize + 16
    } else {
        (secs * 1e6) as usize
    };
    let clock = Arc::new(Clock {
        start: Instant::now(),
        sent_ns: (0..if kind == Kind::Dhcp4 {
            max.min(RTT_TRACKED)
        } else {
            0
        })
            .map(|_| AtomicU64::new(0))
            .collect(),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let mark = std::env::var("LOADGEN_MARK").ok().map(String::into_bytes);
    let rx = {
        let (stop, clock) = (stop.clone(), clock.clone());
        std::thread::spawn(move || receiver(fd, tap, kind, stop, clock, mark))
    };
    if kind == Kind::Dhcp4 {
        frame[UDP_CSUM..UDP_CSUM + 2].copy_from_slice(&[0, 0]);
    }
    let (mut sent, mut errors) = (0usize, 0u64);
    let t0 = Instant::now();
    let dur = Duration::from_secs_f64(secs);
    loop {
        let el = t0.elapsed();
        if el >= dur || sent >= max {
            break;
        }
        let due = if rate > 0.0 {
            (el.as_secs_f64() * rate) as usize + 1
        } else {
            sent + 64
        };
        if sent >= due {
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        while sent < due.min(max) {
            if kind == Kind::Dhcp4 {
                frame[XID..XID + 4].copy_from_slice(&(sent as u32).to_be_bytes());
                if let Some(t) = clock.sent_ns.get(sent) {
                    let now = clock.start.elapsed().as_nanos() as u64;
                    t.store(now.max(1), Ordering::Relaxed);
                }
            }
            // SAFETY: the frame is a live slice; the fd is a bound packet socket
            // or an attached tap.
            let r = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
            if r < 0 {
                errors += 1;
            }
            sent += 1;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let Received {
        n: received,
        mut rtts,
        max_gap,
        mark_seen,
    } = rx.join().expect("receiver");
    let mark_ns = mark_seen
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    rtts.sort_unstable();
    let pct = |p: f64| {
        rtts.get(((rtts.len() as f64 * p) as usize).min(rtts.len().saturating_sub(1)))
            .map_or(0.0, |&ns| ns as f64 / 1000.0)
    };
    println!(
        "sent={sent} send_errors={errors} received={received} secs={elapsed:.3} sent_per_s={:.0} replies_per_s={:.0} rtt_p50_us={:.1} rtt_p99_us={:.1} rtt_max_us={:.1} reply_gap_max_ms={:.1} mark_first_unix_ns={mark_ns}",
        sent as f64 / elapsed,
        received as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        max_gap.as_secs_f64() * 1000.0
    );
}
