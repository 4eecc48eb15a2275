//! What the DHCPv6 unit tests (tests, pd_tests, size_tests) share: the
//! guest's addresses, a client message builder and its common options,
//! and the stateful setup.

use super::*;
use crate::binding::Binding;
use crate::config::Config;
use crate::proto::testutil::*;
use dhcproto::v6 as d6;

/// The guest's link-local address (tap-routed's MAC).
pub(super) const GUEST_LL: &str = "fe80::a800:ff:fe00:10";
/// The guest's address in SUBNET6 (tap-routed's EUI64).
pub(super) const EUI64: &str = "2001:db8:1::a800:ff:fe00:10";
/// The transaction id of every test message.
pub(super) const XID: [u8; 3] = [0x12, 0x34, 0x56];

/// The guest's DUID-LL (tap-routed's MAC).
pub(super) fn client_duid() -> Vec<u8> {
    let mut d = vec![0, 3, 0, 1];
    d.extend_from_slice(&GUEST_MAC.octets());
    d
}

/// Builds a client message: type, then (code, data) options.
pub(super) fn message(t: u8, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![t, XID[0], XID[1], XID[2]];
    for (c, d) in opts {
        push_opt(&mut m, *c, d).unwrap();
    }
    m
}

/// An IA_NA listing `addrs` (IA Address options with lifetimes 0).
pub(super) fn ia_na(iaid: u32, addrs: &[&str]) -> (u16, Vec<u8>) {
    let mut d = iaid.to_be_bytes().to_vec();
    d.extend_from_slice(&[0; 8]);
    for a in addrs {
        let mut ad = a6(a).octets().to_vec();
        ad.extend_from_slice(&[0; 8]);
        push_opt(&mut d, opt::IAADDR, &ad).unwrap();
    }
    (opt::IA_NA, d)
}

/// The guest's Client Identifier.
pub(super) fn cid() -> (u16, Vec<u8>) {
    (opt::CLIENTID, client_duid())
}

/// Our Server Identifier.
pub(super) fn sid() -> (u16, Vec<u8>) {
    (opt::SERVERID, server_duid(SERVER_MAC))
}

/// Our decision on `payload`, sent by the guest to All_DHCP_Relay_Agents_and_Servers.
pub(super) fn run(c: &Config, b: &Binding, payload: &[u8]) -> Result<Dhcpv6Reply, DropReason> {
    decide(
        &ctx(c, b),
        &dhcpv6_packet(a6(GUEST_LL), a6("ff02::1:2"), payload),
    )
}

/// The compat config in stateful DHCPv6 mode, and tap-routed.
pub(super) fn stateful() -> (Config, Binding) {
    (config(Ipv6Mode::Dhcpv6), tap_routed())
}

/// The IA_NA we give the guest: its EUI64 with the default lifetimes.
pub(super) fn our_na(iaid: u32) -> IaNa {
    IaNa {
        iaid,
        t1: 302_400,
        t2: 483_840,
        addrs: vec![IaAddress {
            addr: a6(EUI64),
            preferred: 604_800,
            valid: 2_592_000,
        }],
        status: None,
    }
}

/// The decoded reply's IA_PD carries status NoPrefixAvail, with our text.
pub(super) fn assert_no_prefix_avail(m: &d6::Message) {
    let Some(d6::DhcpOption::IAPD(pd)) = m.opts().get(d6::OptionCode::IAPD) else {
        panic!("IA_PD")
    };
    assert_eq!(
        pd.opts.get(d6::OptionCode::StatusCode),
        Some(&d6::DhcpOption::StatusCode(d6::StatusCode {
            status: d6::Status::NoPrefixAvail,
            msg: Status::NoPrefixAvail.message().into(),
        }))
    );
}
