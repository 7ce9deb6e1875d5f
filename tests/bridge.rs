//! The bridge `create-bridge = yes` makes: an address of its own, which
//! stays as VMs come and go, checked with `ip -j link` as the oracle.

mod common;

use common::Netns;

/// A bridge whose address was never set takes the lowest of its ports'
/// and changes with them (every tap is `fe:...`); vnet's has its own.
#[test]
fn a_created_bridge_keeps_its_address_as_taps_come_and_go() {
    if !common::privileged() {
        return;
    }
    let ns = Netns::new();
    let conf = ns.config("bridge = brc\ncreate-bridge = yes\n");
    let env = [("VNET_CONFIG", conf.to_str().expect("UTF-8 path"))];
    let address = |ns: &Netns| ns.link("brc").expect("the bridge").mac;
    for tap in ["vnet0", "vnet1"] {
        ns.add_tap(tap);
    }
    ns.ifup("vnet0", &env).expect(0);
    let first = address(&ns);
    let octet = u8::from_str_radix(&first[..2], 16).expect("a MAC address");
    assert_eq!(
        octet & 0b11,
        0b10,
        "{first} is not locally administered unicast"
    );
    // The address vnet prints in --check's plan for this name, no other.
    let expected = vnet::netlink::format_mac(&vnet::policy::bridge_mac("brc"));
    assert_eq!(first, expected);

    ns.ifup("vnet1", &env).expect(0);
    assert_eq!(address(&ns), first, "after a second tap joined");
    ns.ifdown("vnet0").expect(0);
    assert_eq!(address(&ns), first, "after the first tap left");
    ns.ifdown("vnet1").expect(0);
    ns.ip(&["link", "del", "vnet0"]);
    ns.ip(&["link", "del", "vnet1"]);
    assert_eq!(address(&ns), first, "with no port at all");

    // Made again under the same name, it gets the same address.
    ns.ip(&["link", "del", "brc"]);
    ns.add_tap("vnet2");
    ns.ifup("vnet2", &env).expect(0);
    assert_eq!(address(&ns), first, "a bridge made again by the same name");
}
