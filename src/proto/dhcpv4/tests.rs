//! Golden tests on replies, decoded by dhcproto (an independent decoder)
//! into typed values. Bindings and config carry the values of the compat
//! fixtures (../shared/compat/bindings/tap-routed, tap-private,
//! ../shared/compat/nfdhcpd.conf), built by hand.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Flags, HType, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder, Name};

use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::mac::MacAddr;
use crate::proto::frame::ip_of_frame;

pub(super) const SERVER_MAC: MacAddr = MacAddr([0xfe, 0, 0, 0, 0, 0x01]);
pub(super) const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
pub(super) const VM_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const OTHER_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x66]);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const RELAY_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x77]);
const XID: u32 = 0x1234_5678;

/// ../shared/compat/nfdhcpd.conf
pub(super) fn config() -> Config {
    let mut c = Config::default();
    c.dhcp.lease_lifetime = 604_800;
    c.dhcp.lease_renewal = 3_600;
    c.dhcp.server_ip = Some(SERVER_IP);
    c.dhcp.server_on_link = false;
    c.dhcp.nameservers = vec![
        Ipv4Addr::new(192, 0, 2, 53),
        Ipv4Addr::new(198, 51, 100, 53),
    ];
    c.dhcp.domain = Some("vm.example.org".into());
    c.ipv6.domains = vec!["vm.example.org".into(), "example.org".into()];
    c
}

/// ../shared/compat/bindings/tap-routed
pub(super) fn routed() -> Binding {
    let mut b = Binding::new("tap-routed", "aa:00:00:00:00:10".parse().unwrap());
    b.ip = Some(VM_IP);
    b.subnet = Some("192.0.2.0/24".parse().unwrap());
    b.gateway = Some(GATEWAY);
    b.hostname = Some("web1".into());
    b.subnet6 = Some("2001:db8:1::/64".parse().unwrap());
    b.gateway6 = Some("2001:db8:1::1".parse().unwrap());
    b.eui64 = Some("2001:db8:1::a800:ff:fe00:10".parse().unwrap());
    b.tags = vec!["nfdhcpd".into(), "ip-less-routed".into()];
    b
}

/// ../shared/compat/bindings/tap-private
pub(super) fn private() -> Binding {
    let mut b = Binding::new("tap-private", "aa:00:00:00:00:05".parse().unwrap());
    b.ip = Some(Ipv4Addr::new(203, 0, 113, 5));
    b.subnet = Some("203.0.113.0/24".parse().unwrap());
    b.hostname = Some("worker5".into());
    b.mtu = Some(1450);
    b.private = true;
    b.subnet6 = Some("2001:db8:99::/64".parse().unwrap());
    b.eui64 = Some("2001:db8:99::a800:ff:fe00:5".parse().unwrap());
    b
}

pub(super) fn ctx<'a>(config: &'a Config, binding: &'a Binding) -> Context<'a> {
    Context {
        config,
        binding,
        server_mac: SERVER_MAC,
        src_mac: Some(binding.mac),
    }
}

/// A client message of `mt` from `mac`, with the given options.
pub(super) fn msg(mt: MessageType, mac: MacAddr, opts: Vec<DhcpOption>) -> Message {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(XID, z, z, z, z, &mac.0);
    m.set_secs(3);
    m.opts_mut().insert(DhcpOption::MessageType(mt));
    for o in opts {
        m.opts_mut().insert(o);
    }
    m
}

/// The IPv4 packet NFQUEUE would deliver for `m`, sent from `src`.
pub(super) fn packet(m: &Message, src: Ipv4Addr) -> Vec<u8> {
    let mut payload = Vec::new();
    m.encode(&mut Encoder::new(&mut payload)).unwrap();
    udp_packet(&payload, src)
}

/// The IPv4 packet NFQUEUE would deliver for a DHCP `payload` sent from
/// `src` to the broadcast address.
pub(super) fn udp_packet(payload: &[u8], src: Ipv4Addr) -> Vec<u8> {
    let dst = Ipv4Addr::BROADCAST;
    let f = frame::emit_ipv4_udp(OTHER_MAC, MacAddr::BROADCAST, src, dst, 68, 67, payload).unwrap();
    ip_of_frame(&f).unwrap().to_vec()
}

/// The outcome of `m` sent from its ciaddr (else 0.0.0.0).
fn run(ctx: &Context<'_>, m: &Message) -> Outcome {
    let src = if m.ciaddr().is_unspecified() {
        Ipv4Addr::UNSPECIFIED
    } else {
        m.ciaddr()
    };
    handle(ctx, &packet(m, src))
}

/// A reply frame as dhcproto reads it, with its addressing.
#[derive(Debug)]
pub(super) struct Answer {
    /// OFFER, ACK or NAK.
    pub kind: ReplyKind,
    /// The whole DHCP message.
    pub message: Message,
    /// Its options in wire order (pieces of a split option joined).
    pub options: Vec<DhcpOption>,
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// IP source.
    pub ip_src: Ipv4Addr,
    /// IP destination.
    pub ip_dst: Ipv4Addr,
    /// UDP destination port.
    pub udp_dst: u16,
    /// The DHCP payload.
    pub payload: Vec<u8>,
}

impl Answer {
    /// Decodes a reply frame.
    pub(super) fn of(reply: &Reply) -> Answer {
        let ip = ip_of_frame(&reply.frame).expect("an IPv4 frame");
        let udp = frame::parse_ipv4_udp(ip).expect("an IPv4/UDP packet");
        assert_eq!(udp.src_port, SERVER_PORT);
        let message =
            Message::decode(&mut Decoder::new(udp.payload)).expect("dhcproto decodes the reply");
        let options = wire_codes(udp.payload)
            .into_iter()
            .map(|c| message.opts().get(c).expect("decoded").clone())
            .collect();
        Answer {
            kind: reply.kind,
            message,
            options,
            eth_dst: frame::eth_dst(&reply.frame).expect("an Ethernet frame"),
            ip_src: udp.src,
            ip_dst: udp.dst,
            udp_dst: udp.dst_port,
            payload: udp.payload.to_vec(),
        }
    }

    /// The option with this code, if the reply carries it.
    pub(super) fn option(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.options.iter().find(|o| OptionCode::from(*o) == code)
    }

    /// The option codes in wire order.
    pub(super) fn codes(&self) -> Vec<OptionCode> {
        self.options.iter().map(OptionCode::from).collect()
    }
}

/// The raw options of a DHCP payload in wire order: (code, data) of each
/// piece, up to End; then only padding.
fn wire_options(payload: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut at = field::OPTIONS;
    loop {
        match payload[at] {
            0 => at += 1,
            255 => break,
            code => {
                let len = usize::from(payload[at + 1]);
                out.push((code, &payload[at + 2..at + 2 + len]));
                at += 2 + len;
            }
        }
    }
    assert!(
        payload[at + 1..].iter().all(|&b| b == 0),
        "only pads after End"
    );
    out
}

/// The option codes of a payload in wire order, each once: the pieces of
/// an option split in several (RFC 3396) must be adjacent.
fn wire_codes(payload: &[u8]) -> Vec<OptionCode> {
    let mut codes: Vec<u8> = wire_options(payload).iter().map(|&(c, _)| c).collect();
    codes.dedup();
    let mut seen = codes.clone();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        codes.len(),
        "an option twice on the wire: {codes:?}"
    );
    codes.into_iter().map(OptionCode::from).collect()
}

fn answer(ctx: &Context<'_>, m: &Message) -> Answer {
    match run(ctx, m) {
        Outcome::Reply(r) => Answer::of(&r),
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn routed_answer(m: &Message) -> Answer {
    let (c, b) = (config(), routed());
    answer(&ctx(&c, &b), m)
}

fn vm_mac() -> MacAddr {
    routed().mac
}

fn discover() -> Message {
    msg(MessageType::Discover, vm_mac(), vec![])
}

pub(super) fn selecting(requested: Ipv4Addr) -> Message {
    msg(
        MessageType::Request,
        vm_mac(),
        vec![
            DhcpOption::RequestedIpAddress(requested),
            DhcpOption::ServerIdentifier(SERVER_IP),
        ],
    )
}

fn renewing(ciaddr: Ipv4Addr) -> Message {
    let mut m = msg(MessageType::Request, vm_mac(), vec![]);
    m.set_ciaddr(ciaddr);
    m
}

fn search_names() -> Vec<Name> {
    ["vm.example.org.", "example.org."]
        .iter()
        .map(|n| Name::from_ascii(n).unwrap())
        .collect()
}

/// Everything the routed binding gets, in our default order (no option 55).
fn routed_lease_options(mt: MessageType) -> Vec<DhcpOption> {
    vec![
        DhcpOption::MessageType(mt),
        DhcpOption::ServerIdentifier(SERVER_IP),
        DhcpOption::AddressLeaseTime(604_800),
        DhcpOption::Renewal(3_600),
        DhcpOption::Rebinding(529_200),
        DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
        DhcpOption::Router(vec![GATEWAY]),
        DhcpOption::DomainNameServer(vec![
            Ipv4Addr::new(192, 0, 2, 53),
            Ipv4Addr::new(198, 51, 100, 53),
        ]),
        DhcpOption::BroadcastAddr(Ipv4Addr::new(192, 0, 2, 255)),
        DhcpOption::DomainName("vm.example.org".into()),
        DhcpOption::Hostname("web1".into()),
        DhcpOption::DomainSearch(search_names()),
    ]
}

#[test]
fn discover_gets_offer_with_every_option() {
    let a = routed_answer(&discover());
    assert_eq!(a.kind, ReplyKind::Offer);
    assert_eq!(a.options, routed_lease_options(MessageType::Offer));
    let m = &a.message;
    assert_eq!(m.opcode(), Opcode::BootReply);
    assert_eq!(m.xid(), XID);
    assert_eq!(m.yiaddr(), VM_IP);
    assert_eq!(m.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.siaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.giaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.chaddr(), &vm_mac().0);
    assert_eq!((m.hops(), m.secs()), (0, 0));
}

#[test]
fn offer_is_unicast_to_yiaddr_and_chaddr_without_broadcast_flag() {
    let a = routed_answer(&discover());
    assert_eq!(
        (a.eth_dst, a.ip_src, a.ip_dst, a.udp_dst),
        (vm_mac(), SERVER_IP, VM_IP, CLIENT_PORT)
    );
}

#[test]
fn broadcast_flag_gets_broadcast() {
    let mut m = discover();
    m.set_flags(Flags::default().set_broadcast());
    let a = routed_answer(&m);
    assert_eq!(
        (a.eth_dst, a.ip_dst, a.udp_dst),
        (MacAddr::BROADCAST, Ipv4Addr::BROADCAST, CLIENT_PORT)
    );
    assert!(a.message.flags().broadcast(), "flags are copied");
}

#[test]
fn request_selecting_gets_ack() {
    let a = routed_answer(&selecting(VM_IP));
    assert_eq!(a.kind, ReplyKind::Ack);
    assert_eq!(a.options, routed_lease_options(MessageType::Ack));
    assert_eq!(a.message.yiaddr(), VM_IP);
    assert_eq!((a.eth_dst, a.ip_dst), (vm_mac(), VM_IP));
}

#[test]
fn request_init_reboot_gets_ack() {
    let m = msg(
        MessageType::Request,
        vm_mac(),
        vec![DhcpOption::RequestedIpAddress(VM_IP)],
    );
    assert_eq!(routed_answer(&m).kind, ReplyKind::Ack);
}

#[test]
fn request_renewing_gets_unicast_ack_with_ciaddr() {
    let a = routed_answer(&renewing(VM_IP));
    assert_eq!(a.kind, ReplyKind::Ack);
    assert_eq!(a.message.ciaddr(), VM_IP);
    assert_eq!(a.message.yiaddr(), VM_IP);
    assert_eq!(
        (a.eth_dst, a.ip_dst, a.udp_dst),
        (vm_mac(), VM_IP, CLIENT_PORT)
    );
}

#[test]
fn request_for_another_address_gets_broadcast_nak() {
    let other = Ipv4Addr::new(192, 0, 2, 99);
    for m in [selecting(other), renewing(other)] {
        let a = routed_answer(&m);
        assert_eq!(a.kind, ReplyKind::Nak);
        assert_eq!(
            a.options,
            vec![
                DhcpOption::MessageType(MessageType::Nak),
                DhcpOption::ServerIdentifier(SERVER_IP),
            ]
        );
        assert_eq!(a.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(a.message.ciaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            (a.eth_dst, a.ip_dst, a.udp_dst),
            (MacAddr::BROADCAST, Ipv4Addr::BROADCAST, CLIENT_PORT)
        );
    }
}

#[test]
fn request_to_another_server_is_ignored() {
    let (c, b) = (config(), routed());
    let m = msg(
        MessageType::Request,
        vm_mac(),
        vec![
            DhcpOption::RequestedIpAddress(VM_IP),
            DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 250)),
        ],
    );
    assert_eq!(
        run(&ctx(&c, &b), &m),
        Outcome::Dropped(DropReason::OtherServer)
    );
}

#[test]
fn request_without_any_address_is_invalid() {
    let (c, b) = (config(), routed());
    let m = msg(MessageType::Request, vm_mac(), vec![]);
    assert_eq!(run(&ctx(&c, &b), &m), Outcome::Dropped(DropReason::Invalid));
}

#[test]
fn inform_gets_ack_without_lease_fields_unicast_to_ciaddr() {
    let mut m = msg(MessageType::Inform, vm_mac(), vec![]);
    m.set_ciaddr(VM_IP);
    let a = routed_answer(&m);
    assert_eq!(a.kind, ReplyKind::Ack);
    assert_eq!(a.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(a.message.ciaddr(), VM_IP);
    let lease = [
        OptionCode::AddressLeaseTime,
        OptionCode::Renewal,
        OptionCode::Rebinding,
    ];
    assert!(a.codes().iter().all(|c| !lease.contains(c)), "{a:?}");
    assert_eq!(
        a.option(OptionCode::Router),
        Some(&DhcpOption::Router(vec![GATEWAY]))
    );
    assert_eq!(
        (a.eth_dst, a.ip_dst, a.udp_dst),
        (vm_mac(), VM_IP, CLIENT_PORT)
    );
}

#[test]
fn release_and_decline_are_consumed() {
    let (c, b) = (config(), routed());
    let ours = vec![DhcpOption::ServerIdentifier(SERVER_IP)];
    let mut rel = msg(MessageType::Release, vm_mac(), ours.clone());
    rel.set_ciaddr(VM_IP);
    let dec = msg(
        MessageType::Decline,
        vm_mac(),
        vec![
            DhcpOption::ServerIdentifier(SERVER_IP),
            DhcpOption::RequestedIpAddress(VM_IP),
        ],
    );
    let cx = ctx(&c, &b);
    assert_eq!(run(&cx, &rel), Outcome::Consumed(Consumed::Release));
    assert_eq!(run(&cx, &dec), Outcome::Consumed(Consumed::Decline));
    assert_eq!(
        handle(&cx, &packet(&rel, VM_IP)),
        Outcome::Consumed(Consumed::Release)
    );
    let theirs = vec![DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 250))];
    let rel = msg(MessageType::Release, vm_mac(), theirs);
    assert_eq!(run(&cx, &rel), Outcome::Dropped(DropReason::OtherServer));
}

#[test]
fn rapid_commit_discover_gets_ack_with_option_80() {
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![DhcpOption::RapidCommit],
    );
    let a = routed_answer(&m);
    assert_eq!(a.kind, ReplyKind::Ack);
    assert_eq!(a.message.yiaddr(), VM_IP);
    assert_eq!(
        a.codes()[..3],
        [
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::RapidCommit
        ]
    );
    assert_eq!(
        a.option(OptionCode::MessageType),
        Some(&DhcpOption::MessageType(MessageType::Ack))
    );
    assert_eq!(
        a.option(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(604_800))
    );
}

#[test]
fn other_message_types_are_unsupported() {
    let (c, b) = (config(), routed());
    for mt in [MessageType::Offer, MessageType::Ack, MessageType::Nak] {
        let m = msg(mt, vm_mac(), vec![]);
        assert_eq!(
            run(&ctx(&c, &b), &m),
            Outcome::Dropped(DropReason::UnsupportedMessage),
            "{mt:?}"
        );
    }
}

#[test]
fn binding_without_ip_or_server_is_not_configured() {
    let c = config();
    let mut b = routed();
    b.ip = None;
    assert_eq!(
        run(&ctx(&c, &b), &discover()),
        Outcome::Dropped(DropReason::NotConfigured)
    );
    let mut c = config();
    c.dhcp.server_ip = None;
    let b = routed();
    assert_eq!(
        run(&ctx(&c, &b), &discover()),
        Outcome::Dropped(DropReason::NotConfigured)
    );
}

#[test]
fn server_on_link_uses_gateway_else_first_subnet_address() {
    let mut c = config();
    c.dhcp.server_on_link = true;
    let b = routed();
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(a.ip_src, GATEWAY);
    assert_eq!(
        a.option(OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(GATEWAY))
    );
    let p = private();
    let a = answer(&ctx(&c, &p), &msg(MessageType::Discover, p.mac, vec![]));
    assert_eq!(a.ip_src, Ipv4Addr::new(203, 0, 113, 1));
    // The REQUEST that follows names that server: it is ours.
    let req = msg(
        MessageType::Request,
        b.mac,
        vec![
            DhcpOption::RequestedIpAddress(VM_IP),
            DhcpOption::ServerIdentifier(GATEWAY),
        ],
    );
    assert_eq!(answer(&ctx(&c, &b), &req).kind, ReplyKind::Ack);
}

#[test]
fn spoofed_chaddr_or_source_mac_is_dropped() {
    let (c, b) = (config(), routed());
    let spoofed = msg(MessageType::Discover, OTHER_MAC, vec![]);
    assert_eq!(
        run(&ctx(&c, &b), &spoofed),
        Outcome::Dropped(DropReason::SpoofedMac)
    );
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    assert_eq!(
        run(&cx, &discover()),
        Outcome::Dropped(DropReason::SpoofedMac)
    );
    let mut not_eth = discover();
    not_eth.set_htype(HType::from(6));
    assert_eq!(
        run(&ctx(&c, &b), &not_eth),
        Outcome::Dropped(DropReason::SpoofedMac)
    );
    // Unknown frame source: chaddr alone decides.
    cx.src_mac = None;
    assert!(matches!(run(&cx, &discover()), Outcome::Reply(_)));
}

#[test]
fn macspoof_binding_accepts_other_macs_and_answers_them() {
    let c = config();
    let mut b = routed();
    b.macspoof = true;
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    let a = answer(&cx, &msg(MessageType::Discover, OTHER_MAC, vec![]));
    assert_eq!(a.kind, ReplyKind::Offer);
    assert_eq!(a.message.chaddr(), &OTHER_MAC.0);
    assert_eq!(a.eth_dst, OTHER_MAC);
}

#[test]
fn relayed_request_goes_to_giaddr_port_67() {
    let (c, b) = (config(), routed());
    let mut cx = ctx(&c, &b);
    cx.src_mac = None;
    let mut m = selecting(VM_IP);
    m.set_giaddr(RELAY);
    let a = answer(&cx, &m);
    assert_eq!(a.kind, ReplyKind::Ack);
    assert_eq!(a.message.giaddr(), RELAY);
    // No frame source known: chaddr.
    assert_eq!(
        (a.eth_dst, a.ip_dst, a.udp_dst),
        (vm_mac(), RELAY, SERVER_PORT)
    );
    // RFC 2131 §4.3.2: a relayed NAK goes to the relay, broadcast bit set.
    let mut nak = selecting(Ipv4Addr::new(192, 0, 2, 99));
    nak.set_giaddr(RELAY);
    let a = answer(&cx, &nak);
    assert_eq!(a.kind, ReplyKind::Nak);
    assert!(a.message.flags().broadcast());
    assert_eq!((a.ip_dst, a.udp_dst), (RELAY, SERVER_PORT));
}

#[test]
fn relayed_reply_goes_to_the_frame_source_mac() {
    // With MACSPOOF the relay's own MAC may be the frame source.
    let c = config();
    let mut b = routed();
    b.macspoof = true;
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(RELAY_MAC);
    let mut m = discover();
    m.set_giaddr(RELAY);
    let a = answer(&cx, &m);
    assert_eq!((a.eth_dst, a.ip_dst), (RELAY_MAC, RELAY));
}

#[test]
fn private_binding_has_no_router_and_its_mtu() {
    let (c, b) = (config(), private());
    let m = msg(
        MessageType::Discover,
        b.mac,
        vec![DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::ClasslessStaticRoute,
            OptionCode::InterfaceMtu,
        ])],
    );
    let a = answer(&ctx(&c, &b), &m);
    assert_eq!(a.message.yiaddr(), Ipv4Addr::new(203, 0, 113, 5));
    assert_eq!(a.option(OptionCode::Router), None);
    assert_eq!(a.option(OptionCode::ClasslessStaticRoute), None);
    assert_eq!(
        a.option(OptionCode::InterfaceMtu),
        Some(&DhcpOption::InterfaceMtu(1450))
    );
    assert_eq!(
        a.option(OptionCode::Hostname),
        Some(&DhcpOption::Hostname("worker5".into()))
    );
}

#[test]
fn option_121_only_when_asked_and_with_the_default_route() {
    let asks = || {
        msg(
            MessageType::Discover,
            vm_mac(),
            vec![DhcpOption::ParameterRequestList(vec![
                OptionCode::ClasslessStaticRoute,
            ])],
        )
    };
    let a = routed_answer(&discover());
    assert_eq!(a.option(OptionCode::ClasslessStaticRoute), None);
    let a = routed_answer(&asks());
    assert_eq!(
        a.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![(
            "0.0.0.0/0".parse().unwrap(),
            GATEWAY
        )]))
    );
    assert_eq!(a.codes()[2], OptionCode::ClasslessStaticRoute);
    // Router still sent, for clients that do not read 121.
    assert!(a.option(OptionCode::Router).is_some());

    // A gateway outside the subnet gets an on-link host route first.
    let c = config();
    let mut b = routed();
    let far = Ipv4Addr::new(198, 51, 100, 1);
    b.gateway = Some(far);
    let a = answer(&ctx(&c, &b), &asks());
    assert_eq!(
        a.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![
            ("198.51.100.1/32".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
            ("0.0.0.0/0".parse().unwrap(), far),
        ]))
    );
}

#[test]
fn classless_routes_rules() {
    // The routes of option 121's value, as dhcproto decodes them.
    let routes = |subnet, gateway, private| {
        let Some(value) = super::options::classless_routes(subnet, gateway, private, &[]) else {
            return vec![];
        };
        let mut data = vec![0; value.len()];
        value.write(&mut data);
        let mut opt = vec![code::CLASSLESS_ROUTES, data.len() as u8];
        opt.extend_from_slice(&data);
        match DhcpOption::decode(&mut Decoder::new(&opt)) {
            Ok(DhcpOption::ClasslessStaticRoute(r)) => r,
            other => panic!("{other:?}"),
        }
    };
    let net = Some("192.0.2.0/24".parse().unwrap());
    assert_eq!(routes(net, Some(GATEWAY), true), vec![]);
    assert_eq!(routes(net, None, false), vec![]);
    assert_eq!(
        routes(None, Some(GATEWAY), false),
        vec![
            ("192.0.2.1/32".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
            ("0.0.0.0/0".parse().unwrap(), GATEWAY),
        ]
    );
}

/// `ROUTES` of `b`, parsed as from its file.
fn with_routes(mut b: Binding, v: &str) -> Binding {
    b.routes = crate::binding::file::routes::parse(v, &b).unwrap();
    b
}

/// A DISCOVER from `mac` asking for option 121.
fn asks_121_from(mac: MacAddr) -> Message {
    msg(
        MessageType::Discover,
        mac,
        vec![DhcpOption::ParameterRequestList(vec![
            OptionCode::ClasslessStaticRoute,
        ])],
    )
}

/// A DISCOVER from the routed VM asking for option 121.
fn asks_121() -> Message {
    asks_121_from(vm_mac())
}

#[test]
fn binding_routes_follow_the_default_route_in_option_121() {
    let c = config();
    let b = with_routes(
        routed(),
        "198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254",
    );
    let a = answer(&ctx(&c, &b), &asks_121());
    assert_eq!(
        a.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![
            ("0.0.0.0/0".parse().unwrap(), GATEWAY),
            ("198.51.100.0/24".parse().unwrap(), GATEWAY),
            (
                "203.0.113.128/25".parse().unwrap(),
                Ipv4Addr::new(192, 0, 2, 254)
            ),
        ]))
    );
    // Not asked: not sent, ROUTES or not (option 3 stays).
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(a.option(OptionCode::ClasslessStaticRoute), None);
    assert!(a.option(OptionCode::Router).is_some());

    // A gateway outside the subnet: its host route first, the routes via it.
    let mut far = routed();
    far.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
    let far = with_routes(far, "203.0.113.0/24 via 198.51.100.1");
    let a = answer(&ctx(&c, &far), &asks_121());
    assert_eq!(
        a.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![
            ("198.51.100.1/32".parse().unwrap(), Ipv4Addr::UNSPECIFIED),
            ("0.0.0.0/0".parse().unwrap(), Ipv4Addr::new(198, 51, 100, 1)),
            (
                "203.0.113.0/24".parse().unwrap(),
                Ipv4Addr::new(198, 51, 100, 1)
            ),
        ]))
    );
}

#[test]
fn a_private_binding_gets_its_routes_without_a_default_route() {
    let c = config();
    // No GATEWAY: no option 121 before, the routes alone now.
    let b = with_routes(private(), "198.51.100.0/24 via 203.0.113.1");
    let a = answer(&ctx(&c, &b), &asks_121_from(b.mac));
    assert_eq!(
        a.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![(
            "198.51.100.0/24".parse().unwrap(),
            Ipv4Addr::new(203, 0, 113, 1)
        )]))
    );
    assert_eq!(a.option(OptionCode::Router), None);
    assert_eq!(
        answer(&ctx(&c, &private()), &asks_121_from(b.mac))
            .option(OptionCode::ClasslessStaticRoute),
        None
    );
}

#[test]
fn the_most_routes_fit_one_option_in_the_smallest_reply() {
    // 16 routes of 9 bytes, the host and default routes: one option 121
    // of 158 bytes, kept whole within 576 bytes with everything else.
    let c = config();
    let mut b = routed();
    b.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
    let items: Vec<String> = (0..16)
        .map(|i| format!("203.0.113.{i}/32 via 192.0.2.{}", i + 20))
        .collect();
    let b = with_routes(b, &items.join(","));
    let a = answer(&ctx(&c, &b), &asks_121());
    let Some(DhcpOption::ClasslessStaticRoute(r)) = a.option(OptionCode::ClasslessStaticRoute)
    else {
        panic!("no option 121: {:?}", a.codes());
    };
    assert_eq!(r.len(), 18);
    assert_eq!(
        r[17],
        (
            "203.0.113.15/32".parse().unwrap(),
            Ipv4Addr::new(192, 0, 2, 35)
        )
    );
    let wire = wire_options(&a.payload);
    let ours: Vec<_> = wire
        .iter()
        .filter(|(c, _)| *c == code::CLASSLESS_ROUTES)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].1.len(), 158);
}

#[test]
fn parameter_request_list_orders_options() {
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![DhcpOption::ParameterRequestList(vec![
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
            OptionCode::NtpServers, // we have none: skipped
            OptionCode::Router,
            OptionCode::SubnetMask,
        ])],
    );
    let a = routed_answer(&m);
    assert_eq!(
        a.codes(),
        vec![
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
            OptionCode::Router,
            OptionCode::SubnetMask,
            OptionCode::AddressLeaseTime,
            OptionCode::Renewal,
            OptionCode::Rebinding,
            OptionCode::BroadcastAddr,
            OptionCode::DomainName,
            OptionCode::DomainSearch,
        ]
    );
    // The wire order is that order too.
    let bytes = &a.payload;
    let mut at = field::OPTIONS;
    let mut wire = Vec::new();
    while bytes[at] != u8::from(OptionCode::End) {
        wire.push(OptionCode::from(bytes[at]));
        at += 2 + usize::from(bytes[at + 1]);
    }
    assert_eq!(wire, a.codes());
}

#[test]
fn maximum_message_size_is_honoured() {
    let mut c = config();
    // 40 name servers = 162 bytes of option 6, and a long host name.
    c.dhcp.nameservers = (1..=40).map(|i| Ipv4Addr::new(192, 0, 2, i)).collect();
    let mut b = routed();
    b.hostname = Some("h".repeat(200));
    let cx = ctx(&c, &b);
    let with_max = |max: u16| {
        msg(
            MessageType::Discover,
            vm_mac(),
            vec![
                DhcpOption::MaxMessageSize(max),
                DhcpOption::ParameterRequestList(vec![
                    OptionCode::SubnetMask,
                    OptionCode::Router,
                    OptionCode::DomainNameServer,
                    OptionCode::Hostname,
                ]),
            ],
        )
    };
    // 576 (and anything below, which is illegal) leaves 548 bytes of DHCP.
    for max in [0, 300, 576] {
        let a = answer(&cx, &with_max(max));
        let len = a.payload.len();
        assert!(len <= 576 - 28, "max {max}: {len}");
        // What the client asked for first stays; lease and identity stay.
        for code in [
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::AddressLeaseTime,
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
        ] {
            assert!(a.option(code).is_some(), "max {max}: {code:?}");
        }
        assert_eq!(a.option(OptionCode::DomainSearch), None);
    }
    // A larger limit fits everything.
    let a = answer(&cx, &with_max(1500));
    assert!(a.payload.len() > 576 - 28);
    assert!(a.option(OptionCode::DomainSearch).is_some());
    assert!(a.option(OptionCode::Hostname).is_some());
}

#[test]
fn payload_is_padded_to_300_bytes() {
    let a = routed_answer(&selecting(Ipv4Addr::new(192, 0, 2, 99)));
    assert_eq!(a.kind, ReplyKind::Nak);
    let bytes = &a.payload;
    assert_eq!(bytes.len(), BOOTP_MIN_LEN);
    // Header 236 + cookie 4 + 53 (3) + 54 (6) + end (1), then pads.
    assert_eq!(bytes[field::OPTIONS + 9], u8::from(OptionCode::End));
    assert!(bytes[field::OPTIONS + 10..].iter().all(|&b| b == 0));
}

#[test]
fn every_option_is_on_the_wire_once() {
    let a = routed_answer(&discover());
    let back = Message::decode(&mut Decoder::new(&a.payload)).unwrap();
    assert_eq!(back.xid(), XID);
    assert_eq!(back.yiaddr(), VM_IP);
    // One piece per option (none is long here), End, then pads only.
    let wire = wire_options(&a.payload);
    assert_eq!(wire.len(), routed_lease_options(MessageType::Offer).len());
    for opt in &a.options {
        assert_eq!(back.opts().get(OptionCode::from(opt)), Some(opt));
    }
    assert_eq!(back.opts().len(), a.options.len());
}

#[test]
fn handle_builds_the_whole_frame() {
    let (c, b) = (config(), routed());
    let out = handle(&ctx(&c, &b), &packet(&discover(), Ipv4Addr::UNSPECIFIED));
    let Outcome::Reply(reply) = out else {
        panic!("{out:?}")
    };
    assert_eq!(reply.kind, ReplyKind::Offer);
    assert_eq!(frame::eth_src(&reply.frame), Some(SERVER_MAC));
    assert_eq!(frame::eth_dst(&reply.frame), Some(vm_mac()));
    let udp = frame::parse_ipv4_udp(ip_of_frame(&reply.frame).unwrap()).unwrap();
    assert_eq!((udp.src, udp.dst), (SERVER_IP, VM_IP));
    assert_eq!((udp.src_port, udp.dst_port), (SERVER_PORT, CLIENT_PORT));
    let a = Answer::of(&reply);
    assert_eq!(a.options, routed_lease_options(MessageType::Offer));
    assert_eq!(udp.payload, a.payload.as_slice());
}

#[test]
fn domain_from_hostname_when_not_configured() {
    let mut c = config();
    c.dhcp.domain = None;
    c.ipv6.domains.clear();
    let mut b = routed();
    b.hostname = Some("db2.example.net".into());
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(
        a.option(OptionCode::DomainName),
        Some(&DhcpOption::DomainName("example.net".into()))
    );
    // Option 119 falls back to the same domain.
    assert_eq!(
        a.option(OptionCode::DomainSearch),
        Some(&DhcpOption::DomainSearch(vec![Name::from_ascii(
            "example.net."
        )
        .unwrap()]))
    );
    // A host name without a dot has no domain (the original sent the name).
    b.hostname = Some("web1".into());
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(a.option(OptionCode::DomainName), None);
    assert_eq!(a.option(OptionCode::DomainSearch), None);
}

#[test]
fn domain_search_is_rfc_3397_encoded() {
    let a = routed_answer(&discover());
    let wire = wire_options(&a.payload);
    let (_, data) = wire.iter().find(|&&(c, _)| c == 119).unwrap();
    // "vm.example.org." then "example.org." as a pointer to offset 3.
    assert_eq!(*data, b"\x02vm\x07example\x03org\x00\xc0\x03");
}

#[test]
fn renewal_times_keep_t1_below_t2_below_lease() {
    use super::options::renewal_times;
    assert_eq!(renewal_times(604_800, 3_600), (3_600, 529_200));
    assert_eq!(renewal_times(3_600, 3_600), (1_800, 3_150));
    assert_eq!(renewal_times(3_600, 0), (1_800, 3_150));
    assert_eq!(renewal_times(u32::MAX, 3_600), (3_600, 3_758_096_383));
}

#[test]
fn disabled_dhcp_drops() {
    let mut c = config();
    c.dhcp.enabled = false;
    let b = routed();
    let p = packet(&discover(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        handle(&ctx(&c, &b), &p),
        Outcome::Dropped(DropReason::Disabled)
    );
}

#[test]
fn not_dhcp_is_dropped() {
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    let dropped = |p: &[u8]| match handle(&cx, p) {
        Outcome::Dropped(r) => r,
        other => panic!("{other:?}"),
    };
    // A zeroed BOOTP-sized payload: dhcproto would parse it.
    let zero = vec![0u8; BOOTP_MIN_LEN];
    let f = frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 67, &zero).unwrap();
    assert_eq!(dropped(ip_of_frame(&f).unwrap()), DropReason::NotDhcp);
    // Cookie but no message type.
    let mut bootp = zero.clone();
    bootp[0] = 1;
    bootp[field::MAGIC].copy_from_slice(&dhcproto::v4::MAGIC);
    let f = frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 67, &bootp).unwrap();
    assert_eq!(dropped(ip_of_frame(&f).unwrap()), DropReason::NotDhcp);
    // A BOOTREPLY.
    let mut reply = discover();
    reply.set_opcode(Opcode::BootReply);
    assert_eq!(
        dropped(&packet(&reply, Ipv4Addr::UNSPECIFIED)),
        DropReason::NotDhcp
    );
    // Another UDP port.
    let f = frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 53, &bootp).unwrap();
    assert_eq!(dropped(ip_of_frame(&f).unwrap()), DropReason::NotDhcp);
    // Zeroed IP packets, and not even IP.
    assert_eq!(dropped(&[0u8; 600]), DropReason::Malformed);
    assert_eq!(dropped(&[]), DropReason::Malformed);
}

#[test]
fn every_truncation_is_dropped_without_panic() {
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    let m = msg(
        MessageType::Request,
        vm_mac(),
        vec![
            DhcpOption::RequestedIpAddress(VM_IP),
            DhcpOption::ServerIdentifier(SERVER_IP),
            DhcpOption::ParameterRequestList(vec![OptionCode::SubnetMask]),
        ],
    );
    let p = packet(&m, Ipv4Addr::UNSPECIFIED);
    assert!(matches!(handle(&cx, &p), Outcome::Reply(_)));
    for n in 0..p.len() {
        assert!(
            matches!(handle(&cx, &p[..n]), Outcome::Dropped(_)),
            "prefix {n}"
        );
    }
    // Truncated DHCP payloads inside valid UDP: options cut mid-way.
    let mut payload = Vec::new();
    m.encode(&mut Encoder::new(&mut payload)).unwrap();
    for n in 0..payload.len() {
        let _ = Request::parse(&payload[..n]);
    }
}

#[test]
fn hostile_options_never_panic() {
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    let mut base = Vec::new();
    discover().encode(&mut Encoder::new(&mut base)).unwrap();
    base.truncate(field::OPTIONS);
    // Every code with lengths 0, 1, 3 (dhcproto asserts on some of these),
    // then a pseudo-random byte soup after the cookie.
    for code in 0..=255u8 {
        for len in [0u8, 1, 3, 255] {
            let mut p = base.clone();
            p.extend_from_slice(&[53, 1, 1, code, len]);
            p.extend(std::iter::repeat(0xc0).take(usize::from(len)));
            let f =
                frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 67, &p).unwrap();
            let _ = handle(&cx, ip_of_frame(&f).unwrap());
        }
    }
    let mut seed: u32 = 0x9e37_79b9;
    for _ in 0..2000 {
        let mut p = base.clone();
        p.extend_from_slice(&[53, 1, 3]);
        for _ in 0..64 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            p.push((seed >> 24) as u8);
        }
        let f = frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 67, &p).unwrap();
        let _ = handle(&cx, ip_of_frame(&f).unwrap());
    }
}

#[test]
fn hostile_fixed_headers_never_panic() {
    // dhcproto's chaddr() slices its 16-byte array by hlen, which comes off
    // the wire: every header byte is varied, with and without MACSPOOF
    // (which skips the chaddr check).
    let c = config();
    let mut spoof = routed();
    spoof.macspoof = true;
    let bindings = [routed(), spoof];
    let mut base = Vec::new();
    selecting(VM_IP)
        .encode(&mut Encoder::new(&mut base))
        .unwrap();
    for b in &bindings {
        let cx = ctx(&c, b);
        for at in 0..field::FIXED_LEN {
            for value in [0u8, 1, 6, 16, 17, 0x80, 0xff] {
                let mut p = base.clone();
                p[at] = value;
                let f = frame::emit_ipv4_udp(OTHER_MAC, SERVER_MAC, VM_IP, SERVER_IP, 68, 67, &p)
                    .unwrap();
                let _ = handle(&cx, ip_of_frame(&f).unwrap());
            }
        }
    }
}

#[test]
fn empty_names_are_not_sent() {
    let mut c = config();
    c.dhcp.domain = Some(String::new());
    c.ipv6.domains.clear();
    let mut b = routed();
    b.hostname = Some(String::new());
    let a = answer(&ctx(&c, &b), &discover());
    for code in [
        OptionCode::Hostname,
        OptionCode::DomainName,
        OptionCode::DomainSearch,
    ] {
        assert_eq!(a.option(code), None, "{code:?}");
    }
}

#[test]
fn a_reply_can_carry_every_option_we_have() {
    // Rapid commit, lease times, option 121 with its host route, an MTU:
    // every entry of the options list at once.
    let c = config();
    let mut b = routed();
    b.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
    b.mtu = Some(1400);
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![
            DhcpOption::RapidCommit,
            DhcpOption::MaxMessageSize(1400),
            DhcpOption::ParameterRequestList(vec![OptionCode::ClasslessStaticRoute]),
        ],
    );
    let a = answer(&ctx(&c, &b), &m);
    assert_eq!(
        a.codes(),
        [
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::RapidCommit,
            OptionCode::ClasslessStaticRoute,
            OptionCode::AddressLeaseTime,
            OptionCode::Renewal,
            OptionCode::Rebinding,
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::BroadcastAddr,
            OptionCode::InterfaceMtu,
            OptionCode::DomainName,
            OptionCode::Hostname,
            OptionCode::DomainSearch,
        ]
    );
}

#[test]
fn message_type_names_are_the_registered_ones() {
    // As replay prints them: the names dhcproto gives, upper case.
    for t in 0..=u8::MAX {
        let theirs = format!("{:?}", MessageType::from(t)).to_uppercase();
        assert_eq!(super::MessageType(t).to_string(), theirs, "type {t}");
    }
}

#[test]
fn a_long_search_list_is_compressed_split_and_decodes_back() {
    // Shared suffixes, a name differing only in case (not compressed
    // into the other), and more than 255 bytes: two pieces of option 119.
    let mut c = config();
    let mut names: Vec<String> = [
        "a.example.org",
        "b.example.org",
        "example.org",
        "Example.ORG",
    ]
    .map(String::from)
    .to_vec();
    names.extend((0..8).map(|i| format!("host-{i}-{}.example.org", "x".repeat(40))));
    names.push("a.example.org".into());
    c.ipv6.domains = names.clone();
    let b = routed();
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![
            DhcpOption::MaxMessageSize(1500),
            DhcpOption::ParameterRequestList(vec![OptionCode::DomainSearch]),
        ],
    );
    let a = answer(&ctx(&c, &b), &m);
    let pieces = wire_options(&a.payload)
        .into_iter()
        .filter(|&(code, _)| code == 119)
        .count();
    assert_eq!(pieces, 2);
    let want: Vec<Name> = names
        .iter()
        .map(|n| Name::from_ascii(format!("{n}.")).unwrap())
        .collect();
    match a.option(OptionCode::DomainSearch) {
        Some(DhcpOption::DomainSearch(got)) => {
            assert_eq!(got, &want);
            // Name equality ignores case: the bytes keep it.
            assert_eq!(got[3].to_ascii(), "Example.ORG.");
        }
        other => panic!("{other:?}"),
    }
}

/// The binding's NAMESERVERS, NTP and DOMAINS replace the config's for
/// that VM; option 42 goes only to a client that asks for it.
#[test]
fn per_vm_dns_ntp_and_search_list() {
    let mut c = config();
    c.dhcp.ntp = vec![Ipv4Addr::new(192, 0, 2, 123)];
    let mut b = routed();
    b.nameservers = Some(vec![Ipv4Addr::new(203, 0, 113, 53)]);
    b.ntp = Some(vec![
        Ipv4Addr::new(203, 0, 113, 123),
        Ipv4Addr::new(203, 0, 113, 124),
    ]);
    b.domains = Some(vec!["vm7.example.net".into()]);
    let asking = msg(
        MessageType::Discover,
        vm_mac(),
        vec![DhcpOption::ParameterRequestList(vec![
            OptionCode::DomainNameServer,
            OptionCode::NtpServers,
            OptionCode::DomainSearch,
        ])],
    );
    let a = answer(&ctx(&c, &b), &asking);
    assert_eq!(
        find_in(&a, OptionCode::DomainNameServer),
        Some(DhcpOption::DomainNameServer(vec![Ipv4Addr::new(
            203, 0, 113, 53
        )]))
    );
    assert_eq!(
        find_in(&a, OptionCode::NtpServers),
        Some(DhcpOption::NtpServers(vec![
            Ipv4Addr::new(203, 0, 113, 123),
            Ipv4Addr::new(203, 0, 113, 124)
        ]))
    );
    assert_eq!(
        find_in(&a, OptionCode::DomainSearch),
        Some(DhcpOption::DomainSearch(vec![Name::from_ascii(
            "vm7.example.net."
        )
        .unwrap()]))
    );
    // Without the binding's values: the config's NTP server; not asked: no option 42.
    let a = answer(&ctx(&c, &routed()), &asking);
    assert!(a
        .options
        .contains(&DhcpOption::NtpServers(vec![Ipv4Addr::new(192, 0, 2, 123)])));
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(find_in(&a, OptionCode::NtpServers), None);
    // `none`: no DNS servers and no search list, not even option 15's domain.
    b.nameservers = Some(Vec::new());
    b.domains = Some(Vec::new());
    let a = answer(&ctx(&c, &b), &asking);
    assert_eq!(find_in(&a, OptionCode::DomainNameServer), None);
    assert_eq!(find_in(&a, OptionCode::DomainSearch), None);
}

fn find_in(a: &Answer, code: OptionCode) -> Option<DhcpOption> {
    a.options
        .iter()
        .find(|o| OptionCode::from(*o) == code)
        .cloned()
}

mod raw_options;

/// Option 108 (RFC 8925 §3.1). dhcproto 0.15 has IPv6-Only Preferred as
/// code 106, against the IANA registry (108, RFC 8925 §6): the tests ask
/// for and read the raw code.
const V6ONLY: OptionCode = OptionCode::Unknown(code::IPV6_ONLY_PREFERRED);

/// Option 108's V6ONLY_WAIT in a reply, read from the wire: its value
/// must be 4 bytes (RFC 8925 §3.1).
fn v6only_wait_of(a: &Answer) -> Option<u32> {
    let wire = wire_options(&a.payload);
    let (_, data) = wire.iter().find(|(c, _)| *c == code::IPV6_ONLY_PREFERRED)?;
    Some(u32::from_be_bytes(
        (*data).try_into().expect("option 108 has 4 bytes"),
    ))
}

/// A `mt` from the routed VM asking for option 108 (and 1, 3), `extra` added.
fn asks_108(mt: MessageType, extra: Vec<DhcpOption>) -> Message {
    let mut opts = vec![DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        V6ONLY,
    ])];
    opts.extend(extra);
    msg(mt, vm_mac(), opts)
}

/// The routed binding with `V6ONLY_WAIT=1800`.
fn v6only() -> Binding {
    let mut b = routed();
    b.v6only_wait = Some(1800);
    b
}

#[test]
fn v6only_discover_gets_an_offer_of_no_address_with_option_108() {
    let (c, b) = (config(), v6only());
    let a = answer(&ctx(&c, &b), &asks_108(MessageType::Discover, vec![]));
    assert_eq!(a.kind, ReplyKind::Offer);
    // RFC 8925 §3.3: yiaddr 0.0.0.0, so the reply is broadcast.
    assert_eq!(a.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        (a.ip_dst, a.eth_dst),
        (Ipv4Addr::BROADCAST, MacAddr::BROADCAST)
    );
    assert_eq!(v6only_wait_of(&a), Some(1800));
    // Rapid commit or not: an OFFER, nothing leased.
    let m = asks_108(MessageType::Discover, vec![DhcpOption::RapidCommit]);
    let a = answer(&ctx(&c, &b), &m);
    assert_eq!(
        (a.kind, a.message.yiaddr()),
        (ReplyKind::Offer, Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(a.option(OptionCode::RapidCommit), None);
    assert_eq!(v6only_wait_of(&a), Some(1800));
}

#[test]
fn v6only_is_sent_only_to_clients_that_ask() {
    // RFC 8925 §3.3: never to a client whose parameter request list lacks 108.
    let (c, b) = (config(), v6only());
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!((a.kind, a.message.yiaddr()), (ReplyKind::Offer, VM_IP));
    assert_eq!(v6only_wait_of(&a), None);
    // Without V6ONLY_WAIT, a client that asks gets its lease.
    let (c, b) = (config(), routed());
    let a = answer(&ctx(&c, &b), &asks_108(MessageType::Discover, vec![]));
    assert_eq!((a.kind, a.message.yiaddr()), (ReplyKind::Offer, VM_IP));
    assert_eq!(v6only_wait_of(&a), None);
}

#[test]
fn v6only_ack_keeps_the_address_and_a_nak_has_no_option_108() {
    // RFC 8925 §3.3: the option in a DHCPACK too (an INIT-REBOOT client
    // asking for its address is told to stop); the address asked is ours.
    let (c, b) = (config(), v6only());
    let cx = ctx(&c, &b);
    let ours = [
        DhcpOption::RequestedIpAddress(VM_IP),
        DhcpOption::ServerIdentifier(SERVER_IP),
    ];
    let a = answer(&cx, &asks_108(MessageType::Request, ours.to_vec()));
    assert_eq!((a.kind, a.message.yiaddr()), (ReplyKind::Ack, VM_IP));
    assert_eq!(v6only_wait_of(&a), Some(1800));
    let other = vec![DhcpOption::RequestedIpAddress(Ipv4Addr::new(192, 0, 2, 99))];
    let a = answer(&cx, &asks_108(MessageType::Request, other));
    assert_eq!(a.kind, ReplyKind::Nak);
    assert_eq!(v6only_wait_of(&a), None);
}

#[test]
fn v6only_wait_from_the_config_unless_the_binding_says() {
    let mut c = config();
    c.dhcp.v6only_wait = 3600;
    let m = asks_108(MessageType::Discover, vec![]);
    let a = answer(&ctx(&c, &routed()), &m);
    assert_eq!(v6only_wait_of(&a), Some(3600));
    let a = answer(&ctx(&c, &v6only()), &m);
    assert_eq!(v6only_wait_of(&a), Some(1800));
    // V6ONLY_WAIT=off: this VM leases as before.
    let mut off = routed();
    off.v6only_wait = Some(0);
    let a = answer(&ctx(&c, &off), &m);
    assert_eq!((a.kind, a.message.yiaddr()), (ReplyKind::Offer, VM_IP));
    assert_eq!(v6only_wait_of(&a), None);
}

#[test]
fn option_108_is_never_dropped_to_fit() {
    // 70 DNS servers do not fit 576 bytes; option 108 stays, asked last.
    let mut c = config();
    c.dhcp.nameservers = (1..=70).map(|i| Ipv4Addr::new(192, 0, 2, i)).collect();
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![
            DhcpOption::MaxMessageSize(576),
            DhcpOption::ParameterRequestList(vec![OptionCode::DomainNameServer, V6ONLY]),
        ],
    );
    let b = v6only();
    let a = answer(&ctx(&c, &b), &m);
    assert!(a.payload.len() <= 576 - 28, "{}", a.payload.len());
    assert_eq!(v6only_wait_of(&a), Some(1800));
}
