//! DHCPv4 option 108, IPv6-Only Preferred (RFC 8925), and a binding's
//! `ROUTES` in option 121 (RFC 3442), end to end: the real daemon, real
//! iptables rules and real clients in network namespaces.
//!
//! - dhcpcd asking for option 108 on a VM with `V6ONLY_WAIT` (the
//!   binding's, or the config's `[dhcp] v6only_wait`) gets an OFFER of
//!   0.0.0.0 carrying the wait, as tshark dissects it, and configures no
//!   IPv4 address; on a VM with `V6ONLY_WAIT=off` it leases as before, and
//!   gives that lease up when the VM gets `V6ONLY_WAIT` (its INIT-REBOOT
//!   REQUEST's ACK carries option 108); a client that does not ask
//!   (udhcpc) leases even on a VM with it.
//! - udhcpc (routed) and dhclient (bridged) install a binding's `ROUTES`
//!   beside the default route, as `ip route` in the VM shows; a bad
//!   `ROUTES` or `V6ONLY_WAIT` written later leaves the last good binding
//!   in force and the other VMs untouched.

mod common;

use common::*;

/// The routed VM: V6ONLY_WAIT of its own, and routes via its gateway and
/// another router of its subnet.
const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\nV6ONLY_WAIT=1800\nROUTES=\"198.51.100.0/25 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254\"\n";
/// The bridged VM: V6ONLY_WAIT off (against the config's), routes.
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nHOSTNAME=db2\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\nV6ONLY_WAIT=off\nROUTES=\"203.0.113.0/26 via 198.51.100.1, 192.0.2.128/25 via 198.51.100.254\"\n";
/// A third, bridged VM with neither: the config's V6ONLY_WAIT.
const BINDING_C: &str =
    "INDEV=br0\nIP=198.51.100.30\nMAC=aa:00:00:00:00:30\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\n";
const MAC_C: &str = "aa:00:00:00:00:30";

/// The topology with the three bindings, the rules, the config's
/// `v6only_wait = 900` and a running daemon; the third VM's namespace.
fn setup(tag: &str) -> (Topology, Daemon, Netns) {
    let t = Topology::new(tag);
    t.host.run("ip addr add 198.51.100.1/24 dev br0");
    let vm_c = t.add_vm("tap-c", MAC_C, true);
    t.write_binding("tap-r", BINDING_R);
    t.write_binding("tap-b", BINDING_B);
    t.write_binding("tap-c", BINDING_C);
    t.install_rules();
    t.host.run(
        "iptables -t mangle -A PREROUTING -p udp -m physdev --physdev-in tap-c -m udp --dport 67 -j NFQUEUE --queue-num 42",
    );
    let d = t.start_daemon(&t.write_config("v6only_wait = 900", ""));
    d.wait_for("three bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 3
    });
    (t, d, vm_c)
}

/// `vm`'s eth0 under a name no other run uses, for dhcpcd: it keeps its
/// lease in /var/lib/dhcpcd/IFNAME.lease, shared by every namespace, and
/// would start from another test's lease (INIT-REBOOT) otherwise. Dropped,
/// the interface is eth0 again and the lease it got is removed.
struct OwnIf<'a> {
    vm: &'a Netns,
    name: String,
}

impl OwnIf<'_> {
    fn new(vm: &Netns) -> OwnIf<'_> {
        let name = unique("d");
        vm.run(&format!(
            "ip link set eth0 down && ip link set eth0 name {name} && ip link set {name} up"
        ));
        OwnIf { vm, name }
    }
}

impl Drop for OwnIf<'_> {
    fn drop(&mut self) {
        let n = &self.name;
        let _ = self.vm.run_out(&format!(
            "ip link set {n} down && ip link set {n} name eth0 && ip link set eth0 up"
        ));
        let _ = std::fs::remove_file(format!("/var/lib/dhcpcd/{n}.lease"));
    }
}

/// dhcpcd asking for option 108 (`option ipv6_only_preferred`), once, in
/// `vm` on `ifname`: whether it exited 0, its output and its script's
/// events. It waits V6ONLY_WAIT after option 108 instead of exiting:
/// `timeout` ends it.
fn dhcpcd_v6only(
    t: &Topology,
    vm: &Netns,
    name: &str,
    ifname: &str,
) -> (bool, String, Vec<ClientEvent>) {
    let conf = t.dir.path().join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        "noarp\noption ipv6_only_preferred, classless_static_routes\n",
    )
    .unwrap();
    let (script, log) = client_script(t.dir.path(), name);
    let out = vm.run_out(&format!(
        "timeout 10 dhcpcd -4 -1 -B -t 6 -A -f {} -c {} {ifname}",
        conf.display(),
        script.display()
    ));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, client_events(&log))
}

/// tshark's view of the server's replies in `pcap`: (message type, yiaddr,
/// option codes, option values), one per reply.
fn replies(vm: &Netns, pcap: &str) -> Vec<Vec<String>> {
    let out = vm.run(&format!(
        "tshark -r {pcap} -Y 'dhcp.option.dhcp == 2 || dhcp.option.dhcp == 5' -T fields -E separator=/t -E aggregator=, -e dhcp.option.dhcp -e dhcp.ip.your -e dhcp.option.type -e dhcp.option.value 2>/dev/null"
    ));
    out.lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The IPv4 addresses configured on `vm`'s `dev`.
fn ipv4_addrs(vm: &Netns, dev: &str) -> String {
    vm.run(&format!("ip -4 -o addr show dev {dev}"))
}

#[test]
fn dhcpcd_asking_for_option_108_stops_dhcpv4_where_v6only_wait_is_set() {
    if !prerequisites(&["dhcpcd", "udhcpc", "tcpdump", "tshark"]) {
        return;
    }
    let (t, d, vm_c) = setup("v6o");
    for (vm, name, wait) in [(&t.vm_r, "v6o-r", "1800"), (&vm_c, "v6o-c", "900")] {
        let own = OwnIf::new(vm);
        let ifname = own.name.clone();
        let mut cap = vm.capture(
            &ifname,
            t.dir.path(),
            name,
            "udp port 67 or udp port 68",
            20,
        );
        let (_, out, events) = dhcpcd_v6only(&t, vm, name, &ifname);
        cap.stop();
        // RFC 8925 §3.2: the client stops DHCPv4; no lease, no address.
        assert!(
            out.contains("IPv6-Only Preferred received"),
            "dhcpcd output:\n{out}\nlog:\n{}",
            d.log_text()
        );
        assert!(
            !events.iter().any(|(e, _)| e == "BOUND" || e == "REBOOT"),
            "{events:#?}"
        );
        assert_eq!(ipv4_addrs(vm, &ifname), "", "{name}: an IPv4 address");
        // The OFFER as tshark dissects it: yiaddr 0.0.0.0 (RFC 8925 §3.3),
        // option 108 holding the VM's V6ONLY_WAIT in 4 bytes (§3.1).
        let pcap = cap.pcap.display().to_string();
        let offers = replies(vm, &pcap);
        assert!(
            !offers.is_empty(),
            "no reply captured\nlog:\n{}",
            d.log_text()
        );
        let want = format!("{:08x}", wait.parse::<u32>().unwrap());
        for f in &offers {
            assert_eq!(f[..2], ["2", "0.0.0.0"], "{offers:?}");
            let codes: Vec<&str> = f[2].split(',').collect();
            assert!(codes.contains(&"108"), "{offers:?}");
            assert!(f[3].split(',').any(|v| v == want), "{want} in {offers:?}");
        }
        // No REQUEST followed: dhcpcd took nothing.
        let types = vm.run(&format!(
            "tshark -r {pcap} -Y dhcp -T fields -e dhcp.option.dhcp 2>/dev/null"
        ));
        assert!(!types.lines().any(|t| t == "3"), "message types {types}");
        drop(own);
    }

    // The same dhcpcd where V6ONLY_WAIT=off: a lease, as without option 108.
    let own = OwnIf::new(&t.vm_b);
    let (ok, out, events) = dhcpcd_v6only(&t, &t.vm_b, "v6o-b", &own.name);
    let addrs = ipv4_addrs(&t.vm_b, &own.name);
    assert!(ok, "dhcpcd failed: {out}\nlog:\n{}", d.log_text());
    let v = last_event(&events, &["BOUND"], "");
    assert_eq!(v["new_ip_address"], "198.51.100.20");
    assert!(addrs.contains("198.51.100.20/24"), "{addrs}");

    // The VM gets V6ONLY_WAIT while dhcpcd keeps that lease: dhcpcd asks
    // for it again (INIT-REBOOT), and the ACK carries option 108 (RFC 8925
    // §3.3: in a DHCPACK too), on which dhcpcd gives the address up.
    let generation = d.status().generation;
    t.write_binding(
        "tap-b",
        &BINDING_B.replace("V6ONLY_WAIT=off", "V6ONLY_WAIT=1800"),
    );
    d.wait_for("tap-b reloaded", |s| s.generation > generation);
    let mut cap = t.vm_b.capture(
        &own.name,
        t.dir.path(),
        "v6o-b2",
        "udp port 67 or udp port 68",
        20,
    );
    let (_, out, _) = dhcpcd_v6only(&t, &t.vm_b, "v6o-b2", &own.name);
    cap.stop();
    assert!(
        out.contains("IPv6-Only Preferred received"),
        "dhcpcd output:\n{out}\nlog:\n{}",
        d.log_text()
    );
    let acks = replies(&t.vm_b, &cap.pcap.display().to_string());
    assert!(
        !acks.is_empty(),
        "no reply captured\nlog:\n{}",
        d.log_text()
    );
    for f in &acks {
        assert_eq!(f[..2], ["5", "198.51.100.20"], "{acks:?}");
        assert!(f[2].split(',').any(|c| c == "108"), "{acks:?}");
        assert!(f[3].split(',').any(|v| v == "00000708"), "{acks:?}");
    }
    assert_eq!(ipv4_addrs(&t.vm_b, &own.name), "", "the address stayed");
    drop(own);

    // RFC 8925 §3.3: a client that does not ask for option 108 leases,
    // even on the VM with V6ONLY_WAIT.
    let (ok, ev) = udhcpc_once(&t, &t.vm_r, "v6o-udhcpc", "");
    assert!(ok, "udhcpc failed; log:\n{}", d.log_text());
    assert_eq!(last_event(&ev, &["bound"], "")["ip"], "192.0.2.10");
    assert!(ipv4_addrs(&t.vm_r, "eth0").contains("192.0.2.10/24"));
}

/// A client script that applies the lease and option 121's routes as the
/// distributions' scripts do (udhcpc's `staticroutes`, dhclient's
/// `new_rfc3442_classless_static_routes`), and logs each event.
fn routes_script(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    hook_script(dir, name, |log| {
        format!(
            r#"#!/bin/sh
ev="${{1:-$reason}}"
{{ echo "EVENT $ev"; env | grep -E '^(ip|router|staticroutes|new_[a-z0-9_]+)=' | sort; echo "END"; }} >> {log}
case "$ev" in
  bound|renew)
    ip addr replace "$ip/$subnet" dev "$interface"
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"; else ip route replace "$1" via "$2" dev "$interface"; fi
      shift 2
    done ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    set -- $(echo "$new_rfc3442_classless_static_routes" | tr . ' ')
    while [ $# -gt 0 ]; do
      len=$1; shift; n=$(( (len + 7) / 8 )); net=""
      for i in 1 2 3 4; do
        if [ $i -le $n ]; then o=$1; shift; else o=0; fi
        net="$net${{net:+.}}$o"
      done
      gw="$1.$2.$3.$4"; shift 4
      if [ "$gw" = 0.0.0.0 ]; then ip route replace "$net/$len" dev "$interface"; else ip route replace "$net/$len" via "$gw" dev "$interface"; fi
    done ;;
esac
exit 0
"#,
            log = log.display()
        )
    })
}

/// The routes option 121 gives the routed VM: its default route first.
const STATICROUTES_R: &str =
    "0.0.0.0/0 192.0.2.1 198.51.100.0/25 192.0.2.1 203.0.113.128/25 192.0.2.254";

/// udhcpc in the routed VM asking for option 121, with a routes script
/// named after `name`: it must lease; the `staticroutes` it was given.
fn udhcpc_staticroutes(t: &Topology, d: &Daemon, name: &str) -> String {
    let script = routes_script(t.dir.path(), name);
    let (ok, events) = udhcpc_with(&t.vm_r, &script, "-O staticroutes");
    assert!(ok, "udhcpc failed; log:\n{}", d.log_text());
    last_event(&events, &["bound"], "")["staticroutes"].clone()
}

#[test]
fn udhcpc_and_dhclient_install_the_binding_routes() {
    if !prerequisites(&["udhcpc", "dhclient"]) {
        return;
    }
    let (t, d, _vm_c) = setup("rt4");
    // udhcpc, routed: option 121 asked for with -O staticroutes.
    assert_eq!(udhcpc_staticroutes(&t, &d, "rt4-r"), STATICROUTES_R);
    let routes = t.vm_r.run("ip -4 route show dev eth0");
    for want in [
        "default via 192.0.2.1",
        "198.51.100.0/25 via 192.0.2.1",
        "203.0.113.128/25 via 192.0.2.254",
    ] {
        assert!(routes.contains(want), "{want} not in:\n{routes}");
    }

    // dhclient, bridged: option 121 declared and requested in its config.
    let conf = t.dir.path().join("dhclient.conf");
    std::fs::write(
        &conf,
        "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n\
         timeout 6; retry 1; initial-interval 1;\n\
         request subnet-mask, routers, rfc3442-classless-static-routes;\n",
    )
    .unwrap();
    let (script, log) = routes_script(t.dir.path(), "rt4-b");
    let (pid, leases) = (
        t.dir.path().join("rt4.pid"),
        t.dir.path().join("rt4.leases"),
    );
    let out = t.vm_b.dhclient_once(&conf, &script, &leases, &pid);
    assert!(
        out.status.success(),
        "dhclient failed: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    let v = last_event(&client_events(&log), &["BOUND", "REBOOT"], "");
    assert_eq!(v["new_ip_address"], "198.51.100.20");
    let routes = t.vm_b.run("ip -4 route show dev eth0");
    for want in [
        "default via 198.51.100.1",
        "203.0.113.0/26 via 198.51.100.1",
        "192.0.2.128/25 via 198.51.100.254",
    ] {
        assert!(routes.contains(want), "{want} not in:\n{routes}");
    }

    // Bad values: a router the VM cannot reach, a V6ONLY_WAIT under 300 s.
    // Each makes its own file invalid, naming key and value; its last good
    // binding stays in force and the other VMs are served as before.
    t.write_binding(
        "tap-r",
        &BINDING_R.replace(
            "198.51.100.0/25 via 192.0.2.1",
            "198.51.100.0/25 via 203.0.113.1",
        ),
    );
    t.write_binding("tap-c", &format!("{BINDING_C}V6ONLY_WAIT=60\n"));
    let st = d.wait_for("tap-r and tap-c invalid", |s| {
        s.bindings.iter().filter(|b| b.state == "invalid").count() == 2
    });
    for (tap, want) in [
        ("tap-r", "ROUTES=\"198.51.100.0/25 via 203.0.113.1, 203.0.113.128/25 via 192.0.2.254\": router 203.0.113.1 of 198.51.100.0/25 is neither in SUBNET 192.0.2.0/24 nor GATEWAY"),
        ("tap-c", "V6ONLY_WAIT=\"60\": 60 s is under 300 s"),
    ] {
        let b = st.binding(tap).expect(tap);
        assert_eq!((b.state.as_str(), b.last_good_served), ("invalid", Some(true)), "{b:?}");
        let err = b.error.clone().unwrap_or_default();
        assert!(err.contains(want), "{err}");
    }
    let b = st.binding("tap-b").expect("tap-b");
    assert_eq!(b.state, "active");
    // tap-r's last good ROUTES, to a new client.
    assert_eq!(udhcpc_staticroutes(&t, &d, "rt4-r2"), STATICROUTES_R);
}
