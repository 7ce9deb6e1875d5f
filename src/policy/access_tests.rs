use super::*;
use crate::config::Config;
use crate::netlink::Tun;

fn alice() -> Caller {
    Caller {
        uid: 1000,
        user: Some("alice".into()),
        gids: vec![1000, 36],
        groups: vec!["alice".into(), "kvm".into()],
    }
}

fn check(text: &str, bridge: &str, caller: &Caller) -> Result<(), String> {
    let config = Config::parse("vnet.conf", text.as_bytes()).unwrap();
    may_use(config.access_rules(), "vnet.conf", bridge, caller).map_err(|r| r.to_string())
}

#[test]
fn default_deny() {
    assert_eq!(
        check("bridge = br0\n", "br0", &alice()),
        Err(
            "user alice (uid 1000) may not use bridge br0: no [access] rule in vnet.conf allows it"
                .into()
        )
    );
    assert!(check("[access br1]\nallow = all\n", "br0", &alice()).is_err());
}

#[test]
fn allow_by_user_uid_group_gid_or_all() {
    for who in ["alice", "1000", "@kvm", "@36", "all", "bob alice"] {
        assert_eq!(
            check(&format!("[access br0]\nallow = {who}\n"), "br0", &alice()),
            Ok(()),
            "{who}"
        );
    }
    for who in ["bob", "1001", "@wheel", "@37"] {
        assert!(
            check(&format!("[access br0]\nallow = {who}\n"), "br0", &alice()).is_err(),
            "{who}"
        );
    }
}

#[test]
fn globs_pick_the_bridges() {
    let text = "[access br-*]\nallow = alice\n";
    assert_eq!(check(text, "br-lab", &alice()), Ok(()));
    assert!(check(text, "br0", &alice()).is_err());
}

#[test]
fn deny_beats_allow_wherever_it_stands() {
    let text = "[access *]\nallow = all\n[access br0]\ndeny = @kvm\n[access br*]\nallow = alice\n";
    assert_eq!(
        check(text, "br0", &alice()),
        Err("user alice (uid 1000) may not use bridge br0: denied by vnet.conf:4".into())
    );
    assert_eq!(check(text, "br1", &alice()), Ok(()));
}

#[test]
fn a_caller_without_a_name_is_shown_by_uid() {
    let nameless = Caller {
        uid: 4242,
        user: None,
        gids: vec![4242],
        groups: vec![],
    };
    assert_eq!(nameless.to_string(), "uid 4242");
    assert_eq!(
        check("[access br0]\nallow = 4242\n", "br0", &nameless),
        Ok(())
    );
    assert!(check("[access br0]\nallow = alice\n", "br0", &nameless).is_err());
}

fn tap(owner: Option<u32>, group: Option<u32>) -> Link {
    Link {
        index: 3,
        name: "vnet0".into(),
        kind: Some("tun".into()),
        tun: Some(Tun {
            tap: true,
            owner,
            group,
        }),
        bridge: None,
        mtu: 1500,
        mac: None,
        master: None,
        up: false,
        loopback: false,
    }
}

#[test]
fn taps_must_be_the_callers_as_the_kernel_sees_it() {
    assert_eq!(owns(&tap(Some(1000), None), &alice()), Ok(()));
    assert_eq!(owns(&tap(None, Some(36)), &alice()), Ok(()));
    assert_eq!(owns(&tap(Some(1000), Some(36)), &alice()), Ok(()));
    let refused = |t: Link| owns(&t, &alice()).unwrap_err().to_string();
    assert_eq!(
        refused(tap(Some(1001), None)),
        "vnet0 does not belong to user alice (uid 1000): it belongs to uid 1001; create it for \
         them with \"ip tuntap add vnet0 mode tap user alice\""
    );
    assert!(
        refused(tap(None, Some(37))).contains("it belongs to group 37, which is not one of theirs")
    );
    assert!(
        refused(tap(Some(1000), Some(37))).contains("group 37"),
        "both set: both must match"
    );
    assert!(refused(tap(None, None)).contains("it has no owner or group, so only root may use it"));
}
