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

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;

use crate::glob::Glob;
use crate::name::IfName;

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

/// `mtu = bridge | keep | 68..=65535`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mtu {
    /// Copy the bridge's MTU, so a 1500 tap cannot pull a jumbo bridge down.
    Bridge,
    Keep,
    Fixed(u32),
}

/// `mac = high | keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mac {
    /// First octet 0xFE, so the bridge never adopts the tap's address
    /// (libvirt and qemu-bridge-helper do the same).
    High,
    Keep,
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

/// How one key's value is parsed and stored into a block's [`Settings`].
type Store = fn(&mut Settings, &str, usize) -> Result<(), String>;

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
    pub fn resolve(&self, tap: &IfName, bridge_env: Option<IfName>) -> Resolved {
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
        resolved
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

fn unknown_key(key: &str) -> String {
    let near = KEYS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| edit_distance(name, key) <= 2);
    match near {
        Some(name) => format!("unknown key \"{key}\" (did you mean \"{name}\"?)"),
        None => format!("unknown key \"{key}\""),
    }
}

/// Levenshtein distance, for "did you mean" on short key names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Stores a parsed value unless the same block set the key already.
fn store<T>(slot: &mut Option<(T, usize)>, value: T, line: usize, key: &str) -> Result<(), String> {
    if let Some((_, first)) = slot {
        return Err(format!("key \"{key}\" is already set on line {first}"));
    }
    *slot = Some((value, line));
    Ok(())
}

/// Section beats global beats default, remembering which one won.
fn pick<T: Clone>(
    global: &Option<(T, usize)>,
    section: Option<(&Option<(T, usize)>, &str)>,
    path: &str,
    default: impl FnOnce() -> T,
) -> Decided<T> {
    let at = |line: usize, section: Option<&str>| Origin::Line {
        path: path.to_owned(),
        line,
        section: section.map(str::to_owned),
    };
    match (section, global) {
        (Some((Some((value, line)), glob)), _) => Decided {
            value: value.clone(),
            origin: at(*line, Some(glob)),
        },
        (_, Some((value, line))) => Decided {
            value: value.clone(),
            origin: at(*line, None),
        },
        _ => Decided {
            value: default(),
            origin: Origin::Default,
        },
    }
}

/// Declares the key table and the two structs that follow from it, so a
/// new key is one line here and nowhere else.
macro_rules! keys {
    ($( $(#[$doc:meta])* $field:ident $name:literal : $ty:ty = $default:expr, $parse:expr; )+) => {
        /// The keys one block of the file sets (the globals, or one
        /// section), each with the line that set it.
        #[derive(Clone, Debug, Default)]
        struct Settings {
            $( $field: Option<($ty, usize)>, )+
        }

        /// Every key's value for one tap, and where it came from.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Resolved {
            $( $(#[$doc])* pub $field: Decided<$ty>, )+
        }

        const KEYS: &[(&str, Store)] = &[
            $( ($name, |settings, value, line| {
                let parsed = $parse(value).map_err(|e| format!("{}: {e}", $name))?;
                store(&mut settings.$field, parsed, line, $name)
            }), )+
        ];

        impl Resolved {
            fn merge(global: &Settings, section: Option<(&Settings, &str)>, path: &str) -> Self {
                Resolved {
                    $( $field: pick(
                        &global.$field,
                        section.map(|(s, glob)| (&s.$field, glob)),
                        path,
                        || $default,
                    ), )+
                }
            }

            /// Each key's name, value and origin, in table order.
            pub fn rows(&self) -> Vec<(&'static str, String, &Origin)> {
                vec![ $( ($name, self.$field.value.to_string(), &self.$field.origin), )+ ]
            }
        }
    };
}

keys! {
    /// The bridge the tap joins.
    bridge "bridge": IfName = default_bridge(), parse_name;
    /// What to do with the tap's MTU.
    mtu "mtu": Mtu = Mtu::Bridge, Mtu::from_str;
    /// What to do with the tap's MAC address.
    mac "mac": Mac = Mac::High, Mac::from_str;
}

fn default_bridge() -> IfName {
    IfName::new("br0").expect("\"br0\" is a valid interface name")
}

fn parse_name(value: &str) -> Result<IfName, String> {
    IfName::new(value).map_err(|e| format!("\"{value}\" is not a valid interface name: {e}"))
}

impl FromStr for Mtu {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "bridge" => Ok(Mtu::Bridge),
            "keep" => Ok(Mtu::Keep),
            n => match n.parse::<u32>() {
                Ok(n @ 68..=65535) => Ok(Mtu::Fixed(n)),
                _ => Err(format!(
                    "\"{value}\" is not \"bridge\", \"keep\" or a number from 68 to 65535"
                )),
            },
        }
    }
}

impl FromStr for Mac {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "high" => Ok(Mac::High),
            "keep" => Ok(Mac::Keep),
            _ => Err(format!("\"{value}\" is not \"high\" or \"keep\"")),
        }
    }
}

impl fmt::Display for Mtu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mtu::Bridge => f.write_str("bridge"),
            Mtu::Keep => f.write_str("keep"),
            Mtu::Fixed(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mac::High => "high",
            Mac::Keep => "keep",
        })
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
#[path = "config_tests.rs"]
mod tests;
