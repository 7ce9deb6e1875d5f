//! Many VMs starting and stopping at once: 256 vnet-ifup processes on one
//! bridge in parallel, then 256 vnet-ifdown. They contend for RTNL and for
//! the same bridge; every one must succeed silently, and the oracle must
//! see every tap attached, up, with the bridge's MTU, then none left.

mod common;

use std::process::{Child, Stdio};

use common::{Netns, Run, IFDOWN, IFUP};

const TAPS: usize = 256;

fn spawn_all(ns: &Netns, bin: &str) -> Vec<Child> {
    (0..TAPS)
        .map(|n| {
            ns.command(bin)
                .arg(format!("t{n}"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect()
}

fn wait_all(children: Vec<Child>) {
    for (n, child) in children.into_iter().enumerate() {
        let run = Run::from(child.wait_with_output().expect("wait"));
        run.expect(0);
        assert!(run.stderr.is_empty(), "t{n}: {run:#?}");
    }
}

#[test]
fn parallel_ifups_then_parallel_ifdowns_on_one_bridge() {
    if !common::privileged() {
        return;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    let taps: String = (0..TAPS)
        .map(|n| format!("tuntap add dev t{n} mode tap\n"))
        .collect();
    ns.ip_batch(&taps);

    // Every process is started before the first is waited for.
    wait_all(spawn_all(&ns, &IFUP));
    let links = ns.links();
    for n in 0..TAPS {
        let tap = &links[&format!("t{n}")];
        assert_eq!(
            (tap.master.as_deref(), tap.up, tap.mtu),
            (Some("br0"), true, 9000),
            "t{n}: {tap:?}"
        );
        assert!(tap.mac.starts_with("fe:"), "t{n}: {tap:?}");
    }
    let ports = ns.bridge(&["link", "show", "master", "br0"]);
    assert_eq!(ports.lines().count(), TAPS, "{ports}");
    assert_eq!(links["br0"].mtu, 9000, "no tap pulled the bridge down");

    wait_all(spawn_all(&ns, &IFDOWN));
    let links = ns.links();
    for n in 0..TAPS {
        let tap = &links[&format!("t{n}")];
        assert_eq!((tap.master.as_deref(), tap.up), (None, false), "t{n}");
    }
    assert!(ns.bridge(&["link", "show", "master", "br0"]).is_empty());
}
