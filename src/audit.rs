//! The privileged helper's audit trail: every attach, detach and refusal
//! goes to syslog (facility authpriv), as sudo's do.

use std::fmt::Display;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use log::warn;

use crate::escape::Escaped;
use crate::name::IfName;
use crate::policy::Caller;

/// The local syslog socket. A constant on purpose: a caller must never be
/// able to point our audit trail elsewhere. Tests redirect /dev/log with a
/// bind mount in a mount namespace of their own.
const SYSLOG: &str = "/dev/log";
/// `LOG_AUTHPRIV`, `LOG_INFO` and `LOG_WARNING` from <syslog.h>.
const AUTHPRIV: u8 = 10 << 3;
const INFO: u8 = 6;
const WARNING: u8 = 4;
/// How long a syslog daemon that is not reading (its queue full) may hold
/// us up. The attach is already made and QEMU waits for us with no bound
/// of its own, so the line is dropped rather than waited for.
const BOUND: Duration = Duration::from_secs(1);

/// Records one outcome. `done` is the verb for success ("attached").
/// A line syslog does not take within [`BOUND`] (no daemon, or one that is
/// not reading) is lost: we say so once on stderr and carry on, with the
/// exit status the outcome has.
pub fn record<E: Display>(
    tool: &str,
    caller: &Caller,
    tap: &IfName,
    bridge: Option<&str>,
    done: &str,
    result: &Result<(), E>,
) {
    let line = message(tool, std::process::id(), caller, tap, bridge, done, result);
    if let Err(e) = send(&line) {
        warn!("{tap}: the audit line was not logged: {}", unsent(&e));
    }
}

/// One datagram to /dev/log, waiting at most [`BOUND`] for room in a full
/// queue (SO_SNDTIMEO bounds unix_wait_for_peer).
fn send(line: &str) -> io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    socket.set_write_timeout(Some(BOUND))?;
    socket.send_to(line.as_bytes(), SYSLOG).map(drop)
}

/// Why a line did not reach syslog, in words.
fn unsent(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "syslog did not take it within {} s ({SYSLOG} is not being read)",
            BOUND.as_secs()
        ),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            format!("no syslog daemon listens on {SYSLOG}")
        }
        _ => format!("sending it to {SYSLOG}: {e}"),
    }
}

/// `<PRI>TAG[PID]: uid=1000 user=alice tap=vnet0 bridge=br0 verdict=attached`,
/// the form local syslog daemons and journald accept on /dev/log.
fn message<E: Display>(
    tool: &str,
    pid: u32,
    caller: &Caller,
    tap: &IfName,
    bridge: Option<&str>,
    done: &str,
    result: &Result<(), E>,
) -> String {
    let (severity, verdict) = match result {
        Ok(()) => (INFO, done.to_owned()),
        Err(e) => (
            WARNING,
            format!("refused reason=\"{}\"", e.to_string().replace('"', "'")),
        ),
    };
    // Every value is escaped (the error's Display escapes its names), so
    // no name can end the line or forge a field.
    let user = Escaped(caller.user.as_deref().unwrap_or("-"));
    format!(
        "<{}>{tool}[{pid}]: uid={} user={user} tap={tap} bridge={} verdict={verdict}",
        AUTHPRIV | severity,
        caller.uid,
        Escaped(bridge.unwrap_or("-")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Failure};
    use crate::policy::Refusal;

    fn alice() -> Caller {
        Caller {
            uid: 1000,
            user: Some("alice".into()),
            gids: vec![1000],
            groups: vec![],
        }
    }

    #[test]
    fn messages() {
        let tap = IfName::new("vnet0").unwrap();
        let ok = message(
            "vnet-ifup",
            7,
            &alice(),
            &tap,
            Some("br0"),
            "attached",
            &Ok::<(), Error>(()),
        );
        assert_eq!(
            ok,
            "<86>vnet-ifup[7]: uid=1000 user=alice tap=vnet0 bridge=br0 verdict=attached"
        );
        let missing = Failure::Refused(Refusal::NoBridge("br1".into()));
        let err = Err(Error::attach(&"vnet0", &"br1", missing));
        let refused = message(
            "vnet-ifup",
            7,
            &alice(),
            &tap,
            Some("br1"),
            "attached",
            &err,
        );
        assert_eq!(
            refused,
            "<84>vnet-ifup[7]: uid=1000 user=alice tap=vnet0 bridge=br1 verdict=refused \
             reason=\"cannot attach vnet0 to bridge br1: bridge br1 does not exist: create it \
             with 'ip link add br1 type bridge' and 'ip link set br1 up', or set \
             'create-bridge = yes'\""
        );
    }

    #[test]
    fn why_a_line_was_lost() {
        use io::ErrorKind::*;
        assert_eq!(
            unsent(&WouldBlock.into()),
            "syslog did not take it within 1 s (/dev/log is not being read)"
        );
        assert_eq!(
            unsent(&NotFound.into()),
            "no syslog daemon listens on /dev/log"
        );
        assert_eq!(
            unsent(&ConnectionRefused.into()),
            "no syslog daemon listens on /dev/log"
        );
    }
}
