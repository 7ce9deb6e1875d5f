//! Ordinary users in the test's namespace: the binaries are copied and
//! granted cap_net_admin with setcap, and run as ordinary users (setpriv).
//! `ip netns exec` gives each run a private mount namespace, where the test
//! binds its own /etc (passwd, group, vnet/vnet.conf) and its own /dev (a
//! syslog socket as /dev/log): the host's files are never read or changed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::qemu::Qemu;
use super::{Netns, Run};

/// The `[access]` rules the bridge-helper suites run under.
pub const ACL: &str = "\
[access br0]
allow = alice
[access br*]
allow = @kvm
deny = bob
";

pub const ALICE: u32 = 4201;
pub const BOB: u32 = 4202;
pub const KVM: u32 = 4300;

/// A namespace with bridges br0 and br1, the capable binaries, and a
/// staged /etc and /dev for the runs.
pub struct Helper {
    pub ns: Netns,
    pub root: PathBuf,
    syslog: UnixDatagram,
}

/// How the binaries are made privileged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// `setcap cap_net_admin+ep`, as README.md says.
    FileCaps,
    /// Owned by root, mode 4755, as qemu-bridge-helper often is.
    SetuidRoot,
}

impl Helper {
    pub fn new(config: &str) -> Option<Helper> {
        Helper::installed(config, Install::FileCaps)
    }

    /// A staged namespace with the rules of [`ACL`] whose br0 has MTU
    /// 9000, or `None` when this machine cannot run the test (with `qemu`,
    /// also when QEMU is missing).
    pub fn jumbo(qemu: bool) -> Option<Helper> {
        let h = Helper::new(ACL)?;
        if qemu && !super::qemu::available() {
            return None;
        }
        h.ns.ip(&["link", "set", "br0", "mtu", "9000"]);
        Some(h)
    }

    pub fn installed(config: &str, install: Install) -> Option<Helper> {
        if !super::privileged() {
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
            (super::IFUP.as_str(), "cap_net_admin,cap_sys_admin+ep"),
            (super::IFDOWN.as_str(), "cap_net_admin+ep"),
        ] {
            let copy = root
                .join("bin")
                .join(PathBuf::from(bin).file_name().expect("name"));
            fs::copy(bin, &copy).expect("copy binary");
            match install {
                Install::FileCaps => {
                    super::run_ok("setcap", &[caps, copy.to_str().expect("path")]);
                }
                Install::SetuidRoot => {
                    std::os::unix::fs::chown(&copy, Some(0), Some(0)).expect("chown");
                    fs::set_permissions(&copy, fs::Permissions::from_mode(0o4755)).expect("chmod");
                }
            }
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
        // What QEMU and a bridge helper open. /dev/net/tun is 0666 on a
        // Debian host; the host's may be 0600 here, and stays untouched.
        fs::create_dir_all(root.join("dev/net")).expect("mkdir");
        for (node, major, minor) in [("net/tun", "10", "200"), ("null", "1", "3")] {
            let path = root.join("dev").join(node);
            super::run_ok(
                "mknod",
                &["-m", "666", path.to_str().expect("path"), "c", major, minor],
            );
        }
        let helper = Helper { ns, root, syslog };
        helper.config(config);
        for dir in ["", "bin", "etc", "etc/vnet", "dev", "dev/net"] {
            fs::set_permissions(helper.root.join(dir), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        Some(helper)
    }

    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.root.join("etc/vnet/vnet.conf");
        fs::write(&path, text).expect("vnet.conf");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        path
    }

    /// A tap owned by `user` (and `group`), as `ip tuntap add ... user` makes it.
    pub fn tap(&self, name: &str, user: Option<u32>, group: Option<u32>) {
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
    /// supplementary `groups`, with only `env` in its environment. A run
    /// still going after a minute is a hang (QEMU would wait forever):
    /// it is killed and the test fails.
    pub fn run_as(
        &self,
        uid: u32,
        groups: &[u32],
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
        let mut child = self.spawn_as(uid, groups, bin, args, env);
        let start = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{bin} {args:?} as uid {uid} still runs after a minute: it hangs");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Run::from(child.wait_with_output().expect("output"))
    }

    /// [`Helper::run_as`], returning at once. `ip netns exec`, the shell
    /// and setpriv each exec the next: the child's pid is the binary's.
    pub fn spawn_as(
        &self,
        uid: u32,
        groups: &[u32],
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Child {
        self.command_as(uid, groups, bin, env)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run")
    }

    /// `run_as` before its arguments: they are appended to the command.
    pub fn command_as(&self, uid: u32, groups: &[u32], bin: &str, env: &[(&str, &str)]) -> Command {
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
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.ns.name,
            "/bin/sh",
            "-c",
            &script,
            "sh",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(env.iter().copied());
        cmd
    }

    /// Starts QEMU as `uid` (no supplementary groups) with `args`, seeing
    /// the staged /etc and /dev, and no VNET_CONFIG (the helper would warn).
    pub fn qemu_as(&self, uid: u32, args: &[&str]) -> Qemu {
        let run = self.root.join(format!("run-{uid}"));
        fs::create_dir_all(&run).expect("mkdir");
        std::os::unix::fs::chown(&run, Some(uid), Some(uid)).expect("chown");
        let root = self.root.display();
        let script = format!(
            "mount --bind {root}/etc /etc && mount --bind {root}/dev /dev && \
             unset VNET_CONFIG && \
             exec setpriv --reuid={uid} --regid={uid} --clear-groups --pdeathsig KILL \"$@\""
        );
        let launcher = ["/bin/sh", "-c", &script, "sh"];
        Qemu::spawn_via(&self.ns, &launcher, &run, args, &[])
    }

    /// A setuid-root copy of vnet-ifup, `bin/NAME`, for the other way a
    /// distribution may install a privileged helper.
    pub fn setuid_ifup(&self, name: &str) {
        let copy = self.root.join("bin").join(name);
        fs::copy(super::IFUP.as_str(), &copy).expect("copy binary");
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o4755)).expect("chmod u+s");
    }

    /// The path of a capable binary, as a QEMU run by `qemu_as` sees it.
    pub fn bin(&self, name: &str) -> String {
        self.root.join("bin").join(name).display().to_string()
    }

    pub fn ifup(&self, uid: u32, groups: &[u32], tap: &str, env: &[(&str, &str)]) -> Run {
        self.run_as(uid, groups, "vnet-ifup", &[tap], env)
    }

    /// The next `n` audit lines, however slowly a loaded machine makes them.
    pub fn audits(&self, n: usize) -> Vec<String> {
        let patient = Some(Duration::from_secs(30));
        self.syslog.set_read_timeout(patient).expect("timeout");
        let lines = (0..n).map(|_| self.audit()).collect();
        let usual = Some(Duration::from_secs(2));
        self.syslog.set_read_timeout(usual).expect("timeout");
        lines
    }

    /// The next line the helper wrote to our /dev/log.
    pub fn audit(&self) -> String {
        let mut buf = [0; 2048];
        let n = self.syslog.recv(&mut buf).expect("an audit line in time");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Makes our syslog a daemon that stopped reading: sends to its socket
    /// until the queue is full (net.unix.max_dgram_qlen), then never reads.
    pub fn stall_syslog(&self) {
        let path = self.root.join("dev/log");
        let full = || {
            let sender = UnixDatagram::unbound().expect("socket");
            sender.set_nonblocking(true).expect("nonblocking");
            match sender.send_to(b"<14>test: filler", &path) {
                Ok(_) => false,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                Err(e) => panic!("filling the test syslog: {e}"),
            }
        };
        while !full() {}
    }

    pub fn master(&self, tap: &str) -> Option<String> {
        self.ns.link(tap).expect("tap").master
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}
