//! Network boot keys (PXE, iPXE, UEFI HTTP boot, DHCPv6 boot URL):
//!
//! - `NEXT_SERVER`: the DHCPv4 `siaddr`, the server the client loads its
//!   boot file from (RFC 2131 §2);
//! - `TFTP_SERVER`: that server's name, in `sname` and option 66
//!   (RFC 2132 §9.4);
//! - `BOOTFILE`: the boot file, in `file` and option 67 (RFC 2132 §9.5);
//! - `BOOTFILE_EFI`, `BOOTFILE_BIOS`: the boot file for a UEFI or a BIOS
//!   client, by its architecture (option 93, RFC 4578 §2.1), instead of
//!   `BOOTFILE`;
//! - `BOOTFILE_IPXE`: the boot file (usually a script URL) for iPXE
//!   itself, so that the iPXE a PXE ROM loaded does not load itself again;
//! - `BOOTFILE_HTTP`: the `http://` or `https://` URL a UEFI HTTP boot
//!   client (vendor class `HTTPClient`) loads;
//! - `BOOTFILE6`: the DHCPv6 boot file URL (option 59, RFC 5970 §3.1).
//!
//! Values are printable ASCII without spaces (RFC 2132 §9.4, §9.5: NVT
//! ASCII), at most [`MAX_LEN`] bytes: one option carries them whole. An
//! empty value is unset. A binding without any of these keys has no
//! [`Boot`], and its replies are what they were without them.

use std::net::Ipv4Addr;

use crate::domain::{validate_dns_name, NameError};

/// The key of the next server's address (`siaddr`).
pub const NEXT_SERVER: &str = "NEXT_SERVER";
/// The key of the boot server's name (`sname`, option 66).
pub const TFTP_SERVER: &str = "TFTP_SERVER";
/// The key of the boot file (`file`, option 67).
pub const BOOTFILE: &str = "BOOTFILE";
/// The key of the boot file of UEFI clients.
pub const BOOTFILE_EFI: &str = "BOOTFILE_EFI";
/// The key of the boot file of BIOS clients.
pub const BOOTFILE_BIOS: &str = "BOOTFILE_BIOS";
/// The key of the boot file of iPXE.
pub const BOOTFILE_IPXE: &str = "BOOTFILE_IPXE";
/// The key of the URL of UEFI HTTP boot clients.
pub const BOOTFILE_HTTP: &str = "BOOTFILE_HTTP";
/// The key of the DHCPv6 boot file URL (option 59).
pub const BOOTFILE6: &str = "BOOTFILE6";
/// Every key of this module.
pub const KEYS: [&str; 8] = [
    NEXT_SERVER,
    TFTP_SERVER,
    BOOTFILE,
    BOOTFILE_EFI,
    BOOTFILE_BIOS,
    BOOTFILE_IPXE,
    BOOTFILE_HTTP,
    BOOTFILE6,
];
/// Longest value: one DHCPv4 option's data (RFC 2132 §2: the length is
/// one byte); boot ROMs do not join split options (RFC 3396).
pub const MAX_LEN: usize = 255;

/// A binding's network boot parameters; at least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boot {
    /// `NEXT_SERVER`.
    pub next_server: Option<Ipv4Addr>,
    /// `TFTP_SERVER`.
    pub tftp_server: Option<String>,
    /// `BOOTFILE`.
    pub file: Option<String>,
    /// `BOOTFILE_EFI`.
    pub file_efi: Option<String>,
    /// `BOOTFILE_BIOS`.
    pub file_bios: Option<String>,
    /// `BOOTFILE_IPXE`.
    pub file_ipxe: Option<String>,
    /// `BOOTFILE_HTTP`.
    pub file_http: Option<String>,
    /// `BOOTFILE6`.
    pub file6: Option<String>,
}

impl Boot {
    /// Whether `key` (one of [`KEYS`]) is set.
    pub fn is_set(&self, key: &str) -> bool {
        match key {
            NEXT_SERVER => self.next_server.is_some(),
            TFTP_SERVER => self.tftp_server.is_some(),
            BOOTFILE => self.file.is_some(),
            BOOTFILE_EFI => self.file_efi.is_some(),
            BOOTFILE_BIOS => self.file_bios.is_some(),
            BOOTFILE_IPXE => self.file_ipxe.is_some(),
            BOOTFILE_HTTP => self.file_http.is_some(),
            BOOTFILE6 => self.file6.is_some(),
            _ => false,
        }
    }

    /// The keys set, in [`KEYS`] order.
    pub fn keys_set(&self) -> impl Iterator<Item = &'static str> + '_ {
        KEYS.into_iter().filter(|k| self.is_set(k))
    }
}

/// Why a boot key's value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootError {
    /// `NEXT_SERVER` is not an IPv4 address.
    #[error("not an IPv4 address")]
    NotIpv4,
    /// `NEXT_SERVER` is multicast, broadcast, loopback or `0.0.0.0`.
    #[error("{0} is not a unicast address")]
    NotUnicast(Ipv4Addr),
    /// `TFTP_SERVER` is not a host name or address.
    #[error("not a host name: {0}")]
    BadServerName(NameError),
    /// A space or a byte that is not printable ASCII.
    #[error("{0:?} is not printable ASCII (spaces included)")]
    NotPrintable(char),
    /// Longer than one option carries.
    #[error("{0} bytes: at most {MAX_LEN}")]
    TooLong(usize),
    /// Not a URL `scheme://…` (RFC 3986 §3), or, for `BOOTFILE_HTTP`, not
    /// an `http` or `https` one.
    #[error("not a URL of the form {0}")]
    NotUrl(&'static str),
}

/// The boot parameters of a binding file, from `get` (a key's value, None
/// when unset); None when no boot key is set. An error names the key.
pub fn parse<'v>(
    get: impl Fn(&str) -> Option<&'v str>,
) -> Result<Option<Box<Boot>>, (&'static str, BootError)> {
    let mut boot = Boot::default();
    let at = |key: &'static str| move |e| (key, e);
    if let Some(v) = get(NEXT_SERVER) {
        boot.next_server = Some(next_server(v).map_err(at(NEXT_SERVER))?);
    }
    if let Some(v) = get(TFTP_SERVER) {
        text(v).map_err(at(TFTP_SERVER))?;
        let name = v.trim_end_matches('.');
        validate_dns_name(name).map_err(|e| (TFTP_SERVER, BootError::BadServerName(e)))?;
        boot.tftp_server = Some(name.to_string());
    }
    let files = [
        (BOOTFILE, &mut boot.file, None),
        (BOOTFILE_EFI, &mut boot.file_efi, None),
        (BOOTFILE_BIOS, &mut boot.file_bios, None),
        (BOOTFILE_IPXE, &mut boot.file_ipxe, None),
        (
            BOOTFILE_HTTP,
            &mut boot.file_http,
            Some(&["http", "https"][..]),
        ),
        (BOOTFILE6, &mut boot.file6, Some(&[][..])),
    ];
    for (key, slot, url) in files {
        let Some(v) = get(key) else { continue };
        text(v).map_err(at(key))?;
        if let Some(schemes) = url {
            check_url(v, schemes).map_err(at(key))?;
        }
        *slot = Some(v.to_string());
    }
    Ok((boot != Boot::default()).then(|| Box::new(boot)))
}

fn next_server(v: &str) -> Result<Ipv4Addr, BootError> {
    let ip: Ipv4Addr = v.parse().map_err(|_| BootError::NotIpv4)?;
    if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || ip.is_loopback() {
        return Err(BootError::NotUnicast(ip));
    }
    Ok(ip)
}

/// Printable ASCII, no space, at most [`MAX_LEN`] bytes.
fn text(v: &str) -> Result<(), BootError> {
    if let Some(c) = v.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(BootError::NotPrintable(c));
    }
    if v.len() > MAX_LEN {
        return Err(BootError::TooLong(v.len()));
    }
    Ok(())
}

/// `scheme://rest`, the scheme one of `schemes` (any when empty), per
/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn check_url(v: &str, schemes: &[&'static str]) -> Result<(), BootError> {
    let what = if schemes.is_empty() {
        "scheme://…"
    } else {
        "http(s)://host/path"
    };
    let Some((scheme, rest)) = v.split_once("://") else {
        return Err(BootError::NotUrl(what));
    };
    let syntax = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let known = schemes.is_empty() || schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme));
    if syntax && known && !rest.is_empty() {
        Ok(())
    } else {
        Err(BootError::NotUrl(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_pairs(
        pairs: &[(&str, &'static str)],
    ) -> Result<Option<Box<Boot>>, (&'static str, BootError)> {
        let pairs = pairs.to_vec();
        parse(move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    #[test]
    fn no_boot_key_is_no_boot() {
        assert_eq!(parse_pairs(&[]), Ok(None));
    }

    #[test]
    fn every_key_is_read() {
        let b = parse_pairs(&[
            (NEXT_SERVER, "192.0.2.5"),
            (TFTP_SERVER, "boot.example.org."),
            (BOOTFILE, "pxelinux.0"),
            (BOOTFILE_EFI, "efi/grubx64.efi"),
            (BOOTFILE_BIOS, "bios/pxelinux.0"),
            (BOOTFILE_IPXE, "http://192.0.2.5/boot.ipxe"),
            (BOOTFILE_HTTP, "HTTPS://boot.example.org/efi/shim.efi"),
            (BOOTFILE6, "tftp://[2001:db8::5]/grubx64.efi"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(b.next_server, Some(Ipv4Addr::new(192, 0, 2, 5)));
        assert_eq!(b.tftp_server.as_deref(), Some("boot.example.org"));
        assert_eq!(b.file.as_deref(), Some("pxelinux.0"));
        assert_eq!(b.file_efi.as_deref(), Some("efi/grubx64.efi"));
        assert_eq!(b.file_bios.as_deref(), Some("bios/pxelinux.0"));
        assert_eq!(b.file_ipxe.as_deref(), Some("http://192.0.2.5/boot.ipxe"));
        assert_eq!(
            b.file_http.as_deref(),
            Some("HTTPS://boot.example.org/efi/shim.efi")
        );
        assert_eq!(b.file6.as_deref(), Some("tftp://[2001:db8::5]/grubx64.efi"));
        assert_eq!(b.keys_set().collect::<Vec<_>>(), KEYS);
        let one = parse_pairs(&[(BOOTFILE_BIOS, "pxelinux.0")])
            .unwrap()
            .unwrap();
        assert_eq!(one.keys_set().collect::<Vec<_>>(), [BOOTFILE_BIOS]);
    }

    #[test]
    fn bad_values_name_their_key_and_cause() {
        let long: &'static str = "f".repeat(256).leak();
        let cases: [(&str, &'static str, BootError); 9] = [
            (NEXT_SERVER, "boot.example.org", BootError::NotIpv4),
            (
                NEXT_SERVER,
                "255.255.255.255",
                BootError::NotUnicast(Ipv4Addr::BROADCAST),
            ),
            (
                TFTP_SERVER,
                "boot_server!",
                BootError::BadServerName(validate_dns_name("boot_server!").unwrap_err()),
            ),
            (BOOTFILE, "my file.efi", BootError::NotPrintable(' ')),
            (
                BOOTFILE_EFI,
                "grub\u{e9}.efi",
                BootError::NotPrintable('\u{e9}'),
            ),
            (BOOTFILE_BIOS, long, BootError::TooLong(256)),
            (
                BOOTFILE_HTTP,
                "tftp://192.0.2.5/x",
                BootError::NotUrl("http(s)://host/path"),
            ),
            (
                BOOTFILE_HTTP,
                "http://",
                BootError::NotUrl("http(s)://host/path"),
            ),
            (BOOTFILE6, "grubx64.efi", BootError::NotUrl("scheme://…")),
        ];
        for (key, value, err) in cases {
            assert_eq!(
                parse_pairs(&[(key, value)]),
                Err((key, err)),
                "{key}={value}"
            );
        }
    }
}
