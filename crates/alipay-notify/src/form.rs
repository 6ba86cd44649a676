//! The raw form body: split without decoding, find the signed `charset`, then percent-decode every
//! field to bytes and decode those bytes from that charset.

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

/// A range of bytes in one of the buffers of a [`Form`].
type Span = std::ops::Range<usize>;

/// One decoded field: where its text (and, for charsets other than UTF-8, its bytes) are, and
/// where it was in the body.
#[derive(Clone, PartialEq, Eq)]
struct Field {
    /// The key in `Form::text`.
    key: Span,
    /// The value in `Form::text`.
    value: Span,
    /// The percent-decoded key bytes in `Form::raw` (charsets other than UTF-8).
    raw_key: Span,
    /// The percent-decoded value bytes in `Form::raw` (charsets other than UTF-8).
    raw_value: Span,
    /// Byte offset of the field (its key) in the body.
    offset: usize,
    /// Byte offset of its value in the body.
    value_offset: usize,
    /// Byte offset just past its value in the body.
    end: usize,
    /// The first 8 bytes of the key text, big-endian, zero-padded: orders most keys with one
    /// integer comparison.
    prefix: u64,
}

const FIELD_NONE: Field = Field {
    key: 0..0,
    value: 0..0,
    raw_key: 0..0,
    raw_value: 0..0,
    offset: 0,
    value_offset: 0,
    end: 0,
    prefix: 0,
};

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
    /// Every decoded key and value, one after the other.
    text: String,
    /// For charsets other than UTF-8: every percent-decoded key and value, as received (what
    /// Alipay signed). Empty for UTF-8, where those bytes are `text`.
    raw: Vec<u8>,
    fields: Vec<Field>,
    /// Indices of `fields` sorted by key bytes (the canonical order).
    order: Vec<usize>,
    /// Indices of `sign`, `sign_type` and `alipay_cert_sn` (`usize::MAX` when absent).
    protocol: [usize; 3],
    charset: Charset,
    charset_source: CharsetSource,
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

        // One pass: split on `&` and the first `=` while still encoded (so a decoded `&` or
        // `=` can never split anything), and percent-decode every key and value into one buffer.
        let mut bytes = Vec::with_capacity(body.len());
        let mut fields = Vec::with_capacity(32);
        let mut scan = Scan {
            field_start: 0,
            bytes_start: 0,
            key: None,
        };
        let mut i = 0;
        loop {
            let rest = body.get(i..).unwrap_or_default();
            let run = rest
                .iter()
                .position(|&b| SPECIAL[usize::from(b)])
                .unwrap_or(rest.len());
            bytes.extend_from_slice(rest.get(..run).unwrap_or_default());
            i += run;
            match body.get(i) {
                None => {
                    scan.finish(body, i, &bytes, &mut fields)?;
                    break;
                }
                Some(b'&') => {
                    scan.finish(body, i, &bytes, &mut fields)?;
                    i += 1;
                    scan = Scan {
                        field_start: i,
                        bytes_start: bytes.len(),
                        key: None,
                    };
                }
                Some(b'=') if scan.key.is_none() => {
                    scan.key = Some(scan.key_ending_at(i, bytes.len())?);
                    i += 1;
                }
                Some(b'+') => {
                    bytes.push(b' ');
                    i += 1;
                }
                Some(b'%') => {
                    let hi = body.get(i + 1).copied().and_then(hex_value);
                    let lo = body.get(i + 2).copied().and_then(hex_value);
                    let (Some(hi), Some(lo)) = (hi, lo) else {
                        let field = scan
                            .key
                            .as_ref()
                            .and_then(|(k, _)| bytes.get(k.clone()))
                            .map(|k| String::from_utf8_lossy(k).into_owned());
                        return Err(escape_error(body, i, field));
                    };
                    bytes.push(hi << 4 | lo);
                    i += 3;
                }
                // A second `=` belongs to the value.
                Some(&other) => {
                    bytes.push(other);
                    i += 1;
                }
            }
        }

        // The signed `charset` field decides how those bytes become text.
        let charset_field = fields
            .iter()
            .find(|f| bytes.get(f.raw_key.clone()) == Some(b"charset".as_slice()));
        let (charset, charset_source) = match (charset_field, header_charset) {
            (Some(f), _) => {
                let label = bytes.get(f.raw_value.clone()).unwrap_or_default();
                let label = std::str::from_utf8(label).unwrap_or("\u{fffd}");
                let charset = charset_from_label(label)
                    .map_err(|e| e.at(f.value_offset).in_field("charset"))?;
                (charset, CharsetSource::Field)
            }
            (None, Some(label)) => (
                charset_from_label(label).map_err(|e| e.in_field("Content-Type"))?,
                CharsetSource::ContentType,
            ),
            (None, None) => (Charset::Utf8, CharsetSource::Default),
        };

        let (text, raw) = if charset == Charset::Utf8 {
            // Validate everything at once; the decoded bytes become the text without a copy.
            match String::from_utf8(bytes) {
                Ok(text) => (text, Vec::new()),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    return Err(locate_charset_error(
                        body,
                        &fields,
                        e.as_bytes(),
                        at,
                        charset,
                    ));
                }
            }
        } else {
            let enc = encoding(charset);
            let mut text = String::with_capacity(bytes.len() + bytes.len() / 2 + 16);
            for f in &mut fields {
                let decoded =
                    decode_span(enc, &bytes, f.raw_key.clone(), &mut text).and_then(|k| {
                        decode_span(enc, &bytes, f.raw_value.clone(), &mut text).map(|v| (k, v))
                    });
                match decoded {
                    Ok((key, value)) => {
                        f.key = key;
                        f.value = value;
                    }
                    Err(at) => {
                        let one = std::slice::from_ref(&*f);
                        return Err(locate_charset_error(body, one, &bytes, at, charset));
                    }
                }
            }
            (text, bytes)
        };

        let mut form = Form {
            text,
            raw,
            fields,
            order: Vec::new(),
            protocol: [usize::MAX; 3],
            charset,
            charset_source,
        };
        for i in 0..form.fields.len() {
            let prefix = key_prefix(form.key(form.field(i)).as_bytes());
            if let Some(f) = form.fields.get_mut(i) {
                f.prefix = prefix;
            }
        }
        form.order = form.sorted_or_duplicate()?;
        form.protocol = ["sign", "sign_type", "alipay_cert_sn"]
            .map(|k| form.find_index(k).unwrap_or(usize::MAX));
        Ok(form)
    }

    /// Field indices in canonical order (by key bytes), or the error for a repeated key.
    fn sorted_or_duplicate(&self) -> Result<Vec<usize>, Error> {
        // Integer sort on the 8-byte prefixes; only keys sharing a prefix need their bytes.
        let mut keyed: Vec<(u64, usize)> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.prefix, i))
            .collect();
        keyed.sort_unstable();
        let mut start = 0;
        while start < keyed.len() {
            let prefix = keyed.get(start).map_or(0, |k| k.0);
            let len = keyed
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|k| k.0 == prefix)
                .count();
            if len > 1
                && let Some(run) = keyed.get_mut(start..start + len)
            {
                run.sort_unstable_by(|a, b| {
                    self.compare_keys(self.field(a.1), self.field(b.1))
                        .then(a.1.cmp(&b.1))
                });
                for pair in run.windows(2) {
                    if let [(_, a), (_, b)] = *pair
                        && self.compare_keys(self.field(a), self.field(b)).is_eq()
                    {
                        return Err(self.duplicate(a, b));
                    }
                }
            }
            start += len.max(1);
        }
        Ok(keyed.into_iter().map(|(_, i)| i).collect())
    }

    /// The error for fields `a` and `b` (body order) having the same key.
    fn duplicate(&self, a: usize, b: usize) -> Error {
        let (first, second) = (self.field(a), self.field(b));
        let name = self.key(second);
        Error::new(
            Kind::DuplicateField,
            format!(
                "field `{name}` appears twice (first at byte {}, again at byte {})",
                first.offset, second.offset
            ),
        )
        .at(second.offset)
        .in_field(name)
    }

    /// Orders keys by their bytes (the prefix decides unless the first 8 bytes are equal).
    #[inline]
    fn compare_keys(&self, a: &Field, b: &Field) -> std::cmp::Ordering {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| self.key(a).as_bytes().cmp(self.key(b).as_bytes()))
    }

    fn field(&self, index: usize) -> &Field {
        // Indices come from `0..fields.len()`; `FIELD_NONE` is never reached.
        self.fields.get(index).unwrap_or(&FIELD_NONE)
    }

    fn key(&self, f: &Field) -> &str {
        self.text.get(f.key.clone()).unwrap_or_default()
    }

    fn value(&self, f: &Field) -> &str {
        self.text.get(f.value.clone()).unwrap_or_default()
    }

    fn key_bytes(&self, f: &Field) -> &[u8] {
        if self.charset == Charset::Utf8 {
            self.key(f).as_bytes()
        } else {
            self.raw.get(f.raw_key.clone()).unwrap_or_default()
        }
    }

    fn value_bytes(&self, f: &Field) -> &[u8] {
        if self.charset == Charset::Utf8 {
            self.value(f).as_bytes()
        } else {
            self.raw.get(f.raw_value.clone()).unwrap_or_default()
        }
    }

    /// The value of `key`, decoded.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).map(|f| self.value(f))
    }

    /// Byte offset of field `key` in the body.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.find(key).map(|f| f.offset)
    }

    fn find(&self, key: &str) -> Option<&Field> {
        self.find_index(key).map(|i| self.field(i))
    }

    /// The index in `fields` of `key`.
    fn find_index(&self, key: &str) -> Option<usize> {
        let prefix = key_prefix(key.as_bytes());
        self.order
            .binary_search_by(|&i| {
                let f = self.field(i);
                f.prefix
                    .cmp(&prefix)
                    .then_with(|| self.key(f).as_bytes().cmp(key.as_bytes()))
            })
            .ok()
            .and_then(|i| self.order.get(i).copied())
    }

    /// Every field as `(key, value)`, in body order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.fields.iter().map(|f| (self.key(f), self.value(f)))
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
        let [sign, sign_type, cert_sn] = self.protocol;
        self.order
            .iter()
            .filter(move |&&i| {
                i != sign
                    && (rule == NotifyRule::V2 || i != sign_type)
                    && (include_cert_sn || i != cert_sn)
            })
            .map(|&i| self.field(i))
            .filter(|f| !f.value.is_empty())
    }

    /// The signed bytes under `rule`, in the form's charset.
    pub(crate) fn content_bytes(&self, rule: NotifyRule, include_cert_sn: bool) -> Vec<u8> {
        let size = if self.charset == Charset::Utf8 {
            self.text.len()
        } else {
            self.raw.len()
        };
        let mut out = Vec::with_capacity(size + 2 * self.fields.len());
        for (i, f) in self.signed_fields(rule, include_cert_sn).enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            out.extend_from_slice(self.key_bytes(f));
            out.push(b'=');
            out.extend_from_slice(self.value_bytes(f));
        }
        out
    }

    /// [`Form::content_text`] from the bytes [`Form::content_bytes`] returned, without building
    /// it again when the charset is UTF-8.
    pub(crate) fn content_into_text(
        &self,
        bytes: Vec<u8>,
        rule: NotifyRule,
        include_cert_sn: bool,
    ) -> String {
        if self.charset == Charset::Utf8 {
            // Built from UTF-8 keys and values joined by ASCII, so this never fails.
            if let Ok(text) = String::from_utf8(bytes) {
                return text;
            }
        }
        self.content_text(rule, include_cert_sn)
    }

    /// The signed content under `rule`, as text.
    pub(crate) fn content_text(&self, rule: NotifyRule, include_cert_sn: bool) -> String {
        let mut out = String::with_capacity(self.text.len() + 2 * self.fields.len());
        for (i, f) in self.signed_fields(rule, include_cert_sn).enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(self.key(f));
            out.push('=');
            out.push_str(self.value(f));
        }
        out
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("charset", &self.charset)
            .field("charset_source", &self.charset_source)
            .field("fields", &self.iter().collect::<Vec<_>>())
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

/// The error for a segment without `=` (or a body that is not a form at all).
fn no_equals(segment: &[u8], offset: usize) -> Error {
    let looks_json = offset == 0
        && matches!(
            segment.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
    let message = if looks_json {
        "the body is JSON, not an application/x-www-form-urlencoded form".to_owned()
    } else {
        format!(
            "field `{}` at byte {offset} has no `=`",
            shorten(&String::from_utf8_lossy(segment))
        )
    };
    Error::new(Kind::Malformed, message).at(offset)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The first 8 bytes of `key`, big-endian, zero-padded.
fn key_prefix(key: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    for (slot, &b) in buf.iter_mut().zip(key) {
        *slot = b;
    }
    u64::from_be_bytes(buf)
}

/// The bytes that end a run of literal bytes while splitting and decoding.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'=' as usize] = true;
    table[b'%' as usize] = true;
    table[b'+' as usize] = true;
    table
};

/// The field being read.
struct Scan {
    /// Body offset of the field.
    field_start: usize,
    /// Where the field's decoded bytes begin in the buffer.
    bytes_start: usize,
    /// The decoded key's span and the body offset of its `=`, once seen.
    key: Option<(Span, usize)>,
}

impl Scan {
    /// The key, ending at the `=` at body offset `eq` with `decoded_end` bytes decoded so far.
    fn key_ending_at(&self, eq: usize, decoded_end: usize) -> Result<(Span, usize), Error> {
        if eq == self.field_start {
            return Err(
                Error::new(Kind::Malformed, format!("empty field name at byte {eq}")).at(eq),
            );
        }
        Ok((self.bytes_start..decoded_end, eq))
    }

    /// Ends the field at body offset `end` (an `&` or the end of the body).
    fn finish(
        &self,
        body: &[u8],
        end: usize,
        bytes: &[u8],
        fields: &mut Vec<Field>,
    ) -> Result<(), Error> {
        if end == self.field_start {
            return Ok(()); // an empty segment: `a=1&&b=2`, a trailing `&`
        }
        let Some((key, eq)) = self.key.clone() else {
            let segment = body.get(self.field_start..end).unwrap_or_default();
            return Err(no_equals(segment, self.field_start));
        };
        let value = key.end..bytes.len();
        fields.push(Field {
            raw_key: key.clone(),
            raw_value: value.clone(),
            key,
            value,
            offset: self.field_start,
            value_offset: eq + 1,
            end,
            prefix: 0,
        });
        Ok(())
    }
}

fn escape_error(body: &[u8], i: usize, field: Option<String>) -> Error {
    let found: String = body
        .get(i..body.len().min(i + 3))
        .unwrap_or_default()
        .escape_ascii()
        .to_string();
    let place = match &field {
        Some(name) => format!("in the value of `{}`", shorten(name)),
        None => "in a field name".to_owned(),
    };
    let err = Error::new(
        Kind::Malformed,
        format!(
            "broken percent-escape `{found}` at byte {i} {place}: `%` must be followed by two hex digits"
        ),
    )
    .at(i);
    match field {
        Some(name) => err.in_field(name),
        None => err,
    }
}

/// Offset in the raw (encoded) bytes of the `decoded_index`-th decoded byte.
fn raw_offset(raw: &[u8], decoded_index: usize) -> usize {
    let mut i = 0;
    for _ in 0..decoded_index {
        i += if raw.get(i) == Some(&b'%') { 3 } else { 1 };
    }
    i.min(raw.len())
}

/// The charsets Alipay uses: UTF-8, GBK, GB2312 (read as GBK, its superset) and GB18030.
pub(crate) fn charset_from_label(label: &str) -> Result<Charset, Error> {
    let label = label.trim();
    let is = |name: &str| label.eq_ignore_ascii_case(name);
    if is("utf-8") || is("utf8") {
        Ok(Charset::Utf8)
    } else if is("gbk") || is("gb2312") {
        Ok(Charset::Gbk)
    } else if is("gb18030") {
        Ok(Charset::Gb18030)
    } else {
        Err(Error::new(
            Kind::Charset,
            format!(
                "unsupported charset `{}`; expected UTF-8, GBK, GB2312 or GB18030",
                shorten(label)
            ),
        ))
    }
}

fn encoding(charset: Charset) -> &'static encoding_rs::Encoding {
    match charset {
        Charset::Gbk => encoding_rs::GBK,
        Charset::Gb18030 => encoding_rs::GB18030,
        _ => encoding_rs::UTF_8,
    }
}

/// Appends `bytes`, decoded from `enc`, to `text`; on a malformed sequence, the index of its
/// first byte (and `text` holds a partial decoding).
fn decode_append(
    enc: &'static encoding_rs::Encoding,
    bytes: &[u8],
    text: &mut String,
) -> Result<(), usize> {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut consumed = 0;
    loop {
        let rest = bytes.get(consumed..).unwrap_or_default();
        let room = decoder
            .max_utf8_buffer_length_without_replacement(rest.len())
            .unwrap_or(rest.len().saturating_mul(3));
        // At least one character's room: every round makes progress.
        text.reserve(room.max(4));
        let (result, read) = decoder.decode_to_string_without_replacement(rest, text, true);
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok(()),
            encoding_rs::DecoderResult::Malformed(bad, extra) => {
                return Err((consumed + read).saturating_sub(usize::from(bad) + usize::from(extra)));
            }
            encoding_rs::DecoderResult::OutputFull => consumed += read,
        }
    }
}

/// Appends the text of `bytes[span]` to `text`; returns its span in `text`, or the index in
/// `bytes` of a malformed sequence.
fn decode_span(
    enc: &'static encoding_rs::Encoding,
    bytes: &[u8],
    span: Span,
    text: &mut String,
) -> Result<Span, usize> {
    let start = text.len();
    let piece = bytes.get(span.clone()).unwrap_or_default();
    decode_append(enc, piece, text).map_err(|local| span.start + local)?;
    Ok(start..text.len())
}

/// The error for decoded bytes that are not valid `charset` from index `at` of `decoded` (the
/// percent-decoded keys and values of `fields`, in the body `body`).
fn locate_charset_error(
    body: &[u8],
    fields: &[Field],
    decoded: &[u8],
    at: usize,
    charset: Charset,
) -> Error {
    let bad_byte = decoded.get(at).copied().unwrap_or(0);
    let hit = fields.iter().find_map(|f| {
        if f.raw_key.contains(&at) {
            let encoded = body.get(f.offset..f.value_offset.saturating_sub(1));
            Some((f.offset, encoded, at - f.raw_key.start, None))
        } else if f.raw_value.contains(&at) {
            let encoded = body.get(f.value_offset..f.end);
            let name = decoded
                .get(f.raw_key.clone())
                .map(|k| String::from_utf8_lossy(k).into_owned());
            Some((f.value_offset, encoded, at - f.raw_value.start, name))
        } else {
            None
        }
    });
    let (position, field) = match hit {
        Some((base, encoded, local, name)) => {
            (base + raw_offset(encoded.unwrap_or_default(), local), name)
        }
        None => (0, None),
    };
    let place = match &field {
        Some(name) => format!("the value of `{}`", shorten(name)),
        None => "a field name".to_owned(),
    };
    let err = Error::new(
        Kind::Charset,
        format!(
            "{place} is not valid {} (bad byte 0x{bad_byte:02X} at byte {position} of the body)",
            charset.as_str(),
        ),
    )
    .at(position);
    match field {
        Some(name) => err.in_field(name),
        None => err,
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
