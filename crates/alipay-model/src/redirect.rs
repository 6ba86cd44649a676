//! Pieces shared by the hand-written models: the v2-only redirect operations' trait and [`TradeRef`].

use serde::Serialize;

use crate::error::Error;

/// An operation the server never calls itself: the page, wap and app payments and the agreement
/// signing page (PROTOCOL §6). The facade signs its parameters and hands them to the buyer's browser
/// (an auto-submitting form or a URL) or to the mobile SDK (an order string). They exist only in v2,
/// and the OpenAPI description does not list them, so their models are hand-written.
///
/// ```
/// use alipay_model::{Amount, RedirectRequest};
/// use alipay_model::trade::PagePayRequest;
///
/// let pay = PagePayRequest::new("T1", Amount::from_fen(100), "Book").qr_pay_mode("2");
/// assert_eq!(PagePayRequest::METHOD, "alipay.trade.page.pay");
/// assert_eq!(
///     pay.biz_content().unwrap(),
///     r#"{"out_trade_no":"T1","total_amount":"1.00","subject":"Book","product_code":"FAST_INSTANT_TRADE_PAY","qr_pay_mode":"2"}"#
/// );
/// ```
pub trait RedirectRequest: Serialize {
    /// The method name: `alipay.trade.page.pay`.
    const METHOD: &'static str;

    /// The `biz_content`: the fields that are set, as compact JSON.
    ///
    /// # Errors
    /// When serialisation fails, which only a hand-written `Serialize` can cause.
    fn biz_content(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::json)
    }
}

/// Which trade an operation is about: Alipay's `trade_no` or the merchant's `out_trade_no`.
/// Operations that accept either take one of these, so "neither" cannot be written; when a trade
/// has both, `trade_no` is the one Alipay prefers (PROTOCOL §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TradeRef {
    /// Alipay's trade number.
    TradeNo(String),
    /// The merchant's order number.
    OutTradeNo(String),
}

impl TradeRef {
    /// By Alipay's trade number.
    #[must_use]
    pub fn trade_no(trade_no: impl Into<String>) -> Self {
        Self::TradeNo(trade_no.into())
    }

    /// By the merchant's order number.
    #[must_use]
    pub fn out_trade_no(out_trade_no: impl Into<String>) -> Self {
        Self::OutTradeNo(out_trade_no.into())
    }

    /// `(trade_no, out_trade_no)` with exactly one set.
    #[cfg_attr(
        not(feature = "trade"),
        allow(dead_code, reason = "used by the trade constructors")
    )]
    pub(crate) fn into_fields(self) -> (Option<String>, Option<String>) {
        match self {
            Self::TradeNo(no) => (Some(no), None),
            Self::OutTradeNo(no) => (None, Some(no)),
        }
    }
}
