//! The nftables chains and rules of one network: pure, so `--check`, the
//! setup and the tests all see the same rules.
//!
//! Like libvirt's: in `nat` mode, IPv4 from the guest subnet towards any
//! other destination is masqueraded, except multicast 224.0.0.0/24 and
//! broadcast; replies come back in only as established or related
//! traffic. In `route` mode the subnet is forwarded both ways untranslated.
//! An IPv6 subnet is always routed, never translated.

use std::net::{IpAddr, Ipv4Addr};

use crate::config::{Cidr, Forward, Network};
use crate::netlink::{Chain, Expr, Hook, Rule};

/// `postrouting-BRIDGE`: the masquerade rules.
pub fn nat_chain(bridge: &str) -> String {
    format!("postrouting-{bridge}")
}

/// `forward-BRIDGE`: the forward-accept rules.
pub fn forward_chain(bridge: &str) -> String {
    format!("forward-{bridge}")
}

/// The names of the chains `net` needs, as [`rules`] makes them.
pub fn chains(net: &Network) -> Vec<String> {
    let bridge = net.bridge.as_str();
    match net.forward {
        Forward::Nat => vec![nat_chain(bridge), forward_chain(bridge)],
        Forward::Route => vec![forward_chain(bridge)],
        Forward::None => Vec::new(),
    }
}

/// The chains and rules `net` needs; none for `forward = none`.
pub fn rules(net: &Network) -> (Vec<Chain>, Vec<Rule>) {
    let bridge = net.bridge.as_str();
    let (mut chains, mut rules) = (Vec::new(), Vec::new());
    if net.forward == Forward::None {
        return (chains, rules);
    }
    let v4 = net.ipv4.network();
    if net.forward == Forward::Nat {
        let chain = nat_chain(bridge);
        chains.push(Chain {
            name: chain.clone(),
            hook: Hook::Postrouting,
        });
        let multicast = Cidr {
            addr: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 0)),
            prefix: 24,
        };
        let broadcast = Cidr {
            addr: IpAddr::V4(Ipv4Addr::BROADCAST),
            prefix: 32,
        };
        for (to, equal, verdict) in [
            (multicast, true, Expr::Return),
            (broadcast, true, Expr::Return),
            (v4, false, Expr::Masquerade),
        ] {
            let exprs = vec![addr(&v4, true, true), addr(&to, false, equal), verdict];
            rules.push(Rule {
                chain: chain.clone(),
                exprs,
            });
        }
    }
    let chain = forward_chain(bridge);
    chains.push(Chain {
        name: chain.clone(),
        hook: Hook::Forward,
    });
    let mut subnets = vec![v4];
    subnets.extend(net.ipv6.map(|c| c.network()));
    for net_cidr in subnets {
        let mut inbound = vec![
            Expr::Oifname(bridge.to_owned()),
            addr(&net_cidr, false, true),
        ];
        if net.forward == Forward::Nat && net_cidr.addr.is_ipv4() {
            inbound.push(Expr::Established);
        }
        inbound.push(Expr::Accept);
        let outbound = vec![
            Expr::Iifname(bridge.to_owned()),
            addr(&net_cidr, true, true),
            Expr::Accept,
        ];
        for exprs in [inbound, outbound] {
            rules.push(Rule {
                chain: chain.clone(),
                exprs,
            });
        }
    }
    (chains, rules)
}

fn addr(cidr: &Cidr, source: bool, equal: bool) -> Expr {
    Expr::Addr {
        source,
        net: cidr.network().bytes(),
        prefix: cidr.prefix,
        equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::name::IfName;

    fn net(forward: &str, extra: &str) -> Network {
        let text = format!("[network br0]\naddress = 10.77.0.1/24{extra}\nforward = {forward}\n");
        let config = Config::parse("t", text.as_bytes()).unwrap();
        config
            .network(&IfName::new("br0").unwrap())
            .unwrap()
            .clone()
    }

    #[test]
    fn nat_masquerades_and_accepts_both_ways() {
        let (chains, rules) = rules(&net("nat", ""));
        let names: Vec<&str> = chains.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["postrouting-br0", "forward-br0"]);
        for mode in ["nat", "route", "none"] {
            let n = net(mode, "");
            let names: Vec<String> = super::rules(&n).0.into_iter().map(|c| c.name).collect();
            assert_eq!(super::chains(&n), names, "{mode}");
        }
        assert_eq!(rules.len(), 5);
        assert_eq!(rules[2].exprs.last(), Some(&Expr::Masquerade));
        assert!(rules[3].exprs.contains(&Expr::Established));
        assert!(!rules[4].exprs.contains(&Expr::Established));
    }

    #[test]
    fn route_has_no_nat_and_ipv6_is_routed() {
        let (chains, rules) = rules(&net("route", " fd00:77::1/64"));
        assert_eq!(chains.len(), 1);
        assert_eq!(rules.len(), 4);
        assert!(rules.iter().all(|r| !r.exprs.contains(&Expr::Established)));
        let (chains, rules) = rules_of_none();
        assert!(chains.is_empty() && rules.is_empty());
    }

    fn rules_of_none() -> (Vec<Chain>, Vec<Rule>) {
        rules(&net("none", ""))
    }
}
