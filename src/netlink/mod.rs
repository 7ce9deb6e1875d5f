//! The only module that speaks rtnetlink: every neli type stays in here.
//!
//! Above this module the code deals in [`Link`]s and interface indexes.
//! Every change asks for an ACK and is read to its ACK or error, every
//! lookup to its reply or error, so the kernel's errno and its extended-ACK
//! text always reach the user; every receive is bounded by [`TIMEOUT`], so
//! QEMU never waits on us forever.
//!
//! - this file: the socket, the one request function;
//! - [`error`]: what a failed request says;
//! - [`link`]: looking links up and changing them (RTM_GETLINK, RTM_SETLINK);
//! - [`bridge`]: bridge ports, VLANs and bridge creation (AF_BRIDGE, RTM_NEWLINK);
//! - [`probe`]: whether the kernel's bridges can filter VLANs, before one exists.

mod bridge;
mod error;
mod link;
mod probe;

use std::io::{self, Cursor};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use log::debug;
use neli::{
    consts::{
        nl::{NlmF, NlmsgerrAttr},
        rtnl::{RtaType, Rtm},
        socket::{Msg, NlFamily},
    },
    nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder},
    rtnl::{Ifinfomsg, Rtattr, RtattrBuilder},
    socket::NlSocket,
    types::Buffer,
    utils::Groups,
    FromBytes, Size, ToBytes,
};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

pub use bridge::{PortFlags, VlanRange};
pub use error::{errno_sentence, NetlinkError};
pub use link::{BridgeInfo, Link, Tun};

/// How long one reply may take. The kernel answers in microseconds; this
/// only matters if something is badly wrong, and QEMU has no timeout of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Room for the largest reply: one link whose alternative names fill the
/// 64 KiB the kernel allows them. The kernel writes only what it sends, so
/// the pages a reply does not reach are never faulted in, and nothing
/// zero-fills the buffer between reads.
const RECEIVE_BUFFER: usize = 128 * 1024;

/// A route netlink socket, used for one invocation.
pub struct Netlink {
    socket: NlSocket,
    seq: u32,
    buffer: Vec<u8>,
}

impl Netlink {
    /// Opens the socket with extended ACKs, strict checking and a bounded receive.
    pub fn connect() -> Result<Self, NetlinkError> {
        Self::open(TIMEOUT)
    }

    /// socket and bind only: a new socket blocks already, and the kernel
    /// addresses its replies by the socket, not by a port id we need to know.
    fn open(timeout: Duration) -> Result<Self, NetlinkError> {
        let socket =
            NlSocket::connect(NlFamily::Route, None, Groups::empty()).map_err(NetlinkError::Io)?;
        socket.enable_ext_ack(true).map_err(NetlinkError::Io)?;
        socket
            .enable_strict_checking(true)
            .map_err(NetlinkError::Io)?;
        // SAFETY: the descriptor belongs to `socket`, which outlives this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) };
        let timeout = TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros() as _);
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(|e| NetlinkError::Io(e.into()))?;
        let buffer = Vec::with_capacity(RECEIVE_BUFFER);
        Ok(Netlink {
            socket,
            seq: 0,
            buffer,
        })
    }

    /// Sends one request and reads its answer: a lookup (RTM_GET*) is
    /// answered by its reply, a change by its ACK; either may be an error.
    /// Returns the lookup's reply.
    fn request(
        &mut self,
        ty: Rtm,
        flags: NlmF,
        msg: Ifinfomsg,
    ) -> Result<Option<Ifinfomsg>, NetlinkError> {
        let lookup = ty == Rtm::Getlink;
        let ack = if lookup { NlmF::empty() } else { NlmF::ACK };
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let request = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(NlmF::REQUEST | ack | flags)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(msg))
            .build()
            .map_err(protocol)?;
        let mut bytes = Cursor::new(vec![0; request.padded_size()]);
        request.to_bytes(&mut bytes).map_err(protocol)?;
        self.socket
            .send(bytes.get_ref(), Msg::empty())
            .map_err(NetlinkError::Io)?;

        loop {
            let mut datagram = Cursor::new(self.receive()?);
            while (datagram.position() as usize) < datagram.get_ref().len() {
                let mut message =
                    Nlmsghdr::<Rtm, Ifinfomsg>::from_bytes(&mut datagram).map_err(protocol)?;
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
                    NlPayload::Payload(reply) if lookup => return Ok(Some(reply.clone())),
                    NlPayload::Ack(_) if !lookup => return Ok(None),
                    _ => {}
                }
            }
        }
    }

    /// One datagram, waiting at most the socket's receive timeout.
    fn receive(&mut self) -> Result<&[u8], NetlinkError> {
        self.buffer.clear();
        let room = self.buffer.capacity();
        // SAFETY: the kernel writes at most `room` bytes into the vector's
        // spare capacity; MSG_TRUNC makes it return the datagram's full
        // length, so a reply that did not fit is refused, not half parsed.
        let read = unsafe {
            libc::recv(
                self.socket.as_raw_fd(),
                self.buffer.as_mut_ptr().cast(),
                room,
                libc::MSG_TRUNC,
            )
        };
        let read = match usize::try_from(read) {
            Ok(read) if read <= room => read,
            Ok(read) => {
                let max = RECEIVE_BUFFER / 1024;
                return Err(protocol(format!("a reply of {read} bytes, over {max} KiB")));
            }
            Err(_) => {
                let e = io::Error::last_os_error();
                return Err(match e.kind() {
                    io::ErrorKind::WouldBlock => NetlinkError::Timeout,
                    _ => NetlinkError::Io(e),
                });
            }
        };
        // SAFETY: the kernel initialised the first `read` bytes.
        unsafe { self.buffer.set_len(read) };
        Ok(&self.buffer)
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
