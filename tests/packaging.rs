//! Packaging: the man page and completions generated from the clap
//! definitions, the systemd unit, and the Debian metadata.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn nfdhcpd(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn man_page_and_completions_are_generated_from_the_cli() {
    let man = nfdhcpd(&["generate", "man"]);
    assert!(man.contains(".TH nfdhcpd 1"), "{man}");
    for sub in ["check", "status", "gc", "rules"] {
        assert!(
            man.contains(&format!("nfdhcpd\\-{sub}(1)")),
            "man page lacks {sub}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    nfdhcpd(&["generate", "man", "--dir", dir.path().to_str().unwrap()]);
    for page in [
        "nfdhcpd.1",
        "nfdhcpd-gc.1",
        "nfdhcpd-rules.1",
        "nfdhcpd-status.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let gc = std::fs::read_to_string(dir.path().join("nfdhcpd-gc.1")).unwrap();
    assert!(gc.contains("dry\\-run"), "{gc}");
    for shell in ["bash", "zsh", "fish"] {
        let c = nfdhcpd(&["generate", "completions", shell]);
        assert!(
            c.len() > 500 && c.contains("gc") && c.contains("dry-run"),
            "{shell}: {c}"
        );
    }
}

#[test]
fn the_systemd_unit_is_type_notify_and_hardened() {
    let text = std::fs::read_to_string(repo("bindings-examples/nfdhcpd.service")).unwrap();
    let mut section = String::new();
    let mut keys = std::collections::BTreeMap::new();
    for l in text.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(s) = l.strip_prefix('[') {
            section = s.trim_end_matches(']').to_string();
            continue;
        }
        let (k, v) = l.split_once('=').expect("key=value");
        keys.insert(format!("{section}.{k}"), v.to_string());
    }
    for (k, v) in [
        ("Service.Type", "notify"),
        ("Service.CapabilityBoundingSet", "CAP_NET_ADMIN CAP_NET_RAW"),
        ("Service.AmbientCapabilities", "CAP_NET_ADMIN CAP_NET_RAW"),
        ("Service.NoNewPrivileges", "yes"),
        ("Service.ProtectSystem", "strict"),
        ("Service.ReadOnlyPaths", "/var/lib/nfdhcpd"),
        ("Service.ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Install.WantedBy", "multi-user.target"),
    ] {
        assert_eq!(keys.get(k).map(String::as_str), Some(v), "{k}");
    }
    let exec = &keys["Service.ExecStart"];
    assert!(exec.starts_with("/usr/bin/nfdhcpd -c /etc/nfdhcpd/nfdhcpd.toml"));
}

#[test]
fn debian_metadata_ships_the_unit_rules_config_and_man_page() {
    let cargo: toml::Table = std::fs::read_to_string(repo("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let deb = &cargo["package"]["metadata"]["deb"];
    let assets = deb["assets"].as_array().unwrap();
    let mut dests = Vec::new();
    for a in assets {
        let a = a.as_array().unwrap();
        let src = a[0].as_str().unwrap();
        dests.push(a[1].as_str().unwrap().to_string());
        if src.starts_with("target/") {
            continue; // built by .ci/package
        }
        let found = if let Some(dir) = src.strip_suffix("/*") {
            repo(dir).is_dir()
        } else if let Some((dir, ext)) = src.split_once("/*.") {
            std::fs::read_dir(repo(dir))
                .unwrap()
                .any(|e| e.unwrap().path().extension().is_some_and(|x| x == ext))
        } else {
            repo(src).is_file()
        };
        assert!(found, "asset source {src} missing");
    }
    for want in [
        "usr/bin/",
        "etc/nfdhcpd/nfdhcpd.toml",
        "usr/share/nfdhcpd/iptables/",
        "usr/share/man/man1/",
    ] {
        assert!(dests.iter().any(|d| d == want), "{want} not shipped");
    }
    assert_eq!(
        deb["systemd-units"]["unit-scripts"].as_str(),
        Some("bindings-examples")
    );
    assert!(repo("bindings-examples/nfdhcpd.service").is_file());
    // The default config is valid.
    let out = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .args(["-c"])
        .arg(repo("bindings-examples/nfdhcpd.default.toml"))
        .args(["check", "--datapath"])
        .arg(repo("bindings-examples/bindings"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(": ok"),
        "{out:?}"
    );
}
