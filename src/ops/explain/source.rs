//! Where each value of an explained reply comes from: one table, keyed by
//! the field names the decoders give, for the three protocols.
//!
//! The rules mirror the reply builders (`proto/dhcpv4/options.rs`,
//! `proto/ra.rs`, `proto/dhcpv6.rs`): a binding key when the binding has
//! one, else the config key, reported as `default` while the config holds
//! the built-in value.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::request::BootClient;
use crate::binding::file::boot::{self, Boot};
use crate::binding::file::routes;
use crate::binding::Binding;
use crate::config::options::{self, Custom, Customs, Family};
use crate::config::Config;

/// What a value was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A key of the tap's binding file.
    Binding,
    /// A key of the config file, set to something other than its default.
    Config,
    /// A config key left at (or set to) its built-in default.
    Default,
    /// An interface: the MAC of the binding's INDEV.
    Link,
    /// The request itself (what the typical client asked for).
    Request,
}

/// When an option is sent, for those not sent to every client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sent {
    /// Only to a client that asks for it (DHCPv4 option 55, DHCPv6
    /// option 6).
    WhenAsked,
    /// To every client, asked or not (`always`).
    Always,
}

/// A value's origin and the key (or interface) that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// What kind of place.
    pub origin: Origin,
    /// The key: `GATEWAY`, `[dhcp] lease_lifetime`, `OPTION_224`,
    /// `[options] OPTION_224`, the INDEV name.
    pub key: String,
    /// When the option is sent, for the options not sent to every client
    /// (raw options; DHCPv4 42, 108, 121; DHCPv6 56, 59).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sent: Option<Sent>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.origin {
            Origin::Binding => write!(f, "binding {}", self.key)?,
            Origin::Config => write!(f, "config {}", self.key)?,
            Origin::Default => write!(f, "default {}", self.key)?,
            Origin::Link => write!(f, "link {} (INDEV)", self.key)?,
            Origin::Request => write!(f, "request {}", self.key)?,
        }
        match self.sent {
            Some(Sent::WhenAsked) => f.write_str(", when asked"),
            Some(Sent::Always) => f.write_str(", always"),
            None => Ok(()),
        }
    }
}

/// The table's inputs: the config in force, its defaults and the binding.
pub struct Sources<'a> {
    config: &'a Config,
    defaults: Config,
    binding: &'a Binding,
}

impl<'a> Sources<'a> {
    /// The sources of values given to `binding` under `config`.
    pub fn new(config: &'a Config, binding: &'a Binding) -> Sources<'a> {
        Sources {
            config,
            defaults: Config::default(),
            binding,
        }
    }

    /// Where the value of field `name` comes from (None: a protocol
    /// constant, e.g. the message type).
    pub fn of(&self, name: &str) -> Option<Source> {
        let (b, c, d) = (self.binding, self.config, &self.defaults);
        let (v4, v6, d4, d6) = (&c.dhcp, &c.ipv6, &d.dhcp, &d.ipv6);
        let s = match name {
            // DHCPv4 (options.rs `list`).
            "address" => bind("IP"),
            "subnet_mask" | "broadcast" => bind("SUBNET"),
            "router" => bind("GATEWAY"),
            // Options 121, 42 and DHCPv6 56 go only to a client that asks.
            "classless_routes" => asked(bind("GATEWAY")),
            "dns" => self.either(b.nameservers.is_some(), "NAMESERVERS", "[dhcp] nameservers"),
            "ntp" => asked(self.either(b.ntp.is_some(), "NTP", "[dhcp] ntp")),
            "hostname" => bind("HOSTNAME"),
            "mtu" => bind("MTU"),
            "domain" => self.domain_v4(),
            "search" if b.domains.is_some() => bind("DOMAINS"),
            "search" if !v6.domains.is_empty() => conf("[ipv6] domains", false),
            "search" => self.domain_v4(),
            "lease_time" | "rebinding_time" => conf(
                "[dhcp] lease_lifetime",
                v4.lease_lifetime == d4.lease_lifetime,
            ),
            "renewal_time" => conf(
                "[dhcp] lease_renewal",
                v4.lease_renewal == d4.lease_renewal && v4.lease_lifetime == d4.lease_lifetime,
            ),
            "server_id" if v4.server_on_link && b.ipv4_on_link().is_some() => {
                bind(if b.gateway.is_some() {
                    "GATEWAY"
                } else {
                    "SUBNET"
                })
            }
            "server_id" => conf("[dhcp] server_ip", false),
            // Router Advertisements (ra.rs `build_ra`).
            "managed" | "other" => conf("[ipv6] mode", v6.mode == d6.mode),
            "router_lifetime" if b.private => bind("PRIVATE"),
            "router_lifetime" => conf(
                "[ipv6] router_lifetime",
                v6.router_lifetime == d6.router_lifetime && v6.ra_period == d6.ra_period,
            ),
            "router_preference" => conf(
                "[ipv6] router_preference",
                v6.router_preference == d6.router_preference,
            ),
            "source_lla" | "server_duid" => Source {
                origin: Origin::Link,
                key: b.indev.clone(),
                sent: None,
            },
            "prefix" => bind("SUBNET6"),
            "prefix_valid_lifetime" => conf(
                "[ipv6] prefix_valid_lifetime",
                v6.prefix_valid_lifetime == d6.prefix_valid_lifetime,
            ),
            "prefix_preferred_lifetime" => conf(
                "[ipv6] prefix_preferred_lifetime",
                v6.prefix_preferred_lifetime == d6.prefix_preferred_lifetime,
            ),
            "rdnss" | "dns6" => self.either(
                b.nameservers6.is_some(),
                "NAMESERVERS6",
                "[ipv6] nameservers",
            ),
            "dnssl" | "domains6" => self.either(b.domains.is_some(), "DOMAINS", "[ipv6] domains"),
            "dns_lifetime" => conf("[ipv6] ra_period", v6.ra_period == d6.ra_period),
            "route" => bind("ROUTES6"),
            "route_lifetime" if v6.route_lifetime.is_some() => conf("[ipv6] route_lifetime", false),
            "route_lifetime" | "pref64_lifetime" => conf(
                "[ipv6] router_lifetime",
                v6.router_lifetime == d6.router_lifetime && v6.ra_period == d6.ra_period,
            ),
            "pref64" => self.either(b.pref64.is_some(), "PREF64", "[ipv6] pref64"),
            // DHCPv6 (dhcpv6.rs).
            "address6" if b.ip6.is_some() => bind("IP6"),
            "address6" => bind("EUI64"),
            "preferred_lifetime" | "t1" | "t2" => conf(
                "[ipv6] dhcpv6_preferred_lifetime",
                v6.dhcpv6_preferred_lifetime == d6.dhcpv6_preferred_lifetime,
            ),
            "valid_lifetime" => conf(
                "[ipv6] dhcpv6_valid_lifetime",
                v6.dhcpv6_valid_lifetime == d6.dhcpv6_valid_lifetime,
            ),
            "delegated_prefix" => bind("PREFIX6_DELEGATED"),
            "ntp6" => asked(self.either(b.ntp6.is_some(), "NTP6", "[ipv6] ntp")),
            "ia_na_status" => conf("[ipv6] mode", v6.mode == d6.mode),
            "bootfile_url" => asked(self.either(
                b.boot.as_ref().is_some_and(|x| x.file6.is_some()),
                boot::BOOTFILE6,
                "[ipv6] bootfile6",
            )),
            // Network boot (dhcpv4/boot.rs), option 121's extra routes and
            // option 108 (dhcpv4.rs).
            "next_server" => self.boot(&[boot::NEXT_SERVER])?,
            "server_name" | "tftp_server_name" => self.boot(&[boot::TFTP_SERVER])?,
            "boot_file" | "bootfile_name" => self.boot_file(None)?,
            "vendor_class" => Source {
                origin: Origin::Request,
                key: "option 60 (echoed)".into(),
                sent: None,
            },
            "routes" => asked(bind(routes::KEY)),
            "v6only_wait" => {
                asked(self.either(b.v6only_wait.is_some(), "V6ONLY_WAIT", "[dhcp] v6only_wait"))
            }
            raw => return self.raw(raw),
        };
        Some(s)
    }

    /// The boot file a client gets (`client`: a boot firmware; None: the
    /// typical client): the first of the keys dhcpv4/boot.rs `choose`
    /// would take that is set, each the binding's, else the config's.
    pub(super) fn boot_file(&self, client: Option<BootClient>) -> Option<Source> {
        use boot::{BOOTFILE, BOOTFILE_BIOS, BOOTFILE_EFI, BOOTFILE_HTTP, BOOTFILE_IPXE};
        self.boot(match client {
            None => &[BOOTFILE],
            Some(BootClient::BiosPxe) => &[BOOTFILE_BIOS, BOOTFILE],
            Some(BootClient::UefiPxe) => &[BOOTFILE_EFI, BOOTFILE],
            Some(BootClient::Ipxe) => &[BOOTFILE_IPXE, BOOTFILE_EFI, BOOTFILE],
            Some(BootClient::UefiHttp) => &[BOOTFILE_HTTP],
        })
    }

    /// The first of the boot `keys` set: the binding's, else the config's
    /// `[dhcp]` key of the same name.
    fn boot(&self, keys: &[&'static str]) -> Option<Source> {
        let has = |b: Option<&Boot>, key| b.is_some_and(|b| b.is_set(key));
        keys.iter().find_map(|&key| {
            if has(self.binding.boot.as_deref(), key) {
                Some(bind(key))
            } else if has(self.config.dhcp.boot.as_deref(), key) {
                Some(conf(&format!("[dhcp] {}", key.to_ascii_lowercase()), false))
            } else {
                None
            }
        })
    }

    /// A raw option (`option CODE`, `option6 CODE`): the binding's
    /// `OPTION_CODE`, else the config's `[options]` of that code
    /// (config/options.rs `effective`), and whether it is sent unasked.
    fn raw(&self, name: &str) -> Option<Source> {
        let (family, prefix, code) = if let Some(c) = name.strip_prefix("option6 ") {
            (Family::V6, options::PREFIX6, c)
        } else {
            (Family::V4, options::PREFIX4, name.strip_prefix("option ")?)
        };
        let code: u16 = code.parse().ok()?;
        let pick = |c: &'a Customs| -> &'a [Custom] {
            match family {
                Family::V4 => &c.v4,
                Family::V6 => &c.v6,
            }
        };
        let find = |list: &'a [Custom]| list.iter().find(|o| o.code == code);
        let key = format!("{prefix}{code}");
        let (mut source, custom) = match find(pick(&self.binding.options)) {
            Some(o) => (bind(&key), o),
            None => (
                conf(&format!("[options] {key}"), false),
                find(pick(&self.config.options))?,
            ),
        };
        source.sent = Some(if custom.always {
            Sent::Always
        } else {
            Sent::WhenAsked
        });
        Some(source)
    }

    /// The binding's key when it has one, else the config's.
    fn either(&self, in_binding: bool, key: &'static str, config_key: &'static str) -> Source {
        if in_binding {
            bind(key)
        } else {
            conf(config_key, false)
        }
    }

    /// DHCPv4 option 15: the config's `domain`, else the binding's HOSTNAME.
    fn domain_v4(&self) -> Source {
        match self.config.dhcp.domain.as_deref() {
            Some(d) if !d.is_empty() => conf("[dhcp] domain", false),
            _ => bind("HOSTNAME"),
        }
    }
}

/// Marks `s` as sent only to a client that asks.
fn asked(s: Source) -> Source {
    Source {
        sent: Some(Sent::WhenAsked),
        ..s
    }
}

/// A binding key.
fn bind(key: &str) -> Source {
    Source {
        origin: Origin::Binding,
        key: key.to_string(),
        sent: None,
    }
}

/// A config key, `default` when it holds the built-in value.
fn conf(key: &str, is_default: bool) -> Source {
    Source {
        origin: if is_default {
            Origin::Default
        } else {
            Origin::Config
        },
        key: key.to_string(),
        sent: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::MacAddr;

    #[test]
    fn binding_keys_win_over_config_keys_and_defaults_are_told_apart() {
        let mut c = Config::default();
        c.dhcp.lease_lifetime = 3600;
        c.dhcp.lease_renewal = 600;
        c.dhcp.nameservers = vec!["192.0.2.53".parse().unwrap()];
        let mut b = Binding::new("tap0", MacAddr([0xaa, 0, 0, 0, 0, 1]));
        b.ip = Some("192.0.2.10".parse().unwrap());
        b.hostname = Some("web.example.org".into());
        let s = Sources::new(&c, &b);
        let show = |n: &str| s.of(n).map(|s| s.to_string());
        assert_eq!(show("address").as_deref(), Some("binding IP"));
        assert_eq!(show("dns").as_deref(), Some("config [dhcp] nameservers"));
        assert_eq!(
            show("lease_time").as_deref(),
            Some("config [dhcp] lease_lifetime")
        );
        assert_eq!(
            show("valid_lifetime").as_deref(),
            Some("default [ipv6] dhcpv6_valid_lifetime")
        );
        // No [dhcp] domain: option 15 is the domain part of HOSTNAME.
        assert_eq!(show("domain").as_deref(), Some("binding HOSTNAME"));
        assert_eq!(show("address6").as_deref(), Some("binding EUI64"));
        assert_eq!(show("source_lla").as_deref(), Some("link tap0 (INDEV)"));
        assert_eq!(show("message_type"), None);
        b.nameservers = Some(vec![]);
        b.ip6 = Some("2001:db8::5".parse().unwrap());
        let s = Sources::new(&c, &b);
        assert_eq!(s.of("dns").unwrap().to_string(), "binding NAMESERVERS");
        assert_eq!(s.of("address6").unwrap().to_string(), "binding IP6");
    }
}
