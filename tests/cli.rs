//! The command line, run as a user would.

use std::path::Path;
use std::process::Command;

fn nfdhcpd(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nfdhcpd"))
        .args(args)
        .output()
        .expect("run nfdhcpd");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn here(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .display()
        .to_string()
}

#[test]
fn help_and_version() {
    let (code, out) = nfdhcpd(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("nfdhcpd {}", env!("CARGO_PKG_VERSION")));
    let (code, out) = nfdhcpd(&["--help"]);
    assert_eq!(code, 0);
    for word in ["check", "status", "--config", "--debug", "--foreground"] {
        assert!(out.contains(word), "{word} missing from --help:\n{out}");
    }
}

#[test]
fn check_passes_on_the_bundled_examples_in_both_config_forms() {
    for conf in [
        "bindings-examples/nfdhcpd.conf",
        "bindings-examples/nfdhcpd.toml",
    ] {
        let (code, out) = nfdhcpd(&[
            "check",
            "-c",
            &here(conf),
            "--datapath",
            &here("bindings-examples/bindings"),
        ]);
        assert_eq!(code, 0, "{conf}:\n{out}");
        assert!(
            out.contains("3 binding file(s), 3 valid, 0 problem(s)"),
            "{out}"
        );
        assert!(
            out.contains("tap-bridged") && out.contains("198.51.100.20"),
            "{out}"
        );
    }
}

#[test]
fn check_fails_listing_each_problem() {
    let (code, out) = nfdhcpd(&[
        "check",
        "-c",
        &here("tests/fixtures/compat/nfdhcpd.conf"),
        "--datapath",
        &here("tests/fixtures/compat/bindings"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error: tap-invalid: IP=\"192.0.2.300\": not an IPv4 address"),
        "{out}"
    );
}

#[test]
fn check_reports_a_bad_config_with_file_line_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nrs_queue = 42\nns_queue = 44\n",
    )
    .unwrap();
    let (code, out) = nfdhcpd(&["check", "-c", conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "{}:5: [ipv6] rs_queue = \"42\": queue already used by [dhcp] dhcp_queue",
            conf.display()
        )),
        "{out}"
    );
}

#[test]
fn check_shows_recv_batch_and_refuses_it_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("batch.conf");
    let write = |batch: &str| {
        std::fs::write(
            &conf,
            format!("[general]\nrecv_batch = {batch}\n[dhcp]\nserver_ip = 192.0.2.1\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = no\n"),
        )
        .unwrap();
    };
    let empty = dir.path().join("bindings");
    std::fs::create_dir(&empty).unwrap();
    let check = || {
        nfdhcpd(&[
            "check",
            "-c",
            conf.to_str().unwrap(),
            "--datapath",
            empty.to_str().unwrap(),
        ])
    };
    write("1");
    let (code, out) = check();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("queues: up to 1 message(s) per receive (recv_batch)"),
        "{out}"
    );
    write("65");
    let (code, out) = check();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{}:2: [general] recv_batch = \"65\": out of range 1..=64",
            conf.display()
        )),
        "{out}"
    );
    let (code, out) = nfdhcpd(&[
        "check",
        "-c",
        &here("bindings-examples/nfdhcpd.toml"),
        "--datapath",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("up to 32 message(s) per receive"), "{out}");
    assert!(out.contains("spin off (queue_spin_us)"), "{out}");
}

#[test]
fn status_says_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = nfdhcpd(&[
        "status",
        "--socket",
        dir.path().join("none.sock").to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not running"), "{out}");
}

#[test]
fn trace_says_not_running_and_refuses_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("none.sock");
    let (code, out) = nfdhcpd(&["trace", "--socket", sock.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not running"), "{out}");
    for bad in [
        &["trace", "--protocol", "dns"][..],
        &["trace", "--count", "0"],
    ] {
        let (code, out) = nfdhcpd(bad);
        assert_eq!(code, 2, "{bad:?}: {out}");
    }
}

#[test]
fn daemon_refuses_an_invalid_config() {
    let (code, out) = nfdhcpd(&["-c", &here("tests/fixtures/compat/bindings/tap-routed")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("tap-routed: line 1"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "colour codes in a log that is not a terminal: {out:?}"
    );
}

/// The README's two commands source `.ci/elevate` first: as root they go
/// on; as another user without sudo they stop with a clear message; with
/// a sudo on PATH they run themselves again through it.
#[test]
fn the_readme_commands_work_for_root_and_say_why_for_others() {
    let dir = tempfile::tempdir().unwrap();
    // Readable by the unprivileged user the probe runs as.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let script = dir.path().join("probe");
    std::fs::write(
        &script,
        format!(". {}\necho \"ran as $(id -u): $*\"\n", here(".ci/elevate")),
    )
    .unwrap();
    let run = |prefix: &[&str], path: &str| {
        let out = Command::new(prefix[0])
            .args(&prefix[1..])
            .arg("bash")
            .arg(&script)
            .arg("x")
            .env("PATH", path)
            .output()
            .expect("run the probe");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let root = nix::unistd::Uid::effective().is_root();
    let (code, out) = run(&["env"], "/usr/bin:/bin");
    if !root {
        return; // The rest needs root to switch users.
    }
    assert_eq!((code, out.trim()), (0, "ran as 0: x"));
    // A user without sudo: refused with the reason.
    let (code, out) = run(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        "/usr/bin:/bin",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("needs root") && out.contains("run it as root"),
        "{out}"
    );
    // A user with a sudo on PATH: the script hands itself to it, with its arguments.
    let fake = dir.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    std::fs::write(fake.join("sudo"), "#!/bin/sh\necho \"sudo $*\"\n").unwrap();
    std::fs::set_permissions(
        fake.join("sudo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", fake.display());
    let (code, out) = run(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        &path,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("sudo --preserve-env env PATH=")
            && out
                .trim_end()
                .ends_with(&format!("bash {} x", script.display())),
        "{out}"
    );
}

#[test]
fn explain_offline_names_a_missing_tap_and_has_a_man_page() {
    let (code, out) = nfdhcpd(&[
        "-c",
        &here("bindings-examples/nfdhcpd.conf"),
        "explain",
        "tap-routed",
        "--datapath",
        &here("bindings-examples/bindings"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("tap tap-routed: tap_missing, offline from the files"),
        "{out}"
    );
    assert!(
        out.contains("NOTHING: tap tap-routed does not exist"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = nfdhcpd(&["generate", "man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let man = std::fs::read_to_string(dir.path().join("nfdhcpd-explain.1")).unwrap();
    // The keys added since, and when a raw option is sent.
    for word in [
        "\\-\\-protocol",
        "\\-\\-offline",
        "binding KEY",
        "OPTION_224",
        "BOOTFILE_EFI",
        "V6ONLY_WAIT",
        "BOOTFILE6",
        "when asked",
    ] {
        assert!(
            man.contains(word),
            "{word} missing from the man page:\n{man}"
        );
    }
}
