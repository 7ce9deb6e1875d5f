//! Properties of the bridge-helper argument parser over arbitrary argv:
//! it never panics; what it accepts names a valid bridge and a descriptor
//! above 2, with each option given exactly once; QEMU's and libvirt's
//! forms parse to what they say in any order.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use proptest::prelude::*;
use vnet::bridge_helper::{parse, Mode};
use vnet::name::IfName;

/// Arguments that look like the protocol's, to get past the first error.
fn argument() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"--use-vnet".to_vec()),
        Just(b"--check".to_vec()),
        "[0-9+-]{0,12}".prop_map(|fd| format!("--fd={fd}").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(|b| [b"--br=".to_vec(), b].concat()),
        "[ -~]{0,20}".prop_map(|b| format!("--br={b}").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..20),
    ]
}

fn count(args: &[Vec<u8>], f: impl Fn(&[u8]) -> bool) -> usize {
    args.iter().filter(|a| f(a)).count()
}

proptest! {
    #[test]
    fn accepted_means_each_option_once_a_valid_bridge_and_a_safe_fd(
        args in prop::collection::vec(argument(), 0..6)
    ) {
        let argv: Vec<OsString> = args.iter().cloned().map(OsString::from_vec).collect();
        if let Ok(parsed) = parse(&argv) {
            let br = count(&args, |a| a.starts_with(b"--br="));
            let fd = count(&args, |a| a.starts_with(b"--fd="));
            let vnet = count(&args, |a| a == b"--use-vnet");
            let check = count(&args, |a| a == b"--check");
            prop_assert_eq!(args.len(), br + fd + vnet + check, "nothing else");
            prop_assert_eq!(br, 1);
            prop_assert!(vnet <= 1 && check <= 1);
            prop_assert_eq!(parsed.use_vnet, vnet == 1);
            prop_assert!(IfName::new(parsed.bridge.as_str()).is_ok());
            match parsed.mode {
                Mode::Send { fd: n } => {
                    prop_assert_eq!((fd, check), (1, 0));
                    prop_assert!(n > 2);
                    let given = args.iter().find(|a| a.starts_with(b"--fd=")).unwrap();
                    let shown = n.to_string();
                    prop_assert_eq!(&given[5..], shown.as_bytes());
                }
                Mode::Check => prop_assert_eq!((fd, check), (0, 1)),
            }
        }
    }

    #[test]
    fn qemus_and_libvirts_forms_parse_in_any_order(
        bridge in "[a-z][a-z0-9_.-]{0,14}",
        fd in 3..=i32::MAX,
        use_vnet in any::<bool>(),
        order in Just(vec![0usize, 1, 2]).prop_shuffle(),
    ) {
        let options = [
            format!("--br={bridge}"),
            format!("--fd={fd}"),
            "--use-vnet".to_owned(),
        ];
        let argv: Vec<OsString> = order
            .iter()
            .filter(|&&i| use_vnet || i != 2)
            .map(|&i| OsString::from(&options[i]))
            .collect();
        let parsed = parse(&argv).unwrap();
        prop_assert_eq!(parsed.bridge.as_str(), bridge.as_str());
        prop_assert_eq!(parsed.mode, Mode::Send { fd });
        prop_assert_eq!(parsed.use_vnet, use_vnet);
        let mut twice = argv.clone();
        twice.push(argv[0].clone());
        prop_assert!(parse(&twice).is_err(), "an option given twice");
    }
}
