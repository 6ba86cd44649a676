//! # alipay-transport
//!
//! The HTTP layer of alipay-rs. It knows nothing about Alipay: the client builds
//! `http::Request<Bytes>` values and hands them to an [`HttpTransport`].
//!
//! * [`HttpTransport`] — object-safe, `Send + Sync + Debug`, stored as `Arc<dyn HttpTransport>`;
//!   implement it to plug in any HTTP stack (smithy-rs' `HttpConnector` shape).
//!   [`send`](HttpTransport::send) reads the whole response;
//!   [`send_streaming`](HttpTransport::send_streaming) returns the body as a [`BodyStream`] of
//!   chunks, for downloads (bill files) too large to hold in memory.
//! * [`HyperTransport`] (feature `hyper-rustls`, default) — hyper 1 with hyper-util's pooled
//!   client and rustls (aws-lc-rs provider, Mozilla's webpki roots; server certificates are always
//!   verified), connect and total timeouts, a response size limit, and an HTTP proxy (CONNECT).
//! * [`test_util`] (feature `test-util`) — a capturing transport and a replay transport.
//! * [`TransportError`] — `is_timeout()`, `is_connect()`, … with the full `source()` chain.
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use alipay_transport::{BoxFuture, HttpRequest, HttpResponse, HttpTransport, TransportError};
//!
//! /// A transport that answers every request with `204 No Content`.
//! #[derive(Debug)]
//! struct NoContent;
//!
//! impl HttpTransport for NoContent {
//!     fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
//!         Box::pin(async {
//!             let mut response = HttpResponse::new(bytes::Bytes::new());
//!             *response.status_mut() = http::StatusCode::NO_CONTENT;
//!             Ok(response)
//!         })
//!     }
//! }
//!
//! let transport: Arc<dyn HttpTransport> = Arc::new(NoContent);
//! let request = http::Request::post("https://example.invalid/").body(bytes::Bytes::new())?;
//! let response = futures_lite_block_on(transport.send(request))?;
//! assert_eq!(response.status(), 204);
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let waker = std::task::Waker::noop();
//! #     let mut cx = std::task::Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//!
//! * `hyper-rustls` (default) — [`HyperTransport`]. Needs a Tokio runtime with the time driver.
//! * `test-util` — [`test_util::CapturingTransport`] and [`test_util::ReplayTransport`].
//!
//! ## Streaming a large body
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use alipay_transport::{HttpTransport, HyperTransport};
//!
//! let transport = HyperTransport::new()?;
//! let request = http::Request::get("https://example.com/bill.zip").body(bytes::Bytes::new())?;
//! let response = transport.send_streaming(request).await?;
//! let mut body = response.into_body();
//! let mut size = 0;
//! while let Some(chunk) = body.next_chunk().await {
//!     size += chunk?.len(); // write it somewhere instead
//! }
//! println!("{size} bytes");
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

mod body;
mod error;
#[cfg(feature = "hyper-rustls")]
mod hyper_client;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use crate::body::BodyStream;
pub use crate::error::TransportError;
#[cfg(feature = "hyper-rustls")]
pub use crate::hyper_client::{HyperTransport, HyperTransportBuilder};

/// A request as the transport sends it: the body is complete in memory.
pub type HttpRequest = http::Request<Bytes>;

/// A response as the transport returns it: the body has been read completely.
pub type HttpResponse = http::Response<Bytes>;

/// A response whose body is read chunk by chunk (what [`HttpTransport::send_streaming`]
/// returns).
pub type StreamingResponse = http::Response<BodyStream>;

/// A boxed, `Send` future (what [`HttpTransport::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one HTTP request and returns the complete response.
///
/// Object-safe, so clients store it as `Arc<dyn HttpTransport>`. Implementations apply their
/// own timeouts; a status code of 4xx or 5xx is a response, not an error.
///
/// Only [`send`](Self::send) must be implemented. [`send_streaming`](Self::send_streaming) has
/// a provided implementation that calls `send` and yields the whole body as one chunk, so every
/// transport can serve downloads; a transport that can hand out the body as it arrives
/// overrides it (as [`HyperTransport`] does).
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response body.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;

    /// Sends `request` and returns once the response head has arrived; the body is then read
    /// chunk by chunk from the [`BodyStream`]. The caller bounds the size: an implementation
    /// that streams applies no response size limit, only timeouts.
    ///
    /// The provided implementation calls [`send`](Self::send) (so `send`'s limits apply) and
    /// yields the body as one chunk.
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        as_one_chunk(self.send(request))
    }
}

/// A whole response, once `response` has it, as a streaming response of one chunk.
pub(crate) fn as_one_chunk<'a>(
    response: BoxFuture<'a, Result<HttpResponse, TransportError>>,
) -> BoxFuture<'a, Result<StreamingResponse, TransportError>> {
    Box::pin(async move {
        let (parts, body) = response.await?.into_parts();
        Ok(http::Response::from_parts(
            parts,
            BodyStream::from_bytes(body),
        ))
    })
}

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        (**self).send(request)
    }

    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        (**self).send_streaming(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        (**self).send(request)
    }

    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        (**self).send_streaming(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// Implements only `send`: answers `200` with the request's path and body, counting calls.
    #[derive(Debug, Default)]
    struct Echo {
        calls: std::sync::atomic::AtomicUsize,
    }

    impl HttpTransport for Echo {
        fn send(
            &self,
            request: HttpRequest,
        ) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if request.uri().path() == "/fail" {
                    return Err(TransportError::connect("refused"));
                }
                let mut body = request.uri().path().as_bytes().to_vec();
                body.extend_from_slice(request.body());
                let mut response = HttpResponse::new(Bytes::from(body));
                response
                    .headers_mut()
                    .insert("x-echo", http::HeaderValue::from_static("1"));
                Ok(response)
            })
        }
    }

    fn get(path: &str, body: &'static [u8]) -> HttpRequest {
        http::Request::post(format!("http://127.0.0.1{path}"))
            .body(Bytes::from_static(body))
            .unwrap()
    }

    #[test]
    fn the_provided_send_streaming_yields_the_whole_body_as_one_chunk() {
        let echo = Arc::new(Echo::default());
        // Through Arc<dyn …> and Box<dyn …>: the forwarding impls reach the provided method.
        let shared: Arc<dyn HttpTransport> = echo.clone();
        let boxed: Box<dyn HttpTransport> = Box::new(shared.clone());
        for transport in [&shared as &dyn HttpTransport, &boxed] {
            let response = block_on(transport.send_streaming(get("/bill.zip", b"!"))).unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["x-echo"], "1");
            let mut body = response.into_body();
            assert_eq!(
                block_on(body.next_chunk()).unwrap().unwrap().as_ref(),
                b"/bill.zip!"
            );
            assert!(block_on(body.next_chunk()).is_none());
        }
        assert_eq!(echo.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        let err = block_on(shared.send_streaming(get("/fail", b""))).unwrap_err();
        assert!(err.is_connect());
    }
}
