//! `vnet-ifdown TAP`: take QEMU's tap off its bridge and set it down.

use log::{info, log_enabled, Level};
use nix::errno::Errno;

use crate::apply;
use crate::error::{Error, Failure};
use crate::name::IfName;
use crate::netlink::{Link, Netlink};
use crate::policy::{self, Action};

/// Looks the tap up and plans the detachment; `None` if the tap is gone
/// (QEMU may already have closed it: nothing to undo). Changes nothing.
pub fn prepare(nl: &mut Netlink, tap: &IfName) -> Result<Option<(Link, Vec<Action>)>, Failure> {
    let link = match nl.link(tap) {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(None),
        Err(err) => {
            return Err(Failure::Lookup {
                name: format!("tap {tap}"),
                err,
            })
        }
    };
    let actions = policy::plan_detach(&link).map_err(Failure::Refused)?;
    Ok(Some((link, actions)))
}

/// Detaches and downs `tap`, trying every step and reporting every failure.
/// Running it twice succeeds twice.
pub fn run(tap: &IfName) -> Result<(), Error> {
    let fail = |reason| Error::detach(tap, reason);
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    let Some((link, actions)) = prepare(&mut nl, tap).map_err(fail)? else {
        info!("{tap} no longer exists: nothing to undo");
        return Ok(());
    };
    let failed = apply::every(&mut nl, link.index, &actions);
    // ENODEV: QEMU closed the tap while we ran. Gone, it is on no bridge
    // and up nowhere, as when it was gone before we started.
    if failed.iter().any(|(_, e)| e.errno() == Some(Errno::ENODEV)) {
        info!("{tap} disappeared: nothing left to undo");
        return Ok(());
    }
    // The master's name only matters for messages: look it up only for them.
    if failed.is_empty() && !log_enabled!(Level::Info) {
        return Ok(());
    }
    let master = master_name(&mut nl, &link);
    if failed.is_empty() {
        match link.master {
            Some(_) => info!("detached {tap} from {master}; it is down"),
            None => info!("{tap} was not attached; it is down"),
        }
        return Ok(());
    }
    let failures = failed
        .into_iter()
        .map(|(action, err)| Failure::step(action.describe(tap.as_str(), &master), err, tap))
        .collect();
    Err(fail(Failure::Several(failures)))
}

fn master_name(nl: &mut Netlink, tap: &Link) -> String {
    let Some(index) = tap.master else {
        return String::new();
    };
    match nl.link_by_index(index) {
        Ok(Some(master)) => master.name,
        _ => format!("the interface with index {index}"),
    }
}
