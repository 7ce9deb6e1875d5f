//! `vnet-ifdown TAP`: take QEMU's tap off its bridge and set it down.

use log::{info, log_enabled, Level};
use nix::errno::Errno;

use crate::apply;
use crate::error::{Error, Failure, Looked};
use crate::escape::Escaped;
use crate::name::IfName;
use crate::netlink::{Link, Netlink};
use crate::policy::{self, Action, Caller};

/// Looks the tap up and plans the detachment; `None` if the tap is gone
/// (QEMU may already have closed it: nothing to undo). A privileged
/// helper's `caller` must own the tap. Changes nothing.
pub fn prepare(
    nl: &mut Netlink,
    tap: &IfName,
    caller: Option<&Caller>,
) -> Result<Option<(Link, Vec<Action>)>, Failure> {
    let link = match nl.link(tap) {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(None),
        Err(err) => {
            return Err(Failure::Lookup {
                what: Looked::Tap(tap.as_str().to_owned()),
                err,
            })
        }
    };
    let actions = policy::plan_detach(&link).map_err(Failure::Refused)?;
    if let Some(caller) = caller {
        policy::owns(&link, caller).map_err(Failure::Refused)?;
    }
    Ok(Some((link, actions)))
}

/// Detaches and downs `tap`, trying every step and reporting every failure.
/// Running it twice succeeds twice. Returns the master it left, when its
/// name was needed (for the log or a privileged helper's audit).
pub fn run(tap: &IfName, caller: Option<&Caller>) -> Result<Option<String>, Error> {
    let fail = |reason| Error::detach(tap, reason);
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    let Some((link, actions)) = prepare(&mut nl, tap, caller).map_err(fail)? else {
        info!("{tap} no longer exists: nothing to undo");
        return Ok(None);
    };
    let failed = apply::every(&mut nl, link.index, &actions);
    // ENODEV: QEMU closed the tap while we ran. Gone, it is on no bridge
    // and up nowhere, as when it was gone before we started.
    if failed.iter().any(|(_, e)| e.errno() == Some(Errno::ENODEV)) {
        info!("{tap} disappeared: nothing left to undo");
        return Ok(None);
    }
    // The master's name only matters for messages: look it up only for them.
    let named = !failed.is_empty() || caller.is_some() || log_enabled!(Level::Info);
    let master = link
        .master
        .filter(|_| named)
        .map(|index| master_name(&mut nl, index));
    if failed.is_empty() {
        match &master {
            Some(master) => info!("detached {tap} from {}; it is down", Escaped(master)),
            None => info!("{tap} was not attached; it is down"),
        }
        return Ok(master);
    }
    let master = master.unwrap_or_default();
    let failures = failed
        .into_iter()
        .map(|(action, err)| Failure::Step {
            action: action.clone(),
            tap: tap.as_str().to_owned(),
            bridge: master.clone(),
            err,
        })
        .collect();
    Err(fail(Failure::Several(failures)))
}

fn master_name(nl: &mut Netlink, index: u32) -> String {
    match nl.link_by_index(index) {
        Ok(Some(master)) => master.name,
        _ => format!("the interface with index {index}"),
    }
}
