//! Certificate rotation: an unknown `alipay_cert_sn` / `alipay-sn` triggers
//! `alipay.open.app.alipaycert.download`, a chain check against the root bundle, and caching by
//! SN. Concurrent calls wait for one download.

use std::borrow::Cow;
use std::sync::Arc;

use alipay_sign::{Certificate, RsaVerifier};
use base64::Engine as _;

use crate::client::{CertStore, Client, RequestOptions};
use crate::error::Error;
use crate::v2::V2Payload;

/// The method that downloads an Alipay public-key certificate by SN.
pub const CERT_DOWNLOAD_METHOD: &str = "alipay.open.app.alipaycert.download";

impl Client {
    /// The verifier of the Alipay certificate with SN `sn`, downloading it when unknown.
    pub(crate) async fn verifier_for_sn(
        &self,
        store: &CertStore,
        sn: &str,
    ) -> Result<Arc<RsaVerifier>, Error> {
        if let Some(v) = store.get(sn) {
            return Ok(v);
        }
        let _guard = store.download.lock().await;
        if let Some(v) = store.get(sn) {
            return Ok(v);
        }
        tracing::info!(
            alipay_cert_sn = sn,
            "unknown Alipay certificate SN; downloading it"
        );
        let verifier = self.download_alipay_cert(store, sn).await?;
        store.insert(sn.to_owned(), verifier.clone());
        Ok(verifier)
    }

    async fn download_alipay_cert(
        &self,
        store: &CertStore,
        sn: &str,
    ) -> Result<Arc<RsaVerifier>, Error> {
        let fail = |why: String| {
            Error::certificate(format!(
                "the Alipay certificate with SN {sn} is unknown and could not be fetched: {why}"
            ))
        };
        let biz = serde_json::json!({ "alipay_cert_sn": sn }).to_string();
        let payload = V2Payload {
            method: CERT_DOWNLOAD_METHOD,
            biz_content: Some(Cow::Owned(biz)),
            text_params: Vec::new(),
            encrypt: false,
        };
        let signed = self.sign_v2(&payload, &RequestOptions::new())?;
        let request = self.v2_http_request(&signed, None)?;
        let response = self
            .send(request)
            .await
            .map_err(|e| fail(e.to_string()).with_source(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(fail(format!("the gateway answered HTTP {status}")));
        }
        let charset = self.inner.charset;
        let body = response.into_body();
        let parts = alipay_sign::extract_response(&body, CERT_DOWNLOAD_METHOD, charset)
            .map_err(|e| fail(e.to_string()).with_source(e))?;
        let text = charset.decode(parts.content)?;
        let node: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| fail(e.to_string()).with_source(e))?;
        if node.get("code").and_then(|c| c.as_str()) != Some("10000") {
            return Err(fail(format!("the download answered {node}")));
        }
        let content = node
            .get("alipay_cert_content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| fail("the answer has no alipay_cert_content".into()))?;
        let compact: String = content
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| fail("alipay_cert_content is not base64".into()).with_source(e))?;
        let chain =
            Certificate::parse_bundle(&pem).map_err(|e| fail(e.to_string()).with_source(e))?;
        alipay_sign::verify_chain(&chain, &store.roots, self.inner.clock.now()).map_err(|e| {
            Error::certificate(format!(
                "the downloaded Alipay certificate with SN {sn} does not chain to the root bundle: {e}"
            ))
            .with_source(e)
        })?;
        let leaf = chain.iter().find(|c| c.sn() == sn).ok_or_else(|| {
            fail(format!(
                "the downloaded certificates have SNs {}, not {sn}",
                chain
                    .iter()
                    .map(Certificate::sn)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let verifier = Arc::new(RsaVerifier::new(&leaf.public_key()?)?);
        // The download answer itself must be signed, by the new key or by one already known.
        let answer_sn = parts.alipay_cert_sn.as_deref().unwrap_or_default();
        let answer_verifier = if answer_sn == sn {
            verifier.clone()
        } else {
            store.get(answer_sn).ok_or_else(|| {
                Error::signature(format!(
                    "the certificate download answer is signed with an unknown certificate SN \"{answer_sn}\""
                ))
            })?
        };
        parts
            .verify(&*answer_verifier, self.inner.sign_type)
            .map_err(|e| {
                Error::signature("the certificate download answer does not verify").with_source(e)
            })?;
        Ok(verifier)
    }
}
