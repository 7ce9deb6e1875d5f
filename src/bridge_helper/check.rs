//! `vnet-ifup --check --br=BR`: whether this user may have QEMU's helper
//! put a tap on BR, and what would be done. Only RTM_GETLINK is sent; no
//! tap is made.

use std::fmt::Write;

use super::preflight::{self, fresh_tap};
use super::{pattern, settings, Args, HelperError};
use crate::check::{helper_lines, W};
use crate::env::Env;
use crate::policy::{Action, Caller};

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
    let plan = preflight::plan(bridge, &resolved)?;
    if plan.bridge_down {
        let _ = writeln!(out, "{:<W$}bridge {bridge} is down", "warning");
    }
    let vnet_hdr = if args.use_vnet {
        " with IFF_VNET_HDR"
    } else {
        ""
    };
    // A bridge the plan creates comes first, then the tap that joins it.
    let (create, rest): (Vec<&Action>, Vec<&Action>) = plan
        .actions
        .iter()
        .partition(|a| matches!(a, Action::CreateBridge { .. }));
    let describe = |action: &Action| match action {
        Action::SetMac { .. } => "setting the first octet of the tap's MAC address to fe".into(),
        other => other.describe("the tap", bridge.as_str()),
    };
    let mut steps: Vec<String> = create.into_iter().map(describe).collect();
    steps.push(format!("creating the tap{vnet_hdr}, owned by the caller"));
    steps.extend(rest.into_iter().map(describe));
    steps.push("sending its file descriptor to QEMU".into());
    for (n, step) in steps.iter().enumerate() {
        let label = if n == 0 { "plan" } else { "" };
        let _ = writeln!(out, "{label:<W$}{}. {step}", n + 1);
    }
    Ok(())
}
