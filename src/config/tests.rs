use super::keys::edit_distance;
use super::*;

const PATH: &str = "/etc/vnet/vnet.conf";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(PATH, text.as_bytes())
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn resolve(text: &str, tap: &str) -> Resolved {
    parse(text).unwrap().resolve(&name(tap), None).unwrap()
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

fn at(line: usize, section: Option<&str>) -> Origin {
    Origin::Line {
        path: PATH.into(),
        line,
        section: section.map(str::to_owned),
    }
}

#[test]
fn empty_file_means_defaults() {
    let r = resolve("", "vnet0");
    assert_eq!(r.bridge.value, name("br0"));
    assert_eq!(r.mtu.value, Mtu::Bridge);
    assert_eq!(r.mac.value, Mac::High);
    assert!(r.rows().iter().all(|(_, _, o)| **o == Origin::Default));
}

#[test]
fn every_key_parses() {
    let r = resolve("bridge = lan0\nmtu = 9000\nmac = keep\n", "vnet0");
    assert_eq!(
        r.bridge,
        Decided {
            value: name("lan0"),
            origin: at(1, None)
        }
    );
    assert_eq!(
        r.mtu,
        Decided {
            value: Mtu::Fixed(9000),
            origin: at(2, None)
        }
    );
    assert_eq!(
        r.mac,
        Decided {
            value: Mac::Keep,
            origin: at(3, None)
        }
    );
    assert_eq!(resolve("mtu = keep", "t").mtu.value, Mtu::Keep);
    assert_eq!(resolve("mtu = bridge", "t").mtu.value, Mtu::Bridge);
    assert_eq!(resolve("mac = high", "t").mac.value, Mac::High);
}

#[test]
fn mtu_bounds() {
    assert_eq!(resolve("mtu = 68", "t").mtu.value, Mtu::Fixed(68));
    assert_eq!(resolve("mtu = 65535", "t").mtu.value, Mtu::Fixed(65535));
    for bad in ["67", "65536", "-1", "0x100", "9k", "1500.0"] {
        assert_eq!(
            error(&format!("mtu = {bad}")),
            format!(
                "{PATH}:1: mtu: \"{bad}\" is not \"bridge\", \"keep\" or a number from 68 to 65535"
            )
        );
    }
}

#[test]
fn comments_blank_lines_and_spacing() {
    let text = "# a comment\n\n   # indented comment\r\n  bridge=br7  \r\n\tmtu\t=\tkeep\n";
    let r = resolve(text, "vnet0");
    assert_eq!(r.bridge.value, name("br7"));
    assert_eq!(r.bridge.origin, at(4, None));
    assert_eq!(r.mtu.value, Mtu::Keep);
}

#[test]
fn first_matching_section_wins_over_globals() {
    let text = "\
bridge = br0
mtu = 1500
[match vnet1*]
bridge = br1
[match vnet*]
bridge = br2
mac = keep
";
    let r = resolve(text, "vnet12");
    assert_eq!(
        r.bridge,
        Decided {
            value: name("br1"),
            origin: at(4, Some("vnet1*"))
        }
    );
    assert_eq!(
        r.mtu,
        Decided {
            value: Mtu::Fixed(1500),
            origin: at(2, None)
        }
    );
    assert_eq!(
        r.mac,
        Decided {
            value: Mac::High,
            origin: Origin::Default
        }
    );

    let r = resolve(text, "vnet2");
    assert_eq!(r.bridge.value, name("br2"));
    assert_eq!(r.mac.value, Mac::Keep);

    let r = resolve(text, "tap0");
    assert_eq!(r.bridge.value, name("br0"));
}

#[test]
fn sections_use_shell_globs() {
    let text = "[match tap-[ab]?]\nbridge = br9\n";
    assert_eq!(resolve(text, "tap-a1").bridge.value, name("br9"));
    assert_eq!(resolve(text, "tap-c1").bridge.value, name("br0"));
    assert_eq!(resolve(text, "tap-a12").bridge.value, name("br0"));
}

#[test]
fn env_bridge_beats_everything() {
    let config = parse("bridge = br0\n[match *]\nbridge = br1\n").unwrap();
    let r = config.resolve(&name("vnet0"), Some(name("br5"))).unwrap();
    assert_eq!(
        r.bridge,
        Decided {
            value: name("br5"),
            origin: Origin::Env("VNET_BRIDGE")
        }
    );
}

#[test]
fn matching_section_is_reported() {
    let config = parse("[match a*]\n[match v*]\nmtu = keep\n").unwrap();
    assert_eq!(config.matching_section(&name("vnet0")), Some(("v*", 2)));
    assert_eq!(config.matching_section(&name("x")), None);
}

#[test]
fn errors_name_file_and_line() {
    assert_eq!(
        error("bridge = br0\n\n\n\n\n\nbrige = br1\n"),
        format!("{PATH}:7: unknown key \"brige\" (did you mean \"bridge\"?)")
    );
    assert_eq!(
        error("colour = red"),
        format!("{PATH}:1: unknown key \"colour\"")
    );
    // Concepts, not only spellings: other tools' words for our keys.
    assert_eq!(
        error("vlan = 10"),
        format!(
            "{PATH}:1: unknown key \"vlan\" (did you mean \"pvid\" or \"tagged\"? pvid is \
             the port's access VLAN, tagged the VLANs it carries tagged)"
        )
    );
    assert_eq!(
        error("Trunk = 10"),
        format!("{PATH}:1: unknown key \"Trunk\" (did you mean \"tagged\"?)")
    );
    assert_eq!(
        error("master = br1"),
        format!("{PATH}:1: unknown key \"master\" (did you mean \"bridge\"?)")
    );
    assert_eq!(
        error("MTU = 9000"),
        format!("{PATH}:1: unknown key \"MTU\" (did you mean \"mtu\"?)")
    );
    assert_eq!(
        error("bridge br0"),
        format!("{PATH}:1: expected \"key = value\", a [match GLOB], [access GLOB] or [network BRIDGE] section, or a # comment, found \"bridge br0\"")
    );
    assert_eq!(
        error("bridge ="),
        format!("{PATH}:1: key \"bridge\" has no value")
    );
    assert_eq!(error("= br0"), format!("{PATH}:1: unknown key \"\""));
    assert_eq!(
        error("bridge = br0\nbridge = br1"),
        format!("{PATH}:2: key \"bridge\" is already set on line 1")
    );
    assert_eq!(
        error("mac = low"),
        format!("{PATH}:1: mac: \"low\" is not \"high\" or \"keep\"")
    );
}

#[test]
fn bad_bridge_names_are_errors() {
    assert_eq!(
        error("bridge = a-very-long-bridge"),
        format!(
            "{PATH}:1: bridge: \"a-very-long-bridge\" is not a valid interface name: \
             the name is 18 bytes long; the kernel allows at most 15"
        )
    );
    assert!(error("bridge = br/0").contains("\"/\""));
    assert!(error("bridge = br 0").contains("whitespace"));
}

#[test]
fn bad_sections_are_errors() {
    for (text, msg) in [
        (
            "[foo]",
            "bad section \"[foo]\": expected \"[match GLOB]\", \"[access GLOB]\" or \"[network BRIDGE]\"",
        ),
        (
            "[match]",
            "bad section \"[match]\": expected \"[match GLOB]\", \"[access GLOB]\" or \"[network BRIDGE]\"",
        ),
        (
            "[match a b]",
            "bad section \"[match a b]\": expected \"[match GLOB]\", \"[access GLOB]\" or \"[network BRIDGE]\"",
        ),
        (
            "[match a",
            "bad section \"[match a\": expected \"[match GLOB]\", \"[access GLOB]\" or \"[network BRIDGE]\"",
        ),
        (
            "[match v[0-]",
            "bad glob \"v[0-\": \"[\" has no closing \"]\"",
        ),
    ] {
        assert_eq!(
            error(&format!("mtu = keep\n{text}")),
            format!("{PATH}:2: {msg}")
        );
    }
}

#[test]
fn a_key_may_appear_once_per_block() {
    let r = resolve("mtu = 1500\n[match v*]\nmtu = 9000\n", "vnet0");
    assert_eq!(r.mtu.value, Mtu::Fixed(9000));
    assert!(error("[match v*]\nmtu = 1500\nmtu = 9000")
        .contains(":3: key \"mtu\" is already set on line 2"));
}

#[test]
fn non_utf8_is_an_error_with_its_line() {
    let err = Config::parse(PATH, b"mtu = keep\nbridge = br\xff0\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{PATH}:2: the line is not valid UTF-8")
    );
}

#[test]
fn origins_read_well() {
    assert_eq!(Origin::Default.to_string(), "built-in default");
    assert_eq!(
        Origin::Env("VNET_BRIDGE").to_string(),
        "environment VNET_BRIDGE"
    );
    assert_eq!(at(3, None).to_string(), format!("{PATH}:3"));
    assert_eq!(
        at(3, Some("v*")).to_string(),
        format!("{PATH}:3 in [match v*]")
    );
}

#[test]
fn missing_default_file_means_defaults_but_a_named_file_must_exist() {
    let missing = Path::new("/nonexistent/vnet.conf");
    let err = Config::load(Source::Named(missing)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "VNET_CONFIG=/nonexistent/vnet.conf: no such file"
    );
    // The cause stays typed, errno and all, under the sentence.
    let Problem::Read(cause) = &err.problem else {
        panic!("{err:?}")
    };
    assert_eq!(cause.raw_os_error(), Some(libc::ENOENT));
    let err = Config::load(Source::Named(Path::new("/dev/zero"))).unwrap_err();
    assert_eq!(err.to_string(), "VNET_CONFIG=/dev/zero: not a regular file");
    let empty = Config::load(Source::Named(Path::new("/dev/null"))).unwrap();
    assert_eq!(
        empty.resolve(&name("v"), None).unwrap().bridge.origin,
        Origin::Default
    );
}

#[test]
fn a_file_is_read_whole_and_a_huge_one_refused() {
    let path = std::env::temp_dir().join(format!("vnet-unit-{}.conf", std::process::id()));
    let text = format!("bridge = br7\n#{}\n", "x".repeat(9000));
    std::fs::write(&path, &text).unwrap();
    let config = Config::load(Source::Named(&path)).unwrap();
    assert_eq!(
        config.resolve(&name("v"), None).unwrap().bridge.value,
        name("br7")
    );
    // Sparse: a size fstat reports, never allocated.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len((1 << 20) + 1)
        .unwrap();
    let err = Config::load(Source::Named(&path)).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(err
        .to_string()
        .ends_with(": larger than 1 MiB: not a configuration file"));
}

#[test]
fn edit_distance_basics() {
    assert_eq!(edit_distance("bridge", "brige"), 1);
    assert_eq!(edit_distance("mtu", "mac"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
}

#[test]
fn port_policy_keys() {
    let text = "\
pvid = 10
tagged = 30-35, 20 21
isolated = yes
hairpin = no
learning = off
unicast-flood = true
multicast-flood = 0
broadcast-flood = on
cost = 100
priority = 63
create-bridge = yes
";
    let r = resolve(text, "vnet0");
    assert_eq!(r.pvid.value, Some(10));
    assert_eq!(r.tagged.value, Some(Vlans(vec![(20, 21), (30, 35)])));
    assert_eq!(r.tagged.value.as_ref().unwrap().to_string(), "20-21 30-35");
    assert_eq!(r.isolated.value, Some(true));
    assert_eq!(r.hairpin.value, Some(false));
    assert_eq!(r.learning.value, Some(false));
    assert_eq!(r.unicast_flood.value, Some(true));
    assert_eq!(r.multicast_flood.value, Some(false));
    assert_eq!(r.broadcast_flood.value, Some(true));
    assert_eq!(r.cost.value, Some(100));
    assert_eq!(r.priority.value, Some(63));
    assert!(r.create_bridge.value);
    assert!(r.uses_vlans());
}

#[test]
fn port_policy_defaults_leave_the_kernel_alone() {
    let r = resolve("", "vnet0");
    assert_eq!(
        (r.pvid.value, r.tagged.value.clone(), r.isolated.value),
        (None, None, None)
    );
    assert_eq!((r.cost.value, r.priority.value), (None, None));
    assert!(!r.create_bridge.value);
    assert!(!r.uses_vlans());
    let rows = r.rows();
    let shown: Vec<(&str, &str)> = rows.iter().map(|(k, v, _)| (*k, v.as_str())).collect();
    assert!(shown.contains(&("isolated", "unset")));
    assert!(shown.contains(&("create-bridge", "no")));
}

#[test]
fn port_policy_bad_values() {
    for (text, msg) in [
        ("pvid = 0", "pvid: \"0\" is not a VLAN id from 1 to 4094"),
        (
            "pvid = 4095",
            "pvid: \"4095\" is not a VLAN id from 1 to 4094",
        ),
        (
            "tagged = 10 x",
            "tagged: \"x\" is not a VLAN id from 1 to 4094",
        ),
        ("tagged = 30-20", "tagged: the range \"30-20\" is backwards"),
        (
            "tagged = 5-5000",
            "tagged: \"5000\" is not a VLAN id from 1 to 4094",
        ),
        ("tagged = ,", "tagged: no VLAN ids"),
        (
            "isolated = maybe",
            "isolated: \"maybe\" is not yes, no, true, false, on, off, 1 or 0",
        ),
        ("cost = 0", "cost: \"0\" is not a number from 1 to 65535"),
        ("cost = +5", "cost: \"+5\" is not a number from 1 to 65535"),
        (
            "priority = 64",
            "priority: \"64\" is not a number from 0 to 63",
        ),
        (
            "create-bridge = please",
            "create-bridge: \"please\" is not yes, no, true, false, on, off, 1 or 0",
        ),
        (
            "isolated = Yes",
            "isolated: \"Yes\" is not yes, no, true, false, on, off, 1 or 0 \
             (values are case-sensitive: \"yes\")",
        ),
    ] {
        assert_eq!(error(text), format!("{PATH}:1: {msg}"), "{text}");
    }
}

#[test]
fn the_pvid_cannot_also_be_tagged() {
    let err = parse("pvid = 10\n[match v*]\ntagged = 5-15\n")
        .unwrap()
        .resolve(&name("vnet0"), None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{PATH}:3: tagged: VLAN 10 is the pvid ({PATH}:1); a VLAN is either untagged or tagged"
        )
    );
}

#[test]
fn access_sections_collect_rules() {
    let config = parse("bridge = br0\n[access br*]\nallow = alice @kvm\nallow = 1001\ndeny = mallory\n[match v*]\nmtu = keep\n[access *]\ndeny = all\n").unwrap();
    let rules = config.access_rules();
    assert_eq!(rules.len(), 2);
    assert_eq!((rules[0].glob.as_str(), rules[0].line), ("br*", 2));
    assert_eq!(
        rules[0].allow,
        vec![
            (Principal::User("alice".into()), 3),
            (Principal::Group("kvm".into()), 3),
            (Principal::Uid(1001), 4)
        ]
    );
    assert_eq!(rules[0].deny, vec![(Principal::User("mallory".into()), 5)]);
    assert_eq!(rules[1].deny, vec![(Principal::All, 9)]);
    // Keys after [match] still belong to the match section.
    assert_eq!(
        config.resolve(&name("vnet0"), None).unwrap().mtu.value,
        Mtu::Keep
    );
}

#[test]
fn access_sections_take_only_allow_and_deny() {
    assert_eq!(
        error("[access br0]\nbridge = br1"),
        format!(
            "{PATH}:2: unknown key \"bridge\" in an [access] section: only \"allow\" and \"deny\""
        )
    );
    assert_eq!(
        error("[access br0]\nallow = a/b"),
        format!("{PATH}:2: allow: \"a/b\" is not \"all\", a user name or uid, or a @group")
    );
    assert_eq!(
        error("[match v*]\nallow = alice"),
        format!("{PATH}:2: unknown key \"allow\"")
    );
}

#[test]
fn control_characters_are_refused_so_messages_stay_safe() {
    assert_eq!(
        error("mtu = keep\nbridge = br\x1b[2J0\n"),
        format!("{PATH}:2: the line contains a control character (U+001B)")
    );
    assert_eq!(
        error("a\rb = c"),
        format!("{PATH}:1: the line contains a control character (U+000D)")
    );
    // A CRLF file is fine: the CR ends the line.
    assert_eq!(resolve("mtu = keep\r\n", "v").mtu.value, Mtu::Keep);
}
