//! Carries out a plan: one acknowledged request per action, in order.

use crate::error::Failure;
use crate::netlink::{Netlink, NetlinkError};
use crate::policy::Action;

/// Names used in messages: the tap and the bridge (or master) it concerns.
pub struct Names<'a> {
    pub tap: &'a str,
    pub bridge: &'a str,
}

/// Runs `actions` on interface `index`; if one fails, undoes the ones
/// before it in reverse order, so the tap is left as it was found.
pub fn all_or_nothing(
    nl: &mut Netlink,
    index: u32,
    actions: &[Action],
    names: &Names<'_>,
) -> Result<(), Failure> {
    for (done, action) in actions.iter().enumerate() {
        let Err(err) = send(nl, index, action) else {
            continue;
        };
        // Without the kernel's answer (a timeout) the request may still have
        // been carried out: undo it too. Undoing what did not happen sets a
        // value the tap already has, which the kernel accepts.
        let done = if err.errno().is_some() {
            done
        } else {
            done + 1
        };
        let undo_failures = actions[..done]
            .iter()
            .rev()
            .filter_map(Action::undo)
            .filter_map(|undo| {
                let result = send(nl, index, &undo);
                result
                    .err()
                    .map(|e| format!("{}: {e}", undo.describe(names.tap, names.bridge)))
            })
            .collect();
        return Err(Failure::Step {
            step: action.describe(names.tap, names.bridge),
            err,
            tap: names.tap.to_owned(),
            undone: done > 0,
            undo_failures,
        });
    }
    Ok(())
}

/// Runs every action even when one fails; returns each failed action
/// with its error, so the caller can name things only when it must.
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

fn send(nl: &mut Netlink, index: u32, action: &Action) -> Result<(), NetlinkError> {
    match action {
        Action::SetMtu { to, .. } => nl.set_mtu(index, *to),
        Action::SetMac { to, .. } => nl.set_mac(index, *to),
        Action::SetMaster { to, .. } => nl.set_master(index, *to),
        Action::SetPort(flags) => nl.set_port(index, flags),
        Action::Vlans { add, ranges } => nl.set_vlans(index, *add, ranges),
        Action::SetUp(up) => nl.set_up(index, *up),
    }
}
