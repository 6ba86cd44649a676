//! The v2 gateway pipeline: common parameters, `biz_content`, AES (encrypt, then sign), the
//! signed form POST, then status check, exact-bytes extraction, verification, decryption and
//! decoding.

use std::borrow::Cow;
use std::sync::Arc;

use alipay_sign::{NodeKind, NodeName, RsaVerifier};
use alipay_transport::HttpRequest;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{AlipayKeys, Client, RequestOptions};
use crate::clock::format_v2_timestamp;
use crate::encode::form_encode;
use crate::error::{ApiError, Error};
use crate::multipart::Multipart;

/// A signed v2 parameter set: query (protocol parameters and `sign`) and body (application
/// parameters).
#[derive(Debug, Clone)]
pub(crate) struct SignedV2 {
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Vec<(String, String)>,
    /// The string that was signed (for diagnostics; contains no secret).
    pub(crate) content: String,
}

impl SignedV2 {
    /// All parameters, query first.
    pub(crate) fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .iter()
            .chain(self.body.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// What a v2 request carries besides the common parameters.
pub(crate) struct V2Payload<'a> {
    pub(crate) method: &'a str,
    pub(crate) biz_content: Option<Cow<'a, str>>,
    /// Application text parameters (uploads), signed, sent in the body.
    pub(crate) text_params: Vec<(String, String)>,
    pub(crate) encrypt: bool,
}

impl Client {
    /// Builds and signs the parameters of a v2 request.
    pub(crate) fn sign_v2(
        &self,
        payload: &V2Payload<'_>,
        options: &RequestOptions,
    ) -> Result<SignedV2, Error> {
        let i = &self.inner;
        let mut query: Vec<(String, String)> = Vec::with_capacity(16);
        let mut push = |k: &str, v: &str| query.push((k.to_owned(), v.to_owned()));
        push("app_id", &i.app_id);
        push("method", payload.method);
        push("charset", i.charset.as_str());
        push("sign_type", i.sign_type.as_str());
        push("timestamp", &format_v2_timestamp(i.clock.now()));
        push("version", "1.0");
        if let AlipayKeys::Certificates(store) = &i.keys {
            push("app_cert_sn", &store.app_cert_sn);
            push("alipay_root_cert_sn", &store.root_cert_sn);
        }
        for (k, v) in [
            ("notify_url", &options.notify_url),
            ("return_url", &options.return_url),
            ("auth_token", &options.auth_token),
            ("app_auth_token", &options.app_auth_token),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                push(k, v);
            }
        }
        let mut body: Vec<(String, String)> = Vec::with_capacity(1 + payload.text_params.len());
        match (&payload.biz_content, payload.encrypt) {
            (Some(biz), true) => {
                let aes = i.aes.as_ref().ok_or_else(|| {
                    Error::config("encryption was requested but no AES key is configured")
                })?;
                let plain = i.charset.encode(biz)?;
                push("encrypt_type", "AES");
                body.push(("biz_content".to_owned(), aes.encrypt(&plain)));
            }
            (Some(biz), false) => body.push(("biz_content".to_owned(), biz.clone().into_owned())),
            (None, true) => {
                return Err(Error::request(format!(
                    "{} has no biz_content, so it cannot be encrypted",
                    payload.method
                )));
            }
            (None, false) => {}
        }
        for (k, v) in &options.extra_params {
            if k == "sign" {
                return Err(Error::request("`sign` cannot be an extra parameter"));
            }
            push(k, v);
        }
        body.extend(payload.text_params.iter().cloned());
        let signed = alipay_sign::sign_params(
            &*i.signer,
            query.iter().chain(body.iter()).map(|(k, v)| (k, v)),
            i.sign_type,
            i.charset,
        )?;
        query.push(("sign".to_owned(), signed.sign));
        Ok(SignedV2 {
            query,
            body,
            content: signed.content,
        })
    }

    /// The gateway URL with the query parameters.
    pub(crate) fn v2_url(&self, query: &[(String, String)]) -> String {
        let gateway = self.inner.environment.gateway();
        let q = form_encode(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            self.inner.charset,
        );
        format!("{gateway}?{q}")
    }

    /// The HTTP request of a signed v2 call: a form POST, or multipart with files.
    pub(crate) fn v2_http_request(
        &self,
        signed: &SignedV2,
        files: Option<&Multipart>,
    ) -> Result<HttpRequest, Error> {
        let url = self.v2_url(&signed.query);
        let (content_type, body) = match files {
            None => (
                format!(
                    "application/x-www-form-urlencoded;charset={}",
                    self.inner.charset.as_str()
                ),
                Bytes::from(form_encode(
                    signed.body.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    self.inner.charset,
                )),
            ),
            Some(m) => {
                let mut m = m.clone();
                for (k, v) in &signed.body {
                    m.text_first(k, v, self.inner.charset);
                }
                (m.content_type(), m.finish())
            }
        };
        http::Request::post(url)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, crate::USER_AGENT)
            .body(body)
            .map_err(|e| Error::config("the gateway URL is not usable").with_source(e))
    }

    /// Sends one v2 attempt and returns the verified node text.
    pub(crate) async fn v2_attempt(
        &self,
        payload: &V2Payload<'_>,
        options: &RequestOptions,
        files: Option<&Multipart>,
    ) -> Result<V2Node, Error> {
        let signed = self.sign_v2(payload, options)?;
        let request = self.v2_http_request(&signed, files)?;
        let response = self.send(request).await?;
        self.read_v2(payload.method, response).await
    }

    /// Status check, extraction, verification and decryption of a v2 response.
    pub(crate) async fn read_v2(
        &self,
        method: &str,
        response: http::Response<Bytes>,
    ) -> Result<V2Node, Error> {
        let status = response.status().as_u16();
        let trace_id = header(&response, "alipay-trace-id");
        if let Some(t) = &trace_id {
            tracing::Span::current().record("trace_id", t.as_str());
        }
        if status != 200 {
            return Err(Error::status(
                status,
                format!("the gateway answered HTTP {status} to {method}"),
            ));
        }
        let charset = response_charset(&response).unwrap_or(self.inner.charset);
        let body = response.into_body();
        let parts = alipay_sign::extract_response(&body, method, charset).map_err(|e| {
            Error::decode(
                None,
                format!("the response to {method} is not a gateway response: {e}"),
            )
            .with_source(e)
        })?;
        // Certificate mode needs `alipay_cert_sn` to pick the key; without it the answer is as
        // good as unsigned.
        let cert_mode_without_sn = matches!(self.inner.keys, AlipayKeys::Certificates(_))
            && parts.alipay_cert_sn.as_deref().is_none_or(str::is_empty);
        let signed = parts.sign.is_some() && !cert_mode_without_sn;
        if !signed {
            // Unsigned: only a failure may be reported, and it is marked unverified.
            if parts.kind == NodeKind::Object {
                let text = charset.decode(parts.content)?;
                let node = parse_node(method, &text)?;
                if let Some(err) = api_error_of(&node, false, trace_id.clone()) {
                    return Err(Error::from_api(err));
                }
            }
            return Err(Error::signature(if parts.sign.is_none() {
                format!(
                    "the response to {method} is not signed (no `sign`); a success is never accepted unsigned"
                )
            } else {
                format!("certificate mode: the response to {method} carries no alipay_cert_sn")
            }));
        }
        let verifier = self
            .response_verifier(method, parts.alipay_cert_sn.as_deref())
            .await?;
        parts
            .verify(&*verifier, self.inner.sign_type)
            .map_err(|e| {
                Error::signature(format!(
                    "the signature of the {method} response does not verify"
                ))
                .with_source(e)
            })?;
        let text = match parts.kind {
            NodeKind::Encrypted => {
                let aes = self.inner.aes.as_ref().ok_or_else(|| {
                    Error::config(format!(
                        "the response to {method} is encrypted but no AES key is configured"
                    ))
                })?;
                let ciphertext = parts.ciphertext().ok_or_else(|| {
                    Error::decode(
                        None,
                        format!("the encrypted response to {method} is not text"),
                    )
                })?;
                let plain = aes.decrypt(ciphertext).map_err(|e| {
                    Error::decode(
                        None,
                        format!("cannot decrypt the response to {method}: {e}"),
                    )
                    .with_source(e)
                })?;
                charset.decode(&plain)?.into_owned()
            }
            _ => charset.decode(parts.content)?.into_owned(),
        };
        Ok(V2Node {
            text,
            error_response: parts.node == NodeName::ErrorResponse,
            trace_id,
        })
    }

    /// The key that verifies a response: the Alipay public key, or the certificate with this SN
    /// (downloaded and chained when unknown).
    async fn response_verifier(
        &self,
        method: &str,
        sn: Option<&str>,
    ) -> Result<Arc<RsaVerifier>, Error> {
        match &self.inner.keys {
            AlipayKeys::PublicKey(v) => Ok(v.clone()),
            AlipayKeys::Certificates(store) => {
                let sn = sn.filter(|s| !s.is_empty()).ok_or_else(|| {
                    Error::signature(format!(
                        "certificate mode: the response to {method} carries no alipay_cert_sn"
                    ))
                })?;
                self.verifier_for_sn(store, sn).await
            }
        }
    }
}

/// A verified (or, for errors only, unverified) response node.
#[derive(Debug)]
pub(crate) struct V2Node {
    /// The node's JSON text, decrypted.
    pub(crate) text: String,
    pub(crate) error_response: bool,
    pub(crate) trace_id: Option<String>,
}

impl V2Node {
    /// The business fields as `T`, or the API error when `code` is not `10000`.
    pub(crate) fn decode<T: DeserializeOwned>(self, method: &str) -> Result<T, Error> {
        let probe: Probe = serde_json::from_str(&self.text).map_err(|e| {
            Error::decode(
                None,
                format!("the {method} response node is not a JSON object: {e}"),
            )
            .with_source(e)
        })?;
        if probe.is_failure() || self.error_response {
            let node = parse_node(method, &self.text)?;
            return Err(api_error_of(&node, true, self.trace_id).map_or_else(
                || Error::decode(None, format!("the {method} error node has no code")),
                Error::from_api,
            ));
        }
        decode_json(method, &self.text)
    }
}

/// Decodes JSON text as `T`, naming the JSON path on failure.
pub(crate) fn decode_json<T: DeserializeOwned>(method: &str, text: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::decode(
            Some(path.clone()),
            format!("cannot decode the {method} response at `{path}`: {inner}"),
        )
        .with_source(inner)
    })
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    code: Option<String>,
}

impl Probe {
    fn is_failure(&self) -> bool {
        self.code.as_deref().is_some_and(|c| c != "10000")
    }
}

fn parse_node(method: &str, text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::decode(None, format!("the {method} response node is not JSON: {e}")).with_source(e)
    })
}

/// The API error of a node whose `code` is present and not `10000`.
fn api_error_of(
    node: &serde_json::Value,
    verified: bool,
    trace_id: Option<String>,
) -> Option<ApiError> {
    let code = node.get("code")?.as_str()?;
    if code == "10000" {
        return None;
    }
    let text = |k: &str| node.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let model = alipay_model::ApiError::new(
        code,
        text("msg").unwrap_or_default(),
        text("sub_code"),
        text("sub_msg"),
    );
    Some(ApiError::v2(model, verified, node.clone(), trace_id))
}

pub(crate) fn header(response: &http::Response<Bytes>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The charset of the `Content-Type` header, when it names one we know.
fn response_charset(response: &http::Response<Bytes>) -> Option<alipay_sign::Charset> {
    let ct = response
        .headers()
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let label = ct
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))?
        .1;
    alipay_sign::Charset::from_label(label.trim_matches('"')).ok()
}
