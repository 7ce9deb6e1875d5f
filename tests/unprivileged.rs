//! Unprivileged QEMU through vnet as a privileged helper: the binaries are
//! copied, granted cap_net_admin with setcap, and run as ordinary users
//! (setpriv) inside the test's namespace. `ip netns exec` gives each run a
//! private mount namespace, where the test binds its own /etc (passwd,
//! group, vnet/vnet.conf) and its own /dev (a syslog socket as /dev/log):
//! the host's files are never read or changed.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{Netns, Run};

const ALICE: u32 = 4201;
const BOB: u32 = 4202;
const KVM: u32 = 4300;

/// A namespace with bridges br0 and br1, the capable binaries, and a
/// staged /etc and /dev for the runs.
struct Helper {
    ns: Netns,
    root: PathBuf,
    syslog: UnixDatagram,
}

/// How the binaries are made privileged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Install {
    /// `setcap cap_net_admin+ep`, as README.md says.
    FileCaps,
    /// Owned by root, mode 4755, as qemu-bridge-helper often is.
    SetuidRoot,
}

impl Helper {
    fn new(config: &str) -> Option<Helper> {
        Helper::installed(config, Install::FileCaps)
    }

    fn installed(config: &str, install: Install) -> Option<Helper> {
        if !common::privileged() {
            return None;
        }
        let ns = Netns::new();
        ns.add_bridge("br0", 1500);
        ns.add_bridge("br1", 1500);
        let root = std::env::temp_dir().join(format!("{}-helper", ns.name));
        for dir in ["bin", "etc/vnet", "dev"] {
            fs::create_dir_all(root.join(dir)).expect("staging directory");
        }
        for (bin, caps) in [
            (common::IFUP.as_str(), "cap_net_admin,cap_sys_admin+ep"),
            (common::IFDOWN.as_str(), "cap_net_admin+ep"),
        ] {
            let copy = root
                .join("bin")
                .join(PathBuf::from(bin).file_name().expect("name"));
            fs::copy(bin, &copy).expect("copy binary");
            match install {
                Install::FileCaps => {
                    common::run_ok("setcap", &[caps, copy.to_str().expect("path")])
                }
                Install::SetuidRoot => {
                    std::os::unix::fs::chown(&copy, Some(0), Some(0)).expect("chown");
                    fs::set_permissions(&copy, fs::Permissions::from_mode(0o4755)).expect("chmod");
                    String::new()
                }
            };
        }
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nalice:x:4201:4201::/:/bin/sh\nbob:x:4202:4202::/:/bin/sh\n",
        )
        .expect("passwd");
        fs::write(
            root.join("etc/group"),
            "root:x:0:\nalice:x:4201:\nbob:x:4202:\nkvm:x:4300:alice\n",
        )
        .expect("group");
        let syslog = UnixDatagram::bind(root.join("dev/log")).expect("test syslog socket");
        // Like the real /dev/log: anyone may send.
        fs::set_permissions(root.join("dev/log"), fs::Permissions::from_mode(0o666))
            .expect("chmod");
        syslog
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let helper = Helper { ns, root, syslog };
        helper.config(config);
        for dir in ["", "bin", "etc", "etc/vnet", "dev"] {
            fs::set_permissions(helper.root.join(dir), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        Some(helper)
    }

    fn config(&self, text: &str) -> PathBuf {
        let path = self.root.join("etc/vnet/vnet.conf");
        fs::write(&path, text).expect("vnet.conf");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        path
    }

    /// A tap owned by `user` (and `group`), as `ip tuntap add ... user` makes it.
    fn tap(&self, name: &str, user: Option<u32>, group: Option<u32>) {
        let (user, group) = (user.map(|u| u.to_string()), group.map(|g| g.to_string()));
        let mut args = vec!["tuntap", "add", "dev", name, "mode", "tap"];
        if let Some(user) = &user {
            args.extend(["user", user]);
        }
        if let Some(group) = &group {
            args.extend(["group", group]);
        }
        self.ns.ip(&args);
    }

    /// Runs the capable `bin` as `uid` with primary group `uid` and the
    /// supplementary `groups`, with only `env` in its environment.
    fn run_as(
        &self,
        uid: u32,
        groups: &[u32],
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let child = self.spawn_as(uid, groups, bin, args, env);
        Run::from(child.wait_with_output().expect("run"))
    }

    /// [`Helper::run_as`], returning at once. `ip netns exec`, the shell
    /// and setpriv each exec the next: the child's pid is the binary's.
    fn spawn_as(
        &self,
        uid: u32,
        groups: &[u32],
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Child {
        let groups: Vec<String> = groups.iter().map(u32::to_string).collect();
        let groups = match groups.is_empty() {
            true => "--clear-groups".to_owned(),
            false => format!("--groups={}", groups.join(",")),
        };
        let root = self.root.display();
        let script = format!(
            "mount --bind {root}/etc /etc && mount --bind {root}/dev /dev && \
             exec setpriv --reuid={uid} --regid={uid} {groups} {root}/bin/{bin} \"$@\""
        );
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns.name,
                "/bin/sh",
                "-c",
                &script,
                "sh",
            ])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run")
    }

    fn ifup(&self, uid: u32, groups: &[u32], tap: &str, env: &[(&str, &str)]) -> Run {
        self.run_as(uid, groups, "vnet-ifup", &[tap], env)
    }

    /// The next line the helper wrote to our /dev/log.
    fn audit(&self) -> String {
        let mut buf = [0; 2048];
        let n = self
            .syslog
            .recv(&mut buf)
            .expect("an audit line within 2 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    fn master(&self, tap: &str) -> Option<String> {
        self.ns.link(tap).expect("tap").master
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

const ACL: &str = "\
[access br0]
allow = alice
[access br*]
allow = @kvm
deny = bob
";

#[test]
fn an_allowed_user_attaches_and_detaches_their_own_tap_and_it_is_audited() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    run.expect(0);
    assert_eq!(h.master("vnet-a0").as_deref(), Some("br0"));
    let line = h.audit();
    assert!(line.starts_with("<86>vnet-ifup["), "authpriv.info: {line}");
    assert!(
        line.ends_with("]: uid=4201 user=alice tap=vnet-a0 bridge=br0 verdict=attached"),
        "{line}"
    );

    h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-a0"], &[])
        .expect(0);
    assert_eq!(h.master("vnet-a0"), None);
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-a0 bridge=br0 verdict=detached"));
}

#[test]
fn a_bridge_no_rule_allows_is_refused_and_audited() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(ALICE, &[], "vnet-a0", &[("VNET_BRIDGE", "br1")]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-a0 to bridge br1: user alice (uid 4201) may not use \
         bridge br1: no [access] rule in /etc/vnet/vnet.conf allows it"
    );
    assert_eq!(h.master("vnet-a0"), None);
    let line = h.audit();
    assert!(line.starts_with("<84>"), "authpriv.warning: {line}");
    assert!(
        line.contains("uid=4201 user=alice tap=vnet-a0 bridge=br1 verdict=refused reason="),
        "{line}"
    );
}

#[test]
fn a_supplementary_group_allows_and_deny_beats_allow() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a1", Some(ALICE), None);
    h.ifup(ALICE, &[KVM], "vnet-a1", &[("VNET_BRIDGE", "br1")])
        .expect(0);
    assert_eq!(h.master("vnet-a1").as_deref(), Some("br1"));

    h.tap("vnet-b0", Some(BOB), None);
    let run = h.ifup(BOB, &[KVM], "vnet-b0", &[("VNET_BRIDGE", "br1")]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-b0 to bridge br1: user bob (uid 4202) may not use \
         bridge br1: denied by /etc/vnet/vnet.conf:5"
    );
}

#[test]
fn another_users_tap_and_an_ownerless_tap_are_refused() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-b0", Some(BOB), None);
    h.tap("vnet-x0", None, None);
    let run = h.ifup(ALICE, &[], "vnet-b0", &[]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vnet-b0 to bridge br0: vnet-b0 does not belong to user alice \
         (uid 4201): it belongs to uid 4202; create it for them with \"ip tuntap add vnet-b0 \
         mode tap user alice\""
    );
    let run = h.ifup(ALICE, &[], "vnet-x0", &[]);
    assert!(run
        .expect(1)
        .one_line()
        .contains("it has no owner or group, so only root may use it"));

    h.ns.ip(&["link", "set", "vnet-b0", "master", "br0", "up"]);
    let run = h.run_as(ALICE, &[], "vnet-ifdown", &["vnet-b0"], &[]);
    assert!(run
        .expect(1)
        .one_line()
        .starts_with("vnet-ifdown: cannot detach vnet-b0: vnet-b0 does not belong"));
    assert_eq!(
        h.master("vnet-b0").as_deref(),
        Some("br0"),
        "bob's tap stays where it was"
    );
}

#[test]
fn a_group_owned_tap_is_the_groups() {
    let Some(h) = Helper::new("[access *]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-g0", None, Some(KVM));
    h.ifup(ALICE, &[KVM], "vnet-g0", &[]).expect(0);
    assert!(h
        .ifup(BOB, &[], "vnet-g0", &[])
        .expect(1)
        .one_line()
        .contains("it belongs to group 4300"));
}

#[test]
fn vnet_config_is_ignored() {
    let Some(h) = Helper::new("[access br0]\nallow = bob\n") else {
        return;
    };
    let permissive = h.root.join("permissive.conf");
    fs::write(&permissive, "[access *]\nallow = all\n").expect("write");
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.ifup(
        ALICE,
        &[],
        "vnet-a0",
        &[("VNET_CONFIG", permissive.to_str().expect("path"))],
    );
    run.expect(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "vnet-ifup: warning: VNET_CONFIG is ignored: vnet runs as a privileged helper"
    );
    assert!(
        lines[1].ends_with("no [access] rule in /etc/vnet/vnet.conf allows it"),
        "{lines:?}"
    );
}

#[test]
fn a_config_others_could_write_is_refused() {
    let Some(h) = Helper::new("[access *]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-a0", Some(ALICE), None);
    let conf = h.root.join("etc/vnet/vnet.conf");
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    assert_eq!(
        run.expect(2).one_line(),
        "vnet-ifup: /etc/vnet/vnet.conf: must be owned by root and not writable by group or \
         others, since vnet runs as a privileged helper; it is owned by uid 0 with mode 0666"
    );
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::set_permissions(h.root.join("etc/vnet"), fs::Permissions::from_mode(0o775)).expect("chmod");
    let run = h.ifup(ALICE, &[], "vnet-a0", &[]);
    assert!(run
        .expect(2)
        .one_line()
        .starts_with("vnet-ifup: /etc/vnet: must be owned by root"));
    fs::set_permissions(h.root.join("etc/vnet"), fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::chown(&conf, Some(ALICE), None).expect("chown");
    assert!(h
        .ifup(ALICE, &[], "vnet-a0", &[])
        .expect(2)
        .one_line()
        .contains("owned by uid 4201"));
    fs::remove_file(&conf).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", &conf).expect("symlink");
    assert!(h
        .ifup(ALICE, &[], "vnet-a0", &[])
        .expect(2)
        .one_line()
        .contains("is a symbolic link"));
    assert_eq!(h.master("vnet-a0"), None);
}

#[test]
fn long_and_malformed_names_are_refused_before_the_acl() {
    let Some(h) = Helper::new("[access br0*]\nallow = all\n") else {
        return;
    };
    h.tap("vnet-a0", Some(ALICE), None);
    // CVE-2019-13164: qemu-bridge-helper checked a truncated name.
    let run = h.ifup(
        ALICE,
        &[],
        "vnet-a0",
        &[("VNET_BRIDGE", "br0xxxxxxxxxxxxxxxxxx")],
    );
    assert!(run
        .expect(2)
        .one_line()
        .contains("the name is 21 bytes long; the kernel allows at most 15"));
    let run = h.ifup(ALICE, &[], "vnet-a0/../x", &[]);
    assert!(run
        .expect(2)
        .one_line()
        .starts_with("vnet-ifup: invalid tap name"));
    let run = h.ifup(ALICE, &[], "vnet-a0", &[("VNET_BRIDGE", "br0 br1")]);
    assert!(run.expect(2).one_line().contains("whitespace"));
    assert_eq!(h.master("vnet-a0"), None);
}

#[test]
fn only_cap_net_admin_is_kept() {
    let Some(h) = Helper::new(ACL) else { return };
    h.tap("vnet-a0", Some(ALICE), None);
    let run = h.run_as(ALICE, &[], "vnet-ifup", &["--check", "vnet-a0"], &[]);
    run.expect(0);
    // The file grants cap_sys_admin too; the helper sheds it at start.
    assert!(
        run.stdout
            .contains("capabilities    cap_net_admin (all others dropped)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("caller          user alice (uid 4201), groups 4201\n"),
        "{}",
        run.stdout
    );
}

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

#[test]
fn root_is_not_restricted_and_a_missing_dev_log_is_fine() {
    let Some(h) = Helper::new("[access *]\ndeny = all\n") else {
        return;
    };
    h.tap("vnet-r0", None, None);
    fs::remove_file(h.root.join("dev/log")).expect("rm socket");
    let run = h.ifup(0, &[], "vnet-r0", &[]);
    run.expect(0);
    assert_eq!(h.master("vnet-r0").as_deref(), Some("br0"));
    h.tap("vnet-a0", Some(ALICE), None);
    h.ifup(ALICE, &[], "vnet-a0", &[]).expect(1);
}

/// The QEMU command line of README.md's "Running QEMU unprivileged", run
/// by alice herself: QEMU opens her tap and runs the capable scripts.
#[test]
fn qemu_run_by_an_unprivileged_user_attaches_her_tap() {
    let Some(h) = Helper::new(ACL) else { return };
    if !common::qemu::available() {
        return;
    }
    h.tap("vnet-alice0", Some(ALICE), None);
    // The staged /dev gets what QEMU opens; /dev/net/tun is 0666 on a
    // Debian host (here it may be 0600, and the host's stays untouched).
    fs::create_dir_all(h.root.join("dev/net")).expect("mkdir");
    for (node, major, minor) in [("net/tun", "10", "200"), ("null", "1", "3")] {
        let path = h.root.join("dev").join(node);
        common::run_ok(
            "mknod",
            &["-m", "666", path.to_str().expect("path"), "c", major, minor],
        );
    }
    let run = h.root.join("run");
    fs::create_dir_all(&run).expect("mkdir");
    std::os::unix::fs::chown(&run, Some(ALICE), Some(ALICE)).expect("chown");

    let root = h.root.display();
    let script = format!(
        "mount --bind {root}/etc /etc && mount --bind {root}/dev /dev && \
         exec setpriv --reuid={ALICE} --regid={ALICE} --clear-groups --pdeathsig KILL \"$@\""
    );
    let netdev = format!(
        "tap,id=n0,ifname=vnet-alice0,script={root}/bin/vnet-ifup,downscript={root}/bin/vnet-ifdown"
    );
    let args = [
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",
    ];
    let launcher = ["/bin/sh", "-c", &script, "sh"];
    let mut qemu = common::qemu::Qemu::spawn_via(&h.ns, &launcher, &run, &args, &[]);
    let qmp = qemu.qmp();
    assert_eq!(h.master("vnet-alice0").as_deref(), Some("br0"));
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-alice0 bridge=br0 verdict=attached"));

    let run = qemu.quit(qmp);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(h.master("vnet-alice0"), None);
    assert!(h
        .audit()
        .ends_with("uid=4201 user=alice tap=vnet-alice0 bridge=br0 verdict=detached"));
}
