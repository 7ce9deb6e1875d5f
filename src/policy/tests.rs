use super::*;
use crate::config::Config;
use crate::name::IfName;
use crate::netlink::{format_mac, BridgeInfo, PortFlags, Tun, VlanRange};

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const HIGH: [u8; 6] = [0xfe, 0x54, 0x00, 0x12, 0x34, 0x56];

fn link(index: u32, name: &str, kind: Option<&str>) -> Link {
    Link {
        index,
        name: name.into(),
        kind: kind.map(str::to_owned),
        tun: None,
        bridge: None,
        mtu: 1500,
        mac: Some(MAC),
        master: None,
        up: false,
        loopback: false,
    }
}

fn tap() -> Link {
    Link {
        tun: Some(Tun {
            tap: true,
            owner: None,
            group: None,
        }),
        ..link(3, "vnet0", Some("tun"))
    }
}

fn bridge() -> Link {
    Link {
        mtu: 9000,
        up: true,
        bridge: Some(BridgeInfo {
            vlan_filtering: false,
            default_pvid: Some(1),
        }),
        ..link(2, "br0", Some("bridge"))
    }
}

fn vlan_bridge() -> Link {
    Link {
        bridge: Some(BridgeInfo {
            vlan_filtering: true,
            default_pvid: Some(1),
        }),
        ..bridge()
    }
}

fn settings(text: &str) -> Resolved {
    Config::parse("test.conf", text.as_bytes())
        .unwrap()
        .resolve(&IfName::new("vnet0").unwrap(), None)
        .unwrap()
}

fn plan(tap: &Link, text: &str) -> Result<AttachPlan, Refusal> {
    plan_attach(tap, Some(&bridge()), None, &settings(text))
}

#[test]
fn defaults_copy_mtu_raise_mac_attach_then_up() {
    let p = plan(&tap(), "").unwrap();
    assert_eq!(
        p.actions,
        vec![
            Action::SetMtu {
                from: 1500,
                to: 9000
            },
            Action::SetMac {
                from: MAC,
                to: HIGH
            },
            Action::Attach,
            Action::SetUp(true),
        ]
    );
    assert!(!p.already_attached);
    assert!(!p.bridge_down);
}

#[test]
fn keep_leaves_mtu_and_mac_alone() {
    let p = plan(&tap(), "mtu = keep\nmac = keep").unwrap();
    assert_eq!(p.actions, vec![Action::Attach, Action::SetUp(true)]);
}

#[test]
fn fixed_mtu_is_set() {
    let p = plan(&tap(), "mtu = 4000\nmac = keep").unwrap();
    assert_eq!(
        p.actions[0],
        Action::SetMtu {
            from: 1500,
            to: 4000
        }
    );
}

#[test]
fn nothing_is_sent_for_what_is_already_right() {
    let t = Link {
        mtu: 9000,
        mac: Some(HIGH),
        up: true,
        ..tap()
    };
    assert_eq!(plan(&t, "").unwrap().actions, vec![Action::Attach]);
}

#[test]
fn already_on_this_bridge_only_ensures_up() {
    let t = Link {
        master: Some(2),
        ..tap()
    };
    let p = plan(&t, "").unwrap();
    assert!(p.already_attached);
    assert_eq!(p.actions, vec![Action::SetUp(true)]);
    let t = Link { up: true, ..t };
    assert!(plan(&t, "").unwrap().actions.is_empty());
}

/// Issue 16, defect 2: the port policy was skipped for an attached tap.
#[test]
fn already_on_this_bridge_still_gets_the_port_policy() {
    let t = Link {
        master: Some(2),
        up: true,
        ..tap()
    };
    let p = plan(&t, "isolated = yes").unwrap();
    let isolated = PortFlags {
        isolated: Some(true),
        ..PortFlags::default()
    };
    assert_eq!(p.actions, vec![Action::SetPort(isolated)]);
    let err = plan(&t, "pvid = 10").unwrap_err();
    assert!(err.to_string().contains("VLAN filtering off"), "{err}");
}

#[test]
fn another_master_is_refused_by_name() {
    let t = Link {
        master: Some(7),
        ..tap()
    };
    let other = link(7, "br1", Some("bridge"));
    let err = plan_attach(&t, Some(&bridge()), Some(&other), &settings("")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "vnet0 is already attached to br1; leaving it there"
    );
}

#[test]
fn bridge_down_is_reported() {
    let b = Link {
        up: false,
        ..bridge()
    };
    assert!(
        plan_attach(&tap(), Some(&b), None, &settings(""))
            .unwrap()
            .bridge_down
    );
}

#[test]
fn non_taps_are_refused() {
    let veth = link(4, "veth0", Some("veth"));
    let lo = Link {
        loopback: true,
        ..link(1, "lo", None)
    };
    let eth = link(5, "eth0", None);
    let l3 = Link {
        tun: Some(Tun {
            tap: false,
            owner: None,
            group: None,
        }),
        ..link(6, "tun0", Some("tun"))
    };
    let cases = [
        (veth, "veth0 is a veth device, not a tap"),
        (lo, "lo is the loopback device, not a tap"),
        (eth, "eth0 is a physical device, not a tap"),
        (bridge(), "br0 is a bridge, not a tap"),
        (l3, "tun0 is a layer-3 tun device, not a tap: QEMU's tap netdev needs one made with \"mode tap\""),
    ];
    for (l, msg) in cases {
        assert_eq!(plan(&l, "").unwrap_err().to_string(), msg);
        assert_eq!(plan_detach(&l).unwrap_err().to_string(), msg);
    }
}

#[test]
fn bridge_must_be_a_bridge() {
    let err = plan_attach(
        &tap(),
        Some(&link(4, "veth0", Some("veth"))),
        None,
        &settings(""),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "veth0 is a veth device, not a bridge");
    let other_tap = Link {
        index: 9,
        name: "vnet9".into(),
        ..tap()
    };
    let err = plan_attach(&tap(), Some(&other_tap), None, &settings("")).unwrap_err();
    assert_eq!(err.to_string(), "vnet9 is a tap, not a bridge");
}

#[test]
fn detach_frees_then_downs_and_skips_what_is_done() {
    let t = Link {
        master: Some(2),
        up: true,
        ..tap()
    };
    assert_eq!(
        plan_detach(&t).unwrap(),
        vec![Action::Detach, Action::SetUp(false)]
    );
    assert!(plan_detach(&tap()).unwrap().is_empty());
}

#[test]
fn undo_reverses_each_action() {
    let undo = |a: Action| a.undo().unwrap();
    assert_eq!(
        undo(Action::SetMtu { from: 1, to: 2 }),
        Action::SetMtu { from: 2, to: 1 }
    );
    assert_eq!(
        undo(Action::SetMac {
            from: MAC,
            to: HIGH
        }),
        Action::SetMac {
            from: HIGH,
            to: MAC
        }
    );
    assert_eq!(undo(Action::Attach), Action::Detach);
    assert_eq!(undo(Action::SetUp(true)), Action::SetUp(false));
    // Port options and VLANs go away with the port when the master is undone.
    assert_eq!(Action::SetPort(PortFlags::default()).undo(), None);
    assert_eq!(
        Action::Vlans {
            add: true,
            ranges: vec![]
        }
        .undo(),
        None
    );
}

#[test]
fn actions_describe_themselves() {
    assert_eq!(
        Action::SetMac {
            from: MAC,
            to: HIGH
        }
        .describe("vnet0", "br0"),
        "setting the MAC address of vnet0 from 52:54:00:12:34:56 to fe:54:00:12:34:56"
    );
    assert_eq!(
        Action::Attach.describe("vnet0", "br0"),
        "attaching vnet0 to br0"
    );
    assert_eq!(
        Action::Detach.describe("vnet0", "br0"),
        "detaching vnet0 from br0"
    );
}

const ATTACH: Action = Action::Attach;

fn vlan(first: u16, last: u16, pvid: bool) -> VlanRange {
    VlanRange {
        first,
        last,
        pvid,
        untagged: pvid,
    }
}

#[test]
fn port_options_go_between_attach_and_up() {
    let p = plan(
        &tap(),
        "mtu = keep\nmac = keep\nisolated = yes\nlearning = no\ncost = 100\npriority = 7",
    )
    .unwrap();
    let flags = PortFlags {
        isolated: Some(true),
        learning: Some(false),
        cost: Some(100),
        priority: Some(7),
        ..PortFlags::default()
    };
    assert_eq!(
        p.actions,
        vec![ATTACH, Action::SetPort(flags), Action::SetUp(true)]
    );
    assert_eq!(
        p.actions[1].describe("vnet0", "br0"),
        "setting the bridge-port options of vnet0: isolated yes, learning no, cost 100, priority 7"
    );
}

#[test]
fn an_access_port_leaves_the_default_vlan() {
    let p = plan_attach(
        &tap(),
        Some(&vlan_bridge()),
        None,
        &settings("mtu = keep\nmac = keep\npvid = 10\ntagged = 20 30-35"),
    )
    .unwrap();
    assert_eq!(
        p.actions,
        vec![
            ATTACH,
            Action::Vlans {
                add: false,
                ranges: vec![vlan(1, 1, false)]
            },
            Action::Vlans {
                add: true,
                ranges: vec![vlan(10, 10, true)]
            },
            Action::Vlans {
                add: true,
                ranges: vec![vlan(20, 20, false), vlan(30, 35, false)]
            },
            Action::SetUp(true),
        ]
    );
    let words: Vec<String> = p.actions[1..4]
        .iter()
        .map(|a| a.describe("vnet0", "br0"))
        .collect();
    assert_eq!(
        words,
        [
            "removing VLAN 1 from vnet0",
            "adding VLAN 10 (pvid, untagged) to vnet0",
            "adding VLAN 20 30-35 (tagged) to vnet0"
        ]
    );
}

#[test]
fn a_trunk_keeps_the_default_vlan_and_pvid_equal_to_it_removes_nothing() {
    let b = vlan_bridge();
    let trunk = plan_attach(
        &tap(),
        Some(&b),
        None,
        &settings("mtu = keep\nmac = keep\ntagged = 5"),
    )
    .unwrap();
    assert_eq!(
        trunk.actions[1],
        Action::Vlans {
            add: true,
            ranges: vec![vlan(5, 5, false)]
        }
    );
    let same = plan_attach(
        &tap(),
        Some(&b),
        None,
        &settings("mtu = keep\nmac = keep\npvid = 1"),
    )
    .unwrap();
    assert_eq!(
        same.actions[1],
        Action::Vlans {
            add: true,
            ranges: vec![vlan(1, 1, true)]
        }
    );
    assert_eq!(same.actions.len(), 3);
}

#[test]
fn vlan_keys_need_a_filtering_bridge_on_a_kernel_that_has_it() {
    let off = plan(&tap(), "pvid = 10").unwrap_err();
    assert!(
        off.to_string()
            .starts_with("bridge br0 has VLAN filtering off"),
        "{off}"
    );
    assert!(off
        .to_string()
        .contains("ip link set br0 type bridge vlan_filtering 1"));
    let old_kernel = Link {
        bridge: Some(BridgeInfo {
            vlan_filtering: false,
            default_pvid: None,
        }),
        ..bridge()
    };
    let none = plan_attach(&tap(), Some(&old_kernel), None, &settings("tagged = 3")).unwrap_err();
    assert_eq!(
        none.to_string(),
        "this kernel's bridges cannot filter VLANs (it was built without \
         CONFIG_BRIDGE_VLAN_FILTERING), so pvid and tagged cannot be applied: remove them \
         from this tap's configuration, or boot a kernel built with it"
    );
}

/// What only the bridge decides is decided without the tap, by the same
/// function the run uses: --check before QEMU made the tap asks it.
#[test]
fn the_bridge_alone_decides_vlan_refusals() {
    let old_kernel = Link {
        bridge: Some(BridgeInfo {
            vlan_filtering: false,
            default_pvid: None,
        }),
        ..bridge()
    };
    for text in ["pvid = 10", "tagged = 20", "pvid = 10\ncreate-bridge = yes"] {
        let refused = plan_bridge(Some(&old_kernel), &settings(text)).unwrap_err();
        assert!(matches!(refused, Refusal::NoVlanFiltering(_)), "{text}");
        let off = plan_bridge(Some(&bridge()), &settings(text)).unwrap_err();
        assert!(matches!(off, Refusal::VlanFilteringOff(_)), "{text}");
    }
    assert!(plan_bridge(Some(&old_kernel), &settings("isolated = yes")).is_ok());
    let missing = plan_bridge(None, &settings("pvid = 10")).unwrap_err();
    assert_eq!(missing, Refusal::NoBridge("br0".into()));
}

#[test]
fn a_missing_bridge_is_created_first_when_allowed() {
    let text = "create-bridge = yes\nmac = keep";
    let p = plan_attach(&tap(), None, None, &settings(text)).unwrap();
    assert_eq!(
        p.actions,
        vec![
            Action::CreateBridge {
                vlan_filtering: false,
                mac: bridge_mac("br0"),
            },
            Action::Attach,
            Action::SetUp(true),
        ],
        "a new bridge has MTU 1500, as the tap has"
    );
    assert_eq!(
        p.actions[0].describe("vnet0", "br0"),
        format!(
            "creating bridge br0, up, with address {}",
            format_mac(&bridge_mac("br0"))
        )
    );
    let err = plan_attach(&tap(), None, None, &settings("")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bridge br0 does not exist: create it with \"ip link add br0 type bridge\" and \
         \"ip link set br0 up\", or set \"create-bridge = yes\""
    );
}

/// A run that is refused creates nothing: the refusal comes before the
/// plan's first step, which is the bridge's creation.
#[test]
fn a_refused_tap_gets_no_bridge_created() {
    let t = Link {
        master: Some(7),
        ..tap()
    };
    let other = link(7, "br1", Some("bridge"));
    let err = plan_attach(&t, None, Some(&other), &settings("create-bridge = yes")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "vnet0 is already attached to br1; leaving it there"
    );
}

/// A bridge vnet creates has an address of its own: locally administered,
/// unicast, never a tap's `fe:`, and the same for the same name.
#[test]
fn a_created_bridge_has_a_stable_local_address() {
    let mac = bridge_mac("br0");
    assert_eq!(mac, bridge_mac("br0"));
    assert_eq!(mac[0] & 0b11, 0b10, "locally administered unicast");
    assert_ne!(mac, bridge_mac("br1"));
    assert_ne!(bridge_mac("lab"), bridge_mac("lab0"));
    let p = plan_attach(&tap(), None, None, &settings("create-bridge = yes")).unwrap();
    assert!(matches!(p.actions[0], Action::CreateBridge { mac: m, .. } if m == mac));
}
