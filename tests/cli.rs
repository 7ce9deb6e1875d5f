//! The command-line contract that needs no privileges: every case here
//! exits before opening a netlink socket.

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

#[test]
fn non_utf8_tap_is_refused_cleanly() {
    let raw = std::ffi::OsStr::from_bytes(b"vnet\xff0");
    let (code, out, err) = run(IFUP, &[raw]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert_eq!(
        err,
        "vnet-ifup: invalid tap name \"vnet\u{fffd}0\": the name is not valid UTF-8\n"
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
    for bin in [IFUP, IFDOWN] {
        let out = Command::new("file")
            .arg("-L")
            .arg(bin)
            .output()
            .expect("the file command");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("statically linked"), "{text}");
    }
}
