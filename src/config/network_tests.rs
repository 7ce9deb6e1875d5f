use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::config::Config;

const PATH: &str = "/etc/vnet/vnet.conf";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(PATH, text.as_bytes())
}

fn network(text: &str) -> Network {
    let config = parse(text).unwrap();
    config
        .network(&IfName::new("nat0").unwrap())
        .unwrap()
        .clone()
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

fn cidr(s: &str) -> Cidr {
    Cidr::parse(s).unwrap()
}

#[test]
fn a_full_section_parses() {
    let n = network(
        "bridge = nat0\n[network nat0]\naddress = 10.77.0.1/24 fd00:77::1/64\nforward = route\n\
         dhcp-range = 10.77.0.100 10.77.0.199\nlease-time = 90m\nipv6-ra = yes\n",
    );
    assert_eq!(n.ipv4, cidr("10.77.0.1/24"));
    assert_eq!(n.ipv6, Some(cidr("fd00:77::1/64")));
    assert_eq!(n.forward, Forward::Route);
    assert_eq!(
        n.dhcp,
        Some((Ipv4Addr::new(10, 77, 0, 100), Ipv4Addr::new(10, 77, 0, 199)))
    );
    assert_eq!(n.lease, 5400);
    assert!(n.ra && n.needs_dnsmasq());
    assert_eq!(n.line, 2);
}

#[test]
fn defaults_are_nat_and_an_hour() {
    let n = network("[network nat0]\naddress = 10.77.0.1/24\n");
    assert_eq!(n.forward, Forward::Nat);
    assert_eq!(n.lease, 3600);
    assert!(!n.needs_dnsmasq());
    assert!(parse("")
        .unwrap()
        .network(&IfName::new("nat0").unwrap())
        .is_none());
}

#[test]
fn bad_sections_name_their_line() {
    assert_eq!(
        error("[network nat0]\nforward = nat\n"),
        "/etc/vnet/vnet.conf:1: [network nat0] needs an IPv4 \"address\", like 10.77.0.1/24"
    );
    assert_eq!(
        error("[network nat0]\naddress = 10.77.0.1/24\ndhcp-range = 10.78.0.2 10.78.0.9\n"),
        "/etc/vnet/vnet.conf:3: dhcp-range: 10.78.0.2 is outside the subnet 10.77.0.0/24"
    );
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\ndhcp-range = 10.77.0.9 10.77.0.2\n")
            .ends_with(":3: dhcp-range: 10.77.0.9 comes after 10.77.0.2")
    );
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\ndhcp-range = 10.77.0.1 10.77.0.9\n")
            .contains("the range holds 10.77.0.1")
    );
    assert!(error("[network nat0]\naddress = 10.77.0.0/24\n").contains("network or broadcast"));
    assert!(error("[network nat0]\naddress = 10.77.0.1/31\n").contains("/8 to /30"));
    assert!(error("[network nat0]\naddress = fd00::1/64\n").contains("IPv4 address is needed"));
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\nipv6-ra = yes\n")
            .ends_with(":3: ipv6-ra: needs an IPv6 address with a /64 prefix")
    );
    assert_eq!(
        error("[network nat0]\naddress = 10.77.0.1/24\nforward = masquerade\n"),
        "/etc/vnet/vnet.conf:3: forward: \"masquerade\" is not \"nat\", \"route\" or \"none\""
    );
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\nlease-time = 1m\n").contains("at least 2m")
    );
    assert!(error("[network nat0]\naddres = 10.77.0.1/24\n").ends_with(
        ":2: unknown key \"addres\" in a [network] section (did you mean \"address\"?)"
    ));
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\n[network nat0]\n")
            .ends_with(":3: [network nat0] is already defined on line 1")
    );
    assert!(error("[network a/b]\n").contains("not a valid interface name"));
    assert!(
        error("[network nat0]\naddress = 10.77.0.1/24\naddress = 10.77.0.1/24\n")
            .contains("already set on line 2")
    );
}

#[test]
fn cidr_arithmetic() {
    let c = cidr("10.77.8.5/21");
    assert_eq!(c.network().to_string(), "10.77.8.0/21");
    assert_eq!(c.broadcast(), Some(Ipv4Addr::new(10, 77, 15, 255)));
    assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 248, 0));
    assert!(c.contains(IpAddr::V4(Ipv4Addr::new(10, 77, 15, 1))));
    assert!(!c.contains(IpAddr::V4(Ipv4Addr::new(10, 77, 16, 1))));
    assert!(c.overlaps(&cidr("10.0.0.1/8")));
    assert!(cidr("10.0.0.1/8").overlaps(&c));
    assert!(!c.overlaps(&cidr("10.78.0.1/16")));
    assert!(!c.overlaps(&cidr("fd00::1/8")));
    assert_eq!(cidr("fd00:77::1/64").network().to_string(), "fd00:77::/64");
    assert!(Cidr::parse("10.0.0.1").is_err());
    assert!(Cidr::parse("10.0.0.1/33").is_err());
    assert!(Cidr::parse("10.0.0.1/+3").is_err());
}
