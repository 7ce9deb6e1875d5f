//! dnsmasq, the DHCP and router-advertisement server libvirt also uses:
//! found on `PATH`, started detached with its own pid and lease files,
//! recognised later by its pid file and command line, stopped by teardown.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::runtime::Runtime;
use super::spawn;
use super::NetError;
use crate::config::Network;
use crate::name::IfName;

/// Where to look when `PATH` is unset, as execvp(3) does, plus sbin.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long dnsmasq may take to start (it reports after binding) or stop.
const WAIT: Duration = Duration::from_secs(10);

/// The dnsmasq binary on `PATH`.
pub fn find() -> Result<PathBuf, NetError> {
    let path = std::env::var_os("PATH").filter(|p| !p.is_empty());
    let path = path.unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    std::env::split_paths(&path)
        .map(|dir| dir.join("dnsmasq"))
        .find(|p| p.is_file())
        .ok_or(NetError::NoDnsmasq)
}

/// dnsmasq's arguments for `net`: DHCP (and RA) on the bridge only, DNS
/// forwarding on the bridge's address, no configuration file of its own.
pub fn args(net: &Network, runtime: &Runtime) -> Vec<String> {
    let bridge = &net.bridge;
    let file = |suffix| runtime.file(bridge, suffix).display().to_string();
    let mut args = vec![
        "--conf-file=/dev/null".to_owned(),
        format!("--pid-file={}", file("dnsmasq.pid")),
        format!("--dhcp-leasefile={}", file("leases")),
        format!("--interface={bridge}"),
        "--bind-interfaces".to_owned(),
        "--except-interface=lo".to_owned(),
        "--strict-order".to_owned(),
    ];
    if let Some((first, last)) = net.dhcp {
        let mask = net.ipv4.netmask();
        args.push(format!("--dhcp-range={first},{last},{mask},{}", net.lease));
        args.push("--dhcp-no-override".to_owned());
        args.push("--dhcp-authoritative".to_owned());
    }
    if let (true, Some(v6)) = (net.ra, net.ipv6) {
        args.push("--enable-ra".to_owned());
        let prefix = v6.network();
        args.push(format!(
            "--dhcp-range={},ra-only,{}",
            prefix.addr, prefix.prefix
        ));
    }
    args
}

/// Starts dnsmasq, which forks, binds and exits 0 once its daemon runs;
/// a non-zero exit comes with its own message on stderr.
pub fn start(binary: &Path, net: &Network, runtime: &Runtime) -> Result<(), NetError> {
    // dnsmasq creates its lease file before it can fail to bind: one that
    // was not there before a failed start is removed again.
    let leases = runtime.file(&net.bridge, "leases");
    let had_leases = leases.exists();
    let result = run(binary, net, runtime);
    if result.is_err() && !had_leases {
        let _ = super::runtime::remove(&leases);
    }
    result
}

fn run(binary: &Path, net: &Network, runtime: &Runtime) -> Result<(), NetError> {
    let mut child =
        spawn::spawn(binary, &args(net, runtime)).map_err(NetError::io("starting dnsmasq"))?;
    let start = Instant::now();
    let status = loop {
        match spawn::try_wait(child.pid) {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < WAIT => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                // SAFETY: kill and waitpid on our own child.
                unsafe {
                    libc::kill(child.pid, libc::SIGKILL);
                    libc::waitpid(child.pid, std::ptr::null_mut(), 0);
                }
                return Err(NetError::Dnsmasq(
                    "it did not finish starting within 10 seconds".into(),
                ));
            }
            Err(e) => return Err(NetError::io("waiting for dnsmasq")(e)),
        }
    };
    if status == 0 {
        return Ok(());
    }
    let read = &mut child.stderr;
    // The daemon, if any, has stderr on /dev/null: what is in the pipe
    // is all there is, so read it without waiting for an end.
    // SAFETY: fcntl on the pipe's read end, which we own.
    unsafe { libc::fcntl(read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut text = Vec::new();
    let _ = read.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = line.strip_prefix("dnsmasq: ").unwrap_or(line);
    let status = spawn::describe(status);
    Err(NetError::Dnsmasq(format!(
        "{} ({status})",
        line.escape_debug()
    )))
}

/// The pid of the dnsmasq vnet started for this network, if it runs:
/// the pid file names a live process whose command line names a pid file
/// of that name and the bridge (the directory may be seen through another
/// mount, as a privileged helper's tests do). A zombie's command line is
/// empty, so a dead dnsmasq not yet reaped is not running.
pub fn running(runtime: &Runtime, bridge: &IfName) -> Option<i32> {
    let pid_file = runtime.file(bridge, "dnsmasq.pid");
    let pid = read_small(&pid_file)?;
    let pid: i32 = std::str::from_utf8(&pid).ok()?.trim().parse().ok()?;
    let cmdline = read_small(Path::new(&format!("/proc/{pid}/cmdline")))?;
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let name = format!("/{bridge}.dnsmasq.pid");
    let interface = format!("--interface={bridge}");
    let ours = args
        .iter()
        .any(|a| a.starts_with(b"--pid-file=") && a.ends_with(name.as_bytes()))
        && args.contains(&interface.as_bytes());
    ours.then_some(pid)
}

/// A small file (a pid file, a command line, a procfs switch) in one
/// read: every attach looks at these, and std's read_to_end would fstat
/// and read twice. The openat system call itself rather than File::open
/// or musl's open(), which set FD_CLOEXEC again with an fcntl per file
/// (for kernels older than 2.6.23).
pub fn read_small(path: &Path) -> Option<Vec<u8>> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let flags = libc::O_RDONLY | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated path that outlives the call; no other pointers.
    let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: openat just returned this descriptor, owned by nothing else.
    let file = fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut buf = [0; 4096];
    let n = (&file).read(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// Stops the dnsmasq of this network, if it runs, waiting for it to go.
pub fn stop(runtime: &Runtime, bridge: &IfName) -> Result<bool, NetError> {
    let Some(pid) = running(runtime, bridge) else {
        return Ok(false);
    };
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let start = Instant::now();
    // Not `running`: dnsmasq removes its pid file, and the kernel empties
    // its command line, before its sockets are closed; a set-up right
    // after would find port 67 still taken.
    while !gone(pid) {
        if start.elapsed() > WAIT {
            return Err(NetError::Dnsmasq(format!(
                "pid {pid} did not stop within 10 seconds"
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(true)
}

/// Whether `pid` has exited with its descriptors closed: no such
/// process, or a zombie (the kernel closes files before it makes one).
fn gone(pid: i32) -> bool {
    let Some(stat) = read_small(Path::new(&format!("/proc/{pid}/stat"))) else {
        return true;
    };
    // The state follows the command name, which is in parentheses and may
    // hold any byte, so it is found from the last ')'.
    let after = stat.iter().rposition(|&b| b == b')').map_or(0, |i| i + 1);
    matches!(stat.get(after + 1), Some(b'Z' | b'X'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_live_process_is_not_gone_and_a_reaped_one_is() {
        assert!(!gone(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // Exits, and is then a zombie, not reaped, until the wait below.
        let start = Instant::now();
        while !gone(pid) && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        assert!(stat.contains(") Z "), "{stat}");
        assert!(gone(pid));
        child.wait().unwrap();
        assert!(gone(pid));
    }

    #[test]
    fn arguments_serve_the_bridge_only() {
        let text = "[network nat0]\naddress = 10.77.0.1/24 fd00:77::1/64\n\
                    dhcp-range = 10.77.0.100 10.77.0.199\nipv6-ra = yes\n";
        let config = Config::parse("t", text.as_bytes()).unwrap();
        let net = config.network(&IfName::new("nat0").unwrap()).unwrap();
        let runtime = Runtime {
            dir: PathBuf::from("/run/vnet"),
        };
        let args = args(net, &runtime);
        assert!(args.contains(&"--pid-file=/run/vnet/nat0.dnsmasq.pid".to_owned()));
        assert!(args.contains(&"--dhcp-leasefile=/run/vnet/nat0.leases".to_owned()));
        assert!(args.contains(&"--interface=nat0".to_owned()));
        assert!(
            args.contains(&"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,3600".to_owned())
        );
        assert!(args.contains(&"--dhcp-range=fd00:77::,ra-only,64".to_owned()));
    }
}
