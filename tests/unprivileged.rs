//! Unprivileged QEMU through vnet as a privileged helper with a tap made
//! in advance: the binaries are copied, granted cap_net_admin with setcap,
//! and run as ordinary users (setpriv) inside the test's namespace, with a
//! staged /etc and /dev (tests/common/users.rs).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::users::{Helper, ACL, ALICE, BOB, KVM};

#[test]
fn an_allowed_user_attaches_and_detaches_their_own_tap_and_it_is_audited() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    run.expect(0);
    assert_eq!(h.master("vnet-a0").as_deref(), Some("br0"));
    let line = h.audit();
    assert!(line.starts_with("<86>vnet-ifup["), "authpriv.info: {line}");
    assert!(
        line.ends_with("]: uid=4201 user=alice tap=vnet-a0 bridge=br0 verdict=attached"),
        "{line}"
    );

    h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-a0"], &[])
        .expect(0);
    assert_eq!(h.master("vnet-a0"), None);
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-a0 bridge=br0 verdict=detached"));
}

#[test]
fn a_bridge_no_rule_allows_is_refused_and_audited() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(ALICE, &[], "vnet-a0", &[("VNET_BRIDGE", "br1")]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-a0 to bridge br1: user alice (uid 4201) may not use \
         bridge br1: no [access] rule in /etc/vnet/vnet.conf allows it"
    );
    assert_eq!(h.master("vnet-a0"), None);
    let line = h.audit();
    assert!(line.starts_with("<84>"), "authpriv.warning: {line}");
    assert!(
        line.contains("uid=4201 user=alice tap=vnet-a0 bridge=br1 verdict=refused reason="),
        "{line}"
    );
}

#[test]
fn a_supplementary_group_allows_and_deny_beats_allow() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a1", Some(ALICE), None);
    h.ifup(ALICE, &[KVM], "vnet-a1", &[("VNET_BRIDGE", "br1")])
        .expect(0);
    assert_eq!(h.master("vnet-a1").as_deref(), Some("br1"));

    h.tap("vnet-b0", Some(BOB), None);
    let run = h.ifup(BOB, &[KVM], "vnet-b0", &[("VNET_BRIDGE", "br1")]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-b0 to bridge br1: user bob (uid 4202) may not use \
         bridge br1: denied by /etc/vnet/vnet.conf:5"
    );
}

#[test]
fn another_users_tap_and_an_ownerless_tap_are_refused() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-b0", Some(BOB), None);
    h.tap("vnet-x0", None, None);
    let run = h.ifup(ALICE, &[], "vnet-b0", &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-b0 to bridge br0: vnet-b0 does not belong to user alice \
         (uid 4201): it belongs to uid 4202; create it for them with \"ip tuntap add vnet-b0 \
         mode tap user alice\""
    );
    let run = h.ifup(ALICE, &[], "vnet-x0", &[]);
    assert!(run
        .expect(1)
        .one_line()
        .contains("it has no owner or group, so only root may use it"));

    h.ns.ip(&["link", "set", "vnet-b0", "master", "br0", "up"]);
    let run = h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-b0"], &[]);
    assert!(run
        .expect(1)
        .one_line()
        .starts_with("vnet-ifdown: cannot detach vnet-b0: vnet-b0 does not belong"));
    assert_eq!(
        h.master("vnet-b0").as_deref(),
        Some("br0"),
        "bob's tap stays where it was"
    );
}

#[test]
fn a_refused_detach_is_audited_with_the_taps_bridge() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-b0", Some(BOB), None);
    h.ns.ip(&["link", "set", "vnet-b0", "master", "br1", "up"]);
    h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-b0"], &[])
        .expect(1);
    let line = h.audit();
    assert!(
        line.starts_with("<84>vnet-ifdown["),
        "authpriv.warning: {line}"
    );
    assert!(
        line.contains(
            "]: uid=4201 user=alice tap=vnet-b0 bridge=br1 verdict=refused \
             reason=\"cannot detach vnet-b0: vnet-b0 does not belong to user alice"
        ),
        "{line}"
    );
    assert_eq!(h.master("vnet-b0").as_deref(), Some("br1"));
}

/// A syslog daemon that stopped reading must not hold QEMU up: the attach
/// and the detach are done, with their usual exit status, and the lost
/// audit line is one warning on stderr.
#[test]
fn a_syslog_that_stopped_reading_costs_the_audit_line_not_the_run() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    h.stall_syslog();
    let lost = "warning: vnet-a0: the audit line was not logged: syslog did not take it within \
                1 s (/dev/log is not being read)";
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    assert_eq!(run.expect(0).one_line(), format!("vnet-ifup: {lost}"));
    assert_eq!(h.master("vnet-a0").as_deref(), Some("br0"));

    let run = h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-a0"], &[]);
    assert_eq!(run.expect(0).one_line(), format!("vnet-ifdown: {lost}"));
    assert_eq!(h.master("vnet-a0"), None);

    // A refusal keeps its own status and line, after the warning.
    let run = h.ifup(ALICE, &[], "vnet-a0", &[("VNET_BRIDGE", "br1")]);
    let lines: Vec<&str> = run.expect(1).stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert_eq!(lines[0], format!("vnet-ifup: {lost}"));
    assert!(lines[1].starts_with("vnet-ifup: cannot attach vnet-a0 to bridge br1: "));
}

#[test]
fn a_group_owned_tap_is_the_groups() {
    let Some(h) = Helper::new("[access *]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-g0", None, Some(KVM));
    h.ifup(ALICE, &[KVM], "vnet-g0", &[]).expect(0);
    assert!(h
        .ifup(BOB, &[], "vnet-g0", &[])
        .expect(1)
        .one_line()
        .contains("it belongs to group 4300"));
}

#[test]
fn vnet_config_is_ignored() {
    let Some(h) = Helper::new("[access br0]\nallow = bob\n") else {
        return;
    };
    let permissive = h.root.join("permissive.conf");
    fs::write(&permissive, "[access *]\nallow = all\n").expect("write");
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(
        ALICE,
        &[],
        "vnet-a0",
        &[("VNET_CONFIG", permissive.to_str().expect("path"))],
    );
    run.expect(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "vnet-ifup: warning: VNET_CONFIG is ignored: vnet runs as a privileged helper"
    );
    assert!(
        lines[1].ends_with("no [access] rule in /etc/vnet/vnet.conf allows it"),
        "{lines:?}"
    );
}

#[test]
fn a_config_others_could_write_is_refused() {
    let Some(h) = Helper::new("[access *]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-a0", Some(ALICE), None);
    let conf = h.root.join("etc/vnet/vnet.conf");
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    assert_eq!(
        run.expect(2).one_line(),
        "vnet-ifup: /etc/vnet/vnet.conf: must be owned by root and not writable by group or \
         others, since vnet runs as a privileged helper; it is owned by uid 0 with mode 0666"
    );
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::set_permissions(h.root.join("etc/vnet"), fs::Permissions::from_mode(0o775)).expect("chmod");
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    assert!(run
        .expect(2)
        .one_line()
        .starts_with("vnet-ifup: /etc/vnet: must be owned by root"));
    fs::set_permissions(h.root.join("etc/vnet"), fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::chown(&conf, Some(ALICE), None).expect("chown");
    assert!(h
        .ifup(ALICE, &[], "vnet-a0", &[])
        .expect(2)
        .one_line()
        .contains("owned by uid 4201"));
    fs::remove_file(&conf).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", &conf).expect("symlink");
    assert!(h
        .ifup(ALICE, &[], "vnet-a0", &[])
        .expect(2)
        .one_line()
        .contains("is a symbolic link"));
    assert_eq!(h.master("vnet-a0"), None);
}

#[test]
fn long_and_malformed_names_are_refused_before_the_acl() {
    let Some(h) = Helper::new("[access br0*]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-a0", Some(ALICE), None);
    // CVE-2019-13164: qemu-bridge-helper checked a truncated name.
    let run = h.ifup(
        ALICE,
        &[],
        "vnet-a0",
        &[("VNET_BRIDGE", "br0xxxxxxxxxxxxxxxxxx")],
    );
    assert!(run
        .expect(2)
        .one_line()
        .contains("the name is 21 bytes long; the kernel allows at most 15"));
    let run = h.ifup(ALICE, &[], "vnet-a0/../x", &[]);
    assert!(run
        .expect(2)
        .one_line()
        .starts_with("vnet-ifup: invalid tap name"));
    let run = h.ifup(ALICE, &[], "vnet-a0", &[("VNET_BRIDGE", "br0 br1")]);
    assert!(run.expect(2).one_line().contains("whitespace"));
    assert_eq!(h.master("vnet-a0"), None);
}

#[test]
fn only_cap_net_admin_is_kept() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.run_as(ALICE, &[], "vnet-ifup", &["--check", "vnet-a0"], &[]);
    run.expect(0);
    // The file grants cap_sys_admin too; the helper sheds it at start.
    assert!(
        run.stdout
            .contains("capabilities    cap_net_admin (all others dropped)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("caller          user alice (uid 4201), groups 4201\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn root_is_not_restricted_and_a_missing_dev_log_is_fine() {
    let Some(h) = Helper::new("[access *]\ndeny = all\n") else {
        return;
    };
    h.tap("vnet-r0", None, None);
    fs::remove_file(h.root.join("dev/log")).expect("rm socket");
    let run = h.ifup(0, &[], "vnet-r0", &[]);
    run.expect(0);
    assert_eq!(h.master("vnet-r0").as_deref(), Some("br0"));
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    let lines: Vec<&str> = run.expect(1).stderr.lines().collect();
    assert_eq!(
        lines[0],
        "vnet-ifup: warning: vnet-a0: the audit line was not logged: no syslog daemon listens \
         on /dev/log",
        "{run:#?}"
    );
}

/// The QEMU command line of README.md's "Running QEMU unprivileged", run
/// by alice herself: QEMU opens her tap and runs the capable scripts.
#[test]
fn qemu_run_by_an_unprivileged_user_attaches_her_tap() {
    let Some(h) = Helper::new(ACL) else { return };
    if !common::qemu::available() {
        return;
    }
    h.tap("vnet-alice0", Some(ALICE), None);
    let netdev = format!(
        "tap,id=n0,ifname=vnet-alice0,script={},downscript={}",
        h.bin("vnet-ifup"),
        h.bin("vnet-ifdown")
    );
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let mut qemu = h.qemu_as(ALICE, &args);
    let qmp = qemu.qmp();
    assert_eq!(h.master("vnet-alice0").as_deref(), Some("br0"));
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-alice0 bridge=br0 verdict=attached"));

    let run = qemu.quit(qmp);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(h.master("vnet-alice0"), None);
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-alice0 bridge=br0 verdict=detached"));
}
