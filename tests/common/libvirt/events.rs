//! The kernel's own account of link changes while libvirt acts: what
//! happened to a tap between two states, which the states alone cannot
//! tell (was it detached before it vanished?).

use std::fs::File;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::Netns;

/// What `ip -o monitor link` in `ns` reports while `during` runs, until
/// the first link deletion after it.
pub fn link_events(ns: &Netns, during: impl FnOnce()) -> String {
    let path = ns.path("monitor");
    let mut monitor = Command::new("ip")
        .args(["-n", &ns.name, "-o", "monitor", "link"])
        .stdout(File::create(&path).expect("monitor output"))
        .spawn()
        .expect("run ip monitor");
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait = |done: &dyn Fn(&str) -> bool, poke: &dyn Fn()| {
        while !done(&read()) {
            assert!(
                Instant::now() < deadline,
                "ip monitor said only:\n{}",
                read()
            );
            poke();
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Changes of our own to br0 (which is unused) until one is reported:
    // then the monitor is listening.
    let mtu = std::cell::Cell::new(1280);
    let poke = || {
        ns.ip(&["link", "set", "br0", "mtu", &mtu.get().to_string()]);
        mtu.set(mtu.get() ^ 1);
    };
    wait(&|text| text.contains("br0: "), &poke);
    during();
    wait(&|text| text.contains("Deleted "), &|| {});
    let _ = monitor.kill();
    let _ = monitor.wait();
    read()
}
