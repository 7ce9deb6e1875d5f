//! Bridge ports (AF_BRIDGE RTM_SETLINK with IFLA_PROTINFO), their VLANs
//! (IFLA_AF_SPEC), and creating a bridge (RTM_NEWLINK). neli has no enums
//! for these attributes, so the few we need are declared here.

use std::fmt;

use log::debug;
use neli::{
    consts::{
        nl::NlmF,
        rtnl::{Ifla, IflaInfo, RtAddrFamily, Rtm},
    },
    rtnl::{IfinfomsgBuilder, Rtattr},
    types::{Buffer, RtBuffer},
};

use super::link::IFLA_BR_VLAN_FILTERING;
use super::{attr, nest, protocol, Netlink, NetlinkError};
use crate::name::IfName;

/// `AF_BRIDGE`: routes RTM_SETLINK/RTM_DELLINK to the bridge's
/// `br_setlink()`/`br_dellink()` instead of the generic link code.
const AF_BRIDGE: u8 = 7;
/// `NLA_F_NESTED`: `br_setlink()` parses IFLA_PROTINFO as IFLA_BRPORT_*
/// only when this bit is set (without it, it is the old STP-state byte).
const NLA_F_NESTED: u16 = 1 << 15;
/// `IFLA_PROTINFO` and `IFLA_AF_SPEC` from if_link.h.
const IFLA_PROTINFO: u16 = 12;
const IFLA_AF_SPEC: u16 = 26;

// IFLA_BRPORT_* from include/uapi/linux/if_link.h.
const IFLA_BRPORT_PRIORITY: u16 = 2; // u16
const IFLA_BRPORT_COST: u16 = 3; // u32
const IFLA_BRPORT_MODE: u16 = 4; // u8: hairpin
const IFLA_BRPORT_LEARNING: u16 = 8; // u8
const IFLA_BRPORT_UNICAST_FLOOD: u16 = 9; // u8
const IFLA_BRPORT_MCAST_FLOOD: u16 = 27; // u8
const IFLA_BRPORT_BCAST_FLOOD: u16 = 30; // u8
const IFLA_BRPORT_ISOLATED: u16 = 33; // u8

// From include/uapi/linux/if_bridge.h.
/// `IFLA_BRIDGE_VLAN_INFO`, nested in IFLA_AF_SPEC: a `struct bridge_vlan_info`.
const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
const BRIDGE_VLAN_INFO_PVID: u16 = 1 << 1;
const BRIDGE_VLAN_INFO_UNTAGGED: u16 = 1 << 2;
const BRIDGE_VLAN_INFO_RANGE_BEGIN: u16 = 1 << 3;
const BRIDGE_VLAN_INFO_RANGE_END: u16 = 1 << 4;

/// Bridge-port options; `None` leaves the kernel's value alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFlags {
    pub isolated: Option<bool>,
    pub hairpin: Option<bool>,
    pub learning: Option<bool>,
    pub unicast_flood: Option<bool>,
    pub multicast_flood: Option<bool>,
    pub broadcast_flood: Option<bool>,
    pub cost: Option<u32>,
    pub priority: Option<u16>,
}

/// "isolated yes, cost 100", in the configuration's own words.
impl fmt::Display for PortFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = [
            ("isolated", self.isolated),
            ("hairpin", self.hairpin),
            ("learning", self.learning),
            ("unicast-flood", self.unicast_flood),
            ("multicast-flood", self.multicast_flood),
            ("broadcast-flood", self.broadcast_flood),
        ];
        let mut words: Vec<String> = flags
            .iter()
            .filter_map(|(name, v)| v.map(|on| format!("{name} {}", if on { "yes" } else { "no" })))
            .collect();
        words.extend(self.cost.map(|c| format!("cost {c}")));
        words.extend(self.priority.map(|p| format!("priority {p}")));
        f.write_str(&words.join(", "))
    }
}

impl PortFlags {
    pub fn is_empty(&self) -> bool {
        *self == PortFlags::default()
    }

    fn attrs(&self) -> Result<Vec<Rtattr<u16, Buffer>>, NetlinkError> {
        let flags = [
            (IFLA_BRPORT_ISOLATED, self.isolated),
            (IFLA_BRPORT_MODE, self.hairpin),
            (IFLA_BRPORT_LEARNING, self.learning),
            (IFLA_BRPORT_UNICAST_FLOOD, self.unicast_flood),
            (IFLA_BRPORT_MCAST_FLOOD, self.multicast_flood),
            (IFLA_BRPORT_BCAST_FLOOD, self.broadcast_flood),
        ];
        let mut attrs = Vec::new();
        for (ty, value) in flags {
            if let Some(on) = value {
                attrs.push(attr(ty, u8::from(on))?);
            }
        }
        if let Some(cost) = self.cost {
            attrs.push(attr(IFLA_BRPORT_COST, cost)?);
        }
        if let Some(priority) = self.priority {
            attrs.push(attr(IFLA_BRPORT_PRIORITY, priority)?);
        }
        Ok(attrs)
    }
}

/// VLANs `first..=last` on a port; `pvid` and `untagged` as `bridge vlan add`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanRange {
    pub first: u16,
    pub last: u16,
    pub pvid: bool,
    pub untagged: bool,
}

impl VlanRange {
    /// One `struct bridge_vlan_info` per VLAN, or a RANGE_BEGIN/END pair.
    fn attrs(&self) -> Result<Vec<Rtattr<u16, Buffer>>, NetlinkError> {
        let mut flags = 0;
        if self.pvid {
            flags |= BRIDGE_VLAN_INFO_PVID;
        }
        if self.untagged {
            flags |= BRIDGE_VLAN_INFO_UNTAGGED;
        }
        let info = |flags: u16, vid: u16| {
            let mut bytes = [0; 4];
            bytes[..2].copy_from_slice(&flags.to_ne_bytes());
            bytes[2..].copy_from_slice(&vid.to_ne_bytes());
            attr(IFLA_BRIDGE_VLAN_INFO, bytes)
        };
        if self.first == self.last {
            return Ok(vec![info(flags, self.first)?]);
        }
        Ok(vec![
            info(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, self.first)?,
            info(flags | BRIDGE_VLAN_INFO_RANGE_END, self.last)?,
        ])
    }
}

impl Netlink {
    /// Sets bridge-port options on the port `index`, in one request.
    pub fn set_port(&mut self, index: u32, flags: &PortFlags) -> Result<(), NetlinkError> {
        debug!("request: set port options {flags} on index {index}");
        let protinfo = nest(Ifla::from(IFLA_PROTINFO | NLA_F_NESTED), &flags.attrs()?)?;
        self.bridge_request(Rtm::Setlink, index, protinfo)
    }

    /// Adds (`add`) or removes VLANs on the port `index`, in one request.
    pub fn set_vlans(
        &mut self,
        index: u32,
        add: bool,
        vlans: &[VlanRange],
    ) -> Result<(), NetlinkError> {
        debug!(
            "request: {} VLANs {vlans:?} on index {index}",
            if add { "add" } else { "remove" }
        );
        let mut infos = Vec::new();
        for vlan in vlans {
            infos.extend(vlan.attrs()?);
        }
        let spec = nest(Ifla::from(IFLA_AF_SPEC), &infos)?;
        let ty = if add { Rtm::Setlink } else { Rtm::Dellink };
        self.bridge_request(ty, index, spec)
    }

    /// Creates bridge `name`, up, with VLAN filtering on if asked.
    /// Fails with EEXIST if the name is taken (NLM_F_EXCL).
    pub fn create_bridge(
        &mut self,
        name: &IfName,
        vlan_filtering: bool,
    ) -> Result<(), NetlinkError> {
        debug!("request: create bridge {name} (vlan_filtering {vlan_filtering})");
        let mut data = Vec::new();
        if vlan_filtering {
            data.push(attr(IFLA_BR_VLAN_FILTERING, 1u8)?);
        }
        let info = [
            attr(IflaInfo::Kind, "bridge")?,
            nest(IflaInfo::Data, &data)?,
        ];
        let attrs = [
            attr(Ifla::Ifname, name.as_str())?,
            nest(Ifla::Linkinfo, &info)?,
        ];
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .rtattrs(attrs.into_iter().collect::<RtBuffer<_, _>>())
            .up()
            .build()
            .map_err(protocol)?;
        self.request(Rtm::Newlink, NlmF::CREATE | NlmF::EXCL, msg)
            .map(|_| ())
    }

    /// Deletes the interface `index` (a bridge vnet made for a network).
    pub fn delete_link(&mut self, index: u32) -> Result<(), NetlinkError> {
        debug!("request: delete link index {index}");
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(index as i32)
            .build()
            .map_err(protocol)?;
        self.request(Rtm::Dellink, NlmF::empty(), msg).map(|_| ())
    }

    fn bridge_request(
        &mut self,
        ty: Rtm,
        index: u32,
        attr: Rtattr<Ifla, Buffer>,
    ) -> Result<(), NetlinkError> {
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::from(AF_BRIDGE))
            .ifi_index(index as i32)
            .rtattrs(std::iter::once(attr).collect::<RtBuffer<_, _>>())
            .build()
            .map_err(protocol)?;
        self.request(ty, NlmF::empty(), msg).map(|_| ())
    }
}
