//! axum integration (feature `axum`; depends on `axum-core` only).

use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};

use crate::ack::Ack;
use crate::error::{Error, Kind};
use crate::verify::{NotifyVerifier, Verified};

/// Extracts a verified notification from the raw request body.
///
/// The router state must provide a [`NotifyVerifier`] (`NotifyVerifier: FromRef<S>`, e.g. the
/// state is the verifier, or a struct with `#[derive(FromRef)]`). The body is read whole
/// (within axum's `DefaultBodyLimit`), parsed with the `Content-Type` header and verified; any
/// failure rejects with `400 Bad Request` and the body `fail`, so Alipay resends. To log why,
/// take `Result<AlipayNotification, NotifyRejection>` instead.
///
/// ```
/// use alipay_notify::{Ack, AlipayNotification, Event};
///
/// async fn webhook(AlipayNotification(notification): AlipayNotification) -> Ack {
///     match notification.event() {
///         Ok(Event::Trade(trade)) if trade.trade_status.is_paid() => Ack::Success,
///         Ok(_) => Ack::Success,
///         Err(_) => Ack::Fail,
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct AlipayNotification(pub Verified);

impl<S> FromRequest<S> for AlipayNotification
where
    S: Send + Sync,
    NotifyVerifier: FromRef<S>,
{
    type Rejection = NotifyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = NotifyVerifier::from_ref(state);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| NotifyRejection {
                error: Error::new(
                    Kind::Body,
                    format!("the notification body could not be read: {}", e.body_text()),
                )
                .with_source(e),
            })?;
        verifier
            .verify(&body, content_type.as_deref())
            .map(AlipayNotification)
            .map_err(|error| NotifyRejection { error })
    }
}

/// Why [`AlipayNotification`] rejected a request. Responds `400 Bad Request` with the body
/// `fail`; the reason is in [`NotifyRejection::error`] (for logs, never for the response).
#[derive(Debug)]
pub struct NotifyRejection {
    error: Error,
}

impl NotifyRejection {
    /// The reason.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The reason, owned.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl std::fmt::Display for NotifyRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for NotifyRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for NotifyRejection {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, Ack::CONTENT_TYPE)],
            Ack::Fail.body(),
        )
            .into_response()
    }
}

impl IntoResponse for Ack {
    /// `200 OK` with `success` or `fail` as `text/plain`.
    fn into_response(self) -> Response {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, Ack::CONTENT_TYPE)],
            self.body(),
        )
            .into_response()
    }
}
