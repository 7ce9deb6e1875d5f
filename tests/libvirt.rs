//! The contract with libvirt: libvirtd (Debian's, as root, in the test's
//! own network and mount namespaces) runs vnet-ifup and vnet-ifdown as an
//! `<interface type='ethernet'>`'s `<script>` and `<downscript>`. `ip` and
//! `bridge` in the namespace are the oracle for the taps; libvirtd's own
//! debug log says which commands it ran, with what environment, when, and
//! how they ended.

mod common;

use common::libvirt::domain::{domain, ethernet, interface};
use common::libvirt::events::link_events;
use common::libvirt::log::{assert_no_script_error, line_of, ran, ran_once};
use common::libvirt::{self, Libvirtd, DAEMON_ENV};
use common::{Netns, IFDOWN, IFUP};
use serde_json::Value;

/// libvirtd in a namespace with bridges `br0` (the global `bridge`, MTU
/// 1500) and `lan` (MTU 9000, so a copied MTU shows), `vnet_conf` as
/// `/etc/vnet/vnet.conf` and `env` in libvirtd's environment; `None` when
/// this machine cannot run the test.
fn setup(vnet_conf: &str, env: &[(&str, &str)]) -> Option<Libvirtd> {
    if !common::privileged() || !libvirt::available() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 1500);
    ns.add_bridge("lan", 9000);
    Libvirtd::start(ns, vnet_conf, env)
}

/// `[match]` picks `lan` for the `vm-` taps; the global bridge is `br0`.
const CONF: &str = "bridge = br0\n[match vm-*]\nbridge = lan\n";

/// Asserts `tap` is up on `bridge` with the bridge's MTU and libvirt's MAC
/// with `fe` as its first octet, and nothing is on `br0`.
fn assert_attached(ns: &Netns, tap: &str, bridge: &str, mac: &str) {
    let link = ns
        .link(tap)
        .unwrap_or_else(|| panic!("{tap} does not exist"));
    let bridge_mtu = ns.link(bridge).expect("bridge").mtu;
    assert!(link.up, "{tap} is down: {link:?}");
    assert_eq!(link.master.as_deref(), Some(bridge), "{link:?}");
    assert_eq!(link.mtu, bridge_mtu, "{link:?}");
    assert_eq!(link.mac, format!("fe{}", &mac[2..]), "{link:?}");
    let port = ns.bridge(&["link", "show", "dev", tap]);
    assert!(port.contains(&format!("master {bridge}")), "{port}");
    assert_eq!(ns.ip(&["link", "show", "master", "br0"]), "");
}

#[test]
fn an_ethernet_interface_joins_the_match_bridge_and_goes_with_the_domain() {
    let Some(vm) = setup(CONF, &[]) else { return };
    let nic = ethernet("52:54:00:12:34:56", "<target dev='vm-web0'/>");
    vm.create(&domain("web", &nic)).expect(0);
    assert_attached(&vm.ns, "vm-web0", "lan", "52:54:00:12:34:56");
    ran_once(&vm, &IFUP, "vm-web0");

    let index = vm.ns.ip(&["-j", "link", "show", "dev", "vm-web0"]);
    let index = serde_json::from_str::<Value>(&index).expect("ip -j")[0]["ifindex"].clone();
    let events = link_events(&vm.ns, || {
        vm.virsh(&["destroy", "web"]).expect(0);
    });
    assert!(
        vm.ns.link("vm-web0").is_none(),
        "the tap outlived the domain"
    );
    assert_eq!(vm.ns.ip(&["link", "show", "master", "lan"]), "");
    // The downscript runs after QEMU is killed, and QEMU took the tap with
    // it: it went down still on lan, so vnet-ifdown never found it. Then
    // libvirt deletes the tap by name itself.
    let tap = format!("{index}: vm-web0: ");
    let changes: Vec<&str> = events.lines().filter(|l| l.starts_with(&tap)).collect();
    assert!(!changes.is_empty(), "{events}");
    assert!(
        changes.iter().all(|l| l.contains(" master lan ")),
        "{events}"
    );
    let down = ran_once(&vm, &IFDOWN, "vm-web0");
    let log = vm.log();
    assert!(line_of(&log, "qemuProcessKill") < down.line, "{log}");
    assert!(
        down.line < line_of(&log, "delete device: 'vm-web0'"),
        "{log}"
    );
    assert_no_script_error(&vm);
}

#[test]
fn libvirt_hands_the_script_its_own_tap_up_and_a_given_tap_untouched() {
    let Some(vm) = setup(CONF, &[]) else { return };
    vm.ns.add_tap("vm-own0");
    let own = vm.ns.link("vm-own0").expect("tap");
    let probe = vm.probe_script();
    let nics = interface("52:54:00:12:34:56", "<target dev='vm-web0'/>", &probe)
        + &interface(&own.mac, "<target dev='vm-own0' managed='no'/>", &probe);
    vm.create(&domain("probe", &nics)).expect(0);
    let flags = |v: &Value| v["flags"].as_array().expect("flags").contains(&"UP".into());

    let made = vm.probed("vm-web0");
    assert!(flags(&made), "{made}");
    assert_eq!(made["address"], "fe:54:00:12:34:56", "{made}");
    assert!(made.get("master").is_none(), "{made}");
    // No owner or group: libvirt runs the scripts as root, so vnet's
    // ownership rules never apply.
    let tun = &made["linkinfo"]["info_data"];
    assert!(
        tun.get("user").is_none() && tun.get("group").is_none(),
        "{tun}"
    );

    // A managed='no' tap is handed over as it was: down, its own MAC.
    let given = vm.probed("vm-own0");
    assert!(!flags(&given), "{given}");
    assert_eq!(given["address"], own.mac.as_str(), "{given}");
    assert_eq!(vm.ns.link("vm-own0"), Some(own), "libvirt changed it");
}

#[test]
fn a_tap_given_with_managed_no_is_attached_then_left_detached_and_down() {
    let Some(vm) = setup(CONF, &[]) else { return };
    vm.ns.add_tap("vm-own0");
    let before = vm.ns.link("vm-own0").expect("tap").mac;
    let nic = ethernet(&before, "<target dev='vm-own0' managed='no'/>");
    vm.create(&domain("own", &nic)).expect(0);
    assert_attached(&vm.ns, "vm-own0", "lan", &before);
    ran_once(&vm, &IFUP, "vm-own0");

    vm.virsh(&["destroy", "own"]).expect(0);
    let link = vm.ns.link("vm-own0").expect("a managed='no' tap stays");
    assert_eq!((link.up, link.master.as_deref()), (false, None), "{link:?}");
    assert_eq!(vm.ns.bridge(&["link", "show", "dev", "vm-own0"]), "");
    // It keeps the MTU and the fe: MAC that vnet-ifup gave it.
    assert_eq!((link.mtu, &link.mac[..3]), (9000, "fe:"), "{link:?}");
    ran_once(&vm, &IFDOWN, "vm-own0");
    assert!(!vm.log().contains("delete device: 'vm-own0'"));
    assert_no_script_error(&vm);
}

#[test]
fn a_refusal_fails_virsh_create_with_our_line_and_leaves_no_tap() {
    let conf = "[match vm-gone*]\nbridge = br7\n[match vm-veth*]\nbridge = v1\n";
    let Some(vm) = setup(conf, &[]) else { return };
    vm.ns
        .ip(&["link", "add", "v1", "type", "veth", "peer", "v2"]);
    let cases = [
        ("vm-gone0", "bridge br7 does not exist"),
        ("vm-veth0", "v1 is a veth device, not a bridge"),
    ];
    for (n, (tap, why)) in cases.into_iter().enumerate() {
        let before = vm.ns.snapshot();
        let nic = ethernet("52:54:00:12:34:56", &format!("<target dev='{tap}'/>"));
        let run = vm.create(&domain(&format!("refused{n}"), &nic));
        run.expect(1);
        let bridge = if n == 0 { "br7" } else { "v1" };
        let ours = format!("vnet-ifup: cannot attach {tap} to bridge {bridge}: {why}");
        assert!(run.stderr.contains(&ours), "{run:#?}");
        assert!(vm.ns.link(tap).is_none(), "{tap} was left behind");
        assert_eq!(vm.ns.snapshot(), before);
    }
    assert_eq!(
        vm.virsh(&["list", "--all", "--name"])
            .expect(0)
            .stdout
            .trim(),
        ""
    );
    // libvirt runs the downscript on a failed start too; it finds nothing
    // to undo.
    for (tap, _) in cases {
        ran_once(&vm, &IFDOWN, tap);
    }
    assert!(ran(&vm.log(), &IFDOWN).len() == cases.len());
}

#[test]
fn a_target_that_is_not_a_tap_is_refused_by_libvirt_and_by_our_downscript() {
    let Some(vm) = setup(CONF, &[]) else { return };
    vm.ns.ip(&[
        "link", "add", "vm-veth0", "type", "veth", "peer", "vm-veth1",
    ]);
    let before = vm.ns.snapshot();
    // libvirt refuses to make a tap whose name is taken, and fails to open
    // a veth as a tap, so vnet-ifup never runs. The failed start's cleanup
    // still runs the downscript on the name, which refuses the veth and
    // leaves it alone.
    let cases = [
        (
            "<target dev='vm-veth0'/>",
            "The vm-veth0 interface already exists",
        ),
        (
            "<target dev='vm-veth0' managed='no'/>",
            "Unable to create tap device vm-veth0",
        ),
    ];
    let refusal = "vnet-ifdown: cannot detach vm-veth0: vm-veth0 is a veth device, not a tap";
    for (n, (target, why)) in cases.into_iter().enumerate() {
        let nic = ethernet("52:54:00:12:34:56", target);
        let run = vm.create(&domain(&format!("veth{n}"), &nic));
        run.expect(1);
        assert!(run.stderr.contains(why), "{run:#?}");
        assert_eq!(vm.ns.snapshot(), before);
        let log = vm.log();
        assert!(ran(&log, &IFUP).is_empty(), "{log}");
        let down = ran(&log, &IFDOWN);
        assert_eq!(down.len(), n + 1, "{down:#?}");
        let stderr = format!("stderr: '{refusal}");
        assert!(down[n].result.ends_with(&stderr), "{down:#?}");
    }
}

#[test]
fn a_taken_tap_name_fails_the_start_and_libvirt_still_tears_that_tap_down() {
    let Some(vm) = setup(CONF, &[]) else { return };
    // Another VM's tap, attached as QEMU's script= would attach it.
    vm.ns.add_tap("vm-web0");
    vm.ns.ifup("vm-web0", &[("VNET_BRIDGE", "lan")]).expect(0);
    let nic = ethernet("52:54:00:12:34:56", "<target dev='vm-web0'/>");
    let run = vm.create(&domain("clash", &nic));
    run.expect(1);
    assert!(
        run.stderr.contains("The vm-web0 interface already exists"),
        "{run:#?}"
    );
    // libvirt refused the name, then cleaned up after itself on it all
    // the same: the downscript detached the other VM's tap, and libvirt
    // deleted it. README warns of this.
    let down = ran_once(&vm, &IFDOWN, "vm-web0");
    let log = vm.log();
    assert!(ran(&log, &IFUP).is_empty(), "{log}");
    assert!(
        down.line < line_of(&log, "delete device: 'vm-web0'"),
        "{log}"
    );
    assert!(
        vm.ns.link("vm-web0").is_none(),
        "the other VM's tap survived"
    );
}

#[test]
fn vnet_variables_set_for_libvirtd_never_reach_the_script_and_match_decides() {
    // Had any of these arrived, vnet-ifup would have picked `wrong`, failed
    // to read the file, or written debug lines to stderr.
    let env = [
        ("VNET_BRIDGE", "wrong"),
        ("VNET_CONFIG", "/nonexistent/vnet.conf"),
        ("VNET_LOG", "debug"),
    ];
    let Some(vm) = setup(CONF, &env) else { return };
    vm.ns.add_bridge("wrong", 1500);
    let nic = ethernet("52:54:00:12:34:56", "<target dev='vm-web0'/>");
    vm.create(&domain("web", &nic)).expect(0);
    assert_attached(&vm.ns, "vm-web0", "lan", "52:54:00:12:34:56");
    assert_eq!(vm.ns.ip(&["link", "show", "master", "wrong"]), "");

    let up = ran_once(&vm, &IFUP, "vm-web0");
    // libvirt's own list, in its order: LC_ALL=C, then the loader
    // variables, PATH, HOME, USER, LOGNAME and TMPDIR from its environment.
    let value = |key: &str| DAEMON_ENV.iter().find(|(k, _)| *k == key).expect(key).1;
    let passed = [
        "LD_LIBRARY_PATH",
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "TMPDIR",
    ];
    let passed: String = passed.map(|k| format!("{k}={} ", value(k))).concat();
    assert_eq!(up.command, format!("LC_ALL=C {passed}{} vm-web0", *IFUP));
    assert_no_script_error(&vm);
}

#[test]
fn a_vnet_prefixed_target_is_renamed_so_match_never_sees_it() {
    let conf = "bridge = br0\n[match vnet-web*]\nbridge = lan\n";
    let Some(vm) = setup(conf, &[]) else { return };
    let nic = ethernet("52:54:00:12:34:56", "<target dev='vnet-web0'/>");
    vm.create(&domain("web", &nic)).expect(0);
    // libvirt takes the vnet prefix for its own names and picks vnet0.
    assert!(vm.ns.link("vnet-web0").is_none());
    ran_once(&vm, &IFUP, "vnet0");
    let link = vm.ns.link("vnet0").expect("libvirt's name");
    assert_eq!(link.master.as_deref(), Some("br0"), "{link:?}");
    assert_eq!(vm.ns.ip(&["link", "show", "master", "lan"]), "");
}
