//! The kernel matrix (tests/kernels.rs): boots a Debian kernel under QEMU
//! from an initramfs holding busybox, the kernel modules, iproute2,
//! setpriv, our binaries and the suites' test executables; init.sh runs
//! the suites there and reports one line per suite on the serial console.

pub mod cpio;
pub mod kmod;
mod qemu;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use cpio::Initramfs;

/// Where the guest keeps vnet-ifup and vnet-ifdown.
const GUEST_BIN_DIR: &str = "/vnet/sbin";

/// What a guest holds and runs.
pub struct Guest<'a> {
    /// `tests/<suite>.rs` executables, run in this order.
    pub suites: &'a [&'a str],
    /// Kernel modules to load; their dependencies are added.
    pub modules: &'a [&'a str],
    /// Host programs the suites run, copied to the same path with the
    /// shared libraries they link.
    pub programs: &'a [&'a str],
}

/// A kernel unpacked by scripts/fetch-kernels.sh.
pub struct Kernel {
    pub version: String,
    pub vmlinuz: PathBuf,
    pub modules: PathBuf,
}

impl Kernel {
    /// The kernel of `series` ("6.1") in the cache: `$VNET_KERNELS` or
    /// /var/cache/vnet-kernels.
    pub fn cached(series: &str) -> Result<Kernel, String> {
        let cache = std::env::var_os("VNET_KERNELS")
            .map_or_else(|| PathBuf::from("/var/cache/vnet-kernels"), PathBuf::from);
        let root = cache.join(series);
        let fetch = "run `bash scripts/fetch-kernels.sh` as root (sh scripts/test.sh does)";
        let lib = root.join("lib/modules");
        let version = std::fs::read_dir(&lib)
            .ok()
            .and_then(|mut dir| dir.next())
            .and_then(|entry| entry.ok()?.file_name().into_string().ok())
            .ok_or_else(|| format!("no kernel {series} in {}: {fetch}", cache.display()))?;
        let vmlinuz = root.join(format!("boot/vmlinuz-{version}"));
        if !vmlinuz.is_file() {
            return Err(format!("{} is missing: {fetch}", vmlinuz.display()));
        }
        let modules = lib.join(&version);
        Ok(Kernel {
            version,
            vmlinuz,
            modules,
        })
    }
}

impl Guest<'_> {
    /// Boots the cached kernel of `series`, runs the suites in it and
    /// asserts that each passed. Without the kernel, QEMU or a program the
    /// guest needs, it says so loudly (a failure under `CI=true`).
    pub fn run(&self, series: &str) {
        let what = format!("kernel matrix test ({series})");
        let kernel = match self.prerequisites(series) {
            Ok(kernel) => kernel,
            Err(why) => return super::cannot_run(&what, &why),
        };
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("guest-{}", kernel.version));
        std::fs::create_dir_all(&dir).expect("guest directory");
        let initrd = dir.join("initramfs.cpio");
        std::fs::write(&initrd, self.initramfs(&kernel).to_cpio()).expect("write initramfs");
        let run = qemu::boot(&kernel, &initrd, &dir);
        let report = report::Report::parse(&run.console);
        if let Err(problem) = report.check(self.suites) {
            panic!("{}: {problem}\n{}", kernel.version, run.transcript());
        }
        let summary = format!(
            "{} under {}: {}\n",
            kernel.version,
            run.accel,
            report.timings(&run)
        );
        // Past libtest's capture, like a skip: the matrix's cost stays visible.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), summary.as_bytes());
    }

    fn prerequisites(&self, series: &str) -> Result<Kernel, String> {
        let kernel = Kernel::cached(series)?;
        for tool in ["qemu-system-x86_64", "xz"] {
            if !on_path(tool) {
                return Err(format!(
                    "{tool} is not installed (sh scripts/install-deps.sh installs it)"
                ));
            }
        }
        for file in ["/bin/busybox"].iter().chain(self.programs) {
            if !Path::new(file).is_file() {
                return Err(format!(
                    "{file} is missing (sh scripts/install-deps.sh installs it)"
                ));
            }
        }
        Ok(kernel)
    }

    fn initramfs(&self, kernel: &Kernel) -> Initramfs {
        let mut img = Initramfs::default();
        img.file("/init", 0o755, include_bytes!("init.sh").to_vec());
        img.mirror(Path::new("/bin/busybox"));
        for dir in ["/proc", "/sys", "/dev", "/run", "/tmp", "/vnet/bin"] {
            img.dir(dir);
        }
        // The console init writes to, before devtmpfs covers /dev.
        img.char_dev("/dev/console", 5, 1);
        img.symlink("/var/run", "../run");
        // dnsmasq, run as root, switches to the user nobody.
        let passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
        img.file("/etc/passwd", 0o644, passwd.as_bytes().to_vec());
        img.file(
            "/etc/group",
            0o644,
            b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
        );
        for program in self.programs {
            add_program(&mut img, program);
        }
        // The binaries under test here (cargo's, or $VNET_BIN_DIR's), which
        // the guest's VNET_BIN_DIR names in turn.
        for (name, bin) in [
            ("vnet-ifup", &*super::IFUP),
            ("vnet-ifdown", &*super::IFDOWN),
        ] {
            img.copy(&format!("{GUEST_BIN_DIR}/{name}"), Path::new(bin));
        }
        for (suite, exe) in suite_executables(self.suites) {
            img.copy(&format!("/vnet/tests/{suite}"), &exe);
        }
        let modules = kmod::resolve(&kernel.modules, self.modules)
            .unwrap_or_else(|e| panic!("{}: {e}", kernel.version));
        let mut names = Vec::new();
        for (name, ko) in modules {
            img.file(&format!("/vnet/modules/{name}.ko"), 0o644, ko);
            names.push(name);
        }
        let env = format!(
            "MODULES='{}'\nSUITES='{}'\nexport VNET_BIN_DIR={GUEST_BIN_DIR}\n",
            names.join(" "),
            self.suites.join(" "),
        );
        img.file("/vnet/env", 0o644, env.into_bytes());
        img
    }
}

/// Copies `program` and every shared library `ldd` says it loads, each to
/// the path it has on the host, where the guest's dynamic loader looks.
fn add_program(img: &mut Initramfs, program: &str) {
    img.mirror(Path::new(program));
    let out = Command::new("ldd").arg(program).output().expect("run ldd");
    assert!(out.status.success(), "ldd {program} failed");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", or the
        // loader as "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no path.
        let path = line
            .split("=>")
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .next();
        if let Some(lib) = path.filter(|p| p.starts_with('/')) {
            img.mirror(Path::new(lib));
        }
    }
}

/// The executables of `suites`, as cargo has them now.
///
/// Why ask cargo instead of taking the newest `<suite>-<hash>` in
/// target/.../deps: cargo never deletes old hashes, and when only this
/// test was built (`cargo test --test kernels`) a suite's newest file may
/// predate the sources with nothing saying so. `cargo test --no-run` for
/// the suites builds whatever is out of date (nothing, after a full
/// `cargo test`) and names the executables it checked, so what the guest
/// runs is always built from the current sources.
fn suite_executables(suites: &[&str]) -> Vec<(String, PathBuf)> {
    let me = std::env::current_exe().expect("current_exe");
    let deps = me.parent().expect("deps directory");
    // target/<triple>/<profile>/deps: build the suites in this profile, so
    // they run the binaries this test copies into the guest.
    let profile = deps
        .parent()
        .and_then(Path::file_name)
        .expect("profile directory");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "test",
        "--no-run",
        "--message-format=json",
        "--manifest-path",
    ])
    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
    if profile != "debug" {
        cmd.arg("--profile").arg(profile);
    }
    for suite in suites {
        cmd.args(["--test", suite]);
    }
    let out = cmd.output().expect("run cargo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo test --no-run failed:\n{stderr}"
    );
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let msg: Value = serde_json::from_str(line).expect("cargo's JSON");
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        let is_test = msg["target"]["kind"] == serde_json::json!(["test"]);
        if let (true, Some(exe)) = (is_test, msg["executable"].as_str()) {
            if suites.contains(&name) {
                found.push((name.to_owned(), PathBuf::from(exe)));
            }
        }
    }
    let exe = |suite: &str| {
        let Some((_, exe)) = found.iter().find(|(name, _)| name == suite) else {
            panic!("cargo built no test executable for suite {suite:?}:\n{stderr}");
        };
        assert_eq!(
            exe.parent(),
            Some(deps),
            "{suite}: built elsewhere than this test"
        );
        (suite.to_owned(), exe.clone())
    };
    suites.iter().map(|suite| exe(suite)).collect()
}

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}
