//! The one error type of the facade.

use std::error::Error as StdError;
use std::fmt;

use alipay_transport::TransportError;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// Which protocol an API error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorProtocol {
    /// A v2 gateway response node or `error_response`.
    V2,
    /// A v3 error body (HTTP status ≥ 400).
    V3,
}

/// Alipay answered, and the answer is a failure: a v2 node whose `code` is not `10000` (or an
/// `error_response`), or a v3 error body.
///
/// [`is_verified`](Self::is_verified) says whether the answer's signature was checked: an
/// unsigned gateway-level `error_response` (v2) or an unsigned v3 error body is still reported,
/// but marked unverified — do not act on its business meaning without a query.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    protocol: ErrorProtocol,
    code: String,
    msg: String,
    sub_code: Option<String>,
    sub_msg: Option<String>,
    trace_id: Option<String>,
    http_status: Option<u16>,
    verified: bool,
    node: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn v2(
        model: alipay_model::ApiError,
        verified: bool,
        node: serde_json::Value,
        trace_id: Option<String>,
    ) -> Self {
        ApiError {
            protocol: ErrorProtocol::V2,
            code: model.code,
            msg: model.msg,
            sub_code: model.sub_code,
            sub_msg: model.sub_msg,
            trace_id,
            http_status: None,
            verified,
            node: Some(node),
        }
    }

    pub(crate) fn v3(
        code: String,
        message: String,
        http_status: u16,
        trace_id: Option<String>,
        verified: bool,
        body: Option<serde_json::Value>,
    ) -> Self {
        ApiError {
            protocol: ErrorProtocol::V3,
            code,
            msg: message,
            sub_code: None,
            sub_msg: None,
            trace_id,
            http_status: Some(http_status),
            verified,
            node: body,
        }
    }

    /// v2 or v3.
    pub fn protocol(&self) -> ErrorProtocol {
        self.protocol
    }

    /// v2: the gateway code (`40004`); v3: the error code (`ACQ.TRADE_NOT_EXIST`,
    /// `invalid-auth-token`).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// v2: `msg` (`Business Failed`); v3: `message`.
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// v2 `sub_code` (`ACQ.TRADE_NOT_EXIST`).
    pub fn sub_code(&self) -> Option<&str> {
        self.sub_code.as_deref()
    }

    /// v2 `sub_msg`.
    pub fn sub_msg(&self) -> Option<&str> {
        self.sub_msg.as_deref()
    }

    /// The trace id: the v3 `alipay-trace-id` header (or the v2 response's, when sent).
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// The HTTP status of a v3 error.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// Whether the answer's signature was verified.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    /// The whole decoded node (v2) or error body (v3), as received: for `10003` the business
    /// fields (`trade_no`, …) are here.
    pub fn node(&self) -> Option<&serde_json::Value> {
        self.node.as_ref()
    }

    /// The v2 code quadruple as the model's [`alipay_model::ApiError`] (for its retry and
    /// outcome knowledge); v3 codes map to `code` with the message in `msg` and the v3 code
    /// also in `sub_code` (so `ACQ.SYSTEM_ERROR` is recognised).
    pub fn to_model(&self) -> alipay_model::ApiError {
        match self.protocol {
            ErrorProtocol::V2 => alipay_model::ApiError::new(
                self.code.clone(),
                self.msg.clone(),
                self.sub_code.clone(),
                self.sub_msg.clone(),
            ),
            ErrorProtocol::V3 => alipay_model::ApiError::new(
                self.code.clone(),
                self.msg.clone(),
                Some(self.code.clone()),
                None,
            ),
        }
    }

    /// Resending may succeed: `20000`, or a `*.SYSTEM_ERROR` / `unknow-error` code. Whether it is
    /// *safe* depends on the operation (the client decides that for its own retries).
    pub fn is_retryable(&self) -> bool {
        match self.protocol {
            ErrorProtocol::V2 => self.to_model().is_retryable(),
            ErrorProtocol::V3 => {
                let c = self.code.as_str();
                c == "SYSTEM_ERROR" || c.ends_with(".SYSTEM_ERROR") || c.ends_with("unknow-error")
            }
        }
    }

    /// The outcome of a state-changing call is unknown (`10003`, `20000`, `*.SYSTEM_ERROR`):
    /// query before acting again.
    pub fn is_unknown_outcome(&self) -> bool {
        match self.protocol {
            ErrorProtocol::V2 => self.to_model().is_unknown_outcome(),
            ErrorProtocol::V3 => self.is_retryable(),
        }
    }

    /// The error as the CLI prints it: v2 `{code, msg, sub_code, sub_msg}`, v3
    /// `{code, message, http_status}` — exactly the fields of CLI.md; the trace id is in
    /// [`trace_id`](Self::trace_id).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("code".into(), self.code.clone().into());
        match self.protocol {
            ErrorProtocol::V2 => {
                m.insert("msg".into(), self.msg.clone().into());
                if let Some(s) = &self.sub_code {
                    m.insert("sub_code".into(), s.clone().into());
                }
                if let Some(s) = &self.sub_msg {
                    m.insert("sub_msg".into(), s.clone().into());
                }
            }
            ErrorProtocol::V3 => {
                m.insert("message".into(), self.msg.clone().into());
                if let Some(s) = self.http_status {
                    m.insert("http_status".into(), s.into());
                }
            }
        }
        serde_json::Value::Object(m)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.http_status {
            write!(f, "HTTP {status} ")?;
        }
        write!(f, "{} {}", self.code, self.msg)?;
        if let Some(sub_code) = &self.sub_code {
            write!(f, ": {sub_code}")?;
        }
        if let Some(sub_msg) = &self.sub_msg {
            write!(f, " ({sub_msg})")?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, " [trace {t}]")?;
        }
        if !self.verified {
            f.write_str(" (unsigned answer)")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in a call.
///
/// Opaque: ask with the predicates. [`is_api`](Self::is_api) — Alipay answered with a
/// failure ([`api`](Self::api) has the codes); [`is_transport`](Self::is_transport) — no usable
/// HTTP answer; [`is_signature`](Self::is_signature) — the answer cannot be trusted;
/// [`is_decode`](Self::is_decode) — a trusted answer does not have the expected shape
/// ([`decode_path`](Self::decode_path) names the JSON path).
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Source>,
}

#[derive(Debug)]
enum Kind {
    Api(Box<ApiError>),
    Transport { timeout: bool },
    HttpStatus(u16),
    Signature,
    Certificate,
    Decode(Option<String>),
    Config,
    Request,
    Bill,
    Io,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn from_api(err: ApiError) -> Self {
        let message = format!("Alipay returned an error: {err}");
        Self::new(Kind::Api(Box::new(err)), message)
    }

    pub(crate) fn transport(err: TransportError) -> Self {
        let timeout = err.is_timeout();
        Self::new(Kind::Transport { timeout }, "the HTTP exchange failed").with_source(err)
    }

    /// A transport failure with context (which exchange, how far it got).
    #[cfg_attr(
        not(feature = "bill"),
        allow(dead_code, reason = "bills need the `bill` feature")
    )]
    pub(crate) fn transport_with(message: impl Into<String>, err: TransportError) -> Self {
        let timeout = err.is_timeout();
        Self::new(Kind::Transport { timeout }, message).with_source(err)
    }

    /// A bill file that cannot be read; the source is the `alipay_bill::Error`.
    #[cfg_attr(
        not(feature = "bill"),
        allow(dead_code, reason = "bills need the `bill` feature")
    )]
    pub(crate) fn bill(message: impl Into<String>) -> Self {
        Self::new(Kind::Bill, message)
    }

    /// A local file could not be created, written or renamed; the source is the I/O error.
    #[cfg_attr(
        not(feature = "bill"),
        allow(dead_code, reason = "bills need the `bill` feature")
    )]
    pub(crate) fn io(message: impl Into<String>) -> Self {
        Self::new(Kind::Io, message)
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self::new(Kind::Transport { timeout: true }, message)
    }

    pub(crate) fn status(status: u16, message: impl Into<String>) -> Self {
        Self::new(Kind::HttpStatus(status), message)
    }

    pub(crate) fn signature(message: impl Into<String>) -> Self {
        Self::new(Kind::Signature, message)
    }

    pub(crate) fn certificate(message: impl Into<String>) -> Self {
        Self::new(Kind::Certificate, message)
    }

    pub(crate) fn decode(path: Option<String>, message: impl Into<String>) -> Self {
        Self::new(Kind::Decode(path), message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    pub(crate) fn request(message: impl Into<String>) -> Self {
        Self::new(Kind::Request, message)
    }

    /// Alipay answered with a failure; see [`api`](Self::api).
    pub fn is_api(&self) -> bool {
        matches!(self.kind, Kind::Api(_))
    }

    /// The API error, when [`is_api`](Self::is_api).
    pub fn api(&self) -> Option<&ApiError> {
        match &self.kind {
            Kind::Api(e) => Some(e),
            _ => None,
        }
    }

    /// No usable HTTP answer: connection failure, timeout, or (v2) a status other than 200.
    pub fn is_transport(&self) -> bool {
        matches!(self.kind, Kind::Transport { .. } | Kind::HttpStatus(_))
    }

    /// The request certainly never reached Alipay (the connection could not be made), so
    /// sending it again cannot duplicate it, whatever the operation.
    pub fn is_not_sent(&self) -> bool {
        matches!(self.kind, Kind::Transport { .. })
            && self
                .source
                .as_deref()
                .and_then(|s| s.downcast_ref::<TransportError>())
                .is_some_and(TransportError::is_not_sent)
    }

    /// A response body was larger than a limit: the transport's, or that of a bill download
    /// ([`bill::MAX_BILL_BYTES_IN_MEMORY`](crate::bill::MAX_BILL_BYTES_IN_MEMORY) for
    /// `download_bill`). Part of [`is_transport`](Self::is_transport).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::Transport { .. })
            && self
                .source
                .as_deref()
                .and_then(|s| s.downcast_ref::<TransportError>())
                .is_some_and(TransportError::is_too_large)
    }

    /// The call timed out (the client's total timeout or the transport's).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Transport { timeout: true })
    }

    /// The HTTP status of a v2 answer that was not `200`, or a v3 answer that was neither 2xx
    /// nor an error body.
    pub fn http_status(&self) -> Option<u16> {
        match &self.kind {
            Kind::HttpStatus(s) => Some(*s),
            Kind::Api(e) => e.http_status(),
            _ => None,
        }
    }

    /// The answer cannot be trusted: missing or bad signature, an unknown certificate SN that
    /// could not be fetched, a certificate that does not chain to the root.
    pub fn is_signature(&self) -> bool {
        matches!(self.kind, Kind::Signature | Kind::Certificate)
    }

    /// Part of [`is_signature`](Self::is_signature): a certificate problem (not chained to the
    /// root, expired, SN mismatch, download failed).
    pub fn is_certificate(&self) -> bool {
        matches!(self.kind, Kind::Certificate)
    }

    /// A trusted answer does not have the expected shape (not JSON, missing node, a field of
    /// the wrong type); [`decode_path`](Self::decode_path) names where.
    pub fn is_decode(&self) -> bool {
        matches!(self.kind, Kind::Decode(_))
    }

    /// The JSON path of a decode error inside the response node, e.g. `fund_bill_list[0].amount`.
    pub fn decode_path(&self) -> Option<&str> {
        match &self.kind {
            Kind::Decode(p) => p.as_deref(),
            _ => None,
        }
    }

    /// The client configuration is unusable (a key of the wrong kind, a bad URL, …).
    pub fn is_config(&self) -> bool {
        matches!(self.kind, Kind::Config)
    }

    /// The request cannot be built (not JSON, charset, no v3 route, encryption not possible).
    pub fn is_request(&self) -> bool {
        matches!(self.kind, Kind::Request)
    }

    /// A bill could not be read: the downloaded file is not a ZIP or a bill CSV, a table is
    /// malformed, or a bill value (a date) does not parse. The source is the `alipay-bill`
    /// error, which names the entry, line and column.
    pub fn is_bill(&self) -> bool {
        matches!(self.kind, Kind::Bill)
    }

    /// A local file could not be created, written or renamed (a bill saved to disk); the source
    /// is the [`std::io::Error`].
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io)
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

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A bill error: [`Error::is_bill`], with the `alipay-bill` error as its source. So `?` works
/// on bill dates and table readers in functions that return this error.
#[cfg(feature = "bill")]
impl From<alipay_bill::Error> for Error {
    fn from(e: alipay_bill::Error) -> Self {
        Error::new(Kind::Bill, e.to_string()).with_source(e)
    }
}

impl From<alipay_sign::Error> for Error {
    fn from(e: alipay_sign::Error) -> Self {
        let message = e.to_string();
        let kind = if e.is_invalid_signature() {
            Kind::Signature
        } else if e.is_certificate() {
            Kind::Certificate
        } else if e.is_response() {
            Kind::Decode(None)
        } else if e.is_key() || e.is_unsupported() {
            Kind::Config
        } else {
            Kind::Request
        };
        Error::new(kind, message).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let e = Error::transport(TransportError::timeout("slow"));
        assert!(e.is_transport() && e.is_timeout() && !e.is_api());
        assert_eq!(e.source().unwrap().to_string(), "slow");
        assert!(!e.is_not_sent());
        assert!(Error::transport(TransportError::connect("refused")).is_not_sent());
        let e = Error::status(503, "HTTP 503");
        assert!(e.is_transport() && !e.is_timeout());
        assert_eq!(e.http_status(), Some(503));
        assert!(Error::certificate("x").is_signature());
        let d = Error::decode(Some("a.b[0]".into()), "bad");
        assert!(d.is_decode());
        assert_eq!(d.decode_path(), Some("a.b[0]"));
        let api = ApiError::v3(
            "ACQ.SYSTEM_ERROR".into(),
            "busy".into(),
            500,
            Some("t1".into()),
            true,
            None,
        );
        assert!(api.is_retryable());
        assert_eq!(
            api.to_json(),
            serde_json::json!({"code":"ACQ.SYSTEM_ERROR","message":"busy","http_status":500})
        );
        let e = Error::transport_with(
            "GET http://h/bill: 3 bytes received",
            TransportError::too_large("big"),
        );
        assert!(e.is_transport() && e.is_too_large() && !e.is_timeout());
        assert_eq!(e.to_string(), "GET http://h/bill: 3 bytes received");
        assert!(!Error::timeout("x").is_too_large());
        let e = Error::transport_with("slow", TransportError::timeout("idle"));
        assert!(e.is_timeout() && !e.is_too_large());
        let io = Error::io("cannot create /x.part")
            .with_source(std::io::Error::new(std::io::ErrorKind::NotFound, "no dir"));
        assert!(io.is_io() && !io.is_transport() && !io.is_bill());
        assert_eq!(io.source().unwrap().to_string(), "no dir");
        assert!(Error::bill("not a ZIP").is_bill());
        let e = Error::from_api(api);
        assert!(e.is_api());
        assert_eq!(
            e.to_string(),
            "Alipay returned an error: HTTP 500 ACQ.SYSTEM_ERROR busy [trace t1]"
        );
    }
}
