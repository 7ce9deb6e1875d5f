//! What a privileged helper demands of its configuration file: that root
//! alone could have written it, as sudo demands of sudoers and ssh of
//! authorized_keys. Otherwise any user could write themselves an ACL.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Checks the directories above `path`, nearest first; a missing one is
/// fine (then the file is missing too and nothing is allowed).
pub(super) fn check_directories(path: &Path) -> Result<(), (String, String)> {
    for dir in path
        .ancestors()
        .skip(1)
        .filter(|d| !d.as_os_str().is_empty())
    {
        match fs::symlink_metadata(dir) {
            Ok(meta) => check(&meta).map_err(|why| (dir.display().to_string(), why))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err((dir.display().to_string(), e.to_string())),
        }
    }
    Ok(())
}

/// Owned by root and not writable by group or others.
pub(super) fn check(meta: &Metadata) -> Result<(), String> {
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() != 0 || mode & 0o022 != 0 {
        return Err(format!(
            "must be owned by root and not writable by group or others, since vnet runs \
             as a privileged helper; it is owned by uid {} with mode {mode:04o}",
            meta.uid()
        ));
    }
    Ok(())
}
