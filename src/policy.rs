//! Decides what to do, from what the kernel reported and what the
//! configuration says. Pure functions: no syscalls happen here.

use crate::config::{Mac, Mtu, Resolved};
use crate::netlink::{format_mac, Link};

/// One change to the tap, each sent as its own acknowledged request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    SetUp(bool),
}

impl Action {
    /// The action that puts back what this one changed.
    pub fn undo(self) -> Action {
        match self {
            Action::SetMtu { from, to } => Action::SetMtu { from: to, to: from },
            Action::SetMac { from, to } => Action::SetMac { from: to, to: from },
            Action::SetMaster { from, to } => Action::SetMaster { from: to, to: from },
            Action::SetUp(up) => Action::SetUp(!up),
        }
    }

    /// "setting the MTU of vnet0 to 9000", for messages and `--check`.
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
            Action::SetUp(true) => format!("setting {tap} up"),
            Action::SetUp(false) => format!("setting {tap} down"),
        }
    }
}

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

fn check_tap(link: &Link) -> Result<(), Refusal> {
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
#[path = "policy_tests.rs"]
mod tests;
