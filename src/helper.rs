//! Privileged-helper mode: when the kernel ran us with more privilege than
//! our caller has (file capabilities or setuid: AT_SECURE), we serve an
//! unprivileged QEMU and must be as careful as a setuid program.

use std::io;
use std::sync::OnceLock;

use nix::unistd::{getgid, getgroups, getuid, setresgid, setresuid, Gid, Uid};

use crate::config::Principal;
use crate::policy::Caller;

/// `CAP_NET_ADMIN` and `CAP_SETPCAP`, from include/uapi/linux/capability.h.
const CAP_NET_ADMIN: u32 = 12;
const CAP_SETPCAP: u32 = 8;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The real uid and gid of the caller we serve, if we are a privileged
/// helper. A real root caller is never restricted, so it gets `None` too.
pub fn privileged_caller() -> Option<(Uid, Gid)> {
    // SAFETY: getauxval reads the auxiliary vector; it has no preconditions.
    let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
    if !secure {
        return None;
    }
    let uid = getuid();
    (!uid.is_root()).then(|| (uid, getgid()))
}

/// The caller, with their names and groups. Called after
/// [`drop_privileges`]: the account files are read as the caller.
pub fn caller(uid: Uid, gid: Gid) -> Caller {
    let mut gids = vec![gid.as_raw()];
    gids.extend(getgroups().unwrap_or_default().iter().map(|g| g.as_raw()));
    gids.sort_unstable();
    gids.dedup();
    let user = names(Accounts::Users, &[uid.as_raw()]).pop();
    let groups = names(Accounts::Groups, &gids);
    Caller {
        uid: uid.as_raw(),
        user,
        gids,
        groups,
    }
}

/// The names of `ids` in /etc/passwd or /etc/group (`name:x:id:...`),
/// read directly as static musl would: the rules name local accounts, and
/// a name that cannot be found simply matches no rule.
fn names(file: Accounts, ids: &[u32]) -> Vec<String> {
    file.text()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse::<u32>().ok()?;
            ids.contains(&id).then(|| name.to_owned())
        })
        .collect()
}

/// Whether the user or group an `[access]` rule names has an entry in
/// /etc/passwd or /etc/group, read as [`caller`] reads them. Ids and
/// `all` need no entry.
pub fn account_exists(who: &Principal) -> bool {
    let (file, name) = match who {
        Principal::User(name) => (Accounts::Users, name),
        Principal::Group(name) => (Accounts::Groups, name),
        Principal::All | Principal::Uid(_) | Principal::Gid(_) => return true,
    };
    file.text()
        .lines()
        .any(|line| line.split(':').next() == Some(name))
}

/// /etc/passwd or /etc/group.
#[derive(Clone, Copy)]
enum Accounts {
    Users,
    Groups,
}

impl Accounts {
    /// The file's text, read at most once per run: the caller's names and
    /// the names the rules give come from one reading, consistent with
    /// each other, and a file read once cannot change in between.
    fn text(self) -> &'static str {
        static USERS: OnceLock<String> = OnceLock::new();
        static GROUPS: OnceLock<String> = OnceLock::new();
        let (cell, path) = match self {
            Accounts::Users => (&USERS, "/etc/passwd"),
            Accounts::Groups => (&GROUPS, "/etc/group"),
        };
        cell.get_or_init(|| std::fs::read_to_string(path).unwrap_or_default())
    }
}

/// Becomes the caller, keeping only CAP_NET_ADMIN (if we have it), as
/// qemu-bridge-helper does with `capng_change_id(..., CAPNG_CLEAR_BOUNDING)`.
///
/// Dropping capabilities is not enough for a setuid-root install: with
/// euid 0, root's files stay writable by ownership and an execve regains
/// every capability. So: every uid and gid becomes the caller's real one
/// (PR_SET_KEEPCAPS keeps the permitted set across that switch), the
/// bounding set is cleared (possible with CAP_SETPCAP, which only a
/// setuid-root install has), effective and permitted hold CAP_NET_ADMIN
/// alone, inheritable and ambient nothing, and no_new_privs is set, so no
/// later execve can gain privilege, whatever the install. With file
/// capabilities the ids are the caller's already and setting them is a no-op.
pub fn drop_privileges(uid: Uid, gid: Gid) -> io::Result<()> {
    let have = capabilities()?;
    prctl(libc::PR_SET_KEEPCAPS, 1)?;
    if have & (1 << CAP_SETPCAP) != 0 {
        // The kernel's last capability is below 64; past it, EINVAL.
        for cap in 0..64 {
            match prctl(libc::PR_CAPBSET_DROP, cap) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
                Err(e) => return Err(e),
            }
        }
    }
    setresgid(gid, gid, gid)?;
    setresuid(uid, uid, uid)?;
    let keep = (have & (1 << CAP_NET_ADMIN)) as u32;
    let data = [
        CapData {
            effective: keep,
            permitted: keep,
            inheritable: 0,
        },
        CapData::default(),
    ];
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: capset reads one header and two data structs, as given.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    prctl(libc::PR_SET_KEEPCAPS, 0)?;
    // SAFETY: prctl with PR_CAP_AMBIENT_CLEAR_ALL takes no pointers.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
}

/// A prctl whose one argument is a number.
fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the options used here take a number and no pointers.
    match unsafe { libc::prctl(option, arg, 0, 0, 0) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The permitted capabilities, bit N for capability N.
pub fn capabilities() -> io::Result<u64> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two data structs, which `data` has room for.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from(data[0].permitted) | u64::from(data[1].permitted) << 32)
}
