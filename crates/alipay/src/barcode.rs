//! The barcode (当面付条码) payment flow: pay → when the outcome is unknown, poll
//! `alipay.trade.query` → at the deadline, `alipay.trade.cancel` (repeated while
//! `retry_flag=Y`). `alipay.trade.pay` itself is never resent.

use std::time::{Duration, Instant};

use alipay_model::TradeRef;
use alipay_model::TradeStatus;
use alipay_model::trade::{CancelRequest, PayRequest, QueryRequest};

use crate::client::{Client, RequestOptions};
use crate::error::{ApiError, Error};

/// Timing of [`Client::pay_barcode`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BarcodeFlow {
    /// Wait between queries (default 5 s).
    pub poll_interval: Duration,
    /// How long to wait for the buyer before cancelling (default 30 s).
    pub deadline: Duration,
    /// Cancel attempts at most (default 3).
    pub max_cancel_attempts: u32,
    /// Wait between cancel attempts (default 2 s).
    pub cancel_interval: Duration,
}

impl Default for BarcodeFlow {
    fn default() -> Self {
        BarcodeFlow {
            poll_interval: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            max_cancel_attempts: 3,
            cancel_interval: Duration::from_secs(2),
        }
    }
}

impl BarcodeFlow {
    /// Sets the polling interval and the deadline.
    #[must_use]
    pub fn polling(mut self, interval: Duration, deadline: Duration) -> Self {
        self.poll_interval = interval;
        self.deadline = deadline;
        self
    }

    /// Sets the cancel attempts and their spacing.
    #[must_use]
    pub fn cancelling(mut self, attempts: u32, interval: Duration) -> Self {
        self.max_cancel_attempts = attempts.max(1);
        self.cancel_interval = interval;
        self
    }
}

/// How a barcode payment ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BarcodeOutcome {
    /// Paid (at once, or found paid by a query).
    Paid {
        /// Alipay's trade number.
        trade_no: Option<String>,
    },
    /// A definite business failure of `alipay.trade.pay` (`40004` `ACQ.*`, not a system error).
    Failed(ApiError),
    /// The trade was found closed.
    Closed,
    /// Not paid by the deadline; the trade was cancelled. `action` is `close` (nothing was
    /// paid) or `refund` (it was paid in the meantime and has been refunded).
    Cancelled {
        /// The cancel answer's `action`.
        action: Option<String>,
    },
}

impl Client {
    /// Runs a barcode payment to a definite end: `alipay.trade.pay`; on `10003`, `20000`,
    /// `*.SYSTEM_ERROR`, a timeout or any other unknown outcome, `alipay.trade.query` every
    /// `poll_interval` until paid, closed, or the deadline; then `alipay.trade.cancel`, repeated
    /// while `retry_flag=Y`.
    pub async fn pay_barcode(
        &self,
        request: &PayRequest,
        flow: &BarcodeFlow,
    ) -> Result<BarcodeOutcome, Error> {
        let trade = match request.out_trade_no.as_deref() {
            Some(o) if !o.is_empty() => TradeRef::out_trade_no(o),
            _ => {
                return Err(Error::request(
                    "a barcode payment needs out_trade_no, to query and cancel it",
                ));
            }
        };
        let options = RequestOptions::new();
        match self.execute_with(request, &options).await {
            Ok(paid) => {
                return Ok(BarcodeOutcome::Paid {
                    trade_no: paid.trade_no,
                });
            }
            Err(e) if e.is_config() || e.is_request() => return Err(e),
            Err(e) => match e.api() {
                Some(api) if api.is_verified() && !api.is_unknown_outcome() => {
                    return Ok(BarcodeOutcome::Failed(api.clone()));
                }
                _ => tracing::info!(error = %e, "barcode payment outcome unknown; polling"),
            },
        }
        let started = Instant::now();
        let query = QueryRequest::new(trade.clone());
        while started.elapsed() < flow.deadline {
            tokio::time::sleep(flow.poll_interval).await;
            match self.execute_with(&query, &options).await {
                Ok(found) => match found.trade_status {
                    Some(TradeStatus::TradeSuccess | TradeStatus::TradeFinished) => {
                        return Ok(BarcodeOutcome::Paid {
                            trade_no: found.trade_no,
                        });
                    }
                    Some(TradeStatus::TradeClosed) => return Ok(BarcodeOutcome::Closed),
                    _ => {}
                },
                Err(e) => tracing::info!(error = %e, "barcode payment query failed; polling on"),
            }
        }
        let cancel = CancelRequest::new(trade);
        let mut last_error = None;
        for attempt in 1..=flow.max_cancel_attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(flow.cancel_interval).await;
            }
            match self.execute_with(&cancel, &options).await {
                Ok(done) if done.retry_flag.as_deref() == Some("Y") => {
                    tracing::info!(attempt, "cancel answered retry_flag=Y");
                }
                Ok(done) => {
                    return Ok(BarcodeOutcome::Cancelled {
                        action: done.action,
                    });
                }
                Err(e) => {
                    let again = e.is_transport()
                        || e.api()
                            .is_some_and(|a| a.is_retryable() || a.is_unknown_outcome());
                    if !again {
                        return Err(e);
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| {
            Error::timeout("the trade could not be cancelled: cancel kept answering retry_flag=Y")
        }))
    }
}
