//! The domain's vocabulary, at the bottom of the module graph: what a
//! packet is (its [`Protocol`]) and what became of it ([`ReplyKind`],
//! [`Consumed`], [`DropReason`]), and the [`RouterPreference`] that RAs
//! and binding files both speak of. Each value carries its own metric label,
//! so counters, `status` and `/metrics` read the names from one place.
//! The host-name rule (RFC 1123) that config and binding files share lives
//! here too. Nothing here imports from the rest of the crate.

/// The protocols served, one per queue kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// DHCPv4 (udp/67).
    Dhcpv4,
    /// ICMPv6 Router Solicitation.
    RouterSolicit,
    /// ICMPv6 Neighbour Solicitation.
    NeighbourSolicit,
    /// DHCPv6 (udp/547).
    Dhcpv6,
}

impl Protocol {
    /// All of them, in label order.
    pub const ALL: [Protocol; 4] = [
        Protocol::Dhcpv4,
        Protocol::RouterSolicit,
        Protocol::NeighbourSolicit,
        Protocol::Dhcpv6,
    ];

    /// Metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Dhcpv4 => "dhcpv4",
            Protocol::RouterSolicit => "rs",
            Protocol::NeighbourSolicit => "ns",
            Protocol::Dhcpv6 => "dhcpv6",
        }
    }
}

/// What a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    /// DHCPOFFER
    Offer,
    /// DHCPACK
    Ack,
    /// DHCPNAK
    Nak,
    /// Router Advertisement
    RouterAdvert,
    /// Neighbour Advertisement
    NeighbourAdvert,
    /// DHCPv6 Advertise
    Advertise,
    /// DHCPv6 Reply
    Dhcpv6Reply,
}

impl ReplyKind {
    /// All of them, in declaration order (`as usize` indexes this).
    pub const ALL: [ReplyKind; 7] = [
        ReplyKind::Offer,
        ReplyKind::Ack,
        ReplyKind::Nak,
        ReplyKind::RouterAdvert,
        ReplyKind::NeighbourAdvert,
        ReplyKind::Advertise,
        ReplyKind::Dhcpv6Reply,
    ];

    /// Metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplyKind::Offer => "offer",
            ReplyKind::Ack => "ack",
            ReplyKind::Nak => "nak",
            ReplyKind::RouterAdvert => "router_advert",
            ReplyKind::NeighbourAdvert => "neighbour_advert",
            ReplyKind::Advertise => "advertise",
            ReplyKind::Dhcpv6Reply => "dhcpv6_reply",
        }
    }

    /// The protocol that sends it.
    pub fn protocol(&self) -> Protocol {
        match self {
            ReplyKind::Offer | ReplyKind::Ack | ReplyKind::Nak => Protocol::Dhcpv4,
            ReplyKind::RouterAdvert => Protocol::RouterSolicit,
            ReplyKind::NeighbourAdvert => Protocol::NeighbourSolicit,
            ReplyKind::Advertise | ReplyKind::Dhcpv6Reply => Protocol::Dhcpv6,
        }
    }
}

/// A request understood and handled that owes no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consumed {
    /// DHCPRELEASE (or a DHCPv6 Release)
    Release,
    /// DHCPDECLINE: the guest found its address in use.
    Decline,
}

impl Consumed {
    /// All of them, in declaration order (`as usize` indexes this).
    pub const ALL: [Consumed; 2] = [Consumed::Release, Consumed::Decline];

    /// Metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Consumed::Release => "release",
            Consumed::Decline => "decline",
        }
    }

    /// Whether protocol `p` can consume a request so (DHCP only).
    pub fn applies_to(p: Protocol) -> bool {
        matches!(p, Protocol::Dhcpv4 | Protocol::Dhcpv6)
    }
}

/// Why a packet from a bound tap gets no reply (verdict DROP).
/// One variant per metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not parseable at the IP/UDP/ICMPv6 layer.
    Malformed,
    /// A UDP packet to the DHCP port that is not DHCP (no magic cookie, …).
    NotDhcp,
    /// A message type we never answer (e.g. a BOOTREPLY, an RA).
    UnsupportedMessage,
    /// chaddr / frame source MAC / ND link-layer option is not the binding's MAC.
    SpoofedMac,
    /// REQUEST addressed to another server (option 54).
    OtherServer,
    /// The binding has nothing to offer for this protocol (no IP, no SUBNET6).
    NotConfigured,
    /// Fails RFC validation (hop limit, code, options…).
    Invalid,
    /// NS for an address we must not answer (the guest's own, …).
    NotOurs,
    /// The protocol is disabled or the mode does not serve it.
    Disabled,
    /// Over the per-tap rate limit.
    RateLimited,
}

impl DropReason {
    /// All of them, in declaration order (`as usize` indexes this).
    pub const ALL: [DropReason; 10] = [
        DropReason::Malformed,
        DropReason::NotDhcp,
        DropReason::UnsupportedMessage,
        DropReason::SpoofedMac,
        DropReason::OtherServer,
        DropReason::NotConfigured,
        DropReason::Invalid,
        DropReason::NotOurs,
        DropReason::Disabled,
        DropReason::RateLimited,
    ];

    /// Metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::NotDhcp => "not_dhcp",
            DropReason::UnsupportedMessage => "unsupported_message",
            DropReason::SpoofedMac => "spoofed_mac",
            DropReason::OtherServer => "other_server",
            DropReason::NotConfigured => "not_configured",
            DropReason::Invalid => "invalid",
            DropReason::NotOurs => "not_ours",
            DropReason::Disabled => "disabled",
            DropReason::RateLimited => "rate_limited",
        }
    }
}

/// Why a DNS name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty name or empty label.
    #[error("empty label")]
    EmptyLabel,
    /// Label over 63 bytes.
    #[error("label over 63 characters")]
    LabelTooLong,
    /// Name over 253 bytes.
    #[error("name over 253 characters")]
    TooLong,
    /// A character other than letters, digits, '-'.
    #[error("character {0:?} not allowed")]
    BadChar(char),
    /// Label starts or ends with '-'.
    #[error("label starts or ends with '-'")]
    Hyphen,
}

/// RFC 1123 §2.1 host name (dotted labels of letters, digits, hyphens).
pub fn validate_dns_name(name: &str) -> Result<(), NameError> {
    if name.len() > 253 {
        return Err(NameError::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameError::LabelTooLong);
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(NameError::BadChar(c));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameError::Hyphen);
        }
    }
    Ok(())
}

/// A router's or a route's preference (RFC 4191 §2.1): the default
/// router preference of an RA (§2.2) and that of a Route Information
/// option (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterPreference {
    /// 11
    Low,
    /// 00
    Medium,
    /// 01
    High,
}

impl RouterPreference {
    /// The name written in config and binding files.
    pub fn as_str(&self) -> &'static str {
        match self {
            RouterPreference::Low => "low",
            RouterPreference::Medium => "medium",
            RouterPreference::High => "high",
        }
    }

    /// Reads `low`, `medium` or `high`, in any case.
    pub fn parse(s: &str) -> Option<RouterPreference> {
        [
            RouterPreference::Low,
            RouterPreference::Medium,
            RouterPreference::High,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_all_list_is_in_declaration_order() {
        for (i, k) in ReplyKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        for (i, c) in Consumed::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        for (i, d) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i);
        }
        for (i, p) in Protocol::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
        }
    }

    #[test]
    fn preferences_read_back_their_names() {
        for p in [
            RouterPreference::Low,
            RouterPreference::Medium,
            RouterPreference::High,
        ] {
            assert_eq!(RouterPreference::parse(p.as_str()), Some(p));
            assert_eq!(
                RouterPreference::parse(&p.as_str().to_ascii_uppercase()),
                Some(p)
            );
        }
        assert_eq!(RouterPreference::parse("highest"), None);
    }
}
