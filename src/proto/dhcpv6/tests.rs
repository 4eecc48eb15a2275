//! Tests of the DHCPv6 server: golden typed replies per message type and
//! status, real dhclient messages, emitted frames decoded by dhcproto.

use super::test_support::*;
use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::proto::testutil::*;
use dhcproto::v6 as d6;
use dhcproto::{Decodable, Decoder};

fn oro(codes: &[u16]) -> (u16, Vec<u8>) {
    (
        opt::ORO,
        codes.iter().flat_map(|c| c.to_be_bytes()).collect(),
    )
}

fn base(msg_type: ReplyType) -> Dhcpv6Reply {
    Dhcpv6Reply {
        eth_src: SERVER_MAC,
        eth_dst: GUEST_MAC,
        src: SERVER_MAC.link_local(),
        dst: a6(GUEST_LL),
        msg_type,
        xid: XID,
        server_id: server_duid(SERVER_MAC),
        client_id: Some(client_duid()),
        rapid_commit: false,
        status: None,
        ia_na: vec![],
        ia_ta: vec![],
        ia_pd: vec![],
        dns_servers: vec![a6("2001:db8:53::1"), a6("2001:db8:53::2")],
        domains: vec!["vm.example.org".into(), "example.org".into()],
        ntp_servers: vec![],
        raw_options: vec![],
        bootfile_url: None,
    }
}

/// Decodes an emitted frame with dhcproto (an independent decoder).
fn decode_frame(f: &[u8]) -> d6::Message {
    let u = frame::parse_ipv6_udp(frame::ip_of_frame(f).unwrap()).expect("valid UDP checksum");
    assert_eq!((u.src_port, u.dst_port), (SERVER_PORT, CLIENT_PORT));
    d6::Message::decode(&mut Decoder::new(u.payload)).unwrap()
}

#[test]
fn server_duid_is_duid_ll_of_the_mac_and_stable() {
    assert_eq!(
        server_duid(SERVER_MAC),
        vec![0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]
    );
    let (c, b) = stateful();
    let p = message(msg::INFORMATION_REQUEST, &[cid()]);
    let r1 = run(&c, &b, &p).unwrap();
    let r2 = run(&c, &b, &p).unwrap();
    assert_eq!(r1.server_id, r2.server_id);
    assert_eq!(duid_mac(&r1.server_id), Some(SERVER_MAC));
}

#[test]
fn information_request_honours_oro() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let r = run(
        &c,
        &b,
        &message(msg::INFORMATION_REQUEST, &[cid(), oro(&[23, 24])]),
    )
    .unwrap();
    assert_eq!(r, base(ReplyType::Reply));
    let r = run(
        &c,
        &b,
        &message(msg::INFORMATION_REQUEST, &[cid(), oro(&[23])]),
    )
    .unwrap();
    assert!(r.domains.is_empty() && r.dns_servers.len() == 2);
    let r = run(
        &c,
        &b,
        &message(msg::INFORMATION_REQUEST, &[cid(), oro(&[39])]),
    )
    .unwrap();
    assert!(r.domains.is_empty() && r.dns_servers.is_empty());
    // No ORO: both sent. No client id: allowed (RFC 8415 §16.12), none echoed.
    let r = run(&c, &b, &message(msg::INFORMATION_REQUEST, &[])).unwrap();
    assert_eq!(r.client_id, None);
    assert_eq!(r.domains.len(), 2);
    // Emitted frame decodes with dhcproto, with the right options.
    let m = decode_frame(&base(ReplyType::Reply).emit().unwrap());
    assert_eq!(m.msg_type(), d6::MessageType::Reply);
    assert_eq!(m.xid(), XID);
    let o = m.opts();
    assert_eq!(
        o.get(d6::OptionCode::DomainNameServers),
        Some(&d6::DhcpOption::DomainNameServers(vec![
            a6("2001:db8:53::1"),
            a6("2001:db8:53::2")
        ]))
    );
    let Some(d6::DhcpOption::DomainSearchList(names)) = o.get(d6::OptionCode::DomainSearchList)
    else {
        panic!("search list")
    };
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["vm.example.org.", "example.org."]);
    assert_eq!(
        o.get(d6::OptionCode::ServerId),
        Some(&d6::DhcpOption::ServerId(server_duid(SERVER_MAC)))
    );
}

#[test]
fn information_request_for_another_server_is_dropped() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let other = (opt::SERVERID, server_duid(OTHER_MAC));
    let p = message(msg::INFORMATION_REQUEST, &[cid(), other]);
    assert_eq!(run(&c, &b, &p), Err(DropReason::OtherServer));
    assert!(run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid(), sid()])).is_ok());
}

#[test]
fn solicit_advertise_and_rapid_commit() {
    let (c, b) = stateful();
    let r = run(
        &c,
        &b,
        &message(msg::SOLICIT, &[cid(), ia_na(7, &[]), oro(&[23, 24])]),
    )
    .unwrap();
    let mut want = base(ReplyType::Advertise);
    want.ia_na = vec![our_na(7)];
    assert_eq!(r, want);
    let p = message(
        msg::SOLICIT,
        &[cid(), ia_na(7, &[]), (opt::RAPID_COMMIT, vec![])],
    );
    let r = run(&c, &b, &p).unwrap();
    want.msg_type = ReplyType::Reply;
    want.rapid_commit = true;
    assert_eq!(r, want);
    let m = decode_frame(&r.emit().unwrap());
    assert_eq!(m.msg_type(), d6::MessageType::Reply);
    assert!(m.opts().get(d6::OptionCode::RapidCommit).is_some());
    let Some(d6::DhcpOption::IANA(ia)) = m.opts().get(d6::OptionCode::IANA) else {
        panic!("IA_NA")
    };
    assert_eq!((ia.id, ia.t1, ia.t2), (7, 302_400, 483_840));
    assert_eq!(
        ia.opts.get(d6::OptionCode::IAAddr),
        Some(&d6::DhcpOption::IAAddr(d6::IAAddr {
            addr: a6(EUI64),
            preferred_life: 604_800,
            valid_life: 2_592_000,
            opts: d6::DhcpOptions::new(),
        }))
    );
}

#[test]
fn solicit_without_address_is_no_addrs_avail() {
    let (c, mut b) = stateful();
    b.eui64 = None;
    let r = run(&c, &b, &message(msg::SOLICIT, &[cid(), ia_na(1, &[])])).unwrap();
    let mut want = base(ReplyType::Advertise);
    want.status = Some(Status::NoAddrsAvail);
    want.dns_servers.clear();
    want.domains.clear();
    assert_eq!(r, want);
    let m = decode_frame(&r.emit().unwrap());
    assert_eq!(
        m.opts().get(d6::OptionCode::StatusCode),
        Some(&d6::DhcpOption::StatusCode(d6::StatusCode {
            status: d6::Status::NoAddrsAvail,
            msg: Status::NoAddrsAvail.message().into(),
        }))
    );
    // Request without address: the IA carries NoAddrsAvail (§18.3.2).
    let r = run(
        &c,
        &b,
        &message(msg::REQUEST, &[cid(), sid(), ia_na(1, &[])]),
    )
    .unwrap();
    assert_eq!(r.ia_na[0].status, Some(Status::NoAddrsAvail));
    assert!(r.ia_na[0].addrs.is_empty());
}

#[test]
fn ip6_is_preferred_over_eui64() {
    let (c, mut b) = stateful();
    b.ip6 = Some(a6("2001:db8:1::10"));
    let r = run(
        &c,
        &b,
        &message(msg::REQUEST, &[cid(), sid(), ia_na(3, &[])]),
    )
    .unwrap();
    assert_eq!(r.ia_na[0].addrs[0].addr, a6("2001:db8:1::10"));
}

#[test]
fn request_renew_rebind() {
    let (c, b) = stateful();
    let mut want = base(ReplyType::Reply);
    want.ia_na = vec![our_na(9)];
    for t in [msg::REQUEST, msg::RENEW] {
        let r = run(&c, &b, &message(t, &[cid(), sid(), ia_na(9, &[EUI64])])).unwrap();
        assert_eq!(r, want, "type {t}");
    }
    let r = run(&c, &b, &message(msg::REBIND, &[cid(), ia_na(9, &[EUI64])])).unwrap();
    assert_eq!(r, want);
    // Renew of a stale address: it comes back with lifetimes 0, ours added.
    let r = run(
        &c,
        &b,
        &message(msg::RENEW, &[cid(), sid(), ia_na(9, &["2001:db8:1::99"])]),
    )
    .unwrap();
    let mut ia = our_na(9);
    ia.addrs.push(IaAddress {
        addr: a6("2001:db8:1::99"),
        preferred: 0,
        valid: 0,
    });
    assert_eq!(r.ia_na, vec![ia]);
    // Request of an off-link address: NotOnLink in the IA.
    let r = run(
        &c,
        &b,
        &message(msg::REQUEST, &[cid(), sid(), ia_na(9, &["2001:db8:2::1"])]),
    )
    .unwrap();
    assert_eq!(r.ia_na[0].status, Some(Status::NotOnLink));
    assert!(r.ia_na[0].addrs.is_empty());
}

#[test]
fn confirm_statuses() {
    let (c, b) = stateful();
    let r = run(&c, &b, &message(msg::CONFIRM, &[cid(), ia_na(1, &[EUI64])])).unwrap();
    let mut want = base(ReplyType::Reply);
    want.status = Some(Status::Success);
    want.dns_servers.clear();
    want.domains.clear();
    assert_eq!(r, want);
    for bad in ["2001:db8:2::1", "2001:db8:1::99"] {
        let r = run(&c, &b, &message(msg::CONFIRM, &[cid(), ia_na(1, &[bad])])).unwrap();
        assert_eq!(r.status, Some(Status::NotOnLink), "{bad}");
    }
    assert_eq!(
        run(&c, &b, &message(msg::CONFIRM, &[cid(), ia_na(1, &[])])),
        Err(DropReason::Invalid)
    );
}

#[test]
fn release_and_decline_succeed() {
    let (c, b) = stateful();
    for t in [msg::RELEASE, msg::DECLINE] {
        let r = run(&c, &b, &message(t, &[cid(), sid(), ia_na(1, &[EUI64])])).unwrap();
        let mut want = base(ReplyType::Reply);
        want.status = Some(Status::Success);
        want.dns_servers.clear();
        want.domains.clear();
        assert_eq!(r, want);
        let r = run(
            &c,
            &b,
            &message(t, &[cid(), sid(), ia_na(2, &["2001:db8:1::5"])]),
        )
        .unwrap();
        assert_eq!(r.ia_na[0].status, Some(Status::NoBinding));
    }
}

#[test]
fn ia_ta_and_ia_pd_are_refused_politely() {
    let (c, b) = stateful();
    let mut pd = 5u32.to_be_bytes().to_vec();
    pd.extend_from_slice(&[0; 8]);
    let p = message(
        msg::SOLICIT,
        &[
            cid(),
            (opt::IA_TA, 4u32.to_be_bytes().to_vec()),
            (opt::IA_PD, pd),
        ],
    );
    let r = run(&c, &b, &p).unwrap();
    // tap-routed delegates no prefix.
    let no_prefix = IaPd {
        iaid: 5,
        t1: 0,
        t2: 0,
        prefixes: vec![],
        status: Some(Status::NoPrefixAvail),
    };
    assert_eq!(
        (r.ia_ta.clone(), r.ia_pd.clone()),
        (vec![4], vec![no_prefix])
    );
    let m = decode_frame(&r.emit().unwrap());
    assert_no_prefix_avail(&m);
}

#[test]
fn rfc8415_section16_identifier_rules() {
    let (c, b) = stateful();
    let other = (opt::SERVERID, server_duid(OTHER_MAC));
    // Solicit/Confirm/Rebind: client id required, server id forbidden.
    for t in [msg::SOLICIT, msg::CONFIRM, msg::REBIND] {
        assert_eq!(
            run(&c, &b, &message(t, &[ia_na(1, &[EUI64])])),
            Err(DropReason::Invalid)
        );
        let p = message(t, &[cid(), sid(), ia_na(1, &[EUI64])]);
        assert_eq!(run(&c, &b, &p), Err(DropReason::Invalid));
    }
    // Request/Renew/Release/Decline: server id required and ours, client id required.
    for t in [msg::REQUEST, msg::RENEW, msg::RELEASE, msg::DECLINE] {
        assert_eq!(run(&c, &b, &message(t, &[cid()])), Err(DropReason::Invalid));
        assert_eq!(run(&c, &b, &message(t, &[sid()])), Err(DropReason::Invalid));
        let p = message(t, &[cid(), other.clone()]);
        assert_eq!(run(&c, &b, &p), Err(DropReason::OtherServer));
    }
    // Server messages and relays are not for us.
    for t in [msg::ADVERTISE, msg::REPLY, 10, 12, 13, 200] {
        let p = message(t, &[cid(), sid()]);
        assert_eq!(run(&c, &b, &p), Err(DropReason::UnsupportedMessage));
    }
}

#[test]
fn stateful_messages_disabled_outside_dhcpv6_mode() {
    let b = tap_routed();
    for mode in [Ipv6Mode::Slaac, Ipv6Mode::SlaacDhcpv6] {
        let c = config(mode);
        let p = message(msg::SOLICIT, &[cid(), ia_na(1, &[])]);
        assert_eq!(run(&c, &b, &p), Err(DropReason::Disabled));
        assert!(run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid()])).is_ok());
    }
}

/// RFC 8415 §11: a DUID is opaque and names the device, not the NIC. A
/// multi-NIC guest's DUID-LLT made from another NIC's MAC gets this tap's
/// address; only the frame's source MAC is checked against the binding.
#[test]
fn a_duid_from_another_nic_is_served_a_foreign_frame_mac_is_dropped() {
    let (c, mut b) = stateful();
    let mut llt = vec![0, 1, 0, 1, 0x32, 0x99, 0x15, 0x66];
    llt.extend_from_slice(&OTHER_MAC.octets());
    let mut ll = vec![0, 3, 0, 1];
    ll.extend_from_slice(&OTHER_MAC.octets());
    let en = vec![0, 2, 0, 0, 0x01, 0x37, 1, 2, 3];
    for duid in [llt.clone(), ll, en] {
        for t in [msg::SOLICIT, msg::REQUEST, msg::RENEW, msg::REBIND] {
            let mut opts = vec![(opt::CLIENTID, duid.clone()), ia_na(1, &[])];
            if matches!(t, msg::REQUEST | msg::RENEW) {
                opts.push(sid());
            }
            let r = run(&c, &b, &message(t, &opts)).expect("answered");
            assert_eq!(r.ia_na, vec![our_na(1)], "type {t}");
            assert_eq!(r.client_id.as_deref(), Some(&duid[..]));
        }
    }
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    let q = message(msg::SOLICIT, &[cid(), ia_na(1, &[])]);
    let pkt = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), &q);
    assert_eq!(decide(&cx, &pkt), Err(DropReason::SpoofedMac));
    b.macspoof = true;
    let mut cx = ctx(&c, &b);
    cx.src_mac = Some(OTHER_MAC);
    assert!(decide(&cx, &pkt).is_ok());
}

#[test]
fn malformed_and_not_dhcp() {
    let (c, b) = stateful();
    for bad in [
        vec![msg::SOLICIT, 0, 0],                             // short header
        vec![msg::SOLICIT, 0, 0, 0, 0, 1, 0, 9, 0, 3],        // option overrun
        message(msg::SOLICIT, &[cid(), (opt::ORO, vec![0])]), // odd ORO
        message(msg::SOLICIT, &[cid(), cid()]),               // two client ids
        message(msg::SOLICIT, &[cid(), (opt::IA_NA, vec![0; 11])]),
        message(msg::SOLICIT, &[(opt::CLIENTID, vec![])]),
    ] {
        assert_eq!(run(&c, &b, &bad), Err(DropReason::Malformed), "{bad:?}");
    }
    let f = frame::emit_ipv6_udp(
        GUEST_MAC,
        GUEST_MAC,
        a6(GUEST_LL),
        a6("ff02::1:2"),
        546,
        53,
        b"x",
    )
    .unwrap();
    assert_eq!(
        decide(&ctx(&c, &b), frame::ip_of_frame(&f).unwrap()),
        Err(DropReason::NotDhcp)
    );
}

#[test]
fn real_dhclient_information_request() {
    let (c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    for (mac, pkt) in fixture("dhclient6-info-request.pcap") {
        let mut cx = ctx(&c, &b);
        cx.src_mac = Some(mac);
        let r = decide(&cx, &pkt).unwrap();
        assert_eq!(r.msg_type, ReplyType::Reply);
        assert_eq!(r.client_id, Some(client_duid()));
        assert_eq!(r.dst, a6(GUEST_LL));
        assert_eq!(r.xid, [0x7b, 0x23, 0xc6]);
        assert_eq!(r.dns_servers.len(), 2);
        assert_eq!(r.domains, ["vm.example.org", "example.org"]);
        let Outcome::Reply(out) = handle(&cx, &pkt) else {
            panic!("answered")
        };
        assert_eq!(out.kind, ReplyKind::Dhcpv6Reply);
        assert_eq!(decode_frame(&out.frame).xid(), r.xid);
    }
}

#[test]
fn real_dhclient_solicit() {
    let (c, b) = stateful();
    for (mac, pkt) in fixture("dhclient6-solicit.pcap") {
        let mut cx = ctx(&c, &b);
        cx.src_mac = Some(mac);
        let r = decide(&cx, &pkt).unwrap();
        assert_eq!(r.msg_type, ReplyType::Advertise);
        assert_eq!(r.ia_na, vec![our_na(16)]);
        assert_eq!(duid_mac(r.client_id.as_deref().unwrap()), Some(GUEST_MAC));
        // In slaac+dhcpv6 mode the same Solicit is not served.
        let c2 = config(Ipv6Mode::SlaacDhcpv6);
        let mut cx2 = ctx(&c2, &b);
        cx2.src_mac = Some(mac);
        assert_eq!(handle(&cx2, &pkt), Outcome::Dropped(DropReason::Disabled));
    }
}

#[test]
fn every_truncation_is_dropped_without_panic() {
    let (c, b) = stateful();
    for file in ["dhclient6-solicit.pcap", "dhclient6-info-request.pcap"] {
        let (_, p) = fixture(file).remove(0);
        assert_prefixes_dropped(&format!("{file} "), &p, |q| handle(&ctx(&c, &b), q));
        // Truncated DHCPv6 payloads inside valid UDP: dropped or answered, never panic.
        let payload = &p[frame::IPV6_HDR_LEN + frame::UDP_HDR_LEN..];
        for n in 0..payload.len() {
            let q = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), &payload[..n]);
            let _ = handle(&ctx(&c, &b), &q);
            for i in 0..n {
                let mut x = payload[..n].to_vec();
                x[i] ^= 0xff;
                let q = dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), &x);
                let _ = handle(&ctx(&c, &b), &q);
            }
        }
    }
}

#[test]
fn the_boot_file_url_only_when_the_oro_asks_golden_bytes() {
    let c = config(Ipv6Mode::SlaacDhcpv6);
    let mut b = tap_routed();
    let url = "tftp://[2001:db8::5]/efi/grubx64.efi";
    b.boot = Some(Box::new(crate::value::boot::Boot {
        file6: Some(url.into()),
        ..Default::default()
    }));
    let ask = |b: &Binding, codes: &[u16]| {
        run(
            &c,
            b,
            &message(msg::INFORMATION_REQUEST, &[cid(), oro(codes)]),
        )
        .unwrap()
    };
    assert_eq!(ask(&b, &[23, 24]).bootfile_url, None);
    let none = run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid()])).unwrap();
    assert_eq!(none.bootfile_url, None, "no ORO: not asked");
    let r = ask(&b, &[23, 59]);
    assert_eq!(r.bootfile_url.as_deref(), Some(url));
    // Option 59 (RFC 5970 §3.1): code, length, the URL's bytes.
    let p = r.payload().unwrap();
    let mut opt = vec![0, 59, 0, url.len() as u8];
    opt.extend_from_slice(url.as_bytes());
    assert!(p.ends_with(&opt), "{p:02x?}");
    assert_eq!(p.len(), r.buffer_len());
    // A Solicit asking for it in mode dhcpv6 gets it in the Advertise too.
    let c6 = config(Ipv6Mode::Dhcpv6);
    let sol = message(msg::SOLICIT, &[cid(), oro(&[59]), ia_na(1, &[])]);
    assert_eq!(
        run(&c6, &b, &sol).unwrap().bootfile_url.as_deref(),
        Some(url)
    );
    // A binding without BOOTFILE6: none, or the config's `bootfile6`.
    assert_eq!(ask(&tap_routed(), &[59]).bootfile_url, None);
    let mut cb = config(Ipv6Mode::SlaacDhcpv6);
    cb.ipv6.bootfile6 = Some("http://[2001:db8::6]/node.efi".into());
    let info = message(msg::INFORMATION_REQUEST, &[cid(), oro(&[59])]);
    let node = run(&cb, &tap_routed(), &info).unwrap().bootfile_url;
    assert_eq!(node.as_deref(), Some("http://[2001:db8::6]/node.efi"));
    assert_eq!(
        run(&cb, &b, &info).unwrap().bootfile_url.as_deref(),
        Some(url)
    );
}

#[test]
fn ntp_servers_only_when_the_oro_asks_golden_bytes() {
    let (mut c, b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    c.ipv6.ntp = vec![a6("2001:db8:123::1"), a6("2001:db8:123::2")];
    let ask = |codes: &[u16]| {
        run(
            &c,
            &b,
            &message(msg::INFORMATION_REQUEST, &[cid(), oro(codes)]),
        )
        .unwrap()
    };
    assert!(ask(&[23, 24]).ntp_servers.is_empty());
    let r = ask(&[23, 24, 56]);
    assert_eq!(r.ntp_servers, c.ipv6.ntp);
    // No ORO: DNS and search list, no NTP.
    let none = run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid()])).unwrap();
    assert!(none.ntp_servers.is_empty() && !none.dns_servers.is_empty());
    // Option 56, two NTP_SUBOPTION_SRV_ADDR (code 1, length 16).
    let p = r.payload().unwrap();
    let mut want = vec![0, 56, 0, 40];
    for last in [1, 2] {
        want.extend_from_slice(&[0, 1, 0, 16]);
        want.extend_from_slice(&a6(&format!("2001:db8:123::{last}")).octets());
    }
    assert!(p.ends_with(&want), "{p:02x?}");
    assert_eq!(p.len(), r.buffer_len());
    let m = decode_frame(&r.emit().unwrap());
    assert_eq!(
        m.opts().get(d6::OptionCode::NtpServer),
        Some(&d6::DhcpOption::NtpServer(vec![
            d6::NtpSuboption::ServerAddress(a6("2001:db8:123::1")),
            d6::NtpSuboption::ServerAddress(a6("2001:db8:123::2")),
        ]))
    );
}

#[test]
fn the_bindings_dns_search_list_and_ntp_replace_the_configs() {
    let (mut c, mut b) = stateful();
    c.ipv6.ntp = vec![a6("2001:db8:123::1")];
    b.nameservers6 = Some(vec![a6("2001:db8:5300::53")]);
    b.domains = Some(vec!["vm7.example.net".into()]);
    b.ntp6 = Some(vec![a6("2001:db8:1230::7"), a6("2001:db8:1230::8")]);
    let oro = oro(&[23, 24, 56]);
    for p in [
        message(msg::INFORMATION_REQUEST, &[cid(), oro.clone()]),
        message(msg::SOLICIT, &[cid(), ia_na(1, &[]), oro.clone()]),
        message(msg::REQUEST, &[cid(), sid(), ia_na(1, &[]), oro.clone()]),
    ] {
        let r = run(&c, &b, &p).unwrap();
        assert_eq!(r.dns_servers, [a6("2001:db8:5300::53")]);
        assert_eq!(r.domains, ["vm7.example.net"]);
        assert_eq!(
            r.ntp_servers,
            [a6("2001:db8:1230::7"), a6("2001:db8:1230::8")]
        );
    }
    // `none` in the binding: none, whatever the config has.
    b.nameservers6 = Some(vec![]);
    b.domains = Some(vec![]);
    b.ntp6 = Some(vec![]);
    let r = run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid(), oro])).unwrap();
    assert!(r.dns_servers.is_empty() && r.domains.is_empty() && r.ntp_servers.is_empty());
    let m = decode_frame(&r.emit().unwrap());
    for code in [
        d6::OptionCode::DomainNameServers,
        d6::OptionCode::DomainSearchList,
        d6::OptionCode::NtpServer,
    ] {
        assert_eq!(m.opts().get(code), None, "{code:?}");
    }
}

#[test]
fn raw_options_when_the_oro_asks_or_always_binding_before_config() {
    use crate::value::options::Customs;
    let parse = |pairs: &[(&str, &str)]| Customs::parse(pairs.iter().copied()).unwrap();
    let (mut c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    c.options = parse(&[
        ("OPTION6_4242", "string:site"),
        ("OPTION6_4243", "always u16:7"),
        ("OPTION6_4244", "always u8:1"),
    ]);
    b.options = parse(&[("OPTION6_4242", "string:vm"), ("OPTION6_4244", "none")]);
    let ask = |c: &Config, b: &Binding, codes: &[u16]| {
        let r = run(
            c,
            b,
            &message(msg::INFORMATION_REQUEST, &[cid(), oro(codes)]),
        );
        r.unwrap()
    };
    let r = ask(&c, &b, &[23]);
    assert_eq!(r.raw_options, [(4243, vec![0, 7])]);
    let r = ask(&c, &b, &[23, 4242]);
    assert_eq!(r.raw_options, [(4242, b"vm".to_vec()), (4243, vec![0, 7])]);
    // Without the binding's: the config's.
    let plain = tap_routed();
    let r = ask(&c, &plain, &[4242]);
    assert_eq!(
        r.raw_options,
        [
            (4242, b"site".to_vec()),
            (4243, vec![0, 7]),
            (4244, vec![1])
        ]
    );
    // On the wire after the others, as dhcproto reads them.
    let p = r.payload().unwrap();
    assert!(p.ends_with(&[0x10, 0x94, 0, 1, 1]), "{p:02x?}");
    assert_eq!(p.len(), r.buffer_len());
    let m = decode_frame(&r.emit().unwrap());
    assert_eq!(
        m.opts().get(d6::OptionCode::Unknown(4242)),
        Some(&d6::DhcpOption::Unknown(d6::UnknownOption::new(
            d6::OptionCode::Unknown(4242),
            b"site".to_vec()
        )))
    );
    // In a stateful reply too.
    let (mut c, _) = stateful();
    c.options = parse(&[("OPTION6_4243", "always u16:7")]);
    let r = run(&c, &b, &message(msg::SOLICIT, &[cid(), ia_na(1, &[])])).unwrap();
    assert_eq!(r.raw_options, [(4243, vec![0, 7])]);
}

#[test]
fn raw_options_go_first_when_the_reply_is_too_long() {
    use crate::value::options::Customs;
    let (c, mut b) = (config(Ipv6Mode::SlaacDhcpv6), tap_routed());
    let big = format!("always string:{}", "x".repeat(1000));
    b.options = Customs::parse([
        ("OPTION6_4242", "always u8:1"),
        ("OPTION6_4243", big.as_str()),
    ])
    .unwrap();
    let r = run(&c, &b, &message(msg::INFORMATION_REQUEST, &[cid()])).unwrap();
    assert_eq!(r.raw_options.len(), 2);
    // 1280: 1232 bytes of DHCPv6; the 1000-byte one and one more do not fit
    // with a long search list, which stays.
    b.mtu = Some(1280);
    let mut c2 = c.clone();
    c2.ipv6.domains = (0..4)
        .map(|i| format!("{}.example{i}", "d".repeat(60)))
        .collect();
    let r = run(&c2, &b, &message(msg::INFORMATION_REQUEST, &[cid()])).unwrap();
    assert!(r.buffer_len() <= 1232, "{}", r.buffer_len());
    assert_eq!(r.raw_options, [(4242, vec![1])]);
    assert_eq!(r.domains.len(), 4);
}
