//! Networks that vnet sets up ([network] sections) inside a test's own
//! namespace: the runtime directory is the test's (VNET_RUNTIME_DIR), the
//! oracle is `nft -j list ruleset`, `ip -j addr` and /proc, and every
//! dnsmasq the test's vnet started is killed when the test ends, as the
//! namespace's deletion would not stop it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{cannot_run, privileged, Netns, Run, IFUP};

/// A namespace with a configuration and a runtime directory of its own.
pub struct Net {
    pub ns: Netns,
    pub run_dir: PathBuf,
    pub conf: PathBuf,
}

impl Net {
    /// `None` (loudly, a failure under CI) without root, nft or dnsmasq.
    pub fn new(config: &str) -> Option<Net> {
        if !privileged() {
            return None;
        }
        for (tool, package) in [
            ("/usr/sbin/nft", "nftables"),
            ("/usr/sbin/dnsmasq", "dnsmasq-base"),
        ] {
            if !Path::new(tool).is_file() {
                let why = format!("{tool} is missing (apt-get install {package}; .ci/run does)");
                cannot_run("network test", &why);
                return None;
            }
        }
        let ns = Netns::new();
        let run_dir = ns.path("run");
        let conf = ns.path("network.conf");
        std::fs::write(&conf, config).expect("write config");
        Some(Net { ns, run_dir, conf })
    }

    /// The environment every run gets: the test's config and runtime dir.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VNET_CONFIG", self.conf.display().to_string()),
            ("VNET_RUNTIME_DIR", self.run_dir.display().to_string()),
        ]
    }

    /// vnet-ifup ARGS inside the namespace (entered with setns, so even a
    /// PATH without `ip` works), with `extra` in its environment.
    pub fn vnet(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut cmd = self.ns.command(&IFUP);
        cmd.args(args).envs(self.env()).envs(extra.iter().copied());
        Run::from(cmd.output().expect("run vnet-ifup"))
    }

    /// `nft ARGS` inside the namespace; must succeed.
    pub fn nft(&self, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.ns.name, "nft"];
        all.extend_from_slice(args);
        super::run_ok("ip", &all)
    }

    /// `nft -j list ruleset`, without the metainfo line (nft's version).
    pub fn ruleset(&self) -> Value {
        let mut all: Value =
            serde_json::from_str(&self.nft(&["-j", "list", "ruleset"])).expect("nft -j");
        if let Some(items) = all["nftables"].as_array_mut() {
            items.retain(|i| i.get("metainfo").is_none());
        }
        all
    }

    /// Whether table inet vnet exists.
    pub fn has_vnet_table(&self) -> bool {
        let ruleset = self.ruleset();
        let items = ruleset["nftables"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .any(|i| i["table"]["name"] == "vnet" && i["table"]["family"] == "inet")
    }

    /// The pids of every dnsmasq started with this test's runtime directory.
    pub fn dnsmasqs(&self) -> Vec<i32> {
        let needle = format!("--pid-file={}/", self.run_dir.display());
        let entries = std::fs::read_dir("/proc").expect("/proc").flatten();
        entries
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let zombie = stat
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
                !zombie
                    && cmdline
                        .split(|&b| b == 0)
                        .any(|a| a.starts_with(needle.as_bytes()))
            })
            .collect()
    }

    /// Everything a refused run must leave as it was: links, addresses,
    /// routes, the ruleset, forwarding, vnet's files and dnsmasq processes.
    pub fn snapshot(&self) -> Value {
        let json = |out: String| -> Value { serde_json::from_str(&out).expect("ip -j") };
        let files: Vec<String> = std::fs::read_dir(&self.run_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with(".lock"))
            .collect();
        let forward = self.sysctl("net/ipv4/ip_forward");
        let mut addrs = json(self.ns.ip(&["-j", "addr", "show"]));
        strip_lifetimes(&mut addrs);
        // The kernel's own IPv6 link-local addresses come and go through
        // duplicate address detection (tentative, then a local route), on
        // its own time: not vnet's doing.
        let mut routes = json(self.ns.ip(&["-j", "route", "show", "table", "all"]));
        if let Some(all) = routes.as_array_mut() {
            all.retain(|r| !r["dst"].as_str().is_some_and(|d| d.starts_with("fe80:")));
        }
        serde_json::json!({
            "links": self.ns.snapshot(),
            "addresses": addrs,
            "routes": routes,
            "ruleset": self.ruleset(),
            "forward": forward,
            "files": files,
            "dnsmasq": self.dnsmasqs(),
        })
    }

    /// A procfs switch of the namespace, read inside it.
    pub fn sysctl(&self, key: &str) -> String {
        let path = format!("/proc/sys/{key}");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns.name, "cat", &path])
            .output()
            .expect("cat");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

fn strip_lifetimes(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("_life_time") && k != "operstate" && k != "tentative");
            if let Some(Value::Array(infos)) = map.get_mut("addr_info") {
                infos.retain(|a| !a["local"].as_str().is_some_and(|l| l.starts_with("fe80:")));
            }
            map.values_mut().for_each(strip_lifetimes);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_lifetimes),
        _ => {}
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for pid in self.dnsmasqs() {
            // SAFETY: kill takes no pointers; the pid is a dnsmasq of ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}
