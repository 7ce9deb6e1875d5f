//! Reading the configuration file without ever hanging or exhausting us:
//! `VNET_CONFIG` may name a FIFO, a device or something huge.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;

/// makedev(1, 3): `/dev/null`, read as an empty configuration.
const DEV_NULL: u64 = 0x103;
/// A configuration is a few hundred bytes.
const MAX_SIZE: u64 = 1 << 20;

/// Opens without blocking (a FIFO would otherwise hang QEMU) and refuses
/// anything but a regular file or `/dev/null` (an empty configuration).
/// `trusted` adds the privileged helper's demands: no symlink, root's file.
pub(super) fn read(path: &Path, trusted: bool) -> io::Result<Vec<u8>> {
    let mut flags = OFlag::O_NONBLOCK;
    if trusted {
        flags |= OFlag::O_NOFOLLOW;
    }
    let mut file = File::options()
        .read(true)
        .custom_flags(flags.bits())
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(code) if trusted && code == Errno::ELOOP as i32 => io::Error::other(
                "is a symbolic link; a privileged helper reads only root's own file",
            ),
            _ => e,
        })?;
    let meta = file.metadata()?;
    let dev_null = meta.file_type().is_char_device() && meta.rdev() == DEV_NULL;
    if !meta.is_file() && !dev_null {
        return Err(io::Error::other("not a regular file"));
    }
    if trusted {
        super::trust::check(&meta).map_err(io::Error::other)?;
    }
    if meta.len() > MAX_SIZE {
        return Err(io::Error::other(
            "larger than 1 MiB: not a configuration file",
        ));
    }
    // One read of the size fstat gave, plus a byte to see the end: std's
    // read_to_end would fstat and seek again, then read once more for it.
    let mut bytes = vec![0; meta.len() as usize + 1];
    let mut filled = 0;
    loop {
        filled += match file.read(&mut bytes[filled..]) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // A short read of a regular file is its end.
        if filled < bytes.len() {
            break;
        }
        if filled as u64 > MAX_SIZE {
            return Err(io::Error::other("grew past 1 MiB while being read"));
        }
        bytes.resize(2 * bytes.len(), 0);
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// What went wrong, as the end of `file: ...`.
pub(super) fn sentence(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => match e.raw_os_error() {
            Some(errno) => Errno::from_raw(errno).desc().to_ascii_lowercase(),
            None => e.to_string(),
        },
    }
}
