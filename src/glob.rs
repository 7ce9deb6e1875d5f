//! Shell globs for `[match GLOB]` and `[access GLOB]` sections, matched as
//! `fnmatch(3)` without flags matches them: musl's reading, which the
//! static binaries would get from libc. `tests/properties.rs` checks every
//! accepted pattern against libc's own `fnmatch` on printable ASCII.
//!
//! Where fnmatch reads a pattern in a way nobody means, vnet refuses it
//! instead (a configuration error): a `[` without its `]` (fnmatch: a
//! literal `[`), a trailing lone `\` (fnmatch: a literal `\`), a backwards
//! range such as `[z-a]` (fnmatch: matches nothing), and `[.x.]`, `[=x=]`
//! or an unknown `[:class:]` (musl: matches nothing). Everything else
//! matches as fnmatch does, including its less known rules: `\` is literal
//! inside brackets, and a `-` after a range starts another range from the
//! range's first character (`[*--b]` is `*` to `-`, and `*` to `b`).
//! Non-ASCII characters are compared as characters.

/// A glob compiled once when the configuration is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
        classes: Vec<CharClass>,
    },
}

/// The `[:name:]` classes of the C locale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CharClass {
    Alnum,
    Alpha,
    Blank,
    Cntrl,
    Digit,
    Graph,
    Lower,
    Print,
    Punct,
    Space,
    Upper,
    Xdigit,
}

impl Glob {
    /// Compiles `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (token, next) = match chars[i] {
                '*' => (Token::Star, i + 1),
                '?' => (Token::Any, i + 1),
                '[' => parse_class(&chars, i)?,
                '\\' => match chars.get(i + 1) {
                    Some(&c) => (Token::Char(c), i + 2),
                    None => return Err("the pattern ends with a lone \"\\\"".into()),
                },
                c => (Token::Char(c), i + 1),
            };
            tokens.push(token);
            i = next;
        }
        Ok(Glob {
            source: pattern.to_owned(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `text` matches, as `fnmatch(3)` without flags.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        // Iterative matching with one backtrack point per star: linear in
        // practice and never exponential, whatever the pattern.
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(token) if token.accepts(text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|t| *t == Token::Star)
    }
}

impl Token {
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Char(x) => *x == c,
            Token::Any => true,
            Token::Star => false,
            Token::Class {
                negated,
                ranges,
                classes,
            } => {
                let listed = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
                    || classes.iter().any(|class| class.contains(c));
                listed != *negated
            }
        }
    }
}

/// Where the bracket expression starting at `chars[start]` (a `[`) ends,
/// by musl's `pat_next()`: the index of its `]`, if it has one. A `]`
/// right after `[`, `[!` or `[^` is a member, and `[:`, `[.` or `[=` runs
/// to its matching `:]`, `.]` or `=]`.
fn bracket_end(chars: &[char], start: usize) -> Option<usize> {
    let at = |k: usize| chars.get(k).copied();
    let mut k = start + 1;
    if matches!(at(k), Some('!' | '^')) {
        k += 1;
    }
    if at(k) == Some(']') {
        k += 1;
    }
    while let Some(c) = at(k) {
        if c == ']' {
            return Some(k);
        }
        if let (Some('['), Some(z @ (':' | '.' | '='))) = (at(k), at(k + 1)) {
            k += 2;
            at(k)?;
            k += 1;
            while at(k)? != ']' || at(k - 1) != Some(z) {
                k += 1;
            }
        }
        k += 1;
    }
    None
}

/// Parses the bracket expression at `chars[start]` as musl's
/// `match_bracket()` reads it; returns it and the index after its `]`.
fn parse_class(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let end = bracket_end(chars, start).ok_or("\"[\" has no closing \"]\"")?;
    let body = &chars[start + 1..end];
    let mut p = 0;
    let negated = matches!(body.first(), Some('!' | '^'));
    if negated {
        p += 1;
    }
    let mut ranges = Vec::new();
    let mut classes = Vec::new();
    if let Some(&c @ (']' | '-')) = body.get(p) {
        ranges.push((c, c));
        p += 1;
    }
    // `wc` is the last single character read: a `-` that follows makes a
    // range from it, even when a range or a class came in between. Before
    // any, musl's is the character before the first member: `[`, `!`,
    // `^`, or a leading `]` or `-`.
    let mut wc = match p {
        0 => '[',
        _ => body[p - 1],
    };
    while p < body.len() {
        let c = body[p];
        if c == '-' && p + 1 < body.len() {
            let hi = body[p + 1];
            if wc > hi {
                return Err(format!("the range \"{wc}-{hi}\" is backwards"));
            }
            ranges.push((wc, hi));
            // musl reads the range's end again as a character of its own.
            p += 1;
            continue;
        }
        if c == '[' && matches!(body.get(p + 1), Some(':' | '.' | '=')) {
            let z = body[p + 1];
            let from = p + 2;
            let mut q = p + 3;
            while q < body.len() && !(body[q] == ']' && body[q - 1] == z) {
                q += 1;
            }
            if q >= body.len() {
                return Err(format!("\"[{z}\" has no closing \"{z}]\""));
            }
            let name: String = body[from..q - 1].iter().collect();
            match (z, CharClass::named(&name)) {
                (':', Some(class)) => classes.push(class),
                (':', None) => return Err(format!("\"[:{name}:]\" is not a character class")),
                _ => return Err(format!("\"[{z}{name}{z}]\" is not supported")),
            }
            p = q + 1;
            continue;
        }
        ranges.push((c, c));
        wc = c;
        p += 1;
    }
    Ok((
        Token::Class {
            negated,
            ranges,
            classes,
        },
        end + 1,
    ))
}

impl CharClass {
    fn named(name: &str) -> Option<CharClass> {
        Some(match name {
            "alnum" => CharClass::Alnum,
            "alpha" => CharClass::Alpha,
            "blank" => CharClass::Blank,
            "cntrl" => CharClass::Cntrl,
            "digit" => CharClass::Digit,
            "graph" => CharClass::Graph,
            "lower" => CharClass::Lower,
            "print" => CharClass::Print,
            "punct" => CharClass::Punct,
            "space" => CharClass::Space,
            "upper" => CharClass::Upper,
            "xdigit" => CharClass::Xdigit,
            _ => return None,
        })
    }

    /// As in the C locale: ASCII only.
    fn contains(self, c: char) -> bool {
        match self {
            CharClass::Alnum => c.is_ascii_alphanumeric(),
            CharClass::Alpha => c.is_ascii_alphabetic(),
            CharClass::Blank => c == ' ' || c == '\t',
            CharClass::Cntrl => c.is_ascii_control(),
            CharClass::Digit => c.is_ascii_digit(),
            CharClass::Graph => c.is_ascii_graphic(),
            CharClass::Lower => c.is_ascii_lowercase(),
            CharClass::Print => c.is_ascii_graphic() || c == ' ',
            CharClass::Punct => c.is_ascii_punctuation(),
            CharClass::Space => matches!(c, ' ' | '\t'..='\r'),
            CharClass::Upper => c.is_ascii_uppercase(),
            CharClass::Xdigit => c.is_ascii_hexdigit(),
        }
    }
}

#[cfg(test)]
#[path = "glob_tests.rs"]
mod tests;
