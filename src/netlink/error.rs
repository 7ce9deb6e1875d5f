//! A failed request, and the errno sentences that do not depend on it.

use std::io;

use nix::errno::Errno;

use super::TIMEOUT;
use crate::escape::Escaped;

/// A request that failed, with the kernel's reason where it gave one.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The kernel answered with an errno and maybe an extended-ACK message.
    #[error("{}", kernel_sentence(*errno, ext_ack.as_deref()))]
    Kernel {
        errno: Errno,
        ext_ack: Option<String>,
    },
    #[error("the kernel did not answer within {} seconds", TIMEOUT.as_secs())]
    Timeout,
    #[error("netlink socket: {0}")]
    Io(#[source] io::Error),
    #[error("unexpected netlink reply: {0}")]
    Protocol(String),
}

impl NetlinkError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            NetlinkError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// This error in words, with `meaning` for its errno if the caller,
    /// which knows what was asked, has one; the generic sentence otherwise.
    pub fn sentence(&self, meaning: Option<&str>) -> String {
        match (self, meaning) {
            (NetlinkError::Kernel { ext_ack, .. }, Some(meaning)) => {
                with_ext_ack(meaning.to_owned(), ext_ack.as_deref())
            }
            _ => self.to_string(),
        }
    }
}

/// Turns an errno into a sentence a QEMU user can act on, whatever the
/// request was. What an errno means for one request (ENOSPC when a tap
/// joins a bridge: no free port) is said where that request is known:
/// `Action::errno_meaning`.
pub fn errno_sentence(errno: Errno) -> String {
    match errno {
        Errno::ENODEV => "no such interface".into(),
        Errno::EPERM | Errno::EACCES => "permission denied: needs CAP_NET_ADMIN \
             (run QEMU as root, or grant the binary cap_net_admin)"
            .into(),
        Errno::EBUSY => "the device is busy: something else already uses it".into(),
        Errno::EOPNOTSUPP => "the kernel does not support this on this device".into(),
        Errno::EINVAL => "the kernel rejected the request as invalid".into(),
        other => other.desc().to_ascii_lowercase(),
    }
}

fn kernel_sentence(errno: Errno, ext_ack: Option<&str>) -> String {
    with_ext_ack(errno_sentence(errno), ext_ack)
}

fn with_ext_ack(sentence: String, ext_ack: Option<&str>) -> String {
    match ext_ack {
        Some(msg) => format!("{sentence} (kernel: \"{}\")", Escaped(msg)),
        None => sentence,
    }
}
