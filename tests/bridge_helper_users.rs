//! vnet-ifup as a bridge helper for ordinary users, against setcap'd and
//! setuid copies, with QEMU's side of the socket faked: exactly one byte
//! and the user's attached tap arrive, nothing when refused; `--check`;
//! 64 helpers at once; the audit trail.

mod common;

use common::fakeqemu::{self, assert_one_attached_tap, tap_of, taps, wait_no_taps};
use common::users::{Helper, ALICE, BOB, KVM};

#[test]
fn the_faked_qemu_side_gets_one_byte_and_the_users_attached_tap() {
    let Some(h) = Helper::jumbo(false) else {
        return;
    };
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
    assert_eq!(assert_one_attached_tap(&h.ns, "br1", &["4201"]), name);
    let line = h.audit();
    assert!(line.starts_with("<86>vnet-ifup["), "authpriv.info: {line}");
    assert!(
        line.ends_with(&format!(
            "uid=4201 user=alice tap={name} bridge=br1 verdict=attached"
        )),
        "{line}"
    );
    drop(reply);
    wait_no_taps(&h.ns);

    // A user who may not: nothing crosses the socket.
    let cmd = h.command_as(BOB, &[KVM], "vnet-ifup", &[]);
    let reply = fakeqemu::run(cmd, |fd| vec!["--br=br1".into(), format!("--fd={fd}")]);
    assert!(reply
        .refused(1)
        .ends_with("denied by /etc/vnet/vnet.conf:5"));
    assert_eq!(taps(&h.ns), Vec::<String>::new());
}

#[test]
fn check_tells_a_user_whether_she_may() {
    let Some(h) = Helper::jumbo(false) else {
        return;
    };
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
    assert_eq!(taps(&h.ns), Vec::<String>::new());
}

#[test]
fn sixty_four_helpers_at_once_for_one_user_make_sixty_four_attached_taps() {
    let Some(h) = Helper::jumbo(false) else {
        return;
    };
    let (replies, audit) = std::thread::scope(|s| {
        // The test's /dev/log queues 10 lines: read them as they come.
        let audit = s.spawn(|| h.audits(64));
        let all: Vec<_> = (0..64)
            .map(|_| {
                s.spawn(|| {
                    let cmd = h.command_as(ALICE, &[], "vnet-ifup", &[]);
                    fakeqemu::run(cmd, |fd| vec!["--br=br0".into(), format!("--fd={fd}")])
                })
            })
            .collect();
        let replies: Vec<fakeqemu::Reply> =
            all.into_iter().map(|t| t.join().expect("thread")).collect();
        (replies, audit.join().expect("audit thread"))
    });
    let mut names: Vec<String> = replies
        .iter()
        .map(|r| {
            r.run.expect(0);
            assert_eq!((r.bytes.len(), r.fds.len()), (1, 1), "{r:#?}");
            tap_of(&r.fds[0]).0
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 64, "64 distinct taps: {names:?}");
    let mut audited: Vec<String> = audit
        .iter()
        .map(|line| {
            let tap = line.split(" tap=").nth(1).and_then(|t| t.split(' ').next());
            assert!(line.ends_with(" bridge=br0 verdict=attached"), "{line}");
            tap.expect("tap=").to_owned()
        })
        .collect();
    audited.sort();
    assert_eq!(audited, names, "one audit line per tap");
    let links = h.ns.links();
    for name in &names {
        let link = &links[name];
        assert_eq!(
            (link.master.as_deref(), link.up),
            (Some("br0"), true),
            "{name}"
        );
    }
    drop(replies);
    wait_no_taps(&h.ns);
}

#[test]
fn a_syslog_that_stopped_reading_costs_the_audit_line_not_the_vm() {
    let Some(h) = Helper::jumbo(false) else {
        return;
    };
    h.stall_syslog();
    let cmd = h.command_as(ALICE, &[], "vnet-ifup", &[]);
    let reply = fakeqemu::run(cmd, |fd| vec!["--br=br0".into(), format!("--fd={fd}")]);
    reply.run.expect(0);
    assert_eq!((reply.bytes.len(), reply.fds.len()), (1, 1), "{reply:#?}");
    let line = reply.run.one_line();
    assert!(
        line.starts_with("vnet-ifup: warning: tap")
            && line.ends_with(
                ": the audit line was not logged: syslog did not take it within 1 s \
                 (/dev/log is not being read)"
            ),
        "{line}"
    );
}

#[test]
fn a_setuid_root_install_serves_the_same_way() {
    let Some(h) = Helper::jumbo(false) else {
        return;
    };
    h.setuid_ifup("vnet-ifup-setuid");
    let check = h.run_as(
        ALICE,
        &[],
        "vnet-ifup-setuid",
        &["--check", "--br=br0"],
        &[],
    );
    assert!(
        check
            .expect(0)
            .stdout
            .contains("capabilities    cap_net_admin (all others dropped)\n"),
        "{check:#?}"
    );
    let cmd = h.command_as(ALICE, &[], "vnet-ifup-setuid", &[]);
    let reply = fakeqemu::run(cmd, |fd| vec!["--br=br0".into(), format!("--fd={fd}")]);
    reply.run.expect(0);
    assert_eq!((reply.bytes.len(), reply.fds.len()), (1, 1), "{reply:#?}");
    let tap = assert_one_attached_tap(&h.ns, "br0", &["4201"]);
    assert!(h.audit().ends_with(&format!(
        "uid=4201 user=alice tap={tap} bridge=br0 verdict=attached"
    )));
    let cmd = h.command_as(BOB, &[], "vnet-ifup-setuid", &[]);
    let refused = fakeqemu::run(cmd, |fd| vec!["--br=br0".into(), format!("--fd={fd}")]);
    assert!(refused
        .refused(1)
        .contains("user bob (uid 4202) may not use bridge br0"));
    drop(reply);
    wait_no_taps(&h.ns);
}
