//! Network boot end to end with real firmware: qemu (TCG, or KVM with
//! `NFDHCPD_QEMU_ACCEL=kvm`) boots SeaBIOS with iPXE's option ROM, or OVMF
//! (EDK2) for UEFI PXE and UEFI HTTP boot, with no disk and its NIC on a
//! tap in the test's hypervisor namespace; the real daemon and iptables
//! rules answer it from a binding with boot keys. tcpdump on the tap
//! shows, dissected by tshark, the firmware's DISCOVER, the daemon's
//! OFFER with the boot file for that firmware, the firmware's REQUEST for
//! it and the ACK, then the VM's ARP request, from its leased address,
//! for `NEXT_SERVER`: the firmware took the lease and goes for its boot
//! file over TFTP or HTTP (from a server that is not there; qemu is
//! killed by its PID).
//!
//! qemu and the firmware (packages qemu-system-x86, seabios, ipxe-qemu,
//! ovmf) are prerequisites, fatal when CI is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// OVMF's code and variable template (Debian's ovmf, 4 MiB flash).
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// iPXE's e1000 option ROM (Debian's ipxe-qemu). SeaBIOS here did not
/// run the virtio-net one.
const IPXE_ROM: &str = "/usr/lib/ipxe/qemu/pxe-e1000.rom";
/// SeaBIOS (Debian's seabios), qemu's default BIOS.
const SEABIOS: &str = "/usr/share/seabios/bios-256k.bin";

/// The VM's tap and address.
const TAP: &str = "tap-fw";
const IP: &str = "192.0.2.30";

/// The firmware a VM boots.
#[derive(Debug, Clone, Copy)]
enum Firmware {
    /// SeaBIOS, booting from iPXE's option ROM.
    Ipxe,
    /// OVMF's PXE (UefiPxeBcDxe), over its own virtio-net driver.
    UefiPxe,
    /// OVMF's HTTP boot (HttpBootDxe): PXE and IPv6 turned off through
    /// fw_cfg, so the boot manager's first network option is HTTPv4.
    UefiHttp,
}

impl Firmware {
    /// The files qemu needs for it.
    fn files(self) -> &'static [&'static str] {
        match self {
            Firmware::Ipxe => &[SEABIOS, IPXE_ROM],
            Firmware::UefiPxe | Firmware::UefiHttp => &[OVMF_CODE, OVMF_VARS],
        }
    }

    /// qemu's arguments for it, after the accelerator and the tap.
    fn args(self, dir: &Path, mac: &str) -> Vec<String> {
        let mut a: Vec<String> = match self {
            // SeaBIOS runs the ROM's boot entry only with the NIC first
            // in the boot order (bootindex; `-boot n` is not enough).
            Firmware::Ipxe => vec![
                "-vga".into(),
                "std".into(),
                "-device".into(),
                format!("e1000,netdev=n0,mac={mac},bootindex=1,romfile={IPXE_ROM}"),
            ],
            Firmware::UefiPxe | Firmware::UefiHttp => {
                let vars = dir.join("OVMF_VARS.fd");
                std::fs::copy(OVMF_VARS, &vars).expect("copy OVMF_VARS");
                vec![
                    "-drive".into(),
                    format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
                    "-drive".into(),
                    format!("if=pflash,format=raw,file={}", vars.display()),
                    "-device".into(),
                    // No option ROM: EDK2's VirtioNetDxe, not iPXE's driver.
                    format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
                ]
            }
        };
        if let Firmware::UefiHttp = self {
            for knob in ["IPv4PXESupport", "IPv6PXESupport", "IPv6Support"] {
                a.push("-fw_cfg".into());
                a.push(format!("name=opt/org.tianocore/{knob},string=no"));
            }
        }
        a
    }
}

/// The end-to-end prerequisites plus qemu and the firmware files.
fn firmware_prerequisites(fw: Firmware) -> bool {
    if !prerequisites(&["qemu-system-x86_64", "tcpdump", "tshark"]) {
        return false;
    }
    let missing: Vec<&str> = fw
        .files()
        .iter()
        .copied()
        .filter(|f| !Path::new(f).is_file())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("firmware missing: {}", missing.join(", "));
    if in_ci() {
        panic!("{msg} (CI is set: install seabios, ipxe-qemu and ovmf, see .ci/setup)");
    }
    eprintln!("SKIP: {msg}");
    false
}

/// The accelerator and how long a boot may take. TCG unless
/// `NFDHCPD_QEMU_ACCEL=kvm`: a nested KVM (this kind of machine) fails to
/// emulate OVMF's first x87 instructions ("KVM internal error") and iPXE
/// sends nothing under it, while TCG boots both to DHCP in seconds.
fn accel() -> (String, Duration) {
    match std::env::var("NFDHCPD_QEMU_ACCEL") {
        Ok(a) if a == "kvm" => (a, Duration::from_secs(40)),
        _ => ("tcg".to_string(), Duration::from_secs(120)),
    }
}

/// qemu booting `fw` from the network on `tap` in `ns`; killed (by its
/// PID) on drop, even when the test fails.
struct Qemu {
    child: Child,
    serial: PathBuf,
}

impl Qemu {
    fn start(ns: &Netns, dir: &Path, tap: &str, mac: &str, fw: Firmware, accel: &str) -> Qemu {
        let serial = dir.join("serial.log");
        let log = std::fs::File::create(dir.join("qemu.log")).expect("qemu log");
        // `ip netns exec` execs qemu: the child's PID is qemu's.
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "qemu-system-x86_64"])
            .args([
                "-accel",
                accel,
                "-m",
                "256",
                "-display",
                "none",
                "-nodefaults",
            ])
            .args(["-monitor", "none", "-serial"])
            .arg(format!("file:{}", serial.display()))
            .args(["-netdev"])
            .arg(format!("tap,id=n0,ifname={tap},script=no,downscript=no"))
            .args(fw.args(dir, mac))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn qemu");
        Qemu { child, serial }
    }

    /// What the firmware printed on its serial console, and qemu's errors.
    fn output(&self) -> String {
        let qemu = self.serial.with_file_name("qemu.log");
        format!(
            "serial:\n{}\nqemu:\n{}",
            std::fs::read_to_string(&self.serial).unwrap_or_default(),
            std::fs::read_to_string(qemu).unwrap_or_default()
        )
    }

    /// Is qemu still running?
    fn alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One DHCP message of the capture, as tshark dissects it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    /// Option 53.
    kind: u8,
    /// The frame's source MAC.
    src: String,
    /// Option 93, the client's architecture.
    arch: String,
    /// Option 60.
    vendor: String,
    /// Option 77, as text.
    user_class: String,
    yiaddr: String,
    siaddr: String,
    file: String,
    /// Option 67.
    bootfile: String,
    /// Option 50.
    requested: String,
    /// Option 54.
    server_id: String,
}

const FIELDS: [&str; 11] = [
    "dhcp.option.dhcp",
    "eth.src",
    "dhcp.option.client_system_architecture",
    "dhcp.option.vendor_class_id",
    "dhcp.option.user_class.text",
    "dhcp.ip.your",
    "dhcp.ip.server",
    "dhcp.file",
    "dhcp.option.bootfile_name",
    "dhcp.option.requested_ip_address",
    "dhcp.option.dhcp_server_id",
];

/// The DHCP messages of `pcap`, in order.
fn messages(pcap: &Path) -> Vec<Msg> {
    let fields: String = FIELDS.iter().map(|f| format!(" -e {f}")).collect();
    let out = sh_out(&format!(
        "tshark -r {} -Y dhcp -T fields -E separator='|' -E occurrence=f{fields} 2>/dev/null",
        pcap.display()
    ));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let s = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            Some(Msg {
                kind: f.first()?.parse().ok()?,
                src: s(1),
                arch: s(2),
                vendor: s(3),
                user_class: s(4),
                yiaddr: s(5),
                siaddr: s(6),
                file: s(7),
                bootfile: s(8),
                requested: s(9),
                server_id: s(10),
            })
        })
        .collect()
}

/// The VM, with its leased address, asks who has `NEXT_SERVER` (ARP): it
/// took the ACK and goes for its boot file.
fn asks_for_next_server(pcap: &Path) -> bool {
    let out = sh_out(&format!(
        "tshark -r {} -Y 'arp.opcode == 1 && arp.src.proto_ipv4 == {IP} && arp.dst.proto_ipv4 == 192.0.2.5' 2>/dev/null",
        pcap.display()
    ));
    !out.stdout.is_empty()
}

/// The first message of `kind` after index `from`.
fn first(msgs: &[Msg], kind: u8, from: usize) -> Option<usize> {
    msgs.iter()
        .skip(from)
        .position(|m| m.kind == kind)
        .map(|i| i + from)
}

/// The DISCOVER, OFFER, REQUEST and ACK of one firmware boot, in that
/// order; None until the ACK is there.
fn exchange(msgs: &[Msg]) -> Option<[&Msg; 4]> {
    let d = first(msgs, 1, 0)?;
    let o = first(msgs, 2, d)?;
    let r = first(msgs, 3, o)?;
    let a = first(msgs, 5, r)?;
    Some([&msgs[d], &msgs[o], &msgs[r], &msgs[a]])
}

/// Boots `fw` in a VM with MAC `mac` on a tap whose binding has the boot
/// keys; returns the firmware's DISCOVER, OFFER, REQUEST and ACK, once
/// the ACK is captured and the VM asks (ARP) for `NEXT_SERVER` from its
/// leased address, with no NAK on the way (panics, with the firmware's
/// console and the daemon's log, when it is not in time).
fn boot(tag: &str, fw: Firmware, mac: &str) -> [Msg; 4] {
    let (accel, wait) = accel();
    let t = Topology::new(tag);
    let dir = t.dir.path();
    t.host.run(&format!(
        "ip tuntap add {TAP} mode tap && ip link set {TAP} up && \
         iptables -t mangle -A PREROUTING -i {TAP} -p udp --dport 67 -j NFQUEUE --queue-num 42"
    ));
    t.write_binding(
        TAP,
        &format!("IP={IP}\nMAC={mac}\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\n{BOOT_KEYS}"),
    );
    let d = t.start_daemon(&t.write_config("", ""));
    d.wait_for("tap-fw active", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == TAP && b.state == "active")
    });
    let secs = wait.as_secs() as u32 + 10;
    let mut cap = t.host.capture(
        TAP,
        dir,
        "firmware",
        "udp port 67 or udp port 68 or arp",
        secs,
    );
    let mut vm = Qemu::start(&t.host, dir, TAP, mac, fw, &accel);
    let deadline = Instant::now() + wait;
    loop {
        let msgs = messages(&cap.pcap);
        let done = exchange(&msgs).filter(|_| asks_for_next_server(&cap.pcap));
        if let Some(x) = done {
            assert!(msgs.iter().all(|m| m.kind != 6), "a NAK: {msgs:#?}");
            drop(vm);
            cap.stop();
            t.wait_queues_empty();
            return x.map(Clone::clone);
        }
        assert!(
            vm.alive() && Instant::now() < deadline,
            "{fw:?}: no DISCOVER, OFFER, REQUEST, ACK and ARP for NEXT_SERVER in {wait:?} ({accel}): {msgs:#?}\n{}\nlog:\n{}",
            vm.output(),
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The exchange's checks common to every firmware: the DISCOVER from the
/// VM's MAC, an OFFER and an ACK of its address with `NEXT_SERVER` and
/// `file`, echoing `vendor` in option 60, and a REQUEST for that address
/// from the daemon (its server identifier).
fn check(x: &[Msg; 4], mac: &str, file: &str, vendor: &str) {
    let [discover, offer, request, ack] = x;
    assert_eq!(discover.src, mac, "{x:#?}");
    for reply in [offer, ack] {
        assert_eq!(
            (
                reply.yiaddr.as_str(),
                reply.siaddr.as_str(),
                reply.file.as_str(),
                reply.bootfile.as_str(),
                reply.vendor.as_str()
            ),
            (IP, "192.0.2.5", file, file, vendor),
            "{x:#?}"
        );
    }
    assert_eq!(request.src, mac, "{x:#?}");
    assert_eq!(
        (request.requested.as_str(), request.server_id.as_str()),
        (IP, "192.0.2.1"),
        "{x:#?}"
    );
}

/// Boots `fw` (when its prerequisites are there) as [`boot`] does and
/// checks the exchange: a DISCOVER with architecture `arch` and a vendor
/// class starting with `class`, then as [`check`] with `file` and
/// `vendor`. None when skipped.
fn boots_and_takes(
    tag: &str,
    fw: Firmware,
    mac: &str,
    arch: &str,
    class: &str,
    file: &str,
    vendor: &str,
) -> Option<[Msg; 4]> {
    if !firmware_prerequisites(fw) {
        return None;
    }
    let x = boot(tag, fw, mac);
    assert_eq!(x[0].arch, arch, "{x:#?}");
    assert!(x[0].vendor.starts_with(class), "{x:#?}");
    check(&x, mac, file, vendor);
    Some(x)
}

#[test]
fn ipxe_in_seabios_takes_the_offer_of_bootfile_ipxe() {
    // iPXE says so (option 77) and is a PC BIOS client (option 93 = 0):
    // it gets BOOTFILE_IPXE, not BOOTFILE_BIOS, so it does not load a
    // PXE file that would chain-load iPXE again.
    let file = "http://192.0.2.5/boot.ipxe";
    let class = "PXEClient:Arch:00000";
    let mac = "52:54:00:00:0b:01";
    if let Some(x) = boots_and_takes("fwi", Firmware::Ipxe, mac, "0", class, file, "PXEClient") {
        assert_eq!(x[0].user_class, "iPXE", "{x:#?}");
    }
}

#[test]
fn uefi_pxe_in_ovmf_takes_the_offer_of_bootfile_efi() {
    let class = "PXEClient:Arch:00007";
    let mac = "52:54:00:00:0b:02";
    boots_and_takes(
        "fwe",
        Firmware::UefiPxe,
        mac,
        "7",
        class,
        "efi/grubx64.efi",
        "PXEClient",
    );
}

#[test]
fn uefi_http_boot_in_ovmf_takes_the_offer_of_bootfile_http() {
    let file = "http://192.0.2.5/efi/shim.efi";
    let class = "HTTPClient:Arch:00016";
    let mac = "52:54:00:00:0b:02";
    boots_and_takes(
        "fwh",
        Firmware::UefiHttp,
        mac,
        "16",
        class,
        file,
        "HTTPClient",
    );
}
