//! An RA within the link MTU.
//!
//! RFC 4861 §6.2.3: a router whose options do not fit one RA "MAY
//! disseminate the information in multiple Router Advertisements"; one RA
//! per round is sent here, so when the options would make the packet
//! larger than the link MTU (the binding's `MTU`, else 1500 bytes as for
//! DHCP, never below the 1280 of RFC 8200 §5) the least important go, one
//! item at a time: first the search list (DNSSL, names from the last),
//! then the routes (Route Information, from the last: a host that ignores
//! them, RFC 4191 §3's type A, sends through its default router), then
//! the DNS servers (RDNSS, from the last), then PREF64.
//! The header, source link-layer address, MTU and prefix options are
//! never left out: 64 bytes, which always fit.

use super::frame::IPV6_HDR_LEN;
use super::ndp::OPT_UNIT;
use super::opts::PREF64_OPT_LEN;
use super::{
    dnssl_len, dnssl_names, ra_field, rdnss_len, RouterAdvert, IPV6_MIN_MTU, MTU_OPT_LEN,
    PREFIX_INFO_LEN,
};
use crate::binding::Binding;
use crate::proto::frame::DEFAULT_LINK_MTU;

/// The largest ICMPv6 message an RA to `b` may be: its link MTU (see the
/// module documentation) less the IPv6 header.
pub fn budget(b: &Binding) -> usize {
    let mtu = b.mtu.unwrap_or(DEFAULT_LINK_MTU).max(IPV6_MIN_MTU);
    usize::from(mtu) - IPV6_HDR_LEN
}

impl RouterAdvert {
    /// Length of the ICMPv6 message [`RouterAdvert::icmp_bytes`] builds.
    pub fn buffer_len(&self) -> usize {
        let source_lla = OPT_UNIT;
        ra_field::OPTIONS
            + source_lla
            + self.mtu.map_or(0, |_| MTU_OPT_LEN)
            + self.prefix.as_ref().map_or(0, |_| PREFIX_INFO_LEN)
            + self
                .routes
                .iter()
                .map(|r| r.units() * OPT_UNIT)
                .sum::<usize>()
            + self.rdnss.as_ref().map_or(0, |(_, s)| rdnss_len(s.len()))
            + self
                .dnssl
                .as_ref()
                .map_or(0, |(_, d)| dnssl_len(dnssl_names(d).len()))
            + self.pref64.map_or(0, |_| PREF64_OPT_LEN)
    }

    /// Leaves out the least important options (see the module
    /// documentation) until the message is at most `budget` bytes; false
    /// when even the rest does not fit.
    pub fn fit(&mut self, budget: usize) -> bool {
        while self.buffer_len() > budget {
            if let Some((_, domains)) = &mut self.dnssl {
                domains.pop();
                if domains.is_empty() {
                    self.dnssl = None;
                }
            } else if !self.routes.is_empty() {
                self.routes.pop();
            } else if let Some((_, servers)) = &mut self.rdnss {
                servers.pop();
                if servers.is_empty() {
                    self.rdnss = None;
                }
            } else if self.pref64.is_some() {
                self.pref64 = None;
            } else {
                return false;
            }
        }
        true
    }
}
