use super::*;

const COMPAT: &str = include_str!("../../tests/fixtures/compat/nfdhcpd.conf");

fn ini(text: &str) -> Result<Loaded, ConfigError> {
    parse(text, Format::Ini, "test.conf")
}

fn invalid(text: &str) -> (Option<usize>, String, String, Invalid) {
    match ini(text) {
        Err(ConfigError::Invalid(b)) => (b.line, b.key, b.value, b.reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

const MINIMAL: &str =
    "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nrs_queue = 43\nns_queue = 44\n";

#[test]
fn compat_config_loads_unchanged() {
    let l = ini(COMPAT).unwrap();
    let c = l.config;
    assert_eq!(
        c.general.pidfile.as_deref(),
        Some(std::path::Path::new("/run/nfdhcpd/nfdhcpd.pid"))
    );
    assert_eq!(c.general.datapath, PathBuf::from("/var/lib/nfdhcpd"));
    assert_eq!(c.general.user.as_deref(), Some("nobody"));
    assert!(c.dhcp.enabled);
    assert_eq!(c.dhcp.lease_lifetime, 604800);
    assert_eq!(c.dhcp.lease_renewal, 3600);
    assert_eq!(c.dhcp.server_ip, Some(Ipv4Addr::new(192, 0, 2, 254)));
    assert!(!c.dhcp.server_on_link);
    assert_eq!(c.dhcp.queue, Some(QueueRange::single(42)));
    assert_eq!(
        c.dhcp.nameservers,
        vec![
            Ipv4Addr::new(192, 0, 2, 53),
            Ipv4Addr::new(198, 51, 100, 53)
        ]
    );
    assert_eq!(c.dhcp.domain.as_deref(), Some("vm.example.org"));
    assert!(c.ipv6.enabled);
    assert_eq!(c.ipv6.mode, Ipv6Mode::SlaacDhcpv6);
    assert_eq!(c.ipv6.ra_period, 300);
    assert_eq!(
        (c.ipv6.rs_queue, c.ipv6.ns_queue, c.ipv6.dhcpv6_queue),
        (
            Some(QueueRange::single(43)),
            Some(QueueRange::single(44)),
            Some(QueueRange::single(45))
        )
    );
    assert_eq!(
        c.ipv6.nameservers,
        vec![
            "2001:db8:53::1".parse::<Ipv6Addr>().unwrap(),
            "2001:db8:53::2".parse().unwrap()
        ]
    );
    assert_eq!(
        c.ipv6.domains,
        vec!["vm.example.org".to_string(), "example.org".to_string()]
    );
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn original_sample_with_unknown_key_and_tab_comment_loads() {
    // The original repository's own sample: `enable_dhcpv6` and a tab before `#`.
    let text = "[general]\ndatapath = /var/lib/nfdhcpd # where\n[dhcp]\nlease_renewal = 3600 \t# 1 hour\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nenable_dhcpv6 = yes\nrs_queue = 43\nns_queue = 44\nfoo = bar\n";
    let l = ini(text).unwrap();
    assert_eq!(l.config.dhcp.lease_renewal, 3600);
    assert_eq!(l.config.ipv6.mode, Ipv6Mode::Slaac);
    assert_eq!(
        l.warnings,
        vec!["[ipv6] foo: unknown key, ignored".to_string()]
    );
}

#[test]
fn defaults_are_the_originals() {
    let c = ini(MINIMAL).unwrap().config;
    assert!(c.dhcp.enabled && c.ipv6.enabled);
    assert!(!c.dhcp.server_on_link);
    assert_eq!(c.ipv6.ra_period, 300);
    assert_eq!(c.dhcp.domain, None);
    assert!(c.ipv6.domains.is_empty());
    assert_eq!(c.ipv6.router_lifetime, 1800);
    assert_eq!(c.ipv6.router_preference, RouterPreference::Medium);
}

#[test]
fn booleans_in_every_spelling() {
    for (v, want) in [
        ("yes", true),
        ("no", false),
        ("True", true),
        ("false", false),
        ("on", true),
        ("0", false),
    ] {
        let c = ini(&format!("[dhcp]\nenable_dhcp = {v}\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = no\n")).unwrap();
        assert_eq!(c.config.dhcp.enabled, want, "{v}");
    }
    let (line, key, value, reason) = invalid("[dhcp]\nenable_dhcp = maybe\n");
    assert_eq!(
        (line, key.as_str(), value.as_str(), reason),
        (Some(2), "enable_dhcp", "maybe", Invalid::NotBool)
    );
}

#[test]
fn deprecated_ipv6_dhcp_queue_is_read_with_a_warning() {
    let l = ini("[dhcp]\nenable_dhcp = no\n[ipv6]\ndhcp_queue = 45\n").unwrap();
    assert_eq!(l.config.ipv6.dhcpv6_queue, Some(QueueRange::single(45)));
    assert_eq!(l.config.ipv6.mode, Ipv6Mode::Dhcpv6);
    assert!(
        l.warnings.iter().any(|w| w.contains("deprecated")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn auto_mode_picks_as_the_original() {
    let pick = |queues: &str| {
        ini(&format!("[dhcp]\nenable_dhcp = no\n[ipv6]\n{queues}")).map(|l| l.config.ipv6.mode)
    };
    assert_eq!(
        pick("rs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45\n").unwrap(),
        Ipv6Mode::SlaacDhcpv6
    );
    assert_eq!(
        pick("rs_queue = 43\nns_queue = 44\n").unwrap(),
        Ipv6Mode::Slaac
    );
    assert_eq!(pick("dhcpv6_queue = 45\n").unwrap(), Ipv6Mode::Dhcpv6);
    assert!(matches!(
        pick("rs_queue = 43\n"),
        Err(ConfigError::Invalid(b)) if b.reason == Invalid::NoModeFits
    ));
}

#[test]
fn explicit_mode_without_its_queues_is_refused() {
    let (line, key, value, reason) = invalid(
        "[dhcp]\nenable_dhcp = no\n[ipv6]\nmode = slaac+dhcpv6\nrs_queue = 43\nns_queue = 44\n",
    );
    assert_eq!(
        (line, key.as_str(), value.as_str()),
        (Some(4), "mode", "slaac+dhcpv6")
    );
    assert_eq!(reason, Invalid::QueuesMissing("dhcpv6_queue".into()));
}

#[test]
fn bad_values_name_file_line_key_and_value() {
    let e = ini("[dhcp]\nserver_ip = 192.0.2.300\ndhcp_queue = 42\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.conf:2: [dhcp] server_ip = \"192.0.2.300\": not an IPv4 address"
    );
    let (line, key, value, reason) = invalid("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 70000\n");
    assert_eq!(
        (line, key.as_str(), value.as_str(), reason),
        (Some(3), "dhcp_queue", "70000", Invalid::BadQueue)
    );
    let (_, key, value, reason) = invalid(
        "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nnameservers = 192.0.2.53, 2001:db8::1\n",
    );
    assert_eq!(
        (key.as_str(), value.as_str(), reason),
        ("nameservers", "2001:db8::1", Invalid::NotIpv4)
    );
    let (_, key, _, reason) = invalid(
        "[dhcp]\nenable_dhcp = no\n[ipv6]\nrs_queue = 43\nns_queue = 44\nnameservers = 192.0.2.1\n",
    );
    assert_eq!((key.as_str(), reason), ("nameservers", Invalid::NotIpv6));
    let (_, key, _, reason) =
        invalid("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nlease_lifetime = soon\n");
    assert_eq!(
        (key.as_str(), reason),
        ("lease_lifetime", Invalid::NotInteger)
    );
}

#[test]
fn a_queue_shared_by_two_protocols_is_refused() {
    let (line, key, value, reason) = invalid(
        "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nrs_queue = 42\nns_queue = 44\n",
    );
    assert_eq!(
        (line, key.as_str(), value.as_str()),
        (Some(5), "rs_queue", "42")
    );
    assert_eq!(reason, Invalid::QueueShared("[dhcp] dhcp_queue".into()));
    // Overlapping balance ranges count too.
    let (_, key, _, _) = invalid(
        "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 40:43\n[ipv6]\nrs_queue = 43\nns_queue = 44\n",
    );
    assert_eq!(key, "rs_queue");
}

#[test]
fn queue_ranges_for_queue_balance() {
    let c = ini("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42:43\n[ipv6]\nenable_ipv6 = no\n")
        .unwrap()
        .config;
    assert_eq!(
        c.dhcp.queue,
        Some(QueueRange {
            first: 42,
            last: 43
        })
    );
    assert_eq!(
        c.dhcp.queue.unwrap().iter().collect::<Vec<_>>(),
        vec![42, 43]
    );
    let (_, key, _, reason) = invalid("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 43:42\n");
    assert_eq!((key.as_str(), reason), ("dhcp_queue", Invalid::BadQueue));
}

#[test]
fn server_ip_required_unless_on_link() {
    let (_, key, _, reason) = invalid("[dhcp]\ndhcp_queue = 42\n");
    assert_eq!(
        (key.as_str(), reason),
        ("server_ip", Invalid::Required("server_on_link is no"))
    );
    assert!(
        ini("[dhcp]\ndhcp_queue = 42\nserver_on_link = yes\n[ipv6]\nenable_ipv6 = no\n").is_ok()
    );
}

#[test]
fn router_lifetime_never_above_9000() {
    let (_, key, _, reason) = invalid(&format!("{MINIMAL}router_lifetime = 9001\n"));
    assert_eq!(
        (key.as_str(), reason),
        ("router_lifetime", Invalid::OutOfRange { min: 0, max: 9000 })
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let e = ini("[dhcp]\njust words\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.conf: line 2: not 'key = value' nor '[section]': \"just words\""
    );
    assert!(matches!(
        ini("[nope]\n"),
        Err(ConfigError::Syntax {
            source: raw::SyntaxError::UnknownSection { line: 1, .. },
            ..
        })
    ));
}

#[test]
fn toml_form_reads_the_same_settings() {
    let text = r#"
[general]
datapath = "/var/lib/nfdhcpd"
control_socket = "/run/nfdhcpd/ctl"

[dhcp]
enable_dhcp = true
lease_lifetime = 604800
lease_renewal = 3600
server_ip = "192.0.2.254"
dhcp_queue = 42
nameservers = ["192.0.2.53", "198.51.100.53"]
domain = "vm.example.org"

[ipv6]
mode = "auto"
rs_queue = 43
ns_queue = 44
dhcpv6_queue = 45
nameservers = ["2001:db8:53::1", "2001:db8:53::2"]
domains = ["vm.example.org", "example.org"]
"#;
    let t = parse(text, Format::Toml, "t.toml").unwrap().config;
    let mut i = ini(COMPAT).unwrap().config;
    i.general.pidfile = None;
    i.general.logdir = None;
    i.general.user = None;
    i.general.control_socket = PathBuf::from("/run/nfdhcpd/ctl");
    assert_eq!(t, i);
}

#[test]
fn toml_unknown_keys_and_bad_values_are_errors_with_lines() {
    let e = parse(
        "[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\nbogus = 1\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("bogus"), "{e}");
    let e = parse(
        "[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = -1\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml:3: [dhcp] dhcp_queue = \"-1\": not a queue number 0..=65535 or a range first:last"
    );
}

#[test]
fn format_follows_extension() {
    assert_eq!(Format::of_path("a/b.toml".as_ref()), Format::Toml);
    assert_eq!(
        Format::of_path("/etc/nfdhcpd/nfdhcpd.conf".as_ref()),
        Format::Ini
    );
}

#[test]
fn rate_limits_in_both_forms() {
    assert_eq!(
        ini(MINIMAL).unwrap().config.limits,
        crate::config::Limit::DEFAULT
    );
    let c = ini(&format!("{MINIMAL}[limits]\nrate = 5\nburst = 9\n"))
        .unwrap()
        .config;
    assert_eq!(c.limits, crate::config::Limit { rate: 5, burst: 9 });
    let t = parse("[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n[limits]\nrate = 0\n", Format::Toml, "t.toml").unwrap();
    assert_eq!(t.config.limits.rate, 0);
    let (_, key, _, reason) = invalid(&format!("{MINIMAL}[limits]\nburst = 0\n"));
    assert_eq!(
        (key.as_str(), reason),
        (
            "burst",
            Invalid::OutOfRange {
                min: 1,
                max: u32::MAX as u64
            }
        )
    );
}

#[test]
fn queue_length_and_fail_open() {
    let c = ini(MINIMAL).unwrap().config;
    assert_eq!(
        (c.general.queue_max_len, c.general.fail_open),
        (4096, false)
    );
    let c = ini(&format!(
        "[general]\nqueue_max_len = 64\nfail_open = yes\n{MINIMAL}"
    ))
    .unwrap()
    .config;
    assert_eq!((c.general.queue_max_len, c.general.fail_open), (64, true));
    let (_, key, _, _) = invalid(&format!("[general]\nqueue_max_len = 0\n{MINIMAL}"));
    assert_eq!(key, "queue_max_len");
}

/// One integer key of `[general]`: its default, a value read from INI
/// and the largest from TOML, values refused and why.
struct IntKey {
    key: &'static str,
    default: u64,
    get: fn(&Config) -> u64,
    ini: u64,
    max: u64,
    min: u64,
    not_integers: &'static [&'static str],
}

#[test]
fn the_workers_integer_keys_have_defaults_both_forms_and_bounds() {
    let keys = [
        IntKey {
            key: "recv_batch",
            default: RECV_BATCH_DEFAULT as u64,
            get: |c| c.general.recv_batch as u64,
            ini: 1,
            max: RECV_BATCH_MAX as u64,
            min: 1,
            not_integers: &["many"],
        },
        IntKey {
            key: "queue_spin_us",
            default: 0,
            get: |c| c.general.queue_spin_us.into(),
            ini: 50,
            max: QUEUE_SPIN_MAX_US.into(),
            min: 0,
            not_integers: &["fast", "-1"],
        },
        IntKey {
            key: "queue_nap_us",
            default: 250,
            get: |c| c.general.queue_nap_us.into(),
            ini: 0,
            max: QUEUE_NAP_MAX_US.into(),
            min: 0,
            not_integers: &["short", "-1"],
        },
    ];
    for k in keys {
        let key = k.key;
        assert_eq!((k.get)(&ini(MINIMAL).unwrap().config), k.default, "{key}");
        let c = ini(&format!("[general]\n{key} = {}\n{MINIMAL}", k.ini))
            .unwrap()
            .config;
        assert_eq!((k.get)(&c), k.ini, "{key}");
        let t = parse(
            &format!("[general]\n{key} = {}\n[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n", k.max),
            Format::Toml,
            "t.toml",
        )
        .unwrap()
        .config;
        assert_eq!((k.get)(&t), k.max, "{key}");
        let over = (k.max + 1).to_string();
        let under = k.min.checked_sub(1).map(|u| u.to_string());
        let out_of_range = std::iter::once(over).chain(under);
        let bad = out_of_range
            .map(|v| {
                (
                    v,
                    Invalid::OutOfRange {
                        min: k.min,
                        max: k.max,
                    },
                )
            })
            .chain(
                k.not_integers
                    .iter()
                    .map(|v| (v.to_string(), Invalid::NotInteger)),
            );
        for (v, want) in bad {
            let (line, got_key, value, reason) =
                invalid(&format!("[general]\n{key} = {v}\n{MINIMAL}"));
            assert_eq!(
                (line, got_key.as_str(), value.as_str()),
                (Some(2), key, v.as_str())
            );
            assert_eq!(reason, want, "{key} = {v}");
        }
    }
}

#[test]
fn shadow_is_off_by_default_and_read_in_both_forms() {
    assert!(!ini(MINIMAL).unwrap().config.general.shadow);
    let c = ini(&format!("[general]\nshadow = yes\n{MINIMAL}"))
        .unwrap()
        .config;
    assert!(c.general.shadow);
    let t = parse(
        "[general]\nshadow = true\n[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert!(t.general.shadow);
    let (_, key, _, reason) = invalid(&format!("[general]\nshadow = maybe\n{MINIMAL}"));
    assert_eq!((key.as_str(), reason), ("shadow", Invalid::NotBool));
}

#[test]
fn metrics_listen_is_off_by_default_and_read_in_both_forms() {
    assert_eq!(ini(MINIMAL).unwrap().config.metrics.listen, None);
    let c = ini(&format!("{MINIMAL}[metrics]\nlisten = 127.0.0.1:9108\n"))
        .unwrap()
        .config;
    assert_eq!(c.metrics.listen, Some("127.0.0.1:9108".parse().unwrap()));
    let t = parse(
        "[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n[metrics]\nlisten = \"[::1]:9108\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.metrics.listen, Some("[::1]:9108".parse().unwrap()));
    assert!(!t.metrics.per_tap, "per-tap series are off by default");
    let c = ini(&format!("{MINIMAL}[metrics]\nper_tap = yes\n"))
        .unwrap()
        .config;
    assert!(c.metrics.per_tap);
    let t = parse(
        "[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = false\n[metrics]\nper_tap = true\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert!(t.metrics.per_tap);
    let (line, key, value, reason) = invalid(&format!("{MINIMAL}[metrics]\nlisten = 9108\n"));
    assert_eq!(
        (line, key.as_str(), value.as_str(), reason),
        (Some(8), "listen", "9108", Invalid::NotSocketAddr)
    );
    assert!(parse(
        "[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\n[metrics]\nport = 1\n",
        Format::Toml,
        "t.toml",
    )
    .is_err());
}

#[test]
fn pref64_in_both_forms_and_bad_ones_named() {
    assert_eq!(ini(MINIMAL).unwrap().config.ipv6.pref64, None);
    let want = crate::value::pref64::parse_prefix("64:ff9b::/96").ok();
    let c = ini(&format!("{MINIMAL}pref64 = 64:ff9b::/96\n"))
        .unwrap()
        .config;
    assert_eq!(c.ipv6.pref64, want);
    let t = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\npref64 = \"64:ff9b::/96\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.ipv6.pref64, want);
    let e = ini(&format!("{MINIMAL}pref64 = 2001:db8:64::/80\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.conf:7: [ipv6] pref64 = \"2001:db8:64::/80\": 2001:db8:64::/80: a NAT64 prefix is a /96, /64, /56, /48, /40 or /32 (RFC 8781 §4)"
    );
    let (line, key, value, reason) = invalid(&format!("{MINIMAL}pref64 = 64:ff9b::1/96\n"));
    assert_eq!(
        (line, key.as_str(), value.as_str()),
        (Some(7), "pref64", "64:ff9b::1/96")
    );
    assert!(matches!(
        reason,
        Invalid::BadPref64(crate::value::pref64::Pref64Error::HostBitsSet { .. })
    ));
    let e = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\npref64 = \"nat64\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml:6: [ipv6] pref64 = \"nat64\": \"nat64\" is not an IPv6 prefix (x::/len)"
    );
}

#[test]
fn route_lifetime_in_both_forms_finite() {
    assert_eq!(ini(MINIMAL).unwrap().config.ipv6.route_lifetime, None);
    let c = ini(&format!("{MINIMAL}route_lifetime = 600\n"))
        .unwrap()
        .config;
    assert_eq!(c.ipv6.route_lifetime, Some(600));
    let t = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\nroute_lifetime = 600\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.ipv6.route_lifetime, Some(600));
    for (v, want) in [
        (
            "0",
            Invalid::OutOfRange {
                min: 1,
                max: u32::MAX.into(),
            },
        ),
        ("4294967295", Invalid::Infinite),
        ("soon", Invalid::NotInteger),
    ] {
        let (line, key, _, reason) = invalid(&format!("{MINIMAL}route_lifetime = {v}\n"));
        assert_eq!(
            (line, key.as_str(), reason),
            (Some(7), "route_lifetime", want)
        );
    }
}

#[test]
fn ntp_servers_in_both_forms_unicast_only() {
    assert!(ini(MINIMAL).unwrap().config.ipv6.ntp.is_empty());
    let want: Vec<Ipv6Addr> = vec![
        "2001:db8:123::1".parse().unwrap(),
        "2001:db8:123::2".parse().unwrap(),
    ];
    let c = ini(&format!(
        "{MINIMAL}ntp = 2001:db8:123::1, 2001:db8:123::2\n"
    ))
    .unwrap()
    .config;
    assert_eq!(c.ipv6.ntp, want);
    let t = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\nntp = [\"2001:db8:123::1\", \"2001:db8:123::2\"]\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.ipv6.ntp, want);
    let (line, key, value, reason) =
        invalid(&format!("{MINIMAL}ntp = 2001:db8:123::1, ff05::101\n"));
    assert_eq!(
        (line, key.as_str(), value.as_str(), reason),
        (Some(7), "ntp", "ff05::101", Invalid::NotUnicast)
    );
    let (_, key, value, reason) = invalid(&format!("{MINIMAL}ntp = 192.0.2.123\n"));
    assert_eq!(
        (key.as_str(), value.as_str(), reason),
        ("ntp", "192.0.2.123", Invalid::NotIpv6)
    );
}

#[test]
fn dhcp_ntp_servers_in_both_forms_unicast_only() {
    let want: Vec<std::net::Ipv4Addr> = vec![
        "192.0.2.123".parse().unwrap(),
        "198.51.100.123".parse().unwrap(),
    ];
    let c = ini("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nntp = 192.0.2.123, 198.51.100.123\n[ipv6]\nrs_queue = 43\nns_queue = 44\n")
        .unwrap()
        .config;
    assert_eq!(c.dhcp.ntp, want);
    let t = parse(
        "[dhcp]\ndhcp_queue = 42\nserver_ip = \"192.0.2.1\"\nntp = [\"192.0.2.123\", \"198.51.100.123\"]\n[ipv6]\nrs_queue = 43\nns_queue = 44\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.dhcp.ntp, want);
    let (_, key, value, reason) =
        invalid("[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\nntp = 224.0.1.1\n[ipv6]\nrs_queue = 43\nns_queue = 44\n");
    assert_eq!(
        (key.as_str(), value.as_str(), reason),
        ("ntp", "224.0.1.1", Invalid::NotUnicast)
    );
}

#[test]
fn option_defaults_in_both_forms_and_bad_ones_named() {
    let c = ini(&format!(
        "{MINIMAL}[options]\nOPTION_252 = \"always string:http://wpad.example/wpad.dat\"\nOPTION6_4242 = ip6:2001:db8::42\n"
    ))
    .unwrap()
    .config;
    assert_eq!(c.options.v4.len(), 1);
    assert_eq!(c.options.v4[0].code, 252);
    assert!(c.options.v4[0].always);
    assert_eq!(
        c.options.v4[0].data.as_deref(),
        Some(&b"http://wpad.example/wpad.dat"[..])
    );
    assert_eq!(c.options.v6[0].code, 4242);
    let t = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\n[options]\nOPTION_252 = \"always string:http://wpad.example/wpad.dat\"\nOPTION6_4242 = \"ip6:2001:db8::42\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    assert_eq!(t.options, c.options);
    let bad = |lines: &str| invalid(&format!("{MINIMAL}[options]\n{lines}"));
    let (line, key, value, reason) = bad("OPTION_224 = u8:1\nOPTION_6 = ip:192.0.2.53\n");
    assert_eq!(
        (line, key.as_str(), value.as_str()),
        (Some(9), "OPTION_6", "ip:192.0.2.53")
    );
    assert_eq!(
        reason.to_string(),
        "option 6 is set by nfdhcpd: use NAMESERVERS"
    );
    let (_, key, value, reason) = bad("OPTION_224 = u16:70000\n");
    assert_eq!(
        (key.as_str(), value.as_str(), reason.to_string().as_str()),
        ("OPTION_224", "u16:70000", "\"70000\" is not a u16")
    );
    let (_, key, _, reason) = bad("OPTION_224 = none\n");
    assert_eq!(
        (key.as_str(), reason),
        (
            "OPTION_224",
            Invalid::BadOption(options::OptionError::NoneInConfig)
        )
    );
    let (_, key, _, reason) = bad("OPTIONS_224 = u8:1\n");
    assert_eq!(
        (key.as_str(), reason),
        (
            "OPTIONS_224",
            Invalid::BadOption(options::OptionError::BadCode)
        )
    );
    let e = parse(
        "[dhcp]\nenable_dhcp = false\n[ipv6]\nrs_queue = 43\nns_queue = 44\n[options]\nOPTION6_13 = \"u16:0\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "t.toml:7: [options] OPTION6_13 = \"u16:0\": option 13 is set by nfdhcpd"
    );
}

#[test]
fn network_boot_defaults_in_both_forms_checked_as_binding_keys() {
    let queues = "dhcp_queue = 42\n[ipv6]\nrs_queue = 43\nns_queue = 44\n";
    let c = ini(&format!("[dhcp]\nserver_ip = 192.0.2.1\nnext_server = 192.0.2.5\ntftp_server = boot.example.org\nbootfile = pxelinux.0\nbootfile_efi = efi/grubx64.efi\nbootfile_http = http://192.0.2.5/shim.efi\n{queues}bootfile6 = tftp://[2001:db8::5]/grubx64.efi\n"))
        .unwrap()
        .config;
    let boot = c.dhcp.boot.as_deref().expect("boot defaults");
    assert_eq!(boot.next_server, Some("192.0.2.5".parse().unwrap()));
    assert_eq!(boot.tftp_server.as_deref(), Some("boot.example.org"));
    assert_eq!(boot.file.as_deref(), Some("pxelinux.0"));
    assert_eq!(boot.file_efi.as_deref(), Some("efi/grubx64.efi"));
    assert_eq!(boot.file_http.as_deref(), Some("http://192.0.2.5/shim.efi"));
    assert_eq!(boot.file6, None, "bootfile6 is an [ipv6] key");
    assert_eq!(
        c.ipv6.bootfile6.as_deref(),
        Some("tftp://[2001:db8::5]/grubx64.efi")
    );
    let t = parse(
        "[dhcp]\ndhcp_queue = 42\nserver_ip = \"192.0.2.1\"\nnext_server = \"192.0.2.5\"\nbootfile_bios = \"bios/pxelinux.0\"\n[ipv6]\nrs_queue = 43\nns_queue = 44\nbootfile6 = \"http://[2001:db8::5]/boot.efi\"\n",
        Format::Toml,
        "t.toml",
    )
    .unwrap()
    .config;
    let boot = t.dhcp.boot.as_deref().expect("boot defaults");
    assert_eq!(boot.file_bios.as_deref(), Some("bios/pxelinux.0"));
    assert_eq!(
        t.ipv6.bootfile6.as_deref(),
        Some("http://[2001:db8::5]/boot.efi")
    );
    // None given: none.
    let plain = ini(&format!("[dhcp]\nserver_ip = 192.0.2.1\n{queues}"))
        .unwrap()
        .config;
    assert_eq!((plain.dhcp.boot, plain.ipv6.bootfile6), (None, None));
    // Bad values: the key in lower case, the value, the binding key's reason.
    use crate::value::boot::BootError;
    for (text, key, value, reason) in [
        (
            format!("[dhcp]\nserver_ip = 192.0.2.1\nnext_server = 224.0.0.1\n{queues}"),
            "next_server",
            "224.0.0.1",
            BootError::NotUnicast("224.0.0.1".parse().unwrap()),
        ),
        (
            format!("[dhcp]\nserver_ip = 192.0.2.1\nbootfile_http = tftp://192.0.2.5/x\n{queues}"),
            "bootfile_http",
            "tftp://192.0.2.5/x",
            BootError::NotUrl("http(s)://host/path"),
        ),
        (
            format!("[dhcp]\nserver_ip = 192.0.2.1\n{queues}bootfile6 = grubx64.efi\n"),
            "bootfile6",
            "grubx64.efi",
            BootError::NotUrl("scheme://…"),
        ),
    ] {
        let (_, k, v, r) = invalid(&text);
        assert_eq!(
            (k.as_str(), v.as_str(), r),
            (key, value, Invalid::BadBoot(reason))
        );
    }
}

#[test]
fn v6only_wait_in_both_forms_off_by_default_and_bad_ones_named() {
    assert_eq!(ini(MINIMAL).unwrap().config.dhcp.v6only_wait, 0);
    let c = ini(&MINIMAL.replace("[ipv6]", "v6only_wait = 1800\n[ipv6]")).unwrap();
    assert_eq!(c.config.dhcp.v6only_wait, 1800);
    let c = ini(&MINIMAL.replace("[ipv6]", "v6only_wait = off\n[ipv6]")).unwrap();
    assert_eq!(c.config.dhcp.v6only_wait, 0);
    let toml = |v: &str| {
        parse(
            &format!("[dhcp]\nserver_ip = \"192.0.2.1\"\ndhcp_queue = 42\nv6only_wait = {v}\n[ipv6]\nenable_ipv6 = false\n"),
            Format::Toml,
            "t.toml",
        )
    };
    assert_eq!(toml("3600").unwrap().config.dhcp.v6only_wait, 3600);
    assert_eq!(toml("\"off\"").unwrap().config.dhcp.v6only_wait, 0);
    assert_eq!(toml("false").unwrap().config.dhcp.v6only_wait, 0);
    assert!(toml("true").is_err());
    let e = ini(&MINIMAL.replace("[ipv6]", "v6only_wait = 60\n[ipv6]")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.conf:4: [dhcp] v6only_wait = \"60\": 60 s is under 300 s, the least a client waits (RFC 8925 §3.2); 0 or off turns it off"
    );
    let (line, key, value, reason) =
        invalid(&MINIMAL.replace("[ipv6]", "v6only_wait = 30min\n[ipv6]"));
    assert_eq!(
        (line, key.as_str(), value.as_str()),
        (Some(4), "v6only_wait", "30min")
    );
    assert!(matches!(reason, Invalid::BadV6OnlyWait(_)), "{reason:?}");
}
