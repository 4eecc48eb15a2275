//! The typical requests `explain` puts through the responder, built with
//! dhcproto (an encoder independent of ours) and framed as the VM would
//! send them, then cut to the IP packet a queue delivers.

use std::net::{Ipv4Addr, Ipv6Addr};

use dhcproto::{v4, v6, Encodable, Encoder};

use crate::mac::MacAddr;
use crate::proto::frame;

/// The parameter request list of Debian's dhclient.conf (subnet mask,
/// broadcast, time offset, routers, domain name, DNS, search list, host
/// name, NetBIOS name servers and scope, MTU, classless routes, NTP): a
/// superset of udhcpc's and systemd-networkd's common requests.
pub const DHCPV4_PRL: [u8; 13] = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

/// The options a DHCPv6 client asks for: DNS servers (23), search list
/// (24), NTP servers (56).
pub const DHCPV6_ORO: [u16; 3] = [23, 24, 56];

/// The transaction id of every explained DHCPv4 request.
const XID4: u32 = 0x6e66_6468;
/// The transaction id of every explained DHCPv6 request.
const XID6: [u8; 3] = [0x6e, 0x66, 0x64];
/// The IAID of the explained IA_NA.
pub const IAID_NA: u32 = 1;
/// The IAID of the explained IA_PD.
pub const IAID_PD: u32 = 2;
/// Hop limit of every Neighbour Discovery message (RFC 4861 §6.1.1).
const ND_HOP_LIMIT: u8 = 255;
/// ICMPv6 type of a Router Solicitation (RFC 4861 §4.1).
const ROUTER_SOLICIT: u8 = 133;
/// NDP option: source link-layer address (RFC 4861 §4.6.1).
const OPT_SOURCE_LLA: u8 = 1;
/// All-routers multicast (RFC 4291 §2.7.1).
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// All DHCP relay agents and servers (RFC 8415 §7.1).
const ALL_DHCP_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// DHCPv4 option 66, the TFTP server name (RFC 2132 §9.4).
pub const TFTP_SERVER_NAME: u8 = 66;
/// DHCPv4 option 67, the boot file name (RFC 2132 §9.5).
pub const BOOTFILE_NAME: u8 = 67;
/// DHCPv4 option 108, IPv6-Only Preferred (RFC 8925 §3.1).
pub const IPV6_ONLY_PREFERRED: u8 = 108;
/// DHCPv6 option 59, the boot file URL (RFC 5970 §3.1).
pub const BOOTFILE_URL: u16 = 59;

/// A network boot firmware, as `explain` shows what each would be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootClient {
    /// A PC BIOS PXE ROM (architecture 0).
    BiosPxe,
    /// A UEFI x64 PXE client (architecture 7).
    UefiPxe,
    /// iPXE on UEFI x64 (user class "iPXE").
    Ipxe,
    /// A UEFI x64 HTTP boot client (vendor class "HTTPClient", architecture 16).
    UefiHttp,
}

impl BootClient {
    /// All of them, in the order shown.
    pub const ALL: [BootClient; 4] = [
        BootClient::BiosPxe,
        BootClient::UefiPxe,
        BootClient::Ipxe,
        BootClient::UefiHttp,
    ];

    /// The client in words, for the request's line.
    pub fn label(self) -> &'static str {
        match self {
            BootClient::BiosPxe => "a BIOS PXE client (vendor class PXEClient, arch 0)",
            BootClient::UefiPxe => "a UEFI PXE client (vendor class PXEClient, arch 7)",
            BootClient::Ipxe => "iPXE (user class iPXE, arch 7)",
            BootClient::UefiHttp => "a UEFI HTTP boot client (vendor class HTTPClient, arch 16)",
        }
    }

    /// Option 60 (RFC 2132 §9.13), as the firmware sends it (PXE 2.1
    /// §2.2.5, UEFI 2.x §24.7.2).
    fn vendor_class(self) -> &'static [u8] {
        match self {
            BootClient::BiosPxe => b"PXEClient:Arch:00000:UNDI:002001",
            BootClient::UefiPxe | BootClient::Ipxe => b"PXEClient:Arch:00007:UNDI:003016",
            BootClient::UefiHttp => b"HTTPClient:Arch:00016:UNDI:003001",
        }
    }

    /// Option 93, the client architecture type (RFC 4578 §2.1).
    fn arch(self) -> u16 {
        match self {
            BootClient::BiosPxe => 0,
            BootClient::UefiPxe | BootClient::Ipxe => 7,
            BootClient::UefiHttp => 16,
        }
    }
}

/// What a DHCPv4 request asks beyond the typical client's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask4<'a> {
    /// Codes added to the parameter request list.
    pub more: &'a [u8],
    /// The boot firmware sending it (options 60, 77, 93, and 66, 67 asked).
    pub boot: Option<BootClient>,
}

/// A DHCPv4 request from `mac`: a DISCOVER, or with `select` (the offered
/// address and the server identifier) the REQUEST of the SELECTING state.
pub fn dhcpv4(mac: MacAddr, select: Option<(Ipv4Addr, Ipv4Addr)>) -> Vec<u8> {
    dhcpv4_asking(mac, select, Ask4::default())
}

/// [`dhcpv4`], asking for more (`ask`).
pub fn dhcpv4_asking(mac: MacAddr, select: Option<(Ipv4Addr, Ipv4Addr)>, ask: Ask4<'_>) -> Vec<u8> {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut m = v4::Message::new_with_id(XID4, z, z, z, z, &mac.0);
    let opts = m.opts_mut();
    let boot_codes: &[u8] = match ask.boot {
        Some(_) => &[TFTP_SERVER_NAME, BOOTFILE_NAME],
        None => &[],
    };
    let prl = DHCPV4_PRL
        .iter()
        .chain(ask.more)
        .chain(boot_codes)
        .map(|&c| v4::OptionCode::from(c))
        .collect();
    opts.insert(v4::DhcpOption::ParameterRequestList(prl));
    if let Some(client) = ask.boot {
        opts.insert(v4::DhcpOption::ClassIdentifier(
            client.vendor_class().to_vec(),
        ));
        opts.insert(v4::DhcpOption::ClientSystemArchitecture(
            client.arch().into(),
        ));
        if client == BootClient::Ipxe {
            opts.insert(v4::DhcpOption::UserClass(b"iPXE".to_vec()));
        }
    }
    match select {
        None => {
            opts.insert(v4::DhcpOption::MessageType(v4::MessageType::Discover));
        }
        Some((ip, server)) => {
            opts.insert(v4::DhcpOption::MessageType(v4::MessageType::Request));
            opts.insert(v4::DhcpOption::RequestedIpAddress(ip));
            opts.insert(v4::DhcpOption::ServerIdentifier(server));
        }
    }
    let payload = encode(&m);
    let f = frame::emit_ipv4_udp(
        mac,
        MacAddr::BROADCAST,
        z,
        Ipv4Addr::BROADCAST,
        68,
        67,
        &payload,
    )
    .expect("a DHCPv4 request is far below 64 KiB");
    ip_packet(f)
}

/// A Router Solicitation from `mac`'s EUI-64 link-local address, with its
/// source link-layer address option.
pub fn router_solicit(mac: MacAddr) -> Vec<u8> {
    let mut icmp = vec![ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0, OPT_SOURCE_LLA, 1];
    icmp.extend_from_slice(&mac.0);
    let f = frame::emit_ipv6_icmp(
        mac,
        MacAddr([0x33, 0x33, 0, 0, 0, 2]),
        mac.link_local(),
        ALL_ROUTERS,
        ND_HOP_LIMIT,
        &icmp,
    )
    .expect("an RS is far below 64 KiB");
    ip_packet(f)
}

/// What a DHCPv6 request asks for.
#[derive(Debug, Clone, Default)]
pub struct Ask6 {
    /// An IA_NA (mode `dhcpv6`).
    pub address: bool,
    /// An IA_PD (the binding delegates prefixes).
    pub prefixes: bool,
    /// For a Request: the server's DUID and the IAs of its Advertise.
    pub advertised: Option<(Vec<u8>, Vec<v6::DhcpOption>)>,
    /// Codes added to the Option Request option.
    pub more: Vec<u16>,
}

/// A DHCPv6 message from `mac`: Information-Request when nothing is asked,
/// Solicit for an address or prefixes, Request once `advertised`.
pub fn dhcpv6(mac: MacAddr, ask: &Ask6) -> Vec<u8> {
    let t = match (&ask.advertised, ask.address || ask.prefixes) {
        (Some(_), _) => v6::MessageType::Request,
        (None, true) => v6::MessageType::Solicit,
        (None, false) => v6::MessageType::InformationRequest,
    };
    let mut m = v6::Message::new_with_id(t, XID6);
    let opts = m.opts_mut();
    // RFC 8415 §11.2: DUID-LL, hardware type 1 (Ethernet).
    let mut duid = vec![0, 3, 0, 1];
    duid.extend_from_slice(&mac.0);
    opts.insert(v6::DhcpOption::ClientId(duid));
    opts.insert(v6::DhcpOption::ElapsedTime(0));
    opts.insert(v6::DhcpOption::ORO(v6::ORO {
        opts: DHCPV6_ORO
            .iter()
            .chain(&ask.more)
            .map(|&c| v6::OptionCode::from(c))
            .collect(),
    }));
    match &ask.advertised {
        Some((server, ias)) => {
            opts.insert(v6::DhcpOption::ServerId(server.clone()));
            for ia in ias {
                opts.insert(ia.clone());
            }
        }
        None => {
            if ask.address {
                opts.insert(v6::DhcpOption::IANA(v6::IANA {
                    id: IAID_NA,
                    t1: 0,
                    t2: 0,
                    opts: v6::DhcpOptions::new(),
                }));
            }
            if ask.prefixes {
                opts.insert(v6::DhcpOption::IAPD(v6::IAPD {
                    id: IAID_PD,
                    t1: 0,
                    t2: 0,
                    opts: v6::DhcpOptions::new(),
                }));
            }
        }
    }
    let payload = encode(&m);
    let f = frame::emit_ipv6_udp(
        mac,
        MacAddr([0x33, 0x33, 0, 1, 0, 2]),
        mac.link_local(),
        ALL_DHCP_SERVERS,
        546,
        547,
        &payload,
    )
    .expect("a DHCPv6 request is far below 64 KiB");
    ip_packet(f)
}

/// Encodes a dhcproto message.
fn encode(m: &impl Encodable) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut Encoder::new(&mut out))
        .expect("encoding into a Vec cannot fail");
    out
}

/// The IP packet of a frame, as NFQUEUE delivers it.
fn ip_packet(mut f: Vec<u8>) -> Vec<u8> {
    f.drain(..frame::ETH_HDR_LEN);
    f
}
