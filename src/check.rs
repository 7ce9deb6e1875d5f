//! `--check TAP`: print what would be done and why, and change nothing.
//!
//! Only RTM_GETLINK requests are sent. The report goes to stdout; a plan
//! that would fail ends with the same error `vnet-ifup` would print.

use std::fmt::Write;

use crate::config::{Config, Resolved};
use crate::error::{Error, Failure};
use crate::ifdown;
use crate::ifup::{self, Attach};
use crate::name::IfName;
use crate::netlink::Netlink;
use crate::policy::Action;

/// The report for `vnet-ifup --check TAP`.
pub fn ifup(
    tap: &IfName,
    config: &Config,
    settings: &Resolved,
    out: &mut String,
) -> Result<(), Error> {
    let bridge = &settings.bridge.value;
    let fail = |reason| Error::attach(tap, bridge, reason);
    let _ = writeln!(out, "tap       {tap}");
    let _ = write!(out, "config    {}", config.source());
    match config.matching_section(tap) {
        Some((glob, line)) => _ = writeln!(out, ", section [match {glob}] at line {line}"),
        None => _ = writeln!(out),
    }
    for (key, value, origin) in settings.rows() {
        let _ = writeln!(out, "{key:<9} {value:<10} ({origin})");
    }
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    match ifup::prepare(&mut nl, tap, settings) {
        Ok(Attach { plan, .. }) => {
            if plan.bridge_down {
                let _ = writeln!(out, "warning   bridge {bridge} is down");
            }
            steps(out, &plan.actions, tap, bridge.as_str());
            Ok(())
        }
        // QEMU creates the tap just before it runs the script.
        Err(Failure::Missing { role: "tap", .. }) => {
            ifup::find(&mut nl, "bridge", bridge).map_err(fail)?;
            let _ = writeln!(
                out,
                "plan      none yet: {tap} does not exist; bridge {bridge} does"
            );
            Ok(())
        }
        Err(reason) => Err(fail(reason)),
    }
}

/// The report for `vnet-ifdown --check TAP`.
pub fn ifdown(tap: &IfName, out: &mut String) -> Result<(), Error> {
    let fail = |reason| Error::detach(tap, reason);
    let _ = writeln!(out, "tap       {tap}");
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    match ifdown::prepare(&mut nl, tap).map_err(fail)? {
        Some((_, actions)) => steps(out, &actions, tap, "its bridge"),
        None => _ = writeln!(out, "plan      nothing: {tap} does not exist"),
    }
    Ok(())
}

fn steps(out: &mut String, actions: &[Action], tap: &IfName, bridge: &str) {
    if actions.is_empty() {
        let _ = writeln!(out, "plan      nothing to change");
    }
    for (n, action) in actions.iter().enumerate() {
        let label = if n == 0 { "plan" } else { "" };
        let _ = writeln!(
            out,
            "{label:<9} {}. {}",
            n + 1,
            action.describe(tap.as_str(), bridge)
        );
    }
}
