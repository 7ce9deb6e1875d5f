//! `/etc/vnet/vnet.conf`: parsing (a pure function) and resolution for one tap.
//!
//! ```text
//! # global keys first
//! bridge = br0
//! mtu = bridge
//!
//! [match vnet1*]          # the first section whose glob matches the tap wins
//! bridge = br1
//! ```
//!
//! Precedence: `VNET_BRIDGE` > matching section > global > built-in default.
//! A key is one line in the table at the bottom of this file.

mod keys;
mod values;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::glob::Glob;
use crate::name::IfName;
pub use keys::Resolved;
use keys::{unknown_key, Settings, KEYS};
pub use values::{Mac, Mtu, Show, Vlans};

/// Where the configuration lives unless `VNET_CONFIG` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/vnet/vnet.conf";

/// A configuration error: always exit status 2, always with file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {msg}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub msg: String,
}

/// Where a resolved value came from, for `--check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    Env(&'static str),
    Line {
        path: String,
        line: usize,
        section: Option<String>,
    },
}

/// One key's value for one tap, with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided<T> {
    pub value: T,
    pub origin: Origin,
}

/// A parsed configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    path: String,
    /// False when the default file is absent and built-in defaults apply.
    read: bool,
    global: Settings,
    sections: Vec<Section>,
}

#[derive(Clone, Debug)]
struct Section {
    glob: Glob,
    line: usize,
    settings: Settings,
}

impl Config {
    /// Reads `path`, or [`DEFAULT_PATH`] when `None`. Only the default may be
    /// missing (all defaults then): a file the user named must exist.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let explicit = path.is_some();
        let path = path.unwrap_or(Path::new(DEFAULT_PATH));
        let shown = path.display().to_string();
        let fail = |msg: String| ConfigError {
            path: shown.clone(),
            line: None,
            msg,
        };
        match read_regular_file(path) {
            Ok(bytes) => Config::parse(&shown, &bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !explicit => Ok(Config {
                path: shown,
                ..Config::default()
            }),
            Err(e) => Err(fail(io_sentence(&e))),
        }
    }

    /// Parses the text of a configuration file; `path` is only for messages.
    pub fn parse(path: &str, text: &[u8]) -> Result<Config, ConfigError> {
        let mut config = Config {
            path: path.to_owned(),
            read: true,
            ..Config::default()
        };
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let fail = |msg: String| ConfigError {
                path: path.to_owned(),
                line: Some(line),
                msg,
            };
            let text = std::str::from_utf8(raw)
                .map_err(|_| fail("the line is not valid UTF-8".into()))?
                .trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            if text.starts_with('[') {
                let glob = parse_section(text).map_err(fail)?;
                config.sections.push(Section {
                    glob,
                    line,
                    settings: Settings::default(),
                });
                continue;
            }
            let Some((key, value)) = text.split_once('=') else {
                return Err(fail(format!(
                    "expected \"key = value\", \"[match GLOB]\" or a # comment, found \"{text}\""
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            let Some((_, store)) = KEYS.iter().find(|(name, _)| *name == key) else {
                return Err(fail(unknown_key(key)));
            };
            if value.is_empty() {
                return Err(fail(format!("key \"{key}\" has no value")));
            }
            let block = match config.sections.last_mut() {
                Some(section) => &mut section.settings,
                None => &mut config.global,
            };
            store(block, value, line).map_err(fail)?;
        }
        Ok(config)
    }

    /// The values for `tap`: `bridge_env` (from `VNET_BRIDGE`) beats the first
    /// matching section, which beats the globals, which beat the defaults.
    pub fn resolve(
        &self,
        tap: &IfName,
        bridge_env: Option<IfName>,
    ) -> Result<Resolved, ConfigError> {
        let section = self.section_for(tap);
        let mut resolved = Resolved::merge(
            &self.global,
            section.map(|s| (&s.settings, s.glob.as_str())),
            &self.path,
        );
        if let Some(bridge) = bridge_env {
            resolved.bridge = Decided {
                value: bridge,
                origin: Origin::Env("VNET_BRIDGE"),
            };
        }
        resolved.check()?;
        Ok(resolved)
    }

    /// The `[match GLOB]` section that applies to `tap`, as (glob, line).
    pub fn matching_section(&self, tap: &IfName) -> Option<(&str, usize)> {
        self.section_for(tap).map(|s| (s.glob.as_str(), s.line))
    }

    /// "/etc/vnet/vnet.conf", or what stood in for it.
    pub fn source(&self) -> String {
        match (self.read, self.path.as_str()) {
            (true, path) => path.to_owned(),
            (false, "") => "none".to_owned(),
            (false, path) => format!("{path} (absent: built-in defaults)"),
        }
    }

    fn section_for(&self, tap: &IfName) -> Option<&Section> {
        self.sections.iter().find(|s| s.glob.matches(tap.as_str()))
    }
}

/// Opens without blocking (a FIFO would otherwise hang QEMU) and refuses
/// anything but a regular file or `/dev/null` (an empty configuration).
fn read_regular_file(path: &Path) -> io::Result<Vec<u8>> {
    const DEV_NULL: u64 = 0x103; // makedev(1, 3)
    let mut file = File::options()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let meta = file.metadata()?;
    let dev_null = meta.file_type().is_char_device() && meta.rdev() == DEV_NULL;
    if !meta.is_file() && !dev_null {
        return Err(io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn io_sentence(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => match e.raw_os_error() {
            Some(errno) => nix::errno::Errno::from_raw(errno).desc().to_lowercase(),
            None => e.to_string(),
        },
    }
}

fn parse_section(text: &str) -> Result<Glob, String> {
    let bad = || format!("bad section \"{text}\": expected \"[match GLOB]\"");
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(bad)?;
    let mut words = inner.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("match"), Some(glob), None) => {
            Glob::new(glob).map_err(|e| format!("bad glob \"{glob}\": {e}"))
        }
        _ => Err(bad()),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::Env(var) => write!(f, "environment {var}"),
            Origin::Line {
                path,
                line,
                section: None,
            } => write!(f, "{path}:{line}"),
            Origin::Line {
                path,
                line,
                section: Some(glob),
            } => {
                write!(f, "{path}:{line} in [match {glob}]")
            }
        }
    }
}

#[cfg(test)]
mod tests;
