//! The daemon: wires config, binding manager, link monitor, queue workers,
//! the RA advertiser, the control socket and signals together.

use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info, warn};

use crate::binding::watch::Event;
use crate::config::{self, queues_of, Config};
use crate::datapath::advert::{Advertiser, Command};
use crate::datapath::queue::Worker;
use crate::datapath::tap::{Manager, Table};
use crate::domain::Protocol;
use crate::metrics::Metrics;
use crate::observe::control::{self, QueueStatus, Shared};

/// Writes the pid file without following a symlink at its path: a stale
/// file (or anything else there) is unlinked, and the new one created with
/// O_CREAT|O_EXCL|O_NOFOLLOW, so a link planted there by whoever can write
/// the directory never makes root write elsewhere.
fn write_pidfile(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing the old pidfile {}", path.display()))
        }
        _ => {}
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("creating pidfile {}", path.display()))?;
    writeln!(f, "{}", std::process::id())
        .with_context(|| format!("writing pidfile {}", path.display()))
}

/// Raises the soft limit on open descriptors to the hard limit: a node
/// with many VMs, its binding reads, the metrics and control connections
/// and the queues' sockets must not run out at a default soft limit of 1024
/// while the hard limit allows far more.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => info!(from = soft, to = hard, "raised the open-descriptor limit"),
            Err(e) => warn!(soft, hard, error = %e, "cannot raise the open-descriptor limit"),
        },
        Ok(_) => {}
        Err(e) => warn!(error = %e, "cannot read the open-descriptor limit"),
    }
}

/// Sends a systemd notification when started by systemd (`NOTIFY_SOCKET`
/// set); otherwise does nothing.
fn notify(states: &[sd_notify::NotifyState]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(false, states) {
            warn!(error = %e, "systemd notification failed");
        }
    }
}

/// The STATUS= line: what is served.
fn status_line(table: &Table, queues: usize) -> String {
    let snap = table.load();
    format!(
        "serving {queues} queue(s); {} binding(s), {} active",
        snap.entries.len(),
        snap.by_ifindex.len()
    )
}

/// Switches to the configured user (only when started as root), handing
/// it the control socket first so the socket is owned by the daemon's user.
fn drop_privileges(user: Option<&str>, control_socket: &Path) -> anyhow::Result<()> {
    let Some(user) = user else { return Ok(()) };
    if !nix::unistd::Uid::effective().is_root() {
        warn!(
            user,
            "not started as root: `user` ignored, running as the current user"
        );
        return Ok(());
    }
    if let Ok(Some(u)) = nix::unistd::User::from_name(user) {
        control::hand_over(control_socket, u.uid, u.gid)
            .with_context(|| format!("handing {} to {user}", control_socket.display()))?;
    }
    let (uid, gid) =
        crate::privs::drop_to(user).with_context(|| format!("switching to user {user:?}"))?;
    info!(user, %uid, %gid, "privileges dropped: keeping CAP_NET_ADMIN and CAP_NET_RAW only");
    Ok(())
}

/// What is opened while the daemon still has root and one thread.
struct Privileged {
    workers: Vec<(u16, Protocol, Worker)>,
    ra_sender: Option<crate::datapath::send::Sender>,
    control_listener: std::os::unix::net::UnixListener,
    metrics_listener: Option<std::net::TcpListener>,
}

/// What the command line sets over the config file (kept across reloads).
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// `--shadow`: shadow mode whatever the file says.
    pub shadow: bool,
}

impl Overrides {
    /// Loads the config at `path` with these overrides applied.
    fn load(&self, path: &Path) -> Result<config::Loaded, config::ConfigError> {
        let mut l = config::load(path)?;
        l.config.general.shadow |= self.shadow;
        Ok(l)
    }
}

/// The state every part of the running daemon shares.
struct State {
    config_path: PathBuf,
    overrides: Overrides,
    config: Arc<ArcSwap<Config>>,
    table: Arc<Table>,
    metrics: Arc<Metrics>,
    queues: Queues,
}

/// What the signal loop and the shutdown talk to.
struct Services {
    bindings: crate::binding::watch::Handle,
    advertiser: Option<std::sync::mpsc::Sender<Command>>,
    n_queues: usize,
}

/// Runs the daemon until SIGTERM/SIGINT.
///
/// Order: everything that needs root (queues, AF_PACKET sockets, control
/// socket, metrics listener, pidfile) is set up while the process has one
/// thread ([`open_privileged`]); then privileges are dropped (`user`); then
/// the threads start ([`start_services`]), all inheriting the reduced
/// credentials; then signals are served until a stop ([`serve_signals`]).
pub fn run(config_path: PathBuf, overrides: Overrides) -> anyhow::Result<()> {
    let loaded = overrides.load(&config_path)?;
    for w in &loaded.warnings {
        warn!("{}: {w}", config_path.display());
    }
    let cfg = loaded.config;
    raise_fd_limit();
    info!(version = env!("CARGO_PKG_VERSION"), config = %config_path.display(), datapath = %cfg.general.datapath.display(), ipv6_mode = cfg.ipv6.mode.as_str(), "starting nfdhcpd");
    warn_if_shadow(&cfg);
    let config = Arc::new(ArcSwap::from_pointee(cfg.clone()));
    let table = Table::new();
    let metrics = Arc::new(Metrics::default());
    let mut state = State {
        queues: Queues::new(table.clone(), config.clone(), metrics.clone()),
        config_path,
        overrides,
        config,
        table,
        metrics,
    };
    let privileged = open_privileged(&cfg, &state.queues)?;
    drop_privileges(cfg.general.user.as_deref(), &cfg.general.control_socket)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let services = start_services(&cfg, &mut state, privileged, &rt)?;
    rt.block_on(serve_signals(&mut state, &services))?;
    shutdown(&cfg, services);
    Ok(())
}

/// Binds the queues (a failure is fatal, as in the original), opens the RA
/// socket, the control socket and the metrics listener, writes the pid file.
fn open_privileged(cfg: &Config, queues: &Queues) -> anyhow::Result<Privileged> {
    let mut workers = Vec::new();
    for (n, proto) in wanted_queues(cfg) {
        workers.push((n, proto, queues.bind(n, proto)?));
    }
    let ra_sender = if advertising(cfg) {
        Some(crate::datapath::send::Sender::open().context("opening the RA socket")?)
    } else {
        None
    };
    let sock_path = &cfg.general.control_socket;
    let control_listener = control::bind(sock_path)
        .with_context(|| format!("binding control socket {}", sock_path.display()))?;
    let metrics_listener = match cfg.metrics.listen {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .with_context(|| format!("binding the metrics endpoint {addr}"))?;
            l.set_nonblocking(true)?;
            info!(%addr, "metrics endpoint at http://{addr}/metrics");
            Some(l)
        }
        None => None,
    };
    if let Some(p) = &cfg.general.pidfile {
        write_pidfile(p)?;
    }
    Ok(Privileged {
        workers,
        ra_sender,
        control_listener,
        metrics_listener,
    })
}

/// Whether the config has the daemon send Router Advertisements.
fn advertising(cfg: &Config) -> bool {
    cfg.ipv6.enabled && cfg.ipv6.rs_queue.is_some()
}

/// Starts the link monitor, the binding manager, the queue workers, the RA
/// advertiser, the control socket and the metrics endpoint; READY=1 goes to
/// systemd when the first binding scan is published.
fn start_services(
    cfg: &Config,
    state: &mut State,
    p: Privileged,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<Services> {
    let mut manager = Manager::new(
        cfg.general.datapath.clone(),
        cfg.ipv6.enabled,
        state.table.clone(),
    );
    let bindings = manager.handle();

    // Links first, so the first published table already knows the taps.
    // On a thread of its own: a flood of scrapes or status requests on the
    // shared runtime must not delay taps becoming active.
    let link_health = Arc::new(crate::link::Health::default());
    {
        let (to, health) = (bindings.clone(), link_health.clone());
        let links_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the link monitor's runtime")?;
        std::thread::Builder::new()
            .name("links".into())
            .spawn(move || links_rt.block_on(crate::link::monitor(to, health)))?;
    }

    // Unsolicited RAs; a tap that becomes active gets one at once.
    let advertiser = match p.ra_sender {
        Some(sender) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let adv = Advertiser {
                table: state.table.clone(),
                config: state.config.clone(),
                metrics: state.metrics.clone(),
                sender,
                warnings: Default::default(),
            };
            std::thread::Builder::new()
                .name("ra".into())
                .spawn(move || adv.run(rx))?;
            let to_adv = tx.clone();
            manager.on_activate_call(move |taps| to_adv.send(Command::Activated(taps)).is_ok());
            Some(tx)
        }
        None => None,
    };
    manager.spawn().context("starting the binding manager")?;

    let n_queues = p.workers.len();
    for (n, proto, w) in p.workers {
        state.queues.start(n, proto, w)?;
    }

    let shared = Shared {
        config: state.config.clone(),
        table: state.table.clone(),
        metrics: state.metrics.clone(),
        queues: state.queues.statuses.clone(),
        first_scan_done: bindings.first_scan_done.clone(),
        links: link_health.clone(),
        tracers: state.queues.tracers.clone(),
        explain: explain_verb,
    };
    rt.spawn(control::serve(p.control_listener, shared));
    if let Some(l) = p.metrics_listener {
        let registry = Arc::new(crate::observe::prom::registry(
            state.metrics.clone(),
            state.table.clone(),
            link_health,
            state.config.clone(),
        ));
        rt.spawn(async move {
            match tokio::net::TcpListener::from_std(l) {
                Ok(l) => crate::observe::prom::serve(l, registry).await,
                Err(e) => error!(error = %e, "metrics endpoint unusable"),
            }
        });
    }
    {
        // READY=1 once the queues are bound (done) and the first scan is published.
        let first_scan = bindings.first_scan.clone();
        let (table, config) = (state.table.clone(), state.config.clone());
        rt.spawn(async move {
            first_scan.notified().await;
            let status = status_line(&table, n_queues);
            info!(queues = ?queues_of(&config.load()).iter().map(|(p, q)| format!("{}={q}", p.as_str())).collect::<Vec<_>>(), "ready to serve requests");
            notify(&[
                sd_notify::NotifyState::Ready,
                sd_notify::NotifyState::Status(&status),
            ]);
        });
    }
    Ok(Services {
        bindings,
        advertiser,
        n_queues,
    })
}

/// SIGHUP reloads, SIGUSR1 dumps the table; returns on SIGTERM or SIGINT.
async fn serve_signals(state: &mut State, services: &Services) -> std::io::Result<()> {
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                reload(&state.config_path, state.overrides, &state.config, &services.bindings, &state.metrics, &mut state.queues);
                let status = format!("reloaded; {}", status_line(&state.table, services.n_queues));
                notify(&[sd_notify::NotifyState::Status(&status)]);
            }
            _ = usr1.recv() => dump_table(&state.table),
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

/// Final RAs (router lifetime 0), the socket and pid file removed, the
/// binding manager stopped.
fn shutdown(cfg: &Config, services: Services) {
    info!("stopping");
    notify(&[
        sd_notify::NotifyState::Stopping,
        sd_notify::NotifyState::Status("stopping: sending final Router Advertisements"),
    ]);
    if let Some(adv) = &services.advertiser {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        if adv.send(Command::Stop(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(std::time::Duration::from_secs(2));
        }
    }
    // Best effort: after a privilege drop these may belong to root.
    let _ = std::fs::remove_file(&cfg.general.control_socket);
    if let Some(p) = &cfg.general.pidfile {
        let _ = std::fs::remove_file(p);
    }
    services.bindings.send(Event::Stop);
    info!("stopped");
}

/// Every queue number the config asks for, with its protocol.
pub fn wanted_queues(c: &Config) -> Vec<(u16, Protocol)> {
    queues_of(c)
        .into_iter()
        .flat_map(|(p, r)| r.iter().map(move |n| (n, p)))
        .collect()
}

/// A running queue worker.
struct Running {
    protocol: Protocol,
    retire: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

/// The queue workers, by queue number; rebinds on reload.
struct Queues {
    running: std::collections::BTreeMap<u16, Running>,
    table: Arc<Table>,
    config: Arc<ArcSwap<Config>>,
    metrics: Arc<Metrics>,
    /// Attached tracers, shared with the control socket.
    tracers: Arc<crate::observe::trace::Tracers>,
    /// What `status` shows.
    statuses: Arc<Mutex<Vec<QueueStatus>>>,
}

impl Queues {
    fn new(table: Arc<Table>, config: Arc<ArcSwap<Config>>, metrics: Arc<Metrics>) -> Queues {
        Queues {
            running: Default::default(),
            table,
            config,
            metrics,
            tracers: Default::default(),
            statuses: Default::default(),
        }
    }

    fn bind(&self, n: u16, proto: Protocol) -> Result<Worker, crate::datapath::queue::QueueError> {
        Worker::bind(
            n,
            proto,
            self.table.clone(),
            self.config.clone(),
            self.metrics.clone(),
            self.tracers.clone(),
        )
    }

    fn set_status(&self, n: u16, proto: Protocol, bound: bool) {
        let mut st = self
            .statuses
            .lock()
            .expect("queue status lock is never poisoned");
        st.retain(|q| q.queue != n);
        st.push(QueueStatus {
            queue: n,
            protocol: proto.as_str().into(),
            bound,
        });
        st.sort_by_key(|q| q.queue);
    }

    fn start(&mut self, n: u16, proto: Protocol, w: Worker) -> std::io::Result<()> {
        let retire = w.retire_flag();
        let thread = std::thread::Builder::new()
            .name(format!("queue-{n}"))
            .spawn(move || w.run())?;
        self.running.insert(
            n,
            Running {
                protocol: proto,
                retire,
                thread,
            },
        );
        self.set_status(n, proto, true);
        Ok(())
    }

    /// Unbinds the queues not in `wanted` (or now for another protocol) and
    /// binds the new ones; a queue that cannot be bound is reported as not
    /// bound (`status` then says not ready).
    fn apply(&mut self, wanted: &[(u16, Protocol)]) {
        let stale: Vec<u16> = self
            .running
            .iter()
            .filter(|(n, r)| !wanted.contains(&(**n, r.protocol)))
            .map(|(n, _)| *n)
            .collect();
        for n in stale {
            let r = self.running.remove(&n).expect("listed above");
            r.retire.store(true, std::sync::atomic::Ordering::SeqCst);
            // The worker stops after its current packet, or within
            // IDLE_WAIT_MS when idle, and unbinds the queue.
            let _ = r.thread.join();
            self.statuses
                .lock()
                .expect("queue status lock is never poisoned")
                .retain(|q| q.queue != n);
        }
        for &(n, proto) in wanted {
            if self.running.contains_key(&n) {
                continue;
            }
            match self.bind(n, proto) {
                Ok(w) => {
                    if let Err(e) = self.start(n, proto, w) {
                        error!(queue = n, error = %e, "cannot start the queue worker");
                        self.set_status(n, proto, false);
                    }
                }
                Err(e) => {
                    error!(error = %e, "new queue not bound");
                    self.set_status(n, proto, false);
                }
            }
        }
    }
}

/// SIGHUP: re-read the config (keeping the old one if the new is invalid)
/// and rescan every binding.
fn reload(
    path: &Path,
    overrides: Overrides,
    config: &ArcSwap<Config>,
    bindings: &crate::binding::watch::Handle,
    metrics: &Metrics,
    queues: &mut Queues,
) {
    info!("SIGHUP: reloading configuration and bindings");
    metrics
        .reloads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match overrides.load(path) {
        Ok(l) => {
            for w in &l.warnings {
                warn!("{}: {w}", path.display());
            }
            warn_if_shadow(&l.config);
            let wanted = wanted_queues(&l.config);
            config.store(Arc::new(l.config));
            // Queues whose number and protocol stay are untouched; the others
            // are unbound, and new ones bound.
            queues.apply(&wanted);
        }
        Err(e) => {
            metrics
                .reload_errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            error!(error = %e, "new configuration is invalid; keeping the old one");
        }
    }
    bindings.send(Event::Rescan);
}

/// Says loudly that shadow mode is on.
fn warn_if_shadow(cfg: &Config) {
    if cfg.general.shadow {
        warn!("SHADOW MODE: nothing is sent and every packet is ACCEPTed; decisions are only logged, counted and traced");
    }
}

/// SIGUSR1: log the binding table.
fn dump_table(table: &Table) {
    let snap = table.load();
    info!(
        generation = snap.generation,
        bindings = snap.entries.len(),
        active = snap.by_ifindex.len(),
        "binding table"
    );
    for row in control::binding_rows(&snap) {
        info!(
            tap = row.tap,
            ifindex = ?row.ifindex,
            mac = ?row.mac,
            ipv4 = ?row.ip,
            ipv6 = ?row.ip6,
            prefix6_delegated = %row.prefix6_delegated.join(" "),
            hostname = ?row.hostname,
            state = row.state,
            error = ?row.error,
            "binding"
        );
        let now_ms = crate::datapath::lastseen::unix_ms_now();
        for seen in &row.last_seen {
            info!(
                tap = row.tap,
                last_seen = crate::datapath::lastseen::describe(seen, now_ms),
                "last seen"
            );
        }
    }
}

/// The control socket's `explain` verb: `TAP PROTOCOL…` explained from the
/// live config, snapshot and queue states, or an error document.
pub fn explain_verb(shared: &Shared, args: &str) -> String {
    use crate::ops::explain::{explain, QueueState, Queues, Which};
    let mut words = args.split_whitespace();
    let tap = words.next().unwrap_or_default();
    let which: Option<Vec<Which>> = words.map(Which::parse).collect();
    let which = match which {
        Some(w) if !tap.is_empty() && !w.is_empty() => w,
        _ => return format!("{{\"error\":{:?}}}", "usage: explain TAP dhcpv4|ra|dhcpv6…"),
    };
    let queues: Vec<QueueState> = shared
        .queues
        .lock()
        .expect("queue list lock is never poisoned")
        .iter()
        .map(|q| QueueState {
            queue: q.queue,
            protocol: q.protocol.clone(),
            bound: q.bound,
        })
        .collect();
    let x = explain(
        &shared.config.load(),
        &shared.table.load(),
        tap,
        &which,
        Queues::Live(&queues),
    );
    serde_json::to_string(&x).expect("an explanation serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datapath::tap::Snapshot;

    #[test]
    fn explain_verb_answers_from_the_live_table_and_refuses_bad_arguments() {
        use crate::binding::file::parse;
        use crate::binding::store::{Link, Store};
        let table = Table::new();
        let mut store = Store::new();
        store.set_file(
            "tap0",
            parse(
                "tap0",
                "MAC=aa:00:00:00:00:10\nIP=192.0.2.10\nSUBNET=192.0.2.0/24\n",
                true,
            ),
        );
        store.link_up(
            "tap0",
            Link {
                ifindex: 3,
                mac: Some(crate::mac::MacAddr([0xfe, 0, 0, 0, 0, 1])),
            },
        );
        table.publish(store.snapshot(&Snapshot::default()).0);
        let mut config = crate::config::Config::default();
        config.dhcp.server_ip = Some("192.0.2.1".parse().unwrap());
        config.dhcp.queue = Some(crate::config::QueueRange::single(42));
        let shared = Shared {
            table,
            metrics: Arc::default(),
            queues: Arc::new(std::sync::Mutex::new(vec![QueueStatus {
                queue: 42,
                protocol: "dhcpv4".into(),
                bound: true,
            }])),
            first_scan_done: Arc::default(),
            links: Arc::default(),
            config: Arc::new(arc_swap::ArcSwap::from_pointee(config)),
            tracers: Arc::default(),
            explain: explain_verb,
        };
        let x: crate::ops::explain::Explanation =
            serde_json::from_str(&explain_verb(&shared, "tap0 dhcpv4")).unwrap();
        assert!(x.live);
        assert_eq!(x.protocols[0].queue, "42 bound");
        assert_eq!(x.protocols[0].exchanges[0].reply, "DHCPOFFER");
        for bad in ["", "tap0", "tap0 dhcpv5"] {
            let v: serde_json::Value = serde_json::from_str(&explain_verb(&shared, bad)).unwrap();
            assert!(v["error"].as_str().unwrap().starts_with("usage"), "{bad:?}");
        }
    }
}
