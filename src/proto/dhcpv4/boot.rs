//! Network boot (PXE, iPXE, UEFI HTTP boot): which boot file a client is
//! given, from the binding's `NEXT_SERVER`, `TFTP_SERVER` and `BOOTFILE*`
//! keys and what the request says of the client.
//!
//! The request's options 60, 77, 93 and 175 are kept by the one pass
//! over its options ([`Hints`]); they are read only when the binding has
//! boot keys, so a plain DISCOVER does no more work than before.
//!
//! Choices, as dnsmasq and Kea make them:
//! - iPXE (user class "iPXE", option 77, or its encapsulated options,
//!   175) gets `BOOTFILE_IPXE` when set: the iPXE a PXE ROM loaded does
//!   not load itself again;
//! - a UEFI HTTP boot client (vendor class "HTTPClient") gets
//!   `BOOTFILE_HTTP`, with option 60 "HTTPClient" (EDK2's HttpBootDxe
//!   ignores an offer without it); without `BOOTFILE_HTTP`, no boot file:
//!   a TFTP path is no URL to it;
//! - any other client gets `BOOTFILE_EFI` or `BOOTFILE_BIOS` by its
//!   architecture (option 93, RFC 4578 §2.1), else `BOOTFILE`;
//! - a PXE client (vendor class "PXEClient") given a boot file gets
//!   option 60 "PXEClient" back, as dnsmasq sends it.
//!
//! `siaddr` is `NEXT_SERVER`; `sname` and `file` hold the server name
//! and the boot file when they fit with their terminating NUL, options 66
//! and 67 carry them when the client asks (option 55) or when they do not
//! fit. We never overload `sname`/`file` with options (RFC 2132 §9.3):
//! option 52 is never sent, and those fields hold only names.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use super::{code, field, Request};
use crate::proto::Context;
use crate::value::boot::Boot;

/// Vendor class prefix of a PXE client (PXE 2.1 §2.2.5, RFC 4578 §2).
pub(super) const PXE_CLIENT: &[u8] = b"PXEClient";
/// Vendor class prefix of a UEFI HTTP boot client (UEFI 2.x §24.7.2).
pub(super) const HTTP_CLIENT: &[u8] = b"HTTPClient";
/// The user class iPXE sends (option 77).
const IPXE_USER_CLASS: &[u8] = b"iPXE";
/// Bytes of `sname` (RFC 2131 §2), its terminating NUL included.
pub(super) const SNAME_LEN: usize = field::SNAME.end - field::SNAME.start;
/// Bytes of `file` (RFC 2131 §2), its terminating NUL included.
pub(super) const FILE_LEN: usize = field::FILE.end - field::FILE.start;

/// Client architecture types (option 93) of UEFI firmware (RFC 4578
/// §2.1 and the IANA "Processor Architecture Types" registry: x86 and
/// x64 UEFI, EBC, ARM 32 and 64, Itanium, their HTTP boot forms, RISC-V
/// 32 and 64). 7 and 9 both, as RFC 4578 erratum 4624 swaps them.
const EFI_ARCHS: [u16; 15] = [2, 6, 7, 9, 10, 11, 15, 16, 17, 18, 19, 25, 26, 27, 28];
/// The architecture type of a PC BIOS ("x86 BIOS", RFC 4578 §2.1).
const BIOS_ARCH: u16 = 0;

/// The request's options that describe a booting client, as received
/// (repeated options joined, RFC 3396).
#[derive(Debug, Clone, Default)]
pub struct Hints<'a> {
    /// Option 60, the vendor class identifier (RFC 2132 §9.13).
    pub(super) vendor_class: Option<Cow<'a, [u8]>>,
    /// Option 77, the user class (RFC 3004; iPXE sends plain "iPXE").
    pub(super) user_class: Option<Cow<'a, [u8]>>,
    /// Option 93, the client's architecture types (RFC 4578 §2.1).
    pub(super) client_arch: Option<Cow<'a, [u8]>>,
    /// Option 175 is present: iPXE's encapsulated options.
    pub(super) ipxe_options: bool,
}

impl Hints<'_> {
    /// iPXE: user class "iPXE" (in RFC 3004 form or plain), or option 175.
    fn ipxe(&self) -> bool {
        self.ipxe_options
            || self.user_class.as_deref().is_some_and(|u| {
                u.windows(IPXE_USER_CLASS.len())
                    .any(|w| w == IPXE_USER_CLASS)
            })
    }

    /// The vendor class starts with `prefix`.
    fn vendor(&self, prefix: &[u8]) -> bool {
        self.vendor_class
            .as_deref()
            .is_some_and(|v| v.starts_with(prefix))
    }

    /// The first architecture type of option 93; None when absent or
    /// malformed (RFC 4578 §2.1: the length "MUST be an even number
    /// greater than zero"): such a client is given `BOOTFILE`.
    fn arch(&self) -> Option<u16> {
        match self.client_arch.as_deref()? {
            [hi, lo, rest @ ..] if rest.len() % 2 == 0 => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }
}

/// Which boot file a reply gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum File {
    /// `BOOTFILE`.
    Default,
    /// `BOOTFILE_EFI`.
    Efi,
    /// `BOOTFILE_BIOS`.
    Bios,
    /// `BOOTFILE_IPXE`.
    Ipxe,
    /// `BOOTFILE_HTTP`.
    Http,
}

/// The vendor class a reply echoes in option 60.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vendor {
    /// "PXEClient".
    Pxe,
    /// "HTTPClient".
    Http,
}

impl Vendor {
    /// Option 60's value.
    pub(super) fn class(self) -> &'static [u8] {
        match self {
            Vendor::Pxe => PXE_CLIENT,
            Vendor::Http => HTTP_CLIENT,
        }
    }
}

/// The boot parameters of one reply, decided from the binding's [`Boot`]
/// and the request's [`Hints`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    /// The boot file given, if any.
    pub(super) file: Option<File>,
    /// Option 60 echoed, only with a boot file.
    pub(super) vendor: Option<Vendor>,
}

impl Choice {
    /// The boot file's name.
    pub(super) fn file_name<'a>(&self, keys: Keys<'a>) -> Option<&'a str> {
        keys.file(self.file?)
    }
}

/// The boot keys in force for one reply: each of the binding's, else the
/// config's (`[dhcp] next_server`, `bootfile`, …).
#[derive(Debug, Clone, Copy)]
pub(super) struct Keys<'a> {
    binding: Option<&'a Boot>,
    config: Option<&'a Boot>,
}

impl<'a> Keys<'a> {
    /// The keys of the binding and config of `ctx`; None when neither has
    /// any (the common case: two pointer tests).
    pub(super) fn of(ctx: &Context<'a>) -> Option<Self> {
        let binding = ctx.binding.boot.as_deref();
        let config = ctx.config.dhcp.boot.as_deref();
        (binding.is_some() || config.is_some()).then_some(Keys { binding, config })
    }

    /// The binding's value, else the config's.
    fn get<T: ?Sized>(&self, value: impl Fn(&'a Boot) -> Option<&'a T>) -> Option<&'a T> {
        self.binding
            .and_then(&value)
            .or_else(|| self.config.and_then(&value))
    }

    /// `NEXT_SERVER`.
    fn next_server(&self) -> Option<Ipv4Addr> {
        self.get(|b| b.next_server.as_ref()).copied()
    }

    /// `TFTP_SERVER`.
    fn tftp_server(&self) -> Option<&'a str> {
        self.get(|b| b.tftp_server.as_deref())
    }

    /// The boot file `f`.
    fn file(&self, f: File) -> Option<&'a str> {
        self.get(move |b| {
            let name = match f {
                File::Default => &b.file,
                File::Efi => &b.file_efi,
                File::Bios => &b.file_bios,
                File::Ipxe => &b.file_ipxe,
                File::Http => &b.file_http,
            };
            name.as_deref()
        })
    }

    /// `f` when that boot file is set.
    fn if_set(&self, f: File) -> Option<File> {
        self.file(f).map(|_| f)
    }
}

/// The boot parameters for a client: see the module's doc.
pub(super) fn choose(keys: Keys<'_>, hints: &Hints<'_>) -> Choice {
    let http = hints.vendor(HTTP_CLIENT);
    let ipxe = hints.ipxe().then(|| keys.if_set(File::Ipxe)).flatten();
    let file = if ipxe.is_some() {
        ipxe
    } else if http {
        keys.if_set(File::Http)
    } else {
        by_arch(keys, hints.arch())
    };
    let vendor = match file {
        None => None,
        Some(_) if http => Some(Vendor::Http),
        Some(_) if hints.vendor(PXE_CLIENT) => Some(Vendor::Pxe),
        Some(_) => None,
    };
    Choice { file, vendor }
}

/// `BOOTFILE_EFI` or `BOOTFILE_BIOS` by architecture, else `BOOTFILE`.
fn by_arch(keys: Keys<'_>, arch: Option<u16>) -> Option<File> {
    let specific = match arch {
        Some(BIOS_ARCH) => keys.if_set(File::Bios),
        Some(a) if EFI_ARCHS.contains(&a) => keys.if_set(File::Efi),
        _ => None,
    };
    specific.or_else(|| keys.if_set(File::Default))
}

/// `siaddr`, `sname` and `file` of a reply's fixed fields `f` (written
/// zero before): `NEXT_SERVER`, then the server name and the boot file
/// when they fit (RFC 2131 §2: "Server host name" and "Boot file name",
/// "null terminated string"; the rest of each field stays NUL).
pub(super) fn write_fields(f: &mut [u8], keys: Keys<'_>, choice: Choice) {
    if let Some(ip) = keys.next_server() {
        f[field::SIADDR].copy_from_slice(&ip.octets());
    }
    let sname = keys.tftp_server().and_then(|s| fits(s, SNAME_LEN));
    if let Some(name) = sname {
        f[field::SNAME.start..][..name.len()].copy_from_slice(name);
    }
    if let Some(name) = choice.file_name(keys).and_then(|s| fits(s, FILE_LEN)) {
        f[field::FILE.start..][..name.len()].copy_from_slice(name);
    }
}

/// Options 66, 67 (when the client asks or the value does not fit its
/// fixed field) and 60 of a reply, as (code, value) for the reply's
/// option list to borrow. RFC 2132 §9.4, §9.5: options 66 and 67 are how
/// a value too long for `sname` or `file` is given without overloading
/// them (§9.3).
pub(super) fn options<'a>(
    keys: Keys<'a>,
    choice: Choice,
    req: &Request<'_>,
) -> [Option<(u8, &'a [u8])>; 3] {
    let wanted = |code, value: &str, len| req.asks_for(code) || fits(value, len).is_none();
    let server = keys
        .tftp_server()
        .filter(|s| wanted(code::TFTP_SERVER, s, SNAME_LEN))
        .map(|s| (code::TFTP_SERVER, s.as_bytes()));
    let file = choice
        .file_name(keys)
        .filter(|f| wanted(code::BOOTFILE, f, FILE_LEN))
        .map(|f| (code::BOOTFILE, f.as_bytes()));
    let vendor = choice.vendor.map(|v| (code::VENDOR_CLASS, v.class()));
    [server, file, vendor]
}

/// `value` in a fixed field of `len` bytes, NUL-terminated (RFC 2131 §2:
/// "null terminated string"); None when it does not fit.
pub(super) fn fits(value: &str, len: usize) -> Option<&[u8]> {
    (value.len() < len).then_some(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> Boot {
        Boot {
            file: Some("default.0".into()),
            file_efi: Some("grubx64.efi".into()),
            file_bios: Some("pxelinux.0".into()),
            file_ipxe: Some("http://192.0.2.5/boot.ipxe".into()),
            file_http: Some("http://192.0.2.5/shim.efi".into()),
            ..Boot::default()
        }
    }

    /// Choice with the binding's keys `b` only.
    fn choose(b: &Boot, hints: &Hints<'_>) -> Choice {
        super::choose(
            Keys {
                binding: Some(b),
                config: None,
            },
            hints,
        )
    }

    fn hints(vendor: &'static [u8], arch: &'static [u8], user: &'static [u8]) -> Hints<'static> {
        let opt = |b: &'static [u8]| (!b.is_empty()).then_some(Cow::Borrowed(b));
        Hints {
            vendor_class: opt(vendor),
            user_class: opt(user),
            client_arch: opt(arch),
            ipxe_options: false,
        }
    }

    #[test]
    fn the_architecture_picks_efi_or_bios_else_the_default() {
        let b = boot();
        let pick = |arch| choose(&b, &hints(b"PXEClient:Arch:00007", arch, b"")).file;
        assert_eq!(pick(&[0, 7]), Some(File::Efi));
        assert_eq!(pick(&[0, 9, 0, 0]), Some(File::Efi));
        assert_eq!(pick(&[0, 0]), Some(File::Bios));
        assert_eq!(pick(&[0, 22]), Some(File::Default));
        assert_eq!(pick(&[0]), Some(File::Default), "odd length: malformed");
        assert_eq!(pick(&[]), Some(File::Default));
        let only_default = Boot {
            file: Some("default.0".into()),
            ..Boot::default()
        };
        let c = choose(&only_default, &hints(b"", &[0, 7], b""));
        assert_eq!(
            c,
            Choice {
                file: Some(File::Default),
                vendor: None
            }
        );
    }

    #[test]
    fn ipxe_gets_its_own_file_by_user_class_or_option_175() {
        let b = boot();
        let c = choose(
            &b,
            &hints(b"PXEClient:Arch:00007:UNDI:003010", &[0, 7], b"iPXE"),
        );
        assert_eq!(
            c,
            Choice {
                file: Some(File::Ipxe),
                vendor: Some(Vendor::Pxe)
            }
        );
        let rfc3004 = choose(&b, &hints(b"", &[0, 7], b"\x04iPXE"));
        assert_eq!(rfc3004.file, Some(File::Ipxe));
        let mut encap = hints(b"", &[0, 0], b"");
        encap.ipxe_options = true;
        assert_eq!(choose(&b, &encap).file, Some(File::Ipxe));
        // Without BOOTFILE_IPXE, iPXE is any client of its architecture.
        let no_ipxe = Boot {
            file_ipxe: None,
            ..boot()
        };
        assert_eq!(choose(&no_ipxe, &encap).file, Some(File::Bios));
    }

    #[test]
    fn http_clients_get_the_url_and_their_vendor_class_or_nothing() {
        let h = hints(b"HTTPClient:Arch:00016:UNDI:003001", &[0, 16], b"");
        let c = choose(&boot(), &h);
        assert_eq!(
            c,
            Choice {
                file: Some(File::Http),
                vendor: Some(Vendor::Http)
            }
        );
        let b = boot();
        let keys = Keys {
            binding: Some(&b),
            config: None,
        };
        assert_eq!(c.file_name(keys), Some("http://192.0.2.5/shim.efi"));
        let no_url = Boot {
            file_http: None,
            ..boot()
        };
        assert_eq!(
            choose(&no_url, &h),
            Choice {
                file: None,
                vendor: None
            }
        );
    }

    #[test]
    fn a_name_fits_a_field_with_its_nul() {
        assert_eq!(fits(&"a".repeat(127), FILE_LEN).map(<[u8]>::len), Some(127));
        assert_eq!(fits(&"a".repeat(128), FILE_LEN), None);
        assert_eq!(fits(&"a".repeat(64), SNAME_LEN), None);
    }
}
