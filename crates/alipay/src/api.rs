//! The calling surface: `execute` (typed), `call` (JSON, v2), `call_v3` (JSON, v3), with
//! retries and a tracing span per call.

use std::borrow::Cow;
use std::future::Future;
use std::time::Instant;

use alipay_model::AlipayRequest;
use alipay_transport::HttpRequest;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::client::{Client, Protocol, RequestOptions};
use crate::encode::{random_hex, random_u64};
use crate::error::Error;
use crate::multipart::Multipart;
use crate::retry::{self, Safety};
use crate::v2::{V2Payload, decode_json};
use crate::v3::V3Payload;

impl Client {
    /// Sends one request through the transport, bounded by the client's timeout.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<http::Response<Bytes>, Error> {
        let fut = self.inner.transport.send(request);
        match self.inner.timeout {
            Some(limit) => match tokio::time::timeout(limit, fut).await {
                Ok(r) => r.map_err(Error::transport),
                Err(_) => Err(Error::timeout(format!(
                    "no response within {} ms",
                    limit.as_millis()
                ))),
            },
            None => fut.await.map_err(Error::transport),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry budget is spent; only
    /// operations that are safe to resend are retried. One `alipay.call` span per call.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        operation: &str,
        protocol: Protocol,
        safety: Safety,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let span = tracing::info_span!(
            "alipay.call",
            method = operation,
            protocol = protocol.as_str(),
            retries = Empty,
            trace_id = Empty,
            latency_ms = Empty,
            outcome = Empty,
        );
        let policy = &self.inner.retry;
        let max = if safety == Safety::Safe {
            policy.max_attempts.max(1)
        } else {
            1
        };
        async move {
            let started = Instant::now();
            let mut n = 0u32;
            let result = loop {
                n += 1;
                match attempt().await {
                    Err(e)
                        if (n < max && retry::is_retryable(&e))
                            || (n < policy.max_attempts && e.is_not_sent()) =>
                    {
                        let delay = policy.delay(n, random_u64());
                        tracing::warn!(
                            attempt = n,
                            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                            error = %e,
                            "retrying"
                        );
                        tokio::time::sleep(delay).await;
                    }
                    r => break r,
                }
            };
            let span = tracing::Span::current();
            span.record("retries", n - 1);
            span.record(
                "latency_ms",
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
            match &result {
                Ok(_) => {
                    span.record("outcome", "ok");
                }
                Err(e) => {
                    if let Some(t) = e.api().and_then(|a| a.trace_id()) {
                        span.record("trace_id", t);
                    }
                    span.record(
                        "outcome",
                        if e.is_api() {
                            "api_error"
                        } else if e.is_signature() {
                            "untrusted"
                        } else if e.is_transport() {
                            "transport_error"
                        } else {
                            "error"
                        },
                    );
                    tracing::debug!(error = %e, "call failed");
                }
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Executes a typed request with the default options: v2, or v3 when the client's protocol
    /// is v3 and the operation has a v3 route. Returns the verified business fields; a `code`
    /// other than `10000` (v2) or an HTTP status ≥ 400 (v3) is an [`Error`] with
    /// [`is_api`](Error::is_api).
    ///
    /// ```no_run
    /// # async fn demo(client: alipay::Client) -> Result<(), alipay::Error> {
    /// use alipay::model::{TradeRef, trade::QueryRequest};
    /// let trade = client.execute(&QueryRequest::new(TradeRef::out_trade_no("T1"))).await?;
    /// println!("{:?}", trade.trade_status);
    /// # Ok(()) }
    /// ```
    pub async fn execute<R: AlipayRequest>(&self, request: &R) -> Result<R::Response, Error> {
        self.execute_with(request, &RequestOptions::new()).await
    }

    /// [`execute`](Self::execute) with per-call options.
    pub async fn execute_with<R: AlipayRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<R::Response, Error> {
        let protocol = options.protocol.unwrap_or(self.inner.protocol);
        if protocol == Protocol::V3 && R::V3.is_some() {
            self.execute_v3(request, options).await
        } else {
            self.execute_v2(request, options).await
        }
    }

    async fn execute_v2<R: AlipayRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<R::Response, Error> {
        let method = R::METHOD;
        let mut files = None;
        let (biz_content, text_params, biz_value) = if R::UPLOAD {
            let value = serde_json::to_value(request).map_err(|e| {
                Error::request(format!("cannot serialise the {method} request")).with_source(e)
            })?;
            let mut text = Vec::new();
            if let Value::Object(map) = &value {
                for (k, v) in map {
                    match v {
                        Value::Null => {}
                        Value::String(s) => text.push((k.clone(), s.clone())),
                        other => text.push((k.clone(), other.to_string())),
                    }
                }
            }
            let mut m = Multipart::new();
            for part in request.files() {
                m.file(part.name, part.file);
            }
            files = Some(m);
            (None, text, Some(value))
        } else {
            let biz = request.biz_content().map_err(|e| {
                Error::request(format!("cannot serialise the {method} request")).with_source(e)
            })?;
            let value = retry::needs_content(method)
                .then(|| serde_json::from_str::<Value>(&biz).ok())
                .flatten();
            (Some(Cow::Owned(biz)), Vec::new(), value)
        };
        let encrypt = self.encrypt_call(options)?;
        let encrypt = if R::UPLOAD {
            if options.encrypt == Some(true) {
                return Err(Error::request(format!(
                    "{method} is a multipart upload, which cannot be encrypted"
                )));
            }
            false
        } else {
            encrypt
        };
        let payload = V2Payload {
            method,
            biz_content,
            text_params,
            encrypt,
        };
        let safety = retry::safety(method, biz_value.as_ref());
        self.retrying(method, Protocol::V2, safety, || async {
            self.v2_attempt(&payload, options, files.as_ref())
                .await?
                .decode::<R::Response>(method)
        })
        .await
    }

    async fn execute_v3<R: AlipayRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<R::Response, Error> {
        let method = R::METHOD;
        let parts = request.v3_parts().map_err(|e| {
            Error::request(format!("cannot build the v3 request of {method}: {e}")).with_source(e)
        })?;
        let files = if R::UPLOAD {
            let mut m = Multipart::new();
            for part in request.files() {
                m.file(part.name, part.file);
            }
            Some(m)
        } else {
            None
        };
        let encrypt = self.encrypt_call(options)? && parts.body.is_some();
        let encrypt = if files.is_some() {
            if options.encrypt == Some(true) {
                return Err(Error::request(format!(
                    "{method} is a multipart upload, which cannot be encrypted"
                )));
            }
            false
        } else {
            encrypt
        };
        let body_value = parts
            .body
            .as_deref()
            .filter(|_| retry::needs_content(method))
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        let request_id = options.request_id.clone().unwrap_or_else(random_hex);
        let payload = V3Payload {
            operation: method,
            http_method: parts.method.as_str(),
            path: &parts.path,
            query: &parts.query,
            body: parts.body.as_deref(),
            files: files.as_ref(),
            encrypt,
            request_id: &request_id,
        };
        let safety = retry::safety(method, body_value.as_ref());
        self.retrying(method, Protocol::V3, safety, || async {
            let reply = self.v3_attempt(&payload, options).await?;
            decode_json::<R::Response>(method, &reply.body)
        })
        .await
    }

    /// Calls any v2 method with a JSON `biz_content` and returns the verified response node
    /// (with `code` and `msg`). Encrypts when an AES key is configured.
    pub async fn call(&self, method: &str, biz: &Value) -> Result<Value, Error> {
        self.call_with(method, biz, &RequestOptions::new()).await
    }

    /// [`call`](Self::call) with per-call options. A `null` `biz` sends no `biz_content`.
    pub async fn call_with(
        &self,
        method: &str,
        biz: &Value,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        let biz_content = match biz {
            Value::Null => None,
            Value::Object(_) => Some(Cow::Owned(biz.to_string())),
            _ => {
                return Err(Error::request(format!(
                    "the biz_content of {method} must be a JSON object"
                )));
            }
        };
        let encrypt = self.encrypt_call(options)? && biz_content.is_some();
        let payload = V2Payload {
            method,
            biz_content,
            text_params: Vec::new(),
            encrypt,
        };
        let safety = retry::safety(method, Some(biz));
        self.retrying(method, Protocol::V2, safety, || async {
            self.v2_attempt(&payload, options, None)
                .await?
                .decode::<Value>(method)
        })
        .await
    }

    /// Calls any v3 operation: `http_method` (`GET`, `POST`, …), a path under `/v3/` (with its
    /// path parameters already in place), query parameters (unencoded), and an optional JSON
    /// body. Returns the verified JSON answer.
    pub async fn call_v3(
        &self,
        http_method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        let operation = retry::v3_operation_name(path);
        let method = http::Method::from_bytes(http_method.as_bytes()).map_err(|e| {
            Error::request(format!("\"{http_method}\" is not an HTTP method")).with_source(e)
        })?;
        if !path.starts_with('/') {
            return Err(Error::request(format!(
                "the v3 path \"{path}\" must start with /v3/"
            )));
        }
        let body_text = body.map(Value::to_string);
        let encrypt = self.encrypt_call(options)? && body_text.is_some();
        let request_id = options.request_id.clone().unwrap_or_else(random_hex);
        let payload = V3Payload {
            operation: &operation,
            http_method: method.as_str(),
            path,
            query,
            body: body_text.as_deref(),
            files: None,
            encrypt,
            request_id: &request_id,
        };
        let safety = retry::safety(&operation, body);
        self.retrying(&operation, Protocol::V3, safety, || async {
            let reply = self.v3_attempt(&payload, options).await?;
            decode_json::<Value>(&operation, &reply.body)
        })
        .await
    }

    /// Calls a v3 operation by its method name, routed by the generated table of every operation
    /// of the OpenAPI description ([`alipay_model::v3_route`]): its HTTP method, its path with
    /// the path parameters taken from `body`, its query parameters taken from `body`, and the
    /// remaining fields as the JSON body — so `alipay.trade.advance.consult` becomes
    /// `GET /v3/alipay/trade/advance/consult?…` with no body. A method that is not in the table
    /// is sent as `POST /v3/<method with . → />` with `body` as it is.
    ///
    /// # Errors
    /// Those of [`call_v3`](Self::call_v3), and [`Error::is_request`] before anything is sent
    /// when a routed operation's `body` is not a JSON object, lacks a path parameter, or the
    /// operation is a multipart upload (send those with their typed request, which carries the
    /// files).
    pub async fn call_v3_method(
        &self,
        method: &str,
        body: &Value,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        let Some(route) = alipay_model::v3_route(method) else {
            let path = format!("/v3/{}", method.replace('.', "/"));
            return self.call_v3("POST", &path, &[], Some(body), options).await;
        };
        if matches!(route.body, alipay_model::V3Body::Multipart { .. }) {
            return Err(Error::request(format!(
                "{method} is a multipart upload; send it with its typed request, which carries the files"
            )));
        }
        let fields = match body {
            Value::Object(map) => map.clone(),
            Value::Null => serde_json::Map::new(),
            _ => {
                return Err(Error::request(format!(
                    "the fields of {method} must be a JSON object"
                )));
            }
        };
        let parts = route
            .split(fields)
            .map_err(|e| Error::request(format!("cannot route {method} over v3")).with_source(e))?;
        let body: Option<Value> = match parts.body.as_deref() {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                Error::request(format!("the body of {method} is not JSON")).with_source(e)
            })?),
            None => None,
        };
        self.call_v3(
            parts.method.as_str(),
            &parts.path,
            &parts.query,
            body.as_ref(),
            options,
        )
        .await
    }

    /// The signed v2 parameters of a method, as they would be sent (query first, then body),
    /// and the string that was signed — for debugging `isv.invalid-signature`.
    pub fn sign_v2_params<T: Serialize + ?Sized>(
        &self,
        method: &str,
        biz: &T,
        options: &RequestOptions,
    ) -> Result<(Vec<(String, String)>, String), Error> {
        let biz = serde_json::to_string(biz).map_err(|e| {
            Error::request(format!("cannot serialise the {method} request")).with_source(e)
        })?;
        let payload = V2Payload {
            method,
            biz_content: Some(Cow::Owned(biz)),
            text_params: Vec::new(),
            encrypt: self.encrypt_call(options)?,
        };
        let signed = self.sign_v2(&payload, options)?;
        let params = signed
            .all()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok((params, signed.content))
    }

    /// `alipay.data.dataservice.bill.downloadurl.query`: the URL of the bill of `bill_type`
    /// (`trade`, `signcustomer`) for `bill_date` (`yyyy-MM-dd` or `yyyy-MM`), over the client's
    /// protocol. The URL is short-lived; fetch it with [`download`](Self::download).
    pub async fn bill_download_url(
        &self,
        bill_type: &str,
        bill_date: &str,
    ) -> Result<String, Error> {
        const METHOD: &str = "alipay.data.dataservice.bill.downloadurl.query";
        let answer = match self.inner.protocol {
            Protocol::V2 => {
                let biz = serde_json::json!({ "bill_type": bill_type, "bill_date": bill_date });
                self.call(METHOD, &biz).await?
            }
            Protocol::V3 => {
                let query = [
                    ("bill_type".to_owned(), bill_type.to_owned()),
                    ("bill_date".to_owned(), bill_date.to_owned()),
                ];
                self.call_v3(
                    "GET",
                    "/v3/alipay/data/dataservice/bill/downloadurl/query",
                    &query,
                    None,
                    &RequestOptions::new(),
                )
                .await?
            }
        };
        answer
            .get("bill_download_url")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::decode(
                    Some("bill_download_url".to_owned()),
                    format!("the {METHOD} answer has no bill_download_url"),
                )
            })
    }

    /// Fetches a URL with `GET` through the client's transport (bill files). Anything but
    /// `200` is an error with [`Error::http_status`].
    pub async fn download(&self, url: &str) -> Result<Bytes, Error> {
        let request = http::Request::get(url)
            .header(http::header::USER_AGENT, crate::USER_AGENT)
            .body(Bytes::new())
            .map_err(|e| Error::request("the download URL is not usable").with_source(e))?;
        let response = self.send(request).await?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::status(
                status,
                format!("the download answered HTTP {status}"),
            ));
        }
        Ok(response.into_body())
    }
}
