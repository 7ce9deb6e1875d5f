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
    use std::time::Instant;
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
    let start = Instant::now();
    let err = nl.link(&IfName::new("vnet0").unwrap()).unwrap_err();
    assert!(matches!(err, NetlinkError::Timeout), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
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
