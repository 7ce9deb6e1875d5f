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
    for (bad, shown) in [
        (&b"\x01"[..], "\"\\x01\""),
        (b"vnet=debug", "\"vnet=debug\""),
        (b"lo\xffud", "\"lo\\xffud\""),
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
