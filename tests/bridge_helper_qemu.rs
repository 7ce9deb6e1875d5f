//! QEMU's `-netdev bridge,helper=` (and `-netdev tap,helper=`, and QMP
//! `netdev_add` of type bridge) run by an ordinary user against a setcap'd
//! copy of vnet-ifup: the tap appears attached and owned by the user, and
//! disappears when QEMU lets go of it. Refusals reach QEMU's stderr as
//! vnet's line, and no tap is left. A faked QEMU side checks, as the same
//! user, what crosses the socket.

mod common;

use common::fakeqemu::{self, tap_of};
use common::users::{Helper, ALICE, BOB, KVM};
use serde_json::json;

const ACL: &str = "\
[access br0]
allow = alice
[access br*]
allow = @kvm
deny = bob
";

/// A staged namespace (bridges br0 and br1, capable binaries) whose br0
/// has MTU 9000, or `None` when this machine cannot run the test.
fn setup(qemu: bool) -> Option<Helper> {
    let h = Helper::new(ACL)?;
    if qemu && !common::qemu::available() {
        return None;
    }
    h.ns.ip(&["link", "set", "br0", "mtu", "9000"]);
    Some(h)
}

/// The names of the taps in the namespace (helper taps are tapN).
fn taps(h: &Helper) -> Vec<String> {
    let links = h.ns.links().into_keys();
    links.filter(|n| n.starts_with("tap")).collect()
}

/// Asserts the only tap is attached to `bridge`, up, with its MTU and a
/// `fe:` MAC, and owned by `uid`; returns its name.
fn assert_one_attached_tap(h: &Helper, bridge: &str, uid: u32) -> String {
    let taps = taps(h);
    assert_eq!(taps.len(), 1, "{taps:?}");
    let tap = taps[0].clone();
    let link = h.ns.link(&tap).expect("tap");
    assert_eq!(
        (link.master.as_deref(), link.up),
        (Some(bridge), true),
        "{link:?}"
    );
    assert_eq!(link.mtu, h.ns.link(bridge).expect("bridge").mtu, "{link:?}");
    assert!(link.mac.starts_with("fe:"), "{link:?}");
    let details = h.ns.ip(&["-d", "link", "show", "dev", &tap]);
    assert!(
        details.contains(&format!(" user {uid} group {uid} ")),
        "{details}"
    );
    assert!(details.contains("persist off"), "{details}");
    tap
}

/// Waits (at most 10 s) until no tap is left: QEMU's exit closes the fd.
fn assert_taps_vanish(h: &Helper) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !taps(h).is_empty() {
        assert!(std::time::Instant::now() < deadline, "left: {:?}", taps(h));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn netdev_bridge_as_an_allowed_user_gives_qemu_an_attached_tap_of_hers() {
    let Some(h) = setup(true) else { return };
    let netdev = format!("bridge,id=n0,br=br0,helper={}", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let mut qemu = h.qemu_as(ALICE, &args);
    let qmp = qemu.qmp();
    let tap = assert_one_attached_tap(&h, "br0", ALICE);
    let line = h.audit();
    assert!(
        line.ends_with(&format!(
            "uid=4201 user=alice tap={tap} bridge=br0 verdict=attached"
        )),
        "{line}"
    );
    let run = qemu.quit(qmp);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:#?}");
    assert_taps_vanish(&h);
}

#[test]
fn netdev_tap_with_helper_and_br_does_the_same() {
    let Some(h) = setup(true) else { return };
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
    assert_eq!(taps(&h), Vec::<String>::new());

    let netdev = format!("tap,id=n0,br=br0,helper={}", h.bin("vnet-ifup"));
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let mut qemu = h.qemu_as(ALICE, &args);
    let qmp = qemu.qmp();
    assert_one_attached_tap(&h, "br0", ALICE);
    qemu.quit(qmp).expect(0);
    assert_taps_vanish(&h);
}

#[test]
fn qmp_netdev_add_of_type_bridge_and_netdev_del() {
    let Some(h) = setup(true) else { return };
    let mut qemu = h.qemu_as(ALICE, &[]);
    let mut qmp = qemu.qmp();
    let helper = h.bin("vnet-ifup");
    qmp.ok(
        "netdev_add",
        json!({"type": "bridge", "id": "h0", "br": "br0", "helper": helper}),
    );
    let tap = assert_one_attached_tap(&h, "br0", ALICE);
    qmp.ok("netdev_del", json!({"id": "h0"}));
    assert_taps_vanish(&h);
    assert!(h
        .audit()
        .contains(&format!("tap={tap} bridge=br0 verdict=attached")));
    // A refused netdev_add is QMP's error, and leaves nothing.
    let refused = qmp.execute(
        "netdev_add",
        json!({"type": "bridge", "id": "h1", "br": "br7", "helper": helper}),
    );
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(taps(&h), Vec::<String>::new());
    qemu.quit(qmp).expect(0);
}

#[test]
fn multiqueue_is_refused_by_qemu_and_leaves_no_tap() {
    let Some(h) = setup(true) else { return };
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
    assert_eq!(taps(&h), Vec::<String>::new());
}

#[test]
fn refusals_reach_qemu_and_leave_the_bridge_as_it_was() {
    let Some(h) = setup(true) else { return };
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
    assert_eq!(taps(&h), Vec::<String>::new());
    assert_eq!(h.ns.snapshot(), before);
}

#[test]
fn the_faked_qemu_side_gets_one_byte_and_the_users_attached_tap() {
    let Some(h) = setup(false) else { return };
    let cmd = h.command_as(ALICE, &[KVM], "vnet-ifup", &[]);
    let reply = fakeqemu::run(cmd, |fd| {
        vec!["--br=br1".into(), "--use-vnet".into(), format!("--fd={fd}")]
    });
    reply.run.expect(0);
    assert_eq!(
        (reply.bytes.as_slice(), reply.fds.len()),
        (&[0u8][..], 1),
        "{reply:#?}"
    );
    let (name, _) = tap_of(&reply.fds[0]);
    assert_eq!(assert_one_attached_tap(&h, "br1", ALICE), name);
    drop(reply);
    assert_taps_vanish(&h);

    // A user who may not: nothing crosses the socket.
    let cmd = h.command_as(BOB, &[KVM], "vnet-ifup", &[]);
    let reply = fakeqemu::run(cmd, |fd| vec!["--br=br1".into(), format!("--fd={fd}")]);
    assert!(reply
        .refused(1)
        .ends_with("denied by /etc/vnet/vnet.conf:5"));
    assert_eq!(taps(&h), Vec::<String>::new());
}

#[test]
fn check_tells_a_user_whether_she_may() {
    let Some(h) = setup(false) else { return };
    let run = h.run_as(ALICE, &[], "vnet-ifup", &["--check", "--br=br0"], &[]);
    run.expect(0);
    for line in [
        "caller          user alice (uid 4201), groups 4201\n",
        "access          allowed to use bridge br0\n",
        "                4. attaching the tap to br0\n",
    ] {
        assert!(run.stdout.contains(line), "{line}in\n{}", run.stdout);
    }
    let run = h.run_as(BOB, &[], "vnet-ifup", &["--check", "--br=br0"], &[]);
    assert!(run
        .expect(1)
        .one_line()
        .contains("user bob (uid 4202) may not use bridge br0"));
    assert_eq!(taps(&h), Vec::<String>::new());
}
