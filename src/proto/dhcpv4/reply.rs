//! The reply frame, written in one pass into one buffer sized once:
//! headers, the fixed fields (RFC 2131 §4.3.1 table 3), the options, End
//! and padding.

use std::net::Ipv4Addr;

use super::boot;
use super::options::{self, List, END_LEN};
use super::{
    code, field, nonzero, Message, Plan, Request, BOOTP_MIN_LEN, BOOTREPLY, CLIENT_PORT,
    FLAG_BROADCAST, SERVER_PORT,
};
use crate::mac::MacAddr;
use crate::proto::frame::{self, IPV4_UDP_HEADROOM};
use crate::proto::{Context, ReplyKind};

/// The whole reply frame, Ethernet header included.
pub(super) fn emit(ctx: &Context<'_>, req: &Request<'_>, plan: &Plan) -> Vec<u8> {
    let mut opts = List::new();
    let options_len = options::for_reply(&mut opts, ctx, req, plan);
    // RFC 1542 §3.1.1: BOOTP relay agents and clients may drop messages
    // shorter than the 300-byte BOOTP message, so pad up to it.
    let payload_len = (field::OPTIONS + options_len + END_LEN).max(BOOTP_MIN_LEN);
    // Zeroed once: the padding after End is PAD (0). Not `vec![0; n]`:
    // that is calloc, which in glibc skips the thread cache malloc uses
    // (measured: 2.5 times the allocator's instructions per reply).
    #[allow(clippy::slow_vector_initialization)]
    let mut buf = Vec::with_capacity(IPV4_UDP_HEADROOM + payload_len);
    buf.resize(IPV4_UDP_HEADROOM + payload_len, 0);
    let payload = &mut buf[IPV4_UDP_HEADROOM..];
    write_fixed(&mut payload[..field::OPTIONS], req.message(), plan);
    if let Some((choice, keys)) = plan.boot.and_then(|c| Some((c, boot::Keys::of(ctx)?))) {
        boot::write_fields(payload, keys, choice);
    }
    let written = opts.write(&mut payload[field::OPTIONS..]);
    debug_assert_eq!(written, options_len, "fit counts what write writes");
    payload[field::OPTIONS + written] = code::END;
    let (eth_dst, ip_dst, udp_dst) = destination(ctx, req.message(), plan);
    frame::emit_ipv4_udp_in_place(
        &mut buf,
        ctx.server_mac,
        eth_dst,
        plan.server,
        ip_dst,
        SERVER_PORT,
        udp_dst,
    )
    .expect("a DHCPv4 reply is fitted to option 57 and the MTU, both under 64 KiB");
    buf
}

/// RFC 2131 §4.3.1 table 3: the request's fixed fields (xid, flags,
/// giaddr, htype, hlen and chaddr are the client's), with op, hops, secs,
/// ciaddr, yiaddr, siaddr, sname and file set for the reply; the magic
/// cookie as received.
fn write_fixed(f: &mut [u8], req: &Message<'_>, plan: &Plan) {
    f.copy_from_slice(req.fixed());
    f[field::OP] = BOOTREPLY;
    f[field::HOPS] = 0;
    f[field::SECS].fill(0);
    f[field::CIADDR].copy_from_slice(&plan.ciaddr.octets());
    f[field::YIADDR].copy_from_slice(&plan.yiaddr.octets());
    f[field::SIADDR].fill(0);
    f[field::SNAME_FILE].fill(0);
    if plan.kind == ReplyKind::Nak && nonzero(req.giaddr()).is_some() {
        // RFC 2131 §4.3.2: "If 'giaddr' is set in the DHCPREQUEST message,
        // the client is on a different subnet. The server MUST set the
        // broadcast bit in the DHCPNAK, so that the relay agent will
        // broadcast the DHCPNAK to the client".
        f[field::FLAGS].copy_from_slice(&(req.flags() | FLAG_BROADCAST).to_be_bytes());
    }
}

/// Ethernet destination, IP destination and UDP port of the reply.
///
/// RFC 2131 §4.1, "If the 'giaddr' field in a DHCP message from a client
/// is non-zero, the server sends any return messages to the 'DHCP
/// server' port on the BOOTP relay agent whose address appears in
/// 'giaddr'. If the 'giaddr' field is zero and the 'ciaddr' field is
/// nonzero, then the server unicasts DHCPOFFER and DHCPACK messages to
/// the address in 'ciaddr'. If 'giaddr' is zero and 'ciaddr' is zero,
/// and the broadcast bit is set, then the server broadcasts DHCPOFFER
/// and DHCPACK messages to 0xffffffff. If the broadcast bit is not set
/// and 'giaddr' is zero and 'ciaddr' is zero, then the server unicasts
/// DHCPOFFER and DHCPACK messages to the client's hardware address and
/// 'yiaddr' address. In all cases, when 'giaddr' is zero, the server
/// broadcasts any DHCPNAK messages to 0xffffffff."
fn destination(ctx: &Context<'_>, req: &Message<'_>, plan: &Plan) -> (MacAddr, Ipv4Addr, u16) {
    // The client's MAC: chaddr when it is an Ethernet address, else the
    // frame's source, else the binding's.
    let client = req.eth_chaddr().or(ctx.src_mac).unwrap_or(ctx.binding.mac);
    let broadcast = (MacAddr::BROADCAST, Ipv4Addr::BROADCAST, CLIENT_PORT);
    if let Some(relay) = nonzero(req.giaddr()) {
        (ctx.src_mac.unwrap_or(client), relay, SERVER_PORT)
    } else if plan.kind == ReplyKind::Nak {
        broadcast
    } else if let Some(ciaddr) = nonzero(req.ciaddr()) {
        (client, ciaddr, CLIENT_PORT)
    } else if req.broadcast() {
        broadcast
    } else if let Some(yiaddr) = nonzero(plan.yiaddr) {
        (client, yiaddr, CLIENT_PORT)
    } else {
        broadcast
    }
}
