//! The `[network BRIDGE]` part of vnet-ifup: making the network whole
//! before a tap joins it, and `--network-up` / `--network-down`.

use crate::config::{Config, ConfigError, Problem, Resolved};
use crate::env::Env;
use crate::error::{Error, Failure, Looked};
use crate::name::IfName;
use crate::netlink::Netlink;
use crate::network::{self, NetError, Runtime};
use crate::policy::{self, Caller};

/// Before attaching `tap`: if its bridge has a `[network]` section, root
/// makes the network whole; a privileged helper only checks that it is.
/// Returns the socket it used, for the attach to go on with.
pub fn network(
    tap: &IfName,
    config: &Config,
    settings: &Resolved,
    caller: Option<&Caller>,
) -> Result<Option<Netlink>, Error> {
    let bridge = &settings.bridge.value;
    let Some(net) = config.network(bridge) else {
        return Ok(None);
    };
    let fail = |reason| Error::attach(tap, bridge, reason);
    let mut nl = Netlink::connect().map_err(|e| fail(Failure::Socket(e)))?;
    let runtime = Runtime::new(caller.is_some());
    let result = match caller {
        Some(_) => network::verify(&mut nl, net, &runtime),
        None => match network::whole(&mut nl, net, &runtime) {
            Ok(true) => Ok(()),
            Ok(false) => {
                // A tap vnet would refuse must not set a network up first.
                let link = super::lookup(&mut nl, tap, Looked::Tap)
                    .map_err(fail)?
                    .ok_or_else(|| fail(Failure::NoTap(tap.as_str().to_owned())))?;
                policy::check_tap(&link).map_err(|r| fail(Failure::Refused(r)))?;
                network::ensure(&mut nl, net, &runtime).map(|_| ())
            }
            Err(e) => Err(e),
        },
    };
    result.map_err(|err| {
        let failure = Failure::Network {
            bridge: bridge.to_string(),
            err: Box::new(err),
        };
        Error::attach(tap, bridge, failure)
    })?;
    Ok(Some(nl))
}

/// `vnet-ifup --network-up BRIDGE`: what was made, as lines for stdout.
pub fn network_up(bridge: &IfName, env: &Env, caller: Option<&Caller>) -> Result<String, Error> {
    let fail = |err| Error::Network {
        verb: "set up",
        bridge: bridge.to_string(),
        reason: Box::new(err),
    };
    refuse_helper(bridge, caller).map_err(fail)?;
    let config = super::load(env, caller)?;
    let Some(net) = config.network(bridge) else {
        return Err(Error::Config(ConfigError {
            path: config.source(),
            line: None,
            problem: Problem::Invalid(format!("there is no [network {bridge}] section")),
        }));
    };
    let mut nl = Netlink::connect()
        .map_err(NetError::netlink("opening a netlink socket"))
        .map_err(fail)?;
    let made = network::ensure(&mut nl, net, &Runtime::new(false)).map_err(fail)?;
    Ok(match made.is_empty() {
        true => format!("network {bridge} is set up already\n"),
        false => format!("network {bridge} is set up: made {}\n", made.join(", ")),
    })
}

/// `vnet-ifup --network-down BRIDGE`: what was removed, as lines for stdout.
pub fn network_down(bridge: &IfName, caller: Option<&Caller>) -> Result<String, Error> {
    let fail = |err| Error::Network {
        verb: "tear down",
        bridge: bridge.to_string(),
        reason: Box::new(err),
    };
    refuse_helper(bridge, caller).map_err(fail)?;
    let done = network::teardown(bridge, &Runtime::new(false)).map_err(fail)?;
    Ok(match done.is_empty() {
        true => format!("network {bridge}: nothing of vnet's to remove\n"),
        false => format!("network {bridge}: {}\n", done.join(", ")),
    })
}

/// Networks are root's: a privileged helper never sets one up or down.
fn refuse_helper(bridge: &IfName, caller: Option<&Caller>) -> Result<(), NetError> {
    match caller {
        Some(caller) => Err(NetError::NotRoot {
            caller: caller.to_string(),
            bridge: bridge.to_string(),
        }),
        None => Ok(()),
    }
}
