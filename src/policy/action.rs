//! The changes vnet makes, one acknowledged request each.

use nix::errno::Errno;

use crate::escape::Escaped;
use crate::netlink::{format_mac, PortFlags, VlanRange};

/// One change to the host: to the tap, or the bridge it joins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create the missing bridge, up (`create-bridge = yes`); always the
    /// plan's first step, so nothing is created for a run that is refused.
    CreateBridge {
        vlan_filtering: bool,
        /// Its own address, so that it never changes as taps come and go.
        mac: [u8; 6],
    },
    /// Delete the bridge: the undo of a creation, sent only by the run
    /// that created it.
    DeleteBridge,
    SetMtu {
        from: u32,
        to: u32,
    },
    SetMac {
        from: [u8; 6],
        to: [u8; 6],
    },
    /// Put the tap on the bridge (`IFLA_MASTER`).
    Attach,
    /// Free the tap from its master.
    Detach,
    /// Bridge-port options, sent while the port is still down.
    SetPort(PortFlags),
    /// Add (or remove) VLANs on the port.
    Vlans {
        add: bool,
        ranges: Vec<VlanRange>,
    },
    SetUp(bool),
}

impl Action {
    /// The action that puts back what this one changed. Port options and
    /// VLANs have none: they die with the port when the master is undone.
    /// A bridge is deleted only by the run that created it (see `apply`).
    pub fn undo(&self) -> Option<Action> {
        match *self {
            Action::CreateBridge { .. } => Some(Action::DeleteBridge),
            Action::DeleteBridge => None,
            Action::SetMtu { from, to } => Some(Action::SetMtu { from: to, to: from }),
            Action::SetMac { from, to } => Some(Action::SetMac { from: to, to: from }),
            Action::Attach => Some(Action::Detach),
            Action::Detach => Some(Action::Attach),
            Action::SetUp(up) => Some(Action::SetUp(!up)),
            Action::SetPort(_) | Action::Vlans { .. } => None,
        }
    }

    /// What `errno` means for this request, where it means something more
    /// precise than the errno's generic sentence (`netlink::errno_sentence`).
    pub fn errno_meaning(&self, errno: Errno) -> Option<&'static str> {
        match (self, errno) {
            // br_add_if(): BR_MAX_PORTS reached.
            (Action::Attach, Errno::ENOSPC | Errno::EXFULL) => Some("the bridge has no free port"),
            (Action::Attach, Errno::ELOOP) => Some("that would make a loop of masters"),
            (Action::SetMtu { .. }, Errno::EINVAL) => {
                Some("the tap does not accept that MTU (68 to 65535 for a tap)")
            }
            (Action::SetMac { .. }, Errno::EADDRNOTAVAIL) => {
                Some("the kernel refused the address as not a unicast one")
            }
            (Action::CreateBridge { .. }, Errno::EOPNOTSUPP) => {
                Some("this kernel has no bridge support (CONFIG_BRIDGE)")
            }
            _ => None,
        }
    }

    /// "setting the MTU of vnet0 from 1500 to 9000", for messages and
    /// `--check`; `tap` and `bridge` are escaped here.
    pub fn describe(&self, tap: &str, bridge: &str) -> String {
        let (tap, bridge) = (Escaped(tap), Escaped(bridge));
        match self {
            Action::CreateBridge {
                vlan_filtering,
                mac,
            } => format!(
                "creating bridge {bridge}, up, with address {}{}",
                format_mac(mac),
                if *vlan_filtering {
                    " and VLAN filtering"
                } else {
                    ""
                }
            ),
            Action::DeleteBridge => format!("deleting bridge {bridge}"),
            Action::SetMtu { from, to } => format!("setting the MTU of {tap} from {from} to {to}"),
            Action::SetMac { from, to } => format!(
                "setting the MAC address of {tap} from {} to {}",
                format_mac(from),
                format_mac(to)
            ),
            Action::Detach => format!("detaching {tap} from {bridge}"),
            Action::Attach => format!("attaching {tap} to {bridge}"),
            Action::SetPort(flags) => format!("setting the bridge-port options of {tap}: {flags}"),
            Action::Vlans { add: true, ranges } => {
                format!(
                    "adding VLAN {}{} to {tap}",
                    vlan_list(ranges),
                    vlan_mode(ranges)
                )
            }
            Action::Vlans { add: false, ranges } => {
                format!("removing VLAN {} from {tap}", vlan_list(ranges))
            }
            Action::SetUp(true) => format!("setting {tap} up"),
            Action::SetUp(false) => format!("setting {tap} down"),
        }
    }
}

/// "10", "20 30-35".
fn vlan_list(ranges: &[VlanRange]) -> String {
    let ids: Vec<String> = ranges
        .iter()
        .map(|r| match r.first == r.last {
            true => r.first.to_string(),
            false => format!("{}-{}", r.first, r.last),
        })
        .collect();
    ids.join(" ")
}

fn vlan_mode(ranges: &[VlanRange]) -> &'static str {
    match ranges.first() {
        Some(r) if r.pvid => " (pvid, untagged)",
        Some(r) if r.untagged => " (untagged)",
        _ => " (tagged)",
    }
}
