//! libvirtd's debug log: which commands it ran, with what environment,
//! when, and how they ended.

use super::Libvirtd;
use crate::common::{IFDOWN, IFUP};

/// A script run with nothing on stderr, as libvirtd logs it. The status
/// there is not the script's (libvirt 9.0 logs 0 for a script that exited
/// 1); the empty stderr is the proof, since vnet never fails silently, and
/// libvirt's own error line is checked by [`assert_no_script_error`].
const QUIET_SUCCESS: &str = "status 0, stdout: '' stderr: ''";

/// One command libvirtd ran, from its debug log.
#[derive(Debug)]
pub struct Ran {
    /// The log's line number of "About to run".
    pub line: usize,
    /// The environment and argv, as libvirt logs them.
    pub command: String,
    /// "status N, stdout: '...' stderr: '...'" (its first line).
    pub result: String,
}

/// Every run of `program` that libvirtd logged, in order.
pub fn ran(log: &str, program: &str) -> Vec<Ran> {
    let lines: Vec<&str> = log.lines().collect();
    let thread = |l: &str| l.split(": ").nth(1).map(str::to_owned);
    let mut found = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some((_, command)) = line.split_once(" : About to run ") else {
            continue;
        };
        if !command.split(' ').any(|word| word == program) {
            continue;
        }
        let tid = thread(line);
        let result = lines[n + 1..]
            .iter()
            .filter(|l| thread(l) == tid)
            .find_map(|l| l.split_once(" : Result ").map(|(_, r)| r.to_owned()))
            .unwrap_or_default();
        found.push(Ran {
            line: n,
            command: command.to_owned(),
            result,
        });
    }
    found
}

/// Asserts libvirtd ran `script` once for `tap` and it succeeded quietly;
/// returns that run.
pub fn ran_once(vm: &Libvirtd, script: &str, tap: &str) -> Ran {
    let log = vm.log();
    let all = ran(&log, script).into_iter();
    let mut runs: Vec<_> = all
        .filter(|r| r.command.ends_with(&format!(" {script} {tap}")))
        .collect();
    assert_eq!(runs.len(), 1, "{script} {tap} runs: {runs:#?}\n{log}");
    let run = runs.remove(0);
    assert_eq!(run.result, QUIET_SUCCESS, "{run:?}");
    run
}

/// Asserts libvirtd logged no error about either script.
pub fn assert_no_script_error(vm: &Libvirtd) {
    let log = vm.log();
    let errors = log.lines().filter(|l| l.contains(" error : "));
    let ours: Vec<&str> = errors
        .filter(|l| l.contains(IFUP.as_str()) || l.contains(IFDOWN.as_str()))
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

/// The log line number of the first line containing `needle`.
pub fn line_of(log: &str, needle: &str) -> usize {
    log.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in libvirtd's log:\n{log}"))
}
