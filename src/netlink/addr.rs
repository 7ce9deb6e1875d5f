//! Interface addresses: RTM_GETADDR (a dump, optionally of one interface),
//! RTM_NEWADDR and RTM_DELADDR, written with our own `ifaddrmsg`.

use std::net::IpAddr;

use log::debug;

use super::wire::{self, Writer, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use super::{Answer, Netlink, NetlinkError};

const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
/// `IFA_F_NODAD`: a bridge without ports has no carrier, and duplicate
/// address detection would leave its IPv6 address tentative until it has.
const IFA_F_NODAD: u8 = 0x02;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// One address of one interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Netlink {
    /// Every address of interface `index`, or of every interface (`None`).
    pub fn addresses(&mut self, index: Option<u32>) -> Result<Vec<Address>, NetlinkError> {
        debug!("request: get addresses of index {}", index.unwrap_or(0));
        let seq = self.next_seq();
        let mut w = Writer::default();
        w.begin(
            RTM_GETADDR,
            NLM_F_DUMP,
            seq,
            &ifaddrmsg(0, 0, 0, index.unwrap_or(0)),
        );
        w.end();
        let replies = self.exchange(&w.bytes, seq..=seq, Answer::Dump)?;
        Ok(replies
            .iter()
            .filter_map(|r| parse(r))
            .filter(|a| index.map_or(true, |i| a.index == i))
            .collect())
    }

    /// Adds `addr/prefix` to interface `index`; EEXIST if it is there.
    pub fn add_address(&mut self, address: &Address) -> Result<(), NetlinkError> {
        debug!("request: add address {}/{}", address.addr, address.prefix);
        self.address_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, address)
    }

    /// Removes `addr/prefix` from interface `index`.
    pub fn del_address(&mut self, address: &Address) -> Result<(), NetlinkError> {
        debug!(
            "request: remove address {}/{}",
            address.addr, address.prefix
        );
        self.address_request(RTM_DELADDR, 0, address)
    }

    fn address_request(&mut self, ty: u16, flags: u16, a: &Address) -> Result<(), NetlinkError> {
        let (family, bytes) = match a.addr {
            IpAddr::V4(v4) => (AF_INET, v4.octets().to_vec()),
            IpAddr::V6(v6) => (AF_INET6, v6.octets().to_vec()),
        };
        let dad = if family == AF_INET6 { IFA_F_NODAD } else { 0 };
        let seq = self.next_seq();
        let mut w = Writer::default();
        w.begin(
            ty,
            NLM_F_ACK | flags,
            seq,
            &ifaddrmsg(family, a.prefix, dad, a.index),
        );
        w.attr(IFA_LOCAL, &bytes);
        w.attr(IFA_ADDRESS, &bytes);
        if let IpAddr::V4(v4) = a.addr {
            let host = u32::MAX.checked_shr(u32::from(a.prefix)).unwrap_or(0);
            w.attr(IFA_BROADCAST, &(u32::from(v4) | host).to_be_bytes());
        }
        w.end();
        self.exchange(&w.bytes, seq..=seq, Answer::Acks(1))
            .map(|_| ())
    }
}

/// `struct ifaddrmsg`: family, prefix length, flags, scope, index.
fn ifaddrmsg(family: u8, prefix: u8, flags: u8, index: u32) -> [u8; 8] {
    let i = index.to_ne_bytes();
    [family, prefix, flags, 0, i[0], i[1], i[2], i[3]]
}

/// An RTM_NEWADDR reply; the local address where there is one (a
/// point-to-point link's IFA_ADDRESS is its peer).
fn parse(payload: &[u8]) -> Option<Address> {
    let head = payload.get(..8)?;
    let index = u32::from_ne_bytes(head[4..8].try_into().ok()?);
    let mut found = None;
    for (ty, value) in wire::attrs(&payload[8..]) {
        let addr = match value.len() {
            4 => IpAddr::from(<[u8; 4]>::try_from(value).ok()?),
            16 => IpAddr::from(<[u8; 16]>::try_from(value).ok()?),
            _ => continue,
        };
        match ty {
            IFA_LOCAL => found = Some(addr),
            IFA_ADDRESS if found.is_none() => found = Some(addr),
            _ => {}
        }
    }
    Some(Address {
        index,
        addr: found?,
        prefix: head[1],
    })
}
