//! RA options and per-VM DHCPv6 options end to end (issue #17, parts 1
//! and 3, IPv6 side): the real daemon in a network namespace; rdisc6 and
//! the VM kernel see the routes of `ROUTES6` (RFC 4191 Route
//! Information); a tcpdump capture of solicited and periodic RAs,
//! dissected by tshark, shows PREF64 (RFC 8781) with its prefix and
//! lifetime, the binding's over the config's; ISC dhclient -6 -S gets the
//! VM's own DNS server, search list and NTP server (`NAMESERVERS6`,
//! `DOMAINS`, `NTP6`), the other VM the config's.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// The routed VM: routes, its own NAT64 prefix, DNS, search list and NTP.
const BINDING_R: &str = "INDEV=tap-r\nMAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\nROUTES6=\"2001:db8:100::/48 high, 2001:db8:200::/56 low\"\nPREF64=2001:db8:6464::/96\nNAMESERVERS6=2001:db8:5300::53\nDOMAINS=vm7.example.net\nNTP6=2001:db8:1230::7\n";
/// The bridged VM: none of the new keys, so the config's values.
const BINDING_B: &str = "INDEV=br0\nMAC=aa:00:00:00:00:20\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\n";
/// The config's NAT64 prefix (a /48: PLC 3) and NTP server.
const CONFIG_IPV6: &str = "pref64 = 2001:db8:64::/48\nntp = 2001:db8:123::1";
/// fe80::EUI-64 of tap-r's MAC fe:00:00:00:00:01.
const LL_R: &str = "fe80::fc00:ff:fe00:1";
/// fe80::EUI-64 of the VMs' MACs.
const VM_LL_R: &str = "fe80::a800:ff:fe00:10";
const VM_LL_B: &str = "fe80::a800:ff:fe00:20";

fn setup(tag: &str, extra_ipv6: &str) -> (Topology, Daemon) {
    let t = Topology::new(tag);
    let d = t.start_ipv6(
        BINDING_R,
        BINDING_B,
        &format!("{CONFIG_IPV6}\n{extra_ipv6}"),
    );
    (t, d)
}

/// The values of rdisc6's `name : value` lines.
fn field<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
        .collect()
}

fn rdisc6(vm: &Netns, d: &Daemon) -> String {
    let out = vm.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "rdisc6: {text}{}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    text
}

#[test]
fn rdisc6_shows_the_routes_and_the_vms_own_dns() {
    if !prerequisites(&["rdisc6"]) {
        return;
    }
    let (t, d) = setup("rio", "");
    let r = rdisc6(&t.vm_r, &d);
    // rdisc6 prints each Route Information option as a "Route" line and
    // its preference and lifetime under it.
    assert_eq!(
        field(&r, "Route"),
        ["2001:db8:100::/48", "2001:db8:200::/56"],
        "{r}"
    );
    assert_eq!(field(&r, "Route preference"), ["high", "low"], "{r}");
    assert_eq!(
        field(&r, "Route lifetime"),
        ["1800 (0x00000708) seconds"; 2],
        "{r}"
    );
    assert_eq!(
        field(&r, "Recursive DNS server"),
        ["2001:db8:5300::53"],
        "{r}"
    );
    assert!(r.contains("vm7.example.net"), "{r}");
    // The bridged VM: no route, the config's DNS.
    let b = rdisc6(&t.vm_b, &d);
    assert!(field(&b, "Route").is_empty(), "{b}");
    assert_eq!(
        field(&b, "Recursive DNS server"),
        ["2001:db8:53::1", "2001:db8:53::2"],
        "{b}"
    );
}

#[test]
fn the_vm_kernel_installs_the_routes_with_their_preference() {
    if !prerequisites(&[]) {
        return;
    }
    let (t, d) = setup("rik", "");
    // Linux takes Route Information up to this prefix length (default 0).
    t.vm_r.run(
        "sysctl -qw net.ipv6.conf.eth0.accept_ra_rt_info_max_plen=64 net.ipv6.conf.eth0.router_solicitations=3",
    );
    t.vm_r.run("ip link set eth0 down && ip link set eth0 up");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let routes = t.vm_r.run("ip -6 route show proto ra");
        let want = [
            format!("2001:db8:100::/48 via {LL_R} dev eth0"),
            format!("2001:db8:200::/56 via {LL_R} dev eth0"),
        ];
        if want.iter().all(|w| routes.contains(w)) {
            let line = |p: &str| {
                routes
                    .lines()
                    .find(|l| l.starts_with(p))
                    .unwrap_or_default()
                    .to_string()
            };
            assert!(line("2001:db8:100::/48").contains("pref high"), "{routes}");
            assert!(line("2001:db8:200::/56").contains("pref low"), "{routes}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "routes not installed: {routes}\nlog:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// tshark's fields of the RAs in `pcap`: (IPv6 destination, PREF64
/// prefix, PLC, scaled lifetime), one per RA.
fn pref64_fields(vm: &Netns, pcap: &str) -> Vec<Vec<String>> {
    let out = vm.run(&format!(
        "tshark -r {pcap} -Y icmpv6.type==134 -T fields -E separator=/t -e ipv6.dst -e icmpv6.opt.pref64.prefix -e icmpv6.opt.pref64.plc -e icmpv6.opt.pref64.scaled_lifetime 2>/dev/null"
    ));
    out.lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Captures the RAs on `vm`'s eth0 for `secs` seconds, running `during`
/// meanwhile; the pcap's path.
fn capture_ras(t: &Topology, vm: &Netns, name: &str, secs: u32, during: impl FnOnce()) -> String {
    let mut c = vm.capture("eth0", t.dir.path(), name, "icmp6 and ip6[40] == 134", secs);
    during();
    c.wait();
    c.pcap.display().to_string()
}

#[test]
fn tshark_dissects_pref64_in_solicited_and_periodic_ras() {
    if !prerequisites(&["tcpdump", "tshark", "rdisc6"]) {
        return;
    }
    // A short RA period (MaxRtrAdvInterval 4 s): periodic RAs within the capture.
    let (t, d) = setup("p64", "ra_period = 4");
    for (vm, name, vm_ll, prefix, plc) in [
        // The binding's PREF64, a /96: PLC 0.
        (&t.vm_r, "p64-r", VM_LL_R, "2001:db8:6464::", "0x0000"),
        // The config's, a /48: PLC 3.
        (&t.vm_b, "p64-b", VM_LL_B, "2001:db8:64::", "0x0003"),
    ] {
        let pcap = capture_ras(&t, vm, name, 6, || {
            std::thread::sleep(Duration::from_millis(300));
            vm.run("rdisc6 -1 -r 1 -w 1000 eth0 >/dev/null || true");
        });
        let ras = pref64_fields(vm, &pcap);
        let dsts: Vec<&str> = ras.iter().map(|f| f[0].as_str()).collect();
        assert!(
            dsts.contains(&vm_ll) && dsts.contains(&"ff02::1"),
            "want a solicited and a periodic RA: {ras:?}\nlog:\n{}",
            d.log_text()
        );
        for f in &ras {
            // Router lifetime 1800 s > 3 × 4 s: the prefix lives 1800 s,
            // a Scaled Lifetime of 225 (units of 8 s).
            assert_eq!(f[1..], [prefix, plc, "225"], "{ras:?}");
        }
    }
}

/// The dhclient.conf of [`dhclient6_info`]: option 56 (unknown to ISC
/// dhclient 4.4) as one NTP_SUBOPTION_SRV_ADDR, asked for in the ORO.
const DHCLIENT6_CONF: &str = "option dhcp6.ntp-server code 56 = { unsigned integer 16, unsigned integer 16, ip6-address };\nrequest dhcp6.name-servers, dhcp6.domain-search, dhcp6.ntp-server;\n";

/// `dhclient -6 -S` in `vm`: the variables of the event of its Reply.
fn dhclient6_info(
    t: &Topology,
    vm: &Netns,
    d: &Daemon,
    name: &str,
) -> std::collections::BTreeMap<String, String> {
    let (script, log) = client_script(t.dir.path(), name);
    let dir = t.dir.path().display();
    std::fs::write(t.dir.path().join(format!("{name}.conf")), DHCLIENT6_CONF).unwrap();
    let _ = vm.run_out(&format!(
        "timeout 6 dhclient -6 -S -v -1 -d -cf {dir}/{name}.conf -sf {} -lf {dir}/{name}.leases -pf {dir}/{name}.pid eth0 >{dir}/{name}.out 2>&1",
        script.display(),
    ));
    let ev = client_events(&log);
    // ISC dhclient reports the Reply to an Information-request as RENEW6.
    ev.iter()
        .find(|(e, _)| e == "INFORM6" || e == "RENEW6")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| {
            panic!(
                "no INFORM6: {ev:?}\n{}\nlog:\n{}",
                std::fs::read_to_string(t.dir.path().join(format!("{name}.out")))
                    .unwrap_or_default(),
                d.log_text()
            )
        })
}

#[test]
fn dhclient6_information_request_gets_the_vms_own_dns_and_ntp() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("ntp", "");
    let r = dhclient6_info(&t, &t.vm_r, &d, "ntp-r");
    assert_eq!(r["new_dhcp6_name_servers"], "2001:db8:5300::53", "{r:?}");
    assert_eq!(r["new_dhcp6_domain_search"], "vm7.example.net.", "{r:?}");
    assert_eq!(r["new_dhcp6_ntp_server"], "1 16 2001:db8:1230::7", "{r:?}");
    let b = dhclient6_info(&t, &t.vm_b, &d, "ntp-b");
    assert_eq!(
        b["new_dhcp6_name_servers"], "2001:db8:53::1 2001:db8:53::2",
        "{b:?}"
    );
    assert_eq!(
        b["new_dhcp6_domain_search"], "vm.example.org. example.org.",
        "{b:?}"
    );
    assert_eq!(b["new_dhcp6_ntp_server"], "1 16 2001:db8:123::1", "{b:?}");
}
