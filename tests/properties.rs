//! Properties of the pure parsers over arbitrary input: they never panic,
//! and nothing they accept can name an interface the kernel would not.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use proptest::prelude::*;
use vnet::config::Config;
use vnet::glob::Glob;
use vnet::name::IfName;

/// Lines that look like configuration, to reach past the first error.
fn config_line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "bridge",
        "mtu",
        "mac",
        "pvid",
        "tagged",
        "isolated",
        "cost",
        "priority",
        "create-bridge",
        "allow",
        "deny",
        "brige",
        "",
    ]);
    let value = "[ -~]{0,20}";
    prop_oneof![
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        "[ -~]{0,20}".prop_map(|g| format!("[match {g}]")),
        "[ -~]{0,20}".prop_map(|g| format!("[access {g}]")),
        "[ -~]{0,30}",
        "#[ -~]{0,30}",
    ]
}

proptest! {
    #[test]
    fn names_are_never_longer_than_15_bytes(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(name) = IfName::from_os(OsStr::from_bytes(&bytes)) {
            let s = name.as_str();
            prop_assert!((1..=15).contains(&s.len()));
            prop_assert!(s != "." && s != "..");
            prop_assert!(!s.bytes().any(|b| matches!(b, b'/' | b':' | 0 | b'\t'..=b'\r' | b' ' | 0xa0)));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Config::parse("fuzz.conf", &bytes);
    }

    #[test]
    fn configs_resolve_to_valid_bridges(lines in prop::collection::vec(config_line(), 0..12), tap in "[a-z0-9*?.-]{1,15}") {
        let text = lines.join("\n");
        if let (Ok(config), Ok(tap)) = (Config::parse("fuzz.conf", text.as_bytes()), IfName::new(&tap)) {
            if let Ok(resolved) = config.resolve(&tap, None) {
                prop_assert!(IfName::new(resolved.bridge.value.as_str()).is_ok());
                prop_assert!(resolved.bridge.value.as_str().len() <= 15);
                let _ = resolved.rows();
            }
        }
    }

    #[test]
    fn globs_never_panic(pattern in "[ -~]{0,24}", text in "[ -~]{0,24}") {
        if let Ok(glob) = Glob::new(&pattern) {
            let _ = glob.matches(&text);
        }
    }
}
