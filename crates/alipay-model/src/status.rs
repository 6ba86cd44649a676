//! Trade statuses and product codes.

use crate::code::code_enum;

/// The status of a trade (`trade_status` in query responses and notifications, PROTOCOL §3.4).
///
/// ```
/// use alipay_model::TradeStatus;
///
/// let status: TradeStatus = serde_json::from_str(r#""TRADE_SUCCESS""#).unwrap();
/// assert!(status.is_paid() && !status.is_final());
/// let later: TradeStatus = serde_json::from_str(r#""TRADE_FROZEN""#).unwrap();
/// assert_eq!(later, TradeStatus::Unknown("TRADE_FROZEN".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TradeStatus {
    /// `WAIT_BUYER_PAY`: created, waiting for the buyer to pay.
    WaitBuyerPay,
    /// `TRADE_CLOSED`: closed unpaid, or fully refunded.
    TradeClosed,
    /// `TRADE_SUCCESS`: paid; refunds still possible.
    TradeSuccess,
    /// `TRADE_FINISHED`: paid and no longer refundable.
    TradeFinished,
    /// A status this version does not know, kept as received.
    Unknown(String),
}

code_enum!(TradeStatus {
    WaitBuyerPay => "WAIT_BUYER_PAY",
    TradeClosed => "TRADE_CLOSED",
    TradeSuccess => "TRADE_SUCCESS",
    TradeFinished => "TRADE_FINISHED",
});

impl TradeStatus {
    /// The money was received: `TRADE_SUCCESS` or `TRADE_FINISHED`.
    #[must_use]
    pub fn is_paid(&self) -> bool {
        matches!(self, Self::TradeSuccess | Self::TradeFinished)
    }

    /// No further change can happen: `TRADE_CLOSED` or `TRADE_FINISHED`.
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, Self::TradeClosed | Self::TradeFinished)
    }
}

/// The product a payment is made under (`product_code`, PROTOCOL §6.2 and §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProductCode {
    /// `FAST_INSTANT_TRADE_PAY`: computer website payment (`alipay.trade.page.pay`).
    FastInstantTradePay,
    /// `QUICK_WAP_WAY`: mobile website payment (`alipay.trade.wap.pay`).
    QuickWapWay,
    /// `QUICK_MSECURITY_PAY`: app payment (`alipay.trade.app.pay`).
    QuickMsecurityPay,
    /// `FACE_TO_FACE_PAYMENT`: in-store barcode and QR payment (`pay`, `precreate`).
    FaceToFacePayment,
    /// `JSAPI_PAY`: mini-program and JSAPI payment (`alipay.trade.create`).
    JsapiPay,
    /// `TRANS_ACCOUNT_NO_PWD`: transfer to an Alipay account (`alipay.fund.trans.uni.transfer`).
    TransAccountNoPwd,
    /// A product code this version does not list, kept as given.
    Unknown(String),
}

code_enum!(ProductCode {
    FastInstantTradePay => "FAST_INSTANT_TRADE_PAY",
    QuickWapWay => "QUICK_WAP_WAY",
    QuickMsecurityPay => "QUICK_MSECURITY_PAY",
    FaceToFacePayment => "FACE_TO_FACE_PAYMENT",
    JsapiPay => "JSAPI_PAY",
    TransAccountNoPwd => "TRANS_ACCOUNT_NO_PWD",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodeEnum;

    #[test]
    fn statuses_round_trip() {
        for (status, text) in [
            (TradeStatus::WaitBuyerPay, "WAIT_BUYER_PAY"),
            (TradeStatus::TradeClosed, "TRADE_CLOSED"),
            (TradeStatus::TradeSuccess, "TRADE_SUCCESS"),
            (TradeStatus::TradeFinished, "TRADE_FINISHED"),
            (TradeStatus::Unknown("X".into()), "X"),
        ] {
            assert_eq!(TradeStatus::from_code(text), status);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{text}\"")
            );
            assert_eq!(status.to_string(), text);
        }
        assert!(TradeStatus::TradeFinished.is_final() && TradeStatus::TradeFinished.is_paid());
        assert!(!TradeStatus::WaitBuyerPay.is_paid() && !TradeStatus::WaitBuyerPay.is_final());
        assert!(TradeStatus::TradeClosed.is_final() && !TradeStatus::TradeClosed.is_paid());
    }

    #[test]
    fn product_codes() {
        assert_eq!(
            "QUICK_WAP_WAY".parse::<ProductCode>(),
            Ok(ProductCode::QuickWapWay)
        );
        assert_eq!(
            ProductCode::FastInstantTradePay.as_str(),
            "FAST_INSTANT_TRADE_PAY"
        );
        let unknown: ProductCode = serde_json::from_str(r#""CYCLE_PAY_AUTH""#).unwrap();
        assert!(unknown.is_unknown());
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#""CYCLE_PAY_AUTH""#
        );
    }
}
