//! `[access GLOB]` sections: which users and groups may attach taps to the
//! bridges whose names match GLOB, when vnet runs as a privileged helper
//! (file capabilities or setuid). Modelled on qemu-bridge-helper's ACL:
//! `allow` and `deny` lists, `all` for everyone, deny wins, default deny.
//!
//! ```text
//! [access br0]
//! allow = alice @kvm
//! deny = mallory
//! ```

use crate::glob::Glob;

/// Who a rule is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    All,
    User(String),
    Uid(u32),
    Group(String),
    Gid(u32),
}

/// One `[access GLOB]` section.
#[derive(Clone, Debug)]
pub struct AccessRule {
    pub glob: Glob,
    pub line: usize,
    /// Each principal with the line that named it.
    pub allow: Vec<(Principal, usize)>,
    pub deny: Vec<(Principal, usize)>,
}

impl AccessRule {
    pub(super) fn new(glob: Glob, line: usize) -> Self {
        AccessRule {
            glob,
            line,
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }

    /// Stores an `allow = ...` or `deny = ...` line; lists accumulate, so a
    /// section may name its principals over several lines.
    pub(super) fn store(&mut self, key: &str, value: &str, line: usize) -> Result<(), String> {
        let list = match key {
            "allow" => &mut self.allow,
            "deny" => &mut self.deny,
            other => {
                return Err(format!(
                    "unknown key \"{other}\" in an [access] section: only \"allow\" and \"deny\""
                ))
            }
        };
        for word in value.split_whitespace() {
            list.push((principal(word).map_err(|e| format!("{key}: {e}"))?, line));
        }
        Ok(())
    }
}

/// The first line, in file order, of `rules` whose user or group `exists`
/// does not know, with the sentence that says so.
pub(super) fn check_accounts(
    rules: &[AccessRule],
    exists: impl Fn(&Principal) -> bool,
) -> Result<(), (usize, String)> {
    let unknown = rules
        .iter()
        .flat_map(|rule| {
            let allow = rule.allow.iter().map(|(who, line)| ("allow", who, *line));
            allow.chain(rule.deny.iter().map(|(who, line)| ("deny", who, *line)))
        })
        .filter(|(_, who, _)| !exists(who))
        .min_by_key(|(_, _, line)| *line);
    match unknown {
        None => Ok(()),
        Some((key, Principal::Group(name), line)) => Err((
            line,
            format!("{key}: there is no group \"{name}\" in /etc/group"),
        )),
        Some((key, who, line)) => Err((
            line,
            format!("{key}: there is no user {} in /etc/passwd", user_word(who)),
        )),
    }
}

fn user_word(who: &Principal) -> String {
    match who {
        Principal::User(name) => format!("\"{name}\""),
        Principal::Uid(uid) => uid.to_string(),
        other => format!("{other:?}"),
    }
}

/// `all`, `alice`, `1000`, `@kvm`, `@1000`.
fn principal(word: &str) -> Result<Principal, String> {
    if word == "all" {
        return Ok(Principal::All);
    }
    let (name, group) = match word.strip_prefix('@') {
        Some(name) => (name, true),
        None => (word, false),
    };
    let what = if group {
        "a group name or gid"
    } else {
        "\"all\", a user name or uid, or a @group"
    };
    let id = match name.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty() {
        true => Some(
            name.parse::<u32>()
                .map_err(|_| format!("\"{word}\" is not {what}"))?,
        ),
        false => None,
    };
    match (id, group) {
        (Some(gid), true) => Ok(Principal::Gid(gid)),
        (Some(uid), false) => Ok(Principal::Uid(uid)),
        (None, _) if !valid_name(name) => Err(format!("\"{word}\" is not {what}")),
        (None, true) => Ok(Principal::Group(name.to_owned())),
        (None, false) => Ok(Principal::User(name.to_owned())),
    }
}

/// User and group names as shadow-utils accepts them, leniently: letters,
/// digits, `_`, `.`, `-`, a trailing `$`, at most 32 bytes, no leading `-`.
fn valid_name(name: &str) -> bool {
    let body = name.strip_suffix('$').unwrap_or(name);
    !body.is_empty()
        && name.len() <= 32
        && !body.starts_with('-')
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals() {
        assert_eq!(principal("all"), Ok(Principal::All));
        assert_eq!(principal("alice"), Ok(Principal::User("alice".into())));
        assert_eq!(principal("1000"), Ok(Principal::Uid(1000)));
        assert_eq!(principal("@kvm"), Ok(Principal::Group("kvm".into())));
        assert_eq!(principal("@0"), Ok(Principal::Gid(0)));
        assert_eq!(
            principal("machine$"),
            Ok(Principal::User("machine$".into()))
        );
        for bad in [
            "@",
            "a/b",
            "-x",
            "@-x",
            "a:b",
            "x".repeat(33).as_str(),
            "99999999999",
        ] {
            assert!(principal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_nobody_has_is_an_error_on_its_line() {
        let mut rule = AccessRule::new(Glob::new("br*").unwrap(), 1);
        rule.store("allow", "alice 1000 @kvm all", 2).unwrap();
        rule.store("deny", "@nogroup", 4).unwrap();
        rule.store("allow", "nobdy", 3).unwrap();
        let known = |who: &Principal| !matches!(who, Principal::User(n) | Principal::Group(n) if n.starts_with("no"));
        let rules = [rule];
        assert_eq!(
            check_accounts(&rules, known),
            Err((3, "allow: there is no user \"nobdy\" in /etc/passwd".into()))
        );
        let everyone = |_: &Principal| true;
        assert_eq!(check_accounts(&rules, everyone), Ok(()));
        let groups_only = |who: &Principal| !matches!(who, Principal::Group(_));
        assert_eq!(
            check_accounts(&rules, groups_only),
            Err((2, "allow: there is no group \"kvm\" in /etc/group".into()))
        );
    }

    #[test]
    fn only_allow_and_deny() {
        let mut rule = AccessRule::new(Glob::new("br*").unwrap(), 1);
        rule.store("allow", "alice @kvm", 2).unwrap();
        rule.store("allow", "bob", 3).unwrap();
        rule.store("deny", "all", 4).unwrap();
        assert_eq!(rule.allow.len(), 3);
        assert_eq!(rule.deny, vec![(Principal::All, 4)]);
        assert_eq!(
            rule.store("bridge", "br0", 5).unwrap_err(),
            "unknown key \"bridge\" in an [access] section: only \"allow\" and \"deny\""
        );
        assert_eq!(
            rule.store("deny", "a:b", 6).unwrap_err(),
            "deny: \"a:b\" is not \"all\", a user name or uid, or a @group"
        );
    }
}
