//! Tearing a network down: exactly what vnet's record says it made, and
//! vnet's own chains, every step tried even when one fails.

use nix::errno::Errno;

use super::look::chain_names;
use super::runtime::{remove, Made, Runtime};
use super::{dnsmasq, NetError};
use crate::name::IfName;
use crate::netlink::Netlink;

/// Removes what vnet made for `bridge`'s network and nothing else: its
/// dnsmasq, its chains (and the table once it is empty), the addresses
/// and the bridge its record names. Does every step it can.
pub fn teardown(bridge: &IfName, runtime: &Runtime) -> Result<Vec<String>, NetError> {
    let _lock = runtime
        .lock(bridge)
        .map_err(NetError::io(&format!("locking {}", runtime.dir.display())))?;
    let mut done = Vec::new();
    let mut errors = Vec::new();
    match dnsmasq::stop(runtime, bridge) {
        Ok(true) => done.push("stopped dnsmasq".to_owned()),
        Ok(false) => {}
        Err(e) => errors.push(e),
    }
    match Netlink::netfilter().map_err(NetError::nft("opening a netfilter socket")) {
        Ok(mut nft) => {
            let mut ours = Vec::new();
            for chain in chain_names(bridge.as_str()) {
                match nft.nft_chain_exists(&chain) {
                    Ok(true) => ours.push(chain),
                    Ok(false) => {}
                    Err(e) => errors.push(NetError::nft(format!("looking up chain {chain}"))(e)),
                }
            }
            if !ours.is_empty() {
                let names: Vec<&str> = ours.iter().map(String::as_str).collect();
                match nft.nft_delete_chains(&names) {
                    Ok(()) => done.push(format!("deleted chains {}", names.join(", "))),
                    Err(e) => errors.push(NetError::nft("deleting the chains")(e)),
                }
            }
            if let Err(e) = delete_empty_table(&mut nft) {
                errors.push(e);
            }
        }
        Err(NetError::NoNftables) => {}
        Err(e) => errors.push(e),
    }
    let state = runtime.file(bridge, "state");
    let made = Made::read(&state).map_err(NetError::io("reading vnet's record"))?;
    let mut nl = Netlink::connect().map_err(NetError::netlink("opening a netlink socket"))?;
    let link = nl
        .link(bridge)
        .map_err(NetError::netlink(format!("looking up {bridge}")))?;
    if let Some(link) = link.filter(|l| l.kind.as_deref() == Some("bridge")) {
        if made.bridge {
            match nl.delete_link(Some(link.index), bridge) {
                Ok(()) => done.push(format!("deleted bridge {bridge}")),
                Err(e) => errors.push(NetError::netlink(format!("deleting bridge {bridge}"))(e)),
            }
        } else {
            remove_addresses(&mut nl, link.index, &made, &mut done, &mut errors);
        }
    }
    for suffix in ["state", "dnsmasq.pid", "leases"] {
        if let Err(e) = remove(&runtime.file(bridge, suffix)) {
            errors.push(NetError::io("removing vnet's files")(e));
        }
    }
    match errors.len() {
        0 => Ok(done),
        1 => Err(errors.remove(0)),
        _ => Err(NetError::Several(errors)),
    }
}

fn remove_addresses(
    nl: &mut Netlink,
    index: u32,
    made: &Made,
    done: &mut Vec<String>,
    errors: &mut Vec<NetError>,
) {
    let present = match nl.addresses(Some(index)) {
        Ok(all) => all,
        Err(e) => return errors.push(NetError::netlink("listing the bridge's addresses")(e)),
    };
    for a in present {
        let text = format!("{}/{}", a.addr, a.prefix);
        if !made.addresses.contains(&text) {
            continue;
        }
        match nl.del_address(&a) {
            Ok(()) => done.push(format!("removed {text}")),
            Err(e) if e.errno() == Some(Errno::EADDRNOTAVAIL) => {}
            Err(e) => errors.push(NetError::netlink(format!("removing {text}"))(e)),
        }
    }
}

/// Deletes vnet's table once no network has chains in it.
pub(super) fn delete_empty_table(nft: &mut Netlink) -> Result<(), NetError> {
    match nft.nft_table_chains() {
        Ok(Some(0)) => nft
            .nft_delete_table()
            .map_err(NetError::nft("deleting table inet vnet")),
        Ok(_) => Ok(()),
        Err(e) => Err(NetError::nft("looking up table inet vnet")(e)),
    }
}
