//! The value types of the configuration keys: how each is parsed from the
//! file and shown by `--check`.

use std::fmt;
use std::str::FromStr;

use crate::name::IfName;

/// `mtu = bridge | keep | 68..=65535`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mtu {
    /// Copy the bridge's MTU, so a 1500 tap cannot pull a jumbo bridge down.
    Bridge,
    Keep,
    Fixed(u32),
}

/// `mac = high | keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mac {
    /// First octet 0xFE, so the bridge never adopts the tap's address
    /// (libvirt and qemu-bridge-helper do the same).
    High,
    Keep,
}

/// `tagged = 20 30-35`: VLAN ids as sorted, merged, inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vlans(pub Vec<(u16, u16)>);

impl Vlans {
    pub fn contains(&self, vid: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= vid && vid <= hi)
    }
}

/// How `--check` shows a value.
pub trait Show {
    fn show(&self) -> String;
}

pub fn parse_name(value: &str) -> Result<IfName, String> {
    IfName::new(value).map_err(|e| format!("\"{value}\" is not a valid interface name: {e}"))
}

/// `yes`/`no`, and the other spellings systemd accepts.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    let word = |value: &str| match value {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    };
    if let Some(on) = word(value) {
        return Ok(on);
    }
    let lower = value.to_ascii_lowercase();
    let case = match word(&lower) {
        Some(_) => format!(" (values are case-sensitive: \"{lower}\")"),
        None => String::new(),
    };
    Err(format!(
        "\"{value}\" is not yes, no, true, false, on, off, 1 or 0{case}"
    ))
}

pub fn opt_bool(value: &str) -> Result<Option<bool>, String> {
    parse_bool(value).map(Some)
}

pub fn opt_vid(value: &str) -> Result<Option<u16>, String> {
    vid(value).map(Some)
}

pub fn opt_vlans(value: &str) -> Result<Option<Vlans>, String> {
    value.parse().map(Some)
}

pub fn opt_cost(value: &str) -> Result<Option<u32>, String> {
    number(value, 1, 65535).map(Some)
}

pub fn opt_priority(value: &str) -> Result<Option<u16>, String> {
    number(value, 0, 63).map(|n| Some(n as u16))
}

/// A decimal number in `lo..=hi`; no signs, no hex, no spaces.
fn number(value: &str, lo: u32, hi: u32) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) && value.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("\"{value}\" is not a number from {lo} to {hi}")),
    }
}

fn vid(value: &str) -> Result<u16, String> {
    number(value, 1, 4094)
        .map(|n| n as u16)
        .map_err(|_| format!("\"{value}\" is not a VLAN id from 1 to 4094"))
}

impl FromStr for Vlans {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for item in value.split([' ', '\t', ',']).filter(|s| !s.is_empty()) {
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (vid(lo)?, vid(hi)?),
                None => (vid(item)?, vid(item)?),
            };
            if lo > hi {
                return Err(format!("the range \"{item}\" is backwards"));
            }
            ranges.push((lo, hi));
        }
        if ranges.is_empty() {
            return Err("no VLAN ids".into());
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::new();
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Ok(Vlans(merged))
    }
}

impl FromStr for Mtu {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "bridge" => Ok(Mtu::Bridge),
            "keep" => Ok(Mtu::Keep),
            n => number(n, 68, 65535).map(Mtu::Fixed).map_err(|_| {
                format!("\"{value}\" is not \"bridge\", \"keep\" or a number from 68 to 65535")
            }),
        }
    }
}

impl FromStr for Mac {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "high" => Ok(Mac::High),
            "keep" => Ok(Mac::Keep),
            _ => Err(format!("\"{value}\" is not \"high\" or \"keep\"")),
        }
    }
}

impl fmt::Display for Vlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            match lo == hi {
                true => write!(f, "{sep}{lo}")?,
                false => write!(f, "{sep}{lo}-{hi}")?,
            }
        }
        Ok(())
    }
}

impl Show for Mtu {
    fn show(&self) -> String {
        match self {
            Mtu::Bridge => "bridge".into(),
            Mtu::Keep => "keep".into(),
            Mtu::Fixed(n) => n.to_string(),
        }
    }
}

impl Show for Mac {
    fn show(&self) -> String {
        match self {
            Mac::High => "high".into(),
            Mac::Keep => "keep".into(),
        }
    }
}

impl Show for bool {
    fn show(&self) -> String {
        if *self { "yes" } else { "no" }.into()
    }
}

macro_rules! show_by_display {
    ($($ty:ty),+) => { $( impl Show for $ty { fn show(&self) -> String { self.to_string() } } )+ };
}
show_by_display!(IfName, Vlans, u16, u32);

impl<T: Show> Show for Option<T> {
    fn show(&self) -> String {
        self.as_ref().map_or_else(|| "unset".into(), Show::show)
    }
}
