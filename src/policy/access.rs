//! Who may do what in privileged-helper mode: the `[access]` rules for
//! bridges, and tap ownership. Pure: the caller's identity is gathered
//! beforehand (see `helper.rs`).

use std::fmt;

use super::Refusal;
use crate::config::{AccessRule, Principal};
use crate::escape::{escape, Escaped};
use crate::netlink::Link;

/// The real user behind a privileged helper, with all their groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub user: Option<String>,
    /// The real gid and every supplementary group.
    pub gids: Vec<u32>,
    pub groups: Vec<String>,
}

impl Caller {
    fn is(&self, who: &Principal) -> bool {
        match who {
            Principal::All => true,
            Principal::Uid(uid) => *uid == self.uid,
            Principal::User(name) => self.user.as_ref() == Some(name),
            Principal::Gid(gid) => self.gids.contains(gid),
            Principal::Group(name) => self.groups.contains(name),
        }
    }
}

impl Caller {
    /// What `ip tuntap add ... user` takes for them: their name, or uid.
    pub fn account(&self) -> String {
        match &self.user {
            Some(name) => escape(name).into_owned(),
            None => self.uid.to_string(),
        }
    }
}

/// "user alice (uid 1000)", or "uid 1000" for a uid without a name.
impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(name) => write!(f, "user {} (uid {})", Escaped(name), self.uid),
            None => write!(f, "uid {}", self.uid),
        }
    }
}

/// Whether `caller` may attach taps to `bridge`: some matching rule must
/// allow them and none may deny them. `path` names the file in messages.
pub fn may_use(
    rules: &[AccessRule],
    path: &str,
    bridge: &str,
    caller: &Caller,
) -> Result<(), Refusal> {
    let refuse = |why: String| Refusal::AccessDenied {
        caller: Box::new(caller.clone()),
        bridge: bridge.to_owned(),
        why,
    };
    let path = Escaped(path);
    let mut allowed = false;
    for rule in rules.iter().filter(|r| r.glob.matches(bridge)) {
        if let Some((_, line)) = rule.deny.iter().find(|(who, _)| caller.is(who)) {
            return Err(refuse(format!("denied by {path}:{line}")));
        }
        allowed |= rule.allow.iter().any(|(who, _)| caller.is(who));
    }
    match allowed {
        true => Ok(()),
        false => Err(refuse(format!("no [access] rule in {path} allows it"))),
    }
}

/// Whether `caller` owns `tap` as the kernel sees it (`tun_not_capable()`):
/// each of IFLA_TUN_OWNER and IFLA_TUN_GROUP that is set must match, and
/// one must be set. A tap anyone could open is still not anyone's to attach.
pub fn owns(tap: &Link, caller: &Caller) -> Result<(), Refusal> {
    let (owner, group) = tap
        .tun
        .as_ref()
        .map_or((None, None), |t| (t.owner, t.group));
    let refuse = |why: String| Refusal::NotYourTap {
        tap: tap.name.clone(),
        caller: Box::new(caller.clone()),
        why,
    };
    match (owner, group) {
        (None, None) => Err(refuse(
            "it has no owner or group, so only root may use it".into(),
        )),
        (Some(uid), _) if uid != caller.uid => Err(refuse(format!("it belongs to uid {uid}"))),
        (_, Some(gid)) if !caller.gids.contains(&gid) => Err(refuse(format!(
            "it belongs to group {gid}, which is not one of theirs"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
