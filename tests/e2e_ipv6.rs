//! IPv6 end to end: RAs, NAs and DHCPv6 from the real daemon to real
//! clients (rdisc6, ndisc6, dhclient -6, the VM kernel's own SLAAC).

mod common;

use std::time::{Duration, Instant};

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\nMTU=1450\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nHOSTNAME=db2\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\n";
/// fe80::EUI-64 of tap-r's MAC fe:00:00:00:00:01.
const LL_R: &str = "fe80::fc00:ff:fe00:1";
/// fe80::EUI-64 of br0's MAC fe:00:00:00:00:b0.
const LL_B: &str = "fe80::fc00:ff:fe00:b0";

fn setup(tag: &str, extra_ipv6: &str) -> (Topology, Daemon) {
    let t = Topology::new(tag);
    let d = t.start_ipv6(BINDING_R, BINDING_B, extra_ipv6);
    (t, d)
}

#[test]
fn rdisc6_sees_the_ra_routed_and_bridged() {
    if !prerequisites(&["rdisc6"]) {
        return;
    }
    let (t, d) = setup("rd6", "");
    for (vm, prefix, ll, mtu) in [
        (&t.vm_r, "2001:db8:1::/64", LL_R, Some("1450")),
        (&t.vm_b, "2001:db8:2::/64", LL_B, None),
    ] {
        let out = vm.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "rdisc6: {text}{}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            d.log_text()
        );
        assert_eq!(
            rdisc6_field(&text, "Hop limit"),
            vec!["64 (      0x40)"],
            "{text}"
        );
        assert_eq!(
            rdisc6_field(&text, "Stateful address conf."),
            vec!["No"],
            "{text}"
        );
        assert_eq!(
            rdisc6_field(&text, "Stateful other conf."),
            vec!["Yes"],
            "{text}"
        );
        assert_eq!(
            rdisc6_field(&text, "Router preference"),
            vec!["medium"],
            "{text}"
        );
        assert_eq!(
            rdisc6_field(&text, "Router lifetime"),
            vec!["1800 (0x00000708) seconds"],
            "{text}"
        );
        assert_eq!(rdisc6_field(&text, "Prefix"), vec![prefix], "{text}");
        assert_eq!(
            rdisc6_field(&text, "Recursive DNS server"),
            vec!["2001:db8:53::1", "2001:db8:53::2"],
            "{text}"
        );
        assert!(
            text.contains("DNS search list")
                && text.contains("vm.example.org")
                && text.contains("example.org"),
            "{text}"
        );
        assert_eq!(
            rdisc6_field(&text, "MTU")
                .first()
                .map(|m| m.split_whitespace().next().unwrap()),
            mtu,
            "{text}"
        );
        assert!(text.contains(&format!("from {ll}")), "{text}");
        let sll = if ll == LL_R {
            "FE:00:00:00:00:01"
        } else {
            "FE:00:00:00:00:B0"
        };
        assert_eq!(
            rdisc6_field(&text, "Source link-layer address"),
            vec![sll],
            "{text}"
        );
    }
}

#[test]
fn vm_kernel_autoconfigures_from_our_ras_alone() {
    if !prerequisites(&[]) {
        return;
    }
    let (t, d) = setup("sl6", "");
    // `ip` prints the addresses with the zero group written out.
    for (vm, addr, ll) in [
        (&t.vm_r, "2001:db8:1:0:a800:ff:fe00:10", LL_R),
        (&t.vm_b, "2001:db8:2:0:a800:ff:fe00:20", LL_B),
    ] {
        vm.run(
            "sysctl -qw net.ipv6.conf.eth0.router_solicitations=3 net.ipv6.conf.eth0.accept_ra=2",
        );
        vm.run("ip link set eth0 down && ip link set eth0 up");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let addrs = vm.run("ip -6 addr show dev eth0");
            let routes = vm.run("ip -6 route show default");
            if addrs.contains(&format!("{addr}/64"))
                && routes.contains(&format!("via {ll} dev eth0"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no SLAAC: {addrs}\n{routes}\nlog:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn guests_with_stable_privacy_and_random_link_locals_get_ras() {
    if !prerequisites(&["rdisc6"]) {
        return;
    }
    let (t, d) = setup("sp6", "");
    t.vm_r.run("sysctl -qw net.ipv6.conf.eth0.stable_secret=2001:db8::1234:5678 net.ipv6.conf.eth0.addr_gen_mode=2");
    t.vm_b.run("sysctl -qw net.ipv6.conf.eth0.addr_gen_mode=3");
    for vm in [&t.vm_r, &t.vm_b] {
        vm.run("ip link set eth0 down && ip link set eth0 up");
        let ll = vm.run("ip -6 addr show dev eth0 scope link");
        assert!(
            !ll.contains("fe80::a800:ff:fe00"),
            "link-local is still EUI-64: {ll}"
        );
        let out = vm.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("Prefix"),
            "rdisc6 got no RA: {text}\nlog:\n{}",
            d.log_text()
        );
    }
}

#[test]
fn periodic_ras_arrive_unsolicited() {
    if !prerequisites(&["tcpdump"]) {
        return;
    }
    let (t, d) = setup("pr6", "ra_period = 2");
    let out = t
        .vm_r
        .run_out("timeout 8 tcpdump -l -n -i eth0 -c 2 'icmp6 and ip6[40] == 134' 2>/dev/null");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("router advertisement"))
            .count(),
        2,
        "{text}\nlog:\n{}",
        d.log_text()
    );
    assert!(text.contains(LL_R) && text.contains("ff02::1"), "{text}");
    assert!(d.status().counters.get("ra.periodic").copied().unwrap_or(0) >= 2);
}

#[test]
fn final_ra_with_lifetime_zero_on_shutdown() {
    if !prerequisites(&["tcpdump"]) {
        return;
    }
    // SIGTERM (systemd) and SIGINT (a terminal) alike.
    for (n, sig) in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ]
    .into_iter()
    .enumerate()
    {
        let (t, mut d) = setup(&format!("fr6{n}"), "");
        let cap = t.dir.path().join("final.txt");
        let mut tcpdump = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &t.vm_r.name,
                "timeout",
                "10",
                "tcpdump",
                "-l",
                "-n",
                "-v",
                "-i",
                "eth0",
                "-c",
                "1",
                "icmp6 and ip6[40] == 134",
            ])
            .stdout(std::fs::File::create(&cap).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        assert!(d.stop_with(sig).success(), "{sig}: exit status");
        let _ = tcpdump.wait();
        let text = std::fs::read_to_string(&cap).unwrap();
        assert!(text.contains("router lifetime 0s"), "{sig}: {text}");
    }
}

#[test]
fn ndisc6_resolves_gateway6_and_router_link_local() {
    if !prerequisites(&["ndisc6"]) {
        return;
    }
    let (t, d) = setup("nd6", "");
    for (vm, targets, mac) in [
        (&t.vm_r, ["2001:db8:1::1", LL_R], "FE:00:00:00:00:01"),
        (&t.vm_b, ["2001:db8:2::1", LL_B], "FE:00:00:00:00:B0"),
    ] {
        // The VM learns the on-link prefix from our RA, as a real guest does.
        vm.run("rdisc6 -1 -r 2 -w 1000 eth0 >/dev/null");
        for target in targets {
            let out = vm.run_out(&format!("ndisc6 -1 -r 2 -w 1000 {target} eth0"));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "ndisc6 {target}: {text}\nlog:\n{}",
                d.log_text()
            );
            assert_eq!(
                rdisc6_field(&text, "Target link-layer address"),
                vec![mac],
                "{text}"
            );
        }
    }
}

#[test]
fn the_guests_own_dad_is_never_answered() {
    if !prerequisites(&[]) {
        return;
    }
    let (t, d) = setup("da6", "");
    t.vm_r
        .run("sysctl -qw net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.dad_transmits=2");
    // Our initial RAs may already have given the VM this address by SLAAC:
    // start from none, and take no more RAs, so the address below goes
    // through DAD against the daemon.
    t.vm_r
        .run("sysctl -qw net.ipv6.conf.eth0.accept_ra=0 && ip -6 addr flush dev eth0 scope global");
    t.vm_r
        .run("ip -6 addr add 2001:db8:1::a800:ff:fe00:10/64 dev eth0");
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let a = t.vm_r.run("ip -6 addr show dev eth0");
        assert!(
            !a.contains("dadfailed"),
            "our daemon answered the guest's DAD: {a}"
        );
        if a.contains("2001:db8:1:0:a800:ff:fe00:10/64") && !a.contains("tentative") {
            break;
        }
        assert!(Instant::now() < deadline, "DAD did not finish: {a}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        d.status()
            .counters
            .get("ns.drop.not_ours")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        d.status().counters
    );
    // While an address of the router (GATEWAY6) claimed by the guest is defended.
    t.vm_r.run("ip -6 addr add 2001:db8:1::1/64 dev eth0");
    let deadline = Instant::now() + Duration::from_secs(8);
    while !t.vm_r.run("ip -6 addr show dev eth0").contains("dadfailed") {
        assert!(Instant::now() < deadline, "GATEWAY6 was not defended");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn dhclient6(t: &Topology, vm: &Netns, name: &str, args: &str) -> Vec<ClientEvent> {
    let (script, log) = client_script(t.dir.path(), name);
    let d = t.dir.path();
    let _ = vm.run_out(&format!(
        "timeout 6 dhclient -6 {args} -v -1 -d -sf {} -lf {}/{name}.leases -pf {}/{name}.pid eth0 >{}/{name}.out 2>&1",
        script.display(),
        d.display(),
        d.display(),
        d.display()
    ));
    client_events(&log)
}

#[test]
fn dhclient6_information_request_gets_dns_and_search_domains() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("ir6", "");
    for (vm, name) in [(&t.vm_r, "ir-r"), (&t.vm_b, "ir-b")] {
        let ev = dhclient6(&t, vm, name, "-S");
        let v = ev
            .iter()
            .find(|(e, _)| e == "INFORM6" || e == "RENEW6")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no INFORM6: {ev:?}\n{}\nlog:\n{}",
                    std::fs::read_to_string(t.dir.path().join(format!("{name}.out")))
                        .unwrap_or_default(),
                    d.log_text()
                )
            });
        assert_eq!(v["new_dhcp6_name_servers"], "2001:db8:53::1 2001:db8:53::2");
        assert_eq!(v["new_dhcp6_domain_search"], "vm.example.org. example.org.");
    }
}

#[test]
fn stateful_dhcpv6_address_is_obtained_and_renewed() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup(
        "sf6",
        "mode = dhcpv6\ndhcpv6_preferred_lifetime = 4\ndhcpv6_valid_lifetime = 8",
    );
    let ev = dhclient6(&t, &t.vm_r, "stateful", "");
    let out = std::fs::read_to_string(t.dir.path().join("stateful.out")).unwrap_or_default();
    let bound = ev
        .iter()
        .find(|(e, _)| e == "BOUND6")
        .unwrap_or_else(|| panic!("no BOUND6: {ev:?}\n{out}\nlog:\n{}", d.log_text()));
    assert_eq!(bound.1["new_ip6_address"], "2001:db8:1:0:a800:ff:fe00:10");
    assert!(
        ev.iter().any(|(e, _)| e == "RENEW6"),
        "no renewal within the run: {ev:?}\n{out}"
    );
    let st = d.status();
    assert!(
        st.counters
            .get("dhcpv6.reply.advertise")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        st.counters
    );
}

#[test]
fn malformed_icmpv6_and_dhcpv6_leave_no_queued_packet() {
    if !prerequisites(&["python3"]) {
        return;
    }
    // No rate limit: every malformed packet must reach the parsers.
    let (t, mut d) = setup("mf6", "[limits]\nrate = 0");
    let script = r#"
import socket
ll = "fe80::a800:ff:fe00:10"
ic = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
ic.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
ic.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
ic.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
rs = [b"\x85\x00\x00\x00", b"\x85\x01\x00\x00\x00\x00\x00\x00", b"\x85\x00\x00\x00\x00\x00\x00\x00\x01\x00",
      b"\x85\x00\x00\x00\x00\x00\x00\x00\x01\x01\xaa\x00\x00\x00\x00\x10", b"\x85\x00\x00\x00\x00\x00\x00\x00\x01\x05\xaa"]
ns = [b"\x87\x00\x00\x00", b"\x87\x00\x00\x00\x00\x00\x00\x00" + bytes(8), b"\x87\x00\x00\x00\x00\x00\x00\x00" + socket.inet_pton(socket.AF_INET6, "ff02::1"),
      b"\x87\x00\x00\x00\x00\x00\x00\x00" + socket.inet_pton(socket.AF_INET6, "2001:db8:1::1") + b"\x01\x00"]
for i in range(10):
    for m in rs:
        ic.sendto(m, ("ff02::2", 0, 0, socket.if_nametoindex("eth0")))
    for m in ns:
        ic.sendto(m, ("ff02::1:ff00:1", 0, 0, socket.if_nametoindex("eth0")))
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
u.bind(("::", 546))
for i in range(10):
    for m in [b"", b"\x0b", b"\x01\x00\x00\x01\x00\x01\x00\x20", b"\x0b\x00\x00\x01\x00\x06\x00\x08\x00\x17", bytes(1400), b"\x07\x12\x34\x56"]:
        u.sendto(m, ("ff02::1:2", 547, 0, socket.if_nametoindex("eth0")))
"#;
    std::fs::write(t.dir.path().join("garbage6.py"), script).unwrap();
    t.vm_r.run(&format!(
        "python3 {}",
        t.dir.path().join("garbage6.py").display()
    ));
    // ICMPv6 messages under 8 bytes never reach the queue: the icmp6 match
    // of ip6tables drops them itself. The rest all arrive.
    d.wait_for("garbage received", |s| {
        s.counters.get("rs.received").copied().unwrap_or(0) >= 40
            && s.counters.get("ns.received").copied().unwrap_or(0) >= 30
            && s.counters.get("dhcpv6.received").copied().unwrap_or(0) >= 60
    });
    t.wait_queues_empty();
    assert!(d.alive(), "daemon died; log:\n{}", d.log_text());
    let st = d.status();
    assert!(
        st.counters.keys().all(|k| !k.ends_with("rate_limited")),
        "{:?}",
        st.counters
    );
    for p in ["rs", "ns", "dhcpv6"] {
        let drops: u64 = st
            .counters
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{p}.drop.")))
            .map(|(_, v)| v)
            .sum();
        assert!(drops >= 10, "{p}: {:?}", st.counters);
    }
    assert!(d.stop().success());
}
