use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/compat/bindings/", $name))
    };
}

fn ok(tap: &str, text: &str) -> Parsed {
    parse(tap, text, true).unwrap_or_else(|e| panic!("{tap}: {e}"))
}

fn err(tap: &str, text: &str) -> (&'static str, String, Reason) {
    match parse(tap, text, true) {
        Err(BindingError::Invalid {
            key, value, reason, ..
        }) => (key, value, reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn compat_routed() {
    let p = ok("tap-routed", fixture!("tap-routed"));
    let b = p.binding;
    assert_eq!(b.tap, "tap-routed");
    assert_eq!(b.indev, "tap-routed");
    assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 10)));
    assert_eq!(b.mac, "aa:00:00:00:00:10".parse().unwrap());
    assert_eq!(b.hostname.as_deref(), Some("web1"));
    assert_eq!(
        b.tags,
        vec!["nfdhcpd".to_string(), "ip-less-routed".to_string()]
    );
    assert_eq!(b.gateway, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(b.subnet, Some("192.0.2.0/24".parse().unwrap()));
    assert_eq!(b.gateway6, Some("2001:db8:1::1".parse().unwrap()));
    assert_eq!(b.subnet6, Some("2001:db8:1::/64".parse().unwrap()));
    assert_eq!(
        b.eui64,
        Some("2001:db8:1::a800:ff:fe00:10".parse().unwrap())
    );
    assert_eq!((b.mtu, b.macspoof, b.private), (None, false, false));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn compat_bridged_with_empty_mtu_loads() {
    // The original rejected this file because of the empty `MTU=`.
    let p = ok("tap-bridged", fixture!("tap-bridged"));
    let b = p.binding;
    assert_eq!(b.indev, "br-public");
    assert_eq!(
        b.mac,
        "aa:00:00:00:00:20".parse().unwrap(),
        "upper-case MAC"
    );
    assert_eq!(b.hostname.as_deref(), Some("db2.example.net"));
    assert_eq!((b.mtu, b.macspoof, b.private), (None, false, false));
    assert_eq!((b.subnet6, b.gateway6, b.eui64), (None, None, None));
    assert_eq!(b.ip, Some(Ipv4Addr::new(198, 51, 100, 20)));
}

#[test]
fn compat_private() {
    let b = ok("tap-private", fixture!("tap-private")).binding;
    assert!(b.private);
    assert_eq!(b.mtu, Some(1450));
    assert_eq!(b.gateway, None);
    assert_eq!(b.gateway6, None);
    assert_eq!(b.subnet6, Some("2001:db8:99::/64".parse().unwrap()));
    assert!(b.tags.is_empty());
}

#[test]
fn compat_invalid_names_file_key_and_value() {
    let e = parse("tap-invalid", fixture!("tap-invalid"), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap-invalid: IP=\"192.0.2.300\": not an IPv4 address"
    );
}

#[test]
fn crlf_whitespace_comments_quotes_and_unknown_keys() {
    let text = "# written by a hook\r\n  MAC = \"AA:BB:CC:00:00:01\" \r\nIP='192.0.2.7'\r\nSUBNET=192.0.2.0/24\r\nFOO=bar\r\n\r\nHOSTNAME=vm7\r\n";
    let b = ok("tap7", text).binding;
    assert_eq!(b.mac, "aa:bb:cc:00:00:01".parse().unwrap());
    assert_eq!(b.ip, Some(Ipv4Addr::new(192, 0, 2, 7)));
    assert_eq!(b.hostname.as_deref(), Some("vm7"));
}

#[test]
fn mac_is_required_and_checked() {
    assert_eq!(
        err("t", "IP=192.0.2.7\n"),
        ("MAC", String::new(), Reason::Missing)
    );
    assert_eq!(err("t", "MAC=\n"), ("MAC", String::new(), Reason::Missing));
    assert_eq!(
        err("t", "MAC=aa:bb\n"),
        ("MAC", "aa:bb".into(), Reason::NotMac)
    );
}

#[test]
fn ip_must_be_inside_subnet_and_a_host() {
    let (k, v, r) = err(
        "t",
        "MAC=aa:00:00:00:00:01\nIP=198.51.100.7\nSUBNET=192.0.2.0/24\n",
    );
    assert_eq!((k, v.as_str()), ("IP", "198.51.100.7"));
    assert_eq!(r, Reason::OutsideSubnet("192.0.2.0/24".parse().unwrap()));
    assert_eq!(
        err(
            "t",
            "MAC=aa:00:00:00:00:01\nIP=192.0.2.255\nSUBNET=192.0.2.0/24\n"
        )
        .2,
        Reason::NotHost
    );
    assert_eq!(
        err(
            "t",
            "MAC=aa:00:00:00:00:01\nIP=192.0.2.0\nSUBNET=192.0.2.0/24\n"
        )
        .2,
        Reason::NotHost
    );
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nSUBNET=192.0.2.0/33\n").2,
        Reason::NotIpv4Net
    );
}

#[test]
fn gateway_a_host_and_outside_subnet_warned() {
    assert_eq!(
        err(
            "t",
            "MAC=aa:00:00:00:00:01\nIP=192.0.2.7\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.255\n"
        )
        .0,
        "GATEWAY"
    );
    let p = ok(
        "t",
        "MAC=aa:00:00:00:00:01\nIP=192.0.2.7\nSUBNET=192.0.2.0/24\nGATEWAY=198.51.100.1\n",
    );
    assert_eq!(p.binding.gateway, Some(Ipv4Addr::new(198, 51, 100, 1)));
    assert!(
        p.warnings[0].0.contains("outside SUBNET"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn eui64_inconsistent_with_mac_is_warned() {
    let p = ok(
        "t",
        "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8:1::/64\nEUI64=2001:db8:1::1\n",
    );
    assert!(
        p.warnings.iter().any(|w| w.0.contains("not the EUI-64")),
        "{:?}",
        p.warnings
    );
    let p = ok(
        "t",
        "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8:1::/64\nEUI64=2001:db8:1::a800:ff:fe00:1\n",
    );
    assert!(p.warnings.is_empty());
}

#[test]
fn subnet6_prefix_length() {
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8::/129\n").2,
        Reason::NotIpv6Net
    );
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nSUBNET6=::/0\n").2,
        Reason::BadPrefixLen
    );
    let p = ok("t", "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8::/56\n");
    assert!(p.warnings[0].0.contains("not a /64"));
}

#[test]
fn mtu_range_depends_on_ipv6() {
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nMTU=67\n"),
        ("MTU", "67".into(), Reason::BadMtu(68))
    );
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nMTU=65536\n").2,
        Reason::BadMtu(68)
    );
    assert_eq!(
        ok("t", "MAC=aa:00:00:00:00:01\nMTU=576\n").binding.mtu,
        Some(576)
    );
    assert_eq!(
        err(
            "t",
            "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8::/64\nMTU=1000\n"
        )
        .2,
        Reason::BadMtu(1280)
    );
    // IPv6 not served by the daemon: 1000 is fine.
    assert!(parse(
        "t",
        "MAC=aa:00:00:00:00:01\nSUBNET6=2001:db8::/64\nMTU=1000\n",
        false
    )
    .is_ok());
}

#[test]
fn hostname_rfc1123() {
    for bad in ["-web", "web_1", "a..b", "ümlaut", &"a".repeat(64)] {
        let (k, _, r) = err("t", &format!("MAC=aa:00:00:00:00:01\nHOSTNAME={bad}\n"));
        assert_eq!(k, "HOSTNAME", "{bad}");
        assert!(matches!(r, Reason::BadHostname(_)), "{bad}: {r:?}");
    }
    assert_eq!(
        ok("t", "MAC=aa:00:00:00:00:01\nHOSTNAME=web-1.example.org.\n")
            .binding
            .hostname
            .as_deref(),
        Some("web-1.example.org")
    );
}

#[test]
fn control_characters_are_refused() {
    let e = parse("t", "MAC=aa:00:00:00:00:01\nHOSTNAME=a\u{1b}[31m\n", true).unwrap_err();
    assert!(
        matches!(
            e,
            BindingError::Invalid {
                reason: Reason::ControlChars,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn flags() {
    let b = ok("t", "MAC=aa:00:00:00:00:01\nMACSPOOF=1\nPRIVATE=yes\n").binding;
    assert!(b.macspoof && b.private);
    assert_eq!(
        err("t", "MAC=aa:00:00:00:00:01\nPRIVATE=perhaps\n").2,
        Reason::NotFlag
    );
}

#[test]
fn not_key_value_names_the_line() {
    let e = parse("t", "MAC=aa:00:00:00:00:01\ngarbage\n", true).unwrap_err();
    assert_eq!(e.to_string(), "t:2: not KEY=VALUE: \"garbage\"");
}

#[test]
fn ignored_names() {
    for n in [".tap1.swp", "tap1.tmp", "tap1~", "tap1.swp", ".hidden"] {
        assert!(is_ignored_name(n), "{n}");
    }
    assert!(!is_ignored_name("tap1"));
}

fn syntax_err(text: &str) -> BindingError {
    let e = parse("tap0", text, true).unwrap_err();
    assert!(
        matches!(
            e,
            BindingError::DuplicateKey { .. } | BindingError::UnbalancedQuote { .. }
        ),
        "{e:?}"
    );
    e
}

#[test]
fn a_repeated_key_is_refused_naming_both_lines() {
    // What a newline in TAGS used to smuggle in: a second IP and MACSPOOF.
    let text = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\nTAGS=web\nMACSPOOF=1\nIP=192.0.2.99\n";
    assert_eq!(
        syntax_err(text),
        BindingError::DuplicateKey {
            file: "tap0".into(),
            line: 6,
            key: "IP".into(),
            value: "192.0.2.99".into(),
            first: 2,
        }
    );
    assert_eq!(
        syntax_err(text).to_string(),
        "tap0:6: IP=\"192.0.2.99\": IP already given on line 2"
    );
    // Whatever the spelling of the line and the key, known or not.
    for text in [
        "MAC=aa:00:00:00:00:10\nMAC=aa:00:00:00:00:10\n",
        "MAC=aa:00:00:00:00:10\nTAGS=a\n export TAGS = \"b\" \r\n",
        "MAC=aa:00:00:00:00:10\nMTU=\nMTU=1500\n",
        "MAC=aa:00:00:00:00:10\nFOO=1\n# FOO=0\nFOO=2\n",
    ] {
        assert!(
            matches!(syntax_err(text), BindingError::DuplicateKey { .. }),
            "{text:?}"
        );
    }
    // Different keys that merely look alike are fine.
    assert!(parse(
        "tap0",
        "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nIP6=2001:db8::10\nip=x\n",
        true
    )
    .is_ok());
}

#[test]
fn a_quote_without_its_partner_is_refused() {
    // The same injection as the hook used to write it: a value with a
    // newline, quoted because it had whitespace, ended by a comment line.
    let text = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\nTAGS=\"web\nMACSPOOF=1\nIP=192.0.2.99\n#\"\n";
    assert_eq!(
        syntax_err(text),
        BindingError::UnbalancedQuote {
            file: "tap0".into(),
            line: 4,
            key: "TAGS".into(),
            value: "\"web".into(),
        }
    );
    assert_eq!(
        syntax_err(text).to_string(),
        "tap0:4: TAGS=\"\\\"web\": unbalanced quote"
    );
    for value in [
        "\"web", "web\"", "'web", "web'", "\"web'", "'web\"", "\"", "'",
    ] {
        let text = format!("MAC=aa:00:00:00:00:10\nTAGS={value}\n");
        assert!(
            matches!(
                syntax_err(&text),
                BindingError::UnbalancedQuote { line: 2, .. }
            ),
            "{value}"
        );
        // Unknown keys too: their line is no more trustworthy.
        let text = format!("MAC=aa:00:00:00:00:10\nFOO={value}\n");
        assert!(
            matches!(syntax_err(&text), BindingError::UnbalancedQuote { .. }),
            "{value}"
        );
    }
    // Balanced quotes, empty quotes and quotes inside a value are fine.
    let b = ok(
        "tap0",
        "MAC='aa:00:00:00:00:10'\nHOSTNAME=\"\"\nTAGS=\"a b\"\nFOO=it's\n",
    )
    .binding;
    assert_eq!((b.hostname, b.tags), (None, vec!["a".into(), "b".into()]));
}

const PD_BASE: &str = "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\nEUI64=2001:db8:1::a800:ff:fe00:10\n";

fn pd(value: &str) -> Result<Parsed, BindingError> {
    parse(
        "tap-pd",
        &format!("{PD_BASE}PREFIX6_DELEGATED={value}\n"),
        true,
    )
}

fn pd_err(value: &str) -> delegated::DelegationError {
    match pd(value) {
        Err(BindingError::Invalid {
            key: "PREFIX6_DELEGATED",
            value: v,
            reason: Reason::BadDelegation(e),
            ..
        }) if v == value.trim_matches('"') => *e,
        other => panic!("{value}: {other:?}"),
    }
}

#[test]
fn delegated_prefixes_are_a_comma_or_space_separated_list() {
    let b = pd("2001:db8:100::/56").unwrap().binding;
    assert_eq!(b.prefix6_delegated, ["2001:db8:100::/56".parse().unwrap()]);
    let want: Vec<ipnet::Ipv6Net> = ["2001:db8:100::/56", "2001:db8:200::/60", "fd00:1::/48"]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    for v in [
        "2001:db8:100::/56,2001:db8:200::/60,fd00:1::/48",
        "\"2001:db8:100::/56 2001:db8:200::/60  fd00:1::/48\"",
        "2001:db8:100::/56, 2001:db8:200::/60 ,fd00:1::/48,",
    ] {
        let p = pd(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(p.binding.prefix6_delegated, want, "{v}");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }
    // Empty: unset, as every key.
    assert!(pd("").unwrap().binding.prefix6_delegated.is_empty());
    assert!(ok("t", PD_BASE).binding.prefix6_delegated.is_empty());
    // Longer than /64: allowed, warned.
    let p = pd("2001:db8:100::/80").unwrap();
    assert!(
        p.warnings[0].0.contains("longer than /64"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn bad_delegated_prefixes_are_refused_naming_the_prefix() {
    use delegated::DelegationError as E;
    let n = |s: &str| s.parse::<ipnet::Ipv6Net>().unwrap();
    assert_eq!(
        pd_err("2001:db8:100::"),
        E::NotPrefix("2001:db8:100::".into())
    );
    assert_eq!(pd_err("2001:db8::/56,junk"), E::NotPrefix("junk".into()));
    assert_eq!(
        pd_err("2001:db8::/129"),
        E::NotPrefix("2001:db8::/129".into())
    );
    assert_eq!(pd_err("192.0.2.0/24"), E::NotPrefix("192.0.2.0/24".into()));
    assert_eq!(
        pd_err("2001:db8:100:1::/56"),
        E::HostBitsSet {
            given: n("2001:db8:100:1::/56"),
            network: n("2001:db8:100::/56")
        }
    );
    assert_eq!(pd_err("2000::/8"), E::BadLength(n("2000::/8")));
    for bad in ["fe80::/64", "ff02::/16", "::/96", "::1/128"] {
        assert_eq!(pd_err(bad), E::NotGlobal(n(bad)), "{bad}");
    }
    let nine = (1..=9)
        .map(|i| format!("2001:db8:{i}00::/56"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(pd_err(&nine), E::TooMany(9));
    let e = pd_err("2001:db8:100::/56,2001:db8:100:f0::/60");
    assert_eq!(
        e.to_string(),
        "2001:db8:100:f0::/60 overlaps PREFIX6_DELEGATED 2001:db8:100::/56"
    );
    assert_eq!(
        pd_err("2001:db8:100::/56 2001:db8:100::/56").to_string(),
        "2001:db8:100::/56 overlaps PREFIX6_DELEGATED 2001:db8:100::/56"
    );
}

#[test]
fn a_delegated_prefix_must_not_overlap_the_vms_own_subnet6_or_addresses() {
    // The VM's own /64 inside the delegation, and the delegation inside it.
    for v in ["2001:db8::/32", "2001:db8:1::/64", "2001:db8:1:0:8000::/80"] {
        let e = pd_err(v);
        assert!(
            matches!(
                e,
                delegated::DelegationError::Overlaps { key: "SUBNET6", .. }
            ),
            "{v}: {e:?}"
        );
    }
    let e = parse(
        "tap-pd",
        "MAC=aa:00:00:00:00:10\nIP6=2001:db8:100::1\nPREFIX6_DELEGATED=2001:db8:100::/56\n",
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap-pd: PREFIX6_DELEGATED=\"2001:db8:100::/56\": 2001:db8:100::/56 overlaps IP6 2001:db8:100::1"
    );
    // Elsewhere: fine.
    assert!(pd("2001:db8:2::/64").is_ok());
}

#[test]
fn pref64_set_turned_off_or_refused_with_file_key_and_value() {
    let base = "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\n";
    assert_eq!(ok("tap0", base).binding.pref64, None);
    let b = ok("tap0", &format!("{base}PREF64=64:ff9b::/96\n")).binding;
    assert_eq!(
        b.pref64,
        Some(Some(pref64::parse_prefix("64:ff9b::/96").unwrap()))
    );
    assert_eq!(
        ok("tap0", &format!("{base}PREF64=none\n")).binding.pref64,
        Some(None)
    );
    // Empty: unset, the config's.
    assert_eq!(ok("tap0", &format!("{base}PREF64=\n")).binding.pref64, None);
    let e = parse("tap0", &format!("{base}PREF64=2001:db8:64::/63\n"), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap0: PREF64=\"2001:db8:64::/63\": 2001:db8:64::/63: a NAT64 prefix is a /96, /64, /56, /48, /40 or /32 (RFC 8781 §4)"
    );
    let (key, value, reason) = err("tap0", &format!("{base}PREF64=ff02::/96\n"));
    assert_eq!((key, value.as_str()), ("PREF64", "ff02::/96"));
    assert!(
        matches!(reason, Reason::BadPref64(e) if matches!(*e, pref64::Pref64Error::NotGlobal(_)))
    );
}

#[test]
fn routes6_parsed_in_order_or_refused_with_file_key_and_value() {
    use crate::domain::RouterPreference;
    let base =
        "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nPREFIX6_DELEGATED=2001:db8:100::/56\n";
    let b = ok(
        "tap0",
        &format!("{base}ROUTES6=\"2001:db8:200::/48 high, 2001:db8:300::/56\"\n"),
    )
    .binding;
    assert_eq!(
        b.routes6
            .iter()
            .map(|r| (r.prefix.to_string(), r.preference))
            .collect::<Vec<_>>(),
        [
            ("2001:db8:200::/48".to_string(), RouterPreference::High),
            ("2001:db8:300::/56".to_string(), RouterPreference::Medium),
        ]
    );
    assert!(ok("tap0", &format!("{base}ROUTES6=\n"))
        .binding
        .routes6
        .is_empty());
    let e = parse(
        "tap0",
        &format!("{base}ROUTES6=2001:db8:100:10::/60 high\n"),
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap0: ROUTES6=\"2001:db8:100:10::/60 high\": 2001:db8:100:10::/60 is inside PREFIX6_DELEGATED 2001:db8:100::/56"
    );
    let (key, value, reason) = err("tap0", &format!("{base}ROUTES6=2001:db8:200::/48 best\n"));
    assert_eq!((key, value.as_str()), ("ROUTES6", "2001:db8:200::/48 best"));
    assert!(
        matches!(reason, Reason::BadRoute(e) if matches!(*e, routes6::RouteError::BadPreference(_)))
    );
}

#[test]
fn nameservers6_domains_and_ntp6_override_or_say_none() {
    let base = "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\n";
    let b = ok("tap0", base).binding;
    assert_eq!((b.nameservers6, b.domains, b.ntp6), (None, None, None));
    let b = ok(
        "tap0",
        &format!("{base}NAMESERVERS6=2001:db8:5300::53\nDOMAINS=\"vm7.example.net example.net.\"\nNTP6=2001:db8:1230::7,2001:db8:1230::8\n"),
    )
    .binding;
    assert_eq!(
        b.nameservers6,
        Some(vec!["2001:db8:5300::53".parse::<Ipv6Addr>().unwrap()])
    );
    assert_eq!(
        b.domains,
        Some(vec![
            "vm7.example.net".to_string(),
            "example.net".to_string()
        ])
    );
    assert_eq!(b.ntp6.as_ref().map(Vec::len), Some(2));
    let b = ok(
        "tap0",
        &format!("{base}NAMESERVERS6=none\nDOMAINS=none\nNTP6=\n"),
    )
    .binding;
    assert_eq!(
        (b.nameservers6, b.domains, b.ntp6),
        (Some(vec![]), Some(vec![]), None)
    );
    for (line, want) in [
        (
            "NAMESERVERS6=192.0.2.53",
            "tap0: NAMESERVERS6=\"192.0.2.53\": \"192.0.2.53\" is not an IPv6 address",
        ),
        (
            "NTP6=ff02::101",
            "tap0: NTP6=\"ff02::101\": ff02::101 is not a unicast address",
        ),
        (
            "DOMAINS=\"a.example -b.example\"",
            "tap0: DOMAINS=\"a.example -b.example\": \"-b.example\" is not a valid domain name: label starts or ends with '-'",
        ),
    ] {
        let e = parse("tap0", &format!("{base}{line}\n"), true).unwrap_err();
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn ra_keys_without_subnet6_are_warned() {
    let p = ok(
        "tap0",
        "MAC=aa:00:00:00:00:10\nROUTES6=2001:db8:100::/48\nPREF64=2001:db8:64::/96\n",
    );
    assert_eq!(
        p.warnings,
        [
            Warning("tap0: ROUTES6 set without SUBNET6: this VM gets no RA to carry it".into()),
            Warning("tap0: PREF64 set without SUBNET6: this VM gets no RA to carry it".into()),
        ]
    );
    assert!(ok(
        "tap0",
        "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nPREF64=none\n"
    )
    .warnings
    .is_empty());
}

#[test]
fn raw_options_parsed_or_refused_with_file_key_and_value() {
    let base = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n";
    let b = ok("tap0", base).binding;
    assert!(b.options.is_empty());
    let b = ok(
        "tap0",
        &format!("{base}OPTION_252=\"always string:http://wpad.example/wpad.dat\"\nOPTION_224=u16:1500\nOPTION6_4242=ip6:2001:db8::42\nOPTION_225=\n"),
    )
    .binding;
    let codes: Vec<u16> = b.options.v4.iter().map(|o| o.code).collect();
    assert_eq!(codes, [224, 252]);
    assert_eq!(b.options.v4[0].data.as_deref(), Some(&[0x05, 0xdc][..]));
    assert!(b.options.v4[1].always && !b.options.v4[0].always);
    assert_eq!(b.options.v6[0].code, 4242);
    for (line, want) in [
        (
            "OPTION_6=ip:192.0.2.53",
            "tap0: OPTION_6=\"ip:192.0.2.53\": option 6 is set by nfdhcpd: use NAMESERVERS",
        ),
        (
            "OPTION_53=u8:5",
            "tap0: OPTION_53=\"u8:5\": option 53 is set by nfdhcpd",
        ),
        (
            "OPTION6_23=ip6:2001:db8::53",
            "tap0: OPTION6_23=\"ip6:2001:db8::53\": option 23 is set by nfdhcpd: use NAMESERVERS6",
        ),
        (
            "OPTION_300=u8:1",
            "tap0: OPTION_300=\"u8:1\": not an option code (OPTION_1..OPTION_254, OPTION6_1..OPTION6_65535)",
        ),
        (
            "OPTION_224=u8:256",
            "tap0: OPTION_224=\"u8:256\": \"256\" is not a u8",
        ),
        (
            "OPTION_224=\"wpad\"",
            "tap0: OPTION_224=\"wpad\": not TYPE:VALUE (ip, ip6, string, u8, u16, u32), 0x hex bytes, or none",
        ),
    ] {
        let e = parse("tap0", &format!("{base}{line}\n"), true).unwrap_err();
        assert_eq!(e.to_string(), want);
    }
    let many: String = (224..=240).map(|c| format!("OPTION_{c}=u8:1\n")).collect();
    let e = parse("tap0", &format!("{base}{many}"), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap0: OPTION_240=\"u8:1\": 17 options: at most 16 OPTION_ and 16 OPTION6_ keys"
    );
}

#[test]
fn routes_parsed_against_subnet_and_gateway_or_refused_with_file_key_and_value() {
    let base = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n";
    let b = ok(
        "tap0",
        &format!(
            "{base}ROUTES=\"198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254\"\n"
        ),
    )
    .binding;
    assert_eq!(
        b.routes
            .list()
            .iter()
            .map(|r| (r.dest.to_string(), r.router.to_string()))
            .collect::<Vec<_>>(),
        [
            ("198.51.100.0/24".to_string(), "192.0.2.1".to_string()),
            ("203.0.113.128/25".to_string(), "192.0.2.254".to_string()),
        ]
    );
    assert!(ok("tap0", &format!("{base}ROUTES=\n"))
        .binding
        .routes
        .is_empty());
    // Keys in any order: ROUTES is checked against SUBNET and GATEWAY
    // wherever they stand in the file.
    assert!(ok(
        "tap0",
        "ROUTES=198.51.100.0/24 via 192.0.2.1\nMAC=aa:00:00:00:00:10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n"
    )
    .binding
    .routes
    .wire()
    .starts_with(&[24, 198, 51, 100]));
    let e = parse(
        "tap0",
        &format!("{base}ROUTES=198.51.100.0/24 via 203.0.113.1\n"),
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap0: ROUTES=\"198.51.100.0/24 via 203.0.113.1\": router 203.0.113.1 of 198.51.100.0/24 is neither in SUBNET 192.0.2.0/24 nor GATEWAY"
    );
    let (key, value, reason) = err("tap0", &format!("{base}ROUTES=198.51.100.0/24\n"));
    assert_eq!((key, value.as_str()), ("ROUTES", "198.51.100.0/24"));
    assert!(
        matches!(reason, Reason::BadRoutes(e) if matches!(*e, routes::RoutesError::NotRoute(_)))
    );
}

#[test]
fn v6only_wait_set_off_or_refused_with_file_key_and_value() {
    let base = "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n";
    let b = ok("tap0", base).binding;
    assert_eq!((b.v6only_wait, b.v6only_wait(1800)), (None, Some(1800)));
    let b = ok("tap0", &format!("{base}V6ONLY_WAIT=3600\n")).binding;
    assert_eq!((b.v6only_wait, b.v6only_wait(0)), (Some(3600), Some(3600)));
    for off in ["0", "off", "\"OFF\""] {
        let b = ok("tap0", &format!("{base}V6ONLY_WAIT={off}\n")).binding;
        assert_eq!(
            (b.v6only_wait, b.v6only_wait(1800)),
            (Some(0), None),
            "{off}"
        );
    }
    assert_eq!(
        ok("tap0", &format!("{base}V6ONLY_WAIT=\n"))
            .binding
            .v6only_wait,
        None
    );
    let e = parse("tap0", &format!("{base}V6ONLY_WAIT=120\n"), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tap0: V6ONLY_WAIT=\"120\": 120 s is under 300 s, the least a client waits (RFC 8925 §3.2); 0 or off turns it off"
    );
    let (key, value, reason) = err("tap0", &format!("{base}V6ONLY_WAIT=30m\n"));
    assert_eq!((key, value.as_str()), ("V6ONLY_WAIT", "30m"));
    assert!(matches!(
        reason,
        Reason::BadV6OnlyWait(v6only::V6OnlyError::NotSeconds(_))
    ));
}
