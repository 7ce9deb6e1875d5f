//! What one `vnet-ifup` does at the syscall level, as strace sees it:
//! no thread or process is created, and no netlink dump is requested.

mod common;

use common::{Netns, IFUP};

#[test]
fn one_ifup_creates_no_thread_or_process_and_dumps_nothing() {
    if !common::privileged() {
        return;
    }
    let Some(strace) = common::program("strace test", "strace", "strace") else {
        return;
    };
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    ns.add_tap("vnet0");
    let trace = std::env::temp_dir().join(format!("{}.strace", ns.name));
    let run = ns.run(
        strace.to_str().expect("strace's path"),
        &[
            "-f",
            "-qq",
            "-s",
            "256",
            "-o",
            trace.to_str().unwrap(),
            &IFUP,
            "vnet0",
        ],
        &[],
    );
    run.expect(0);
    let text = std::fs::read_to_string(&trace).expect("strace output");
    let _ = std::fs::remove_file(&trace);

    let pids: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(pids.len(), 1, "more than one task ran: {pids:?}");
    for forbidden in ["clone(", "clone3(", "fork(", "vfork(", "NLM_F_DUMP"] {
        assert!(
            !text.contains(forbidden),
            "strace shows {forbidden}:\n{text}"
        );
    }
    assert_eq!(text.matches("execve(").count(), 1);
    let requests = text.lines().filter(|l| l.contains("sendto(")).count();
    assert_eq!(requests, 6, "two lookups and four changes:\n{text}");
    let answers = text.lines().filter(|l| l.contains("recvfrom(")).count();
    assert_eq!(answers, 6, "each answered by one reply or ACK:\n{text}");
    assert!(
        text.contains("NETLINK_EXT_ACK, [1]"),
        "extended ACKs are on"
    );
    assert!(
        text.contains("NETLINK_GET_STRICT_CHK, [1]"),
        "strict checking is on"
    );
    assert!(text.contains("SO_RCVTIMEO"), "receives are bounded");

    // The oracle agrees that the work was done.
    let link = ns.link("vnet0").unwrap();
    assert_eq!(
        (link.up, link.master.as_deref(), link.mtu),
        (true, Some("br0"), 9000)
    );
}
