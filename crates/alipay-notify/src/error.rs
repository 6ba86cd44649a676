//! The one error type of this crate.

use std::fmt;

use crate::verify::NotifyRule;

/// Everything that can go wrong while reading, verifying or decoding a notification.
///
/// The kind is private; ask with the `is_*()` predicates. Errors about the body say where:
/// [`Error::position`] is a byte offset into the raw body and [`Error::field`] names the field.
/// A failed signature check carries the exact string that was checked
/// ([`Error::checked_content`]), to compare with what Alipay signed. No error ever contains
/// key material.
///
/// ```
/// let err = alipay_notify::Form::parse(b"a=1&b=%zz", None).unwrap_err();
/// assert!(err.is_malformed());
/// assert_eq!(err.position(), Some(6));
/// assert_eq!(err.field(), Some("b"));
/// ```
pub struct Error {
    kind: Kind,
    message: String,
    position: Option<usize>,
    field: Option<String>,
    content: Option<String>,
    rule: Option<NotifyRule>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The Content-Type is not a form.
    ContentType,
    /// The body is not a well-formed `application/x-www-form-urlencoded` form.
    Malformed,
    /// The same field appears twice.
    DuplicateField,
    /// The charset is not supported, or bytes are not valid in it.
    Charset,
    /// No `sign` (or an empty one).
    MissingSignature,
    /// The signature does not verify.
    InvalidSignature,
    /// `sign_type` is not RSA2 or RSA.
    SignType,
    /// `alipay_cert_sn` names no certificate of the set (or is absent and there is no default).
    UnknownCertSn,
    /// A key or certificate could not be used.
    Key,
    /// A verified notification does not decode into its typed event.
    Event,
    /// The HTTP body could not be read (framework integration).
    Body,
    /// A setting (rule name, …) is not understood.
    Config,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            position: None,
            field: None,
            content: None,
            rule: None,
            source: None,
        }
    }

    pub(crate) fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub(crate) fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn with_content(mut self, content: String, rule: NotifyRule) -> Self {
        self.content = Some(content);
        self.rule = Some(rule);
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The `Content-Type` is not `application/x-www-form-urlencoded` (e.g. JSON or multipart).
    pub fn is_content_type(&self) -> bool {
        self.kind == Kind::ContentType
    }

    /// The body is not a well-formed form: a broken percent-escape, a field without `=`, an empty
    /// field name, or a field that appears twice ([`Error::is_duplicate_field`]).
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, Kind::Malformed | Kind::DuplicateField)
    }

    /// A field appears twice; [`Error::position`] points at the second occurrence.
    pub fn is_duplicate_field(&self) -> bool {
        self.kind == Kind::DuplicateField
    }

    /// The `charset` is not one of UTF-8, GBK, GB2312, GB18030, or a value is not valid in it.
    pub fn is_charset(&self) -> bool {
        self.kind == Kind::Charset
    }

    /// The notification carries no `sign` (or an empty one). Never treated as a pass.
    pub fn is_missing_signature(&self) -> bool {
        self.kind == Kind::MissingSignature
    }

    /// The signature does not verify (also: not base64, wrong length). See
    /// [`Error::checked_content`].
    pub fn is_invalid_signature(&self) -> bool {
        self.kind == Kind::InvalidSignature
    }

    /// `sign_type` is neither `RSA2` nor `RSA`.
    pub fn is_sign_type(&self) -> bool {
        self.kind == Kind::SignType
    }

    /// Certificate mode: `alipay_cert_sn` names no certificate of the set, or it is absent and
    /// the set has no default certificate. Fetch the certificate
    /// (`alipay.open.app.alipaycert.download`), check it against the root, add it, retry.
    pub fn is_unknown_cert_sn(&self) -> bool {
        self.kind == Kind::UnknownCertSn
    }

    /// Any reason the notification is not authentic: missing or invalid signature, unknown
    /// `sign_type`, unknown certificate. Reply `fail` (or 400).
    pub fn is_unverified(&self) -> bool {
        matches!(
            self.kind,
            Kind::MissingSignature | Kind::InvalidSignature | Kind::SignType | Kind::UnknownCertSn
        )
    }

    /// A key or certificate could not be used (wrong kind, unsupported by the backend).
    pub fn is_key(&self) -> bool {
        self.kind == Kind::Key
    }

    /// A verified notification does not decode into its typed event (e.g. an amount with three
    /// decimals, a `fund_bill_list` that is not JSON). [`Error::field`] names the field.
    pub fn is_event(&self) -> bool {
        self.kind == Kind::Event
    }

    /// The HTTP body could not be read (too large, connection error) by a framework integration.
    pub fn is_body(&self) -> bool {
        self.kind == Kind::Body
    }

    /// A setting is not understood (e.g. a rule name other than `auto`, `v1`, `v2`).
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }

    /// Byte offset into the raw body where the problem is, when it has a place.
    pub fn position(&self) -> Option<usize> {
        self.position
    }

    /// The field the problem is in, when there is one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// For an invalid signature: the exact string that was checked (the first rule tried), as
    /// text in the notification's charset. Compare it with what Alipay says it signed.
    pub fn checked_content(&self) -> Option<&str> {
        self.content.as_deref()
    }

    /// For an invalid signature: the rule of [`Error::checked_content`].
    pub fn rule(&self) -> Option<NotifyRule> {
        self.rule
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(p) = self.position {
            d.field("position", &p);
        }
        if let Some(field) = &self.field {
            d.field("field", field);
        }
        if let Some(rule) = self.rule {
            d.field("rule", &rule);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
