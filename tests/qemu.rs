//! The contract with our real client: qemu-system-x86_64 runs vnet-ifup
//! when it creates a tap netdev and vnet-ifdown when it drops one. QEMU runs
//! paused with no guest; `ip` and `bridge` in the namespace are the oracle.

mod common;

use common::qemu::{self, tap_netdev, Qemu};
use common::{Netns, IFUP};
use nix::sys::signal::Signal;
use serde_json::{json, Value};

/// A namespace with bridge `br0` (MTU 9000, so a copied MTU shows), or
/// `None` when this machine cannot run the test.
fn setup() -> Option<Netns> {
    if !common::privileged() || !qemu::available() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    Some(ns)
}

/// A NIC on netdev `id`, as README.md writes it; `romfile=` spares QEMU
/// looking for an iPXE image it would never run.
fn nic(id: &str, mac: &str) -> String {
    format!("virtio-net-pci,netdev={id},mac={mac},romfile=")
}

/// Asserts `tap` is up on `bridge` with the bridge's MTU, and a `fe:` MAC.
fn assert_attached(ns: &Netns, tap: &str, bridge: &str) {
    let link = ns
        .link(tap)
        .unwrap_or_else(|| panic!("{tap} does not exist"));
    let bridge_mtu = ns.link(bridge).expect("bridge").mtu;
    assert!(link.up, "{tap} is down: {link:?}");
    assert_eq!(link.master.as_deref(), Some(bridge), "{link:?}");
    assert_eq!(link.mtu, bridge_mtu, "{link:?}");
    assert!(link.mac.starts_with("fe:"), "{link:?}");
    let port = ns.bridge(&["link", "show", "dev", tap]);
    assert!(port.contains(&format!("master {bridge}")), "{port}");
}

/// Asserts a persistent `tap` is still there, down and on no bridge.
fn assert_detached(ns: &Netns, tap: &str) {
    let link = ns.link(tap).unwrap_or_else(|| panic!("{tap} vanished"));
    assert_eq!((link.up, link.master.as_deref()), (false, None), "{link:?}");
    assert_eq!(ns.bridge(&["link", "show", "dev", tap]), "");
}

fn lines(stderr: &str, prefix: &str) -> Vec<String> {
    let found = stderr.lines().filter(|l| l.starts_with(prefix));
    found.map(str::to_owned).collect()
}

#[test]
fn a_persistent_tap_is_attached_while_qemu_runs_and_detached_after_quit() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("lan", 9000);
    ns.add_tap("vnet0");
    let conf = ns.config("bridge = lan\n");
    let env = [("VNET_CONFIG", conf.to_str().unwrap())];
    let netdev = tap_netdev("n0", "vnet0");
    let nic = nic("n0", "52:54:00:12:34:56");
    let (mut vm, qmp) = Qemu::start(&ns, &["-netdev", &netdev, "-device", &nic], &env);
    assert_attached(&ns, "vnet0", "lan");
    assert_eq!(ns.ip(&["link", "show", "master", "br0"]), "");

    let run = vm.quit(qmp);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:#?}");
    assert_detached(&ns, "vnet0");
}

#[test]
fn a_tap_qemu_creates_is_attached_and_the_downscript_runs_before_it_vanishes() {
    let Some(ns) = setup() else { return };
    let netdev = tap_netdev("n0", "vnet0");
    let nic = nic("n0", "52:54:00:12:34:56");
    let env = [("VNET_LOG", "info")];
    let (mut vm, qmp) = Qemu::start(&ns, &["-netdev", &netdev, "-device", &nic], &env);
    assert_attached(&ns, "vnet0", "br0");
    let mac = ns.link("vnet0").unwrap().mac;

    let run = vm.quit(qmp);
    run.expect(0);
    assert!(ns.link("vnet0").is_none(), "QEMU's own tap outlived it");
    // vnet-ifdown found the tap still on br0: QEMU runs it before closing.
    assert_eq!(
        run.stderr,
        format!(
            "vnet-ifup: info: attached vnet0 to br0: mtu 9000, mac {mac}\n\
             vnet-ifdown: info: detached vnet0 from br0; it is down\n"
        )
    );
}

#[test]
fn a_missing_bridge_stops_qemu_with_our_line_and_its_own() {
    let Some(ns) = setup() else { return };
    let conf = ns.config("bridge = br7\n");
    let env = [
        ("VNET_CONFIG", conf.to_str().unwrap()),
        ("VNET_LOG", "info"),
    ];
    let netdev = tap_netdev("n0", "vnet0");
    let nic = nic("n0", "52:54:00:12:34:56");
    let run = Qemu::spawn(&ns, &["-netdev", &netdev, "-device", &nic], &env).wait();
    run.expect(1);
    // Two lines and no more: a netdev that never came up has no downscript.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert_eq!(
        lines[0],
        "vnet-ifup: cannot attach vnet0 to bridge br7: bridge br7 does not exist: create it \
         with \"ip link add br7 type bridge\" and \"ip link set br7 up\", or set \
         \"create-bridge = yes\""
    );
    // QEMU prints waitpid's raw status: exit status 1 is "status 256".
    let qemu = format!(
        "qemu-system-x86_64: -netdev {netdev}: network script {} failed with status 256",
        *IFUP
    );
    assert_eq!(lines[1], qemu);
    assert!(ns.link("vnet0").is_none());
    assert_eq!(ns.bridge(&["link", "show"]), "");
}

#[test]
fn vnet_bridge_in_qemus_environment_picks_the_bridge() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br1", 1500);
    let conf = ns.config("bridge = br0\n");
    let env = [
        ("VNET_CONFIG", conf.to_str().unwrap()),
        ("VNET_BRIDGE", "br1"),
    ];
    let netdev = tap_netdev("n0", "vnet0");
    let nic = nic("n0", "52:54:00:12:34:56");
    let (mut vm, qmp) = Qemu::start(&ns, &["-netdev", &netdev, "-device", &nic], &env);
    assert_attached(&ns, "vnet0", "br1");
    assert_eq!(ns.link("vnet0").unwrap().mtu, 1500);
    vm.quit(qmp).expect(0);
}

#[test]
fn netdev_add_attaches_and_netdev_del_detaches() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    let (mut vm, mut qmp) = Qemu::start(&ns, &[], &[]);
    assert_detached(&ns, "vnet0");

    let netdev = json!({
        "type": "tap", "id": "h0", "ifname": "vnet0",
        "script": *IFUP, "downscript": *common::IFDOWN,
    });
    qmp.ok("netdev_add", netdev);
    assert_attached(&ns, "vnet0", "br0");
    let nic = json!({"driver": "virtio-net-pci", "netdev": "h0", "id": "nic0", "romfile": ""});
    qmp.ok("device_add", nic);
    // README's order: device_del, DEVICE_DELETED, netdev_del. Without a
    // guest the card is never released, so no event comes: the request is
    // accepted, and netdev_del then runs the downscript all the same.
    qmp.ok("device_del", json!({"id": "nic0"}));
    qmp.ok("netdev_del", json!({"id": "h0"}));
    assert_detached(&ns, "vnet0");

    let run = vm.quit(qmp);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:#?}");
}

#[test]
fn multiqueue_runs_each_script_once() {
    let Some(ns) = setup() else { return };
    let netdev = format!("{},queues=4", tap_netdev("n0", "vnet0"));
    let nic = format!("{},mq=on,vectors=10", nic("n0", "52:54:00:12:34:56"));
    let env = [("VNET_LOG", "info")];
    let (mut vm, qmp) = Qemu::start(&ns, &["-netdev", &netdev, "-device", &nic], &env);
    assert_attached(&ns, "vnet0", "br0");
    let info = tun_info(&ns, "vnet0");
    assert_eq!(info["multi_queue"], true, "{info}");
    // The guest has not enabled its queues, so QEMU keeps three disabled.
    let queues = info["numqueues"].as_u64().unwrap() + info["numdisabled"].as_u64().unwrap();
    assert_eq!(queues, 4, "{info}");

    let run = vm.quit(qmp);
    run.expect(0);
    assert_eq!(lines(&run.stderr, "vnet-ifup").len(), 1, "{run:#?}");
    assert_eq!(lines(&run.stderr, "vnet-ifdown").len(), 1, "{run:#?}");
    assert!(ns.link("vnet0").is_none());
}

/// The tun driver's own attributes (IFLA_TUN_*) as `ip -d -j link` shows them.
fn tun_info(ns: &Netns, tap: &str) -> Value {
    let out = ns.ip(&["-d", "-j", "link", "show", "dev", tap]);
    let all: Value = serde_json::from_str(&out).expect("ip -j output");
    all[0]["linkinfo"]["info_data"].clone()
}

#[test]
fn two_qemus_started_together_share_a_bridge() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    ns.add_tap("vnet1");
    let (netdev0, netdev1) = (tap_netdev("n0", "vnet0"), tap_netdev("n0", "vnet1"));
    let (nic0, nic1) = (
        nic("n0", "52:54:00:00:00:01"),
        nic("n0", "52:54:00:00:00:02"),
    );
    // Both start before either is waited for, so their scripts overlap.
    let mut a = Qemu::spawn(&ns, &["-netdev", &netdev0, "-device", &nic0], &[]);
    let mut b = Qemu::spawn(&ns, &["-netdev", &netdev1, "-device", &nic1], &[]);
    let (qmp_a, qmp_b) = (a.qmp(), b.qmp());
    assert_attached(&ns, "vnet0", "br0");
    assert_attached(&ns, "vnet1", "br0");
    assert_ne!(ns.link("vnet0").unwrap().mac, ns.link("vnet1").unwrap().mac);

    a.quit(qmp_a).expect(0);
    assert_detached(&ns, "vnet0");
    assert_attached(&ns, "vnet1", "br0");
    b.quit(qmp_b).expect(0);
    assert_detached(&ns, "vnet1");
}

#[test]
fn two_nics_in_one_qemu_go_to_the_bridges_their_names_match() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br1", 9000);
    ns.add_bridge("lab", 1500);
    ns.add_tap("vnet10");
    ns.add_tap("lab0");
    let conf =
        ns.config("bridge = br0\n[match vnet1*]\nbridge = br1\n[match lab?]\nbridge = lab\n");
    let env = [("VNET_CONFIG", conf.to_str().unwrap())];
    let (netdev0, netdev1) = (tap_netdev("n0", "vnet10"), tap_netdev("n1", "lab0"));
    let (nic0, nic1) = (
        nic("n0", "52:54:00:00:00:10"),
        nic("n1", "52:54:00:00:00:11"),
    );
    let args = [
        "-netdev", &netdev0, "-device", &nic0, "-netdev", &netdev1, "-device", &nic1,
    ];
    let (mut vm, qmp) = Qemu::start(&ns, &args, &env);
    assert_attached(&ns, "vnet10", "br1");
    assert_attached(&ns, "lab0", "lab");
    assert_eq!(ns.ip(&["link", "show", "master", "br0"]), "");

    vm.quit(qmp).expect(0);
    assert_detached(&ns, "vnet10");
    assert_detached(&ns, "lab0");
}

#[test]
fn sigterm_still_runs_the_downscript() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet0");
    let netdev = tap_netdev("n0", "vnet0");
    let nic = nic("n0", "52:54:00:12:34:56");
    let (mut vm, _qmp) = Qemu::start(&ns, &["-netdev", &netdev, "-device", &nic], &[]);
    assert_attached(&ns, "vnet0", "br0");

    vm.signal(Signal::SIGTERM);
    let run = vm.wait();
    run.expect(0);
    assert!(run.stderr.contains("terminating on signal 15"), "{run:#?}");
    assert_detached(&ns, "vnet0");
}
