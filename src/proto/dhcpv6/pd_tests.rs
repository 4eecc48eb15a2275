//! Tests of prefix delegation (IA_PD, RFC 8415 §6.3, §21.21, §21.22):
//! golden typed replies per message type, mode and status; emitted frames
//! decoded by dhcproto.

use super::test_support::*;
use super::*;
use crate::binding::Binding;
use crate::proto::testutil::*;
use dhcproto::v6 as d6;
use dhcproto::{Decodable, Decoder};

const P56: &str = "2001:db8:100::/56";
const P60: &str = "2001:db8:200::/60";
/// A prefix that is not the VM's.
const STALE: &str = "2001:db8:999::/56";

fn net(s: &str) -> Ipv6Net {
    s.parse().expect("test literal is an IPv6 prefix")
}

/// An IA_PD listing `prefixes` (IA Prefix options with lifetimes 0).
fn ia_pd(iaid: u32, prefixes: &[&str]) -> (u16, Vec<u8>) {
    let mut d = iaid.to_be_bytes().to_vec();
    d.extend_from_slice(&[0; 8]);
    for p in prefixes {
        let p = net(p);
        let mut pd = vec![0; 8];
        pd.push(p.prefix_len());
        pd.extend_from_slice(&p.addr().octets());
        push_opt(&mut d, opt::IAPREFIX, &pd).unwrap();
    }
    (opt::IA_PD, d)
}

/// tap-routed delegated a /56 and a /60.
fn delegating() -> Binding {
    let mut b = tap_routed();
    b.prefix6_delegated = vec![net(P56), net(P60)];
    b
}

/// The IA_PD holding the binding's prefixes, lifetimes and T1/T2 as for IA_NA.
fn held(iaid: u32) -> IaPd {
    IaPd {
        iaid,
        t1: 302_400,
        t2: 483_840,
        prefixes: [P56, P60]
            .iter()
            .map(|p| IaPrefix {
                prefix: net(p),
                preferred: 604_800,
                valid: 2_592_000,
            })
            .collect(),
        status: None,
    }
}

fn empty_pd(iaid: u32, status: Status) -> IaPd {
    IaPd {
        iaid,
        t1: 0,
        t2: 0,
        prefixes: vec![],
        status: Some(status),
    }
}

fn empty_na(iaid: u32, status: Status) -> IaNa {
    IaNa {
        iaid,
        t1: 0,
        t2: 0,
        addrs: vec![],
        status: Some(status),
    }
}

/// Decodes an emitted frame with dhcproto (an independent decoder).
fn decode(r: &Dhcpv6Reply) -> d6::Message {
    let f = r.emit().unwrap();
    let u = frame::parse_ipv6_udp(frame::ip_of_frame(&f).unwrap()).expect("valid UDP checksum");
    assert_eq!(u.payload.len(), r.buffer_len());
    d6::Message::decode(&mut Decoder::new(u.payload)).unwrap()
}

#[test]
fn solicit_advertises_every_prefix_in_the_ia_pd_and_rapid_commit_replies() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    let r = run(
        &c,
        &b,
        &message(msg::SOLICIT, &[cid(), ia_na(1, &[]), ia_pd(2, &[])]),
    )
    .unwrap();
    assert_eq!(r.msg_type, ReplyType::Advertise);
    assert_eq!((r.status, r.rapid_commit), (None, false));
    assert_eq!(r.ia_na, [our_na(1)]);
    assert_eq!(r.ia_pd, [held(2)]);
    // What a client decodes: IA_PD 2 with two IA Prefix options.
    let m = decode(&r);
    let Some(d6::DhcpOption::IAPD(pd)) = m.opts().get(d6::OptionCode::IAPD) else {
        panic!("IA_PD")
    };
    assert_eq!((pd.id, pd.t1, pd.t2), (2, 302_400, 483_840));
    let got: Vec<_> = pd
        .opts
        .iter()
        .map(|o| match o {
            d6::DhcpOption::IAPrefix(p) => (
                p.prefix_ip,
                p.prefix_len,
                p.preferred_lifetime,
                p.valid_lifetime,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (a6("2001:db8:100::"), 56, 604_800, 2_592_000),
            (a6("2001:db8:200::"), 60, 604_800, 2_592_000)
        ]
    );
    // RFC 8415 §18.3.1: Rapid Commit: a committed Reply.
    let p = message(
        msg::SOLICIT,
        &[cid(), ia_pd(2, &[STALE]), (opt::RAPID_COMMIT, vec![])],
    );
    let r = run(&c, &b, &p).unwrap();
    assert_eq!((r.msg_type, r.rapid_commit), (ReplyType::Reply, true));
    assert_eq!(r.ia_pd, [held(2)], "a hint of another prefix is ignored");
    assert!(decode(&r).opts().get(d6::OptionCode::RapidCommit).is_some());
}

#[test]
fn request_renew_rebind_extend_the_prefixes_and_expire_stale_ones() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    for (t, server_id) in [
        (msg::REQUEST, true),
        (msg::RENEW, true),
        (msg::REBIND, false),
    ] {
        let mut opts = vec![cid(), ia_pd(7, &[P56, P60])];
        if server_id {
            opts.push(sid());
        }
        let r = run(&c, &b, &message(t, &opts)).unwrap();
        assert_eq!((r.msg_type, r.status), (ReplyType::Reply, None), "type {t}");
        assert_eq!(r.ia_pd, [held(7)], "type {t}");
        assert_eq!(r.dns_servers.len(), 2, "configuration options too");
    }
    // RFC 8415 §18.3.4: a prefix no longer ours comes back with lifetimes 0.
    let r = run(
        &c,
        &b,
        &message(msg::RENEW, &[cid(), sid(), ia_pd(7, &[STALE, P56])]),
    )
    .unwrap();
    let mut want = held(7);
    want.prefixes.push(IaPrefix {
        prefix: net(STALE),
        preferred: 0,
        valid: 0,
    });
    assert_eq!(r.ia_pd, [want]);
}

#[test]
fn a_vm_without_prefix_gets_no_prefix_avail_and_its_address() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = tap_routed();
    let p = message(msg::SOLICIT, &[cid(), ia_na(1, &[]), ia_pd(2, &[])]);
    let r = run(&c, &b, &p).unwrap();
    assert_eq!((r.msg_type, r.status), (ReplyType::Advertise, None));
    assert_eq!(r.ia_na, [our_na(1)]);
    assert_eq!(r.ia_pd, [empty_pd(2, Status::NoPrefixAvail)]);
    let m = decode(&r);
    assert_no_prefix_avail(&m);
    // RFC 8415 §18.3.2: the same in the Reply to a Request.
    let p = message(msg::REQUEST, &[cid(), sid(), ia_na(1, &[]), ia_pd(2, &[])]);
    let r = run(&c, &b, &p).unwrap();
    assert_eq!(
        (r.ia_na.clone(), r.ia_pd.clone()),
        (vec![our_na(1)], vec![empty_pd(2, Status::NoPrefixAvail)])
    );
    // RFC 8415 §18.3.4: Renew of an IA we hold nothing for: NoBinding, and
    // what it lists with lifetimes 0.
    let p = message(msg::RENEW, &[cid(), sid(), ia_pd(2, &[P56])]);
    let mut want = empty_pd(2, Status::NoBinding);
    want.prefixes.push(IaPrefix {
        prefix: net(P56),
        preferred: 0,
        valid: 0,
    });
    assert_eq!(run(&c, &b, &p).unwrap().ia_pd, [want]);
}

#[test]
fn slaac_modes_serve_ia_pd_and_refuse_ia_na_addresses() {
    for mode in [Ipv6Mode::SlaacDhcpv6, Ipv6Mode::Slaac] {
        let c = config(mode);
        let b = delegating();
        let p = message(msg::SOLICIT, &[cid(), ia_na(1, &[]), ia_pd(2, &[])]);
        let r = run(&c, &b, &p).unwrap();
        assert_eq!((r.msg_type, r.status), (ReplyType::Advertise, None));
        assert_eq!(r.ia_na, [empty_na(1, Status::NoAddrsAvail)]);
        assert_eq!(r.ia_pd, [held(2)]);
        let p = message(
            msg::REQUEST,
            &[cid(), sid(), ia_na(1, &[EUI64]), ia_pd(2, &[])],
        );
        let r = run(&c, &b, &p).unwrap();
        assert_eq!(r.ia_na, [empty_na(1, Status::NoAddrsAvail)]);
        assert_eq!(r.ia_pd, [held(2)]);
        let r = run(&c, &b, &message(msg::REBIND, &[cid(), ia_pd(2, &[P56])])).unwrap();
        assert_eq!(r.ia_pd, [held(2)]);
        // Without IA_PD, stateful messages stay unanswered there; Confirm
        // and Decline are about addresses.
        for (t, opts) in [
            (msg::SOLICIT, vec![cid(), ia_na(1, &[])]),
            (
                msg::CONFIRM,
                vec![cid(), ia_na(1, &[EUI64]), ia_pd(2, &[P56])],
            ),
            (
                msg::DECLINE,
                vec![cid(), sid(), ia_na(1, &[EUI64]), ia_pd(2, &[P56])],
            ),
        ] {
            assert_eq!(
                run(&c, &b, &message(t, &opts)),
                Err(DropReason::Disabled),
                "{t}"
            );
        }
        // A VM without prefix: an IA_PD alone gets NoPrefixAvail; with an
        // IA_NA too there is nothing at all to assign (RFC 8415 §18.3.9).
        let b = tap_routed();
        let r = run(&c, &b, &message(msg::SOLICIT, &[cid(), ia_pd(2, &[])])).unwrap();
        assert_eq!(r.ia_pd, [empty_pd(2, Status::NoPrefixAvail)]);
        let r = run(&c, &b, &p).unwrap();
        assert_eq!(r.ia_pd, [empty_pd(2, Status::NoPrefixAvail)]);
        let p = message(msg::SOLICIT, &[cid(), ia_na(1, &[]), ia_pd(2, &[])]);
        let r = run(&c, &b, &p).unwrap();
        assert_eq!(r.status, Some(Status::NoAddrsAvail));
        assert!(r.ia_na.is_empty() && r.ia_pd.is_empty());
    }
}

#[test]
fn every_prefix_goes_to_one_ia_pd_the_one_that_holds_them() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    let p = message(msg::REQUEST, &[cid(), sid(), ia_pd(1, &[]), ia_pd(2, &[])]);
    let r = run(&c, &b, &p).unwrap();
    assert_eq!(r.ia_pd, [held(1), empty_pd(2, Status::NoPrefixAvail)]);
    // The client holds them in its second IA_PD: they stay there.
    let p = message(msg::RENEW, &[cid(), sid(), ia_pd(1, &[]), ia_pd(2, &[P60])]);
    let r = run(&c, &b, &p).unwrap();
    assert_eq!(r.ia_pd, [empty_pd(1, Status::NoBinding), held(2)]);
}

#[test]
fn release_of_our_prefixes_succeeds_and_others_get_no_binding() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    let r = run(
        &c,
        &b,
        &message(msg::RELEASE, &[cid(), sid(), ia_pd(3, &[P56, P60])]),
    )
    .unwrap();
    assert_eq!((r.status, r.ia_pd.clone()), (Some(Status::Success), vec![]));
    // RFC 8415 §18.3.7: an IA the server has no binding for: NoBinding.
    let r = run(
        &c,
        &b,
        &message(msg::RELEASE, &[cid(), sid(), ia_pd(3, &[STALE])]),
    )
    .unwrap();
    assert_eq!(r.ia_pd, [empty_pd(3, Status::NoBinding)]);
    let r = run(
        &c,
        &tap_routed(),
        &message(msg::RELEASE, &[cid(), sid(), ia_pd(3, &[P56])]),
    );
    assert_eq!(r.unwrap().ia_pd, [empty_pd(3, Status::NoBinding)]);
    // Served in slaac+dhcpv6 mode too, and a Decline's IA_PDs are ignored.
    let c2 = config(Ipv6Mode::SlaacDhcpv6);
    let r = run(
        &c2,
        &b,
        &message(msg::RELEASE, &[cid(), sid(), ia_pd(3, &[STALE])]),
    )
    .unwrap();
    assert_eq!(r.ia_pd, [empty_pd(3, Status::NoBinding)]);
    let p = message(
        msg::DECLINE,
        &[cid(), sid(), ia_na(1, &[EUI64]), ia_pd(3, &[STALE])],
    );
    assert!(run(&c, &b, &p).unwrap().ia_pd.is_empty());
}

#[test]
fn confirm_tests_addresses_only() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    // RFC 8415 §18.3.3: no address in any IA: no reply.
    let p = message(msg::CONFIRM, &[cid(), ia_pd(1, &[P56])]);
    assert_eq!(run(&c, &b, &p), Err(DropReason::Invalid));
    // The IA_PD, even with a prefix not ours, does not change the answer.
    let p = message(
        msg::CONFIRM,
        &[cid(), ia_na(1, &[EUI64]), ia_pd(2, &[STALE])],
    );
    let r = run(&c, &b, &p).unwrap();
    assert_eq!((r.status, r.ia_pd.clone()), (Some(Status::Success), vec![]));
}

#[test]
fn malformed_ia_pd_and_ia_prefix_drop_the_message() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    let prefix_opt = |len: usize, plen: u8| {
        let mut d = 1u32.to_be_bytes().to_vec();
        d.extend_from_slice(&[0; 8]);
        let mut pd = vec![0; len];
        if len > IAPREFIX_PLEN_AT {
            pd[IAPREFIX_PLEN_AT] = plen;
        }
        push_opt(&mut d, opt::IAPREFIX, &pd).unwrap();
        (opt::IA_PD, d)
    };
    for bad in [
        (opt::IA_PD, vec![0; IA_HDR_LEN - 1]),
        prefix_opt(IAPREFIX_LEN - 1, 56),
        prefix_opt(IAPREFIX_LEN, 129),
        (opt::IA_PD, {
            let mut d = vec![0; IA_HDR_LEN];
            d.extend_from_slice(&[0, 26, 0, 30]); // overrun
            d
        }),
    ] {
        let p = message(msg::SOLICIT, &[cid(), bad.clone()]);
        assert_eq!(run(&c, &b, &p), Err(DropReason::Malformed), "{bad:?}");
    }
    // A longer IA Prefix (with options of its own) and length 0 are fine.
    let p = message(msg::SOLICIT, &[cid(), prefix_opt(IAPREFIX_LEN + 4, 0)]);
    let r = parse_request(&p).unwrap();
    assert_eq!(r.ia_pd[0].prefixes, [net("::/0")]);
    assert_eq!(run(&c, &b, &p).unwrap().ia_pd, [held(1)]);
}

#[test]
fn fit_trims_stale_prefixes_first_and_keeps_ours() {
    let c = config(Ipv6Mode::Dhcpv6);
    let b = delegating();
    let stale: Vec<String> = (0..100u16)
        .map(|i| format!("2001:db8:{:x}::/48", 0x1000 + i))
        .collect();
    let stale: Vec<&str> = stale.iter().map(String::as_str).collect();
    let p = message(
        msg::RENEW,
        &[cid(), sid(), ia_pd(4, &stale), ia_na(1, &[EUI64])],
    );
    let r = run(&c, &b, &p).unwrap();
    let budget = 1500 - frame::IPV6_HDR_LEN - frame::UDP_HDR_LEN;
    assert!(r.buffer_len() <= budget && r.buffer_len() + IAPREFIX_OPT_LEN > budget);
    assert_eq!(r.ia_pd[0].prefixes[..2], held(4).prefixes[..]);
    assert!(r.ia_pd[0].prefixes[2..].iter().all(|p| p.valid == 0));
    assert_eq!(r.ia_na, [our_na(1)]);
    assert_eq!((r.dns_servers.len(), r.domains.len()), (2, 2));
    decode(&r);
}
