//! The only module that speaks rtnetlink: every neli type stays in here.
//!
//! Above this module the code deals in [`Link`]s and interface indexes.
//! Every request asks for an ACK and is read to its ACK or error, so the
//! kernel's errno and its extended-ACK text always reach the user; every
//! receive is bounded by [`TIMEOUT`], so QEMU never waits on us forever.
//!
//! - this file: the socket, the one request function, errors;
//! - [`link`]: looking links up and changing them (RTM_GETLINK, RTM_SETLINK);
//! - [`bridge`]: bridge ports, VLANs and bridge creation (AF_BRIDGE, RTM_NEWLINK).

mod bridge;
mod link;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use log::debug;
use neli::{
    consts::{
        nl::{NlmF, NlmsgerrAttr},
        rtnl::{RtaType, Rtm},
        socket::NlFamily,
    },
    err::SocketError,
    nl::{NlPayload, NlmsghdrBuilder},
    rtnl::{Ifinfomsg, Rtattr, RtattrBuilder},
    socket::synchronous::NlSocketHandle,
    types::Buffer,
    utils::Groups,
    Size, ToBytes,
};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

pub use bridge::{PortFlags, VlanRange};
pub use link::{BridgeInfo, Link, Tun};

/// How long one reply may take. The kernel answers in microseconds; this
/// only matters if something is badly wrong, and QEMU has no timeout of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

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
    Io(io::Error),
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
}

/// Turns an errno into a sentence a QEMU user can act on.
pub fn errno_sentence(errno: Errno) -> String {
    match errno {
        Errno::ENODEV => "no such interface".into(),
        Errno::EPERM | Errno::EACCES => "permission denied: needs CAP_NET_ADMIN \
             (run QEMU as root, or grant the binary cap_net_admin)"
            .into(),
        Errno::EBUSY => "the device is busy: something else already uses it".into(),
        Errno::EOPNOTSUPP => "the kernel does not support this on this device".into(),
        Errno::EINVAL => "the kernel rejected the request as invalid".into(),
        Errno::ELOOP => "that would make a loop of masters".into(),
        Errno::ENOSPC | Errno::EXFULL => "the bridge has no free port".into(),
        other => other.desc().to_ascii_lowercase(),
    }
}

fn kernel_sentence(errno: Errno, ext_ack: Option<&str>) -> String {
    match ext_ack {
        Some(msg) => format!("{} (kernel: \"{msg}\")", errno_sentence(errno)),
        None => errno_sentence(errno),
    }
}

/// A route netlink socket, used for one invocation.
pub struct Netlink {
    socket: NlSocketHandle,
    seq: u32,
}

impl Netlink {
    /// Opens the socket with extended ACKs, strict checking and a bounded receive.
    pub fn connect() -> Result<Self, NetlinkError> {
        Self::open(TIMEOUT)
    }

    fn open(timeout: Duration) -> Result<Self, NetlinkError> {
        let socket = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty())
            .map_err(socket_error)?;
        socket.enable_ext_ack(true).map_err(socket_error)?;
        socket.enable_strict_checking(true).map_err(socket_error)?;
        // SAFETY: the descriptor belongs to `socket`, which outlives this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) };
        let timeout = TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros() as _);
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(|e| NetlinkError::Io(e.into()))?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// Sends one request and reads until its ACK or error. Returns the
    /// payload the kernel sent before the ACK, if any.
    fn request(
        &mut self,
        ty: Rtm,
        flags: NlmF,
        msg: Ifinfomsg,
    ) -> Result<Option<Ifinfomsg>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let request = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(NlmF::REQUEST | NlmF::ACK | flags)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(msg))
            .build()
            .map_err(protocol)?;
        self.socket.send(&request).map_err(socket_error)?;

        let mut reply = None;
        loop {
            let (messages, _) = self.socket.recv::<Rtm, Ifinfomsg>().map_err(socket_error)?;
            for message in messages {
                let mut message = message.map_err(socket_error)?;
                if *message.nl_seq() != seq {
                    debug!("ignoring a reply to sequence {}", message.nl_seq());
                    continue;
                }
                if let Some(err) = message.get_err() {
                    let errno = Errno::from_raw(-*err.error());
                    let ext_ack = err
                        .ext_ack()
                        .get_attr_handle()
                        .get_attribute(NlmsgerrAttr::Msg)
                        .map(|a| c_string(a.nla_payload().as_ref()));
                    return Err(NetlinkError::Kernel { errno, ext_ack });
                }
                match message.nl_payload() {
                    NlPayload::Ack(_) => return Ok(reply),
                    NlPayload::Payload(p) => reply = Some(p.clone()),
                    _ => {}
                }
            }
        }
    }
}

/// One attribute; `T` is `Ifla` at the top level or a raw u16 when nested.
fn attr<T: RtaType, P: Size + ToBytes>(
    ty: T,
    payload: P,
) -> Result<Rtattr<T, Buffer>, NetlinkError> {
    RtattrBuilder::default()
        .rta_type(ty)
        .rta_payload(payload)
        .build()
        .map_err(protocol)
}

/// An attribute holding `children`.
fn nest<T: RtaType, C: RtaType>(
    ty: T,
    children: &[Rtattr<C, Buffer>],
) -> Result<Rtattr<T, Buffer>, NetlinkError> {
    let mut parent = attr(ty, Buffer::from(Vec::new()))?;
    for child in children {
        parent = parent.nest(child).map_err(protocol)?;
    }
    Ok(parent)
}

fn protocol(e: impl std::fmt::Display) -> NetlinkError {
    NetlinkError::Protocol(e.to_string())
}

fn socket_error(e: SocketError) -> NetlinkError {
    match e {
        SocketError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock) => {
            NetlinkError::Timeout
        }
        SocketError::Io(e) => NetlinkError::Io(io::Error::new(e.kind(), e.to_string())),
        other => protocol(other),
    }
}

/// A kernel string attribute, without its NUL.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `fe:54:00:12:34:56`, as `ip link` prints it.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod tests;
