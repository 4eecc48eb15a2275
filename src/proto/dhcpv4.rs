//! DHCPv4 responder (RFC 2131, options RFC 2132), sans-IO.
//!
//! One binding is one VM with one fixed address, so there is no pool and no
//! lease database: every answer is computed from the binding and the config.
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
//!   121 (RFC 3442), ordered by the client's parameter request list, trimmed
//!   to its maximum message size (57), padded to the BOOTP minimum of 300.
//! - Anti-spoofing: chaddr and the frame's source MAC must be the binding's
//!   MAC unless the binding has MACSPOOF.
//!
//! Deliberately not supported:
//! - Option overload (52): options in `sname`/`file` are neither read nor
//!   written; our replies always fit in the options field.
//! - Microsoft's pre-standard classless routes (249), client FQDN (81),
//!   relay agent information (82) echo, BOOTP (no message type) clients.
//! - Any state: DECLINE does not quarantine an address (it is the VM's own),
//!   RELEASE frees nothing.

mod options;
mod wire;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, HType, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

use super::frame::{self, IPV4_HDR_LEN, UDP_HDR_LEN};
use super::{Consumed, Context, DropReason, Outcome, Reply, ReplyKind};
use crate::mac::MacAddr;

/// UDP port of DHCP servers and relay agents (RFC 2131 §4.1).
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients (RFC 2131 §4.1).
pub const CLIENT_PORT: u16 = 68;
/// Smallest DHCP payload we send: the BOOTP message size (RFC 951, RFC 1542 §3.1.1).
pub const BOOTP_MIN_LEN: usize = 300;
/// Smallest IP datagram every client accepts, and the smallest legal
/// option 57 value (RFC 2131 §2, RFC 2132 §9.10).
pub const MIN_MESSAGE_SIZE: u16 = 576;
/// Largest IP datagram we send when the binding has no MTU.
pub const DEFAULT_LINK_MTU: u16 = 1500;
/// Bytes of IP and UDP header around the DHCP payload.
const IP_UDP_LEN: usize = IPV4_HDR_LEN + UDP_HDR_LEN;

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
    /// op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
    /// giaddr, chaddr, sname, file.
    pub const FIXED_LEN: usize = 236;
    /// The magic cookie, right after the fixed fields (RFC 2131 §3).
    pub const MAGIC: Range<usize> = FIXED_LEN..FIXED_LEN + 4;
    /// Start of the options.
    pub const OPTIONS: usize = MAGIC.end;
}

/// Length of an Ethernet hardware address (chaddr when htype is 1).
const ETHER_HLEN: u8 = 6;

/// What we read from a DHCP request: its fixed header and the options the
/// responder acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// IP source address of the packet.
    pub ip_src: Ipv4Addr,
    /// The fixed header (op … file); its option map is left empty.
    pub header: Message,
    /// Option 53.
    pub msg_type: MessageType,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 55, in the client's order.
    pub params: Option<Vec<OptionCode>>,
    /// Option 57.
    pub max_size: Option<u16>,
    /// Option 80 (RFC 4039).
    pub rapid_commit: bool,
}

/// A reply, typed, with its addressing: what `decide` returns and `emit` sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// OFFER, ACK or NAK.
    pub kind: ReplyKind,
    /// The fixed header; its option map is empty (see `options`).
    pub message: Message,
    /// The options in wire order (dhcproto's map would sort them by code).
    pub options: Vec<DhcpOption>,
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// IP source: the server identifier.
    pub ip_src: Ipv4Addr,
    /// IP destination.
    pub ip_dst: Ipv4Addr,
    /// UDP destination port (68, or 67 to a relay agent).
    pub udp_dst: u16,
}

/// What to do with a request that is ours and valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send this reply.
    Reply(Answer),
    /// Owe no reply.
    Consumed(Consumed),
}

/// Answers one DHCPv4 packet (an IPv4 packet as NFQUEUE delivers it).
///
/// The reply is built by the direct path (`wire`); the typed path
/// ([`parse_request`], [`decide`], [`Answer::emit`]) answers requests that
/// repeat an option we read, and in debug builds checks every outcome.
pub fn handle(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    if !ctx.config.dhcp.enabled {
        return Outcome::Dropped(DropReason::Disabled);
    }
    match wire::handle(ctx, packet) {
        Some(fast) => {
            if cfg!(debug_assertions) {
                assert_eq!(
                    fast,
                    handle_typed(ctx, packet),
                    "the direct DHCPv4 path differs from the typed one"
                );
            }
            fast
        }
        None => handle_typed(ctx, packet),
    }
}

/// [`handle`] through the typed values.
fn handle_typed(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    let decision = parse_request(packet).and_then(|req| decide(ctx, &req));
    match decision {
        Ok(Decision::Reply(answer)) => Outcome::Reply(Reply {
            kind: answer.kind,
            frame: answer.emit(ctx.server_mac),
        }),
        Ok(Decision::Consumed(c)) => Outcome::Consumed(c),
        Err(reason) => Outcome::Dropped(reason),
    }
}

/// Parses an IPv4/UDP packet into a [`Request`].
pub fn parse_request(packet: &[u8]) -> Result<Request, DropReason> {
    let udp = frame::parse_ipv4_udp(packet).map_err(|_| DropReason::Malformed)?;
    if udp.dst_port != SERVER_PORT {
        return Err(DropReason::NotDhcp);
    }
    let mut req = parse_message(udp.payload)?;
    req.ip_src = udp.src;
    Ok(req)
}

/// Parses a DHCP payload (the UDP payload) into a [`Request`] whose
/// `ip_src` is left unspecified (the IP layer is [`parse_request`]'s).
///
/// The options are read here, not by dhcproto: its decoder accepts garbage
/// and some of its option decoders assert on lengths an attacker chooses.
pub fn parse_message(payload: &[u8]) -> Result<Request, DropReason> {
    let fixed = payload.get(..field::OPTIONS).ok_or(DropReason::NotDhcp)?;
    if fixed[field::MAGIC] != dhcproto::v4::MAGIC {
        return Err(DropReason::NotDhcp);
    }
    // Only the fixed part goes to dhcproto, so its option decoder sees nothing.
    let header = Message::decode(&mut Decoder::new(fixed)).map_err(|_| DropReason::NotDhcp)?;
    if header.opcode() != Opcode::BootRequest {
        return Err(DropReason::NotDhcp);
    }
    let opts = parse_options(&payload[field::OPTIONS..])?;
    let msg_type = match opts.get(&OptionCode::MessageType).map(Vec::as_slice) {
        Some(&[t]) => MessageType::from(t),
        _ => return Err(DropReason::NotDhcp),
    };
    let max_size = match opts.get(&OptionCode::MaxMessageSize).map(Vec::as_slice) {
        None => None,
        Some(&[hi, lo]) => Some(u16::from_be_bytes([hi, lo])),
        Some(_) => return Err(DropReason::Invalid),
    };
    Ok(Request {
        ip_src: Ipv4Addr::UNSPECIFIED,
        header,
        msg_type,
        requested_ip: ipv4_option(&opts, OptionCode::RequestedIpAddress)?,
        server_id: ipv4_option(&opts, OptionCode::ServerIdentifier)?,
        params: opts
            .get(&OptionCode::ParameterRequestList)
            .map(|p| p.iter().map(|&c| OptionCode::from(c)).collect()),
        max_size,
        rapid_commit: opts.contains_key(&OptionCode::RapidCommit),
    })
}

/// Walks the options field; repeated options are concatenated (RFC 3396 §7).
fn parse_options(mut bytes: &[u8]) -> Result<BTreeMap<OptionCode, Vec<u8>>, DropReason> {
    let mut opts: BTreeMap<OptionCode, Vec<u8>> = BTreeMap::new();
    while let Some((&code, rest)) = bytes.split_first() {
        match OptionCode::from(code) {
            OptionCode::Pad => bytes = rest,
            OptionCode::End => break,
            code => {
                let (&len, rest) = rest.split_first().ok_or(DropReason::Malformed)?;
                let len = usize::from(len);
                let data = rest.get(..len).ok_or(DropReason::Malformed)?;
                opts.entry(code).or_default().extend_from_slice(data);
                bytes = &rest[len..];
            }
        }
    }
    Ok(opts)
}

fn ipv4_option(
    opts: &BTreeMap<OptionCode, Vec<u8>>,
    code: OptionCode,
) -> Result<Option<Ipv4Addr>, DropReason> {
    match opts.get(&code).map(Vec::as_slice) {
        None => Ok(None),
        Some(&[a, b, c, d]) => Ok(Some(Ipv4Addr::new(a, b, c, d))),
        Some(_) => Err(DropReason::Invalid),
    }
}

/// Decides the answer to a request from the serving tap's VM.
pub fn decide(ctx: &Context<'_>, req: &Request) -> Result<Decision, DropReason> {
    check_mac(ctx, &req.header)?;
    let ip = ctx.binding.ip.ok_or(DropReason::NotConfigured)?;
    let server = server_identifier(ctx).ok_or(DropReason::NotConfigured)?;
    let reply = Replier { ctx, req, server };
    match req.msg_type {
        // RFC 4039 §4: a server that honours Rapid Commit answers the
        // DISCOVER with a DHCPACK that MUST carry the Rapid Commit option.
        MessageType::Discover if req.rapid_commit => Ok(reply.lease(ReplyKind::Ack, ip)),
        MessageType::Discover => Ok(reply.lease(ReplyKind::Offer, ip)),
        MessageType::Request => {
            check_server(req, server)?;
            // RFC 2131 §4.3.2: SELECTING and INIT-REBOOT carry the address in
            // option 50; RENEWING and REBINDING in ciaddr (option 50 MUST NOT be set).
            let asked = req
                .requested_ip
                .or_else(|| nonzero(req.header.ciaddr()))
                .ok_or(DropReason::Invalid)?;
            if asked == ip {
                Ok(reply.lease(ReplyKind::Ack, ip))
            } else {
                // RFC 2131 §4.3.2: the server SHOULD send a DHCPNAK when the
                // requested address is incorrect (we know the right one).
                Ok(reply.nak())
            }
        }
        MessageType::Inform => Ok(reply.inform()),
        MessageType::Release => {
            check_server(req, server)?;
            Ok(Decision::Consumed(Consumed::Release))
        }
        MessageType::Decline => {
            check_server(req, server)?;
            Ok(Decision::Consumed(Consumed::Decline))
        }
        _ => Err(DropReason::UnsupportedMessage),
    }
}

/// chaddr and the frame's source MAC must be the binding's, unless MACSPOOF.
fn check_mac(ctx: &Context<'_>, header: &Message) -> Result<(), DropReason> {
    if ctx.binding.macspoof {
        return Ok(());
    }
    let mac = ctx.binding.mac;
    let chaddr_ok = header.htype() == HType::Eth
        && header.hlen() == ETHER_HLEN
        && header.chaddr() == mac.0.as_slice();
    let src_ok = ctx.src_mac.map_or(true, |src| src == mac);
    if chaddr_ok && src_ok {
        Ok(())
    } else {
        Err(DropReason::SpoofedMac)
    }
}

/// RFC 2131 §4.3.2: a REQUEST (and RFC 2131 §4.3.3/§4.3.4: a DECLINE or
/// RELEASE) whose server identifier is another server's is not for us.
fn check_server(req: &Request, server: Ipv4Addr) -> Result<(), DropReason> {
    check_server_id(req.server_id, server)
}

/// [`check_server`] on the request's option 54.
fn check_server_id(server_id: Option<Ipv4Addr>, server: Ipv4Addr) -> Result<(), DropReason> {
    match server_id {
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

fn nonzero(a: Ipv4Addr) -> Option<Ipv4Addr> {
    (!a.is_unspecified()).then_some(a)
}

/// Builds the replies to one request.
struct Replier<'a, 'c> {
    ctx: &'a Context<'c>,
    req: &'a Request,
    server: Ipv4Addr,
}

impl Replier<'_, '_> {
    /// OFFER, or ACK to a REQUEST or a rapid-commit DISCOVER.
    fn lease(&self, kind: ReplyKind, ip: Ipv4Addr) -> Decision {
        // RFC 2131 §4.3.1 table 3: ciaddr is 0 in an OFFER, the REQUEST's in an ACK.
        let ciaddr = match kind {
            ReplyKind::Ack => self.req.header.ciaddr(),
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let msg_type = match kind {
            ReplyKind::Offer => MessageType::Offer,
            _ => MessageType::Ack,
        };
        let rapid = self.req.msg_type == MessageType::Discover && kind == ReplyKind::Ack;
        let opts = options::Builder::new(self.ctx, self.req, self.server, msg_type)
            .rapid_commit(rapid)
            .lease(true)
            .build();
        self.answer(kind, ip, ciaddr, opts, false)
    }

    /// RFC 2131 §4.3.5: ACK to an INFORM: no lease time, yiaddr 0, ciaddr kept.
    fn inform(&self) -> Decision {
        let opts = options::Builder::new(self.ctx, self.req, self.server, MessageType::Ack)
            .lease(false)
            .build();
        let ciaddr = self.req.header.ciaddr();
        self.answer(ReplyKind::Ack, Ipv4Addr::UNSPECIFIED, ciaddr, opts, false)
    }

    /// RFC 2131 §4.3.2 / table 3: a NAK carries only 53, 54 (and MAY 56),
    /// with ciaddr and yiaddr 0.
    fn nak(&self) -> Decision {
        let opts = vec![
            DhcpOption::MessageType(MessageType::Nak),
            DhcpOption::ServerIdentifier(self.server),
        ];
        let zero = Ipv4Addr::UNSPECIFIED;
        self.answer(ReplyKind::Nak, zero, zero, opts, true)
    }

    fn answer(
        &self,
        kind: ReplyKind,
        yiaddr: Ipv4Addr,
        ciaddr: Ipv4Addr,
        options: Vec<DhcpOption>,
        nak: bool,
    ) -> Decision {
        let mut message = reply_header(&self.req.header, yiaddr, ciaddr);
        let relayed = !message.giaddr().is_unspecified();
        if nak && relayed {
            // RFC 2131 §4.3.2: "If 'giaddr' is set in the DHCPREQUEST message,
            // the client is on a different subnet. The server MUST set the
            // broadcast bit in the DHCPNAK, so that the relay agent will
            // broadcast the DHCPNAK to the client".
            message.set_flags(message.flags().set_broadcast());
        }
        let (eth_dst, ip_dst, udp_dst) = self.destination(&message, nak);
        Decision::Reply(Answer {
            kind,
            message,
            options,
            eth_dst,
            ip_src: self.server,
            ip_dst,
            udp_dst,
        })
    }

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
    fn destination(&self, reply: &Message, nak: bool) -> (MacAddr, Ipv4Addr, u16) {
        let client = self.client_mac();
        let broadcast = (MacAddr::BROADCAST, Ipv4Addr::BROADCAST, CLIENT_PORT);
        let hdr = &self.req.header;
        if let Some(relay) = nonzero(hdr.giaddr()) {
            (self.ctx.src_mac.unwrap_or(client), relay, SERVER_PORT)
        } else if nak {
            broadcast
        } else if let Some(ciaddr) = nonzero(hdr.ciaddr()) {
            (client, ciaddr, CLIENT_PORT)
        } else if hdr.flags().broadcast() {
            broadcast
        } else if let Some(yiaddr) = nonzero(reply.yiaddr()) {
            (client, yiaddr, CLIENT_PORT)
        } else {
            broadcast
        }
    }

    /// The client's MAC: chaddr when it is an Ethernet address, else the
    /// frame's source, else the binding's.
    fn client_mac(&self) -> MacAddr {
        let hdr = &self.req.header;
        let chaddr = (hdr.htype() == HType::Eth && hdr.hlen() == ETHER_HLEN)
            .then(|| MacAddr::from_slice(hdr.chaddr()))
            .flatten();
        chaddr.or(self.ctx.src_mac).unwrap_or(self.ctx.binding.mac)
    }
}

/// RFC 2131 §4.3.1 table 3: the fields of a reply, from the request's.
fn reply_header(req: &Message, yiaddr: Ipv4Addr, ciaddr: Ipv4Addr) -> Message {
    // xid, flags, giaddr, htype, hlen and chaddr are the client's.
    let mut m = req.clone();
    m.set_opcode(Opcode::BootReply)
        .set_hops(0)
        .set_secs(0)
        .set_ciaddr(ciaddr)
        .set_yiaddr(yiaddr)
        .set_siaddr(Ipv4Addr::UNSPECIFIED);
    m.clear_sname();
    m.clear_fname();
    m.opts_mut().clear();
    m
}

impl Answer {
    /// The option with this code, if the reply carries it.
    pub fn option(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.options.iter().find(|o| OptionCode::from(*o) == code)
    }

    /// The option codes in wire order.
    pub fn codes(&self) -> Vec<OptionCode> {
        self.options.iter().map(OptionCode::from).collect()
    }

    /// The DHCP payload: fixed header, magic, options in order, end, padding.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(BOOTP_MIN_LEN);
        self.message
            .encode(&mut Encoder::new(&mut buf))
            .expect("a header with empty sname and file always encodes into a Vec");
        for opt in &self.options {
            if let Some(bytes) = options::encode(opt) {
                buf.extend_from_slice(&bytes);
            }
        }
        buf.push(u8::from(OptionCode::End));
        // RFC 1542 §3.1.1: BOOTP relay agents and clients may drop messages
        // shorter than the 300-byte BOOTP message, so pad up to it.
        if buf.len() < BOOTP_MIN_LEN {
            buf.resize(BOOTP_MIN_LEN, u8::from(OptionCode::Pad));
        }
        buf
    }

    /// The whole Ethernet frame, from `server_mac`, source port 67.
    pub fn emit(&self, server_mac: MacAddr) -> Vec<u8> {
        frame::emit_ipv4_udp(
            server_mac,
            self.eth_dst,
            self.ip_src,
            self.ip_dst,
            SERVER_PORT,
            self.udp_dst,
            &self.encode(),
        )
        .expect("a DHCPv4 reply is fitted to option 57 and the MTU, both under 64 KiB")
    }
}
