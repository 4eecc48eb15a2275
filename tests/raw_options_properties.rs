//! Property tests of raw DHCPv4 options (`OPTION_<code>`): whatever a
//! binding gives and a client asks, the reply fits the client's maximum
//! message size, carries each raw option it sends whole (its pieces joined,
//! RFC 3396) and only when asked for or `always`, and the options asked
//! for come in the client's order.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};
use proptest::prelude::*;

use nfdhcpd::datapath::respond::{self, Meta};
use nfdhcpd::mac::MacAddr;
use nfdhcpd::metrics::Protocol;
use nfdhcpd::ops::replay;
use nfdhcpd::proto::{frame, Outcome};

const VM_MAC: MacAddr = MacAddr([0xaa, 0, 0, 0, 0, 0x10]);
/// The private-use codes the options are drawn from (RFC 3942).
const CODES: std::ops::RangeInclusive<u8> = 224..=254;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One raw option: code, value, sent always.
type Raw = (u8, Vec<u8>, bool);

/// The DHCP payload of the reply to a DISCOVER asking `prl` with option 57
/// `max`, from tap-routed given `raws`.
fn reply(raws: &[Raw], prl: &[u8], max: u16) -> Vec<u8> {
    let c = replay::load_config(&root().join("tests/fixtures/compat/nfdhcpd.conf")).unwrap();
    let mut text =
        std::fs::read_to_string(root().join("tests/fixtures/compat/bindings/tap-routed")).unwrap();
    for (code, value, always) in raws {
        let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
        let always = if *always { "always " } else { "" };
        text.push_str(&format!("OPTION_{code}=\"{always}0x{hex}\"\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tap-routed"), text).unwrap();
    let (snap, problem) =
        replay::build_snapshot(&c, dir.path(), "tap-routed", replay::DEFAULT_SERVER_MAC);
    assert_eq!(problem, None);
    let z = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(0x0102_0304, z, z, z, z, &VM_MAC.0);
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(MessageType::Discover));
    opts.insert(DhcpOption::ParameterRequestList(
        prl.iter().map(|&c| OptionCode::from(c)).collect(),
    ));
    opts.insert(DhcpOption::MaxMessageSize(max));
    let mut payload = Vec::new();
    m.encode(&mut Encoder::new(&mut payload)).unwrap();
    let f = frame::emit_ipv4_udp(
        VM_MAC,
        MacAddr::BROADCAST,
        z,
        Ipv4Addr::BROADCAST,
        68,
        67,
        &payload,
    )
    .unwrap();
    let packet = frame::ip_of_frame(&f).unwrap();
    let meta = Meta {
        indev: replay::TAP_IFINDEX,
        physindev: 0,
        src_mac: Some(VM_MAC),
    };
    let d = respond::decide(&c, &snap, Protocol::Dhcpv4, &meta, packet, 1);
    let Some(Outcome::Reply(r)) = d.outcome() else {
        panic!("no reply: {d:?}");
    };
    nfdhcpd::fuzz::verify_reply(r, replay::DEFAULT_SERVER_MAC).unwrap();
    let ip = frame::ip_of_frame(&r.frame).unwrap();
    let udp = frame::parse_ipv4_udp(ip).unwrap();
    Message::decode(&mut Decoder::new(udp.payload)).expect("dhcproto decodes the reply");
    udp.payload.to_vec()
}

/// The options of a DHCP payload in wire order: (code, value) with the
/// pieces of a split option joined; they must be adjacent.
fn options(payload: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut at = 240;
    while payload[at] != 255 {
        if payload[at] == 0 {
            at += 1;
            continue;
        }
        let (code, len) = (payload[at], usize::from(payload[at + 1]));
        let data = &payload[at + 2..at + 2 + len];
        match out.last_mut() {
            Some((c, v)) if *c == code => v.extend_from_slice(data),
            _ => {
                assert!(out.iter().all(|(c, _)| *c != code), "{code} split apart");
                out.push((code, data.to_vec()));
            }
        }
        at += 2 + len;
    }
    out
}

fn raws() -> impl Strategy<Value = Vec<Raw>> {
    proptest::collection::btree_map(
        CODES,
        (
            proptest::collection::vec(any::<u8>(), 1..=600),
            any::<bool>(),
        ),
        0..=16,
    )
    .prop_map(|m| m.into_iter().map(|(c, (v, a))| (c, v, a)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn raw_options_fit_come_whole_and_only_when_asked_or_always(
        raws in raws(),
        prl in proptest::collection::vec(prop_oneof![CODES, Just(1u8), Just(3), Just(6), Just(119)], 0..=12),
        max in prop_oneof![Just(1500u16), 576u16..=1500],
    ) {
        let payload = reply(&raws, &prl, max);
        prop_assert!(payload.len() + 28 <= usize::from(max.max(576)), "{} bytes", payload.len());
        let got = options(&payload);
        for (code, value) in &got {
            if let Some((_, want, always)) = raws.iter().find(|(c, _, _)| c == code) {
                prop_assert_eq!(value, want, "option {}", code);
                prop_assert!(*always || prl.contains(code), "option {} not asked", code);
            }
        }
        // The options asked for that were sent come in the client's order.
        let mut asked: Vec<u8> = Vec::new();
        for c in &prl {
            if !asked.contains(c) {
                asked.push(*c);
            }
        }
        let sent_asked: Vec<u8> = got.iter().map(|(c, _)| *c).filter(|c| asked.contains(c)).collect();
        let order: Vec<u8> = asked.iter().copied().filter(|c| sent_asked.contains(c)).collect();
        prop_assert_eq!(sent_asked, order);
        // With room, every option asked for or always is there.
        if max == 1500 && raws.iter().map(|(_, v, _)| v.len() + 2 * v.len().div_ceil(255)).sum::<usize>() < 900 {
            for (code, _, always) in &raws {
                prop_assert!(!(*always || prl.contains(code)) || got.iter().any(|(c, _)| c == code), "option {} missing", code);
            }
        }
    }
}
