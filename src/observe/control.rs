//! The control socket: a local Unix stream socket (mode 0600) answering
//! read-only verbs, and the client side used by `nfdhcpd status`.
//!
//! Protocol: the client writes one verb line (`status`, or `explain TAP
//! PROTOCOL…`), the daemon answers one JSON document and closes; `trace`
//! instead streams JSON lines until the client closes
//! ([`crate::observe::trace`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tracing::{debug, warn};

use crate::binding::table::State;
use crate::datapath::tap::{Snapshot, Table};
use crate::metrics::Metrics;

/// One queue the daemon serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// Queue number.
    pub queue: u16,
    /// Protocol label.
    pub protocol: String,
    /// Whether it is bound.
    pub bound: bool,
}

/// One binding row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingStatus {
    /// Tap name.
    pub tap: String,
    /// active, tap_missing, indev_missing, invalid.
    pub state: String,
    /// Why invalid.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// For an invalid file: is the last good binding still served.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_good_served: Option<bool>,
    /// Tap ifindex, if the tap exists.
    pub ifindex: Option<u32>,
    /// MAC.
    pub mac: Option<String>,
    /// IPv4.
    pub ip: Option<String>,
    /// IPv6 (EUI64 / IP6).
    pub ip6: Option<String>,
    /// SUBNET6.
    pub subnet6: Option<String>,
    /// PREFIX6_DELEGATED: the prefixes delegated by DHCPv6 (empty: none).
    #[serde(default)]
    pub prefix6_delegated: Vec<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// INDEV.
    pub indev: Option<String>,
    /// The binding's own raw options (`OPTION_<code>`, `OPTION6_<code>`;
    /// empty: none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub options: Vec<String>,
    /// The binding's network boot keys (`NEXT_SERVER`, `BOOTFILE` …;
    /// empty: none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub boot: Vec<String>,
    /// Packets dropped by this tap's rate limit (all protocols).
    #[serde(default)]
    pub rate_limited: u64,
    /// Per protocol: the last request, reply (and its type) and drop (and
    /// its reason); protocols never seen are left out.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub last_seen: Vec<crate::datapath::lastseen::SeenStatus>,
}

/// The answer to `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Queues bound and first scan done.
    pub ready: bool,
    /// Daemon version.
    pub version: String,
    /// Process id.
    pub pid: u32,
    /// First binding scan published.
    pub first_scan_done: bool,
    /// Queues.
    pub queues: Vec<QueueStatus>,
    /// Binding table generation.
    pub generation: u64,
    /// Every binding.
    pub bindings: Vec<BindingStatus>,
    /// Non-zero counters.
    pub counters: BTreeMap<String, u64>,
    /// The link monitor (taps appearing and vanishing).
    #[serde(default)]
    pub links: LinkMonitorStatus,
    /// Shadow mode: nothing is sent, every packet is ACCEPTed.
    #[serde(default)]
    pub shadow: bool,
    /// Tracers attached (`nfdhcpd trace`).
    #[serde(default)]
    pub tracers: usize,
}

impl Status {
    /// The binding of tap `tap`, if it has one.
    pub fn binding(&self, tap: &str) -> Option<&BindingStatus> {
        self.bindings.iter().find(|b| b.tap == tap)
    }
}

/// The link monitor's state in `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMonitorStatus {
    /// Following link events after a good dump; false while (re)starting
    /// or waiting to retry: taps appearing or vanishing are not seen then.
    pub following: bool,
    /// Full dumps after the first (lost events, broken stream, failures).
    pub resyncs: u64,
    /// Receive buffer overruns (events lost, each followed by a full dump).
    pub overruns: u64,
    /// Failures to open, bind or dump (each retried with backoff).
    pub errors: u64,
    /// The last failure.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_error: Option<String>,
}

impl LinkMonitorStatus {
    /// Reads `h`.
    pub fn of(h: &crate::link::Health) -> LinkMonitorStatus {
        LinkMonitorStatus {
            following: h.following.load(Ordering::Relaxed),
            resyncs: h.resyncs.load(Ordering::Relaxed),
            overruns: h.overruns.load(Ordering::Relaxed),
            errors: h.errors.load(Ordering::Relaxed),
            last_error: h
                .last_error
                .lock()
                .expect("link health lock is never poisoned")
                .clone(),
        }
    }
}

/// Rows of a snapshot, for `status`, `check` and SIGUSR1.
pub fn binding_rows(s: &Snapshot) -> Vec<BindingStatus> {
    let (now_ns, now_ms) = (
        crate::datapath::ratelimit::now_ns(),
        crate::datapath::lastseen::unix_ms_now(),
    );
    s.entries
        .iter()
        .map(|e| {
            let b = e.binding.as_deref();
            let served = e.ifindex.and_then(|i| s.lookup(i));
            let (error, last_good_served) = match &e.state {
                State::Invalid {
                    error,
                    last_good_served,
                } => (Some(error.clone()), Some(*last_good_served)),
                _ => (None, None),
            };
            BindingStatus {
                tap: e.tap.clone(),
                state: e.state.label().to_string(),
                error,
                last_good_served,
                ifindex: e.ifindex,
                mac: b.map(|b| b.mac.to_string()),
                ip: b.and_then(|b| b.ip).map(|i| i.to_string()),
                ip6: b.and_then(|b| b.dhcpv6_address()).map(|i| i.to_string()),
                subnet6: b.and_then(|b| b.subnet6).map(|n| n.to_string()),
                prefix6_delegated: b.map_or_else(Vec::new, |b| {
                    b.prefix6_delegated
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                }),
                hostname: b.and_then(|b| b.hostname.clone()),
                indev: b.map(|b| b.indev.clone()),
                options: b.map_or_else(Vec::new, option_keys),
                boot: b
                    .and_then(|b| b.boot.as_deref())
                    .map_or_else(Vec::new, |x| x.keys_set().map(String::from).collect()),
                rate_limited: served.map_or(0, |sv| sv.limiter.dropped_total()),
                last_seen: served.map_or_else(Vec::new, |sv| sv.seen.report(now_ns, now_ms)),
            }
        })
        .collect()
}

/// The keys of `b`'s raw options, DHCPv4 then DHCPv6.
fn option_keys(b: &crate::binding::Binding) -> Vec<String> {
    use crate::config::options::{PREFIX4, PREFIX6};
    let v4 = b.options.v4.iter().map(|o| format!("{PREFIX4}{}", o.code));
    v4.chain(b.options.v6.iter().map(|o| format!("{PREFIX6}{}", o.code)))
        .collect()
}

/// What the control server reads to answer.
#[derive(Clone)]
pub struct Shared {
    /// The config in force.
    pub config: Arc<arc_swap::ArcSwap<crate::config::Config>>,
    /// The binding table.
    pub table: Arc<Table>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Queues and whether each is bound.
    pub queues: Arc<std::sync::Mutex<Vec<QueueStatus>>>,
    /// First scan done.
    pub first_scan_done: Arc<AtomicBool>,
    /// The link monitor's health.
    pub links: Arc<crate::link::Health>,
    /// Attached tracers (`trace` verb).
    pub tracers: Arc<crate::observe::trace::Tracers>,
    /// The `explain` verb's answer to its arguments.
    pub explain: ExplainVerb,
}

/// Answers `explain TAP PROTOCOL…` (the arguments after the verb) with one
/// JSON document. The daemon gives it: the explanation is the offline
/// `explain` command's, which sits above this module; the socket only
/// carries it.
pub type ExplainVerb = fn(&Shared, &str) -> String;

impl Shared {
    /// The current status.
    pub fn status(&self) -> Status {
        let snap = self.table.load();
        let queues = self
            .queues
            .lock()
            .expect("queue list lock is never poisoned")
            .clone();
        let first_scan_done = self.first_scan_done.load(Ordering::SeqCst);
        Status {
            ready: first_scan_done && !queues.is_empty() && queues.iter().all(|q| q.bound),
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            first_scan_done,
            queues,
            generation: snap.generation,
            bindings: binding_rows(&snap),
            counters: self.metrics.to_map(),
            links: LinkMonitorStatus::of(&self.links),
            shadow: self.config.load().general.shadow,
            tracers: self.tracers.len(),
        }
    }
}

/// Binds the control socket at `path` (mode 0600), replacing a stale one.
/// Non-blocking, ready for `tokio::net::UnixListener::from_std`; bound
/// before the runtime exists, while the daemon is still privileged.
pub fn bind(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // Create it private: no window in which others could connect.
    use nix::sys::stat::{umask, Mode};
    let old = umask(Mode::from_bits_truncate(0o177));
    let l = std::os::unix::net::UnixListener::bind(path);
    umask(old);
    let l = l?;
    l.set_nonblocking(true)?;
    // Mode 0600 came from the umask at bind: no chmod by path afterwards
    // (a path can be swapped for a symlink; a socket has no descriptor of
    // its inode to fchmod).
    Ok(l)
}

/// Gives the control socket at `path` to the daemon's user, never following
/// a symlink (fchownat with AT_SYMLINK_NOFOLLOW) and refusing anything at
/// `path` that is not a socket: with a path swapped meanwhile, root would
/// otherwise hand another file to that user.
pub fn hand_over(path: &Path, uid: nix::unistd::Uid, gid: nix::unistd::Gid) -> std::io::Result<()> {
    use nix::fcntl::AtFlags;
    let m = std::fs::symlink_metadata(path)?;
    if !std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a socket: refused",
        ));
    }
    nix::unistd::fchownat(
        nix::fcntl::AT_FDCWD,
        path,
        Some(uid),
        Some(gid),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(std::io::Error::from)
}

/// Connections served at once, each by the control socket and by the
/// metrics endpoint; more wait in the kernel's listen backlog (no
/// descriptor of ours) until one ends.
pub const MAX_CONNECTIONS: usize = 16;

/// Longest request line (a `trace` request lists taps).
const MAX_REQUEST: u64 = 4096;

/// How long a client has to send its request (line or HTTP head).
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a whole connection may last, request and answer.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A listener [`serve_capped`] accepts from (the control socket's Unix
/// listener, the metrics endpoint's TCP listener).
pub trait Accept: Send + 'static {
    /// An accepted connection.
    type Stream: Send + 'static;
    /// Accepts one connection.
    fn accept_one(&self)
        -> impl std::future::Future<Output = std::io::Result<Self::Stream>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_one(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_one(&self) -> std::io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

/// Serves `listener` for ever, [`MAX_CONNECTIONS`] connections at a time,
/// each handled by `handle` within [`ANSWER_TIMEOUT`]. A permit is taken
/// before accepting: past the cap, new connections wait in the kernel's
/// listen backlog, which costs the daemon no descriptor (an unbounded
/// number of idle connections would otherwise exhaust them, and binding
/// files could then not be read).
pub async fn serve_capped<L, F, Fut>(listener: L, what: &'static str, handle: F)
where
    L: Accept,
    F: Fn(L::Stream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept_one().await {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "{what}: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let answer = handle(stream);
        tokio::spawn(async move {
            let _permit = permit;
            if tokio::time::timeout(ANSWER_TIMEOUT, answer).await.is_err() {
                debug!("{what}: connection timed out");
            }
        });
    }
}

/// Serves the control socket for ever, [`MAX_CONNECTIONS`] at a time.
pub async fn serve(listener: std::os::unix::net::UnixListener, shared: Shared) {
    let listener = match tokio::net::UnixListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "control socket unusable");
            return;
        }
    };
    serve_capped(listener, "control socket", move |stream| {
        let shared = shared.clone();
        async move { answer(stream, &shared).await }
    })
    .await
}

/// Reads one request line (within [`READ_TIMEOUT`]) and answers it.
async fn answer(stream: tokio::net::UnixStream, shared: &Shared) {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    let mut r = BufReader::new(r).take(MAX_REQUEST);
    match tokio::time::timeout(READ_TIMEOUT, r.read_line(&mut line)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) | Err(_) => return,
    }
    if let Some(arg) = line.trim().strip_prefix("trace") {
        // A tracer stays attached as long as its client reads: it runs
        // outside the connection cap and its timeout, which are for
        // one-shot requests (MAX_TRACERS caps tracers).
        let (arg, shared) = (arg.to_string(), shared.clone());
        tokio::spawn(async move {
            let r = r.into_inner();
            crate::observe::trace::session(r, w, &arg, &shared.tracers, &shared.table).await;
        });
        return;
    }
    let reply = match line.trim() {
        "status" | "" => serde_json::to_string(&shared.status()).expect("status serializes"),
        l if l.starts_with("explain ") => (shared.explain)(shared, &l["explain ".len()..]),
        other => {
            debug!(verb = other, "unknown control verb");
            format!(
                "{{\"error\":\"unknown verb {:?}\"}}",
                other.escape_debug().to_string()
            )
        }
    };
    let _ = w.write_all(reply.as_bytes()).await;
    let _ = w.write_all(b"\n").await;
    let _ = w.shutdown().await;
}

/// Asks the daemon at `path` for its status (blocking client).
pub fn query(path: &Path) -> std::io::Result<Status> {
    let buf = exchange(path, "status")?;
    serde_json::from_str(&buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Sends the verb line `line` to the daemon at `path` and reads its JSON
/// answer (blocking client); a document that is not a `T` is an error
/// that quotes it (the daemon's own error document, say).
pub fn query_verb<T: serde::de::DeserializeOwned>(path: &Path, line: &str) -> std::io::Result<T> {
    let buf = exchange(path, line)?;
    serde_json::from_str(&buf).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{e}: {}", buf.trim()),
        )
    })
}

/// Writes one verb line to the daemon at `path` and reads the answer whole.
fn exchange(path: &Path, line: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    s.write_all(format!("{line}\n").as_bytes())?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn hand_over_never_follows_a_symlink_nor_takes_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "secret").unwrap();
        let before = std::fs::metadata(&victim).unwrap();
        let link = dir.path().join("control.sock");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        // Any owner other than the current one: the call must refuse first.
        let (uid, gid) = (
            nix::unistd::Uid::from_raw(65534),
            nix::unistd::Gid::from_raw(65534),
        );
        assert!(hand_over(&link, uid, gid).is_err());
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        assert!(hand_over(&plain, uid, gid).is_err());
        let after = std::fs::metadata(&victim).unwrap();
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_eq!(std::fs::metadata(&plain).unwrap().uid(), before.uid());
    }

    #[tokio::test]
    async fn the_explain_verb_is_answered_by_the_handler_given() {
        fn handler(shared: &Shared, args: &str) -> String {
            format!(
                "{{\"args\":{args:?},\"taps\":{}}}",
                shared.table.load().entries.len()
            )
        }
        let shared = Shared {
            config: Arc::default(),
            table: Table::new(),
            metrics: Arc::default(),
            queues: Arc::default(),
            first_scan_done: Arc::default(),
            links: Arc::default(),
            tracers: Arc::default(),
            explain: handler,
        };
        let (mut client, server) = tokio::net::UnixStream::pair().unwrap();
        let served = tokio::spawn(async move { answer(server, &shared).await });
        client.write_all(b"explain tap0 dhcpv4 ra\n").await.unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        served.await.unwrap();
        assert_eq!(reply, "{\"args\":\"tap0 dhcpv4 ra\",\"taps\":0}\n");
    }

    #[test]
    fn status_rows_list_the_delegated_prefixes() {
        use crate::binding::file::parse;
        use crate::binding::store::Store;
        let mut store = Store::new();
        let base = "SUBNET6=2001:db8:1::/64\n";
        store.set_file(
            "tap-pd",
            parse(
                "tap-pd",
                &format!("MAC=aa:00:00:00:00:10\n{base}PREFIX6_DELEGATED=2001:db8:100::/56 2001:db8:200::/60\n"),
                true,
            ),
        );
        store.set_file(
            "tap-plain",
            parse("tap-plain", &format!("MAC=aa:00:00:00:00:11\n{base}"), true),
        );
        let rows = binding_rows(&store.snapshot(&Snapshot::default()).0);
        let row = |tap: &str| rows.iter().find(|r| r.tap == tap).unwrap();
        assert_eq!(
            row("tap-pd").prefix6_delegated,
            ["2001:db8:100::/56", "2001:db8:200::/60"]
        );
        assert!(row("tap-plain").prefix6_delegated.is_empty());
        // `status --json`: always a list.
        let v = serde_json::to_value(row("tap-plain")).unwrap();
        assert_eq!(v["prefix6_delegated"], serde_json::json!([]));
        let v = serde_json::to_value(row("tap-pd")).unwrap();
        assert_eq!(
            v["prefix6_delegated"],
            serde_json::json!(["2001:db8:100::/56", "2001:db8:200::/60"])
        );
        // A daemon from before the field: none.
        let mut old = v;
        old.as_object_mut().unwrap().remove("prefix6_delegated");
        let back: BindingStatus = serde_json::from_value(old).unwrap();
        assert!(back.prefix6_delegated.is_empty());
    }

    #[test]
    fn status_rows_name_the_raw_options_and_boot_keys() {
        use crate::binding::file::parse;
        use crate::binding::store::Store;
        let mut store = Store::new();
        let text = "MAC=aa:00:00:00:00:10\nSUBNET6=2001:db8:1::/64\nOPTION_224=u8:1\nOPTION6_4242=u8:2\nNEXT_SERVER=192.0.2.5\nBOOTFILE=pxelinux.0\n";
        store.set_file("tap-x", parse("tap-x", text, true));
        store.set_file(
            "tap-plain",
            parse(
                "tap-plain",
                "MAC=aa:00:00:00:00:11\nSUBNET6=2001:db8:1::/64\n",
                true,
            ),
        );
        let rows = binding_rows(&store.snapshot(&Snapshot::default()).0);
        let row = |tap: &str| rows.iter().find(|r| r.tap == tap).unwrap();
        assert_eq!(row("tap-x").options, ["OPTION_224", "OPTION6_4242"]);
        assert_eq!(row("tap-x").boot, ["NEXT_SERVER", "BOOTFILE"]);
        let v = serde_json::to_value(row("tap-x")).unwrap();
        assert_eq!(
            v["options"],
            serde_json::json!(["OPTION_224", "OPTION6_4242"])
        );
        // None: left out of the JSON, and read back empty.
        let v = serde_json::to_value(row("tap-plain")).unwrap();
        assert!(v.get("options").is_none() && v.get("boot").is_none(), "{v}");
        let back: BindingStatus = serde_json::from_value(v).unwrap();
        assert!(back.options.is_empty() && back.boot.is_empty());
    }

    #[test]
    fn hand_over_gives_the_socket_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let _l = bind(&path).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
        let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
        hand_over(&path, uid, gid).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!((m.uid(), m.gid()), (uid.as_raw(), gid.as_raw()));
    }
}
