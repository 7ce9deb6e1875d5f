//! Links: one RTM_GETLINK by name or index, and RTM_SETLINK changes.

use log::debug;
use neli::{
    consts::{
        nl::NlmF,
        rtnl::{Iff, Ifla, IflaInfo, RtAddrFamily, Rtm},
    },
    rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtattr},
    types::{Buffer, RtBuffer},
};
use nix::errno::Errno;

use super::{attr, c_string, format_mac, protocol, Netlink, NetlinkError};
use crate::escape::Escaped;
use crate::name::IfName;

// Attribute numbers neli has no enums for, from include/uapi/linux/if_link.h.
/// `IFLA_TUN_OWNER`, nested in `IFLA_INFO_DATA` of kind "tun" (`tun_fill_info()`).
const IFLA_TUN_OWNER: u16 = 1;
/// `IFLA_TUN_GROUP`
const IFLA_TUN_GROUP: u16 = 2;
/// `IFLA_TUN_TYPE`: a u8 holding `IFF_TUN` or `IFF_TAP` (libc's).
const IFLA_TUN_TYPE: u16 = 3;
/// `IFLA_BR_VLAN_FILTERING`, nested in `IFLA_INFO_DATA` of kind "bridge".
pub(super) const IFLA_BR_VLAN_FILTERING: u16 = 7;
/// `IFLA_BR_VLAN_DEFAULT_PVID`: only sent by kernels built with
/// CONFIG_BRIDGE_VLAN_FILTERING (`br_fill_info()`), which is how we tell.
const IFLA_BR_VLAN_DEFAULT_PVID: u16 = 39;
/// `RTEXT_FILTER_SKIP_STATS` (rtnetlink.h): leaves some counters out of
/// replies, a quarter of their size for a tap (1160 bytes rather than 1528).
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
    /// Present when `kind` is "bridge".
    pub bridge: Option<BridgeInfo>,
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

/// What matters about a bridge for VLAN policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeInfo {
    pub vlan_filtering: bool,
    /// The VLAN new ports get; `None` when the kernel has no VLAN filtering.
    pub default_pvid: Option<u16>,
}

impl Netlink {
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
            .map_err(protocol)?;
        match self.request(Rtm::Getlink, NlmF::empty(), msg) {
            Ok(Some(reply)) => parse_link(&reply).map(Some),
            Ok(None) => Err(protocol("RTM_GETLINK got no link")),
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
        let msg = builder.build().map_err(protocol)?;
        self.request(Rtm::Setlink, NlmF::empty(), msg).map(|_| ())
    }
}

fn ext_mask() -> Result<Rtattr<Ifla, Buffer>, NetlinkError> {
    attr(Ifla::ExtMask, RTEXT_FILTER_SKIP_STATS)
}

/// What vnet relies on must be in the reply: a missing attribute is a
/// protocol error, never a default (an MTU of 0 would be sent back on
/// rollback). Only what the kernel omits on purpose is optional: the
/// address of a device without one, the master of a free port.
pub(super) fn parse_link(msg: &Ifinfomsg) -> Result<Link, NetlinkError> {
    let attrs = msg.rtattrs().get_attr_handle();
    let bytes = |ty| attrs.get_attribute(ty).map(|a| a.rta_payload().as_ref());
    let index = u32::try_from(*msg.ifi_index())
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| protocol(format!("a link with index {}", msg.ifi_index())))?;
    let name = bytes(Ifla::Ifname)
        .map(c_string)
        .ok_or_else(|| missing("IFLA_IFNAME", &index.to_string()))?;
    let mtu = attrs
        .get_attr_payload_as::<u32>(Ifla::Mtu)
        .map_err(|_| missing("IFLA_MTU", &name))?;

    let mut kind = None;
    let mut data = Vec::new();
    if let Some(info) = attrs.get_attribute(Ifla::Linkinfo) {
        let info = info.get_attr_handle::<IflaInfo>().map_err(protocol)?;
        kind = info
            .get_attribute(IflaInfo::Kind)
            .map(|a| c_string(a.rta_payload().as_ref()));
        if let Some(d) = info.get_attribute(IflaInfo::Data) {
            let d = d.get_attr_handle::<u16>().map_err(protocol)?;
            data = d
                .iter()
                .map(|a| (*a.rta_type(), a.rta_payload().as_ref().to_vec()))
                .collect();
        }
    }
    let info = |ty: u16| {
        data.iter()
            .find(|(t, _)| *t == ty)
            .map(|(_, b)| b.as_slice())
    };
    let byte = |ty: u16, what: &str| {
        info(ty)
            .and_then(|b| b.first().copied())
            .ok_or_else(|| missing(what, &name))
    };
    let tun = match kind.as_deref() {
        Some("tun") => Some(Tun {
            tap: i32::from(byte(IFLA_TUN_TYPE, "IFLA_TUN_TYPE")?) == libc::IFF_TAP,
            owner: info(IFLA_TUN_OWNER).and_then(u32_of),
            group: info(IFLA_TUN_GROUP).and_then(u32_of),
        }),
        _ => None,
    };
    let bridge = match kind.as_deref() {
        Some("bridge") => Some(BridgeInfo {
            vlan_filtering: byte(IFLA_BR_VLAN_FILTERING, "IFLA_BR_VLAN_FILTERING")? == 1,
            // Sent only by kernels that can filter VLANs: its absence says so.
            default_pvid: info(IFLA_BR_VLAN_DEFAULT_PVID)
                .and_then(|b| b.try_into().ok())
                .map(u16::from_ne_bytes),
        }),
        _ => None,
    };

    Ok(Link {
        index,
        name,
        kind,
        tun,
        bridge,
        mtu,
        mac: bytes(Ifla::Address).and_then(|b| b.try_into().ok()),
        master: bytes(Ifla::Master).and_then(u32_of).filter(|&m| m != 0),
        up: msg.ifi_flags().contains(Iff::UP),
        loopback: msg.ifi_flags().contains(Iff::LOOPBACK),
    })
}

/// "the kernel's reply for vnet0 has no IFLA_MTU".
fn missing(attribute: &str, link: &str) -> NetlinkError {
    protocol(format!(
        "the kernel's reply for {} has no {attribute}",
        Escaped(link)
    ))
}

fn u32_of(b: &[u8]) -> Option<u32> {
    b.try_into().ok().map(u32::from_ne_bytes)
}
