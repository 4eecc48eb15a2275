//! Requests captured from real clients (tests/fixtures/dhcpv4/*.pcap, see
//! tests/fixtures/README.md), replayed through `handle` as the tap-routed
//! binding (MAC aa:00:00:00:00:10, 192.0.2.10, server 192.0.2.254); the
//! requests and the replies decoded by dhcproto.

use std::net::Ipv4Addr;

use dhcproto::v4::{self as d4, DhcpOption, OptionCode};
use dhcproto::{Decodable, Decoder};

use super::tests::{config, ctx, routed, Answer, SERVER_IP};
use super::*;
use crate::proto::frame::ETH_HDR_LEN;

const VM_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// The IP packets of a capture, as NFQUEUE delivers them (no Ethernet header).
pub(super) fn packets(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/tests/fixtures/dhcpv4/{name}.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::File::open(&path).expect(&path);
    let mut reader = pcap_file::pcap::PcapReader::new(file).expect("a pcap file");
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.expect("a whole pcap record");
        out.push(pkt.data[ETH_HDR_LEN..].to_vec());
    }
    out
}

/// (request type, outcome) of each packet of a capture.
fn replay(name: &str) -> Vec<(d4::MessageType, Outcome)> {
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    packets(name)
        .iter()
        .map(|p| {
            let udp = frame::parse_ipv4_udp(p).expect("an IPv4/UDP packet");
            let m = d4::Message::decode(&mut Decoder::new(udp.payload)).expect("a DHCP request");
            let Some(DhcpOption::MessageType(t)) = m.opts().get(OptionCode::MessageType) else {
                panic!("no message type: {m:?}")
            };
            (*t, handle(&cx, p))
        })
        .collect()
}

fn reply(out: &Outcome) -> Answer {
    match out {
        Outcome::Reply(r) => Answer::of(r),
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn udhcpc_discover_offer_request_ack() {
    let got = replay("udhcpc");
    let types: Vec<_> = got.iter().map(|(t, _)| *t).collect();
    use d4::MessageType::*;
    assert_eq!(types, [Discover, Discover, Request]);
    let offer = reply(&got[0].1);
    assert_eq!(offer.kind, ReplyKind::Offer);
    assert_eq!(offer.message.yiaddr(), VM_IP);
    // udhcpc asks 1, 3, 6, 12, 15, 28, 42: answered in that order.
    assert_eq!(
        offer.codes()[..8],
        [
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
            OptionCode::DomainName,
            OptionCode::BroadcastAddr,
        ]
    );
    // It sends option 57 = 576: the reply fits.
    assert!(offer.payload.len() <= 576 - 28);
    // No broadcast flag: unicast to yiaddr / chaddr.
    assert_eq!((offer.eth_dst, offer.ip_dst), (routed().mac, VM_IP));
    let ack = reply(&got[2].1);
    assert_eq!(ack.kind, ReplyKind::Ack);
    assert_eq!(ack.message.yiaddr(), VM_IP);
    assert_eq!(ack.ip_src, SERVER_IP);
}

#[test]
fn dhclient_full_lifecycle() {
    let got = replay("dhclient");
    let types: Vec<_> = got.iter().map(|(t, _)| *t).collect();
    use d4::MessageType::*;
    // DISCOVER ×2, REQUEST (selecting), REQUEST ×2 (init-reboot),
    // REQUEST (renewing), RELEASE.
    assert_eq!(
        types,
        [Discover, Discover, Request, Request, Request, Request, Release]
    );
    let offer = reply(&got[0].1);
    assert_eq!(offer.kind, ReplyKind::Offer);
    // Debian's dhclient.conf asks for option 121: default route in it.
    assert_eq!(
        offer.option(OptionCode::ClasslessStaticRoute),
        Some(&DhcpOption::ClasslessStaticRoute(vec![(
            "0.0.0.0/0".parse().unwrap(),
            Ipv4Addr::new(192, 0, 2, 1)
        )]))
    );
    for (i, (_, d)) in got.iter().enumerate().take(6).skip(2) {
        let ack = reply(d);
        assert_eq!(ack.kind, ReplyKind::Ack, "packet {i}");
        assert_eq!(ack.message.yiaddr(), VM_IP, "packet {i}");
    }
    // The renewal is unicast from 192.0.2.10 with ciaddr set.
    let renew = reply(&got[5].1);
    assert_eq!(renew.message.ciaddr(), VM_IP);
    assert_eq!((renew.ip_dst, renew.udp_dst), (VM_IP, CLIENT_PORT));
    assert_eq!(got[6].1, Outcome::Consumed(Consumed::Release));
}

#[test]
fn dhcpcd_rapid_commit_request_inform() {
    let got = replay("dhcpcd");
    let types: Vec<_> = got.iter().map(|(t, _)| *t).collect();
    use d4::MessageType::*;
    assert_eq!(types, [Discover, Request, Inform]);
    // Its DISCOVER carries option 80: a rapid-commit ACK.
    let rapid = reply(&got[0].1);
    assert_eq!(rapid.kind, ReplyKind::Ack);
    assert!(rapid.option(OptionCode::RapidCommit).is_some());
    // dhcpcd asks 1, 3, 28, 33, 51, 58, 59 (no 121 without its default conf).
    assert_eq!(
        rapid.codes()[..9],
        [
            OptionCode::MessageType,
            OptionCode::ServerIdentifier,
            OptionCode::RapidCommit,
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::BroadcastAddr,
            OptionCode::AddressLeaseTime,
            OptionCode::Renewal,
            OptionCode::Rebinding,
        ]
    );
    assert_eq!(reply(&got[1].1).kind, ReplyKind::Ack);
    let inform = reply(&got[2].1);
    assert_eq!(inform.kind, ReplyKind::Ack);
    assert_eq!(inform.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(inform.option(OptionCode::AddressLeaseTime), None);
    assert_eq!(inform.ip_dst, VM_IP);
}

#[test]
fn every_prefix_of_every_captured_request_is_dropped() {
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    for name in ["udhcpc", "dhclient", "dhcpcd"] {
        for p in packets(name) {
            for n in 0..p.len() {
                assert!(
                    matches!(handle(&cx, &p[..n]), Outcome::Dropped(_)),
                    "{name} prefix {n}"
                );
            }
        }
    }
}

#[test]
fn dhcpcd_request_parses_to_its_fields() {
    let p = &packets("dhcpcd")[1];
    let udp = frame::parse_ipv4_udp(p).unwrap();
    let req = Request::parse(udp.payload).unwrap();
    assert_eq!(req.msg_type(), MessageType::REQUEST);
    assert_eq!(req.requested_ip(), Some(VM_IP));
    assert_eq!(req.server_id(), Some(SERVER_IP));
    assert_eq!(req.max_size(), Some(1472));
    assert!(!req.rapid_commit());
    let params = [
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::BroadcastAddr,
        OptionCode::StaticRoutingTable,
        OptionCode::AddressLeaseTime,
        OptionCode::Renewal,
        OptionCode::Rebinding,
    ];
    assert_eq!(req.params(), Some(params.map(u8::from).as_slice()));
    assert_eq!(req.message().eth_chaddr(), Some(routed().mac));
    assert_eq!(req.message().op(), BOOTREQUEST);
}
