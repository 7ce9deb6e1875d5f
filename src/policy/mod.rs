//! Decides what to do, from what the kernel reported and what the
//! configuration says. Pure functions: no syscalls happen here.

mod access;
mod action;
pub mod network;
mod port;

use crate::config::{Mac, Mtu, Resolved};
use crate::netlink::Link;
pub use access::{may_use, owns, Caller};
pub use action::Action;

/// Why an interface is not touched at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{0} is a layer-3 tun device, not a tap: QEMU's tap netdev needs one made \
         with \"mode tap\""
    )]
    Layer3Tun(String),
    #[error("{name} is {what}, not a tap")]
    NotATap { name: String, what: String },
    #[error("{name} is {what}, not a bridge")]
    NotABridge { name: String, what: String },
    #[error("{tap} is already attached to {master}; leaving it there")]
    OtherMaster { tap: String, master: String },
    #[error(
        "bridge {0}: this kernel's bridge has no VLAN filtering \
         (CONFIG_BRIDGE_VLAN_FILTERING), so pvid and tagged cannot be applied"
    )]
    NoVlanFiltering(String),
    #[error(
        "bridge {0} has VLAN filtering off, so pvid and tagged cannot be applied: turn it on \
         with \"ip link set {0} type bridge vlan_filtering 1\" (vnet never changes it on an \
         existing bridge, since that changes every other port)"
    )]
    VlanFilteringOff(String),
    #[error("{caller} may not use bridge {bridge}: {why}")]
    AccessDenied {
        caller: String,
        bridge: String,
        why: String,
    },
    #[error(
        "{tap} does not belong to {caller}: {why}; create it for them with \
         \"ip tuntap add {tap} mode tap user {fix}\""
    )]
    NotYourTap {
        tap: String,
        caller: String,
        why: String,
        fix: String,
    },
}

/// What `vnet-ifup` will do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachPlan {
    pub actions: Vec<Action>,
    /// The tap is on this bridge already: only making sure it is up.
    pub already_attached: bool,
    pub bridge_down: bool,
}

/// Plans attaching `tap` to `bridge`. `master` is the tap's current master
/// when it has one other than `bridge`.
pub fn plan_attach(
    tap: &Link,
    bridge: &Link,
    master: Option<&Link>,
    settings: &Resolved,
) -> Result<AttachPlan, Refusal> {
    check_tap(tap)?;
    if bridge.kind.as_deref() != Some("bridge") {
        return Err(Refusal::NotABridge {
            name: bridge.name.clone(),
            what: describe(bridge),
        });
    }
    let already_attached = tap.master == Some(bridge.index);
    if let (Some(index), false) = (tap.master, already_attached) {
        return Err(Refusal::OtherMaster {
            tap: tap.name.clone(),
            master: master.map_or_else(
                || format!("the interface with index {index}"),
                |m| m.name.clone(),
            ),
        });
    }

    let mut actions = Vec::new();
    if !already_attached {
        let mtu = match settings.mtu.value {
            Mtu::Bridge => Some(bridge.mtu),
            Mtu::Keep => None,
            Mtu::Fixed(n) => Some(n),
        };
        if let Some(to) = mtu.filter(|&to| to != tap.mtu) {
            actions.push(Action::SetMtu { from: tap.mtu, to });
        }
        if let (Mac::High, Some(from)) = (settings.mac.value, tap.mac) {
            if from[0] != 0xfe {
                let mut to = from;
                to[0] = 0xfe;
                actions.push(Action::SetMac { from, to });
            }
        }
        actions.push(Action::SetMaster {
            from: 0,
            to: bridge.index,
        });
        actions.extend(port::actions(bridge, settings)?);
    }
    if !tap.up {
        actions.push(Action::SetUp(true));
    }
    Ok(AttachPlan {
        actions,
        already_attached,
        bridge_down: !bridge.up,
    })
}

/// Plans detaching `tap`: free it from its master, then set it down.
pub fn plan_detach(tap: &Link) -> Result<Vec<Action>, Refusal> {
    check_tap(tap)?;
    let mut actions = Vec::new();
    if let Some(master) = tap.master {
        actions.push(Action::SetMaster {
            from: master,
            to: 0,
        });
    }
    if tap.up {
        actions.push(Action::SetUp(false));
    }
    Ok(actions)
}

/// Refuses anything but a tap: a NIC, a veth, `lo`, a bridge, a layer-3 tun.
pub fn check_tap(link: &Link) -> Result<(), Refusal> {
    match &link.tun {
        Some(tun) if tun.tap => Ok(()),
        Some(_) => Err(Refusal::Layer3Tun(link.name.clone())),
        None => Err(Refusal::NotATap {
            name: link.name.clone(),
            what: describe(link),
        }),
    }
}

/// "a veth device", "the loopback device", "a physical device"...
fn describe(link: &Link) -> String {
    match link.kind.as_deref() {
        Some("bridge") => "a bridge".into(),
        Some("tun") if link.tun.as_ref().is_some_and(|t| t.tap) => "a tap".into(),
        Some("tun") => "a layer-3 tun device".into(),
        Some(kind) => format!("a {kind} device"),
        None if link.loopback => "the loopback device".into(),
        None => "a physical device".into(),
    }
}

#[cfg(test)]
mod tests;
