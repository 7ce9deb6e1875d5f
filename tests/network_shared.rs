//! What a network's tear-down must leave: an administrator's bridge, and
//! the chains of another network in vnet's table. And an IPv6 network:
//! its address, the IPv6 forwarding switch, dnsmasq's router
//! advertisements. Each test in its own namespace (tests/common/network.rs).

mod common;

use common::network::Net;

const TWO: &str = "bridge = nat0
[network nat0]
address = 10.77.0.1/24
[network nat1]
address = 10.78.0.1/24 fd00:78::1/64
forward = route
dhcp-range = 10.78.0.10 10.78.0.20
ipv6-ra = yes
";

fn chains(net: &Net) -> Vec<String> {
    let ruleset = net.ruleset();
    let items = ruleset["nftables"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|i| i["chain"]["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn tearing_one_network_down_leaves_the_other() {
    let Some(net) = Net::new(TWO) else { return };
    net.vnet(&["--network-up", "nat0"], &[]).expect(0);
    net.vnet(&["--network-up", "nat1"], &[]).expect(0);
    assert_eq!(
        chains(&net),
        ["postrouting-nat0", "forward-nat0", "forward-nat1"]
    );
    let nat1 = net.nft(&["list", "chain", "inet", "vnet", "forward-nat1"]);
    net.vnet(&["--network-down", "nat0"], &[]).expect(0);
    assert_eq!(chains(&net), ["forward-nat1"]);
    assert_eq!(
        net.nft(&["list", "chain", "inet", "vnet", "forward-nat1"]),
        nat1
    );
    assert!(net.ns.link("nat0").is_none() && net.ns.link("nat1").is_some());
    assert_eq!(net.dnsmasqs().len(), 1, "nat1's dnsmasq still runs");
    net.vnet(&["--network-down", "nat1"], &[]).expect(0);
    assert!(!net.has_vnet_table());
    assert!(net.dnsmasqs().is_empty());
}

#[test]
fn an_ipv6_subnet_is_routed_and_advertised() {
    let Some(net) = Net::new(TWO) else { return };
    net.vnet(&["--network-up", "nat1"], &[]).expect(0);
    let v6 = net.ns.ip(&["-6", "-o", "addr", "show", "dev", "nat1"]);
    assert!(v6.contains("inet6 fd00:78::1/64 scope global"), "{v6}");
    assert_eq!(net.sysctl("net/ipv6/conf/all/forwarding"), "1");
    assert_eq!(net.sysctl("net/ipv4/ip_forward"), "1");
    let pid = net.dnsmasqs()[0];
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    for arg in [
        "--enable-ra",
        "--dhcp-range=fd00:78::,ra-only,64",
        "--interface=nat1",
    ] {
        assert!(args.iter().any(|a| a == arg), "{arg} missing: {args:?}");
    }
    net.vnet(&["--network-down", "nat1"], &[]).expect(0);
}

/// A bridge the administrator made keeps existing; vnet takes back only
/// the address it added.
#[test]
fn an_administrators_bridge_outlives_the_network() {
    let Some(net) = Net::new(TWO) else { return };
    net.ns.add_bridge("nat0", 1500);
    net.vnet(&["--network-up", "nat0"], &[]).expect(0);
    let v4 = |net: &Net| net.ns.ip(&["-4", "-o", "addr", "show", "dev", "nat0"]);
    assert!(v4(&net).contains("10.77.0.1/24"));
    let down = net.vnet(&["--network-down", "nat0"], &[]);
    assert_eq!(
        down.expect(0).stdout,
        "network nat0: deleted chains postrouting-nat0, forward-nat0, removed 10.77.0.1/24\n"
    );
    assert!(net.ns.link("nat0").is_some(), "the admin's bridge is gone");
    assert_eq!(v4(&net), "");

    // An address the administrator gave it is theirs: vnet uses it and
    // leaves it.
    net.ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "nat0"]);
    net.vnet(&["--network-up", "nat0"], &[]).expect(0);
    net.vnet(&["--network-down", "nat0"], &[]).expect(0);
    assert!(v4(&net).contains("10.77.0.1/24"));
}

/// `forward = none`: a host address and DHCP, no rules, no forwarding.
#[test]
fn an_isolated_network_has_no_rules_and_no_forwarding() {
    let config = "[network iso0]\naddress = 10.79.0.1/24\nforward = none\n\
                  dhcp-range = 10.79.0.10 10.79.0.20\n";
    let Some(net) = Net::new(config) else { return };
    net.vnet(&["--network-up", "iso0"], &[]).expect(0);
    assert!(!net.has_vnet_table());
    assert_eq!(net.sysctl("net/ipv4/ip_forward"), "0");
    assert_eq!(net.dnsmasqs().len(), 1);
    let v4 = net.ns.ip(&["-4", "-o", "addr", "show", "dev", "iso0"]);
    assert!(v4.contains("10.79.0.1/24"), "{v4}");
    let down = net.vnet(&["--network-down", "iso0"], &[]);
    assert_eq!(
        down.expect(0).stdout,
        "network iso0: stopped dnsmasq, deleted bridge iso0\n"
    );
}

/// dnsmasq failing to bind (another dnsmasq, started for the same bridge
/// from another runtime directory, holds the address) shows its own
/// message, and leaves neither its lease file nor anything else behind.
#[test]
fn a_dnsmasq_that_cannot_bind_leaves_nothing_behind() {
    let Some(net) = Net::new(TWO) else { return };
    net.vnet(&["--network-up", "nat1"], &[]).expect(0);
    let other = net.ns.path("other-run");
    let other = other.to_str().expect("path");
    let before = net.snapshot();
    let run = net.vnet(&["--network-up", "nat1"], &[("VNET_RUNTIME_DIR", other)]);
    let line = run.expect(1).one_line().to_owned();
    assert!(
        line.starts_with("vnet-ifup: cannot set up network nat1: dnsmasq failed to start: "),
        "{line}"
    );
    assert!(line.contains("Address already in use"), "{line}");
    assert_eq!(net.snapshot(), before);
    let left: Vec<_> = std::fs::read_dir(other)
        .expect("the runtime directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["nat1.lock"], "files left in {other}");
    net.vnet(&["--network-down", "nat1"], &[]).expect(0);
}
