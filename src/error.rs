//! The one error type the binaries print, and the exit status it maps to.
//!
//! Every message carries its cause inline, once; nothing here uses
//! `#[source]`, so nothing can print a cause twice. `main` prints the whole
//! error as one line after the program's name.

use crate::config::ConfigError;
use crate::name::NameError;
use crate::netlink::NetlinkError;
use crate::network::NetError;
use crate::policy::Refusal;

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
    /// `vnet-ifup --network-up|--network-down BRIDGE`.
    #[error("cannot {verb} network {bridge}: {reason}")]
    Network {
        verb: &'static str,
        bridge: String,
        reason: Box<NetError>,
    },
}

/// What went wrong while attaching or detaching.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot open a netlink socket: {0}")]
    Socket(NetlinkError),
    #[error("looking up {name}: {err}")]
    Lookup { name: String, err: NetlinkError },
    #[error("{role} {name} does not exist")]
    Missing { role: &'static str, name: String },
    #[error("{0}")]
    Refused(Refusal),
    #[error("{step}: {err}{}", undo_note(tap, *undone, undo_failures))]
    Step {
        step: String,
        err: NetlinkError,
        tap: String,
        /// Earlier actions of this run were undone.
        undone: bool,
        undo_failures: Vec<String>,
    },
    #[error("{}", join(.0))]
    Several(Vec<Failure>),
    /// The bridge's `[network]` could not be set up, or (for a privileged
    /// helper) is not set up.
    #[error("network {bridge}: {err}")]
    Network { bridge: String, err: Box<NetError> },
}

impl Failure {
    /// A failed step with nothing undone.
    pub fn step(step: String, err: NetlinkError, tap: &impl ToString) -> Self {
        Failure::Step {
            step,
            err,
            tap: tap.to_string(),
            undone: false,
            undo_failures: Vec::new(),
        }
    }
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
            Error::Attach { .. } | Error::Detach { .. } | Error::Network { .. } => EXIT_FAILED,
        }
    }
}

fn undo_note(tap: &str, undone: bool, failures: &[String]) -> String {
    match (undone, failures) {
        (false, _) => String::new(),
        (true, []) => format!("; {tap} was restored as it was found"),
        (true, f) => format!("; restoring {tap} failed too: {}", f.join("; ")),
    }
}

fn join(failures: &[Failure]) -> String {
    let all: Vec<String> = failures.iter().map(Failure::to_string).collect();
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
        let missing = Failure::Missing {
            role: "bridge",
            name: "br0".into(),
        };
        let attach = Error::attach(&"vnet0", &"br0", missing);
        assert_eq!(attach.exit_code(), 1);
        let detach = Error::detach(&"vnet0", Failure::Several(vec![]));
        assert_eq!(detach.exit_code(), 1);
    }

    #[test]
    fn messages_name_tap_and_bridge_once() {
        let e = Error::attach(
            &"vnet0",
            &"br0",
            Failure::Step {
                step: "attaching vnet0 to br0".into(),
                err: NetlinkError::Kernel {
                    errno: Errno::EBUSY,
                    ext_ack: Some("Device is already in use".into()),
                },
                tap: "vnet0".into(),
                undone: true,
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
                Failure::Step {
                    step: "detaching vnet0 from br0".into(),
                    err: kernel(Errno::EPERM),
                    tap: "vnet0".into(),
                    undone: false,
                    undo_failures: vec![],
                },
                Failure::Step {
                    step: "setting vnet0 down".into(),
                    err: kernel(Errno::ENODEV),
                    tap: "vnet0".into(),
                    undone: false,
                    undo_failures: vec![],
                },
            ]),
        );
        let text = e.to_string();
        assert!(
            text.starts_with("cannot detach vnet0: detaching vnet0 from br0: permission denied")
        );
        assert!(text.ends_with("; setting vnet0 down: no such interface"));
    }
}
