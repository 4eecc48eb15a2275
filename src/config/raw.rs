//! The file as written: a serde struct mirroring both forms, and the
//! readers of each form (INI of the original, TOML).
//!
//! Values stay loosely typed here ([`Scalar`], [`List`]) so that the INI
//! form (all strings) and the TOML form (typed) meet in one struct, and so
//! that validation can name the key, its line and its value.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A single value: TOML gives it typed, INI as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `true`/`false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Text.
    Str(String),
}

impl Scalar {
    /// The value as written, for error messages.
    pub fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }
}

/// A list: a TOML array, or the original's comma-separated text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum List {
    /// `["a", "b"]`
    Items(Vec<String>),
    /// `a, b`
    Text(String),
}

impl List {
    /// The items, trimmed, empty ones dropped.
    pub fn items(&self) -> Vec<String> {
        match self {
            List::Items(v) => v
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            List::Text(t) => split_list(t),
        }
    }

    /// The value as written, for error messages.
    pub fn text(&self) -> String {
        match self {
            List::Items(v) => v.join(", "),
            List::Text(t) => t.clone(),
        }
    }
}

/// Splits the original's comma-separated list.
pub fn split_list(t: &str) -> Vec<String> {
    t.split(',')
        .map(|s| unquote(s.trim()).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `[general]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawGeneral {
    pub pidfile: Option<Scalar>,
    pub datapath: Option<Scalar>,
    pub logdir: Option<Scalar>,
    pub user: Option<Scalar>,
    pub control_socket: Option<Scalar>,
    pub queue_max_len: Option<Scalar>,
    pub fail_open: Option<Scalar>,
    pub shadow: Option<Scalar>,
    pub recv_batch: Option<Scalar>,
    pub queue_spin_us: Option<Scalar>,
    pub queue_nap_us: Option<Scalar>,
}

/// `[dhcp]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDhcp {
    pub enable_dhcp: Option<Scalar>,
    pub lease_lifetime: Option<Scalar>,
    pub lease_renewal: Option<Scalar>,
    pub server_ip: Option<Scalar>,
    pub server_on_link: Option<Scalar>,
    pub dhcp_queue: Option<Scalar>,
    pub nameservers: Option<List>,
    pub domain: Option<Scalar>,
    pub ntp: Option<List>,
    /// Network boot defaults, as the binding keys of the same names (new).
    pub next_server: Option<Scalar>,
    pub tftp_server: Option<Scalar>,
    pub bootfile: Option<Scalar>,
    pub bootfile_efi: Option<Scalar>,
    pub bootfile_bios: Option<Scalar>,
    pub bootfile_ipxe: Option<Scalar>,
    pub bootfile_http: Option<Scalar>,
    /// Option 108, IPv6-Only Preferred (RFC 8925; new).
    pub v6only_wait: Option<Scalar>,
}

/// `[ipv6]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawIpv6 {
    pub enable_ipv6: Option<Scalar>,
    /// Accepted from old files (the original's sample has it); unused.
    pub enable_dhcpv6: Option<Scalar>,
    pub mode: Option<Scalar>,
    pub ra_period: Option<Scalar>,
    pub rs_queue: Option<Scalar>,
    pub ns_queue: Option<Scalar>,
    /// Deprecated spelling of `dhcpv6_queue`.
    pub dhcp_queue: Option<Scalar>,
    pub dhcpv6_queue: Option<Scalar>,
    pub nameservers: Option<List>,
    pub domains: Option<List>,
    pub router_lifetime: Option<Scalar>,
    pub router_preference: Option<Scalar>,
    pub prefix_valid_lifetime: Option<Scalar>,
    pub prefix_preferred_lifetime: Option<Scalar>,
    pub dhcpv6_preferred_lifetime: Option<Scalar>,
    pub dhcpv6_valid_lifetime: Option<Scalar>,
    /// NAT64 prefix announced in RAs (RFC 8781; new).
    pub pref64: Option<Scalar>,
    /// Lifetime of the Route Information options of RAs (RFC 4191; new).
    pub route_lifetime: Option<Scalar>,
    /// NTP servers of DHCPv6 option 56 (RFC 5908; new).
    pub ntp: Option<List>,
    /// Boot file URL of DHCPv6 option 59 (RFC 5970; new).
    pub bootfile6: Option<Scalar>,
}

/// `[limits]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    /// Packets per second per tap and protocol (0: unlimited).
    pub rate: Option<Scalar>,
    /// Burst per tap and protocol.
    pub burst: Option<Scalar>,
}

/// `[metrics]` (new; in both forms)
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    pub listen: Option<Scalar>,
    pub per_tap: Option<Scalar>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub general: RawGeneral,
    pub dhcp: RawDhcp,
    pub ipv6: RawIpv6,
    pub limits: RawLimits,
    pub metrics: RawMetrics,
    /// `OPTION_<code>` / `OPTION6_<code>` defaults (new; in both forms).
    pub options: BTreeMap<String, Scalar>,
}

/// Where each `section.key` was written (1-based line), for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines(BTreeMap<(String, String), usize>);

impl Lines {
    /// Finds `key = …` lines under `[section]` headers in INI or TOML text.
    pub fn scan(text: &str) -> Lines {
        let mut map = BTreeMap::new();
        let mut section = String::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix('[') {
                if let Some(name) = rest.split(']').next() {
                    section = name.trim().to_string();
                }
                continue;
            }
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim().trim_matches('"').to_string();
                if !k.is_empty() && !k.starts_with('#') {
                    map.entry((section.clone(), k)).or_insert(i + 1);
                }
            }
        }
        Lines(map)
    }

    /// The line of `section.key`, if it was written.
    pub fn get(&self, section: &str, key: &str) -> Option<usize> {
        self.0.get(&(section.to_string(), key.to_string())).copied()
    }
}

/// Errors reading the file's structure (before value validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// A line that is neither a section, a `key = value`, a comment nor blank.
    #[error("line {line}: not 'key = value' nor '[section]': {text:?}")]
    BadLine { line: usize, text: String },
    /// A key outside any section.
    #[error("line {line}: key {key:?} before any [section]")]
    NoSection { line: usize, key: String },
    /// An unknown section.
    #[error("line {line}: unknown section [{section}]")]
    UnknownSection { line: usize, section: String },
    /// TOML syntax or shape error (toml's message carries the line).
    #[error("{0}")]
    Toml(String),
}

/// Removes one level of matching single or double quotes.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Strips an inline `# comment` that is outside quotes (configobj rules).
fn strip_comment(v: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in v.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &v[..i],
            _ => {}
        }
    }
    v
}

/// Sections of the INI form: the original's three, and `[limits]`,
/// `[metrics]` and `[options]` (ours).
const INI_SECTIONS: &[&str] = &["general", "dhcp", "ipv6", "limits", "metrics", "options"];

/// Reads the original's INI form. Unknown keys are returned as warnings
/// (configobj ignored them); unknown sections are errors.
pub fn read_ini(text: &str) -> Result<(RawConfig, Vec<String>), SyntaxError> {
    let mut sections: BTreeMap<String, toml::Table> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut section: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(rest) = t.strip_prefix('[') {
            let name = strip_comment(rest)
                .trim()
                .trim_end_matches(']')
                .trim()
                .to_string();
            if !INI_SECTIONS.contains(&name.as_str()) {
                return Err(SyntaxError::UnknownSection {
                    line: n,
                    section: name,
                });
            }
            sections.entry(name.clone()).or_default();
            section = Some(name);
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            return Err(SyntaxError::BadLine {
                line: n,
                text: t.to_string(),
            });
        };
        let key = k.trim().to_string();
        let Some(sec) = &section else {
            return Err(SyntaxError::NoSection { line: n, key });
        };
        let value = strip_comment(v).trim().to_string();
        sections
            .get_mut(sec)
            .expect("section inserted when its header was read")
            .insert(key, toml::Value::String(value));
    }
    // Deserialize section by section so an unknown key is a warning, as in configobj.
    let mut raw = RawConfig::default();
    for (name, mut table) in sections {
        loop {
            let attempt = toml::Value::Table(table.clone());
            let res = match name.as_str() {
                "general" => attempt.try_into().map(|v| raw.general = v),
                "dhcp" => attempt.try_into().map(|v| raw.dhcp = v),
                "limits" => attempt.try_into().map(|v| raw.limits = v),
                "metrics" => attempt.try_into().map(|v| raw.metrics = v),
                "options" => attempt.try_into().map(|v| raw.options = v),
                _ => attempt.try_into().map(|v| raw.ipv6 = v),
            };
            match res {
                Ok(()) => break,
                Err(e) => {
                    let msg = e.to_string();
                    let unknown = table
                        .keys()
                        .find(|k| msg.contains(&format!("unknown field `{k}`")))
                        .cloned();
                    match unknown {
                        Some(k) => {
                            warnings.push(format!("[{name}] {k}: unknown key, ignored"));
                            table.remove(&k);
                        }
                        None => return Err(SyntaxError::Toml(msg)),
                    }
                }
            }
        }
    }
    Ok((raw, warnings))
}

/// Reads the TOML form (unknown keys are errors).
pub fn read_toml(text: &str) -> Result<RawConfig, SyntaxError> {
    toml::from_str(text).map_err(|e| SyntaxError::Toml(e.to_string()))
}
