//! Daemon configuration: the original nfdhcpd's INI file (read unchanged)
//! and a TOML form of the same settings (the modern primary).
//!
//! Two stages, as everywhere in this crate: the text is read into a raw,
//! serde-shaped [`raw::RawConfig`], then validated into [`Config`], whose
//! values are all known good. Errors name the file, line, key and value.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use crate::domain::Protocol;
use crate::value::boot::{Boot, BootError};
use crate::value::pref64::{Pref64, Pref64Error};

/// Rate and burst of one per-tap, per-protocol token bucket (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Sustained packets per second (0: unlimited).
    pub rate: u32,
    /// Packets allowed at once.
    pub burst: u32,
}

impl Limit {
    /// Generous for a booting guest (DHCP retries, RS, DAD, neighbour
    /// resolution of a few addresses), tight enough to cut a flood.
    pub const DEFAULT: Limit = Limit {
        rate: 20,
        burst: 60,
    };
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[general]`
    pub general: General,
    /// `[dhcp]`
    pub dhcp: Dhcp,
    /// `[ipv6]`
    pub ipv6: Ipv6,
    /// `[limits]`: per-tap, per-protocol packet rate limit.
    pub limits: Limit,
    /// `[metrics]`
    pub metrics: MetricsSettings,
    /// `[options]`: DHCPv4 and DHCPv6 options every binding gets unless
    /// it gives the same code (`OPTION_<code>`, `OPTION6_<code>`).
    pub options: options::Customs,
}

/// `[metrics]`: the optional Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Address the `/metrics` HTTP endpoint listens on; `None` (the default) = off.
    pub listen: Option<std::net::SocketAddr>,
    /// Per-tap series (last request, reply and drop times, rate-limited
    /// packets): one series per VM and protocol, so off by default.
    pub per_tap: bool,
}

/// `[general]`: paths and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    /// Where the pid file is written.
    pub pidfile: Option<PathBuf>,
    /// The binding directory: one file per tap.
    pub datapath: PathBuf,
    /// Log directory of the original (accepted; logs go to stderr/journal).
    pub logdir: Option<PathBuf>,
    /// The unprivileged user to run as after setup.
    pub user: Option<String>,
    /// The control (status) socket.
    pub control_socket: PathBuf,
    /// Kernel queue length (packets waiting for a verdict) of every queue.
    pub queue_max_len: u32,
    /// When a queue is full, let packets through (fail-open) instead of dropping them.
    pub fail_open: bool,
    /// Queue messages a worker receives at most per system call
    /// (1..=[`RECV_BATCH_MAX`]; 1 is one recv(2) per packet).
    pub recv_batch: usize,
    /// Longest spin, in µs, of a worker that has drained its queue before
    /// it sleeps, while packets arrive closer together than that (0: never
    /// spin). See [`crate::datapath::spin`].
    pub queue_spin_us: u32,
    /// Length, in µs, of a busy worker's nap on a timer between receives
    /// instead of a sleep on its socket, while packets come at least two
    /// to a nap (0: never nap). See [`crate::datapath::spin::Nap`].
    pub queue_nap_us: u32,
    /// Shadow mode: decide, log, count and trace as usual, but send
    /// nothing and give every packet ACCEPT (to run beside another server
    /// and compare before switching).
    pub shadow: bool,
}

/// A run of consecutive netfilter queue numbers (`--queue-balance a:b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueRange {
    /// First queue number.
    pub first: u16,
    /// Last queue number (inclusive; equal to `first` for a single queue).
    pub last: u16,
}

impl QueueRange {
    /// One queue.
    pub fn single(n: u16) -> Self {
        QueueRange { first: n, last: n }
    }
    /// Every queue number in the range.
    pub fn iter(&self) -> impl Iterator<Item = u16> {
        self.first..=self.last
    }
    /// True when the two ranges share a queue number.
    pub fn overlaps(&self, o: &QueueRange) -> bool {
        self.first <= o.last && o.first <= self.last
    }
}

impl std::fmt::Display for QueueRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}:{}", self.first, self.last)
        }
    }
}

/// `[dhcp]`: the DHCPv4 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp {
    /// Serve DHCPv4 at all.
    pub enabled: bool,
    /// Queue(s) the DHCPv4 rules send to.
    pub queue: Option<QueueRange>,
    /// Lease time, seconds (option 51).
    pub lease_lifetime: u32,
    /// Renewal time T1, seconds (option 58); T2 (option 59) is 7/8 of the lease.
    pub lease_renewal: u32,
    /// Server identifier and source address of replies.
    pub server_ip: Option<Ipv4Addr>,
    /// Use the binding's GATEWAY (else the subnet's first address) as server address.
    pub server_on_link: bool,
    /// DNS servers (option 6).
    pub nameservers: Vec<Ipv4Addr>,
    /// Domain name (option 15); when unset, the domain part of the binding's HOSTNAME.
    pub domain: Option<String>,
    /// NTP servers (option 42, RFC 2132 §8.3); a binding's `NTP` overrides them.
    pub ntp: Vec<Ipv4Addr>,
    /// Network boot defaults (`next_server`, `tftp_server`, `bootfile*`);
    /// each of a binding's boot keys overrides its own.
    pub boot: Option<Box<Boot>>,
    /// V6ONLY_WAIT of option 108 (RFC 8925), seconds; 0: off. A binding's
    /// `V6ONLY_WAIT` overrides it.
    pub v6only_wait: u32,
}

/// How guests configure IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Mode {
    /// SLAAC only: RAs with no M/O flags.
    Slaac,
    /// SLAAC plus stateless DHCPv6 for DNS (O flag).
    SlaacDhcpv6,
    /// Stateful DHCPv6 (M and O flags).
    Dhcpv6,
}

impl Ipv6Mode {
    /// The name used in the config file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Ipv6Mode::Slaac => "slaac",
            Ipv6Mode::SlaacDhcpv6 => "slaac+dhcpv6",
            Ipv6Mode::Dhcpv6 => "dhcpv6",
        }
    }
}

pub use crate::domain::RouterPreference;

/// `[ipv6]`: RAs, NAs and DHCPv6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6 {
    /// Serve IPv6 at all.
    pub enabled: bool,
    /// The mode in force (`auto` already resolved from the queues set).
    pub mode: Ipv6Mode,
    /// Seconds between unsolicited RAs (jittered).
    pub ra_period: u32,
    /// Queue(s) for Router Solicitations.
    pub rs_queue: Option<QueueRange>,
    /// Queue(s) for Neighbour Solicitations.
    pub ns_queue: Option<QueueRange>,
    /// Queue(s) for DHCPv6.
    pub dhcpv6_queue: Option<QueueRange>,
    /// DNS servers (RDNSS, DHCPv6 option 23); a binding's `NAMESERVERS6`
    /// overrides them.
    pub nameservers: Vec<Ipv6Addr>,
    /// Search domains (DNSSL, DHCPv6 option 24, DHCPv4 option 119); a
    /// binding's `DOMAINS` overrides them in RAs and DHCPv6.
    pub domains: Vec<String>,
    /// RA router lifetime, seconds (RFC 4861 §6.2.1: at most 9000).
    pub router_lifetime: u16,
    /// RA default router preference.
    pub router_preference: RouterPreference,
    /// Prefix valid lifetime, seconds (finite).
    pub prefix_valid_lifetime: u32,
    /// Prefix preferred lifetime, seconds (finite, ≤ valid).
    pub prefix_preferred_lifetime: u32,
    /// DHCPv6 IA_NA and IA_PD preferred lifetime, seconds.
    pub dhcpv6_preferred_lifetime: u32,
    /// DHCPv6 IA_NA and IA_PD valid lifetime, seconds.
    pub dhcpv6_valid_lifetime: u32,
    /// NAT64 prefix of the PREF64 option (RFC 8781) in RAs; a binding's
    /// `PREF64` overrides it.
    pub pref64: Option<Pref64>,
    /// Lifetime of the Route Information options (RFC 4191 §2.3) of a
    /// binding's `ROUTES6`, seconds (finite); `None`: as PREF64's.
    pub route_lifetime: Option<u32>,
    /// NTP servers (DHCPv6 option 56, RFC 5908); a binding's `NTP6`
    /// overrides them.
    pub ntp: Vec<Ipv6Addr>,
    /// Boot file URL (DHCPv6 option 59, RFC 5970); a binding's
    /// `BOOTFILE6` overrides it.
    pub bootfile6: Option<String>,
}

/// The most queue messages one recvmmsg(2) takes (`[general] recv_batch`):
/// [`crate::datapath::verdict::VERDICT_RUN_MAX`], the longest run of
/// verdicts. Each message has a buffer of its own, sized for a whole copied
/// packet, allocated once per worker (only the pages the kernel writes are
/// ever resident); beyond this the system call is already a small part of
/// a packet's cost.
pub const RECV_BATCH_MAX: usize = 64;

/// The default `recv_batch`: [`crate::datapath::send::REPLY_BATCH_MAX`],
/// so the replies to one receive's requests go out in one sendmmsg(2), and
/// half a verdict run, so a busy queue still sends runs at full length.
/// Replies and verdicts still go out whenever the queue is drained (a
/// short batch is a drained queue), so an idle queue holds nothing back.
pub const RECV_BATCH_DEFAULT: usize = 32;

/// The longest `queue_spin_us` accepted: a millisecond of a core per
/// idle gap is already more than any wakeup saves.
pub const QUEUE_SPIN_MAX_US: u32 = 1000;

/// The default `queue_spin_us`.
pub const QUEUE_SPIN_DEFAULT_US: u32 = 0;

/// The longest `queue_nap_us` accepted: what a reply may wait at most
/// for its nap to end.
pub const QUEUE_NAP_MAX_US: u32 = 1000;

/// The default `queue_nap_us`.
pub const QUEUE_NAP_DEFAULT_US: u32 = 250;

/// Default config path, as the original.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/nfdhcpd/nfdhcpd.conf";

impl Default for Config {
    /// The defaults of every key (the original's where it had one).
    fn default() -> Self {
        Config {
            general: General {
                pidfile: None,
                datapath: PathBuf::from("/var/lib/nfdhcpd"),
                logdir: None,
                user: None,
                control_socket: PathBuf::from("/run/nfdhcpd/control.sock"),
                queue_max_len: 4096,
                fail_open: false,
                recv_batch: RECV_BATCH_DEFAULT,
                queue_spin_us: QUEUE_SPIN_DEFAULT_US,
                queue_nap_us: QUEUE_NAP_DEFAULT_US,
                shadow: false,
            },
            dhcp: Dhcp {
                enabled: true,
                queue: None,
                lease_lifetime: 604_800,
                lease_renewal: 3_600,
                server_ip: None,
                server_on_link: false,
                nameservers: Vec::new(),
                domain: None,
                ntp: Vec::new(),
                boot: None,
                v6only_wait: 0,
            },
            ipv6: Ipv6 {
                enabled: true,
                mode: Ipv6Mode::SlaacDhcpv6,
                ra_period: 300,
                rs_queue: None,
                ns_queue: None,
                dhcpv6_queue: None,
                nameservers: Vec::new(),
                domains: Vec::new(),
                router_lifetime: 1800,
                router_preference: RouterPreference::Medium,
                prefix_valid_lifetime: 2_592_000,
                prefix_preferred_lifetime: 604_800,
                dhcpv6_preferred_lifetime: 604_800,
                dhcpv6_valid_lifetime: 2_592_000,
                pref64: None,
                route_lifetime: None,
                ntp: Vec::new(),
                bootfile6: None,
            },
            limits: Limit::DEFAULT,
            metrics: MetricsSettings::default(),
            options: options::Customs::default(),
        }
    }
}

// The raw options by their earlier path (`config::options`).
pub use crate::value::options;
pub mod raw;
mod validate;

pub use validate::MAX_ROUTER_LIFETIME;

/// Why a value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Not yes/no/true/false.
    #[error("not a boolean (yes/no/true/false)")]
    NotBool,
    /// Not an integer.
    #[error("not an integer")]
    NotInteger,
    /// Outside the allowed range.
    #[error("out of range {min}..={max}")]
    OutOfRange {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// Not an IPv4 address.
    #[error("not an IPv4 address")]
    NotIpv4,
    /// Not an IPv6 address.
    #[error("not an IPv6 address")]
    NotIpv6,
    /// Not a queue number 0..=65535 or a range `first:last`.
    #[error("not a queue number 0..=65535 or a range first:last")]
    BadQueue,
    /// Two protocols on one queue.
    #[error("queue already used by {0}")]
    QueueShared(String),
    /// Unknown IPv6 mode.
    #[error("not one of auto, slaac, slaac+dhcpv6, dhcpv6")]
    BadMode,
    /// `auto` found no mode whose queues are all set.
    #[error("no IPv6 mode fits the queues set (set rs_queue and ns_queue, and/or dhcpv6_queue)")]
    NoModeFits,
    /// The mode needs queues that are not set.
    #[error("this mode needs {0}, which is not set")]
    QueuesMissing(String),
    /// Unknown router preference.
    #[error("not one of low, medium, high")]
    BadPreference,
    /// A required key is missing.
    #[error("required when {0}")]
    Required(&'static str),
    /// lease_renewal must be below lease_lifetime.
    #[error("must be below lease_lifetime ({0})")]
    RenewalNotBelowLease(u32),
    /// Preferred lifetime above valid lifetime.
    #[error("preferred lifetime above valid lifetime")]
    PreferredAboveValid,
    /// Infinite lifetimes are refused.
    #[error("infinite lifetime (0xffffffff) refused: keep lifetimes finite")]
    Infinite,
    /// Not `address:port`.
    #[error("not an address:port (e.g. 127.0.0.1:9108 or [::1]:9108)")]
    NotSocketAddr,
    /// Not a valid DNS name.
    #[error("not a valid domain name: {0}")]
    BadDomain(String),
    /// Not a NAT64 prefix an RA can carry.
    #[error(transparent)]
    BadPref64(Pref64Error),
    /// Not a V6ONLY_WAIT option 108 can carry.
    #[error(transparent)]
    BadV6OnlyWait(crate::value::v6only::V6OnlyError),
    /// Multicast, loopback or `::` where a server's address is needed.
    #[error("not a unicast address")]
    NotUnicast,
    /// An `[options]` key or value that cannot be sent.
    #[error(transparent)]
    BadOption(options::OptionError),
    /// A network boot default that cannot be given.
    #[error(transparent)]
    BadBoot(BootError),
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file's structure is wrong.
    #[error("{file}: {source}")]
    Syntax {
        /// The file.
        file: String,
        /// The cause.
        source: raw::SyntaxError,
    },
    /// A value is wrong.
    #[error("{0}")]
    Invalid(Box<BadValue>),
}

/// A key whose value is wrong, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: [{section}] {key} = {value:?}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct BadValue {
    /// The file.
    pub file: String,
    /// 1-based line of the key, when it was written.
    pub line: Option<usize>,
    /// Section.
    pub section: String,
    /// Key.
    pub key: String,
    /// Value as written ("" when missing).
    pub value: String,
    /// Why.
    pub reason: Invalid,
}

/// The two forms of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The original's INI (configobj) form.
    Ini,
    /// TOML.
    Toml,
}

impl Format {
    /// `.toml` files are TOML; anything else is the original's INI form.
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Format::Toml,
            _ => Format::Ini,
        }
    }
}

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

/// A loaded configuration and the warnings about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Things worth a warning (deprecated or unknown keys, …).
    pub warnings: Vec<String>,
}

/// Parses config text; `file` names it in errors.
pub fn parse(text: &str, format: Format, file: &str) -> Result<Loaded, ConfigError> {
    let syntax = |source| ConfigError::Syntax {
        file: file.to_string(),
        source,
    };
    let (raw, mut warnings) = match format {
        Format::Ini => raw::read_ini(text).map_err(syntax)?,
        Format::Toml => (raw::read_toml(text).map_err(syntax)?, Vec::new()),
    };
    let lines = raw::Lines::scan(text);
    let mut checker = validate::Checker {
        file,
        lines: &lines,
        warnings: Vec::new(),
    };
    let config = validate::validate(&raw, &mut checker)?;
    warnings.extend(checker.warnings);
    Ok(Loaded { config, warnings })
}

/// Reads and parses the config file at `path` (format from its extension).
pub fn load(path: &std::path::Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, Format::of_path(path), &file)
}

#[cfg(test)]
mod tests;
