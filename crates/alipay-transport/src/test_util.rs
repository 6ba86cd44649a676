//! Test doubles (feature `test-util`): [`CapturingTransport`] records every request and
//! answers from a responder; [`ReplayTransport`] answers from recorded exchanges chosen by
//! [`RequestMatcher`]s.
//!
//! ```
//! use alipay_transport::test_util::{RecordedResponse, ReplayTransport, RequestMatcher};
//! use alipay_transport::HttpTransport;
//!
//! let replay = ReplayTransport::new()
//!     .exchange(
//!         RequestMatcher::new().method("POST").path("/gateway.do").query("method", "alipay.trade.query"),
//!         RecordedResponse::new(200, r#"{"ok":true}"#).header("content-type", "application/json"),
//!     );
//! let request = http::Request::post("http://127.0.0.1/gateway.do?method=alipay.trade.query")
//!     .body(bytes::Bytes::new())?;
//! # let waker = std::task::Waker::noop();
//! # let mut cx = std::task::Context::from_waker(&waker);
//! # let mut fut = replay.send(request);
//! # let response = loop { if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) { break r; } }?;
//! assert_eq!(response.body().as_ref(), br#"{"ok":true}"#);
//! assert!(replay.unused().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use crate::{
    BodyStream, BoxFuture, HttpRequest, HttpResponse, HttpTransport, StreamingResponse,
    TransportError,
};

/// A copy of a request as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The full URI.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RecordedRequest {
    fn of(request: &HttpRequest) -> Self {
        RecordedRequest {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            body: request.body().clone(),
        }
    }

    /// Query parameters, form-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }

    /// The first query parameter named `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Body parameters of an `application/x-www-form-urlencoded` body, decoded, in order.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The first body (form) parameter named `name`.
    pub fn form(&self, name: &str) -> Option<String> {
        self.form_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A canned response.
///
/// Through [`HttpTransport::send_streaming`] of a [`ReplayTransport`], the body comes in chunks
/// of [`chunk_size`](Self::chunk_size) bytes (default: one chunk), and can be made to break off
/// ([`break_after`](Self::break_after)) to test what a reader does with a truncated download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedResponse {
    /// Status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
    /// Streamed bodies come in chunks of this many bytes (`None`: one chunk).
    pub chunk_size: Option<usize>,
    /// The body breaks off after this many bytes with an error for which
    /// [`TransportError::is_body`] holds (`None`: it is complete).
    pub break_after: Option<usize>,
}

impl RecordedResponse {
    /// A response with a status and a body.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        RecordedResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
            chunk_size: None,
            break_after: None,
        }
    }

    /// Streams the body in chunks of `size` bytes (at least 1).
    #[must_use]
    pub fn chunk_size(mut self, size: usize) -> Self {
        self.chunk_size = Some(size.max(1));
        self
    }

    /// Breaks the body off after `bytes` bytes: `send` fails, and a streamed body yields those
    /// bytes and then an error.
    #[must_use]
    pub fn break_after(mut self, bytes: usize) -> Self {
        self.break_after = Some(bytes);
        self
    }

    fn broken(&self, received: usize) -> TransportError {
        TransportError::body(format!(
            "the recorded body broke off after {received} bytes"
        ))
    }

    /// Builds the streaming `http` response: the body in chunks, broken off where configured.
    pub fn to_streaming_response(&self) -> Result<StreamingResponse, TransportError> {
        let head = self.head();
        let end = self
            .break_after
            .map_or(self.body.len(), |n| n.min(self.body.len()));
        let chunks = RecordedChunks {
            body: self.body.slice(..end),
            chunk_size: self.chunk_size.unwrap_or(usize::MAX),
            error: self.break_after.map(|_| self.broken(end)),
        };
        head.body(BodyStream::from_stream(chunks)).map_err(|e| {
            TransportError::invalid_request("the recorded response is not a valid HTTP response")
                .with_source(e)
        })
    }

    fn head(&self) -> http::response::Builder {
        let mut builder = http::Response::builder().status(self.status);
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Builds the `http` response; a bad status or header is an error, and so is a body that
    /// [breaks off](Self::break_after).
    pub fn to_response(&self) -> Result<HttpResponse, TransportError> {
        if let Some(n) = self.break_after {
            return Err(self.broken(n.min(self.body.len())));
        }
        self.head().body(self.body.clone()).map_err(|e| {
            TransportError::invalid_request("the recorded response is not a valid HTTP response")
                .with_source(e)
        })
    }
}

/// The body of a [`RecordedResponse`] in chunks, then its error, if any.
struct RecordedChunks {
    body: Bytes,
    chunk_size: usize,
    error: Option<TransportError>,
}

impl futures_core::Stream for RecordedChunks {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.body.is_empty() {
            return std::task::Poll::Ready(this.error.take().map(Err));
        }
        let n = this.chunk_size.min(this.body.len());
        std::task::Poll::Ready(Some(Ok(this.body.split_to(n))))
    }
}

type Responder =
    dyn Fn(&RecordedRequest) -> Result<HttpResponse, TransportError> + Send + Sync + 'static;

/// Records every request, then answers it from a responder (a closure or another transport).
///
/// ```
/// use alipay_transport::test_util::{CapturingTransport, RecordedResponse};
/// use alipay_transport::HttpTransport;
///
/// let capture = CapturingTransport::responding(|_| RecordedResponse::new(200, "ok").to_response());
/// let request = http::Request::post("http://127.0.0.1/x").body(bytes::Bytes::from_static(b"a=1"))?;
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// # let mut fut = capture.send(request);
/// # let _ = loop { if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) { break r; } }?;
/// let sent = capture.requests();
/// assert_eq!(sent[0].form("a").as_deref(), Some("1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CapturingTransport {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Responder(Arc<Responder>),
    Transport(Arc<dyn HttpTransport>),
}

impl fmt::Debug for CapturingTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturingTransport")
            .field("captured", &lock(&self.requests).len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a failing test; keep the data.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CapturingTransport {
    /// Captures, then answers with `responder`.
    pub fn responding<F>(responder: F) -> Self
    where
        F: Fn(&RecordedRequest) -> Result<HttpResponse, TransportError> + Send + Sync + 'static,
    {
        CapturingTransport {
            requests: Arc::default(),
            inner: Inner::Responder(Arc::new(responder)),
        }
    }

    /// Captures, then forwards to `inner`.
    pub fn wrapping(inner: Arc<dyn HttpTransport>) -> Self {
        CapturingTransport {
            requests: Arc::default(),
            inner: Inner::Transport(inner),
        }
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Forgets the captured requests.
    pub fn clear(&self) {
        lock(&self.requests).clear();
    }
}

impl HttpTransport for CapturingTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let recorded = RecordedRequest::of(&request);
        lock(&self.requests).push(recorded.clone());
        match &self.inner {
            Inner::Responder(f) => {
                let result = f(&recorded);
                Box::pin(async move { result })
            }
            Inner::Transport(t) => t.send(request),
        }
    }

    /// Records the request; a wrapped transport streams the answer itself, a responder's
    /// answer comes as one chunk.
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        match &self.inner {
            Inner::Transport(t) => {
                lock(&self.requests).push(RecordedRequest::of(&request));
                t.send_streaming(request)
            }
            Inner::Responder(_) => crate::as_one_chunk(self.send(request)),
        }
    }
}

/// Which requests an exchange answers. Every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RequestMatcher {
    method: Option<Method>,
    path: Option<String>,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body_contains: Vec<Vec<u8>>,
}

impl RequestMatcher {
    /// Matches every request.
    pub fn new() -> Self {
        Self::default()
    }

    /// The method, e.g. `"POST"`. An unknown method name never matches.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(Method::from_bytes(method.as_bytes()).unwrap_or(Method::CONNECT));
        self
    }

    /// The exact path (without the query).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// A decoded query parameter with this value.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// A decoded form-body parameter with this value.
    pub fn form(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.form.push((name.into(), value.into()));
        self
    }

    /// A header with this exact value.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body contains these bytes.
    pub fn body_contains(mut self, needle: impl AsRef<[u8]>) -> Self {
        self.body_contains.push(needle.as_ref().to_vec());
        self
    }

    /// Whether `request` satisfies every condition.
    pub fn matches(&self, request: &RecordedRequest) -> bool {
        if self.method.as_ref().is_some_and(|m| *m != request.method) {
            return false;
        }
        if self.path.as_ref().is_some_and(|p| p != request.uri.path()) {
            return false;
        }
        if !self.query.is_empty() {
            let pairs = request.query_pairs();
            if !self.query.iter().all(|q| pairs.contains(q)) {
                return false;
            }
        }
        if !self.form.is_empty() {
            let pairs = request.form_pairs();
            if !self.form.iter().all(|q| pairs.contains(q)) {
                return false;
            }
        }
        if !self
            .headers
            .iter()
            .all(|(k, v)| request.header(k) == Some(v.as_str()))
        {
            return false;
        }
        self.body_contains.iter().all(|needle| {
            needle.is_empty()
                || request
                    .body
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice())
        })
    }
}

#[derive(Debug, Clone)]
struct Exchange {
    matcher: RequestMatcher,
    response: Result<RecordedResponse, String>,
    remaining: Option<usize>,
}

/// Answers each request with the first recorded exchange whose matcher accepts it. An exchange
/// answers once unless [`ReplayTransport::repeat`] says otherwise; a request no exchange matches
/// is a [`TransportError`] that describes it (method and path only).
#[derive(Debug, Clone, Default)]
pub struct ReplayTransport {
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    seen: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl ReplayTransport {
    /// No exchanges yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an exchange answered once.
    #[must_use]
    pub fn exchange(self, matcher: RequestMatcher, response: RecordedResponse) -> Self {
        lock(&self.exchanges).push(Exchange {
            matcher,
            response: Ok(response),
            remaining: Some(1),
        });
        self
    }

    /// Adds an exchange answered with a transport timeout error carrying `message`, once.
    #[must_use]
    pub fn failure(self, matcher: RequestMatcher, message: impl Into<String>) -> Self {
        lock(&self.exchanges).push(Exchange {
            matcher,
            response: Err(message.into()),
            remaining: Some(1),
        });
        self
    }

    /// Makes the most recently added exchange answer `times` times (`None`: forever).
    #[must_use]
    pub fn repeat(self, times: Option<usize>) -> Self {
        if let Some(last) = lock(&self.exchanges).last_mut() {
            last.remaining = times;
        }
        self
    }

    /// Matchers of exchanges that still have answers left (and are not repeated forever).
    pub fn unused(&self) -> Vec<RequestMatcher> {
        lock(&self.exchanges)
            .iter()
            .filter(|e| e.remaining.is_some_and(|n| n > 0))
            .map(|e| e.matcher.clone())
            .collect()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.seen).clone()
    }

    fn answer(&self, request: &RecordedRequest) -> Result<RecordedResponse, TransportError> {
        lock(&self.seen).push(request.clone());
        let mut exchanges = lock(&self.exchanges);
        let found = exchanges
            .iter_mut()
            .find(|e| e.remaining != Some(0) && e.matcher.matches(request));
        let Some(exchange) = found else {
            return Err(TransportError::other(format!(
                "no recorded exchange matches {} {}",
                request.method,
                request.uri.path()
            )));
        };
        if let Some(n) = exchange.remaining.as_mut() {
            *n -= 1;
        }
        match &exchange.response {
            Ok(response) => Ok(response.clone()),
            Err(message) => Err(TransportError::timeout(message.clone())),
        }
    }
}

impl HttpTransport for ReplayTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let result = self
            .answer(&RecordedRequest::of(&request))
            .and_then(|r| r.to_response());
        Box::pin(async move { result })
    }

    /// Answers like [`send`](HttpTransport::send), with the body in the recorded response's
    /// chunks (and its break, if any).
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        let result = self
            .answer(&RecordedRequest::of(&request))
            .and_then(|r| r.to_streaming_response());
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    fn post(uri: &str, body: &'static str) -> HttpRequest {
        http::Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn replay_matches_in_order_and_counts_uses() {
        let replay = ReplayTransport::new()
            .exchange(
                RequestMatcher::new().form("biz_content", r#"{"a":"1 2"}"#),
                RecordedResponse::new(200, "first"),
            )
            .exchange(
                RequestMatcher::new().method("POST").query("method", "m"),
                RecordedResponse::new(503, "second").header("x-a", "b"),
            )
            .repeat(Some(2))
            .failure(RequestMatcher::new().path("/slow"), "took too long");

        let r = block_on(replay.send(post(
            "http://h/gateway.do?method=m",
            "biz_content=%7B%22a%22%3A%221+2%22%7D",
        )))
        .unwrap();
        assert_eq!(r.body().as_ref(), b"first");
        let r = block_on(replay.send(post("http://h/gateway.do?method=m", ""))).unwrap();
        assert_eq!(
            (r.status().as_u16(), r.body().as_ref()),
            (503, &b"second"[..])
        );
        assert_eq!(r.headers()["x-a"], "b");
        assert_eq!(replay.unused().len(), 2);
        block_on(replay.send(post("http://h/gateway.do?method=m", ""))).unwrap();
        let err = block_on(replay.send(post("http://h/gateway.do?method=m", ""))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no recorded exchange matches POST /gateway.do"
        );
        let err = block_on(replay.send(post("http://h/slow", ""))).unwrap_err();
        assert!(err.is_timeout());
        assert!(replay.unused().is_empty());
        assert_eq!(replay.requests().len(), 5);
    }

    #[test]
    fn matcher_conditions() {
        let req = RecordedRequest::of(
            &http::Request::post("http://h/p?x=1")
                .header("alipay-request-id", "r1")
                .body(Bytes::from_static(b"{\"k\":\"v\"}"))
                .unwrap(),
        );
        assert!(RequestMatcher::new().matches(&req));
        assert!(
            RequestMatcher::new()
                .header("alipay-request-id", "r1")
                .matches(&req)
        );
        assert!(
            !RequestMatcher::new()
                .header("alipay-request-id", "r2")
                .matches(&req)
        );
        assert!(RequestMatcher::new().body_contains("\"k\"").matches(&req));
        assert!(!RequestMatcher::new().body_contains("zz").matches(&req));
        assert!(!RequestMatcher::new().method("GET").matches(&req));
        assert!(!RequestMatcher::new().path("/q").matches(&req));
        assert!(!RequestMatcher::new().query("x", "2").matches(&req));
        assert_eq!(req.query("x").as_deref(), Some("1"));
    }

    fn drain(mut body: BodyStream) -> (Vec<String>, Option<TransportError>) {
        let mut chunks = Vec::new();
        while let Some(chunk) = block_on(body.next_chunk()) {
            match chunk {
                Ok(c) => chunks.push(String::from_utf8(c.to_vec()).unwrap()),
                Err(e) => return (chunks, Some(e)),
            }
        }
        (chunks, None)
    }

    #[test]
    fn replay_streams_in_chunks_and_breaks_off_where_told() {
        let replay = ReplayTransport::new()
            .exchange(
                RequestMatcher::new().path("/a"),
                RecordedResponse::new(200, "abcdefg")
                    .header("content-length", "7")
                    .chunk_size(3),
            )
            .exchange(
                RequestMatcher::new().path("/b"),
                RecordedResponse::new(200, "abcdefg")
                    .chunk_size(2)
                    .break_after(5),
            )
            .exchange(
                RequestMatcher::new().path("/b"),
                RecordedResponse::new(200, "abcdefg").break_after(5),
            )
            .exchange(
                RequestMatcher::new().path("/c"),
                RecordedResponse::new(200, "whole"),
            );
        let r = block_on(replay.send_streaming(post("http://h/a", ""))).unwrap();
        assert_eq!(r.headers()["content-length"], "7");
        let (chunks, err) = drain(r.into_body());
        assert_eq!(
            (chunks, err.is_none()),
            (vec!["abc".into(), "def".into(), "g".into()], true)
        );
        let r = block_on(replay.send_streaming(post("http://h/b", ""))).unwrap();
        let (chunks, err) = drain(r.into_body());
        assert_eq!(chunks, ["ab", "cd", "e"]);
        let err = err.unwrap();
        assert!(err.is_body());
        assert_eq!(err.to_string(), "the recorded body broke off after 5 bytes");
        // Without streaming, a broken body is an error of `send`.
        let err = block_on(replay.send(post("http://h/b", ""))).unwrap_err();
        assert_eq!(err.to_string(), "the recorded body broke off after 5 bytes");
        let r = block_on(replay.send_streaming(post("http://h/c", ""))).unwrap();
        let (chunks, err) = drain(r.into_body());
        assert_eq!((chunks, err.is_none()), (vec!["whole".into()], true));
        assert!(replay.unused().is_empty());
    }

    #[test]
    fn capture_streams_through_the_wrapped_transport() {
        let replay = Arc::new(ReplayTransport::new().exchange(
            RequestMatcher::new(),
            RecordedResponse::new(200, "12345").chunk_size(2),
        ));
        let capture = CapturingTransport::wrapping(replay);
        let r = block_on(capture.send_streaming(post("http://h/z?t=1", ""))).unwrap();
        let (chunks, err) = drain(r.into_body());
        assert_eq!(
            (chunks, err.is_none()),
            (vec!["12".into(), "34".into(), "5".into()], true)
        );
        assert_eq!(capture.requests()[0].query("t").as_deref(), Some("1"));
        // A responder's answer comes as one chunk.
        let capture =
            CapturingTransport::responding(|_| RecordedResponse::new(200, "12345").to_response());
        let r = block_on(capture.send_streaming(post("http://h/z", ""))).unwrap();
        let (chunks, err) = drain(r.into_body());
        assert_eq!((chunks, err.is_none()), (vec!["12345".into()], true));
        assert_eq!(capture.requests().len(), 1);
    }

    #[test]
    fn capture_records_and_forwards() {
        let replay = Arc::new(
            ReplayTransport::new().exchange(RequestMatcher::new(), RecordedResponse::new(200, "r")),
        );
        let capture = CapturingTransport::wrapping(replay.clone());
        let r = block_on(capture.send(post("http://h/a?q=1", "a=%E4%B8%AD"))).unwrap();
        assert_eq!(r.body().as_ref(), b"r");
        let sent = capture.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].form("a").as_deref(), Some("中"));
        assert_eq!(
            sent[0].header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        capture.clear();
        assert!(capture.requests().is_empty());
        assert_eq!(replay.requests().len(), 1);
    }
}
