//! The binding manager's state: every binding file's last result and every
//! interface, from which snapshots are built. Pure: no I/O here.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::file::{BindingError, Parsed};
use super::table::{Entry, Served, Snapshot, State};
use super::Binding;
use crate::mac::MacAddr;

/// An interface as rtnetlink reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// ifindex.
    pub ifindex: u32,
    /// Hardware address (None for interfaces without one).
    pub mac: Option<MacAddr>,
}

#[derive(Debug)]
struct FileState<L, S> {
    good: Option<Arc<Binding>>,
    error: Option<String>,
    /// The tap's rate limiter and last seen (the datapath's, opaque here),
    /// kept while the file exists.
    limiter: Arc<L>,
    seen: Arc<S>,
}

/// What changed in a snapshot compared with the previous one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Taps (ifindex) whose binding became active or changed.
    pub activated: Vec<u32>,
}

/// Binding files and links; builds snapshots, each served entry with the
/// tap's `L` and `S` (see [`Served`]).
#[derive(Debug)]
pub struct Store<L, S> {
    files: BTreeMap<String, FileState<L, S>>,
    /// Taps whose good binding delegates prefixes (usually few): a binding
    /// without delegated prefixes can only overlap these.
    delegating: std::collections::BTreeSet<String>,
    links: HashMap<String, Link>,
    generation: u64,
}

impl<L, S> Default for Store<L, S> {
    fn default() -> Self {
        Store {
            files: BTreeMap::new(),
            delegating: std::collections::BTreeSet::new(),
            links: HashMap::new(),
            generation: 0,
        }
    }
}

impl<L: Default, S: Default> Store<L, S> {
    /// An empty store.
    pub fn new() -> Self {
        Store::default()
    }

    /// Records the result of reading tap `name`'s file. An invalid file
    /// keeps the last good binding in force.
    pub fn set_file(&mut self, name: &str, result: Result<Parsed, BindingError>) {
        let st = self
            .files
            .entry(name.to_string())
            .or_insert_with(|| FileState {
                good: None,
                error: None,
                limiter: Arc::default(),
                seen: Arc::default(),
            });
        match result {
            Ok(p) => {
                if st.good.as_deref() != Some(&p.binding) {
                    if p.binding.prefix6_delegated.is_empty() {
                        self.delegating.remove(name);
                    } else {
                        self.delegating.insert(name.to_string());
                    }
                    st.good = Some(Arc::new(p.binding));
                }
                st.error = None;
            }
            Err(e) => st.error = Some(e.to_string()),
        }
    }

    /// Forgets tap `name`'s file (deleted or moved out).
    pub fn remove_file(&mut self, name: &str) -> bool {
        self.delegating.remove(name);
        self.files.remove(name).is_some()
    }

    /// Whether tap `name`'s file is currently invalid.
    pub fn has_error(&self, name: &str) -> bool {
        self.files.get(name).is_some_and(|f| f.error.is_some())
    }

    /// Where `b`, about to be tap `name`'s binding, has a delegated prefix
    /// overlapping another binding's delegated prefix or SUBNET6, or the
    /// reverse (see [`overlap`](super::overlap)).
    ///
    /// A binding that delegates nothing is compared with the delegating
    /// bindings only, so loading 10,000 ordinary bindings stays linear.
    pub fn overlaps(&self, name: &str, b: &Binding) -> Vec<super::overlap::Overlap> {
        let others: Box<dyn Iterator<Item = &FileState<L, S>>> = if b.prefix6_delegated.is_empty() {
            Box::new(self.delegating.iter().filter_map(|t| self.files.get(t)))
        } else {
            Box::new(self.files.values())
        };
        others
            .filter_map(|f| f.good.as_deref())
            .filter(|other| other.tap != name)
            .flat_map(|other| super::overlap::between(b, other))
            .collect()
    }

    /// Names of all files known.
    pub fn file_names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// An interface appeared or changed (rename: the old name is dropped).
    pub fn link_up(&mut self, name: &str, link: Link) {
        self.links
            .retain(|n, l| l.ifindex != link.ifindex || n == name);
        self.links.insert(name.to_string(), link);
    }

    /// An interface went away.
    pub fn link_down(&mut self, ifindex: u32) {
        self.links.retain(|_, l| l.ifindex != ifindex);
    }

    /// Replaces every link (after a full dump).
    pub fn set_links(&mut self, links: impl IntoIterator<Item = (String, Link)>) {
        self.links = links.into_iter().collect();
    }

    /// The link called `name`.
    pub fn link(&self, name: &str) -> Option<Link> {
        self.links.get(name).copied()
    }

    /// Builds the snapshot of the current state, and what changed since `prev`.
    pub fn snapshot(&mut self, prev: &Snapshot<L, S>) -> (Snapshot<L, S>, Changes) {
        self.generation += 1;
        let mut snap = Snapshot {
            generation: self.generation,
            ..Snapshot::default()
        };
        snap.entries.reserve(self.files.len());
        snap.by_ifindex.reserve(self.files.len());
        let mut changes = Changes::default();
        for (tap, st) in &self.files {
            let tap_link = self.links.get(tap);
            let mut state = match (&st.good, tap_link) {
                (None, _) => State::Invalid {
                    error: String::new(),
                    last_good_served: false,
                },
                (Some(_), None) => State::TapMissing,
                (Some(b), Some(_))
                    if !self.links.get(&b.indev).is_some_and(|l| l.mac.is_some()) =>
                {
                    State::IndevMissing
                }
                (Some(_), Some(_)) => State::Active,
            };
            if state == State::Active {
                let b = st.good.clone().expect("active implies a good binding");
                let tap_link = tap_link.expect("active implies the tap exists");
                let server_mac = self.links[&b.indev].mac.expect("checked above");
                let served = Served {
                    binding: b,
                    ifindex: tap_link.ifindex,
                    server_mac,
                    limiter: st.limiter.clone(),
                    seen: st.seen.clone(),
                };
                if prev.lookup(tap_link.ifindex) != Some(&served) {
                    changes.activated.push(tap_link.ifindex);
                }
                snap.by_ifindex.insert(tap_link.ifindex, served);
            }
            if let Some(err) = &st.error {
                state = State::Invalid {
                    error: err.clone(),
                    last_good_served: state == State::Active,
                };
            }
            snap.entries.push(Entry {
                tap: tap.clone(),
                binding: st.good.clone(),
                ifindex: tap_link.map(|l| l.ifindex),
                state,
            });
        }
        (snap, changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::file::parse;

    /// The store with nothing kept per tap: the binding side alone.
    type Store = super::Store<(), ()>;
    type Snapshot = super::Snapshot<(), ()>;

    fn mac(n: u8) -> MacAddr {
        MacAddr([0xaa, 0, 0, 0, 0, n])
    }

    fn good(tap: &str, ip: &str) -> Result<Parsed, BindingError> {
        parse(
            tap,
            &format!("MAC=aa:00:00:00:00:01\nIP={ip}\nSUBNET=192.0.2.0/24\n"),
            true,
        )
    }

    #[test]
    fn binding_before_tap_becomes_active_when_the_tap_appears() {
        let mut s = Store::new();
        s.set_file("tap1", good("tap1", "192.0.2.7"));
        let (snap, ch) = s.snapshot(&Snapshot::default());
        assert_eq!(snap.entries[0].state, State::TapMissing);
        assert!(snap.by_ifindex.is_empty() && ch.activated.is_empty());
        s.link_up(
            "tap1",
            Link {
                ifindex: 7,
                mac: Some(mac(0xfe)),
            },
        );
        let (snap2, ch) = s.snapshot(&snap);
        assert_eq!(snap2.entries[0].state, State::Active);
        assert_eq!(snap2.lookup(7).unwrap().server_mac, mac(0xfe));
        assert_eq!(ch.activated, vec![7]);
        // Tap recreated with a new ifindex: followed.
        s.link_down(7);
        s.link_up(
            "tap1",
            Link {
                ifindex: 9,
                mac: Some(mac(0xfd)),
            },
        );
        let (snap3, ch) = s.snapshot(&snap2);
        assert!(snap3.lookup(7).is_none());
        assert_eq!(snap3.lookup(9).unwrap().server_mac, mac(0xfd));
        assert_eq!(ch.activated, vec![9]);
    }

    /// A store with tap1 up (ifindex 3) whose binding file read `first`,
    /// then `then`, and its snapshot.
    fn rewritten(
        first: Result<Parsed, BindingError>,
        then: Result<Parsed, BindingError>,
    ) -> (Store, Snapshot) {
        let mut s = Store::new();
        s.link_up(
            "tap1",
            Link {
                ifindex: 3,
                mac: Some(mac(1)),
            },
        );
        s.set_file("tap1", first);
        s.set_file("tap1", then);
        let (snap, _) = s.snapshot(&Snapshot::default());
        (s, snap)
    }

    /// tap1 in `snap` is invalid, its last good binding still served, and
    /// its error names each of `causes`.
    fn assert_last_good_served(snap: &Snapshot, causes: &[&str]) {
        let state = &snap.entries[0].state;
        assert!(
            matches!(state, State::Invalid { last_good_served: true, error } if causes.iter().all(|c| error.contains(c))),
            "{state:?}, want {causes:?}"
        );
    }

    #[test]
    fn invalid_rewrite_keeps_last_good() {
        let (mut s, snap) = rewritten(good("tap1", "192.0.2.7"), good("tap1", "192.0.2.300"));
        assert_eq!(
            snap.lookup(3).unwrap().binding.ip,
            Some("192.0.2.7".parse().unwrap())
        );
        assert_last_good_served(&snap, &["192.0.2.300"]);
        // Never valid: invalid, nothing served.
        s.set_file("tap2", good("tap2", "nope"));
        s.link_up(
            "tap2",
            Link {
                ifindex: 4,
                mac: Some(mac(2)),
            },
        );
        let (snap, _) = s.snapshot(&snap);
        assert!(snap.lookup(4).is_none());
        assert!(matches!(
            &snap.entries[1].state,
            State::Invalid {
                last_good_served: false,
                ..
            }
        ));
    }

    #[test]
    fn a_bad_option_keeps_last_good() {
        let with = |option: &str| {
            parse(
                "tap1",
                &format!("MAC=aa:00:00:00:00:01\nIP=192.0.2.7\n{option}\n"),
                true,
            )
        };
        let (_, snap) = rewritten(with("OPTION_224=string:good"), with("OPTION_224=u8:300"));
        let kept = &snap.lookup(3).unwrap().binding.options.v4;
        assert_eq!(kept[0].data.as_deref(), Some(&b"good"[..]));
        assert_last_good_served(&snap, &["OPTION_224=\"u8:300\""]);
    }

    #[test]
    fn a_file_with_an_injected_key_keeps_last_good() {
        // A newline in TAGS that repeats IP and turns MACSPOOF on.
        let injected = parse(
            "tap1",
            "MAC=aa:00:00:00:00:01\nIP=192.0.2.7\nSUBNET=192.0.2.0/24\nTAGS=web\nMACSPOOF=1\nIP=192.0.2.99\n",
            true,
        );
        let (s, snap) = rewritten(good("tap1", "192.0.2.7"), injected);
        assert!(s.has_error("tap1"));
        let b = &snap.lookup(3).unwrap().binding;
        assert_eq!(b.ip, Some("192.0.2.7".parse().unwrap()));
        assert!(!b.macspoof && b.tags.is_empty());
        assert_last_good_served(&snap, &["tap1:6: IP=", "line 2"]);
    }

    #[test]
    fn bridged_binding_needs_its_indev_and_uses_its_mac() {
        let mut s = Store::new();
        let p = parse("tap-b", "MAC=aa:00:00:00:00:01\nINDEV=br0\n", true);
        s.set_file("tap-b", p);
        s.link_up(
            "tap-b",
            Link {
                ifindex: 5,
                mac: Some(mac(5)),
            },
        );
        let (snap, _) = s.snapshot(&Snapshot::default());
        assert_eq!(snap.entries[0].state, State::IndevMissing);
        s.link_up(
            "br0",
            Link {
                ifindex: 6,
                mac: Some(mac(6)),
            },
        );
        let (snap, _) = s.snapshot(&snap);
        assert_eq!(snap.lookup(5).unwrap().server_mac, mac(6));
    }

    #[test]
    fn unchanged_binding_is_not_reactivated() {
        let mut s = Store::new();
        s.link_up(
            "tap1",
            Link {
                ifindex: 3,
                mac: Some(mac(1)),
            },
        );
        s.set_file("tap1", good("tap1", "192.0.2.7"));
        let (a, ch) = s.snapshot(&Snapshot::default());
        assert_eq!(ch.activated, vec![3]);
        s.set_file("tap1", good("tap1", "192.0.2.7"));
        let (_, ch) = s.snapshot(&a);
        assert!(ch.activated.is_empty());
    }

    #[test]
    fn overlaps_are_found_against_the_other_taps_good_bindings() {
        let pd = |tap: &str, n: u8, prefix: &str| {
            parse(
                tap,
                &format!("MAC=aa:00:00:00:00:0{n}\nPREFIX6_DELEGATED={prefix}\n"),
                true,
            )
        };
        let mut s = Store::new();
        s.set_file("tap1", pd("tap1", 1, "2001:db8:100::/56"));
        let new = pd("tap2", 2, "2001:db8:100:10::/60").unwrap().binding;
        let o = s.overlaps("tap2", &new);
        assert_eq!(o.len(), 1);
        assert_eq!(
            o[0].to_string(),
            "PREFIX6_DELEGATED 2001:db8:100:10::/60 of tap2 overlaps PREFIX6_DELEGATED 2001:db8:100::/56 of tap1"
        );
        // Its own earlier version is not a conflict.
        let again = pd("tap1", 1, "2001:db8:100::/56").unwrap().binding;
        assert!(s.overlaps("tap1", &again).is_empty());
        // Both are kept in force.
        s.set_file("tap2", Ok(pd("tap2", 2, "2001:db8:100:10::/60").unwrap()));
        let (snap, _) = s.snapshot(&Snapshot::default());
        assert_eq!(snap.entries.len(), 2);
        assert!(snap.entries.iter().all(|e| e.binding.is_some()));
    }
}
