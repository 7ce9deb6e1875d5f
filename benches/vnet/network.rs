//! `[network BRIDGE]` costs (issue 10): the first set-up of a NAT network
//! with DHCP (`vnet-ifup --network-up`, then `--network-down`), and one
//! attach and detach on a network already set up against the same cycle
//! on a plain bridge, whose ratio has a target of at most 1.10.
//!
//! Runs in a network namespace of its own, with `VNET_RUNTIME_DIR` in the
//! bench's temporary directory: dnsmasq's pid and lease files, the lock and
//! the record never reach `/run/vnet`.

use std::fmt::Write;
use std::path::Path;

use crate::measure::{self, run, summary, Cost};
use crate::{IFDOWN, IFUP, TAP, TAP_MAC};

/// The network's bridge, and the plain bridge attached to for comparison.
const NET: &str = "nat0";
const PLAIN: &str = "br0";

/// Everything measured, ready to render.
pub struct Results {
    iters: usize,
    setup_iters: usize,
    up: Vec<Cost>,
    down: Vec<Cost>,
    on_network: Vec<Cost>,
    on_plain: Vec<Cost>,
    /// (what, syscalls of vnet-ifup, of vnet-ifdown).
    syscalls: Vec<(&'static str, u64, u64)>,
    /// (what, user-space instructions of vnet-ifup, of vnet-ifdown).
    instructions: Vec<(&'static str, u64, u64)>,
}

/// Measures both, in a fresh namespace that `dir` holds the files of.
pub fn bench(dir: &Path, iters: usize) -> Results {
    // SAFETY: plain syscall; the bench is single-threaded.
    assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "unshare");
    let batch = format!(
        "link set lo up\nlink add {PLAIN} type bridge\nlink set {PLAIN} up\n\
         tuntap add dev {TAP} mode tap\n"
    );
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a bench file");
        path.to_str().expect("UTF-8 path").to_owned()
    };
    run(&["ip", "-batch", &file("network.batch", &batch)], &[]);
    let runtime = dir.join("run");
    let runtime = runtime.to_str().expect("UTF-8 path");
    let net_conf = file(
        "network.conf",
        &format!(
            "bridge = {NET}\n\n[network {NET}]\naddress = 10.77.0.1/24\nforward = nat\n\
             dhcp-range = 10.77.0.100 10.77.0.199\n"
        ),
    );
    let plain_conf = file("plain.conf", &format!("bridge = {PLAIN}\n"));
    let net_env = [
        ("VNET_CONFIG", net_conf.as_str()),
        ("VNET_RUNTIME_DIR", runtime),
    ];
    let plain_env = [
        ("VNET_CONFIG", plain_conf.as_str()),
        ("VNET_RUNTIME_DIR", runtime),
    ];
    let reset_tap = || run(&["ip", "link", "set", "dev", TAP, "address", TAP_MAC], &[]);

    // (a) Set-up and tear-down: each starts and stops a dnsmasq, so fewer.
    let setup_iters = (iters / 10).clamp(5, 50);
    let (mut up, mut down) = (Vec::new(), Vec::new());
    eprintln!("bench: network set-up: {setup_iters} iterations");
    for i in 0..setup_iters + 1 {
        let u = run(&[IFUP, "--network-up", NET], &net_env);
        let d = run(&[IFUP, "--network-down", NET], &net_env);
        // The first fills caches and is thrown away.
        if i > 0 {
            up.push(u);
            down.push(d);
        }
    }

    // (b) Attach and detach, alternating, on the network set up once.
    run(&[IFUP, "--network-up", NET], &net_env);
    eprintln!("bench: network attach: {iters} iterations");
    let (mut on_network, mut on_plain) = (Vec::new(), Vec::new());
    for i in 0..iters + 5 {
        for b in 0..2 {
            let (env, sample) = match (i + b) % 2 {
                0 => (&net_env, &mut on_network),
                _ => (&plain_env, &mut on_plain),
            };
            reset_tap();
            let cost = run(&[IFUP, TAP], env) + run(&[IFDOWN, TAP], env);
            if i >= 5 {
                sample.push(cost);
            }
        }
    }
    let trace = dir.join("network.trace");
    let mut syscalls = Vec::new();
    let mut instructions = Vec::new();
    for (what, env) in [
        ("on the network", &net_env),
        ("on a plain bridge", &plain_env),
    ] {
        reset_tap();
        let up = measure::syscalls(&[IFUP, TAP], env, &trace).0;
        let down = measure::syscalls(&[IFDOWN, TAP], env, &trace).0;
        syscalls.push((what, up, down));
        if crate::has("valgrind") {
            reset_tap();
            let up = measure::instructions(&[IFUP, TAP], env, &trace);
            let down = measure::instructions(&[IFDOWN, TAP], env, &trace);
            instructions.push((what, up, down));
        }
    }
    run(&[IFUP, "--network-down", NET], &net_env);
    if crate::has("valgrind") {
        let count = measure::instructions(&[IFUP, "--network-up", NET], &net_env, &trace);
        instructions.push(("--network-up", count, 0));
        run(&[IFUP, "--network-down", NET], &net_env);
    }
    Results {
        iters,
        setup_iters,
        up,
        down,
        on_network,
        on_plain,
        syscalls,
        instructions,
    }
}

impl Results {
    /// The results as markdown.
    pub fn render(&self) -> String {
        let mut t = String::new();
        let stat = |v: &[Cost], cpu: bool| {
            let pick: Vec<_> = v.iter().map(|c| if cpu { c.cpu } else { c.wall }).collect();
            summary(&pick)
        };
        let cell = |v: &[Cost]| {
            let ((wm, wp), (cm, cp)) = (stat(v, false), stat(v, true));
            format!("{wm:.0} / {wp:.0} | {cm:.0} / {cp:.0}")
        };
        let _ = writeln!(
            t,
            "A NAT network with DHCP (`[network {NET}]`, issue 10), in a namespace of its own. \
             Set-up: `vnet-ifup --network-up {NET}` (bridge, address, forwarding, nftables \
             chains, dnsmasq started and its pid file written), then `--network-down {NET}`; \
             {} iterations. Attach: one attach and detach of a tap on the set-up network and \
             on a plain bridge, alternating, {} iterations. µs, median / p90 (CPU time \
             excludes the detached dnsmasq):\n",
            self.setup_iters, self.iters
        );
        let _ = writeln!(t, "| per run | wall | CPU |\n|---|---:|---:|");
        let rows: [(&str, &[Cost]); 4] = [
            ("first set-up: `--network-up`", &self.up),
            ("tear-down: `--network-down`", &self.down),
            ("attach + detach on the set-up network", &self.on_network),
            ("attach + detach on a plain bridge", &self.on_plain),
        ];
        for (what, v) in rows {
            let _ = writeln!(t, "| {what} | {} |", cell(v));
        }
        let _ = writeln!(
            t,
            "\n| counted | syscalls (ifup + ifdown) | user-space instructions (ifup + ifdown) |"
        );
        let _ = writeln!(t, "|---|---:|---:|");
        let find =
            |v: &[(&str, u64, u64)], w: &str| v.iter().find(|x| x.0 == w).map(|x| (x.1, x.2));
        let show = |c: Option<(u64, u64)>| match c {
            Some((up, 0)) => up.to_string(),
            Some((up, down)) => format!("{} ({up} + {down})", up + down),
            None => String::new(),
        };
        for what in ["on the network", "on a plain bridge", "--network-up"] {
            let (calls, ins) = (
                show(find(&self.syscalls, what)),
                show(find(&self.instructions, what)),
            );
            let what = if what.starts_with("--") {
                format!("`vnet-ifup {what} {NET}`")
            } else {
                format!("attach + detach {what}")
            };
            let _ = writeln!(t, "| {what} | {calls} | {ins} |");
        }
        let ratio = |cpu| stat(&self.on_network, cpu).0 / stat(&self.on_plain, cpu).0;
        let count_ratio = |v: &[(&str, u64, u64)]| {
            let n = find(v, "on the network")?;
            let p = find(v, "on a plain bridge")?;
            Some((n.0 + n.1) as f64 / (p.0 + p.1) as f64)
        };
        let mark = |r: f64| if r <= 1.10 { "yes" } else { "**no**" };
        let _ = writeln!(
            t,
            "\n| target | measured | met |\n|---|---:|---|\n\
             | attach on a set-up network at most 1.10x a plain bridge (wall / CPU) | \
             {:.2}x / {:.2}x | {} / {} |",
            ratio(false),
            ratio(true),
            mark(ratio(false)),
            mark(ratio(true))
        );
        for (what, v) in [
            ("syscalls", &self.syscalls),
            ("instructions", &self.instructions),
        ] {
            if let Some(r) = count_ratio(v) {
                let _ = writeln!(
                    t,
                    "| the same in {what} of a cycle | {r:.2}x | {} |",
                    mark(r)
                );
            }
        }
        t
    }
}
