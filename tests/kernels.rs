//! The kernel matrix: the privileged suites, run as root inside QEMU
//! guests booted from Debian's own kernels, which have what many build
//! hosts' kernels lack (bridge VLAN filtering among them).
//! scripts/fetch-kernels.sh (`make kernels`) fetches the kernels;
//! tests/common/guest/ does the rest. In a guest the suites see `CI=true`
//! and `VNET_GUEST_KERNEL=<uname -r>`, so a test can require a feature
//! there that it only expects to be refused on the host.

mod common;

use common::guest::Guest;

const GUEST: Guest = Guest {
    // The suites the guests run, in this order: each tests/<suite>.rs whose
    // tests need only root, the modules and the programs below.
    suites: &[
        "attach",
        "refuse",
        "select",
        "ports",
        "faults",
        "bridge_helper",
        "network",
        "network_shared",
    ],
    // Bridges (stp and llc come as dependencies), taps (ports.rs opens
    // /dev/net/tun itself; vnet-ifup makes them as bridge_helper.rs's
    // bridge helper), veth pairs, and the macvlan refuse.rs uses to make the
    // bridge refuse a port.
    // network.rs and network_shared.rs: nf_tables with the inet family's
    // nat chains, masquerade and conntrack state (their dependencies come
    // along; crc32c_generic is libcrc32c's soft dependency, which no
    // modinfo names, for nf_conntrack).
    modules: &[
        "bridge",
        "tun",
        "veth",
        "macvlan",
        "crc32c_generic",
        "nft_chain_nat",
        "nft_masq",
        "nft_ct",
    ],
    // The oracle, setpriv for refuse.rs's test without CAP_NET_ADMIN,
    // strace for faults.rs's failing requests (and ports.rs's one), nft
    // (the networks' oracle) and the dnsmasq vnet starts.
    programs: &[
        "/usr/bin/ip",
        "/usr/sbin/bridge",
        "/usr/bin/setpriv",
        "/usr/bin/strace",
        "/usr/sbin/nft",
        "/usr/sbin/dnsmasq",
    ],
};

#[test]
fn debian_6_1() {
    GUEST.run("6.1");
}

#[test]
fn debian_6_12() {
    GUEST.run("6.12");
}
