//! Small encoders: HTML attribute escaping, form encoding in a charset, v3 request targets,
//! random identifiers.

use std::borrow::Cow;

use alipay_sign::Charset;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Escapes text for an HTML attribute value (double- or single-quoted) or element text:
/// `&` `<` `>` `"` `'`.
pub fn html_escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `application/x-www-form-urlencoded` of `pairs` (space as `+`), with the bytes of `charset`.
/// The text must already be known to be encodable (it was signed in that charset).
pub(crate) fn form_encode<'a, I>(pairs: I, charset: Charset) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let bytes =
        |s: &'a str| -> Cow<'a, [u8]> { charset.encode(s).unwrap_or(Cow::Borrowed(s.as_bytes())) };
    let mut out = String::new();
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(form_urlencoded::byte_serialize(&bytes(k)));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(&bytes(v)));
    }
    out
}

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (UTF-8).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters kept in a path given by the caller: unreserved plus `/` and already-encoded `%`.
const PATH_KEEP: &AsciiSet = &UNRESERVED.remove(b'/').remove(b'%');

/// A v3 request target: the path (characters outside RFC 3986 unreserved, `/` and `%` encoded)
/// and the query (`name=value` pairs, each percent-encoded, space as `%20`).
pub(crate) fn v3_target(path: &str, query: &[(String, String)]) -> String {
    let mut target: String = percent_encoding::utf8_percent_encode(path, PATH_KEEP).collect();
    for (i, (name, value)) in query.iter().enumerate() {
        target.push(if i == 0 { '?' } else { '&' });
        target.extend(percent_encoding::utf8_percent_encode(name, UNRESERVED));
        target.push('=');
        target.extend(percent_encoding::utf8_percent_encode(value, UNRESERVED));
    }
    target
}

/// 32 lowercase hex characters from the operating system's random source (v3 nonces, request
/// ids, multipart boundaries).
pub(crate) fn random_hex() -> String {
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the address of a stack value and a counter; nonces
        // only need to be unique, not secret.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addr = std::ptr::addr_of!(buf) as usize as u64;
        buf[..8].copy_from_slice(&n.to_le_bytes());
        buf[8..].copy_from_slice(&addr.to_le_bytes());
    }
    let mut s = String::with_capacity(32);
    for b in buf {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A uniformly random `u64` (retry jitter); 0 when the OS has no randomness.
pub(crate) fn random_u64() -> u64 {
    getrandom::u64().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_attribute_metacharacter() {
        assert_eq!(
            html_escape(r#"{"a":"<b>&'c'"}"#),
            "{&quot;a&quot;:&quot;&lt;b&gt;&amp;&#39;c&#39;&quot;}"
        );
        assert!(matches!(html_escape("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn form_encoding_in_utf8_and_gbk() {
        assert_eq!(
            form_encode(
                [("timestamp", "2024-01-01 00:00:00"), ("s", "中/+&=")],
                Charset::Utf8
            ),
            "timestamp=2024-01-01+00%3A00%3A00&s=%E4%B8%AD%2F%2B%26%3D"
        );
        assert_eq!(form_encode([("s", "中")], Charset::Gbk), "s=%D6%D0");
    }

    #[test]
    fn v3_targets() {
        assert_eq!(
            v3_target(
                "/v3/alipay/data/dataservice/bill/downloadurl/query",
                &[
                    ("bill_type".into(), "trade".into()),
                    ("bill_date".into(), "2016-04-05".into())
                ]
            ),
            "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2016-04-05"
        );
        assert_eq!(
            v3_target("/v3/x/a b/%2F", &[("q".into(), "a b+中".into())]),
            "/v3/x/a%20b/%2F?q=a%20b%2B%E4%B8%AD"
        );
    }

    #[test]
    fn random_hex_is_32_hex_chars_and_varies() {
        let a = random_hex();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex());
    }
}
