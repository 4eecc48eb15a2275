//! Sending reply frames out of a tap: one AF_PACKET raw socket per worker,
//! addressed per frame by ifindex, never blocking, frames of a burst in one
//! sendmmsg(2).
//!
//! The socket is opened with protocol 0, so it receives nothing. A full
//! device queue (EAGAIN/ENOBUFS) or a tap that vanished (ENXIO/ENODEV) is
//! an error returned to the caller to count; the worker never waits.
//!
//! The other raw system calls of the packet path live here too, so that
//! this module is the only one with `unsafe`: receiving many queue
//! messages in one recvmmsg(2) ([`recv_many`]), forcing a socket's receive
//! buffer, waiting for a socket to be readable.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::config::RECV_BATCH_MAX;
use crate::mac::MacAddr;

/// Why a frame was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The device queue or socket buffer is full.
    #[error("tap busy (queue full): {0}")]
    Full(io::Error),
    /// The tap no longer exists or is down.
    #[error("tap gone or down: {0}")]
    Gone(io::Error),
    /// The kernel sent fewer bytes than the frame.
    #[error("short send: {sent} of {len} bytes")]
    Short {
        /// Sent.
        sent: usize,
        /// Frame length.
        len: usize,
    },
    /// Anything else.
    #[error("send failed: {0}")]
    Io(io::Error),
}

/// A raw Ethernet sender.
#[derive(Debug)]
pub struct Sender {
    fd: OwnedFd,
}

impl Sender {
    /// Opens the socket (needs CAP_NET_RAW).
    pub fn open() -> io::Result<Sender> {
        // SAFETY: socket(2) with constant arguments; the result is checked
        // and ownership of a valid fd is taken exactly once.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created, valid, owned descriptor.
        Ok(Sender {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Sends a whole Ethernet frame out of interface `ifindex`.
    pub fn send(&self, ifindex: u32, frame: &[u8]) -> Result<(), SendError> {
        let mut out = Ok(());
        self.send_all(&[(ifindex, frame)], |_, r| out = r);
        out
    }

    /// Sends every frame of `frames`, in order, with one sendmmsg(2) per
    /// [`REPLY_BATCH_MAX`] frames, and calls `done` once for each frame with
    /// its own result. A frame that fails does not stop the ones after it:
    /// sendmmsg stops at the first failure and reports only how many went
    /// out, so the failed frame is sent again alone to learn its error,
    /// then the rest of the batch follows.
    pub fn send_all<F: OutFrame>(
        &self,
        frames: &[F],
        mut done: impl FnMut(&F, Result<(), SendError>),
    ) {
        let mut i = 0;
        while i < frames.len() {
            let chunk = &frames[i..frames.len().min(i + REPLY_BATCH_MAX)];
            // SAFETY: sockaddr_ll, iovec and mmsghdr are plain old data;
            // all-zero is a valid value of each.
            let mut addrs: [libc::sockaddr_ll; REPLY_BATCH_MAX] = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let mut iovs: [libc::iovec; REPLY_BATCH_MAX] = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let mut msgs: [libc::mmsghdr; REPLY_BATCH_MAX] = unsafe { std::mem::zeroed() };
            for (k, f) in chunk.iter().enumerate() {
                let frame = f.frame();
                addrs[k] = link_addr(f.ifindex(), frame);
                iovs[k] = libc::iovec {
                    iov_base: frame.as_ptr() as *mut libc::c_void,
                    iov_len: frame.len(),
                };
                msgs[k].msg_hdr.msg_name = (&mut addrs[k] as *mut libc::sockaddr_ll).cast();
                msgs[k].msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
                msgs[k].msg_hdr.msg_iov = &mut iovs[k];
                msgs[k].msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: the first `chunk.len()` entries of `msgs` point at live,
            // initialised addresses and iovecs of this frame, which point at
            // live frames the kernel only reads; it writes only `msg_len`.
            let n = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    chunk.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                // The first frame of the chunk failed (n == 0 cannot happen
                // for a non-empty batch; treated alike so the loop advances).
                let e = io::Error::last_os_error();
                done(&chunk[0], Err(classify(e)));
                i += 1;
                continue;
            }
            let n = (n as usize).min(chunk.len());
            for (f, m) in chunk[..n].iter().zip(&msgs) {
                let (sent, len) = (m.msg_len as usize, f.frame().len());
                done(
                    f,
                    if sent == len {
                        Ok(())
                    } else {
                        Err(SendError::Short { sent, len })
                    },
                );
            }
            i += n;
        }
    }
}

/// Frames handed to the kernel in one sendmmsg(2) at most: a burst of
/// replies costs one system call per this many instead of one each.
pub const REPLY_BATCH_MAX: usize = 32;

/// A frame to send: the interface and the whole Ethernet frame.
pub trait OutFrame {
    /// The interface to send it out of.
    fn ifindex(&self) -> u32;
    /// The whole Ethernet frame.
    fn frame(&self) -> &[u8];
}

impl OutFrame for (u32, &[u8]) {
    fn ifindex(&self) -> u32 {
        self.0
    }
    fn frame(&self) -> &[u8] {
        self.1
    }
}

impl OutFrame for (u32, Vec<u8>) {
    fn ifindex(&self) -> u32 {
        self.0
    }
    fn frame(&self) -> &[u8] {
        &self.1
    }
}

/// The link-layer address of a frame sent out of `ifindex`: its
/// destination MAC and EtherType, read from the frame.
fn link_addr(ifindex: u32, frame: &[u8]) -> libc::sockaddr_ll {
    let dst = MacAddr::from_slice(frame).unwrap_or_default();
    let ethertype = frame
        .get(12..14)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .unwrap_or(0);
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = ethertype.to_be();
    sa.sll_ifindex = ifindex as i32;
    sa.sll_halen = 6;
    sa.sll_addr[..6].copy_from_slice(&dst.0);
    sa
}

/// Which [`SendError`] an errno is.
fn classify(e: io::Error) -> SendError {
    match e.raw_os_error() {
        Some(libc::EAGAIN | libc::ENOBUFS) => SendError::Full(e),
        Some(libc::ENXIO | libc::ENODEV | libc::ENETDOWN) => SendError::Gone(e),
        _ => SendError::Io(e),
    }
}

/// Sets `fd`'s receive buffer to `bytes` with SO_RCVBUFFORCE (CAP_NET_ADMIN:
/// above `net.core.rmem_max`) and returns the size the kernel reports
/// (twice the request, bookkeeping included). Used on the NFQUEUE netlink
/// socket (`nfqueue::Queue::bind`).
pub fn set_rcvbuf_force(fd: std::os::fd::RawFd, bytes: usize) -> io::Result<usize> {
    let want = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt(2) reads exactly size_of::<c_int>() bytes from a
    // live local; an fd that is not a socket is an error, not UB.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&want as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut got: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt(2) writes at most `len` bytes into a live local
    // and updates `len`, also a live local.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(got).unwrap_or(0))
}

/// One datagram received by [`recv_many`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Datagram {
    /// Its length (the whole datagram's, even when it did not fit).
    pub len: usize,
    /// Larger than its buffer: only the start of it was kept.
    pub truncated: bool,
}

/// Receives up to `out.len()` datagrams (at most [`RECV_BATCH_MAX`]) from
/// `fd` in one recvmmsg(2), never waiting: datagram k lands in the k-th
/// `slot`-byte slice of `buf` and is described by `out[k]`. Returns how
/// many came; fewer than asked means the socket was drained (an error
/// after the first datagram is reported by the next call); none at all is
/// `WouldBlock`.
pub fn recv_many(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
    slot: usize,
    out: &mut [Datagram],
) -> io::Result<usize> {
    let count = out.len().min(RECV_BATCH_MAX).min(buf.len() / slot.max(1));
    // SAFETY: iovec and mmsghdr are plain old data; all-zero is a valid
    // value of each.
    let mut iovs: [libc::iovec; RECV_BATCH_MAX] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut msgs: [libc::mmsghdr; RECV_BATCH_MAX] = unsafe { std::mem::zeroed() };
    for (iov, chunk) in iovs
        .iter_mut()
        .zip(buf.chunks_exact_mut(slot.max(1)))
        .take(count)
    {
        iov.iov_base = chunk.as_mut_ptr().cast();
        iov.iov_len = chunk.len();
    }
    let iov_base = iovs.as_mut_ptr();
    for (k, m) in msgs[..count].iter_mut().enumerate() {
        m.msg_hdr.msg_iov = iov_base.wrapping_add(k);
        m.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the first `count` entries of `msgs` each point at one live
    // iovec, which points at its own disjoint `slot` bytes of `buf`, live
    // and exclusively borrowed for the call; the kernel writes at most
    // `iov_len` bytes there, and `msg_len` and `msg_flags` in `msgs`.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            msgs.as_mut_ptr(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = usize::try_from(n).unwrap_or(0).min(count);
    for (o, m) in out.iter_mut().zip(&msgs[..n]) {
        // With MSG_TRUNC, netlink reports the whole length.
        let len = m.msg_len as usize;
        *o = Datagram {
            len,
            truncated: len > slot || m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    Ok(n)
}

/// Waits until `fd` is readable or `timeout_ms` passes (poll(2); 0: only
/// looks). True when it is readable or has an error to report; errors of
/// poll itself (EINTR included) just end the wait early.
pub fn wait_readable(fd: std::os::fd::RawFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll(2) on one live, initialised pollfd; a bad fd is reported
    // in revents, not UB.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    n > 0
}
