//! Making a network whole (root only, under its lock), and checking it
//! (what a privileged helper may do).

use std::fs;

use log::info;

use super::look::{look, Found, IPV4_FORWARD, IPV6_FORWARD};
use super::runtime::{Made, Runtime};
use super::teardown::delete_empty_table;
use super::{dnsmasq, NetError};
use crate::config::{Forward, Network};
use crate::netlink::{Address, Netlink, TABLE};
use crate::policy::network::rules;

/// A change this run made, and how to take it back.
enum Undo {
    /// The bridge this run created, found again by name.
    Bridge,
    Down(u32),
    Address(Address),
    Chains(Vec<String>),
    Dnsmasq,
}

/// Makes sure `net` is whole: looks first, and makes only what is missing,
/// under the network's lock so VMs starting together make it once. If a
/// step fails, this run's changes are undone. Returns what was made.
pub fn ensure(nl: &mut Netlink, net: &Network, runtime: &Runtime) -> Result<Vec<String>, NetError> {
    let bridge = &net.bridge;
    if whole(nl, net, runtime)? {
        return Ok(Vec::new());
    }
    let _lock = runtime
        .lock(bridge)
        .map_err(NetError::io(&format!("locking {}", runtime.dir.display())))?;
    let found = look(nl, net, runtime, true)?;
    if let Some(refusal) = found.refusal(net, |i| name_of(nl, i)) {
        return Err(refusal);
    }
    let items = found.items(net);
    if items.iter().all(|i| i.present) {
        return Ok(Vec::new());
    }
    // Refuse before changing anything if dnsmasq is needed and missing.
    let binary = match (net.needs_dnsmasq(), found.dnsmasq) {
        (true, None) => Some(dnsmasq::find()?),
        _ => None,
    };
    let state = runtime.file(bridge, "state");
    let mut made = Made::read(&state).map_err(NetError::io("reading vnet's record"))?;
    let mut undo = Vec::new();
    // The record is part of the change: without it, a tear-down could not
    // know what to remove.
    let result = make(nl, net, runtime, &found, binary, &mut made, &mut undo).and_then(|()| {
        made.write(&state)
            .map_err(NetError::io("writing vnet's record"))
    });
    if let Err(first) = result {
        let failures = undo
            .into_iter()
            .rev()
            .filter_map(|u| take_back(nl, net, runtime, u).err())
            .map(|e| e.to_string())
            .collect();
        return Err(NetError::Undone {
            first: Box::new(first),
            undo_failures: failures,
        });
    }
    let done: Vec<String> = items
        .into_iter()
        .filter(|i| !i.present)
        .map(|i| i.what)
        .collect();
    info!("network {bridge}: made {}", done.join(", "));
    Ok(done)
}

/// Whether `net` is whole and fit, found with lookups only: the common
/// case (every VM after the first), settled without the lock, since
/// looking changes nothing.
pub fn whole(nl: &mut Netlink, net: &Network, runtime: &Runtime) -> Result<bool, NetError> {
    let quick = look(nl, net, runtime, false)?;
    Ok(quick.refusal(net, |i| name_of(nl, i)).is_none()
        && quick.items(net).iter().all(|i| i.present))
}

fn make(
    nl: &mut Netlink,
    net: &Network,
    runtime: &Runtime,
    found: &Found,
    dnsmasq_binary: Option<std::path::PathBuf>,
    made: &mut Made,
    undo: &mut Vec<Undo>,
) -> Result<(), NetError> {
    let name = &net.bridge;
    let index = match &found.bridge {
        Some(link) => {
            if !link.up {
                nl.set_up(link.index, true)
                    .map_err(NetError::netlink(format!("setting {name} up")))?;
                undo.push(Undo::Down(link.index));
            }
            link.index
        }
        None => {
            nl.create_bridge(name, false, crate::policy::bridge_mac(name.as_str()))
                .map_err(NetError::netlink(format!("creating bridge {name}")))?;
            undo.push(Undo::Bridge);
            made.bridge = true;
            let step = format!("looking up the new bridge {name}");
            match nl.link(name) {
                Ok(Some(link)) => link.index,
                Ok(None) => {
                    return Err(NetError::Io {
                        step,
                        err: std::io::ErrorKind::NotFound.into(),
                    })
                }
                Err(e) => return Err(NetError::netlink(step)(e)),
            }
        }
    };
    let own: Vec<_> = found.own().collect();
    for cidr in std::iter::once(net.ipv4).chain(net.ipv6) {
        if own.contains(&cidr) {
            continue;
        }
        let address = Address {
            index,
            addr: cidr.addr,
            prefix: cidr.prefix,
        };
        nl.add_address(&address)
            .map_err(NetError::netlink(format!("adding {cidr} to {name}")))?;
        undo.push(Undo::Address(address));
        made.addresses.push(cidr.to_string());
    }
    if found.chains.iter().any(|(_, exists)| !exists) {
        let mut nft = Netlink::netfilter().map_err(NetError::nft("opening a netfilter socket"))?;
        let stale: Vec<&str> = found
            .chains
            .iter()
            .filter(|c| c.1)
            .map(|c| c.0.as_str())
            .collect();
        if !stale.is_empty() {
            nft.nft_delete_chains(&stale)
                .map_err(NetError::nft("replacing a partial rule set"))?;
        }
        let (chains, rules) = rules(net);
        nft.nft_add(&chains, &rules).map_err(NetError::nft(format!(
            "adding {name}'s rules to table inet {TABLE}"
        )))?;
        undo.push(Undo::Chains(chains.into_iter().map(|c| c.name).collect()));
    }
    if let Some(binary) = dnsmasq_binary {
        dnsmasq::start(&binary, net, runtime)?;
        undo.push(Undo::Dnsmasq);
    }
    // Last, since it is never undone (libvirt never resets it either):
    // other networks and the administrator may rely on it by now.
    if net.forward != Forward::None {
        if !found.ipv4_forward {
            write_switch(IPV4_FORWARD)?;
        }
        if net.ipv6.is_some() && !found.ipv6_forward {
            write_switch(IPV6_FORWARD)?;
        }
    }
    Ok(())
}

fn write_switch(path: &str) -> Result<(), NetError> {
    fs::write(path, "1").map_err(NetError::io(&format!("writing 1 to {path}")))
}

fn take_back(
    nl: &mut Netlink,
    net: &Network,
    runtime: &Runtime,
    undo: Undo,
) -> Result<(), NetError> {
    match undo {
        Undo::Bridge => {
            let step = format!("deleting bridge {}", net.bridge);
            match nl.link(&net.bridge) {
                Ok(Some(link)) => nl
                    .delete_link(Some(link.index), &net.bridge)
                    .map_err(NetError::netlink(step)),
                Ok(None) => Ok(()),
                Err(e) => Err(NetError::netlink(step)(e)),
            }
        }
        Undo::Down(index) => nl
            .set_up(index, false)
            .map_err(NetError::netlink(format!("setting {} down", net.bridge))),
        Undo::Address(a) => nl.del_address(&a).map_err(NetError::netlink(format!(
            "removing {}/{}",
            a.addr, a.prefix
        ))),
        Undo::Chains(chains) => {
            let mut nft =
                Netlink::netfilter().map_err(NetError::nft("opening a netfilter socket"))?;
            let names: Vec<&str> = chains.iter().map(String::as_str).collect();
            nft.nft_delete_chains(&names)
                .map_err(NetError::nft("deleting the chains"))?;
            delete_empty_table(&mut nft)
        }
        Undo::Dnsmasq => dnsmasq::stop(runtime, &net.bridge).map(|_| ()),
    }
}

/// A privileged helper's check: the network must be whole already.
pub fn verify(nl: &mut Netlink, net: &Network, runtime: &Runtime) -> Result<(), NetError> {
    let found = look(nl, net, runtime, false)?;
    let missing: Vec<String> = found
        .items(net)
        .into_iter()
        .filter(|i| !i.present)
        .map(|i| i.what)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(NetError::NotSetUp {
        bridge: net.bridge.to_string(),
        missing: format!("missing: {}", missing.join(", ")),
    })
}

fn name_of(nl: &mut Netlink, index: u32) -> String {
    match nl.link_by_index(index) {
        Ok(Some(link)) => link.name,
        _ => format!("the interface with index {index}"),
    }
}
