//! The one error type of this crate.

use std::error::Error as StdError;
use std::fmt;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// Why an HTTP exchange failed.
///
/// Opaque: ask with the `is_*()` predicates. The cause (an I/O error, a TLS error, a hyper error)
/// is kept in [`source()`](StdError::source), never flattened into the message.
///
/// ```
/// use alipay_transport::TransportError;
/// let err = TransportError::timeout("no response within 5s");
/// assert!(err.is_timeout());
/// assert!(!err.is_connect());
/// assert_eq!(err.to_string(), "no response within 5s");
/// ```
pub struct TransportError {
    kind: Kind,
    timed_out: bool,
    message: String,
    source: Option<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Timeout,
    Body,
    TooLarge,
    InvalidRequest,
    Other,
}

impl TransportError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            timed_out: kind == Kind::Timeout,
            message: message.into(),
            source: None,
        }
    }

    /// The connection could not be established (DNS, TCP, TLS handshake, proxy tunnel). The
    /// request was not sent.
    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(Kind::Connect, message)
    }

    /// No complete response arrived in time. The request may or may not have been processed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(Kind::Timeout, message)
    }

    /// Reading the response body failed.
    pub fn body(message: impl Into<String>) -> Self {
        Self::new(Kind::Body, message)
    }

    /// The response body is larger than the configured limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(Kind::TooLarge, message)
    }

    /// The request cannot be sent as given (bad URI, unsupported scheme).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidRequest, message)
    }

    /// Any other failure of the exchange (connection reset while waiting, protocol error, …).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    /// Attaches the underlying cause. When the cause chain holds an I/O error of kind
    /// `TimedOut`, [`is_timeout`](Self::is_timeout) becomes true as well.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        let source = source.into();
        if chain_has_timeout(source.as_ref()) {
            self.timed_out = true;
        }
        self.source = Some(source);
        self
    }

    /// Timed out: the total timeout elapsed, or connecting timed out (then
    /// [`is_connect`](Self::is_connect) is true too).
    pub fn is_timeout(&self) -> bool {
        self.timed_out
    }

    /// The connection could not be established; the request never left.
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Reading the response body failed.
    pub fn is_body(&self) -> bool {
        self.kind == Kind::Body
    }

    /// The response body exceeded the size limit.
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }

    /// The request itself was unusable (bad URI, unsupported scheme), or the transport's
    /// configuration was (an unusable proxy URL or root certificate, from
    /// `HyperTransportBuilder::build`).
    pub fn is_invalid_request(&self) -> bool {
        self.kind == Kind::InvalidRequest
    }

    /// Whether the request certainly did not reach the server, so resending cannot duplicate
    /// it: connection failures and invalid requests.
    pub fn is_not_sent(&self) -> bool {
        matches!(self.kind, Kind::Connect | Kind::InvalidRequest)
    }
}

fn chain_has_timeout(mut err: &(dyn StdError + 'static)) -> bool {
    // Bounded walk: cause chains are short; a cycle would be a bug elsewhere.
    for _ in 0..32 {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        match err.source() {
            Some(next) => err = next,
            None => return false,
        }
    }
    false
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TransportError");
        d.field("kind", &self.kind)
            .field("timed_out", &self.timed_out)
            .field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_timeout_in_the_chain_marks_a_connect_error_as_timeout() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
        let e = TransportError::connect("cannot connect to 10.0.0.1:443").with_source(io);
        assert!(e.is_connect());
        assert!(e.is_timeout());
        assert!(e.is_not_sent());
        assert_eq!(e.source().unwrap().to_string(), "connect timed out");
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = TransportError::connect("x").with_source(refused);
        assert!(e.is_connect() && !e.is_timeout());
        assert!(TransportError::too_large("big").is_too_large());
        assert!(TransportError::body("b").is_body());
        assert!(TransportError::invalid_request("u").is_invalid_request());
        assert!(!TransportError::other("o").is_not_sent());
    }
}
