//! A link looked up for what a network needs to know of its bridge (index,
//! kind, up), parsed from the raw reply: an attach to a set-up network
//! looks its bridge up twice, and neli's full parse of a reply is about
//! 55,000 instructions, most of vnet-ifup's own work.

use log::debug;
use nix::errno::Errno;

use super::wire::{self, Writer};
use super::{c_string, Answer, Netlink, NetlinkError};
use crate::name::IfName;

const RTM_GETLINK: u16 = 18;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_INFO_KIND: u16 = 1;
/// `RTEXT_FILTER_SKIP_STATS`, as link.rs asks for it.
const SKIP_STATS: u32 = 1 << 3;
const IFF_UP: u32 = 1;

/// Index, kind and IFF_UP of one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brief {
    pub index: u32,
    pub kind: Option<String>,
    pub up: bool,
}

impl Netlink {
    /// Looks one interface up by name; `None` if there is none.
    pub fn brief(&mut self, name: &IfName) -> Result<Option<Brief>, NetlinkError> {
        debug!("request: get link {name}");
        let seq = self.next_seq();
        let mut w = Writer::default();
        w.begin(RTM_GETLINK, 0, seq, &[0; 16]);
        w.str(IFLA_IFNAME, name.as_str());
        w.attr(IFLA_EXT_MASK, &SKIP_STATS.to_ne_bytes());
        w.end();
        let replies = match self.exchange(&w.bytes, seq..=seq, Answer::Reply) {
            Ok(replies) => replies,
            Err(e) if e.errno() == Some(Errno::ENODEV) => return Ok(None),
            Err(e) => return Err(e),
        };
        let reply = replies.first().map(Vec::as_slice).unwrap_or_default();
        let word = |at: usize| reply.get(at..at + 4).and_then(|b| b.try_into().ok());
        let (Some(index), Some(flags)) = (word(4), word(8)) else {
            return Err(NetlinkError::Protocol("a short RTM_NEWLINK".into()));
        };
        let kind = wire::attrs(&reply[16..])
            .find(|(ty, _)| *ty == IFLA_LINKINFO)
            .and_then(|(_, info)| wire::attrs(info).find(|(ty, _)| *ty == IFLA_INFO_KIND))
            .map(|(_, kind)| c_string(kind));
        Ok(Some(Brief {
            index: u32::from_ne_bytes(index),
            kind,
            up: u32::from_ne_bytes(flags) & IFF_UP != 0,
        }))
    }
}
