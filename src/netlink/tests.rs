use super::*;
use crate::name::IfName;

#[test]
fn errnos_become_sentences() {
    assert_eq!(errno_sentence(Errno::ENODEV), "no such interface");
    assert!(errno_sentence(Errno::EPERM).contains("needs CAP_NET_ADMIN"));
    assert!(errno_sentence(Errno::EBUSY).contains("busy"));
    assert!(errno_sentence(Errno::EOPNOTSUPP).contains("does not support"));
    assert_eq!(errno_sentence(Errno::ENOMEM), "out of memory");
}

/// Issue 16, item 7: ENOSPC means "no free port" only when a tap joins a
/// bridge; the sentence is chosen where the request is known.
#[test]
fn an_errno_is_put_in_words_for_its_request() {
    use crate::policy::Action;
    let enospc = NetlinkError::Kernel {
        errno: Errno::ENOSPC,
        ext_ack: Some("x\x1b".into()),
    };
    let meaning = |a: &Action| enospc.sentence(a.errno_meaning(Errno::ENOSPC));
    assert_eq!(
        meaning(&Action::Attach),
        "the bridge has no free port (kernel: \"x\\x1b\")"
    );
    let mtu = Action::SetMtu {
        from: 1500,
        to: 9000,
    };
    assert_eq!(
        meaning(&mtu),
        "no space left on device (kernel: \"x\\x1b\")"
    );
    assert_ne!(errno_sentence(Errno::ENOSPC), "the bridge has no free port");
}

#[test]
fn kernel_errors_carry_the_ext_ack_once() {
    let e = NetlinkError::Kernel {
        errno: Errno::EBUSY,
        ext_ack: Some("Device is already in use".into()),
    };
    let text = e.to_string();
    assert_eq!(text.matches("Device is already in use").count(), 1);
    assert!(text.starts_with("the device is busy"));
}

#[test]
fn macs_print_like_ip() {
    assert_eq!(
        format_mac(&[0xfe, 0x54, 0, 0x12, 0x34, 0x56]),
        "fe:54:00:12:34:56"
    );
}

/// A peer that never answers must not hang us: the receive times out.
/// Addressing a user-space netlink socket needs CAP_NET_ADMIN.
#[test]
fn a_silent_peer_times_out() {
    use nix::sys::socket::{connect, NetlinkAddr};
    if !nix::unistd::geteuid().is_root() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "needs root under CI"
        );
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n*** SKIPPED: a_silent_peer_times_out needs root ***\n",
        );
        return;
    }
    let silent = NlSocket::connect(NlFamily::Route, None, Groups::empty()).unwrap();
    let mut nl =
        Netlink::open(NlFamily::Route, Duration::from_millis(200), RECEIVE_BUFFER).unwrap();
    // Requests now go to `silent`, which never reads them, not to the kernel.
    connect(
        nl.socket.as_raw_fd(),
        &NetlinkAddr::new(silent.pid().unwrap(), 0),
    )
    .unwrap();
    // Only the bounded receive (EAGAIN) gives Timeout; without the bound
    // this test would hang, not fail, which the harness makes plain.
    let err = nl.link(&IfName::new("vnet0").unwrap()).unwrap_err();
    assert!(matches!(err, NetlinkError::Timeout), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the kernel did not answer within 5 seconds"
    );
}

#[test]
fn c_strings_stop_at_nul() {
    assert_eq!(c_string(b"br0\0"), "br0");
    assert_eq!(c_string(b"br0"), "br0");
    assert_eq!(c_string(b""), "");
}

fn reply(index: i32, attrs: Vec<Rtattr<neli::consts::rtnl::Ifla, Buffer>>) -> Ifinfomsg {
    neli::rtnl::IfinfomsgBuilder::default()
        .ifi_family(neli::consts::rtnl::RtAddrFamily::Unspecified)
        .ifi_index(index)
        .rtattrs(attrs.into_iter().collect::<neli::types::RtBuffer<_, _>>())
        .build()
        .unwrap()
}

/// Issue 16, defect 6: a reply without IFLA_MTU became a link with MTU 0,
/// which a rollback would then have sent.
#[test]
fn a_reply_missing_what_vnet_relies_on_is_a_protocol_error() {
    use neli::consts::rtnl::Ifla;
    let name = || attr(Ifla::Ifname, "vnet0").unwrap();
    let err = link::parse_link(&reply(3, vec![name()])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected netlink reply: the kernel's reply for vnet0 has no IFLA_MTU"
    );
    let err = link::parse_link(&reply(3, vec![attr(Ifla::Mtu, 1500u32).unwrap()])).unwrap_err();
    assert!(err.to_string().ends_with("has no IFLA_IFNAME"), "{err}");
    assert!(link::parse_link(&reply(0, vec![name()])).is_err());
    let ok = link::parse_link(&reply(3, vec![name(), attr(Ifla::Mtu, 9000u32).unwrap()])).unwrap();
    assert_eq!((ok.index, ok.name.as_str(), ok.mtu), (3, "vnet0", 9000));
    assert_eq!((ok.mac, ok.master, ok.kind), (None, None, None));
}

/// A tun device whose reply does not say tap or tun is not guessed at.
#[test]
fn a_tun_without_its_type_is_a_protocol_error() {
    use neli::consts::rtnl::{Ifla, IflaInfo};
    let info = nest(
        Ifla::Linkinfo,
        &[
            attr(IflaInfo::Kind, "tun").unwrap(),
            nest(IflaInfo::Data, &Vec::<Rtattr<u16, Buffer>>::new()).unwrap(),
        ],
    )
    .unwrap();
    let msg = reply(
        3,
        vec![
            attr(Ifla::Ifname, "vnet0").unwrap(),
            attr(Ifla::Mtu, 1500u32).unwrap(),
            info,
        ],
    );
    let err = link::parse_link(&msg).unwrap_err();
    assert!(
        err.to_string().ends_with("vnet0 has no IFLA_TUN_TYPE"),
        "{err}"
    );
}
