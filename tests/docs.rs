//! The documents the packages install must agree with the code: the example
//! /etc/vnet/vnet.conf parses and changes nothing, every key and the
//! [access] syntax are documented in it and in vnet.conf(5), and
//! vnet-ifup(8) names every option and variable. A new key fails here until
//! both documents describe it. README's examples that can run, run here:
//! its configuration examples parse and mean what it says, and its
//! `--check` output and error lines are what vnet prints.

mod common;

use common::{Netns, IFUP};
use vnet::config::{Config, Mac, Mtu, Origin};
use vnet::name::IfName;

const README: &str = include_str!("../README.md");
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
    for name in ["tap-web0", "tap-db12", "lab-a"] {
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
    let db = resolve("tap-db12");
    assert_eq!(db.bridge.value, tap("br1"));
    assert_eq!(db.mtu.value, Mtu::Bridge);
    let lab = resolve("lab-a");
    assert_eq!(lab.bridge.value, tap("lab"));
    assert!(lab.create_bridge.value);
    assert_eq!(lab.mtu.value, Mtu::Fixed(9000));
    assert_eq!(lab.mac.value, Mac::Keep);
    assert_eq!(lab.isolated.value, Some(true));
    assert_eq!(resolve("tap-web0").bridge.value, tap("br0"));
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

/// The body of the first README code block opened by `fence` (such as
/// "```ini") after the first line that starts with `after`.
fn readme_block(after: &str, fence: &str) -> Vec<&'static str> {
    let mut lines = README.lines().skip_while(|l| !l.starts_with(after));
    // Step over whole blocks, so a closing fence is never taken for an opening one.
    while let Some(open) = lines.by_ref().find(|l| l.trim_start().starts_with("```")) {
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim_start() != "```")
            .collect();
        if open.trim_start() == fence {
            return block;
        }
    }
    panic!("README has no {fence} block after {after:?}");
}

/// `actual` matches README's `expected` lines, where a "..." line stands
/// for any number of lines.
fn matches_elided(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => {
            (0..=actual.len()).any(|skip| matches_elided(rest, &actual[skip..]))
        }
        Some((line, rest)) => actual.first() == Some(line) && matches_elided(rest, &actual[1..]),
    }
}

#[test]
fn the_readme_configuration_examples_parse_and_do_what_they_say() {
    let text = readme_block("## Configuration", "```ini").join("\n");
    let config = Config::parse("README", text.as_bytes()).expect("README's example parses");
    let resolve = |name| config.resolve(&tap(name), None).expect("resolves");
    assert_eq!(resolve("tap-web0").bridge.value, tap("br0"));
    assert_eq!(resolve("tap-db1").bridge.value, tap("br1"));
    let lab = resolve("tap-lab1");
    assert_eq!((lab.bridge.value, lab.mac.value), (tap("lab"), Mac::Keep));

    let text = readme_block("## Running QEMU unprivileged", "```ini").join("\n");
    let config = Config::parse("README", text.as_bytes()).expect("the [access] example parses");
    let globs: Vec<&str> = config
        .access_rules()
        .iter()
        .map(|r| r.glob.as_str())
        .collect();
    assert_eq!(globs, ["br0", "lab-*"]);
}

/// README's Debugging section: its vnet.conf, its command, its output.
#[test]
fn the_readme_check_example_is_what_vnet_prints() {
    let conf = readme_block("## Debugging", "```ini");
    let shown = readme_block("## Debugging", "```");
    let (command, expected) = shown.split_first().expect("a command line");
    assert_eq!(*command, "$ VNET_CONFIG=vnet.conf vnet-ifup --check tap-a");
    if !common::privileged() {
        return;
    }
    let ns = Netns::new();
    ns.add_bridge("lan", 9000);
    ns.add_tap("tap-a");
    let file = ns.path("vnet.conf");
    std::fs::write(&file, conf.join("\n") + "\n").expect("write vnet.conf");
    let out = ns
        .command(&IFUP)
        .args(["--check", "tap-a"])
        .env("VNET_CONFIG", "vnet.conf")
        .current_dir(file.parent().expect("the test's directory"))
        .output()
        .expect("run vnet-ifup");
    let run = common::Run::from(out);
    run.expect(0);
    let actual: Vec<&str> = run.stdout.lines().collect();
    assert!(
        matches_elided(expected, &actual),
        "README shows:\n{}\nvnet prints:\n{}",
        expected.join("\n"),
        run.stdout
    );
}

/// README: the packages hold the binaries cargo test runs, and make deb
/// gets them from cargo build without compiling the tests. That holds
/// while the tests switch on no feature of a crate the binaries link:
/// then both builds are one build, byte for byte.
#[test]
fn the_tests_switch_on_no_feature_the_binaries_lack() {
    let features = |edges: &str| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args(["tree", "--offline", "--locked", "--prefix", "none"])
            .args(["-e", edges, "-f", "{p} {f}"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo tree");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim_end_matches(" (*)").to_owned())
            .collect();
        lines.sort();
        lines.dedup();
        lines
    };
    let product = features("normal");
    let tests = features("normal,dev");
    for crate_features in &product {
        let name = crate_features
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let in_tests = tests
            .iter()
            .find(|l| l.split(' ').take(2).eq(name.split(' ')));
        assert_eq!(
            in_tests,
            Some(crate_features),
            "the tests build {name} with other features than the binaries do"
        );
    }
}

/// README's "Exit status and messages" lines are what vnet prints in each
/// case: a missing bridge, a physical NIC (built from the library, since a
/// namespace cannot hold one), and a QEMU without CAP_NET_ADMIN with the
/// default configuration, for vnet-ifup and vnet-ifdown. QEMU's "Failure"
/// example repeats the first.
#[test]
fn the_readme_error_lines_are_what_vnet_prints() {
    use vnet::error::{Error, Failure};
    use vnet::netlink::Link;

    let shown = readme_block("## Exit status and messages", "```");
    assert_eq!(shown.len(), 4, "{shown:#?}");
    let failure = readme_block("- **Failure.**", "```");
    assert_eq!(
        failure[0].trim(),
        shown[0],
        "the Failure example's first line"
    );
    let man = IFUP_MAN.replace("\\-", "-");
    for line in &shown {
        assert!(
            man.contains(line),
            "vnet-ifup.8 DIAGNOSTICS lacks README's {line}"
        );
    }

    let nic = Link {
        index: 2,
        name: "eth0".into(),
        kind: None,
        tun: None,
        bridge: None,
        mtu: 1500,
        mac: Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
        master: None,
        up: true,
        loopback: false,
    };
    let refusal = vnet::policy::check_tap(&nic).expect_err("a NIC is refused");
    let error = Error::attach(&"eth0", &"br0", Failure::Refused(refusal));
    assert_eq!(shown[1], format!("vnet-ifup: {error}"));

    if !common::privileged() {
        return;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 1500);
    ns.add_tap("tap-web0");
    ns.ip(&["link", "set", "tap-web0", "address", "52:54:00:12:34:56"]);
    let missing = ns.ifup("tap-web0", &[("VNET_BRIDGE", "br7")]);
    assert_eq!(missing.expect(1).one_line(), shown[0]);

    let unprivileged = |bin: &str| {
        let args = ["--inh-caps=-all", "--bounding-set=-all", bin, "tap-web0"];
        ns.run("/usr/bin/setpriv", &args, &[])
    };
    assert_eq!(unprivileged(&IFUP).expect(1).one_line(), shown[2]);
    ns.ip(&["link", "set", "tap-web0", "master", "br0", "up"]);
    let detach = unprivileged(&common::IFDOWN);
    assert_eq!(detach.expect(1).one_line(), shown[3]);
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
