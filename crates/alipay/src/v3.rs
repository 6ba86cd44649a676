//! The v3 pipeline: path, query and JSON body, the `Authorization` header, AES bodies, multipart
//! uploads; response verification from the `alipay-*` headers; error bodies.

use alipay_sign::AuthString;
use alipay_transport::HttpRequest;
use bytes::Bytes;

use crate::client::{AlipayKeys, Client, RequestOptions};
use crate::clock::unix_millis;
use crate::encode::{random_hex, v3_target};
use crate::error::{ApiError, Error};
use crate::multipart::Multipart;
use crate::v2::header;

/// What a v3 request carries.
pub(crate) struct V3Payload<'a> {
    /// For logs and errors: `alipay.trade.query`.
    pub(crate) operation: &'a str,
    pub(crate) http_method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(String, String)],
    /// The JSON body (or the multipart `data` part).
    pub(crate) body: Option<&'a str>,
    /// File parts: the request is `multipart/form-data`.
    pub(crate) files: Option<&'a Multipart>,
    pub(crate) encrypt: bool,
    pub(crate) request_id: &'a str,
}

/// A verified 2xx v3 answer: its body, decrypted.
#[derive(Debug)]
pub(crate) struct V3Reply {
    pub(crate) body: String,
}

impl Client {
    pub(crate) fn v3_http_request(
        &self,
        payload: &V3Payload<'_>,
        options: &RequestOptions,
    ) -> Result<HttpRequest, Error> {
        let i = &self.inner;
        let target = v3_target(payload.path, payload.query);
        let (body_text, content_type, bytes) = match (payload.files, payload.body, payload.encrypt)
        {
            (Some(_), _, true) => {
                return Err(Error::request(format!(
                    "{} is a multipart upload, which cannot be encrypted",
                    payload.operation
                )));
            }
            (Some(files), data, false) => {
                let mut m = files.clone();
                if let Some(data) = data {
                    m.json("data", data);
                }
                (
                    data.unwrap_or_default().to_owned(),
                    m.content_type(),
                    m.finish(),
                )
            }
            (None, Some(body), true) => {
                let aes = i.aes.as_ref().ok_or_else(|| {
                    Error::config("encryption was requested but no AES key is configured")
                })?;
                let ct = aes.encrypt(body.as_bytes());
                (ct.clone(), "text/plain".to_owned(), Bytes::from(ct))
            }
            (None, Some(body), false) => (
                body.to_owned(),
                "application/json".to_owned(),
                Bytes::from(body.to_owned()),
            ),
            (None, None, _) => (String::new(), String::new(), Bytes::new()),
        };
        let mut auth = AuthString::new(i.app_id.clone(), random_hex(), unix_millis(i.clock.now()));
        if let AlipayKeys::Certificates(store) = &i.keys {
            auth = auth.with_app_cert_sn(store.app_cert_sn.clone());
        }
        let token = options.app_auth_token.as_deref().filter(|t| !t.is_empty());
        let signed = alipay_sign::v3_sign_request(
            &*i.signer,
            &auth,
            payload.http_method,
            &target,
            &body_text,
            token,
        )?;
        let url = format!("{}{}", i.environment.v3_endpoint(), target);
        let mut b = http::Request::builder()
            .method(payload.http_method)
            .uri(url)
            .header(http::header::AUTHORIZATION, signed.authorization)
            .header("alipay-request-id", payload.request_id)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, crate::USER_AGENT)
            .header("alipay-sdk-version", crate::USER_AGENT);
        if !content_type.is_empty() {
            b = b.header(http::header::CONTENT_TYPE, content_type);
        }
        if payload.encrypt {
            b = b
                .header("alipay-encrypt-type", "AES")
                .header("alipay-encryption-algm", "AES");
        }
        if let Some(token) = token {
            b = b.header("alipay-app-auth-token", token);
        }
        if let AlipayKeys::Certificates(store) = &i.keys {
            b = b.header("alipay-root-cert-sn", store.root_cert_sn.as_str());
        }
        b.body(bytes).map_err(|e| {
            Error::request(format!(
                "cannot build the v3 request for {}: a header or the URL is invalid",
                payload.operation
            ))
            .with_source(e)
        })
    }

    /// One v3 attempt: sign, send, verify, decrypt.
    pub(crate) async fn v3_attempt(
        &self,
        payload: &V3Payload<'_>,
        options: &RequestOptions,
    ) -> Result<V3Reply, Error> {
        let request = self.v3_http_request(payload, options)?;
        let response = self.send(request).await?;
        self.read_v3(payload, response).await
    }

    async fn read_v3(
        &self,
        payload: &V3Payload<'_>,
        response: http::Response<Bytes>,
    ) -> Result<V3Reply, Error> {
        let op = payload.operation;
        let status = response.status().as_u16();
        let trace_id = header(&response, "alipay-trace-id");
        if let Some(t) = &trace_id {
            tracing::Span::current().record("trace_id", t.as_str());
        }
        let signature =
            header(&response, "alipay-signature").filter(|s| !s.is_empty() && s != "null");
        let verified = match signature {
            Some(sig) => {
                self.verify_v3(op, &response, &sig).await?;
                true
            }
            None if (200..300).contains(&status) => {
                return Err(Error::signature(format!(
                    "the v3 response to {op} is not signed (no alipay-signature)"
                )));
            }
            None => false,
        };
        let encrypted_answer = payload.encrypt
            || header(&response, "alipay-encrypt-type")
                .is_some_and(|v| v.eq_ignore_ascii_case("AES"));
        let body = response.into_body();
        if (200..300).contains(&status) {
            let text = if encrypted_answer && !body.is_empty() && body.first() != Some(&b'{') {
                self.decrypt_v3(op, &body)?
            } else {
                String::from_utf8(body.to_vec()).map_err(|e| {
                    Error::decode(None, format!("the v3 response to {op} is not UTF-8"))
                        .with_source(e)
                })?
            };
            return Ok(V3Reply {
                body: if text.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    text
                },
            });
        }
        if status >= 400 {
            let text = match std::str::from_utf8(&body) {
                Ok(t) if t.trim_start().starts_with('{') => t.to_owned(),
                _ if encrypted_answer => self.decrypt_v3(op, &body).unwrap_or_default(),
                _ => String::new(),
            };
            let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
            let field = |k: &str| {
                json.as_ref()
                    .and_then(|j| j.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            if let Some(code) = field("code") {
                return Err(Error::from_api(ApiError::v3(
                    code,
                    field("message").unwrap_or_default(),
                    status,
                    trace_id,
                    verified,
                    json,
                )));
            }
        }
        Err(Error::status(
            status,
            format!("the v3 gateway answered HTTP {status} to {op}"),
        ))
    }

    fn decrypt_v3(&self, op: &str, body: &[u8]) -> Result<String, Error> {
        let aes = self.inner.aes.as_ref().ok_or_else(|| {
            Error::config(format!(
                "the v3 response to {op} is encrypted but no AES key is configured"
            ))
        })?;
        let text = std::str::from_utf8(body).map_err(|e| {
            Error::decode(
                None,
                format!("the encrypted v3 response to {op} is not text"),
            )
            .with_source(e)
        })?;
        let plain = aes.decrypt(text.trim()).map_err(|e| {
            Error::decode(None, format!("cannot decrypt the v3 response to {op}: {e}"))
                .with_source(e)
        })?;
        String::from_utf8(plain).map_err(|e| {
            Error::decode(
                None,
                format!("the decrypted v3 response to {op} is not UTF-8"),
            )
            .with_source(e)
        })
    }

    async fn verify_v3(
        &self,
        op: &str,
        response: &http::Response<Bytes>,
        signature: &str,
    ) -> Result<(), Error> {
        let missing = |h: &str| {
            Error::signature(format!(
                "the v3 response to {op} is signed but has no {h} header"
            ))
        };
        let timestamp =
            header(response, "alipay-timestamp").ok_or_else(|| missing("alipay-timestamp"))?;
        let nonce = header(response, "alipay-nonce").ok_or_else(|| missing("alipay-nonce"))?;
        let verifier = match &self.inner.keys {
            AlipayKeys::PublicKey(v) => v.clone(),
            AlipayKeys::Certificates(store) => {
                let sn = header(response, "alipay-sn")
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        Error::signature(format!(
                            "certificate mode: the v3 response to {op} carries no alipay-sn"
                        ))
                    })?;
                self.verifier_for_sn(store, &sn).await?
            }
        };
        alipay_sign::v3_verify_response(&*verifier, &timestamp, &nonce, signature, response.body())
            .map_err(|e| {
                Error::signature(format!(
                    "the signature of the v3 response to {op} does not verify"
                ))
                .with_source(e)
            })
    }
}
