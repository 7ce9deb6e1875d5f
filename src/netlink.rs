//! The only module that speaks rtnetlink: every neli type stays in here.
//!
//! Above this module the code deals in [`Link`]s and interface indexes.
//! Every request asks for an ACK and is read to its ACK or error, so the
//! kernel's errno and its extended-ACK text always reach the user; every
//! receive is bounded by [`TIMEOUT`], so QEMU never waits on us forever.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use log::debug;
use neli::{
    consts::{
        nl::{NlmF, NlmsgerrAttr},
        rtnl::{Iff, Ifla, IflaInfo, RtAddrFamily, Rtm},
        socket::NlFamily,
    },
    err::SocketError,
    nl::{NlPayload, NlmsghdrBuilder},
    rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtattr, RtattrBuilder},
    socket::synchronous::NlSocketHandle,
    types::{Buffer, RtBuffer},
    utils::Groups,
    Size, ToBytes,
};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use crate::name::IfName;

/// How long one reply may take. The kernel answers in microseconds; this
/// only matters if something is badly wrong, and QEMU has no timeout of its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);

// Attribute numbers neli has no enums for, from include/uapi/linux/if_link.h.
/// `IFLA_TUN_OWNER`, nested in `IFLA_INFO_DATA` of kind "tun" (`tun_fill_info()`).
const IFLA_TUN_OWNER: u16 = 1;
/// `IFLA_TUN_GROUP`
const IFLA_TUN_GROUP: u16 = 2;
/// `IFLA_TUN_TYPE`: a u8 holding `IFF_TUN` or `IFF_TAP`.
const IFLA_TUN_TYPE: u16 = 3;
/// `IFF_TAP` from include/uapi/linux/if_tun.h.
const IFF_TAP: u8 = 2;
/// `RTEXT_FILTER_SKIP_STATS` (rtnetlink.h): leave the counters out of replies.
const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

/// What the kernel told us about one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// `IFLA_INFO_KIND`: "bridge", "tun", "veth"...; `None` for physical
    /// devices and `lo`.
    pub kind: Option<String>,
    /// Present when `kind` is "tun".
    pub tun: Option<Tun>,
    pub mtu: u32,
    pub mac: Option<[u8; 6]>,
    /// `IFLA_MASTER`: the bridge (or bond...) this device is enslaved to.
    pub master: Option<u32>,
    pub up: bool,
    pub loopback: bool,
}

/// The tun driver's own attributes (`IFLA_TUN_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tun {
    /// `IFF_TAP` (layer 2) rather than `IFF_TUN` (layer 3).
    pub tap: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
}

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
        other => other.desc().to_lowercase(),
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

    /// Looks one interface up by name (never a dump); `None` if there is none.
    pub fn link(&mut self, name: &IfName) -> Result<Option<Link>, NetlinkError> {
        debug!("request: get link {name}");
        let attrs = [attr(Ifla::Ifname, name.as_str())?, ext_mask()?];
        self.get(0, attrs)
    }

    /// Looks one interface up by index; `None` if there is none.
    pub fn link_by_index(&mut self, index: u32) -> Result<Option<Link>, NetlinkError> {
        debug!("request: get link with index {index}");
        self.get(index, [ext_mask()?])
    }

    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<(), NetlinkError> {
        debug!("request: set mtu {mtu} on index {index}");
        self.set(index, Some(attr(Ifla::Mtu, mtu)?), None)
    }

    pub fn set_mac(&mut self, index: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        debug!("request: set address {} on index {index}", format_mac(&mac));
        self.set(index, Some(attr(Ifla::Address, mac)?), None)
    }

    /// Enslaves `index` to `master`; a `master` of 0 frees it.
    pub fn set_master(&mut self, index: u32, master: u32) -> Result<(), NetlinkError> {
        debug!("request: set master of index {index} to index {master}");
        self.set(index, Some(attr(Ifla::Master, master)?), None)
    }

    /// Changes only IFF_UP, through the change mask: a zero mask would
    /// rewrite every flag (`rtnl_dev_combine_flags()`).
    pub fn set_up(&mut self, index: u32, up: bool) -> Result<(), NetlinkError> {
        debug!(
            "request: set index {index} {}",
            if up { "up" } else { "down" }
        );
        self.set(index, None, Some(up))
    }

    fn get<const N: usize>(
        &mut self,
        index: u32,
        attrs: [Rtattr<Ifla, Buffer>; N],
    ) -> Result<Option<Link>, NetlinkError> {
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(index as i32)
            .rtattrs(attrs.into_iter().collect::<RtBuffer<_, _>>())
            .build()
            .map_err(|e| NetlinkError::Protocol(e.to_string()))?;
        match self.request(Rtm::Getlink, msg) {
            Ok(Some(reply)) => parse_link(&reply).map(Some),
            Ok(None) => Err(NetlinkError::Protocol("RTM_GETLINK got no link".into())),
            Err(e) if e.errno() == Some(Errno::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn set(
        &mut self,
        index: u32,
        attr: Option<Rtattr<Ifla, Buffer>>,
        up: Option<bool>,
    ) -> Result<(), NetlinkError> {
        let mut builder = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(index as i32)
            .rtattrs(attr.into_iter().collect::<RtBuffer<_, _>>());
        builder = match up {
            Some(true) => builder.up(),
            Some(false) => builder.down(),
            None => builder,
        };
        let msg = builder
            .build()
            .map_err(|e| NetlinkError::Protocol(e.to_string()))?;
        self.request(Rtm::Setlink, msg).map(|_| ())
    }

    /// Sends one request and reads until its ACK or error. Returns the
    /// payload the kernel sent before the ACK, if any.
    fn request(&mut self, ty: Rtm, msg: Ifinfomsg) -> Result<Option<Ifinfomsg>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let request = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(NlmF::REQUEST | NlmF::ACK)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(msg))
            .build()
            .map_err(|e| NetlinkError::Protocol(e.to_string()))?;
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

fn attr<P: Size + ToBytes>(ty: Ifla, payload: P) -> Result<Rtattr<Ifla, Buffer>, NetlinkError> {
    RtattrBuilder::default()
        .rta_type(ty)
        .rta_payload(payload)
        .build()
        .map_err(|e| NetlinkError::Protocol(e.to_string()))
}

fn ext_mask() -> Result<Rtattr<Ifla, Buffer>, NetlinkError> {
    attr(Ifla::ExtMask, RTEXT_FILTER_SKIP_STATS)
}

fn socket_error(e: SocketError) -> NetlinkError {
    match e {
        SocketError::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock) => {
            NetlinkError::Timeout
        }
        SocketError::Io(e) => NetlinkError::Io(io::Error::new(e.kind(), e.to_string())),
        other => NetlinkError::Protocol(other.to_string()),
    }
}

fn parse_link(msg: &Ifinfomsg) -> Result<Link, NetlinkError> {
    let attrs = msg.rtattrs().get_attr_handle();
    let bytes = |ty| attrs.get_attribute(ty).map(|a| a.rta_payload().as_ref());
    let u32_of = |b: &[u8]| b.try_into().ok().map(u32::from_ne_bytes);

    let name = bytes(Ifla::Ifname).map(c_string).unwrap_or_default();
    let mtu = bytes(Ifla::Mtu).and_then(u32_of).unwrap_or(0);
    let mac = bytes(Ifla::Address).and_then(|b| <[u8; 6]>::try_from(b).ok());
    let master = bytes(Ifla::Master).and_then(u32_of).filter(|&m| m != 0);

    let mut kind = None;
    let mut tun = None;
    if let Some(info) = attrs.get_attribute(Ifla::Linkinfo) {
        let info = info
            .get_attr_handle::<IflaInfo>()
            .map_err(|e| NetlinkError::Protocol(e.to_string()))?;
        kind = info
            .get_attribute(IflaInfo::Kind)
            .map(|a| c_string(a.rta_payload().as_ref()));
        if kind.as_deref() == Some("tun") {
            let data = match info.get_attribute(IflaInfo::Data) {
                Some(data) => data
                    .get_attr_handle::<u16>()
                    .map_err(|e| NetlinkError::Protocol(e.to_string()))?,
                None => {
                    return Err(NetlinkError::Protocol(
                        "a tun without IFLA_INFO_DATA".into(),
                    ))
                }
            };
            let get = |ty| data.get_attribute(ty).map(|a| a.rta_payload().as_ref());
            tun = Some(Tun {
                tap: get(IFLA_TUN_TYPE).and_then(|b| b.first().copied()) == Some(IFF_TAP),
                owner: get(IFLA_TUN_OWNER).and_then(u32_of),
                group: get(IFLA_TUN_GROUP).and_then(u32_of),
            });
        }
    }

    Ok(Link {
        index: u32::try_from(*msg.ifi_index()).unwrap_or(0),
        name,
        kind,
        tun,
        mtu,
        mac,
        master,
        up: msg.ifi_flags().contains(Iff::UP),
        loopback: msg.ifi_flags().contains(Iff::LOOPBACK),
    })
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
mod tests {
    use super::*;

    #[test]
    fn errnos_become_sentences() {
        assert_eq!(errno_sentence(Errno::ENODEV), "no such interface");
        assert!(errno_sentence(Errno::EPERM).contains("needs CAP_NET_ADMIN"));
        assert!(errno_sentence(Errno::EBUSY).contains("busy"));
        assert!(errno_sentence(Errno::EOPNOTSUPP).contains("does not support"));
        assert_eq!(errno_sentence(Errno::ENOMEM), "out of memory");
    }

    #[test]
    fn kernel_errors_carry_the_ext_ack_once() {
        let e = NetlinkError::Kernel {
            errno: Errno::EBUSY,
            ext_ack: Some("Device is already in use".into()),
        };
        let text = e.to_string();
        assert_eq!(text.matches("Device is already in use").count(), 1);
        assert!(text.starts_with("the device is busy"));
    }

    #[test]
    fn macs_print_like_ip() {
        assert_eq!(
            format_mac(&[0xfe, 0x54, 0, 0x12, 0x34, 0x56]),
            "fe:54:00:12:34:56"
        );
    }

    /// A peer that never answers must not hang us: the receive times out.
    /// Addressing a user-space netlink socket needs CAP_NET_ADMIN.
    #[test]
    fn a_silent_peer_times_out() {
        use nix::sys::socket::{connect, NetlinkAddr};
        use std::time::Instant;
        if !nix::unistd::geteuid().is_root() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "needs root under CI"
            );
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED: a_silent_peer_times_out needs root ***\n",
            );
            return;
        }
        let silent = NlSocketHandle::connect(NlFamily::Route, None, Groups::empty()).unwrap();
        let mut nl = Netlink::open(Duration::from_millis(200)).unwrap();
        // Requests now go to `silent`, which never reads them, not to the kernel.
        connect(nl.socket.as_raw_fd(), &NetlinkAddr::new(silent.pid(), 0)).unwrap();
        let start = Instant::now();
        let err = nl.link(&IfName::new("vnet0").unwrap()).unwrap_err();
        assert!(matches!(err, NetlinkError::Timeout), "{err:?}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            err.to_string(),
            "the kernel did not answer within 5 seconds"
        );
    }

    #[test]
    fn c_strings_stop_at_nul() {
        assert_eq!(c_string(b"br0\0"), "br0");
        assert_eq!(c_string(b"br0"), "br0");
        assert_eq!(c_string(b""), "");
    }
}
