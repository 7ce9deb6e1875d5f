//! The documents the packages install must agree with the code: the example
//! /etc/vnet/vnet.conf parses and changes nothing, every key and the
//! [access] syntax are documented in it and in vnet.conf(5), and
//! vnet-ifup(8) names every option and variable. A new key fails here until
//! both documents describe it.

use vnet::config::{Config, Mac, Mtu, Origin};
use vnet::name::IfName;

const EXAMPLE: &str = include_str!("../packaging/vnet.conf");
const CONF_MAN: &str = include_str!("../packaging/man/vnet.conf.5");
const IFUP_MAN: &str = include_str!("../packaging/man/vnet-ifup.8");

fn tap(name: &str) -> IfName {
    IfName::new(name).expect("a valid name")
}

/// The names of every key, from the code's own key table.
fn keys() -> Vec<&'static str> {
    let defaults = Config::parse("empty", b"").expect("an empty file parses");
    let resolved = defaults
        .resolve(&tap("vnet0"), None)
        .expect("the defaults resolve");
    resolved.rows().into_iter().map(|(key, _, _)| key).collect()
}

/// The example with its commented-out settings (`#key = ...`, `#[match ...]`)
/// switched on; prose comments (`# ...`) stay comments.
fn example_switched_on() -> String {
    EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c == '[' || c.is_ascii_alphabetic()) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_shipped_example_parses_and_changes_nothing() {
    let config = Config::parse("packaging/vnet.conf", EXAMPLE.as_bytes())
        .unwrap_or_else(|e| panic!("the example does not parse: {e}"));
    for name in ["vnet0", "vnet12", "lab-a"] {
        let resolved = config.resolve(&tap(name), None).expect("resolves");
        for (key, value, origin) in resolved.rows() {
            assert_eq!(*origin, Origin::Default, "{name}: {key} = {value}");
        }
    }
}

#[test]
fn the_examples_in_the_shipped_file_do_what_it_says() {
    let text = example_switched_on();
    let config = Config::parse("switched-on", text.as_bytes())
        .unwrap_or_else(|e| panic!("the examples do not parse: {e}\n{text}"));
    let resolve = |name| config.resolve(&tap(name), None).expect("resolves");
    let vnet12 = resolve("vnet12");
    assert_eq!(vnet12.bridge.value, tap("br1"));
    assert_eq!(vnet12.mtu.value, Mtu::Bridge);
    let lab = resolve("lab-a");
    assert_eq!(lab.bridge.value, tap("lab"));
    assert!(lab.create_bridge.value);
    assert_eq!(lab.mtu.value, Mtu::Fixed(9000));
    assert_eq!(lab.mac.value, Mac::Keep);
    assert_eq!(lab.isolated.value, Some(true));
    assert_eq!(resolve("vnet0").bridge.value, tap("br0"));
    let rules = config.access_rules();
    assert_eq!(rules.len(), 2, "the two [access] examples");
    assert_eq!(rules[0].glob.as_str(), "br0");
    assert_eq!((rules[0].allow.len(), rules[0].deny.len()), (2, 1));
}

#[test]
fn access_control_is_in_the_example_and_the_man_pages() {
    let conf_man = CONF_MAN.replace("\\-", "-");
    for needle in [
        "\n.SH ACCESS CONTROL\n",
        "\n\\fBallow =\\fP",
        "\n\\fBdeny =\\fP",
        "setcap",
    ] {
        assert!(
            conf_man.contains(needle),
            "vnet.conf.5 does not document {needle:?}"
        );
    }
    for needle in ["#[access ", "#allow = ", "#deny = "] {
        assert!(
            EXAMPLE.lines().any(|l| l.starts_with(needle)),
            "packaging/vnet.conf has no commented example {needle:?}"
        );
    }
    let ifup_man = IFUP_MAN.replace("\\-", "-");
    for needle in ["setcap cap_net_admin+ep", "/dev/log", "mode tap user"] {
        assert!(
            ifup_man.contains(needle),
            "vnet-ifup.8 does not mention {needle:?}"
        );
    }
}

#[test]
fn every_key_is_in_the_example_and_the_man_page() {
    let man = CONF_MAN.replace("\\-", "-");
    for key in keys() {
        assert!(
            EXAMPLE
                .lines()
                .any(|l| l.starts_with(&format!("#{key} = "))),
            "packaging/vnet.conf lacks a commented default \"#{key} = ...\""
        );
        let entry = format!("\n\\fB{key} =\\fP");
        assert!(
            man.contains(&format!("\n.TP{entry}")) || man.contains(&format!("\n.TQ{entry}")),
            "packaging/man/vnet.conf.5 lacks a KEYS entry (.TP or .TQ) for {key}"
        );
    }
}

#[test]
fn the_man_page_names_every_option_and_variable() {
    let man = IFUP_MAN.replace("\\-", "-");
    for needle in [
        "--check",
        "--help",
        "--version",
        "VNET_CONFIG",
        "VNET_BRIDGE",
        "VNET_LOG",
        "/etc/vnet/vnet.conf",
        "/usr/libexec/vnet-ifup",
        "/usr/libexec/vnet-ifdown",
        ".SH EXIT STATUS",
    ] {
        assert!(
            man.contains(needle),
            "vnet-ifup.8 does not mention {needle}"
        );
    }
}

#[test]
fn networks_are_in_the_example_and_the_man_pages() {
    let text = example_switched_on();
    let config = Config::parse("switched-on", text.as_bytes()).expect("parses");
    let net = config
        .network(&tap("nat0"))
        .expect("the [network nat0] example");
    assert!(net.dhcp.is_some());
    let conf_man = CONF_MAN.replace("\\-", "-");
    assert!(
        conf_man.contains("\n.SH NETWORKS\n"),
        "vnet.conf.5 has no NETWORKS"
    );
    for key in ["address", "forward", "dhcp-range", "lease-time", "ipv6-ra"] {
        assert!(
            EXAMPLE
                .lines()
                .any(|l| l.starts_with(&format!("#{key} = "))),
            "packaging/vnet.conf lacks \"#{key} = ...\""
        );
        assert!(
            conf_man.contains(&format!("\n.TP\n.BI \"{key} = "))
                || conf_man.contains(&format!("\n.TP\n.BR \"{key} = ")),
            "vnet.conf.5 lacks an entry for {key}"
        );
    }
    let ifup_man = IFUP_MAN.replace("\\-", "-");
    for needle in [
        "--network-up",
        "--network-down",
        "VNET_RUNTIME_DIR",
        "/run/vnet/",
        "dnsmasq-base",
    ] {
        assert!(
            ifup_man.contains(needle),
            "vnet-ifup.8 does not mention {needle}"
        );
    }
}
