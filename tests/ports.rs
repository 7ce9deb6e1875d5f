//! Per-tap bridge-port policy: port options, VLANs and bridge creation,
//! proven by kernel state (`bridge -d link`, `bridge vlan`) and by frames
//! on the data path. VLAN cases need CONFIG_BRIDGE_VLAN_FILTERING: they run
//! fully in the Debian-kernel guests, and on a kernel without it they
//! check for the clear error instead.

mod common;

use std::process::Command;
use std::time::Duration;

use common::tapfd::TapFd;
use common::{strace, Netns, IFUP};

const NO_VLANS: &str = "this kernel's bridges cannot filter VLANs (it was built without \
                        CONFIG_BRIDGE_VLAN_FILTERING), so pvid and tagged cannot be applied: \
                        remove them from this tap's configuration, or boot a kernel built with it";

fn setup() -> Option<Netns> {
    common::privileged().then(Netns::new)
}

/// Runs vnet-ifup for `tap` with configuration `text`.
fn ifup(ns: &Netns, tap: &str, text: &str) -> common::Run {
    let conf = ns.config(text);
    ns.ifup(tap, &[("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))])
}

fn mac(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, n]
}

#[test]
fn port_options_reach_the_kernel() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br0", 1500);
    ns.add_tap("vnet0");
    ns.add_tap("vnet1");
    let all_on = "isolated = yes\nhairpin = yes\nlearning = yes\nunicast-flood = yes\n\
                  multicast-flood = yes\nbroadcast-flood = yes\ncost = 100\npriority = 7\n";
    let all_off = "isolated = no\nhairpin = no\nlearning = no\nunicast-flood = no\n\
                   multicast-flood = no\nbroadcast-flood = no\ncost = 65535\npriority = 0\n";
    ifup(&ns, "vnet0", all_on).expect(0);
    ifup(&ns, "vnet1", all_off).expect(0);
    for (tap, on, cost, priority) in [("vnet0", true, 100, 7), ("vnet1", false, 65535, 0)] {
        let port = ns.port(tap);
        for key in [
            "isolated",
            "hairpin",
            "learning",
            "flood",
            "mcast_flood",
            "bcast_flood",
        ] {
            assert_eq!(port[key], on, "{tap} {key}: {port}");
        }
        assert_eq!(
            (port["cost"].as_u64(), port["priority"].as_u64()),
            (Some(cost), Some(priority))
        );
        assert_eq!(port["master"], "br0");
    }
}

#[test]
fn unset_keys_leave_the_kernel_defaults() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br0", 1500);
    ns.add_tap("vnet0");
    ns.add_tap("ref0");
    ns.ip(&["link", "set", "ref0", "master", "br0", "up"]);
    ifup(&ns, "vnet0", "learning = no\n").expect(0);
    let (ours, reference) = (ns.port("vnet0"), ns.port("ref0"));
    for key in [
        "isolated",
        "hairpin",
        "flood",
        "mcast_flood",
        "bcast_flood",
        "cost",
        "priority",
    ] {
        assert_eq!(ours[key], reference[key], "{key}");
    }
    assert_eq!(ours["learning"], false);
}

/// Issue 16, defect 2: with the tap already on br0, the port policy was
/// skipped and the run said it was done.
#[test]
fn a_tap_already_on_the_bridge_gets_its_port_policy() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br0", 1500);
    ns.add_tap("vnet0");
    ns.ip(&["link", "set", "vnet0", "master", "br0"]);
    assert_eq!(ns.port("vnet0")["isolated"], false);
    ifup(&ns, "vnet0", "isolated = yes\nlearning = no\n").expect(0);
    let port = ns.port("vnet0");
    assert_eq!(
        (&port["isolated"], &port["learning"]),
        (&true.into(), &false.into())
    );
    assert!(ns.link("vnet0").expect("tap").up);
}

#[test]
fn create_bridge_makes_it_up_and_attaches() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    ifup(&ns, "vnet0", "bridge = brc\ncreate-bridge = yes\n").expect(0);
    let bridge = ns.link("brc").expect("the bridge was created");
    assert_eq!((bridge.kind.as_deref(), bridge.up), (Some("bridge"), true));
    assert_eq!(ns.link("vnet0").unwrap().master.as_deref(), Some("brc"));
}

#[test]
fn vms_starting_together_create_the_bridge_once() {
    let Some(ns) = setup() else { return };
    let taps: Vec<String> = (0..8).map(|i| format!("vnet{i}")).collect();
    taps.iter().for_each(|t| ns.add_tap(t));
    let conf = ns.config("bridge = brc\ncreate-bridge = yes\n");
    let children: Vec<_> = taps
        .iter()
        .map(|tap| {
            Command::new("ip")
                .args(["netns", "exec", &ns.name, &IFUP, tap])
                .env_clear()
                .env("VNET_CONFIG", &conf)
                .spawn()
                .expect("spawn vnet-ifup")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    assert_eq!(ns.link("brc").unwrap().kind.as_deref(), Some("bridge"));
    for tap in &taps {
        assert_eq!(
            ns.link(tap).unwrap().master.as_deref(),
            Some("brc"),
            "{tap}"
        );
    }
}

#[test]
fn create_bridge_never_replaces_something_else() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    ns.ip(&[
        "link", "add", "brc", "type", "veth", "peer", "name", "brc-peer",
    ]);
    let run = ifup(&ns, "vnet0", "bridge = brc\ncreate-bridge = yes\n");
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet0 to bridge brc: brc is a veth device, not a bridge"
    );
    let run = ifup(&ns, "lo", "bridge = brd\ncreate-bridge = yes\n");
    run.expect(1);
    assert!(
        ns.link("brd").is_none(),
        "no bridge is made for a refused tap"
    );
}

/// Issue 16, defect 1: the bridge was made before the tap was refused.
#[test]
fn a_refused_tap_leaves_no_bridge_behind_and_check_agrees() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br1", 1500);
    ns.add_tap("vnet0");
    ns.ip(&["link", "set", "vnet0", "master", "br1"]);
    let conf = ns.config("bridge = brnew\ncreate-bridge = yes\n");
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let before = ns.snapshot();
    let refusal = "vnet-ifup: cannot attach vnet0 to bridge brnew: vnet0 is already attached \
                   to br1; leaving it there";
    let check = ns.run(&IFUP, &["--check", "vnet0"], &env);
    assert_eq!(check.expect(1).one_line(), refusal);
    assert!(!check.stdout.contains("will be created"), "{check:#?}");
    assert_eq!(ns.ifup("vnet0", &env).expect(1).one_line(), refusal);
    assert!(ns.link("brnew").is_none(), "no bridge for a refused tap");
    assert_eq!(ns.snapshot(), before);
}

/// A step after the bridge's creation fails (strace fails the request
/// that attaches the tap): the run deletes the bridge it made, and puts
/// the tap back as it was found.
#[test]
fn a_failure_after_creating_the_bridge_deletes_it() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    let conf = ns.config("bridge = brc\ncreate-bridge = yes\n");
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let plan = ns.run(&IFUP, &["--check", "vnet0"], &env);
    let out = &plan.expect(0).stdout;
    assert!(
        out.contains("plan            1. creating bridge brc, up, with address 02:"),
        "{out}"
    );
    assert!(out.contains(". attaching vnet0 to brc\n"), "{out}");
    let before = ns.snapshot();
    // Requests: get tap, get bridge, create it, get it, set the MAC, attach.
    let run = strace::failing(&ns, &IFUP, &["vnet0"], &env, "sendto", "EPERM", 6);
    let line = run.expect(1).one_line();
    assert!(
        line.starts_with("vnet-ifup: cannot attach vnet0 to bridge brc: attaching vnet0 to brc: "),
        "{line}"
    );
    assert!(
        line.ends_with("; vnet0 was restored as it was found, and bridge brc deleted"),
        "{line}"
    );
    assert!(ns.link("brc").is_none(), "the bridge this run made is gone");
    assert_eq!(ns.snapshot(), before);
}

#[test]
fn access_and_trunk_vlans_reach_the_kernel() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    let policy = "create-bridge = yes\npvid = 10\ntagged = 20 30-35\n";
    if !ns.vlan_filtering_supported() {
        let run = ifup(&ns, "vnet0", policy);
        assert_eq!(
            run.expect(1).one_line(),
            format!("vnet-ifup: cannot attach vnet0 to bridge br0: {NO_VLANS}")
        );
        assert!(
            ns.link("br0").is_none(),
            "nothing is created when VLANs cannot work"
        );
        assert_eq!(ns.link("vnet0").unwrap().master, None);
        return;
    }
    ifup(&ns, "vnet0", policy).expect(0);
    let info = ns.ip(&["-d", "-j", "link", "show", "dev", "br0"]);
    assert!(
        info.contains("\"vlan_filtering\":1"),
        "created with VLAN filtering: {info}"
    );
    assert_eq!(
        ns.vlans("vnet0"),
        vec![
            (10, 10, true, true),
            (20, 20, false, false),
            (30, 35, false, false)
        ],
        "VLAN 1 is gone, 10 is the untagged PVID, the rest are tagged"
    );
}

#[test]
fn vlan_keys_never_turn_filtering_on() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br0", 1500);
    ns.add_tap("vnet0");
    let before = ns.snapshot();
    let run = ifup(&ns, "vnet0", "tagged = 20\n");
    let expected = match ns.vlan_filtering_supported() {
        true => "bridge br0 has VLAN filtering off, so pvid and tagged cannot be applied: turn it \
                 on with \"ip link set br0 type bridge vlan_filtering 1\" (vnet never changes it on \
                 an existing bridge, since that changes every other port)"
            .to_owned(),
        false => NO_VLANS.to_owned(),
    };
    assert_eq!(
        run.expect(1).one_line(),
        format!("vnet-ifup: cannot attach vnet0 to bridge br0: {expected}")
    );
    assert_eq!(ns.snapshot(), before);
}

#[test]
fn isolated_ports_reach_only_non_isolated_ones() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br0", 1500);
    let mut a = TapFd::new(&ns.name, "iso-a");
    let mut b = TapFd::new(&ns.name, "iso-b");
    let mut c = TapFd::new(&ns.name, "open-c");
    for tap in ["iso-a", "iso-b", "open-c"] {
        ifup(&ns, tap, "[match iso-*]\nisolated = yes\n").expect(0);
    }
    ns.wait_forwarding(&["iso-a", "iso-b", "open-c"]);
    // A bound for a frame that should come; none for one that should not:
    // that is shown by a later frame (the barrier) arriving first.
    let long = Duration::from_secs(2);

    a.send(mac(1), None, 1);
    assert_eq!(
        c.receive(1, long),
        Some(None),
        "isolated reaches non-isolated"
    );
    b.send(mac(2), None, 2);
    assert_eq!(c.receive(2, long), Some(None));
    c.send(mac(3), None, 3);
    assert_eq!(
        a.marks_before(3, long),
        (vec![], None),
        "non-isolated reaches isolated; isolated b's frame 2 never did"
    );
    assert_eq!(
        b.marks_before(3, long),
        (vec![], None),
        "isolated a's frame 1 never reached isolated b"
    );
}

#[test]
fn vlans_on_the_data_path() {
    let Some(ns) = setup() else { return };
    let policy =
        "[match acc10-*]\npvid = 10\n[match acc20]\npvid = 20\n[match trunk]\ntagged = 10 20\n";
    if !ns.vlan_filtering_supported() {
        ns.add_bridge("br0", 1500);
        let _tap = TapFd::new(&ns.name, "acc10-a");
        let run = ifup(&ns, "acc10-a", policy);
        assert_eq!(
            run.expect(1).one_line(),
            format!("vnet-ifup: cannot attach acc10-a to bridge br0: {NO_VLANS}")
        );
        return;
    }
    ns.ip(&[
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "vlan_filtering",
        "1",
    ]);
    ns.ip(&["link", "set", "br0", "up"]);
    let names = ["acc10-a", "acc10-b", "acc20", "trunk"];
    let mut taps: Vec<TapFd> = names.iter().map(|n| TapFd::new(&ns.name, n)).collect();
    for name in names {
        ifup(&ns, name, policy).expect(0);
    }
    ns.wait_forwarding(&names);
    // Frames that must not arrive are shown absent by a barrier frame that
    // arrives after them if they came at all; no time window.
    let long = Duration::from_secs(2);
    let [a, b, c, t] = &mut taps[..] else {
        unreachable!()
    };

    a.send(mac(1), None, 1);
    assert_eq!(b.receive(1, long), Some(None), "same access VLAN, untagged");
    assert_eq!(
        t.receive(1, long),
        Some(Some(10)),
        "the trunk carries it tagged 10"
    );

    t.send(mac(2), Some(20), 2);
    assert_eq!(
        c.marks_before(2, long),
        (vec![], None),
        "VLAN 10's frame 1 never reached VLAN 20; tagged 20 leaves it untagged"
    );

    t.send(mac(3), Some(10), 3);
    assert_eq!(
        a.marks_before(3, long),
        (vec![], None),
        "VLAN 20's frame 2 never reached VLAN 10; tagged 10 leaves it untagged"
    );
    assert_eq!(b.receive(3, long), Some(None));
    t.send(mac(4), Some(20), 4);
    assert_eq!(
        c.marks_before(4, long),
        (vec![], None),
        "VLAN 10's frame 3 never reached VLAN 20"
    );
}
