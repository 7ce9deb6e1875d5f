//! `vnet-ifup --check --br=BR`: whether this user may have QEMU's helper
//! put a tap on BR, and what would be done. Only RTM_GETLINK is sent; no
//! tap is made.

use std::fmt::Write;

use nix::unistd::{getgid, getuid};

use super::{pattern, settings, Args, HelperError};
use crate::check::{helper_lines, W};
use crate::cli::Env;
use crate::error::{Error, Failure};
use crate::ifup;
use crate::netlink::{Link, Netlink, Tun};
use crate::policy::{self, Action, Caller};

/// What a fresh tap looks like to the policy: the tun driver makes it
/// down, with MTU 1500 and a random locally administered MAC address.
fn fresh_tap() -> Link {
    Link {
        index: 0,
        name: pattern().to_string(),
        kind: Some("tun".into()),
        tun: Some(Tun {
            tap: true,
            owner: Some(getuid().as_raw()),
            group: Some(getgid().as_raw()),
        }),
        bridge: None,
        mtu: 1500,
        mac: Some([0x02, 0, 0, 0, 0, 0]),
        master: None,
        up: false,
        loopback: false,
    }
}

/// The report; a refusal ends it with the error the real run would print.
pub fn report(
    args: &Args,
    env: &Env,
    caller: Option<&Caller>,
    out: &mut String,
) -> Result<(), HelperError> {
    let bridge = &args.bridge;
    let tap = fresh_tap();
    let owner = tap.tun.as_ref().and_then(|t| t.owner.zip(t.group));
    let (uid, gid) = owner.unwrap_or_default();
    let _ = writeln!(
        out,
        "{:<W$}{} (new, named by the kernel; owner uid {uid}, group {gid}; \
         deleted when QEMU closes it)",
        "tap", tap.name
    );
    helper_lines(caller, out);
    let (config, resolved) = settings(bridge, env, caller)?;
    if caller.is_some() {
        let _ = writeln!(out, "{:<W$}allowed to use bridge {bridge}", "access");
    }
    let _ = write!(out, "{:<W$}{}", "config", config.source());
    match config.matching_section(&pattern()) {
        Some((glob, line)) => _ = writeln!(out, ", section [match {glob}] at line {line}"),
        None => _ = writeln!(out),
    }
    for (key, value, origin) in resolved.rows() {
        let _ = writeln!(out, "{key:<W$}{value:<10} ({origin})");
    }
    let fail = |reason| HelperError::Vnet(Error::attach(&tap.name, bridge, reason));
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    let found = match ifup::find(&mut nl, "bridge", bridge) {
        Err(Failure::Missing { .. }) if resolved.create_bridge.value => None,
        other => Some(other.map_err(fail)?),
    };
    let Some(found) = found else {
        let _ = writeln!(
            out,
            "{:<W$}none yet: bridge {bridge} will be created (create-bridge = yes)",
            "plan"
        );
        return Ok(());
    };
    let plan = policy::plan_attach(&tap, &found, None, &resolved)
        .map_err(|r| fail(Failure::Refused(r)))?;
    if plan.bridge_down {
        let _ = writeln!(out, "{:<W$}bridge {bridge} is down", "warning");
    }
    let vnet_hdr = if args.use_vnet {
        " with IFF_VNET_HDR"
    } else {
        ""
    };
    let mut steps = vec![format!("creating the tap{vnet_hdr}, owned by the caller")];
    steps.extend(plan.actions.iter().map(|action| match action {
        Action::SetMac { .. } => "setting the first octet of the tap's MAC address to fe".into(),
        other => other.describe("the tap", bridge.as_str()),
    }));
    steps.push("sending its file descriptor to QEMU".into());
    for (n, step) in steps.iter().enumerate() {
        let label = if n == 0 { "plan" } else { "" };
        let _ = writeln!(out, "{label:<W$}{}. {step}", n + 1);
    }
    Ok(())
}
