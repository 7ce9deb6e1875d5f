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
