//! The one error type of this crate.

use std::fmt;

/// Everything that can go wrong in `alipay-sign`.
///
/// The kind is private; ask with the `is_*()` predicates. Messages say what was found and what
/// was expected, and never contain key material.
///
/// ```
/// let err = alipay_sign::PrivateKey::from_pem_or_der(b"not a key").unwrap_err();
/// assert!(err.is_key());
/// ```
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A key or certificate could not be read, or is of the wrong kind.
    Key,
    /// A signature did not verify (or was malformed).
    InvalidSignature,
    /// The operation needs a backend or feature that is not compiled in.
    Unsupported,
    /// The raw response could not be understood.
    Response,
    /// A certificate, chain or bundle is unusable or untrusted.
    Certificate,
    /// AES key or ciphertext problem.
    Aes,
    /// Text cannot be represented in the requested charset, or the charset is unknown.
    Charset,
    /// The crypto backend failed for another reason.
    Crypto,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn key(message: impl Into<String>) -> Self {
        Self::new(Kind::Key, message)
    }

    pub(crate) fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidSignature, message)
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(Kind::Unsupported, message)
    }

    pub(crate) fn response(message: impl Into<String>) -> Self {
        Self::new(Kind::Response, message)
    }

    pub(crate) fn certificate(message: impl Into<String>) -> Self {
        Self::new(Kind::Certificate, message)
    }

    pub(crate) fn aes(message: impl Into<String>) -> Self {
        Self::new(Kind::Aes, message)
    }

    pub(crate) fn charset(message: impl Into<String>) -> Self {
        Self::new(Kind::Charset, message)
    }

    pub(crate) fn crypto(message: impl Into<String>) -> Self {
        Self::new(Kind::Crypto, message)
    }

    /// A key or certificate file could not be read, or is not the kind of key needed here.
    pub fn is_key(&self) -> bool {
        self.kind == Kind::Key
    }

    /// A signature did not verify, was not valid base64, or had the wrong length.
    pub fn is_invalid_signature(&self) -> bool {
        self.kind == Kind::InvalidSignature
    }

    /// The operation needs a cargo feature (backend) that this build does not have; the message
    /// names the feature.
    pub fn is_unsupported(&self) -> bool {
        self.kind == Kind::Unsupported
    }

    /// A gateway response body could not be understood (not JSON, node missing, duplicated, …).
    pub fn is_response(&self) -> bool {
        self.kind == Kind::Response
    }

    /// A certificate, chain or root bundle is unusable, or a chain is not trusted.
    pub fn is_certificate(&self) -> bool {
        self.kind == Kind::Certificate
    }

    /// An AES key or ciphertext is malformed, or the padding is wrong.
    pub fn is_aes(&self) -> bool {
        self.kind == Kind::Aes
    }

    /// Text cannot be encoded in the requested charset, or the charset name is unknown.
    pub fn is_charset(&self) -> bool {
        self.kind == Kind::Charset
    }

    /// The cryptographic backend failed for a reason not covered above.
    pub fn is_crypto(&self) -> bool {
        self.kind == Kind::Crypto
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
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

/// The error a DER parse failure carries as its source.
#[derive(Debug)]
pub(crate) struct DerSource(pub(crate) crate::der::DerError);

impl fmt::Display for DerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DerSource {}

/// The error a base64 decode failure carries as its source.
#[derive(Debug)]
pub(crate) struct Base64Source(pub(crate) base64::DecodeError);

impl fmt::Display for Base64Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Base64Source {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn predicates_and_source_chain() {
        let e = Error::key("found a public key; the app private key is needed").with_source(
            DerSource(crate::der::DerError {
                offset: 3,
                what: "x",
            }),
        );
        assert!(e.is_key());
        assert!(!e.is_invalid_signature());
        assert_eq!(
            e.to_string(),
            "found a public key; the app private key is needed"
        );
        assert_eq!(e.source().unwrap().to_string(), "x at byte 3");
    }
}
