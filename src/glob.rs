//! Shell globs for `[match GLOB]` sections: `*`, `?`, `[...]`, `[!...]`, `\x`.

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
    },
}

impl Glob {
    /// Compiles `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Star,
                '?' => Token::Any,
                '[' => parse_class(&mut chars)?,
                '\\' => Token::Char(chars.next().ok_or("the pattern ends with a lone \"\\\"")?),
                c => Token::Char(c),
            });
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
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Parses what follows `[`, up to and including the closing `]`.
fn parse_class(chars: &mut std::str::Chars<'_>) -> Result<Token, String> {
    let unterminated = || "\"[\" has no closing \"]\"".to_owned();
    let mut negated = false;
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut c = chars.next().ok_or_else(unterminated)?;
        if first && (c == '!' || c == '^') && !negated {
            negated = true;
            continue;
        }
        // A `]` right after `[` or `[!` is a member, as in the shell.
        if c == ']' && !first {
            break;
        }
        first = false;
        if c == '\\' {
            c = chars.next().ok_or_else(unterminated)?;
        }
        let mut lookahead = chars.clone();
        if lookahead.next() == Some('-') {
            match lookahead.next() {
                Some(']') | None => {}
                Some(hi) => {
                    if hi < c {
                        return Err(format!("the range \"{c}-{hi}\" is backwards"));
                    }
                    ranges.push((c, hi));
                    *chars = lookahead;
                    continue;
                }
            }
        }
        ranges.push((c, c));
    }
    Ok(Token::Class { negated, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Glob::new(pattern).unwrap().matches(text)
    }

    #[test]
    fn literal_and_wildcards() {
        assert!(m("vnet0", "vnet0"));
        assert!(!m("vnet0", "vnet01"));
        assert!(m("vnet*", "vnet"));
        assert!(m("vnet*", "vnet12"));
        assert!(!m("vnet*", "tap0"));
        assert!(m("*", ""));
        assert!(m("v?et?", "vnet0"));
        assert!(!m("v?et?", "vnet"));
        assert!(m("*-*-*", "a-b-c"));
        assert!(!m("*-*-*", "a-b"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
    }

    #[test]
    fn classes() {
        assert!(m("vnet[0-3]", "vnet2"));
        assert!(!m("vnet[0-3]", "vnet4"));
        assert!(m("vnet[!0-3]", "vnet4"));
        assert!(m("vnet[^0-3]", "vnet4"));
        assert!(!m("vnet[!0-3]", "vnet1"));
        assert!(m("x[]]", "x]"));
        assert!(m("x[!]]", "xa"));
        assert!(m("x[a-]", "x-"));
        assert!(m("tap[ab]*", "tapb-7"));
    }

    #[test]
    fn escapes() {
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("[\\]]", "]"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert_eq!(
            Glob::new("vnet[0-3").unwrap_err(),
            "\"[\" has no closing \"]\""
        );
        assert_eq!(
            Glob::new("a\\").unwrap_err(),
            "the pattern ends with a lone \"\\\""
        );
        assert_eq!(
            Glob::new("[z-a]").unwrap_err(),
            "the range \"z-a\" is backwards"
        );
    }

    #[test]
    fn many_stars_stay_fast() {
        let g = Glob::new("*a*a*a*a*a*a*a*a*a*b").unwrap();
        assert!(!g.matches("aaaaaaaaaaaaaaa"));
    }
}
