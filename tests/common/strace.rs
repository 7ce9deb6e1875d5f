//! Faults and races at a chosen request, made exact with strace: it can
//! fail the n-th sendto or recvfrom with an errno, or stop the binary
//! right after its n-th request. No timing is involved.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use super::{Netns, Run};

/// `bin args` inside `ns` under strace, tracing the syscalls `traced`
/// (a comma-separated list) and injecting `inject` (strace's
/// `-e inject=SYSCALL:...` syntax, without `inject=`), with `env` added to
/// the usual test environment. The trace goes to `trace`.
pub fn spawn(
    ns: &Netns,
    bin: &str,
    args: &[&str],
    env: &[(&str, &str)],
    trace: &Path,
    traced: &str,
    inject: &str,
) -> Child {
    let _ = std::fs::remove_file(trace);
    ns.command("/usr/bin/strace")
        .args(["-qq", "-e", &format!("trace={traced}"), "-o"])
        .arg(trace)
        .args(["-e", &format!("inject={inject}"), bin])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strace")
}

/// Where a test's trace goes.
pub fn trace_path(ns: &Netns) -> PathBuf {
    std::env::temp_dir().join(format!("{}.trace", ns.name))
}

/// Waits for `child` and removes its trace.
pub fn finish(child: Child, trace: &Path) -> Run {
    let run = Run::from(child.wait_with_output().expect("wait"));
    let _ = std::fs::remove_file(trace);
    run
}

/// `bin args` whose `when`-th `syscall` fails with `errno`, not carried out.
pub fn failing(
    ns: &Netns,
    bin: &str,
    args: &[&str],
    env: &[(&str, &str)],
    syscall: &str,
    errno: &str,
    when: u32,
) -> Run {
    let trace = trace_path(ns);
    let inject = format!("{syscall}:error={errno}:when={when}");
    finish(spawn(ns, bin, args, env, &trace, syscall, &inject), &trace)
}
