//! libvirtd itself, as root, inside the test's network namespace and a
//! mount namespace of its own, driven with `virsh`.
//!
//! `ip netns exec` gives libvirtd a private mount namespace (slave to the
//! host's, so nothing mounted there leaks out). In it, overlays with their
//! upper layers in the test's directory cover `/etc` and `/var`: the test
//! writes `/etc/libvirt/*.conf`, `/etc/vnet/vnet.conf` and copies of
//! `/etc/passwd` and `/etc/group` with a `libvirt-qemu` user (libvirt
//! resolves it before reading qemu.conf), and libvirtd makes
//! `/var/lib/libvirt`, `/var/cache/libvirt` and `/var/log/libvirt`, none of
//! which exist on a host without `libvirt-daemon-system`. A directory of the
//! test's is bound over `/run`, so virsh reaches the daemon's socket from
//! outside by its path. The host's files are never written.

use std::fs::File;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub mod domain;
pub mod events;
pub mod log;
pub mod session;

use super::{Netns, Run};

/// How long libvirtd gets to make its socket, and a virsh command to
/// finish (the first one waits while libvirtd probes QEMU under TCG).
const BOUND: Duration = Duration::from_secs(120);

/// The environment libvirtd starts with, besides a test's own variables:
/// each of the variables libvirt hands on to scripts, so a test sees which
/// arrive (a loader path that does not exist changes nothing).
pub const DAEMON_ENV: [(&str, &str); 6] = [
    ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
    ("HOME", "/root"),
    ("USER", "root"),
    ("LOGNAME", "root"),
    ("TMPDIR", "/tmp"),
    ("LD_LIBRARY_PATH", "/nonexistent"),
];

/// What libvirtd needs to run QEMU as root in a namespace without systemd:
/// no confinement, no mount namespace, no cgroups, no virtlogd.
const QEMU_CONF: &str = "user = \"root\"\ngroup = \"root\"\nsecurity_driver = \"none\"\n\
namespaces = [ ]\ncgroup_controllers = [ ]\nstdio_handler = \"file\"\n";

/// Root connects without polkit. Warnings from everything, and debug lines
/// from the code that runs commands and makes or deletes taps: that log
/// shows each script's environment, exit status and stderr, and when it ran.
const LIBVIRTD_CONF: &str = "auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n\
log_filters = \"1:util.command 1:util.netdevtap 1:qemu.qemu_process\"\n\
log_outputs = \"1:stderr\"\n";

/// Mounts the overlays and `/run`, then becomes libvirtd. `$1` is the
/// test's libvirt directory.
const SETUP: &str = "set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir=$1/etc/up,workdir=$1/etc/work /etc
mount -t overlay overlay -o lowerdir=/var,upperdir=$1/var/up,workdir=$1/var/work /var
mount --bind $1/run /run
exec libvirtd";

/// Whether libvirt can run here. If not, prints why; under `CI=true` that
/// is a test failure instead, so CI cannot pass without running libvirt.
pub fn available() -> bool {
    let missing = ["libvirtd", "virsh"].into_iter().find(|b| !on_path(b));
    let Some(missing) = missing else { return true };
    let why = format!(
        "{missing} is not in {} (Debian: apt-get install libvirt-daemon \
         libvirt-daemon-driver-qemu libvirt-clients)",
        DAEMON_ENV[0].1
    );
    super::cannot_run("libvirt test", &why);
    false
}

/// Whether `name` is on the PATH the daemon and virsh are given.
fn on_path(name: &str) -> bool {
    std::env::split_paths(DAEMON_ENV[0].1).any(|dir| dir.join(name).is_file())
}

/// A libvirtd in its own namespaces; it and every process in the network
/// namespace (its QEMUs, which it daemonizes) are killed on drop, also when
/// the test panics, and then the namespace goes.
pub struct Libvirtd {
    daemon: Child,
    dir: PathBuf,
    /// The ordinary user a session daemon runs as; `None` for root's.
    user: Option<u32>,
    /// A session daemon's `/dev/log`.
    syslog: Option<UnixDatagram>,
    pub ns: Netns,
}

impl Libvirtd {
    /// Starts libvirtd in `ns` with `vnet_conf` as `/etc/vnet/vnet.conf`
    /// and `env` added to [`DAEMON_ENV`], and waits for its socket. `None`
    /// (loudly; a failure under `CI=true`) if it cannot start.
    pub fn start(ns: Netns, vnet_conf: &str, env: &[(&str, &str)]) -> Option<Libvirtd> {
        let dir = ns.path("libvirt");
        for sub in ["var/up", "var/work", "run"] {
            std::fs::create_dir_all(dir.join(sub)).expect("libvirt directories");
        }
        let qemu_user = "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n";
        let etc = stage_etc(&dir, vnet_conf, qemu_user, "libvirt-qemu:x:64055:\n");
        std::fs::create_dir_all(etc.join("libvirt")).expect("etc/libvirt");
        std::fs::write(etc.join("libvirt/qemu.conf"), QEMU_CONF).expect("qemu.conf");
        std::fs::write(etc.join("libvirt/libvirtd.conf"), LIBVIRTD_CONF).expect("libvirtd.conf");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name, "sh", "-c", SETUP, "setup"])
            .arg(&dir);
        cmd.env_clear().envs(DAEMON_ENV).envs(env.iter().copied());
        Libvirtd::spawn(cmd, dir, None, ns)
    }

    /// Starts `cmd`, which ends by exec'ing libvirtd, and waits for the
    /// daemon's socket.
    fn spawn(mut cmd: Command, dir: PathBuf, user: Option<u32>, ns: Netns) -> Option<Libvirtd> {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        cmd.stderr(File::create(dir.join("libvirtd.log")).expect("libvirtd log"));
        // If the test process is killed, the kernel kills libvirtd; its
        // QEMUs go when the next run sweeps the namespace.
        let die_with_parent = || Ok(set_pdeathsig(Signal::SIGKILL)?);
        // SAFETY: prctl is async-signal-safe, as a pre_exec closure must be.
        unsafe { cmd.pre_exec(die_with_parent) };
        let daemon = cmd.spawn().expect("run ip netns exec sh");
        let mut libvirtd = Libvirtd {
            daemon,
            dir,
            user,
            syslog: None,
            ns,
        };
        libvirtd.wait_ready().then_some(libvirtd)
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + BOUND;
        while !self.socket().exists() {
            let exited = self.daemon.try_wait().expect("poll libvirtd");
            if exited.is_some() || Instant::now() > deadline {
                let why = format!("libvirtd did not start ({exited:?}):\n{}", self.log());
                super::cannot_run("libvirt test", &why);
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    fn socket(&self) -> PathBuf {
        match self.user {
            None => self.dir.join("run/libvirt/libvirt-sock"),
            Some(_) => self.dir.join("xdg/libvirt/libvirt-sock"),
        }
    }

    /// `virsh -c qemu:///system?socket=... ARGS` (`qemu:///session` as the
    /// daemon's user for a session daemon), bounded.
    pub fn virsh(&self, args: &[&str]) -> Run {
        let out = self.dir.join("virsh.out");
        let err = self.dir.join("virsh.err");
        let mut cmd = Command::new(if self.user.is_some() {
            "setpriv"
        } else {
            "virsh"
        });
        cmd.env_clear();
        if let Some(uid) = self.user {
            let uid = uid.to_string();
            cmd.args(["--reuid", &uid, "--regid", &uid, "--clear-groups", "virsh"]);
            cmd.env("HOME", self.dir.join("home"));
            cmd.env("XDG_RUNTIME_DIR", self.dir.join("xdg"));
        }
        let mode = if self.user.is_some() {
            "session"
        } else {
            "system"
        };
        let uri = format!("qemu:///{mode}?socket={}", self.socket().display());
        let mut child = cmd
            .args(["-q", "-c", &uri])
            .args(args)
            .env("PATH", DAEMON_ENV[0].1)
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("virsh stdout"))
            .stderr(File::create(&err).expect("virsh stderr"))
            .spawn()
            .expect("run virsh");
        let deadline = Instant::now() + BOUND;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll virsh") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "virsh {args:?} still running after {BOUND:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        Run {
            code: status.code(),
            stdout: read(&out),
            stderr: read(&err),
        }
    }

    /// `virsh create --paused` of `xml`: QEMU starts with its CPUs stopped,
    /// after libvirt has made the taps and run the scripts.
    pub fn create(&self, xml: &str) -> Run {
        let path = self.dir.join("domain.xml");
        std::fs::write(&path, xml).expect("write domain XML");
        self.virsh(&["create", "--paused", path.to_str().expect("UTF-8 path")])
    }

    /// Everything libvirtd has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("libvirtd.log")).unwrap_or_default()
    }
}

/// The upper layer of the `/etc` overlay under `dir`: `vnet_conf` as
/// `/etc/vnet/vnet.conf`, and the host's passwd and group with `passwd`
/// and `group` lines added. Returns its path.
fn stage_etc(dir: &Path, vnet_conf: &str, passwd: &str, group: &str) -> PathBuf {
    let etc = dir.join("etc/up");
    for sub in ["etc/up/vnet", "etc/work"] {
        std::fs::create_dir_all(dir.join(sub)).expect("etc directories");
    }
    let host = |path: &str| std::fs::read_to_string(path).expect(path);
    let write = |path: &str, text: &str| std::fs::write(etc.join(path), text).expect(path);
    write("vnet/vnet.conf", vnet_conf);
    write("passwd", &(host("/etc/passwd") + passwd));
    write("group", &(host("/etc/group") + group));
    etc
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        // libvirtd daemonizes QEMU, so killing libvirtd alone would leave
        // it running: every process in this test's namespace goes.
        for pid in super::netns_pids(&self.ns.name) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
