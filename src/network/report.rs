//! `--check TAP` for a bridge with a `[network]` section: what exists
//! already, and what the first root vnet-ifup would make.

use std::fmt::Write;

use super::look::look;
use super::runtime::Runtime;
use super::NetError;
use crate::config::Network;
use crate::netlink::Netlink;

/// Writes the network's lines, labelled in a column `w` wide. A network
/// vnet would refuse ends in the same error a run would print.
pub fn report(
    net: &Network,
    runtime: &Runtime,
    helper: bool,
    w: usize,
    out: &mut String,
) -> Result<(), NetError> {
    let mut summary = format!(
        "[network {}] at line {}: forward {}, address {}",
        net.bridge, net.line, net.forward, net.ipv4
    );
    if let Some(v6) = net.ipv6 {
        let _ = write!(summary, " {v6}");
    }
    if let Some((first, last)) = net.dhcp {
        let _ = write!(summary, ", dhcp {first}-{last}, lease {} s", net.lease);
    }
    if net.ra {
        summary.push_str(", ipv6-ra yes");
    }
    let _ = writeln!(out, "{:<w$}{summary}", "network");
    let mut nl = Netlink::connect().map_err(NetError::netlink("opening a netlink socket"))?;
    let found = look(&mut nl, net, runtime, true)?;
    if let Some(refusal) = found.refusal(net, |i| format!("the interface with index {i}")) {
        return Err(refusal);
    }
    let missing = if helper {
        "missing (a privileged helper refuses)"
    } else {
        "to be made"
    };
    for item in found.items(net) {
        let state = if item.present { "exists" } else { missing };
        let _ = writeln!(out, "{:<w$}{:<10} {}", "", state, item.what);
    }
    Ok(())
}
