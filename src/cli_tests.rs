use super::*;
use std::os::unix::ffi::OsStringExt;

fn parse(args: &[&str]) -> Result<Command, Error> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    parse_args(Tool::Ifup, &args)
}

fn usage_error(args: &[&str]) -> String {
    let err = parse(args).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{args:?}");
    err.to_string()
}

#[test]
fn one_tap_argument_runs() {
    assert_eq!(
        parse(&["vnet0"]).unwrap(),
        Command::Run(IfName::new("vnet0").unwrap())
    );
    assert_eq!(
        parse(&["--", "-odd"]).unwrap(),
        Command::Run(IfName::new("-odd").unwrap())
    );
}

#[test]
fn options() {
    assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
    assert_eq!(parse(&["-h"]).unwrap(), Command::Help);
    assert_eq!(parse(&["--version"]).unwrap(), Command::Version);
    assert_eq!(
        parse(&["--check", "vnet0"]).unwrap(),
        Command::Check(IfName::new("vnet0").unwrap())
    );
}

#[test]
fn bad_usage_is_exit_2_with_the_usage_line() {
    let usage = "usage: vnet-ifup [--check] TAP | --help | --version";
    assert_eq!(
        usage_error(&[]),
        format!("missing the TAP argument; {usage}")
    );
    assert_eq!(
        usage_error(&["a", "b"]),
        format!("unexpected argument \"b\"; {usage}")
    );
    assert_eq!(
        usage_error(&["--check"]),
        format!("\"--check\" needs a TAP; {usage}")
    );
    assert_eq!(
        usage_error(&["-x"]),
        format!("unknown option \"-x\"; {usage}")
    );
    assert_eq!(
        usage_error(&["-x", "vnet0"]),
        format!("unknown option \"-x\"; {usage}")
    );
    assert_eq!(
        usage_error(&["--check", "a", "b"]),
        format!("unexpected argument \"a\"; {usage}")
    );
    assert_eq!(
        usage_error(&["--help", "x"]),
        format!("unexpected argument \"x\"; {usage}")
    );
}

#[test]
fn bad_tap_names_are_exit_2() {
    assert!(usage_error(&["abcdefghijklmnop"]).starts_with("invalid tap name \"abcdefghijklmnop\""));
    assert!(usage_error(&["a/b"]).contains("\"/\""));
    let raw = vec![OsString::from_vec(b"vnet\xff".to_vec())];
    let err = parse_args(Tool::Ifdown, &raw).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid tap name \"vnet\\xff\": the name is not valid UTF-8"
    );
}

#[test]
fn bad_vnet_bridge_is_exit_2() {
    let env = Env {
        config: Some("/dev/null".into()),
        bridge: Some("x".repeat(16).into()),
    };
    let err = crate::ifup::settings(&IfName::new("vnet0").unwrap(), &env, None).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err
        .to_string()
        .starts_with("invalid VNET_BRIDGE bridge name \"xxxxxxxxxxxxxxxx\""));
}

#[test]
fn a_panic_is_one_line() {
    let at = Location::caller();
    let line = panic_line(Tool::Ifdown, &"left\n  right", Some(at));
    assert_eq!(
        line,
        format!("vnet-ifdown: internal error at {at}: left   right")
    );
    let owned = panic_line(Tool::Ifup, &String::from("boom"), None);
    assert_eq!(owned, "vnet-ifup: internal error: boom");
    assert_eq!(
        panic_line(Tool::Ifup, &7, None),
        "vnet-ifup: internal error: a panic"
    );
}

#[test]
fn help_names_the_tool() {
    assert!(help(Tool::Ifdown).starts_with("vnet-ifdown "));
    assert!(help(Tool::Ifup).contains("script="));
}
