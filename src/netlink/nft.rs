//! nf_tables over NETLINK_NETFILTER: vnet's own table `inet vnet`, its
//! chains and rules. Changes go in one batch (BATCH_BEGIN, the messages,
//! BATCH_END), which the kernel applies whole or not at all; every
//! message inside asks for an ACK, so its own error comes back to us.
//!
//! The messages are written with our own small encoder ([`super::wire`]):
//! neli has no nfgenmsg or nf_tables types, rustables is GPL-3.0, and
//! libnftnl would link C into a static binary.

use log::debug;

use super::nft_expr::{self, Expr};
use super::wire::{self, Writer, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use super::{Answer, Netlink, NetlinkError};

/// The one table vnet owns; nothing else is ever touched.
pub const TABLE: &str = "vnet";
const NFPROTO_INET: u8 = 1;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_GETCHAIN: u16 = 4;
const NFT_MSG_DELCHAIN: u16 = 5;
const NFT_MSG_NEWRULE: u16 = 6;
const NLM_F_APPEND: u16 = 0x800;
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_USE: u16 = 3;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NF_ACCEPT: u32 = 1;

/// Where a base chain hooks in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// `type nat hook postrouting priority srcnat`
    Postrouting,
    /// `type filter hook forward priority filter`
    Forward,
}

/// A base chain of vnet's table, policy accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub hook: Hook,
}

/// A rule appended to one of vnet's chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub chain: String,
    pub exprs: Vec<Expr>,
}

impl Netlink {
    /// Whether vnet's table holds chain `name`.
    pub fn nft_chain_exists(&mut self, name: &str) -> Result<bool, NetlinkError> {
        debug!("request: get chain inet {TABLE} {name}");
        let seq = self.next_seq();
        let mut w = Writer::default();
        w.begin(
            msg_type(NFT_MSG_GETCHAIN),
            0,
            seq,
            &nfgenmsg(NFPROTO_INET, 0),
        );
        w.str(NFTA_CHAIN_TABLE, TABLE);
        w.str(NFTA_CHAIN_NAME, name);
        w.end();
        match self.exchange(&w.bytes, seq..=seq, Answer::Reply) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(nix::errno::Errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// How many chains vnet's table holds; `None` if there is no table.
    pub fn nft_table_chains(&mut self) -> Result<Option<u32>, NetlinkError> {
        debug!("request: get table inet {TABLE}");
        let seq = self.next_seq();
        let mut w = Writer::default();
        w.begin(
            msg_type(NFT_MSG_GETTABLE),
            0,
            seq,
            &nfgenmsg(NFPROTO_INET, 0),
        );
        w.str(NFTA_TABLE_NAME, TABLE);
        w.end();
        match self.exchange(&w.bytes, seq..=seq, Answer::Reply) {
            Ok(replies) => Ok(Some(
                replies
                    .first()
                    .and_then(|r| wire::attrs(r.get(4..)?).find(|(ty, _)| *ty == NFTA_TABLE_USE))
                    .and_then(|(_, v)| v.try_into().ok())
                    .map_or(0, u32::from_be_bytes),
            )),
            Err(e) if e.errno() == Some(nix::errno::Errno::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One batch: vnet's table (made if missing), `chains` (which must not
    /// exist) and `rules`. The kernel applies all of it or nothing.
    pub fn nft_add(&mut self, chains: &[Chain], rules: &[Rule]) -> Result<(), NetlinkError> {
        debug!(
            "request: add {} chains, {} rules to inet {TABLE}",
            chains.len(),
            rules.len()
        );
        self.batch(|w, seq| {
            w.begin(
                msg_type(NFT_MSG_NEWTABLE),
                NLM_F_CREATE | NLM_F_ACK,
                seq(),
                &inet(),
            );
            w.str(NFTA_TABLE_NAME, TABLE);
            w.end();
            for chain in chains {
                let flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
                w.begin(msg_type(NFT_MSG_NEWCHAIN), flags, seq(), &inet());
                w.str(NFTA_CHAIN_TABLE, TABLE);
                w.str(NFTA_CHAIN_NAME, &chain.name);
                let (hook, priority, ty) = match chain.hook {
                    Hook::Postrouting => (4, 100, "nat"),
                    Hook::Forward => (2, 0, "filter"),
                };
                w.open(NFTA_CHAIN_HOOK);
                w.be32(NFTA_HOOK_HOOKNUM, hook);
                w.be32(NFTA_HOOK_PRIORITY, priority);
                w.close();
                w.be32(NFTA_CHAIN_POLICY, NF_ACCEPT);
                w.str(NFTA_CHAIN_TYPE, ty);
                w.end();
            }
            for rule in rules {
                let flags = NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK;
                w.begin(msg_type(NFT_MSG_NEWRULE), flags, seq(), &inet());
                w.str(NFTA_RULE_TABLE, TABLE);
                w.str(NFTA_RULE_CHAIN, &rule.chain);
                w.open(NFTA_RULE_EXPRESSIONS);
                nft_expr::write(w, &rule.exprs);
                w.close();
                w.end();
            }
        })
    }

    /// One batch deleting `chains` of vnet's table with their rules.
    pub fn nft_delete_chains(&mut self, chains: &[&str]) -> Result<(), NetlinkError> {
        debug!("request: delete chains {chains:?} of inet {TABLE}");
        self.batch(|w, seq| {
            for chain in chains {
                w.begin(msg_type(NFT_MSG_DELCHAIN), NLM_F_ACK, seq(), &inet());
                w.str(NFTA_CHAIN_TABLE, TABLE);
                w.str(NFTA_CHAIN_NAME, chain);
                w.end();
            }
        })
    }

    /// Deletes vnet's table (the caller has seen it hold no chains).
    pub fn nft_delete_table(&mut self) -> Result<(), NetlinkError> {
        debug!("request: delete table inet {TABLE}");
        self.batch(|w, seq| {
            w.begin(msg_type(NFT_MSG_DELTABLE), NLM_F_ACK, seq(), &inet());
            w.str(NFTA_TABLE_NAME, TABLE);
            w.end();
        })
    }

    /// Wraps the messages `body` writes in BATCH_BEGIN and BATCH_END, sends
    /// them as one datagram and waits for each message's ACK.
    fn batch(
        &mut self,
        body: impl FnOnce(&mut Writer, &mut dyn FnMut() -> u32),
    ) -> Result<(), NetlinkError> {
        let first = self.seq.wrapping_add(1);
        let mut next = first;
        let mut seq = || {
            let s = next;
            next = next.wrapping_add(1);
            s
        };
        let mut w = Writer::default();
        let batch = nfgenmsg(0, NFNL_SUBSYS_NFTABLES);
        w.begin(NFNL_MSG_BATCH_BEGIN, 0, seq(), &batch);
        w.end();
        body(&mut w, &mut seq);
        let end = seq();
        w.begin(NFNL_MSG_BATCH_END, 0, end, &batch);
        w.end();
        self.seq = end;
        let acks = end.wrapping_sub(first) as usize - 1;
        self.exchange(&w.bytes, first..=end, Answer::Acks(acks))
            .map(|_| ())
    }
}

/// nf_tables' message types: the subsystem in the high byte.
fn msg_type(cmd: u16) -> u16 {
    NFNL_SUBSYS_NFTABLES << 8 | cmd
}

/// `struct nfgenmsg`: family, NFNETLINK_V0, resource id (big-endian).
fn nfgenmsg(family: u8, res_id: u16) -> [u8; 4] {
    let r = res_id.to_be_bytes();
    [family, 0, r[0], r[1]]
}

fn inet() -> [u8; 4] {
    nfgenmsg(NFPROTO_INET, 0)
}
