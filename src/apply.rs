//! Carries out a plan: one acknowledged request per action, in order,
//! undoing this run's changes if one fails.

use nix::errno::Errno;

use crate::error::{Failure, UndoFailure};
use crate::name::IfName;
use crate::netlink::{Netlink, NetlinkError};
use crate::policy::{Action, Refusal};

/// The changes of one `vnet-ifup` run, kept so that they can be undone.
/// A plan may be applied in parts (the bridge first, then the rest once
/// it can be looked up); a failure in any part undoes every part.
pub struct Transaction<'a> {
    tap: &'a IfName,
    bridge: &'a IfName,
    tap_index: u32,
    /// Known once the bridge has been found or created.
    bridge_index: Option<u32>,
    /// What puts back each change made so far, in the order made.
    undo: Vec<Action>,
}

impl<'a> Transaction<'a> {
    pub fn new(
        tap: &'a IfName,
        bridge: &'a IfName,
        tap_index: u32,
        bridge_index: Option<u32>,
    ) -> Self {
        Transaction {
            tap,
            bridge,
            tap_index,
            bridge_index,
            undo: Vec::new(),
        }
    }

    /// Whether this transaction created the bridge (and would delete it).
    pub fn created_bridge(&self) -> bool {
        self.undo.contains(&Action::DeleteBridge)
    }

    /// The bridge's index, once it exists: [`Action::Attach`] needs it.
    pub fn set_bridge(&mut self, index: u32) {
        self.bridge_index = Some(index);
    }

    /// Runs `actions`; if one fails, undoes everything this transaction did,
    /// in reverse order, so the host is left as it was found.
    pub fn apply(&mut self, nl: &mut Netlink, actions: &[Action]) -> Result<(), Failure> {
        for action in actions {
            match self.send(nl, action) {
                Ok(Done::Changed) => self.undo.extend(action.undo()),
                Ok(Done::Nothing) => {}
                Err(err) => {
                    // Without the kernel's answer (a timeout) the request may
                    // still have been carried out: undo it too. Undoing what did
                    // not happen sets a value the tap already has, which the
                    // kernel accepts. A bridge is the exception: one we cannot
                    // tell we made may be another VM's, and stays.
                    let unanswered = err.errno().is_none();
                    if unanswered && !matches!(action, Action::CreateBridge { .. }) {
                        self.undo.extend(action.undo());
                    }
                    let failure = self.failure(action, err);
                    return Err(self.abandon(nl, failure));
                }
            }
        }
        Ok(())
    }

    /// Undoes everything done so far and returns `failure`, telling how
    /// the undoing went if there was anything to undo.
    pub fn abandon(&mut self, nl: &mut Netlink, failure: Failure) -> Failure {
        if self.undo.is_empty() {
            return failure;
        }
        let undo = std::mem::take(&mut self.undo);
        let deleted_bridge = undo.contains(&Action::DeleteBridge);
        let undo_failures = undo
            .into_iter()
            .rev()
            .filter_map(|action| {
                let err = self.send(nl, &action).err()?;
                Some(UndoFailure {
                    action,
                    tap: self.tap.as_str().to_owned(),
                    bridge: self.bridge.as_str().to_owned(),
                    err,
                })
            })
            .collect::<Vec<_>>();
        Failure::Undone {
            failure: Box::new(failure),
            tap: self.tap.as_str().to_owned(),
            bridge: self.bridge.as_str().to_owned(),
            deleted_bridge: deleted_bridge && undo_failures.is_empty(),
            undo_failures,
        }
    }

    /// What a failed request means, said where the request is known.
    fn failure(&self, action: &Action, err: NetlinkError) -> Failure {
        match (action, err.errno()) {
            (
                Action::CreateBridge {
                    vlan_filtering: true,
                    ..
                },
                Some(Errno::EOPNOTSUPP),
            ) => Failure::Refused(Refusal::NoVlanFiltering(self.bridge.as_str().to_owned())),
            _ => Failure::Step {
                action: action.clone(),
                tap: self.tap.as_str().to_owned(),
                bridge: self.bridge.as_str().to_owned(),
                err,
            },
        }
    }

    fn send(&self, nl: &mut Netlink, action: &Action) -> Result<Done, NetlinkError> {
        let index = self.tap_index;
        match action {
            Action::CreateBridge {
                vlan_filtering,
                mac,
            } => {
                match nl.create_bridge(self.bridge, *vlan_filtering, *mac) {
                    Ok(()) => return Ok(Done::Changed),
                    // Another VM starting at the same moment won the race: its
                    // bridge is used, and only its creator may delete it. The
                    // caller checks that what exists is a bridge.
                    Err(e) if e.errno() == Some(Errno::EEXIST) => return Ok(Done::Nothing),
                    Err(e) => return Err(e),
                }
            }
            Action::DeleteBridge => nl.delete_link(self.bridge_index, self.bridge),
            Action::Attach => {
                let bridge = self
                    .bridge_index
                    .expect("the bridge is looked up before a tap is attached to it");
                nl.set_master(index, bridge)
            }
            other => send(nl, index, other),
        }
        .map(|()| Done::Changed)
    }
}

/// What a request that succeeded did.
enum Done {
    Changed,
    /// Nothing: what it asked for was already so, and is not ours to undo.
    Nothing,
}

/// Runs every action on the tap `index` even when one fails; returns each
/// failed action with its error, so the caller can name things only when
/// it must. For `vnet-ifdown`, whose actions need no bridge index.
pub fn every<'a>(
    nl: &mut Netlink,
    index: u32,
    actions: &'a [Action],
) -> Vec<(&'a Action, NetlinkError)> {
    actions
        .iter()
        .filter_map(|action| send(nl, index, action).err().map(|err| (action, err)))
        .collect()
}

/// The requests that act on the tap alone.
fn send(nl: &mut Netlink, index: u32, action: &Action) -> Result<(), NetlinkError> {
    match action {
        Action::SetMtu { to, .. } => nl.set_mtu(index, *to),
        Action::SetMac { to, .. } => nl.set_mac(index, *to),
        Action::Detach => nl.set_master(index, 0),
        Action::SetPort(flags) => nl.set_port(index, flags),
        Action::Vlans { add, ranges } => nl.set_vlans(index, *add, ranges),
        Action::SetUp(up) => nl.set_up(index, *up),
        Action::CreateBridge { .. } | Action::DeleteBridge | Action::Attach => {
            unreachable!("{action:?} acts on the bridge, not on the tap alone")
        }
    }
}
