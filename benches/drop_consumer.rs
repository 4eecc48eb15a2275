//! The ceiling of the whole-path benchmark (`benches/load.sh`): binds NFQUEUE
//! queues with the daemon's settings (copy range, queue length, receive
//! buffer) and gives every packet verdict DROP: no parsing, no reply. The
//! verdicts go in runs exactly as the daemon sends them (`nfdhcpd::datapath::verdict`:
//! a run per drained socket or per `VERDICT_RUN_MAX` packets), so the ceiling has
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
//! exactly as the daemon's (`nfdhcpd::datapath::send`). What separates the daemon
//! from this is its own work; what separates this from the DROP-only
//! ceiling is the kernel's work of delivering a reply.
//!
//! Packets are received as the daemon receives them: up to `--recv-batch N`
//! queue messages per system call (recvmmsg(2); default the daemon's
//! `recv_batch` default, 1 for one recv(2) per packet as before batching).
//!
//! `drop_consumer FIRST [LAST] [--mirror] [--recv-batch N]`: one thread per
//! queue FIRST..=LAST. Runs until killed; the harness counts verdicts in
//! /proc/net/netfilter/nfnetlink_queue.

use nfdhcpd::config::{RECV_BATCH_DEFAULT, RECV_BATCH_MAX};
use nfdhcpd::datapath::nfqueue::wire::Received;
use nfdhcpd::datapath::nfqueue::{Options, Queue, RecvBuffers};
use nfdhcpd::datapath::queue::{COPY_RANGE, IDLE_WAIT_MS, RCVBUF};
use nfdhcpd::datapath::respond::Verdict;
use nfdhcpd::datapath::send::{wait_readable, Sender, REPLY_BATCH_MAX};
use nfdhcpd::datapath::verdict::{Batch, Batcher};

/// Kernel queue length, as the daemon's default `queue_max_len`.
const QUEUE_MAX_LEN: u32 = 4096;

/// Binds queue `num` as the daemon does.
fn bind(num: u16) -> Queue {
    let opts = Options {
        copy_range: COPY_RANGE,
        max_len: QUEUE_MAX_LEN,
        fail_open: false,
        rcvbuf: RCVBUF,
    };
    Queue::bind(num, opts).expect("bind queue (root? already bound?)")
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

/// DROPs every packet of queue `num` for ever, receiving up to `recv_batch`
/// messages per system call as the daemon does, replying to each if
/// `mirror`.
fn serve(mut q: Queue, mirror_replies: bool, recv_batch: usize) {
    let num = q.num();
    let mut batch = Batcher::new(QUEUE_MAX_LEN);
    let send = |q: &Queue, run: Option<Batch>| {
        if let Some(run) = run {
            if let Err(e) = q.verdict_batch(run.max_id, false) {
                eprintln!("queue {num}: verdict: {e}");
            }
        }
    };
    let sender = Sender::open().expect("AF_PACKET socket");
    let mut replies: Vec<(u32, Vec<u8>)> = Vec::with_capacity(REPLY_BATCH_MAX);
    let flush = |replies: &mut Vec<(u32, Vec<u8>)>| {
        sender.send_all(replies, |_, _| {});
        replies.clear();
    };
    let mut rx = RecvBuffers::new();
    loop {
        let n = match q.recv_batch(&mut rx, recv_batch) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                flush(&mut replies);
                send(&q, batch.flush());
                wait_readable(q.fd(), IDLE_WAIT_MS);
                continue;
            }
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => {
                eprintln!("queue {num}: recv: {e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        for m in rx.messages() {
            let Received::Packet(p) = m else { continue };
            if mirror_replies {
                let guest = p.hw_addr.map(|m| m.0).unwrap_or_default();
                if let Some(f) = mirror(p.payload, &guest) {
                    replies.push((p.indev, f));
                    if replies.len() == REPLY_BATCH_MAX {
                        flush(&mut replies);
                    }
                }
            }
            send(&q, batch.push(p.id, Verdict::Drop));
        }
        // A short batch: the socket was drained, as in the daemon.
        if n < recv_batch {
            flush(&mut replies);
            send(&q, batch.flush());
            wait_readable(q.fd(), IDLE_WAIT_MS);
        }
    }
}

fn main() {
    let usage = "usage: drop_consumer FIRST [LAST] [--mirror] [--recv-batch N]";
    let mut mirror_replies = false;
    let mut recv_batch = RECV_BATCH_DEFAULT;
    let mut queues: Vec<u16> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mirror" => mirror_replies = true,
            "--recv-batch" => {
                recv_batch = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=RECV_BATCH_MAX).contains(n))
                    .unwrap_or_else(|| panic!("--recv-batch: 1..={RECV_BATCH_MAX}; {usage}"));
            }
            q => queues.push(q.parse().expect(usage)),
        }
    }
    let (first, last) = match queues[..] {
        [f] => (f, f),
        [f, l] => (f, l),
        _ => panic!("{usage}"),
    };
    let threads: Vec<_> = (first..=last)
        .map(|n| (n, bind(n)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(_, q)| std::thread::spawn(move || serve(q, mirror_replies, recv_batch)))
        .collect();
    let mode = if mirror_replies { ", mirroring" } else { "" };
    eprintln!("drop_consumer: queues {first}..={last} bound{mode}, up to {recv_batch} messages per receive");
    for t in threads {
        let _ = t.join();
    }
}
