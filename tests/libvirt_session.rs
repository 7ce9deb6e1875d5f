//! libvirt's session mode with vnet-ifup as its `bridge_helper`: an
//! ordinary user's libvirtd (`qemu:///session`, Debian's, in the test's own
//! network and mount namespaces) gets a tap on the bridge that vnet's
//! `[access]` rules allow, and a user they refuse gets libvirt's error with
//! vnet's line. `ip` in the namespace is the oracle; libvirtd's debug log
//! says how it ran the helper.

mod common;

use common::libvirt::domain::domain;
use common::libvirt::log::ran;
use common::libvirt::{self, Libvirtd};
use common::Netns;

const ALICE: (&str, u32) = ("alice", 4201);
const BOB: (&str, u32) = ("bob", 4202);

// By uid: each session stages only its own user in /etc/passwd, and a
// name vnet cannot find there is a configuration error.
const ACL: &str = "[access br0]\nallow = 4201\ndeny = 4202\n";

/// README's `<interface type='bridge'>`.
const BRIDGE_NIC: &str = "    <interface type='bridge'>
      <source bridge='br0'/>
      <mac address='52:54:00:12:34:56'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
";

/// `user`'s session libvirtd in a namespace with bridge `br0` (MTU 9000,
/// so a copied MTU shows), or `None` when this machine cannot run it.
fn setup(user: (&str, u32)) -> Option<Libvirtd> {
    if !common::privileged() || !libvirt::available() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    Libvirtd::session(ns, user, ACL)
}

/// The names of the taps in the namespace (helper taps are tapN).
fn taps(vm: &Libvirtd) -> Vec<String> {
    let links = vm.ns.links().into_keys();
    links.filter(|n| n.starts_with("tap")).collect()
}

#[test]
fn a_session_domain_gets_a_tap_on_the_bridge_from_vnet_as_bridge_helper() {
    let Some(vm) = setup(ALICE) else { return };
    vm.create(&domain("web", BRIDGE_NIC)).expect(0);
    let taps = taps(&vm);
    assert_eq!(taps.len(), 1, "{taps:?}");
    let link = vm.ns.link(&taps[0]).expect("tap");
    assert_eq!(
        (link.master.as_deref(), link.up),
        (Some("br0"), true),
        "{link:?}"
    );
    assert_eq!(link.mtu, 9000, "{link:?}");
    assert!(link.mac.starts_with("fe:"), "{link:?}");
    let details = vm.ns.ip(&["-d", "link", "show", "dev", &taps[0]]);
    assert!(details.contains(" user 4201 group 4201 "), "{details}");

    let audit = vm.audit();
    let attached = format!(
        "uid=4201 user=alice tap={} bridge=br0 verdict=attached",
        taps[0]
    );
    assert!(audit.ends_with(&attached), "{audit}");

    // libvirt runs the helper with no environment at all.
    let runs = ran(&vm.log(), &vm.helper());
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let command = format!("{} --use-vnet --br=br0 --fd=", vm.helper());
    assert!(runs[0].command.starts_with(&command), "{runs:#?}");
    let log = vm.log();
    let errors = log.lines().filter(|l| l.contains(" error : "));
    let ours: Vec<&str> = errors.filter(|l| l.contains(&vm.helper())).collect();
    assert!(ours.is_empty(), "{ours:#?}");

    // No downscript in this mode: the tap goes when QEMU closes it.
    vm.virsh(&["destroy", "web"]).expect(0);
    assert_eq!(self::taps(&vm), Vec::<String>::new());
}

#[test]
fn a_session_user_the_access_rules_refuse_gets_vnets_line_from_libvirt() {
    let Some(vm) = setup(BOB) else { return };
    let before = vm.ns.snapshot();
    let run = vm.create(&domain("web", BRIDGE_NIC));
    run.expect(1);
    assert!(
        run.stderr
            .contains("failed to communicate with bridge helper"),
        "{run:#?}"
    );
    // libvirt reads the helper's stderr in the background and may report
    // before it arrives; when it has it, it is vnet's line.
    let ours = "stderr=vnet-ifup: cannot give QEMU a tap on bridge br0: \
                user bob (uid 4202) may not use bridge br0";
    assert!(
        run.stderr.contains(ours) || !run.stderr.contains("stderr="),
        "{run:#?}"
    );
    // vnet's own trail has the refusal either way.
    let audit = vm.audit();
    let refused = "uid=4202 user=bob tap=tap%d bridge=br0 verdict=refused reason=";
    assert!(audit.contains(refused), "{audit}");
    assert!(
        audit.contains("uid=4202") && audit.contains("br0"),
        "{audit}"
    );
    assert_eq!(vm.ns.snapshot(), before);
}
