//! `OPTION_<code>` of a binding and the config's `[options]` in replies.

use super::*;
use crate::value::options::Customs;

/// Options from `KEY=value` pairs, as a binding file or `[options]` gives them.
fn customs(pairs: &[(&str, &str)]) -> Customs {
    Customs::parse(pairs.iter().copied()).expect("valid options")
}

/// A DISCOVER asking for `codes` (option 55), with option 57 `max`.
fn discover_asking(codes: &[u8], max: Option<u16>) -> Message {
    let mut opts = vec![DhcpOption::ParameterRequestList(
        codes.iter().map(|&c| OptionCode::from(c)).collect(),
    )];
    opts.extend(max.map(DhcpOption::MaxMessageSize));
    msg(MessageType::Discover, vm_mac(), opts)
}

/// The value of option `code` on the wire, its pieces joined (RFC 3396).
fn raw(a: &Answer, code: u8) -> Option<Vec<u8>> {
    let pieces: Vec<&[u8]> = wire_options(&a.payload)
        .into_iter()
        .filter(|&(c, _)| c == code)
        .map(|(_, d)| d)
        .collect();
    (!pieces.is_empty()).then(|| pieces.concat())
}

#[test]
fn sent_when_asked_in_the_clients_order_or_always() {
    let c = config();
    let mut b = routed();
    b.options = customs(&[
        ("OPTION_252", "string:http://wpad.example/wpad.dat"),
        ("OPTION_224", "u16:1500"),
        ("OPTION_225", "always ip:192.0.2.7"),
    ]);
    let cx = ctx(&c, &b);
    // Not asked: only the `always` one, after ours.
    let a = answer(&cx, &discover());
    assert_eq!(raw(&a, 252), None);
    assert_eq!(raw(&a, 224), None);
    assert_eq!(raw(&a, 225), Some(vec![192, 0, 2, 7]));
    assert_eq!(a.codes().last(), Some(&OptionCode::from(225)));
    // Asked: in the order of the request list, before what was not asked.
    let a = answer(&cx, &discover_asking(&[252, 1, 224], None));
    assert_eq!(
        a.codes()[2..5],
        [
            OptionCode::from(252),
            OptionCode::SubnetMask,
            OptionCode::from(224)
        ]
    );
    assert_eq!(raw(&a, 252).unwrap(), b"http://wpad.example/wpad.dat");
    assert_eq!(raw(&a, 224).unwrap(), [0x05, 0xdc]);
    assert!(raw(&a, 225).is_some());
    // A NAK carries none of them.
    let nak = answer(&cx, &selecting(Ipv4Addr::new(192, 0, 2, 99)));
    assert_eq!(nak.kind, ReplyKind::Nak);
    assert_eq!(raw(&nak, 225), None);
}

#[test]
fn config_defaults_unless_the_binding_overrides_or_drops_them() {
    let mut c = config();
    c.options = customs(&[
        ("OPTION_224", "always string:site"),
        ("OPTION_225", "always u8:1"),
        ("OPTION_226", "always u8:2"),
    ]);
    let mut b = routed();
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(raw(&a, 224).unwrap(), b"site");
    assert_eq!(raw(&a, 225).unwrap(), [1]);
    b.options = customs(&[("OPTION_224", "string:vm"), ("OPTION_226", "none")]);
    // The binding's 224 is sent only when asked, as it says: not asked, none.
    let a = answer(&ctx(&c, &b), &discover());
    assert_eq!(raw(&a, 224), None);
    assert_eq!(raw(&a, 225).unwrap(), [1]);
    assert_eq!(raw(&a, 226), None);
    let a = answer(&ctx(&c, &b), &discover_asking(&[224, 226], None));
    assert_eq!(raw(&a, 224).unwrap(), b"vm");
    assert_eq!(raw(&a, 226), None);
}

#[test]
fn a_long_value_is_split_per_rfc_3396() {
    let c = config();
    let mut b = routed();
    let value: Vec<u8> = (0..600u32).map(|i| b'a' + (i % 26) as u8).collect();
    let text = format!("string:{}", String::from_utf8(value.clone()).unwrap());
    b.options = customs(&[("OPTION_250", text.as_str())]);
    let a = answer(&ctx(&c, &b), &discover_asking(&[250], Some(1500)));
    let pieces: Vec<usize> = wire_options(&a.payload)
        .into_iter()
        .filter(|&(code, _)| code == 250)
        .map(|(_, d)| d.len())
        .collect();
    // RFC 3396 §5: each piece full but the last; `wire_codes` (in `of`)
    // already checked they are adjacent.
    assert_eq!(pieces, [255, 255, 90]);
    assert_eq!(raw(&a, 250).unwrap(), value);
}

#[test]
fn fitted_to_the_maximum_message_size_as_the_others() {
    let c = config();
    let mut b = routed();
    // 280 bytes: two pieces, 284 bytes on the wire.
    let long = format!("string:{}", "x".repeat(280));
    b.options = customs(&[("OPTION_250", long.as_str()), ("OPTION_251", "u8:9")]);
    // 576: 548 bytes of DHCP, 308 of options. Asked first, 250 stays and
    // the unasked tail (ours) goes; asked last, 250 goes with that tail.
    let a = answer(&ctx(&c, &b), &discover_asking(&[250, 251], Some(576)));
    assert!(a.payload.len() <= 576 - 28);
    assert_eq!(raw(&a, 250).map(|v| v.len()), Some(280));
    assert_eq!(raw(&a, 251), Some(vec![9]));
    assert_eq!(a.option(OptionCode::DomainNameServer), None);
    let a = answer(
        &ctx(&c, &b),
        &discover_asking(&[1, 3, 6, 251, 250], Some(576)),
    );
    assert!(a.payload.len() <= 576 - 28);
    assert_eq!(raw(&a, 250), None);
    assert_eq!(raw(&a, 251), Some(vec![9]));
    assert!(a.option(OptionCode::DomainNameServer).is_some());
    // 1500: everything.
    let a = answer(
        &ctx(&c, &b),
        &discover_asking(&[1, 3, 6, 251, 250], Some(1500)),
    );
    assert_eq!(raw(&a, 250).map(|v| v.len()), Some(280));
    assert!(a.option(OptionCode::DomainSearch).is_some());
}

#[test]
fn the_most_options_a_reply_can_list_fit() {
    // Every fixed entry of the list (as `a_reply_can_carry_every_option_we_have`)
    // and 16 options from the binding and 16 from the config, all always.
    let mut c = config();
    let pairs = |codes: std::ops::Range<u8>| -> Vec<(String, String)> {
        codes
            .map(|code| (format!("OPTION_{code}"), format!("always u8:{code}")))
            .collect()
    };
    let parse = |p: &[(String, String)]| {
        Customs::parse(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap()
    };
    c.options = parse(&pairs(224..240));
    let mut b = routed();
    b.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
    b.mtu = Some(1500);
    b.options = parse(&pairs(200..216));
    let m = msg(
        MessageType::Discover,
        vm_mac(),
        vec![
            DhcpOption::RapidCommit,
            DhcpOption::MaxMessageSize(1500),
            DhcpOption::ParameterRequestList(vec![OptionCode::ClasslessStaticRoute]),
        ],
    );
    let a = answer(&ctx(&c, &b), &m);
    assert_eq!(a.codes().len(), 15 + 32);
    for code in (200..216).chain(224..240) {
        assert_eq!(raw(&a, code), Some(vec![code]), "{code}");
    }
}
