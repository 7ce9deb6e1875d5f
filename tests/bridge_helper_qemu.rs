//! QEMU's `-netdev bridge,helper=` (and `-netdev tap,helper=`, and QMP
//! `netdev_add` of type bridge) run by an ordinary user against a setcap'd
//! copy of vnet-ifup: the tap appears attached and owned by the user, and
//! disappears when QEMU lets go of it. Refusals reach QEMU's stderr as
//! vnet's line, and no tap is left.

mod common;

use common::fakeqemu::{assert_one_attached_tap, taps, wait_no_taps};
use common::users::{Helper, ALICE, BOB};
use serde_json::json;

#[test]
fn netdev_bridge_as_an_allowed_user_gives_qemu_an_attached_tap_of_hers() {
    let Some(h) = Helper::jumbo(true) else { return };
    let netdev = format!("bridge,id=n0,br=br0,helper={}", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let mut qemu = h.qemu_as(ALICE, &args);
    let qmp = qemu.qmp();
    let tap = assert_one_attached_tap(&h.ns, "br0", &["4201"]);
    let line = h.audit();
    assert!(
        line.ends_with(&format!(
            "uid=4201 user=alice tap={tap} bridge=br0 verdict=attached"
        )),
        "{line}"
    );
    let run = qemu.quit(qmp);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:#?}");
    wait_no_taps(&h.ns);
}

#[test]
fn netdev_tap_with_helper_and_br_does_the_same() {
    let Some(h) = Helper::jumbo(true) else { return };
    let netdev = format!("tap,id=n0,br=br1,helper={}", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    // br1 is allowed to @kvm only: alice's QEMU runs without groups.
    let run = h.qemu_as(ALICE, &args).wait();
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.starts_with(
            "vnet-ifup: cannot give QEMU a tap on bridge br1: user alice (uid 4201) may not use \
             bridge br1: no [access] rule in /etc/vnet/vnet.conf allows it\n"
        ),
        "{run:#?}"
    );
    assert_eq!(taps(&h.ns), Vec::<String>::new());

    let netdev = format!("tap,id=n0,br=br0,helper={}", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let mut qemu = h.qemu_as(ALICE, &args);
    let qmp = qemu.qmp();
    assert_one_attached_tap(&h.ns, "br0", &["4201"]);
    qemu.quit(qmp).expect(0);
    wait_no_taps(&h.ns);
}

#[test]
fn qmp_netdev_add_of_type_bridge_and_netdev_del() {
    let Some(h) = Helper::jumbo(true) else { return };
    let mut qemu = h.qemu_as(ALICE, &[]);
    let mut qmp = qemu.qmp();
    let helper = h.bin("vnet-ifup");
    qmp.ok(
        "netdev_add",
        json!({"type": "bridge", "id": "h0", "br": "br0", "helper": helper}),
    );
    let tap = assert_one_attached_tap(&h.ns, "br0", &["4201"]);
    qmp.ok("netdev_del", json!({"id": "h0"}));
    wait_no_taps(&h.ns);
    assert!(h
        .audit()
        .contains(&format!("tap={tap} bridge=br0 verdict=attached")));
    // A refused netdev_add is QMP's error, and leaves nothing.
    let refused = qmp.execute(
        "netdev_add",
        json!({"type": "bridge", "id": "h1", "br": "br7", "helper": helper}),
    );
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(taps(&h.ns), Vec::<String>::new());
    qemu.quit(qmp).expect(0);
}

#[test]
fn multiqueue_is_refused_by_qemu_and_leaves_no_tap() {
    let Some(h) = Helper::jumbo(true) else { return };
    let netdev = format!("tap,id=n0,br=br0,helper={},queues=2", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,mq=on,romfile=",
    ];
    let run = h.qemu_as(ALICE, &args).wait();
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("queues="),
        "QEMU's own refusal: {run:#?}"
    );
    assert_eq!(taps(&h.ns), Vec::<String>::new());
}

#[test]
fn refusals_reach_qemu_and_leave_the_bridge_as_it_was() {
    let Some(h) = Helper::jumbo(true) else { return };
    h.ns.ip(&["link", "add", "ve0", "type", "veth", "peer", "name", "ve1"]);
    let before = h.ns.snapshot();
    let helper = h.bin("vnet-ifup");
    for (user, bridge, line) in [
        (BOB, "br1", "vnet-ifup: cannot give QEMU a tap on bridge br1: user bob (uid 4202) may not use bridge br1: denied by /etc/vnet/vnet.conf:5"),
        (ALICE, "br7", "vnet-ifup: cannot give QEMU a tap on bridge br7: user alice (uid 4201) may not use bridge br7: no [access] rule in /etc/vnet/vnet.conf allows it"),
        (ALICE, "br0xxxxxxxxxxxxx", "vnet-ifup: invalid bridge name \"br0xxxxxxxxxxxxx\": the name is 16 bytes long; the kernel allows at most 15; usage: vnet-ifup [--use-vnet] --br=BRIDGE --fd=N | vnet-ifup --check --br=BRIDGE"),
    ] {
        let netdev = format!("bridge,id=n0,br={bridge},helper={helper}");
        let args = ["-netdev", &netdev, "-device", "virtio-net-pci,netdev=n0,romfile="];
        let run = h.qemu_as(user, &args).wait();
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert_eq!(run.stderr.lines().next(), Some(line), "{run:#?}");
        assert!(run.stderr.contains("bridge helper failed"), "{run:#?}");
    }
    assert_eq!(taps(&h.ns), Vec::<String>::new());
    assert_eq!(h.ns.snapshot(), before);
}
