//! `vnet-ifup` as QEMU's bridge helper, run as root against a faked QEMU
//! side (a socketpair, and recvmsg on its other end) inside the test's
//! namespace: exactly one byte and one descriptor arrive on success, that
//! descriptor is the tap `ip` shows attached, and every refusal sends
//! nothing and leaves nothing behind. Real QEMU and ordinary users are in
//! tests/bridge_helper_qemu.rs.

mod common;

use common::fakeqemu::{self, tap_of, Reply};
use common::{Netns, IFUP};

/// `IFF_TAP`, `IFF_NO_PI`, `IFF_VNET_HDR` as TUNGETIFF reports them.
const IFF_TAP: u16 = 0x0002;
const IFF_NO_PI: u16 = 0x1000;
const IFF_VNET_HDR: u16 = 0x4000;

fn setup() -> Option<Netns> {
    if !common::privileged() {
        return None;
    }
    let ns = Netns::new();
    ns.add_bridge("br0", 9000);
    Some(ns)
}

/// Runs the helper in `ns` as QEMU would: `--use-vnet --fd=N --br=BR`.
fn helper(ns: &Netns, bridge: &str, env: &[(&str, &str)]) -> Reply {
    let mut cmd = ns.command(&IFUP);
    cmd.envs(env.iter().copied());
    fakeqemu::run(cmd, |fd| {
        vec![
            "--use-vnet".into(),
            format!("--fd={fd}"),
            format!("--br={bridge}"),
        ]
    })
}

/// Waits (at most 10 s) until no tap is left. Closing the last copy of a
/// tap's descriptor deletes it; a child another test thread is forking
/// holds copies of all our descriptors until its exec closes them.
fn wait_no_taps(ns: &Netns) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !taps(ns).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "taps left behind: {:?}",
            taps(ns)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The tap names in `ns` that start with "tap".
fn taps(ns: &Netns) -> Vec<String> {
    ns.links()
        .into_keys()
        .filter(|n| n.starts_with("tap"))
        .collect()
}

#[test]
fn one_byte_and_the_attached_tap_arrive_and_the_tap_dies_with_the_fd() {
    let Some(ns) = setup() else { return };
    let reply = helper(&ns, "br0", &[]);
    reply.run.expect(0);
    assert_eq!(reply.run.stderr, "");
    assert_eq!(reply.bytes, [0], "{reply:#?}");
    assert_eq!(reply.fds.len(), 1, "{reply:#?}");
    let (name, flags) = tap_of(&reply.fds[0]);
    assert_eq!(flags & (IFF_TAP | IFF_NO_PI), IFF_TAP | IFF_NO_PI);
    assert_eq!(
        flags & IFF_VNET_HDR,
        IFF_VNET_HDR,
        "--use-vnet on a kernel that has it"
    );
    assert_eq!(taps(&ns), std::slice::from_ref(&name));
    let link = ns.link(&name).expect("the tap");
    assert_eq!(link.master.as_deref(), Some("br0"), "{link:?}");
    assert!(link.up, "{link:?}");
    assert_eq!(link.mtu, 9000, "the bridge's MTU");
    assert!(link.mac.starts_with("fe:"), "{link:?}");
    let details = ns.ip(&["-d", "link", "show", "dev", &name]);
    assert!(details.contains("persist off"), "{details}");
    assert!(details.contains("user root group root"), "{details}");

    drop(reply);
    wait_no_taps(&ns);
}

#[test]
fn without_use_vnet_the_tap_has_no_vnet_header() {
    let Some(ns) = setup() else { return };
    let reply = fakeqemu::run(ns.command(&IFUP), |fd| {
        vec!["--br=br0".into(), format!("--fd={fd}")]
    });
    reply.run.expect(0);
    assert_eq!(tap_of(&reply.fds[0]).1 & IFF_VNET_HDR, 0);
}

#[test]
fn refusals_send_nothing_and_leave_nothing() {
    let Some(ns) = setup() else { return };
    ns.add_tap("vnet9");
    ns.ip(&["link", "add", "ve0", "type", "veth", "peer", "name", "ve1"]);
    let before = ns.snapshot();
    let missing = helper(&ns, "br7", &[]);
    assert_eq!(
        missing.refused(1),
        format!(
            "vnet-ifup: cannot attach {} to bridge br7: bridge br7 does not exist",
            "tap0"
        )
    );
    let not_a_bridge = helper(&ns, "ve0", &[]);
    assert!(not_a_bridge
        .refused(1)
        .ends_with("to bridge ve0: ve0 is a veth device, not a bridge"));
    // CVE-2019-13164: a 16-byte name is refused, not cut to "br0...".
    let long = helper(&ns, "br0xxxxxxxxxxxxx", &[]);
    assert_eq!(
        long.refused(2),
        "vnet-ifup: invalid bridge name \"br0xxxxxxxxxxxxx\": the name is 16 bytes long; the \
         kernel allows at most 15; usage: vnet-ifup [--use-vnet] --br=BRIDGE --fd=N | \
         vnet-ifup --check --br=BRIDGE"
    );
    let bad_config = ns.config("mtu = huge\n");
    let config = helper(&ns, "br0", &[("VNET_CONFIG", bad_config.to_str().unwrap())]);
    assert!(config.refused(2).contains("vnet.conf:1: mtu:"));
    assert_eq!(taps(&ns), Vec::<String>::new());
    assert_eq!(ns.snapshot(), before, "the namespace is as it was");
}

/// Runs the helper with `--fd=` naming something that is not QEMU's socket.
fn with_fd(ns: &Netns, fd: &str) -> Reply {
    let fd = fd.to_owned();
    fakeqemu::run(ns.command(&IFUP), move |_| {
        vec!["--use-vnet".into(), format!("--fd={fd}"), "--br=br0".into()]
    })
}

#[test]
fn an_fd_that_is_not_a_connected_unix_stream_socket_is_refused_first() {
    let Some(ns) = setup() else { return };
    let before = ns.snapshot();
    let usage = "; usage: vnet-ifup [--use-vnet] --br=BRIDGE --fd=N | vnet-ifup --check \
                 --br=BRIDGE";
    for fd in ["0", "1", "2"] {
        assert_eq!(
            with_fd(&ns, fd).refused(2),
            format!(
                "vnet-ifup: --fd={fd} is standard input, output or error, not QEMU's socket{usage}"
            )
        );
    }
    // A descriptor number the child does not have open.
    assert_eq!(
        with_fd(&ns, "1000").refused(2),
        "vnet-ifup: cannot give QEMU a tap on bridge br0: --fd: file descriptor 1000 is not open"
    );
    let missing = fakeqemu::run(ns.command(&IFUP), |_| vec!["--br=br0".into()]);
    assert_eq!(
        missing.refused(2),
        format!("vnet-ifup: missing --fd=N{usage}")
    );

    // A regular file and a pipe, inherited at a known number by a shell.
    let file = ns.path("not-a-socket");
    std::fs::write(&file, "").unwrap();
    for (redirect, what) in [
        (format!("7<>{}", file.display()), "a regular file"),
        ("7<&0".to_owned(), "a pipe"),
    ] {
        let script = format!(
            "exec {IFUP} --use-vnet --fd=7 --br=br0 {redirect}",
            IFUP = *IFUP
        );
        let mut cmd = ns.command("/bin/sh");
        cmd.args(["-c", &script])
            .stdin(std::process::Stdio::piped());
        let reply = fakeqemu::run(cmd, |_| vec![]);
        assert_eq!(
            reply.refused(2),
            format!("vnet-ifup: cannot give QEMU a tap on bridge br0: --fd: file descriptor 7 is {what}, not a Unix stream socket")
        );
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"",
        "nothing was written to the file"
    );
    assert_eq!(ns.snapshot(), before);
}

#[test]
fn check_says_what_would_happen_and_makes_nothing() {
    let Some(ns) = setup() else { return };
    let before = ns.snapshot();
    let conf = ns.config("[match tap*]\nisolated = yes\n");
    let run = ns.run(
        &IFUP,
        &["--check", "--br=br0"],
        &[("VNET_CONFIG", conf.to_str().unwrap())],
    );
    run.expect(0);
    let out = &run.stdout;
    assert!(
        out.starts_with("tap             tap%d (new, named by the kernel"),
        "{out}"
    );
    assert!(out.contains("section [match tap*] at line 1\n"), "{out}");
    assert!(
        out.contains("bridge          br0        (argument --br)\n"),
        "{out}"
    );
    for step in [
        "plan            1. creating the tap, owned by the caller\n",
        "                2. setting the MTU of the tap from 1500 to 9000\n",
        "                3. setting the first octet of the tap's MAC address to fe\n",
        "                4. attaching the tap to br0\n",
        "                5. setting the bridge-port options of the tap: isolated yes\n",
        "                6. setting the tap up\n",
        "                7. sending its file descriptor to QEMU\n",
    ] {
        assert!(out.contains(step), "{step}in\n{out}");
    }
    let missing = ns.run(&IFUP, &["--check", "--br=br7"], &[]);
    assert_eq!(
        missing.expect(1).one_line(),
        "vnet-ifup: cannot attach tap%d to bridge br7: bridge br7 does not exist"
    );
    assert_eq!(ns.snapshot(), before);
}

#[test]
fn sixty_four_helpers_at_once_make_sixty_four_attached_taps() {
    let Some(ns) = setup() else { return };
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let all: Vec<_> = (0..64)
            .map(|_| s.spawn(|| helper(&ns, "br0", &[])))
            .collect();
        all.into_iter().map(|t| t.join().expect("thread")).collect()
    });
    let mut names: Vec<String> = replies
        .iter()
        .map(|r| {
            r.run.expect(0);
            assert_eq!((r.bytes.len(), r.fds.len()), (1, 1), "{r:#?}");
            tap_of(&r.fds[0]).0
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 64, "64 distinct taps: {names:?}");
    let links = ns.links();
    for name in &names {
        let link = &links[name];
        assert_eq!(
            (link.master.as_deref(), link.up),
            (Some("br0"), true),
            "{name}"
        );
    }
    drop(replies);
    wait_no_taps(&ns);
}
