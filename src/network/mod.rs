//! Networks vnet sets up itself, from a `[network BRIDGE]` section: the
//! bridge, its address, forwarding, vnet's nftables chains and dnsmasq.
//!
//! - [`look`]: what exists, found with lookups only; what is missing;
//! - [`setup`]: making what is missing under the network's lock, undoing
//!   this run's changes if a step fails; [`teardown`]: removing what vnet made;
//! - [`dnsmasq`], [`runtime`]: the DHCP server; files under `/run/vnet`.
//!
//! The state is shared by every VM on the bridge: one VM's failure never
//! tears it down, and only root changes it (a privileged helper only looks).

pub mod dnsmasq;
pub mod look;
pub mod report;
pub mod runtime;
pub mod setup;
mod spawn;
pub mod teardown;

use std::io;

use crate::netlink::NetlinkError;

pub use look::{look, Found, Item};
pub use report::report;
pub use runtime::Runtime;
pub use setup::{ensure, verify, whole};
pub use teardown::teardown;

/// Why a network could not be set up, checked or torn down.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(
        "dnsmasq is not installed (Debian's package dnsmasq-base; it is looked for on PATH), \
         and this network serves DHCP or router advertisements"
    )]
    NoDnsmasq,
    #[error("dnsmasq failed to start: {0}")]
    Dnsmasq(String),
    #[error(
        "this kernel has no nf_tables (CONFIG_NF_TABLES, module nf_tables), which forward = nat \
         and forward = route need"
    )]
    NoNftables,
    #[error("{ours} overlaps {theirs} on {iface}: pick another subnet in [network {bridge}]")]
    Clash {
        bridge: String,
        ours: String,
        theirs: String,
        iface: String,
    },
    #[error(
        "bridge {bridge} already has the address {theirs}; vnet never replaces an address it \
         did not make (remove it, or make [network {bridge}] say address = {theirs})"
    )]
    OtherAddress { bridge: String, theirs: String },
    #[error("{name} is {what}, not a bridge")]
    NotABridge { name: String, what: String },
    #[error(
        "not set up yet ({missing}), and a privileged helper never sets networks up: as \
         root, run \"vnet-ifup --network-up {bridge}\""
    )]
    NotSetUp { bridge: String, missing: String },
    #[error(
        "{caller} is served as a privileged helper, which never sets networks up or down: \
         as root, run \"vnet-ifup --network-up {bridge}\""
    )]
    NotRoot { caller: String, bridge: String },
    #[error("{step}: {err}")]
    Netlink { step: String, err: NetlinkError },
    #[error("{step}: {err}")]
    Io { step: String, err: io::Error },
    #[error("{first}{}", undo_note(.undo_failures))]
    Undone {
        first: Box<NetError>,
        undo_failures: Vec<String>,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<NetError>),
}

impl NetError {
    /// A closure naming the step, for `map_err` on an io::Result.
    pub fn io(step: &str) -> impl Fn(io::Error) -> NetError + '_ {
        move |err| NetError::Io {
            step: step.to_owned(),
            err,
        }
    }

    /// The same for a netlink request.
    pub fn netlink(step: impl Into<String>) -> impl FnOnce(NetlinkError) -> NetError {
        let step = step.into();
        move |err| NetError::Netlink { step, err }
    }

    /// The same for an nf_tables request: a kernel without nf_tables
    /// refuses the socket or the subsystem, and gets its own sentence.
    pub fn nft(step: impl Into<String>) -> impl FnOnce(NetlinkError) -> NetError {
        let step = step.into();
        move |err| {
            let errno = match &err {
                NetlinkError::Io(e) => e.raw_os_error().map(nix::errno::Errno::from_raw),
                other => other.errno(),
            };
            match errno {
                Some(nix::errno::Errno::EOPNOTSUPP | nix::errno::Errno::EPROTONOSUPPORT) => {
                    NetError::NoNftables
                }
                _ => NetError::Netlink { step, err },
            }
        }
    }
}

fn undo_note(failures: &[String]) -> String {
    match failures {
        [] => "; what this run made was undone".into(),
        f => format!("; undoing this run's changes failed too: {}", f.join("; ")),
    }
}
