//! DHCP messages read in place: [`Message`], a length-checked view over a
//! DHCP payload, its [`Options`], and [`Request`], a client message with the
//! options the responder acts on.

use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::ops::Range;

use super::boot::Hints;
use super::{
    code, field, MessageType, BOOTREQUEST, ETHER_HLEN, FLAG_BROADCAST, HTYPE_ETHER, MAGIC_COOKIE,
};
use crate::mac::MacAddr;
use crate::proto::DropReason;

/// A DHCP message of either direction, read in place: its fixed fields
/// and magic cookie are known to be there; the options are walked on demand.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The fixed fields and the magic cookie (`field::OPTIONS` bytes).
    fixed: &'a [u8],
    /// Everything after the magic cookie.
    options: &'a [u8],
}

impl<'a> Message<'a> {
    /// The DHCP message in a UDP payload. NotDhcp without the fixed fields
    /// or the magic cookie (RFC 2131 §3: the options field starts with it).
    pub fn parse(payload: &'a [u8]) -> Result<Self, DropReason> {
        let fixed = payload.get(..field::OPTIONS).ok_or(DropReason::NotDhcp)?;
        if fixed[field::MAGIC] != MAGIC_COOKIE {
            return Err(DropReason::NotDhcp);
        }
        Ok(Message {
            fixed,
            options: &payload[field::OPTIONS..],
        })
    }

    /// The fixed fields and the magic cookie, as received.
    pub(super) fn fixed(&self) -> &'a [u8] {
        self.fixed
    }

    /// BOOTREQUEST (1) or BOOTREPLY (2).
    pub fn op(&self) -> u8 {
        self.fixed[field::OP]
    }

    /// The transaction id.
    pub fn xid(&self) -> u32 {
        u32::from_be_bytes(self.bytes(field::XID))
    }

    /// The flags field.
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes(self.bytes(field::FLAGS))
    }

    /// True when the client asks for broadcast replies (RFC 2131 §4.1).
    pub fn broadcast(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }

    /// The client's address (ciaddr).
    pub fn ciaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes(field::CIADDR))
    }

    /// The address given to the client (yiaddr).
    pub fn yiaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes(field::YIADDR))
    }

    /// The next server's address (siaddr).
    pub fn siaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes(field::SIADDR))
    }

    /// The boot file name field (`file`), up to its first NUL.
    pub fn file(&self) -> &'a [u8] {
        let f = &self.fixed[field::FILE];
        &f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())]
    }

    /// The relay agent's address (giaddr).
    pub fn giaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes(field::GIADDR))
    }

    /// chaddr, when htype and hlen say it is an Ethernet address.
    pub fn eth_chaddr(&self) -> Option<MacAddr> {
        let eth = self.fixed[field::HTYPE] == HTYPE_ETHER && self.fixed[field::HLEN] == ETHER_HLEN;
        eth.then(|| MacAddr::from_slice(&self.fixed[field::CHADDR]))
            .flatten()
    }

    /// The options, in wire order.
    pub fn options(&self) -> Options<'a> {
        Options { rest: self.options }
    }

    fn bytes<const N: usize>(&self, range: Range<usize>) -> [u8; N] {
        self.fixed[range]
            .try_into()
            .expect("field ranges match the types read from them")
    }
}

/// The options of a message in wire order, as (code, data): Pad is
/// skipped and End ends them (RFC 2132 §3.1, §3.2). An option running past
/// the end of the message is Malformed, and the last item.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u8, &'a [u8]), DropReason>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&opt, rest) = self.rest.split_first()?;
            match opt {
                code::PAD => self.rest = rest,
                code::END => {
                    self.rest = &[];
                    return None;
                }
                _ => {
                    let data = rest
                        .split_first()
                        .and_then(|(&len, rest)| rest.split_at_checked(usize::from(len)));
                    let Some((data, rest)) = data else {
                        self.rest = &[];
                        return Some(Err(DropReason::Malformed));
                    };
                    self.rest = rest;
                    return Some(Ok((opt, data)));
                }
            }
        }
    }
}

/// The options the responder reads, in [`Request::parse`]'s order.
const READ: [u8; 6] = [
    code::MESSAGE_TYPE,
    code::REQUESTED_IP,
    code::SERVER_ID,
    code::PARAMETER_REQUEST_LIST,
    code::MAX_MESSAGE_SIZE,
    code::RAPID_COMMIT,
];

/// Each option code's index in [`READ`] plus one; 0 for options not read
/// (one load per option instead of a search).
const SLOT: [u8; 256] = {
    let mut slot = [0; 256];
    let mut i = 0;
    while i < READ.len() {
        slot[READ[i] as usize] = i as u8 + 1;
        i += 1;
    }
    slot
};

/// A client message (BOOTREQUEST) and the options the responder reads.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    message: Message<'a>,
    msg_type: MessageType,
    requested_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    params: Option<Cow<'a, [u8]>>,
    max_size: Option<u16>,
    rapid_commit: bool,
}

impl<'a> Request<'a> {
    /// Reads a client message from a UDP payload: NotDhcp when it is not
    /// a DHCP request with one message type, Malformed when an option runs
    /// past the end, Invalid when an option we read has the wrong length.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DropReason> {
        let message = Message::parse(payload)?;
        if message.op() != BOOTREQUEST {
            return Err(DropReason::NotDhcp);
        }
        let mut found: [Option<Cow<'a, [u8]>>; READ.len()] = Default::default();
        for opt in message.options() {
            let (opt, data) = opt?;
            let Some(i) = usize::from(SLOT[usize::from(opt)]).checked_sub(1) else {
                continue;
            };
            // RFC 3396 §1: agents "MUST use this method [concatenation in
            // order] whenever they receive a DHCP packet containing more
            // than one occurrence of a certain type of option".
            match &mut found[i] {
                Some(seen) => seen.to_mut().extend_from_slice(data),
                empty => *empty = Some(Cow::Borrowed(data)),
            }
        }
        let [msg_type, requested_ip, server_id, params, max_size, rapid_commit] = found;
        let msg_type = match msg_type.as_deref() {
            Some(&[t]) => MessageType(t),
            _ => return Err(DropReason::NotDhcp),
        };
        let max_size = match max_size.as_deref() {
            None => None,
            Some(&[hi, lo]) => Some(u16::from_be_bytes([hi, lo])),
            Some(_) => return Err(DropReason::Invalid),
        };
        Ok(Request {
            message,
            msg_type,
            requested_ip: ipv4(requested_ip.as_deref())?,
            server_id: ipv4(server_id.as_deref())?,
            params,
            max_size,
            rapid_commit: rapid_commit.is_some(),
        })
    }

    /// The message: fixed fields and all options.
    pub fn message(&self) -> &Message<'a> {
        &self.message
    }

    /// Option 53.
    pub fn msg_type(&self) -> MessageType {
        self.msg_type
    }

    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.requested_ip
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.server_id
    }

    /// Option 55: the codes the client asks for, in its order.
    pub fn params(&self) -> Option<&[u8]> {
        self.params.as_deref()
    }

    /// True when option 55 asks for `code`.
    pub fn asks_for(&self, code: u8) -> bool {
        self.params().is_some_and(|p| p.contains(&code))
    }

    /// Option 57.
    pub fn max_size(&self) -> Option<u16> {
        self.max_size
    }

    /// Option 80 (RFC 4039).
    pub fn rapid_commit(&self) -> bool {
        self.rapid_commit
    }

    /// Options 60, 77, 93 and 175: what the client says of its boot.
    /// Read only for a VM with boot keys (a second walk of the options,
    /// which [`Request::parse`] has checked), so that every other request
    /// pays nothing for them. Repeated options are joined (RFC 3396 §1).
    pub(super) fn boot_hints(&self) -> Hints<'a> {
        let mut h = Hints::default();
        for (opt, data) in self.message.options().map_while(Result::ok) {
            let slot = match opt {
                code::VENDOR_CLASS => &mut h.vendor_class,
                code::USER_CLASS => &mut h.user_class,
                code::CLIENT_ARCH => &mut h.client_arch,
                code::IPXE_ENCAP => {
                    h.ipxe_options = true;
                    continue;
                }
                _ => continue,
            };
            match slot {
                Some(seen) => seen.to_mut().extend_from_slice(data),
                empty => *empty = Some(Cow::Borrowed(data)),
            }
        }
        h
    }
}

/// An option holding one IPv4 address; Invalid with another length.
fn ipv4(data: Option<&[u8]>) -> Result<Option<Ipv4Addr>, DropReason> {
    match data {
        None => Ok(None),
        Some(&[a, b, c, d]) => Ok(Some(Ipv4Addr::new(a, b, c, d))),
        Some(_) => Err(DropReason::Invalid),
    }
}
