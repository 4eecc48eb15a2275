//! `nfdhcpd explain TAP`: what the VM behind a tap would be given right
//! now, and why not when it would get nothing.
//!
//! For each protocol a typical request (a DHCPDISCOVER with dhclient's
//! parameter request list then the REQUEST of its offer; a Router
//! Solicitation; a DHCPv6 Solicit and Request, or an Information-Request)
//! is built as the VM would send it and put through the daemon's own
//! decision path, [`decide`](crate::datapath::respond::decide), with the config and a snapshot of
//! the bindings. The reply is decoded (dhcproto for DHCP) and each value is
//! annotated with where it came from ([`source`]). Live, the daemon answers
//! from its own snapshot, binding errors and queue states (the control
//! verb `explain`); offline, from the config and binding files, the queue
//! states unknown.
//!
//! Explaining never touches the tap's real rate limiter nor its last-seen
//! record: the decision runs on a copy of the tap's entry with a fresh,
//! unlimited limiter and a record of its own.

mod decode;
mod exchange;
mod request;
pub mod source;

use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::binding::store::{Link, Store};
use crate::binding::table::State;
use crate::binding::watch::read_binding;
use crate::config::{Config, QueueRange};
use crate::datapath::ratelimit::Limit;
use crate::datapath::respond::Meta;
use crate::datapath::tap::{Served, Snapshot};
use crate::domain::Protocol;
use source::{Source, Sources};

/// A protocol `explain` can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// DHCPv4: DISCOVER → OFFER, REQUEST → ACK.
    Dhcpv4,
    /// Router Solicitation → Router Advertisement.
    Ra,
    /// DHCPv6: Solicit → Advertise, Request → Reply (or Information-Request → Reply).
    Dhcpv6,
}

impl Which {
    /// All of them, in the order shown.
    pub const ALL: [Which; 3] = [Which::Dhcpv4, Which::Ra, Which::Dhcpv6];

    /// The name on the command line and in the output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Which::Dhcpv4 => "dhcpv4",
            Which::Ra => "ra",
            Which::Dhcpv6 => "dhcpv6",
        }
    }

    /// Parses [`Which::as_str`].
    pub fn parse(s: &str) -> Option<Which> {
        Which::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// The queue protocol whose requests this needs.
    fn protocol(self) -> Protocol {
        match self {
            Which::Dhcpv4 => Protocol::Dhcpv4,
            Which::Ra => Protocol::RouterSolicit,
            Which::Dhcpv6 => Protocol::Dhcpv6,
        }
    }
}

/// One of the running daemon's queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueState {
    /// Queue number.
    pub queue: u16,
    /// The protocol label of its requests (`dhcpv4`, `rs`, `dhcpv6` …).
    pub protocol: String,
    /// Whether it is bound.
    pub bound: bool,
}

/// What `explain` knows of the queues.
#[derive(Debug, Clone, Copy)]
pub enum Queues<'a> {
    /// The daemon's queues and whether each is bound.
    Live(&'a [QueueState]),
    /// Offline: only the config's queue numbers.
    Offline,
}

/// The explanation for one tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The tap.
    pub tap: String,
    /// From the running daemon (true) or the files (false).
    pub live: bool,
    /// The binding's state (`active`, `tap_missing`, `indev_missing`,
    /// `invalid`), or `no_binding`.
    pub state: String,
    /// The tap's ifindex, when it exists.
    pub ifindex: Option<u32>,
    /// Things worth knowing that do not stop the replies.
    pub notes: Vec<String>,
    /// One report per protocol asked for.
    pub protocols: Vec<Report>,
}

/// One protocol's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `dhcpv4`, `ra` or `dhcpv6`.
    pub protocol: String,
    /// The queue that brings its requests, and its state.
    pub queue: String,
    /// Why the VM gets nothing of this protocol, if so.
    pub nothing: Option<String>,
    /// Things worth knowing about this protocol.
    pub notes: Vec<String>,
    /// The typical exchange, request by request.
    pub exchanges: Vec<Exchange>,
}

/// One request and what the daemon does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The request, e.g. `DHCPDISCOVER (parameter request list 1 3 6)`.
    pub request: String,
    /// The reply (`DHCPOFFER`), or what happens instead (`dropped: …`).
    pub reply: String,
    /// The reply's values.
    pub fields: Vec<Field>,
    /// A request other than the typical client's (one asking for more
    /// options, a boot firmware): only the values the typical reply lacks
    /// (a firmware's: its boot values) are shown.
    #[serde(default)]
    pub extra: bool,
}

/// One value of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Its name (`router`, `lease_time`, `rdnss`, `address6` …).
    pub name: String,
    /// Its value as text.
    pub value: String,
    /// Where it came from; none for a protocol constant.
    pub source: Option<Source>,
}

/// Explains tap `tap` under `config` and `snap`, for the protocols `which`.
pub fn explain(
    config: &Config,
    snap: &Snapshot,
    tap: &str,
    which: &[Which],
    queues: Queues<'_>,
) -> Explanation {
    let mut x = Explanation {
        tap: tap.to_string(),
        live: matches!(queues, Queues::Live(_)),
        state: "no_binding".into(),
        ifindex: None,
        notes: Vec::new(),
        protocols: Vec::new(),
    };
    let entry = snap.entries.iter().find(|e| e.tap == tap);
    let served = entry.and_then(|e| {
        x.state = e.state.label().to_string();
        x.ifindex = e.ifindex;
        e.ifindex.and_then(|i| snap.lookup(i))
    });
    let nothing = match (entry, served) {
        (None, _) => Some(format!(
            "no binding file for {tap} in {}",
            config.general.datapath.display()
        )),
        (Some(e), Some(_)) => {
            if let State::Invalid { error, .. } = &e.state {
                x.notes.push(format!(
                    "the binding file is invalid ({error}); its last good version is served"
                ));
            }
            None
        }
        (Some(e), None) => Some(match &e.state {
            State::Invalid { error, .. } => format!("binding invalid: {error}"),
            State::TapMissing => format!("tap {tap} does not exist"),
            State::IndevMissing => format!(
                "INDEV {} of {tap} does not exist",
                e.binding.as_deref().map_or("?", |b| &b.indev)
            ),
            State::Active => format!("{tap} is not served"),
        }),
    };
    for &w in which {
        let mut r = Report {
            protocol: w.as_str().into(),
            queue: queue_state(config, w, queues),
            nothing: nothing.clone(),
            notes: Vec::new(),
            exchanges: Vec::new(),
        };
        if let Some(s) = served {
            run(config, s, w, queues, &mut r);
        }
        x.protocols.push(r);
    }
    x
}

/// The snapshot the daemon would build from tap `tap`'s binding file in
/// `dir` and the interfaces `links` (offline explain).
pub fn offline_snapshot(
    config: &Config,
    dir: &std::path::Path,
    tap: &str,
    links: &std::collections::BTreeMap<String, Link>,
) -> Snapshot {
    let mut store = Store::new();
    if dir.join(tap).is_file() {
        store.set_file(tap, read_binding(dir, tap, config.ipv6.enabled));
    }
    store.set_links(links.iter().map(|(n, l)| (n.clone(), *l)));
    store.snapshot(&Snapshot::default()).0
}

/// The configured queue of `w`.
fn configured_queue(config: &Config, w: Which) -> Option<QueueRange> {
    match w {
        Which::Dhcpv4 => config.dhcp.queue,
        Which::Ra => config.ipv6.rs_queue,
        Which::Dhcpv6 => config.ipv6.dhcpv6_queue,
    }
}

/// The config key naming `w`'s queue.
fn queue_key(w: Which) -> &'static str {
    match w {
        Which::Dhcpv4 => "[dhcp] dhcp_queue",
        Which::Ra => "[ipv6] rs_queue",
        Which::Dhcpv6 => "[ipv6] dhcpv6_queue",
    }
}

/// `w`'s queue and its state, as text.
fn queue_state(config: &Config, w: Which, queues: Queues<'_>) -> String {
    let Some(range) = configured_queue(config, w) else {
        return format!("none ({} not set)", queue_key(w));
    };
    match queues {
        Queues::Offline => format!("{range} (state unknown offline)"),
        Queues::Live(qs) => {
            let mine: Vec<_> = qs
                .iter()
                .filter(|q| q.protocol == w.protocol().as_str())
                .collect();
            let unbound: Vec<_> = mine.iter().filter(|q| !q.bound).map(|q| q.queue).collect();
            match (mine.is_empty(), unbound.is_empty()) {
                (true, _) => format!("{range} (not served by the daemon)"),
                (false, true) => format!("{range} bound"),
                (false, false) => format!("{range}: NOT bound: {unbound:?}"),
            }
        }
    }
}

/// Why `w`'s requests never reach the daemon, if so.
fn unreachable(config: &Config, w: Which, queues: Queues<'_>) -> Option<String> {
    let Some(range) = configured_queue(config, w) else {
        return Some(format!(
            "no queue: {} is not set, so no {} request reaches the daemon",
            queue_key(w),
            w.as_str()
        ));
    };
    let Queues::Live(qs) = queues else {
        return None;
    };
    let unbound: Vec<_> = qs
        .iter()
        .filter(|q| q.protocol == w.protocol().as_str() && !q.bound)
        .map(|q| q.queue.to_string())
        .collect();
    let served = qs.iter().any(|q| q.protocol == w.protocol().as_str());
    if !served {
        Some(format!("queue {range} is not served by the daemon"))
    } else if !unbound.is_empty() {
        Some(format!("queue {} is not bound", unbound.join(", ")))
    } else {
        None
    }
}

/// Why the config serves none of `w`, if so.
fn disabled(config: &Config, w: Which) -> Option<String> {
    match w {
        Which::Dhcpv4 if !config.dhcp.enabled => {
            Some("DHCPv4 is disabled in the config ([dhcp] enable_dhcp = no)".into())
        }
        Which::Ra | Which::Dhcpv6 if !config.ipv6.enabled => {
            Some("IPv6 is disabled in the config ([ipv6] enable_ipv6 = no)".into())
        }
        _ => None,
    }
}

/// Runs `w`'s typical exchange for the served tap `s` into `r`.
fn run(config: &Config, s: &Served, w: Which, queues: Queues<'_>, r: &mut Report) {
    if let Some(why) = disabled(config, w) {
        r.nothing = Some(why);
        return;
    }
    match (w, unreachable(config, w, queues)) {
        // The periodic RAs need no queue: only solicited ones are lost.
        (Which::Ra, Some(why)) => r.notes.push(format!(
            "{why}: Router Solicitations go unanswered; the periodic RAs still go out"
        )),
        (_, Some(why)) => r.nothing = Some(why),
        (_, None) => {}
    }
    // A private copy of the tap's entry with a fresh limiter, under a
    // config without limits: explaining costs the VM none of its budget;
    // and a last-seen record of its own, so that the requests explain
    // makes up never show in `status` or /metrics as the VM's.
    let mut one = Snapshot::default();
    one.by_ifindex.insert(
        s.ifindex,
        Served {
            limiter: Arc::default(),
            seen: Arc::default(),
            ..s.clone()
        },
    );
    let cfg = Config {
        limits: Limit { rate: 0, burst: 0 },
        ..config.clone()
    };
    let ex = exchange::Exchanger {
        config: &cfg,
        snap: &one,
        binding: &s.binding,
        meta: Meta {
            indev: s.ifindex,
            physindev: 0,
            src_mac: Some(s.binding.mac),
        },
        sources: Sources::new(config, &s.binding),
    };
    let reply_missing = match w {
        Which::Dhcpv4 => ex.dhcpv4(r),
        Which::Ra => ex.ra(r),
        Which::Dhcpv6 => ex.dhcpv6(r),
    };
    if let (None, Some(why)) = (&r.nothing, reply_missing) {
        r.nothing = Some(why);
    }
}

/// The explanation as text, for people.
pub fn render(x: &Explanation) -> String {
    let mut t = String::new();
    let _ = write!(t, "tap {}: {}", x.tap, x.state);
    if let Some(i) = x.ifindex {
        let _ = write!(t, " (ifindex {i})");
    }
    let _ = writeln!(
        t,
        ", {}",
        if x.live {
            "live from the daemon"
        } else {
            "offline from the files"
        }
    );
    for n in &x.notes {
        let _ = writeln!(t, "note: {n}");
    }
    for r in &x.protocols {
        let _ = writeln!(t, "\n{}: queue {}", r.protocol, r.queue);
        if let Some(n) = &r.nothing {
            let _ = writeln!(t, "  NOTHING: {n}");
        }
        for n in &r.notes {
            let _ = writeln!(t, "  note: {n}");
        }
        for e in &r.exchanges {
            let _ = writeln!(t, "  {} -> {}", e.request, e.reply);
            for f in &e.fields {
                let src = f.source.as_ref().map_or(String::new(), ToString::to_string);
                let _ = writeln!(t, "    {:<26} {:<40} {src}", f.name, f.value);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests;
