//! The shipped binding hook, `bindings-examples/nfdhcpd-hook`, run as a
//! provisioning system would, on a temporary datapath: what it writes is
//! read back by the daemon's own parser, and a value that could end its
//! line or its quotes (and so set other keys) is refused.

use std::path::Path;
use std::process::{Command, Output};

use nfdhcpd::binding::file::parse;

const BASE: [&str; 3] = [
    "MAC=aa:00:00:00:00:10",
    "IP=192.0.2.10",
    "SUBNET=192.0.2.0/24",
];

fn hook(datapath: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings-examples/nfdhcpd-hook"))
        .args(args)
        .env("DATAPATH", datapath)
        // These tests run in the root namespace: the hook must not look
        // at, let alone change, any nft set there (tests/e2e_guard.rs runs
        // its nft side inside a namespace of its own).
        .env("NFDHCPD_NFT", "no")
        .output()
        .expect("run the hook")
}

/// `up tap0` with the base binding and `extra`.
fn up(datapath: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["up", "tap0"];
    args.extend(BASE);
    args.extend(extra);
    hook(datapath, &args)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read datapath")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The call is refused (exit 1) naming `key`, and leaves `dir` as it was.
fn assert_refused(dir: &Path, out: &Output, key: &str, before: &[String]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{key}: value contains")),
        "{stderr}"
    );
    assert_eq!(
        names(dir),
        before,
        "nothing written, no temporary file left"
    );
}

#[test]
fn a_spaced_value_is_written_quoted_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = up(dir.path(), &["TAGS=web db"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(names(dir.path()), ["tap0"], "no temporary file is left");
    let text = std::fs::read_to_string(dir.path().join("tap0")).unwrap();
    assert!(text.contains("TAGS=\"web db\"\n"), "{text}");
    let b = parse("tap0", &text, true).unwrap().binding;
    assert_eq!(b.tags, ["web", "db"]);
    assert_eq!(b.ip, Some("192.0.2.10".parse().unwrap()));
}

#[test]
fn newline_carriage_return_and_double_quote_are_refused_before_any_file() {
    let dir = tempfile::tempdir().unwrap();
    // Into an empty (and even a missing) datapath: nothing is created.
    let missing = dir.path().join("missing");
    let out = up(&missing, &["TAGS=web\ndb"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!missing.exists(), "the datapath is not even created");
    for (key, value) in [
        ("TAGS", "web\ndb"),
        ("HOSTNAME", "web1\r"),
        ("TAGS", "web\"db"),
        ("TAGS", "\"web db\""),
    ] {
        let out = up(dir.path(), &[&format!("{key}={value}")]);
        assert_refused(dir.path(), &out, key, &[]);
    }
    // Over an existing binding: it is left untouched.
    assert!(up(dir.path(), &["TAGS=web"]).status.success());
    let good = std::fs::read_to_string(dir.path().join("tap0")).unwrap();
    for value in ["web\ndb", "web\r", "web\"db"] {
        let out = up(dir.path(), &[&format!("TAGS={value}")]);
        assert_refused(dir.path(), &out, "TAGS", &["tap0".to_string()]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("tap0")).unwrap(),
            good
        );
    }
}

#[test]
fn the_key_injection_of_a_newline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A TAGS value that, written as it was, set MACSPOOF and a second IP;
    // also with a trailing '#' that turns the closing quote into a comment.
    for tags in [
        "TAGS=web\nMACSPOOF=1\nIP=192.0.2.99",
        "TAGS=web\nMACSPOOF=1\nIP=192.0.2.99\n#",
        "TAGS=web\r\nMACSPOOF=1\r\nIP=192.0.2.99",
    ] {
        let out = up(dir.path(), &[tags]);
        assert_refused(dir.path(), &out, "TAGS", &[]);
    }
    // A newline in the key, or a repeated key, is refused as well.
    for bad in [&["X\nMACSPOOF=1"][..], &["MACSPOOF=0", "MACSPOOF=1"]] {
        let out = up(dir.path(), bad);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(names(dir.path()).is_empty());
    }
}
