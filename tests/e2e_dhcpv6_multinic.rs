//! Stateful DHCPv6 for a guest with two NICs, end to end: one VM namespace
//! with eth0 on tap-r and eth1 on tap-s, each tap bound, and one dhclient
//! -6 for both NICs with one DUID-LLT made from eth0's MAC, as dhclient,
//! Windows and others do (RFC 8415 §11: one DUID per device). Each NIC
//! must get its own tap's address.

mod common;

use std::path::Path;

use common::*;
use nfdhcpd::mac::MacAddr;
use nfdhcpd::ops::replay;
use nfdhcpd::proto::{dhcpv6, frame};

/// The first NIC (eth0, on tap-r): its MAC is in the DUID.
const BINDING_R: &str = "INDEV=tap-r\nMAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\n";
/// The second NIC (eth1, on tap-s).
const BINDING_S: &str = "INDEV=tap-s\nMAC=aa:00:00:00:00:30\nSUBNET6=2001:db8:3::/64\nGATEWAY6=2001:db8:3::1\nEUI64=2001:db8:3::a800:ff:fe00:30\n";
const MAC_S: &str = "aa:00:00:00:00:30";
const ADDR_R: &str = "2001:db8:1:0:a800:ff:fe00:10";
const ADDR_S: &str = "2001:db8:3:0:a800:ff:fe00:30";

/// DUID-LLT (RFC 8415 §11.2): type 1, hardware type 1 (Ethernet), a time,
/// and eth0's MAC.
fn duid_of_first_nic() -> Vec<u8> {
    let mut d = vec![0, 1, 0, 1, 0x2f, 0x1b, 0x3c, 0x4d];
    d.extend_from_slice(&MAC_R.parse::<MacAddr>().expect("a MAC").octets());
    d
}

/// A dhclient lease file holding only `default-duid`, in dhclient's own
/// octal-escaped form: dhclient -6 then sends this DUID on every interface.
fn lease_file_with_duid(path: &Path, duid: &[u8]) {
    let escaped: String = duid.iter().map(|b| format!("\\{b:03o}")).collect();
    std::fs::write(path, format!("default-duid \"{escaped}\";\n")).expect("write lease file");
}

/// The topology of common.rs, plus tap-s ↔ eth1 into the routed VM, both
/// taps bound and queued, and the daemon in mode dhcpv6.
fn setup() -> (Topology, Daemon) {
    let t = Topology::new("mn6");
    t.host.run(&format!(
        "ip link add tap-s type veth peer name eth1 netns {} && \
         ip link set tap-s address fe:00:00:00:00:03 && ip link set tap-s up",
        t.vm_r.name
    ));
    t.vm_r.run(&format!(
        "ip link set eth1 address {MAC_S} && ip link set eth1 up && \
         sysctl -qw net.ipv6.conf.eth0.router_solicitations=0 net.ipv6.conf.eth1.router_solicitations=0"
    ));
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-s", BINDING_S);
    t.install_rules();
    t.host.run(
        "ip6tables -t mangle -A PREROUTING -i tap-s -p udp --dport 547 -j NFQUEUE --queue-num 45",
    );
    let cfg = t.write_config("", "mode = dhcpv6");
    let d = t.start_daemon(&cfg);
    for dev in ["eth0", "eth1"] {
        t.vm_r.wait_link_local(dev);
    }
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    (t, d)
}

/// Client identifiers of the DHCPv6 requests in a capture, with the
/// frames' source MACs. The UDP checksum is not verified: captured on the
/// sender, it is left to the veth's checksum offload.
fn client_ids(pcap: &Path) -> Vec<(MacAddr, Vec<u8>)> {
    let cap = replay::read_capture(std::fs::File::open(pcap).expect("capture"))
        .expect("a readable capture");
    cap.frames
        .iter()
        .filter_map(|f| {
            let ip = frame::parse_ipv6(replay::ip_packet(f)?).ok()?;
            let udp = ip.payload;
            let dst_port = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
            if ip.next_header != frame::PROTO_UDP || dst_port != dhcpv6::SERVER_PORT {
                return None;
            }
            let req = dhcpv6::parse_request(udp.get(frame::UDP_HDR_LEN..)?).ok()?;
            Some((frame::eth_src(&f.data)?, req.client_id?.to_vec()))
        })
        .collect()
}

#[test]
fn a_second_nic_sending_the_first_nics_duid_gets_its_own_address() {
    if !prerequisites(&["dhclient", "tcpdump"]) {
        return;
    }
    let (t, d) = setup();
    let dir = t.dir.path();
    let leases = dir.join("mn.leases");
    lease_file_with_duid(&leases, &duid_of_first_nic());
    // What eth1 really sends, read back below.
    let mut capture = t.vm_r.capture("eth1", dir, "eth1", "udp port 547", 20);
    let (script, log) = client_script(dir, "mn");
    let _ = t.vm_r.run_out(&format!(
        "timeout 6 dhclient -6 -v -1 -d -sf {} -lf {} -pf {}/mn.pid eth0 eth1 >{}/mn.out 2>&1",
        script.display(),
        leases.display(),
        dir.display(),
        dir.display()
    ));
    capture.stop();
    let pcap = capture.pcap.clone();
    let out = std::fs::read_to_string(dir.join("mn.out")).unwrap_or_default();
    let ev = client_events(&log);
    let bound: Vec<&str> = ev
        .iter()
        .filter(|(e, _)| e == "BOUND6")
        .filter_map(|(_, v)| v.get("new_ip6_address").map(String::as_str))
        .collect();
    let context = || format!("{ev:?}\n{out}\nlog:\n{}", d.log_text());
    // The case under test did happen: eth1 sent eth0's DUID.
    let sent = client_ids(&pcap);
    let eth1: MacAddr = MAC_S.parse().expect("a MAC");
    assert!(
        sent.iter()
            .any(|(src, id)| *src == eth1 && *id == duid_of_first_nic()),
        "eth1 did not send eth0's DUID-LLT: {sent:?}\n{}",
        context()
    );
    assert!(
        sent.iter().all(|(_, id)| *id == duid_of_first_nic()),
        "{sent:?}"
    );
    assert!(
        bound.contains(&ADDR_S),
        "eth1 got no address: {}",
        context()
    );
    assert!(
        bound.contains(&ADDR_R),
        "eth0 got no address: {}",
        context()
    );
    let st = d.status();
    assert_eq!(
        st.counters
            .get("dhcpv6.drop.spoofed_mac")
            .copied()
            .unwrap_or(0),
        0,
        "{:?}",
        st.counters
    );
}
