//! The `nfdhcpd` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use nfdhcpd::config::{self, DEFAULT_CONFIG_PATH};

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
    #[command(subcommand)]
    command: Option<Command>,
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
    /// Ask the running daemon for its status. Exit 0 ready, 1 not ready, 3 not running.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Control socket (default: the config's control_socket).
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Replay a pcap/pcapng capture through the responder as if queued from
    /// one tap; print one line per frame. Exit 1 only for unreadable input.
    Replay(nfdhcpd::replay::Args),
}

fn init_logging(debug: bool, format: LogFormat) {
    let level = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NFDHCPD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
            match nfdhcpd::daemon::run(cli.config) {
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
        Command::Replay(args) => nfdhcpd::replay::cli(&cli.config, &args),
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
    let report = nfdhcpd::check::check_dir(&loaded.config, &dir, links.as_ref());
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

fn status(path: &std::path::Path, socket: Option<PathBuf>, json: bool) -> ExitCode {
    let socket = socket.unwrap_or_else(|| match config::load(path) {
        Ok(l) => l.config.general.control_socket,
        Err(_) => config::Config::default().general.control_socket,
    });
    let st = match nfdhcpd::control::query(&socket) {
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
            if let Some(e) = &b.error {
                println!("    error: {e}");
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
