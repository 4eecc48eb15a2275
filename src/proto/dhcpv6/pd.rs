//! Prefix delegation (RFC 8415 §6.3): IA_PD (§21.21) and IA Prefix
//! (§21.22) options, parsed from a client and answered from the binding's
//! `PREFIX6_DELEGATED`. The choices are documented in the parent module.

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use super::{
    be32, ia_header, msg, opt, options, push_opt, status_opt, status_opt_len, EmitError, Offer,
    Request, Status, IAPREFIX_LEN, IAPREFIX_OPT_LEN, IAPREFIX_PLEN_AT, IA_HDR_LEN, OPT_HDR_LEN,
};
use crate::proto::DropReason;

/// One IA Prefix (RFC 8415 §21.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaPrefix {
    /// The prefix.
    pub prefix: Ipv6Net,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
}

/// One IA_PD of a reply (RFC 8415 §21.21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaPd {
    /// IAID, echoed from the client.
    pub iaid: u32,
    /// T1, seconds.
    pub t1: u32,
    /// T2, seconds.
    pub t2: u32,
    /// Delegated prefixes.
    pub prefixes: Vec<IaPrefix>,
    /// Status inside the IA, if any.
    pub status: Option<Status>,
}

impl IaPd {
    /// Length of the encoded IA_PD option.
    pub fn buffer_len(&self) -> usize {
        OPT_HDR_LEN
            + IA_HDR_LEN
            + self.prefixes.len() * IAPREFIX_OPT_LEN
            + self.status.map_or(0, status_opt_len)
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EmitError> {
        let mut d = ia_header(self.iaid, self.t1, self.t2, self.buffer_len());
        for p in &self.prefixes {
            let mut pd = Vec::with_capacity(IAPREFIX_LEN);
            pd.extend_from_slice(&p.preferred.to_be_bytes());
            pd.extend_from_slice(&p.valid.to_be_bytes());
            pd.push(p.prefix.prefix_len());
            pd.extend_from_slice(&p.prefix.network().octets());
            push_opt(&mut d, opt::IAPREFIX, &pd)?;
        }
        if let Some(s) = self.status {
            status_opt(&mut d, s)?;
        }
        push_opt(out, opt::IA_PD, &d)
    }
}

/// One IA_PD of a client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaPdRequest {
    /// IAID.
    pub iaid: u32,
    /// Prefixes the client put in it (hints, or the ones it holds).
    pub prefixes: Vec<Ipv6Net>,
}

pub(super) fn parse_ia_pd(data: &[u8]) -> Result<IaPdRequest, DropReason> {
    let sub = data.get(IA_HDR_LEN..).ok_or(DropReason::Malformed)?;
    let mut prefixes = Vec::new();
    for (code, d) in options(sub)? {
        if code == opt::IAPREFIX {
            let body = d.get(..IAPREFIX_LEN).ok_or(DropReason::Malformed)?;
            let a: [u8; 16] = body[IAPREFIX_PLEN_AT + 1..]
                .try_into()
                .map_err(|_| DropReason::Malformed)?;
            // RFC 8415 §21.22: prefix-length is 0 to 128 (0: a hint of any).
            let p = Ipv6Net::new(Ipv6Addr::from(a), body[IAPREFIX_PLEN_AT])
                .map_err(|_| DropReason::Malformed)?;
            prefixes.push(p);
        }
    }
    Ok(IaPdRequest {
        iaid: be32(data)?,
        prefixes,
    })
}

/// The IA_PD answering `ia` in an Advertise / Reply to Solicit / Request /
/// Renew / Rebind. `holder`: whether `ia` is the IA_PD that holds the
/// binding's prefixes (see [`holder`]).
pub(super) fn answer_pd(o: &Offer<'_>, ia: &IaPdRequest, holder: bool, msg_type: u8) -> IaPd {
    let mut out = IaPd {
        iaid: ia.iaid,
        t1: 0,
        t2: 0,
        prefixes: Vec::new(),
        status: None,
    };
    let renewing = matches!(msg_type, msg::RENEW | msg::REBIND);
    if holder && !o.prefixes.is_empty() {
        // RFC 8415 §21.21: T1/T2 as for an IA_NA, from the shortest
        // preferred lifetime; the prefixes a client hinted at in a Solicit
        // or Request are ignored (§18.3.1: the server "MAY" use them).
        (out.t1, out.t2) = (o.t1, o.t2);
        out.prefixes = o
            .prefixes
            .iter()
            .map(|p| IaPrefix {
                prefix: *p,
                preferred: o.preferred,
                valid: o.valid,
            })
            .collect();
    } else if renewing {
        // RFC 8415 §18.3.4 / §18.3.5: no client entry for the IA: NoBinding.
        out.status = Some(Status::NoBinding);
    } else {
        // RFC 8415 §18.3.2 / §18.3.9: an IA_PD that gets no prefix is
        // returned with no prefix and a Status Code NoPrefixAvail.
        out.status = Some(Status::NoPrefixAvail);
    }
    if renewing {
        // RFC 8415 §18.3.4 / §18.3.5: delegated prefixes no longer
        // appropriate are returned "with lifetimes of 0".
        let kept = out.prefixes.len();
        for p in ia.prefixes.iter().filter(|p| p.prefix_len() > 0) {
            if !out.prefixes[..kept].iter().any(|k| k.prefix == *p) {
                out.prefixes.push(IaPrefix {
                    prefix: *p,
                    preferred: 0,
                    valid: 0,
                });
            }
        }
    }
    out
}

/// Which IA_PD of `r` holds the binding's prefixes: the first that already
/// lists one of them, else the first. All go in that one IA: a prefix is
/// leased to one IA (RFC 8415 §6.3), and a client that asks for several
/// IA_PDs (one per downstream link) must not number two links from it.
pub(super) fn holder(o: &Offer<'_>, r: &Request<'_>) -> usize {
    r.ia_pd
        .iter()
        .position(|ia| ia.prefixes.iter().any(|p| o.prefixes.contains(p)))
        .unwrap_or(0)
}

/// RFC 8415 §6.3, §18.3: prefix delegation is served wherever DHCPv6 is
/// queued, whatever the mode: a Solicit, Request, Renew, Rebind or Release
/// with an IA_PD is answered in modes `slaac` and `slaac+dhcpv6` too, its
/// IA_NAs getting no address there.
pub(super) fn delegates(r: &Request<'_>) -> bool {
    !r.ia_pd.is_empty()
        && matches!(
            r.msg_type,
            msg::SOLICIT | msg::REQUEST | msg::RENEW | msg::REBIND | msg::RELEASE
        )
}

/// The IA_PDs of a Release (RFC 8415 §18.3.7): one with NoBinding for
/// each IA we hold no binding for (a prefix not ours, or none at all).
pub(super) fn release(o: &Offer<'_>, r: &Request<'_>) -> Vec<IaPd> {
    r.ia_pd
        .iter()
        .filter(|ia| o.prefixes.is_empty() || ia.prefixes.iter().any(|p| !o.prefixes.contains(p)))
        .map(|ia| IaPd {
            iaid: ia.iaid,
            t1: 0,
            t2: 0,
            prefixes: Vec::new(),
            status: Some(Status::NoBinding),
        })
        .collect()
}
