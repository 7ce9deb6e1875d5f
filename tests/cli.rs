//! The command-line contract that needs no privileges: every case here
//! exits before opening a netlink socket.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

const IFUP: &str = env!("CARGO_BIN_EXE_vnet-ifup");
const IFDOWN: &str = env!("CARGO_BIN_EXE_vnet-ifdown");

fn run(bin: &str, args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .output()
        .expect("run the binary");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn version_matches_the_package() {
    for (bin, name) in [(IFUP, "vnet-ifup"), (IFDOWN, "vnet-ifdown")] {
        let (code, out, err) = run(bin, &["--version".as_ref()]);
        assert_eq!((code, err.as_str()), (Some(0), ""));
        assert_eq!(out, format!("{name} {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn help_documents_the_contract() {
    let (code, out, _) = run(IFUP, &["--help".as_ref()]);
    assert_eq!(code, Some(0));
    for needle in [
        "--check TAP",
        "VNET_CONFIG",
        "VNET_BRIDGE",
        "VNET_LOG",
        "/etc/vnet/vnet.conf",
        "exit status",
    ] {
        assert!(out.contains(needle), "--help lacks {needle}");
    }
}

/// vnet-ifdown reads no configuration and no VNET_CONFIG or VNET_BRIDGE
/// (README, vnet-ifup(8)), so its --help must not offer them.
#[test]
fn ifdown_help_lists_only_what_ifdown_reads() {
    let (code, out, _) = run(IFDOWN, &["--help".as_ref()]);
    assert_eq!(code, Some(0));
    for needle in ["--check TAP", "VNET_LOG", "exit status", "downscript="] {
        assert!(out.contains(needle), "vnet-ifdown --help lacks {needle}");
    }
    for needle in ["VNET_CONFIG", "VNET_BRIDGE", "/etc/vnet/vnet.conf"] {
        assert!(!out.contains(needle), "vnet-ifdown --help offers {needle}");
    }
}

/// A VNET_LOG we cannot read is said once, in our format and escaped,
/// and the error line still follows; a level name in any case is fine.
#[test]
fn a_bad_vnet_log_is_a_warning_in_our_own_words() {
    let with_log = |value: &[u8]| {
        let out = Command::new(IFDOWN)
            .arg("a b")
            .env_clear()
            .env("VNET_LOG", std::ffi::OsStr::from_bytes(value))
            .output()
            .expect("run the binary");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let error = "vnet-ifdown: invalid tap name \"a b\": the name contains whitespace, \
                 which interface names may not contain\n";
    // trace is not a level vnet has (it logs nothing finer than debug):
    // it is refused like any other word, not silently taken as debug.
    for (bad, shown) in [
        (&b"\x01"[..], "\"\\x01\""),
        (b"vnet=debug", "\"vnet=debug\""),
        (b"lo\xffud", "\"lo\\xffud\""),
        (b"trace", "\"trace\""),
        (b"TRACE", "\"TRACE\""),
    ] {
        let warning = format!(
            "vnet-ifdown: warning: VNET_LOG={shown} is not off, error, warn, info or debug; \
             using warn\n"
        );
        assert_eq!(with_log(bad), (Some(2), format!("{warning}{error}")));
    }
    for good in [&b""[..], b"off", b"WARN", b"Info", b"debug"] {
        assert_eq!(with_log(good), (Some(2), error.to_owned()));
    }
}

/// Runs `bin ARGS` with only `VNET_CONFIG` set, to a file holding `text`.
fn with_config(bin: &str, args: &[&str], name: &str, text: &str) -> (Option<i32>, String) {
    let path = std::env::temp_dir().join(format!("vnet-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write the configuration");
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .env("VNET_CONFIG", &path)
        .output()
        .expect("run the binary");
    let _ = std::fs::remove_file(&path);
    let err = String::from_utf8_lossy(&out.stderr).replace(path.to_str().expect("UTF-8"), "FILE");
    (out.status.code(), err)
}

/// An [access] rule naming a user or group that does not exist is a typo,
/// not a rule: exit 2 with its file and line, for the run and --check,
/// before any netlink socket is opened.
#[test]
fn an_access_rule_naming_nobody_is_a_configuration_error() {
    let text = "bridge = br0\n[access br0]\nallow = root\ndeny = nobdy-vnet-test @root\n";
    let line = "vnet-ifup: FILE:4: deny: there is no user \"nobdy-vnet-test\" in /etc/passwd\n";
    for args in [&["vnet0"][..], &["--check", "vnet0"]] {
        assert_eq!(
            with_config(IFUP, args, "nobody.conf", text),
            (Some(2), line.to_owned())
        );
    }
    let text = "[access br*]\nallow = @no-such-group-vnet\n";
    let line = "vnet-ifup: FILE:2: allow: there is no group \"no-such-group-vnet\" in /etc/group\n";
    assert_eq!(
        with_config(IFUP, &["--check", "vnet0"], "nogroup.conf", text),
        (Some(2), line.to_owned())
    );
}

/// Configuration errors name the fix: where the path came from, every
/// accepted spelling, the key meant by another tool's word.
#[test]
fn configuration_errors_say_what_to_write() {
    for (text, msg) in [
        (
            "isolated = Yes\n",
            "FILE:1: isolated: \"Yes\" is not yes, no, true, false, on, off, 1 or 0 \
             (values are case-sensitive: \"yes\")",
        ),
        (
            "\nvlan = 10\n",
            "FILE:2: unknown key \"vlan\" (did you mean \"pvid\" or \"tagged\"? pvid is the \
             port's access VLAN, tagged the VLANs it carries tagged)",
        ),
    ] {
        assert_eq!(
            with_config(IFUP, &["vnet0"], "msg.conf", text),
            (Some(2), format!("vnet-ifup: {msg}\n"))
        );
    }
    let out = Command::new(IFUP)
        .arg("--check")
        .arg("vnet0")
        .env_clear()
        .env("VNET_CONFIG", "/nonexistent")
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "vnet-ifup: VNET_CONFIG=/nonexistent: no such file\n"
    );
}

#[test]
fn non_utf8_tap_is_refused_cleanly() {
    let raw = std::ffi::OsStr::from_bytes(b"vnet\xff0");
    let (code, out, err) = run(IFUP, &[raw]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert_eq!(
        err,
        "vnet-ifup: invalid tap name \"vnet\\xff0\": the name is not valid UTF-8\n"
    );
}

#[test]
fn odd_arguments_never_panic() {
    let long = "x".repeat(100_000);
    let cases: [&[&str]; 6] = [
        &[""],
        &["\n"],
        &["-"],
        &["--"],
        &[&long],
        &["--check", "a", "b"],
    ];
    for args in cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let (code, _, err) = run(IFDOWN, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("vnet-ifdown: "), "{err}");
    }
}

#[test]
fn the_binaries_are_static() {
    let Some(file) = common::program("static-binary test", "file", "file") else {
        return;
    };
    for bin in [IFUP, IFDOWN] {
        let out = Command::new(&file)
            .arg("-L")
            .arg(bin)
            .output()
            .expect("the file command");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("statically linked"), "{text}");
    }
}
