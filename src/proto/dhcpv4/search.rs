//! Option 119, the domain search list (RFC 3397): the names in DNS wire
//! form (RFC 1035 §3.1), compressed with pointers (RFC 1035 §4.1.4) whose
//! offsets count from the start of the option's data (RFC 3397 §2).
//! The data depends only on the names, so it is kept per list of names.

use std::cell::RefCell;
use std::rc::Rc;

use crate::binding::file::validate_dns_name;
use crate::proto::ra::encode_domain_name;

/// Name lists whose option 119 is kept per thread.
const CACHE_LEN: usize = 8;
/// The two high bits that make a length byte a pointer (RFC 1035 §4.1.4).
const POINTER_TAG: u16 = 0xC000;
/// A suffix is remembered as a pointer target only while the data is
/// shorter than this, so that every pointer fits its 14 bits.
const POINTER_LIMIT: usize = 0x3FFF;
/// Pointer targets remembered, and names compressed, at most: bounds the
/// work of a long list, as DNS encoders do since CVE-2024-8508 (these are
/// hickory-proto's bounds, whose encoding, through dhcproto, we kept).
const MAX_TARGETS: usize = 64;
/// See [`MAX_TARGETS`].
const MAX_COMPRESSED_NAMES: usize = 120;

/// Option 119's data for one list of names (None: nothing to send).
type Entry = (Vec<String>, Option<Rc<[u8]>>);

thread_local! {
    /// Option 119's data for the last name lists seen, newest first. A
    /// memo keyed by the names themselves, so a reload or another config
    /// can never see stale bytes.
    static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Option 119's data for the IPv6 search `domains`, else for option 15's
/// domain; None when there is no valid name to send. Names that are not
/// valid host names are left out (the config and binding parsers already
/// refuse them).
pub(super) fn option(domains: &[String], fallback: Option<&str>) -> Option<Rc<[u8]>> {
    let names = || {
        domains
            .iter()
            .map(String::as_str)
            .chain(fallback.filter(|_| domains.is_empty()))
    };
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(i) = cache
            .iter()
            .position(|(key, _)| key.iter().map(String::as_str).eq(names()))
        {
            let hit = cache[i].1.clone();
            if i != 0 {
                let entry = cache.remove(i);
                cache.insert(0, entry);
            }
            return hit;
        }
        let data = encode(names().filter(|n| validate_dns_name(n).is_ok()));
        let data: Option<Rc<[u8]>> = (!data.is_empty()).then(|| data.into());
        cache.insert(0, (names().map(str::to_string).collect(), data.clone()));
        cache.truncate(CACHE_LEN);
        data
    })
}

/// The names (valid host names: labels of 1 to 63 bytes, 253 bytes at
/// most, no final dot) in wire form, each ending in the root label or in
/// a pointer to an earlier copy of its longest suffix already written.
fn encode<'n>(names: impl Iterator<Item = &'n str>) -> Vec<u8> {
    let mut out = Vec::new();
    // Where a suffix already written starts, and the suffix. A label's
    // length byte stands where the text has the dot before it, so a
    // suffix starts at the name's start plus its offset in the text.
    let mut targets: Vec<(usize, &str)> = Vec::new();
    let names = names.filter_map(|name| Some((name, encode_domain_name(name)?)));
    for (i, (name, wire)) in names.enumerate() {
        let start = out.len();
        // Without the root label, which a pointer may replace.
        out.extend_from_slice(&wire[..wire.len() - 1]);
        let end = out.len();
        let compress = i < MAX_COMPRESSED_NAMES;
        let mut pointer = None;
        let suffixes = std::iter::once(0).chain(name.match_indices('.').map(|(at, _)| at + 1));
        for at in suffixes {
            let suffix = &name[at..];
            let earlier = targets.iter().find(|(_, s)| *s == suffix);
            match earlier {
                Some(&(target, _)) if compress => {
                    pointer = Some((start + at, target));
                    break;
                }
                _ if end < POINTER_LIMIT && targets.len() < MAX_TARGETS => {
                    targets.push((start + at, suffix));
                }
                _ => {}
            }
        }
        match pointer {
            Some((at, target)) => {
                out.truncate(at);
                let target = u16::try_from(target).expect("targets are below POINTER_LIMIT");
                out.extend_from_slice(&(POINTER_TAG | target).to_be_bytes());
            }
            // The root label ends the name.
            None => out.push(0),
        }
    }
    out
}
