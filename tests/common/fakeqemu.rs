//! QEMU's side of the bridge-helper protocol, faked: a Unix stream
//! socketpair, one end passed to the helper as `--fd=N` (as
//! `net_bridge_run_helper()` does), and everything that arrives on the
//! other end read with recvmsg once the helper has exited.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use super::Run;

/// What the helper did, and what reached QEMU's end of the socket.
#[derive(Debug)]
pub struct Reply {
    pub run: Run,
    /// Every byte that arrived, in order.
    pub bytes: Vec<u8>,
    /// Every descriptor that arrived with SCM_RIGHTS.
    pub fds: Vec<OwnedFd>,
}

impl Reply {
    /// Asserts the helper failed with `code` and one line, and sent nothing.
    pub fn refused(&self, code: i32) -> &str {
        self.run.expect(code);
        assert!(
            self.bytes.is_empty() && self.fds.is_empty(),
            "a refusal sent something: {self:#?}"
        );
        self.run.one_line()
    }
}

/// Runs `cmd` (the helper, or a launcher that execs it) with the
/// arguments `args` makes from the socket's descriptor number.
pub fn run(mut cmd: Command, args: impl FnOnce(RawFd) -> Vec<String>) -> Reply {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let fd = theirs.as_raw_fd();
    cmd.args(args(fd));
    // SAFETY: fcntl is async-signal-safe; the child keeps its end open
    // across exec, as QEMU's child does, and our copy stays close-on-exec.
    unsafe {
        cmd.pre_exec(move || match libc::fcntl(fd, libc::F_SETFD, 0) {
            -1 => Err(std::io::Error::last_os_error()),
            _ => Ok(()),
        });
    }
    let out = cmd.output().expect("run the helper");
    drop(theirs);
    let (bytes, fds) = receive(&ours);
    Reply {
        run: Run::from(out),
        bytes,
        fds,
    }
}

/// Reads to end of file. The helper has exited and our copy of its end is
/// closed, but a child another test thread is forking may hold a copy
/// until its exec closes it: wait for that, boundedly.
fn receive(socket: &UnixStream) -> (Vec<u8>, Vec<OwnedFd>) {
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    let (mut bytes, mut fds) = (Vec::new(), Vec::new());
    loop {
        let mut buf = [0u8; 64];
        let mut space = nix::cmsg_space!([RawFd; 8]);
        let mut iov = [IoSliceMut::new(&mut buf)];
        // QEMU retries on EINTR too (RETRY_ON_EINTR around recv_fd()).
        let msg = loop {
            match recvmsg::<()>(
                socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.expect("recvmsg"),
            }
        };
        for cmsg in msg.cmsgs().expect("control messages") {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                // SAFETY: the kernel just installed these descriptors for us.
                fds.extend(
                    received
                        .iter()
                        .map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        let n = msg.bytes;
        if n == 0 {
            return (bytes, fds);
        }
        bytes.extend_from_slice(&buf[..n]);
    }
}

/// TUNGETIFF on a received descriptor: the tap's name and its IFF_* flags.
pub fn tap_of(fd: &OwnedFd) -> (String, u16) {
    #[repr(C)]
    struct IfReq {
        name: [u8; 16],
        flags: u16,
        _pad: [u8; 22],
    }
    let mut req = IfReq {
        name: [0; 16],
        flags: 0,
        _pad: [0; 22],
    };
    // SAFETY: TUNGETIFF writes one struct ifreq, which `req` is.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETIFF as _, &mut req) };
    assert_eq!(rc, 0, "TUNGETIFF: {}", std::io::Error::last_os_error());
    let len = req.name.iter().position(|&b| b == 0).unwrap_or(16);
    (
        String::from_utf8_lossy(&req.name[..len]).into_owned(),
        req.flags,
    )
}
