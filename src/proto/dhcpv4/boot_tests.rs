//! Network boot replies to the requests of real boot firmware
//! (tests/fixtures/boot/*.hex, each with its provenance): a BIOS PXE ROM,
//! iPXE, a UEFI PXE client and a UEFI HTTP boot client, for a binding
//! with the boot keys and one without; and the golden frames of those
//! replies (tests/fixtures/boot/golden-replies.txt, `NFDHCPD_BLESS=1`
//! rewrites it).

use std::net::Ipv4Addr;

use super::golden::{check_golden, line};
use super::tests::{config, ctx, routed, udp_packet, Answer};
use super::*;
use crate::binding::Binding;
use crate::mac::MacAddr;
use crate::value::boot::Boot;

/// The golden file, from the crate root.
const GOLDEN: &str = "tests/fixtures/boot/golden-replies.txt";
const NEXT_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 5);

/// The fixtures: name, the client's MAC (chaddr).
const FIXTURES: [(&str, &str); 4] = [
    ("pxe-bios", "d0:50:99:4e:05:57"),
    ("ipxe", "52:54:00:00:0b:01"),
    ("pxe-efi", "52:54:00:00:0b:02"),
    ("http-efi", "52:54:00:00:0b:02"),
];

/// The DHCP payload of a fixture (hex lines, `#` comments).
pub(super) fn payload(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/boot/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect(&path);
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The boot keys of the tests.
fn boot() -> Boot {
    Boot {
        next_server: Some(NEXT_SERVER),
        tftp_server: Some("boot.example.org".into()),
        file: Some("boot/default.0".into()),
        file_efi: Some("efi/grubx64.efi".into()),
        file_bios: Some("bios/pxelinux.0".into()),
        file_ipxe: Some("http://192.0.2.5/boot.ipxe".into()),
        file_http: Some("http://192.0.2.5/efi/shim.efi".into()),
        file6: None,
    }
}

/// The routed binding with the client's MAC, with `boot` keys.
fn binding(mac: &str, boot: Option<Boot>) -> Binding {
    let mut b = routed();
    b.mac = mac.parse::<MacAddr>().unwrap();
    b.boot = boot.map(Box::new);
    b
}

/// The reply to fixture `name` from `b`.
fn answer(name: &str, b: &Binding) -> Answer {
    answer_to(&payload(name), b)
}

/// The reply to a DHCP payload from `b`.
fn answer_to(payload: &[u8], b: &Binding) -> Answer {
    let c = config();
    match handle(&ctx(&c, b), &udp_packet(payload, Ipv4Addr::UNSPECIFIED)) {
        Outcome::Reply(r) => Answer::of(&r),
        other => panic!("{other:?}"),
    }
}

/// The BIOS ROM's fixed fields with `options`, then option 60
/// "PXEClient" and End.
fn bios_with(options: &[u8]) -> Vec<u8> {
    let mut p = payload("pxe-bios")[..field::OPTIONS].to_vec();
    p.extend_from_slice(options);
    p.extend_from_slice(&[code::VENDOR_CLASS, 9]);
    p.extend_from_slice(b"PXEClient");
    p.push(code::END);
    p
}

/// What a reply says of the boot: siaddr, sname and file (up to their
/// first NUL), options 66, 67, 60 and whether option 52 is there.
#[derive(Debug, PartialEq, Eq)]
struct Said {
    siaddr: Ipv4Addr,
    sname: String,
    file: String,
    opt66: Option<String>,
    opt67: Option<String>,
    opt60: Option<String>,
}

fn said(a: &Answer) -> Said {
    let text = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8(b[..end].to_vec()).unwrap()
    };
    let m = Message::parse(&a.payload).unwrap();
    let opt = |code| {
        m.options()
            .map(Result::unwrap)
            .find(|(c, _)| *c == code)
            .map(|(_, d)| text(d))
    };
    assert!(opt(52).is_none(), "option 52: we never overload");
    Said {
        siaddr: Ipv4Addr::from(<[u8; 4]>::try_from(&a.payload[field::SIADDR]).unwrap()),
        sname: text(&a.payload[field::SNAME]),
        file: text(&a.payload[field::FILE]),
        opt66: opt(code::TFTP_SERVER),
        opt67: opt(code::BOOTFILE),
        opt60: opt(code::VENDOR_CLASS),
    }
}

fn want(file: &str, o66: bool, o67: bool, vendor: Option<&str>) -> Said {
    Said {
        siaddr: NEXT_SERVER,
        sname: "boot.example.org".into(),
        file: file.into(),
        opt66: o66.then(|| "boot.example.org".into()),
        opt67: o67.then(|| file.into()),
        opt60: vendor.map(Into::into),
    }
}

#[test]
fn a_bios_pxe_rom_gets_the_bios_file_and_pxeclient() {
    let a = answer("pxe-bios", &binding(FIXTURES[0].1, Some(boot())));
    assert_eq!(a.kind, ReplyKind::Offer);
    assert_eq!(a.message.yiaddr(), routed().ip.unwrap());
    // It asks for 66 and 67 (option 55).
    assert_eq!(
        said(&a),
        want("bios/pxelinux.0", true, true, Some("PXEClient"))
    );
}

#[test]
fn ipxe_gets_its_own_file_and_does_not_loop() {
    let a = answer("ipxe", &binding(FIXTURES[1].1, Some(boot())));
    assert_eq!(
        said(&a),
        want("http://192.0.2.5/boot.ipxe", true, true, Some("PXEClient"))
    );
}

#[test]
fn a_uefi_pxe_client_gets_the_efi_file() {
    let a = answer("pxe-efi", &binding(FIXTURES[2].1, Some(boot())));
    assert_eq!(
        said(&a),
        want("efi/grubx64.efi", true, true, Some("PXEClient"))
    );
}

#[test]
fn a_uefi_http_boot_client_gets_the_url_and_httpclient() {
    let a = answer("http-efi", &binding(FIXTURES[3].1, Some(boot())));
    // HttpBootDxe asks for 67, not 66: the server name only in `sname`.
    assert_eq!(
        said(&a),
        want(
            "http://192.0.2.5/efi/shim.efi",
            false,
            true,
            Some("HTTPClient")
        )
    );
    // Without BOOTFILE_HTTP: no file, no HTTPClient (EDK2 does not take
    // the offer for a boot), the server fields still there.
    let no_url = Boot {
        file_http: None,
        ..boot()
    };
    let a = answer("http-efi", &binding(FIXTURES[3].1, Some(no_url)));
    assert_eq!(
        said(&a),
        Said {
            file: String::new(),
            opt67: None,
            opt60: None,
            ..want("", false, false, None)
        }
    );
}

#[test]
fn pxe_requests_to_a_binding_without_boot_keys_get_an_ordinary_reply() {
    for (name, mac) in FIXTURES {
        let b = binding(mac, None);
        let a = answer(name, &b);
        assert_eq!(a.kind, ReplyKind::Offer, "{name}");
        assert_eq!(a.message.yiaddr(), routed().ip.unwrap(), "{name}");
        let nothing = Said {
            siaddr: Ipv4Addr::UNSPECIFIED,
            sname: String::new(),
            file: String::new(),
            opt66: None,
            opt67: None,
            opt60: None,
        };
        assert_eq!(said(&a), nothing, "{name}");
        assert!(a.payload[field::SNAME_FILE].iter().all(|&b| b == 0));
    }
}

#[test]
fn names_too_long_for_their_field_go_only_in_options_66_and_67() {
    let long_file = format!("http://192.0.2.5/{}", "f".repeat(120));
    let long_server = format!("{}.example.org", "s".repeat(60));
    let b = Boot {
        tftp_server: Some(long_server.clone()),
        file_bios: Some(long_file.clone()),
        ..boot()
    };
    let a = answer("pxe-bios", &binding(FIXTURES[0].1, Some(b)));
    let got = said(&a);
    assert_eq!(got.sname, "");
    assert_eq!(got.file, "");
    assert_eq!(got.opt66, Some(long_server));
    assert_eq!(got.opt67, Some(long_file));
    // A 127-byte name fits `file` with its NUL.
    let fits = "f".repeat(127);
    let b = Boot {
        file_bios: Some(fits.clone()),
        ..boot()
    };
    let a = answer("pxe-bios", &binding(FIXTURES[0].1, Some(b)));
    assert_eq!(said(&a).file, fits);
    assert_eq!(a.payload[field::FILE.end - 1], 0);
}

#[test]
fn options_66_and_67_go_to_a_client_that_does_not_ask_only_when_they_do_not_fit() {
    // A DISCOVER asking for 1 and 3 only, arch 0.
    let p = bios_with(&[53, 1, 1, 55, 2, 1, 3, 93, 2, 0, 0]);
    let a = answer_to(&p, &binding(FIXTURES[0].1, Some(boot())));
    assert_eq!(
        said(&a),
        want("bios/pxelinux.0", false, false, Some("PXEClient"))
    );
}

#[test]
fn a_nak_carries_no_boot_parameters() {
    // A REQUEST for another address from the BIOS ROM's MAC.
    let p = bios_with(&[53, 1, 3, 50, 4, 192, 0, 2, 99]);
    let a = answer_to(&p, &binding(FIXTURES[0].1, Some(boot())));
    assert_eq!(a.kind, ReplyKind::Nak);
    assert_eq!(said(&a).siaddr, Ipv4Addr::UNSPECIFIED);
    assert!(a.payload[field::SNAME_FILE].iter().all(|&b| b == 0));
}

#[test]
fn boot_replies_are_the_golden_frames() {
    let c = config();
    let mut got = Vec::new();
    for (name, mac) in FIXTURES {
        for (bn, boot) in [("boot", Some(boot())), ("plain", None)] {
            let b = binding(mac, boot);
            let p = udp_packet(&payload(name), Ipv4Addr::UNSPECIFIED);
            got.push(line(&format!("{name}/{bn}"), &handle(&ctx(&c, &b), &p)));
        }
    }
    check_golden(GOLDEN, &got);
}

#[test]
fn the_configs_boot_defaults_serve_every_binding_and_each_binding_key_overrides_its_own() {
    let mut c = config();
    c.dhcp.boot = Some(Box::new(Boot {
        next_server: Some(Ipv4Addr::new(192, 0, 2, 6)),
        file_bios: Some("node/pxelinux.0".into()),
        file_efi: Some("node/grubx64.efi".into()),
        ..Boot::default()
    }));
    let reply = |b: &Binding, name: &str| {
        let p = udp_packet(&payload(name), Ipv4Addr::UNSPECIFIED);
        match handle(&ctx(&c, b), &p) {
            Outcome::Reply(r) => said(&Answer::of(&r)),
            other => panic!("{other:?}"),
        }
    };
    // A binding without boot keys: the config's.
    let got = reply(&binding(FIXTURES[0].1, None), "pxe-bios");
    assert_eq!(
        (got.siaddr, got.file.as_str(), got.opt60.as_deref()),
        (
            Ipv4Addr::new(192, 0, 2, 6),
            "node/pxelinux.0",
            Some("PXEClient")
        )
    );
    // A binding with its own BOOTFILE_EFI and NEXT_SERVER: those, and the
    // config's BIOS file for a BIOS client.
    let own = Boot {
        next_server: Some(NEXT_SERVER),
        file_efi: Some("vm/grubx64.efi".into()),
        ..Boot::default()
    };
    let got = reply(&binding(FIXTURES[2].1, Some(own.clone())), "pxe-efi");
    assert_eq!(
        (got.siaddr, got.file.as_str()),
        (NEXT_SERVER, "vm/grubx64.efi")
    );
    let got = reply(&binding(FIXTURES[0].1, Some(own)), "pxe-bios");
    assert_eq!(
        (got.siaddr, got.file.as_str()),
        (NEXT_SERVER, "node/pxelinux.0")
    );
}

#[test]
fn the_firmwares_own_requests_get_an_ack_with_their_boot_file() {
    // Each REQUEST selected dnsmasq's offer of 192.0.2.10 from 192.0.2.1:
    // the routed binding's address, the server identifier configured here.
    // EDK2's PXE asks in it for replies of up to 65280 bytes (option 57):
    // the ACK is an ordinary one, within the link's MTU.
    let mut c = config();
    c.dhcp.server_ip = Some(Ipv4Addr::new(192, 0, 2, 1));
    for (name, mac, file, vendor) in [
        (
            "ipxe-request",
            FIXTURES[1].1,
            "http://192.0.2.5/boot.ipxe",
            "PXEClient",
        ),
        (
            "pxe-efi-request",
            FIXTURES[2].1,
            "efi/grubx64.efi",
            "PXEClient",
        ),
        (
            "http-efi-request",
            FIXTURES[3].1,
            "http://192.0.2.5/efi/shim.efi",
            "HTTPClient",
        ),
    ] {
        let b = binding(mac, Some(boot()));
        let p = udp_packet(&payload(name), Ipv4Addr::UNSPECIFIED);
        let a = match handle(&ctx(&c, &b), &p) {
            Outcome::Reply(r) => Answer::of(&r),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(a.kind, ReplyKind::Ack, "{name}");
        assert_eq!(a.message.yiaddr(), routed().ip.unwrap(), "{name}");
        let got = said(&a);
        assert_eq!(
            (
                got.siaddr,
                got.file.as_str(),
                got.opt67.as_deref(),
                got.opt60.as_deref()
            ),
            (NEXT_SERVER, file, Some(file), Some(vendor)),
            "{name}"
        );
        assert!(a.payload.len() <= 1500 - 28, "{name}: {}", a.payload.len());
    }
}
