//! The `nfdhcpd` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use nfdhcpd::config::{self, DEFAULT_CONFIG_PATH};
use nfdhcpd::ops::rules::TapMode;

/// Answers the DHCPv4, Router/Neighbour Solicitation and DHCPv6 traffic of
/// the VMs on this hypervisor, from netfilter queues and one binding file
/// per tap.
#[derive(Debug, Parser)]
#[command(name = "nfdhcpd", version, about, long_about = None)]
struct Cli {
    /// Configuration file (the original's INI form, or TOML if it ends in .toml).
    #[arg(short = 'c', long = "config", global = true, default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    /// Debug logging.
    #[arg(short = 'd', long = "debug", global = true)]
    debug: bool,
    /// Stay in the foreground (always the case; accepted for compatibility).
    #[arg(short = 'f', long = "foreground", global = true)]
    foreground: bool,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    log_format: LogFormat,
    /// Shadow mode (the daemon): decide, log, count and trace as usual, but
    /// send nothing and ACCEPT every packet, to run beside another DHCP
    /// server and compare. Same as `[general] shadow = yes`.
    #[arg(long)]
    shadow: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Examples and notes after `nfdhcpd rules --help`.
const RULES_HELP: &str = "\
Examples:
  nfdhcpd rules --family ipv4 | iptables-restore --noflush
  nfdhcpd rules --family ipv6 | ip6tables-restore --noflush
  nfdhcpd rules --backend nft > /etc/nftables.d/nfdhcpd.nft && nft -f /etc/nftables.d/nfdhcpd.nft
  nfdhcpd rules --guard --no-queue --family ipv6 | ip6tables-restore --noflush
  nfdhcpd rules --backend nft --guard --guard-spoof --no-queue | nft -f -

nft: `table inet nfdhcpd` serves routed taps, `table bridge nfdhcpd` taps in
a bridge (no br_netfilter needed). Loading the ruleset again replaces its
rules and keeps the sets' elements; no other table is touched. The kernel
needs CONFIG_NFT_QUEUE (module nft_queue) for the queue rules; the guard,
anti-spoofing and rate-limit rules do not. --guard-spoof drops everything
from a tap whose binding the hook has not added to the sets (see the README,
\"Guard rules\"). The shipped files are in /usr/share/nfdhcpd/iptables/ and
/usr/share/nfdhcpd/nftables/.";

/// Examples after `nfdhcpd explain --help`.
const EXPLAIN_HELP: &str = "\
Examples:
  nfdhcpd explain tap12
  nfdhcpd explain tap12 --protocol dhcpv6 --json
  nfdhcpd -c /etc/nfdhcpd/nfdhcpd.toml explain tap12 --offline

Each value is followed by its source: `binding KEY` (the tap's binding
file), `config [section] key`, `default [section] key` (the built-in value),
or `link IF (INDEV)` (the interface's MAC). A raw option (`option 224`,
`option6 4242`) names its key (`binding OPTION_224`, `config [options]
OPTION_224`) and whether it is sent `always` or `when asked`. Extra
exchanges show what only some clients get: the options sent when asked
(raw options, 66, 67, 108 V6ONLY_WAIT, DHCPv6 59 BOOTFILE6), the OFFER of
yiaddr 0.0.0.0 to a DISCOVER asking for 108, and the boot file (BOOTFILE,
BOOTFILE_BIOS, BOOTFILE_EFI, BOOTFILE_IPXE, BOOTFILE_HTTP) each boot
firmware gets.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainProtocol {
    Dhcpv4,
    Ra,
    Dhcpv6,
    All,
}

/// Examples after `nfdhcpd trace --help`.
const TRACE_HELP: &str = "\
Examples:
  nfdhcpd trace                          every packet of every tap
  nfdhcpd trace tap12 --protocol dhcpv4  one VM's DHCPv4
  nfdhcpd trace --json --count 100 > trace.jsonl

A line looks like:
  10:23:01.615 tap12 dhcpv4 DHCPv4 DISCOVER xid 0xcd802f6c 0.0.0.0 > 255.255.255.255 \
params 1,3,6 from aa:00:00:00:00:10 => DROP, reply DHCPv4 OFFER … in 85 µs";

/// A protocol `trace` can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TraceProtocol {
    /// DHCPv4 requests.
    Dhcpv4,
    /// Router Solicitations.
    Rs,
    /// Neighbour Solicitations.
    Ns,
    /// DHCPv6 requests.
    Dhcpv6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Validate the config and every binding file offline; exit 1 on any problem.
    Check {
        /// Binding directory (default: the config's datapath).
        #[arg(long)]
        datapath: Option<PathBuf>,
    },
    /// Show what a VM would be given right now, value by value, and why not.
    ///
    /// Puts a typical request of each protocol through the daemon's own
    /// decision path (a DHCPDISCOVER with dhclient's parameter request list
    /// and the REQUEST of its offer; a Router Solicitation; a DHCPv6 Solicit
    /// and Request, or an Information-Request in the stateless modes) and
    /// prints the decoded replies, each value with where it came from: a
    /// binding key, a config key, or a default. When the VM would get
    /// nothing, says why: no binding file, the binding invalid (and why),
    /// the tap missing, the protocol disabled, its queue not set or not bound.
    ///
    /// Asks the running daemon over the control socket (its live bindings,
    /// binding errors and queue states); with --offline or --datapath, or
    /// when no daemon answers, reads the config and binding files instead
    /// (queue states unknown). Exit 0 when the VM gets a reply of every
    /// protocol asked for, 1 otherwise.
    #[command(after_help = EXPLAIN_HELP)]
    Explain {
        /// The tap (binding file name).
        tap: String,
        /// Which protocol to explain.
        #[arg(long, value_enum, default_value_t = ExplainProtocol::All)]
        protocol: ExplainProtocol,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Read the files, do not ask the daemon.
        #[arg(long)]
        offline: bool,
        /// Binding directory (default: the config's datapath); implies --offline.
        #[arg(long)]
        datapath: Option<PathBuf>,
        /// Control socket (default: the config's control_socket).
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Ask the running daemon for its status. Exit 0 ready, 1 not ready, 3 not running.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Control socket (default: the config's control_socket).
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Follow the running daemon's packets live, one line each.
    ///
    /// Each line: time (UTC), tap, protocol, the request's summary (as
    /// `replay` prints it), the verdict, then the reply's summary and its
    /// latency, or why the packet was dropped (rate_limited, spoofed_mac,
    /// malformed, …) or ignored (no binding: the tap is not served).
    /// Packets from taps without a binding are shown too. A reader too slow
    /// for the traffic loses lines and is told how many; the daemon never
    /// waits for it. Several tracers may be attached at once (up to 8).
    /// Needs the control socket (root or the daemon's user). Exit 3 when
    /// the daemon is not running, 1 when it refuses the request.
    #[command(after_help = TRACE_HELP)]
    Trace {
        /// Taps to trace (default: all, bound or not).
        #[arg(value_name = "TAP")]
        taps: Vec<String>,
        /// Protocol to trace (repeatable; default: all).
        #[arg(long, value_enum)]
        protocol: Vec<TraceProtocol>,
        /// Print the JSON lines as the daemon sends them.
        #[arg(long)]
        json: bool,
        /// Stop after N packets.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        count: Option<u64>,
        /// At most N lines per second (default 10000; 0: no limit). Past
        /// it, packets are reported as lines lost, which keeps a tracer
        /// cheap for the daemon during a flood.
        #[arg(long, value_name = "N")]
        max_rate: Option<u32>,
        /// Control socket (default: the config's control_socket).
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Remove binding files whose tap does not exist (run it in the daemon's
    /// network namespace). With --keep, the listed taps are the ones that
    /// should exist: every other file is removed, listed ones are kept even
    /// while their tap is absent.
    Gc {
        /// Taps to keep (repeatable); makes the list authoritative.
        #[arg(long, num_args = 1.., value_name = "TAP")]
        keep: Option<Vec<String>>,
        /// Print what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Binding directory (default: the config's datapath).
        #[arg(long)]
        datapath: Option<PathBuf>,
    },
    /// Print the firewall rules that send the config's queues their requests.
    ///
    /// iptables rules (iptables-restore format, the default; load them with
    /// `iptables-restore --noflush`) or, with `--backend nft`, one
    /// re-loadable nftables ruleset (`nft -f`; the kernel needs nft_queue).
    /// `--guard` adds rules that drop Router Advertisements, Redirects and
    /// DHCP/DHCPv6 server replies sent from taps.
    #[command(after_help = RULES_HELP)]
    Rules {
        /// Firewall: iptables (iptables-restore input) or nft (an `nft -f` ruleset).
        #[arg(long, value_enum, default_value_t = RulesBackend::Iptables)]
        backend: RulesBackend,
        /// iptables: address family (default: both, each under a comment).
        /// nft covers both in one ruleset.
        #[arg(long, value_enum)]
        family: Option<RulesFamily>,
        /// Which taps: routed (-i TAPS; nft: table inet), bridged (physdev;
        /// nft: table bridge), or both.
        #[arg(long, value_enum, default_value_t = RulesMode::Both)]
        mode: RulesMode,
        /// Interface name pattern of the taps, a trailing + or * a wildcard
        /// [default: tap+ (iptables), tap* (nft)].
        #[arg(long, value_name = "PATTERN")]
        taps: Option<String>,
        /// nft: match the taps by the set `taps`, which the hook fills,
        /// instead of by --taps.
        #[arg(long, conflicts_with = "taps")]
        tap_set: bool,
        /// Fail open: let packets through while no daemon listens
        /// (--queue-bypass; nft: bypass).
        #[arg(long)]
        queue_bypass: bool,
        /// Add the guard rules: drop ICMPv6 RA (134) and Redirect (137), UDP
        /// 67→68 and UDP 547→546 from taps.
        #[arg(long)]
        guard: bool,
        /// nft: add per-tap source anti-spoofing (MAC, IPv4, IPv6, ARP and
        /// NA targets) from the sets the hook fills from the bindings.
        #[arg(long)]
        guard_spoof: bool,
        /// nft: add in-kernel per-tap rate limits ahead of the queues.
        #[arg(long)]
        ratelimit: bool,
        /// Leave the queue rules out (to add guard, anti-spoofing or rate
        /// limits beside queue rules loaded already).
        #[arg(long)]
        no_queue: bool,
    },
    /// Generate the man page or shell completions (for packaging).
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        what: Generate,
    },
    /// Replay a pcap/pcapng capture through the responder as if queued from
    /// one tap; print one line per frame. Exit 1 only for unreadable input.
    Replay(nfdhcpd::ops::replay::Args),
}

#[derive(Debug, Subcommand)]
enum Generate {
    /// The man page (roff) on stdout; with --dir, one page per subcommand too.
    Man {
        /// Write nfdhcpd.1 and nfdhcpd-SUBCOMMAND.1 into this directory.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Shell completions, on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesBackend {
    Iptables,
    Nft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFamily {
    Ipv4,
    Ipv6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesMode {
    Routed,
    Bridged,
    Both,
}

fn init_logging(debug: bool, format: LogFormat) {
    let level = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NFDHCPD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only on a terminal: under systemd or into a file they would
    // be stored as escape sequences.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.foreground;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            init_logging(cli.debug, cli.log_format);
            let overrides = nfdhcpd::daemon::Overrides { shadow: cli.shadow };
            match nfdhcpd::daemon::run(cli.config, overrides) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("nfdhcpd: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { datapath } => check(&cli.config, datapath),
        Command::Status { json, socket } => status(&cli.config, socket, json),
        Command::Explain {
            tap,
            protocol,
            json,
            offline,
            datapath,
            socket,
        } => explain(&cli.config, &tap, protocol, json, offline, datapath, socket),
        Command::Trace {
            taps,
            protocol,
            json,
            count,
            max_rate,
            socket,
        } => trace(&cli.config, socket, taps, &protocol, json, count, max_rate),
        Command::Gc {
            keep,
            dry_run,
            datapath,
        } => gc(&cli.config, datapath, keep, dry_run),
        Command::Rules {
            backend,
            family,
            mode,
            taps,
            tap_set,
            queue_bypass,
            guard,
            guard_spoof,
            ratelimit,
            no_queue,
        } => {
            let o = nfdhcpd::ops::rules::Options {
                modes: match mode {
                    RulesMode::Routed => vec![TapMode::Routed],
                    RulesMode::Bridged => vec![TapMode::Bridged],
                    RulesMode::Both => vec![TapMode::Routed, TapMode::Bridged],
                },
                taps: taps.unwrap_or_else(|| match backend {
                    RulesBackend::Iptables => "tap+".into(),
                    RulesBackend::Nft => "tap*".into(),
                }),
                tap_set,
                bypass: queue_bypass,
                queue: !no_queue,
                guard,
                guard_spoof,
                ratelimit,
            };
            rules(&cli.config, backend, family, &o)
        }
        Command::Generate { what } => generate(what),
        Command::Replay(args) => nfdhcpd::ops::replay::cli(&cli.config, &args),
    }
}

fn load_or_report(path: &std::path::Path) -> Option<config::Loaded> {
    match config::load(path) {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn gc(
    path: &std::path::Path,
    datapath: Option<PathBuf>,
    keep: Option<Vec<String>>,
    dry_run: bool,
) -> ExitCode {
    use std::collections::BTreeSet;
    let Some(loaded) = load_or_report(path) else {
        return ExitCode::FAILURE;
    };
    let dir = datapath.unwrap_or(loaded.config.general.datapath);
    let files = match nfdhcpd::binding::watch::list_dir(&dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    // Never guess: without the link list, remove nothing.
    let links = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| Ok(rt.block_on(nfdhcpd::link::dump_links())?));
    let links: BTreeSet<String> = match links {
        Ok(l) => l.into_iter().map(|(n, _)| n).collect(),
        Err(e) => {
            eprintln!("error: cannot list the interfaces: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let keep: Option<BTreeSet<String>> = keep.map(|k| k.into_iter().collect());
    let mut failed = false;
    for s in nfdhcpd::ops::gc::plan(&dir, &files, &links, keep.as_ref()) {
        if dry_run {
            println!("would remove {} ({})", s.path.display(), s.reason.as_str());
            continue;
        }
        match std::fs::remove_file(&s.path) {
            Ok(()) => println!("removed {} ({})", s.path.display(), s.reason.as_str()),
            Err(e) => {
                eprintln!("error: removing {}: {e}", s.path.display());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn rules(
    path: &std::path::Path,
    backend: RulesBackend,
    family: Option<RulesFamily>,
    o: &nfdhcpd::ops::rules::Options,
) -> ExitCode {
    use nfdhcpd::ops::rules::{nft, parse_pattern, render, Family};
    let usage = |msg: &str| {
        eprintln!("error: {msg}");
        ExitCode::from(2)
    };
    if let Err(e) = parse_pattern(&o.taps) {
        return usage(&e.to_string());
    }
    if backend == RulesBackend::Iptables {
        for (set, opt) in [
            (o.tap_set, "--tap-set"),
            (o.guard_spoof, "--guard-spoof"),
            (
                o.ratelimit,
                "--ratelimit (see iptables/ratelimit-tap*.rules)",
            ),
        ] {
            if set {
                return usage(&format!("{opt} needs --backend nft"));
            }
        }
    } else if family.is_some() {
        return usage("--family is for iptables: the nft ruleset covers both families");
    }
    let Some(loaded) = load_or_report(path) else {
        return ExitCode::FAILURE;
    };
    let c = &loaded.config;
    match (backend, family) {
        (RulesBackend::Nft, _) => print!("{}", nft::render(c, o)),
        (RulesBackend::Iptables, Some(RulesFamily::Ipv4)) => {
            print!("{}", render(c, Family::Ipv4, o))
        }
        (RulesBackend::Iptables, Some(RulesFamily::Ipv6)) => {
            print!("{}", render(c, Family::Ipv6, o))
        }
        (RulesBackend::Iptables, None) => {
            println!("# IPv4: iptables-restore --noflush");
            print!("{}", render(c, Family::Ipv4, o));
            println!("# IPv6: ip6tables-restore --noflush");
            print!("{}", render(c, Family::Ipv6, o));
        }
    }
    ExitCode::SUCCESS
}

fn generate(what: Generate) -> ExitCode {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout();
    let res = match what {
        Generate::Man { dir: None } => clap_mangen::Man::new(cmd).render(&mut out),
        Generate::Man { dir: Some(d) } => clap_mangen::generate_to(cmd, d),
        Generate::Completions { shell } => {
            clap_complete::generate(shell, &mut cmd, "nfdhcpd", &mut out);
            Ok(())
        }
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: &std::path::Path, datapath: Option<PathBuf>) -> ExitCode {
    let loaded = match config::load(path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("config {}: ok", path.display());
    println!(
        "queues: up to {} message(s) per receive (recv_batch), spin {} (queue_spin_us), nap {} (queue_nap_us)",
        loaded.config.general.recv_batch,
        match loaded.config.general.queue_spin_us {
            0 => "off".to_string(),
            us => format!("up to {us} µs"),
        },
        match loaded.config.general.queue_nap_us {
            0 => "off".to_string(),
            us => format!("{us} µs while busy"),
        }
    );
    for w in &loaded.warnings {
        println!("warning: {}: {w}", path.display());
    }
    let dir = datapath.unwrap_or_else(|| loaded.config.general.datapath.clone());
    let links = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()
        .and_then(|rt| rt.block_on(nfdhcpd::link::dump_links()).ok())
        .map(|l| l.into_iter().collect());
    let report = nfdhcpd::ops::check::check_dir(&loaded.config, &dir, links.as_ref());
    print!("{}", report.text);
    for w in &report.warnings {
        println!("warning: {w}");
    }
    for p in &report.problems {
        println!("error: {p}");
    }
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The control socket: `socket` if given, else the config's (else the default).
fn control_socket(path: &std::path::Path, socket: Option<PathBuf>) -> PathBuf {
    socket.unwrap_or_else(|| match config::load(path) {
        Ok(l) => l.config.general.control_socket,
        Err(_) => config::Config::default().general.control_socket,
    })
}

fn trace(
    path: &std::path::Path,
    socket: Option<PathBuf>,
    taps: Vec<String>,
    protocols: &[TraceProtocol],
    json: bool,
    count: Option<u64>,
    max_rate: Option<u32>,
) -> ExitCode {
    use nfdhcpd::observe::trace::{follow, FollowError, Request};
    let socket = control_socket(path, socket);
    let req = Request {
        taps,
        protocols: protocols
            .iter()
            .map(|p| {
                p.to_possible_value()
                    .expect("no variant is skipped")
                    .get_name()
                    .to_string()
            })
            .collect(),
        max_rate,
    };
    match follow(&socket, &req, json, count, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(FollowError::Connect(e)) => {
            eprintln!(
                "nfdhcpd is not running (control socket {}: {e})",
                socket.display()
            );
            ExitCode::from(3)
        }
        // The reader went away (trace | head): not an error.
        Err(FollowError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn status(path: &std::path::Path, socket: Option<PathBuf>, json: bool) -> ExitCode {
    let socket = control_socket(path, socket);
    let st = match nfdhcpd::observe::control::query(&socket) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "nfdhcpd is not running (control socket {}: {e})",
                socket.display()
            );
            return ExitCode::from(3);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&st).expect("status serializes")
        );
    } else {
        println!(
            "nfdhcpd {} (pid {}): {}",
            st.version,
            st.pid,
            if st.ready { "ready" } else { "NOT ready" }
        );
        if st.shadow {
            println!("SHADOW MODE: nothing is sent and every packet is ACCEPTed (decisions are only logged, counted and traced)");
        }
        if st.tracers > 0 {
            println!("tracers attached: {}", st.tracers);
        }
        let l = &st.links;
        println!(
            "links: {} ({} resyncs, {} overruns, {} errors{})",
            if l.following {
                "followed"
            } else {
                "NOT followed: taps appearing or vanishing are not seen"
            },
            l.resyncs,
            l.overruns,
            l.errors,
            l.last_error
                .as_ref()
                .map(|e| format!("; last: {e}"))
                .unwrap_or_default()
        );
        for q in &st.queues {
            println!(
                "queue {:>5} {:<7} {}",
                q.queue,
                q.protocol,
                if q.bound { "bound" } else { "NOT bound" }
            );
        }
        println!(
            "{:<15} {:<14} {:<8} {:<17} {:<15} {:<39} HOSTNAME",
            "TAP", "STATE", "IFINDEX", "MAC", "IPV4", "IPV6"
        );
        for b in &st.bindings {
            let d = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            println!(
                "{:<15} {:<14} {:<8} {:<17} {:<15} {:<39} {}",
                b.tap,
                b.state,
                b.ifindex.map_or("-".into(), |i| i.to_string()),
                d(&b.mac),
                d(&b.ip),
                d(&b.ip6),
                d(&b.hostname)
            );
            if !b.prefix6_delegated.is_empty() {
                println!("    delegated: {}", b.prefix6_delegated.join(", "));
            }
            if !b.options.is_empty() {
                println!("    options: {}", b.options.join(", "));
            }
            if !b.boot.is_empty() {
                println!("    boot: {}", b.boot.join(", "));
            }
            if let Some(e) = &b.error {
                println!("    error: {e}");
            }
            let now_ms = nfdhcpd::datapath::lastseen::unix_ms_now();
            for seen in &b.last_seen {
                println!(
                    "    {}",
                    nfdhcpd::datapath::lastseen::describe(seen, now_ms)
                );
            }
        }
        for (k, v) in &st.counters {
            println!("{k} {v}");
        }
    }
    if st.ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn explain(
    path: &std::path::Path,
    tap: &str,
    protocol: ExplainProtocol,
    json: bool,
    offline: bool,
    datapath: Option<PathBuf>,
    socket: Option<PathBuf>,
) -> ExitCode {
    use nfdhcpd::ops::explain::{self, Which};
    let which: Vec<Which> = match protocol {
        ExplainProtocol::Dhcpv4 => vec![Which::Dhcpv4],
        ExplainProtocol::Ra => vec![Which::Ra],
        ExplainProtocol::Dhcpv6 => vec![Which::Dhcpv6],
        ExplainProtocol::All => Which::ALL.to_vec(),
    };
    let loaded = config::load(path);
    let mut fallback = None;
    let live = if offline || datapath.is_some() {
        None
    } else {
        let socket = socket.unwrap_or_else(|| match &loaded {
            Ok(l) => l.config.general.control_socket.clone(),
            Err(_) => config::Config::default().general.control_socket,
        });
        let names: Vec<_> = which.iter().map(|w| w.as_str()).collect();
        let line = format!("explain {tap} {}", names.join(" "));
        match nfdhcpd::observe::control::query_verb::<explain::Explanation>(&socket, &line) {
            Ok(x) => Some(x),
            Err(e) => {
                fallback = Some(format!(
                    "no daemon answers on {} ({e}): explained from the files",
                    socket.display()
                ));
                None
            }
        }
    };
    let x = match live {
        Some(x) => x,
        None => {
            let loaded = match loaded {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let dir = datapath.unwrap_or_else(|| loaded.config.general.datapath.clone());
            let links = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .and_then(|rt| rt.block_on(nfdhcpd::link::dump_links()).ok())
                .map(|l| l.into_iter().collect())
                .unwrap_or_default();
            let mut config = loaded.config;
            config.general.datapath = dir.clone();
            let snap = explain::offline_snapshot(&config, &dir, tap, &links);
            let mut x = explain::explain(&config, &snap, tap, &which, explain::Queues::Offline);
            x.notes.extend(fallback);
            x
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&x).expect("an explanation serializes")
        );
    } else {
        print!("{}", explain::render(&x));
    }
    if x.protocols.iter().all(|r| r.nothing.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
