//! `nfdhcpd explain` end to end: what it says a VM gets, live from the
//! daemon and offline from the files, is what real clients then receive
//! (udhcpc, rdisc6, dhclient -6); and when a VM gets nothing, it says why.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use nfdhcpd::ops::explain::{Exchange, Explanation, Report};

/// tap-r: IPv4 only, with NTP servers, a raw option sent when asked,
/// extra routes and network boot keys.
const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\nMTU=1450\nNTP=192.0.2.123\nOPTION_224=\"string:vm-r private\"\nROUTES=\"203.0.113.0/24 via 192.0.2.1\"\nNEXT_SERVER=192.0.2.5\nBOOTFILE=pxelinux.0\nBOOTFILE_EFI=efi/grubx64.efi\n";
/// tap-b: IPv4 and IPv6, its own IPv6 DNS server, a delegated prefix, a
/// raw DHCPv6 option sent when asked.
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nHOSTNAME=db2\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\nMTU=1400\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\nNAMESERVERS6=2001:db8:2::53\nPREFIX6_DELEGATED=2001:db8:200::/56\nOPTION6_4242=\"string:vm-b six\"\n";

/// Runs `nfdhcpd -c CONFIG explain ARGS --json` in the host namespace.
fn explain(t: &Topology, args: &str) -> (Explanation, bool) {
    let out = t.host.run_out(&format!(
        "{} -c {} explain {args} --json",
        env!("CARGO_BIN_EXE_nfdhcpd"),
        t.dir.path().join("nfdhcpd.conf").display()
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    let x = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "explain {args}: {e}\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (x, out.status.success())
}

/// Protocol `p` of an explanation.
fn report<'a>(x: &'a Explanation, p: &str) -> &'a Report {
    x.protocols
        .iter()
        .find(|r| r.protocol == p)
        .unwrap_or_else(|| panic!("no {p} in {x:#?}"))
}

/// The values of the typical exchange's last reply of protocol `p`, lists
/// space-separated as clients print them.
fn values(x: &Explanation, p: &str) -> BTreeMap<String, String> {
    let r = report(x, p);
    let e = r
        .exchanges
        .iter()
        .rfind(|e| !e.extra)
        .unwrap_or_else(|| panic!("no exchange for {p}: {r:#?}"));
    fields(e)
}

/// The values of the extra exchange of protocol `p` whose request starts
/// with `request`.
fn extra_values(x: &Explanation, p: &str, request: &str) -> BTreeMap<String, String> {
    let r = report(x, p);
    let e = r
        .exchanges
        .iter()
        .find(|e| e.extra && e.request.starts_with(request))
        .unwrap_or_else(|| panic!("no {request} in {r:#?}"));
    fields(e)
}

/// An exchange's values, lists space-separated.
fn fields(e: &Exchange) -> BTreeMap<String, String> {
    e.fields
        .iter()
        .map(|f| (f.name.clone(), f.value.replace(", ", " ")))
        .collect()
}

/// The hex of a raw option's value as explain shows it (`0x… "text"`),
/// as udhcpc gives an option it has no name for.
fn raw_hex(v: &str) -> &str {
    v.split(' ')
        .next()
        .and_then(|h| h.strip_prefix("0x"))
        .unwrap_or(v)
}

/// The variables of the `bound` event udhcpc's hook named `name` logged.
fn udhcpc_bound(t: &Topology, name: &str) -> BTreeMap<String, String> {
    let log = t.dir.path().join(format!("{name}-events.log"));
    last_event(&client_events(&log), &["bound"], name)
}

/// Runs dhclient -6 for an address and a prefix (-N -P) in `vm`; returns
/// the variables of its BOUND6 events for the address and the prefix.
fn dhclient6(
    t: &Topology,
    vm: &Netns,
    name: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let (script, log) = client_script(t.dir.path(), name);
    let d = t.dir.path().display();
    // Asks also for the raw option 4242, as a string.
    let conf = t.dir.path().join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        "option dhcp6.site-4242 code 4242 = string;\nalso request dhcp6.site-4242;\n",
    )
    .expect("write dhclient.conf");
    let _ = vm.run_out(&format!(
        "timeout 6 dhclient -6 -N -P -v -1 -d -cf {} -sf {} -lf {d}/{name}.leases -pf {d}/{name}.pid eth0 >{d}/{name}.out 2>&1",
        conf.display(),
        script.display(),
    ));
    let ev = client_events(&log);
    let bound = |var: &str| {
        ev.iter()
            .find(|(e, v)| e == "BOUND6" && v.contains_key(var))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no BOUND6 with {var}: {ev:?}\n{}",
                    std::fs::read_to_string(t.dir.path().join(format!("{name}.out")))
                        .unwrap_or_default()
                )
            })
    };
    (bound("new_ip6_address"), bound("new_ip6_prefix"))
}

#[test]
fn explain_live_and_offline_match_what_the_clients_receive() {
    if !prerequisites(&["udhcpc", "rdisc6", "dhclient"]) {
        return;
    }
    let t = Topology::new("xpl");
    let d = t.start_ipv6(BINDING_R, BINDING_B, "mode = dhcpv6");
    // `status` names each binding's raw options and boot keys.
    let st = d.status();
    let row = |tap: &str| st.binding(tap).expect(tap);
    assert_eq!(row("tap-r").options, ["OPTION_224"]);
    assert_eq!(
        row("tap-r").boot,
        ["NEXT_SERVER", "BOOTFILE", "BOOTFILE_EFI"]
    );
    assert_eq!(row("tap-b").options, ["OPTION6_4242"]);
    assert!(row("tap-b").boot.is_empty());
    let (live_r, ok_r) = explain(&t, "tap-r");
    let (live_b, ok_b) = explain(&t, "tap-b");
    assert!(live_r.live && live_b.live, "{live_r:#?}");
    assert!(ok_b, "tap-b gets every protocol: {live_b:#?}");
    assert!(!ok_r, "tap-r gets no IPv6: {live_r:#?}");
    for (x, tap) in [(&live_r, "tap-r"), (&live_b, "tap-b")] {
        let (off, _) = explain(&t, &format!("{tap} --offline"));
        assert!(!off.live);
        for (a, b) in x.protocols.iter().zip(&off.protocols) {
            assert_eq!(
                (&a.exchanges, &a.nothing),
                (&b.exchanges, &b.nothing),
                "{tap}: live and offline differ"
            );
            assert!(a.queue.ends_with("bound"), "{a:#?}");
            assert!(b.queue.ends_with("(state unknown offline)"), "{b:#?}");
        }
    }

    // DHCPv4: udhcpc's variables are explain's values.
    for (vm, x, name) in [(&t.vm_r, &live_r, "u-r"), (&t.vm_b, &live_b, "u-b")] {
        let (leased, ev) = udhcpc_once(
            &t,
            vm,
            name,
            "-O search -O ntpsrv -O staticroutes -O mtu -O 224",
        );
        assert!(leased, "{name}: no lease: {ev:?}\nlog:\n{}", d.log_text());
        let got = &ev.iter().find(|(e, _)| e == "bound").expect("bound").1;
        let said = values(x, "dhcpv4");
        let mut compared = Vec::new();
        for (ours, theirs) in [
            ("address", "ip"),
            ("subnet_mask", "subnet"),
            ("router", "router"),
            ("dns", "dns"),
            ("domain", "domain"),
            ("hostname", "hostname"),
            ("lease_time", "lease"),
            ("mtu", "mtu"),
            ("broadcast", "broadcast"),
            ("server_id", "serverid"),
            ("search", "search"),
            ("ntp", "ntpsrv"),
        ] {
            assert_eq!(
                said.get(ours),
                got.get(theirs),
                "{name}: explain's {ours} vs udhcpc's {theirs}\nexplain: {said:?}\nudhcpc: {got:?}"
            );
            if said.contains_key(ours) {
                compared.push(ours);
            }
        }
        assert!(compared.len() >= 10, "{name}: compared only {compared:?}");
        // Option 121: the default route (GATEWAY), then the binding's ROUTES.
        let routes: Vec<&str> = ["classless_routes", "routes"]
            .iter()
            .filter_map(|k| said.get(*k).map(String::as_str))
            .collect();
        assert_eq!(
            Some(&routes.join(" ").replace(" via ", " ")),
            got.get("staticroutes"),
            "{name}: explain's routes vs udhcpc's staticroutes\nexplain: {said:?}\nudhcpc: {got:?}"
        );
        // The boot fields of the typical client.
        for (ours, theirs) in [("next_server", "siaddr"), ("boot_file", "boot_file")] {
            assert_eq!(
                said.get(ours),
                got.get(theirs),
                "{name}: {ours} vs {theirs}"
            );
        }
    }
    let said = values(&live_r, "dhcpv4");
    assert_eq!(said["ntp"], "192.0.2.123");
    assert_eq!(said["routes"], "203.0.113.0/24 via 192.0.2.1");
    assert_eq!(said["next_server"], "192.0.2.5");
    assert_eq!(said["boot_file"], "pxelinux.0");
    // Option 224 is sent only to a client that asks: udhcpc -O 224 gets
    // what explain's client asking for it gets, the binding's value.
    let asked = extra_values(&live_r, "dhcpv4", "DHCPREQUEST asking also for 224");
    let got = udhcpc_bound(&t, "u-r");
    assert_eq!(
        raw_hex(&asked["option 224"]),
        got["opt224"],
        "{asked:?} {got:?}"
    );
    assert_eq!(
        report(&live_r, "dhcpv4")
            .exchanges
            .iter()
            .flat_map(|e| &e.fields)
            .find(|f| f.name == "option 224")
            .and_then(|f| f.source.as_ref())
            .map(ToString::to_string)
            .as_deref(),
        Some("binding OPTION_224, when asked")
    );
    assert!(!values(&live_r, "dhcpv4").contains_key("option 224"));
    // udhcpc as a UEFI PXE client (vendor class, architecture 7) gets the
    // boot file explain names for one, from BOOTFILE_EFI.
    let efi = extra_values(&live_r, "dhcpv4", "DHCPDISCOVER of a UEFI PXE client");
    assert_eq!(efi["boot_file"], "efi/grubx64.efi");
    let (leased, ev) = udhcpc_once(
        &t,
        &t.vm_r,
        "u-efi",
        "-V PXEClient:Arch:00007:UNDI:003016 -x 0x5d:0007",
    );
    assert!(leased, "u-efi: no lease: {ev:?}");
    let got = last_event(&ev, &["bound"], "u-efi");
    assert_eq!(got.get("boot_file"), efi.get("boot_file"), "{got:?}");
    assert_eq!(got.get("siaddr"), efi.get("next_server"), "{got:?}");

    // RA: tap-r has no SUBNET6, so no RA, and rdisc6 gets none.
    assert_eq!(
        report(&live_r, "ra").nothing.as_deref(),
        Some("the binding has no SUBNET6")
    );
    let out = t.vm_r.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    assert!(!out.status.success(), "tap-r got an RA");
    let out = t.vm_b.run_out("rdisc6 -1 -r 2 -w 1000 eth0");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "rdisc6: {text}");
    let ra = values(&live_b, "ra");
    let yes_no = |v: &str| if v == "yes" { "Yes" } else { "No" }.to_string();
    assert_eq!(
        rdisc6_field(&text, "Stateful address conf."),
        [yes_no(&ra["managed"])]
    );
    assert_eq!(
        rdisc6_field(&text, "Stateful other conf."),
        [yes_no(&ra["other"])]
    );
    assert_eq!(
        rdisc6_field(&text, "Router preference"),
        [ra["router_preference"].as_str()]
    );
    let prefix = ra["prefix"].split(' ').next().unwrap();
    assert_eq!(rdisc6_field(&text, "Prefix"), [prefix], "{text}");
    assert_eq!(
        rdisc6_field(&text, "Recursive DNS server"),
        ra["rdnss"].split(' ').collect::<Vec<_>>(),
        "{text}"
    );
    assert_eq!(ra["rdnss"], "2001:db8:2::53", "the binding's NAMESERVERS6");
    assert_eq!(
        rdisc6_field(&text, "DNS search list")[0],
        ra["dnssl"],
        "{text}"
    );
    assert_eq!(
        rdisc6_field(&text, "Source link-layer address")[0].to_lowercase(),
        ra["source_lla"],
        "{text}"
    );
    for (ours, theirs) in [
        ("router_lifetime", "Router lifetime"),
        ("mtu", "MTU"),
        ("prefix_valid_lifetime", "Valid time"),
        ("prefix_preferred_lifetime", "Pref. time"),
    ] {
        let v = rdisc6_field(&text, theirs);
        assert!(
            v.len() == 1 && v[0].starts_with(&format!("{} ", ra[ours])),
            "{ours} {} vs rdisc6's {theirs} {v:?}\n{text}",
            ra[ours]
        );
    }

    // DHCPv6: tap-r has no IPv6 to give, and dhclient -6 gets no lease.
    assert!(
        report(&live_r, "dhcpv6")
            .nothing
            .as_deref()
            .is_some_and(|n| n.starts_with("the binding has no IPv6 address")),
        "{live_r:#?}"
    );
    let (script, log) = client_script(t.dir.path(), "d6-r");
    let dir = t.dir.path().display();
    let _ = t.vm_r.run_out(&format!(
        "timeout 4 dhclient -6 -v -1 -d -sf {} -lf {dir}/d6-r.leases -pf {dir}/d6-r.pid eth0 >/dev/null 2>&1",
        script.display()
    ));
    let ev = client_events(&log);
    assert!(
        ev.iter().all(|(e, _)| e != "BOUND6"),
        "tap-r got a DHCPv6 lease: {ev:?}"
    );
    // tap-b's stateful lease and delegated prefix are explain's.
    let v6 = values(&live_b, "dhcpv6");
    let (got, pd) = dhclient6(&t, &t.vm_b, "d6-b");
    assert_eq!(pd["new_ip6_prefix"], v6["delegated_prefix"]);
    assert_eq!(v6["delegated_prefix"], "2001:db8:200::/56");
    assert_eq!(got["new_ip6_address"], v6["address6"]);
    assert_eq!(got["new_dhcp6_name_servers"], v6["dns6"]);
    assert_eq!(got["new_max_life"], v6["valid_lifetime"]);
    assert_eq!(got["new_preferred_life"], v6["preferred_lifetime"]);
    let search: Vec<_> = got["new_dhcp6_domain_search"]
        .split(' ')
        .map(|n| n.trim_end_matches('.'))
        .collect();
    assert_eq!(search, v6["domains6"].split(' ').collect::<Vec<_>>());
    // The raw option 4242, asked for by dhclient -6, is explain's.
    let asked = extra_values(
        &live_b,
        "dhcpv6",
        "Information-Request asking also for 4242",
    );
    let hex: String = b"vm-b six".iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(asked["option6 4242"], format!("0x{hex} \"vm-b six\""));
    assert_eq!(got["new_dhcp6_site_4242"], "vm-b six", "{got:?}");
    assert_eq!(
        report(&live_b, "dhcpv6").exchanges[1].reply,
        "Reply",
        "{live_b:#?}"
    );
}

/// Explains `tap` live until `done` holds (bounded): the daemon applies
/// file changes and SIGHUP a moment later.
fn explain_until(t: &Topology, args: &str, done: impl Fn(&Explanation) -> bool) -> Explanation {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (x, _) = explain(t, args);
        if done(&x) {
            return x;
        }
        assert!(Instant::now() < deadline, "never: {x:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn explain_says_why_a_vm_gets_nothing() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let t = Topology::new("xpn");
    let d = t.start_ipv6(BINDING_R, BINDING_B, "");

    // No binding file.
    let (x, ok) = explain(&t, "tap-none --protocol dhcpv4");
    assert!(!ok);
    assert_eq!(x.state, "no_binding");
    let want = format!("no binding file for tap-none in {}", t.bindings().display());
    assert_eq!(report(&x, "dhcpv4").nothing.as_deref(), Some(want.as_str()));

    // An invalid binding: its reason, live and offline.
    t.write_binding(
        "tap-bad",
        "MAC=aa:00:00:00:00:30\nIP=192.0.2.300\nSUBNET=192.0.2.0/24\n",
    );
    let reason = "binding invalid: tap-bad: IP=\"192.0.2.300\": not an IPv4 address";
    let x = explain_until(&t, "tap-bad --protocol dhcpv4", |x| x.state == "invalid");
    assert_eq!(report(&x, "dhcpv4").nothing.as_deref(), Some(reason));
    let (x, _) = explain(&t, "tap-bad --protocol dhcpv4 --offline");
    assert_eq!(report(&x, "dhcpv4").nothing.as_deref(), Some(reason));

    // DHCPv4 disabled in the config (SIGHUP): explain says so, and udhcpc
    // indeed gets no lease.
    let conf = t.dir.path().join("nfdhcpd.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("enable_dhcp = yes", "enable_dhcp = no")).unwrap();
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let disabled = "DHCPv4 is disabled in the config ([dhcp] enable_dhcp = no)";
    let x = explain_until(&t, "tap-r --protocol dhcpv4", |x| {
        report(x, "dhcpv4").nothing.as_deref() == Some(disabled)
    });
    assert!(report(&x, "dhcpv4").exchanges.is_empty());
    let (leased, ev) = udhcpc_once(&t, &t.vm_r, "off", "");
    assert!(!leased, "a lease while DHCPv4 is disabled: {ev:?}");
}
