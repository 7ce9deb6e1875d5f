//! The tables, the targets of issue 6, and the results part of BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::Command;
use std::time::Duration;

use crate::measure::summary;

/// Wall times of one scenario, by row.
pub struct Scenario {
    pub label: &'static str,
    samples: BTreeMap<&'static str, Vec<Duration>>,
    rss: BTreeMap<&'static str, u64>,
}

impl Scenario {
    pub fn new(label: &'static str) -> Scenario {
        Scenario {
            label,
            samples: BTreeMap::new(),
            rss: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, row: &'static str, d: Duration) {
        self.samples.entry(row).or_default().push(d);
    }

    /// Keeps the largest peak RSS seen for `row`.
    pub fn rss(&mut self, row: &'static str, kib: u64) {
        let max = self.rss.entry(row).or_default();
        *max = (*max).max(kib);
    }

    fn median(&self, row: &str) -> f64 {
        summary(&self.samples[row]).0
    }
}

/// Everything measured once rather than timed.
#[derive(Default)]
pub struct Extra {
    pub sizes: Vec<(&'static str, u64)>,
    /// (command, syscalls, threads and processes created)
    pub syscalls: Vec<(&'static str, u64, u64)>,
    pub instructions: Vec<(&'static str, u64)>,
    pub brctl_with_sleep: Vec<Duration>,
}

const ROWS: [(&str, &str); 8] = [
    ("floor", "floor: two execs of an empty static binary"),
    (
        "kernel",
        "kernel: the same requests in one `ip -batch`, per cycle",
    ),
    ("", "floor + kernel"),
    ("vnet-ifup", "vnet-ifup"),
    ("vnet-ifdown", "vnet-ifdown"),
    ("vnet", "**vnet-ifup + vnet-ifdown**"),
    (
        "ip",
        "classic scripts: `ip link set up; ip link set master` and back",
    ),
    (
        "brctl",
        "tutorial scripts with brctl, without the `sleep 1`",
    ),
];

/// The results as markdown: machine, tables, targets.
pub fn render(scenarios: &[Scenario], x: &Extra, iters: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{}\n", machine());
    let _ = writeln!(
        t,
        "One cycle attaches and detaches one tap: {iters} alternating iterations per \
         scenario, wall time in µs (median / p90).\n"
    );
    let _ = write!(t, "| per cycle |");
    for s in scenarios {
        let _ = write!(t, " {} |", s.label);
    }
    let _ = writeln!(t, "\n|---|{}", "---:|".repeat(scenarios.len()));
    for (row, title) in ROWS {
        let _ = write!(t, "| {title} |");
        for s in scenarios {
            let cell = if row.is_empty() {
                format!("{:.0}", floor_total(s))
            } else {
                let (median, p90) = summary(&s.samples[row]);
                format!("{median:.0} / {p90:.0}")
            };
            let _ = write!(t, " {cell} |");
        }
        let _ = writeln!(t);
    }
    let sleepy = summary(&x.brctl_with_sleep).0;
    let _ = writeln!(
        t,
        "\nThe tutorial scripts as written, with `sleep 1`: {:.3} s per cycle (median of {}).\n",
        sleepy / 1e6,
        x.brctl_with_sleep.len()
    );

    let _ = writeln!(
        t,
        "| per invocation | syscalls | threads and processes created |"
    );
    let _ = writeln!(t, "|---|---:|---:|");
    for (name, calls, tasks) in &x.syscalls {
        let _ = writeln!(t, "| {name} | {calls} | {tasks} |");
    }
    let _ = writeln!(
        t,
        "\n| binary | size (bytes) | peak RSS (KiB) | instructions (callgrind) |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|");
    let base = &scenarios[0];
    for (name, bytes) in &x.sizes {
        let rss = base.rss.get(name).map_or("".into(), |k| k.to_string());
        let ins = x.instructions.iter().find(|(n, _)| n == name);
        let ins = ins.map_or("".into(), |(_, n)| n.to_string());
        let _ = writeln!(t, "| {name} | {bytes} | {rss} | {ins} |");
    }
    let _ = writeln!(t, "\n{}", targets(scenarios, x));
    t
}

fn floor_total(s: &Scenario) -> f64 {
    s.median("floor") + s.median("kernel")
}

fn targets(scenarios: &[Scenario], x: &Extra) -> String {
    let base = &scenarios[0];
    let vnet = base.median("vnet");
    let many = scenarios
        .iter()
        .find(|s| s.label.starts_with("4000"))
        .map_or(vnet, |s| s.median("vnet"));
    let calls = |name| x.syscalls.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
    let floor_calls = calls("floor");
    let worst_calls = calls("vnet-ifup").max(calls("vnet-ifdown"));
    let biggest = x.sizes.iter().take(2).map(|s| s.1).max().unwrap_or(0);
    let rows = [
        (
            "one cycle within 1.15x of the floor",
            format!("{:.2}x", vnet / floor_total(base)),
            vnet <= 1.15 * floor_total(base),
        ),
        (
            "at least 4x faster than the classic ip scripts",
            format!("{:.1}x", base.median("ip") / vnet),
            base.median("ip") >= 4.0 * vnet,
        ),
        (
            "flat within 10% from 10 to 4000 interfaces",
            format!("{:+.1}%", (many / vnet - 1.0) * 100.0),
            many <= 1.10 * vnet,
        ),
        (
            "each binary at most 512 KiB",
            format!("{:.1} KiB", biggest as f64 / 1024.0),
            biggest <= 512 * 1024,
        ),
        (
            "at most twice the floor binary's syscalls",
            format!("{worst_calls} vs {floor_calls}"),
            worst_calls <= 2 * floor_calls,
        ),
    ];
    let mut t = String::from("| target | measured | met |\n|---|---:|---|\n");
    for (what, measured, met) in rows {
        let _ = writeln!(
            t,
            "| {what} | {measured} | {} |",
            if met { "yes" } else { "**no**" }
        );
    }
    t
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let vm = if cpuinfo.contains(" hypervisor") {
        ", virtual machine"
    } else {
        ""
    };
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {model}, {cpus} CPUs{vm}, {:.1} GiB; Linux {}; {}; {}.  \nDate: {}.  \n\
         Reproduce: `make bench` as root (`cargo bench --bench vnet -- --iters N` for more).",
        mem_kib as f64 / 1048576.0,
        kernel.trim(),
        output("rustc", &["-V"]),
        output("ip", &["-V"]),
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    )
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| format!("no {program}"))
}

const BEGIN: &str = "<!-- results: written by `make bench` -->\n";
const END: &str = "<!-- end of results -->\n";

/// Replaces the results between the markers of BENCHMARKS.md, leaving the
/// analysis around them as it is.
pub fn write_benchmarks_md(results: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (head, tail) = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => (&old[..b], &old[e + END.len()..]),
        _ => (old.as_str(), ""),
    };
    let new = format!("{head}{BEGIN}{results}{END}{tail}");
    std::fs::write(path, new).expect("write BENCHMARKS.md");
    eprintln!("bench: results written to {path}");
}
