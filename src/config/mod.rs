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

mod access;
mod cidr;
mod file;
mod keys;
mod network;
mod trust;
mod values;

use std::fmt;
use std::io;
use std::path::Path;

use crate::escape::{is_hazard, Escaped};
use crate::glob::Glob;
use crate::name::IfName;
pub use access::{AccessRule, Principal};
pub use keys::Resolved;
use keys::{unknown_key, Settings, KEYS};
pub use network::{Cidr, Forward, Network};
pub use values::{Mac, Mtu, Show, Vlans};

/// Where the configuration lives unless `VNET_CONFIG` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/vnet/vnet.conf";

/// Where the configuration comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// [`DEFAULT_PATH`]; if it is absent, the built-in defaults apply.
    Default,
    /// A file named by `VNET_CONFIG`: it must exist.
    Named(&'a Path),
    /// [`DEFAULT_PATH`], for a privileged helper: root's own file, no symlink.
    Trusted,
}

impl Source<'_> {
    fn may_be_missing(self) -> bool {
        !matches!(self, Source::Named(_))
    }
}

/// A configuration error: always exit status 2, always with file and line.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {problem}", Escaped(path), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    #[source]
    pub problem: Problem,
}

/// What is wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file could not be read; the cause keeps its errno.
    #[error("{}", file::sentence(.0))]
    Read(#[source] io::Error),
    /// A privileged helper's file, or a directory above it, is not root's alone.
    #[error("{0}")]
    Untrusted(String),
    /// What a line (or two lines together) says is wrong, in words.
    #[error("{0}")]
    Invalid(String),
}

/// Where a resolved value came from, for `--check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    Env(&'static str),
    /// A command-line option, such as QEMU's `--br` to a bridge helper.
    Argument(&'static str),
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
    access: Vec<AccessRule>,
    networks: Vec<Network>,
}

#[derive(Clone, Debug)]
struct Section {
    glob: Glob,
    line: usize,
    settings: Settings,
}

impl Config {
    /// Reads the configuration from `source`. Only [`DEFAULT_PATH`] may be
    /// missing (all defaults then): a file the user named must exist.
    pub fn load(source: Source<'_>) -> Result<Config, ConfigError> {
        let (path, trusted) = match source {
            Source::Default => (Path::new(DEFAULT_PATH), false),
            Source::Named(path) => (path, false),
            Source::Trusted => (Path::new(DEFAULT_PATH), true),
        };
        let shown = path.display().to_string();
        let fail = |path: String, problem| ConfigError {
            path,
            line: None,
            problem,
        };
        if trusted {
            trust::check_directories(path)
                .map_err(|(dir, why)| fail(dir, Problem::Untrusted(why)))?;
        }
        match file::read(path, trusted) {
            Ok(bytes) => Config::parse(&shown, &bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound && source.may_be_missing() => {
                Ok(Config {
                    path: shown,
                    ..Config::default()
                })
            }
            // Say where a path the user did not type in the file came from.
            Err(e) => match source {
                Source::Named(_) => Err(fail(format!("VNET_CONFIG={shown}"), Problem::Read(e))),
                _ => Err(fail(shown, Problem::Read(e))),
            },
        }
    }

    /// Parses the text of a configuration file; `path` is only for messages.
    pub fn parse(path: &str, text: &[u8]) -> Result<Config, ConfigError> {
        let mut config = Config {
            path: path.to_owned(),
            read: true,
            ..Config::default()
        };
        let mut block = Block::Global;
        let mut drafts: Vec<network::Draft> = Vec::new();
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let fail = |msg: String| ConfigError {
                path: path.to_owned(),
                line: Some(line),
                problem: Problem::Invalid(msg),
            };
            let text = std::str::from_utf8(raw)
                .map_err(|_| fail("the line is not valid UTF-8".into()))?
                .trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            // Messages quote the line: never let it drive the terminal.
            if let Some(c) = text.chars().find(|&c| is_hazard(c) && c != '\t') {
                let code = u32::from(c);
                return Err(fail(format!(
                    "the line contains a control character (U+{code:04X})"
                )));
            }
            if text.starts_with('[') {
                block = match parse_section(text).map_err(fail)? {
                    (SectionKind::Match, glob) => {
                        config.sections.push(Section {
                            glob,
                            line,
                            settings: Settings::default(),
                        });
                        Block::Match
                    }
                    (SectionKind::Access, glob) => {
                        config.access.push(AccessRule::new(glob, line));
                        Block::Access
                    }
                    (SectionKind::Network, glob) => {
                        let bridge = values::parse_name(glob.as_str()).map_err(fail)?;
                        if let Some(first) = drafts.iter().find(|d| d.bridge() == &bridge) {
                            return Err(fail(format!(
                                "[network {bridge}] is already defined on line {}",
                                first.line()
                            )));
                        }
                        drafts.push(network::Draft::new(bridge, line));
                        Block::Network
                    }
                };
                continue;
            }
            let Some((key, value)) = text.split_once('=') else {
                return Err(fail(format!(
                    "expected \"key = value\", a [match GLOB], [access GLOB] or \
                     [network BRIDGE] section, or a # comment, found \"{text}\""
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            if value.is_empty() {
                return Err(fail(format!("key \"{key}\" has no value")));
            }
            let settings = match block {
                Block::Network => {
                    let draft = drafts.last_mut().expect("a [network] section");
                    draft.store(key, value, line).map_err(fail)?;
                    continue;
                }
                Block::Access => {
                    let rule = config.access.last_mut().expect("an [access] section");
                    rule.store(key, value, line).map_err(fail)?;
                    continue;
                }
                Block::Match => {
                    &mut config
                        .sections
                        .last_mut()
                        .expect("a [match] section")
                        .settings
                }
                Block::Global => &mut config.global,
            };
            let Some((_, store)) = KEYS.iter().find(|(name, _)| *name == key) else {
                return Err(fail(unknown_key(key)));
            };
            store(settings, value, line).map_err(fail)?;
        }
        for draft in drafts {
            config.networks.push(draft.finish(path)?);
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

    /// The `[access GLOB]` rules, in file order.
    pub fn access_rules(&self) -> &[AccessRule] {
        &self.access
    }

    /// Refuses an `[access]` rule that names a user or group `exists` does
    /// not know: a typo would otherwise allow, or deny, no one, silently.
    pub fn check_accounts(&self, exists: impl Fn(&Principal) -> bool) -> Result<(), ConfigError> {
        access::check_accounts(&self.access, exists).map_err(|(line, msg)| ConfigError {
            path: self.path.clone(),
            line: Some(line),
            problem: Problem::Invalid(msg),
        })
    }

    /// The `[network BRIDGE]` section for `bridge`, if there is one.
    pub fn network(&self, bridge: &IfName) -> Option<&Network> {
        self.networks.iter().find(|n| &n.bridge == bridge)
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

/// Which kind of block the lines being read belong to.
#[derive(Clone, Copy)]
enum Block {
    Global,
    Match,
    Access,
    Network,
}

enum SectionKind {
    Match,
    Access,
    Network,
}

/// `[match GLOB]` (a tap policy), `[access GLOB]` (a bridge ACL) or
/// `[network BRIDGE]` (a network vnet sets up; the glob is a plain name).
fn parse_section(text: &str) -> Result<(SectionKind, Glob), String> {
    let bad = || {
        format!(
            "bad section \"{text}\": expected \"[match GLOB]\", \"[access GLOB]\" \
             or \"[network BRIDGE]\""
        )
    };
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(bad)?;
    let mut words = inner.split_whitespace();
    let kind = match (words.next(), words.next(), words.next()) {
        (Some("match"), Some(glob), None) => (SectionKind::Match, glob),
        (Some("access"), Some(glob), None) => (SectionKind::Access, glob),
        (Some("network"), Some(name), None) => (SectionKind::Network, name),
        _ => return Err(bad()),
    };
    let glob = Glob::new(kind.1).map_err(|e| format!("bad glob \"{}\": {e}", kind.1))?;
    Ok((kind.0, glob))
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::Env(var) => write!(f, "environment {var}"),
            Origin::Argument(option) => write!(f, "argument {option}"),
            Origin::Line {
                path,
                line,
                section: None,
            } => write!(f, "{}:{line}", Escaped(path)),
            Origin::Line {
                path,
                line,
                section: Some(glob),
            } => {
                write!(f, "{}:{line} in [match {glob}]", Escaped(path))
            }
        }
    }
}

#[cfg(test)]
mod tests;
