//! The raw form body: split without decoding, find the signed `charset`, then percent-decode every
//! field to bytes and decode those bytes from that charset.

use std::borrow::Cow;
use std::fmt;

use alipay_sign::Charset;

use crate::error::{Error, Kind};
use crate::verify::NotifyRule;

/// The media type of a notification body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Where the charset used to decode a [`Form`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CharsetSource {
    /// The `charset` field of the form (signed; the normal case).
    Field,
    /// No `charset` field; the `charset` parameter of the `Content-Type` header.
    ContentType,
    /// Neither: UTF-8, the default of every Alipay SDK.
    Default,
}

impl CharsetSource {
    /// `field`, `content-type` or `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            CharsetSource::Field => "field",
            CharsetSource::ContentType => "content-type",
            CharsetSource::Default => "default",
        }
    }
}

impl fmt::Display for CharsetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The percent-decoded bytes of a key and its value.
type RawPair = (Box<[u8]>, Box<[u8]>);

/// One decoded field.
#[derive(Clone, PartialEq, Eq)]
struct Field {
    key: String,
    value: String,
    /// The percent-decoded bytes of the key and value when the charset is not UTF-8 (for UTF-8
    /// they are the bytes of `key` / `value`): the exact bytes Alipay signed.
    raw: Option<RawPair>,
    /// Byte offset of the field in the body.
    offset: usize,
}

impl Field {
    fn key_bytes(&self) -> &[u8] {
        match &self.raw {
            Some((k, _)) => k,
            None => self.key.as_bytes(),
        }
    }

    fn value_bytes(&self) -> &[u8] {
        match &self.raw {
            Some((_, v)) => v,
            None => self.value.as_bytes(),
        }
    }
}

/// A notification body, decoded: every field once, as text in the notification's charset.
///
/// Parsing never decodes a value twice and never guesses: the body is split on `&` and `=` while
/// still percent-encoded, the signed `charset` field is read, and only then is every key and
/// value percent-decoded (`+` is a space) to bytes and decoded from that charset. The exact bytes
/// are kept, so a signature is checked over what Alipay signed, not over a re-encoding.
///
/// ```
/// use alipay_notify::Form;
///
/// // "中文" in GBK, a literal `%` and `+`, and a space written as `+`.
/// let body = b"charset=GBK&subject=%D6%D0%CE%C4&memo=100%25+off+%2B+more";
/// let form = Form::parse(body, Some("application/x-www-form-urlencoded; charset=GBK"))?;
/// assert_eq!(form.get("subject"), Some("中文"));
/// assert_eq!(form.get("memo"), Some("100% off + more"));
/// assert_eq!(form.charset().as_str(), "GBK");
/// # Ok::<(), alipay_notify::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Form {
    fields: Vec<Field>,
    /// Indices of `fields` sorted by key bytes (the canonical order).
    order: Vec<usize>,
    charset: Charset,
    charset_source: CharsetSource,
}

struct RawField<'a> {
    key: &'a [u8],
    value: &'a [u8],
    offset: usize,
    value_offset: usize,
}

impl Form {
    /// Parses a raw notification body.
    ///
    /// `content_type` is the `Content-Type` header, if the caller has it; when given, its media
    /// type must be `application/x-www-form-urlencoded` (a JSON or multipart body is an error,
    /// not a guess). Its `charset` parameter is used only when the form has no `charset` field.
    ///
    /// Errors (never panics): [`Error::is_content_type`], [`Error::is_malformed`] (broken
    /// `%`-escape, field without `=`, empty name, duplicate field), [`Error::is_charset`]
    /// (unsupported charset, invalid bytes), each with [`Error::position`].
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Form, Error> {
        let header_charset = match content_type.map(str::trim) {
            Some(ct) if !ct.is_empty() => check_content_type(ct)?,
            _ => None,
        };
        let raw = split(body)?;

        let (charset, charset_source) = match find_charset(&raw)? {
            Some(c) => (c, CharsetSource::Field),
            None => match header_charset {
                Some(label) => (
                    charset_from_label(label).map_err(|e| e.in_field("Content-Type"))?,
                    CharsetSource::ContentType,
                ),
                None => (Charset::Utf8, CharsetSource::Default),
            },
        };

        let mut fields = Vec::with_capacity(raw.len());
        for f in &raw {
            let key_bytes = percent_decode(f.key);
            let key = decode_text(&key_bytes, f.key, f.offset, charset, None)?;
            if key.is_empty() {
                return Err(Error::new(
                    Kind::Malformed,
                    format!("empty field name at byte {}", f.offset),
                )
                .at(f.offset));
            }
            let value_bytes = percent_decode(f.value);
            let value = decode_text(&value_bytes, f.value, f.value_offset, charset, Some(&key))?;
            let raw = if charset == Charset::Utf8 {
                None
            } else {
                Some((
                    key_bytes.into_owned().into_boxed_slice(),
                    value_bytes.into_owned().into_boxed_slice(),
                ))
            };
            fields.push(Field {
                key,
                value,
                raw,
                offset: f.offset,
            });
        }

        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            fields[a]
                .key
                .as_bytes()
                .cmp(fields[b].key.as_bytes())
                .then(fields[a].offset.cmp(&fields[b].offset))
        });
        for pair in order.windows(2) {
            if let [a, b] = *pair
                && fields[a].key == fields[b].key
            {
                let second = &fields[b];
                return Err(Error::new(
                    Kind::DuplicateField,
                    format!(
                        "field `{}` appears twice (first at byte {}, again at byte {})",
                        second.key, fields[a].offset, second.offset
                    ),
                )
                .at(second.offset)
                .in_field(second.key.clone()));
            }
        }

        Ok(Form {
            fields,
            order,
            charset,
            charset_source,
        })
    }

    /// The value of `key`, decoded.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).map(|f| f.value.as_str())
    }

    /// Byte offset of field `key` in the body.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.find(key).map(|f| f.offset)
    }

    fn find(&self, key: &str) -> Option<&Field> {
        self.order
            .binary_search_by(|&i| self.fields[i].key.as_bytes().cmp(key.as_bytes()))
            .ok()
            .and_then(|i| self.order.get(i))
            .map(|&i| &self.fields[i])
    }

    /// Every field as `(key, value)`, in body order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(|f| (f.key.as_str(), f.value.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the body had no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The charset the fields were decoded from.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Where [`Form::charset`] came from.
    pub fn charset_source(&self) -> CharsetSource {
        self.charset_source
    }

    /// The string `rule` signs, as text: fields sorted by key bytes, `sign` (and for V1
    /// `sign_type`) and empty values left out, joined as raw `k=v` with `&`. `alipay_cert_sn`,
    /// when present, is included (see [`CertSnPolicy`](crate::CertSnPolicy)).
    ///
    /// ```
    /// use alipay_notify::{Form, NotifyRule};
    /// let form = Form::parse(b"b=2&sign_type=RSA2&sign=xyz&a=1&c=", None)?;
    /// assert_eq!(form.canonical_content(NotifyRule::V1), "a=1&b=2");
    /// assert_eq!(form.canonical_content(NotifyRule::V2), "a=1&b=2&sign_type=RSA2");
    /// # Ok::<(), alipay_notify::Error>(())
    /// ```
    pub fn canonical_content(&self, rule: NotifyRule) -> String {
        self.content_text(rule, true)
    }

    fn signed_fields(
        &self,
        rule: NotifyRule,
        include_cert_sn: bool,
    ) -> impl Iterator<Item = &Field> + '_ {
        self.order
            .iter()
            .map(|&i| &self.fields[i])
            .filter(move |f| {
                !f.value.is_empty()
                    && match f.key.as_str() {
                        "sign" => false,
                        "sign_type" => rule == NotifyRule::V2,
                        "alipay_cert_sn" => include_cert_sn,
                        _ => true,
                    }
            })
    }

    /// The signed bytes under `rule`, in the form's charset.
    pub(crate) fn content_bytes(&self, rule: NotifyRule, include_cert_sn: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.fields
                .iter()
                .map(|f| f.key_bytes().len() + f.value_bytes().len() + 2)
                .sum(),
        );
        for (i, f) in self.signed_fields(rule, include_cert_sn).enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            out.extend_from_slice(f.key_bytes());
            out.push(b'=');
            out.extend_from_slice(f.value_bytes());
        }
        out
    }

    /// The signed content under `rule`, as text.
    pub(crate) fn content_text(&self, rule: NotifyRule, include_cert_sn: bool) -> String {
        let mut out = String::new();
        for (i, f) in self.signed_fields(rule, include_cert_sn).enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&f.key);
            out.push('=');
            out.push_str(&f.value);
        }
        out
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("charset", &self.charset)
            .field("charset_source", &self.charset_source)
            .field(
                "fields",
                &self
                    .fields
                    .iter()
                    .map(|f| (&f.key, &f.value))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Checks the media type; returns the `charset` parameter, if any.
fn check_content_type(content_type: &str) -> Result<Option<&str>, Error> {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case(FORM_CONTENT_TYPE) {
        return Err(Error::new(
            Kind::ContentType,
            format!(
                "the Content-Type is `{}`; a notification is an `{FORM_CONTENT_TYPE}` form",
                shorten(media)
            ),
        ));
    }
    Ok(parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    }))
}

/// Splits on `&` and the first `=`, checking every `%`-escape, without decoding anything.
fn split(body: &[u8]) -> Result<Vec<RawField<'_>>, Error> {
    let mut out = Vec::with_capacity(body.iter().filter(|&&b| b == b'&').count() + 1);
    let mut offset = 0;
    for segment in body.split(|&b| b == b'&') {
        let start = offset;
        offset += segment.len() + 1;
        if segment.is_empty() {
            continue;
        }
        let Some(eq) = segment.iter().position(|&b| b == b'=') else {
            let looks_json = start == 0
                && matches!(
                    segment.iter().find(|b| !b.is_ascii_whitespace()),
                    Some(b'{' | b'[')
                );
            let message = if looks_json {
                "the body is JSON, not an application/x-www-form-urlencoded form".to_owned()
            } else {
                format!(
                    "field `{}` at byte {start} has no `=`",
                    shorten(&String::from_utf8_lossy(segment))
                )
            };
            return Err(Error::new(Kind::Malformed, message).at(start));
        };
        let (key, value) = (&segment[..eq], &segment[eq + 1..]);
        check_escapes(key, start, None)?;
        let field_name = String::from_utf8_lossy(&percent_decode(key)).into_owned();
        check_escapes(value, start + eq + 1, Some(&field_name))?;
        out.push(RawField {
            key,
            value,
            offset: start,
            value_offset: start + eq + 1,
        });
    }
    Ok(out)
}

fn check_escapes(bytes: &[u8], base: usize, field: Option<&str>) -> Result<(), Error> {
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'%' {
            continue;
        }
        let hex = bytes.get(i + 1..i + 3);
        if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            continue;
        }
        let found: String = bytes[i..bytes.len().min(i + 3)].escape_ascii().to_string();
        let place = match field {
            Some(name) => format!("in the value of `{}`", shorten(name)),
            None => "in a field name".to_owned(),
        };
        let err = Error::new(
            Kind::Malformed,
            format!(
                "broken percent-escape `{found}` at byte {} {place}: `%` must be followed by two hex digits",
                base + i
            ),
        )
        .at(base + i);
        return Err(match field {
            Some(name) => err.in_field(name),
            None => err,
        });
    }
    Ok(())
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// `%hh` to the byte, `+` to a space. Escapes were checked by [`split`]; a stray `%` is kept.
fn percent_decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1..i + 3)) {
            (b'%', Some(&[h, l])) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                out.push(hex_value(h) << 4 | hex_value(l));
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Offset in the raw (encoded) bytes of the `decoded_index`-th decoded byte.
fn raw_offset(raw: &[u8], decoded_index: usize) -> usize {
    let mut i = 0;
    for _ in 0..decoded_index {
        i += if raw.get(i) == Some(&b'%') { 3 } else { 1 };
    }
    i.min(raw.len())
}

/// The charset of the `charset` field, if the form has one.
fn find_charset(raw: &[RawField<'_>]) -> Result<Option<Charset>, Error> {
    let Some(field) = raw.iter().find(|f| &*percent_decode(f.key) == b"charset") else {
        return Ok(None);
    };
    let value = percent_decode(field.value);
    let label = std::str::from_utf8(&value).unwrap_or("");
    charset_from_label(label)
        .map(Some)
        .map_err(|e| e.at(field.value_offset).in_field("charset"))
}

/// The charsets Alipay uses: UTF-8, GBK, GB2312 (read as GBK, its superset) and GB18030.
pub(crate) fn charset_from_label(label: &str) -> Result<Charset, Error> {
    match label.trim().to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Charset::Utf8),
        "gbk" | "gb2312" => Ok(Charset::Gbk),
        "gb18030" => Ok(Charset::Gb18030),
        _ => Err(Error::new(
            Kind::Charset,
            format!(
                "unsupported charset `{}`; expected UTF-8, GBK, GB2312 or GB18030",
                shorten(label)
            ),
        )),
    }
}

fn encoding(charset: Charset) -> &'static encoding_rs::Encoding {
    match charset {
        Charset::Gbk => encoding_rs::GBK,
        Charset::Gb18030 => encoding_rs::GB18030,
        _ => encoding_rs::UTF_8,
    }
}

/// Decodes percent-decoded bytes from `charset`; a malformed sequence is an error that says
/// where it is in the body.
fn decode_text(
    bytes: &[u8],
    raw: &[u8],
    base: usize,
    charset: Charset,
    field: Option<&str>,
) -> Result<String, Error> {
    let bad_at = if charset == Charset::Utf8 {
        match std::str::from_utf8(bytes) {
            Ok(s) => return Ok(s.to_owned()),
            Err(e) => e.valid_up_to(),
        }
    } else {
        let enc = encoding(charset);
        if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
            return Ok(text.into_owned());
        }
        malformed_at(enc, bytes)
    };
    let position = base + raw_offset(raw, bad_at);
    let place = match field {
        Some(name) => format!("the value of `{}`", shorten(name)),
        None => "a field name".to_owned(),
    };
    let err = Error::new(
        Kind::Charset,
        format!(
            "{place} is not valid {} (bad byte 0x{:02X} at byte {position} of the body)",
            charset.as_str(),
            bytes.get(bad_at).copied().unwrap_or(0),
        ),
    )
    .at(position);
    Err(match field {
        Some(name) => err.in_field(name),
        None => err,
    })
}

/// Index of the first byte of the first malformed sequence of `bytes` in `enc`.
fn malformed_at(enc: &'static encoding_rs::Encoding, bytes: &[u8]) -> usize {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len().saturating_mul(4).saturating_add(16));
    let mut consumed = 0;
    loop {
        let rest = bytes.get(consumed..).unwrap_or_default();
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut out, true);
        match result {
            encoding_rs::DecoderResult::Malformed(bad, extra) => {
                return (consumed + read).saturating_sub(usize::from(bad) + usize::from(extra));
            }
            // Room for at least one more character: every round makes progress.
            encoding_rs::DecoderResult::OutputFull => {
                consumed += read;
                out.reserve(64);
            }
            encoding_rs::DecoderResult::InputEmpty => return consumed + read,
        }
    }
}

/// At most 40 characters of outside text, for messages.
fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(body: &[u8]) -> Result<Form, Error> {
        Form::parse(body, None)
    }

    #[test]
    fn decodes_once_with_plus_as_space() {
        let form = parse(b"a=1+2&b=1%2B2&c=100%25&d=x%26y%3Dz&e=k=v&f=&g=%E2%9C%93").unwrap();
        assert_eq!(form.get("a"), Some("1 2"));
        assert_eq!(form.get("b"), Some("1+2"));
        assert_eq!(form.get("c"), Some("100%"));
        assert_eq!(form.get("d"), Some("x&y=z"));
        assert_eq!(form.get("e"), Some("k=v"));
        assert_eq!(form.get("f"), Some(""));
        assert_eq!(form.get("g"), Some("✓"));
        assert_eq!(form.get("h"), None);
        assert_eq!(form.len(), 7);
        assert_eq!(form.position("b"), Some(6));
        assert_eq!(form.charset(), Charset::Utf8);
        assert_eq!(form.charset_source(), CharsetSource::Default);
        let keys: Vec<&str> = form.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "e", "f", "g"]);
    }

    #[test]
    fn empty_segments_are_skipped() {
        let form = parse(b"&a=1&&b=2&").unwrap();
        assert_eq!(form.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn broken_escapes_have_positions() {
        for (body, pos, found) in [
            (&b"a=1&b=%zz"[..], 6, "`%zz`"),
            (b"a=1&b=50%", 8, "`%`"),
            (b"a=1&b=%4", 6, "`%4`"),
            (b"a=%4g&b=1", 2, "`%4g`"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.is_malformed() && !err.is_duplicate_field(), "{err}");
            assert_eq!(err.position(), Some(pos), "{err}");
            assert!(err.to_string().contains(found), "{err}");
        }
        let err = parse(b"a=1&b=%zz").unwrap_err();
        assert_eq!(err.field(), Some("b"));
        assert_eq!(
            err.to_string(),
            "broken percent-escape `%zz` at byte 6 in the value of `b`: `%` must be followed by two hex digits"
        );
        let err = parse(b"a=1&%zz=2").unwrap_err();
        assert_eq!(err.position(), Some(4));
        assert_eq!(err.field(), None);
    }

    #[test]
    fn structure_errors() {
        let err = parse(b"a=1&novalue&b=2").unwrap_err();
        assert!(err.is_malformed());
        assert_eq!(err.position(), Some(4));
        assert_eq!(err.to_string(), "field `novalue` at byte 4 has no `=`");

        let err = parse(br#"{"notify_id":"1","sign":"x"}"#).unwrap_err();
        assert!(err.is_malformed());
        assert_eq!(err.position(), Some(0));
        assert_eq!(
            err.to_string(),
            "the body is JSON, not an application/x-www-form-urlencoded form"
        );

        let err = parse(b"a=1&=2").unwrap_err();
        assert!(err.is_malformed());
        assert_eq!(err.position(), Some(4));
    }

    #[test]
    fn duplicates_point_at_the_second() {
        let err = parse(b"sign=a&notify_id=1&sign=b").unwrap_err();
        assert!(err.is_duplicate_field() && err.is_malformed());
        assert_eq!(err.position(), Some(19));
        assert_eq!(err.field(), Some("sign"));
        assert_eq!(
            err.to_string(),
            "field `sign` appears twice (first at byte 0, again at byte 19)"
        );
        // An encoded name is the same name.
        let err = parse(b"charset=utf-8&%63harset=GBK").unwrap_err();
        assert!(err.is_duplicate_field());
        assert_eq!(err.position(), Some(14));
    }

    #[test]
    fn content_type_must_be_a_form() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "multipart/form-data; boundary=x",
            "text/plain",
        ] {
            let err = Form::parse(b"a=1", Some(ct)).unwrap_err();
            assert!(err.is_content_type(), "{ct}");
        }
        assert_eq!(
            Form::parse(b"{}", Some("application/json"))
                .unwrap_err()
                .to_string(),
            "the Content-Type is `application/json`; a notification is an `application/x-www-form-urlencoded` form"
        );
        for ct in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded;charset=UTF-8",
            "application/x-www-form-urlencoded; charset=\"utf-8\"",
            "",
        ] {
            assert!(Form::parse(b"a=1", Some(ct)).is_ok(), "{ct}");
        }
    }

    #[test]
    fn charset_field_decides() {
        // 中文 in GBK, declared by the field; the header says otherwise and is ignored.
        let form = Form::parse(
            b"subject=%D6%D0%CE%C4&charset=gbk",
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(form.get("subject"), Some("中文"));
        assert_eq!(form.charset(), Charset::Gbk);
        assert_eq!(form.charset_source(), CharsetSource::Field);
        // GB2312 is read as GBK.
        let form = parse(b"charset=GB2312&s=%D6%D0").unwrap();
        assert_eq!((form.charset(), form.get("s")), (Charset::Gbk, Some("中")));
        // GB18030-only: U+20000 (𠀀) is 0x95 0x32 0x82 0x36; € is 0xA2 0xE3.
        let form = parse(b"charset=GB18030&s=%952%826&e=%A2%E3").unwrap();
        assert_eq!(form.get("s"), Some("\u{20000}"));
        assert_eq!(form.get("e"), Some("€"));
        // No field: the header's charset, else UTF-8.
        let form = Form::parse(
            b"s=%D6%D0",
            Some("application/x-www-form-urlencoded; charset=GBK"),
        )
        .unwrap();
        assert_eq!(form.get("s"), Some("中"));
        assert_eq!(form.charset_source(), CharsetSource::ContentType);
    }

    #[test]
    fn charset_errors() {
        let err = parse(b"a=1&charset=ISO-8859-1").unwrap_err();
        assert!(err.is_charset());
        assert_eq!(err.position(), Some(12));
        assert_eq!(err.field(), Some("charset"));
        assert_eq!(
            err.to_string(),
            "unsupported charset `ISO-8859-1`; expected UTF-8, GBK, GB2312 or GB18030"
        );
        assert!(parse(b"charset=cp936").unwrap_err().is_charset());
        assert!(
            Form::parse(
                b"a=1",
                Some("application/x-www-form-urlencoded; charset=latin1")
            )
            .unwrap_err()
            .is_charset()
        );
        // GBK bytes in a body declared UTF-8: the first bad byte, in body offsets.
        let err = parse(b"charset=utf-8&subject=ok%D6%D0").unwrap_err();
        assert!(err.is_charset());
        assert_eq!(err.position(), Some(24));
        assert_eq!(err.field(), Some("subject"));
        assert_eq!(
            err.to_string(),
            "the value of `subject` is not valid utf-8 (bad byte 0xD6 at byte 24 of the body)"
        );
        // A lone GBK lead byte.
        let err = parse(b"charset=GBK&s=ab%D6").unwrap_err();
        assert!(err.is_charset());
        assert_eq!(err.position(), Some(16));
        // Raw (unescaped) bytes are decoded too.
        let err = parse(b"charset=utf-8&s=\xff").unwrap_err();
        assert_eq!(err.position(), Some(16));
    }

    #[test]
    fn exact_bytes_are_kept_for_other_charsets() {
        let form = parse(b"charset=GBK&sign=x&b=%D6%D0&a=1").unwrap();
        assert_eq!(
            form.content_bytes(NotifyRule::V1, true),
            b"a=1&b=\xd6\xd0&charset=GBK".to_vec()
        );
        assert_eq!(
            form.content_text(NotifyRule::V1, true),
            "a=1&b=中&charset=GBK"
        );
    }

    #[test]
    fn cert_sn_in_or_out() {
        let form = parse(b"b=2&alipay_cert_sn=abc&a=1&sign=s&sign_type=RSA2").unwrap();
        assert_eq!(
            form.content_text(NotifyRule::V2, true),
            "a=1&alipay_cert_sn=abc&b=2&sign_type=RSA2"
        );
        assert_eq!(form.content_text(NotifyRule::V1, false), "a=1&b=2");
    }

    fn field_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..12)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Form::parse(&body, None);
            let _ = Form::parse(&body, Some("application/x-www-form-urlencoded; charset=gbk"));
        }

        #[test]
        fn never_panics_on_form_like_bytes(body in "[a-z=&%+0-9A-F\u{80}-\u{ff}]{0,80}") {
            let _ = Form::parse(body.as_bytes(), None);
        }

        #[test]
        fn round_trips_and_matches_alipay_sign(fields in field_strategy()) {
            let mut body = Vec::new();
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    body.push(b'&');
                }
                crate::build::form_encode(k.as_bytes(), &mut body);
                body.push(b'=');
                crate::build::form_encode(v.as_bytes(), &mut body);
            }
            let form = Form::parse(&body, None).unwrap();
            prop_assert_eq!(form.len(), fields.len());
            for (k, v) in &fields {
                prop_assert_eq!(form.get(k), Some(v.as_str()));
            }
            for (rule, sign_rule) in [
                (NotifyRule::V1, alipay_sign::Rule::NotifyV1),
                (NotifyRule::V2, alipay_sign::Rule::NotifyV2),
            ] {
                let expected = alipay_sign::canonical_string(fields.iter().cloned(), sign_rule);
                prop_assert_eq!(form.canonical_content(rule), expected.clone());
                prop_assert_eq!(form.content_bytes(rule, true), expected.into_bytes());
            }
        }
    }
}
