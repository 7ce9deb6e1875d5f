//! vnet: attach QEMU's tap devices to Linux bridges over raw rtnetlink.
//!
//! QEMU runs `vnet-ifup TAP` after creating a tap and `vnet-ifdown TAP`
//! before closing it. The layers, top to bottom:
//!
//! - [`cli`]: arguments, logging, the one error line and exit status;
//! - [`env`]: the environment variables, read once (below `cli` and `ifup`);
//! - [`ifup`], [`ifdown`], [`check`]: what each command does;
//! - [`config`]: the configuration file, resolved for one tap;
//! - [`policy`]: pure decisions: which requests, in which order, or a refusal;
//! - [`apply`]: sends the planned requests, undoing them if one fails;
//! - [`netlink`]: the only module that talks to the kernel;
//! - [`escape`]: the one escaping rule for untrusted strings in messages;
//! - [`helper`], [`audit`]: privileged-helper mode (file capabilities or
//!   setuid) for unprivileged QEMU: dropping capabilities, the syslog trail;
//! - [`bridge_helper`]: QEMU's `-netdev bridge,helper=` protocol, which
//!   makes the tap ([`tun`]) and hands it to QEMU ([`fdpass`]).

pub mod apply;
pub mod arena;
pub mod audit;
pub mod bridge_helper;
pub mod check;
pub mod cli;
pub mod config;
pub mod env;
pub mod error;
pub mod escape;
pub mod fdpass;
pub mod glob;
pub mod helper;
pub mod ifdown;
pub mod ifup;
pub mod name;
pub mod netlink;
pub mod network;
pub mod policy;
pub mod tun;
