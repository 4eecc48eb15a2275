//! `nfdhcpd replay`: feeds the frames of a pcap / pcapng capture through
//! [`respond::decide`] as if each had been queued from one tap, prints one
//! line per frame and optionally writes the replies to a pcap.
//!
//! Pure except at its edges: [`read_capture`] and [`write_replies`] take
//! readers and writers, [`cli`] opens the files. Everything in between
//! ([`classify`], [`replay_frame`], the summaries) is a function of bytes
//! and values, so the golden tests call it directly.
//!
//! How a capture stands in for the queue:
//! - linktypes Ethernet (1), Linux cooked (113), raw IP (101, 228, 229);
//!   the frame's source MAC (none for raw IP) is the queue's hardware address;
//! - a frame is queued when the original's iptables rules would queue it:
//!   IPv4 UDP to port 67 (DHCPv4), ICMPv6 133 (RS), ICMPv6 135 (NS),
//!   IPv6 UDP to port 547 (DHCPv6); anything else is reported "not queued";
//! - the tap is ifindex [`TAP_IFINDEX`]; a binding whose INDEV is another
//!   interface (a bridge) is replayed as bridged: indev [`INDEV_IFINDEX`],
//!   physindev the tap. Both interfaces have the server MAC (`--server-mac`,
//!   default [`DEFAULT_SERVER_MAC`]).

mod capture;

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::binding::store::{Link, Store};
use crate::binding::watch::read_binding;
use crate::config::{self, Config};
use crate::datapath::respond::{self, Decision, Meta, Verdict};
use crate::datapath::tap::Snapshot;
use crate::domain::Protocol;
use crate::mac::MacAddr;
use crate::observe::summary::{ip_header, queued_request};
use crate::proto::{Outcome, Reply};

pub use crate::observe::summary::{summarize_queued, summarize_reply};
pub use capture::{classify, ip_packet, read_capture, write_replies, Capture, Frame, LinkType};
pub use capture::{CaptureError, Classified};

/// ifindex the replayed tap gets.
pub const TAP_IFINDEX: u32 = 1;
/// ifindex of the binding's INDEV when it is not the tap (a bridge).
pub const INDEV_IFINDEX: u32 = 2;
/// MAC of the INDEV interface when `--server-mac` is not given: a locally
/// administered address, the same the unit tests use.
pub const DEFAULT_SERVER_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);
/// DHCP server identifier of the built-in config (used when no config file exists).
pub const DEFAULT_SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);

/// Arguments of `nfdhcpd replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Binding directory (default: the config's datapath).
    #[arg(long)]
    pub datapath: Option<PathBuf>,
    /// Tap the frames are replayed as coming from (its binding file is read).
    #[arg(long)]
    pub tap: String,
    /// MAC of the binding's INDEV interface: the source MAC of every reply.
    #[arg(long, default_value_t = DEFAULT_SERVER_MAC)]
    pub server_mac: MacAddr,
    /// Write the reply frames to this pcap (Ethernet).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The capture: pcap or pcapng.
    pub capture: PathBuf,
}

/// The built-in config used when no config file exists: every default, and
/// DHCP server identifier [`DEFAULT_SERVER_IP`].
pub fn default_config() -> Config {
    let mut c = Config::default();
    c.dhcp.server_ip = Some(DEFAULT_SERVER_IP);
    c
}

/// A snapshot in which `tap`'s binding (read from `datapath`) is served on
/// ifindex [`TAP_IFINDEX`]. Returns the snapshot and, when the binding
/// cannot be used, why (then no frame is served: every one is ACCEPTed).
pub fn build_snapshot(
    config: &Config,
    datapath: &Path,
    tap: &str,
    server_mac: MacAddr,
) -> (Snapshot, Option<String>) {
    let mut store = Store::new();
    let read = read_binding(datapath, tap, config.ipv6.enabled);
    let problem = read.as_ref().err().map(|e| e.to_string());
    let indev = read.as_ref().ok().map(|p| p.binding.indev.clone());
    store.set_file(tap, read);
    let mac = Some(server_mac);
    store.link_up(
        tap,
        Link {
            ifindex: TAP_IFINDEX,
            mac,
        },
    );
    if let Some(indev) = indev.filter(|i| i != tap) {
        store.link_up(
            &indev,
            Link {
                ifindex: INDEV_IFINDEX,
                mac,
            },
        );
    }
    let (snap, _) = store.snapshot(&Snapshot::default());
    (snap, problem)
}

/// The queue metadata of a frame from the replayed tap.
pub fn meta_for(snap: &Snapshot, src_mac: Option<MacAddr>) -> Meta {
    let bridged = snap
        .lookup(TAP_IFINDEX)
        .is_some_and(|s| s.binding.indev != s.binding.tap);
    if bridged {
        Meta {
            indev: INDEV_IFINDEX,
            physindev: TAP_IFINDEX,
            src_mac,
        }
    } else {
        Meta {
            indev: TAP_IFINDEX,
            physindev: 0,
            src_mac,
        }
    }
}

/// What happened to one frame of the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// 1-based frame number in the capture.
    pub number: usize,
    /// Timestamp of the frame.
    pub timestamp: Duration,
    /// The protocol it would be queued as, or why it would not be queued.
    pub classified: Classified,
    /// The responder's decision, for a queued frame.
    pub decision: Option<Decision>,
}

impl Replayed {
    /// The reply frame, if any.
    pub fn reply(&self) -> Option<&Reply> {
        match &self.decision {
            Some(Decision::Served {
                outcome: Outcome::Reply(r),
                ..
            }) => Some(r),
            _ => None,
        }
    }

    /// The protocol the frame was queued as.
    pub fn protocol(&self) -> Option<Protocol> {
        match self.classified {
            Classified::Queued(p) => Some(p),
            Classified::NotQueued(_) => None,
        }
    }
}

/// Feeds one frame through the responder.
pub fn replay_frame(config: &Config, snap: &Snapshot, number: usize, frame: &Frame) -> Replayed {
    let classified = classify(frame);
    let decision = match (&classified, ip_packet(frame)) {
        (Classified::Queued(p), Some(ip)) => Some(respond::decide(
            config,
            snap,
            *p,
            &meta_for(snap, frame.src_mac()),
            ip,
            // The capture's clock: the rate limit sees the guest's real pace.
            u64::try_from(frame.timestamp.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1),
        )),
        _ => None,
    };
    Replayed {
        number,
        timestamp: frame.timestamp,
        classified,
        decision,
    }
}

/// Feeds every frame through the responder.
pub fn replay_all(config: &Config, snap: &Snapshot, frames: &[Frame]) -> Vec<Replayed> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| replay_frame(config, snap, i + 1, f))
        .collect()
}

/// The line printed for one frame: number, time since `t0` (the first
/// frame's), request summary, verdict, reason of a drop or ignore, reply
/// summary.
pub fn line(r: &Replayed, frame: &Frame, t0: Duration) -> String {
    let head = format!(
        "{:>4} {:>10.6} {}",
        r.number,
        r.timestamp.saturating_sub(t0).as_secs_f64(),
        summarize_request(frame)
    );
    let Some(d) = &r.decision else {
        let Classified::NotQueued(why) = &r.classified else {
            unreachable!("a queued frame always has a decision")
        };
        return format!("{head} => not queued ({why})");
    };
    let verdict = match d.verdict() {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop => "DROP",
    };
    let tail = match d.outcome() {
        None => "ignored: tap not served".to_string(),
        Some(Outcome::Dropped(reason)) => format!("dropped: {}", reason.as_str()),
        Some(Outcome::Consumed(c)) => format!("consumed: {c:?}"),
        Some(Outcome::Reply(reply)) => format!("reply {}", summarize_reply(reply)),
    };
    format!("{head} => {verdict}, {tail}")
}

/// Loads the config for `replay`: the file at `path`, or the built-in
/// [`default_config`] when `path` is the default path and does not exist.
pub fn load_config(path: &Path) -> Result<Config, config::ConfigError> {
    if path == Path::new(config::DEFAULT_CONFIG_PATH) && !path.exists() {
        return Ok(default_config());
    }
    config::load(path).map(|l| l.config)
}

/// `nfdhcpd replay`: exit status 1 only for an unreadable config, capture
/// or output file.
pub fn cli(config_path: &Path, args: &Args) -> ExitCode {
    match run(config_path, args, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nfdhcpd replay: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Replays `args.capture`, printing to `out`. Frames read before a damaged
/// record are still replayed; the damage is then returned as the error.
pub fn run(config_path: &Path, args: &Args, out: &mut dyn Write) -> Result<(), String> {
    let config = load_config(config_path).map_err(|e| e.to_string())?;
    let datapath = args
        .datapath
        .clone()
        .unwrap_or_else(|| config.general.datapath.clone());
    let (snap, problem) = build_snapshot(&config, &datapath, &args.tap, args.server_mac);
    if let Some(p) = problem {
        eprintln!("warning: binding of {}: {p}; no frame is served", args.tap);
    }
    let file = std::fs::File::open(&args.capture)
        .map_err(|e| format!("{}: {e}", args.capture.display()))?;
    let capture = read_capture(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: {e}", args.capture.display()))?;
    let replayed = replay_all(&config, &snap, &capture.frames);
    let t0 = capture
        .frames
        .first()
        .map_or(Duration::ZERO, |f| f.timestamp);
    let print = |out: &mut dyn Write| -> std::io::Result<()> {
        for (r, f) in replayed.iter().zip(&capture.frames) {
            writeln!(out, "{}", line(r, f, t0))?;
        }
        out.flush()
    };
    print(out).map_err(|e| format!("stdout: {e}"))?;
    if let Some(path) = &args.out {
        let replies: Vec<_> = replayed
            .iter()
            .filter_map(|r| r.reply().map(|rep| (r.timestamp, rep.frame.as_slice())))
            .collect();
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        write_replies(std::io::BufWriter::new(file), &replies)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match capture.damaged {
        Some(e) => Err(format!(
            "{}: after frame {}: {e}",
            args.capture.display(),
            capture.frames.len()
        )),
        None => Ok(()),
    }
}

/// The request's summary: protocol, message, addresses (never fails).
pub fn summarize_request(frame: &Frame) -> String {
    let src = frame
        .src_mac()
        .map_or_else(String::new, |m| format!(" from {m}"));
    let Some(ip) = ip_packet(frame) else {
        return format!("non-IP frame ({} bytes){src}", frame.data.len());
    };
    let body = match classify(frame) {
        Classified::Queued(p) => queued_request(p, ip),
        Classified::NotQueued(_) => ip_header(ip),
    };
    format!("{body}{src}")
}
