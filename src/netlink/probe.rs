//! Whether this kernel's bridges can filter VLANs, asked before any bridge
//! exists (`create-bridge` with `pvid` or `tagged`): a bridge reports it
//! (IFLA_BR_VLAN_DEFAULT_PVID), but there is none to ask yet, and making
//! one to find out would change the host.
//!
//! The bridge module registers its VLAN dump (RTM_GETVLAN, Linux 5.6 and
//! later) only when built with CONFIG_BRIDGE_VLAN_FILTERING. Asked about
//! `lo`, which is never a bridge nor a port, that dump ends at once with
//! an error of its own; without it, rtnetlink answers EOPNOTSUPP. No
//! bridge's VLANs are read, so the cost does not grow with the host.

use std::path::Path;

use log::debug;
use neli::consts::socket::Msg;
use nix::errno::Errno;

use super::{protocol, Netlink, NetlinkError};

/// `RTM_GETVLAN` and the message types of its answer, from rtnetlink.h.
const RTM_GETVLAN: u16 = 114;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
/// `NLM_F_ROOT | NLM_F_MATCH`.
const NLM_F_DUMP: u16 = 0x300;
/// `AF_BRIDGE`, and `lo`'s index in every network namespace.
const AF_BRIDGE: u8 = 7;
const LOOPBACK_INDEX: u32 = 1;
/// The bridge module, loaded or built in (it has a version).
const BRIDGE_MODULE: &str = "/sys/module/bridge";

impl Netlink {
    /// `Some(true)` if this kernel's bridges can filter VLANs, `Some(false)`
    /// if they cannot, `None` if it cannot be told before a bridge exists
    /// (no bridge module loaded yet, or a kernel older than 5.6).
    pub fn bridges_filter_vlans(&mut self) -> Result<Option<bool>, NetlinkError> {
        debug!("request: the VLAN dump of lo, to learn whether bridges filter VLANs");
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut request = Vec::with_capacity(24);
        request.extend_from_slice(&24u32.to_ne_bytes());
        request.extend_from_slice(&RTM_GETVLAN.to_ne_bytes());
        request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        request.extend_from_slice(&seq.to_ne_bytes());
        request.extend_from_slice(&0u32.to_ne_bytes());
        // struct br_vlan_msg: family, two reserved fields, ifindex.
        request.extend_from_slice(&[AF_BRIDGE, 0, 0, 0]);
        request.extend_from_slice(&LOOPBACK_INDEX.to_ne_bytes());
        self.socket
            .send(&request, Msg::empty())
            .map_err(NetlinkError::Io)?;
        let dump_exists = loop {
            if let Some(answer) = answer(self.receive()?, seq)? {
                break answer;
            }
        };
        Ok(match dump_exists {
            true => Some(true),
            false if Path::new(BRIDGE_MODULE).exists() && kernel_at_least(5, 6) => Some(false),
            false => None,
        })
    }
}

/// Reads one datagram of the dump's answer: `Some(false)` for EOPNOTSUPP
/// (no such dump), `Some(true)` for its end or any other error (the dump
/// exists), `None` to read on.
fn answer(datagram: &[u8], seq: u32) -> Result<Option<bool>, NetlinkError> {
    let mut rest = datagram;
    while rest.len() >= 16 {
        let word = |at: usize| u32::from_ne_bytes(rest[at..at + 4].try_into().expect("4 bytes"));
        let len = word(0) as usize;
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < 16 || len > rest.len() {
            return Err(protocol(format!("a netlink message of {len} bytes")));
        }
        if word(8) == seq {
            match ty {
                NLMSG_ERROR | NLMSG_DONE if len >= 20 => {
                    let errno = (word(16) as i32).wrapping_neg();
                    return Ok(Some(Errno::from_raw(errno) != Errno::EOPNOTSUPP));
                }
                NLMSG_DONE => return Ok(Some(true)),
                _ => {}
            }
        }
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    Ok(None)
}

/// Whether the running kernel is `major.minor` or later.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let Ok(uts) = nix::sys::utsname::uname() else {
        return false;
    };
    let release = uts.release().to_string_lossy().into_owned();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(ty: u16, seq: u32, errno: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&20u32.to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&(-errno).to_ne_bytes());
        m
    }

    #[test]
    fn the_answer_says_whether_the_dump_exists() {
        let read = |datagram: &[u8]| answer(datagram, 7).expect("a well-formed answer");
        let eopnotsupp = Errno::EOPNOTSUPP as i32;
        assert_eq!(read(&message(NLMSG_ERROR, 7, eopnotsupp)), Some(false));
        let einval = Errno::EINVAL as i32;
        assert_eq!(read(&message(NLMSG_DONE, 7, einval)), Some(true));
        assert_eq!(read(&message(NLMSG_ERROR, 7, einval)), Some(true));
        // Another request's answer is read past.
        let mut two = message(NLMSG_ERROR, 6, eopnotsupp);
        two.extend(message(NLMSG_DONE, 7, 0));
        assert_eq!(read(&two), Some(true));
        assert_eq!(read(&message(NLMSG_ERROR, 6, 0)), None);
        assert!(answer(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7).is_err());
    }

    #[test]
    fn kernel_versions_compare_as_numbers() {
        assert!(kernel_at_least(0, 0));
        assert!(!kernel_at_least(u32::MAX, 0));
    }
}
