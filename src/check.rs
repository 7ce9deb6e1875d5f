//! `--check TAP`: print what would be done and why, and change nothing.
//!
//! Only lookups are sent: RTM_GETLINK, and for a bridge create-bridge is
//! to make with VLANs, the VLAN dump of `lo` (see `netlink::probe`). The
//! report goes to stdout; a plan that would fail ends with the same error
//! `vnet-ifup` would print.

use std::fmt::Write;

use crate::config::{Config, Resolved};
use crate::error::{Error, Failure};
use crate::escape::Escaped;
use crate::helper;
use crate::ifdown;
use crate::ifup::{self, Attach};
use crate::name::IfName;
use crate::netlink::Netlink;
use crate::network::{self, Runtime};
use crate::policy::{self, Action, Caller, Refusal};

/// The width of the label column: the longest key, "multicast-flood", and a space.
pub(crate) const W: usize = 16;

/// The report for `vnet-ifup --check TAP`.
pub fn ifup(
    tap: &IfName,
    config: &Config,
    settings: &Resolved,
    caller: Option<&Caller>,
    out: &mut String,
) -> Result<(), Error> {
    let bridge = &settings.bridge.value;
    let fail = |reason| Error::attach(tap, bridge, reason);
    let _ = writeln!(out, "{:<W$}{tap}", "tap");
    helper_lines(caller, out);
    let _ = write!(out, "{:<W$}{}", "config", Escaped(&config.source()));
    match config.matching_section(tap) {
        Some((glob, line)) => _ = writeln!(out, ", section [match {glob}] at line {line}"),
        None => _ = writeln!(out),
    }
    for (key, value, origin) in settings.rows() {
        let _ = writeln!(out, "{key:<W$}{value:<10} ({origin})");
    }
    let network = config.network(bridge);
    if let Some(net) = network {
        let runtime = Runtime::new(caller.is_some());
        network::report(net, &runtime, caller.is_some(), W, out).map_err(|err| {
            let bridge = bridge.to_string();
            fail(Failure::Network {
                bridge,
                err: Box::new(err),
            })
        })?;
    }
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    match ifup::prepare(&mut nl, tap, settings, caller) {
        Ok(Attach { plan, .. }) => {
            if plan.bridge_down {
                let _ = writeln!(out, "{:<W$}bridge {bridge} is down", "warning");
            }
            steps(out, &plan.actions, tap, bridge.as_str());
            Ok(())
        }
        // QEMU creates the tap just before it runs the script: say what
        // the bridge will be, as the policy decides it, and go on.
        Err(Failure::NoTap(_)) => {
            let found = ifup::find_bridge(&mut nl, settings).map_err(fail)?;
            let create = match (&found, network) {
                (None, Some(_)) => None,
                _ => {
                    policy::plan_bridge(found.as_ref(), settings)
                        .map_err(|r| fail(Failure::Refused(r)))?
                        .1
                }
            };
            let bridge_state = match create {
                _ if found.is_none() && network.is_some() => "will be created ([network])",
                Some(Action::CreateBridge {
                    vlan_filtering: true,
                    ..
                }) => "will be created (create-bridge = yes) with VLAN filtering",
                Some(_) => "will be created (create-bridge = yes)",
                None => "exists",
            };
            let _ = writeln!(
                out,
                "{:<W$}none yet: {tap} does not exist yet; bridge {bridge} {bridge_state}",
                "plan"
            );
            Ok(())
        }
        // The [network] set-up makes the bridge before the tap joins it.
        Err(Failure::Refused(Refusal::NoBridge(_))) if network.is_some() => {
            let _ = writeln!(
                out,
                "{:<W$}none yet: bridge {bridge} will be created ([network])",
                "plan"
            );
            Ok(())
        }
        Err(reason) => Err(fail(reason)),
    }
}

/// The report for `vnet-ifdown --check TAP`.
pub fn ifdown(tap: &IfName, caller: Option<&Caller>, out: &mut String) -> Result<(), Error> {
    let fail = |reason| Error::detach(tap, reason);
    let _ = writeln!(out, "{:<W$}{tap}", "tap");
    helper_lines(caller, out);
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    match ifdown::prepare(&mut nl, tap, caller).map_err(fail)? {
        Some((_, actions)) => steps(out, &actions, tap, "its bridge"),
        None => _ = writeln!(out, "{:<W$}nothing: {tap} does not exist", "plan"),
    }
    Ok(())
}

/// In privileged-helper mode: whom we serve, and what we kept.
pub(crate) fn helper_lines(caller: Option<&Caller>, out: &mut String) {
    let Some(caller) = caller else { return };
    let gids: Vec<String> = caller.gids.iter().map(u32::to_string).collect();
    let _ = writeln!(out, "{:<W$}{caller}, groups {}", "caller", gids.join(" "));
    let names: Vec<String> = match helper::capabilities() {
        Ok(caps) => (0..64)
            .filter(|bit| caps & (1 << bit) != 0)
            .map(|bit| match bit {
                12 => "cap_net_admin".to_owned(),
                n => format!("cap_{n}"),
            })
            .collect(),
        Err(e) => vec![format!("unknown ({e})")],
    };
    let _ = writeln!(
        out,
        "{:<W$}{} (all others dropped)",
        "capabilities",
        names.join(" ")
    );
}

fn steps(out: &mut String, actions: &[Action], tap: &IfName, bridge: &str) {
    if actions.is_empty() {
        let _ = writeln!(out, "{:<W$}nothing to change", "plan");
    }
    for (n, action) in actions.iter().enumerate() {
        let label = if n == 0 { "plan" } else { "" };
        let _ = writeln!(
            out,
            "{label:<W$}{}. {}",
            n + 1,
            action.describe(tap.as_str(), bridge)
        );
    }
}
