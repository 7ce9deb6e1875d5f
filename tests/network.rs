//! [network] sections: vnet-ifup sets the network up (bridge, address,
//! forwarding, nftables, dnsmasq) and --network-down removes exactly that.
//! Each test has its own namespace and runtime directory; `nft -j list
//! ruleset`, `ip -j` and /proc are the oracle.

mod common;

use std::process::Command;

use common::network::Net;
use common::IFUP;

const NAT: &str = "bridge = nat0
[network nat0]
address = 10.77.0.1/24
forward = nat
dhcp-range = 10.77.0.100 10.77.0.199
";

/// What `nft list table inet vnet` shows for NAT, as nft itself prints it.
const NAT_RULES: &str = "table inet vnet {
\tchain postrouting-nat0 {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.77.0.0/24 ip daddr 224.0.0.0/24 return
\t\tip saddr 10.77.0.0/24 ip daddr 255.255.255.255 return
\t\tip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade
\t}

\tchain forward-nat0 {
\t\ttype filter hook forward priority filter; policy accept;
\t\toifname \"nat0\" ip daddr 10.77.0.0/24 ct state established,related accept
\t\tiifname \"nat0\" ip saddr 10.77.0.0/24 accept
\t}
}
";

/// An unrelated table of the administrator's, which vnet must not touch.
const OTHER: &str = "table ip admin {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tip saddr 192.0.2.0/24 counter packets 0 bytes 0 drop
\t}
}
";

#[test]
fn set_up_once_then_torn_down_to_exactly_what_was_there() {
    let Some(net) = Net::new(NAT) else { return };
    let other = net.ns.path("other.nft");
    std::fs::write(&other, OTHER).expect("write");
    net.nft(&["-f", other.to_str().expect("path")]);
    let admin = |net: &Net| net.nft(&["-j", "list", "table", "ip", "admin"]);
    let before = admin(&net);
    let pristine = net.snapshot();

    let run = net.vnet(&["--network-up", "nat0"], &[]);
    run.expect(0);
    assert!(
        run.stdout
            .starts_with("network nat0 is set up: made bridge nat0, up"),
        "{run:?}"
    );
    assert_eq!(net.nft(&["list", "table", "inet", "vnet"]), NAT_RULES);
    let addrs = net.ns.ip(&["-4", "-o", "addr", "show", "dev", "nat0"]);
    assert!(
        addrs.contains("inet 10.77.0.1/24 brd 10.77.0.255"),
        "{addrs}"
    );
    assert_eq!(net.sysctl("net/ipv4/ip_forward"), "1");
    assert_eq!(net.dnsmasqs().len(), 1);
    assert!(net.ns.link("nat0").expect("bridge").up);

    // Again: only lookups, nothing new.
    let set_up = net.snapshot();
    let again = net.vnet(&["--network-up", "nat0"], &[]);
    assert_eq!(again.expect(0).stdout, "network nat0 is set up already\n");
    assert_eq!(net.snapshot(), set_up);

    let down = net.vnet(&["--network-down", "nat0"], &[]);
    down.expect(0);
    assert_eq!(
        down.stdout,
        "network nat0: stopped dnsmasq, deleted chains postrouting-nat0, forward-nat0, deleted bridge nat0\n"
    );
    assert!(!net.has_vnet_table());
    assert_eq!(admin(&net), before, "the admin's table changed");
    let mut after = net.snapshot();
    // Forwarding stays on, as libvirt leaves it: the one thing not undone.
    after["forward"] = pristine["forward"].clone();
    assert_eq!(after, pristine);
    let twice = net.vnet(&["--network-down", "nat0"], &[]);
    assert_eq!(
        twice.expect(0).stdout,
        "network nat0: nothing of vnet's to remove\n"
    );
}

/// The rules vnet sends are the bytecode nft makes from the same text:
/// `nft --debug=netlink list` prints what the kernel holds, instruction by
/// instruction, for vnet's table and for one nft loaded from NAT_RULES.
#[test]
fn the_rules_are_the_bytecode_nft_makes() {
    let config = NAT
        .replace("10.77.0.1/24", "10.77.0.1/24 fd00:77::1/64")
        .replace("forward = nat", "forward = route")
        + "";
    for text in [NAT.to_owned(), config] {
        let Some(vnet) = Net::new(&text) else { return };
        vnet.vnet(&["--network-up", "nat0"], &[]).expect(0);
        let listing = vnet.nft(&["list", "table", "inet", "vnet"]);
        let Some(by_nft) = Net::new(&text) else {
            return;
        };
        let file = by_nft.ns.path("rules.nft");
        std::fs::write(&file, &listing).expect("write");
        by_nft.nft(&["-f", file.to_str().expect("path")]);
        let bytecode = |n: &Net| n.nft(&["--debug=netlink", "list", "table", "inet", "vnet"]);
        assert_eq!(bytecode(&vnet), bytecode(&by_nft), "for:\n{listing}");
        vnet.vnet(&["--network-down", "nat0"], &[]).expect(0);
    }
}

#[test]
fn ifup_sets_the_network_up_then_only_looks() {
    let Some(net) = Net::new(NAT) else { return };
    net.ns.add_tap("vm0");
    net.ns.add_tap("vm1");
    net.vnet(&["vm0"], &[]).expect(0);
    assert_eq!(
        net.ns.link("vm0").expect("tap").master.as_deref(),
        Some("nat0")
    );
    let set_up = net.snapshot();
    net.vnet(&["vm1"], &[]).expect(0);
    // The second tap (and the carrier it brings) is the only difference.
    let now = net.snapshot();
    for key in ["ruleset", "files", "dnsmasq", "forward"] {
        assert_eq!(now[key], set_up[key], "{key} changed");
    }
    assert_eq!(
        net.ns.link("vm1").expect("tap").master.as_deref(),
        Some("nat0")
    );
    assert_eq!(net.dnsmasqs().len(), 1);
}

#[test]
fn check_shows_what_exists_and_what_would_be_made() {
    let Some(net) = Net::new(NAT) else { return };
    let run = net.vnet(&["--check", "vm0"], &[]);
    run.expect(0);
    assert!(run.stdout.contains("network         [network nat0] at line 2: forward nat, address 10.77.0.1/24, dhcp 10.77.0.100-10.77.0.199, lease 3600 s\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("to be made bridge nat0, up\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("to be made dnsmasq\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("bridge nat0 will be created ([network])"),
        "{}",
        run.stdout
    );
    assert!(!net.has_vnet_table() && net.ns.link("nat0").is_none());
    net.vnet(&["--network-up", "nat0"], &[]).expect(0);
    let run = net.vnet(&["--check", "vm0"], &[]);
    assert!(
        run.stdout.contains(
            "exists     nftables chains postrouting-nat0, forward-nat0 in table inet vnet\n"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("to be made"), "{}", run.stdout);
}

/// 32 VMs start at once on a network that does not exist yet.
#[test]
fn racing_ifups_make_one_network() {
    let Some(net) = Net::new(NAT) else { return };
    let taps: Vec<String> = (0..32).map(|i| format!("vm{i}")).collect();
    for tap in &taps {
        net.ns.add_tap(tap);
    }
    let children: Vec<_> = taps
        .iter()
        .map(|tap| {
            let mut cmd = net.ns.command(&IFUP);
            cmd.arg(tap).envs(net.env());
            cmd.stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for tap in &taps {
        assert_eq!(
            net.ns.link(tap).expect("tap").master.as_deref(),
            Some("nat0"),
            "{tap}"
        );
    }
    assert_eq!(net.dnsmasqs().len(), 1, "one dnsmasq");
    assert_eq!(
        net.nft(&["list", "table", "inet", "vnet"]),
        NAT_RULES,
        "one rule set"
    );
    let addrs = net.ns.ip(&["-4", "-o", "addr", "show", "dev", "nat0"]);
    assert_eq!(addrs.lines().count(), 1, "{addrs}");
}

/// The tests' PATH, where the product looks for dnsmasq.
fn path_without_dnsmasq() -> &'static str {
    "/nonexistent"
}

#[test]
fn refusals_leave_the_host_as_found() {
    let Some(net) = Net::new(NAT) else { return };
    net.ns.add_tap("vm0");
    // Our subnet on another interface.
    net.ns
        .ip(&["link", "add", "up0", "type", "veth", "peer", "name", "up1"]);
    net.ns.ip(&["addr", "add", "10.77.0.5/16", "dev", "up0"]);
    let before = net.snapshot();
    let run = net.vnet(&["vm0"], &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vm0 to bridge nat0: network nat0: 10.77.0.1/24 overlaps \
         10.77.0.5/16 on up0: pick another subnet in [network nat0]"
    );
    assert_eq!(net.snapshot(), before);
    net.ns.ip(&["link", "del", "up0"]);

    // A bridge with an address of the administrator's.
    net.ns.add_bridge("nat0", 1500);
    net.ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "nat0"]);
    let before = net.snapshot();
    let run = net.vnet(&["--network-up", "nat0"], &[]);
    assert!(run.expect(1).one_line().starts_with(
        "vnet-ifup: cannot set up network nat0: bridge nat0 already has the address 10.9.0.1/24; \
         vnet never replaces an address it did not make"
    ));
    assert_eq!(net.snapshot(), before);
    net.ns.ip(&["link", "del", "nat0"]);

    // No dnsmasq on PATH: refused before anything changes.
    let before = net.snapshot();
    let run = net.vnet(&["vm0"], &[("PATH", path_without_dnsmasq())]);
    let line = run.expect(1).one_line().to_owned();
    assert!(
        line.contains("dnsmasq is not installed (Debian's package dnsmasq-base"),
        "{line}"
    );
    assert_eq!(net.snapshot(), before);

    // dnsmasq fails (its lease file cannot be a directory): everything this
    // run made is undone, and dnsmasq's own words are shown.
    std::fs::create_dir_all(net.run_dir.join("nat0.leases")).expect("mkdir");
    let before = net.snapshot();
    let run = net.vnet(&["vm0"], &[]);
    let line = run.expect(1).one_line().to_owned();
    assert!(
        line.starts_with(
            "vnet-ifup: cannot attach vm0 to bridge nat0: network nat0: dnsmasq failed to start: "
        ),
        "{line}"
    );
    assert!(line.contains("nat0.leases"), "{line}");
    assert!(line.ends_with("; what this run made was undone"), "{line}");
    assert_eq!(net.snapshot(), before);
    assert!(!net.has_vnet_table());
}

#[test]
fn a_dhcp_range_outside_the_subnet_is_a_configuration_error() {
    let Some(net) = Net::new(&NAT.replace("10.77.0.100 10.77.0.199", "10.77.1.100 10.77.1.199"))
    else {
        return;
    };
    let before = net.snapshot();
    let run = net.vnet(&["--network-up", "nat0"], &[]);
    let line = run.expect(2).one_line().to_owned();
    assert!(
        line.ends_with(
            "network.conf:5: dhcp-range: 10.77.1.100 is outside the subnet 10.77.0.0/24"
        ),
        "{line}"
    );
    assert_eq!(net.snapshot(), before);
}

#[test]
fn network_commands_are_ifups_alone() {
    let out = Command::new(&*common::IFDOWN)
        .args(["--network-down", "nat0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let help = Command::new(&*IFUP).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("vnet-ifup --network-up BRIDGE"), "{help}");
    assert!(help.contains("vnet-ifup --network-down BRIDGE"), "{help}");
}

/// A tap vnet refuses (here a veth) must not set the network up first.
#[test]
fn a_refused_tap_sets_no_network_up() {
    let Some(net) = Net::new(NAT) else { return };
    net.ns
        .ip(&["link", "add", "vm0", "type", "veth", "peer", "name", "vm0p"]);
    let before = net.snapshot();
    let run = net.vnet(&["vm0"], &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vm0 to bridge nat0: vm0 is a veth device, not a tap"
    );
    let run = net.vnet(&["vm9"], &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vm9 to bridge nat0: tap vm9 does not exist"
    );
    assert_eq!(net.snapshot(), before);
}
