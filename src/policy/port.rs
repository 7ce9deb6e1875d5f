//! The bridge-port policy: port options and VLANs, from the configuration.
//! Applied after the tap joins the bridge and before it goes up, so no
//! frame crosses the port under the wrong policy.

use super::{Action, Refusal};
use crate::config::Resolved;
use crate::netlink::{BridgeInfo, Link, PortFlags, VlanRange};

/// The port actions for a tap joining `bridge`, in the order they are sent.
pub(super) fn actions(bridge: &Link, settings: &Resolved) -> Result<Vec<Action>, Refusal> {
    let mut actions = Vec::new();
    let flags = PortFlags {
        isolated: settings.isolated.value,
        hairpin: settings.hairpin.value,
        learning: settings.learning.value,
        unicast_flood: settings.unicast_flood.value,
        multicast_flood: settings.multicast_flood.value,
        broadcast_flood: settings.broadcast_flood.value,
        cost: settings.cost.value,
        priority: settings.priority.value,
    };
    if !flags.is_empty() {
        actions.push(Action::SetPort(flags));
    }
    if !settings.uses_vlans() {
        return Ok(actions);
    }
    let default_pvid = vlan_ready(bridge)?;
    let vlans = |add, first, last, access| Action::Vlans {
        add,
        ranges: vec![VlanRange {
            first,
            last,
            pvid: access,
            untagged: access,
        }],
    };
    if let Some(pvid) = settings.pvid.value {
        // A new port starts in the bridge's default VLAN (1 unless changed);
        // an access port belongs to its own VLAN only.
        if default_pvid != 0 && default_pvid != pvid {
            actions.push(vlans(false, default_pvid, default_pvid, false));
        }
        actions.push(vlans(true, pvid, pvid, true));
    }
    if let Some(tagged) = &settings.tagged.value {
        let ranges = tagged
            .0
            .iter()
            .map(|&(first, last)| VlanRange {
                first,
                last,
                pvid: false,
                untagged: false,
            })
            .collect();
        actions.push(Action::Vlans { add: true, ranges });
    }
    Ok(actions)
}

/// The bridge's default PVID, if its VLAN filtering is usable. vnet never
/// turns filtering on for an existing bridge: that changes every other port.
pub(super) fn vlan_ready(bridge: &Link) -> Result<u16, Refusal> {
    let name = bridge.name.clone();
    match bridge.bridge {
        Some(BridgeInfo {
            default_pvid: None, ..
        })
        | None => Err(Refusal::NoVlanFiltering(name)),
        Some(BridgeInfo {
            vlan_filtering: false,
            ..
        }) => Err(Refusal::VlanFilteringOff(name)),
        Some(BridgeInfo {
            default_pvid: Some(pvid),
            ..
        }) => Ok(pvid),
    }
}
