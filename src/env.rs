//! The environment variables vnet-ifup reads, taken once at start. Below
//! both `cli` (which reads them) and `ifup` (which uses them), so neither
//! imports from the layer above it.

use std::ffi::OsString;
use std::path::PathBuf;

/// `VNET_CONFIG` and `VNET_BRIDGE`; `VNET_LOG` is read by the logger alone.
#[derive(Debug, Default)]
pub struct Env {
    /// `VNET_CONFIG`: another configuration file.
    pub config: Option<PathBuf>,
    /// `VNET_BRIDGE`: the bridge for this invocation.
    pub bridge: Option<OsString>,
}

impl Env {
    /// Reads the process environment; an empty variable counts as unset.
    pub fn from_process() -> Env {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        Env {
            config: var("VNET_CONFIG").map(PathBuf::from),
            bridge: var("VNET_BRIDGE"),
        }
    }
}
