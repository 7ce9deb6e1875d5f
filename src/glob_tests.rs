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
    assert!(m("[[:digit:]x]", "7"));
    assert!(m("[[:alpha:]]", "q"));
    assert!(!m("[![:alpha:]]", "q"));
}

/// musl's readings that differ from what one might guess; each was found
/// against libc's fnmatch by tests/properties.rs.
#[test]
fn fnmatchs_own_rules() {
    // `\` is literal inside brackets: this is `[\]` then `]`.
    assert!(m("[\\]]", "\\]"));
    assert!(!m("[\\]]", "]"));
    // A `-` after a range starts a range from the range's first character.
    let g = Glob::new("[*--b]").unwrap();
    assert!(g.matches("a") && g.matches("+") && g.matches("b") && !g.matches("c"));
    assert!(m("[a-c-e]", "d"));
    // After a class, a range starts from the character before the class.
    assert!(m("[[:digit:]-z]", "["));
}

#[test]
fn escapes() {
    assert!(m("a\\*", "a*"));
    assert!(!m("a\\*", "ab"));
    assert!(m("\\[x]", "[x]"));
}

#[test]
fn what_fnmatch_would_read_surprisingly_is_refused() {
    let err = |p: &str| Glob::new(p).unwrap_err();
    assert_eq!(err("vnet[0-3"), "\"[\" has no closing \"]\"");
    assert_eq!(err("[]"), "\"[\" has no closing \"]\"");
    assert_eq!(err("a\\"), "the pattern ends with a lone \"\\\"");
    assert_eq!(err("[z-a]"), "the range \"z-a\" is backwards");
    assert_eq!(err("[a--]"), "the range \"a--\" is backwards");
    assert_eq!(err("[[:nope:]]"), "\"[:nope:]\" is not a character class");
    assert_eq!(err("[[.a.]]"), "\"[.a.]\" is not supported");
}

#[test]
fn many_stars_stay_fast() {
    let g = Glob::new("*a*a*a*a*a*a*a*a*a*b").unwrap();
    assert!(!g.matches("aaaaaaaaaaaaaaa"));
}
