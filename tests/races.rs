//! Someone else changes things while vnet runs, or the kernel never answers.
//!
//! strace makes each race happen at a chosen point: it stops the binary
//! (SIGSTOP) right after its n-th request, which the kernel has carried out
//! by then, and the test deletes or moves an interface before letting it
//! go on (SIGCONT). Or strace makes the n-th recvfrom fail with EAGAIN,
//! which is what the socket's receive timeout returns, or swallows a
//! request so that the real timeout runs out, once. Whatever happens,
//! vnet must end with status 0 or 1, one clear line, no panic, and never a
//! half-configured tap: attached and up, or as it was found.

mod common;

use std::time::Duration;

use common::{strace, Link, Netns, Run, IFDOWN, IFUP};

/// vnet-ifup's requests, in order, for a tap that needs every step.
const GET_TAP: u32 = 1;
const GET_BRIDGE: u32 = 2;
const SET_MTU: u32 = 3;
const SET_MASTER: u32 = 5;
/// Its reads: the tap's RTM_NEWLINK, the bridge's, then one ACK per
/// change (MTU, MAC, master, up).
const IFUP_READS: u32 = 6;
const MASTER_ACK: u32 = 5;
/// vnet-ifdown's: the tap's RTM_NEWLINK, the ACKs of "no master" and "down".
const IFDOWN_READS: u32 = 3;

fn setup() -> Option<Netns> {
    if !common::privileged() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    Some(ns)
}

/// A fresh tap vnet0, as QEMU leaves it; returns the oracle's view.
fn fresh_tap(ns: &Netns) -> Link {
    let _ = ns.link("vnet0").map(|_| ns.ip(&["link", "del", "vnet0"]));
    ns.add_tap("vnet0");
    ns.link("vnet0").expect("the new tap")
}

/// `bin vnet0` with its `reads`-th recvfrom failing as if timed out.
fn silent_at(ns: &Netns, bin: &str, reads: u32) -> Run {
    strace::failing(ns, bin, &["vnet0"], &[], "recvfrom", "EAGAIN", reads)
}

/// `bin vnet0` whose `sent`-th request strace swallows: the kernel never
/// sees it, so nothing ever answers and the real receive timeout runs out.
/// Returns the run and its trace of setsockopt, sendto and recvfrom.
fn swallowed(ns: &Netns, bin: &str, sent: u32) -> (Run, String) {
    let trace = strace::trace_path(ns);
    let inject = format!("sendto:retval=52:when={sent}");
    let traced = "setsockopt,sendto,recvfrom";
    let child = strace::spawn(ns, bin, &["vnet0"], &[], &trace, traced, &inject);
    let run = Run::from(child.wait_with_output().expect("wait"));
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    (run, text)
}

/// `bin vnet0`, stopped after its `sent`-th request while `action` runs.
fn race(ns: &Netns, bin: &str, sent: u32, action: &dyn Fn()) -> Run {
    let trace = strace::trace_path(ns);
    let inject = format!("sendto:signal=SIGSTOP:when={sent}");
    let mut child = strace::spawn(ns, bin, &["vnet0"], &[], &trace, "sendto", &inject);
    let text = || std::fs::read_to_string(&trace).unwrap_or_default();
    while !text().contains("stopped by SIGSTOP") {
        let ended = child.try_wait().expect("wait");
        assert!(ended.is_none(), "ended before its stop: {}", text());
        std::thread::sleep(Duration::from_millis(2));
    }
    action();
    let sends = text().lines().filter(|l| l.starts_with("sendto(")).count();
    assert_eq!(sends, sent as usize, "the race is not where it was meant");
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let tracee: i32 = std::fs::read_to_string(children)
        .expect("strace's children")
        .trim()
        .parse()
        .expect("one tracee");
    // SAFETY: kill(2) on our own grandchild, which strace keeps from reaping.
    assert_eq!(unsafe { libc::kill(tracee, libc::SIGCONT) }, 0);
    strace::finish(child, &trace)
}

/// Status 0 and silence, or status 1 and one line naming the tap; no panic.
fn clean_end(run: &Run, prefix: &str) {
    assert!(!run.stderr.contains("internal error"), "{run:#?}");
    match run.code {
        Some(0) => assert!(run.stderr.is_empty(), "{run:#?}"),
        Some(1) => assert!(run.one_line().starts_with(prefix), "{run:#?}"),
        _ => panic!("status neither 0 nor 1: {run:#?}"),
    }
}

/// Attached and up with the bridge's MTU and a high MAC, or as `found`.
fn whole(ns: &Netns, run: &Run, found: &Link, bridge: Option<&str>) {
    let Some(now) = ns.link("vnet0") else { return };
    if run.code == Some(0) {
        assert_eq!(
            (now.up, now.mtu, now.master.as_deref()),
            (true, 9000, bridge)
        );
        assert!(now.mac.starts_with("fe:"), "{now:?}");
    } else {
        assert_eq!(&now, found, "half-configured after {run:#?}");
    }
}

const ATTACH: &str = "vnet-ifup: cannot attach vnet0 to bridge br0: ";

#[test]
fn the_tap_deleted_while_ifup_runs() {
    let Some(ns) = setup() else { return };
    for sent in [GET_TAP, SET_MTU, SET_MASTER] {
        fresh_tap(&ns);
        let run = race(&ns, &IFUP, sent, &|| _ = ns.ip(&["link", "del", "vnet0"]));
        clean_end(&run, ATTACH);
        run.expect(1);
        assert!(run.stderr.contains("no such interface"), "{run:#?}");
    }
}

#[test]
fn the_bridge_deleted_while_ifup_runs() {
    let Some(ns) = setup() else { return };
    for sent in [GET_BRIDGE, SET_MTU, SET_MASTER] {
        let _ = ns.link("br0").map(|_| ns.ip(&["link", "del", "br0"]));
        ns.add_bridge("br0", 9000);
        let found = fresh_tap(&ns);
        let run = race(&ns, &IFUP, sent, &|| _ = ns.ip(&["link", "del", "br0"]));
        clean_end(&run, ATTACH);
        // Once attached, the bridge's end frees the port: nothing else to do.
        run.expect(if sent == SET_MASTER { 0 } else { 1 });
        whole(&ns, &run, &found, None);
    }
}

/// Nothing makes "set the master" conditional on there being none, so the
/// last writer wins: vnet moves the tap to its bridge, entirely.
#[test]
fn the_tap_moved_to_another_bridge_while_ifup_runs() {
    let Some(ns) = setup() else { return };
    ns.add_bridge("br1", 1500);
    for sent in [GET_TAP, GET_BRIDGE] {
        let found = fresh_tap(&ns);
        let run = race(&ns, &IFUP, sent, &|| {
            _ = ns.ip(&["link", "set", "vnet0", "master", "br1"])
        });
        clean_end(&run, ATTACH);
        run.expect(0);
        whole(&ns, &run, &found, Some("br0"));
    }
}

#[test]
fn the_tap_or_its_bridge_deleted_while_ifdown_runs() {
    let Some(ns) = setup() else { return };
    for gone in ["vnet0", "br0"] {
        let _ = ns.link("br0").map(|_| ns.ip(&["link", "del", "br0"]));
        ns.add_bridge("br0", 9000);
        fresh_tap(&ns);
        ns.ifup("vnet0", &[]).expect(0);
        // After the lookup, before either change.
        let run = race(&ns, &IFDOWN, 1, &|| _ = ns.ip(&["link", "del", gone]));
        // Either way nothing is left attached: that is success.
        run.expect(0);
        assert!(run.stderr.is_empty(), "{run:#?}");
        if let Some(tap) = ns.link("vnet0") {
            assert_eq!((tap.up, tap.master), (false, None));
        }
    }
}

/// EAGAIN is what recvfrom returns when SO_RCVTIMEO runs out; injecting
/// it spares the test the 5 seconds. Whichever answer goes missing, the
/// tap ends as it was found: a request whose answer never came may still
/// have been carried out, so it is undone too.
#[test]
fn a_kernel_that_never_answers_leaves_the_tap_as_found() {
    let Some(ns) = setup() else { return };
    for reads in 1..=IFUP_READS {
        let found = fresh_tap(&ns);
        let before = ns.snapshot();
        let run = silent_at(&ns, &IFUP, reads);
        clean_end(&run, ATTACH);
        run.expect(1);
        assert!(
            run.stderr
                .contains("the kernel did not answer within 5 seconds"),
            "{run:#?}"
        );
        assert_eq!(ns.link("vnet0").as_ref(), Some(&found), "read {reads}");
        // A port that came and went leaves traces on the bridge (its address,
        // the tap's qdisc): the whole namespace is compared only before that.
        if reads < MASTER_ACK {
            assert_eq!(ns.snapshot(), before, "read {reads}: {run:#?}");
        }
    }
    fresh_tap(&ns);
    for reads in 1..=IFDOWN_READS {
        ns.ifup("vnet0", &[]).expect(0);
        let run = silent_at(&ns, &IFDOWN, reads);
        clean_end(&run, "vnet-ifdown: cannot detach vnet0: ");
        run.expect(1);
        assert!(run.stderr.contains("did not answer"), "{run:#?}");
    }
}

/// The same, end to end: a request that never reaches the kernel is never
/// answered, and the binary gives up when its socket's own timeout runs
/// out. Proven by what the kernel did rather than by a clock: strace shows
/// SO_RCVTIMEO set to 5 seconds and the real recvfrom (nothing is injected
/// there) ending in EAGAIN, which is how that timeout ends a receive.
#[test]
fn the_receive_timeout_is_real_and_bounded() {
    let Some(ns) = setup() else { return };
    let found = fresh_tap(&ns);
    let (run, trace) = swallowed(&ns, &IFUP, GET_TAP);
    assert_eq!(
        run.one_line(),
        "vnet-ifup: cannot attach vnet0 to bridge br0: looking up tap vnet0: \
         the kernel did not answer within 5 seconds"
    );
    run.expect(1);
    // 5 seconds, 0 microseconds: decoded, or as the struct's 16 raw bytes.
    let five = [
        "{tv_sec=5, tv_usec=0}",
        "\"\\5\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"",
    ];
    assert!(
        trace
            .lines()
            .any(|l| l.contains("SO_RCVTIMEO") && five.iter().any(|t| l.contains(t))),
        "{trace}"
    );
    let receives: Vec<&str> = trace
        .lines()
        .filter(|l| l.starts_with("recvfrom("))
        .collect();
    assert_eq!(receives.len(), 1, "{trace}");
    assert!(
        receives[0].ends_with("= -1 EAGAIN (Resource temporarily unavailable)"),
        "{trace}"
    );
    assert_eq!(ns.link("vnet0").as_ref(), Some(&found));
}
