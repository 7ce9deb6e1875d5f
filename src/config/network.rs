//! `[network BRIDGE]` sections: a bridge-backed network that vnet sets up
//! itself (bridge, host address, forwarding, nftables rules, dnsmasq).
//!
//! ```text
//! [network virbr7]
//! address = 10.77.0.1/24 fd00:77::1/64
//! forward = nat
//! dhcp-range = 10.77.0.100 10.77.0.199
//! lease-time = 1h
//! ipv6-ra = yes
//! ```
//!
//! The words follow systemd.network(5) (`Address=`, `IPv6SendRA=`) and
//! libvirt's `<forward mode='nat|route'/>`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

pub use super::cidr::Cidr;

use super::values::parse_bool;
use super::ConfigError;
use crate::name::IfName;

/// `forward = nat | route | none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Masquerade IPv4 leaving the subnet (libvirt's `mode='nat'`).
    Nat,
    /// Forward without translation (libvirt's `mode='route'`).
    Route,
    /// An isolated network with a host address: no forwarding rules.
    None,
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forward::Nat => "nat",
            Forward::Route => "route",
            Forward::None => "none",
        })
    }
}

/// One `[network BRIDGE]` section, checked whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub bridge: IfName,
    /// Where the section starts, for messages.
    pub line: usize,
    pub ipv4: Cidr,
    pub ipv6: Option<Cidr>,
    pub forward: Forward,
    /// The first and last address dnsmasq hands out; no DHCP when `None`.
    pub dhcp: Option<(Ipv4Addr, Ipv4Addr)>,
    /// Seconds.
    pub lease: u32,
    /// Router advertisements for the IPv6 prefix (dnsmasq `enable-ra`).
    pub ra: bool,
}

impl Network {
    /// Whether dnsmasq has anything to serve.
    pub fn needs_dnsmasq(&self) -> bool {
        self.dhcp.is_some() || self.ra
    }
}

/// The keys of a section as they are read, each with its line.
#[derive(Clone, Debug, Default)]
pub(super) struct Draft {
    bridge: Option<IfName>,
    line: usize,
    address: Option<(Vec<Cidr>, usize)>,
    forward: Option<(Forward, usize)>,
    dhcp: Option<((Ipv4Addr, Ipv4Addr), usize)>,
    lease: Option<(u32, usize)>,
    ra: Option<(bool, usize)>,
}

pub(super) const NETWORK_KEYS: &[&str] =
    &["address", "forward", "dhcp-range", "lease-time", "ipv6-ra"];

fn once<T>(slot: &mut Option<(T, usize)>, value: T, line: usize, key: &str) -> Result<(), String> {
    if let Some((_, first)) = slot {
        return Err(format!("key \"{key}\" is already set on line {first}"));
    }
    *slot = Some((value, line));
    Ok(())
}

impl Draft {
    pub(super) fn new(bridge: IfName, line: usize) -> Self {
        Draft {
            bridge: Some(bridge),
            line,
            ..Draft::default()
        }
    }

    pub(super) fn bridge(&self) -> &IfName {
        self.bridge
            .as_ref()
            .expect("a section always names its bridge")
    }

    pub(super) fn line(&self) -> usize {
        self.line
    }

    pub(super) fn store(&mut self, key: &str, value: &str, line: usize) -> Result<(), String> {
        let with_key = |e: String| format!("{key}: {e}");
        match key {
            "address" => once(
                &mut self.address,
                addresses(value).map_err(with_key)?,
                line,
                key,
            ),
            "forward" => once(
                &mut self.forward,
                forward(value).map_err(with_key)?,
                line,
                key,
            ),
            "dhcp-range" => once(&mut self.dhcp, range(value).map_err(with_key)?, line, key),
            "lease-time" => once(&mut self.lease, lease(value).map_err(with_key)?, line, key),
            "ipv6-ra" => once(
                &mut self.ra,
                parse_bool(value).map_err(with_key)?,
                line,
                key,
            ),
            _ => Err(super::keys::unknown_among(
                key,
                NETWORK_KEYS,
                "a [network] section",
            )),
        }
    }

    /// Checks the keys against each other; errors name the key's line.
    pub(super) fn finish(self, path: &str) -> Result<Network, ConfigError> {
        let fail = |line: usize, msg: String| ConfigError {
            path: path.to_owned(),
            line: Some(line),
            problem: super::Problem::Invalid(msg),
        };
        let bridge = self.bridge.expect("a section always names its bridge");
        let Some((addresses, address_line)) = self.address else {
            return Err(fail(
                self.line,
                format!("[network {bridge}] needs an IPv4 \"address\", like 10.77.0.1/24"),
            ));
        };
        let ipv4 = addresses.iter().find(|c| c.addr.is_ipv4()).copied();
        let ipv6 = addresses.iter().find(|c| c.addr.is_ipv6()).copied();
        let Some(ipv4) = ipv4 else {
            return Err(fail(
                address_line,
                "address: an IPv4 address is needed".into(),
            ));
        };
        if !(8..=30).contains(&ipv4.prefix) {
            return Err(fail(
                address_line,
                format!("address: {ipv4}: the prefix must be /8 to /30"),
            ));
        }
        if ipv4.network().addr == ipv4.addr || ipv4.broadcast() == Some(ip4(ipv4.addr)) {
            return Err(fail(
                address_line,
                format!("address: {ipv4} is the subnet's network or broadcast address"),
            ));
        }
        let ra = self.ra;
        if let Some((true, line)) = ra {
            if ipv6.map(|c| c.prefix) != Some(64) {
                return Err(fail(
                    line,
                    "ipv6-ra: needs an IPv6 address with a /64 prefix".into(),
                ));
            }
        }
        if let Some(((first, last), line)) = self.dhcp {
            let outside = [first, last]
                .into_iter()
                .find(|a| !ipv4.contains(IpAddr::V4(*a)));
            if let Some(a) = outside {
                return Err(fail(
                    line,
                    format!("dhcp-range: {a} is outside the subnet {}", ipv4.network()),
                ));
            }
            if first > last {
                return Err(fail(
                    line,
                    format!("dhcp-range: {first} comes after {last}"),
                ));
            }
            let own = ip4(ipv4.addr);
            let (net, bcast) = (ip4(ipv4.network().addr), ipv4.broadcast().unwrap_or(own));
            if let Some(a) = [own, net, bcast]
                .into_iter()
                .find(|a| (first..=last).contains(a))
            {
                return Err(fail(line, format!("dhcp-range: the range holds {a}, the bridge's own, network or broadcast address")));
            }
        }
        Ok(Network {
            bridge,
            line: self.line,
            ipv4,
            ipv6,
            forward: self.forward.map_or(Forward::Nat, |(f, _)| f),
            dhcp: self.dhcp.map(|(r, _)| r),
            lease: self.lease.map_or(3600, |(l, _)| l),
            ra: ra.is_some_and(|(ra, _)| ra),
        })
    }
}

fn ip4(addr: IpAddr) -> Ipv4Addr {
    match addr {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

/// `10.77.0.1/24 fd00:77::1/64`: at most one of each family.
fn addresses(value: &str) -> Result<Vec<Cidr>, String> {
    let all: Vec<Cidr> = value
        .split_whitespace()
        .map(Cidr::parse)
        .collect::<Result<_, _>>()?;
    let v4 = all.iter().filter(|c| c.addr.is_ipv4()).count();
    if v4 > 1 || all.len() - v4 > 1 {
        return Err("at most one IPv4 and one IPv6 address".into());
    }
    Ok(all)
}

fn forward(value: &str) -> Result<Forward, String> {
    match value {
        "nat" => Ok(Forward::Nat),
        "route" => Ok(Forward::Route),
        "none" => Ok(Forward::None),
        _ => Err(format!("\"{value}\" is not \"nat\", \"route\" or \"none\"")),
    }
}

/// `10.77.0.100 10.77.0.199`: the first and the last address handed out.
fn range(value: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let [first, last] = words[..] else {
        return Err(format!(
            "\"{value}\" is not two IPv4 addresses, first and last"
        ));
    };
    let parse = |w: &str| {
        w.parse::<Ipv4Addr>()
            .map_err(|_| format!("\"{w}\" is not an IPv4 address"))
    };
    Ok((parse(first)?, parse(last)?))
}

/// `3600`, `90m`, `12h`: at least 2 minutes, as dnsmasq demands.
fn lease(value: &str) -> Result<u32, String> {
    let bad = || format!("\"{value}\" is not a time like 3600, 90m or 12h (at least 2m)");
    let (digits, unit) = match value.strip_suffix(['s', 'm', 'h']) {
        Some(d) => (d, &value[d.len()..]),
        None => (value, "s"),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "m" => 60,
        "h" => 3600,
        _ => 1,
    };
    match n.checked_mul(scale) {
        Some(s) if s >= 120 => Ok(s),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
