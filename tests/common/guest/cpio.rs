//! An initramfs built in memory, written as the "newc" cpio archive the
//! kernel unpacks (Documentation/driver-api/early-userspace/buffer-format.rst).
//! No cpio tool and no staging directory on the host.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

enum Entry {
    Dir,
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
    CharDev(u32, u32),
}

/// Paths are absolute guest paths. The kernel does not create missing
/// parents, so every ancestor is added as a directory, and entries are
/// written sorted: a directory always precedes what it holds.
#[derive(Default)]
pub struct Initramfs {
    entries: BTreeMap<String, Entry>,
}

impl Initramfs {
    pub fn dir(&mut self, path: &str) {
        self.add(path, Entry::Dir);
    }

    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        self.add(path, Entry::File { mode, data });
    }

    /// A copy of a host file (its target, if a symlink) with its permissions.
    pub fn copy(&mut self, path: &str, host: &Path) {
        let data = std::fs::read(host).unwrap_or_else(|e| panic!("{}: {e}", host.display()));
        let mode = std::fs::metadata(host)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777;
        self.file(path, mode, data);
    }

    /// Host `path` at the same guest path, with every symlink on the way
    /// (Debian's /bin -> usr/bin, /lib64/ld-linux-x86-64.so.2 -> ...) made
    /// again, so a path that works on the host works in the guest.
    pub fn mirror(&mut self, path: &Path) {
        let mut real = PathBuf::from("/");
        let mut parts = path.components().skip(1);
        while let Some(part) = parts.next() {
            let next = real.join(part);
            let Ok(target) = std::fs::read_link(&next) else {
                real = next;
                continue;
            };
            self.symlink(&next.to_string_lossy(), &target.to_string_lossy());
            // `real` holds no symlink, so ".." in the target is lexical.
            for step in target.components() {
                match step {
                    Component::RootDir => real = PathBuf::from("/"),
                    Component::ParentDir => _ = real.pop(),
                    Component::Normal(name) => real.push(name),
                    Component::CurDir | Component::Prefix(_) => {}
                }
            }
            return self.mirror(&real.join(parts.collect::<PathBuf>()));
        }
        self.copy(&real.to_string_lossy(), &real);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.add(path, Entry::Symlink(target.to_owned()));
    }

    pub fn char_dev(&mut self, path: &str, major: u32, minor: u32) {
        self.add(path, Entry::CharDev(major, minor));
    }

    fn add(&mut self, path: &str, entry: Entry) {
        let rel = path.trim_start_matches('/');
        assert!(
            !rel.is_empty() && !rel.contains("//"),
            "bad guest path {path:?}"
        );
        for (i, _) in rel.match_indices('/') {
            let parent = self
                .entries
                .entry(rel[..i].to_owned())
                .or_insert(Entry::Dir);
            assert!(
                matches!(parent, Entry::Dir),
                "{path}: {} is not a directory",
                &rel[..i]
            );
        }
        // A directory replaced by a file or symlink would orphan its entries.
        if let Some(Entry::Dir) = self.entries.get(rel) {
            assert!(matches!(entry, Entry::Dir), "{path} is already a directory");
        }
        self.entries.insert(rel.to_owned(), entry);
    }

    /// The archive, uncompressed: about 10 MB, which QEMU loads as is and
    /// the guest need not decompress.
    pub fn to_cpio(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (name, entry)) in self.entries.iter().enumerate() {
            let (mode, data, rdev) = match entry {
                Entry::Dir => (0o040755, &[][..], (0, 0)),
                Entry::File { mode, data } => (0o100000 | mode, &data[..], (0, 0)),
                Entry::Symlink(target) => (0o120777, target.as_bytes(), (0, 0)),
                Entry::CharDev(major, minor) => (0o020600, &[][..], (*major, *minor)),
            };
            header(&mut out, ino + 1, mode, data.len(), rdev, name);
            out.extend_from_slice(data);
            pad4(&mut out);
        }
        header(&mut out, 0, 0, 0, (0, 0), "TRAILER!!!");
        out
    }
}

/// One newc header and the NUL-terminated name, padded to 4 bytes.
fn header(out: &mut Vec<u8>, ino: usize, mode: u32, size: usize, rdev: (u32, u32), name: &str) {
    let nlink = if mode & 0o170000 == 0o040000 { 2 } else { 1 };
    let size = u32::try_from(size).expect("a file under 4 GiB");
    let ino = u32::try_from(ino).expect("fewer than 2^32 entries");
    let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    // c_namesize counts the NUL; c_check is unused by "newc".
    out.extend_from_slice(format!("{:08x}{:08x}", name.len() + 1, 0).as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}
