//! Exact-bytes extraction of the signed part of a v2 gateway response (PROTOCOL §2.2).
//!
//! The body is scanned once as JSON at the top level: the value of `<method>_response` (or,
//! failing that, `error_response`) is returned as the exact slice of the body that Alipay signed
//! (the object text, or a quoted ciphertext string including its quotes), together with
//! `alipay_cert_sn` and `sign`. Nothing is re-serialised and the body is not copied. Nested
//! `"sign"` keys, braces inside strings, whitespace, `\/` escapes and either order of
//! `alipay_cert_sn` and `sign` are handled because the scan follows the JSON grammar.

use std::borrow::Cow;
use std::fmt;

use crate::charset::Charset;
use crate::error::Error;
use crate::signer::{SignType, Verifier};

/// Which node the signed content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeName {
    /// `<method with . → _>_response`.
    Method,
    /// The gateway's `error_response`.
    ErrorResponse,
}

/// The shape of the node's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKind {
    /// A JSON object (a plain response).
    Object,
    /// A JSON string: an AES-encrypted response; the content includes the quotes.
    Encrypted,
}

/// The signed parts of a raw v2 response, borrowed from the body.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseParts<'a> {
    /// The exact bytes that were signed.
    pub content: &'a [u8],
    /// Byte offset of `content` in the body.
    pub offset: usize,
    /// Which node was found.
    pub node: NodeName,
    /// Object or encrypted string.
    pub kind: NodeKind,
    /// `alipay_cert_sn`, JSON-unescaped, when present.
    pub alipay_cert_sn: Option<Cow<'a, str>>,
    /// `sign`, JSON-unescaped, when present.
    pub sign: Option<Cow<'a, str>>,
}

impl fmt::Debug for ResponseParts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseParts")
            .field("content", &String::from_utf8_lossy(self.content))
            .field("offset", &self.offset)
            .field("node", &self.node)
            .field("kind", &self.kind)
            .field("alipay_cert_sn", &self.alipay_cert_sn)
            .field("has_sign", &self.sign.is_some())
            .finish()
    }
}

impl<'a> ResponseParts<'a> {
    /// The base64 ciphertext of an encrypted node (the content without its quotes).
    pub fn ciphertext(&self) -> Option<&'a str> {
        if self.kind != NodeKind::Encrypted {
            return None;
        }
        let inner = self.content.get(1..self.content.len().saturating_sub(1))?;
        std::str::from_utf8(inner).ok()
    }

    /// Verifies `sign` over the content. A missing `sign` is an error (fail closed).
    ///
    /// As the Java and PHP SDKs do, when the raw content does not verify and contains `\/`, the
    /// content with `\/` replaced by `/` is tried once more.
    pub fn verify(&self, verifier: &dyn Verifier, sign_type: SignType) -> Result<(), Error> {
        let sign = self
            .sign
            .as_deref()
            .ok_or_else(|| Error::invalid_signature("the response carries no sign"))?;
        let sig = crate::signer::decode_signature(sign)?;
        match verifier.verify(sign_type, self.content, &sig) {
            Ok(()) => Ok(()),
            Err(e) if e.is_invalid_signature() && contains_escaped_slash(self.content) => {
                let unescaped = replace_escaped_slash(self.content);
                verifier.verify(sign_type, &unescaped, &sig).map_err(|_| e)
            }
            Err(e) => Err(e),
        }
    }
}

fn contains_escaped_slash(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"\\/")
}

fn replace_escaped_slash(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'/') {
            out.push(b'/');
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The name of a method's response node: `alipay.trade.query` → `alipay_trade_query_response`.
pub fn response_node_name(method: &str) -> String {
    let mut s = method.replace('.', "_");
    s.push_str("_response");
    s
}

/// Finds the signed content of a v2 response.
///
/// ```
/// use alipay_sign::{extract_response, Charset, NodeKind};
/// let body = br#"{"alipay_trade_query_response" : {"code":"10000","sign":"x"},
///   "sign":"c2ln"}"#;
/// let parts = extract_response(body, "alipay.trade.query", Charset::Utf8)?;
/// assert_eq!(parts.content, br#"{"code":"10000","sign":"x"}"#);
/// assert_eq!(parts.kind, NodeKind::Object);
/// assert_eq!(parts.sign.as_deref(), Some("c2ln"));
/// # Ok::<(), alipay_sign::Error>(())
/// ```
pub fn extract_response<'a>(
    body: &'a [u8],
    method: &str,
    charset: Charset,
) -> Result<ResponseParts<'a>, Error> {
    extract_response_node(body, &response_node_name(method), charset)
}

/// [`extract_response`] for a node whose name is not `<method>_response`, such as the
/// `response` node of the mini-program open-data payloads (`my.getPhoneNumber`:
/// `{"response":"<ciphertext>","sign":"…"}`). `error_response` is still the fallback.
///
/// ```
/// use alipay_sign::{extract_response_node, Charset, NodeKind};
/// let body = br#"{"response":"QUJD","sign":"c2ln"}"#;
/// let parts = extract_response_node(body, "response", Charset::Utf8)?;
/// assert_eq!(parts.content, br#""QUJD""#);
/// assert_eq!(parts.kind, NodeKind::Encrypted);
/// assert_eq!(parts.ciphertext(), Some("QUJD"));
/// # Ok::<(), alipay_sign::Error>(())
/// ```
pub fn extract_response_node<'a>(
    body: &'a [u8],
    node_name: &str,
    charset: Charset,
) -> Result<ResponseParts<'a>, Error> {
    let mut s = Scanner {
        b: body,
        pos: 0,
        multibyte: charset != Charset::Utf8,
    };
    s.skip_ws();
    if s.pos == 0 && body.starts_with(&[0xef, 0xbb, 0xbf]) {
        s.pos = 3;
        s.skip_ws();
    }
    if s.peek() != Some(b'{') {
        return Err(s.error(if body.iter().all(u8::is_ascii_whitespace) {
            "the response body is empty"
        } else {
            "the response body is not a JSON object"
        }));
    }
    s.pos += 1;
    let mut method_node: Option<(usize, usize, NodeKind)> = None;
    let mut error_node: Option<(usize, usize, NodeKind)> = None;
    let mut cert_sn: Option<(usize, usize)> = None;
    let mut sign: Option<(usize, usize)> = None;
    s.skip_ws();
    if s.peek() == Some(b'}') {
        s.pos += 1;
    } else {
        loop {
            s.skip_ws();
            let (ks, ke) = s.string()?;
            let key = &body[ks + 1..ke - 1];
            s.skip_ws();
            s.expect(b':')?;
            s.skip_ws();
            let vstart = s.pos;
            let kind = match s.peek() {
                Some(b'"') => NodeKind::Encrypted,
                _ => NodeKind::Object,
            };
            s.value(0)?;
            let vend = s.pos;
            let is_object = body.get(vstart) == Some(&b'{');
            if key == node_name.as_bytes() {
                if method_node.is_some() {
                    return Err(s.error_at(
                        ks,
                        &format!("the response has the node \"{node_name}\" twice"),
                    ));
                }
                if is_object || kind == NodeKind::Encrypted {
                    method_node = Some((vstart, vend, kind));
                } else {
                    return Err(s.error_at(
                        vstart,
                        &format!("the node \"{node_name}\" is neither an object nor a string"),
                    ));
                }
            } else if key == b"error_response" {
                if error_node.is_some() {
                    return Err(s.error_at(ks, "the response has \"error_response\" twice"));
                }
                if is_object || kind == NodeKind::Encrypted {
                    error_node = Some((vstart, vend, kind));
                }
            } else if key == b"sign" {
                if sign.is_some() {
                    return Err(s.error_at(ks, "the response has \"sign\" twice"));
                }
                if kind != NodeKind::Encrypted {
                    return Err(s.error_at(vstart, "\"sign\" is not a string"));
                }
                sign = Some((vstart, vend));
            } else if key == b"alipay_cert_sn" {
                if kind == NodeKind::Encrypted {
                    cert_sn = Some((vstart, vend));
                } else if &body[vstart..vend] != b"null" {
                    return Err(s.error_at(vstart, "\"alipay_cert_sn\" is not a string"));
                }
            }
            s.skip_ws();
            match s.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(s.error_at(s.pos.saturating_sub(1), "expected ',' or '}'")),
            }
        }
    }
    s.skip_ws();
    if s.pos != body.len() {
        return Err(s.error("trailing data after the response object"));
    }
    let (node, (start, end, kind)) = match (method_node, error_node) {
        (Some(m), _) => (NodeName::Method, m),
        (None, Some(e)) => (NodeName::ErrorResponse, e),
        (None, None) => {
            return Err(Error::response(format!(
                "the response has neither \"{node_name}\" nor \"error_response\""
            )));
        }
    };
    Ok(ResponseParts {
        content: &body[start..end],
        offset: start,
        node,
        kind,
        alipay_cert_sn: cert_sn
            .map(|(a, b)| unescape(&body[a + 1..b - 1]))
            .transpose()?,
        sign: sign
            .map(|(a, b)| unescape(&body[a + 1..b - 1]))
            .transpose()?,
    })
}

/// JSON-unescapes the inside of a string (the protocol strings here are ASCII).
fn unescape(raw: &[u8]) -> Result<Cow<'_, str>, Error> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| Error::response("a sign or certificate SN is not valid UTF-8"))?;
    if !text.contains('\\') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('/') => out.push('/'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let cp = u32::from_str_radix(&hex, 16)
                    .map_err(|_| Error::response("bad \\u escape in a sign or SN"))?;
                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
            }
            _ => return Err(Error::response("bad escape in a sign or SN")),
        }
    }
    Ok(Cow::Owned(out))
}

/// Nesting limit for JSON values, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
    /// GBK/GB18030: a byte ≥ 0x81 inside a string starts a multi-byte character whose trail
    /// byte may be `\` (0x5C); it must not be read as an escape.
    multibyte: bool,
}

impl Scanner<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error(&self, what: &str) -> Error {
        self.error_at(self.pos, what)
    }

    fn error_at(&self, at: usize, what: &str) -> Error {
        Error::response(format!("{what} (at byte {at} of the response body)"))
    }

    #[inline]
    fn expect(&mut self, c: u8) -> Result<(), Error> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", char::from(c))))
        }
    }

    /// Scans a string; returns (start, end) including the quotes.
    fn string(&mut self) -> Result<(usize, usize), Error> {
        let start = self.pos;
        self.expect(b'"')?;
        let multibyte = self.multibyte;
        loop {
            // Skip ordinary bytes in one pass; stop at anything the grammar cares about.
            let rest = self.b.get(self.pos..).unwrap_or_default();
            self.pos += string_stop(rest, multibyte);
            match self.next() {
                None => return Err(self.error_at(start, "unterminated string")),
                Some(b'"') => return Ok((start, self.pos)),
                Some(b'\\') => {
                    if self.next().is_none() {
                        return Err(self.error_at(start, "unterminated string"));
                    }
                }
                Some(c) if self.multibyte && c >= 0x81 => {
                    // lead byte of a GBK/GB18030 character: skip its trail byte too
                    if self.next().is_none() {
                        return Err(self.error_at(start, "unterminated string"));
                    }
                }
                Some(c) if c < 0x20 => {
                    return Err(self.error_at(self.pos - 1, "control character in a string"));
                }
                Some(_) => {}
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    self.skip_ws();
                    self.value(depth + 1)?;
                    self.skip_ws();
                    match self.next() {
                        Some(b',') => {}
                        Some(b'}') => return Ok(()),
                        _ => {
                            return Err(
                                self.error_at(self.pos.saturating_sub(1), "expected ',' or '}'")
                            );
                        }
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    self.value(depth + 1)?;
                    self.skip_ws();
                    match self.next() {
                        Some(b',') => {}
                        Some(b']') => return Ok(()),
                        _ => {
                            return Err(
                                self.error_at(self.pos.saturating_sub(1), "expected ',' or ']'")
                            );
                        }
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() || c.is_ascii_alphabetic() => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.pos += 1;
                }
                let tok = &self.b[start..self.pos];
                let ok = matches!(tok, b"true" | b"false" | b"null") || is_number(tok);
                if ok {
                    Ok(())
                } else {
                    Err(self.error_at(start, "invalid JSON literal"))
                }
            }
            None => Err(self.error("unexpected end of the response body")),
            Some(_) => Err(self.error("unexpected character")),
        }
    }
}

/// The offset in `rest` of the first byte a string scan must look at — `"`, `\\`, a control
/// byte, or with `multibyte` a byte ≥ 0x80 — or `rest.len()`. Tests eight bytes at a time (each
/// test is exact about whether the word holds such a byte), then finds the byte one by one.
#[inline]
fn string_stop(rest: &[u8], multibyte: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Non-zero exactly when some byte of `v` is below `n` (`n` ≤ 0x80): a borrow into a byte's
    /// high bit that the byte did not have. Which byte is flagged may be wrong, whether any is
    /// is not.
    const fn has_less(v: u64, n: u64) -> u64 {
        v.wrapping_sub(ONES * n) & !v & HIGH
    }
    let mut i = 0;
    for chunk in rest.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        let mut special = has_less(x ^ (ONES * u64::from(b'"')), 1)
            | has_less(x ^ (ONES * u64::from(b'\\')), 1)
            | has_less(x, 0x20);
        if multibyte {
            special |= x & HIGH;
        }
        if special != 0 {
            break;
        }
        i += 8;
    }
    let tail = rest.get(i..).unwrap_or_default();
    i + tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20 || (multibyte && c >= 0x81))
        .unwrap_or(tail.len())
}

fn is_number(t: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(t) else {
        return false;
    };
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, rest) = s.split_at(s.find(['.', 'e', 'E']).unwrap_or(s.len()));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || (int.len() > 1 && int.starts_with('0'))
    {
        return false;
    }
    let mut rest = rest;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac.find(['e', 'E']).unwrap_or(frac.len());
        if end == 0 || !frac[..end].bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        rest = &frac[end..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        return !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit());
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(body: &'a str, method: &str) -> ResponseParts<'a> {
        extract_response(body.as_bytes(), method, Charset::Utf8).unwrap()
    }

    #[test]
    fn plain_object() {
        let p = parts(
            r#"{"alipay_trade_query_response":{"code":"10000","msg":"Success"},"sign":"abc"}"#,
            "alipay.trade.query",
        );
        assert_eq!(p.content, br#"{"code":"10000","msg":"Success"}"#);
        assert_eq!(p.node, NodeName::Method);
        assert_eq!(p.sign.as_deref(), Some("abc"));
        assert_eq!(p.alipay_cert_sn, None);
    }

    #[test]
    fn cert_sn_before_and_after_sign_and_escapes() {
        let a = parts(
            r#"{"m_response":{"a":"}"},"alipay_cert_sn":"sn1","sign":"a\/b"}"#,
            "m",
        );
        assert_eq!(a.content, br#"{"a":"}"}"#);
        assert_eq!(a.alipay_cert_sn.as_deref(), Some("sn1"));
        assert_eq!(a.sign.as_deref(), Some("a/b"));
        let b = parts(
            r#"{"sign":"s","alipay_cert_sn":"sn2","m_response":{"x":[1,{"sign":"\"{"}]}}"#,
            "m",
        );
        assert_eq!(b.content, br#"{"x":[1,{"sign":"\"{"}]}"#);
        assert_eq!(b.alipay_cert_sn.as_deref(), Some("sn2"));
    }

    #[test]
    fn encrypted_string_node_includes_quotes() {
        let p = parts(r#"{"m_response":"QUJD","sign":"s"}"#, "m");
        assert_eq!(p.content, br#""QUJD""#);
        assert_eq!(p.kind, NodeKind::Encrypted);
        assert_eq!(p.ciphertext(), Some("QUJD"));
    }

    #[test]
    fn error_response_fallback_and_missing_node() {
        let p = parts(
            r#"{"error_response":{"code":"40002","msg":"Invalid Arguments"}}"#,
            "alipay.trade.query",
        );
        assert_eq!(p.node, NodeName::ErrorResponse);
        assert_eq!(p.sign, None);
        let err = extract_response(br#"{"other":1}"#, "m", Charset::Utf8).unwrap_err();
        assert!(err.is_response());
        assert_eq!(
            err.to_string(),
            "the response has neither \"m_response\" nor \"error_response\""
        );
    }

    #[test]
    fn gbk_trail_byte_backslash_is_not_an_escape() {
        // 0x81 0x5C is a GBK character whose trail byte is '\'.
        let mut body = br#"{"m_response":{"a":""#.to_vec();
        body.extend_from_slice(&[0x81, 0x5c]);
        body.extend_from_slice(br#""},"sign":"s"}"#);
        let p = extract_response(&body, "m", Charset::Gbk).unwrap();
        assert_eq!(p.content.len(), 10);
        assert!(extract_response(&body, "m", Charset::Utf8).is_err());
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            "",
            "   ",
            "[]",
            "{",
            r#"{"m_response""#,
            r#"{"m_response":{"#,
            r#"{"m_response":{}"#,
            r#"{"m_response":{},}"#,
            r#"{"m_response":{}} x"#,
            r#"{"m_response":{},"m_response":{}}"#,
            r#"{"m_response":1}"#,
            r#"{"m_response":{},"sign":1}"#,
            r#"{"m_response":{"a":tru}}"#,
            r#"{"m_response":{"a":01}}"#,
            r#"{"m_response":{"a":"b}}"#,
            r#"{"m_response":{"a":[}}"#,
            "{\"m_response\":{\"a\":\"raw control \u{1}\"}}",
            r#"{"m_response":{"a":1]}"#,
            "<html>502</html>",
        ] {
            assert!(
                extract_response(body.as_bytes(), "m", Charset::Utf8).is_err(),
                "{body}"
            );
        }
        let deep = format!("{{\"m_response\":{}{}}}", "[".repeat(500), "]".repeat(500));
        assert!(extract_response(deep.as_bytes(), "m", Charset::Utf8).is_err());
    }

    #[test]
    fn string_stop_agrees_with_a_byte_by_byte_scan() {
        let naive = |rest: &[u8], multibyte: bool| {
            rest.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20 || (multibyte && c >= 0x81))
                .unwrap_or(rest.len())
        };
        // Every stop byte (and the bytes around the thresholds) at every offset of a 19-byte
        // run of ordinary bytes, with high bytes before it in half the cases.
        for special in [
            b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x5b, 0x7f, 0x80, 0x81, 0xfe, 0xff,
        ] {
            for at in 0..19 {
                for lead in [&b""[..], "中".as_bytes()] {
                    let mut buf = lead.to_vec();
                    buf.extend(std::iter::repeat_n(b'a', 19));
                    buf[lead.len() + at] = special;
                    for multibyte in [false, true] {
                        assert_eq!(
                            string_stop(&buf, multibyte),
                            naive(&buf, multibyte),
                            "{special:#04x} at {at}, lead {lead:?}, multibyte {multibyte}"
                        );
                    }
                }
            }
        }
        assert_eq!(string_stop(b"", false), 0);
        assert_eq!(string_stop(b"abcdefghijklmnop", false), 16);
    }
}
