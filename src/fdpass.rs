//! Handing a file descriptor to QEMU: one byte with SCM_RIGHTS over the
//! Unix socket QEMU gave us, after making sure that is what the number is.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};

/// `SO_DOMAIN` from include/uapi/asm-generic/socket.h (x86 uses the
/// generic numbers); the libc crate has it for Android but not for Linux.
const SO_DOMAIN: libc::c_int = 39;

/// Why a descriptor number is not a socket we may send on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotASocket {
    #[error("file descriptor {0} is not open")]
    Closed(RawFd),
    #[error("file descriptor {fd} is {what}, not a Unix stream socket")]
    Kind { fd: RawFd, what: &'static str },
    #[error("file descriptor {0} is a socket but not a Unix stream socket")]
    Family(RawFd),
    #[error("file descriptor {0} is a Unix stream socket that is not connected")]
    NotConnected(RawFd),
    #[error("file descriptor {fd}: {}", .errno.desc().to_ascii_lowercase())]
    Other { fd: RawFd, errno: Errno },
}

/// Checks that `fd` is an open, connected `AF_UNIX` `SOCK_STREAM` socket,
/// changing nothing: so that a caller cannot make us write to a file, a
/// pipe or a terminal.
pub fn check_socket(fd: RawFd) -> Result<(), NotASocket> {
    let other = |errno| NotASocket::Other { fd, errno };
    // SAFETY: fstat writes one struct stat; an invalid fd is EBADF.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if let Err(errno) = Errno::result(unsafe { libc::fstat(fd, &mut st) }) {
        return Err(match errno {
            Errno::EBADF => NotASocket::Closed(fd),
            errno => other(errno),
        });
    }
    let what = match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => None,
        libc::S_IFREG => Some("a regular file"),
        libc::S_IFIFO => Some("a pipe"),
        libc::S_IFCHR => Some("a character device"),
        libc::S_IFDIR => Some("a directory"),
        libc::S_IFBLK => Some("a block device"),
        _ => Some("not a socket"),
    };
    if let Some(what) = what {
        return Err(NotASocket::Kind { fd, what });
    }
    let domain = int_option(fd, SO_DOMAIN).map_err(other)?;
    let kind = int_option(fd, libc::SO_TYPE).map_err(other)?;
    if domain != libc::AF_UNIX || kind != libc::SOCK_STREAM {
        return Err(NotASocket::Family(fd));
    }
    // A socketpair's end has an (unnamed) peer; a listening or fresh
    // socket has none, and sending on it could never reach QEMU.
    match nix::sys::socket::getpeername::<UnixAddr>(fd) {
        Ok(_) => Ok(()),
        Err(Errno::ENOTCONN) => Err(NotASocket::NotConnected(fd)),
        Err(errno) => Err(other(errno)),
    }
}

fn int_option(fd: RawFd, option: libc::c_int) -> Result<libc::c_int, Errno> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            std::ptr::addr_of_mut!(value).cast(),
            &mut len,
        )
    };
    Errno::result(rc).map(|_| value)
}

/// Sends one zero byte carrying `fd` (SCM_RIGHTS), as qemu-bridge-helper's
/// `send_fd()` does and QEMU's `recv_fd()` expects. Never blocks: a socket
/// whose buffer is full fails with EAGAIN rather than hanging QEMU.
pub fn send_fd(socket: RawFd, fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let fds = [fd.as_raw_fd()];
    let byte = [0u8];
    let sent = sendmsg::<()>(
        socket,
        &[IoSlice::new(&byte)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
        None,
    )?;
    match sent {
        1 => Ok(()),
        _ => Err(Errno::EIO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

    #[test]
    fn only_a_connected_unix_stream_socket_passes() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(check_socket(a.as_raw_fd()), Ok(()));
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(
            check_socket(file.as_raw_fd()),
            Err(NotASocket::Kind {
                fd: file.as_raw_fd(),
                what: "a regular file"
            })
        );
        let (r, _w) = nix::unistd::pipe().unwrap();
        assert!(matches!(
            check_socket(r.as_raw_fd()),
            Err(NotASocket::Kind { what: "a pipe", .. })
        ));
        let (d, _e) = UnixDatagram::pair().unwrap();
        assert_eq!(
            check_socket(d.as_raw_fd()),
            Err(NotASocket::Family(d.as_raw_fd()))
        );
        let dir = std::env::temp_dir().join(format!("vnet-fdpass-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let listener = UnixListener::bind(&dir).unwrap();
        let _ = std::fs::remove_file(&dir);
        assert_eq!(
            check_socket(listener.as_raw_fd()),
            Err(NotASocket::NotConnected(listener.as_raw_fd()))
        );
        // Far above any descriptor this test process has open.
        assert_eq!(check_socket(999_999), Err(NotASocket::Closed(999_999)));
    }
}
