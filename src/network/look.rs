//! What exists of a network, found with lookups only, and what is missing.
//! `--check`, a privileged helper's verdict and the setup all start here.

use std::net::IpAddr;

use nix::errno::Errno;

use super::runtime::Runtime;
use super::{dnsmasq, NetError};
use crate::config::{Cidr, Forward, Network};
use crate::netlink::{Address, Brief, Netlink};
use crate::policy::network::{chains as chain_list, forward_chain, nat_chain};

pub const IPV4_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
pub const IPV6_FORWARD: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

/// What exists now.
#[derive(Debug)]
pub struct Found {
    pub bridge: Option<Brief>,
    /// Every address of every interface.
    pub addresses: Vec<Address>,
    /// The chains `net` needs, each with whether it exists.
    pub chains: Vec<(String, bool)>,
    pub dnsmasq: Option<i32>,
    pub ipv4_forward: bool,
    pub ipv6_forward: bool,
}

/// One part of a network, present or not, in words for `--check`.
#[derive(Debug, PartialEq, Eq)]
pub struct Item {
    pub what: String,
    pub present: bool,
}

/// Looks everything up; changes nothing. With `every_address`, the
/// addresses of every interface (to find a clash, before making
/// something), else the bridge's only: a network already whole costs an
/// attach a few lookups, not a dump of the host.
pub fn look(
    nl: &mut Netlink,
    net: &Network,
    runtime: &Runtime,
    every_address: bool,
) -> Result<Found, NetError> {
    let bridge = nl.brief(&net.bridge).map_err(NetError::netlink(format!(
        "looking up bridge {}",
        net.bridge
    )))?;
    let addresses = match (&bridge, every_address) {
        (_, true) => nl.addresses(None),
        (Some(link), false) => nl.addresses(Some(link.index)),
        (None, false) => Ok(Vec::new()),
    }
    .map_err(NetError::netlink("listing addresses"))?;
    let wanted = chain_list(net);
    let mut chains = Vec::new();
    if !wanted.is_empty() {
        let mut nft =
            Netlink::netfilter_lookups().map_err(NetError::nft("opening a netfilter socket"))?;
        for chain in wanted {
            let exists = nft.nft_chain_exists(&chain).map_err(|e| match e.errno() {
                // A kernel without nf_tables answers a lookup with EINVAL.
                Some(Errno::EINVAL) => NetError::NoNftables,
                _ => NetError::nft(format!("looking up chain {chain}"))(e),
            })?;
            chains.push((chain, exists));
        }
    }
    let switch = |path: &str| {
        dnsmasq::read_small(std::path::Path::new(path)).is_some_and(|v| v.trim_ascii() == b"1")
    };
    let routed = net.forward != Forward::None;
    Ok(Found {
        bridge,
        addresses,
        chains,
        dnsmasq: dnsmasq::running(runtime, &net.bridge),
        ipv4_forward: routed && switch(IPV4_FORWARD),
        ipv6_forward: routed && net.ipv6.is_some() && switch(IPV6_FORWARD),
    })
}

impl Found {
    /// The bridge's own addresses.
    pub fn own(&self) -> impl Iterator<Item = Cidr> + '_ {
        let index = self.bridge.as_ref().map(|b| b.index);
        self.addresses
            .iter()
            .filter(move |a| Some(a.index) == index)
            .map(|a| Cidr {
                addr: a.addr,
                prefix: a.prefix,
            })
    }

    /// Refuses what vnet must never change: a non-bridge by that name,
    /// another address on the bridge, our subnet on another interface.
    pub fn refusal(&self, net: &Network, mut names: impl FnMut(u32) -> String) -> Option<NetError> {
        let bridge = net.bridge.to_string();
        if let Some(link) = &self.bridge {
            if link.kind.as_deref() != Some("bridge") {
                let what = match &link.kind {
                    Some(kind) => format!("a {kind} device"),
                    None => "a device without a kind".into(),
                };
                return Some(NetError::NotABridge { name: bridge, what });
            }
        }
        let ours: Vec<Cidr> = std::iter::once(net.ipv4).chain(net.ipv6).collect();
        for theirs in self.own() {
            let link_local =
                matches!(theirs.addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80);
            let same_family = ours
                .iter()
                .any(|o| o.addr.is_ipv4() == theirs.addr.is_ipv4());
            if !link_local && same_family && !ours.contains(&theirs) {
                let theirs = theirs.to_string();
                return Some(NetError::OtherAddress { bridge, theirs });
            }
        }
        let index = self.bridge.as_ref().map(|b| b.index);
        for a in self.addresses.iter().filter(|a| Some(a.index) != index) {
            let theirs = Cidr {
                addr: a.addr,
                prefix: a.prefix,
            };
            if let Some(o) = ours.iter().find(|o| o.overlaps(&theirs)) {
                return Some(NetError::Clash {
                    bridge,
                    ours: o.to_string(),
                    theirs: theirs.to_string(),
                    iface: names(a.index).escape_debug().to_string(),
                });
            }
        }
        None
    }

    /// Every part of the network, in the order setup makes them.
    pub fn items(&self, net: &Network) -> Vec<Item> {
        let item = |what: String, present: bool| Item { what, present };
        let own: Vec<Cidr> = self.own().collect();
        let mut items = vec![item(
            format!("bridge {}, up", net.bridge),
            self.bridge.as_ref().is_some_and(|b| b.up),
        )];
        for cidr in std::iter::once(net.ipv4).chain(net.ipv6) {
            items.push(item(format!("address {cidr}"), own.contains(&cidr)));
        }
        if !self.chains.is_empty() {
            let names: Vec<&str> = self.chains.iter().map(|(n, _)| n.as_str()).collect();
            let all = self.chains.iter().all(|(_, e)| *e);
            let what = format!("nftables chains {} in table inet vnet", names.join(", "));
            items.push(item(what, all));
        }
        if net.needs_dnsmasq() {
            let what = match self.dnsmasq {
                Some(pid) => format!("dnsmasq (pid {pid})"),
                None => "dnsmasq".into(),
            };
            items.push(item(what, self.dnsmasq.is_some()));
        }
        if net.forward != Forward::None {
            items.push(item("net.ipv4.ip_forward = 1".into(), self.ipv4_forward));
            if net.ipv6.is_some() {
                let what = "net.ipv6.conf.all.forwarding = 1".into();
                items.push(item(what, self.ipv6_forward));
            }
        }
        items
    }
}

/// The names of the chains of `bridge`'s network, whatever its mode.
pub fn chain_names(bridge: &str) -> [String; 2] {
    [nat_chain(bridge), forward_chain(bridge)]
}
