//! `nfdhcpd replay` of the boot firmware requests (tests/fixtures/boot,
//! see the README there): each written as an Ethernet frame from its
//! client's MAC into a pcap, replayed by the command against a binding
//! with that MAC, with and without boot keys; tshark dissects the replies
//! (siaddr, sname, file, options 66, 67, 60) and finds no malformed
//! packet and no bad checksum. tshark is a prerequisite, fatal when CI is
//! set.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use nfdhcpd::mac::MacAddr;
use nfdhcpd::proto::frame;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The DHCP payload of a fixture (hex lines, `#` comments).
fn payload(name: &str) -> Vec<u8> {
    let path = root().join(format!("tests/fixtures/boot/{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap();
    let hex: String = text.lines().filter(|l| !l.starts_with('#')).collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A pcap of the fixture's request as its client sends it: from its MAC
/// (chaddr) and 0.0.0.0:68 to the broadcast :67.
fn write_pcap(path: &Path, name: &str, mac: MacAddr) {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let f = frame::emit_ipv4_udp(
        mac,
        MacAddr::BROADCAST,
        std::net::Ipv4Addr::UNSPECIFIED,
        std::net::Ipv4Addr::BROADCAST,
        68,
        67,
        &payload(name),
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::with_header(file, PcapHeader::default()).unwrap();
    let pkt = PcapPacket::new(std::time::Duration::ZERO, f.len() as u32, &f);
    w.write_packet(&pkt).unwrap();
}

/// Replays fixture `name` against tap-boot with MAC `mac` and `keys`;
/// returns tshark's `siaddr|sname|file|66|67|60|message type` of the
/// reply, and the command's output.
fn replayed(tshark: &Path, dir: &Path, name: &str, mac: &str, keys: &str) -> (String, String) {
    let datapath = dir.join(format!("{name}-bindings"));
    std::fs::create_dir_all(&datapath).unwrap();
    std::fs::write(
        datapath.join("tap-boot"),
        format!("MAC={mac}\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n{keys}"),
    )
    .unwrap();
    let input = dir.join(format!("{name}.pcap"));
    write_pcap(&input, name, mac.parse().unwrap());
    let out = dir.join(format!("{name}-replies.pcap"));
    let run = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .arg("-c")
        .arg(root().join("tests/fixtures/compat/nfdhcpd.conf"))
        .arg("replay")
        .arg("--datapath")
        .arg(&datapath)
        .args(["--tap", "tap-boot", "--out"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert!(run.status.success(), "{name}: {run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let v = Command::new(tshark)
        .arg("-r")
        .arg(&out)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-V",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success(), "{name}: tshark {v:?}");
    assert!(!text.contains("Malformed"), "{name}: {text}");
    assert!(!text.contains("Expert Info (Error"), "{name}: {text}");
    assert!(!text.contains("[incorrect"), "{name}: bad checksum: {text}");
    assert!(
        !text.contains("Option Overload"),
        "{name}: option 52: {text}"
    );
    let fields = [
        "dhcp.ip.server",
        "dhcp.server",
        "dhcp.file",
        "dhcp.option.tftp_server_name",
        "dhcp.option.bootfile_name",
        "dhcp.option.vendor_class_id",
        "dhcp.option.dhcp",
    ];
    let f = Command::new(tshark)
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-E", "separator=|"])
        .args(fields.iter().flat_map(|f| ["-e", f]))
        .output()
        .unwrap();
    let dissected = String::from_utf8_lossy(&f.stdout).trim().to_string();
    (dissected, stdout)
}

#[test]
fn boot_firmware_requests_replayed_get_replies_tshark_dissects() {
    if !common::prerequisites(&["tshark"]) {
        return;
    }
    let tshark = common::which("tshark").expect("checked");
    let dir = tempfile::tempdir().unwrap();
    let server = "192.0.2.5|boot.example.org";
    // (fixture, chaddr, boot file, option 60, option 66: asked for)
    let cases = [
        (
            "pxe-bios",
            "d0:50:99:4e:05:57",
            "bios/pxelinux.0",
            "PXEClient",
            "boot.example.org",
        ),
        (
            "ipxe",
            "52:54:00:00:0b:01",
            "http://192.0.2.5/boot.ipxe",
            "PXEClient",
            "boot.example.org",
        ),
        (
            "pxe-efi",
            "52:54:00:00:0b:02",
            "efi/grubx64.efi",
            "PXEClient",
            "boot.example.org",
        ),
        (
            "http-efi",
            "52:54:00:00:0b:02",
            "http://192.0.2.5/efi/shim.efi",
            "HTTPClient",
            // EDK2's HttpBootDxe asks for 67, not 66.
            "",
        ),
    ];
    for (name, mac, file, vendor, opt66) in cases {
        let (got, out) = replayed(&tshark, dir.path(), name, mac, common::BOOT_KEYS);
        // Every one asks for 67 (and all but HTTP boot for 66): in the
        // fields and the options.
        let want = format!("{server}|{file}|{opt66}|{file}|{vendor}|2");
        assert_eq!(got, want, "{name}");
        // The command's own line for the reply names them.
        let said = format!("next-server 192.0.2.5 file \"{file}\"");
        assert!(out.contains(&said), "{name}: {out}");
        // The same request to a binding without boot keys: an ordinary
        // offer (tshark prints 0.0.0.0 for siaddr and nothing else).
        let (plain, out) = replayed(&tshark, dir.path(), name, mac, "");
        assert_eq!(plain, "0.0.0.0||||||2", "{name} without boot keys");
        assert!(
            !out.contains("next-server") && !out.contains("file"),
            "{out}"
        );
    }
}
