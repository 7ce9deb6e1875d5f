use super::*;
use nix::errno::Errno;

fn kernel(errno: Errno) -> NetlinkError {
    NetlinkError::Kernel {
        errno,
        ext_ack: None,
    }
}

fn step(action: Action, errno: Errno) -> Failure {
    Failure::Step {
        action,
        tap: "vnet0".into(),
        bridge: "br0".into(),
        err: kernel(errno),
    }
}

#[test]
fn exit_codes() {
    let usage = Error::Usage {
        tool: "vnet-ifup",
        problem: "missing TAP".into(),
    };
    assert_eq!(usage.exit_code(), 2);
    let name = Error::Name {
        what: "tap",
        name: "x".into(),
        reason: NameError::Empty,
    };
    assert_eq!(name.exit_code(), 2);
    let config = Error::Config(ConfigError {
        path: "f".into(),
        line: Some(1),
        problem: crate::config::Problem::Invalid("m".into()),
    });
    assert_eq!(config.exit_code(), 2);
    let missing = Failure::NoTap("vnet0".into());
    let attach = Error::attach(&"vnet0", &"br0", missing);
    assert_eq!(attach.exit_code(), 1);
    let detach = Error::detach(&"vnet0", Failure::Several(vec![]));
    assert_eq!(detach.exit_code(), 1);
}

#[test]
fn messages_name_tap_and_bridge_once() {
    let busy = Failure::Step {
        action: Action::Attach,
        tap: "vnet0".into(),
        bridge: "br0".into(),
        err: NetlinkError::Kernel {
            errno: Errno::EBUSY,
            ext_ack: Some("Device is already in use".into()),
        },
    };
    let e = Error::attach(
        &"vnet0",
        &"br0",
        Failure::Undone {
            failure: Box::new(busy),
            tap: "vnet0".into(),
            bridge: "br0".into(),
            deleted_bridge: false,
            undo_failures: vec![],
        },
    );
    assert_eq!(
        e.to_string(),
        "cannot attach vnet0 to bridge br0: attaching vnet0 to br0: the device is busy: \
         something else already uses it (kernel: \"Device is already in use\"); \
         vnet0 was restored as it was found"
    );
}

#[test]
fn a_failed_undo_keeps_its_cause() {
    let e = Failure::Undone {
        failure: Box::new(step(Action::SetUp(true), Errno::EPERM)),
        tap: "vnet0".into(),
        bridge: "br0".into(),
        deleted_bridge: true,
        undo_failures: vec![UndoFailure {
            action: Action::Detach,
            tap: "vnet0".into(),
            bridge: "br0".into(),
            err: kernel(Errno::ENODEV),
        }],
    };
    assert!(e
        .to_string()
        .ends_with("; restoring vnet0 failed too: detaching vnet0 from br0: no such interface"));
    let Failure::Undone { undo_failures, .. } = &e else {
        unreachable!()
    };
    assert_eq!(undo_failures[0].err.errno(), Some(Errno::ENODEV));
}

#[test]
fn usage_and_names_read_well() {
    let e = Error::Usage {
        tool: "vnet-ifdown",
        problem: "unknown option \"-x\"".into(),
    };
    assert_eq!(
        e.to_string(),
        "unknown option \"-x\"; usage: vnet-ifdown [--check] TAP | --help | --version"
    );
    let e = Error::Name {
        what: "tap",
        name: "a\nb\x1b".into(),
        reason: NameError::BadChar("whitespace"),
    };
    assert_eq!(
        e.to_string(),
        "invalid tap name \"a\\nb\\x1b\": the name contains whitespace, which interface names may not contain"
    );
}

#[test]
fn several_failures_are_all_reported() {
    let e = Error::detach(
        &"vnet0",
        Failure::Several(vec![
            step(Action::Detach, Errno::EPERM),
            step(Action::SetUp(false), Errno::ENODEV),
        ]),
    );
    let text = e.to_string();
    assert!(text.starts_with("cannot detach vnet0: detaching vnet0 from br0: permission denied"));
    assert!(text.ends_with("; setting vnet0 down: no such interface"));
}

/// Steps that failed for one reason (no CAP_NET_ADMIN) share it: the
/// cause and its hint appear once in the line.
#[test]
fn one_cause_is_said_once() {
    let e = Error::detach(
        &"vnet0",
        Failure::Several(vec![
            step(Action::Detach, Errno::EPERM),
            step(Action::SetUp(false), Errno::EPERM),
        ]),
    );
    let text = e.to_string();
    let one = step(Action::SetUp(false), Errno::EPERM).to_string();
    let cause = one.trim_start_matches("setting vnet0 down: ");
    assert_eq!(
        text,
        format!("cannot detach vnet0: detaching vnet0 from br0 and setting vnet0 down: {cause}")
    );
    assert_eq!(text.matches("CAP_NET_ADMIN").count(), 1, "{text}");
}
