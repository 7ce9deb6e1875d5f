//! Starting dnsmasq with posix_spawn(3): stdin and stdout on /dev/null,
//! stderr into a pipe we read, an empty environment, and no descriptor of
//! ours inherited (ours are close-on-exec). std::process would do the same
//! for 16 KiB more of vnet-ifup, which must stay within 576 KiB.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

/// A started child: its pid and the read end of its stderr.
pub struct Child {
    pub pid: libc::pid_t,
    pub stderr: File,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    match rc {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Spawns `binary` with `args`.
pub fn spawn(binary: &Path, args: &[String]) -> io::Result<Child> {
    let nul = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
    let path = CString::new(binary.as_os_str().as_bytes()).map_err(nul)?;
    let mut owned = vec![path.clone()];
    for arg in args {
        owned.push(CString::new(arg.as_bytes()).map_err(nul)?);
    }
    let mut argv: Vec<*mut libc::c_char> = owned.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv.push(ptr::null_mut());
    let envp: [*mut libc::c_char; 1] = [ptr::null_mut()];
    let mut fds: [RawFd; 2] = [0; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and ours alone.
    let (read, write) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    let null = c"/dev/null";
    let mut pid = 0;
    // SAFETY: the file actions are initialised before use and destroyed
    // after; every pointer handed to posix_spawn outlives the call.
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        check(libc::posix_spawn_file_actions_init(&mut actions))?;
        let result = check(libc::posix_spawn_file_actions_addopen(
            &mut actions,
            0,
            null.as_ptr(),
            libc::O_RDONLY,
            0,
        ))
        .and_then(|()| {
            check(libc::posix_spawn_file_actions_addopen(
                &mut actions,
                1,
                null.as_ptr(),
                libc::O_WRONLY,
                0,
            ))
        })
        .and_then(|()| {
            check(libc::posix_spawn_file_actions_adddup2(
                &mut actions,
                fds[1],
                2,
            ))
        })
        .and_then(|()| {
            check(libc::posix_spawn(
                &mut pid,
                path.as_ptr(),
                &actions,
                ptr::null(),
                argv.as_ptr(),
                envp.as_ptr(),
            ))
        });
        libc::posix_spawn_file_actions_destroy(&mut actions);
        result?;
    }
    drop(write);
    Ok(Child { pid, stderr: read })
}

/// The child's wait status if it has ended; `None` while it runs.
pub fn try_wait(pid: libc::pid_t) -> io::Result<Option<libc::c_int>> {
    let mut status = 0;
    // SAFETY: waitpid writes one int.
    match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
        0 => Ok(None),
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(Some(status)),
    }
}

/// "exit status 3" or "killed by signal 9", as a wait status reads.
pub fn describe(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else {
        format!("killed by signal {}", libc::WTERMSIG(status))
    }
}
