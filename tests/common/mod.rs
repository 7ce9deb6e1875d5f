//! Test support: a throwaway network namespace per test, the real binaries
//! run inside it, and `ip`/`bridge` as the independent oracle.
//!
//! Nothing here touches the host namespace's interfaces. A test that needs
//! root and does not have it says so loudly; under `CI=true` it fails.

#![allow(dead_code)]

pub mod fakeqemu;
pub mod guest;
pub mod libvirt;
pub mod network;
pub mod qemu;
pub mod qmp;
pub mod strace;
pub mod tapfd;
pub mod users;

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Once};

use serde_json::Value;

/// The binaries under test: cargo's, unless `VNET_BIN_DIR` names a
/// directory, when it is DIR/vnet-ifup and DIR/vnet-ifdown. That lets the
/// packaging check run this suite against installed copies
/// (`VNET_BIN_DIR=/usr/libexec cargo test --release`).
pub static IFUP: LazyLock<String> =
    LazyLock::new(|| binary("vnet-ifup", env!("CARGO_BIN_EXE_vnet-ifup")));
pub static IFDOWN: LazyLock<String> =
    LazyLock::new(|| binary("vnet-ifdown", env!("CARGO_BIN_EXE_vnet-ifdown")));

fn binary(name: &str, built: &str) -> String {
    let Some(dir) = std::env::var_os("VNET_BIN_DIR").filter(|d| !d.is_empty()) else {
        return built.to_owned();
    };
    let path = Path::new(&dir).join(name);
    assert!(
        path.is_file(),
        "VNET_BIN_DIR: {} does not exist",
        path.display()
    );
    path.into_os_string()
        .into_string()
        .expect("VNET_BIN_DIR is UTF-8")
}

/// Every namespace this suite makes starts with this, then the test
/// process's pid, so leftovers of a killed run can be recognised.
const PREFIX: &str = "vnet-test-";

/// Whether privileged tests can run here. If not, prints why; under
/// `CI=true` that is a test failure instead.
pub fn privileged() -> bool {
    let euid = nix::unistd::geteuid();
    if euid.is_root() {
        return true;
    }
    let why = format!("needs root to create network namespaces (euid {euid})");
    cannot_run("privileged test", &why);
    false
}

/// Says loudly that `what` cannot run here and why; under `CI=true` that
/// is a test failure instead.
pub fn cannot_run(what: &str, why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} cannot run under CI=true: {why}");
    }
    // Straight to fd 2, past libtest's capture, so the skip is seen.
    let msg = format!("\n*** SKIPPED: {what} not run: {why} ***\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
}

/// Where `program` is on PATH. If it is not there, says loudly that
/// `what` cannot run and which Debian package has it; under `CI=true` that
/// is a test failure instead.
pub fn program(what: &str, program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        let why = format!(
            "{program} is not installed (Debian's {package}; sh scripts/install-deps.sh installs it)"
        );
        cannot_run(what, &why);
    }
    found
}

/// What a binary did: exit status and its output.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit status, showing the output if it differs.
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit status: {self:#?}");
        self
    }

    /// Asserts stderr is exactly one line and returns it.
    pub fn one_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one stderr line: {self:#?}");
        lines[0]
    }
}

/// A network namespace, deleted on drop (also when the test panics).
pub struct Netns {
    pub name: String,
    dir: PathBuf,
}

impl Netns {
    pub fn new() -> Netns {
        static SWEEP: Once = Once::new();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        SWEEP.call_once(remove_leftovers);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        run_ok("ip", &["netns", "add", &name]);
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let ns = Netns { name, dir };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip -n NS ARGS`, which must succeed; returns its stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run_ok("ip", &all)
    }

    /// Runs `bridge -n NS ARGS`, which must succeed; returns its stdout.
    pub fn bridge(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run_ok("bridge", &all)
    }

    /// A bridge, up, with the given MTU.
    pub fn add_bridge(&self, name: &str, mtu: u32) {
        self.ip(&["link", "add", name, "type", "bridge"]);
        self.ip(&["link", "set", name, "mtu", &mtu.to_string(), "up"]);
    }

    /// A persistent tap, as `ip tuntap add` makes it (down, MTU 1500), with
    /// a QEMU-style MAC of its own. The kernel's random MAC starts with fe
    /// one time in 64, and vnet then skips a step: tests that count requests
    /// or stop at the n-th one would pass or fail by chance.
    pub fn add_tap(&self, name: &str) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let mac = format!(
            "52:54:00:{:02x}:{:02x}:{:02x}",
            n >> 16 & 0xff,
            n >> 8 & 0xff,
            n & 0xff
        );
        self.ip(&["tuntap", "add", "dev", name, "mode", "tap"]);
        self.ip(&["link", "set", "dev", name, "address", &mac]);
    }

    /// A file of this test's own, removed with the namespace.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// An empty configuration file: all defaults.
    pub fn empty_config(&self) -> PathBuf {
        let empty = self.dir.join("empty.conf");
        if !empty.exists() {
            std::fs::write(&empty, "").expect("write empty config");
        }
        empty
    }

    /// Writes a configuration file for this test and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.dir.join("vnet.conf");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// Runs `ip -n NS -batch -` on `lines`: hundreds of changes in one exec.
    pub fn ip_batch(&self, lines: &str) {
        let path = self.dir.join("batch");
        std::fs::write(&path, lines).expect("write batch");
        run_ok(
            "ip",
            &[
                "-n",
                &self.name,
                "-batch",
                path.to_str().expect("UTF-8 path"),
            ],
        );
    }

    /// `bin` set to run inside the namespace, entered with setns(2) rather
    /// than `ip netns exec`: cheap enough to start hundreds at once. Its
    /// environment holds only `VNET_CONFIG`, an empty file.
    pub fn command(&self, bin: &str) -> Command {
        let netns = std::fs::File::open(Path::new("/run/netns").join(&self.name))
            .expect("open the namespace");
        let mut cmd = Command::new(bin);
        cmd.env_clear().env("VNET_CONFIG", self.empty_config());
        // SAFETY: setns is async-signal-safe, and `netns` lives in the closure.
        unsafe {
            cmd.pre_exec(
                move || match libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                },
            );
        }
        cmd
    }

    /// Runs a binary inside the namespace with only `env` in its
    /// environment; `VNET_CONFIG` defaults to an empty file, so the host's
    /// /etc/vnet/vnet.conf never leaks into a test.
    pub fn run(&self, bin: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(bin).args(args);
        cmd.env_clear().env("VNET_CONFIG", self.empty_config());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("run ip netns exec"))
    }

    pub fn ifup(&self, tap: &str, env: &[(&str, &str)]) -> Run {
        self.run(&IFUP, &[tap], env)
    }

    pub fn ifdown(&self, tap: &str) -> Run {
        self.run(&IFDOWN, &[tap], &[])
    }

    /// The oracle's view of one interface, or `None` if it does not exist.
    pub fn link(&self, name: &str) -> Option<Link> {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-d", "-j", "link", "show", "dev", name])
            .output()
            .expect("run ip");
        if !out.status.success() {
            return None;
        }
        let all: Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
        Some(Link::from_json(&all[0]))
    }

    /// `bridge -d -j link show dev NAME`: one bridge port's options.
    pub fn port(&self, name: &str) -> Value {
        let out = self.bridge(&["-d", "-j", "link", "show", "dev", name]);
        let all: Value = serde_json::from_str(&out).expect("bridge -j output");
        all[0].clone()
    }

    /// `bridge -j vlan show dev NAME`, as (first, last, pvid, untagged).
    pub fn vlans(&self, name: &str) -> Vec<(u64, u64, bool, bool)> {
        let out = self.bridge(&["-compressvlans", "-j", "vlan", "show", "dev", name]);
        let all: Value = serde_json::from_str(&out).expect("bridge -j output");
        let Some(vlans) = all[0]["vlans"].as_array() else {
            return Vec::new();
        };
        vlans
            .iter()
            .map(|v| {
                let first = v["vlan"].as_u64().expect("vlan");
                let flags = v["flags"].as_array().cloned().unwrap_or_default();
                let has = |f: &str| flags.iter().any(|x| x == f);
                let last = v["vlanEnd"].as_u64().unwrap_or(first);
                (first, last, has("PVID"), has("Egress Untagged"))
            })
            .collect()
    }

    /// The oracle's view of every interface, by name, in one dump.
    pub fn links(&self) -> BTreeMap<String, Link> {
        let all: Value =
            serde_json::from_str(&self.ip(&["-d", "-j", "link", "show"])).expect("ip -j output");
        all.as_array()
            .expect("a list of links")
            .iter()
            .map(|v| {
                (
                    v["ifname"].as_str().expect("ifname").to_owned(),
                    Link::from_json(v),
                )
            })
            .collect()
    }

    /// Waits (at most 5 s) until every port forwards: carrier changes
    /// reach the bridge through linkwatch, up to a second late.
    pub fn wait_forwarding(&self, ports: &[&str]) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        for port in ports {
            while self.port(port)["state"] != "forwarding" {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{port} never forwarded"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    /// Whether this kernel's bridge can filter VLANs. Inside the
    /// Debian-kernel guests it must: a guest without it proves nothing.
    pub fn vlan_filtering_supported(&self) -> bool {
        let probe = [
            "link",
            "add",
            "vnet-probe",
            "type",
            "bridge",
            "vlan_filtering",
            "1",
        ];
        let supported = Command::new("ip")
            .args(["-n", &self.name])
            .args(probe)
            .output()
            .expect("run ip")
            .status
            .success();
        if supported {
            self.ip(&["link", "del", "vnet-probe"]);
        }
        if let Ok(kernel) = std::env::var("VNET_GUEST_KERNEL") {
            assert!(
                supported,
                "the guest kernel {kernel} has no bridge VLAN filtering"
            );
        }
        supported
    }

    /// Everything `ip -d link` and `bridge -d link` say about the
    /// namespace, to prove a refused command changed nothing. Timers,
    /// carrier and operstate are left out: the kernel moves them by itself.
    pub fn snapshot(&self) -> Value {
        let json = |out: String| -> Value { serde_json::from_str(&out).expect("-j output") };
        let mut all = Value::Array(vec![
            json(self.ip(&["-d", "-j", "link", "show"])),
            json(self.bridge(&["-d", "-j", "link", "show"])),
        ]);
        strip_volatile(&mut all);
        all
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One interface as `ip -d -j link show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub mtu: u64,
    pub mac: String,
    pub master: Option<String>,
    pub up: bool,
    pub kind: Option<String>,
}

impl Link {
    fn from_json(v: &Value) -> Link {
        Link {
            mtu: v["mtu"].as_u64().expect("mtu"),
            mac: v["address"].as_str().unwrap_or_default().to_owned(),
            master: v["master"].as_str().map(str::to_owned),
            up: v["flags"]
                .as_array()
                .expect("flags")
                .iter()
                .any(|f| f == "UP"),
            kind: v["linkinfo"]["info_kind"].as_str().map(str::to_owned),
        }
    }
}

fn strip_volatile(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.contains("timer") && k != "operstate");
            if let Some(Value::Array(flags)) = map.get_mut("flags") {
                flags.retain(|f| f != "NO-CARRIER" && f != "LOWER_UP");
            }
            map.values_mut().for_each(strip_volatile);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// Runs a command that must succeed and returns its stdout.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The processes in network namespace `name` (`ip netns pids`).
pub fn netns_pids(name: &str) -> Vec<i32> {
    let out = Command::new("ip").args(["netns", "pids", name]).output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    let text = text.unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Deletes the namespaces and temporary directories left by earlier test
/// processes that were killed before their destructors ran.
fn remove_leftovers() {
    let dead = |name: &str| {
        let pid = name.strip_prefix(PREFIX).and_then(|r| r.split('-').next());
        pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists())
    };
    let names = |dir: &Path| -> Vec<String> {
        let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
        let names = entries.map(|e| e.file_name().to_string_lossy().into_owned());
        names.filter(|name| dead(name)).collect()
    };
    for name in names(Path::new("/run/netns")) {
        // What a killed run left running there, such as the QEMUs that
        // libvirtd daemonizes, which no parent-death signal reaches.
        for pid in netns_pids(&name) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
    }
    let tmp = std::env::temp_dir();
    for path in names(&tmp).into_iter().map(|name| tmp.join(name)) {
        let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
    }
}
