//! Bindings: what one tap's VM is to be told (addresses, routes, name).
//!
//! `file` parses and validates the original's `KEY=VALUE` files, `table`
//! holds the published snapshot the queue workers read.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use crate::mac::MacAddr;
use crate::value::boot::Boot;
use crate::value::pref64::Pref64;
use file::routes::Routes;
use file::routes6::Route6;

/// A validated binding: the configuration of the VM behind one tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Tap name (the file name).
    pub tap: String,
    /// Interface whose MAC and link-local the replies come from: the tap
    /// itself (routed) or its bridge (bridged). `INDEV`, default the tap.
    pub indev: String,
    /// The VM's MAC (`MAC`).
    pub mac: MacAddr,
    /// IPv4 address (`IP`).
    pub ip: Option<Ipv4Addr>,
    /// IPv4 subnet (`SUBNET`).
    pub subnet: Option<Ipv4Net>,
    /// IPv4 default gateway (`GATEWAY`).
    pub gateway: Option<Ipv4Addr>,
    /// Host name (`HOSTNAME`), RFC 1123.
    pub hostname: Option<String>,
    /// IPv6 prefix (`SUBNET6`).
    pub subnet6: Option<Ipv6Net>,
    /// IPv6 gateway (`GATEWAY6`).
    pub gateway6: Option<Ipv6Addr>,
    /// The VM's SLAAC address (`EUI64`).
    pub eui64: Option<Ipv6Addr>,
    /// Stateful DHCPv6 address (`IP6`); defaults to EUI64 when unset.
    pub ip6: Option<Ipv6Addr>,
    /// Prefixes delegated to the VM by DHCPv6 IA_PD (`PREFIX6_DELEGATED`);
    /// routed to the VM by the host, not by nfdhcpd.
    pub prefix6_delegated: Vec<Ipv6Net>,
    /// The NAT64 prefix of its RAs (`PREF64`): `None` the config's,
    /// `Some(None)` none (`PREF64=none`).
    pub pref64: Option<Option<Pref64>>,
    /// Routes announced in its RAs (`ROUTES6`), most important first.
    pub routes6: Vec<Route6>,
    /// Extra IPv4 routes of its DHCPv4 option 121 (`ROUTES`), in order.
    pub routes: Routes,
    /// Its option 108 V6ONLY_WAIT (`V6ONLY_WAIT`, RFC 8925), seconds,
    /// instead of the config's; `Some(0)`: off.
    pub v6only_wait: Option<u32>,
    /// Its DNS servers (`NAMESERVERS6`), instead of the config's; `Some`
    /// empty: none.
    pub nameservers6: Option<Vec<Ipv6Addr>>,
    /// Its search list (`DOMAINS`), instead of the config's; `Some`
    /// empty: none.
    pub domains: Option<Vec<String>>,
    /// Its NTP servers (`NTP6`), instead of the config's; `Some` empty: none.
    pub ntp6: Option<Vec<Ipv6Addr>>,
    /// Its IPv4 DNS servers (`NAMESERVERS`, DHCPv4 option 6), instead of
    /// the config's; `Some` empty: none.
    pub nameservers: Option<Vec<Ipv4Addr>>,
    /// Its IPv4 NTP servers (`NTP`, DHCPv4 option 42), instead of the
    /// config's; `Some` empty: none.
    pub ntp: Option<Vec<Ipv4Addr>>,
    /// Its DHCPv4 and DHCPv6 options (`OPTION_<code>`, `OPTION6_<code>`),
    /// before the config's `[options]`.
    pub options: crate::value::options::Customs,
    /// Network boot parameters (`NEXT_SERVER`, `TFTP_SERVER`,
    /// `BOOTFILE*`); None without any (boxed: most bindings have none).
    pub boot: Option<Box<Boot>>,
    /// Link MTU (`MTU`).
    pub mtu: Option<u16>,
    /// Accept requests whose MAC differs from `mac` (`MACSPOOF`).
    pub macspoof: bool,
    /// No default router is announced (`PRIVATE`).
    pub private: bool,
    /// Free-form tags (`TAGS`).
    pub tags: Vec<String>,
}

impl Binding {
    /// A minimal binding for `tap` with `mac`, all else unset (tests, builders).
    pub fn new(tap: &str, mac: MacAddr) -> Binding {
        Binding {
            tap: tap.to_string(),
            indev: tap.to_string(),
            mac,
            ip: None,
            subnet: None,
            gateway: None,
            hostname: None,
            subnet6: None,
            gateway6: None,
            eui64: None,
            ip6: None,
            prefix6_delegated: Vec::new(),
            pref64: None,
            routes6: Vec::new(),
            routes: Routes::default(),
            v6only_wait: None,
            nameservers6: None,
            domains: None,
            ntp6: None,
            nameservers: None,
            ntp: None,
            options: Default::default(),
            boot: None,
            mtu: None,
            macspoof: false,
            private: false,
            tags: Vec::new(),
        }
    }

    /// The address a stateful DHCPv6 client is given: `IP6`, else `EUI64`.
    pub fn dhcpv6_address(&self) -> Option<Ipv6Addr> {
        self.ip6.or(self.eui64)
    }

    /// The NAT64 prefix announced to the VM: its own `PREF64`, else the
    /// config's `config_default`.
    pub fn pref64(&self, config_default: Option<Pref64>) -> Option<Pref64> {
        self.pref64.unwrap_or(config_default)
    }

    /// The VM's IPv6 DNS servers: its `NAMESERVERS6`, else the config's.
    pub fn nameservers6<'a>(&'a self, config: &'a [Ipv6Addr]) -> &'a [Ipv6Addr] {
        self.nameservers6.as_deref().unwrap_or(config)
    }

    /// The VM's search list: its `DOMAINS`, else the config's.
    pub fn domains<'a>(&'a self, config: &'a [String]) -> &'a [String] {
        self.domains.as_deref().unwrap_or(config)
    }

    /// The VM's IPv4 DNS servers: its `NAMESERVERS`, else the config's.
    pub fn nameservers<'a>(&'a self, config: &'a [Ipv4Addr]) -> &'a [Ipv4Addr] {
        self.nameservers.as_deref().unwrap_or(config)
    }

    /// The VM's IPv4 NTP servers: its `NTP`, else the config's.
    pub fn ntp<'a>(&'a self, config: &'a [Ipv4Addr]) -> &'a [Ipv4Addr] {
        self.ntp.as_deref().unwrap_or(config)
    }

    /// The VM's IPv6 NTP servers: its `NTP6`, else the config's.
    pub fn ntp6<'a>(&'a self, config: &'a [Ipv6Addr]) -> &'a [Ipv6Addr] {
        self.ntp6.as_deref().unwrap_or(config)
    }

    /// The VM's option 108 V6ONLY_WAIT (RFC 8925): its `V6ONLY_WAIT`,
    /// else the config's `config`; None when off.
    pub fn v6only_wait(&self, config: u32) -> Option<u32> {
        Some(self.v6only_wait.unwrap_or(config)).filter(|&w| w != 0)
    }

    /// The IPv4 on-link server address: GATEWAY, else the subnet's first address.
    pub fn ipv4_on_link(&self) -> Option<Ipv4Addr> {
        self.gateway
            .or_else(|| self.subnet.and_then(|n| n.hosts().next()))
    }
}

pub mod file;
pub mod overlap;
pub mod store;
pub mod table;
pub mod watch;
