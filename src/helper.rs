//! Privileged-helper mode: when the kernel ran us with more privilege than
//! our caller has (file capabilities or setuid: AT_SECURE), we serve an
//! unprivileged QEMU and must be as careful as a setuid program.

use std::io;

use nix::unistd::{getgid, getgroups, getuid};

use crate::config::Principal;
use crate::policy::Caller;

/// `CAP_NET_ADMIN`, from include/uapi/linux/capability.h.
const CAP_NET_ADMIN: u32 = 12;
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

/// The caller we serve, if we are a privileged helper. A real root caller
/// is never restricted, so it gets `None` too.
pub fn caller() -> Option<Caller> {
    // SAFETY: getauxval reads the auxiliary vector; it has no preconditions.
    let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
    if !secure {
        return None;
    }
    let uid = getuid();
    if uid.is_root() {
        return None;
    }
    let gid = getgid();
    let mut gids = vec![gid.as_raw()];
    gids.extend(getgroups().unwrap_or_default().iter().map(|g| g.as_raw()));
    gids.sort_unstable();
    gids.dedup();
    let user = names("/etc/passwd", &[uid.as_raw()]).pop();
    let groups = names("/etc/group", &gids);
    Some(Caller {
        uid: uid.as_raw(),
        user,
        gids,
        groups,
    })
}

/// The names of `ids` in /etc/passwd or /etc/group (`name:x:id:...`),
/// read directly as static musl would: the rules name local accounts, and
/// a name that cannot be found simply matches no rule.
fn names(file: &str, ids: &[u32]) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
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
        Principal::User(name) => ("/etc/passwd", name),
        Principal::Group(name) => ("/etc/group", name),
        Principal::All | Principal::Uid(_) | Principal::Gid(_) => return true,
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .any(|line| line.split(':').next() == Some(name))
}

/// Keeps CAP_NET_ADMIN, if we have it, and drops every other capability
/// from the effective, permitted and inheritable sets.
pub fn drop_capabilities() -> io::Result<()> {
    let keep = (capabilities()? & (1 << CAP_NET_ADMIN)) as u32;
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
    // SAFETY: prctl with PR_CAP_AMBIENT_CLEAR_ALL takes no pointers.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    Ok(())
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
