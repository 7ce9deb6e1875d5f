//! `make bench`: what one attach and detach costs, side by side with the
//! floor (exec alone, plus the kernel's own work for the same requests) and
//! with the shell scripts vnet replaces; then sizes, peak RSS, syscalls,
//! tasks created and instructions per invocation.
//!
//! Runs as root, each scenario in a fresh network namespace of its own
//! (`unshare(CLONE_NEWNET)`), which dies with the process: the host's
//! interfaces are never touched. Prints the tables and rewrites the
//! results part of BENCHMARKS.md. `-- --iters N` sets the iterations;
//! `-- --against DIR` also times DIR/vnet-ifup and DIR/vnet-ifdown (another
//! build) in the same alternation, for an A/B comparison of a change;
//! `-- --only helper` times only the bridge-helper round trip (helper.rs);
//! `-- --only network` only the `[network]` set-up and attach (network.rs),
//! rewriting only that part of BENCHMARKS.md.

mod helper;
mod measure;
mod network;
mod report;

use std::path::{Path, PathBuf};

use measure::run;
use report::{Extra, Scenario};

const IFUP: &str = env!("CARGO_BIN_EXE_vnet-ifup");
const IFDOWN: &str = env!("CARGO_BIN_EXE_vnet-ifdown");
/// The tap QEMU would have created, and the MAC it is reset to before every
/// vnet-ifup, so each run does the whole job (address, master, up).
const TAP: &str = "vnet0";
const TAP_MAC: &str = "52:54:00:12:34:56";
/// Cycles per `ip -batch` run; its exec is measured apart and subtracted.
const BATCH_CYCLES: u32 = 50;

fn main() {
    let iters = iterations();
    assert!(
        nix::unistd::geteuid().is_root(),
        "make bench needs root: it makes network namespaces"
    );
    // `-- --only helper`: just the bridge-helper table, BENCHMARKS.md untouched.
    let only_helper = option("--only").as_deref() == Some("helper");
    let only_network = option("--only").as_deref() == Some("network");
    let tools: &[&str] = match (only_helper, only_network) {
        (true, _) => &[],
        (_, true) => &["strace"],
        _ => &["strace", "brctl"],
    };
    for &tool in tools {
        assert!(
            has(tool),
            "make bench needs {tool} (Debian: strace, bridge-utils)"
        );
    }
    assert!(
        only_network || Path::new(helper::QEMU_HELPER).exists(),
        "make bench needs {} (Debian: qemu-system-common)",
        helper::QEMU_HELPER
    );
    let floor = Path::new(IFUP).with_file_name("examples/floor");
    assert!(floor.exists(), "{floor:?} missing: run `make bench`");
    let work = Work::new(floor);
    if only_network {
        let text = network::bench(&work.dir, iters).render();
        print!("{text}");
        report::write_network_md(&text);
        let _ = std::fs::remove_dir_all(&work.dir);
        return;
    }

    let mut scenarios = Vec::new();
    for (label, setup) in [
        ("10 interfaces", "10"),
        ("4000 other interfaces", "4000"),
        ("a bridge with 1000 ports", "ports"),
    ]
    .into_iter()
    .filter(|_| !only_helper)
    {
        fresh_namespace(&work, setup);
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        eprintln!("bench: {label}: {iters} iterations; load average {load}");
        scenarios.push(work.timings(label, iters));
        empty_namespace(&work, setup);
    }

    // The bridge-helper round trip, then counts, in a last small namespace.
    fresh_namespace(&work, "10");
    helper::stage_bridge_conf(&work.dir);
    eprintln!("bench: bridge helper: {iters} iterations");
    let env = work.env();
    let env = [(env[0].0, env[0].1.as_str())];
    let floor = work.floor.to_str().expect("UTF-8 path");
    let round_trips = helper::time(iters, floor, IFUP, &env);
    if only_helper {
        print!("{}", round_trips.render(iters));
        let _ = std::fs::remove_dir_all(&work.dir);
        return;
    }
    let networks = network::bench(&work.dir, iters).render();
    let extra = work.extra();
    let mut text = report::render(&scenarios, &extra, iters);
    text += "\n";
    text += &round_trips.render(iters);
    print!("{text}");
    report::write_benchmarks_md(&text);
    print!("\n{networks}");
    report::write_network_md(&networks);
}

/// The value after `--name` on the command line.
fn option(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    Some(
        args.get(at + 1)
            .unwrap_or_else(|| panic!("{name} needs a value"))
            .clone(),
    )
}

fn iterations() -> usize {
    option("--iters").map_or(300, |n| n.parse().expect("--iters N"))
}

/// Leaves the current network namespace for a new one holding the bridge
/// br0 (MTU 1500, up), the tap and the load that `setup` names.
fn fresh_namespace(work: &Work, setup: &str) {
    // SAFETY: plain syscall; the bench is single-threaded, so the whole
    // process (and every child it spawns) moves.
    assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "unshare");
    let mut batch = String::from(
        "link set lo up\nlink add br0 type bridge\nlink set br0 up\n\
         tuntap add dev vnet0 mode tap\n",
    );
    let others = match setup {
        "10" => 7,
        "4000" => 4000,
        _ => 1000,
    };
    for n in 0..others {
        batch += &format!("tuntap add dev o{n} mode tap\n");
        if setup == "ports" {
            batch += &format!("link set dev o{n} master br0\n");
        }
    }
    let file = work.file("setup.batch", &batch);
    run(&["ip", "-batch", &file], &[]);
}

/// Deletes the load before leaving the namespace: done here, the kernel's
/// teardown of thousands of devices does not overlap the next scenario.
fn empty_namespace(work: &Work, setup: &str) {
    let others = match setup {
        "10" => 7,
        "4000" => 4000,
        _ => 1000,
    };
    let batch: String = (0..others).map(|n| format!("link del o{n}\n")).collect();
    run(&["ip", "-batch", &work.file("teardown.batch", &batch)], &[]);
}

/// The files a run needs, in a temporary directory removed at the end.
struct Work {
    dir: PathBuf,
    floor: PathBuf,
    /// Another build's vnet-ifup and vnet-ifdown, for `--against`.
    against: Option<(String, String)>,
}

impl Work {
    fn new(floor: PathBuf) -> Work {
        let dir = std::env::temp_dir().join(format!("vnet-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let against = option("--against").map(|d| {
            let bin = |b: &str| Path::new(&d).join(b).to_str().expect("UTF-8").to_owned();
            (bin("vnet-ifup"), bin("vnet-ifdown"))
        });
        let work = Work {
            dir,
            floor,
            against,
        };
        work.file("vnet.conf", "bridge = br0\n");
        // The classic qemu-ifup/qemu-ifdown pair, and the tutorial's brctl
        // pair with and without its `sleep 1`.
        work.script(
            "ip-up",
            "ip link set \"$1\" up\nip link set \"$1\" master br0",
        );
        work.script(
            "ip-down",
            "ip link set \"$1\" nomaster\nip link set \"$1\" down",
        );
        work.script(
            "brctl-up-sleep",
            "ip link set $1 up\nsleep 1\nbrctl addif br0 $1",
        );
        work.script("brctl-up", "ip link set $1 up\nbrctl addif br0 $1");
        work.script("brctl-down", "brctl delif br0 $1\nip link set $1 down");
        // The same requests as one vnet cycle, BATCH_CYCLES times, the MAC
        // alternating so that every change is a real one.
        let mut batch = String::new();
        for n in 0..BATCH_CYCLES {
            let mac = if n % 2 == 0 {
                "fe:54:00:12:34:56"
            } else {
                TAP_MAC
            };
            batch += &format!(
                "link show dev vnet0\nlink show dev br0\nlink set dev vnet0 address {mac}\n\
                 link set dev vnet0 master br0\nlink set dev vnet0 up\n\
                 link show dev vnet0\nlink set dev vnet0 nomaster\nlink set dev vnet0 down\n"
            );
        }
        work.file("cycles.batch", &batch);
        work.file("empty.batch", "");
        work
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write a bench file");
        path.to_str().expect("UTF-8 path").to_owned()
    }

    fn script(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.file(name, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().expect("UTF-8 path").to_owned()
    }

    fn env(&self) -> [(&'static str, String); 1] {
        [("VNET_CONFIG", self.path("vnet.conf"))]
    }

    fn reset_tap(&self) {
        run(&["ip", "link", "set", "dev", TAP, "address", TAP_MAC], &[]);
    }

    /// Every block once per iteration, the starting block rotating, so that
    /// a burst of load on the shared machine falls on all of them alike.
    fn timings(&self, label: &'static str, iters: usize) -> Scenario {
        let mut s = Scenario::new(label);
        let mut warm_up = Scenario::new(label);
        let floor = self.floor.to_str().expect("UTF-8 path");
        let env = self.env();
        let env = [(env[0].0, env[0].1.as_str())];
        let (cycles, empty) = (self.path("cycles.batch"), self.path("empty.batch"));
        let script = |name: &str| self.path(name);
        let blocks = if self.against.is_some() { 6 } else { 5 };
        for i in 0..iters + 5 {
            // The first five iterations fill caches and are thrown away.
            let s = if i < 5 { &mut warm_up } else { &mut s };
            for b in 0..blocks {
                match (i + b) % blocks {
                    0 => {
                        let (a, b) = (run(&[floor], &[]), run(&[floor], &[]));
                        s.add("floor", a + b);
                    }
                    1 => {
                        self.reset_tap();
                        let up = run(&[IFUP, TAP], &env);
                        let down = run(&[IFDOWN, TAP], &env);
                        s.add("vnet-ifup", up);
                        s.add("vnet-ifdown", down);
                        s.add("vnet", up + down);
                    }
                    2 => {
                        let full = run(&["ip", "-batch", &cycles], &[]);
                        let exec = run(&["ip", "-batch", &empty], &[]);
                        s.add("kernel", (full - exec) / BATCH_CYCLES);
                    }
                    3 => {
                        let up = run(&[&script("ip-up"), TAP], &[]);
                        let down = run(&[&script("ip-down"), TAP], &[]);
                        s.add("ip", up + down);
                    }
                    4 => {
                        let up = run(&[&script("brctl-up"), TAP], &[]);
                        let down = run(&[&script("brctl-down"), TAP], &[]);
                        s.add("brctl", up + down);
                    }
                    _ => {
                        let (ifup, ifdown) = self.against.as_ref().expect("--against");
                        self.reset_tap();
                        let up = run(&[ifup, TAP], &env);
                        let down = run(&[ifdown, TAP], &env);
                        s.add("against", up + down);
                    }
                }
            }
        }
        s
    }

    /// Sizes, syscalls, tasks and instructions per invocation, and the
    /// tutorial script with its sleep, a few times.
    fn extra(&self) -> Extra {
        let env = self.env();
        let env = [(env[0].0, env[0].1.as_str())];
        let out = self.dir.join("trace");
        let floor = self.floor.to_str().expect("UTF-8 path");
        let size = |p: &str| std::fs::metadata(p).expect("binary").len();
        let mut x = Extra {
            sizes: vec![
                ("vnet-ifup", size(IFUP)),
                ("vnet-ifdown", size(IFDOWN)),
                ("floor", size(floor)),
            ],
            ..Extra::default()
        };
        let (up, down) = (self.path("ip-up"), self.path("ip-down"));
        let (bup, bdown) = (self.path("brctl-up"), self.path("brctl-down"));
        let commands: [(&str, &[&str]); 7] = [
            ("floor", &[floor]),
            ("vnet-ifup", &[IFUP, TAP]),
            ("vnet-ifdown", &[IFDOWN, TAP]),
            ("ip-up script", &[&up, TAP]),
            ("ip-down script", &[&down, TAP]),
            ("brctl-up script (no sleep)", &[&bup, TAP]),
            ("brctl-down script", &[&bdown, TAP]),
        ];
        for (name, argv) in commands {
            if name == "vnet-ifup" {
                self.reset_tap();
            }
            let (calls, tasks) = measure::syscalls(argv, &env, &out);
            x.syscalls.push((name, calls, tasks));
        }
        if has("valgrind") {
            for (name, argv) in &commands[..3] {
                if *name == "vnet-ifup" {
                    self.reset_tap();
                }
                let count = measure::instructions(argv, &env, &out);
                x.instructions.push((name, count));
            }
        }
        for (name, argv) in &commands[..3] {
            if *name == "vnet-ifup" {
                self.reset_tap();
            }
            x.rss.push((name, measure::peak_rss_kib(argv, &env)));
        }
        let sleepy = self.path("brctl-up-sleep");
        for _ in 0..3 {
            let up = run(&[&sleepy, TAP], &[]).wall;
            let down = run(&[&bdown, TAP], &[]).wall;
            x.brctl_with_sleep.push(up + down);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        x
    }
}

fn has(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
