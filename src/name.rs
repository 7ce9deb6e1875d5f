//! Interface names, validated before any syscall.

use std::ffi::OsStr;
use std::fmt;

use crate::escape::escape;

/// IFNAMSIZ minus the trailing NUL.
pub const MAX_LEN: usize = 15;

/// A Linux interface name that the kernel's `dev_valid_name()` would accept.
///
/// Holding one proves the rule was checked: 1..=15 bytes, not `.` or `..`,
/// no `/`, `:`, whitespace or NUL. Anything longer than 15 bytes is refused
/// here rather than truncated, so a name can never silently turn into
/// another interface's name (qemu-bridge-helper's CVE-2019-13164).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IfName(String);

/// Why a string is not a valid interface name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is {0} bytes long; the kernel allows at most 15")]
    TooLong(usize),
    #[error("\".\" and \"..\" are not interface names")]
    Dots,
    #[error("the name contains {0}, which interface names may not contain")]
    BadChar(&'static str),
    #[error("the name is not valid UTF-8")]
    NotUtf8,
}

impl IfName {
    /// Checks `name` against the kernel's rules.
    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_LEN {
            return Err(NameError::TooLong(name.len()));
        }
        if name == "." || name == ".." {
            return Err(NameError::Dots);
        }
        if let Some(&b) = name.as_bytes().iter().find(|&&b| is_forbidden(b)) {
            return Err(NameError::BadChar(describe(b)));
        }
        Ok(IfName(name.to_owned()))
    }

    /// Checks a name that came from argv or the environment, which need not be UTF-8.
    pub fn from_os(name: &OsStr) -> Result<Self, NameError> {
        name.to_str().ok_or(NameError::NotUtf8).and_then(Self::new)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `dev_valid_name()` refuses `/`, `:` and every byte its `isspace()`
/// accepts, which in the kernel's ctype table includes 0xA0; NUL would end
/// the name early. The check is per byte, as the kernel's is.
fn is_forbidden(b: u8) -> bool {
    matches!(b, b'/' | b':' | 0 | b'\t'..=b'\r' | b' ' | 0xa0)
}

fn describe(b: u8) -> &'static str {
    match b {
        b'/' => "\"/\"",
        b':' => "\":\"",
        0 => "a NUL byte",
        _ => "whitespace",
    }
}

/// Escaped ([`crate::escape`]): the kernel accepts control bytes in
/// names, so whoever names a tap must not reach the terminal or the log
/// through it. [`IfName::as_str`] is the name itself.
impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0))
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn accepts_15_bytes_and_refuses_16() {
        assert!(IfName::new("abcdefghijklmno").is_ok());
        assert_eq!(IfName::new("abcdefghijklmnop"), Err(NameError::TooLong(16)));
    }

    #[test]
    fn counts_bytes_not_characters() {
        // Eight two-byte characters: 16 bytes.
        assert_eq!(IfName::new("éééééééé"), Err(NameError::TooLong(16)));
        assert!(IfName::new("ééééééé").is_ok());
    }

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "vnet0",
            "tap-alice.1",
            "vnet0.0",
            "a",
            "br_lan",
            "x..y",
            "...",
            "eth#1",
        ] {
            assert_eq!(IfName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn refuses_empty_and_dots() {
        assert_eq!(IfName::new(""), Err(NameError::Empty));
        assert_eq!(IfName::new("."), Err(NameError::Dots));
        assert_eq!(IfName::new(".."), Err(NameError::Dots));
    }

    #[test]
    fn refuses_every_forbidden_character() {
        let cases = [
            ("a/b", "\"/\""),
            ("a:b", "\":\""),
            ("a\0b", "a NUL byte"),
            ("a b", "whitespace"),
            ("a\tb", "whitespace"),
            ("a\nb", "whitespace"),
            ("a\rb", "whitespace"),
            ("a\x0bb", "whitespace"),
            ("a\x0cb", "whitespace"),
            // U+00A0 is C2 A0 in UTF-8; the kernel's isspace() refuses the A0 byte.
            ("a\u{a0}b", "whitespace"),
            ("\u{e0}", "whitespace"),
        ];
        for (name, what) in cases {
            assert_eq!(IfName::new(name), Err(NameError::BadChar(what)), "{name:?}");
        }
    }

    #[test]
    fn refuses_non_utf8() {
        let raw = OsStr::from_bytes(b"vnet\xff");
        assert_eq!(IfName::from_os(raw), Err(NameError::NotUtf8));
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            NameError::TooLong(16).to_string(),
            "the name is 16 bytes long; the kernel allows at most 15"
        );
    }
}
