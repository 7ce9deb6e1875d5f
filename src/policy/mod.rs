//! Decides what to do, from what the kernel reported and what the
//! configuration says. Pure functions: no syscalls happen here.

mod access;
mod action;
pub mod network;
mod port;

use crate::config::{Mac, Mtu, Resolved};
use crate::escape::Escaped;
use crate::netlink::{BridgeInfo, Link};
pub use access::{may_use, owns, Caller};
pub use action::Action;

/// Why an interface is not touched at all. Names are held as they are
/// and escaped when shown; `what` and `why` are our own sentences.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{} is a layer-3 tun device, not a tap: QEMU's tap netdev needs one made \
         with \"mode tap\"",
        Escaped(.0)
    )]
    Layer3Tun(String),
    #[error("{} is {what}, not a tap", Escaped(name))]
    NotATap { name: String, what: String },
    #[error(
        "bridge {name} does not exist: create it with \"ip link add {name} type bridge\" \
         and \"ip link set {name} up\", or set \"create-bridge = yes\"",
        name = Escaped(.0)
    )]
    NoBridge(String),
    #[error("{} is {what}, not a bridge", Escaped(name))]
    NotABridge { name: String, what: String },
    #[error(
        "{} is already attached to {}; leaving it there",
        Escaped(tap),
        Escaped(master)
    )]
    OtherMaster { tap: String, master: String },
    /// The bridge is named by the line this ends, so not here.
    #[error(
        "this kernel's bridges cannot filter VLANs (it was built without \
         CONFIG_BRIDGE_VLAN_FILTERING), so pvid and tagged cannot be applied: \
         remove them from this tap's configuration, or boot a kernel built with it"
    )]
    NoVlanFiltering(String),
    #[error(
        "bridge {name} has VLAN filtering off, so pvid and tagged cannot be applied: turn it on \
         with \"ip link set {name} type bridge vlan_filtering 1\" (vnet never changes it on an \
         existing bridge, since that changes every other port)",
        name = Escaped(.0)
    )]
    VlanFilteringOff(String),
    #[error("{caller} may not use bridge {}: {why}", Escaped(bridge))]
    AccessDenied {
        caller: Box<Caller>,
        bridge: String,
        why: String,
    },
    #[error(
        "{tap} does not belong to {caller}: {why}; create it for them with \
         \"ip tuntap add {tap} mode tap user {}\"",
        caller.account(),
        tap = Escaped(tap)
    )]
    NotYourTap {
        tap: String,
        caller: Box<Caller>,
        why: String,
    },
}

/// What `vnet-ifup` will do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachPlan {
    /// Starts with [`Action::CreateBridge`] when the bridge is to be made.
    pub actions: Vec<Action>,
    /// The tap is on this bridge already: only its port policy and IFF_UP
    /// are made sure of.
    pub already_attached: bool,
    pub bridge_down: bool,
}

/// Plans attaching `tap` to the bridge `settings` name, which is `bridge`
/// if it exists. A missing bridge is planned as `create-bridge` would
/// make it (up, MTU 1500, VLAN filtering if VLANs are configured), with
/// its creation as the first step: a run that is refused creates nothing.
/// `master` is the tap's current master when it has one other than `bridge`.
pub fn plan_attach(
    tap: &Link,
    bridge: Option<&Link>,
    master: Option<&Link>,
    settings: &Resolved,
) -> Result<AttachPlan, Refusal> {
    check_tap(tap)?;
    let (bridge, create) = plan_bridge(bridge, settings)?;
    let already_attached = create.is_none() && tap.master == Some(bridge.index);
    if let (Some(index), false) = (tap.master, already_attached) {
        return Err(Refusal::OtherMaster {
            tap: tap.name.clone(),
            master: master.map_or_else(
                || format!("the interface with index {index}"),
                |m| m.name.clone(),
            ),
        });
    }

    let mut actions: Vec<Action> = create.into_iter().collect();
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
        actions.push(Action::Attach);
    }
    // Isolation and VLANs are a security boundary: a tap already on its
    // bridge gets the configured port policy too (setting it again is
    // harmless), or the run fails saying why.
    actions.extend(port::actions(&bridge, settings)?);
    if !tap.up {
        actions.push(Action::SetUp(true));
    }
    Ok(AttachPlan {
        actions,
        already_attached,
        bridge_down: !bridge.up,
    })
}

/// The bridge a tap is to join: `bridge` if it exists and is one, or,
/// with `create-bridge = yes`, the one [`Action::CreateBridge`] makes.
/// `--check` asks this too when there is no tap yet.
pub fn plan_bridge(
    bridge: Option<&Link>,
    settings: &Resolved,
) -> Result<(Link, Option<Action>), Refusal> {
    let name = settings.bridge.value.as_str();
    let (bridge, create) = match bridge {
        Some(bridge) => (bridge.clone(), None),
        None if settings.create_bridge.value => {
            let vlan_filtering = settings.uses_vlans();
            let mac = bridge_mac(name);
            let create = Action::CreateBridge {
                vlan_filtering,
                mac,
            };
            (new_bridge(name, vlan_filtering, mac), Some(create))
        }
        None => return Err(Refusal::NoBridge(name.to_owned())),
    };
    if bridge.kind.as_deref() != Some("bridge") {
        return Err(Refusal::NotABridge {
            name: bridge.name.clone(),
            what: describe(&bridge),
        });
    }
    // Decided here, not only with the port's actions, so that --check
    // before QEMU made the tap refuses what the run would refuse.
    if settings.uses_vlans() {
        port::vlan_ready(&bridge)?;
    }
    Ok((bridge, create))
}

/// Refuses a bridge to be created with VLAN filtering on a kernel whose
/// bridges cannot filter VLANs (`filters`: `None` when that cannot be told
/// before a bridge exists; the creation then finds out). Asked by the run
/// and by `--check` alike, before anything is made.
pub fn check_new_bridge(filters: Option<bool>, settings: &Resolved) -> Result<(), Refusal> {
    match filters {
        Some(false) if settings.create_bridge.value && settings.uses_vlans() => {
            Err(Refusal::NoVlanFiltering(settings.bridge.value.to_string()))
        }
        _ => Ok(()),
    }
}

/// The bridge `create-bridge` makes, as the kernel will report it: up,
/// with the MTU a bridge without ports has, in VLAN 1 by default.
fn new_bridge(name: &str, vlan_filtering: bool, mac: [u8; 6]) -> Link {
    Link {
        index: 0,
        name: name.to_owned(),
        kind: Some("bridge".into()),
        tun: None,
        bridge: Some(BridgeInfo {
            vlan_filtering,
            default_pvid: Some(1),
        }),
        mtu: 1500,
        mac: Some(mac),
        master: None,
        up: true,
        loopback: false,
    }
}

/// The address of a bridge vnet creates: locally administered, unicast,
/// and the same for the same name every time (FNV-1a of the name). A
/// bridge whose address was never set takes the lowest of its ports'
/// (every tap is `fe:...`), so it would change as VMs come and go, and
/// neighbours' ARP caches and DHCP servers would see a new gateway MAC.
pub fn bridge_mac(name: &str) -> [u8; 6] {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let [a, b, c, d, e, ..] = hash.to_be_bytes();
    // 0x02: locally administered (bit 1), unicast (bit 0 clear).
    [0x02, a, b, c, d, e]
}

/// Plans detaching `tap`: free it from its master, then set it down.
pub fn plan_detach(tap: &Link) -> Result<Vec<Action>, Refusal> {
    check_tap(tap)?;
    let mut actions = Vec::new();
    if tap.master.is_some() {
        actions.push(Action::Detach);
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
        Some(kind) => format!("a {} device", Escaped(kind)),
        None if link.loopback => "the loopback device".into(),
        None => "a physical device".into(),
    }
}

#[cfg(test)]
mod tests;
