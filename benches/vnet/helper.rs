//! The bridge-helper round trip: from spawning the helper as QEMU does
//! (`--use-vnet --fd=N --br=br0`, one end of a socketpair) to holding the
//! tap's descriptor and having reaped the helper; then the descriptor is
//! closed, which deletes the tap. vnet-ifup against Debian's setuid C
//! qemu-bridge-helper and against the floor (one exec of an empty static
//! binary). All run as root here, so neither applies access rules.

use std::fmt::Write;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use crate::measure::summary;

/// Debian's qemu-bridge-helper (package qemu-system-common).
pub const QEMU_HELPER: &str = "/usr/lib/qemu/qemu-bridge-helper";

/// Median / p90 wall times, µs, by row.
pub struct RoundTrips {
    rows: Vec<(&'static str, Vec<Duration>)>,
}

/// Gives this process a private mount namespace whose /etc is an overlay,
/// so qemu-bridge-helper can read an /etc/qemu/bridge.conf of ours
/// (`allow br0`) while the host's /etc is never written.
pub fn stage_bridge_conf(dir: &std::path::Path) {
    // SAFETY: plain syscall; the bench is single-threaded.
    assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNS) }, 0, "unshare");
    let private = libc::MS_REC | libc::MS_PRIVATE;
    mount(None, "/", None, private, None);
    let (upper, work) = (dir.join("etc-upper"), dir.join("etc-work"));
    for d in [&upper, &work] {
        std::fs::create_dir_all(d).expect("overlay directory");
    }
    let options = format!(
        "lowerdir=/etc,upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    mount(Some("overlay"), "/etc", Some("overlay"), 0, Some(&options));
    std::fs::create_dir_all("/etc/qemu").expect("/etc/qemu in the overlay");
    std::fs::write("/etc/qemu/bridge.conf", "allow br0\n").expect("bridge.conf");
}

fn mount(
    source: Option<&str>,
    target: &str,
    kind: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) {
    use std::ffi::CString;
    let c = |s: &str| CString::new(s).expect("no NUL");
    let (source, target) = (source.map(c), c(target));
    let (kind, data) = (kind.map(c), data.map(c));
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is a live NUL-terminated string or null.
    let rc = unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&kind),
            flags,
            ptr(&data).cast(),
        )
    };
    assert_eq!(
        rc,
        0,
        "mount {target:?}: {}",
        std::io::Error::last_os_error()
    );
}

/// One round trip of `helper`; panics unless exactly one byte and one
/// descriptor arrive and the helper exits 0.
fn round_trip(helper: &str, env: &[(&str, &str)]) -> Duration {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let fd = theirs.as_raw_fd();
    let mut cmd = Command::new(helper);
    cmd.args(["--use-vnet", &format!("--fd={fd}"), "--br=br0"])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // SAFETY: fcntl is async-signal-safe; only the child's copy changes.
    unsafe {
        cmd.pre_exec(move || match libc::fcntl(fd, libc::F_SETFD, 0) {
            -1 => Err(std::io::Error::last_os_error()),
            _ => Ok(()),
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{helper}: {e}"));
    drop(theirs);
    let tap = receive(ours.as_raw_fd());
    let status = child.wait().expect("wait");
    let elapsed = start.elapsed();
    assert!(status.success(), "{helper} failed: {status}");
    drop(tap);
    elapsed
}

fn receive(socket: RawFd) -> OwnedFd {
    let mut byte = [0u8; 1];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut byte)];
    let msg = recvmsg::<()>(
        socket,
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    assert_eq!(msg.bytes, 1, "one byte");
    let fds: Vec<RawFd> = msg
        .cmsgs()
        .expect("cmsgs")
        .filter_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => Some(fds),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fds.len(), 1, "one descriptor");
    // SAFETY: the kernel just installed this descriptor for us.
    unsafe { OwnedFd::from_raw_fd(fds[0]) }
}

/// Alternates the floor, vnet-ifup and qemu-bridge-helper `iters` times
/// (after five thrown away), the first of them rotating.
pub fn time(iters: usize, floor: &str, vnet: &str, env: &[(&str, &str)]) -> RoundTrips {
    let mut rows: Vec<(&'static str, Vec<Duration>)> = vec![
        ("floor: one exec of an empty static binary", Vec::new()),
        ("**vnet-ifup** as bridge helper", Vec::new()),
        ("qemu-bridge-helper (Debian, C)", Vec::new()),
    ];
    for i in 0..iters + 5 {
        for b in 0..3 {
            let row = (i + b) % 3;
            let cost = match row {
                0 => crate::measure::run(&[floor], &[]).wall,
                1 => round_trip(vnet, env),
                _ => round_trip(QEMU_HELPER, &[]),
            };
            if i >= 5 {
                rows[row].1.push(cost);
            }
        }
    }
    RoundTrips { rows }
}

impl RoundTrips {
    /// The table, in markdown.
    pub fn render(&self, iters: usize) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Bridge-helper round trip (`-netdev bridge,helper=`): spawn to tap \
             descriptor received and helper reaped, wall µs, median / p90 of {iters} \
             alternating iterations, as root in a namespace with br0 and 10 interfaces:\n"
        );
        let _ = writeln!(t, "| per tap | wall µs |");
        let _ = writeln!(t, "|---|---:|");
        for (title, sample) in &self.rows {
            let (median, p90) = summary(sample);
            let _ = writeln!(t, "| {title} | {median:.0} / {p90:.0} |");
        }
        t
    }
}
