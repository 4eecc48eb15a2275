//! DHCPv4 responder (RFC 2131, options RFC 2132), sans-IO.
//!
//! One binding is one VM with one fixed address, so there is no pool and no
//! lease database: every answer is computed from the binding and the config.
//!
//! One implementation, in three steps: [`Request::parse`] reads the request
//! in place (a length-checked view over the packet's bytes), `decide`
//! chooses the answer, and `reply::emit` writes it straight into its frame
//! buffer, sized once (one allocation per reply). The reply's options are
//! listed in one place (`options::list`: code and value), then ordered by
//! the client's parameter request list and fitted to its maximum message
//! size. Tests decode the replies with dhcproto, an independent decoder.
//!
//! Supported:
//! - DHCPDISCOVER → DHCPOFFER; with Rapid Commit (RFC 4039) → DHCPACK.
//! - DHCPREQUEST in the SELECTING, INIT-REBOOT, RENEWING and REBINDING
//!   states → DHCPACK for the binding's address, DHCPNAK for any other;
//!   a REQUEST naming another server is ignored.
//! - DHCPINFORM → DHCPACK without lease parameters (RFC 2131 §4.3.5).
//! - DHCPRELEASE, DHCPDECLINE → consumed, no reply (nothing to free).
//! - Relayed requests (giaddr), unicast / broadcast delivery (RFC 2131 §4.1).
//! - Options 1, 3, 6, 12, 15, 26, 28, 51, 54, 58, 59, 80, 119 (RFC 3397) and
//!   121 (RFC 3442: the default route, then the binding's `ROUTES`; only
//!   to a client that asks), ordered by the client's parameter request list, trimmed
//!   to its maximum message size (57), padded to the BOOTP minimum of 300.
//!   Values longer than 255 bytes are split over several options (RFC 3396).
//! - Any other option from the binding's `OPTION_<code>` or the config's
//!   `[options]` (see [`crate::value::options`]): sent when the client's
//!   parameter request list names it, or always when so marked; ordered
//!   and fitted as the others.
//! - Option 108, IPv6-Only Preferred (RFC 8925), to a client that asks
//!   when the VM has a V6ONLY_WAIT: a DISCOVER then gets an OFFER of
//!   0.0.0.0 (never a rapid-commit ACK), a REQUEST its usual answer.
//! - Options a request repeats are concatenated before use (RFC 3396).
//! - Anti-spoofing: chaddr and the frame's source MAC must be the binding's
//!   MAC unless the binding has MACSPOOF.
//!
//! - Network boot (`boot`): `siaddr`, `sname`, `file`, options 66, 67 and
//!   60 from the binding's `NEXT_SERVER`, `TFTP_SERVER` and `BOOTFILE*`,
//!   by the client's architecture (93), iPXE (77, 175) and vendor class
//!   ("PXEClient", "HTTPClient").
//!
//! Deliberately not supported:
//! - Option overload (52): options in `sname`/`file` are neither read nor
//!   written (RFC 2132 §9.3); our replies always fit in the options field,
//!   and `sname`/`file` hold only a server and a boot file name.
//! - Microsoft's pre-standard classless routes (249), client FQDN (81),
//!   relay agent information (82) echo, BOOTP (no message type) clients.
//! - Any state: DECLINE does not quarantine an address (it is the VM's own),
//!   RELEASE frees nothing.

mod boot;
mod options;
mod reply;
mod request;
mod search;

#[cfg(test)]
mod boot_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::Ipv4Addr;

use super::frame::{self, IPV4_HDR_LEN, UDP_HDR_LEN};
use super::{Consumed, Context, DropReason, Outcome, Reply, ReplyKind};
pub use request::{Message, Options, Request};

/// UDP port of DHCP servers and relay agents (RFC 2131 §4.1).
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients (RFC 2131 §4.1).
pub const CLIENT_PORT: u16 = 68;
/// Smallest DHCP payload we send: the BOOTP message size (RFC 951, RFC 1542 §3.1.1).
pub const BOOTP_MIN_LEN: usize = 300;
/// Smallest IP datagram every client accepts, and the smallest legal
/// option 57 value (RFC 2131 §2, RFC 2132 §9.10).
pub const MIN_MESSAGE_SIZE: u16 = 576;
pub use super::frame::DEFAULT_LINK_MTU;
/// Bytes of IP and UDP header around the DHCP payload.
const IP_UDP_LEN: usize = IPV4_HDR_LEN + UDP_HDR_LEN;
/// The magic cookie that starts the options field (RFC 2131 §3, RFC 2132 §2).
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// op of a client message (RFC 951, RFC 2131 §2).
const BOOTREQUEST: u8 = 1;
/// op of a server message (RFC 951, RFC 2131 §2).
const BOOTREPLY: u8 = 2;
/// htype of Ethernet ("Assigned Numbers" hardware types, RFC 2131 §2).
const HTYPE_ETHER: u8 = 1;
/// Length of an Ethernet hardware address (chaddr when htype is 1).
const ETHER_HLEN: u8 = 6;
/// The BROADCAST bit of `flags` (RFC 2131 §2, figure 2).
const FLAG_BROADCAST: u16 = 0x8000;

/// Byte layout of a DHCP message (RFC 2131 §2, figure 1).
mod field {
    use std::ops::Range;
    /// Message op code: BOOTREQUEST or BOOTREPLY.
    pub const OP: usize = 0;
    /// Hardware address type.
    pub const HTYPE: usize = 1;
    /// Hardware address length.
    pub const HLEN: usize = 2;
    /// Relay hops.
    pub const HOPS: usize = 3;
    /// Transaction id.
    pub const XID: Range<usize> = 4..8;
    /// Seconds since the client began.
    pub const SECS: Range<usize> = 8..10;
    /// Flags (the BROADCAST bit).
    pub const FLAGS: Range<usize> = 10..12;
    /// Client IP address.
    pub const CIADDR: Range<usize> = 12..16;
    /// 'Your' (client) IP address.
    pub const YIADDR: Range<usize> = 16..20;
    /// Next server IP address.
    pub const SIADDR: Range<usize> = 20..24;
    /// Relay agent IP address.
    pub const GIADDR: Range<usize> = 24..28;
    /// Client hardware address.
    pub const CHADDR: Range<usize> = 28..44;
    /// Server host name and boot file name.
    pub const SNAME_FILE: Range<usize> = CHADDR.end..FIXED_LEN;
    /// Server host name (64 bytes).
    pub const SNAME: Range<usize> = CHADDR.end..CHADDR.end + 64;
    /// Boot file name (128 bytes).
    pub const FILE: Range<usize> = SNAME.end..FIXED_LEN;
    /// op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
    /// giaddr, chaddr, sname, file.
    pub const FIXED_LEN: usize = 236;
    /// The magic cookie, right after the fixed fields (RFC 2131 §3).
    pub const MAGIC: Range<usize> = FIXED_LEN..FIXED_LEN + 4;
    /// Start of the options.
    pub const OPTIONS: usize = MAGIC.end;
}

/// The option codes we read or write (RFC 2132 unless said).
pub mod code {
    /// Pad (§3.1).
    pub const PAD: u8 = 0;
    /// Subnet Mask (§3.3).
    pub const SUBNET_MASK: u8 = 1;
    /// Router (§3.5).
    pub const ROUTER: u8 = 3;
    /// Domain Name Server (§3.8).
    pub const DOMAIN_NAME_SERVER: u8 = 6;
    /// Host Name (§3.14).
    pub const HOST_NAME: u8 = 12;
    /// Domain Name (§3.17).
    pub const DOMAIN_NAME: u8 = 15;
    /// Network Time Protocol Servers (§8.3).
    pub const NTP_SERVERS: u8 = 42;
    /// Interface MTU (§5.1).
    pub const INTERFACE_MTU: u8 = 26;
    /// Broadcast Address (§5.3).
    pub const BROADCAST_ADDRESS: u8 = 28;
    /// Requested IP Address (§9.1).
    pub const REQUESTED_IP: u8 = 50;
    /// IP Address Lease Time (§9.2).
    pub const LEASE_TIME: u8 = 51;
    /// DHCP Message Type (§9.6).
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server Identifier (§9.7).
    pub const SERVER_ID: u8 = 54;
    /// Parameter Request List (§9.8).
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Maximum DHCP Message Size (§9.10).
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// Renewal (T1) Time Value (§9.11).
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) Time Value (§9.12).
    pub const REBINDING_TIME: u8 = 59;
    /// Vendor Class Identifier (§9.13).
    pub const VENDOR_CLASS: u8 = 60;
    /// TFTP Server Name (§9.4).
    pub const TFTP_SERVER: u8 = 66;
    /// Bootfile Name (§9.5).
    pub const BOOTFILE: u8 = 67;
    /// User Class (RFC 3004).
    pub const USER_CLASS: u8 = 77;
    /// Rapid Commit (RFC 4039 §4).
    pub const RAPID_COMMIT: u8 = 80;
    /// Client System Architecture Type (RFC 4578 §2.1).
    pub const CLIENT_ARCH: u8 = 93;
    /// iPXE's encapsulated options (site-specific range, RFC 3942).
    pub const IPXE_ENCAP: u8 = 175;
    /// Domain Search (RFC 3397).
    pub const DOMAIN_SEARCH: u8 = 119;
    /// IPv6-Only Preferred (RFC 8925 §3.1).
    pub const IPV6_ONLY_PREFERRED: u8 = 108;
    /// Classless Static Route (RFC 3442).
    pub const CLASSLESS_ROUTES: u8 = 121;
    /// End (§3.2).
    pub const END: u8 = 255;
}

/// A DHCP message type, option 53's value (RFC 2132 §9.6, and the IANA
/// registry for the later ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// DHCPDISCOVER
    pub const DISCOVER: Self = Self(1);
    /// DHCPOFFER
    pub const OFFER: Self = Self(2);
    /// DHCPREQUEST
    pub const REQUEST: Self = Self(3);
    /// DHCPDECLINE
    pub const DECLINE: Self = Self(4);
    /// DHCPACK
    pub const ACK: Self = Self(5);
    /// DHCPNAK
    pub const NAK: Self = Self(6);
    /// DHCPRELEASE
    pub const RELEASE: Self = Self(7);
    /// DHCPINFORM
    pub const INFORM: Self = Self(8);

    /// The registered names, from 1 (RFC 2132 §9.6, RFC 3203, RFC 4388,
    /// RFC 6926, RFC 7724).
    const NAMES: [&'static str; 18] = [
        "DISCOVER",
        "OFFER",
        "REQUEST",
        "DECLINE",
        "ACK",
        "NAK",
        "RELEASE",
        "INFORM",
        "FORCERENEW",
        "LEASEQUERY",
        "LEASEUNASSIGNED",
        "LEASEUNKNOWN",
        "LEASEACTIVE",
        "BULKLEASEQUERY",
        "LEASEQUERYDONE",
        "ACTIVELEASEQUERY",
        "LEASEQUERYSTATUS",
        "TLS",
    ];
}

impl fmt::Display for MessageType {
    /// The name without "DHCP" ("DISCOVER"), or "UNKNOWN(n)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = usize::from(self.0)
            .checked_sub(1)
            .and_then(|i| Self::NAMES.get(i));
        match name {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

/// Answers one DHCPv4 packet (an IPv4 packet as NFQUEUE delivers it).
pub fn handle(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    if !ctx.config.dhcp.enabled {
        return Outcome::Dropped(DropReason::Disabled);
    }
    let Ok(udp) = frame::parse_ipv4_udp(packet) else {
        return Outcome::Dropped(DropReason::Malformed);
    };
    if udp.dst_port != SERVER_PORT {
        return Outcome::Dropped(DropReason::NotDhcp);
    }
    let req = match Request::parse(udp.payload) {
        Ok(req) => req,
        Err(reason) => return Outcome::Dropped(reason),
    };
    match decide(ctx, &req) {
        Ok(Decision::Reply(plan)) => Outcome::Reply(Reply {
            kind: plan.kind,
            frame: reply::emit(ctx, &req, &plan),
        }),
        Ok(Decision::Consumed(c)) => Outcome::Consumed(c),
        Err(reason) => Outcome::Dropped(reason),
    }
}

/// What to do with a request that is ours and valid.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// Send this reply.
    Reply(Plan),
    /// Owe no reply.
    Consumed(Consumed),
}

/// The reply decided: its type and the fields RFC 2131 §4.3.1 table 3 sets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// OFFER, ACK or NAK.
    kind: ReplyKind,
    /// 'Your' address: the lease, or 0 (INFORM, NAK).
    yiaddr: Ipv4Addr,
    /// The request's ciaddr in an ACK, else 0.
    ciaddr: Ipv4Addr,
    /// Our server identifier, and the reply's IP source.
    server: Ipv4Addr,
    /// Lease times 51, 58, 59 (not in an INFORM's ACK, RFC 2131 §4.3.5).
    lease: bool,
    /// Option 80: the ACK of a rapid-commit DISCOVER (RFC 4039 §4).
    rapid_commit: bool,
    /// The boot file and option 60 given, when the binding has boot keys
    /// (not in a NAK, RFC 2131 §4.3.1 table 3).
    boot: Option<boot::Choice>,
    /// Option 108's V6ONLY_WAIT (RFC 8925), to a client that asks.
    v6only_wait: Option<u32>,
}

impl Plan {
    /// Option 53 of the reply.
    fn msg_type(&self) -> MessageType {
        match self.kind {
            ReplyKind::Offer => MessageType::OFFER,
            ReplyKind::Nak => MessageType::NAK,
            _ => MessageType::ACK,
        }
    }
}

/// Decides the answer to a request from the serving tap's VM.
fn decide(ctx: &Context<'_>, req: &Request<'_>) -> Result<Decision, DropReason> {
    check_mac(ctx, req)?;
    let ip = ctx.binding.ip.ok_or(DropReason::NotConfigured)?;
    let server = server_identifier(ctx).ok_or(DropReason::NotConfigured)?;
    let ciaddr = req.message().ciaddr();
    let zero = Ipv4Addr::UNSPECIFIED;
    let v6only_wait = v6only_wait(ctx, req);
    let plan = |kind, yiaddr, ciaddr, lease, rapid_commit| {
        let boot = match boot::Keys::of(ctx) {
            Some(keys) if kind != ReplyKind::Nak => Some(boot::choose(keys, &req.boot_hints())),
            _ => None,
        };
        Ok(Decision::Reply(Plan {
            kind,
            yiaddr,
            ciaddr,
            server,
            lease,
            rapid_commit,
            boot,
            // RFC 2131 table 3: a NAK carries no parameters.
            v6only_wait: v6only_wait.filter(|_| kind != ReplyKind::Nak),
        }))
    };
    match req.msg_type() {
        // RFC 8925 §3.3: a server that answers with option 108 should not
        // assign the client an address, and offers 0.0.0.0 in the
        // DHCPOFFER's yiaddr instead. An OFFER, not a rapid-commit ACK:
        // the client is to stop, not to lease (RFC 4039 §4 lets a server
        // answer a rapid-commit DISCOVER with an OFFER).
        MessageType::DISCOVER if v6only_wait.is_some() => {
            plan(ReplyKind::Offer, zero, zero, true, false)
        }
        // RFC 4039 §4: a server that honours Rapid Commit answers the
        // DISCOVER with a DHCPACK that MUST carry the Rapid Commit option.
        // RFC 2131 §4.3.1 table 3: ciaddr is the request's in an ACK.
        MessageType::DISCOVER if req.rapid_commit() => plan(ReplyKind::Ack, ip, ciaddr, true, true),
        // Table 3: ciaddr is 0 in an OFFER.
        MessageType::DISCOVER => plan(ReplyKind::Offer, ip, zero, true, false),
        MessageType::REQUEST => {
            check_server(req, server)?;
            // RFC 2131 §4.3.2: SELECTING and INIT-REBOOT carry the address in
            // option 50; RENEWING and REBINDING in ciaddr (option 50 MUST NOT be set).
            let asked = req
                .requested_ip()
                .or_else(|| nonzero(ciaddr))
                .ok_or(DropReason::Invalid)?;
            if asked == ip {
                plan(ReplyKind::Ack, ip, ciaddr, true, false)
            } else {
                // RFC 2131 §4.3.2: the server SHOULD send a DHCPNAK when the
                // requested address is incorrect (we know the right one);
                // table 3: ciaddr and yiaddr 0.
                plan(ReplyKind::Nak, zero, zero, false, false)
            }
        }
        // RFC 2131 §4.3.5: no lease time, yiaddr 0, ciaddr kept.
        MessageType::INFORM => plan(ReplyKind::Ack, zero, ciaddr, false, false),
        MessageType::RELEASE => {
            check_server(req, server)?;
            Ok(Decision::Consumed(Consumed::Release))
        }
        MessageType::DECLINE => {
            check_server(req, server)?;
            Ok(Decision::Consumed(Consumed::Decline))
        }
        _ => Err(DropReason::UnsupportedMessage),
    }
}

/// Option 108's V6ONLY_WAIT when the VM has one (its `V6ONLY_WAIT`, else
/// the config's) and the client asks for the option: RFC 8925 §3.3, "The
/// DHCP server MUST NOT include the IPv6-Only Preferred option in the
/// DHCPOFFER or DHCPACK message if the option was not present in the
/// Parameter Request List sent by the client." The binding is looked at
/// first: a VM without the option costs nothing more.
fn v6only_wait(ctx: &Context<'_>, req: &Request<'_>) -> Option<u32> {
    let wait = ctx.binding.v6only_wait(ctx.config.dhcp.v6only_wait)?;
    req.asks_for(code::IPV6_ONLY_PREFERRED).then_some(wait)
}

/// chaddr and the frame's source MAC must be the binding's, unless MACSPOOF.
fn check_mac(ctx: &Context<'_>, req: &Request<'_>) -> Result<(), DropReason> {
    if ctx.binding.macspoof {
        return Ok(());
    }
    let mac = ctx.binding.mac;
    let chaddr_ok = req.message().eth_chaddr() == Some(mac);
    let src_ok = ctx.src_mac.map_or(true, |src| src == mac);
    if chaddr_ok && src_ok {
        Ok(())
    } else {
        Err(DropReason::SpoofedMac)
    }
}

/// RFC 2131 §4.3.2: a REQUEST (and RFC 2131 §4.3.3/§4.3.4: a DECLINE or
/// RELEASE) whose server identifier is another server's is not for us.
fn check_server(req: &Request<'_>, server: Ipv4Addr) -> Result<(), DropReason> {
    match req.server_id() {
        Some(id) if id != server => Err(DropReason::OtherServer),
        _ => Ok(()),
    }
}

/// Our server identifier and reply source: `server_ip`, or with
/// `server_on_link` the binding's on-link address (falling back to `server_ip`).
pub fn server_identifier(ctx: &Context<'_>) -> Option<Ipv4Addr> {
    let dhcp = &ctx.config.dhcp;
    if dhcp.server_on_link {
        ctx.binding.ipv4_on_link().or(dhcp.server_ip)
    } else {
        dhcp.server_ip
    }
}

/// The address, unless it is 0.0.0.0 (a field left unset).
fn nonzero(a: Ipv4Addr) -> Option<Ipv4Addr> {
    (!a.is_unspecified()).then_some(a)
}
