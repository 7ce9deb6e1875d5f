//! Running one command and what it cost: wall time, peak RSS, syscalls,
//! tasks created and user-space instructions.

use std::ops::{Add, Div, Sub};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a command cost: wall time, and the CPU time (user +
/// system) of the process and the children it waited for. The kernel
/// handles an rtnetlink request in the sender's context, so system time
/// includes the kernel's work; unlike wall time, it excludes waiting for a
/// CPU or for RTNL while other engineers' jobs run on this machine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            wall: self.wall + o.wall,
            cpu: self.cpu + o.cpu,
        }
    }
}

impl Sub for Cost {
    type Output = Cost;
    fn sub(self, o: Cost) -> Cost {
        Cost {
            wall: self.wall.saturating_sub(o.wall),
            cpu: self.cpu.saturating_sub(o.cpu),
        }
    }
}

impl Div<u32> for Cost {
    type Output = Cost;
    fn div(self, n: u32) -> Cost {
        Cost {
            wall: self.wall / n,
            cpu: self.cpu / n,
        }
    }
}

fn duration(t: libc::timeval) -> Duration {
    Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000)
}

/// Runs `argv` with `env`, output discarded, and insists it succeeds:
/// a benchmark of a failing command measures nothing.
pub fn run(argv: &[&str], env: &[(&str, &str)]) -> Cost {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    // Reaped by wait4 below, which Child::wait cannot replace.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", argv[0]));
    // wait4 rather than Child::wait: it also hands back the child's rusage.
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for the kernel to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointers are to live locals; the pid is our own child.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as i32, "wait4 {argv:?}");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{argv:?} failed with wait status {status:#x}"
    );
    Cost {
        wall,
        cpu: duration(usage.ru_utime) + duration(usage.ru_stime),
    }
}

/// Runs `argv` under `strace -f -c` and returns (syscalls, tasks created):
/// every thread and process counts, so a script's `ip` children do too.
pub fn syscalls(argv: &[&str], env: &[(&str, &str)], out: &Path) -> (u64, u64) {
    let out_str = out.to_str().expect("UTF-8 path");
    let mut all = vec!["strace", "-f", "-c", "-o", out_str];
    all.extend_from_slice(argv);
    run(&all, env);
    let text = std::fs::read_to_string(out).expect("strace -c output");
    let calls = |row: &str| -> u64 {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|w| w.last() == Some(&row))
            .map(|w| w[3].parse::<u64>().expect("calls column"))
            .sum()
    };
    let tasks = ["clone", "clone3", "fork", "vfork"].map(calls).iter().sum();
    (calls("total"), tasks)
}

/// User-space instructions of one run, counted by callgrind: unlike wall
/// time on a shared VM, this is the same from run to run.
pub fn instructions(argv: &[&str], env: &[(&str, &str)], out: &Path) -> u64 {
    let log = format!("--log-file={}", out.display());
    let mut all = vec![
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        &log,
    ];
    all.extend_from_slice(argv);
    run(&all, env);
    let text = std::fs::read_to_string(out).expect("valgrind log");
    text.lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in:\n{text}"))
}

/// Peak RSS of `argv` itself, in KiB. Not `ru_maxrss`: exec carries the
/// parent's RSS over into it (the spawning process is counted). Instead
/// strace holds the process at exit_group for a moment, while its own
/// VmHWM is read from /proc.
pub fn peak_rss_kib(argv: &[&str], env: &[(&str, &str)]) -> u64 {
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-o", "/dev/null", "-e", "trace=exit_group"])
        .args(["-e", "inject=exit_group:delay_enter=500000"])
        .args(argv)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null());
    let mut strace = cmd.spawn().expect("strace");
    let children = format!("/proc/{0}/task/{0}/children", strace.id());
    let mut hwm = 0;
    while strace.try_wait().expect("wait strace").is_none() {
        let tracee = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = tracee.split_whitespace().next() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
            let vm_hwm = status.ok().and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse().ok()
            });
            // The last reading is the one taken at exit_group; an early one
            // may still be strace's own, between its fork and the exec.
            hwm = vm_hwm.unwrap_or(hwm);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    hwm
}

/// Median and 90th percentile of a sample, in microseconds.
pub fn summary(sample: &[Duration]) -> (f64, f64) {
    let mut us: Vec<f64> = sample.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9))
}
