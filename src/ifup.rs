//! `vnet-ifup TAP`: put QEMU's tap, up, on the configured bridge.

use log::{info, warn};

use crate::apply::{self, Names};
use crate::cli::Env;
use crate::config::{Config, Resolved, Source};
use crate::error::{Error, Failure};
use crate::name::IfName;
use crate::netlink::{format_mac, Link, Netlink};
use crate::policy::{self, Action, AttachPlan, Caller, Refusal};
use nix::errno::Errno;

#[path = "ifup_network.rs"]
mod network;
pub use network::{network, network_down, network_up};

/// What ifup found and decided; `--check` prints it, `run` carries it out.
pub struct Attach {
    pub tap: Link,
    pub bridge: Link,
    pub plan: AttachPlan,
}

/// Looks the tap and the bridge up and plans the attachment. Changes
/// nothing, except that with `create` and `create-bridge = yes` a missing
/// bridge is made, once the tap has been found fit to join it. A
/// privileged helper's `caller` must own the tap.
pub fn prepare(
    nl: &mut Netlink,
    tap: &IfName,
    settings: &Resolved,
    create: bool,
    caller: Option<&Caller>,
) -> Result<Attach, Failure> {
    let bridge = &settings.bridge.value;
    let tap = find(nl, "tap", tap)?;
    policy::check_tap(&tap).map_err(Failure::Refused)?;
    if let Some(caller) = caller {
        policy::owns(&tap, caller).map_err(Failure::Refused)?;
    }
    let bridge = match find(nl, "bridge", bridge) {
        Err(Failure::Missing { .. }) if create && settings.create_bridge.value => {
            create_bridge(nl, bridge, settings.uses_vlans())?;
            find(nl, "bridge", bridge)?
        }
        other => other?,
    };
    let master = match tap.master {
        Some(index) if index != bridge.index => {
            nl.link_by_index(index).map_err(|err| Failure::Lookup {
                name: format!("the master of {}", tap.name),
                err,
            })?
        }
        _ => None,
    };
    let plan =
        policy::plan_attach(&tap, &bridge, master.as_ref(), settings).map_err(Failure::Refused)?;
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
            name: raw.to_string_lossy().into_owned(),
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
    Config::load(source).map_err(Error::Config)
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
        tap: link, plan, ..
    } = prepare(nl, tap, settings, true, caller).map_err(fail)?;
    if plan.bridge_down {
        warn!("bridge {bridge} is down: {tap} gets no traffic until it is up");
    }
    let names = Names {
        tap: tap.as_str(),
        bridge: bridge.as_str(),
    };
    apply::all_or_nothing(nl, link.index, &plan.actions, &names).map_err(fail)?;
    info!("{}", summary(&link, bridge, &plan));
    Ok(())
}

/// "attached vnet0 to br0: mtu 9000, mac fe:54:00:12:34:56".
fn summary(tap: &Link, bridge: &IfName, plan: &AttachPlan) -> String {
    if plan.already_attached {
        return format!("{} is already attached to {bridge}; it is up", tap.name);
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
    format!("attached {} to {bridge}: mtu {mtu}, mac {mac}", tap.name)
}

/// Makes the bridge, up. Another VM starting at the same moment may win
/// the race: EEXIST is fine, and the caller checks what exists is a bridge.
fn create_bridge(nl: &mut Netlink, name: &IfName, vlans: bool) -> Result<(), Failure> {
    match nl.create_bridge(name, vlans) {
        Ok(()) => {
            info!(
                "created bridge {name}{}",
                if vlans { " with VLAN filtering" } else { "" }
            );
            Ok(())
        }
        Err(e) if e.errno() == Some(Errno::EEXIST) => Ok(()),
        Err(e) if vlans && e.errno() == Some(Errno::EOPNOTSUPP) => {
            Err(Failure::Refused(Refusal::NoVlanFiltering(name.to_string())))
        }
        Err(err) => Err(Failure::step(format!("creating bridge {name}"), err, name)),
    }
}

/// Looks an interface up by name; a missing one is a failure.
pub(crate) fn find(nl: &mut Netlink, role: &'static str, name: &IfName) -> Result<Link, Failure> {
    match nl.link(name) {
        Ok(Some(link)) => Ok(link),
        Ok(None) => Err(Failure::Missing {
            role,
            name: name.to_string(),
        }),
        Err(err) => Err(Failure::Lookup {
            name: format!("{role} {name}"),
            err,
        }),
    }
}
