//! Network boot end to end: the real daemon and iptables rules; the
//! requests of real boot firmware (tests/fixtures/boot/*.hex: a BIOS PXE
//! ROM, iPXE, UEFI PXE and UEFI HTTP boot clients; tests/e2e_firmware.rs
//! boots the firmware itself) sent from VM namespaces whose MAC is the
//! request's chaddr, the replies captured there and dissected by tshark;
//! real udhcpc, dhclient and dhclient -6 for the same VMs.

mod common;

use std::path::Path;

use common::*;

/// A binding without boot keys, on tap-r.
const PLAIN: &str =
    "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\n";

/// The DHCP payload of a fixture, as hex (its `#` comment lines dropped).
fn fixture_hex(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/boot/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect(&path);
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

/// Sends the DHCP payload `hex` from `vm`'s eth0 (no address yet:
/// source 0.0.0.0:68, to 255.255.255.255:67, as firmware does), with a
/// tcpdump running on eth0; returns the DHCPOFFER tshark dissects, as
/// `siaddr|sname|file|option 66|option 67|option 60`.
fn offer_to(t: &Topology, vm: &Netns, name: &str, hex: &str) -> String {
    let dir = t.dir.path();
    let send = dir.join("send.py");
    std::fs::write(
        &send,
        "import socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')\n\
         s.bind(('0.0.0.0', 68))\n\
         s.sendto(bytes.fromhex(sys.argv[1]), ('255.255.255.255', 67))\n",
    )
    .unwrap();
    let mut cap = vm.capture("eth0", dir, name, "udp src port 67", 10);
    vm.run(&format!("python3 {} {hex}", send.display()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    cap.stop();
    dissect(&cap.pcap)
}

/// The DHCPOFFERs of a capture, one line each, dissected by tshark.
fn dissect(pcap: &Path) -> String {
    sh(&format!(
        "tshark -r {} -Y 'dhcp.option.dhcp == 2' -T fields -E separator='|' \
         -e dhcp.ip.server -e dhcp.server -e dhcp.file -e dhcp.option.tftp_server_name \
         -e dhcp.option.bootfile_name -e dhcp.option.vendor_class_id 2>/dev/null",
        pcap.display()
    ))
    .trim()
    .to_string()
}

#[test]
fn boot_firmware_requests_get_their_boot_file_and_leases_still_work() {
    if !prerequisites(&["tshark", "tcpdump", "python3", "udhcpc", "dhclient"]) {
        return;
    }
    let t = Topology::new("bt4");
    let vms = [
        ("tap-pb", "d0:50:99:4e:05:57", "192.0.2.21"),
        ("tap-px", "52:54:00:00:0b:01", "192.0.2.22"),
        ("tap-pe", "52:54:00:00:0b:02", "192.0.2.23"),
    ];
    let netns: Vec<Netns> = vms
        .iter()
        .map(|(port, mac, ip)| {
            t.write_binding(
                port,
                &format!("IP={ip}\nMAC={mac}\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\n{BOOT_KEYS}"),
            );
            t.host.run(&format!(
                "iptables -t mangle -A PREROUTING -i {port} -p udp --dport 67 -j NFQUEUE --queue-num 42"
            ));
            t.add_vm(port, mac, false)
        })
        .collect();
    t.write_binding("tap-r", PLAIN);
    t.install_rules();
    let mut d = t.start_daemon(&t.write_config("", ""));
    d.wait_for("four bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 4
    });
    let [bios, ipxe, efi] = [&netns[0], &netns[1], &netns[2]];
    let server = "192.0.2.5|boot.example.org";
    for (vm, fixture, want) in [
        (
            bios,
            "pxe-bios",
            format!("{server}|bios/pxelinux.0|boot.example.org|bios/pxelinux.0|PXEClient"),
        ),
        (
            ipxe,
            "ipxe",
            format!("{server}|http://192.0.2.5/boot.ipxe|boot.example.org|http://192.0.2.5/boot.ipxe|PXEClient"),
        ),
        (
            efi,
            "pxe-efi",
            format!("{server}|efi/grubx64.efi|boot.example.org|efi/grubx64.efi|PXEClient"),
        ),
        (
            efi,
            "http-efi",
            // No option 66: HttpBootDxe does not ask for it.
            format!("{server}|http://192.0.2.5/efi/shim.efi||http://192.0.2.5/efi/shim.efi|HTTPClient"),
        ),
    ] {
        let got = offer_to(&t, vm, fixture, &fixture_hex(fixture));
        assert_eq!(got, want, "{fixture}; log:\n{}", d.log_text());
    }
    // tap-pb's file rewritten with a bad BOOTFILE_HTTP: refused, named in
    // the status, its last good binding still serves the BIOS file; the
    // other VMs are untouched.
    t.write_binding(
        "tap-pb",
        &format!("IP=192.0.2.21\nMAC={}\nSUBNET=192.0.2.0/24\n{BOOT_KEYS}BOOTFILE_HTTP=tftp://192.0.2.5/shim.efi\n", vms[0].1)
            .replace("BOOTFILE_HTTP=http://192.0.2.5/efi/shim.efi\n", ""),
    );
    let st = d.wait_for("tap-pb invalid", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-pb" && b.state == "invalid")
    });
    let pb = st.binding("tap-pb").expect("tap-pb");
    assert_eq!(pb.last_good_served, Some(true));
    let err = pb.error.clone().unwrap_or_default();
    assert!(
        err.contains("BOOTFILE_HTTP=\"tftp://192.0.2.5/shim.efi\"")
            && err.contains("not a URL of the form http(s)://host/path"),
        "{err}"
    );
    assert_eq!(
        st.bindings.iter().filter(|b| b.state == "active").count(),
        3
    );
    let got = offer_to(&t, bios, "pxe-bios-last-good", &fixture_hex("pxe-bios"));
    assert!(
        got.starts_with("192.0.2.5|boot.example.org|bios/pxelinux.0|"),
        "{got}"
    );
    // The BIOS ROM's request from the VM without boot keys (its chaddr
    // made that VM's MAC): an ordinary offer, no boot field, no option 60.
    let hex = fixture_hex("pxe-bios");
    let plain_hex = format!("{}aa0000000010{}", &hex[..56], &hex[68..]);
    let got = offer_to(&t, &t.vm_r, "pxe-plain", &plain_hex);
    assert_eq!(got, "0.0.0.0|||||", "log:\n{}", d.log_text());
    // Real clients of the boot VMs still get their leases.
    let (ok, ev) = udhcpc_once(&t, bios, "udhcpc-boot", "");
    assert!(ok, "udhcpc failed; log:\n{}", d.log_text());
    let bound = ev.iter().rev().find(|(e, _)| e == "bound").expect("bound");
    assert_eq!(bound.1["ip"], "192.0.2.21");
    let dir = t.dir.path();
    let conf = dir.join("dhclient.conf");
    std::fs::write(&conf, "timeout 6; retry 1; initial-interval 1;\n").unwrap();
    let (script, log) = client_script(dir, "dhclient-boot");
    let pid = dir.join("dhclient-boot.pid");
    let out = efi.dhclient_once(&conf, &script, &dir.join("dhclient-boot.leases"), &pid);
    assert!(
        out.status.success(),
        "dhclient failed; log:\n{}",
        d.log_text()
    );
    let ev = client_events(&log);
    let bound = ev.iter().rev().find(|(e, _)| e == "BOUND").expect("BOUND");
    assert_eq!(bound.1["new_ip_address"], "192.0.2.23");
    t.wait_queues_empty();
    assert!(d.stop().success());
}

#[test]
fn the_configs_boot_defaults_serve_a_vm_without_boot_keys() {
    if !prerequisites(&["tshark", "tcpdump", "python3", "udhcpc"]) {
        return;
    }
    let t = Topology::new("btc");
    t.write_binding("tap-r", PLAIN);
    t.install_rules();
    let extra =
        "next_server = 192.0.2.6\ntftp_server = node.example.org\nbootfile_bios = node/pxelinux.0";
    let mut d = t.start_daemon(&t.write_config(extra, ""));
    d.wait_for("tap-r active", |s| {
        s.bindings.iter().any(|b| b.state == "active")
    });
    // The BIOS ROM's request with tap-r's VM's MAC as chaddr.
    let hex = fixture_hex("pxe-bios");
    let hex = format!("{}aa0000000010{}", &hex[..56], &hex[68..]);
    let got = offer_to(&t, &t.vm_r, "pxe-node", &hex);
    assert_eq!(
        got,
        "192.0.2.6|node.example.org|node/pxelinux.0|node.example.org|node/pxelinux.0|PXEClient",
        "log:\n{}",
        d.log_text()
    );
    // udhcpc still gets its lease.
    let (ok, ev) = udhcpc_once(&t, &t.vm_r, "udhcpc-node", "");
    assert!(ok, "log:\n{}", d.log_text());
    let bound = ev.iter().rev().find(|(e, _)| e == "bound").expect("bound");
    assert_eq!(bound.1["ip"], "192.0.2.10");
    t.wait_queues_empty();
    assert!(d.stop().success());
}

#[test]
fn dhclient6_asking_for_the_boot_file_url_gets_bootfile6() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let t = Topology::new("bt6");
    let url = "tftp://[2001:db8::5]/efi/grubx64.efi";
    let binding_r = format!(
        "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\nBOOTFILE6={url}\n"
    );
    let binding_b = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nSUBNET=198.51.100.0/24\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\n";
    let mut d = t.start_ipv6(&binding_r, binding_b, "");
    let dir = t.dir.path();
    let conf = dir.join("dhclient6.conf");
    std::fs::write(&conf, "also request dhcp6.bootfile-url;\n").unwrap();
    let inform = |vm: &Netns, name: &str, cf: &str| {
        let (script, log) = client_script(dir, name);
        let _ = vm.run_out(&format!(
            "timeout 6 dhclient -6 -S {cf} -v -1 -d -sf {} -lf {d}/{name}.leases -pf {d}/{name}.pid eth0 >{d}/{name}.out 2>&1",
            script.display(),
            d = dir.display(),
        ));
        let events = client_events(&log);
        events
            .iter()
            .find(|(e, _)| e == "INFORM6" || e == "RENEW6")
            .cloned()
            .unwrap_or_else(|| {
                let out = std::fs::read_to_string(dir.join(format!("{name}.out")));
                panic!(
                    "{name}: no INFORM6: {events:?}\n{}",
                    out.unwrap_or_default()
                )
            })
            .1
    };
    let cf = format!("-cf {}", conf.display());
    // Asked: the binding's BOOTFILE6.
    let v = inform(&t.vm_r, "boot6", &cf);
    assert_eq!(
        v.get("new_dhcp6_bootfile_url").map(String::as_str),
        Some(url),
        "{v:?}\nlog:\n{}",
        d.log_text()
    );
    // Not asked: none; asked of a binding without BOOTFILE6: none.
    let v = inform(&t.vm_r, "plain6", "");
    assert!(!v.contains_key("new_dhcp6_bootfile_url"), "{v:?}");
    assert!(v.contains_key("new_dhcp6_name_servers"), "{v:?}");
    let v = inform(&t.vm_b, "other6", &cf);
    assert!(!v.contains_key("new_dhcp6_bootfile_url"), "{v:?}");
    t.wait_queues_empty();
    assert!(d.stop().success());
}
