//! One guest run under QEMU, bounded in time, and its serial console.

use std::fs::{File, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;

use super::Kernel;

/// Boot and every suite, under TCG on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(300);
/// A KVM guest that works reaches userspace in a second or two. Nested
/// KVM can accept the VM and then hang in the kernel's setup code (seen on
/// a firecracker host), so KVM must prove itself by reaching userspace.
const KVM_PROBE: Duration = Duration::from_secs(15);
/// Set once KVM failed that proof: later boots go straight to TCG.
static KVM_FAILED: AtomicBool = AtomicBool::new(false);

/// How a guest run went.
pub struct Run {
    pub accel: &'static str,
    pub console: String,
    pub wall: Duration,
    ended: String,
    qemu: String,
    log: PathBuf,
}

impl Run {
    /// Everything the run said, for a failure message.
    pub fn transcript(&self) -> String {
        format!(
            "QEMU ({}) {} after {:.1} s\n--- console ({}) ---\n{}\n--- QEMU ---\n{}",
            self.accel,
            self.ended,
            self.wall.as_secs_f64(),
            self.log.display(),
            self.console,
            self.qemu
        )
    }
}

/// QEMU, killed and reaped however the test ends, a panic included.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Boots `kernel` with `initrd` until the guest powers off, under KVM if
/// it works here, else TCG; the console and QEMU's messages go to `dir`.
pub fn boot(kernel: &Kernel, initrd: &Path, dir: &Path) -> Run {
    if !KVM_FAILED.load(Ordering::SeqCst) && kvm_opens() {
        let run = run(kernel, initrd, dir, "kvm");
        if run.console.contains("VNET-BOOTED") {
            return run;
        }
        KVM_FAILED.store(true, Ordering::SeqCst);
        let why = run.qemu.lines().next().unwrap_or_default();
        let note = format!(
            "\n*** NOTE: no userspace under KVM, so TCG: QEMU {}; {why} ***\n",
            run.ended
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    }
    run(kernel, initrd, dir, "tcg")
}

fn kvm_opens() -> bool {
    let kvm = OpenOptions::new().read(true).write(true).open("/dev/kvm");
    kvm.is_ok()
}

fn run(kernel: &Kernel, initrd: &Path, dir: &Path, accel: &'static str) -> Run {
    let log = dir.join("console.log");
    let qemu_log = dir.join("qemu.log");
    let _ = std::fs::remove_file(&log);
    let out = File::create(&qemu_log).expect("create qemu.log");
    let mut cmd = Command::new("qemu-system-x86_64");
    // One vCPU: with two, multi-threaded TCG ran the suites about twice as
    // slowly on a 2-core host that boots both kernels at once.
    cmd.args(["-accel", accel, "-M", "pc", "-m", "512", "-smp", "1"])
        .args(["-cpu", if accel == "kvm" { "host" } else { "max" }])
        .args(["-nodefaults", "-no-user-config", "-display", "none"])
        // panic=-1 reboots at once, and -no-reboot turns that into an exit.
        .args(["-no-reboot", "-append", "console=ttyS0 quiet panic=-1"])
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .arg("-kernel")
        .arg(&kernel.vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out);
    // Should this process be killed (a CI timeout), the kernel kills QEMU,
    // which Drop cannot: it fires when the spawning test thread exits.
    let die_with_parent = || Ok(set_pdeathsig(Signal::SIGKILL)?);
    // SAFETY: prctl is async-signal-safe, as a pre_exec closure must be.
    unsafe { cmd.pre_exec(die_with_parent) };
    let start = Instant::now();
    let mut qemu = Qemu(cmd.spawn().expect("start qemu-system-x86_64"));
    let console = || std::fs::read_to_string(&log).unwrap_or_default();
    let probe = if accel == "kvm" { KVM_PROBE } else { LIMIT };
    let mut booted = false;
    let ended = loop {
        if let Some(status) = qemu.0.try_wait().expect("wait for QEMU") {
            break format!("ended with {status}");
        }
        let elapsed = start.elapsed();
        if elapsed >= LIMIT {
            break format!("was killed: no power-off within {} s", LIMIT.as_secs());
        }
        booted = booted || (elapsed >= probe && console().contains("VNET-BOOTED"));
        if elapsed >= probe && !booted {
            break format!("was killed: no userspace within {} s", probe.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(qemu);
    Run {
        accel,
        console: console(),
        wall: start.elapsed(),
        ended,
        qemu: std::fs::read_to_string(&qemu_log).unwrap_or_default(),
        log,
    }
}
