//! Making a tap ourselves, for QEMU's bridge-helper protocol: the
//! /dev/net/tun ioctls (include/uapi/linux/if_tun.h, drivers/net/tun.c).
//!
//! The tap is never made persistent: it lives as long as its file
//! descriptor, so when QEMU (or we, on a failure) closes it, the kernel
//! takes it off its bridge and deletes it. Nothing is left to undo.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;

use crate::name::IfName;

/// The character device every tap is made through.
pub const DEVICE: &str = "/dev/net/tun";
/// `IFF_TAP`, `IFF_NO_PI` and `IFF_VNET_HDR`, as TUNSETIFF takes them.
const IFF_TAP: u16 = 0x0002;
const IFF_NO_PI: u16 = 0x1000;
const IFF_VNET_HDR: u16 = 0x4000;
/// `IFF_TUN_EXCL`: fail with EBUSY rather than attach to an existing tap
/// of that name. With CAP_NET_ADMIN, TUNSETIFF on an existing name would
/// open someone else's tap; our names always hold `%d`, and this makes sure.
const IFF_TUN_EXCL: u16 = 0x8000;

/// `struct ifreq` as the tun driver reads it: the name, then the flags.
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: u16,
    _pad: [u8; 22],
}

/// A step of making the tap that failed, with the kernel's errno.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {}", sentence(*.errno))]
pub struct TunError {
    pub step: &'static str,
    pub errno: Errno,
}

fn sentence(errno: Errno) -> String {
    match errno {
        Errno::ENOENT | Errno::ENODEV => format!("{DEVICE} is missing (modprobe tun)"),
        Errno::EACCES => format!("{DEVICE} is not readable and writable by this user"),
        Errno::EPERM => "permission denied: needs CAP_NET_ADMIN \
             (grant the binary cap_net_admin)"
            .into(),
        other => other.desc().to_ascii_lowercase(),
    }
}

/// A tap we made; it vanishes when this value (its only descriptor) drops.
#[derive(Debug)]
pub struct Tap {
    pub name: IfName,
    /// Whether the tap carries virtio-net headers (`IFF_VNET_HDR`).
    pub vnet_hdr: bool,
    file: File,
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// What the new tap should be.
pub struct Request<'a> {
    /// A name with one `%d`, which the kernel replaces with the lowest free
    /// number (`dev_alloc_name()`): two helpers racing get two taps.
    pub pattern: &'a IfName,
    /// Ask for virtio-net headers, if the kernel offers them.
    pub vnet_hdr: bool,
    /// The only user and group who may open it again (TUNSETOWNER, TUNSETGROUP).
    pub owner: u32,
    pub group: u32,
}

/// Makes a non-persistent tap: TUNSETIFF, then its owner and group.
pub fn create(request: &Request<'_>) -> Result<Tap, TunError> {
    let fail = |step| move |errno| TunError { step, errno };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(DEVICE)
        .map_err(|e| TunError {
            step: "opening /dev/net/tun",
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    let fd = file.as_raw_fd();
    let mut flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
    if request.vnet_hdr
        && features(fd).map_err(fail("asking for the tun features"))? & IFF_VNET_HDR != 0
    {
        flags |= IFF_VNET_HDR;
    }
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags,
        _pad: [0; 22],
    };
    let pattern = request.pattern.as_str().as_bytes();
    req.name[..pattern.len()].copy_from_slice(pattern);
    // SAFETY: TUNSETIFF reads and writes one struct ifreq, which `req` is.
    let rc = unsafe { libc::ioctl(fd, libc::TUNSETIFF as _, &mut req) };
    Errno::result(rc).map_err(fail("creating the tap (TUNSETIFF)"))?;
    for (step, ioctl, id) in [
        (
            "setting its owner (TUNSETOWNER)",
            libc::TUNSETOWNER,
            request.owner,
        ),
        (
            "setting its group (TUNSETGROUP)",
            libc::TUNSETGROUP,
            request.group,
        ),
    ] {
        // SAFETY: these ioctls take their argument by value, not a pointer.
        let rc = unsafe { libc::ioctl(fd, ioctl as _, libc::c_ulong::from(id)) };
        Errno::result(rc).map_err(fail(step))?;
    }
    let len = req
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(req.name.len());
    let name = std::str::from_utf8(&req.name[..len])
        .ok()
        .and_then(|n| IfName::new(n).ok())
        .ok_or(TunError {
            step: "reading the new tap's name",
            errno: Errno::EINVAL,
        })?;
    Ok(Tap {
        name,
        vnet_hdr: flags & IFF_VNET_HDR != 0,
        file,
    })
}

/// TUNGETFEATURES: the IFF_* flags this kernel's tun driver accepts.
fn features(fd: libc::c_int) -> Result<u16, Errno> {
    let mut features: libc::c_uint = 0;
    // SAFETY: TUNGETFEATURES writes one unsigned int.
    let rc = unsafe { libc::ioctl(fd, libc::TUNGETFEATURES as _, &mut features) };
    Errno::result(rc)?;
    Ok((features & 0xffff) as u16)
}
