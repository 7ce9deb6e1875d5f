//! The one escaping rule for every string that came from outside (a tap
//! name, a bridge name the kernel reported, a path or value from the
//! environment, the kernel's extended-ACK text) before it reaches a
//! terminal or a log line. The kernel accepts control bytes in interface
//! names: unescaped, whoever names a tap could drive the terminal that
//! reads our stderr, or forge lines in the audit log.
//!
//! Escaped are: `\` and `"` (so an escaped string in quotes is
//! unambiguous), every control character (C0, DEL, C1), and the invisible
//! format characters that reorder or hide text (bidirectional overrides,
//! zero-width characters, the byte-order mark). `\t`, `\n` and `\r` are
//! written so; other ASCII controls as `\x1b`; the rest as `\u{202e}`.
//! Invalid UTF-8, where a string may hold it, is written as `\xff`.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::{self, Write};
use std::os::unix::ffi::OsStrExt;

/// `s` with every character that needs it escaped.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

/// `s` escaped; bytes that are not UTF-8 become `\xNN`.
pub fn escape_os(s: &OsStr) -> String {
    let mut out = String::new();
    for chunk in s.as_bytes().utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Shows a string escaped: `format!("{}", Escaped(name))`.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

fn needs_escape(c: char) -> bool {
    matches!(c, '\\' | '"') || is_hazard(c)
}

/// A control character, or a format character that moves or hides text:
/// what no message may show raw (the configuration parser refuses them).
pub fn is_hazard(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Unicode format characters that move or hide text on a terminal.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

fn push(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii_control() => _ = write!(out, "\\x{:02x}", u32::from(c)),
        c if needs_escape(c) => _ = write!(out, "\\u{{{:x}}}", u32::from(c)),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_quotes_are_escaped() {
        assert_eq!(escape("ab\x1b[31mR"), "ab\\x1b[31mR");
        assert_eq!(escape("a\nb\tc\rd\x7f"), "a\\nb\\tc\\rd\\x7f");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(escape("x\u{85}y\u{202e}z"), "x\\u{85}y\\u{202e}z");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in ["vnet0", "tap-alice.1", "ééé", "br_lan", "eth#1", ""] {
            assert!(matches!(escape(s), Cow::Borrowed(b) if b == s));
        }
    }

    #[test]
    fn invalid_utf8_is_shown_by_byte() {
        assert_eq!(
            escape_os(OsStr::from_bytes(b"vn\xffet\x1b")),
            "vn\\xffet\\x1b"
        );
    }

    #[test]
    fn nothing_escaped_holds_a_control_character() {
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        let out = escape(&all);
        assert!(!out.chars().any(is_hazard));
    }
}
