//! vnet's runtime files, under `/run/vnet/`: one lock per network, the
//! record of what vnet made for it, dnsmasq's pid and lease files.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::name::IfName;

/// Where the files live unless `VNET_RUNTIME_DIR` says otherwise.
pub const DEFAULT_DIR: &str = "/run/vnet";
/// How long to wait for another vnet setting the same network up.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The runtime directory, and the files of one network in it.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub dir: PathBuf,
}

impl Runtime {
    /// `/run/vnet`, or `VNET_RUNTIME_DIR` for a caller who is not served
    /// as a privileged helper (the tests give each namespace its own).
    pub fn new(privileged_helper: bool) -> Runtime {
        let var = std::env::var_os("VNET_RUNTIME_DIR").filter(|v| !v.is_empty());
        let dir = match var {
            Some(dir) if !privileged_helper => PathBuf::from(dir),
            _ => PathBuf::from(DEFAULT_DIR),
        };
        Runtime { dir }
    }

    pub fn file(&self, bridge: &IfName, suffix: &str) -> PathBuf {
        self.dir.join(format!("{bridge}.{suffix}"))
    }

    /// Takes the network's lock, waiting at most 30 seconds for another
    /// vnet that holds it. Released when the returned file is closed.
    pub fn lock(&self, bridge: &IfName) -> io::Result<File> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&self.dir)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.file(bridge, "lock"))?;
        let start = Instant::now();
        loop {
            // SAFETY: flock on a descriptor we own; no pointers.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(file);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock || start.elapsed() > LOCK_WAIT {
                return Err(e);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// What vnet made for one network, kept in `BRIDGE.state`, one item a
/// line, so a teardown removes exactly that.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Made {
    pub bridge: bool,
    /// Addresses in CIDR form.
    pub addresses: Vec<String>,
}

impl Made {
    pub fn read(path: &Path) -> io::Result<Made> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Made::default()),
            Err(e) => return Err(e),
        };
        let mut made = Made::default();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("bridge", "created")) => made.bridge = true,
                Some(("address", cidr)) => made.addresses.push(cidr.to_owned()),
                _ => {}
            }
        }
        Ok(made)
    }

    /// Writes the record whole (a new file renamed over the old one).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let mut text = String::new();
        if self.bridge {
            text.push_str("bridge created\n");
        }
        for a in &self.addresses {
            text.push_str(&format!("address {a}\n"));
        }
        let new = path.with_extension("state.new");
        fs::write(&new, text)?;
        fs::rename(&new, path)
    }
}

/// Removes `path`; a file that is not there is fine.
pub fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_back() {
        let dir = std::env::temp_dir().join(format!("vnet-made-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("br0.state");
        assert_eq!(Made::read(&path).unwrap(), Made::default());
        let made = Made {
            bridge: true,
            addresses: vec!["10.77.0.1/24".into(), "fd00::1/64".into()],
        };
        made.write(&path).unwrap();
        assert_eq!(Made::read(&path).unwrap(), made);
        fs::remove_dir_all(&dir).unwrap();
    }
}
