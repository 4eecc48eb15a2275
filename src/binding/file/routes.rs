//! `ROUTES`: IPv4 routes given to the VM in DHCPv4 option 121 (RFC 3442),
//! beside the default route via `GATEWAY`, e.g.
//! `ROUTES="198.51.100.0/24 via 192.0.2.1, 203.0.113.128/25 via 192.0.2.254"`.
//!
//! Comma-separated items `DEST/LEN via ROUTER`, at most [`MAX_ROUTES`].
//! Each destination is written as its network (host bits zero: a typo is
//! refused rather than rounded), /1 to /32 (`0.0.0.0/0` is the default
//! route, `GATEWAY`'s), given once, not multicast, loopback, `0.0.0.0/8`
//! or the limited broadcast, and not inside the VM's own `SUBNET` (on-link
//! already; a destination covering it is fine, the longer prefix wins).
//!
//! A guest can only use a router it can reach: as Kea and dnsmasq leave
//! this to the operator, the check is ours. The router must be an address
//! of `SUBNET` other than its network, broadcast and the VM's own `IP`, or
//! `GATEWAY` itself (reachable through the on-link host route option 121
//! gives to a `GATEWAY` outside `SUBNET`).
//!
//! The routes are encoded for option 121 once, when the file is read, so
//! that a reply only borrows the bytes.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::binding::Binding;

/// The binding key.
pub const KEY: &str = "ROUTES";
/// Most routes one binding gives. With the host route and the default
/// route, option 121 then holds at most 16 × 9 + 9 + 5 = 158 bytes: one
/// option, never split (RFC 3396), whatever the client.
pub const MAX_ROUTES: usize = 16;
/// Bytes of one route in option 121 at most: width, 4 octets of
/// destination, 4 of router (RFC 3442 §2).
pub const MAX_ROUTE_LEN: usize = 9;

/// One route of `ROUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination, host bits zero, /1 to /32.
    pub dest: Ipv4Net,
    /// The router the guest sends it to.
    pub router: Ipv4Addr,
}

impl Route {
    /// Appends the route as option 121 writes it (RFC 3442 §2): the
    /// prefix length, the significant octets of the destination, the router.
    fn encode(&self, out: &mut Vec<u8>) {
        let width = self.dest.prefix_len();
        let significant = usize::from(width).div_ceil(8);
        out.push(width);
        out.extend_from_slice(&self.dest.network().octets()[..significant]);
        out.extend_from_slice(&self.router.octets());
    }
}

/// A binding's `ROUTES`, in order, with their option 121 encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    list: Vec<Route>,
    /// The routes as option 121 writes them, in order.
    wire: Box<[u8]>,
}

impl Routes {
    /// The routes of `list` (already checked), encoded once.
    pub fn new(list: Vec<Route>) -> Routes {
        let mut wire = Vec::with_capacity(list.len() * MAX_ROUTE_LEN);
        for r in &list {
            r.encode(&mut wire);
        }
        Routes {
            list,
            wire: wire.into(),
        }
    }

    /// The routes, in order.
    pub fn list(&self) -> &[Route] {
        &self.list
    }

    /// True without routes.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The routes in option 121's form (RFC 3442 §2), in order.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }
}

/// Why a `ROUTES` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutesError {
    /// An item that is not `DEST/LEN via ROUTER`.
    #[error("{0:?} is not DEST/LEN via ROUTER")]
    NotRoute(String),
    /// Not `a.b.c.d/len`.
    #[error("{0:?} is not an IPv4 prefix (a.b.c.d/len)")]
    NotPrefix(String),
    /// Not an IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    NotRouter(String),
    /// Bits set past the prefix length.
    #[error("{given} has host bits set (its network is {network})")]
    HostBitsSet {
        /// As written.
        given: Ipv4Net,
        /// What was probably meant.
        network: Ipv4Net,
    },
    /// `0.0.0.0/0`.
    #[error("0.0.0.0/0 is the default route: GATEWAY gives it")]
    DefaultRoute,
    /// Multicast, loopback, `0.0.0.0/8` or the limited broadcast.
    #[error("{0} is not a unicast destination")]
    NotUnicast(Ipv4Net),
    /// A destination given twice.
    #[error("{0} is given twice")]
    Duplicate(Ipv4Net),
    /// Inside `SUBNET`: on-link already.
    #[error("{dest} is inside SUBNET {subnet}: on-link already")]
    InsideSubnet {
        /// The route's destination.
        dest: Ipv4Net,
        /// The binding's subnet.
        subnet: Ipv4Net,
    },
    /// A router the guest cannot reach.
    #[error("router {router} of {dest} is neither in SUBNET{subnet} nor GATEWAY")]
    Unreachable {
        /// The route's destination.
        dest: Ipv4Net,
        /// Its router.
        router: Ipv4Addr,
        /// " a.b.c.d/n" when the binding has a subnet, else "".
        subnet: String,
    },
    /// A router that is the VM itself, or a network or broadcast address.
    #[error("router {router} of {dest} is not a host address of another machine")]
    NotHost {
        /// The route's destination.
        dest: Ipv4Net,
        /// Its router.
        router: Ipv4Addr,
    },
    /// More than [`MAX_ROUTES`].
    #[error("{0} routes: at most {MAX_ROUTES}")]
    TooMany(usize),
}

fn parse_item(item: &str) -> Result<Route, RoutesError> {
    let words: Vec<&str> = item.split_whitespace().collect();
    let [dest, via, router] = words[..] else {
        return Err(RoutesError::NotRoute(item.to_string()));
    };
    if !via.eq_ignore_ascii_case("via") {
        return Err(RoutesError::NotRoute(item.to_string()));
    }
    let dest: Ipv4Net = dest
        .parse()
        .map_err(|_| RoutesError::NotPrefix(dest.to_string()))?;
    let router: Ipv4Addr = router
        .parse()
        .map_err(|_| RoutesError::NotRouter(router.to_string()))?;
    if dest.trunc() != dest {
        return Err(RoutesError::HostBitsSet {
            given: dest,
            network: dest.trunc(),
        });
    }
    if dest.prefix_len() == 0 {
        return Err(RoutesError::DefaultRoute);
    }
    let a = dest.network();
    if a.is_multicast() || a.is_loopback() || a.octets()[0] == 0 || a.is_broadcast() {
        return Err(RoutesError::NotUnicast(dest));
    }
    Ok(Route { dest, router })
}

/// The router must be one the guest reaches: `GATEWAY`, or a host address
/// of `SUBNET` that is not the VM's own.
fn check_router(r: &Route, b: &Binding) -> Result<(), RoutesError> {
    if Some(r.router) == b.gateway {
        return Ok(());
    }
    let not_host = RoutesError::NotHost {
        dest: r.dest,
        router: r.router,
    };
    match b.subnet {
        Some(net) if net.contains(&r.router) => {
            let edge =
                net.prefix_len() < 31 && (r.router == net.network() || r.router == net.broadcast());
            if edge || Some(r.router) == b.ip {
                Err(not_host)
            } else {
                Ok(())
            }
        }
        subnet => Err(RoutesError::Unreachable {
            dest: r.dest,
            router: r.router,
            subnet: subnet.map(|n| format!(" {n}")).unwrap_or_default(),
        }),
    }
}

/// Parses and checks the value `v` of `b`'s `ROUTES` against the rest of
/// `b` (its `IP`, `SUBNET` and `GATEWAY`, parsed before).
pub fn parse(v: &str, b: &Binding) -> Result<Routes, RoutesError> {
    let items = super::list_items(v, MAX_ROUTES).map_err(RoutesError::TooMany)?;
    let mut out: Vec<Route> = Vec::with_capacity(items.len());
    for item in items {
        let r = parse_item(item)?;
        if out.iter().any(|o| o.dest == r.dest) {
            return Err(RoutesError::Duplicate(r.dest));
        }
        if let Some(subnet) = b.subnet.filter(|n| n.contains(&r.dest)) {
            return Err(RoutesError::InsideSubnet {
                dest: r.dest,
                subnet,
            });
        }
        check_router(&r, b)?;
        out.push(r);
    }
    Ok(Routes::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::MacAddr;

    fn binding() -> Binding {
        let mut b = Binding::new("tap0", MacAddr([0xaa, 0, 0, 0, 0, 0x10]));
        b.ip = Some(Ipv4Addr::new(192, 0, 2, 10));
        b.subnet = Some("192.0.2.0/24".parse().unwrap());
        b.gateway = Some(Ipv4Addr::new(192, 0, 2, 1));
        b
    }

    fn route(dest: &str, router: &str) -> Route {
        Route {
            dest: dest.parse().unwrap(),
            router: router.parse().unwrap(),
        }
    }

    #[test]
    fn items_in_order_and_their_option_121_bytes() {
        let r = parse(
            " 198.51.100.0/24 via 192.0.2.1,203.0.113.128/25 VIA 192.0.2.254 , 10.0.0.0/8 via 192.0.2.1, 203.0.113.7/32 via 192.0.2.1,",
            &binding(),
        )
        .unwrap();
        assert_eq!(
            r.list(),
            [
                route("198.51.100.0/24", "192.0.2.1"),
                route("203.0.113.128/25", "192.0.2.254"),
                route("10.0.0.0/8", "192.0.2.1"),
                route("203.0.113.7/32", "192.0.2.1"),
            ]
        );
        // RFC 3442 §2: width, significant octets of the destination, router.
        #[rustfmt::skip]
        let want: &[u8] = &[
            24, 198, 51, 100, 192, 0, 2, 1,
            25, 203, 0, 113, 128, 192, 0, 2, 254,
            8, 10, 192, 0, 2, 1,
            32, 203, 0, 113, 7, 192, 0, 2, 1,
        ];
        assert_eq!(r.wire(), want);
        assert!(parse("", &binding()).unwrap().is_empty());
        // A destination covering SUBNET is fine.
        assert_eq!(
            parse("192.0.0.0/16 via 192.0.2.1", &binding())
                .unwrap()
                .list()
                .len(),
            1
        );
    }

    #[test]
    fn a_gateway_outside_the_subnet_routes_too() {
        let mut b = binding();
        b.gateway = Some(Ipv4Addr::new(198, 51, 100, 1));
        assert!(parse("203.0.113.0/24 via 198.51.100.1", &b).is_ok());
        b.subnet = None;
        assert!(parse("203.0.113.0/24 via 198.51.100.1", &b).is_ok());
        assert_eq!(
            parse("203.0.113.0/24 via 192.0.2.1", &b)
                .unwrap_err()
                .to_string(),
            "router 192.0.2.1 of 203.0.113.0/24 is neither in SUBNET nor GATEWAY"
        );
    }

    #[test]
    fn refusals_say_why() {
        let b = binding();
        let e = |v: &str| parse(v, &b).unwrap_err().to_string();
        assert_eq!(
            e("198.51.100.0/24 192.0.2.1"),
            "\"198.51.100.0/24 192.0.2.1\" is not DEST/LEN via ROUTER"
        );
        assert_eq!(
            e("198.51.100.0/24 dev 192.0.2.1"),
            "\"198.51.100.0/24 dev 192.0.2.1\" is not DEST/LEN via ROUTER"
        );
        assert_eq!(
            e("198.51.100.0 via 192.0.2.1"),
            "\"198.51.100.0\" is not an IPv4 prefix (a.b.c.d/len)"
        );
        assert_eq!(e("198.51.100.0/24 via gw"), "\"gw\" is not an IPv4 address");
        assert_eq!(
            e("198.51.100.1/24 via 192.0.2.1"),
            "198.51.100.1/24 has host bits set (its network is 198.51.100.0/24)"
        );
        assert_eq!(
            e("0.0.0.0/0 via 192.0.2.1"),
            "0.0.0.0/0 is the default route: GATEWAY gives it"
        );
        for bad in [
            "224.0.0.0/4",
            "127.0.0.0/8",
            "0.0.0.0/8",
            "255.255.255.255/32",
        ] {
            assert_eq!(
                e(&format!("{bad} via 192.0.2.1")),
                format!("{bad} is not a unicast destination")
            );
        }
        assert_eq!(
            e("198.51.100.0/24 via 192.0.2.1, 198.51.100.0/24 via 192.0.2.2"),
            "198.51.100.0/24 is given twice"
        );
        assert_eq!(
            e("192.0.2.128/25 via 192.0.2.1"),
            "192.0.2.128/25 is inside SUBNET 192.0.2.0/24: on-link already"
        );
        assert_eq!(
            e("198.51.100.0/24 via 203.0.113.1"),
            "router 203.0.113.1 of 198.51.100.0/24 is neither in SUBNET 192.0.2.0/24 nor GATEWAY"
        );
        for own in ["192.0.2.10", "192.0.2.0", "192.0.2.255"] {
            assert_eq!(
                e(&format!("198.51.100.0/24 via {own}")),
                format!("router {own} of 198.51.100.0/24 is not a host address of another machine")
            );
        }
        let many: Vec<String> = (0..=MAX_ROUTES)
            .map(|i| format!("198.51.{i}.0/24 via 192.0.2.1"))
            .collect();
        assert_eq!(e(&many.join(",")), "17 routes: at most 16");
    }
}
