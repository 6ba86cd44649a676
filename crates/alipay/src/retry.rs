//! When a call may be sent again, and how long to wait.

use std::time::Duration;

use crate::error::Error;

/// How often and how patiently the client retries calls that are safe to retry.
///
/// Safe means: queries (methods ending in `.query`, and the certificate download) on a
/// transport error, an HTTP 5xx/429, or a `20000` / `*.SYSTEM_ERROR` answer; refunds
/// (`alipay.trade.refund`) only when `out_request_no` is set; transfers (`alipay.fund.trans.*`)
/// only when `out_biz_no` is set. `alipay.trade.pay` is never retried (query, then cancel —
/// see [`Client::pay_barcode`](crate::Client::pay_barcode)); other operations neither — except
/// when the connection could not even be made ([`Error::is_not_sent`]), which any operation
/// may retry.
///
/// Waits grow exponentially from `initial_backoff` up to `max_backoff`, with full jitter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The wait before the second attempt (before jitter).
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// `max_attempts` attempts with the default backoff.
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            ..Self::default()
        }
    }

    /// Never retry.
    pub fn none() -> Self {
        Self::new(1)
    }

    /// Sets the backoff bounds.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The wait after failed attempt `attempt` (1-based): a uniformly random duration in
    /// `[0, min(max, initial * 2^(attempt-1))]`.
    pub(crate) fn delay(&self, attempt: u32, random: u64) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % (nanos + 1))
    }
}

/// Whether an operation may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    Safe,
    Unsafe,
}

/// Whether deciding needs the business content (only refunds and transfers look at it).
pub(crate) fn needs_content(method: &str) -> bool {
    method == "alipay.trade.refund" || method.starts_with("alipay.fund.trans.")
}

/// Decides from the method name and the business content.
pub(crate) fn safety(method: &str, biz: Option<&serde_json::Value>) -> Safety {
    let has = |field: &str| {
        biz.and_then(|b| b.get(field))
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()) || v.is_number())
    };
    let safe = if method == "alipay.trade.pay" {
        false
    } else if method.ends_with(".query") || method == crate::certs::CERT_DOWNLOAD_METHOD {
        true
    } else if method == "alipay.trade.refund" {
        has("out_request_no")
    } else if method.starts_with("alipay.fund.trans.") {
        has("out_biz_no")
    } else {
        false
    };
    if safe { Safety::Safe } else { Safety::Unsafe }
}

/// Whether this failure is worth another attempt (for a safe operation).
pub(crate) fn is_retryable(error: &Error) -> bool {
    if let Some(api) = error.api() {
        return api.is_retryable();
    }
    if let Some(status) = error.http_status() {
        return status >= 500 || status == 429;
    }
    error.is_transport()
}

/// The method-like name of a v3 path: `/v3/alipay/trade/query` → `alipay.trade.query`.
pub(crate) fn v3_operation_name(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_start_matches("v3/")
        .split('?')
        .next()
        .unwrap_or_default()
        .replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn safety_rules() {
        assert_eq!(safety("alipay.trade.query", None), Safety::Safe);
        assert_eq!(
            safety("alipay.trade.fastpay.refund.query", None),
            Safety::Safe
        );
        assert_eq!(
            safety("alipay.trade.pay", Some(&json!({"out_trade_no":"T"}))),
            Safety::Unsafe
        );
        assert_eq!(
            safety(
                "alipay.trade.refund",
                Some(&json!({"refund_amount":"1.00"}))
            ),
            Safety::Unsafe
        );
        assert_eq!(
            safety("alipay.trade.refund", Some(&json!({"out_request_no":""}))),
            Safety::Unsafe
        );
        assert_eq!(
            safety("alipay.trade.refund", Some(&json!({"out_request_no":"R1"}))),
            Safety::Safe
        );
        assert_eq!(
            safety(
                "alipay.fund.trans.uni.transfer",
                Some(&json!({"out_biz_no":"B1"}))
            ),
            Safety::Safe
        );
        assert_eq!(
            safety("alipay.fund.trans.uni.transfer", Some(&json!({}))),
            Safety::Unsafe
        );
        assert_eq!(safety("alipay.trade.create", None), Safety::Unsafe);
        assert_eq!(
            safety("alipay.open.app.alipaycert.download", None),
            Safety::Safe
        );
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = RetryPolicy::new(5).backoff(Duration::from_millis(100), Duration::from_millis(250));
        assert_eq!(
            p.delay(1, u64::MAX),
            Duration::from_nanos(u64::MAX % 100_000_001)
        );
        assert!(p.delay(1, 7) <= Duration::from_millis(100));
        assert_eq!(p.delay(2, 200_000_000), Duration::from_millis(200));
        assert_eq!(p.delay(3, 250_000_000), Duration::from_millis(250));
        assert!(p.delay(30, u64::MAX) <= Duration::from_millis(250));
        assert_eq!(p.delay(1, 0), Duration::ZERO);
        assert_eq!(RetryPolicy::new(0).max_attempts, 1);
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }

    #[test]
    fn v3_names() {
        assert_eq!(
            v3_operation_name("/v3/alipay/trade/query"),
            "alipay.trade.query"
        );
        assert_eq!(
            v3_operation_name("/v3/alipay/data/dataservice/bill/downloadurl/query?x=1"),
            "alipay.data.dataservice.bill.downloadurl.query"
        );
    }
}
