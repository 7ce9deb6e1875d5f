//! The one error type the binaries print, and the exit status it maps to.
//!
//! Causes stay typed: each is a field marked `#[source]` (a `NetlinkError`
//! with its errno, a `Refusal`, an `UndoFailure`...), so code above can
//! tell them apart. Each message also carries its cause inline, once, and
//! `main` prints the error's Display alone, as one line after the
//! program's name: nothing walks the `source()` chain, so nothing is
//! printed twice. Every name from outside is escaped ([`crate::escape`]);
//! fields hold names as they are, and Display escapes them.

use std::ffi::OsString;
use std::fmt;

use crate::config::ConfigError;
use crate::escape::{escape_os, Escaped};
use crate::name::NameError;
use crate::netlink::NetlinkError;
use crate::network::NetError;
use crate::policy::{Action, Refusal};

/// Exit status 1: the operation failed or was refused.
pub const EXIT_FAILED: u8 = 1;
/// Exit status 2: bad usage, a bad interface name, or a bad configuration.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{problem}; usage: {tool} [--check] TAP | --help | --version")]
    Usage { tool: &'static str, problem: String },
    #[error("invalid {what} name \"{}\": {reason}", escape_os(name))]
    Name {
        what: &'static str,
        name: OsString,
        #[source]
        reason: NameError,
    },
    #[error("{0}")]
    Config(#[source] ConfigError),
    #[error(
        "cannot attach {} to bridge {}: {reason}",
        Escaped(tap),
        Escaped(bridge)
    )]
    Attach {
        tap: String,
        bridge: String,
        #[source]
        reason: Box<Failure>,
    },
    /// `master` is the tap's bridge when it had one: the audit log names
    /// it, the message does not need to (its steps do).
    #[error("cannot detach {}: {reason}", Escaped(tap))]
    Detach {
        tap: String,
        master: Option<String>,
        #[source]
        reason: Box<Failure>,
    },
    /// `vnet-ifup --network-up|--network-down BRIDGE`.
    #[error("cannot {verb} network {}: {reason}", Escaped(bridge))]
    Network {
        verb: &'static str,
        bridge: String,
        #[source]
        reason: Box<NetError>,
    },
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
    #[error("tap {} does not exist", Escaped(.0))]
    NoTap(String),
    #[error("{0}")]
    Refused(#[source] Refusal),
    /// One request of the plan failed; the errno is put in words for
    /// that request ([`Action::errno_meaning`]).
    #[error("{}: {}", action.describe(tap, bridge), err.sentence(err.errno().and_then(|e| action.errno_meaning(e))))]
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
    /// The bridge's `[network]` could not be set up, or (for a privileged
    /// helper) is not set up.
    #[error("network {}: {err}", Escaped(bridge))]
    Network {
        bridge: String,
        #[source]
        err: Box<NetError>,
    },
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
            Looked::Tap(name) => write!(f, "tap {}", Escaped(name)),
            Looked::Bridge(name) => write!(f, "bridge {}", Escaped(name)),
            Looked::MasterOf(name) => write!(f, "the master of {}", Escaped(name)),
        }
    }
}

/// An undo that failed too, with its cause.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", action.describe(tap, bridge), err.sentence(err.errno().and_then(|e| action.errno_meaning(e))))]
pub struct UndoFailure {
    pub action: Action,
    pub tap: String,
    pub bridge: String,
    #[source]
    pub err: NetlinkError,
}

impl Error {
    pub fn attach(tap: &impl AsRef<str>, bridge: &impl AsRef<str>, reason: Failure) -> Self {
        Error::Attach {
            tap: tap.as_ref().to_owned(),
            bridge: bridge.as_ref().to_owned(),
            reason: Box::new(reason),
        }
    }

    pub fn detach(tap: &impl AsRef<str>, reason: Failure) -> Self {
        Error::detach_from(tap, None, reason)
    }

    /// A detach that failed or was refused while the tap was on `master`.
    pub fn detach_from(tap: &impl AsRef<str>, master: Option<String>, reason: Failure) -> Self {
        Error::Detach {
            tap: tap.as_ref().to_owned(),
            master,
            reason: Box::new(reason),
        }
    }

    /// The bridge an attach error names, or the master of the tap a detach
    /// error is about, for the audit log.
    pub fn bridge(&self) -> Option<&str> {
        match self {
            Error::Attach { bridge, .. } => Some(bridge),
            Error::Detach { master, .. } => master.as_deref(),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } | Error::Name { .. } | Error::Config(_) => EXIT_USAGE,
            Error::Attach { .. } | Error::Detach { .. } | Error::Network { .. } => EXIT_FAILED,
        }
    }
}

fn undo_note(tap: &str, bridge: &str, deleted_bridge: bool, failures: &[UndoFailure]) -> String {
    match (failures, deleted_bridge) {
        ([], false) => format!("; {} was restored as it was found", Escaped(tap)),
        ([], true) => format!(
            "; {} was restored as it was found, and bridge {} deleted",
            Escaped(tap),
            Escaped(bridge)
        ),
        (f, _) => {
            let all = f.iter().map(|u| {
                let step = u.action.describe(&u.tap, &u.bridge);
                (Some(step), cause(&u.action, &u.err))
            });
            format!("; restoring {} failed too: {}", Escaped(tap), by_cause(all))
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
        } => (Some(action.describe(tap, bridge)), cause(action, err)),
        other => (None, other.to_string()),
    }))
}

/// A failed request's errno in words for that request.
fn cause(action: &Action, err: &NetlinkError) -> String {
    err.sentence(err.errno().and_then(|e| action.errno_meaning(e)))
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
#[path = "error_tests.rs"]
mod tests;
