//! The v3 protocol's strings (PROTOCOL §7): the auth string, the content to sign, the
//! `Authorization` header, and the content a response signature covers. Nonce and time are
//! inputs.

use crate::error::Error;
use crate::signer::{SignType, Signer, Verifier};

/// The `Authorization` scheme name.
pub const AUTH_SCHEME: &str = "ALIPAY-SHA256withRSA";

/// The parts of the v3 auth string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthString {
    /// `app_id`.
    pub app_id: String,
    /// `app_cert_sn` in certificate mode.
    pub app_cert_sn: Option<String>,
    /// A unique nonce per request (a UUID without dashes is customary).
    pub nonce: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

impl AuthString {
    /// Builds the parts.
    pub fn new(app_id: impl Into<String>, nonce: impl Into<String>, timestamp_ms: u64) -> Self {
        AuthString {
            app_id: app_id.into(),
            app_cert_sn: None,
            nonce: nonce.into(),
            timestamp_ms,
        }
    }

    /// Adds `app_cert_sn` (certificate mode).
    #[must_use]
    pub fn with_app_cert_sn(mut self, sn: impl Into<String>) -> Self {
        self.app_cert_sn = Some(sn.into());
        self
    }

    /// `app_id=…[,app_cert_sn=…],nonce=…,timestamp=…`.
    pub fn render(&self) -> String {
        let mut s = format!("app_id={}", self.app_id);
        if let Some(sn) = &self.app_cert_sn {
            s.push_str(",app_cert_sn=");
            s.push_str(sn);
        }
        s.push_str(",nonce=");
        s.push_str(&self.nonce);
        s.push_str(",timestamp=");
        s.push_str(&self.timestamp_ms.to_string());
        s
    }
}

/// The string a v3 request signature covers:
/// `auth\nMETHOD\ntarget\nbody\n[app_auth_token\n]`.
///
/// `target` is the path with its query exactly as sent; `body` is the exact body ("" for none).
///
/// ```
/// let content = alipay_sign::v3_signing_content("app_id=1,nonce=n,timestamp=1", "GET", "/v3/x?a=1", "", None);
/// assert_eq!(content, "app_id=1,nonce=n,timestamp=1\nGET\n/v3/x?a=1\n\n");
/// ```
pub fn v3_signing_content(
    auth_string: &str,
    http_method: &str,
    request_target: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> String {
    let mut s = String::with_capacity(auth_string.len() + request_target.len() + body.len() + 16);
    s.push_str(auth_string);
    s.push('\n');
    s.push_str(http_method);
    s.push('\n');
    s.push_str(request_target);
    s.push('\n');
    s.push_str(body);
    s.push('\n');
    if let Some(token) = app_auth_token {
        s.push_str(token);
        s.push('\n');
    }
    s
}

/// The `Authorization` header value: `ALIPAY-SHA256withRSA <auth>,sign=<sign>`.
pub fn v3_authorization(auth_string: &str, sign_b64: &str) -> String {
    format!("{AUTH_SCHEME} {auth_string},sign={sign_b64}")
}

/// A signed v3 request: the content that was signed and the header value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct V3Signed {
    /// The signed content.
    pub content: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Builds and signs the v3 `Authorization` of a request (SHA256withRSA over UTF-8).
pub fn v3_sign_request(
    signer: &dyn Signer,
    auth: &AuthString,
    http_method: &str,
    request_target: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> Result<V3Signed, Error> {
    let auth_string = auth.render();
    let content = v3_signing_content(
        &auth_string,
        http_method,
        request_target,
        body,
        app_auth_token,
    );
    let sign = signer.sign_base64(SignType::Rsa2, content.as_bytes())?;
    Ok(V3Signed {
        authorization: v3_authorization(&auth_string, &sign),
        content,
    })
}

/// The content a v3 response signature covers: `timestamp\nnonce\nbody\n`.
pub fn v3_response_content(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    v.extend_from_slice(timestamp.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(nonce.as_bytes());
    v.push(b'\n');
    v.extend_from_slice(body);
    v.push(b'\n');
    v
}

/// Verifies a v3 response from its `alipay-timestamp`, `alipay-nonce` and `alipay-signature`
/// headers and the raw body. A missing or empty signature is an error.
pub fn v3_verify_response(
    verifier: &dyn Verifier,
    timestamp: &str,
    nonce: &str,
    signature_b64: &str,
    body: &[u8],
) -> Result<(), Error> {
    if signature_b64.is_empty() || signature_b64 == "null" {
        return Err(Error::invalid_signature(
            "the response carries no alipay-signature",
        ));
    }
    let content = v3_response_content(timestamp, nonce, body);
    verifier.verify_base64(SignType::Rsa2, &content, signature_b64)
}

/// Parses an `Authorization` header value into the auth string and the signature (for the
/// gateway side). Returns `None` unless it starts with the scheme and ends with `,sign=…`.
pub fn v3_parse_authorization(header: &str) -> Option<(&str, &str)> {
    let rest = header.strip_prefix(AUTH_SCHEME)?.strip_prefix(' ')?;
    let idx = rest.rfind(",sign=")?;
    Some((&rest[..idx], &rest[idx + ",sign=".len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_string_and_content() {
        let a = AuthString::new("2021", "abc", 1_717_756_911_576).with_app_cert_sn("sn");
        assert_eq!(
            a.render(),
            "app_id=2021,app_cert_sn=sn,nonce=abc,timestamp=1717756911576"
        );
        assert_eq!(
            v3_signing_content("A", "POST", "/v3/p", "{}", Some("tok")),
            "A\nPOST\n/v3/p\n{}\ntok\n"
        );
        assert_eq!(v3_response_content("1", "n", b"{}"), b"1\nn\n{}\n");
        assert_eq!(v3_authorization("A", "S"), "ALIPAY-SHA256withRSA A,sign=S");
        assert_eq!(
            v3_parse_authorization("ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=2,sign=a/b="),
            Some(("app_id=1,nonce=n,timestamp=2", "a/b="))
        );
        assert_eq!(v3_parse_authorization("Bearer x"), None);
    }
}
