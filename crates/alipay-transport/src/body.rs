//! Response bodies read chunk by chunk: [`BodyStream`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;

use crate::TransportError;

/// A chunk source: what [`BodyStream::from_stream`] accepts.
type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send + 'static>>;

/// A response body that arrives chunk by chunk, for downloads too large to hold in memory.
///
/// Read it with [`next_chunk`](Self::next_chunk) until `None` (the end of the body) or an error
/// (the body broke off: a reset connection, an idle timeout, a truncated message). It is also a
/// [`futures_core::Stream`] of the same items. Empty chunks are never yielded. Dropping the
/// stream before the end abandons the rest of the body.
///
/// ```
/// use alipay_transport::BodyStream;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let mut body = BodyStream::from_bytes(bytes::Bytes::from_static(b"PK\x03\x04..."));
/// let mut received = Vec::new();
/// block_on(async {
///     while let Some(chunk) = body.next_chunk().await {
///         received.extend_from_slice(&chunk?);
///     }
///     Ok::<_, alipay_transport::TransportError>(())
/// })?;
/// assert_eq!(received, b"PK\x03\x04...");
/// # Ok::<(), alipay_transport::TransportError>(())
/// ```
pub struct BodyStream {
    inner: Inner,
}

enum Inner {
    /// A body already in memory: one chunk, then the end.
    Full(Option<Bytes>),
    /// Chunks from a stream (the hyper transport, or a custom one).
    Stream(Chunks),
}

impl BodyStream {
    /// An empty body.
    #[must_use]
    pub fn empty() -> Self {
        BodyStream {
            inner: Inner::Full(None),
        }
    }

    /// A body already in memory, yielded as one chunk (none when `bytes` is empty). This is
    /// what the provided [`HttpTransport::send_streaming`](crate::HttpTransport::send_streaming)
    /// returns.
    #[must_use]
    pub fn from_bytes(bytes: Bytes) -> Self {
        BodyStream {
            inner: Inner::Full(Some(bytes).filter(|b| !b.is_empty())),
        }
    }

    /// A body whose chunks come from `stream`: for a transport that implements
    /// [`send_streaming`](crate::HttpTransport::send_streaming) itself. Empty chunks are
    /// skipped; after the stream yields an error or `None`, the body is over.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        BodyStream {
            inner: Inner::Stream(Box::pin(stream)),
        }
    }

    /// The next chunk; `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Polls for the next chunk (what [`next_chunk`](Self::next_chunk) awaits).
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        match &mut self.inner {
            Inner::Full(chunk) => Poll::Ready(chunk.take().map(Ok)),
            Inner::Stream(stream) => loop {
                match stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => {}
                    Poll::Ready(Some(Err(e))) => {
                        self.inner = Inner::Full(None);
                        return Poll::Ready(Some(Err(e)));
                    }
                    Poll::Ready(None) => {
                        self.inner = Inner::Full(None);
                        return Poll::Ready(None);
                    }
                    other => return other,
                }
            },
        }
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Inner::Full(chunk) => {
                let n = usize::from(chunk.is_some());
                (n, Some(n))
            }
            Inner::Stream(s) => (0, s.size_hint().1),
        }
    }
}

impl Default for BodyStream {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for BodyStream {
    fn from(bytes: Bytes) -> Self {
        Self::from_bytes(bytes)
    }
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Full(chunk) => f
                .debug_struct("BodyStream")
                .field("buffered", &chunk.as_ref().map_or(0, Bytes::len))
                .finish(),
            Inner::Stream(_) => f
                .debug_struct("BodyStream")
                .field("streaming", &true)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// A stream over a list of items.
    struct Items(std::collections::VecDeque<Result<Bytes, TransportError>>);

    impl Stream for Items {
        type Item = Result<Bytes, TransportError>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.get_mut().0.pop_front())
        }
    }

    #[test]
    fn full_bodies_are_one_chunk_and_empty_ones_none() {
        let mut body = BodyStream::from_bytes(Bytes::from_static(b"abc"));
        assert_eq!(format!("{body:?}"), "BodyStream { buffered: 3 }");
        assert_eq!(body.size_hint(), (1, Some(1)));
        assert_eq!(block_on(body.next_chunk()).unwrap().unwrap(), "abc");
        assert!(block_on(body.next_chunk()).is_none());
        assert!(block_on(body.next_chunk()).is_none());
        let mut empty = BodyStream::from(Bytes::new());
        assert!(block_on(empty.next_chunk()).is_none());
        assert!(block_on(BodyStream::default().next_chunk()).is_none());
    }

    #[test]
    fn streams_skip_empty_chunks_and_end_after_an_error() {
        let items = Items(
            vec![
                Ok(Bytes::from_static(b"a")),
                Ok(Bytes::new()),
                Ok(Bytes::from_static(b"bc")),
                Err(TransportError::body("broke off")),
                Ok(Bytes::from_static(b"never")),
            ]
            .into(),
        );
        let mut body = BodyStream::from_stream(items);
        assert_eq!(format!("{body:?}"), "BodyStream { streaming: true }");
        assert_eq!(block_on(body.next_chunk()).unwrap().unwrap(), "a");
        assert_eq!(block_on(body.next_chunk()).unwrap().unwrap(), "bc");
        let err = block_on(body.next_chunk()).unwrap().unwrap_err();
        assert!(err.is_body());
        assert_eq!(err.to_string(), "broke off");
        assert!(block_on(body.next_chunk()).is_none());
    }
}
