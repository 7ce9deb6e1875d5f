//! What a privileged helper is while it runs, and what it writes: the
//! kernel's own account of its credentials (/proc/PID/status) for a
//! file-capability and a setuid-root install, and its audit line for a
//! name full of control bytes. Staged as tests/unprivileged.rs stages its
//! runs (tests/common/users.rs).

mod common;

use std::fs;
use std::time::Duration;

use common::users::{Helper, Install, ALICE};
use common::Run;

const ACL: &str = "\
[access br0]
allow = alice
[access br*]
allow = @kvm
deny = bob
";

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
/// there until the test, having read its status, writes the file.
/// setpriv (same pid, before its exec) reads it first, for --regid.
fn credentials_while_running(h: &Helper, bin: &str, args: &[&str]) -> (String, Run) {
    use std::os::unix::fs::OpenOptionsExt;
    let group = h.root.join("etc/group");
    let text = fs::read(&group).expect("group");
    fs::remove_file(&group).expect("rm");
    common::run_ok("mkfifo", &["-m", "644", group.to_str().expect("path")]);
    let mut child = h.spawn_as(ALICE, &[], bin, args, &[]);
    let comm = format!("/proc/{}/comm", child.id());
    let is_bin = || fs::read_to_string(&comm).is_ok_and(|c| c.trim() == bin);
    let mut status = None;
    while child.try_wait().expect("wait").is_none() {
        // Succeeds once a reader has the FIFO open and waits for data.
        let Ok(mut fifo) = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&group)
        else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let ours = is_bin();
        if ours {
            let path = format!("/proc/{}/status", child.id());
            status = Some(fs::read_to_string(path).expect("status"));
        }
        std::io::Write::write_all(&mut fifo, &text).expect("write the FIFO");
        drop(fifo);
        if ours {
            break;
        }
        // setpriv reads to the end, then execs the binary, which closes its
        // copy of the FIFO: only then can the next reader be the binary.
        while !is_bin() && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let run = Run::from(child.wait_with_output().expect("wait"));
    fs::remove_file(&group).expect("rm");
    fs::write(&group, text).expect("group");
    let status = status.unwrap_or_else(|| panic!("{bin} never read /etc/group: {run:#?}"));
    (status, run)
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
