//! The key table: every key's name, type, default and parser, in one
//! place. A new key is one line in `keys!` below.

use super::values::{
    opt_bool, opt_cost, opt_priority, opt_vid, opt_vlans, parse_bool, parse_name, Mac, Mtu, Show,
    Vlans,
};
use super::{ConfigError, Decided, Origin, Problem};
use crate::name::IfName;

/// How one key's value is parsed and stored into a block's [`Settings`].
pub(super) type Store = fn(&mut Settings, &str, usize) -> Result<(), String>;

/// Words other tools use for what our keys do: a spelling suggestion
/// cannot get from "vlan" to "pvid". Each with the keys to suggest and
/// what tells them apart.
const CONCEPTS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "vlan",
            "vlans",
            "vid",
            "vlan-id",
            "vlanid",
            "access-vlan",
            "native-vlan",
            "untagged",
        ],
        "\"pvid\" or \"tagged\"",
        " pvid is the port's access VLAN, tagged the VLANs it carries tagged",
    ),
    (
        &["trunk", "allowed-vlans", "tagged-vlans"],
        "\"tagged\"",
        "",
    ),
    (&["master", "br", "bridge-name", "switch"], "\"bridge\"", ""),
    (
        &["address", "mac-address", "macaddress", "hwaddr"],
        "\"mac\"",
        " it is high or keep: the guest's address is QEMU's -device ...,mac=",
    ),
    (&["isolate", "private", "protected"], "\"isolated\"", ""),
    (&["path-cost", "stp-cost"], "\"cost\"", ""),
    (
        &["create", "createbridge", "auto-create"],
        "\"create-bridge\"",
        "",
    ),
];

pub(super) fn unknown_key(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    let concept = CONCEPTS
        .iter()
        .find(|(words, _, _)| words.contains(&lower.as_str()));
    if let Some((_, keys, why)) = concept {
        return format!("unknown key \"{key}\" (did you mean {keys}?{why})");
    }
    let near = KEYS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| edit_distance(name, &lower) <= 2);
    match near {
        Some(name) => format!("unknown key \"{key}\" (did you mean \"{name}\"?)"),
        None => format!("unknown key \"{key}\""),
    }
}

/// An unknown key in a block whose keys are `known`, with a near miss.
pub(super) fn unknown_among(key: &str, known: &[&str], block: &str) -> String {
    match known.iter().find(|name| edit_distance(name, key) <= 2) {
        Some(name) => format!("unknown key \"{key}\" in {block} (did you mean \"{name}\"?)"),
        None => format!("unknown key \"{key}\" in {block}"),
    }
}

/// Levenshtein distance, for "did you mean" on short key names.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Stores a parsed value unless the same block set the key already.
fn store<T>(slot: &mut Option<(T, usize)>, value: T, line: usize, key: &str) -> Result<(), String> {
    if let Some((_, first)) = slot {
        return Err(format!("key \"{key}\" is already set on line {first}"));
    }
    *slot = Some((value, line));
    Ok(())
}

/// Section beats global beats default, remembering which one won.
fn pick<T: Clone>(
    global: &Option<(T, usize)>,
    section: Option<(&Option<(T, usize)>, &str)>,
    path: &str,
    default: impl FnOnce() -> T,
) -> Decided<T> {
    let at = |line: usize, section: Option<&str>| Origin::Line {
        path: path.to_owned(),
        line,
        section: section.map(str::to_owned),
    };
    match (section, global) {
        (Some((Some((value, line)), glob)), _) => Decided {
            value: value.clone(),
            origin: at(*line, Some(glob)),
        },
        (_, Some((value, line))) => Decided {
            value: value.clone(),
            origin: at(*line, None),
        },
        _ => Decided {
            value: default(),
            origin: Origin::Default,
        },
    }
}

/// Declares the key table and the two structs that follow from it, so a
/// new key is one line here and nowhere else.
macro_rules! keys {
    ($( $(#[$doc:meta])* $field:ident $name:literal : $ty:ty = $default:expr, $parse:expr; )+) => {
        /// The keys one block of the file sets (the globals, or one
        /// section), each with the line that set it.
        #[derive(Clone, Debug, Default)]
        pub(super) struct Settings {
            $( $field: Option<($ty, usize)>, )+
        }

        /// Every key's value for one tap, and where it came from.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Resolved {
            $( $(#[$doc])* pub $field: Decided<$ty>, )+
        }

        pub(super) const KEYS: &[(&str, Store)] = &[
            $( ($name, |settings, value, line| {
                let parsed = $parse(value).map_err(|e| format!("{}: {e}", $name))?;
                store(&mut settings.$field, parsed, line, $name)
            }), )+
        ];

        impl Resolved {
            pub(super) fn merge(global: &Settings, section: Option<(&Settings, &str)>, path: &str) -> Self {
                Resolved {
                    $( $field: pick(
                        &global.$field,
                        section.map(|(s, glob)| (&s.$field, glob)),
                        path,
                        || $default,
                    ), )+
                }
            }

            /// Each key's name, value and origin, in table order.
            pub fn rows(&self) -> Vec<(&'static str, String, &Origin)> {
                vec![ $( ($name, self.$field.value.show(), &self.$field.origin), )+ ]
            }
        }
    };
}

keys! {
    /// The bridge the tap joins.
    bridge "bridge": IfName = default_bridge(), parse_name;
    /// What to do with the tap's MTU.
    mtu "mtu": Mtu = Mtu::Bridge, str::parse;
    /// What to do with the tap's MAC address.
    mac "mac": Mac = Mac::High, str::parse;
    /// Access VLAN: the port's PVID and egress-untagged VLAN.
    pvid "pvid": Option<u16> = None, opt_vid;
    /// VLANs carried tagged on the port.
    tagged "tagged": Option<Vlans> = None, opt_vlans;
    /// Bridge-port flags; `None` leaves the kernel's default.
    isolated "isolated": Option<bool> = None, opt_bool;
    hairpin "hairpin": Option<bool> = None, opt_bool;
    learning "learning": Option<bool> = None, opt_bool;
    unicast_flood "unicast-flood": Option<bool> = None, opt_bool;
    multicast_flood "multicast-flood": Option<bool> = None, opt_bool;
    broadcast_flood "broadcast-flood": Option<bool> = None, opt_bool;
    /// STP path cost and port priority.
    cost "cost": Option<u32> = None, opt_cost;
    priority "priority": Option<u16> = None, opt_priority;
    /// Create the bridge, up, if it is missing.
    create_bridge "create-bridge": bool = false, parse_bool;
}

impl Resolved {
    /// Whether the policy needs a VLAN-filtering bridge.
    pub fn uses_vlans(&self) -> bool {
        self.pvid.value.is_some() || self.tagged.value.is_some()
    }

    /// Catches contradictions between keys that may come from different lines.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let (Some(pvid), Some(tagged)) = (self.pvid.value, &self.tagged.value) {
            if tagged.contains(pvid) {
                let (path, line) = match &self.tagged.origin {
                    Origin::Line { path, line, .. } => (path.clone(), Some(*line)),
                    other => (other.to_string(), None),
                };
                return Err(ConfigError {
                    path,
                    line,
                    problem: Problem::Invalid(format!(
                        "tagged: VLAN {pvid} is the pvid ({}); a VLAN is either untagged or tagged",
                        self.pvid.origin
                    )),
                });
            }
        }
        Ok(())
    }
}

fn default_bridge() -> IfName {
    IfName::new("br0").expect("\"br0\" is a valid interface name")
}
