//! Packaging: the man page and completions generated from the clap
//! definitions, the systemd unit, and the Debian metadata.

mod common;

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
    let trace = std::fs::read_to_string(dir.path().join("nfdhcpd-trace.1")).unwrap();
    for what in ["\\-\\-protocol", "\\-\\-count", "spoofed_mac", "no binding"] {
        assert!(trace.contains(what), "trace page lacks {what}: {trace}");
    }
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

/// A tool the test needs: None (skip) when missing outside CI; a failure
/// in CI.
fn tool(name: &str) -> Option<PathBuf> {
    let found = common::which(name);
    if found.is_none() {
        assert!(
            !common::in_ci(),
            "{name} missing (CI is set: see .ci/setup)"
        );
        eprintln!("SKIP: {name} missing");
    }
    found
}

/// Runs `systemd-analyze ARGS UNIT` on a copy of the unit whose ExecStart
/// is the binary under test (verify wants the binary to exist); `edit`
/// changes the copy first. Returns (success, stdout, stderr).
fn analyze(sa: &Path, args: &[&str], edit: impl Fn(String) -> String) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(repo("bindings-examples/nfdhcpd.service"))
        .unwrap()
        .replace(
            "ExecStart=/usr/bin/nfdhcpd",
            &format!("ExecStart={}", env!("CARGO_BIN_EXE_nfdhcpd")),
        );
    let path = dir.path().join("nfdhcpd.service");
    std::fs::write(&path, edit(unit)).unwrap();
    let out = Command::new(sa).args(args).arg(&path).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn systemd_accepts_the_unit_and_rates_its_hardening() {
    let Some(sa) = tool("systemd-analyze") else {
        return;
    };
    // Every key known and every value parsed (systemd only warns, on
    // stderr, about what it ignores; the man page is not installed here).
    let (ok, _, err) = analyze(&sa, &["verify", "--man=no"], |u| u);
    assert!(ok && err.trim().is_empty(), "systemd-analyze verify: {err}");
    // The check can fail: a misspelt value is reported.
    let (_, _, err) = analyze(&sa, &["verify", "--man=no"], |u| {
        u.replace("Type=notify", "Type=notifyy")
    });
    assert!(err.contains("notifyy"), "a bad value went unnoticed: {err}");
    // systemd's own review of the sandboxing: "OK" or better (lower is
    // safer; 10 is an unconfined service).
    let (_, out, err) = analyze(&sa, &["security", "--offline=true"], |u| u);
    let level: f64 = out
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for nfdhcpd.service:")
                .nth(1)
        })
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {out}{err}"));
    assert!(level <= 3.0, "exposure level {level}: {out}");
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
        "usr/share/nfdhcpd/nftables/",
        "usr/share/man/man1/",
    ] {
        assert!(dests.iter().any(|d| d == want), "{want} not shipped");
    }
    // Either firewall will do: the iptables rules or the nftables ruleset.
    assert!(
        deb["depends"]
            .as_str()
            .is_some_and(|d| d.contains("iptables | nftables")),
        "{:?}",
        deb["depends"]
    );
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
