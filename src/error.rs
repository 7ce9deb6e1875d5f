//! The one error type the binaries print, and the exit status it maps to.
//!
//! Every message carries its cause inline, once; nothing here uses
//! `#[source]`, so nothing can print a cause twice. `main` prints the whole
//! error as one line after the program's name.

use std::fmt;

use crate::config::ConfigError;
use crate::name::NameError;
use crate::netlink::NetlinkError;
use crate::policy::{Action, Refusal};

/// Exit status 1: the operation failed or was refused.
pub const EXIT_FAILED: u8 = 1;
/// Exit status 2: bad usage, a bad interface name, or a bad configuration.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{problem}; usage: {tool} [--check] TAP | --help | --version")]
    Usage { tool: &'static str, problem: String },
    #[error("invalid {what} name {name:?}: {reason}")]
    Name {
        what: &'static str,
        name: String,
        reason: NameError,
    },
    #[error("{0}")]
    Config(ConfigError),
    #[error("cannot attach {tap} to bridge {bridge}: {reason}")]
    Attach {
        tap: String,
        bridge: String,
        reason: Box<Failure>,
    },
    #[error("cannot detach {tap}: {reason}")]
    Detach { tap: String, reason: Box<Failure> },
}

/// What went wrong while attaching or detaching.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot open a netlink socket: {0}")]
    Socket(#[source] NetlinkError),
    #[error("looking up {what}: {err}")]
    Lookup {
        what: Looked,
        #[source]
        err: NetlinkError,
    },
    #[error("tap {0} does not exist")]
    NoTap(String),
    #[error("{0}")]
    Refused(#[source] Refusal),
    /// One request of the plan failed.
    #[error("{}: {err}", action.describe(tap, bridge))]
    Step {
        action: Action,
        tap: String,
        bridge: String,
        #[source]
        err: NetlinkError,
    },
    /// `failure` ended a run after some of its steps were carried out;
    /// they were undone, each undo that failed is in `undo_failures`.
    #[error("{failure}{}", undo_note(tap, bridge, *deleted_bridge, undo_failures))]
    Undone {
        #[source]
        failure: Box<Failure>,
        tap: String,
        bridge: String,
        /// The bridge this run created was deleted again.
        deleted_bridge: bool,
        undo_failures: Vec<UndoFailure>,
    },
    #[error("{}", join(.0))]
    Several(Vec<Failure>),
}

/// What [`Failure::Lookup`] was looking for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Looked {
    Tap(String),
    Bridge(String),
    MasterOf(String),
}

impl fmt::Display for Looked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Looked::Tap(name) => write!(f, "tap {name}"),
            Looked::Bridge(name) => write!(f, "bridge {name}"),
            Looked::MasterOf(name) => write!(f, "the master of {name}"),
        }
    }
}

/// An undo that failed too, with its cause.
#[derive(Debug, thiserror::Error)]
#[error("{}: {err}", action.describe(tap, bridge))]
pub struct UndoFailure {
    pub action: Action,
    pub tap: String,
    pub bridge: String,
    #[source]
    pub err: NetlinkError,
}

impl Error {
    pub fn attach(tap: &impl ToString, bridge: &impl ToString, reason: Failure) -> Self {
        Error::Attach {
            tap: tap.to_string(),
            bridge: bridge.to_string(),
            reason: Box::new(reason),
        }
    }

    pub fn detach(tap: &impl ToString, reason: Failure) -> Self {
        Error::Detach {
            tap: tap.to_string(),
            reason: Box::new(reason),
        }
    }

    /// The bridge an attach error names, for the audit log.
    pub fn bridge(&self) -> Option<&str> {
        match self {
            Error::Attach { bridge, .. } => Some(bridge),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } | Error::Name { .. } | Error::Config(_) => EXIT_USAGE,
            Error::Attach { .. } | Error::Detach { .. } => EXIT_FAILED,
        }
    }
}

fn undo_note(tap: &str, bridge: &str, deleted_bridge: bool, failures: &[UndoFailure]) -> String {
    match (failures, deleted_bridge) {
        ([], false) => format!("; {tap} was restored as it was found"),
        ([], true) => format!("; {tap} was restored as it was found, and bridge {bridge} deleted"),
        (f, _) => {
            let all = f.iter().map(|u| {
                (
                    Some(u.action.describe(&u.tap, &u.bridge)),
                    u.err.to_string(),
                )
            });
            format!("; restoring {tap} failed too: {}", by_cause(all))
        }
    }
}

fn join(failures: &[Failure]) -> String {
    by_cause(failures.iter().map(|failure| match failure {
        Failure::Step {
            action,
            tap,
            bridge,
            err,
        } => (Some(action.describe(tap, bridge)), err.to_string()),
        other => (None, other.to_string()),
    }))
}

/// "detaching vnet0 from br0 and setting vnet0 down: permission denied":
/// steps that failed for the same reason share it, so each cause (and the
/// hint it carries) is said once.
fn by_cause(failures: impl Iterator<Item = (Option<String>, String)>) -> String {
    let mut causes: Vec<(Vec<String>, String)> = Vec::new();
    for (step, cause) in failures {
        match causes
            .iter_mut()
            .find(|(steps, c)| *c == cause && !steps.is_empty())
        {
            Some((steps, _)) if step.is_some() => steps.extend(step),
            _ => causes.push((step.into_iter().collect(), cause)),
        }
    }
    let all: Vec<String> = causes
        .into_iter()
        .map(|(steps, cause)| match steps.is_empty() {
            true => cause,
            false => format!("{}: {cause}", steps.join(" and ")),
        })
        .collect();
    all.join("; ")
}

#[cfg(test)]
mod tests {
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
            msg: "m".into(),
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
        assert!(e.to_string().ends_with(
            "; restoring vnet0 failed too: detaching vnet0 from br0: no such interface"
        ));
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
            name: "a\nb".into(),
            reason: NameError::BadChar("whitespace"),
        };
        assert_eq!(
            e.to_string(),
            "invalid tap name \"a\\nb\": the name contains whitespace, which interface names may not contain"
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
        assert!(
            text.starts_with("cannot detach vnet0: detaching vnet0 from br0: permission denied")
        );
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
        assert_eq!(
            text,
            format!(
                "cannot detach vnet0: detaching vnet0 from br0 and setting vnet0 down: {}",
                kernel(Errno::EPERM)
            )
        );
        assert_eq!(text.matches("CAP_NET_ADMIN").count(), 1, "{text}");
    }
}
