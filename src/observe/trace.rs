//! `nfdhcpd trace`: live per-packet lines from the queue workers to
//! tracers attached over the control socket.
//!
//! The workers hand each packet's event to the attached tracers
//! ([`crate::datapath::tracers`], zero cost while none is attached); here,
//! the control socket's side: a tracer that reads too slowly loses events,
//! counted, and is told how many ([`Line::Lost`]), as is one over its
//! line rate ([`DEFAULT_MAX_RATE`] unless it asks otherwise); the
//! summaries are written by the control socket's task, off the workers,
//! and a burst of lines goes out in one write.
//!
//! Protocol: the client sends `trace {"taps":[…],"protocols":[…]}` (empty
//! lists: everything); the daemon answers one [`Line::Attached`] (or
//! [`Line::Error`]), then one JSON [`Line`] per event, until the client
//! closes the connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::datapath::respond::Verdict;
use crate::datapath::tap::Table;
use crate::domain::Protocol;

// The workers' side, by its earlier path (`observe::trace::Tracers`, …).
pub use crate::datapath::tracers::{
    Attached, Event, Targets, Traced, Tracer, Tracers, DEFAULT_MAX_RATE, MAX_TRACERS, TRACE_BACKLOG,
};

/// How often a tracer with nothing to read is told of lines lost.
pub const LOST_REPORT_EVERY: Duration = Duration::from_secs(1);
/// Bytes of lines gathered into one write to the tracer's socket.
const WRITE_BATCH: usize = 64 * 1024;

/// What one tracer asked for: empty lists mean every tap, every protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Tap names.
    #[serde(default)]
    pub taps: Vec<String>,
    /// Protocol labels (dhcpv4, rs, ns, dhcpv6).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Lines per second at most (none: [`DEFAULT_MAX_RATE`]; 0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<u32>,
}

/// One line of the trace stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// Events lost: the reader was too slow, or they were over its rate.
    Lost {
        /// How many since the last such line.
        lost: u64,
    },
    /// The request was refused.
    Error {
        /// Why.
        error: String,
    },
    /// Attached: what is traced.
    Attached {
        /// The request as understood.
        attached: Request,
    },
    /// One packet.
    Packet(PacketLine),
}

/// One packet's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketLine {
    /// Received, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Tap name (the interface's name when it has no binding).
    pub tap: String,
    /// Tap ifindex.
    pub ifindex: u32,
    /// Protocol label.
    pub protocol: String,
    /// Request summary (as `replay` prints it).
    pub request: String,
    /// ACCEPT or DROP.
    pub verdict: String,
    /// reply, dropped, consumed or ignored.
    pub outcome: String,
    /// Why dropped or ignored (rate_limited, spoofed_mac, no binding, …),
    /// or what was consumed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Reply summary (as `replay` prints it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply: Option<String>,
    /// Request received → reply sent (shadow mode: decided), microseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latency_us: Option<u64>,
    /// Why the reply was not sent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub send_error: Option<String>,
    /// Shadow mode: nothing was sent, the verdict was ACCEPT.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub shadow: bool,
}

impl PacketLine {
    /// The line of `e`; `tap` names its interface.
    pub fn of(e: &Event, tap: String) -> PacketLine {
        let (outcome, reason, reply, latency_us, send_error) = match &e.outcome {
            Traced::NoBinding => ("ignored", Some("no binding".to_string()), None, None, None),
            Traced::Dropped(r) => ("dropped", Some(r.as_str().to_string()), None, None, None),
            Traced::Consumed(c) => ("consumed", Some(c.as_str().to_string()), None, None, None),
            Traced::Reply {
                reply,
                latency,
                error,
            } => (
                "reply",
                None,
                Some(crate::observe::summary::summarize_reply(reply)),
                Some(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX)),
                error.clone(),
            ),
        };
        PacketLine {
            unix_ms: e.unix_ms,
            tap,
            ifindex: e.ifindex,
            protocol: e.protocol.as_str().to_string(),
            request: crate::observe::summary::summarize_queued(e.protocol, &e.request, e.src_mac),
            verdict: match e.verdict {
                Verdict::Accept => "ACCEPT",
                Verdict::Drop => "DROP",
            }
            .to_string(),
            outcome: outcome.to_string(),
            reason,
            reply,
            latency_us,
            send_error,
            shadow: e.shadow,
        }
    }

    /// The human form: time (UTC), tap, protocol, request => verdict,
    /// outcome (the `replay` line's shape), latency.
    pub fn human(&self) -> String {
        let ms = self.unix_ms % 86_400_000;
        let time = format!(
            "{:02}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        );
        let shadow = if self.shadow { " (shadow)" } else { "" };
        let tail = match (self.outcome.as_str(), &self.reason, &self.reply) {
            ("reply", _, Some(r)) => {
                let sent = match &self.send_error {
                    Some(e) => format!(", NOT sent: {e}"),
                    None if self.shadow => ", not sent".to_string(),
                    None => String::new(),
                };
                let us = self.latency_us.unwrap_or(0);
                format!("reply {r} in {us} µs{sent}")
            }
            (o, Some(r), _) => format!("{o}: {r}"),
            (o, None, _) => o.to_string(),
        };
        format!(
            "{time} {} {} {} => {}{shadow}, {tail}",
            self.tap, self.protocol, self.request, self.verdict
        )
    }
}

/// Parses a `trace` request and resolves its taps; the error says why not.
fn resolve(arg: &str) -> Result<(Request, Vec<u32>, Vec<Protocol>), String> {
    let req: Request = if arg.trim().is_empty() {
        Request::default()
    } else {
        serde_json::from_str(arg).map_err(|e| format!("bad trace request: {e}"))?
    };
    let mut taps = Vec::new();
    for t in &req.taps {
        let i = nix::net::if_::if_nametoindex(t.as_str())
            .map_err(|e| format!("tap {t:?}: no such interface ({e})"))?;
        taps.push(i);
    }
    let mut protocols = Vec::new();
    for p in &req.protocols {
        let p = Protocol::ALL
            .into_iter()
            .find(|x| x.as_str() == p)
            .ok_or_else(|| format!("unknown protocol {p:?} (dhcpv4, rs, ns, dhcpv6)"))?;
        protocols.push(p);
    }
    Ok((req, taps, protocols))
}

/// Tap names by ifindex: the binding's, else the interface's (asked of
/// the kernel once per interface, forgotten at each lost-lines tick so a
/// renamed interface is seen).
#[derive(Default)]
struct TapNames {
    unbound: HashMap<u32, String>,
}

impl TapNames {
    fn of(&mut self, table: &Table, ifindex: u32) -> String {
        if let Some(s) = table.load().lookup(ifindex) {
            return s.binding.tap.clone();
        }
        self.unbound
            .entry(ifindex)
            .or_insert_with(|| {
                nix::net::if_::if_indextoname(ifindex)
                    .ok()
                    .and_then(|n| n.into_string().ok())
                    .unwrap_or_else(|| format!("if{ifindex}"))
            })
            .clone()
    }
}

/// Appends `line` and its newline to `out`.
fn push_line(out: &mut Vec<u8>, line: &Line) {
    serde_json::to_writer(&mut *out, line).expect("a trace line serializes");
    out.push(b'\n');
}

async fn send_line(w: &mut (impl AsyncWrite + Unpin), line: &Line) -> std::io::Result<()> {
    let mut out = Vec::new();
    push_line(&mut out, line);
    w.write_all(&out).await
}

/// Serves one tracer: attaches it for `arg` (the request after the verb),
/// streams its lines to `w` until the client closes `r` or a write fails.
pub async fn session(
    mut r: impl AsyncRead + Unpin,
    mut w: impl AsyncWrite + Unpin,
    arg: &str,
    hub: &Arc<Tracers>,
    table: &Table,
) {
    let attached = resolve(arg).and_then(|(req, taps, protocols)| {
        let rate = req.max_rate.unwrap_or(DEFAULT_MAX_RATE);
        hub.attach(taps, &protocols, rate)
            .map(|a| (req, a))
            .ok_or_else(|| format!("too many tracers attached ({MAX_TRACERS})"))
    });
    let (mut req, mut a) = match attached {
        Ok(x) => x,
        Err(error) => {
            let _ = send_line(&mut w, &Line::Error { error }).await;
            return;
        }
    };
    req.max_rate = Some(req.max_rate.unwrap_or(DEFAULT_MAX_RATE));
    if send_line(&mut w, &Line::Attached { attached: req })
        .await
        .is_err()
    {
        return;
    }
    let mut tick = tokio::time::interval(LOST_REPORT_EVERY);
    let mut sink = [0u8; 64];
    let mut names = TapNames::default();
    let mut out = Vec::with_capacity(WRITE_BATCH);
    loop {
        let event = tokio::select! {
            e = a.rx.recv() => e,
            _ = tick.tick() => {
                names.unbound.clear();
                None
            }
            // The client closed (or wrote more): the session ends.
            _ = r.read(&mut sink) => return,
        };
        let lost = a.tracer.take_lost();
        if lost > 0 {
            push_line(&mut out, &Line::Lost { lost });
        }
        // This event and whatever else is waiting, in one write.
        let mut next = event;
        while let Some(e) = next {
            let line = Line::Packet(PacketLine::of(&e, names.of(table, e.ifindex)));
            push_line(&mut out, &line);
            next = if out.len() < WRITE_BATCH {
                a.rx.try_recv().ok()
            } else {
                None
            };
        }
        if !out.is_empty() {
            if w.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

/// Follows the daemon's trace at `socket` (blocking client): writes each
/// line to `out` (JSON as received when `json`, else [`PacketLine::human`]),
/// and stops after `count` packet lines, if given. Lines lost are reported
/// on `out` too.
pub fn follow(
    socket: &std::path::Path,
    req: &Request,
    json: bool,
    count: Option<u64>,
    out: &mut dyn std::io::Write,
) -> Result<(), FollowError> {
    use std::io::{BufRead, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).map_err(FollowError::Connect)?;
    let verb = format!(
        "trace {}\n",
        serde_json::to_string(req).expect("a request serializes")
    );
    s.write_all(verb.as_bytes()).map_err(FollowError::Io)?;
    let mut seen = 0;
    let mut reader = std::io::BufReader::new(&s);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(FollowError::Io)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches('\n');
        let parsed: Line =
            serde_json::from_str(line).map_err(|e| FollowError::Garbled(e.to_string()))?;
        let is_packet = matches!(parsed, Line::Packet(_));
        match parsed {
            Line::Error { error } => return Err(FollowError::Refused(error)),
            Line::Attached { attached } if !json => writeln!(
                out,
                "-- tracing {} ({})",
                either_all(&attached.taps, "all taps"),
                either_all(&attached.protocols, "all protocols")
            ),
            Line::Lost { lost } if !json => {
                writeln!(
                    out,
                    "-- {lost} line(s) lost: this reader is too slow, or over --max-rate"
                )
            }
            Line::Packet(p) if !json => writeln!(out, "{}", p.human()),
            _ => writeln!(out, "{line}"),
        }
        .map_err(FollowError::Io)?;
        if is_packet {
            seen += 1;
            if count.is_some_and(|c| seen >= c) {
                return out.flush().map_err(FollowError::Io);
            }
        }
        // Out as soon as nothing more has arrived: a burst is one write.
        if reader.buffer().is_empty() {
            out.flush().map_err(FollowError::Io)?;
        }
    }
}

/// `items` joined with ", ", or `all` when empty.
fn either_all(items: &[String], all: &str) -> String {
    if items.is_empty() {
        all.to_string()
    } else {
        items.join(", ")
    }
}

/// Why following a trace failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The control socket could not be reached (the daemon is not running).
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The daemon refused the request.
    #[error("refused: {0}")]
    Refused(String),
    /// A line that is not a trace line.
    #[error("unexpected answer: {0}")]
    Garbled(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datapath::tracers::tests::event;
    use crate::domain::ReplyKind;
    use crate::proto::Reply;

    #[test]
    fn lines_read_back_and_print_like_replay() {
        let mut e = event(7);
        let l = PacketLine::of(&e, "tap-r".into());
        assert_eq!(
            l.human(),
            "01:02:03.004 tap-r dhcpv4 DHCPv4 (packet too short) IP? (0 bytes) => DROP, dropped: spoofed_mac"
        );
        e.outcome = Traced::NoBinding;
        e.verdict = Verdict::Accept;
        let l = PacketLine::of(&e, "tap9".into());
        assert!(l.human().ends_with("=> ACCEPT, ignored: no binding"));
        let text = serde_json::to_string(&Line::Packet(l.clone())).unwrap();
        assert_eq!(
            serde_json::from_str::<Line>(&text).unwrap(),
            Line::Packet(l)
        );
        for other in [
            Line::Lost { lost: 3 },
            Line::Error { error: "x".into() },
            Line::Attached {
                attached: Request::default(),
            },
        ] {
            let text = serde_json::to_string(&other).unwrap();
            assert_eq!(serde_json::from_str::<Line>(&text).unwrap(), other);
        }
        let mut r = event(7);
        r.shadow = true;
        r.verdict = Verdict::Accept;
        r.outcome = Traced::Reply {
            reply: Reply {
                kind: ReplyKind::Offer,
                frame: vec![],
            },
            latency: Duration::from_micros(85),
            error: None,
        };
        let h = PacketLine::of(&r, "tap-r".into()).human();
        assert!(h.contains("=> ACCEPT (shadow), reply "), "{h}");
        assert!(h.ends_with(" in 85 µs, not sent"), "{h}");
    }

    #[test]
    fn requests_name_existing_taps_and_known_protocols() {
        assert!(resolve("").unwrap().1.is_empty());
        let (_, taps, p) = resolve(r#"{"taps":["lo"],"protocols":["ns"]}"#).unwrap();
        assert_eq!((taps.len(), p), (1, vec![Protocol::NeighbourSolicit]));
        assert!(resolve(r#"{"taps":["no-such-tap0"]}"#)
            .unwrap_err()
            .contains("no such interface"));
        assert!(resolve(r#"{"protocols":["dns"]}"#)
            .unwrap_err()
            .contains("unknown protocol"));
        assert!(resolve("{").unwrap_err().contains("bad trace request"));
        let (r, _, _) = resolve(r#"{"max_rate":0}"#).unwrap();
        assert_eq!(r.max_rate, Some(0));
    }
}
