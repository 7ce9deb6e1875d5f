//! The bridge-helper command line, as QEMU (`--use-vnet --fd=N --br=BR`,
//! net/tap.c `net_bridge_run_helper()`) and libvirt (`[--use-vnet] --br=BR
//! --fd=N`) write it, plus our `--check --br=BR`. Pure: no syscalls.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;

use crate::name::{IfName, NameError};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub bridge: IfName,
    /// `--use-vnet`: QEMU wants virtio-net headers if the kernel has them.
    pub use_vnet: bool,
    pub mode: Mode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Make the tap and send it over this socket.
    Send { fd: RawFd },
    /// `--check`: say whether the caller may, and what would be done.
    Check,
}

/// Why the command line is not one we accept. Always exit status 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("{0} is given twice")]
    Repeated(&'static str),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("--fd={0:?} is not a file descriptor number")]
    BadFd(String),
    #[error("--fd={0} is standard input, output or error, not QEMU's socket")]
    StdFd(RawFd),
    #[error("--check takes no --fd: it sends nothing")]
    CheckWithFd,
    #[error("invalid bridge name {name:?}: {reason}")]
    Bridge { name: String, reason: NameError },
}

/// Whether argv is the bridge-helper form rather than `[--check] TAP`.
pub fn is_invocation(args: &[OsString]) -> bool {
    args.iter().any(|a| {
        let a = a.as_encoded_bytes();
        a == b"--use-vnet" || a.starts_with(b"--br=") || a.starts_with(b"--fd=")
    })
}

/// Parses argv without the program name: each option at most once, in any
/// order, nothing else. Every value is checked in full here, before the
/// first syscall; the bridge name is never truncated (CVE-2019-13164).
pub fn parse(args: &[OsString]) -> Result<Args, ArgError> {
    let (mut use_vnet, mut check) = (false, false);
    let (mut fd, mut bridge): (Option<&OsStr>, Option<&OsStr>) = (None, None);
    for arg in args {
        let bytes = arg.as_encoded_bytes();
        let (slot, name) = match bytes {
            b"--use-vnet" => (Flag(&mut use_vnet), "--use-vnet"),
            b"--check" => (Flag(&mut check), "--check"),
            _ if bytes.starts_with(b"--fd=") => (Value(&mut fd, 5), "--fd"),
            _ if bytes.starts_with(b"--br=") => (Value(&mut bridge, 5), "--br"),
            _ => return Err(ArgError::Unknown(arg.to_string_lossy().into_owned())),
        };
        match slot {
            Flag(seen) if *seen => return Err(ArgError::Repeated(name)),
            Flag(seen) => *seen = true,
            Value(Some(_), _) => return Err(ArgError::Repeated(name)),
            Value(value, skip) => *value = Some(rest(arg, skip)),
        }
    }
    let raw = bridge.ok_or(ArgError::Missing("--br=BRIDGE"))?;
    let bridge = IfName::from_os(raw).map_err(|reason| ArgError::Bridge {
        name: raw.to_string_lossy().into_owned(),
        reason,
    })?;
    let mode = match (check, fd) {
        (true, None) => Mode::Check,
        (true, Some(_)) => return Err(ArgError::CheckWithFd),
        (false, None) => return Err(ArgError::Missing("--fd=N")),
        (false, Some(raw)) => Mode::Send {
            fd: fd_number(raw)?,
        },
    };
    Ok(Args {
        bridge,
        use_vnet,
        mode,
    })
}

enum Slot<'a, 'b> {
    Flag(&'a mut bool),
    Value(&'a mut Option<&'b OsStr>, usize),
}
use Slot::{Flag, Value};

/// `arg` without its first `skip` bytes, all ASCII (`--fd=`, `--br=`).
fn rest(arg: &OsStr, skip: usize) -> &OsStr {
    // SAFETY: the bytes removed are ASCII, so the rest starts at a valid
    // boundary of the encoding, as `from_encoded_bytes_unchecked` requires.
    unsafe { OsStr::from_encoded_bytes_unchecked(&arg.as_encoded_bytes()[skip..]) }
}

/// A descriptor number as QEMU prints it (`%d`): decimal digits, no sign,
/// no leading zero, at most `i32::MAX`; never 0, 1 or 2.
fn fd_number(raw: &OsStr) -> Result<RawFd, ArgError> {
    let text = raw.to_string_lossy();
    let bad = || ArgError::BadFd(text.clone().into_owned());
    let digits = raw.as_encoded_bytes();
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    if !canonical {
        return Err(bad());
    }
    let fd: RawFd = text.parse().map_err(|_| bad())?;
    match fd {
        0..=2 => Err(ArgError::StdFd(fd)),
        fd => Ok(fd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Args, ArgError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args)
    }

    fn br0() -> IfName {
        IfName::new("br0").unwrap()
    }

    #[test]
    fn qemus_and_libvirts_orders() {
        let want = Args {
            bridge: br0(),
            use_vnet: true,
            mode: Mode::Send { fd: 5 },
        };
        assert_eq!(
            parse_str(&["--use-vnet", "--fd=5", "--br=br0"]),
            Ok(want.clone())
        );
        assert_eq!(
            parse_str(&["--use-vnet", "--br=br0", "--fd=5"]),
            Ok(want.clone())
        );
        assert_eq!(
            parse_str(&["--br=br0", "--fd=5"]),
            Ok(Args {
                use_vnet: false,
                ..want
            })
        );
        assert_eq!(
            parse_str(&["--check", "--br=br0"]),
            Ok(Args {
                bridge: br0(),
                use_vnet: false,
                mode: Mode::Check
            })
        );
    }

    #[test]
    fn refusals() {
        let cases: &[(&[&str], ArgError)] = &[
            (&["--fd=5"], ArgError::Missing("--br=BRIDGE")),
            (&["--br=br0"], ArgError::Missing("--fd=N")),
            (
                &["--br=br0", "--br=br1", "--fd=5"],
                ArgError::Repeated("--br"),
            ),
            (
                &["--br=br0", "--fd=5", "--fd=5"],
                ArgError::Repeated("--fd"),
            ),
            (
                &["--use-vnet", "--use-vnet", "--br=br0", "--fd=5"],
                ArgError::Repeated("--use-vnet"),
            ),
            (&["--br=br0", "--fd=5", "x"], ArgError::Unknown("x".into())),
            (
                &["--br=br0", "--fd=5", "--fd"],
                ArgError::Unknown("--fd".into()),
            ),
            (&["--br=br0", "--fd=05"], ArgError::BadFd("05".into())),
            (&["--br=br0", "--fd=-1"], ArgError::BadFd("-1".into())),
            (&["--br=br0", "--fd=+7"], ArgError::BadFd("+7".into())),
            (&["--br=br0", "--fd="], ArgError::BadFd(String::new())),
            (
                &["--br=br0", "--fd=2147483648"],
                ArgError::BadFd("2147483648".into()),
            ),
            (&["--br=br0", "--fd=0"], ArgError::StdFd(0)),
            (&["--br=br0", "--fd=2"], ArgError::StdFd(2)),
            (&["--check", "--br=br0", "--fd=5"], ArgError::CheckWithFd),
        ];
        for (args, want) in cases {
            assert_eq!(parse_str(args).as_ref(), Err(want), "{args:?}");
        }
        // CVE-2019-13164: 16 bytes are refused, never cut to 15.
        assert_eq!(
            parse_str(&["--br=br0xxxxxxxxxxxxx", "--fd=5"]),
            Err(ArgError::Bridge {
                name: "br0xxxxxxxxxxxxx".into(),
                reason: NameError::TooLong(16)
            })
        );
        assert!(matches!(
            parse_str(&["--br=", "--fd=5"]),
            Err(ArgError::Bridge {
                reason: NameError::Empty,
                ..
            })
        ));
    }

    #[test]
    fn recognised_by_its_options() {
        let is =
            |args: &[&str]| is_invocation(&args.iter().map(OsString::from).collect::<Vec<_>>());
        assert!(is(&["--use-vnet", "--fd=3", "--br=br0"]));
        assert!(is(&["--check", "--br=br0"]));
        assert!(!is(&["vnet0"]));
        assert!(!is(&["--check", "vnet0"]));
    }
}
