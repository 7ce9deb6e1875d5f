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

mod addr;
mod bridge;
mod brief;
mod error;
mod link;
mod nft;
mod nft_expr;
mod probe;
mod wire;

use std::io::{self, Cursor};
use std::ops::RangeInclusive;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use log::debug;
use neli::{
    consts::{
        nl::NlmF,
        rtnl::{RtaType, Rtm},
        socket::{Msg, NlFamily},
    },
    nl::{NlPayload, NlmsghdrBuilder},
    rtnl::{Ifinfomsg, Rtattr, RtattrBuilder},
    socket::NlSocket,
    types::Buffer,
    utils::Groups,
    FromBytesWithInput, Size, ToBytes,
};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

pub use addr::Address;
pub use bridge::{PortFlags, VlanRange};
pub use brief::Brief;
pub use error::{errno_sentence, NetlinkError};
pub use link::{BridgeInfo, Link, Tun};
pub use nft::{Chain, Hook, Rule, TABLE};
pub use nft_expr::Expr;

/// How long one reply may take. The kernel answers in microseconds; this
/// only matters if something is badly wrong, and QEMU has no timeout of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Room for the largest reply: one link whose alternative names fill the
/// 64 KiB the kernel allows them. The kernel writes only what it sends, so
/// the pages a reply does not reach are never faulted in, and nothing
/// zero-fills the buffer between reads.
const RECEIVE_BUFFER: usize = 128 * 1024;
/// vnet's nf_tables replies are an ACK or one table or chain, well under
/// 1 KiB; a small buffer leaves the binaries' arena to everything else.
const NETFILTER_BUFFER: usize = 16 * 1024;

/// What a request waits for.
#[derive(Clone, Copy)]
enum Answer {
    /// One reply message (a lookup).
    Reply,
    /// This many ACKs: one per change (a batch's BEGIN and END get none).
    Acks(usize),
    /// Replies up to NLMSG_DONE.
    Dump,
}

/// A netlink socket (route or netfilter), used for one invocation.
pub struct Netlink {
    socket: NlSocket,
    seq: u32,
    buffer: Vec<u8>,
}

impl Netlink {
    /// Opens the socket with extended ACKs, strict checking and a bounded receive.
    pub fn connect() -> Result<Self, NetlinkError> {
        Self::open(NlFamily::Route, TIMEOUT, RECEIVE_BUFFER)
    }

    /// The same, for nf_tables (NETLINK_NETFILTER).
    pub fn netfilter() -> Result<Self, NetlinkError> {
        Self::open(NlFamily::Netfilter, TIMEOUT, NETFILTER_BUFFER)
    }

    /// A netfilter socket for lookups only (every attach on a set-up
    /// network): a bounded receive, without extended ACKs or strict
    /// checking, which only explain refused changes and filter rtnetlink
    /// dumps. Two syscalls fewer.
    pub fn netfilter_lookups() -> Result<Self, NetlinkError> {
        Self::bare(NlFamily::Netfilter, TIMEOUT, NETFILTER_BUFFER)
    }

    /// socket and bind only: a new socket blocks already, and the kernel
    /// addresses its replies by the socket, not by a port id we need to know.
    fn open(family: NlFamily, timeout: Duration, room: usize) -> Result<Self, NetlinkError> {
        let nl = Self::bare(family, timeout, room)?;
        nl.socket.enable_ext_ack(true).map_err(NetlinkError::Io)?;
        nl.socket
            .enable_strict_checking(true)
            .map_err(NetlinkError::Io)?;
        Ok(nl)
    }

    fn bare(family: NlFamily, timeout: Duration, room: usize) -> Result<Self, NetlinkError> {
        let socket = NlSocket::connect(family, None, Groups::empty()).map_err(NetlinkError::Io)?;
        // SAFETY: the descriptor belongs to `socket`, which outlives this borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) };
        let timeout = TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros() as _);
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(|e| NetlinkError::Io(e.into()))?;
        let buffer = Vec::with_capacity(room);
        Ok(Netlink {
            socket,
            seq: 0,
            buffer,
        })
    }

    /// Sends one rtnetlink request and reads its answer: a lookup
    /// (RTM_GET*) is answered by its reply, a change by its ACK; either
    /// may be an error. Returns the lookup's reply.
    fn request(
        &mut self,
        ty: Rtm,
        flags: NlmF,
        msg: Ifinfomsg,
    ) -> Result<Option<Ifinfomsg>, NetlinkError> {
        let lookup = ty == Rtm::Getlink;
        let ack = if lookup { NlmF::empty() } else { NlmF::ACK };
        let seq = self.next_seq();
        let request = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(NlmF::REQUEST | ack | flags)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(msg))
            .build()
            .map_err(protocol)?;
        let mut bytes = Cursor::new(vec![0; request.padded_size()]);
        request.to_bytes(&mut bytes).map_err(protocol)?;
        let answer = if lookup {
            Answer::Reply
        } else {
            Answer::Acks(1)
        };
        let replies = self.exchange(bytes.get_ref(), seq..=seq, answer)?;
        match replies.first() {
            Some(payload) => {
                let mut cursor = Cursor::new(payload.as_slice());
                Ifinfomsg::from_bytes_with_input(&mut cursor, payload.len())
                    .map(Some)
                    .map_err(protocol)
            }
            None => Ok(None),
        }
    }

    /// A fresh sequence number for each message sent.
    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// The one transport of every family: sends `request`, whose messages
    /// carry the sequence numbers `seqs`, and reads what `answer` asks for.
    /// Replies to other sequence numbers (a stale ACK of an earlier batch)
    /// are skipped; an error for any of `seqs` ends the exchange. Returns
    /// the payloads of the replies (after their `nlmsghdr`).
    fn exchange(
        &mut self,
        request: &[u8],
        seqs: RangeInclusive<u32>,
        answer: Answer,
    ) -> Result<Vec<Vec<u8>>, NetlinkError> {
        self.socket
            .send(request, Msg::empty())
            .map_err(NetlinkError::Io)?;
        let mut replies = Vec::new();
        let mut unacked = match answer {
            Answer::Acks(n) => n,
            _ => 0,
        };
        loop {
            for message in wire::messages(self.receive()?) {
                if !seqs.contains(&message.seq) {
                    debug!("ignoring a reply to sequence {}", message.seq);
                    continue;
                }
                let is_error = message.ty == wire::NLMSG_ERROR;
                if is_error || message.ty == wire::NLMSG_DONE {
                    let (code, ext_ack) = message.error();
                    if code < 0 {
                        let errno = Errno::from_raw(-code);
                        return Err(NetlinkError::Kernel { errno, ext_ack });
                    }
                    if is_error {
                        unacked = unacked.saturating_sub(1);
                    }
                    match answer {
                        Answer::Acks(_) if unacked == 0 => return Ok(replies),
                        Answer::Dump if !is_error => return Ok(replies),
                        _ => continue,
                    }
                }
                replies.push(message.payload.to_vec());
                if let Answer::Reply = answer {
                    return Ok(replies);
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
                let max = room / 1024;
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
