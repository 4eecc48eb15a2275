//! Whole reply frames, byte for byte: every request of a matrix (message
//! types, addressing, parameter lists, size limits, options a client
//! repeats) for three bindings and two configs, and the captured requests
//! of real clients, then the matrix, requests asking for option 108 and
//! dhcpcd's capture for a binding with `V6ONLY_WAIT` and `ROUTES`, against
//! tests/fixtures/dhcpv4/golden-replies.txt.
//!
//! The file was first written while two implementations answered (a typed
//! one on dhcproto and the direct one), which debug builds checked agreed
//! on every packet: it pins the behaviour they shared. `NFDHCPD_BLESS=1 cargo test --lib golden`
//! rewrites it after a deliberate change (review the diff).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};
use dhcproto::{Encodable, Encoder};

use super::tests::{
    config, ctx, msg, packet, private, routed, selecting, udp_packet, SERVER_IP, VM_IP,
};
use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::mac::MacAddr;

/// The golden file, from the crate root.
const GOLDEN: &str = "tests/fixtures/dhcpv4/golden-replies.txt";

/// A request built from `m`'s fixed fields, with raw option bytes instead
/// of its options (to repeat or split options, which dhcproto's map cannot).
fn raw(m: &Message, options: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    m.encode(&mut Encoder::new(&mut payload)).unwrap();
    payload.truncate(field::OPTIONS);
    payload.extend_from_slice(options);
    payload.push(u8::from(OptionCode::End));
    udp_packet(&payload, Ipv4Addr::UNSPECIFIED)
}

/// The matrix's requests, named.
fn requests(mac: MacAddr) -> Vec<(&'static str, Vec<u8>)> {
    let z = Ipv4Addr::UNSPECIFIED;
    let bare = |mt| msg(mt, mac, vec![]);
    let with = |mt, opts| packet(&msg(mt, mac, opts), z);
    let other = Ipv4Addr::new(192, 0, 2, 99);
    let mut relayed_nak = selecting(other);
    relayed_nak.set_giaddr(Ipv4Addr::new(198, 51, 100, 1));
    relayed_nak.set_chaddr(&mac.0);
    let mut renewing = bare(MessageType::Request);
    renewing.set_ciaddr(VM_IP);
    let mut inform = bare(MessageType::Inform);
    inform.set_ciaddr(VM_IP);
    let mut broadcast = bare(MessageType::Discover);
    broadcast.set_flags(broadcast.flags().set_broadcast());
    let asked = |codes: Vec<OptionCode>, max: u16| {
        with(
            MessageType::Discover,
            vec![
                DhcpOption::ParameterRequestList(codes),
                DhcpOption::MaxMessageSize(max),
            ],
        )
    };
    let [a, b, c, d] = VM_IP.octets();
    let [s0, s1, s2, s3] = SERVER_IP.octets();
    let discover = bare(MessageType::Discover);
    let request = bare(MessageType::Request);
    let mut sel = selecting(VM_IP);
    sel.set_chaddr(&mac.0);
    let mut sel_other = selecting(other);
    sel_other.set_chaddr(&mac.0);
    vec![
        ("discover", packet(&discover, z)),
        ("discover broadcast", packet(&broadcast, z)),
        ("request selecting", packet(&sel, z)),
        ("request other address", packet(&sel_other, z)),
        ("request renewing", packet(&renewing, VM_IP)),
        ("request relayed nak", packet(&relayed_nak, z)),
        ("inform", packet(&inform, VM_IP)),
        (
            "discover rapid commit",
            with(MessageType::Discover, vec![DhcpOption::RapidCommit]),
        ),
        (
            "discover asks 121 and 12, max 576",
            asked(
                vec![OptionCode::ClasslessStaticRoute, OptionCode::Hostname],
                576,
            ),
        ),
        (
            "discover asks 119 and 1, max 1500",
            asked(vec![OptionCode::DomainSearch, OptionCode::SubnetMask], 1500),
        ),
        (
            "discover asks 3 twice and 26",
            asked(
                vec![
                    OptionCode::Router,
                    OptionCode::Router,
                    OptionCode::InterfaceMtu,
                ],
                1500,
            ),
        ),
        // RFC 3396 §7: options a client repeats are concatenated.
        (
            "discover, 55 split in two",
            raw(&discover, &[53, 1, 1, 55, 2, 1, 3, 55, 3, 121, 6, 12]),
        ),
        ("discover, 53 split", raw(&discover, &[53, 0, 53, 1, 1])),
        ("discover, 53 twice", raw(&discover, &[53, 1, 1, 53, 1, 1])),
        (
            "discover, 57 split into 576",
            raw(&discover, &[53, 1, 1, 57, 1, 0x02, 57, 1, 0x40]),
        ),
        (
            "discover, 57 twice",
            raw(&discover, &[53, 1, 1, 57, 2, 0x05, 0xdc, 57, 2, 0x05, 0xdc]),
        ),
        (
            "discover, 80 twice",
            raw(&discover, &[53, 1, 1, 80, 0, 80, 0]),
        ),
        (
            "discover, 12 twice",
            raw(&discover, &[53, 1, 1, 12, 1, b'x', 12, 1, b'y']),
        ),
        (
            "discover, 55 twice, then a cut option",
            raw(&discover, &[53, 1, 1, 55, 1, 3, 55, 1, 1, 12, 9, b'x']),
        ),
        (
            "request, 50 split",
            raw(&request, &[53, 1, 3, 50, 2, a, b, 50, 2, c, d]),
        ),
        (
            "request, 50 split to another address",
            raw(&request, &[53, 1, 3, 50, 2, a, b, 50, 2, c, 99]),
        ),
        (
            "request, 54 split",
            raw(
                &request,
                &[53, 1, 3, 50, 4, a, b, c, d, 54, 3, s0, s1, s2, 54, 1, s3],
            ),
        ),
        (
            "request, 54 twice",
            raw(
                &request,
                &[
                    53, 1, 3, 50, 4, a, b, c, d, 54, 4, s0, s1, s2, s3, 54, 4, s0, s1, s2, s3,
                ],
            ),
        ),
        (
            "request, 54 of another server, 53 split",
            raw(
                &request,
                &[53, 0, 54, 4, 192, 0, 2, 250, 50, 4, a, b, c, d, 53, 1, 3],
            ),
        ),
        (
            "release, 54 split",
            raw(
                &bare(MessageType::Release),
                &[53, 1, 7, 54, 2, s0, s1, 54, 2, s2, s3],
            ),
        ),
    ]
}

/// One outcome as a line of the golden file.
pub(super) fn line(name: &str, out: &Outcome) -> String {
    let mut s = format!("{name}\t");
    match out {
        Outcome::Reply(r) => {
            let _ = write!(s, "reply {:?} ", r.kind);
            for b in &r.frame {
                let _ = write!(s, "{b:02x}");
            }
        }
        Outcome::Consumed(c) => {
            let _ = write!(s, "consumed {c:?}");
        }
        Outcome::Dropped(d) => {
            let _ = write!(s, "dropped {}", d.as_str());
        }
    }
    s
}

/// Every line of the golden file, as the code answers today.
fn lines() -> Vec<String> {
    let plain = config();
    let mut long = config();
    long.dhcp.nameservers = (1..=70).map(|i| Ipv4Addr::new(192, 0, 2, i)).collect();
    let mut far = routed();
    far.hostname = Some("h".repeat(300));
    far.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
    far.mtu = Some(1400);
    let bindings: [(&str, Binding); 3] =
        [("routed", routed()), ("private", private()), ("far", far)];
    let configs: [(&str, &Config); 2] = [("compat", &plain), ("70 dns", &long)];
    let mut out = Vec::new();
    for (bn, b) in &bindings {
        for (cn, c) in configs {
            let cx = ctx(c, b);
            for (rn, p) in requests(b.mac) {
                out.push(line(&format!("{bn}/{cn}/{rn}"), &handle(&cx, &p)));
            }
        }
    }
    let (c, b) = (config(), routed());
    let cx = ctx(&c, &b);
    for name in ["udhcpc", "dhclient", "dhcpcd"] {
        for (i, p) in super::fixtures::packets(name).iter().enumerate() {
            out.push(line(&format!("capture/{name}/{i}"), &handle(&cx, p)));
        }
    }
    out.extend(v6only_lines());
    out
}

/// Option 108 (RFC 8925) and `ROUTES`: the matrix and the requests that
/// ask for 108 (dhcpcd's capture among them) for tap-routed with
/// `V6ONLY_WAIT=1800` and two routes.
fn v6only_lines() -> Vec<String> {
    let c = config();
    let mut b = routed();
    b.v6only_wait = Some(1800);
    b.routes = crate::binding::file::routes::parse(
        "198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254",
        &b,
    )
    .expect("valid ROUTES");
    let cx = ctx(&c, &b);
    let asks = |mt, mut opts: Vec<DhcpOption>| {
        opts.push(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::ClasslessStaticRoute,
            OptionCode::Unknown(code::IPV6_ONLY_PREFERRED),
        ]));
        packet(&msg(mt, b.mac, opts), Ipv4Addr::UNSPECIFIED)
    };
    let selecting = vec![
        DhcpOption::RequestedIpAddress(VM_IP),
        DhcpOption::ServerIdentifier(SERVER_IP),
    ];
    let mut requests = requests(b.mac);
    requests.extend([
        ("discover asks 108", asks(MessageType::Discover, vec![])),
        (
            "discover asks 108, rapid commit",
            asks(MessageType::Discover, vec![DhcpOption::RapidCommit]),
        ),
        ("request asks 108", asks(MessageType::Request, selecting)),
    ]);
    let mut out: Vec<String> = requests
        .iter()
        .map(|(rn, p)| line(&format!("v6only/compat/{rn}"), &handle(&cx, p)))
        .collect();
    for (i, p) in super::fixtures::packets("dhcpcd-v6only").iter().enumerate() {
        out.push(line(
            &format!("v6only/capture/dhcpcd-v6only/{i}"),
            &handle(&cx, p),
        ));
    }
    out
}

#[test]
fn replies_are_the_golden_frames() {
    check_golden(GOLDEN, &lines());
}

/// `got` against the golden file `golden` (from the crate root), which
/// `NFDHCPD_BLESS=1` rewrites first.
pub(super) fn check_golden(golden: &str, got: &[String]) {
    let path = format!("{}/{golden}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NFDHCPD_BLESS").is_some() {
        std::fs::write(&path, got.join("\n") + "\n").expect(&path);
    }
    let want = std::fs::read_to_string(&path).expect(&path);
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got.len(), want.len(), "cases in {golden}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "{golden}");
    }
}

/// Replies with raw options (`OPTION_<code>`, the config's `[options]`),
/// against tests/fixtures/dhcpv4/golden-raw-options.txt: sent unasked
/// (`always`), asked in the request list's order, a 300-byte value split
/// in two (RFC 3396), and left out to fit 576 bytes.
const GOLDEN_RAW: &str = "tests/fixtures/dhcpv4/golden-raw-options.txt";

fn raw_option_lines() -> Vec<String> {
    use crate::value::options::Customs;
    let mut c = config();
    c.options = Customs::parse([("OPTION_225", "always ip:192.0.2.225")]).unwrap();
    let mut b = routed();
    let long = format!("string:{}", "z".repeat(300));
    b.options = Customs::parse([
        ("OPTION_224", "always 0x0102"),
        ("OPTION_250", long.as_str()),
        ("OPTION_252", "string:http://wpad.example/wpad.dat"),
    ])
    .unwrap();
    let cx = ctx(&c, &b);
    let asking = |codes: &[u8], max: u16| {
        let prl = codes.iter().map(|&c| OptionCode::from(c)).collect();
        let opts = vec![
            DhcpOption::ParameterRequestList(prl),
            DhcpOption::MaxMessageSize(max),
        ];
        packet(
            &msg(MessageType::Discover, b.mac, opts),
            Ipv4Addr::UNSPECIFIED,
        )
    };
    let cases = [
        (
            "discover",
            packet(
                &msg(MessageType::Discover, b.mac, vec![]),
                Ipv4Addr::UNSPECIFIED,
            ),
        ),
        (
            "discover asks 252 1 250, max 1500",
            asking(&[252, 1, 250], 1500),
        ),
        (
            "discover asks 1 3 6 252 250, max 576",
            asking(&[1, 3, 6, 252, 250], 576),
        ),
    ];
    cases
        .iter()
        .map(|(name, p)| line(&format!("raw options/{name}"), &handle(&cx, p)))
        .collect()
}

#[test]
fn raw_option_replies_are_the_golden_frames() {
    let path = format!("{}/{GOLDEN_RAW}", env!("CARGO_MANIFEST_DIR"));
    let got = raw_option_lines();
    if std::env::var_os("NFDHCPD_BLESS").is_some() {
        std::fs::write(&path, got.join("\n") + "\n").expect(&path);
    }
    let want = std::fs::read_to_string(&path).expect(&path);
    assert_eq!(got, want.lines().collect::<Vec<_>>(), "{GOLDEN_RAW}");
}
