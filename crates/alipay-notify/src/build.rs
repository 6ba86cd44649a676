//! Building signed notification bodies, as Alipay (or an emulator) sends them.

use alipay_sign::{Charset, SignType, Signer};

use crate::error::{Error, Kind};
use crate::verify::NotifyRule;

/// Builds a signed notification body: for tests of a webhook, for emulators, for benchmarks.
///
/// Fields are signed under `rule` over their bytes in `charset` (empty values left out, as the
/// gateway does), then form-encoded once in that charset: `A–Z a–z 0–9 - . _ *` as is, space as
/// `+`, every other byte as `%XX`, like Java's `URLEncoder`. The `charset` and `sign_type`
/// fields are added for you; `sign` is appended last.
///
/// ```
/// use alipay_notify::{NotifyBuilder, NotifyRule, NotifyVerifier};
/// use alipay_sign::{Charset, PrivateKey, RsaSigner, SignType};
/// # let pem = include_bytes!("../tests/data/alipay_private_pkcs1.pem");
/// let alipay_key = PrivateKey::from_pem_or_der(pem).unwrap();
/// let body = NotifyBuilder::new(Charset::Gbk)
///     .field("notify_id", "n1")
///     .field("subject", "咖啡 & 茶")
///     .sign(&RsaSigner::new(&alipay_key).unwrap(), NotifyRule::V1, SignType::Rsa2)?;
/// assert!(body.starts_with(b"notify_id=n1&subject=%BF%A7%B7%C8+%26+%B2%E8&charset=GBK&sign_type=RSA2&sign="));
/// let verified = NotifyVerifier::new(alipay_key.public_key())?.verify(&body, None)?;
/// assert_eq!(verified.get("subject"), Some("咖啡 & 茶"));
/// # Ok::<(), alipay_notify::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NotifyBuilder {
    charset: Charset,
    fields: Vec<(String, String)>,
}

impl NotifyBuilder {
    /// An empty notification in `charset`.
    pub fn new(charset: Charset) -> Self {
        NotifyBuilder {
            charset,
            fields: Vec::new(),
        }
    }

    /// Adds a field (in order; `charset`, `sign_type` and `sign` are added by
    /// [`NotifyBuilder::sign`] unless set here).
    #[must_use]
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// Adds several fields.
    #[must_use]
    pub fn fields<K: Into<String>, V: Into<String>>(
        mut self,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.fields
            .extend(fields.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The string `rule` signs, with `alipay_cert_sn` included or not.
    pub fn content(&self, rule: NotifyRule, sign_type: SignType, include_cert_sn: bool) -> String {
        let mut fields = self.complete(sign_type);
        fields.retain(|(k, v)| {
            !v.is_empty()
                && match k.as_str() {
                    "sign" => false,
                    "sign_type" => rule == NotifyRule::V2,
                    "alipay_cert_sn" => include_cert_sn,
                    _ => true,
                }
        });
        fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Signs under `rule` (with `alipay_cert_sn`, if set, in the content) and returns the body.
    pub fn sign(
        &self,
        signer: &dyn Signer,
        rule: NotifyRule,
        sign_type: SignType,
    ) -> Result<Vec<u8>, Error> {
        self.sign_with(signer, rule, sign_type, true)
    }

    /// [`NotifyBuilder::sign`], choosing whether `alipay_cert_sn` is part of the signed content.
    pub fn sign_with(
        &self,
        signer: &dyn Signer,
        rule: NotifyRule,
        sign_type: SignType,
        include_cert_sn: bool,
    ) -> Result<Vec<u8>, Error> {
        let content = self.content(rule, sign_type, include_cert_sn);
        let bytes = self.charset.encode(&content).map_err(charset_error)?;
        let sign = signer
            .sign_base64(sign_type, &bytes)
            .map_err(|e| Error::new(Kind::Key, e.to_string()).with_source(e))?;
        let mut fields = self.complete(sign_type);
        fields.retain(|(k, _)| k != "sign");
        fields.push(("sign".to_owned(), sign));
        let mut body = Vec::with_capacity(content.len() * 2);
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                body.push(b'&');
            }
            form_encode(&self.charset.encode(k).map_err(charset_error)?, &mut body);
            body.push(b'=');
            form_encode(&self.charset.encode(v).map_err(charset_error)?, &mut body);
        }
        Ok(body)
    }

    /// The fields with `charset` and `sign_type` added when missing.
    fn complete(&self, sign_type: SignType) -> Vec<(String, String)> {
        let mut fields = self.fields.clone();
        if !fields.iter().any(|(k, _)| k == "charset") {
            fields.push(("charset".to_owned(), self.charset.as_str().to_owned()));
        }
        if !fields.iter().any(|(k, _)| k == "sign_type") {
            fields.push(("sign_type".to_owned(), sign_type.as_str().to_owned()));
        }
        fields
    }
}

fn charset_error(e: alipay_sign::Error) -> Error {
    Error::new(Kind::Charset, e.to_string()).with_source(e)
}

/// Form-encodes bytes as Java's `URLEncoder` does.
pub(crate) fn form_encode(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b),
            b' ' => out.push(b'+'),
            _ => {
                out.push(b'%');
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
            }
        }
    }
}
