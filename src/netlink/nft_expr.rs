//! nf_tables rule expressions, encoded as `nft --debug=netlink` shows nft
//! itself encoding the same rule text (nftables 1.0.6): a match is
//! `payload` (+ `bitwise` for a prefix that is not whole bytes) + `cmp`, an
//! inet-family rule checks `meta nfproto` before its first address match,
//! interface names are compared as 16 bytes (IFNAMSIZ).

use super::wire::Writer;

// From include/uapi/linux/netfilter/nf_tables.h.
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFT_META_NFPROTO: u32 = 15;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_CT_STATE: u32 = 0;
/// `NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)`.
const CT_ESTABLISHED_RELATED: u32 = 2 | 4;
const NF_ACCEPT: u32 = 1;
/// `NFT_RETURN`, -5.
const NFT_RETURN: u32 = -5i32 as u32;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
const IFNAMSIZ: usize = 16;

/// One match or statement of a vnet rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `iifname "NAME"`
    Iifname(String),
    /// `oifname "NAME"`
    Oifname(String),
    /// `ip saddr 10.77.0.0/24`, `ip6 daddr != fd00::/64`: `net` is the
    /// network's 4 or 16 bytes.
    Addr {
        source: bool,
        net: Vec<u8>,
        prefix: u8,
        equal: bool,
    },
    /// `ct state established,related`
    Established,
    Accept,
    Return,
    Masquerade,
}

/// Writes `exprs` as NFTA_RULE_EXPRESSIONS' list elements.
pub(super) fn write(w: &mut Writer, exprs: &[Expr]) {
    let mut proto = None;
    for e in exprs {
        match e {
            Expr::Iifname(name) | Expr::Oifname(name) => {
                let key = match e {
                    Expr::Iifname(_) => NFT_META_IIFNAME,
                    _ => NFT_META_OIFNAME,
                };
                meta(w, key);
                let mut padded = name.as_bytes().to_vec();
                padded.resize(IFNAMSIZ, 0);
                cmp(w, NFT_CMP_EQ, &padded);
            }
            Expr::Addr {
                source,
                net,
                prefix,
                equal,
            } => {
                let v6 = net.len() == 16;
                let family = if v6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 };
                if proto != Some(family) {
                    meta(w, NFT_META_NFPROTO);
                    cmp(w, NFT_CMP_EQ, &[family]);
                    proto = Some(family);
                }
                let offset = match (v6, source) {
                    (false, true) => 12,
                    (false, false) => 16,
                    (true, true) => 8,
                    (true, false) => 24,
                };
                let op = if *equal { NFT_CMP_EQ } else { NFT_CMP_NEQ };
                let whole = usize::from(*prefix / 8);
                if prefix % 8 == 0 {
                    payload(w, offset, whole);
                    cmp(w, op, &net[..whole]);
                } else {
                    payload(w, offset, net.len());
                    let mask = prefix_mask(net.len(), *prefix);
                    bitwise(w, &mask);
                    let masked: Vec<u8> = net.iter().zip(&mask).map(|(a, m)| a & m).collect();
                    cmp(w, op, &masked);
                }
            }
            Expr::Established => {
                expr(w, "ct", |w| {
                    w.be32(2, NFT_CT_STATE);
                    w.be32(1, NFT_REG_1);
                });
                bitwise(w, &CT_ESTABLISHED_RELATED.to_ne_bytes());
                cmp(w, NFT_CMP_NEQ, &[0; 4]);
            }
            Expr::Accept => verdict(w, NF_ACCEPT),
            Expr::Return => verdict(w, NFT_RETURN),
            Expr::Masquerade => {
                w.open(NFTA_LIST_ELEM);
                w.str(NFTA_EXPR_NAME, "masq");
                w.close();
            }
        }
    }
}

/// One list element: the expression's name and its attributes.
fn expr(w: &mut Writer, name: &str, data: impl FnOnce(&mut Writer)) {
    w.open(NFTA_LIST_ELEM);
    w.str(NFTA_EXPR_NAME, name);
    w.open(NFTA_EXPR_DATA);
    data(w);
    w.close();
    w.close();
}

fn meta(w: &mut Writer, key: u32) {
    expr(w, "meta", |w| {
        w.be32(2, key); // NFTA_META_KEY
        w.be32(1, NFT_REG_1); // NFTA_META_DREG
    });
}

fn cmp(w: &mut Writer, op: u32, data: &[u8]) {
    expr(w, "cmp", |w| {
        w.be32(1, NFT_REG_1); // NFTA_CMP_SREG
        w.be32(2, op); // NFTA_CMP_OP
        value(w, 3, data); // NFTA_CMP_DATA
    });
}

fn payload(w: &mut Writer, offset: u32, len: usize) {
    expr(w, "payload", |w| {
        w.be32(1, NFT_REG_1); // NFTA_PAYLOAD_DREG
        w.be32(2, NFT_PAYLOAD_NETWORK_HEADER); // NFTA_PAYLOAD_BASE
        w.be32(3, offset); // NFTA_PAYLOAD_OFFSET
        w.be32(4, len as u32); // NFTA_PAYLOAD_LEN
    });
}

/// `reg 1 = (reg 1 & mask) ^ 0`.
fn bitwise(w: &mut Writer, mask: &[u8]) {
    expr(w, "bitwise", |w| {
        w.be32(1, NFT_REG_1); // NFTA_BITWISE_SREG
        w.be32(2, NFT_REG_1); // NFTA_BITWISE_DREG
        w.be32(3, mask.len() as u32); // NFTA_BITWISE_LEN
        value(w, 4, mask); // NFTA_BITWISE_MASK
        value(w, 5, &vec![0; mask.len()]); // NFTA_BITWISE_XOR
    });
}

fn verdict(w: &mut Writer, code: u32) {
    expr(w, "immediate", |w| {
        w.be32(1, NFT_REG_VERDICT); // NFTA_IMMEDIATE_DREG
        w.open(2); // NFTA_IMMEDIATE_DATA
        w.open(NFTA_DATA_VERDICT);
        w.be32(NFTA_VERDICT_CODE, code);
        w.close();
        w.close();
    });
}

fn value(w: &mut Writer, ty: u16, data: &[u8]) {
    w.open(ty);
    w.attr(NFTA_DATA_VALUE, data);
    w.close();
}

/// `len` bytes whose first `prefix` bits are set.
fn prefix_mask(len: usize, prefix: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let bits = usize::from(prefix).saturating_sub(i * 8).min(8);
            (0xff00u16 >> bits) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_cover_the_prefix() {
        assert_eq!(prefix_mask(4, 21), vec![0xff, 0xff, 0xf8, 0]);
        assert_eq!(prefix_mask(4, 0), vec![0; 4]);
        assert_eq!(prefix_mask(4, 32), vec![0xff; 4]);
    }

    #[test]
    fn a_masquerade_rule_is_a_list_of_elements() {
        let mut w = Writer::default();
        let net = vec![10, 77, 0, 0];
        let rule = [
            Expr::Addr {
                source: true,
                net: net.clone(),
                prefix: 24,
                equal: true,
            },
            Expr::Addr {
                source: false,
                net,
                prefix: 24,
                equal: false,
            },
            Expr::Masquerade,
        ];
        write(&mut w, &rule);
        let names: Vec<String> = super::super::wire::attrs(&w.bytes)
            .map(|(_, elem)| {
                let (_, name) = super::super::wire::attrs(elem).next().unwrap();
                super::super::c_string(name)
            })
            .collect();
        // meta nfproto, cmp, payload 3b @12, cmp, payload 3b @16, cmp neq, masq
        let expected = ["meta", "cmp", "payload", "cmp", "payload", "cmp", "masq"];
        assert_eq!(names, expected);
    }
}
