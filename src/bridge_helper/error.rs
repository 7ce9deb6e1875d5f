//! What can go wrong in bridge-helper mode, and the exit status of each.

use std::os::fd::RawFd;

use nix::errno::Errno;

use super::args::ArgError;
use crate::error::{Error, Failure, EXIT_FAILED, EXIT_USAGE};
use crate::fdpass::NotASocket;
use crate::name::IfName;
use crate::tun::TunError;

/// One line on stderr, naming the bridge and, once it exists, the tap.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error(
        "{0}; usage: vnet-ifup [--use-vnet] --br=BRIDGE --fd=N | vnet-ifup --check --br=BRIDGE"
    )]
    Usage(ArgError),
    #[error("cannot give QEMU a tap on bridge {bridge}: --fd: {reason}")]
    Socket { bridge: IfName, reason: NotASocket },
    #[error("cannot give QEMU a tap on bridge {bridge}: {reason}")]
    Refused {
        bridge: IfName,
        reason: Box<Failure>,
    },
    #[error("cannot give QEMU a tap on bridge {bridge}: {reason}")]
    Tun { bridge: IfName, reason: TunError },
    /// A configuration error, or attaching the new tap failed.
    #[error("{0}")]
    Vnet(Error),
    #[error(
        "cannot give QEMU tap {tap} on bridge {bridge}: sending it over file descriptor \
         {fd}: {}; {tap} is deleted", errno.desc().to_ascii_lowercase()
    )]
    Send {
        tap: IfName,
        bridge: IfName,
        fd: RawFd,
        errno: Errno,
    },
}

impl HelperError {
    /// 2 for usage and configuration (a bad `--fd` is bad usage), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            HelperError::Usage(_) | HelperError::Socket { .. } => EXIT_USAGE,
            HelperError::Vnet(e) => e.exit_code(),
            HelperError::Refused { .. } | HelperError::Tun { .. } | HelperError::Send { .. } => {
                EXIT_FAILED
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Problem};

    fn br0() -> IfName {
        IfName::new("br0").unwrap()
    }

    #[test]
    fn exit_codes_and_lines() {
        let usage = HelperError::Usage(ArgError::Missing("--fd=N"));
        assert_eq!(usage.exit_code(), 2);
        let socket = HelperError::Socket {
            bridge: br0(),
            reason: NotASocket::Closed(9),
        };
        assert_eq!(socket.exit_code(), 2);
        assert_eq!(
            socket.to_string(),
            "cannot give QEMU a tap on bridge br0: --fd: file descriptor 9 is not open"
        );
        let config = HelperError::Vnet(Error::Config(ConfigError {
            path: "f".into(),
            line: Some(1),
            problem: Problem::Invalid("m".into()),
        }));
        assert_eq!(config.exit_code(), 2);
        let tun = HelperError::Tun {
            bridge: br0(),
            reason: TunError {
                step: "creating the tap (TUNSETIFF)",
                errno: Errno::EPERM,
            },
        };
        assert_eq!(tun.exit_code(), 1);
        assert_eq!(
            tun.to_string(),
            "cannot give QEMU a tap on bridge br0: creating the tap (TUNSETIFF): permission \
             denied: needs CAP_NET_ADMIN (grant the binary cap_net_admin)"
        );
        let send = HelperError::Send {
            tap: IfName::new("tap3").unwrap(),
            bridge: br0(),
            fd: 5,
            errno: Errno::EPIPE,
        };
        assert_eq!(send.exit_code(), 1);
        assert_eq!(
            send.to_string(),
            "cannot give QEMU tap tap3 on bridge br0: sending it over file descriptor 5: \
             broken pipe; tap3 is deleted"
        );
    }
}
