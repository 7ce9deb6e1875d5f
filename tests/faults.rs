//! A request of the plan fails, made exact with strace (its n-th sendto
//! fails, not carried out): the port and VLAN steps, and an undo that
//! fails too. Whatever fails, the run ends with status 1 and one line
//! saying what failed and how the undoing went, and the tap as it was
//! found wherever the undo could put it back.

mod common;

use common::{strace, Netns, IFUP};

/// vnet-ifup's requests for a fresh tap on a 9000-byte bridge: the two
/// lookups, MTU, MAC, master, then the port's requests, then up.
const SET_MASTER: u32 = 5;
const FIRST_PORT_STEP: u32 = 6;

fn setup(vlan_filtering: bool) -> Option<Netns> {
    if !common::privileged() {
        return None;
    }
    let ns = Netns::new();
    // Only a kernel with VLAN filtering takes the attribute at all.
    let mut add = vec!["link", "add", "br0", "type", "bridge"];
    if vlan_filtering {
        add.extend(["vlan_filtering", "1"]);
    }
    ns.ip(&add);
    ns.ip(&["link", "set", "br0", "mtu", "9000", "up"]);
    ns.add_tap("vnet0");
    Some(ns)
}

/// vnet-ifup vnet0 with `config`, its `when`-th request failing (EPERM).
fn failing(ns: &Netns, config: &str, when: &str) -> common::Run {
    let conf = ns.config(config);
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let trace = strace::trace_path(ns);
    let inject = format!("sendto:error=EPERM:when={when}");
    let child = strace::spawn(ns, &IFUP, &["vnet0"], &env, &trace, "sendto", &inject);
    strace::finish(child, &trace)
}

const FAILED: &str = "netlink socket: Operation not permitted (os error 1)";

#[test]
fn a_failed_port_step_undoes_the_attachment() {
    let Some(ns) = setup(false) else { return };
    let found = ns.link("vnet0").expect("the tap");
    let run = failing(&ns, "isolated = yes\n", &FIRST_PORT_STEP.to_string());
    assert_eq!(
        run.expect(1).one_line(),
        format!(
            "vnet-ifup: cannot attach vnet0 to bridge br0: setting the bridge-port options of \
             vnet0: isolated yes: {FAILED}; vnet0 was restored as it was found"
        )
    );
    assert_eq!(ns.link("vnet0"), Some(found));
}

/// The VLAN steps come after the port options: the first is removing the
/// default VLAN from an access port. Needs a kernel with VLAN filtering
/// (the Debian-kernel guests); elsewhere vnet refuses before any change,
/// which tests/ports.rs checks.
#[test]
fn a_failed_vlan_step_undoes_the_attachment() {
    let Some(ns) = setup(false) else { return };
    if !ns.vlan_filtering_supported() {
        return;
    }
    drop(ns);
    let Some(ns) = setup(true) else { return };
    let found = ns.link("vnet0").expect("the tap");
    for (step, what) in [
        (FIRST_PORT_STEP, "removing VLAN 1 from vnet0"),
        (
            FIRST_PORT_STEP + 1,
            "adding VLAN 10 (pvid, untagged) to vnet0",
        ),
    ] {
        let run = failing(&ns, "pvid = 10\n", &step.to_string());
        assert_eq!(
            run.expect(1).one_line(),
            format!(
                "vnet-ifup: cannot attach vnet0 to bridge br0: {what}: {FAILED}; vnet0 was \
                 restored as it was found"
            )
        );
        assert_eq!(ns.link("vnet0").as_ref(), Some(&found));
        assert_eq!(ns.vlans("vnet0"), vec![], "off the bridge, no VLANs");
    }
}

/// The attach fails, and so does the first undo (freeing the tap, since
/// an unanswered attach may have happened): the line says both, and the
/// undo goes on with the rest.
#[test]
fn an_undo_that_fails_too_is_reported_with_its_cause() {
    let Some(ns) = setup(false) else { return };
    let found = ns.link("vnet0").expect("the tap");
    let run = failing(&ns, "", &format!("{SET_MASTER}..{}", SET_MASTER + 1));
    assert_eq!(
        run.expect(1).one_line(),
        format!(
            "vnet-ifup: cannot attach vnet0 to bridge br0: attaching vnet0 to br0: {FAILED}; \
             restoring vnet0 failed too: detaching vnet0 from br0: {FAILED}"
        )
    );
    // The attach never reached the kernel, and the MAC and MTU went back.
    assert_eq!(ns.link("vnet0"), Some(found));
}
