//! `nfdhcpd check`: validates the config and every binding file offline,
//! prints the bindings, and reports the conflicts the original never saw
//! (one IP in two bindings, one MAC on two taps, a delegated prefix that
//! overlaps another binding's).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::binding::file::Parsed;
use crate::binding::overlap;
use crate::binding::store::Link;
use crate::binding::watch::{list_dir, read_binding};
use crate::config::Config;

/// The result of a check: the report to print and whether all is well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Human-readable report.
    pub text: String,
    /// Problems found (invalid files, conflicts).
    pub problems: Vec<String>,
    /// Warnings (usable but suspicious).
    pub warnings: Vec<String>,
}

/// Checks every binding in `dir` against `config`; `links` (if known) tell
/// which taps exist on this host.
pub fn check_dir(config: &Config, dir: &Path, links: Option<&BTreeMap<String, Link>>) -> Report {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let names = match list_dir(dir) {
        Ok(n) => n,
        Err(e) => {
            problems.push(format!(
                "{}: cannot list binding directory: {e}",
                dir.display()
            ));
            Default::default()
        }
    };
    let mut good: Vec<Parsed> = Vec::new();
    for n in &names {
        match read_binding(dir, n, config.ipv6.enabled) {
            Ok(p) => {
                warnings.extend(p.warnings.iter().map(|w| w.0.clone()));
                good.push(p);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mut by_ip: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_mac: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in &good {
        let b = &p.binding;
        if let Some(ip) = b.ip {
            by_ip.entry(ip.to_string()).or_default().push(&b.tap);
        }
        if let Some(ip6) = b.dhcpv6_address() {
            by_ip.entry(ip6.to_string()).or_default().push(&b.tap);
        }
        by_mac.entry(b.mac.to_string()).or_default().push(&b.tap);
    }
    for (ip, taps) in by_ip.iter().filter(|(_, t)| t.len() > 1) {
        problems.push(format!(
            "address {ip} is in more than one binding: {}",
            taps.join(", ")
        ));
    }
    for (mac, taps) in by_mac.iter().filter(|(_, t)| t.len() > 1) {
        problems.push(format!(
            "MAC {mac} is on more than one tap: {}",
            taps.join(", ")
        ));
    }
    let bindings: Vec<_> = good.iter().map(|p| &p.binding).collect();
    problems.extend(overlap::all(&bindings).iter().map(ToString::to_string));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<15} {:<7} {:<17} {:<15} {:<39} {:<15} HOSTNAME",
        "TAP", "TAP-UP", "MAC", "IPV4", "IPV6", "INDEV"
    );
    for p in &good {
        let b = &p.binding;
        let exists = match links {
            None => "?",
            Some(l) if l.contains_key(&b.tap) => "yes",
            Some(_) => "no",
        };
        let dash = || "-".to_string();
        let _ = writeln!(
            text,
            "{:<15} {:<7} {:<17} {:<15} {:<39} {:<15} {}",
            b.tap,
            exists,
            b.mac,
            b.ip.map_or_else(dash, |i| i.to_string()),
            b.dhcpv6_address().map_or_else(
                || b.subnet6.map_or_else(dash, |n| n.to_string()),
                |i| i.to_string()
            ),
            b.indev,
            b.hostname.clone().unwrap_or_else(dash)
        );
        if !b.prefix6_delegated.is_empty() {
            let list: Vec<String> = b
                .prefix6_delegated
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = writeln!(text, "    delegated: {}", list.join(", "));
        }
    }
    let _ = writeln!(
        text,
        "{} binding file(s), {} valid, {} problem(s), {} warning(s)",
        names.len(),
        good.len(),
        problems.len(),
        warnings.len()
    );
    Report {
        text,
        problems,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_fixtures_report_the_invalid_one_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat/bindings");
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
        // A second tap with web1's address and MAC.
        std::fs::write(
            dir.path().join("tap-dup"),
            "MAC=AA:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n",
        )
        .unwrap();
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
        assert_eq!(
            r.problems[0],
            "tap-invalid: IP=\"192.0.2.300\": not an IPv4 address"
        );
        assert_eq!(
            r.problems[1],
            "address 192.0.2.10 is in more than one binding: tap-dup, tap-routed"
        );
        assert_eq!(
            r.problems[2],
            "MAC aa:00:00:00:00:10 is on more than one tap: tap-dup, tap-routed"
        );
        assert!(
            r.text.contains("tap-bridged") && r.text.contains("db2.example.net"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("5 binding file(s), 4 valid, 3 problem(s)"),
            "{}",
            r.text
        );
    }

    #[test]
    fn overlapping_delegated_prefixes_are_problems_and_both_stay_valid() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        write(
            "tap-a",
            "MAC=aa:00:00:00:00:0a\nSUBNET6=2001:db8:1::/64\nPREFIX6_DELEGATED=2001:db8:100::/56\n",
        );
        write(
            "tap-b",
            "MAC=aa:00:00:00:00:0b\nSUBNET6=2001:db8:1::/64\nPREFIX6_DELEGATED=2001:db8:100:f0::/60\n",
        );
        // Its own SUBNET6 inside its delegation: the file is invalid.
        write(
            "tap-c",
            "MAC=aa:00:00:00:00:0c\nSUBNET6=2001:db8:3::/64\nPREFIX6_DELEGATED=2001:db8::/32\n",
        );
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(
            r.problems,
            [
                "tap-c: PREFIX6_DELEGATED=\"2001:db8::/32\": 2001:db8::/32 overlaps SUBNET6 2001:db8:3::/64",
                "PREFIX6_DELEGATED 2001:db8:100::/56 of tap-a overlaps PREFIX6_DELEGATED 2001:db8:100:f0::/60 of tap-b",
            ]
        );
        assert!(r.text.contains("3 binding file(s), 2 valid"), "{}", r.text);
    }

    #[test]
    fn delegated_prefixes_follow_their_row_and_leave_the_columns_alone() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        write(
            "tap-pd",
            "MAC=aa:00:00:00:00:0a\nSUBNET6=2001:db8:1::/64\nHOSTNAME=pd1\nPREFIX6_DELEGATED=2001:db8:100::/56, 2001:db8:200::/56\n",
        );
        write(
            "tap-plain",
            "MAC=aa:00:00:00:00:0b\nSUBNET6=2001:db8:2::/64\nHOSTNAME=plain1\n",
        );
        let r = check_dir(&Config::default(), dir.path(), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let lines: Vec<&str> = r.text.lines().collect();
        let row = lines.iter().position(|l| l.starts_with("tap-pd ")).unwrap();
        // The row keeps its seven columns, hostname last.
        let cols: Vec<&str> = lines[row].split_whitespace().collect();
        assert_eq!(cols.len(), 7, "{}", r.text);
        assert_eq!((cols[4], cols[6]), ("2001:db8:1::/64", "pd1"), "{}", r.text);
        assert_eq!(
            lines[row + 1],
            "    delegated: 2001:db8:100::/56, 2001:db8:200::/56",
            "{}",
            r.text
        );
        assert_eq!(r.text.matches("delegated:").count(), 1, "{}", r.text);
    }

    #[test]
    fn bad_ra_and_dhcpv6_overrides_are_problems_naming_file_key_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        let base = "SUBNET6=2001:db8:1::/64\n";
        write(
            "tap-good",
            &format!("MAC=aa:00:00:00:00:0a\n{base}PREF64=64:ff9b::/96\nROUTES6=\"2001:db8:100::/48 high, 2001:db8:200::/56\"\nNAMESERVERS6=2001:db8:53::1\nDOMAINS=vm.example.org\nNTP6=2001:db8:123::1\n"),
        );
        write(
            "tap-p",
            &format!("MAC=aa:00:00:00:00:0b\n{base}PREF64=64:ff9b::/95\n"),
        );
        write(
            "tap-r",
            &format!("MAC=aa:00:00:00:00:0c\n{base}ROUTES6=2001:db8:1::/64\n"),
        );
        write(
            "tap-n",
            &format!("MAC=aa:00:00:00:00:0d\n{base}NTP6=time.example.org\n"),
        );
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(
            r.problems,
            [
                "tap-n: NTP6=\"time.example.org\": \"time.example.org\" is not an IPv6 address",
                "tap-p: PREF64=\"64:ff9b::/95\": 64:ff9b::/95: a NAT64 prefix is a /96, /64, /56, /48, /40 or /32 (RFC 8781 §4)",
                "tap-r: ROUTES6=\"2001:db8:1::/64\": 2001:db8:1::/64 is inside SUBNET6 2001:db8:1::/64",
            ]
        );
        assert!(r.text.contains("4 binding file(s), 1 valid"), "{}", r.text);
    }

    #[test]
    fn bad_raw_options_are_problems_naming_file_key_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        write(
            "tap-good",
            "MAC=aa:00:00:00:00:0a\nOPTION_252=\"string:http://wpad.example/wpad.dat\"\nOPTION6_4242=0x01\n",
        );
        write("tap-o", "MAC=aa:00:00:00:00:0b\nOPTION_42=ip:192.0.2.123\n");
        write("tap-v", "MAC=aa:00:00:00:00:0c\nOPTION6_4242=u32:x\n");
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(
            r.problems,
            [
                "tap-o: OPTION_42=\"ip:192.0.2.123\": option 42 is set by nfdhcpd: use NTP",
                "tap-v: OPTION6_4242=\"u32:x\": \"x\" is not a u32",
            ]
        );
        assert!(r.text.contains("3 binding file(s), 1 valid"), "{}", r.text);
    }

    #[test]
    fn clean_directory_has_no_problems() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat/bindings");
        for t in ["tap-routed", "tap-bridged", "tap-private"] {
            std::fs::copy(src.join(t), dir.path().join(t)).unwrap();
        }
        let mut links = BTreeMap::new();
        links.insert(
            "tap-routed".to_string(),
            Link {
                ifindex: 3,
                mac: None,
            },
        );
        let r = check_dir(&Config::default(), dir.path(), Some(&links));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(
            r.text
                .lines()
                .any(|l| l.starts_with("tap-routed") && l.contains(" yes ")),
            "{}",
            r.text
        );
        assert!(
            r.text
                .lines()
                .any(|l| l.starts_with("tap-private") && l.contains(" no ")),
            "{}",
            r.text
        );
    }

    #[test]
    fn bad_boot_keys_are_problems_and_leave_the_other_bindings_valid() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        let base = "IP=192.0.2.10\nSUBNET=192.0.2.0/24\n";
        write(
            "tap-good",
            &format!("MAC=aa:00:00:00:00:0a\n{base}NEXT_SERVER=192.0.2.5\nTFTP_SERVER=boot.example.org\nBOOTFILE_EFI=efi/grubx64.efi\nBOOTFILE_BIOS=pxelinux.0\nBOOTFILE_IPXE=http://192.0.2.5/boot.ipxe\nBOOTFILE_HTTP=http://192.0.2.5/efi/shim.efi\nBOOTFILE6=tftp://[2001:db8::5]/grubx64.efi\n"),
        );
        write(
            "tap-h",
            "MAC=aa:00:00:00:00:0b\nIP=192.0.2.11\nBOOTFILE_HTTP=tftp://192.0.2.5/shim.efi\n",
        );
        write(
            "tap-n",
            "MAC=aa:00:00:00:00:0c\nIP=192.0.2.12\nNEXT_SERVER=boot.example.org\n",
        );
        write(
            "tap-s",
            "MAC=aa:00:00:00:00:0d\nIP=192.0.2.13\nBOOTFILE=\"my file.efi\"\n",
        );
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(
            r.problems,
            [
                "tap-h: BOOTFILE_HTTP=\"tftp://192.0.2.5/shim.efi\": not a URL of the form http(s)://host/path",
                "tap-n: NEXT_SERVER=\"boot.example.org\": not an IPv4 address",
                "tap-s: BOOTFILE=\"my file.efi\": ' ' is not printable ASCII (spaces included)",
            ]
        );
        assert!(r.text.contains("4 binding file(s), 1 valid"), "{}", r.text);
    }

    #[test]
    fn bad_routes_and_v6only_wait_are_problems_naming_file_key_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let write = |tap: &str, text: &str| std::fs::write(dir.path().join(tap), text).unwrap();
        let base = "IP=192.0.2.10\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n";
        write(
            "tap-good",
            &format!("MAC=aa:00:00:00:00:0a\n{base}ROUTES=\"198.51.100.0/24 via 192.0.2.1, 203.0.113.0/24 via 192.0.2.254\"\n"),
        );
        write(
            "tap-far",
            &format!("MAC=aa:00:00:00:00:0b\n{base}ROUTES=198.51.100.0/24 via 198.51.100.1\n"),
        );
        write(
            "tap-host",
            &format!("MAC=aa:00:00:00:00:0c\n{base}ROUTES=198.51.100.7/24 via 192.0.2.1\n"),
        );
        write(
            "tap-wait",
            &format!("MAC=aa:00:00:00:00:0d\n{base}V6ONLY_WAIT=10\n"),
        );
        let r = check_dir(&Config::default(), dir.path(), None);
        assert_eq!(
            r.problems,
            [
                "tap-far: ROUTES=\"198.51.100.0/24 via 198.51.100.1\": router 198.51.100.1 of 198.51.100.0/24 is neither in SUBNET 192.0.2.0/24 nor GATEWAY",
                "tap-host: ROUTES=\"198.51.100.7/24 via 192.0.2.1\": 198.51.100.7/24 has host bits set (its network is 198.51.100.0/24)",
                "tap-wait: V6ONLY_WAIT=\"10\": 10 s is under 300 s, the least a client waits (RFC 8925 §3.2); 0 or off turns it off",
            ]
        );
        assert!(r.text.contains("4 binding file(s), 1 valid"), "{}", r.text);
    }
}
