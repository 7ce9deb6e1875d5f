//! Netlink messages as bytes: a small writer for requests whose headers
//! neli has no types for (ifaddrmsg, nfgenmsg and nf_tables attributes),
//! and a reader for the `nlmsghdr`s of any reply. The transport in
//! `mod.rs` uses the reader for every family.

/// `NLA_F_NESTED`: nf_tables insists on it for nested attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLMSG_ERROR` and `NLMSG_DONE` from include/uapi/linux/netlink.h.
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
/// `NLM_F_*` request flags.
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// On an error message: the original request was cut to its header.
const NLM_F_CAPPED: u16 = 0x100;
/// On an error message: extended-ACK attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended ACK's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// Messages being written into one datagram.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
    start: usize,
    nests: Vec<usize>,
}

impl Writer {
    /// Starts a message: the header, then the fixed family header `head`.
    pub fn begin(&mut self, ty: u16, flags: u16, seq: u32, head: &[u8]) {
        self.start = self.bytes.len();
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(&ty.to_ne_bytes());
        self.bytes
            .extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        self.bytes.extend_from_slice(&seq.to_ne_bytes());
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(head);
        self.pad();
    }

    /// Ends the message begun last, writing its length.
    pub fn end(&mut self) {
        let len = (self.bytes.len() - self.start) as u32;
        self.bytes[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    pub fn attr(&mut self, ty: u16, payload: &[u8]) {
        let len = (4 + payload.len()) as u16;
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&ty.to_ne_bytes());
        self.bytes.extend_from_slice(payload);
        self.pad();
    }

    /// A string attribute with its NUL.
    pub fn str(&mut self, ty: u16, s: &str) {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        self.attr(ty, &bytes);
    }

    /// A big-endian u32, as nf_tables wants its numbers.
    pub fn be32(&mut self, ty: u16, n: u32) {
        self.attr(ty, &n.to_be_bytes());
    }

    /// Opens a nested attribute; [`Writer::close`] ends it.
    pub fn open(&mut self, ty: u16) {
        self.nests.push(self.bytes.len());
        self.attr(ty | NLA_F_NESTED, &[]);
    }

    pub fn close(&mut self) {
        let at = self.nests.pop().expect("close() after open()");
        let len = (self.bytes.len() - at) as u16;
        self.bytes[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        self.bytes.resize(align(self.bytes.len()), 0);
    }
}

/// One message of a reply.
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// Everything after the 16-byte header.
    pub payload: &'a [u8],
}

/// The messages in one datagram; `None` ends it, also on a malformed length.
pub fn messages(mut data: &[u8]) -> impl Iterator<Item = Message<'_>> {
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(data.get(0..4)?.try_into().ok()?) as usize;
        if len < 16 || len > data.len() {
            return None;
        }
        let message = Message {
            ty: u16::from_ne_bytes([data[4], data[5]]),
            flags: u16::from_ne_bytes([data[6], data[7]]),
            seq: u32::from_ne_bytes(data[8..12].try_into().ok()?),
            payload: &data[16..len],
        };
        data = &data[align(len).min(data.len())..];
        Some(message)
    })
}

impl Message<'_> {
    /// For NLMSG_ERROR (and a dump's NLMSG_DONE): the errno (0 is an ACK)
    /// and the extended ACK's text.
    pub fn error(&self) -> (i32, Option<String>) {
        let code = self
            .payload
            .get(0..4)
            .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap_or_default()));
        if self.ty != NLMSG_ERROR || self.flags & NLM_F_ACK_TLVS == 0 {
            return (code, None);
        }
        let original = match self.flags & NLM_F_CAPPED {
            0 => self.payload.get(4..8).map_or(16, |b| {
                u32::from_ne_bytes(b.try_into().unwrap_or_default()) as usize
            }),
            _ => 16,
        };
        let tlvs = self.payload.get(4 + align(original)..).unwrap_or_default();
        let msg = attrs(tlvs)
            .find(|(ty, _)| *ty == NLMSGERR_ATTR_MSG)
            .map(|(_, v)| super::c_string(v));
        (code, msg)
    }
}

/// The attributes in `data`, as (type without flags, payload).
pub fn attrs(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = u16::from_ne_bytes(data.get(0..2)?.try_into().ok()?) as usize;
        if len < 4 || len > data.len() {
            return None;
        }
        let ty = u16::from_ne_bytes([data[2], data[3]]) & !(NLA_F_NESTED | 1 << 14);
        let payload = &data[4..len];
        data = &data[align(len).min(data.len())..];
        Some((ty, payload))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_messages_read_back() {
        let mut w = Writer::default();
        w.begin(20, NLM_F_ACK, 7, &[1, 2, 3, 4, 5]);
        w.str(1, "br0");
        w.open(2);
        w.be32(1, 0x0102_0304);
        w.close();
        w.end();
        let all: Vec<Message> = messages(&w.bytes).collect();
        assert_eq!(all.len(), 1);
        let m = &all[0];
        assert_eq!((m.ty, m.flags, m.seq), (20, NLM_F_REQUEST | NLM_F_ACK, 7));
        let attrs: Vec<(u16, &[u8])> = attrs(&m.payload[8..]).collect();
        assert_eq!(attrs[0], (1, &b"br0\0"[..]));
        assert_eq!(attrs[1].0, 2);
        let inner: Vec<(u16, &[u8])> = super::attrs(attrs[1].1).collect();
        assert_eq!(inner, vec![(1, &[1u8, 2, 3, 4][..])]);
    }

    #[test]
    fn errors_carry_the_ext_ack() {
        // An NLMSG_ERROR for a capped request, with NLMSGERR_ATTR_MSG.
        let mut w = Writer::default();
        let mut head = (-17i32).to_ne_bytes().to_vec();
        head.extend_from_slice(&[0; 16]);
        w.begin(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 3, &head);
        w.str(NLMSGERR_ATTR_MSG, "Chain exists");
        w.end();
        let m = messages(&w.bytes).next().unwrap();
        assert_eq!(m.error(), (-17, Some("Chain exists".to_owned())));
        assert!(messages(&[1, 0, 0]).next().is_none());
    }
}
