//! NAT and routed networks end to end, with real QEMU guests (Debian's
//! kernel, a busybox initramfs: tests/nat_guest.sh). The test's namespace
//! holds the [network] bridge and an uplink veth to an "outside" namespace
//! holding 198.51.100.1/24 and 203.0.113.1/24: the internet. QEMU runs
//! vnet-ifup as its script; the guest gets an address from the dnsmasq vnet
//! started and pings 203.0.113.1. Counters in the outside namespace's own
//! nftables table say which source address arrived. Nothing leaves the
//! test's namespaces.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::guest::cpio::Initramfs;
use common::guest::{kmod, Kernel};
use common::network::Net;
use common::{Netns, IFDOWN, IFUP};

/// Boot, DHCP and pings under TCG on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(300);

const PROBE: &str = "table inet probe {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tip saddr 198.51.100.2 icmp type echo-request counter
\t\tip saddr 10.77.0.0/24 icmp type echo-request counter
\t}
}
";

/// The outside namespace, joined to the test's by the veth up0 (ours,
/// 198.51.100.2) / up1 (its, 198.51.100.1 and 203.0.113.1).
fn internet(net: &Net, route_back: bool) -> Netns {
    let outside = Netns::new();
    net.ns
        .ip(&["link", "add", "up0", "type", "veth", "peer", "name", "up1"]);
    net.ns.ip(&["link", "set", "up1", "netns", &outside.name]);
    net.ns.ip(&["addr", "add", "198.51.100.2/24", "dev", "up0"]);
    net.ns.ip(&["link", "set", "up0", "up"]);
    net.ns
        .ip(&["route", "add", "default", "via", "198.51.100.1"]);
    outside.ip(&["addr", "add", "198.51.100.1/24", "dev", "up1"]);
    outside.ip(&["addr", "add", "203.0.113.1/24", "dev", "up1"]);
    outside.ip(&["link", "set", "up1", "up"]);
    if route_back {
        outside.ip(&["route", "add", "10.77.0.0/24", "via", "198.51.100.2"]);
    }
    let file = outside.path("probe.nft");
    std::fs::write(&file, PROBE).expect("write");
    common::run_ok(
        "ip",
        &[
            "netns",
            "exec",
            &outside.name,
            "nft",
            "-f",
            file.to_str().expect("path"),
        ],
    );
    outside
}

/// Echo requests that reached 203.0.113.1: (from the uplink's address,
/// from the guest subnet).
fn arrivals(outside: &Netns) -> (u64, u64) {
    let out = common::run_ok(
        "ip",
        &[
            "netns",
            "exec",
            &outside.name,
            "nft",
            "-j",
            "list",
            "table",
            "inet",
            "probe",
        ],
    );
    let all: serde_json::Value = serde_json::from_str(&out).expect("nft -j");
    let counts: Vec<u64> = all["nftables"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["rule"]["expr"].as_array())
        .filter_map(|e| e.iter().find_map(|x| x["counter"]["packets"].as_u64()))
        .collect();
    (counts[0], counts[1])
}

/// A guest on tap `ifname`, QEMU started inside the test's namespace
/// with the test's configuration and runtime directory.
struct Guest {
    qemu: Child,
    console: PathBuf,
}

impl Guest {
    fn start(net: &Net, kernel: &Kernel, initrd: &Path, n: u8, nic: bool) -> Guest {
        let console = net.ns.path(&format!("console{n}.log"));
        let qemu_log = File::create(console.with_extension("qemu")).expect("log");
        // TCG: nested KVM here accepts a VM and then fails on an MSR (see
        // also tests/common/guest/qemu.rs); two small guests boot under TCG
        // within the limit.
        let accel = "tcg";
        let netdev = format!(
            "tap,id=n0,ifname=vg{n},script={},downscript={}",
            *IFUP, *IFDOWN
        );
        let mut cmd = net.ns.command("/usr/bin/qemu-system-x86_64");
        cmd.envs(net.env())
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .args(["-accel", accel, "-M", "pc", "-m", "256", "-smp", "1"])
            .args(["-cpu", "max"])
            .args([
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
            ])
            .args(["-append", "console=ttyS0 quiet panic=-1"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-kernel")
            .arg(&kernel.vmlinuz)
            .arg("-initrd")
            .arg(initrd)
            .stdin(Stdio::null())
            .stdout(qemu_log.try_clone().expect("dup"))
            .stderr(qemu_log);
        if nic {
            cmd.args(["-netdev", &netdev, "-device"]).arg(format!(
                "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:{n:02x},romfile="
            ));
        }
        Guest {
            qemu: cmd.spawn().expect("start QEMU"),
            console,
        }
    }

    fn console(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }

    /// The value of the guest's `VNET-<key> ...` line.
    fn report(&self, key: &str) -> Option<String> {
        let prefix = format!("VNET-{key} ");
        self.console()
            .lines()
            .find_map(|l| l.trim().strip_prefix(&prefix).map(str::to_owned))
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

/// Waits until every guest said VNET-DONE (or QEMU ended), at most LIMIT.
fn wait_done(guests: &mut [Guest]) {
    let start = Instant::now();
    loop {
        let done = guests.iter_mut().all(|g| {
            g.console().contains("VNET-DONE") || g.qemu.try_wait().ok().flatten().is_some()
        });
        if done || start.elapsed() > LIMIT {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The guest's initramfs: busybox, virtio-net's modules, nat_guest.sh.
fn initramfs(net: &Net, kernel: &Kernel, peers: Option<(&str, &str)>) -> PathBuf {
    let mut img = Initramfs::default();
    img.file("/init", 0o755, include_bytes!("nat_guest.sh").to_vec());
    img.mirror(Path::new("/bin/busybox"));
    for dir in ["/proc", "/sys", "/dev", "/tmp", "/vnet/bin"] {
        img.dir(dir);
    }
    img.char_dev("/dev/console", 5, 1);
    let modules = kmod::resolve(&kernel.modules, &["virtio_pci", "virtio_net"]).expect("modules");
    let mut names = Vec::new();
    for (name, ko) in modules {
        img.file(&format!("/vnet/modules/{name}.ko"), 0o644, ko);
        names.push(name);
    }
    let (peer, other) = peers.unwrap_or(("", ""));
    let env = format!(
        "MODULES='{}'\nPEER='{peer}'\nOTHER='{other}'\n",
        names.join(" ")
    );
    img.file("/vnet/env", 0o644, env.into_bytes());
    let path = net.ns.path("initramfs.cpio");
    std::fs::write(&path, img.to_cpio()).expect("write initramfs");
    path
}

/// The kernel and QEMU, or a loud skip (a failure under CI).
fn prerequisites() -> Option<Kernel> {
    let kernel = match Kernel::cached("6.1") {
        Ok(kernel) => kernel,
        Err(why) => {
            common::cannot_run("NAT guest test", &why);
            return None;
        }
    };
    for file in ["/usr/bin/qemu-system-x86_64", "/bin/busybox"] {
        if !Path::new(file).is_file() {
            common::cannot_run(
                "NAT guest test",
                &format!("{file} is missing (bash .ci/run installs it)"),
            );
            return None;
        }
    }
    Some(kernel)
}

fn transcript(guests: &[Guest]) -> String {
    let qemu =
        |g: &Guest| std::fs::read_to_string(g.console.with_extension("qemu")).unwrap_or_default();
    guests
        .iter()
        .map(|g| {
            let (path, console) = (g.console.display(), g.console());
            format!("--- {path} ---\n{console}\n--- QEMU ---\n{}\n", qemu(g))
        })
        .collect()
}

#[test]
fn two_guests_get_dhcp_and_reach_the_outside_through_nat() {
    let config = "bridge = nat0\n[network nat0]\naddress = 10.77.0.1/24\nforward = nat\n\
                  dhcp-range = 10.77.0.100 10.77.0.101\n";
    let Some(net) = Net::new(config) else { return };
    let Some(kernel) = prerequisites() else {
        return;
    };
    let outside = internet(&net, false);
    let initrd = initramfs(&net, &kernel, Some(("10.77.0.100", "10.77.0.101")));
    let mut guests = vec![
        Guest::start(&net, &kernel, &initrd, 1, true),
        Guest::start(&net, &kernel, &initrd, 2, true),
    ];
    wait_done(&mut guests);
    let log = transcript(&guests);
    let mut addrs = Vec::new();
    for g in &guests {
        let addr = g.report("ADDR").unwrap_or_default();
        assert!(
            addr == "10.77.0.100" || addr == "10.77.0.101",
            "no DHCP address:\n{log}"
        );
        assert_eq!(g.report("OUT").as_deref(), Some("0"), "no ping out:\n{log}");
        assert_eq!(
            g.report("PEER").as_deref(),
            Some("0"),
            "no ping to the peer:\n{log}"
        );
        addrs.push(addr);
    }
    assert_ne!(addrs[0], addrs[1]);
    let (uplink, guest) = arrivals(&outside);
    assert!(
        uplink >= 6,
        "the outside saw {uplink} pings from 198.51.100.2:\n{log}"
    );
    assert_eq!(guest, 0, "a guest address reached the outside untranslated");
    assert_eq!(net.dnsmasqs().len(), 1);
}

#[test]
fn a_routed_guest_reaches_the_outside_with_its_own_address() {
    let config = "bridge = nat0\n[network nat0]\naddress = 10.77.0.1/24\nforward = route\n\
                  dhcp-range = 10.77.0.100 10.77.0.101\n";
    let Some(net) = Net::new(config) else { return };
    let Some(kernel) = prerequisites() else {
        return;
    };
    let outside = internet(&net, true);
    let initrd = initramfs(&net, &kernel, None);
    let mut guests = vec![Guest::start(&net, &kernel, &initrd, 1, true)];
    wait_done(&mut guests);
    let log = transcript(&guests);
    assert_eq!(
        guests[0].report("OUT").as_deref(),
        Some("0"),
        "no ping out:\n{log}"
    );
    let (uplink, guest) = arrivals(&outside);
    assert_eq!(uplink, 0, "routed traffic was translated:\n{log}");
    assert!(
        guest >= 3,
        "the outside saw {guest} pings from the guest:\n{log}"
    );
}

/// A kernel without nf_tables (Debian's, with the module never loaded):
/// refused with its own sentence, changing nothing, both without
/// nfnetlink and with nfnetlink but no nf_tables.
#[test]
fn a_kernel_without_nf_tables_is_refused() {
    let Some(net) = Net::new("") else { return };
    let Some(kernel) = prerequisites() else {
        return;
    };
    let mut img = Initramfs::default();
    img.file("/init", 0o755, include_bytes!("noft_guest.sh").to_vec());
    img.mirror(Path::new("/bin/busybox"));
    for dir in ["/proc", "/sys", "/dev", "/tmp", "/vnet/bin"] {
        img.dir(dir);
    }
    img.char_dev("/dev/console", 5, 1);
    img.copy("/vnet/vnet-ifup", Path::new(&*IFUP));
    let config = "[network nat0]\naddress = 10.77.0.1/24\nforward = nat\n";
    img.file("/vnet/vnet.conf", 0o644, config.as_bytes().to_vec());
    let modules = kmod::resolve(&kernel.modules, &["bridge"]).expect("modules");
    let nfnetlink = kmod::resolve(&kernel.modules, &["nfnetlink"]).expect("modules");
    let mut names = Vec::new();
    for (name, ko) in modules {
        img.file(&format!("/vnet/modules/{name}.ko"), 0o644, ko);
        names.push(name);
    }
    for (name, ko) in nfnetlink {
        img.file(&format!("/vnet/modules/{name}.ko"), 0o644, ko);
    }
    img.file(
        "/vnet/env",
        0o644,
        format!("MODULES='{}'\n", names.join(" ")).into_bytes(),
    );
    let initrd = net.ns.path("noft.cpio");
    std::fs::write(&initrd, img.to_cpio()).expect("write initramfs");
    let mut guests = vec![Guest::start(&net, &kernel, &initrd, 9, false)];
    wait_done(&mut guests);
    let log = transcript(&guests);
    let sentence = "vnet-ifup: cannot set up network nat0: this kernel has no nf_tables \
                    (CONFIG_NF_TABLES, module nf_tables), which forward = nat and forward = route need";
    for n in ["1", "2"] {
        let line = |key: &str| guests[0].report(&format!("{key} {n}")).unwrap_or_default();
        assert_eq!(line("STATUS"), "1", "run {n}:\n{log}");
        assert_eq!(line("ERR"), sentence, "run {n}:\n{log}");
        assert_eq!(line("SAME"), "yes", "run {n} changed the guest:\n{log}");
    }
}
