//! Addresses in CIDR form, `10.77.0.1/24` or `fd00:77::1/64`, and the
//! subnet arithmetic networks need.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// An address with its prefix length: `10.77.0.1/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let bad = || format!("\"{text}\" is not an address in CIDR form, like 10.77.0.1/24");
        let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix.parse::<u8>() {
            Ok(p) if p <= max && prefix.bytes().all(|b| b.is_ascii_digit()) => p,
            _ => return Err(bad()),
        };
        Ok(Cidr { addr, prefix })
    }

    /// The address as bytes, 4 or 16 of them.
    pub fn bytes(&self) -> Vec<u8> {
        match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        }
    }

    fn bits(&self) -> u128 {
        match self.addr {
            IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn mask(prefix: u8) -> u128 {
        u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
    }

    /// The network part: `10.77.0.0/24` for `10.77.0.1/24`.
    pub fn network(&self) -> Cidr {
        let bits = self.bits() & Self::mask(self.prefix);
        let addr = match self.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from((bits >> 96) as u32)),
            IpAddr::V6(_) => IpAddr::V6(bits.into()),
        };
        Cidr { addr, ..*self }
    }

    /// Whether `addr` lies in this subnet.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let other = Cidr { addr, prefix: 0 };
        addr.is_ipv4() == self.addr.is_ipv4()
            && (other.bits() ^ self.bits()) & Self::mask(self.prefix) == 0
    }

    /// Whether the two subnets share an address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        let shorter = self.prefix.min(other.prefix);
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && (self.bits() ^ other.bits()) & Self::mask(shorter) == 0
    }

    /// The IPv4 broadcast address of the subnet.
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        let IpAddr::V4(a) = self.addr else {
            return None;
        };
        let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
        Some(Ipv4Addr::from(u32::from(a) | host))
    }

    /// The IPv4 netmask, `255.255.255.0` for a /24.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(
            u32::MAX
                .checked_shl(32 - u32::from(self.prefix))
                .unwrap_or(0),
        )
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}
