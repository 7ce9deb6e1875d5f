//! `vnet-ifup` as QEMU's bridge helper, run as root against a faked QEMU
//! side (a socketpair, and recvmsg on its other end) inside the test's
//! namespace: exactly one byte and one descriptor arrive on success, that
//! descriptor is the tap `ip` shows attached, and every refusal sends
//! nothing and leaves nothing behind. Real QEMU is in
//! tests/bridge_helper_qemu.rs; ordinary users, setuid and 64 helpers at
//! once in tests/bridge_helper_users.rs.

mod common;

use common::fakeqemu::{self, assert_one_attached_tap, tap_of, taps, wait_no_taps, Reply};
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
    // iproute2 names uid 0 if /etc/passwd does (the kernel-matrix guests have none).
    assert_eq!(assert_one_attached_tap(&ns, "br0", &["root", "0"]), name);
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
        "vnet-ifup: cannot give QEMU a tap on bridge br7: bridge br7 does not exist: create it \
         with \"ip link add br7 type bridge\" and \"ip link set br7 up\", or set \
         \"create-bridge = yes\""
    );
    let not_a_bridge = helper(&ns, "ve0", &[]);
    assert_eq!(
        not_a_bridge.refused(1),
        "vnet-ifup: cannot give QEMU a tap on bridge ve0: ve0 is a veth device, not a bridge"
    );
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
        // "sh" by PATH: the kernel-matrix guests have busybox's, not /bin/sh.
        let mut cmd = ns.command("sh");
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
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
    let conf = ns.config("[match tap%d]\nisolated = yes\n");
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
    assert!(out.contains("section [match tap%d] at line 1\n"), "{out}");
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
        "vnet-ifup: cannot give QEMU a tap on bridge br7: bridge br7 does not exist: create it \
         with \"ip link add br7 type bridge\" and \"ip link set br7 up\", or set \
         \"create-bridge = yes\""
    );
    assert_eq!(ns.snapshot(), before);
}

#[test]
fn a_qemu_gone_before_the_tap_arrives_gets_no_tap_left_behind() {
    let Some(ns) = setup() else { return };
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    drop(ours);
    let fd = std::os::fd::AsRawFd::as_raw_fd(&theirs);
    let mut cmd = ns.command(&IFUP);
    cmd.args(["--use-vnet", &format!("--fd={fd}"), "--br=br0"]);
    // SAFETY: fcntl is async-signal-safe; only the child's copy changes.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            match libc::fcntl(fd, libc::F_SETFD, 0) {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            }
        });
    }
    let run = common::Run::from(cmd.output().expect("run"));
    let line = run.expect(1).one_line();
    assert!(
        line.starts_with("vnet-ifup: cannot give QEMU tap tap0 on bridge br0: sending it over"),
        "{line}"
    );
    assert!(line.ends_with(": broken pipe; tap0 is deleted"), "{line}");
    wait_no_taps(&ns);
}

/// Issue 13's rule holds for the bridge helper too: an `[access]` name
/// that no account has is a configuration error with its line, never a
/// rule that silently matches no one.
#[test]
fn an_access_rule_naming_nobody_is_a_configuration_error() {
    let Some(ns) = setup() else { return };
    let config = ns.path("vnet.conf");
    std::fs::write(&config, "[access br0]\nallow = nobdy-at-all\n").expect("config");
    let config = config.to_str().expect("path").to_owned();
    let reply = helper(&ns, "br0", &[("VNET_CONFIG", &config)]);
    assert_eq!(
        reply.refused(2),
        format!("vnet-ifup: {config}:2: allow: there is no user \"nobdy-at-all\" in /etc/passwd")
    );
    wait_no_taps(&ns);
}
