//! Per-VM options end to end: option 42 (`NTP`) and raw options
//! (`OPTION_<code>`, `OPTION6_<code>`, the config's `[options]`) from the
//! real daemon to udhcpc, dhclient, dhcpcd and dhclient -6, as each client
//! reports them to its hook script.

mod common;

use std::path::PathBuf;

use common::*;

const BINDING_R: &str = "INDEV=tap-r\nIP=192.0.2.10\nMAC=aa:00:00:00:00:10\nHOSTNAME=web1\nGATEWAY=192.0.2.1\nSUBNET=192.0.2.0/24\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\n";
const BINDING_B: &str = "INDEV=br0\nIP=198.51.100.20\nMAC=aa:00:00:00:00:20\nHOSTNAME=db2\nGATEWAY=198.51.100.1\nSUBNET=198.51.100.0/24\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\n";
/// The routed VM's own: NTP servers, option 224 (overriding the config's),
/// option 225 sent unasked, and DHCPv6 option 4242.
const OWN_R: &str = "NTP=203.0.113.123\nOPTION_224=\"string:vm-r private\"\nOPTION_225=always ip:203.0.113.5\nOPTION6_4242=\"string:vm-r six\"\n";
/// The config's: NTP servers, and option 224 and DHCPv6 option 4242 for
/// every VM that does not give its own.
const CONFIG: &str =
    "\n[options]\nOPTION_224 = \"string:site default\"\nOPTION6_4242 = \"string:site six\"\n";

/// Both VMs, the rules and the daemon: tap-r with [`OWN_R`], tap-b with
/// the config's options only.
fn setup(tag: &str) -> (Topology, Daemon) {
    let t = Topology::new(tag);
    t.host.run("ip addr add 198.51.100.1/24 dev br0");
    for vm in [&t.vm_r, &t.vm_b] {
        vm.run("sysctl -qw net.ipv6.conf.eth0.router_solicitations=0");
    }
    t.write_binding("tap-r", &format!("{BINDING_R}{OWN_R}"));
    t.write_binding("tap-b", BINDING_B);
    t.install_rules();
    let d = t.start_daemon(&t.write_config("ntp = 192.0.2.123", CONFIG));
    d.wait_for("both bindings active", |s| {
        s.bindings.iter().filter(|b| b.state == "active").count() == 2
    });
    (t, d)
}

/// A hook script that logs each event with the client's whole
/// environment (raw options come under names of the client's making);
/// it applies nothing.
fn env_script(t: &Topology, name: &str) -> (PathBuf, PathBuf) {
    hook_script(t.dir.path(), name, |log| {
        format!(
            "#!/bin/sh\n{{ echo \"EVENT ${{1:-$reason}}\"; env | sort; echo END; }} >> {}\nexit 0\n",
            log.display()
        )
    })
}

/// `text` as the lowercase hex udhcpc gives an option it has no name for.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn udhcpc_gets_ntp_raw_options_and_the_config_default() {
    if !prerequisites(&["udhcpc"]) {
        return;
    }
    let (t, d) = setup("ou4");
    for (vm, name) in [(&t.vm_r, "ou-r"), (&t.vm_b, "ou-b")] {
        let (ok, events) = udhcpc_with(vm, &env_script(&t, name), "-O ntpsrv -O 224");
        assert!(ok, "{name}: {}", d.log_text());
        let v = last_event(&events, &["bound"], &d.log_text());
        if name == "ou-r" {
            assert_eq!(v["ntpsrv"].trim(), "203.0.113.123", "{v:?}");
            assert_eq!(v["opt224"], hex("vm-r private"), "{v:?}");
            // Not asked for, sent all the same (`always`).
            assert_eq!(v["opt225"], "cb007105", "{v:?}");
        } else {
            assert_eq!(v["ntpsrv"].trim(), "192.0.2.123", "{v:?}");
            assert_eq!(v["opt224"], hex("site default"), "{v:?}");
            assert!(!v.contains_key("opt225"), "{v:?}");
        }
    }
}

#[test]
fn dhclient_gets_ntp_and_raw_options() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("oc4");
    let conf = t.dir.path().join("dhclient.conf");
    std::fs::write(
        &conf,
        "option site-224 code 224 = string;\noption site-225 code 225 = ip-address;\n\
         timeout 6; retry 1; initial-interval 1;\n\
         request subnet-mask, routers, ntp-servers, site-224;\n",
    )
    .unwrap();
    for (vm, name) in [(&t.vm_r, "oc-r"), (&t.vm_b, "oc-b")] {
        let (script, log) = env_script(&t, name);
        let pid = t.dir.path().join(format!("{name}.pid"));
        let leases = t.dir.path().join(format!("{name}.leases"));
        let out = vm.dhclient_once(&conf, &script, &leases, &pid);
        assert!(
            out.status.success(),
            "{name}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            d.log_text()
        );
        let v = last_event(&client_events(&log), &["BOUND"], &d.log_text());
        let lease = std::fs::read_to_string(&leases).unwrap_or_default();
        if name == "oc-r" {
            assert_eq!(v["new_ntp_servers"], "203.0.113.123", "{v:?}");
            assert_eq!(v["new_site_224"], "vm-r private", "{v:?}");
            assert_eq!(v["new_site_225"], "203.0.113.5", "{v:?}");
            assert!(
                lease.contains("option site-224 \"vm-r private\";"),
                "{lease}"
            );
        } else {
            assert_eq!(v["new_ntp_servers"], "192.0.2.123", "{v:?}");
            assert_eq!(v["new_site_224"], "site default", "{v:?}");
            assert!(!v.contains_key("new_site_225"), "{v:?}");
        }
    }
}

#[test]
fn dhcpcd_gets_ntp_and_raw_options() {
    if !prerequisites(&["dhcpcd"]) {
        return;
    }
    let (t, d) = setup("od4");
    let conf = t.dir.path().join("dhcpcd.conf");
    std::fs::write(
        &conf,
        "noarp\ndefine 224 string site_224\ndefine 225 ipaddress site_225\noption ntp_servers, site_224\n",
    )
    .unwrap();
    for (vm, name) in [(&t.vm_r, "od-r"), (&t.vm_b, "od-b")] {
        let (ok, output, events) = dhcpcd_with(vm, &conf, &env_script(&t, name));
        assert!(ok, "{name}: {output}\n{}", d.log_text());
        let v = last_event(&events, &["BOUND", "REBOOT"], &d.log_text());
        if name == "od-r" {
            assert_eq!(v["new_ntp_servers"], "203.0.113.123", "{v:?}");
            assert_eq!(v["new_site_224"], "vm-r private", "{v:?}");
            assert_eq!(v["new_site_225"], "203.0.113.5", "{v:?}");
        } else {
            assert_eq!(v["new_ntp_servers"], "192.0.2.123", "{v:?}");
            assert_eq!(v["new_site_224"], "site default", "{v:?}");
            assert!(!v.contains_key("new_site_225"), "{v:?}");
        }
    }
}

#[test]
fn dhclient6_gets_a_raw_dhcpv6_option_and_the_config_default() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("o6");
    let conf = t.dir.path().join("dhclient6.conf");
    std::fs::write(
        &conf,
        "option dhcp6.site-4242 code 4242 = string;\nalso request dhcp6.site-4242;\n",
    )
    .unwrap();
    for (vm, name, want) in [(&t.vm_r, "o6-r", "vm-r six"), (&t.vm_b, "o6-b", "site six")] {
        vm.wait_link_local("eth0");
        let (script, log) = env_script(&t, name);
        let dir = t.dir.path().display();
        let _ = vm.run_out(&format!(
            "timeout 6 dhclient -6 -S -v -1 -d -cf {} -sf {} -lf {dir}/{name}.leases -pf {dir}/{name}.pid eth0 >{dir}/{name}.out 2>&1",
            conf.display(),
            script.display(),
        ));
        let out = std::fs::read_to_string(t.dir.path().join(format!("{name}.out")));
        let v = last_event(
            &client_events(&log),
            &["INFORM6", "RENEW6"],
            &format!("{}\n{}", out.unwrap_or_default(), d.log_text()),
        );
        assert_eq!(v["new_dhcp6_site_4242"], want, "{v:?}");
    }
}
