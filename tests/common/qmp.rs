//! A QMP client just big enough for the tests: one JSON object per line over
//! a Unix socket, every read bounded.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long QEMU gets to answer one command. TCG start-up on a busy
/// two-core CI machine is slow, but never this slow.
pub const REPLY: Duration = Duration::from_secs(15);

pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Reads the greeting from an accepted connection and leaves
    /// capabilities negotiation mode, so commands can be sent.
    pub fn handshake(stream: UnixStream) -> Qmp {
        stream
            .set_read_timeout(Some(REPLY))
            .expect("set QMP timeout");
        stream
            .set_write_timeout(Some(REPLY))
            .expect("set QMP timeout");
        let writer = stream.try_clone().expect("clone QMP socket");
        let mut qmp = Qmp {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = qmp.read(Instant::now() + REPLY).expect("QMP greeting");
        assert!(
            greeting.get("QMP").is_some(),
            "not a QMP greeting: {greeting}"
        );
        qmp.ok("qmp_capabilities", json!({}));
        qmp
    }

    /// Sends a command; returns its `return` value or its `error` object.
    /// Asynchronous events in between are skipped.
    pub fn execute(&mut self, command: &str, arguments: Value) -> Result<Value, Value> {
        let deadline = self.send(command, arguments);
        loop {
            let reply = self
                .read(deadline)
                .unwrap_or_else(|| panic!("QMP: QEMU closed the connection after {command}"));
            if let Some(value) = reply.get("return") {
                return Ok(value.clone());
            }
            if let Some(error) = reply.get("error") {
                return Err(error.clone());
            }
        }
    }

    /// Like `execute`, for a command that must succeed.
    pub fn ok(&mut self, command: &str, arguments: Value) -> Value {
        self.execute(command, arguments)
            .unwrap_or_else(|e| panic!("QMP {command} failed: {e}"))
    }

    /// Asks QEMU to exit. It may close the socket before or after its
    /// reply, so both count; `Qemu::wait` then checks that it did exit.
    pub fn quit(&mut self) {
        let deadline = self.send("quit", json!({}));
        while let Some(reply) = self.read(deadline) {
            if reply.get("return").is_some() {
                return;
            }
            assert!(reply.get("error").is_none(), "QMP quit failed: {reply}");
        }
    }

    fn send(&mut self, command: &str, arguments: Value) -> Instant {
        let mut line = json!({ "execute": command, "arguments": arguments }).to_string();
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .unwrap_or_else(|e| panic!("QMP: sending {command}: {e}"));
        Instant::now() + REPLY
    }

    /// The next message, or `None` when QEMU closed the connection.
    fn read(&mut self, deadline: Instant) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("QMP: no reply within {REPLY:?}")
            }
            Err(e) => panic!("QMP: {e}"),
        }
        assert!(Instant::now() < deadline, "QMP: no reply within {REPLY:?}");
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("QMP: {e}: {line:?}")))
    }
}
