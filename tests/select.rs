//! Which bridge a tap lands on: `VNET_BRIDGE`, `[match]` sections, `--check`.

mod common;

use common::{Netns, IFUP};

fn setup() -> Option<Netns> {
    if !common::privileged() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 1500);
    ns.add_bridge("br1", 1500);
    ns.add_bridge("lan", 9000);
    for tap in ["vnet0", "vnet1", "tap-a"] {
        ns.add_tap(tap);
    }
    Some(ns)
}

const CONFIG: &str = "\
# global
bridge = br0

[match vnet1]
bridge = br1

[match tap-*]
bridge = lan
mac = keep
";

#[test]
fn match_sections_choose_the_bridge() {
    let Some(ns) = setup() else { return };
    let conf = ns.config(CONFIG);
    let env = [("VNET_CONFIG", conf.to_str().unwrap())];
    let mac_before = ns.link("tap-a").unwrap().mac;
    for (tap, bridge) in [("vnet0", "br0"), ("vnet1", "br1"), ("tap-a", "lan")] {
        ns.ifup(tap, &env).expect(0);
        assert_eq!(
            ns.link(tap).unwrap().master.as_deref(),
            Some(bridge),
            "{tap}"
        );
    }
    let tap_a = ns.link("tap-a").unwrap();
    assert_eq!(tap_a.mtu, 9000);
    // The kernel's random MAC may itself start with fe: compare, don't guess.
    assert_eq!(tap_a.mac, mac_before, "mac = keep in [match tap-*]");
}

#[test]
fn vnet_bridge_beats_the_config() {
    let Some(ns) = setup() else { return };
    let conf = ns.config(CONFIG);
    let env = [
        ("VNET_CONFIG", conf.to_str().unwrap()),
        ("VNET_BRIDGE", "lan"),
    ];
    ns.ifup("vnet1", &env).expect(0);
    assert_eq!(ns.link("vnet1").unwrap().master.as_deref(), Some("lan"));
}

#[test]
fn check_reports_the_plan_and_changes_nothing() {
    let Some(ns) = setup() else { return };
    let conf = ns.config(CONFIG);
    let path = conf.to_str().unwrap();
    let before = ns.snapshot();
    let run = ns.run(&IFUP, &["--check", "tap-a"], &[("VNET_CONFIG", path)]);
    run.expect(0);
    assert_eq!(ns.snapshot(), before);
    let unset = [
        "pvid",
        "tagged",
        "isolated",
        "hairpin",
        "learning",
        "unicast-flood",
        "multicast-flood",
        "broadcast-flood",
        "cost",
        "priority",
    ]
    .map(|key| format!("{key:<16}unset      (built-in default)\n"))
    .concat();
    let expected = format!(
        "tap             tap-a
config          {path}, section [match tap-*] at line 7
bridge          lan        ({path}:8 in [match tap-*])
mtu             bridge     (built-in default)
mac             keep       ({path}:9 in [match tap-*])
{unset}create-bridge   no         (built-in default)
plan            1. setting the MTU of tap-a from 1500 to 9000
                2. attaching tap-a to lan
                3. setting tap-a up
"
    );
    assert_eq!(run.stdout, expected);
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn check_before_qemu_made_the_tap() {
    let Some(ns) = setup() else { return };
    let run = ns.run(&IFUP, &["--check", "vnet7"], &[("VNET_BRIDGE", "br1")]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("bridge          br1        (environment VNET_BRIDGE)"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .ends_with("plan            none yet: vnet7 does not exist yet; bridge br1 exists\n"));

    let run = ns.run(&IFUP, &["--check", "vnet7"], &[("VNET_BRIDGE", "nope")]);
    run.expect(1);
    assert_eq!(
        run.one_line(),
        "vnet-ifup: cannot attach vnet7 to bridge nope: bridge nope does not exist: create it \
         with \"ip link add nope type bridge\" and \"ip link set nope up\", or set \
         \"create-bridge = yes\""
    );
}

/// VLANs on a bridge that cannot take them are refused by --check before
/// QEMU made the tap, with the very line the real run prints once it has.
#[test]
fn check_before_the_tap_refuses_what_the_run_refuses() {
    let Some(ns) = setup() else { return };
    // br0 filters no VLANs: on a kernel without CONFIG_BRIDGE_VLAN_FILTERING
    // none can, and on one with it filtering is off.
    let conf = ns.config("pvid = 10\n");
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let before = ns.snapshot();
    let check = ns.run(&IFUP, &["--check", "vnet7"], &env);
    let line = check.expect(1).one_line().to_owned();
    assert!(
        line.starts_with("vnet-ifup: cannot attach vnet7 to bridge br0: "),
        "{line}"
    );
    assert!(line.contains("pvid and tagged cannot be applied"), "{line}");
    assert_eq!(ns.snapshot(), before);
    ns.add_tap("vnet7");
    let run = ns.ifup("vnet7", &env);
    assert_eq!(
        run.expect(1).one_line(),
        line,
        "the run and --check disagree"
    );

    // A bridge still to be made: --check asks the kernel whether its
    // bridges can filter VLANs at all, as the run does before making one.
    let conf = ns.config("bridge = brnew\ncreate-bridge = yes\npvid = 10\n");
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let before = ns.snapshot();
    let check = ns.run(&IFUP, &["--check", "vnet8"], &env);
    if ns.vlan_filtering_supported() {
        assert!(
            check.expect(0).stdout.ends_with(
                "plan            none yet: vnet8 does not exist yet; bridge brnew will be \
                 created (create-bridge = yes) with VLAN filtering\n"
            ),
            "{check:#?}"
        );
        return;
    }
    let line = check.expect(1).one_line().to_owned();
    assert_eq!(
        line,
        "vnet-ifup: cannot attach vnet8 to bridge brnew: this kernel's bridges cannot filter \
         VLANs (it was built without CONFIG_BRIDGE_VLAN_FILTERING), so pvid and tagged cannot \
         be applied: remove them from this tap's configuration, or boot a kernel built with it"
    );
    assert_eq!(ns.snapshot(), before);
    ns.add_tap("vnet8");
    let run = ns.ifup("vnet8", &env);
    assert_eq!(
        run.expect(1).one_line(),
        line,
        "the run and --check disagree"
    );
    assert!(ns.link("brnew").is_none(), "a refused run made the bridge");
}

#[test]
fn ifdown_check_shows_the_detach() {
    let Some(ns) = setup() else { return };
    ns.ifup("vnet0", &[]).expect(0);
    let run = ns.run(&common::IFDOWN, &["--check", "vnet0"], &[]);
    run.expect(0);
    assert_eq!(
        run.stdout,
        "tap             vnet0\nplan            1. detaching vnet0 from its bridge\n                2. setting vnet0 down\n"
    );
    assert_eq!(ns.link("vnet0").unwrap().master.as_deref(), Some("br0"));
}
