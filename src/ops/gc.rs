//! `nfdhcpd gc`: garbage-collects binding files, in the spirit of CNI's GC
//! verb, so a node that missed an ifdown hook converges.
//!
//! Without a keep list, a binding file is stale when no interface of its
//! name exists (in the namespace `gc` runs in: the daemon's). With a keep
//! list (`--keep TAP…`, the taps the orchestrator says should exist, like
//! CNI's valid attachments), that list is authoritative: every file not in
//! it is stale, and a listed file is kept even while its tap is absent (a
//! VM being created writes its binding before its tap appears). Ignored
//! names (dotfiles, `*.tmp`, editor files) are never touched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What `gc` decided for one binding file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The tap (file) name.
    pub tap: String,
    /// The file.
    pub path: PathBuf,
    /// Why it is stale.
    pub reason: StaleReason,
}

/// Why a binding file is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// No interface of that name exists.
    TapMissing,
    /// Not in the keep list.
    NotKept,
}

impl StaleReason {
    /// Label for the output.
    pub fn as_str(&self) -> &'static str {
        match self {
            StaleReason::TapMissing => "tap does not exist",
            StaleReason::NotKept => "not in the keep list",
        }
    }
}

/// The stale files among `files` (binding file names in `dir`), given the
/// interfaces that exist and the optional keep list. Pure.
pub fn plan(
    dir: &Path,
    files: &BTreeSet<String>,
    links: &BTreeSet<String>,
    keep: Option<&BTreeSet<String>>,
) -> Vec<Stale> {
    files
        .iter()
        .filter_map(|tap| {
            let reason = match keep {
                Some(k) if !k.contains(tap) => StaleReason::NotKept,
                Some(_) => return None,
                None if !links.contains(tap) => StaleReason::TapMissing,
                None => return None,
            };
            Some(Stale {
                tap: tap.clone(),
                path: dir.join(tap),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn without_keep_list_missing_taps_are_stale() {
        let p = plan(
            Path::new("/d"),
            &set(&["tap1", "tap2"]),
            &set(&["lo", "tap1"]),
            None,
        );
        assert_eq!(
            p,
            vec![Stale {
                tap: "tap2".into(),
                path: "/d/tap2".into(),
                reason: StaleReason::TapMissing
            }]
        );
    }

    #[test]
    fn keep_list_is_authoritative() {
        let keep = set(&["tap2"]);
        let p = plan(
            Path::new("/d"),
            &set(&["tap1", "tap2", "tap3"]),
            &set(&["tap1"]),
            Some(&keep),
        );
        let taps: Vec<_> = p.iter().map(|s| (s.tap.as_str(), s.reason)).collect();
        assert_eq!(
            taps,
            vec![
                ("tap1", StaleReason::NotKept),
                ("tap3", StaleReason::NotKept)
            ]
        );
    }
}
