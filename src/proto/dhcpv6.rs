//! DHCPv6 server for one VM per tap (RFC 8415), stateless and stateful.
//!
//! Supported: Information-Request (DNS servers, option 23, and search list,
//! option 24, RFC 3646; NTP servers, option 56, RFC 5908) in every mode; in mode `dhcpv6` also Solicit
//! (Advertise, or Reply with Rapid Commit), Request, Renew, Rebind, Confirm,
//! Release and Decline, assigning the binding's one address
//! ([`Binding::dhcpv6_address`](crate::binding::Binding::dhcpv6_address)) in
//! every IA_NA. Prefix delegation (IA_PD, RFC 8415 §6.3) in every mode
//! where the DHCPv6 queue delivers: the binding's `PREFIX6_DELEGATED`
//! prefixes in IA Prefix options; a Solicit, Request, Renew, Rebind or
//! Release carrying an IA_PD is answered in modes `slaac` and
//! `slaac+dhcpv6` too, its IA_NAs getting NoAddrsAvail there (the VM
//! numbers itself by SLAAC). Replies come from the router link-local, UDP
//! 547 → 546, to the client's source address and the frame's source MAC.
//! The server DUID is DUID-LL of the INDEV MAC: stable, a pure function of
//! the MAC.
//!
//! Anti-spoofing: the frame's source MAC must be the binding's (unless
//! MACSPOOF), and the reply leaves only through the request's tap. The
//! client's DUID is opaque (RFC 8415 §11) and is not compared with the
//! binding's MAC: a multi-NIC guest sends one DUID, made from one of its
//! MACs, on every NIC, and each tap still assigns only its own address.
//!
//! Choices, documented: options 23/24 are sent when the client's ORO asks for
//! them, or when it sent no ORO at all (RFC 8415 §18.3: "the server MAY
//! return additional options"); an ORO that omits them is honoured. Option
//! 56 is sent only when the ORO asks for it, with one
//! NTP_SUBOPTION_SRV_ADDR per server; option 59, the boot file URL
//! (RFC 5970 §3.1, the binding's `BOOTFILE6`), likewise only when asked.
//! Each comes from the binding's `NAMESERVERS6`, `DOMAINS`, `NTP6` when it
//! has them, else from the config. Any other option, from the binding's
//! `OPTION6_<code>` or the config's `[options]`, is sent when the ORO asks
//! for it, or always when so marked (see [`crate::value::options`]). T1/T2 are
//! 0.5 and 0.8 × the preferred lifetime (RFC 8415 §21.4 recommendation),
//! and IA_PDs get the same T1/T2 and lifetimes as IA_NAs. Requested
//! addresses that are not ours: NotOnLink for a Request when they are
//! off-link (§18.3.2), lifetimes 0 in Renew/Rebind (§18.3.4, §18.3.5),
//! NotOnLink for a Confirm unless every address is ours (§18.3.3).
//! Prefixes: all the binding's go in one IA_PD of a message (the first
//! that already holds one, else the first; the others get NoPrefixAvail or
//! NoBinding); a client's prefix hints are ignored; prefixes not ours in a
//! Renew/Rebind come back with lifetimes 0; a VM without prefixes gets
//! NoPrefixAvail (NoBinding in a Renew/Rebind); a Confirm tests addresses
//! only and a Decline ignores IA_PDs. nfdhcpd does not route a delegated
//! prefix: the host must route it to the VM. Unicast requests are served
//! as multicast ones (no UseMulticast: we are the only server a tap
//! reaches).
//!
//! Limits, deliberate: only the first [`MAX_IAS_PER_MESSAGE`] IA options
//! (IA_NA, IA_TA and IA_PD together) of a message are answered; later ones
//! are parsed, then ignored. RFC 8415 §6.6 leaves "whether to grant
//! additional addresses and prefixes" to server policy, a real client sends
//! one or two, and a guest cannot make the reply grow with its request. A
//! reply never exceeds the link MTU (the binding's `MTU`, else 1500 bytes
//! as for DHCPv4, never below the 1280 of RFC 8200 §5): if it would, the
//! prefixes and addresses returned with lifetime 0 are left out first (the
//! client lets them expire), then the search list, then the NTP servers,
//! then the DNS servers.
//! The rest of a reply is bounded by the IA limit, the limit on a
//! binding's prefixes and the DUID length, and fits 1280.
//!
//! Deliberately not supported: relays (Relay-Forw is dropped: a tap has no
//! relay), IA_TA (answered NoAddrsAvail), Reconfigure, authentication,
//! Information Refresh Time, leasequery. The option parser is this
//! module's own, strict and length-checked, rather than dhcproto's lenient
//! decoder (which stops silently at a bad option and can underflow on
//! short status/vendor options); dhcproto checks our output in the tests.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use crate::mac::MacAddr;

mod pd;
use pd::{answer_pd, delegates, holder, parse_ia_pd};
pub use pd::{IaPd, IaPdRequest, IaPrefix};

use super::frame;
use super::frame::DEFAULT_LINK_MTU;
use super::ndp;
use super::ra::{encode_domain_name, IPV6_MIN_MTU};
use super::{Context, DropReason, Outcome, Reply, ReplyKind};
use crate::config::Ipv6Mode;
use crate::value::options::effective;

/// UDP port of DHCPv6 clients.
pub const CLIENT_PORT: u16 = 546;
/// UDP port of DHCPv6 servers and relays.
pub const SERVER_PORT: u16 = 547;

/// Message types (RFC 8415 §7.3).
pub mod msg {
    /// Solicit.
    pub const SOLICIT: u8 = 1;
    /// Advertise.
    pub const ADVERTISE: u8 = 2;
    /// Request.
    pub const REQUEST: u8 = 3;
    /// Confirm.
    pub const CONFIRM: u8 = 4;
    /// Renew.
    pub const RENEW: u8 = 5;
    /// Rebind.
    pub const REBIND: u8 = 6;
    /// Reply.
    pub const REPLY: u8 = 7;
    /// Release.
    pub const RELEASE: u8 = 8;
    /// Decline.
    pub const DECLINE: u8 = 9;
    /// Information-request.
    pub const INFORMATION_REQUEST: u8 = 11;
}

/// Option codes (RFC 8415 §21, RFC 3646).
pub mod opt {
    /// Client Identifier.
    pub const CLIENTID: u16 = 1;
    /// Server Identifier.
    pub const SERVERID: u16 = 2;
    /// Identity Association for Non-temporary Addresses.
    pub const IA_NA: u16 = 3;
    /// Identity Association for Temporary Addresses.
    pub const IA_TA: u16 = 4;
    /// IA Address.
    pub const IAADDR: u16 = 5;
    /// Option Request.
    pub const ORO: u16 = 6;
    /// Status Code.
    pub const STATUS_CODE: u16 = 13;
    /// Rapid Commit.
    pub const RAPID_COMMIT: u16 = 14;
    /// DNS Recursive Name Servers (RFC 3646 §3).
    pub const DNS_SERVERS: u16 = 23;
    /// Domain Search List (RFC 3646 §4).
    pub const DOMAIN_LIST: u16 = 24;
    /// NTP Server (RFC 5908 §4).
    pub const NTP_SERVER: u16 = 56;
    /// Boot File URL (RFC 5970 §3.1).
    pub const BOOTFILE_URL: u16 = 59;
    /// Identity Association for Prefix Delegation.
    pub const IA_PD: u16 = 25;
    /// IA Prefix (RFC 8415 §21.22).
    pub const IAPREFIX: u16 = 26;
}

/// msg-type + transaction-id (RFC 8415 §8).
pub const MSG_HDR_LEN: usize = 4;
/// option-code + option-len (RFC 8415 §21.1).
pub const OPT_HDR_LEN: usize = 4;
/// IAID + T1 + T2 (RFC 8415 §21.4, §21.21).
pub const IA_HDR_LEN: usize = 12;
/// IAID of an IA_TA (RFC 8415 §21.5).
pub const IA_TA_HDR_LEN: usize = 4;
/// Address + preferred + valid lifetimes (RFC 8415 §21.6).
pub const IAADDR_LEN: usize = 24;
/// Preferred + valid lifetimes, prefix-length, prefix (RFC 8415 §21.22).
pub const IAPREFIX_LEN: usize = 25;
/// Offset of prefix-length in an IA Prefix (after the two lifetimes).
const IAPREFIX_PLEN_AT: usize = 8;
/// DUID type: link-layer plus time (RFC 8415 §11.2).
pub const DUID_LLT: u16 = 1;
/// DUID type: link-layer (RFC 8415 §11.4).
pub const DUID_LL: u16 = 3;
/// Hardware type Ethernet (RFC 826 / IANA ARP hardware types).
pub const HW_ETHERNET: u16 = 1;
/// RFC 8415 §11.1: a DUID is a 2-octet type and at most 128 octets more.
pub const DUID_MAX_LEN: usize = 130;
/// Shortest DUID accepted: a type and one octet.
pub const DUID_MIN_LEN: usize = 3;
/// IA options (IA_NA, IA_TA, IA_PD together) answered per message: the
/// first ones; the others are ignored (see the module documentation).
pub const MAX_IAS_PER_MESSAGE: usize = 8;
/// status-code (RFC 8415 §21.13), before the message.
const STATUS_CODE_LEN: usize = 2;
/// One address of the DNS Recursive Name Server option (RFC 3646 §3).
const IPV6_ADDR_LEN: usize = 16;
/// NTP Server suboption: the address of a server (RFC 5908 §4).
pub const NTP_SUBOPTION_SRV_ADDR: u16 = 1;
/// One NTP_SUBOPTION_SRV_ADDR: suboption-code, suboption-len (the
/// option header's shape, RFC 5908 §4), then the address.
const NTP_SRV_ADDR_LEN: usize = OPT_HDR_LEN + IPV6_ADDR_LEN;

/// Why a DHCPv6 reply cannot be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// Option data over the 16-bit option-len (RFC 8415 §21.1).
    #[error("option {code}: {len} bytes do not fit option-len")]
    OptionTooLong {
        /// The option code.
        code: u16,
        /// Its data length.
        len: usize,
    },
    /// The frame cannot be built.
    #[error(transparent)]
    Frame(#[from] frame::EmitError),
}

/// Status codes sent (RFC 8415 §21.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0
    Success,
    /// 2
    NoAddrsAvail,
    /// 3
    NoBinding,
    /// 4
    NotOnLink,
    /// 6
    NoPrefixAvail,
}

impl Status {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            Status::Success => 0,
            Status::NoAddrsAvail => 2,
            Status::NoBinding => 3,
            Status::NotOnLink => 4,
            Status::NoPrefixAvail => 6,
        }
    }

    /// The status message sent with it.
    pub fn message(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::NoAddrsAvail => "no address for this VM",
            Status::NoBinding => "no binding for this IA",
            Status::NotOnLink => "address not on this link",
            Status::NoPrefixAvail => "no prefix delegation here",
        }
    }
}

/// One IA Address (RFC 8415 §21.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaAddress {
    /// The address.
    pub addr: Ipv6Addr,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
}

/// One IA_NA of a reply (RFC 8415 §21.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaNa {
    /// IAID, echoed from the client.
    pub iaid: u32,
    /// T1, seconds.
    pub t1: u32,
    /// T2, seconds.
    pub t2: u32,
    /// Addresses.
    pub addrs: Vec<IaAddress>,
    /// Status inside the IA, if any.
    pub status: Option<Status>,
}

/// Advertise or Reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyType {
    /// Advertise (2).
    Advertise,
    /// Reply (7).
    Reply,
}

/// A DHCPv6 reply, as decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcpv6Reply {
    /// Ethernet source (the INDEV MAC).
    pub eth_src: MacAddr,
    /// Ethernet destination (the client's MAC).
    pub eth_dst: MacAddr,
    /// IPv6 source (the router link-local).
    pub src: Ipv6Addr,
    /// IPv6 destination (the client's source address).
    pub dst: Ipv6Addr,
    /// Advertise or Reply.
    pub msg_type: ReplyType,
    /// Transaction id, echoed.
    pub xid: [u8; 3],
    /// Server Identifier (our DUID).
    pub server_id: Vec<u8>,
    /// Client Identifier, echoed.
    pub client_id: Option<Vec<u8>>,
    /// Rapid Commit option (a Reply to a Solicit).
    pub rapid_commit: bool,
    /// Top-level Status Code.
    pub status: Option<Status>,
    /// IA_NAs.
    pub ia_na: Vec<IaNa>,
    /// IA_TAs (IAIDs), each answered NoAddrsAvail.
    pub ia_ta: Vec<u32>,
    /// IA_PDs.
    pub ia_pd: Vec<IaPd>,
    /// DNS servers (option 23); empty: not sent.
    pub dns_servers: Vec<Ipv6Addr>,
    /// Search domains (option 24); empty: not sent.
    pub domains: Vec<String>,
    /// NTP servers (option 56, one NTP_SUBOPTION_SRV_ADDR each); empty:
    /// not sent.
    pub ntp_servers: Vec<Ipv6Addr>,
    /// Other options (the binding's `OPTION6_<code>`, the config's
    /// `[options]`): code and value, in that order; empty: none.
    pub raw_options: Vec<(u16, Vec<u8>)>,
    /// Boot file URL (option 59, RFC 5970 §3.1): the binding's
    /// `BOOTFILE6`, when the ORO asks for it.
    pub bootfile_url: Option<String>,
}

/// The server DUID: DUID-LL (RFC 8415 §11.4) of `mac`.
pub fn server_duid(mac: MacAddr) -> Vec<u8> {
    let mut d = Vec::with_capacity(4 + 6);
    d.extend_from_slice(&DUID_LL.to_be_bytes());
    d.extend_from_slice(&HW_ETHERNET.to_be_bytes());
    d.extend_from_slice(&mac.octets());
    d
}

/// The Ethernet MAC inside a DUID-LL or DUID-LLT, if it is one. For
/// reading and tests only: a client's DUID may carry another interface's
/// MAC, so it is never checked against a binding (RFC 8415 §11).
pub fn duid_mac(duid: &[u8]) -> Option<MacAddr> {
    let be16 = |i: usize| duid.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    // DUID-LLT: type, hw type, time (4), address; DUID-LL: type, hw type, address.
    let lla_at = match be16(0)? {
        DUID_LLT => 8,
        DUID_LL => 4,
        _ => return None,
    };
    if be16(2)? != HW_ETHERNET || duid.len() != lla_at + 6 {
        return None;
    }
    MacAddr::from_slice(&duid[lla_at..])
}

fn push_opt(out: &mut Vec<u8>, code: u16, data: &[u8]) -> Result<(), EmitError> {
    let len = u16::try_from(data.len()).map_err(|_| EmitError::OptionTooLong {
        code,
        len: data.len(),
    })?;
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

fn status_opt(out: &mut Vec<u8>, s: Status) -> Result<(), EmitError> {
    let mut d = s.code().to_be_bytes().to_vec();
    d.extend_from_slice(s.message().as_bytes());
    push_opt(out, opt::STATUS_CODE, &d)
}

/// Length of a Status Code option carrying `s`.
fn status_opt_len(s: Status) -> usize {
    OPT_HDR_LEN + STATUS_CODE_LEN + s.message().len()
}

/// Length of an IA Address option without options of its own.
const IAADDR_OPT_LEN: usize = OPT_HDR_LEN + IAADDR_LEN;
/// Length of an IA Prefix option without options of its own.
const IAPREFIX_OPT_LEN: usize = OPT_HDR_LEN + IAPREFIX_LEN;

/// IAID, T1, T2 of an IA_NA or IA_PD (RFC 8415 §21.4, §21.21).
fn ia_header(iaid: u32, t1: u32, t2: u32, capacity: usize) -> Vec<u8> {
    let mut d = Vec::with_capacity(capacity);
    for v in [iaid, t1, t2] {
        d.extend_from_slice(&v.to_be_bytes());
    }
    d
}

impl IaNa {
    /// Length of the encoded IA_NA option.
    pub fn buffer_len(&self) -> usize {
        OPT_HDR_LEN
            + IA_HDR_LEN
            + self.addrs.len() * IAADDR_OPT_LEN
            + self.status.map_or(0, status_opt_len)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EmitError> {
        let mut d = ia_header(self.iaid, self.t1, self.t2, self.buffer_len());
        for a in &self.addrs {
            let mut ad = a.addr.octets().to_vec();
            ad.extend_from_slice(&a.preferred.to_be_bytes());
            ad.extend_from_slice(&a.valid.to_be_bytes());
            push_opt(&mut d, opt::IAADDR, &ad)?;
        }
        if let Some(s) = self.status {
            status_opt(&mut d, s)?;
        }
        push_opt(out, opt::IA_NA, &d)
    }
}

impl Dhcpv6Reply {
    /// The Domain Search List data (RFC 3646 §4): the names, encoded.
    fn domain_list(&self) -> Vec<u8> {
        self.domains
            .iter()
            .filter_map(|d| encode_domain_name(d))
            .flatten()
            .collect()
    }

    /// Length of the DHCPv6 message [`Dhcpv6Reply::payload`] builds.
    pub fn buffer_len(&self) -> usize {
        let ia_ta = OPT_HDR_LEN + IA_TA_HDR_LEN + status_opt_len(Status::NoAddrsAvail);
        MSG_HDR_LEN
            + self.client_id.as_ref().map_or(0, |c| OPT_HDR_LEN + c.len())
            + OPT_HDR_LEN
            + self.server_id.len()
            + self.ia_na.iter().map(IaNa::buffer_len).sum::<usize>()
            + self.ia_ta.len() * ia_ta
            + self.status.map_or(0, status_opt_len)
            + if self.rapid_commit { OPT_HDR_LEN } else { 0 }
            + if self.dns_servers.is_empty() {
                0
            } else {
                OPT_HDR_LEN + self.dns_servers.len() * IPV6_ADDR_LEN
            }
            + if self.domains.is_empty() {
                0
            } else {
                OPT_HDR_LEN + self.domain_list().len()
            }
            + if self.ntp_servers.is_empty() {
                0
            } else {
                OPT_HDR_LEN + self.ntp_servers.len() * NTP_SRV_ADDR_LEN
            }
            + self.ia_pd.iter().map(IaPd::buffer_len).sum::<usize>()
            + self
                .raw_options
                .iter()
                .map(|(_, d)| OPT_HDR_LEN + d.len())
                .sum::<usize>()
            + self
                .bootfile_url
                .as_ref()
                .map_or(0, |u| OPT_HDR_LEN + u.len())
    }

    /// Trims the reply to at most `budget` bytes of DHCPv6 message: first
    /// the prefixes, then the addresses, returned with lifetime 0 (from
    /// the last IA back), then the raw options (from the last back), then
    /// the search list, then the NTP servers, then the DNS servers.
    /// False when it still does not fit (it always does in 1232 bytes: see
    /// the tests).
    pub fn fit(&mut self, budget: usize) -> bool {
        let mut excess = self.buffer_len().saturating_sub(budget);
        // Only leases no longer ours have a valid lifetime of 0: the
        // configured one is at least 1 s.
        for ia in self.ia_pd.iter_mut().rev() {
            while excess > 0 && ia.prefixes.last().is_some_and(|p| p.valid == 0) {
                ia.prefixes.pop();
                excess = excess.saturating_sub(IAPREFIX_OPT_LEN);
            }
        }
        for ia in self.ia_na.iter_mut().rev() {
            while excess > 0 && ia.addrs.last().is_some_and(|a| a.valid == 0) {
                ia.addrs.pop();
                excess = excess.saturating_sub(IAADDR_OPT_LEN);
            }
        }
        while self.buffer_len() > budget && self.raw_options.pop().is_some() {}
        if self.buffer_len() > budget {
            self.domains.clear();
        }
        if self.buffer_len() > budget {
            self.ntp_servers.clear();
        }
        if self.buffer_len() > budget {
            self.dns_servers.clear();
        }
        self.buffer_len() <= budget
    }

    /// The DHCPv6 message (UDP payload).
    pub fn payload(&self) -> Result<Vec<u8>, EmitError> {
        let t = match self.msg_type {
            ReplyType::Advertise => msg::ADVERTISE,
            ReplyType::Reply => msg::REPLY,
        };
        let mut m = Vec::with_capacity(self.buffer_len());
        m.extend_from_slice(&[t, self.xid[0], self.xid[1], self.xid[2]]);
        if let Some(c) = &self.client_id {
            push_opt(&mut m, opt::CLIENTID, c)?;
        }
        push_opt(&mut m, opt::SERVERID, &self.server_id)?;
        for ia in &self.ia_na {
            ia.encode(&mut m)?;
        }
        for iaid in &self.ia_ta {
            let mut d = iaid.to_be_bytes().to_vec();
            status_opt(&mut d, Status::NoAddrsAvail)?;
            push_opt(&mut m, opt::IA_TA, &d)?;
        }
        if let Some(s) = self.status {
            status_opt(&mut m, s)?;
        }
        if self.rapid_commit {
            push_opt(&mut m, opt::RAPID_COMMIT, &[])?;
        }
        if !self.dns_servers.is_empty() {
            let d: Vec<u8> = self.dns_servers.iter().flat_map(|a| a.octets()).collect();
            push_opt(&mut m, opt::DNS_SERVERS, &d)?;
        }
        if !self.domains.is_empty() {
            push_opt(&mut m, opt::DOMAIN_LIST, &self.domain_list())?;
        }
        if !self.ntp_servers.is_empty() {
            let mut d = Vec::with_capacity(self.ntp_servers.len() * NTP_SRV_ADDR_LEN);
            for a in &self.ntp_servers {
                push_opt(&mut d, NTP_SUBOPTION_SRV_ADDR, &a.octets())?;
            }
            push_opt(&mut m, opt::NTP_SERVER, &d)?;
        }
        for (code, data) in &self.raw_options {
            push_opt(&mut m, *code, data)?;
        }
        for ia in &self.ia_pd {
            ia.encode(&mut m)?;
        }
        if let Some(url) = &self.bootfile_url {
            push_opt(&mut m, opt::BOOTFILE_URL, url.as_bytes())?;
        }
        Ok(m)
    }

    /// The whole Ethernet frame; refused, never truncated, when a length
    /// does not fit its field.
    pub fn emit(&self) -> Result<Vec<u8>, EmitError> {
        Ok(frame::emit_ipv6_udp(
            self.eth_src,
            self.eth_dst,
            self.src,
            self.dst,
            SERVER_PORT,
            CLIENT_PORT,
            &self.payload()?,
        )?)
    }
}

/// The largest DHCPv6 message a reply may carry: the link MTU (the
/// binding's, else 1500 bytes as for DHCPv4; RFC 8200 §5: never below
/// 1280) less the IPv6 and UDP headers.
pub fn budget(ctx: &Context<'_>) -> usize {
    let mtu = ctx
        .binding
        .mtu
        .unwrap_or(DEFAULT_LINK_MTU)
        .max(IPV6_MIN_MTU);
    usize::from(mtu) - frame::IPV6_HDR_LEN - frame::UDP_HDR_LEN
}

/// One IA_NA of a client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaRequest {
    /// IAID.
    pub iaid: u32,
    /// Addresses the client put in it.
    pub addrs: Vec<Ipv6Addr>,
}

/// A client message, parsed strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Message type.
    pub msg_type: u8,
    /// Transaction id.
    pub xid: [u8; 3],
    /// Client Identifier.
    pub client_id: Option<&'a [u8]>,
    /// Server Identifier.
    pub server_id: Option<&'a [u8]>,
    /// Option Request option, if sent.
    pub oro: Option<Vec<u16>>,
    /// Rapid Commit option sent.
    pub rapid_commit: bool,
    /// IA_NAs.
    pub ia_na: Vec<IaRequest>,
    /// IA_TA IAIDs.
    pub ia_ta: Vec<u32>,
    /// IA_PDs.
    pub ia_pd: Vec<IaPdRequest>,
    /// IA options past [`MAX_IAS_PER_MESSAGE`]: parsed, then ignored.
    pub ignored_ias: usize,
}

impl Request<'_> {
    /// Keeps `ia` in `list` while the message has room for IAs, else counts it ignored.
    fn keep_ia<T>(&mut self, pick: fn(&mut Self) -> &mut Vec<T>, ia: T) {
        if self.ia_na.len() + self.ia_ta.len() + self.ia_pd.len() < MAX_IAS_PER_MESSAGE {
            pick(self).push(ia);
        } else {
            self.ignored_ias += 1;
        }
    }
}

/// Splits `bytes` into (code, data) options; any overrun is malformed.
fn options(mut bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, DropReason> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let hdr = bytes.get(..OPT_HDR_LEN).ok_or(DropReason::Malformed)?;
        let code = u16::from_be_bytes([hdr[0], hdr[1]]);
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let data = bytes
            .get(OPT_HDR_LEN..OPT_HDR_LEN + len)
            .ok_or(DropReason::Malformed)?;
        out.push((code, data));
        bytes = &bytes[OPT_HDR_LEN + len..];
    }
    Ok(out)
}

fn be32(b: &[u8]) -> Result<u32, DropReason> {
    let a: [u8; 4] = b
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or(DropReason::Malformed)?;
    Ok(u32::from_be_bytes(a))
}

fn parse_ia_na(data: &[u8]) -> Result<IaRequest, DropReason> {
    let sub = data.get(IA_HDR_LEN..).ok_or(DropReason::Malformed)?;
    let mut addrs = Vec::new();
    for (code, d) in options(sub)? {
        if code == opt::IAADDR {
            let a: [u8; 16] = d
                .get(..16)
                .filter(|_| d.len() >= IAADDR_LEN)
                .and_then(|s| s.try_into().ok())
                .ok_or(DropReason::Malformed)?;
            addrs.push(Ipv6Addr::from(a));
        }
    }
    Ok(IaRequest {
        iaid: be32(data)?,
        addrs,
    })
}

fn set_once<'a>(slot: &mut Option<&'a [u8]>, d: &'a [u8]) -> Result<(), DropReason> {
    if slot.is_some() || !(DUID_MIN_LEN..=DUID_MAX_LEN).contains(&d.len()) {
        return Err(DropReason::Malformed);
    }
    *slot = Some(d);
    Ok(())
}

/// Parses a client message strictly (RFC 8415 §8, §21).
pub fn parse_request(payload: &[u8]) -> Result<Request<'_>, DropReason> {
    let hdr = payload.get(..MSG_HDR_LEN).ok_or(DropReason::Malformed)?;
    let mut r = Request {
        msg_type: hdr[0],
        xid: [hdr[1], hdr[2], hdr[3]],
        client_id: None,
        server_id: None,
        oro: None,
        rapid_commit: false,
        ia_na: Vec::new(),
        ia_ta: Vec::new(),
        ia_pd: Vec::new(),
        ignored_ias: 0,
    };
    for (code, d) in options(&payload[MSG_HDR_LEN..])? {
        match code {
            opt::CLIENTID => set_once(&mut r.client_id, d)?,
            opt::SERVERID => set_once(&mut r.server_id, d)?,
            opt::ORO if d.len() % 2 == 0 => {
                let codes = d.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                r.oro.get_or_insert_with(Vec::new).extend(codes);
            }
            opt::ORO => return Err(DropReason::Malformed),
            opt::RAPID_COMMIT => r.rapid_commit = true,
            // IAs past the limit are still checked: a malformed one makes
            // the message malformed wherever it stands.
            opt::IA_NA => r.keep_ia(|r| &mut r.ia_na, parse_ia_na(d)?),
            opt::IA_TA if d.len() >= IA_TA_HDR_LEN => r.keep_ia(|r| &mut r.ia_ta, be32(d)?),
            opt::IA_TA => return Err(DropReason::Malformed),
            opt::IA_PD => r.keep_ia(|r| &mut r.ia_pd, parse_ia_pd(d)?),
            _ => {}
        }
    }
    Ok(r)
}

/// RFC 8415 §16: which identifiers each message must / must not carry.
fn validate_identifiers(r: &Request<'_>, our_duid: &[u8]) -> Result<(), DropReason> {
    let ours = |s: &[u8]| {
        if s == our_duid {
            Ok(())
        } else {
            Err(DropReason::OtherServer)
        }
    };
    match r.msg_type {
        // RFC 8415 §16.2, §16.5, §16.7: discard Solicit / Confirm / Rebind
        // "that do not include a Client Identifier option or that do include a
        // Server Identifier option".
        msg::SOLICIT | msg::CONFIRM | msg::REBIND => {
            if r.client_id.is_none() || r.server_id.is_some() {
                return Err(DropReason::Invalid);
            }
        }
        // RFC 8415 §16.4, §16.6, §16.8, §16.9: discard Request / Renew /
        // Decline / Release without a Server Identifier, with one that does not
        // match the server's DUID, or without a Client Identifier.
        msg::REQUEST | msg::RENEW | msg::DECLINE | msg::RELEASE => {
            let sid = r.server_id.ok_or(DropReason::Invalid)?;
            ours(sid)?;
            if r.client_id.is_none() {
                return Err(DropReason::Invalid);
            }
        }
        // RFC 8415 §16.12: discard an Information-request whose Server
        // Identifier does not match; a Client Identifier is optional there.
        msg::INFORMATION_REQUEST => {
            if let Some(sid) = r.server_id {
                ours(sid)?;
            }
        }
        _ => return Err(DropReason::UnsupportedMessage),
    }
    Ok(())
}

/// What the binding offers a stateful client.
struct Offer<'a> {
    /// The address of every IA_NA: none outside mode `dhcpv6`.
    addr: Option<Ipv6Addr>,
    /// The prefixes of one IA_PD, in every mode.
    prefixes: &'a [Ipv6Net],
    preferred: u32,
    valid: u32,
    t1: u32,
    t2: u32,
}

fn offer<'a>(ctx: &Context<'a>) -> Offer<'a> {
    let v6 = &ctx.config.ipv6;
    let valid = v6.dhcpv6_valid_lifetime;
    let preferred = v6.dhcpv6_preferred_lifetime.min(valid);
    // RFC 8415 §21.4: "Recommended values for T1 and T2 are 0.5 and 0.8 times
    // the shortest preferred lifetime of the addresses in the IA".
    let t1 = preferred / 2;
    let t2 = (u64::from(preferred) * 4 / 5) as u32;
    Offer {
        addr: ctx
            .binding
            .dhcpv6_address()
            .filter(|_| ctx.config.ipv6.mode == Ipv6Mode::Dhcpv6),
        prefixes: &ctx.binding.prefix6_delegated,
        preferred,
        valid,
        t1,
        t2,
    }
}

/// True when `a` is appropriate for this link (RFC 8415 §18.3.2): in SUBNET6.
fn on_link(ctx: &Context<'_>, a: Ipv6Addr) -> bool {
    ctx.binding.subnet6.is_some_and(|n| n.contains(&a)) || Some(a) == ctx.binding.dhcpv6_address()
}

/// The IA_NA answering `ia` in an Advertise / Reply to Solicit / Request / Renew / Rebind.
fn answer_ia(ctx: &Context<'_>, o: &Offer, ia: &IaRequest, msg_type: u8) -> IaNa {
    let mut out = IaNa {
        iaid: ia.iaid,
        t1: 0,
        t2: 0,
        addrs: Vec::new(),
        status: None,
    };
    let renewing = matches!(msg_type, msg::RENEW | msg::REBIND);
    // RFC 8415 §18.3.2: an address "not appropriate for the link": the IA
    // goes back with a Status Code NotOnLink.
    if msg_type == msg::REQUEST && ia.addrs.iter().any(|a| !on_link(ctx, *a)) {
        out.status = Some(Status::NotOnLink);
        return out;
    }
    match o.addr {
        Some(addr) => {
            (out.t1, out.t2) = (o.t1, o.t2);
            out.addrs.push(IaAddress {
                addr,
                preferred: o.preferred,
                valid: o.valid,
            });
        }
        // RFC 8415 §18.3.4: no client entry on Renew/Rebind: NoBinding;
        // §18.3.2: "cannot assign any addresses": NoAddrsAvail.
        None if renewing => out.status = Some(Status::NoBinding),
        None => out.status = Some(Status::NoAddrsAvail),
    }
    if renewing {
        // RFC 8415 §18.3.4 / §18.3.5: addresses no longer appropriate are
        // returned "with lifetimes of 0".
        for a in ia.addrs.iter().filter(|a| Some(**a) != o.addr) {
            out.addrs.push(IaAddress {
                addr: *a,
                preferred: 0,
                valid: 0,
            });
        }
    }
    out
}

/// Decides the reply to a DHCPv6 client message, or why none is sent.
pub fn decide(ctx: &Context<'_>, packet: &[u8]) -> Result<Dhcpv6Reply, DropReason> {
    let udp = frame::parse_ipv6_udp(packet).map_err(ndp::frame_drop)?;
    if udp.dst_port != SERVER_PORT {
        return Err(DropReason::NotDhcp);
    }
    let r = parse_request(udp.payload)?;
    // RFC 8415 §16: servers discard server messages and (here) relay messages.
    let our_duid = server_duid(ctx.server_mac);
    validate_identifiers(&r, &our_duid)?;
    // Replies go to the client's (link-local) unicast source.
    if udp.ip.src.is_unspecified() || udp.ip.src.is_multicast() {
        return Err(DropReason::Invalid);
    }
    // Anti-spoofing rests on the frame's source MAC (here) and on the reply
    // leaving through the request's own tap; the Client Identifier is not
    // compared with the binding's MAC. RFC 8415 §11: "Clients and servers
    // MUST treat DUIDs as opaque values and MUST only compare DUIDs for
    // equality." A DUID names the device, not the interface: a guest with
    // two NICs sends one DUID-LLT, made from one NIC's MAC, on both.
    ndp::check_guest_mac(ctx, None)?;
    if !ctx.config.ipv6.enabled {
        return Err(DropReason::Disabled);
    }
    if r.msg_type != msg::INFORMATION_REQUEST
        && ctx.config.ipv6.mode != Ipv6Mode::Dhcpv6
        && !delegates(&r)
    {
        return Err(DropReason::Disabled);
    }
    let mut reply = Dhcpv6Reply {
        eth_src: ctx.server_mac,
        eth_dst: ctx.src_mac.unwrap_or(ctx.binding.mac),
        src: ndp::router_link_local(ctx),
        dst: udp.ip.src,
        msg_type: ReplyType::Reply,
        xid: r.xid,
        server_id: our_duid,
        // RFC 8415 §18.3: the Client Identifier is echoed.
        client_id: r.client_id.map(<[u8]>::to_vec),
        rapid_commit: false,
        status: None,
        ia_na: Vec::new(),
        ia_ta: Vec::new(),
        ia_pd: Vec::new(),
        dns_servers: Vec::new(),
        domains: Vec::new(),
        ntp_servers: Vec::new(),
        raw_options: Vec::new(),
        bootfile_url: None,
    };
    match r.msg_type {
        msg::CONFIRM => confirm(ctx, &r, &mut reply)?,
        msg::RELEASE | msg::DECLINE => release(ctx, &r, &mut reply),
        msg::INFORMATION_REQUEST => add_config_options(ctx, &r, &mut reply),
        _ => assign(ctx, &r, &mut reply),
    }
    // Never more than the link takes. Not reached: with the IA limit, what
    // `fit` keeps is at most a few hundred bytes; refused all the same.
    if !reply.fit(budget(ctx)) {
        return Err(DropReason::Invalid);
    }
    Ok(reply)
}

/// Solicit, Request, Renew, Rebind: IAs plus configuration options.
fn assign(ctx: &Context<'_>, r: &Request<'_>, reply: &mut Dhcpv6Reply) {
    let o = offer(ctx);
    if r.msg_type == msg::SOLICIT {
        let delegated = !o.prefixes.is_empty() && !r.ia_pd.is_empty();
        if o.addr.is_none() && !r.ia_na.is_empty() && !delegated {
            // RFC 8415 §18.3.9: "If the server will not assign any addresses to
            // any IA_NAs in a subsequent Request … the server MUST send an
            // Advertise message … that includes only a Status Code option with
            // code NoAddrsAvail", a Server Identifier and a Client Identifier.
            // (When a prefix is delegated, the IA_NAs say NoAddrsAvail each.)
            reply.msg_type = ReplyType::Advertise;
            reply.status = Some(Status::NoAddrsAvail);
            return;
        }
        // RFC 8415 §18.3.1: a Rapid Commit Solicit gets a committed Reply
        // carrying a Rapid Commit option; otherwise an Advertise.
        if r.rapid_commit {
            reply.rapid_commit = true;
        } else {
            reply.msg_type = ReplyType::Advertise;
        }
    }
    reply.ia_na = r
        .ia_na
        .iter()
        .map(|ia| answer_ia(ctx, &o, ia, r.msg_type))
        .collect();
    reply.ia_ta = r.ia_ta.clone();
    let holder = holder(&o, r);
    reply.ia_pd = r
        .ia_pd
        .iter()
        .enumerate()
        .map(|(i, ia)| answer_pd(&o, ia, i == holder, r.msg_type))
        .collect();
    add_config_options(ctx, r, reply);
}

/// Confirm (RFC 8415 §18.3.3): Success when every address is ours, else
/// NotOnLink. Only the addresses of IA_NAs are tested: a Confirm is about
/// addresses (§18.3.3: "whether the addresses in the Confirm message are
/// appropriate for the link"), IA_PDs in it are ignored, and a Confirm
/// with no address gets no reply. A client holding delegated prefixes
/// checks them with a Rebind instead (§18.2.12; ISC dhclient does).
fn confirm(ctx: &Context<'_>, r: &Request<'_>, reply: &mut Dhcpv6Reply) -> Result<(), DropReason> {
    let addrs: Vec<Ipv6Addr> = r
        .ia_na
        .iter()
        .flat_map(|ia| ia.addrs.iter().copied())
        .collect();
    // RFC 8415 §18.3.3: "If the server is unable to perform this test … or there
    // were no addresses in any of the IAs sent by the client, the server MUST
    // NOT send a reply to the client."
    if ctx.binding.subnet6.is_none() && ctx.binding.dhcpv6_address().is_none() {
        return Err(DropReason::NotConfigured);
    }
    if addrs.is_empty() {
        return Err(DropReason::Invalid);
    }
    let ours = ctx.binding.dhcpv6_address();
    reply.status = Some(if addrs.iter().all(|a| Some(*a) == ours) {
        Status::Success
    } else {
        Status::NotOnLink
    });
    Ok(())
}

/// Release / Decline (RFC 8415 §18.3.7, §18.3.8): Success; IAs we hold no
/// binding for (an address or prefix not ours) are listed with NoBinding.
/// A Decline is about addresses (§18.2.8): its IA_PDs are ignored.
fn release(ctx: &Context<'_>, r: &Request<'_>, reply: &mut Dhcpv6Reply) {
    let o = offer(ctx);
    let ours = o.addr;
    reply.status = Some(Status::Success);
    if r.msg_type == msg::RELEASE {
        reply.ia_pd = pd::release(&o, r);
    }
    reply.ia_na = r
        .ia_na
        .iter()
        .filter(|ia| ours.is_none() || ia.addrs.iter().any(|a| Some(*a) != ours))
        .map(|ia| IaNa {
            iaid: ia.iaid,
            t1: 0,
            t2: 0,
            addrs: Vec::new(),
            status: Some(Status::NoBinding),
        })
        .collect();
}

/// DNS servers (23) and search list (24): when the ORO asks, or when no
/// ORO was sent; NTP servers (56): when the ORO asks. Each from the
/// binding (`NAMESERVERS6`, `DOMAINS`, `NTP6`), else from the config.
/// The boot file URL (59): the binding's `BOOTFILE6`, else the config's
/// `bootfile6`, when the ORO asks.
/// Then the binding's `OPTION6_<code>` and the config's `[options]` it does
/// not override: when the ORO asks (RFC 8415 §21.7), or always when so
/// marked (§18.3: "the server MAY return additional options").
fn add_config_options(ctx: &Context<'_>, r: &Request<'_>, reply: &mut Dhcpv6Reply) {
    let asked = |code: u16| r.oro.as_ref().is_some_and(|o| o.contains(&code));
    let wants = |code: u16| r.oro.is_none() || asked(code);
    let (b, v6) = (ctx.binding, &ctx.config.ipv6);
    if wants(opt::DNS_SERVERS) {
        reply.dns_servers = b.nameservers6(&v6.nameservers).to_vec();
    }
    if asked(opt::NTP_SERVER) {
        reply.ntp_servers = b.ntp6(&v6.ntp).to_vec();
    }
    // RFC 5970 §3.1 and RFC 8415 §21.7: the boot file URL goes to a
    // client whose ORO asks for it (a network boot client), never unasked.
    if asked(opt::BOOTFILE_URL) {
        let own = b.boot.as_ref().and_then(|boot| boot.file6.as_ref());
        reply.bootfile_url = own.or(v6.bootfile6.as_ref()).cloned();
    }
    if wants(opt::DOMAIN_LIST) {
        reply.domains = b
            .domains(&v6.domains)
            .iter()
            .filter(|d| encode_domain_name(d).is_some())
            .map(|d| d.strip_suffix('.').unwrap_or(d).to_string())
            .collect();
    }
    for (code, always, data) in effective(&b.options.v6, &ctx.config.options.v6) {
        if always || asked(code) {
            reply.raw_options.push((code, data.to_vec()));
        }
    }
}

/// Answers a DHCPv6 client message (the packet as NFQUEUE delivers it).
pub fn handle(ctx: &Context<'_>, packet: &[u8]) -> Outcome {
    let reply = match decide(ctx, packet) {
        Ok(reply) => reply,
        Err(reason) => return Outcome::Dropped(reason),
    };
    match reply.emit() {
        Ok(frame) => Outcome::Reply(Reply {
            kind: match reply.msg_type {
                ReplyType::Advertise => ReplyKind::Advertise,
                ReplyType::Reply => ReplyKind::Dhcpv6Reply,
            },
            frame,
        }),
        // Not reached after `fit` (see `decide`); never sent truncated.
        Err(_) => Outcome::Dropped(DropReason::Invalid),
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod size_tests;

#[cfg(test)]
mod pd_tests;
