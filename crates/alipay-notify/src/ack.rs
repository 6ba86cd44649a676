//! The reply Alipay expects.

use std::fmt;

/// The body to answer a notification with (PROTOCOL §3.3).
///
/// Alipay stops resending only when the body is exactly `success` (status 200). Anything else
/// (`fail`, an error page, a timeout) makes it retry: 4m, 10m, 10m, 1h, 2h, 6h, 15h.
///
/// ```
/// use alipay_notify::Ack;
/// assert_eq!(Ack::Success.body(), "success");
/// assert_eq!(Ack::from_result(&Err::<(), _>("db down")).body(), "fail");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ack {
    /// `success`: processed (or a duplicate already processed). Alipay stops resending.
    Success,
    /// `fail`: not processed; Alipay will resend.
    Fail,
}

impl Ack {
    /// The `Content-Type` of the reply.
    pub const CONTENT_TYPE: &'static str = "text/plain; charset=utf-8";

    /// The exact body: `success` or `fail`.
    pub const fn body(self) -> &'static str {
        match self {
            Ack::Success => "success",
            Ack::Fail => "fail",
        }
    }

    /// `Success` for `Ok`, `Fail` for `Err`.
    pub fn from_result<T, E>(result: &Result<T, E>) -> Ack {
        if result.is_ok() {
            Ack::Success
        } else {
            Ack::Fail
        }
    }
}

impl fmt::Display for Ack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.body())
    }
}
