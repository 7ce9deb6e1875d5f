//! What the guest's init.sh reported on the console.

use super::qemu::Run;

/// The console's `VNET-*` lines. Each stands alone on its line; the
/// console ends lines with "\r\n".
pub struct Report {
    /// Uptime (s) when userspace started.
    booted: Option<f64>,
    /// Suite, exit status and uptime (s) at its end, in the order run.
    results: Vec<(String, String, f64)>,
    done: bool,
}

impl Report {
    pub fn parse(console: &str) -> Report {
        let mut report = Report {
            booted: None,
            results: Vec::new(),
            done: false,
        };
        for line in console.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words[..] {
                ["VNET-BOOTED", up] => report.booted = up.parse().ok(),
                ["VNET-RESULT", suite, status, up] => {
                    let up = up.parse().unwrap_or(f64::NAN);
                    report
                        .results
                        .push((suite.to_owned(), status.to_owned(), up));
                }
                ["VNET-DONE"] => report.done = true,
                _ => {}
            }
        }
        report
    }

    /// Every suite ran, in order, and passed; then init finished.
    pub fn check(&self, suites: &[&str]) -> Result<(), String> {
        if self.booted.is_none() {
            return Err("the guest never reached userspace".into());
        }
        for (i, suite) in suites.iter().enumerate() {
            match self.results.get(i) {
                Some((name, status, _)) if name == suite && status == "0" => {}
                Some((name, status, _)) if name == suite => {
                    return Err(format!(
                        "suite {suite} failed in the guest (exit status {status})"
                    ));
                }
                _ => return Err(format!("no result for suite {suite}")),
            }
        }
        if self.results.len() != suites.len() || !self.done {
            return Err("init did not finish as expected".into());
        }
        Ok(())
    }

    /// "userspace at 2.3 s; attach 3.1 s, refuse 4.0 s; 15.2 s wall"
    pub fn timings(&self, run: &Run) -> String {
        let booted = self.booted.unwrap_or(f64::NAN);
        let mut last = booted;
        let mut parts = Vec::new();
        for (suite, _, up) in &self.results {
            parts.push(format!("{suite} {:.1} s", up - last));
            last = *up;
        }
        let wall = run.wall.as_secs_f64();
        format!(
            "userspace at {booted:.1} s; {}; {wall:.1} s wall",
            parts.join(", ")
        )
    }
}
