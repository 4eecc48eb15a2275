//! `Sender::send_all`: frames of a burst go out in sendmmsg(2) batches, each
//! gets its own result, and one that fails (a vanished tap) neither stops
//! nor reorders the ones after it, across batch boundaries. Runs in a
//! network namespace of its own thread, on that namespace's loopback.
#![allow(unsafe_code)]

mod common;

use nfdhcpd::datapath::send::{SendError, Sender, REPLY_BATCH_MAX};

/// An EtherType for local experiments (IEEE 802 "Local Experimental 1"):
/// no protocol handler takes these frames.
const ETHERTYPE: [u8; 2] = [0x88, 0xb5];

/// Brings `lo` of the calling thread's namespace up.
fn loopback_up() {
    // SAFETY: socket(2) with constant arguments, checked.
    let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(s >= 0, "socket: {}", std::io::Error::last_os_error());
    // struct ifreq: the name (16 bytes), then ifr_flags (short).
    let mut ifr = [0u8; 40];
    ifr[..2].copy_from_slice(b"lo");
    let flags = (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as i16;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: SIOCSIFFLAGS reads a struct ifreq from a live buffer at least that large.
    let r = unsafe { libc::ioctl(s, libc::SIOCSIFFLAGS, ifr.as_mut_ptr()) };
    assert!(
        r == 0,
        "SIOCSIFFLAGS lo: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: s is a descriptor this function owns.
    unsafe { libc::close(s) };
}

/// A packet socket on `lo` (ifindex 1) that sees only frames arriving on
/// it, not the copies of frames sent, with a receive timeout.
fn listener() -> libc::c_int {
    let proto = u16::from_be_bytes(ETHERTYPE).to_be();
    // SAFETY: socket(2) with constant arguments, checked.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto)) };
    assert!(
        fd >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: sockaddr_ll is plain old data.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = proto;
    sa.sll_ifindex = 1;
    let one: libc::c_int = 1;
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 200_000,
    };
    // SAFETY: a live sockaddr_ll and option values of the sizes given.
    unsafe {
        assert_eq!(
            libc::bind(
                fd,
                (&sa as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32
            ),
            0
        );
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
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        );
    }
    fd
}

/// Frame `n`: broadcast, our EtherType, `n` as the first payload byte.
fn frame(n: u8) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&ETHERTYPE);
    f.push(n);
    f.resize(60, 0);
    f
}

#[test]
fn a_failed_frame_in_a_burst_neither_stops_nor_reorders_the_rest() {
    if !common::prerequisites(&[]) {
        return;
    }
    // unshare(2) moves only this thread into a new namespace.
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        loopback_up();
        let rx = listener();
        let sender = Sender::open().expect("AF_PACKET socket");

        // More than one batch; frames to an interface that does not exist at
        // the first and last place of each batch and in the middle of one.
        let total = REPLY_BATCH_MAX + 8;
        let gone = [0, 5, REPLY_BATCH_MAX - 1, REPLY_BATCH_MAX, total - 1];
        let frames: Vec<Vec<u8>> = (0..total).map(|n| frame(n as u8)).collect();
        let out: Vec<(u32, &[u8])> = frames
            .iter()
            .enumerate()
            .map(|(n, f)| (if gone.contains(&n) { 999_999 } else { 1 }, f.as_slice()))
            .collect();

        let mut results = Vec::new();
        sender.send_all(&out, |f, r| results.push((f.1[14], r)));
        let order: Vec<u8> = results.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            order,
            (0..total as u8).collect::<Vec<_>>(),
            "one result per frame, in order"
        );
        for (n, r) in &results {
            if gone.contains(&usize::from(*n)) {
                assert!(matches!(r, Err(SendError::Gone(_))), "frame {n}: {r:?}");
            } else {
                assert!(r.is_ok(), "frame {n}: {r:?}");
            }
        }

        // What arrived on lo: every good frame, once, in order.
        let mut seen = Vec::new();
        let mut buf = [0u8; 2048];
        loop {
            // SAFETY: a live buffer of the size given.
            let n = unsafe { libc::recv(rx, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                break;
            }
            seen.push(buf[14]);
        }
        let want: Vec<u8> = (0..total)
            .filter(|n| !gone.contains(n))
            .map(|n| n as u8)
            .collect();
        assert_eq!(seen, want);

        // The one-frame form reports its own error.
        assert!(matches!(
            sender.send(999_999, &frames[0]),
            Err(SendError::Gone(_))
        ));
        assert!(sender.send(1, &frames[1]).is_ok());
        // The namespace goes with its last socket and this thread.
        // SAFETY: rx is a descriptor this thread owns and no longer uses.
        unsafe { libc::close(rx) };
    })
    .join()
    .expect("the test thread");
}
