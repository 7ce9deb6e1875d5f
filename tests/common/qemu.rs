//! QEMU itself, inside the test's namespace: paused (`-S`), with no guest,
//! no display and no default devices. Creating a tap netdev runs `script=`
//! and `downscript=` all the same, which is all these tests need.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::qmp::Qmp;
use super::{Netns, Run, IFDOWN, IFUP};

const BINARY: &str = "qemu-system-x86_64";

/// Paused CPUs, no display, no default devices, and TCG so that no
/// /dev/kvm is needed: QEMU does nothing but create its netdevs.
const NO_GUEST: [&str; 6] = [
    "-S",
    "-display",
    "none",
    "-nodefaults",
    "-machine",
    "accel=tcg",
];

/// How long QEMU gets to bring QMP up, or to exit once asked.
const BOUND: Duration = Duration::from_secs(15);

/// Whether QEMU can run here. If not, prints why; under `CI=true` that is
/// a test failure instead, so CI cannot pass without running QEMU.
pub fn available() -> bool {
    if binary().is_some() {
        return true;
    }
    let why = format!("{BINARY} is not on PATH (Debian's qemu-system-x86; sh scripts/install-deps.sh installs it)");
    super::cannot_run("QEMU test", &why);
    false
}

fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(BINARY))
        .find(|p| p.is_file())
}

/// The `-netdev` value of README.md's "Using it with QEMU", naming the
/// binaries under test.
pub fn tap_netdev(id: &str, ifname: &str) -> String {
    format!(
        "tap,id={id},ifname={ifname},script={},downscript={}",
        *IFUP, *IFDOWN
    )
}

/// A running QEMU; killed and reaped on drop, also when the test panics.
pub struct Qemu {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Qemu {
    /// Starts QEMU in `ns` with `args` after the common ones. `env` is its
    /// whole environment besides `VNET_CONFIG` (an empty file unless `env`
    /// sets it); QEMU hands it on to the scripts.
    pub fn spawn(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> Qemu {
        Qemu::spawn_via(ns, &[], &ns.path(""), args, env)
    }

    /// `spawn` through `launcher`, a command that ends by exec'ing its
    /// arguments (QEMU's command line), e.g. to run QEMU as another user.
    /// The QMP socket goes in `dir`, which QEMU must be able to write.
    pub fn spawn_via(
        ns: &Netns,
        launcher: &[&str],
        dir: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Qemu {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let socket = dir.join(format!("qmp-{n}.sock"));
        let log = ns.path(&format!("qemu-{n}.log"));
        let qmp = format!("unix:{},server=on,wait=off", socket.display());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name])
            .args(launcher)
            .arg(binary().expect("qemu-system-x86_64 (check available() first)"))
            .args(NO_GUEST)
            .args(["-qmp", &qmp])
            .args(args);
        cmd.env_clear().env("VNET_CONFIG", ns.empty_config());
        cmd.envs(env.iter().copied());
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        cmd.stderr(File::create(&log).expect("QEMU log file"));
        // Drop cannot run if the test process is killed (a CI timeout, say);
        // then the kernel kills QEMU. It survives `ip`'s execve, and fires
        // when the spawning thread exits, which the test thread does last.
        let die_with_parent = || Ok(set_pdeathsig(Signal::SIGKILL)?);
        // SAFETY: prctl is async-signal-safe, as a pre_exec closure must be.
        unsafe { cmd.pre_exec(die_with_parent) };
        // `ip netns exec` execs QEMU in place, so this pid is QEMU's own.
        let child = cmd.spawn().expect("run ip netns exec qemu-system-x86_64");
        Qemu { child, socket, log }
    }

    /// `spawn`, then connect to QMP once QEMU is up, which is after the
    /// `-netdev` options have been created and their scripts have run.
    pub fn start(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> (Qemu, Qmp) {
        let mut qemu = Qemu::spawn(ns, args, env);
        let qmp = qemu.qmp();
        (qemu, qmp)
    }

    /// Connects to QMP, waiting until QEMU has made the socket.
    pub fn qmp(&mut self) -> Qmp {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll QEMU") {
                panic!(
                    "QEMU exited ({status}) before QMP was up:\n{}",
                    self.stderr()
                );
            }
            if let Ok(stream) = std::os::unix::net::UnixStream::connect(&self.socket) {
                return Qmp::handshake(stream);
            }
            assert!(Instant::now() < deadline, "no QMP socket after {BOUND:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to QEMU.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.child.id().try_into().expect("pid"));
        kill(pid, signal).expect("signal QEMU");
    }

    /// QMP `quit`, then `wait`.
    pub fn quit(&mut self, mut qmp: Qmp) -> Run {
        qmp.quit();
        self.wait()
    }

    /// Waits for QEMU to exit; returns its status and everything it and
    /// the scripts wrote to stderr.
    pub fn wait(&mut self) -> Run {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll QEMU") {
                return Run {
                    code: status.code(),
                    stdout: String::new(),
                    stderr: self.stderr(),
                };
            }
            assert!(
                Instant::now() < deadline,
                "QEMU still running after {BOUND:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What QEMU and the scripts have written to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
