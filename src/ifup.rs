//! `vnet-ifup TAP`: put QEMU's tap, up, on the configured bridge.

use log::{debug, info, warn};

use crate::apply::Transaction;
use crate::config::{Config, Resolved, Source};
use crate::env::Env;
use crate::error::{Error, Failure, Looked};
use crate::escape::Escaped;
use crate::helper;
use crate::name::IfName;
use crate::netlink::{format_mac, Link, Netlink};
use crate::policy::{self, Action, AttachPlan, Caller, Refusal};

#[path = "ifup_network.rs"]
mod network;
pub use network::{network, network_down, network_up};

/// What ifup found and decided; `--check` prints it, `run` carries it out.
pub struct Attach {
    pub tap: Link,
    /// `None` when it is missing and the plan creates it.
    pub bridge: Option<Link>,
    pub plan: AttachPlan,
}

/// Looks the tap and the bridge up and plans the attachment. Changes
/// nothing: creating a missing bridge is a step of the plan. A privileged
/// helper's `caller` must own the tap.
pub fn prepare(
    nl: &mut Netlink,
    tap: &IfName,
    settings: &Resolved,
    caller: Option<&Caller>,
) -> Result<Attach, Failure> {
    let tap = match lookup(nl, tap, Looked::Tap)? {
        Some(link) => link,
        None => return Err(Failure::NoTap(tap.as_str().to_owned())),
    };
    policy::check_tap(&tap).map_err(Failure::Refused)?;
    if let Some(caller) = caller {
        policy::owns(&tap, caller).map_err(Failure::Refused)?;
    }
    let bridge = find_bridge(nl, settings)?;
    let master = match (tap.master, &bridge) {
        (Some(index), Some(bridge)) if index == bridge.index => None,
        (Some(index), _) => nl.link_by_index(index).map_err(|err| Failure::Lookup {
            what: Looked::MasterOf(tap.name.clone()),
            err,
        })?,
        (None, _) => None,
    };
    let plan = policy::plan_attach(&tap, bridge.as_ref(), master.as_ref(), settings)
        .map_err(Failure::Refused)?;
    Ok(Attach { tap, bridge, plan })
}

/// Loads the configuration and resolves it for `tap`. A privileged
/// helper reads only root's /etc/vnet/vnet.conf, never `VNET_CONFIG`, and
/// its caller must be allowed the bridge, wherever its name came from.
pub fn settings(
    tap: &IfName,
    env: &Env,
    caller: Option<&Caller>,
) -> Result<(Config, Resolved), Error> {
    let config = load(env, caller)?;
    let bridge = match &env.bridge {
        Some(raw) => Some(IfName::from_os(raw).map_err(|reason| Error::Name {
            what: "VNET_BRIDGE bridge",
            name: raw.clone(),
            reason,
        })?),
        None => None,
    };
    let resolved = config.resolve(tap, bridge).map_err(Error::Config)?;
    if let Some(caller) = caller {
        let bridge = &resolved.bridge.value;
        policy::may_use(
            config.access_rules(),
            &config.source(),
            bridge.as_str(),
            caller,
        )
        .map_err(|r| Error::attach(tap, bridge, Failure::Refused(r)))?;
    }
    Ok((config, resolved))
}

/// Loads the configuration: root's own file for a privileged helper.
pub(crate) fn load(env: &Env, caller: Option<&Caller>) -> Result<Config, Error> {
    let source = match (caller, &env.config) {
        (Some(_), config) => {
            if config.is_some() {
                warn!("VNET_CONFIG is ignored: vnet runs as a privileged helper");
            }
            Source::Trusted
        }
        (None, Some(path)) => Source::Named(path),
        (None, None) => Source::Default,
    };
    let config = Config::load(source).map_err(Error::Config)?;
    config
        .check_accounts(helper::account_exists)
        .map_err(Error::Config)?;
    Ok(config)
}

/// Attaches `tap` as `settings` say, undoing this run's changes if a step fails.
pub fn run(tap: &IfName, settings: &Resolved, caller: Option<&Caller>) -> Result<(), Error> {
    let bridge = &settings.bridge.value;
    let mut nl = Netlink::connect().map_err(|e| Error::attach(tap, bridge, Failure::Socket(e)))?;
    run_with(&mut nl, tap, settings, caller)
}

/// [`run`] on a socket already open (the one a `[network]` check used).
pub fn run_with(
    nl: &mut Netlink,
    tap: &IfName,
    settings: &Resolved,
    caller: Option<&Caller>,
) -> Result<(), Error> {
    let bridge = &settings.bridge.value;
    let fail = |reason| Error::attach(tap, bridge, reason);
    let Attach {
        tap: link,
        bridge: found,
        mut plan,
    } = prepare(nl, tap, settings, caller).map_err(fail)?;
    if plan.bridge_down {
        warn!("bridge {bridge} is down: {tap} gets no traffic until it is up");
    }
    let mut tx = Transaction::new(tap, bridge, link.index, found.map(|b| b.index));
    if let Some(create @ Action::CreateBridge { vlan_filtering, .. }) = plan.actions.first() {
        tx.apply(nl, std::slice::from_ref(create)).map_err(fail)?;
        match (tx.created_bridge(), vlan_filtering) {
            (true, true) => info!("created bridge {bridge} with VLAN filtering"),
            (true, false) => info!("created bridge {bridge}"),
            (false, _) => info!("bridge {bridge} was created by another run meanwhile"),
        }
        // The bridge exists now: ours, or another VM's that won the race.
        // The rest is planned again against it as the kernel reports it.
        plan = match replan(nl, &link, settings) {
            Ok((index, plan)) => {
                tx.set_bridge(index);
                plan
            }
            Err(failure) => return Err(fail(tx.abandon(nl, failure))),
        };
    }
    tx.apply(nl, &plan.actions).map_err(fail)?;
    info!("{}", summary(&link, bridge, &plan));
    Ok(())
}

/// The plan for the bridge that now exists, and the bridge's index.
fn replan(nl: &mut Netlink, tap: &Link, settings: &Resolved) -> Result<(u32, AttachPlan), Failure> {
    let name = &settings.bridge.value;
    // Gone again already: planned as missing, it would be created twice.
    let Some(bridge) = lookup(nl, name, Looked::Bridge)? else {
        return Err(Failure::Refused(Refusal::NoBridge(
            name.as_str().to_owned(),
        )));
    };
    let plan = policy::plan_attach(tap, Some(&bridge), None, settings).map_err(Failure::Refused)?;
    Ok((bridge.index, plan))
}

/// "attached vnet0 to br0: mtu 9000, mac fe:54:00:12:34:56".
fn summary(tap: &Link, bridge: &IfName, plan: &AttachPlan) -> String {
    if plan.already_attached {
        return format!(
            "{} is already attached to {bridge}; it is up",
            Escaped(&tap.name)
        );
    }
    let mut mtu = tap.mtu;
    let mut mac = tap.mac;
    for action in &plan.actions {
        match *action {
            Action::SetMtu { to, .. } => mtu = to,
            Action::SetMac { to, .. } => mac = Some(to),
            _ => {}
        }
    }
    let mac = mac.map_or_else(|| "none".into(), |m| format_mac(&m));
    format!(
        "attached {} to {bridge}: mtu {mtu}, mac {mac}",
        Escaped(&tap.name)
    )
}

/// Looks the bridge up; `None` if there is none. One that `create-bridge`
/// is to make with VLAN filtering is refused here, before anything is
/// made, if this kernel's bridges cannot filter VLANs.
pub(crate) fn find_bridge(nl: &mut Netlink, settings: &Resolved) -> Result<Option<Link>, Failure> {
    let bridge = lookup(nl, &settings.bridge.value, Looked::Bridge)?;
    if bridge.is_none() && settings.create_bridge.value && settings.uses_vlans() {
        // Not knowing is no reason to refuse: the creation will tell.
        let filters = nl.bridges_filter_vlans().unwrap_or_else(|e| {
            debug!("cannot tell whether bridges filter VLANs here: {e}");
            None
        });
        policy::check_new_bridge(filters, settings).map_err(Failure::Refused)?;
    }
    Ok(bridge)
}

/// Looks an interface up by name; `None` if there is none.
pub(crate) fn lookup(
    nl: &mut Netlink,
    name: &IfName,
    what: fn(String) -> Looked,
) -> Result<Option<Link>, Failure> {
    nl.link(name).map_err(|err| Failure::Lookup {
        what: what(name.as_str().to_owned()),
        err,
    })
}
