//! The daemon: wires config, binding manager, link monitor, queue workers,
//! the RA advertiser, the control socket and signals together.

use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info, warn};

use crate::advert::{Advertiser, Command};
use crate::binding::table::Table;
use crate::binding::watch::{Event, Manager};
use crate::config::{self, Config, QueueRange};
use crate::control::{self, QueueStatus, Shared};
use crate::metrics::{Metrics, Protocol};
use crate::queue::Worker;

/// The queues a config asks for, by protocol.
pub fn queues_of(c: &Config) -> Vec<(Protocol, QueueRange)> {
    let mut v = Vec::new();
    if c.dhcp.enabled {
        v.extend(c.dhcp.queue.map(|q| (Protocol::Dhcpv4, q)));
    }
    if c.ipv6.enabled {
        v.extend(c.ipv6.rs_queue.map(|q| (Protocol::RouterSolicit, q)));
        v.extend(c.ipv6.ns_queue.map(|q| (Protocol::NeighbourSolicit, q)));
        v.extend(c.ipv6.dhcpv6_queue.map(|q| (Protocol::Dhcpv6, q)));
    }
    v
}

fn write_pidfile(path: &Path) -> anyhow::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(path, format!("{}\n", std::process::id()))
        .with_context(|| format!("writing pidfile {}", path.display()))
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(config_path: PathBuf) -> anyhow::Result<()> {
    let loaded = config::load(&config_path)?;
    for w in &loaded.warnings {
        warn!("{}: {w}", config_path.display());
    }
    let cfg = loaded.config;
    info!(version = env!("CARGO_PKG_VERSION"), config = %config_path.display(), datapath = %cfg.general.datapath.display(), ipv6_mode = cfg.ipv6.mode.as_str(), "starting nfdhcpd");
    let config = Arc::new(ArcSwap::from_pointee(cfg.clone()));
    let table = Table::new();
    let metrics = Arc::new(Metrics::default());

    let mut manager = Manager::new(
        cfg.general.datapath.clone(),
        cfg.ipv6.enabled,
        table.clone(),
    );
    let activations = manager.subscribe();
    let bindings = manager.handle();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;

    // Links first, so the first published table already knows the taps.
    {
        let h = bindings.clone();
        rt.spawn(async move {
            if let Err(e) = crate::link::monitor(h).await {
                error!(error = %e, "link monitor failed: taps appearing or vanishing will not be followed");
            }
        });
    }
    manager.spawn().context("starting the binding manager")?;

    // Queues: bind all before serving; a failure is fatal (as the original).
    let mut statuses = Vec::new();
    let mut workers = Vec::new();
    for (proto, range) in queues_of(&cfg) {
        for n in range.iter() {
            let w = Worker::bind(n, proto, table.clone(), config.clone(), metrics.clone())?;
            statuses.push(QueueStatus {
                queue: n,
                protocol: proto.as_str().into(),
                bound: true,
            });
            workers.push((n, w));
        }
    }
    for (n, w) in workers {
        std::thread::Builder::new()
            .name(format!("queue-{n}"))
            .spawn(move || w.run())?;
    }

    // Unsolicited RAs.
    let (adv_tx, adv_rx) = std::sync::mpsc::channel();
    let advertising = cfg.ipv6.enabled && cfg.ipv6.rs_queue.is_some();
    if advertising {
        let adv = Advertiser {
            table: table.clone(),
            config: config.clone(),
            metrics: metrics.clone(),
            sender: crate::send::Sender::open().context("opening the RA socket")?,
        };
        std::thread::Builder::new()
            .name("ra".into())
            .spawn(move || adv.run(adv_rx))?;
        let tx = adv_tx.clone();
        std::thread::Builder::new()
            .name("ra-activations".into())
            .spawn(move || {
                for taps in activations {
                    if tx.send(Command::Activated(taps)).is_err() {
                        return;
                    }
                }
            })?;
    }

    let shared = Shared {
        table: table.clone(),
        metrics: metrics.clone(),
        queues: Arc::new(Mutex::new(statuses)),
        first_scan_done: bindings.first_scan_done.clone(),
    };
    let sock_path = cfg.general.control_socket.clone();
    let listener = rt
        .block_on(async { control::bind(&sock_path) })
        .with_context(|| format!("binding control socket {}", sock_path.display()))?;
    rt.spawn(control::serve(listener, shared.clone()));
    if let Some(p) = &cfg.general.pidfile {
        write_pidfile(p)?;
    }
    info!(queues = ?queues_of(&cfg).iter().map(|(p, q)| format!("{}={q}", p.as_str())).collect::<Vec<_>>(), "ready to serve requests");

    rt.block_on(async {
        let mut hup = signal(SignalKind::hangup())?;
        let mut usr1 = signal(SignalKind::user_defined1())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        loop {
            tokio::select! {
                _ = hup.recv() => reload(&config_path, &config, &bindings),
                _ = usr1.recv() => dump_table(&table),
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        Ok::<(), std::io::Error>(())
    })?;

    info!("stopping");
    if advertising {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        if adv_tx.send(Command::Stop(done_tx)).is_ok() {
            let _ = done_rx.recv_timeout(std::time::Duration::from_secs(2));
        }
    }
    let _ = std::fs::remove_file(&sock_path);
    if let Some(p) = &cfg.general.pidfile {
        let _ = std::fs::remove_file(p);
    }
    bindings.send(Event::Stop);
    info!("stopped");
    Ok(())
}

/// SIGHUP: re-read the config (keeping the old one if the new is invalid)
/// and rescan every binding.
fn reload(path: &Path, config: &ArcSwap<Config>, bindings: &crate::binding::watch::Handle) {
    info!("SIGHUP: reloading configuration and bindings");
    match config::load(path) {
        Ok(l) => {
            for w in &l.warnings {
                warn!("{}: {w}", path.display());
            }
            let old = config.load();
            if queues_of(&old) != queues_of(&l.config) {
                warn!("queue numbers changed: restart nfdhcpd to bind the new queues; the old ones stay in service");
            }
            config.store(Arc::new(l.config));
        }
        Err(e) => error!(error = %e, "new configuration is invalid; keeping the old one"),
    }
    bindings.send(Event::Rescan);
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
            hostname = ?row.hostname,
            state = row.state,
            error = ?row.error,
            "binding"
        );
    }
}
