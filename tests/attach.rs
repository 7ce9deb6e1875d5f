//! The real binaries against the real kernel: attach, detach, repeat.

mod common;

use common::Netns;

fn setup(bridge_mtu: u32) -> Option<Netns> {
    if !common::privileged() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", bridge_mtu);
    ns.add_tap("vnet0");
    Some(ns)
}

#[test]
fn attach_copies_mtu_raises_mac_and_detach_undoes_master_and_up() {
    let Some(ns) = setup(9000) else { return };
    let before = ns.link("vnet0").unwrap();
    assert_eq!(before.kind.as_deref(), Some("tun"));
    assert_eq!(
        (before.mtu, before.up, before.master.clone()),
        (1500, false, None)
    );

    for round in 0..2 {
        ns.ifup("vnet0", &[]).expect(0);
        let up = ns.link("vnet0").unwrap();
        assert!(up.up, "round {round}: {up:?}");
        assert_eq!(up.master.as_deref(), Some("br0"), "round {round}");
        assert_eq!(up.mtu, 9000, "round {round}");
        assert!(up.mac.starts_with("fe:"), "round {round}: {}", up.mac);
        assert_eq!(up.mac[2..], before.mac[2..], "only the first octet changes");
        // The bridge keeps its MTU rather than being pulled down to 1500.
        assert_eq!(ns.link("br0").unwrap().mtu, 9000);
        assert!(ns
            .bridge(&["link", "show", "dev", "vnet0"])
            .contains("master br0"));

        ns.ifdown("vnet0").expect(0);
        let down = ns.link("vnet0").unwrap();
        assert_eq!((down.up, down.master), (false, None), "round {round}");
        assert!(ns.bridge(&["link", "show", "dev", "vnet0"]).is_empty());
    }
}

#[test]
fn ifup_twice_is_fine_and_ifdown_twice_succeeds_twice() {
    let Some(ns) = setup(1500) else { return };
    ns.ifup("vnet0", &[]).expect(0);
    ns.ifup("vnet0", &[]).expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.up, link.master.as_deref()), (true, Some("br0")));
    ns.ifdown("vnet0").expect(0);
    ns.ifdown("vnet0").expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.up, link.master), (false, None));
}

#[test]
fn already_attached_but_down_is_brought_up() {
    let Some(ns) = setup(1500) else { return };
    ns.ip(&["link", "set", "vnet0", "master", "br0"]);
    ns.ifup("vnet0", &[]).expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.up, link.master.as_deref()), (true, Some("br0")));
}

#[test]
fn ifdown_of_a_vanished_tap_succeeds() {
    let Some(ns) = setup(1500) else { return };
    let run = ns.ifdown("gone0");
    run.expect(0);
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn keep_and_fixed_values_from_the_config() {
    let Some(ns) = setup(9000) else { return };
    let mac = ns.link("vnet0").unwrap().mac;
    let conf = ns.config("mtu = keep\nmac = keep\n");
    ns.ifup("vnet0", &[("VNET_CONFIG", conf.to_str().unwrap())])
        .expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.mtu, link.mac.clone()), (1500, mac));
    assert_eq!(link.master.as_deref(), Some("br0"));

    ns.ifdown("vnet0").expect(0);
    let conf = ns.config("mtu = 4000\n");
    ns.ifup("vnet0", &[("VNET_CONFIG", conf.to_str().unwrap())])
        .expect(0);
    assert_eq!(ns.link("vnet0").unwrap().mtu, 4000);
}

#[test]
fn a_down_bridge_is_a_warning_not_a_failure() {
    let Some(ns) = setup(1500) else { return };
    ns.ip(&["link", "set", "br0", "down"]);
    let run = ns.ifup("vnet0", &[]);
    run.expect(0);
    assert_eq!(
        run.one_line(),
        "vnet-ifup: warning: bridge br0 is down: vnet0 gets no traffic until it is up"
    );
    assert_eq!(ns.link("vnet0").unwrap().master.as_deref(), Some("br0"));
}

#[test]
fn info_logging_says_what_was_done() {
    let Some(ns) = setup(9000) else { return };
    let run = ns.ifup("vnet0", &[("VNET_LOG", "info")]);
    run.expect(0);
    let mac = ns.link("vnet0").unwrap().mac;
    assert_eq!(
        run.one_line(),
        format!("vnet-ifup: info: attached vnet0 to br0: mtu 9000, mac {mac}")
    );
    let run = ns.run(&common::IFDOWN, &["vnet0"], &[("VNET_LOG", "info")]);
    assert_eq!(
        run.expect(0).one_line(),
        "vnet-ifdown: info: detached vnet0 from br0; it is down"
    );
}

#[test]
fn ifdown_ignores_the_configuration() {
    let Some(ns) = setup(1500) else { return };
    ns.ifup("vnet0", &[]).expect(0);
    let broken = ns.config("this is not a config\n");
    let run = ns.run(
        &common::IFDOWN,
        &["vnet0"],
        &[("VNET_CONFIG", broken.to_str().unwrap())],
    );
    run.expect(0);
    assert_eq!(ns.link("vnet0").unwrap().master, None);
}

/// Alternative names make the kernel's reply about a link grow to 64 KiB,
/// twice the buffer netlink(7) suggests: vnet still reads it whole.
#[test]
fn a_tap_with_50_kib_of_altnames_is_still_attached() {
    let Some(ns) = setup(9000) else { return };
    let names: String = (0..400)
        .map(|n| {
            format!(
                "link property add dev vnet0 altname {n:03}{}\n",
                "a".repeat(124)
            )
        })
        .collect();
    ns.ip_batch(&names);
    ns.ifup("vnet0", &[]).expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.up, link.master.as_deref()), (true, Some("br0")));
    ns.ifdown("vnet0").expect(0);
    let link = ns.link("vnet0").unwrap();
    assert_eq!((link.up, link.master), (false, None));
}
