//! The NFQUEUE netlink socket: the one place that talks nfnetlink_queue.
//!
//! Binding, configuring, receiving packets and giving verdicts (one packet,
//! or every packet up to an id with NFQNL_MSG_VERDICT_BATCH) all go through
//! [`Queue`], which owns its socket (netlink-sys), so its descriptor is
//! known for poll(2) and the batch verdicts. Message layouts follow
//! `linux/netfilter/nfnetlink_queue.h` and `linux/netfilter/nfnetlink.h`;
//! [`wire`] builds and parses them without I/O.
//!
//! The queue is configured in one message (bind, copy mode and range,
//! queue length, flags), acknowledged by the kernel: there is no moment
//! when the queue is bound but not yet configured, and a packet that
//! arrives while the acknowledgement is awaited is kept and served first.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, RawFd};

use netlink_sys::{constants::NETLINK_NETFILTER, Socket, SocketAddr};

pub use crate::config::RECV_BATCH_MAX;
use crate::datapath::send::{recv_many, Datagram};
use crate::mac::MacAddr;

/// How a queue is configured when bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Largest part of each packet copied to us.
    pub copy_range: u16,
    /// Packets the kernel holds at most for this queue.
    pub max_len: u32,
    /// When the queue is full: let packets go on (true) or drop them.
    pub fail_open: bool,
    /// Receive buffer asked for (SO_RCVBUFFORCE, then SO_RCVBUF).
    pub rcvbuf: usize,
}

/// Why a queue could not be bound or configured.
#[derive(Debug, thiserror::Error)]
pub enum NfqueueError {
    /// The netlink socket could not be opened.
    #[error("cannot open the nfnetlink socket: {0}")]
    Open(std::io::Error),
    /// The kernel refused the configuration (EPERM: already bound in this
    /// namespace, or no CAP_NET_ADMIN).
    #[error("the kernel refused to bind and configure it: {0}")]
    Refused(std::io::Error),
    /// The kernel's answer did not come or could not be read.
    #[error("no acknowledgement from the kernel: {0}")]
    NoAck(std::io::Error),
}

/// A queued packet as the kernel describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The id the verdict names.
    pub id: u32,
    /// Input interface (the bridge, for a bridged tap).
    pub indev: u32,
    /// Physical input interface (the tap behind a bridge), 0 if none.
    pub physindev: u32,
    /// Source MAC of the frame, when the kernel knows it.
    pub hw_addr: Option<MacAddr>,
    /// The IP packet (up to the copy range).
    pub payload: &'a [u8],
}

/// Largest message received: a copied packet of 64 KiB and its attributes.
const RECV_BUF: usize = 65536 + 4096;

/// A worker's receive buffers: [`RECV_BATCH_MAX`] slots of a whole
/// message each, allocated once for the life of the worker (zeroed pages
/// the kernel maps on first write: a slot holding small packets costs a
/// page or two), and what the last receive put in them.
pub struct RecvBuffers {
    buf: Box<[u8]>,
    got: [Datagram; RECV_BATCH_MAX],
    n: usize,
}

impl std::fmt::Debug for RecvBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBuffers").field("n", &self.n).finish()
    }
}

impl Default for RecvBuffers {
    fn default() -> Self {
        RecvBuffers::new()
    }
}

impl RecvBuffers {
    /// Empty buffers, room for [`RECV_BATCH_MAX`] messages.
    pub fn new() -> RecvBuffers {
        RecvBuffers {
            buf: vec![0; RECV_BATCH_MAX * RECV_BUF].into_boxed_slice(),
            got: [Datagram::default(); RECV_BATCH_MAX],
            n: 0,
        }
    }

    /// The messages of the last receive, in the order the kernel sent
    /// them, each classified ([`wire::classify`]).
    pub fn messages(&self) -> impl Iterator<Item = wire::Received<'_>> {
        self.got[..self.n]
            .iter()
            .zip(self.buf.chunks_exact(RECV_BUF))
            .map(|(d, slot)| wire::classify(&slot[..d.len.min(RECV_BUF)], d.truncated))
    }

    /// Copies a message kept aside into the next slot (a message is never
    /// larger than a slot: it was received into one).
    fn put(&mut self, msg: &[u8]) {
        let k = self.n;
        let len = msg.len().min(RECV_BUF);
        self.buf[k * RECV_BUF..k * RECV_BUF + len].copy_from_slice(&msg[..len]);
        self.got[k] = Datagram {
            len,
            truncated: len < msg.len(),
        };
        self.n += 1;
    }
}

/// One bound queue.
pub struct Queue {
    sock: Socket,
    num: u16,
    buf: Vec<u8>,
    /// Packet messages received while an acknowledgement was awaited,
    /// served before anything received later.
    early: VecDeque<Vec<u8>>,
    seq: u32,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("num", &self.num)
            .field("fd", &self.sock.as_raw_fd())
            .finish()
    }
}

impl Queue {
    /// Opens a socket, binds queue `num` and configures it, in one message
    /// the kernel acknowledges. The socket is left non-blocking.
    pub fn bind(num: u16, opts: Options) -> Result<Queue, NfqueueError> {
        let mut sock = Socket::new(NETLINK_NETFILTER).map_err(NfqueueError::Open)?;
        sock.bind(&SocketAddr::new(0, 0))
            .map_err(NfqueueError::Open)?;
        // Overflow is watched in /proc/net/netfilter/nfnetlink_queue
        // (user_dropped); an ENOBUFS from recv would only interrupt serving.
        sock.set_no_enobufs(true).map_err(NfqueueError::Open)?;
        match crate::datapath::send::set_rcvbuf_force(sock.as_raw_fd(), opts.rcvbuf) {
            Ok(bytes) => tracing::debug!(queue = num, bytes, "queue receive buffer raised"),
            Err(e) => {
                tracing::warn!(queue = num, error = %e, "queue receive buffer not forced; asking SO_RCVBUF");
                let _ = sock.set_rx_buf_sz(opts.rcvbuf);
            }
        }
        let mut q = Queue {
            sock,
            num,
            buf: Vec::with_capacity(RECV_BUF),
            early: VecDeque::new(),
            seq: 0,
        };
        q.request(&wire::Config::bind(opts)).map_err(|e| match e {
            AckError::Nack(e) => NfqueueError::Refused(e),
            AckError::Io(e) => NfqueueError::NoAck(e),
        })?;
        q.sock.set_non_blocking(true).map_err(NfqueueError::NoAck)?;
        Ok(q)
    }

    /// The queue number.
    pub fn num(&self) -> u16 {
        self.num
    }

    /// The socket's descriptor (owned by the queue), for poll(2).
    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Receives up to `max` messages (1..=[`RECV_BATCH_MAX`]) into `rx`,
    /// never waiting: the packets kept while a configuration request was
    /// acknowledged first, else one recvmmsg(2), or, for `max` 1, one
    /// recv(2) as before batching (to compare the two in one binary).
    /// Returns how many came; fewer than `max` means the socket was
    /// drained; none at all is `WouldBlock`. Read them with
    /// [`RecvBuffers::messages`].
    pub fn recv_batch(&mut self, rx: &mut RecvBuffers, max: usize) -> std::io::Result<usize> {
        let max = max.clamp(1, RECV_BATCH_MAX);
        rx.n = 0;
        if !self.early.is_empty() {
            while rx.n < max {
                let Some(m) = self.early.pop_front() else {
                    break;
                };
                rx.put(&m);
            }
            return Ok(rx.n);
        }
        if max == 1 {
            let mut slot = &mut rx.buf[..RECV_BUF];
            let len = self.sock.recv(&mut slot, libc::MSG_TRUNC)?;
            rx.got[0] = Datagram {
                len,
                truncated: len > RECV_BUF,
            };
            rx.n = 1;
        } else {
            rx.n = recv_many(self.fd(), &mut rx.buf, RECV_BUF, &mut rx.got[..max])?;
        }
        Ok(rx.n)
    }

    /// Gives `accept`/drop to packet `id` alone.
    pub fn verdict(&self, id: u32, accept: bool) -> std::io::Result<()> {
        self.send(&wire::verdict(self.num, id, accept, false))
    }

    /// Gives `accept`/drop to every queued packet with an id up to `max_id`.
    pub fn verdict_batch(&self, max_id: u32, accept: bool) -> std::io::Result<()> {
        self.send(&wire::verdict(self.num, max_id, accept, true))
    }

    /// Unbinds the queue (packets still queued are dropped by the kernel).
    pub fn unbind(&mut self) -> std::io::Result<()> {
        self.sock.set_non_blocking(false)?;
        let r = self.request(&wire::Config::unbind());
        r.map_err(|e| match e {
            AckError::Nack(e) | AckError::Io(e) => e,
        })
    }

    fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        self.sock
            .send_to(msg, &SocketAddr::new(0, 0), 0)
            .map(|_| ())
    }

    /// Sends a configuration message asking for an acknowledgement and
    /// waits for it (the socket must be blocking); packet messages that
    /// arrive meanwhile are kept for [`Queue::recv_batch`].
    fn request(&mut self, cfg: &wire::Config) -> Result<(), AckError> {
        self.seq = self.seq.wrapping_add(1);
        let msg = cfg.emit(self.num, self.seq);
        self.send(&msg).map_err(AckError::Io)?;
        loop {
            self.buf.clear();
            self.sock.recv(&mut self.buf, 0).map_err(AckError::Io)?;
            match wire::parse(&self.buf) {
                Some(wire::Message::Ack { errno, seq }) if seq == self.seq => {
                    return match errno {
                        0 => Ok(()),
                        e => Err(AckError::Nack(std::io::Error::from_raw_os_error(e))),
                    };
                }
                Some(wire::Message::Packet(_)) => self.early.push_back(self.buf.clone()),
                _ => {}
            }
        }
    }
}

enum AckError {
    Nack(std::io::Error),
    Io(std::io::Error),
}

/// The nfnetlink_queue messages, built and parsed without I/O.
pub mod wire {
    use super::{MacAddr, Options, Packet};

    /// struct nlmsghdr.
    pub const NLMSG_HDR_LEN: usize = 16;
    /// struct nfgenmsg.
    pub const NFGEN_HDR_LEN: usize = 4;
    /// struct nlattr.
    pub const ATTR_HDR_LEN: usize = 4;
    /// NLMSG_ERROR (also the acknowledgement, with error 0).
    pub const NLMSG_ERROR: u16 = 2;
    /// NFNL_SUBSYS_QUEUE << 8.
    const SUBSYS_QUEUE: u16 = 3 << 8;
    /// NFQNL_MSG_PACKET.
    pub const MSG_PACKET: u16 = SUBSYS_QUEUE;
    /// NFQNL_MSG_VERDICT.
    pub const MSG_VERDICT: u16 = SUBSYS_QUEUE | 1;
    /// NFQNL_MSG_CONFIG.
    pub const MSG_CONFIG: u16 = SUBSYS_QUEUE | 2;
    /// NFQNL_MSG_VERDICT_BATCH.
    pub const MSG_VERDICT_BATCH: u16 = SUBSYS_QUEUE | 3;

    /// Packet message attributes (enum nfqnl_attr_type).
    mod attr {
        pub const PACKET_HDR: u16 = 1;
        pub const VERDICT_HDR: u16 = 2;
        pub const IFINDEX_INDEV: u16 = 5;
        pub const IFINDEX_PHYSINDEV: u16 = 7;
        pub const HWADDR: u16 = 9;
        pub const PAYLOAD: u16 = 10;
    }

    /// Configuration attributes (enum nfqnl_attr_config).
    mod cfg {
        pub const CMD: u16 = 1;
        pub const PARAMS: u16 = 2;
        pub const QUEUE_MAXLEN: u16 = 3;
        pub const MASK: u16 = 4;
        pub const FLAGS: u16 = 5;
        pub const CMD_BIND: u8 = 1;
        pub const CMD_UNBIND: u8 = 2;
        pub const COPY_PACKET: u8 = 2;
        pub const F_FAIL_OPEN: u32 = 1;
    }

    /// NF_DROP / NF_ACCEPT.
    const NF_DROP: u32 = 0;
    const NF_ACCEPT: u32 = 1;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;

    /// A configuration message's content.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Config {
        cmd: Option<u8>,
        params: Option<u16>,
        max_len: Option<u32>,
        fail_open: Option<bool>,
    }

    impl Config {
        /// Bind, with everything `opts` says, in one message.
        pub fn bind(opts: Options) -> Config {
            Config {
                cmd: Some(cfg::CMD_BIND),
                params: Some(opts.copy_range),
                max_len: Some(opts.max_len),
                fail_open: Some(opts.fail_open),
            }
        }

        /// Unbind.
        pub fn unbind() -> Config {
            Config {
                cmd: Some(cfg::CMD_UNBIND),
                params: None,
                max_len: None,
                fail_open: None,
            }
        }

        /// The message for queue `queue`, sequence number `seq`, asking for
        /// an acknowledgement.
        pub fn emit(&self, queue: u16, seq: u32) -> Vec<u8> {
            let mut m = header(MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queue);
            if let Some(c) = self.cmd {
                // struct nfqnl_msg_config_cmd: command, pad, pf (unused since 3.8).
                put_attr(&mut m, cfg::CMD, &[c, 0, 0, 0]);
            }
            if let Some(range) = self.params {
                // struct nfqnl_msg_config_params: copy_range (be32), copy_mode.
                let mut p = u32::from(range).to_be_bytes().to_vec();
                p.push(cfg::COPY_PACKET);
                put_attr(&mut m, cfg::PARAMS, &p);
            }
            if let Some(len) = self.max_len {
                put_attr(&mut m, cfg::QUEUE_MAXLEN, &len.to_be_bytes());
            }
            if let Some(open) = self.fail_open {
                let flags = if open { cfg::F_FAIL_OPEN } else { 0 };
                put_attr(&mut m, cfg::FLAGS, &flags.to_be_bytes());
                put_attr(&mut m, cfg::MASK, &cfg::F_FAIL_OPEN.to_be_bytes());
            }
            finish(&mut m);
            m
        }
    }

    /// A verdict for packet `id` (or, `batch`, for every packet up to it).
    pub fn verdict(queue: u16, id: u32, accept: bool, batch: bool) -> Vec<u8> {
        let t = if batch {
            MSG_VERDICT_BATCH
        } else {
            MSG_VERDICT
        };
        let mut m = header(t, NLM_F_REQUEST, 0, queue);
        // struct nfqnl_msg_verdict_hdr: verdict, id (both be32).
        let mut v = (if accept { NF_ACCEPT } else { NF_DROP })
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(&id.to_be_bytes());
        put_attr(&mut m, attr::VERDICT_HDR, &v);
        finish(&mut m);
        m
    }

    fn header(msg_type: u16, flags: u16, seq: u32, queue: u16) -> Vec<u8> {
        let mut m = Vec::with_capacity(64);
        // nlmsghdr (host order): length (set by `finish`), type, flags, seq, port id.
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&msg_type.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        // nfgenmsg: family AF_UNSPEC, version NFNETLINK_V0, resource id = queue (be16).
        m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
        m.extend_from_slice(&queue.to_be_bytes());
        m
    }

    fn put_attr(m: &mut Vec<u8>, t: u16, data: &[u8]) {
        let len = u16::try_from(ATTR_HDR_LEN + data.len()).expect("attributes are small");
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&t.to_ne_bytes());
        m.extend_from_slice(data);
        m.resize(m.len().next_multiple_of(4), 0);
    }

    fn finish(m: &mut [u8]) {
        let len = u32::try_from(m.len()).expect("messages are small");
        m[..4].copy_from_slice(&len.to_ne_bytes());
    }

    /// A message from the kernel.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Message<'a> {
        /// A queued packet.
        Packet(Packet<'a>),
        /// An acknowledgement (errno 0) or error (positive errno) for the
        /// request with sequence number `seq`.
        Ack {
            /// 0, or the error.
            errno: i32,
            /// The request's sequence number.
            seq: u32,
        },
        /// Anything else (other subsystems, NLMSG_DONE …).
        Other,
    }

    fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        let x = b.get(at..at + 2)?;
        Some(u16::from_ne_bytes([x[0], x[1]]))
    }
    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        let x = b.get(at..at + 4)?;
        Some(u32::from_ne_bytes([x[0], x[1], x[2], x[3]]))
    }
    /// A big-endian u32 attribute value (exactly four bytes or more).
    fn be32(d: &[u8]) -> Option<u32> {
        let x = d.get(..4)?;
        Some(u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
    }

    /// The netlink message type of a datagram's first message.
    pub fn message_type(b: &[u8]) -> Option<u16> {
        if b.len() < NLMSG_HDR_LEN {
            return None;
        }
        u16_at(b, 4)
    }

    /// Parses the first message of a datagram (the kernel sends one packet
    /// per datagram); None when it is malformed.
    pub fn parse(b: &[u8]) -> Option<Message<'_>> {
        match message_type(b)? {
            NLMSG_ERROR => {
                let len = usize::try_from(u32_at(b, 0)?).ok()?;
                let b = b.get(..len)?;
                // struct nlmsgerr: error (negative errno, host order), then the request's header.
                let err = i32::from_ne_bytes(b.get(16..20)?.try_into().ok()?);
                let seq = u32_at(b, 20 + 8)?;
                Some(Message::Ack {
                    errno: err.checked_neg()?,
                    seq,
                })
            }
            MSG_PACKET => parse_packet(b).map(Message::Packet),
            _ => Some(Message::Other),
        }
    }

    /// What one received datagram is to a worker.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Received<'a> {
        /// A queued packet: decide it and give it its verdict.
        Packet(Packet<'a>),
        /// The kernel's report of an error (a positive errno) about one
        /// of our messages: ENOENT for a verdict naming a packet already
        /// gone (its interface was deleted meanwhile).
        Error(i32),
        /// A packet message that does not parse (the kernel builds them,
        /// so never seen).
        Malformed,
        /// Larger than its buffer (cannot happen with our copy range):
        /// skipped rather than misread.
        Truncated,
        /// An acknowledgement (error 0) or a message of no interest.
        Ignored,
    }

    /// Classifies one received datagram (`truncated`: only its start was
    /// kept).
    pub fn classify(b: &[u8], truncated: bool) -> Received<'_> {
        if truncated {
            return Received::Truncated;
        }
        match message_type(b) {
            Some(MSG_PACKET) => parse_packet(b).map_or(Received::Malformed, Received::Packet),
            Some(NLMSG_ERROR) => match parse(b) {
                Some(Message::Ack { errno, .. }) if errno != 0 => Received::Error(errno),
                _ => Received::Ignored,
            },
            _ => Received::Ignored,
        }
    }

    /// Parses a packet message (NFQNL_MSG_PACKET): one pass over its
    /// attributes, each length checked against the message.
    pub fn parse_packet(b: &[u8]) -> Option<Packet<'_>> {
        let len = usize::try_from(u32_at(b, 0)?).ok()?;
        let b = b.get(..len)?;
        if u16_at(b, 4)? != MSG_PACKET {
            return None;
        }
        let mut p = Packet {
            id: 0,
            indev: 0,
            physindev: 0,
            hw_addr: None,
            payload: &[],
        };
        let mut have_hdr = false;
        let mut at = NLMSG_HDR_LEN + NFGEN_HDR_LEN;
        while at + ATTR_HDR_LEN <= b.len() {
            let h = &b[at..at + ATTR_HDR_LEN];
            let alen = usize::from(u16::from_ne_bytes([h[0], h[1]]));
            // NLA_F_NESTED / NLA_F_NET_BYTEORDER are the type's top bits.
            let atype = u16::from_ne_bytes([h[2], h[3]]) & 0x3fff;
            if alen < ATTR_HDR_LEN || at + alen > b.len() {
                return None;
            }
            let data = &b[at + ATTR_HDR_LEN..at + alen];
            match atype {
                attr::PACKET_HDR => {
                    // struct nfqnl_msg_packet_hdr: packet_id (be32), hw_protocol, hook.
                    p.id = be32(data)?;
                    have_hdr = true;
                }
                attr::IFINDEX_INDEV => p.indev = be32(data)?,
                attr::IFINDEX_PHYSINDEV => p.physindev = be32(data)?,
                attr::HWADDR => {
                    // struct nfqnl_msg_packet_hw: hw_addrlen (be16), pad, hw_addr[8].
                    let d = data.get(..10)?;
                    if u16::from_be_bytes([d[0], d[1]]) == 6 {
                        p.hw_addr = MacAddr::from_slice(&d[4..10]);
                    }
                }
                attr::PAYLOAD => p.payload = data,
                _ => {}
            }
            at += (alen + 3) & !3;
        }
        have_hdr.then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::wire::*;
    use super::*;

    /// A packet message as the kernel builds it (nfqnl_build_packet_message).
    fn packet_msg(
        id: u32,
        indev: u32,
        physindev: u32,
        mac: Option<[u8; 6]>,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&MSG_PACKET.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[2, 0, 0, 42]);
        let mut attr = |t: u16, d: &[u8]| {
            m.extend_from_slice(&((4 + d.len()) as u16).to_ne_bytes());
            m.extend_from_slice(&t.to_ne_bytes());
            m.extend_from_slice(d);
            m.resize(m.len().next_multiple_of(4), 0);
        };
        let mut hdr = id.to_be_bytes().to_vec();
        hdr.extend_from_slice(&[0x08, 0x00, 0]);
        attr(1, &hdr);
        attr(5, &indev.to_be_bytes());
        if physindev != 0 {
            attr(7, &physindev.to_be_bytes());
        }
        if let Some(mac) = mac {
            let mut hw = vec![0, 6, 0, 0];
            hw.extend_from_slice(&mac);
            hw.extend_from_slice(&[0, 0]);
            attr(9, &hw);
        }
        attr(10, payload);
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn a_packet_message_parses_with_its_interfaces_mac_and_payload() {
        let m = packet_msg(77, 5, 9, Some([0xaa, 0, 0, 0, 0, 0x10]), b"\x45hello");
        assert_eq!(
            parse(&m),
            Some(Message::Packet(Packet {
                id: 77,
                indev: 5,
                physindev: 9,
                hw_addr: Some(MacAddr([0xaa, 0, 0, 0, 0, 0x10])),
                payload: b"\x45hello",
            }))
        );
        let routed = packet_msg(1, 3, 0, None, b"x");
        let Some(Message::Packet(p)) = parse(&routed) else {
            panic!()
        };
        assert_eq!((p.indev, p.physindev, p.hw_addr), (3, 0, None));
    }

    /// nft's bridge family queues with nfgenmsg family NFPROTO_BRIDGE (7),
    /// indev = the bridge, physindev = the port, and adds the frame's
    /// link-layer header (NFQA_L2HDR, 20): parsed like any other packet.
    #[test]
    fn a_packet_queued_from_the_bridge_family_parses_with_bridge_and_port() {
        let mut m = packet_msg(5, 50, 3, Some([0xaa, 0, 0, 0, 0, 0x20]), b"\x45ip");
        m[16] = 7;
        let l2: [u8; 14] = [0xff; 14];
        m.extend_from_slice(&((4 + l2.len()) as u16).to_ne_bytes());
        m.extend_from_slice(&20u16.to_ne_bytes());
        m.extend_from_slice(&l2);
        m.resize(m.len().next_multiple_of(4), 0);
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(
            parse(&m),
            Some(Message::Packet(Packet {
                id: 5,
                indev: 50,
                physindev: 3,
                hw_addr: Some(MacAddr([0xaa, 0, 0, 0, 0, 0x20])),
                payload: b"\x45ip",
            }))
        );
    }

    #[test]
    fn truncated_or_lying_messages_are_refused_not_misread() {
        let m = packet_msg(77, 5, 9, Some([0xaa, 0, 0, 0, 0, 0x10]), b"payload");
        for cut in 0..m.len() {
            let mut t = m[..cut].to_vec();
            // Keep the declared length: the message is then shorter than it says.
            if t.len() >= 4 {
                t[..4].copy_from_slice(&(m.len() as u32).to_ne_bytes());
            }
            assert_eq!(parse(&t), None, "cut at {cut}");
        }
        // An attribute claiming more than the message holds.
        let mut bad = m.clone();
        bad[20..22].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(parse(&bad), None);
        // No packet header: not a packet we can give a verdict to.
        let mut no_hdr = m;
        no_hdr[22..24].copy_from_slice(&99u16.to_ne_bytes());
        assert_eq!(parse(&no_hdr), None);
    }

    #[test]
    fn acknowledgements_carry_errno_and_sequence() {
        let m = error_msg(libc::EPERM, 7);
        assert_eq!(
            parse(&m),
            Some(Message::Ack {
                errno: libc::EPERM,
                seq: 7
            })
        );
    }

    /// An NLMSG_ERROR message as the kernel sends it: `errno` 0 is an
    /// acknowledgement of request `seq`.
    fn error_msg(errno: i32, seq: u32) -> Vec<u8> {
        let mut m = vec![0u8; 36];
        m[..4].copy_from_slice(&36u32.to_ne_bytes());
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m[16..20].copy_from_slice(&(-errno).to_ne_bytes());
        m[28..32].copy_from_slice(&seq.to_ne_bytes());
        m
    }

    /// A packet message longer than a receive slot (an unknown attribute
    /// pads it out): only its start fits.
    fn oversized_msg(id: u32) -> Vec<u8> {
        let mut m = packet_msg(id, 5, 0, None, &[0x45; 60000]);
        m.extend_from_slice(&((4 + 20000) as u16).to_ne_bytes());
        m.extend_from_slice(&99u16.to_ne_bytes());
        m.extend_from_slice(&[0; 20000]);
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        assert!(m.len() > RECV_BUF);
        m
    }

    #[test]
    fn a_batch_yields_each_message_in_order_and_skips_what_is_no_packet() {
        let mut rx = RecvBuffers::new();
        for m in [
            packet_msg(7, 5, 0, None, b"\x45one"),
            oversized_msg(8),
            error_msg(libc::ENOENT, 0),
            error_msg(0, 3),
            packet_msg(9, 6, 11, Some([0xaa, 0, 0, 0, 0, 0x20]), b"\x45two"),
        ] {
            rx.put(&m);
        }
        let got: Vec<_> = rx.messages().collect();
        assert_eq!(
            got,
            [
                Received::Packet(Packet {
                    id: 7,
                    indev: 5,
                    physindev: 0,
                    hw_addr: None,
                    payload: b"\x45one",
                }),
                Received::Truncated,
                Received::Error(libc::ENOENT),
                Received::Ignored,
                Received::Packet(Packet {
                    id: 9,
                    indev: 6,
                    physindev: 11,
                    hw_addr: Some(MacAddr([0xaa, 0, 0, 0, 0, 0x20])),
                    payload: b"\x45two",
                }),
            ]
        );
        // The part of the oversized message that fits is not read as a
        // packet, even without the flag.
        let mut cut = oversized_msg(8);
        cut.truncate(RECV_BUF);
        assert_eq!(classify(&cut, false), Received::Malformed);
    }

    /// Runs `test` in a thread of its own, in a network namespace of its
    /// own, on a queue socket bound to no queue, with fresh receive
    /// buffers and what an error report reads as ([`kinds`]); skipped when
    /// namespaces cannot be made here, a failure in CI.
    fn in_private_namespace(test: fn(&mut Queue, &mut RecvBuffers, &str)) {
        std::thread::spawn(move || {
            if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                let ci = std::env::var_os("CI")
                    .is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
                assert!(!ci, "CI: cannot make a network namespace: {e}");
                eprintln!("skipped: cannot make a network namespace: {e}");
                return;
            }
            let mut sock = Socket::new(NETLINK_NETFILTER).unwrap();
            sock.bind(&SocketAddr::new(0, 0)).unwrap();
            sock.set_non_blocking(true).unwrap();
            let mut q = Queue {
                sock,
                num: 7,
                buf: Vec::new(),
                early: VecDeque::new(),
                seq: 0,
            };
            // No queue 7 in this namespace: each verdict is refused (ENODEV).
            let refused = format!("error {}", libc::ENODEV);
            test(&mut q, &mut RecvBuffers::new(), &refused);
        })
        .join()
        .unwrap();
    }

    /// Each verdict to a queue nobody bound comes back as an error report:
    /// `n` messages waiting in the socket.
    fn provoke_errors(q: &Queue, n: u32) {
        for id in 1..=n {
            q.verdict(id, true).unwrap();
        }
    }

    /// The messages of the last receive, in short.
    fn kinds(rx: &RecvBuffers) -> Vec<String> {
        rx.messages()
            .map(|m| match m {
                Received::Packet(p) => format!("packet {}", p.id),
                Received::Error(e) => format!("error {e}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn one_receive_takes_every_waiting_message_up_to_the_batch() {
        in_private_namespace(|q, rx, refused| {
            provoke_errors(q, 5);
            assert_eq!(q.recv_batch(rx, 3).unwrap(), 3);
            assert_eq!(kinds(rx), [refused; 3]);
            assert_eq!(q.recv_batch(rx, 32).unwrap(), 2, "the rest, drained");
            assert_eq!(kinds(rx), [refused; 2]);
            let e = q.recv_batch(rx, 32).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
            // One message per call, as before batching.
            provoke_errors(q, 2);
            for _ in 0..2 {
                assert_eq!(q.recv_batch(rx, 1).unwrap(), 1);
                assert_eq!(kinds(rx), [refused]);
            }
            let e = q.recv_batch(rx, 1).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        });
    }

    #[test]
    fn packets_kept_during_a_configuration_request_come_first() {
        in_private_namespace(|q, rx, refused| {
            for id in 1..=3 {
                q.early.push_back(packet_msg(id, 5, 0, None, b"\x45"));
            }
            provoke_errors(q, 2);
            assert_eq!(q.recv_batch(rx, 2).unwrap(), 2);
            assert_eq!(kinds(rx), ["packet 1", "packet 2"]);
            assert_eq!(q.recv_batch(rx, 2).unwrap(), 1);
            assert_eq!(kinds(rx), ["packet 3"]);
            assert_eq!(q.recv_batch(rx, 2).unwrap(), 2);
            assert_eq!(kinds(rx), [refused; 2]);
        });
    }

    #[test]
    fn the_bind_message_carries_the_whole_configuration() {
        let opts = Options {
            copy_range: 65535,
            max_len: 4096,
            fail_open: true,
            rcvbuf: 0,
        };
        let m = Config::bind(opts).emit(42, 9);
        assert_eq!(
            u32::from_ne_bytes(m[..4].try_into().unwrap()) as usize,
            m.len()
        );
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), MSG_CONFIG);
        assert_eq!(
            u16::from_ne_bytes(m[6..8].try_into().unwrap()),
            1 | 4,
            "request + ack"
        );
        assert_eq!(u32::from_ne_bytes(m[8..12].try_into().unwrap()), 9);
        assert_eq!(&m[16..20], &[0, 0, 0, 42]);
        // cmd bind; params (range 65535, copy packet); maxlen 4096; flags fail-open; mask.
        let want: &[u8] = &[
            8, 0, 1, 0, 1, 0, 0, 0, //
            9, 0, 2, 0, 0, 0, 0xff, 0xff, 2, 0, 0, 0, //
            8, 0, 3, 0, 0, 0, 0x10, 0, //
            8, 0, 5, 0, 0, 0, 0, 1, //
            8, 0, 4, 0, 0, 0, 0, 1,
        ];
        if cfg!(target_endian = "little") {
            assert_eq!(&m[20..], want);
        }
    }

    #[test]
    fn verdicts_name_the_packet_or_the_last_of_a_run() {
        let one = verdict(42, 0x01020304, true, false);
        let run = verdict(42, 9, false, true);
        assert_eq!(
            u16::from_ne_bytes(one[4..6].try_into().unwrap()),
            MSG_VERDICT
        );
        assert_eq!(
            u16::from_ne_bytes(run[4..6].try_into().unwrap()),
            MSG_VERDICT_BATCH
        );
        assert_eq!(&one[24..32], &[0, 0, 0, 1, 1, 2, 3, 4]);
        assert_eq!(&run[24..32], &[0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(one.len(), 32);
    }
}
