//! DHCPv6 prefix delegation end to end (issue #17): the real daemon,
//! ISC dhclient -6 -P and dhcpcd's ia_pd in network namespaces. The
//! routed VM's binding delegates a /56 and a /60; the bridged VM's
//! delegates nothing. What the clients were sent is read back from a
//! tcpdump capture in the VM and decoded with dhcproto.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use dhcproto::v6::{self, DhcpOption as O6, MessageType as M6, OptionCode as C6};
use dhcproto::{Decodable, Decoder};
use nfdhcpd::ops::replay;
use nfdhcpd::proto::frame;

const BINDING_R: &str = "INDEV=tap-r\nMAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\nPREFIX6_DELEGATED=\"2001:db8:100::/56 2001:db8:200::/60\"\n";
const BINDING_B: &str = "INDEV=br0\nMAC=aa:00:00:00:00:20\nSUBNET6=2001:db8:2::/64\nGATEWAY6=2001:db8:2::1\nEUI64=2001:db8:2::a800:ff:fe00:20\n";
const ADDR_R: &str = "2001:db8:1:0:a800:ff:fe00:10";
const ADDR_B: &str = "2001:db8:2:0:a800:ff:fe00:20";
const P56: &str = "2001:db8:100::/56";
const P60: &str = "2001:db8:200::/60";
/// Lifetimes 4 s / 8 s: T1 2 s, T2 3 s, so a run of a few seconds renews.
const LIFETIMES: &str = "dhcpv6_preferred_lifetime = 4\ndhcpv6_valid_lifetime = 8";

fn setup(tag: &str, mode: &str) -> (Topology, Daemon) {
    let t = Topology::new(tag);
    let d = t.start_ipv6(BINDING_R, BINDING_B, &format!("mode = {mode}\n{LIFETIMES}"));
    (t, d)
}

/// The DHCPv6 traffic of a VM's eth0.
fn capture_dhcpv6(vm: &Netns, dir: &Path, name: &str) -> Capture {
    vm.capture("eth0", dir, name, "udp port 546 or udp port 547", 60)
}

/// What the tests read of a capture.
trait Dhcpv6Messages {
    /// Stops the capture; every DHCPv6 message in it, in order.
    fn messages(&mut self) -> Vec<v6::Message>;
}

impl Dhcpv6Messages for Capture {
    fn messages(&mut self) -> Vec<v6::Message> {
        self.stop();
        let cap = replay::read_capture(std::fs::File::open(&self.pcap).expect("capture"))
            .expect("a readable capture");
        cap.frames
            .iter()
            .filter_map(|f| {
                let ip = frame::parse_ipv6(replay::ip_packet(f)?).ok()?;
                let payload = ip.payload.get(frame::UDP_HDR_LEN..)?;
                (ip.next_header == frame::PROTO_UDP).then_some(())?;
                v6::Message::decode(&mut Decoder::new(payload)).ok()
            })
            .collect()
    }
}

/// Runs `timeout SECS dhclient -6 ARGS` in `vm` with lease file `leases`;
/// returns the hook's events and dhclient's output.
fn dhclient6(
    t: &Topology,
    vm: &Netns,
    name: &str,
    args: &str,
    leases: &str,
    secs: u32,
) -> (Vec<ClientEvent>, String) {
    let (script, log) = client_script(t.dir.path(), name);
    let d = t.dir.path().display();
    let _ = vm.run_out(&format!(
        "timeout {secs} dhclient -6 {args} -v -1 -d -sf {} -lf {d}/{leases} -pf {d}/{name}.pid eth0 >{d}/{name}.out 2>&1",
        script.display(),
    ));
    let out = std::fs::read_to_string(t.dir.path().join(format!("{name}.out"))).unwrap_or_default();
    (client_events(&log), out)
}

/// The values of `var` in the events named `event`.
fn values(ev: &[ClientEvent], event: &str, var: &str) -> BTreeSet<String> {
    ev.iter()
        .filter(|(e, _)| e == event)
        .filter_map(|(_, v)| v.get(var).cloned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The options `code` of a message, or inside its IAs.
fn all(opts: &v6::DhcpOptions, code: C6) -> Vec<&O6> {
    opts.get_all(code)
        .map(|o| o.iter().collect())
        .unwrap_or_default()
}

/// The prefixes of the IA_PDs of `m`, with (preferred, valid) lifetimes.
fn prefixes(m: &v6::Message) -> Vec<(String, u32, u32)> {
    all(m.opts(), C6::IAPD)
        .into_iter()
        .flat_map(|o| match o {
            O6::IAPD(pd) => all(&pd.opts, C6::IAPrefix),
            _ => vec![],
        })
        .filter_map(|o| match o {
            O6::IAPrefix(p) => Some((
                format!("{}/{}", p.prefix_ip, p.prefix_len),
                p.preferred_lifetime,
                p.valid_lifetime,
            )),
            _ => None,
        })
        .collect()
}

/// The status codes inside the IAs `code` (IA_NA or IA_PD) of `m`.
fn ia_statuses(m: &v6::Message, code: C6) -> Vec<v6::Status> {
    all(m.opts(), code)
        .into_iter()
        .filter_map(|o| match o {
            O6::IANA(ia) => ia.opts.get(C6::StatusCode).cloned(),
            O6::IAPD(pd) => pd.opts.get(C6::StatusCode).cloned(),
            _ => None,
        })
        .filter_map(|s| match s {
            O6::StatusCode(s) => Some(s.status),
            _ => None,
        })
        .collect()
}

/// The server's answer (Advertise or Reply) to the client message of
/// type `t` in `msgs`, with the request.
fn answer(msgs: &[v6::Message], t: M6) -> Option<(&v6::Message, &v6::Message)> {
    msgs.iter().filter(|m| m.msg_type() == t).find_map(|q| {
        msgs.iter()
            .find(|r| matches!(r.msg_type(), M6::Advertise | M6::Reply) && r.xid() == q.xid())
            .map(|r| (q, r))
    })
}

fn delegated() -> Vec<(String, u32, u32)> {
    vec![(P56.into(), 4, 8), (P60.into(), 4, 8)]
}

/// The common cloud shape: addresses by SLAAC, prefixes by DHCPv6. dhclient
/// asks for an address and a prefix; it gets the prefixes, and the IA_NA
/// NoAddrsAvail. It renews them within its run, and a second run from its
/// lease file rebinds them (RFC 8415 §18.2.12: a Rebind, not a Confirm).
#[test]
fn slaac_dhcpv6_mode_delegates_prefixes_renews_and_rebinds_them() {
    if !prerequisites(&["dhclient", "tcpdump"]) {
        return;
    }
    let (t, d) = setup("pds", "slaac+dhcpv6");
    let mut cap = capture_dhcpv6(&t.vm_r, t.dir.path(), "pds");
    let (ev, out) = dhclient6(&t, &t.vm_r, "pd1", "-N -P", "pd.leases", 6);
    let context = || format!("{ev:?}\n{out}\nlog:\n{}", d.log_text());
    assert_eq!(
        values(&ev, "BOUND6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "{}",
        context()
    );
    assert!(
        values(&ev, "BOUND6", "new_ip6_address").is_empty(),
        "{}",
        context()
    );
    assert_eq!(
        values(&ev, "RENEW6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "no renewal within the run: {}",
        context()
    );
    let msgs = cap.messages();
    let (_, adv) = answer(&msgs, M6::Solicit).expect("a Solicit answered");
    assert_eq!(adv.msg_type(), M6::Advertise);
    assert_eq!(prefixes(adv), delegated());
    assert_eq!(ia_statuses(adv, C6::IANA), [v6::Status::NoAddrsAvail]);
    // RFC 8415 §18.3.2: no address for an IA_NA of a Request; §18.3.4: a
    // Renew of an IA_NA the server holds no binding for.
    for (t6, na) in [
        (M6::Request, v6::Status::NoAddrsAvail),
        (M6::Renew, v6::Status::NoBinding),
    ] {
        let (req, rep) = answer(&msgs, t6).unwrap_or_else(|| panic!("no {t6:?} answered"));
        assert_eq!(rep.msg_type(), M6::Reply);
        assert_eq!(prefixes(rep), delegated(), "{t6:?}");
        assert_eq!(ia_statuses(rep, C6::IANA), [na], "{t6:?}");
        if t6 == M6::Renew {
            // It renews what it holds.
            let held: Vec<String> = prefixes(req).into_iter().map(|p| p.0).collect();
            assert_eq!(held, [P56, P60]);
        }
    }
    // A second run from the lease file.
    let mut cap = capture_dhcpv6(&t.vm_r, t.dir.path(), "pds2");
    let (ev, out) = dhclient6(&t, &t.vm_r, "pd2", "-N -P", "pd.leases", 3);
    let msgs = cap.messages();
    let (_, rep) = answer(&msgs, M6::Rebind)
        .unwrap_or_else(|| panic!("no Rebind answered: {ev:?}\n{out}\n{msgs:?}"));
    assert_eq!(prefixes(rep), delegated());
    assert_eq!(
        values(&ev, "REBIND6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "{ev:?}\n{out}"
    );
    // The address is the kernel's own, by SLAAC from our RAs (a /64),
    // never a DHCPv6 lease (a /128).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = t.vm_r.run("ip -6 addr show dev eth0 scope global");
        assert!(!a.contains(&format!("{ADDR_R}/128")), "{a}");
        if a.contains(&format!("{ADDR_R}/64")) {
            break;
        }
        assert!(Instant::now() < deadline, "no SLAAC address: {a}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Mode dhcpv6: the routed VM gets its address and its prefixes; the
/// bridged VM, whose binding delegates none, gets its address and
/// NoPrefixAvail for its IA_PD.
#[test]
fn dhcpv6_mode_delegates_to_one_vm_and_no_prefix_avail_to_the_other() {
    if !prerequisites(&["dhclient", "tcpdump"]) {
        return;
    }
    let (t, d) = setup("pdd", "dhcpv6");
    let mut cap = capture_dhcpv6(&t.vm_b, t.dir.path(), "pdd-b");
    let ((ev_r, out_r), (ev_b, out_b)) = std::thread::scope(|s| {
        let r = s.spawn(|| dhclient6(&t, &t.vm_r, "pd-r", "-N -P", "r.leases", 5));
        let b = s.spawn(|| dhclient6(&t, &t.vm_b, "pd-b", "-N -P", "b.leases", 5));
        (r.join().expect("vm-r"), b.join().expect("vm-b"))
    });
    let context = || {
        format!(
            "{ev_r:?}\n{out_r}\n{ev_b:?}\n{out_b}\nlog:\n{}",
            d.log_text()
        )
    };
    assert_eq!(
        values(&ev_r, "BOUND6", "new_ip6_address"),
        set(&[ADDR_R]),
        "{}",
        context()
    );
    assert_eq!(
        values(&ev_r, "BOUND6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "{}",
        context()
    );
    assert_eq!(
        values(&ev_r, "RENEW6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "{}",
        context()
    );
    assert_eq!(
        values(&ev_b, "BOUND6", "new_ip6_address"),
        set(&[ADDR_B]),
        "{}",
        context()
    );
    assert!(
        values(&ev_b, "BOUND6", "new_ip6_prefix").is_empty(),
        "{}",
        context()
    );
    let msgs = cap.messages();
    for t6 in [M6::Solicit, M6::Request] {
        let (_, rep) = answer(&msgs, t6).unwrap_or_else(|| panic!("no {t6:?}: {msgs:?}"));
        assert_eq!(
            ia_statuses(rep, C6::IAPD),
            [v6::Status::NoPrefixAvail],
            "{t6:?}"
        );
        assert!(prefixes(rep).is_empty());
        assert!(ia_statuses(rep, C6::IANA).is_empty(), "the IA_NA is served");
    }
    let st = d.status();
    assert!(
        st.counters
            .get("dhcpv6.reply.advertise")
            .copied()
            .unwrap_or(0)
            >= 2,
        "{:?}",
        st.counters
    );
    // SIGUSR1's dump of the table names the delegated prefixes too.
    d.signal(nix::sys::signal::Signal::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("prefix6_delegated={P56} {P60}");
    while !d.log_text().contains(&want) {
        assert!(
            Instant::now() < deadline,
            "{want} not in:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// dhcpcd with ia_na and ia_pd and Rapid Commit (RFC 8415 §18.3.1): the
/// Solicit gets a committed Reply at once; the prefix is delegated.
#[test]
fn dhcpcd_rapid_commit_gets_the_prefix_in_one_exchange() {
    if !prerequisites(&["dhcpcd", "tcpdump"]) {
        return;
    }
    let (t, d) = setup("pdc", "slaac+dhcpv6");
    let dir = t.dir.path();
    let conf = dir.join("dhcpcd6.conf");
    std::fs::write(&conf, "noipv6rs\noption rapid_commit\nia_na 1\nia_pd 2\n").unwrap();
    let (script, log) = client_script(dir, "dhcpcd6");
    let mut cap = capture_dhcpv6(&t.vm_r, dir, "pdc");
    // Its DUID, lease and pid files in private tmpfs mounts.
    let out = t.vm_r.run_out(&format!(
        "unshare -m --propagation private sh -c \"mount -t tmpfs none /var/lib/dhcpcd && mount -t tmpfs none /run && timeout 8 dhcpcd -6 -1 -B -f {} -c {} eth0\"",
        conf.display(),
        script.display()
    ));
    let ev = client_events(&log);
    let context = || {
        format!(
            "{ev:?}\n{}{}\nlog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            d.log_text()
        )
    };
    let bound = ev
        .iter()
        .find(|(e, _)| e == "BOUND6")
        .unwrap_or_else(|| panic!("no BOUND6: {}", context()));
    assert_eq!(
        bound.1["new_dhcp6_ia_pd1_prefix1"],
        "2001:db8:100::",
        "{}",
        context()
    );
    assert_eq!(bound.1["new_dhcp6_ia_pd1_prefix1_length"], "56");
    assert_eq!(bound.1["new_dhcp6_ia_pd1_prefix2"], "2001:db8:200::");
    let msgs = cap.messages();
    let (sol, rep) = answer(&msgs, M6::Solicit)
        .unwrap_or_else(|| panic!("no Solicit answered: {msgs:?}\n{}", context()));
    assert!(sol.opts().get(C6::RapidCommit).is_some(), "{sol:?}");
    assert_eq!(rep.msg_type(), M6::Reply);
    assert!(rep.opts().get(C6::RapidCommit).is_some());
    assert_eq!(prefixes(rep), delegated());
    assert_eq!(ia_statuses(rep, C6::IANA), [v6::Status::NoAddrsAvail]);
    assert!(
        msgs.iter().all(|m| m.msg_type() != M6::Request),
        "no Request after a committed Reply"
    );
}

/// A bad PREFIX6_DELEGATED makes only its own file invalid (its last good
/// binding stays in force); a delegation overlapping another binding's is
/// logged, and both VMs are served what their files say.
#[test]
fn bad_or_overlapping_delegations_never_disturb_other_bindings() {
    if !prerequisites(&["dhclient"]) {
        return;
    }
    let (t, d) = setup("pdb", "dhcpv6");
    // tap-b now delegates a /60 inside tap-r's /56: logged, both served.
    t.write_binding(
        "tap-b",
        &format!("{BINDING_B}PREFIX6_DELEGATED=2001:db8:100:10::/60\n"),
    );
    let overlap = "PREFIX6_DELEGATED 2001:db8:100:10::/60 of tap-b overlaps PREFIX6_DELEGATED 2001:db8:100::/56 of tap-r";
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.log_text().contains(overlap) {
        assert!(
            Instant::now() < deadline,
            "overlap not logged:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // tap-r's file is rewritten with host bits set: refused, last good kept.
    t.write_binding(
        "tap-r",
        &BINDING_R.replace("2001:db8:100::/56", "2001:db8:100:1::/56"),
    );
    let st = d.wait_for("tap-r invalid", |s| {
        s.bindings
            .iter()
            .any(|b| b.tap == "tap-r" && b.state == "invalid")
    });
    let r = st.binding("tap-r").expect("tap-r");
    assert_eq!(r.last_good_served, Some(true));
    let err = r.error.clone().unwrap_or_default();
    assert!(
        err.contains("PREFIX6_DELEGATED=") && err.contains("2001:db8:100:1::/56 has host bits set"),
        "{err}"
    );
    let b = st.binding("tap-b").expect("tap-b");
    assert_eq!(b.state, "active");
    let ((ev_r, out_r), (ev_b, out_b)) = std::thread::scope(|s| {
        let r = s.spawn(|| dhclient6(&t, &t.vm_r, "pdb-r", "-P", "r.leases", 3));
        let b = s.spawn(|| dhclient6(&t, &t.vm_b, "pdb-b", "-P", "b.leases", 3));
        (r.join().expect("vm-r"), b.join().expect("vm-b"))
    });
    assert_eq!(
        values(&ev_r, "BOUND6", "new_ip6_prefix"),
        set(&[P56, P60]),
        "{ev_r:?}\n{out_r}"
    );
    assert_eq!(
        values(&ev_b, "BOUND6", "new_ip6_prefix"),
        set(&["2001:db8:100:10::/60"]),
        "{ev_b:?}\n{out_b}"
    );
}
