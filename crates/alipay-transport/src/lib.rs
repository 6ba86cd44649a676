//! # alipay-transport
//!
//! The HTTP layer of alipay-rs. It knows nothing about Alipay: the client builds
//! `http::Request<Bytes>` values and hands them to an [`HttpTransport`].
//!
//! * [`HttpTransport`] — object-safe, `Send + Sync + Debug`, stored as `Arc<dyn HttpTransport>`;
//!   implement it to plug in any HTTP stack (smithy-rs' `HttpConnector` shape).
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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

mod error;
#[cfg(feature = "hyper-rustls")]
mod hyper_client;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use crate::error::TransportError;
#[cfg(feature = "hyper-rustls")]
pub use crate::hyper_client::{HyperTransport, HyperTransportBuilder};

/// A request as the transport sends it: the body is complete in memory.
pub type HttpRequest = http::Request<Bytes>;

/// A response as the transport returns it: the body has been read completely.
pub type HttpResponse = http::Response<Bytes>;

/// A boxed, `Send` future (what [`HttpTransport::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one HTTP request and returns the complete response.
///
/// Object-safe, so clients store it as `Arc<dyn HttpTransport>`. Implementations apply their
/// own timeouts; a status code of 4xx or 5xx is a response, not an error.
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response body.
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        (**self).send(request)
    }
}
