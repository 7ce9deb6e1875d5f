//! The verdict on a helper tap before it exists: the bridge looked up and
//! the attach planned for a tap as the tun driver makes it. `--check`
//! prints this; the real run refuses on it before making a tap, so a
//! refused QEMU never makes a tap appear, even briefly. The run plans
//! again on the real tap, so a bridge changed in between is caught too.

use nix::unistd::{getgid, getuid};

use super::{pattern, HelperError};
use crate::config::Resolved;
use crate::error::{Failure, Looked};
use crate::ifup;
use crate::name::IfName;
use crate::netlink::{Link, Netlink, Tun};
use crate::policy::{self, AttachPlan};

/// What a fresh tap looks like to the policy: the tun driver makes it
/// down, with MTU 1500 and a random locally administered MAC address;
/// we make it the caller's.
pub fn fresh_tap() -> Link {
    Link {
        index: 0,
        name: pattern().to_string(),
        kind: Some("tun".into()),
        tun: Some(Tun {
            tap: true,
            owner: Some(getuid().as_raw()),
            group: Some(getgid().as_raw()),
        }),
        bridge: None,
        mtu: 1500,
        mac: Some([0x02, 0, 0, 0, 0, 0]),
        master: None,
        up: false,
        loopback: false,
    }
}

/// The plan for a fresh tap on `bridge` (creating the bridge first when it
/// is missing and `create-bridge = yes`), or a refusal.
pub fn plan(bridge: &IfName, settings: &Resolved) -> Result<AttachPlan, HelperError> {
    let refuse = |reason| HelperError::Refused {
        bridge: bridge.clone(),
        reason: Box::new(reason),
    };
    let mut nl = Netlink::connect().map_err(|e| refuse(Failure::Socket(e)))?;
    let found = ifup::lookup(&mut nl, bridge, Looked::Bridge).map_err(refuse)?;
    policy::plan_attach(&fresh_tap(), found.as_ref(), None, settings)
        .map_err(|r| refuse(Failure::Refused(r)))
}
