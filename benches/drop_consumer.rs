//! The ceiling of the whole-path benchmark (`benches/load.sh`): binds NFQUEUE
//! queues with the daemon's settings (copy range, queue length, receive
//! buffer) and gives every packet verdict DROP: no parsing, no reply. The
//! verdicts go in runs exactly as the daemon sends them (`nfdhcpd::verdict`:
//! a run per drained socket or per `BATCH_MAX` packets), so the ceiling has
//! every advantage the daemon has.
//!
//! `drop_consumer FIRST [LAST]`: one thread per queue FIRST..=LAST. Runs
//! until killed; the harness counts verdicts in
//! /proc/net/netfilter/nfnetlink_queue.

use nfdhcpd::queue::{open_queue, COPY_RANGE, IDLE_WAIT_MS};
use nfdhcpd::respond::Verdict;
use nfdhcpd::send::{nfq_batch_verdict, wait_readable};
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

/// DROPs every packet of queue `num` for ever.
fn serve(mut q: nfq::Queue, fd: std::os::fd::RawFd, num: u16) {
    let mut batch = Batcher::new(QUEUE_MAX_LEN);
    let send = |run: Option<Batch>| {
        if let Some(run) = run {
            if let Err(e) = nfq_batch_verdict(fd, num, run.max_id, false) {
                eprintln!("queue {num}: verdict: {e}");
            }
        }
    };
    q.set_nonblocking(true);
    loop {
        match q.recv() {
            Ok(msg) => send(batch.push(msg.get_packet_id(), Verdict::Drop)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
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
    let args: Vec<u16> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("queue number"))
        .collect();
    let (first, last) = match args[..] {
        [f] => (f, f),
        [f, l] => (f, l),
        _ => panic!("usage: drop_consumer FIRST [LAST]"),
    };
    let threads: Vec<_> = (first..=last)
        .map(|n| (n, bind(n)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(n, (q, fd))| std::thread::spawn(move || serve(q, fd, n)))
        .collect();
    eprintln!("drop_consumer: queues {first}..={last} bound");
    for t in threads {
        let _ = t.join();
    }
}
