//! The changes vnet makes, one acknowledged request each.

use crate::netlink::{format_mac, PortFlags, VlanRange};

/// One change to the tap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    SetMtu {
        from: u32,
        to: u32,
    },
    SetMac {
        from: [u8; 6],
        to: [u8; 6],
    },
    /// Set `IFLA_MASTER` to the bridge's index; 0 frees the port.
    SetMaster {
        from: u32,
        to: u32,
    },
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
    pub fn undo(&self) -> Option<Action> {
        match *self {
            Action::SetMtu { from, to } => Some(Action::SetMtu { from: to, to: from }),
            Action::SetMac { from, to } => Some(Action::SetMac { from: to, to: from }),
            Action::SetMaster { from, to } => Some(Action::SetMaster { from: to, to: from }),
            Action::SetUp(up) => Some(Action::SetUp(!up)),
            Action::SetPort(_) | Action::Vlans { .. } => None,
        }
    }

    /// "setting the MTU of vnet0 from 1500 to 9000", for messages and `--check`.
    pub fn describe(&self, tap: &str, bridge: &str) -> String {
        match self {
            Action::SetMtu { from, to } => format!("setting the MTU of {tap} from {from} to {to}"),
            Action::SetMac { from, to } => format!(
                "setting the MAC address of {tap} from {} to {}",
                format_mac(from),
                format_mac(to)
            ),
            Action::SetMaster { to: 0, .. } => format!("detaching {tap} from {bridge}"),
            Action::SetMaster { .. } => format!("attaching {tap} to {bridge}"),
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
