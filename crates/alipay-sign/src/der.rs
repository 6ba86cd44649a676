//! A small, strict DER reader: just enough ASN.1 to recognise RSA keys and read X.509
//! certificates while keeping the exact bytes of every element.
//!
//! Every read is bounds-checked and returns a [`DerError`] that says what was expected and at
//! which offset; nothing here can panic on hostile input.

use std::fmt;

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0c;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_T61_STRING: u8 = 0x14;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_UNIVERSAL_STRING: u8 = 0x1c;
pub(crate) const TAG_BMP_STRING: u8 = 0x1e;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;

/// What went wrong while reading DER, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DerError {
    pub(crate) offset: usize,
    pub(crate) what: &'static str,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

/// One element: its tag, its content, and the whole encoding (header included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) raw: &'a [u8],
    /// Offset of `raw` in the outermost input, for error messages.
    pub(crate) offset: usize,
}

impl<'a> Tlv<'a> {
    /// A reader over the content of this (constructed) element.
    pub(crate) fn reader(&self) -> Reader<'a> {
        Reader {
            input: self.content,
            pos: 0,
            base: self.offset + (self.raw.len() - self.content.len()),
        }
    }
}

/// A cursor over a sequence of DER elements.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader {
            input,
            pos: 0,
            base: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn err(&self, at: usize, what: &'static str) -> DerError {
        DerError {
            offset: self.base + at,
            what,
        }
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Reads the next element of any tag.
    pub(crate) fn read_any(&mut self) -> Result<Tlv<'a>, DerError> {
        let start = self.pos;
        let tag = *self
            .input
            .get(start)
            .ok_or_else(|| self.err(start, "unexpected end of DER data"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.err(start, "unsupported high-tag-number DER element"));
        }
        let first = *self
            .input
            .get(start + 1)
            .ok_or_else(|| self.err(start + 1, "unexpected end of DER length"))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2usize)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(self.err(start + 1, "unsupported DER length encoding"));
            }
            let bytes = self
                .input
                .get(start + 2..start + 2 + n)
                .ok_or_else(|| self.err(start + 2, "unexpected end of DER length"))?;
            if bytes[0] == 0 {
                return Err(self.err(start + 2, "non-minimal DER length"));
            }
            let mut len = 0usize;
            for b in bytes {
                len = (len << 8) | usize::from(*b);
            }
            if len < 0x80 {
                return Err(self.err(start + 1, "non-minimal DER length"));
            }
            (len, 2 + n)
        };
        let end = start
            .checked_add(header)
            .and_then(|v| v.checked_add(len))
            .ok_or_else(|| self.err(start, "DER length overflows"))?;
        if end > self.input.len() {
            return Err(self.err(start, "DER element runs past the end of its container"));
        }
        self.pos = end;
        Ok(Tlv {
            tag,
            content: &self.input[start + header..end],
            raw: &self.input[start..end],
            offset: self.base + start,
        })
    }

    /// Reads the next element and checks its tag.
    pub(crate) fn read(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, DerError> {
        let at = self.pos;
        match self.read_any() {
            Ok(tlv) if tlv.tag == tag => Ok(tlv),
            Ok(_) => Err(self.err(at, what)),
            Err(e) => Err(e),
        }
    }

    /// Reads an element if the next tag is `tag`.
    pub(crate) fn read_optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.read_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), DerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(self.pos, what))
        }
    }
}

/// Parses `input` as exactly one element with the given tag.
pub(crate) fn parse_single<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<Tlv<'a>, DerError> {
    let mut r = Reader::new(input);
    let tlv = r.read(tag, what)?;
    r.finish("trailing bytes after the DER structure")?;
    Ok(tlv)
}

/// The magnitude bytes of a non-negative INTEGER, without leading zeros.
pub(crate) fn unsigned_integer<'a>(tlv: &Tlv<'a>) -> Result<&'a [u8], DerError> {
    let c = tlv.content;
    if c.is_empty() {
        return Err(DerError {
            offset: tlv.offset,
            what: "empty INTEGER",
        });
    }
    if c[0] & 0x80 != 0 {
        return Err(DerError {
            offset: tlv.offset,
            what: "negative INTEGER where a positive one is required",
        });
    }
    let mut s = c;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    Ok(s)
}

/// Number of significant bits of a big-endian unsigned magnitude.
pub(crate) fn bit_length(magnitude: &[u8]) -> usize {
    let mut s = magnitude;
    while let Some((&0, rest)) = s.split_first() {
        s = rest;
    }
    match s.first() {
        None => 0,
        Some(&b) => (s.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
    }
}

/// Dotted text of an OBJECT IDENTIFIER's content.
pub(crate) fn oid_to_string(content: &[u8]) -> Option<String> {
    if content.is_empty() {
        return None;
    }
    let mut arcs: Vec<u128> = Vec::new();
    let mut value: u128 = 0;
    let mut in_arc = false;
    for &b in content {
        if value > (u128::MAX >> 7) {
            return None;
        }
        value = (value << 7) | u128::from(b & 0x7f);
        in_arc = true;
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
            in_arc = false;
        }
    }
    if in_arc {
        return None;
    }
    let first = arcs.first().copied()?;
    let (a, b) = if first < 40 {
        (0, first)
    } else if first < 80 {
        (1, first - 40)
    } else {
        (2, first - 80)
    };
    let mut out = format!("{a}.{b}");
    for arc in &arcs[1..] {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

/// Writes a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let n = bytes.len() - skip;
        out.push(0x80 | u8::try_from(n).unwrap_or(0));
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encodes one element.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// DER of the rsaEncryption AlgorithmIdentifier: SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }.
pub(crate) const RSA_ALGORITHM_ID: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// Content bytes of the rsaEncryption OID.
pub(crate) const RSA_ENCRYPTION_OID: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_and_keeps_raw_bytes() {
        let data = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let seq = parse_single(&data, TAG_SEQUENCE, "seq").unwrap();
        let mut r = seq.reader();
        let int = r.read(TAG_INTEGER, "int").unwrap();
        assert_eq!(int.raw, &[0x02, 0x01, 0x05]);
        assert_eq!(unsigned_integer(&int).unwrap(), &[5]);
        let oct = r.read(TAG_OCTET_STRING, "oct").unwrap();
        assert_eq!(oct.content, &[0xaa]);
        assert_eq!(oct.offset, 5);
        r.finish("rest").unwrap();
    }

    #[test]
    fn rejects_truncated_and_overlong_input() {
        assert_eq!(
            parse_single(&[0x30, 0x05, 0x02], TAG_SEQUENCE, "s")
                .unwrap_err()
                .what,
            "DER element runs past the end of its container"
        );
        assert_eq!(
            parse_single(&[0x30, 0x81, 0x05], TAG_SEQUENCE, "s")
                .unwrap_err()
                .what,
            "non-minimal DER length"
        );
        assert_eq!(
            parse_single(&[0x30, 0x00, 0x00], TAG_SEQUENCE, "s")
                .unwrap_err()
                .what,
            "trailing bytes after the DER structure"
        );
        assert!(parse_single(&[], TAG_SEQUENCE, "s").is_err());
        assert!(parse_single(&[0x30, 0x85, 1, 1, 1, 1, 1], TAG_SEQUENCE, "s").is_err());
    }

    #[test]
    fn oid_text_and_bit_length() {
        assert_eq!(
            oid_to_string(RSA_ENCRYPTION_OID).unwrap(),
            "1.2.840.113549.1.1.1"
        );
        assert_eq!(oid_to_string(&[0x55, 0x04, 0x03]).unwrap(), "2.5.4.3");
        assert_eq!(oid_to_string(&[0x81]), None);
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn encodes_long_lengths() {
        let content = vec![7u8; 300];
        let enc = encode(TAG_OCTET_STRING, &content);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let back = parse_single(&enc, TAG_OCTET_STRING, "o").unwrap();
        assert_eq!(back.content.len(), 300);
    }
}
