//! What a privileged helper is while it runs, and what it writes: the
//! kernel's own account of its credentials (/proc/PID/status) for a
//! file-capability and a setuid-root install, and its audit line for a
//! name full of control bytes. Staged as tests/unprivileged.rs stages its
//! runs (tests/common/users.rs).

mod common;

use std::fs;
use std::time::Duration;

use common::users::{Helper, Install, ACL, ALICE};
use common::Run;

/// Issue 16, defect 3: a name with control bytes went into authpriv raw,
/// where it could forge a log line.
#[test]
fn control_bytes_never_reach_the_audit_log() {
    let Some(h) = Helper::new(ACL) else { return };
    let run = h.ifup(ALICE, &[], "a\x1b[2J\x7f\"", &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach a\\x1b[2J\\x7f\\\" to bridge br0: tap a\\x1b[2J\\x7f\\\" \
         does not exist"
    );
    let line = h.audit();
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(
        line.contains(" tap=a\\x1b[2J\\x7f\\\" bridge=br0 verdict=refused reason="),
        "{line}"
    );
}

/// The credentials of `bin` run by alice, read by the kernel's own
/// account of them (/proc/PID/status), while it works. /etc/group becomes
/// a FIFO: the helper reads it after dropping privileges, and waits
/// there, blocked in open(2), until the test has read its status and
/// opens the FIFO to write the file. The binary is started by
/// [`spawn_alone`], so no other process ever opens the FIFO.
fn credentials_while_running(h: &Helper, bin: &str, args: &[&str]) -> (String, Run) {
    use std::os::unix::fs::OpenOptionsExt;
    let group = h.root.join("etc/group");
    let text = fs::read(&group).expect("group");
    fs::remove_file(&group).expect("rm");
    common::run_ok("mkfifo", &["-m", "644", group.to_str().expect("path")]);
    let mut child = spawn_alone(h, ALICE, bin, args);
    let mut status = None;
    while child.try_wait().expect("wait").is_none() {
        // Succeeds once the binary has the FIFO open and waits for data.
        let Ok(mut fifo) = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&group)
        else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let path = format!("/proc/{}/status", child.id());
        status = Some(fs::read_to_string(path).expect("status"));
        std::io::Write::write_all(&mut fifo, &text).expect("write the FIFO");
        break;
    }
    let run = Run::from(child.wait_with_output().expect("wait"));
    fs::remove_file(&group).expect("rm");
    fs::write(&group, text).expect("group");
    let status = status.unwrap_or_else(|| panic!("{bin} never read /etc/group: {run:#?}"));
    (status, run)
}

/// Runs the staged `bin` as `uid` (its own primary group, no others) in
/// the test's network namespace and a private mount namespace with the
/// staged /etc and /dev, as `Helper::spawn_as` does, but with no shell,
/// `mount` or setpriv in between: the child sets itself up before exec.
fn spawn_alone(h: &Helper, uid: u32, bin: &str, args: &[&str]) -> std::process::Child {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let netns = fs::File::open(format!("/run/netns/{}", h.ns.name)).expect("netns");
    let c = |p: &str| CString::new(p).expect("path");
    let binds = [
        (c(&format!("{}/etc", h.root.display())), c("/etc")),
        (c(&format!("{}/dev", h.root.display())), c("/dev")),
    ];
    let root = c("/");
    let mut cmd = Command::new(h.bin(bin));
    cmd.args(args)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe syscalls on data prepared before fork.
    unsafe {
        cmd.pre_exec(move || {
            let ok = |r: libc::c_int| match r {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            };
            ok(libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET))?;
            ok(libc::unshare(libc::CLONE_NEWNS))?;
            let none = std::ptr::null();
            ok(libc::mount(
                none,
                root.as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                none as _,
            ))?;
            for (from, to) in &binds {
                ok(libc::mount(
                    from.as_ptr(),
                    to.as_ptr(),
                    none,
                    libc::MS_BIND,
                    none as _,
                ))?;
            }
            ok(libc::setgroups(0, std::ptr::null()))?;
            ok(libc::setresgid(uid, uid, uid))?;
            ok(libc::setresuid(uid, uid, uid))
        });
    }
    cmd.spawn().expect("spawn")
}

/// The lines of /proc/PID/status that say who a process is and what it may do.
fn privileges(status: &str) -> Vec<&str> {
    let keys = [
        "Name:",
        "Uid:",
        "Gid:",
        "CapInh:",
        "CapPrm:",
        "CapEff:",
        "CapBnd:",
        "CapAmb:",
        "NoNewPrivs:",
    ];
    status
        .lines()
        .filter(|l| keys.iter().any(|k| l.starts_with(k)))
        .collect()
}

/// Issue 16, defect 4: a setuid-root install kept euid 0 and the full
/// bounding set. It must become alice, with CAP_NET_ADMIN alone and
/// nothing any later execve could regain.
#[test]
fn a_setuid_root_install_becomes_the_caller_with_cap_net_admin_alone() {
    let Some(h) = Helper::installed(ACL, Install::SetuidRoot) else {
        return;
    };
    h.tap("vnet-a0", Some(ALICE), None);
    let (status, run) = credentials_while_running(&h, "vnet-ifup", &["vnet-a0"]);
    run.expect(0);
    assert_eq!(
        privileges(&status),
        [
            "Name:\tvnet-ifup",
            "Uid:\t4201\t4201\t4201\t4201",
            "Gid:\t4201\t4201\t4201\t4201",
            "CapInh:\t0000000000000000",
            "CapPrm:\t0000000000001000",
            "CapEff:\t0000000000001000",
            "CapBnd:\t0000000000000000",
            "CapAmb:\t0000000000000000",
            "NoNewPrivs:\t1",
        ],
        "{status}"
    );
    assert_eq!(h.master("vnet-a0").as_deref(), Some("br0"));
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-a0 bridge=br0 verdict=attached"));
    h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-a0"], &[])
        .expect(0);
    assert_eq!(h.master("vnet-a0"), None);
}

/// The file-capability install ends the same way, though the bounding
/// set is the caller's own (clearing it needs CAP_SETPCAP).
#[test]
fn a_file_capability_install_becomes_the_caller_too() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let (status, run) = credentials_while_running(&h, "vnet-ifup", &["vnet-a0"]);
    run.expect(0);
    let lines = privileges(&status);
    for want in [
        "Uid:\t4201\t4201\t4201\t4201",
        "CapInh:\t0000000000000000",
        "CapPrm:\t0000000000001000",
        "CapEff:\t0000000000001000",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
    ] {
        assert!(lines.contains(&want), "{want}: {status}");
    }
}
