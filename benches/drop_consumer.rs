//! The ceiling of the whole-path benchmark (`benches/load.sh`): binds NFQUEUE
//! queues with the daemon's settings (copy range, queue length, receive
//! buffer) and gives every packet verdict DROP: no parsing, no reply. The
//! verdicts go in runs exactly as the daemon sends them (`nfdhcpd::verdict`:
//! a run per drained socket or per `BATCH_MAX` packets), so the ceiling has
//! every advantage the daemon has.
//!
//! With `--mirror` it is the ceiling of any NFQUEUE *responder* instead:
//! each packet also gets the cheapest possible reply, the packet itself sent
//! back out of its tap to the guest's MAC with only the byte the load
//! generator counts replies by changed (UDP destination port 68 or 546, or
//! the ICMPv6 type 133/135 turned into 134/136): no parsing, no building,
//! checksums left stale (the VM side's rules drop UDP replies before their
//! checksum is looked at; its kernel drops an ICMPv6 one at the checksum,
//! a little sooner than a valid one). The replies go in sendmmsg batches
//! exactly as the daemon's (`nfdhcpd::send`). What separates the daemon
//! from this is its own work; what separates this from the DROP-only
//! ceiling is the kernel's work of delivering a reply.
//!
//! `drop_consumer FIRST [LAST] [--mirror]`: one thread per queue
//! FIRST..=LAST. Runs until killed; the harness counts verdicts in
//! /proc/net/netfilter/nfnetlink_queue.

use nfdhcpd::queue::{open_queue, COPY_RANGE, IDLE_WAIT_MS};
use nfdhcpd::respond::Verdict;
use nfdhcpd::send::{nfq_batch_verdict, wait_readable, Sender, SEND_BATCH_MAX};
use nfdhcpd::verdict::{Batch, Batcher};

/// Kernel queue length, as the daemon's default `queue_max_len`.
const QUEUE_MAX_LEN: u32 = 4096;

/// Opens and binds queue `num` (one at a time: see `queue::open_queue`).
fn bind(num: u16) -> (nfq::Queue, std::os::fd::RawFd) {
    let opened = open_queue().expect("open nfnetlink");
    let (mut q, raised) = (opened.queue, opened.rcvbuf);
    let fd = opened.fd.expect("queue socket fd");
    if let Err(e) = raised {
        eprintln!("queue {num}: receive buffer not raised: {e}");
    }
    q.bind(num).expect("bind queue (root? already bound?)");
    q.set_copy_range(num, COPY_RANGE).expect("copy range");
    q.set_queue_max_len(num, QUEUE_MAX_LEN)
        .expect("queue length");
    (q, fd)
}

/// The mirrored reply to `payload` (an IPv4 or IPv6 packet from a guest
/// whose MAC is `guest`), or None if it is not a request loadgen sends.
fn mirror(payload: &[u8], guest: &[u8]) -> Option<Vec<u8>> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(guest.get(..6)?);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    let l3 = 14;
    match payload.first()? >> 4 {
        4 => {
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend_from_slice(payload);
            let udp = l3 + usize::from(payload[0] & 0x0f) * 4;
            f.get_mut(udp + 2..udp + 4)?
                .copy_from_slice(&68u16.to_be_bytes());
        }
        6 => {
            f.extend_from_slice(&[0x86, 0xdd]);
            f.extend_from_slice(payload);
            match payload.get(6)? {
                58 => *f.get_mut(l3 + 40)? += 1,
                17 => f
                    .get_mut(l3 + 42..l3 + 44)?
                    .copy_from_slice(&546u16.to_be_bytes()),
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(f)
}

/// DROPs every packet of queue `num` for ever, replying to each if `mirror`.
fn serve(mut q: nfq::Queue, fd: std::os::fd::RawFd, num: u16, mirror_replies: bool) {
    let mut batch = Batcher::new(QUEUE_MAX_LEN);
    let send = |run: Option<Batch>| {
        if let Some(run) = run {
            if let Err(e) = nfq_batch_verdict(fd, num, run.max_id, false) {
                eprintln!("queue {num}: verdict: {e}");
            }
        }
    };
    let sender = Sender::open().expect("AF_PACKET socket");
    let mut replies: Vec<(u32, Vec<u8>)> = Vec::with_capacity(SEND_BATCH_MAX);
    let flush = |replies: &mut Vec<(u32, Vec<u8>)>| {
        sender.send_all(replies, |_, _| {});
        replies.clear();
    };
    q.set_nonblocking(true);
    loop {
        match q.recv() {
            Ok(msg) => {
                if mirror_replies {
                    let guest = msg.get_hw_addr().unwrap_or_default();
                    if let Some(f) = mirror(msg.get_payload(), guest) {
                        replies.push((msg.get_indev(), f));
                        if replies.len() == SEND_BATCH_MAX {
                            flush(&mut replies);
                        }
                    }
                }
                send(batch.push(msg.get_packet_id(), Verdict::Drop));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                flush(&mut replies);
                send(batch.flush());
                wait_readable(fd, IDLE_WAIT_MS);
            }
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) => {
                eprintln!("queue {num}: recv: {e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mirror_replies = args.iter().any(|a| a == "--mirror");
    args.retain(|a| a != "--mirror");
    let args: Vec<u16> = args
        .iter()
        .map(|a| a.parse().expect("queue number"))
        .collect();
    let (first, last) = match args[..] {
        [f] => (f, f),
        [f, l] => (f, l),
        _ => panic!("usage: drop_consumer FIRST [LAST] [--mirror]"),
    };
    let threads: Vec<_> = (first..=last)
        .map(|n| (n, bind(n)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(n, (q, fd))| std::thread::spawn(move || serve(q, fd, n, mirror_replies)))
        .collect();
    let mode = if mirror_replies { ", mirroring" } else { "" };
    eprintln!("drop_consumer: queues {first}..={last} bound{mode}");
    for t in threads {
        let _ = t.join();
    }
}
