//! The binding manager thread: watches the binding directory (inotify via
//! `notify`) and the links (events from `link`), and publishes a new
//! snapshot after each batch of changes.
//!
//! Acts on close-after-write (in-place rewrites), moved-in (write-temp +
//! rename), deleted and moved-out files; skips editor and temp files. On
//! inotify overflow or watcher failure it rescans everything; if the
//! directory itself goes away, its bindings go with it, and it is watched
//! again (and rescanned) as soon as it is back.
//!
//! A failure that says nothing about the files — the directory cannot be
//! listed, or a file cannot be opened, for want of descriptors or memory —
//! never withdraws a binding: the last good state stays, and the listing or
//! the file is tried again every [`DIR_RETRY`] until it succeeds.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
use notify::Watcher;
use tracing::{debug, info, warn};

use super::file::{self, BindingError, Parsed, MAX_FILE_SIZE};
use super::store::{Link, Store};
use super::table::Table;

/// What the manager thread is told.
#[derive(Debug)]
pub enum Event {
    /// From the directory watcher.
    Fs(notify::Result<notify::Event>),
    /// An interface appeared or changed.
    LinkUp(String, Link),
    /// An interface went away.
    LinkDown(u32),
    /// The complete list of interfaces (initial dump or resync).
    Links(Vec<(String, Link)>),
    /// Re-read every file (SIGHUP, control socket).
    Rescan,
    /// Stop the thread.
    Stop,
}

/// How often the manager checks on a missing binding directory, and retries
/// a failed listing or a binding file that failed with a passing I/O error.
const DIR_RETRY: Duration = Duration::from_millis(200);

/// Whether an I/O error says "not now" rather than "this file is bad": out
/// of descriptors or memory, interrupted. A binding that failed so is read
/// again later; one that failed for what it is (a symlink, too big, a bad
/// value) waits for its next change.
pub fn is_transient(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOMEM
                | libc::ENOBUFS
                | libc::EINTR
                | libc::EAGAIN
                | libc::EIO
        )
    )
}

/// A binding file read: its result, and whether a failure was transient
/// (see [`is_transient`]) and so worth retrying.
#[derive(Debug)]
pub struct FileRead {
    /// The parsed binding or why not.
    pub result: Result<Parsed, BindingError>,
    /// The failure was an I/O error that may pass (out of descriptors …).
    pub transient: bool,
}

/// Reads tap `name`'s binding file from `dir`, refusing symlinks,
/// non-regular files and oversized files (opened without following links).
pub fn read_binding(dir: &Path, name: &str, ipv6_served: bool) -> Result<Parsed, BindingError> {
    read_binding_io(dir, name, ipv6_served).result
}

/// [`read_binding`], telling a passing I/O failure from a bad file.
pub fn read_binding_io(dir: &Path, name: &str, ipv6_served: bool) -> FileRead {
    let mut transient = false;
    let result = read_checked(dir, name, ipv6_served, &mut transient);
    FileRead { result, transient }
}

fn read_checked(
    dir: &Path,
    name: &str,
    ipv6_served: bool,
    transient: &mut bool,
) -> Result<Parsed, BindingError> {
    let unreadable = |reason: String| BindingError::Unreadable {
        file: name.to_string(),
        reason,
    };
    let mut io_failed = |what: &str, e: std::io::Error| {
        *transient = is_transient(&e);
        unreadable(format!("{what}: {e}"))
    };
    let path = dir.join(name);
    let mut f = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unreadable("is a symbolic link: refused".into()))
        }
        Err(e) => return Err(io_failed("cannot open", e)),
    };
    let meta = f.metadata().map_err(|e| io_failed("cannot stat", e))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_dir() {
            "a directory"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(unreadable(format!("is {what}: refused")));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(unreadable(format!(
            "is {} bytes, over the {MAX_FILE_SIZE}-byte limit: refused",
            meta.len()
        )));
    }
    let mut text = String::new();
    (&mut f)
        .take(MAX_FILE_SIZE + 1)
        .read_to_string(&mut text)
        .map_err(|e| io_failed("cannot read", e))?;
    let mut parsed = file::parse(name, &text, ipv6_served)?;
    if meta.permissions().mode() & 0o002 != 0 {
        parsed.warnings.push(file::Warning(format!(
            "{name}: writable by every user: anyone on the host can rewrite this VM's network configuration"
        )));
    }
    Ok(parsed)
}

/// A warning when the binding directory is writable by every user.
pub fn check_dir_permissions(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    let mode = meta.permissions().mode();
    // World-writable without the sticky bit: anyone can add, replace or remove bindings.
    (mode & 0o002 != 0).then(|| {
        format!(
            "binding directory {} is writable by every user (mode {:o}): anyone on the host can add or replace VM bindings",
            dir.display(),
            mode & 0o7777
        )
    })
}

/// Lists the binding file names in `dir` (skipping ignored names).
pub fn list_dir(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for ent in std::fs::read_dir(dir)? {
        let ent = ent?;
        if let Some(n) = ent.file_name().to_str() {
            if !file::is_ignored_name(n) {
                names.insert(n.to_string());
            }
        }
    }
    Ok(names)
}

/// Whether a failed listing means the directory is not there (rather than
/// that the listing could not be done now).
fn dir_is_gone(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

/// The binding manager, publishing into a table whose entries keep the
/// tap's `L` and `S` (see [`Served`](super::table::Served)).
pub struct Manager<L, S> {
    dir: PathBuf,
    ipv6_served: bool,
    store: Store<L, S>,
    table: Arc<Table<L, S>>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    watcher: Option<notify::RecommendedWatcher>,
    on_activate: Vec<Box<dyn Fn(Vec<u32>) -> bool + Send>>,
    first_scan_done: Arc<std::sync::atomic::AtomicBool>,
    first_scan: Arc<tokio::sync::Notify>,
    rescans: Arc<std::sync::atomic::AtomicU64>,
    /// A rescan failed to list the directory (not because it is gone): the
    /// state is kept and the rescan is tried again.
    rescan_pending: bool,
    /// Files whose last read failed with a transient I/O error.
    retry: BTreeSet<String>,
    last_retry: std::time::Instant,
}

/// A handle to tell the manager things.
#[derive(Clone, Debug)]
pub struct Handle {
    tx: Sender<Event>,
    /// Set once the first directory scan has been published.
    pub first_scan_done: Arc<std::sync::atomic::AtomicBool>,
    /// Notified once, when the first directory scan has been published.
    pub first_scan: Arc<tokio::sync::Notify>,
    /// Full rescans done (first scan, overflow, watcher error, directory back, SIGHUP).
    pub rescans: Arc<std::sync::atomic::AtomicU64>,
}

impl Handle {
    /// Sends an event (ignored if the manager has stopped).
    pub fn send(&self, ev: Event) {
        let _ = self.tx.send(ev);
    }
}

impl<L, S> Manager<L, S>
where
    L: Default + Send + Sync + 'static,
    S: Default + Send + Sync + 'static,
{
    /// A manager for `dir`, publishing into `table`.
    pub fn new(dir: PathBuf, ipv6_served: bool, table: Arc<Table<L, S>>) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        Manager {
            dir,
            ipv6_served,
            store: Store::new(),
            table,
            tx,
            rx,
            watcher: None,
            on_activate: Vec::new(),
            first_scan_done: Arc::default(),
            first_scan: Arc::default(),
            rescans: Arc::default(),
            rescan_pending: false,
            retry: BTreeSet::new(),
            last_retry: std::time::Instant::now(),
        }
    }

    /// A handle for other threads (link monitor, signals, control socket).
    pub fn handle(&self) -> Handle {
        Handle {
            tx: self.tx.clone(),
            first_scan_done: self.first_scan_done.clone(),
            first_scan: self.first_scan.clone(),
            rescans: self.rescans.clone(),
        }
    }

    /// Subscribes to "these taps became active or changed" notifications.
    pub fn subscribe(&mut self) -> Receiver<Vec<u32>> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.on_activate_call(move |taps| tx.send(taps).is_ok());
        rx
    }

    /// Calls `f` with the taps (ifindex) that became active or changed, on
    /// the manager's thread, after each snapshot that has some; `f` returns
    /// false to be forgotten (its receiver is gone).
    pub fn on_activate_call(&mut self, f: impl Fn(Vec<u32>) -> bool + Send + 'static) {
        self.on_activate.push(Box::new(f));
    }

    /// Starts the thread: watcher first, then the first scan, then events.
    pub fn spawn(mut self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("bindings".into())
            .spawn(move || {
                self.start_watch();
                self.rescan();
                self.publish();
                self.first_scan_done
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                self.first_scan.notify_one();
                self.run();
            })
    }

    fn start_watch(&mut self) {
        if let Some(w) = check_dir_permissions(&self.dir) {
            warn!("{w}");
        }
        let tx = self.tx.clone();
        let res = notify::recommended_watcher(move |ev| {
            let _ = tx.send(Event::Fs(ev));
        })
        .and_then(|mut w| {
            w.watch(&self.dir, notify::RecursiveMode::NonRecursive)
                .map(|()| w)
        });
        match res {
            Ok(w) => {
                debug!(dir = %self.dir.display(), "watching binding directory");
                self.watcher = Some(w);
            }
            Err(e) => {
                warn!(dir = %self.dir.display(), error = %e, "cannot watch binding directory; will retry");
                self.watcher = None;
            }
        }
    }

    fn run(&mut self) {
        loop {
            let first = match self.rx.recv_timeout(DIR_RETRY) {
                Ok(ev) => Some(ev),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut dirty = false;
            if self.watcher.is_none() && self.dir.is_dir() {
                info!(dir = %self.dir.display(), "binding directory is back: rescanning");
                self.start_watch();
                self.rescan();
                dirty = true;
            }
            dirty |= self.retry_failed();
            let mut next = first;
            while let Some(ev) = next {
                match self.apply(ev) {
                    Some(d) => dirty |= d,
                    None => return,
                }
                next = self.rx.try_recv().ok();
            }
            if dirty {
                self.publish();
            }
        }
    }

    /// Every [`DIR_RETRY`]: a rescan whose listing failed, or the files
    /// whose read failed with a transient I/O error, are tried again.
    fn retry_failed(&mut self) -> bool {
        if (!self.rescan_pending && self.retry.is_empty()) || self.last_retry.elapsed() < DIR_RETRY
        {
            return false;
        }
        self.last_retry = std::time::Instant::now();
        if self.rescan_pending {
            self.rescan();
            return true;
        }
        let names = std::mem::take(&mut self.retry);
        debug!(
            files = names.len(),
            "retrying binding files after I/O errors"
        );
        let mut changed = false;
        for n in &names {
            changed |= self.sync(n, false);
        }
        changed
    }

    /// Applies one event; Some(true) when the store changed, None to stop.
    fn apply(&mut self, ev: Event) -> Option<bool> {
        Some(match ev {
            Event::Stop => return None,
            Event::Rescan => {
                self.rescan();
                true
            }
            Event::LinkUp(name, link) => {
                let changed = self.store.link(&name) != Some(link);
                self.store.link_up(&name, link);
                changed
            }
            Event::LinkDown(ifindex) => {
                self.store.link_down(ifindex);
                true
            }
            Event::Links(all) => {
                self.store.set_links(all);
                true
            }
            Event::Fs(Err(e)) => {
                warn!(error = %e, "binding directory watcher error: rescanning");
                self.rescan();
                true
            }
            Event::Fs(Ok(ev)) => self.fs_event(ev),
        })
    }

    fn fs_event(&mut self, ev: notify::Event) -> bool {
        if ev.need_rescan() {
            warn!("inotify queue overflow: rescanning the binding directory");
            self.rescan();
            return true;
        }
        let acts = matches!(
            ev.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(_))
                | EventKind::Remove(_)
                | EventKind::Create(CreateKind::File | CreateKind::Other | CreateKind::Any)
        );
        if !acts {
            return false;
        }
        let mut changed = false;
        for path in &ev.paths {
            if path == &self.dir {
                if matches!(
                    ev.kind,
                    EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                ) {
                    warn!(dir = %self.dir.display(), "binding directory removed or moved: its bindings are withdrawn");
                    self.watcher = None;
                    for name in self.store.file_names() {
                        self.store.remove_file(&name);
                    }
                    changed = true;
                }
                continue;
            }
            if path.parent() != Some(self.dir.as_path()) {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if file::is_ignored_name(name) {
                continue;
            }
            // A regular file just created is still being written: its close-write follows.
            if matches!(ev.kind, EventKind::Create(_))
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
            {
                continue;
            }
            changed |= self.sync(name, false);
        }
        changed
    }

    /// Brings tap `name`'s state in line with the directory. A full rescan
    /// logs each binding at debug level and a summary at info level.
    fn sync(&mut self, name: &str, rescan: bool) -> bool {
        match std::fs::symlink_metadata(self.dir.join(name)) {
            Err(_) => {
                self.retry.remove(name);
                if self.store.remove_file(name) {
                    info!(tap = name, "binding removed");
                    true
                } else {
                    false
                }
            }
            Ok(_) => {
                let FileRead {
                    result: res,
                    transient,
                } = read_binding_io(&self.dir, name, self.ipv6_served);
                if transient {
                    self.retry.insert(name.to_string());
                } else {
                    self.retry.remove(name);
                }
                match &res {
                    Ok(p) => {
                        if rescan {
                            debug!(tap = name, "binding loaded");
                        } else {
                            info!(tap = name, "binding loaded");
                        }
                        for w in &p.warnings {
                            warn!(tap = name, "{}", w.0);
                        }
                        for o in self.store.overlaps(name, &p.binding) {
                            warn!(
                                tap = name,
                                "{o}: both are served; route each prefix to one VM only"
                            );
                        }
                    }
                    Err(e) => {
                        warn!(tap = name, error = %e, "invalid binding file; the last good binding (if any) stays in force")
                    }
                }
                self.store.set_file(name, res);
                true
            }
        }
    }

    fn rescan(&mut self) {
        self.rescans
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let names = match list_dir(&self.dir) {
            Ok(n) => n,
            // Gone for real: its bindings go with it, and it is watched again
            // when it is back.
            Err(e) if dir_is_gone(&e) => {
                warn!(dir = %self.dir.display(), error = %e, "binding directory is gone: its bindings are withdrawn");
                self.watcher = None;
                self.rescan_pending = false;
                BTreeSet::new()
            }
            // Any other failure (out of descriptors, …) says nothing about
            // the files: keep the last good state and try again.
            Err(e) => {
                warn!(dir = %self.dir.display(), error = %e, "cannot list binding directory; keeping the current bindings and retrying");
                self.rescan_pending = true;
                return;
            }
        };
        self.rescan_pending = false;
        for gone in self
            .store
            .file_names()
            .into_iter()
            .filter(|n| !names.contains(n))
        {
            self.store.remove_file(&gone);
        }
        let mut invalid = 0;
        for n in &names {
            self.sync(n, true);
            invalid += usize::from(self.store.has_error(n));
        }
        info!(dir = %self.dir.display(), files = names.len(), invalid, "binding directory scanned");
    }

    fn publish(&mut self) {
        let prev = self.table.load();
        let (snap, changes) = self.store.snapshot(&prev);
        debug!(
            generation = snap.generation,
            bindings = snap.entries.len(),
            active = snap.by_ifindex.len(),
            "published binding table"
        );
        self.table.publish(snap);
        if !changes.activated.is_empty() {
            self.on_activate.retain(|f| f(changes.activated.clone()));
        }
    }
}
