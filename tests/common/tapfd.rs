//! Taps whose file descriptors the test holds, made with TUNSETIFF as QEMU
//! makes them, to put Ethernet frames on a bridge and read them back.
//! Test code only: the product never opens /dev/net/tun.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// `TUNSETIFF` = _IOW('T', 202, int), from include/uapi/linux/if_tun.h.
const TUNSETIFF: u32 = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
/// An EtherType from the IEEE's "local experimental" range: no host stack
/// answers it, so every frame carrying it is ours.
pub const ETHERTYPE: [u8; 2] = [0x88, 0xb5];

#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// A tap in a network namespace, alive as long as this value.
pub struct TapFd {
    pub name: String,
    file: File,
}

impl TapFd {
    /// Creates tap `name` inside namespace `netns`. Namespaces belong to
    /// threads, so a short-lived thread enters it and makes the tap there.
    pub fn new(netns: &str, name: &str) -> TapFd {
        let (netns, name) = (netns.to_owned(), name.to_owned());
        std::thread::spawn(move || {
            let ns = File::open(format!("/run/netns/{netns}")).expect("open netns");
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/net/tun")
                .expect("open /dev/net/tun");
            let mut req = IfReq {
                name: [0; 16],
                flags: IFF_TAP | IFF_NO_PI,
                _pad: [0; 22],
            };
            req.name[..name.len()].copy_from_slice(name.as_bytes());
            // SAFETY: TUNSETIFF reads and writes one struct ifreq, which `req` is.
            let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
            assert_eq!(
                rc,
                0,
                "TUNSETIFF {name}: {}",
                std::io::Error::last_os_error()
            );
            TapFd { name, file }
        })
        .join()
        .expect("tap thread")
    }

    /// Sends a broadcast frame from `src`, as the guest behind this tap
    /// would, optionally 802.1Q-tagged; `mark` identifies it.
    pub fn send(&mut self, src: [u8; 6], vlan: Option<u16>, mark: u8) {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&src);
        if let Some(vid) = vlan {
            frame.extend_from_slice(&[0x81, 0x00]);
            frame.extend_from_slice(&vid.to_be_bytes());
        }
        frame.extend_from_slice(&ETHERTYPE);
        frame.extend_from_slice(&[mark; 46]);
        self.file.write_all(&frame).expect("write frame");
    }

    /// Waits up to `wait` for our frame with `mark`; returns its VLAN tag
    /// (`Some(None)` for untagged) or `None` if it never came.
    pub fn receive(&mut self, mark: u8, wait: Duration) -> Option<Option<u16>> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(ms)).expect("poll") == 0 {
                return None;
            }
            let n = self.file.read(&mut buf).expect("read frame");
            if let Some(tag) = ours(&buf[..n], mark) {
                return Some(tag);
            }
        }
    }
}

impl TapFd {
    /// The marks of our frames that arrive before the one marked
    /// `barrier`, and the barrier's VLAN tag (`None` untagged); it must
    /// come within `wait` (a bound for a failure to show, not a measure). Proves a frame never arrives without a time
    /// window: send it, then a barrier frame that must arrive after it if
    /// it came at all. Frames on one port are queued in the order the
    /// bridge forwarded them, and a flood reaches every port in one pass.
    pub fn marks_before(&mut self, barrier: u8, wait: Duration) -> (Vec<u8>, Option<u16>) {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 2048];
        let mut marks = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            let ready = poll(&mut fds, PollTimeout::from(ms)).expect("poll");
            assert!(ready > 0, "{}: barrier {barrier} never came", self.name);
            let n = self.file.read(&mut buf).expect("read frame");
            let Some(mark) = mark_of(&buf[..n]) else {
                continue;
            };
            if mark == barrier {
                let tag = ours(&buf[..n], mark).flatten();
                return (marks, tag);
            }
            marks.push(mark);
        }
    }
}

/// The mark of one of our frames, tagged or not.
fn mark_of(frame: &[u8]) -> Option<u8> {
    let rest = match frame.get(12..14)? {
        [0x81, 0x00] => frame.get(16..)?,
        _ => frame.get(12..)?,
    };
    (rest.get(..2)? == ETHERTYPE).then(|| rest.get(2).copied())?
}

/// Our frame's VLAN tag, if `frame` is ours (the kernel sends IPv6 router
/// solicitations and the like on new ports too).
fn ours(frame: &[u8], mark: u8) -> Option<Option<u16>> {
    let (tag, rest) = match frame.get(12..14)? {
        [0x81, 0x00] => (
            Some(u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff),
            frame.get(16..)?,
        ),
        _ => (None, frame.get(12..)?),
    };
    (rest.get(..2)? == ETHERTYPE && rest.get(2) == Some(&mark)).then_some(tag)
}
