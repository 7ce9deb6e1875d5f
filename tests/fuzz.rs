//! Arbitrary bytes into every entry point: argv, the environment and the
//! configuration file. Nothing may panic, and the binaries may exit with
//! 0, 1 or 2 only, saying why in one line.
//!
//! The parsers are driven in-process, thousands of cases; the real binaries
//! a few hundred times, in a namespace holding only `lo`, so that no input,
//! however it parses, can reach an interface that matters.

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use common::{Netns, Run, IFDOWN, IFUP};
use vnet::cli::{parse_args, Tool};
use vnet::name::IfName;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // A failure prints its minimal input; nothing is written to tests/.
        failure_persistence: None,
        ..Config::default()
    })
}

/// One argv word: the options vnet knows, a few names, or any bytes but
/// NUL (which no argv or environment string can hold).
fn word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(b"--check".to_vec()),
        1 => Just(b"--".to_vec()),
        1 => Just(b"--help".to_vec()),
        1 => Just(b"-V".to_vec()),
        3 => Just(b"lo".to_vec()),
        3 => Just(b"vnet0".to_vec()),
        3 => "[!-~]{1,16}".prop_map(String::into_bytes),
        3 => vec(1u8..=255, 0..24),
    ]
}

/// A command line: mostly one word, as QEMU passes, so that runs go on to
/// the environment and the configuration.
fn argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        3 => word().prop_map(|w| vec![w]),
        1 => word().prop_map(|w| vec![b"--check".to_vec(), w]),
        1 => vec(word(), 0..4),
    ]
}

/// Configuration text: arbitrary bytes, or lines built from valid and
/// nearly valid pieces, which get further into the parser.
fn config_text() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just("bridge = br0".to_owned()),
        Just("mtu = 9000".to_owned()),
        Just("mtu = bridge".to_owned()),
        Just("mac = keep".to_owned()),
        Just("[match vnet*]".to_owned()),
        Just("[match [!a-z]?]".to_owned()),
        Just("# comment".to_owned()),
        "[ -~]{0,20}",
    ];
    prop_oneof![
        vec(any::<u8>(), 0..200),
        vec(line, 0..8).prop_map(|lines| lines.join("\n").into_bytes()),
    ]
}

#[test]
fn parsers_take_any_bytes() {
    let tap = IfName::new("vnet0").expect("a valid name");
    let strategy = (config_text(), vec(word(), 0..4), option::of(word()));
    runner(3000)
        .run(&strategy, |(text, argv, bridge)| {
            match vnet::config::Config::parse("f", &text) {
                Ok(config) => {
                    let bridge = bridge.and_then(|b| IfName::from_os(OsStr::from_bytes(&b)).ok());
                    match config.resolve(&tap, bridge) {
                        Ok(resolved) => _ = resolved.rows(),
                        Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
                    }
                }
                Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
            }
            let argv: Vec<OsString> = argv.into_iter().map(OsString::from_vec).collect();
            for tool in [Tool::Ifup, Tool::Ifdown] {
                if let Err(e) = parse_args(tool, &argv) {
                    prop_assert_eq!(e.exit_code(), 2);
                    prop_assert!(!e.to_string().contains('\n'), "{}", e);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A name the kernel would refuse is refused before any syscall that
/// reaches the network or the configuration: strace sees no socket and
/// no open. (What the name check accepts is tests/properties.rs's.)
#[test]
fn names_are_checked_before_anything_else() {
    if !std::path::Path::new("/usr/bin/strace").exists() {
        common::cannot_run("names_are_checked_before_anything_else", "needs strace");
        return;
    }
    let trace = std::env::temp_dir().join(format!("vnet-names-{}.trace", std::process::id()));
    let bad = prop_oneof![
        "[a-z]{16,20}",
        "[a-z]{0,4}[/: \t][a-z]{0,4}",
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(String::new()),
    ];
    runner(40)
        .run(&(any::<bool>(), bad), |(up, name)| {
            let bin: &str = if up { &IFUP } else { &IFDOWN };
            let out = std::process::Command::new("/usr/bin/strace")
                .args(["-f", "-qq", "-e", "trace=socket,open,openat", "-o"])
                .arg(&trace)
                .args([bin, &name])
                .env_clear()
                .output()
                .expect("run strace");
            let run = Run::from(out);
            prop_assert_eq!(run.code, Some(2), "{:#?}", run);
            let text = std::fs::read_to_string(&trace).expect("the trace");
            prop_assert!(text.trim().is_empty(), "{:?}: {}", name, text);
            Ok(())
        })
        .unwrap();
    // The same trace of a valid name (--check: it changes nothing, even
    // here in the host's namespace) shows the socket: the trace works.
    std::process::Command::new("/usr/bin/strace")
        .args(["-f", "-qq", "-e", "trace=socket,open,openat", "-o"])
        .arg(&trace)
        .args([IFUP.as_str(), "--check", "vnet-no-such0"])
        .env_clear()
        .env("VNET_CONFIG", "/dev/null")
        .output()
        .expect("run strace");
    let text = std::fs::read_to_string(&trace).expect("the trace");
    assert!(text.contains("socket(AF_NETLINK"), "{text}");
    let _ = std::fs::remove_file(&trace);
}

#[test]
fn the_binaries_exit_0_1_or_2_in_one_line_whatever_they_are_given() {
    if !common::privileged() {
        return;
    }
    let ns = Netns::new();
    let config = std::env::temp_dir().join(format!("{}.fuzz.conf", ns.name));
    let strategy = (
        any::<bool>(),
        argv(),
        option::of(config_text()),
        option::of(vec(1u8..=255, 0..20)),
        option::of(prop_oneof![Just(b"debug".to_vec()), vec(1u8..=255, 0..10)]),
    );
    runner(256)
        .run(&strategy, |(up, argv, text, bridge, log)| {
            let bin: &str = if up { &IFUP } else { &IFDOWN };
            let mut cmd = ns.command(bin);
            cmd.args(argv.iter().map(|a| OsStr::from_bytes(a)));
            if let Some(text) = &text {
                std::fs::write(&config, text).expect("write the config");
                cmd.env("VNET_CONFIG", &config);
            }
            if let Some(bridge) = &bridge {
                cmd.env("VNET_BRIDGE", OsStr::from_bytes(bridge));
            }
            if let Some(log) = &log {
                cmd.env("VNET_LOG", OsStr::from_bytes(log));
            }
            let run = Run::from(cmd.output().expect("run the binary"));
            prop_assert!(matches!(run.code, Some(0..=2)), "{run:#?}");
            prop_assert!(!run.stderr.contains("internal error"), "{run:#?}");
            prop_assert!(!run.stderr.contains("panicked"), "{run:#?}");
            // Whatever bytes came in, none reaches the terminal raw.
            let raw = run.stderr.chars().any(|c| c.is_control() && c != '\n');
            prop_assert!(!raw, "{run:#?}");
            if log.is_none() {
                prop_assert!(run.stderr.lines().count() <= 1, "{run:#?}");
            }
            if run.code != Some(0) {
                let name = if up { "vnet-ifup: " } else { "vnet-ifdown: " };
                prop_assert!(run.stderr.starts_with(name), "{run:#?}");
            }
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_file(&config);
}
