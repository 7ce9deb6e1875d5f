//! QEMU's bridge-helper protocol: `-netdev bridge,br=BR,helper=vnet-ifup`.
//!
//! QEMU makes a Unix stream socketpair, closes every other descriptor but
//! 0, 1 and 2, and runs `vnet-ifup --use-vnet --fd=N --br=BR` (libvirt:
//! `[--use-vnet] --br=BR --fd=N`). We make a tap, give it the plan
//! `vnet-ifup TAP` would, and send its descriptor back as one byte with
//! SCM_RIGHTS, then exit 0. QEMU reads that with no timeout, then waits for
//! us; if we exit 0 having sent nothing it would use fd 0 as its tap, so
//! every failure exits non-zero and sends nothing. No downscript runs in
//! this mode: closing the descriptor deletes the tap.
//!
//! Order: arguments checked in full (pure), the socket checked (fstat,
//! getsockopt), configuration and `[access]` rules, the bridge looked up
//! and the attach planned for a tap-to-be; only then is the tap made, the
//! plan run on it, and its descriptor sent.

mod args;
mod check;
mod error;
mod preflight;

use std::ffi::OsString;
use std::os::fd::{AsFd, RawFd};

use log::info;
use nix::unistd::{getgid, getuid};

pub use args::{is_invocation, parse, ArgError, Args, Mode};
pub use error::HelperError;

use crate::config::{Config, Origin, Resolved};
use crate::env::Env;
use crate::error::{Error, Failure};
use crate::name::IfName;
use crate::policy::{self, Caller};
use crate::{audit, fdpass, ifup, tun};

/// What the kernel names helper taps: `tap` and the lowest free number,
/// as qemu-bridge-helper does. `[match]` sections are matched against this
/// pattern, before the tap exists, so `--check` and the real run agree:
/// `[match tap%d]` (the name itself) gives every helper tap its policy.
pub const PATTERN: &str = "tap%d";

/// The name sections are matched against, and the kernel's template.
pub fn pattern() -> IfName {
    IfName::new(PATTERN).expect("tap%d is a valid interface name")
}

/// Runs the bridge-helper form of the command line; `out` gets `--check`'s
/// report. The caller prints the error.
pub fn run(
    argv: &[OsString],
    env: &Env,
    caller: Option<&Caller>,
    out: &mut String,
) -> Result<(), HelperError> {
    let args = args::parse(argv).map_err(HelperError::Usage)?;
    match args.mode {
        Mode::Check => check::report(&args, env, caller, out),
        Mode::Send { fd } => {
            fdpass::check_socket(fd).map_err(|reason| HelperError::Socket {
                bridge: args.bridge.clone(),
                reason,
            })?;
            let mut tap = pattern();
            let result = serve(&args, fd, env, caller, &mut tap);
            if let Some(caller) = caller {
                let bridge = Some(args.bridge.as_str());
                audit::record("vnet-ifup", caller, &tap, bridge, "attached", &result);
            }
            result
        }
    }
}

/// Everything after the arguments: `tap` gets the new tap's name.
fn serve(
    args: &Args,
    fd: RawFd,
    env: &Env,
    caller: Option<&Caller>,
    tap_name: &mut IfName,
) -> Result<(), HelperError> {
    let bridge = &args.bridge;
    let (_, settings) = settings(bridge, env, caller)?;
    preflight::plan(bridge, &settings)?;
    let request = tun::Request {
        pattern: &pattern(),
        vnet_hdr: args.use_vnet,
        owner: getuid().as_raw(),
        group: getgid().as_raw(),
    };
    let tap = tun::create(&request).map_err(|reason| HelperError::Tun {
        bridge: bridge.clone(),
        reason,
    })?;
    *tap_name = tap.name.clone();
    // On any failure from here on, `tap` drops: the kernel deletes it.
    ifup::run(&tap.name, &settings, caller).map_err(HelperError::Vnet)?;
    fdpass::send_fd(fd, tap.as_fd()).map_err(|errno| HelperError::Send {
        tap: tap.name.clone(),
        bridge: bridge.clone(),
        fd,
        errno,
    })?;
    info!(
        "sent {} to QEMU{}",
        tap.name,
        if tap.vnet_hdr { " (vnet_hdr)" } else { "" }
    );
    Ok(())
}

/// The configuration resolved for a helper tap on `bridge`, which QEMU's
/// `--br` chooses; a privileged helper's caller must be allowed it.
/// A privileged helper reads only root's /etc/vnet/vnet.conf.
pub fn settings(
    bridge: &IfName,
    env: &Env,
    caller: Option<&Caller>,
) -> Result<(Config, Resolved), HelperError> {
    let config = ifup::load(env, caller).map_err(HelperError::Vnet)?;
    let mut resolved = config
        .resolve(&pattern(), Some(bridge.clone()))
        .map_err(|e| HelperError::Vnet(Error::Config(e)))?;
    resolved.bridge.origin = Origin::Argument("--br");
    if let Some(caller) = caller {
        let rules = config.access_rules();
        policy::may_use(rules, &config.source(), bridge.as_str(), caller).map_err(|r| {
            HelperError::Refused {
                bridge: bridge.clone(),
                reason: Box::new(Failure::Refused(r)),
            }
        })?;
    }
    Ok((config, resolved))
}
