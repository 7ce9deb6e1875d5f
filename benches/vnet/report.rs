//! The tables, the targets of issue 6, and the results part of BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::Command;
use std::time::Duration;

use crate::measure::{summary, Cost};

/// Costs of one scenario, by row.
pub struct Scenario {
    pub label: &'static str,
    samples: BTreeMap<&'static str, Vec<Cost>>,
}

impl Scenario {
    pub fn new(label: &'static str) -> Scenario {
        Scenario {
            label,
            samples: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, row: &'static str, cost: Cost) {
        self.samples.entry(row).or_default().push(cost);
    }

    /// (median, p90) in µs of wall or CPU time.
    fn stat(&self, row: &str, cpu: bool) -> (f64, f64) {
        let pick = |c: &Cost| if cpu { c.cpu } else { c.wall };
        summary(&self.samples[row].iter().map(pick).collect::<Vec<_>>())
    }

    fn floor_total(&self, cpu: bool) -> f64 {
        self.stat("floor", cpu).0 + self.stat("kernel", cpu).0
    }
}

/// Everything measured once rather than timed.
#[derive(Default)]
pub struct Extra {
    pub sizes: Vec<(&'static str, u64)>,
    /// (command, syscalls, threads and processes created)
    pub syscalls: Vec<(&'static str, u64, u64)>,
    pub instructions: Vec<(&'static str, u64)>,
    pub rss: Vec<(&'static str, u64)>,
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
    for (cpu, what) in [
        (false, "Wall time"),
        (true, "CPU time (user + system, children included)"),
    ] {
        let _ = writeln!(
            t,
            "{what} of one cycle (attach and detach one tap), µs, median / p90 of \
             {iters} alternating iterations:\n"
        );
        table(&mut t, scenarios, cpu);
    }
    let sleepy = summary(&x.brctl_with_sleep).0;
    let _ = writeln!(
        t,
        "The tutorial scripts as written, with `sleep 1`: {:.3} s per cycle (median of {}).\n",
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
        "\n| binary | size (bytes) | peak RSS (KiB) | user-space instructions (callgrind) |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|");
    for (name, bytes) in &x.sizes {
        let find = |v: &[(&str, u64)]| {
            v.iter()
                .find(|(n, _)| n == name)
                .map_or("".into(), |(_, k)| k.to_string())
        };
        let (rss, ins) = (find(&x.rss), find(&x.instructions));
        let _ = writeln!(t, "| {name} | {bytes} | {rss} | {ins} |");
    }
    let _ = writeln!(t, "\n{}", targets(scenarios, x));
    t
}

fn table(t: &mut String, scenarios: &[Scenario], cpu: bool) {
    let _ = write!(t, "| per cycle |");
    for s in scenarios {
        let _ = write!(t, " {} |", s.label);
    }
    let _ = writeln!(t, "\n|---|{}", "---:|".repeat(scenarios.len()));
    let against = ("against", "the same, built from `--against` DIR");
    let extra = scenarios[0]
        .samples
        .contains_key("against")
        .then_some(against);
    for (row, title) in ROWS.into_iter().chain(extra) {
        let _ = write!(t, "| {title} |");
        for s in scenarios {
            let cell = if row.is_empty() {
                format!("{:.0}", s.floor_total(cpu))
            } else {
                let (median, p90) = s.stat(row, cpu);
                format!("{median:.0} / {p90:.0}")
            };
            let _ = write!(t, " {cell} |");
        }
        let _ = writeln!(t);
    }
    let _ = writeln!(t);
}

fn targets(scenarios: &[Scenario], x: &Extra) -> String {
    let base = &scenarios[0];
    let many = scenarios
        .iter()
        .find(|s| s.label.starts_with("4000"))
        .unwrap_or(base);
    // Each time target as (wall, CPU): the ratio and whether it is met.
    let both = |f: &dyn Fn(bool) -> (f64, bool), unit: &dyn Fn(f64) -> String| {
        let ((w, wok), (c, cok)) = (f(false), f(true));
        let mark = |ok| if ok { "yes" } else { "**no**" };
        (
            format!("{} / {}", unit(w), unit(c)),
            format!("{} / {}", mark(wok), mark(cok)),
        )
    };
    let times = |x: f64| format!("{x:.2}x");
    let percent = |x: f64| format!("{:+.1}%", (x - 1.0) * 100.0);
    let vnet = |s: &Scenario, cpu| s.stat("vnet", cpu).0;
    let near_floor = both(
        &|cpu| {
            let r = vnet(base, cpu) / base.floor_total(cpu);
            (r, r <= 1.15)
        },
        &times,
    );
    let faster = both(
        &|cpu| {
            let r = base.stat("ip", cpu).0 / vnet(base, cpu);
            (r, r >= 4.0)
        },
        &times,
    );
    let flat = both(
        &|cpu| {
            let r = vnet(many, cpu) / vnet(base, cpu);
            (r, r <= 1.10)
        },
        &percent,
    );
    let calls = |name| x.syscalls.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
    let floor_calls = calls("floor");
    let worst_calls = calls("vnet-ifup").max(calls("vnet-ifdown"));
    let biggest = x.sizes.iter().take(2).map(|s| s.1).max().unwrap_or(0);
    let yes_no = |ok| if ok { "yes" } else { "**no**" }.to_owned();
    let rows = [
        ("one cycle within 1.15x of floor + kernel", near_floor),
        ("at least 4x faster than the classic ip scripts", faster),
        ("flat within 10% from 10 to 4000 interfaces", flat),
        (
            "each binary at most 512 KiB",
            (
                format!("{:.1} KiB", biggest as f64 / 1024.0),
                yes_no(biggest <= 512 * 1024),
            ),
        ),
        (
            "at most twice the floor binary's syscalls",
            (
                format!("{worst_calls} vs {floor_calls}"),
                yes_no(worst_calls <= 2 * floor_calls),
            ),
        ),
    ];
    let mut t =
        String::from("| target | measured (wall / CPU) | met (wall / CPU) |\n|---|---:|---|\n");
    for (what, (measured, met)) in rows {
        let _ = writeln!(t, "| {what} | {measured} | {met} |");
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

const NET_BEGIN: &str = "<!-- network results: written by `make bench` -->\n";
const NET_END: &str = "<!-- end of network results -->\n";

/// Replaces the `[network]` results of BENCHMARKS.md (`--only network`
/// writes these alone), first placed right after the main results.
pub fn write_network_md(results: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (head, tail) = match (old.find(NET_BEGIN), old.find(NET_END)) {
        (Some(b), Some(e)) if b < e => (old[..b].to_owned(), &old[e + NET_END.len()..]),
        _ => match old.find(END) {
            Some(e) => (
                format!("{}\n", &old[..e + END.len()]),
                &old[e + END.len()..],
            ),
            None => (format!("{old}\n"), ""),
        },
    };
    let new = format!("{head}{NET_BEGIN}{results}{NET_END}{tail}");
    std::fs::write(path, new).expect("write BENCHMARKS.md");
    eprintln!("bench: network results written to {path}");
}
