//! The business checks Alipay asks merchants to make after the signature (PROTOCOL §3).

use std::fmt;

use alipay_model::Amount;

use crate::event::TradeNotification;

/// What the merchant knows about its own order, to compare with a trade notification.
///
/// Alipay's integration guide asks for four checks after the signature: the notification is for
/// an order the merchant created (`out_trade_no`), for its amount (`total_amount`), for the
/// merchant's app (`app_id`) and, when the merchant has several accounts, for its seller
/// account (`seller_id`).
///
/// ```
/// use alipay_model::Amount;
/// use alipay_notify::{MerchantOrder, OrderField};
/// # fn run(trade: &alipay_notify::TradeNotification) {
/// let order = MerchantOrder::new("2021000000000000", "T20240513001", Amount::from_fen(8888))
///     .seller_id("2088000000000000");
/// match trade.check(&order) {
///     Ok(()) => { /* fulfil the order */ }
///     Err(mismatch) => {
///         for m in mismatch.mismatches() {
///             eprintln!("{}: expected {}, found {:?}", m.field(), m.expected(), m.found());
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantOrder {
    app_id: String,
    out_trade_no: String,
    total_amount: Amount,
    seller_id: Option<String>,
}

impl MerchantOrder {
    /// The merchant's app id, order number and order amount.
    pub fn new(
        app_id: impl Into<String>,
        out_trade_no: impl Into<String>,
        total_amount: Amount,
    ) -> Self {
        MerchantOrder {
            app_id: app_id.into(),
            out_trade_no: out_trade_no.into(),
            total_amount,
            seller_id: None,
        }
    }

    /// Also require this `seller_id` (the merchant's Alipay user id, 2088…).
    #[must_use]
    pub fn seller_id(mut self, seller_id: impl Into<String>) -> Self {
        self.seller_id = Some(seller_id.into());
        self
    }
}

/// A field [`TradeNotification::check`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrderField {
    /// `app_id`.
    AppId,
    /// `out_trade_no`.
    OutTradeNo,
    /// `total_amount`.
    TotalAmount,
    /// `seller_id`.
    SellerId,
}

impl OrderField {
    /// The notification field name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderField::AppId => "app_id",
            OrderField::OutTradeNo => "out_trade_no",
            OrderField::TotalAmount => "total_amount",
            OrderField::SellerId => "seller_id",
        }
    }
}

impl fmt::Display for OrderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field that differs from the merchant's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    field: OrderField,
    expected: String,
    found: Option<String>,
}

impl Mismatch {
    /// Which field.
    pub fn field(&self) -> OrderField {
        self.field
    }

    /// The merchant's value (amounts with two decimals).
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// The notification's value; `None` when the notification lacks the field.
    pub fn found(&self) -> Option<&str> {
        self.found.as_deref()
    }
}

/// A trade notification that does not match the merchant's order. Do not fulfil; reply
/// `success` only if the mismatch is expected (e.g. another order), and alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderMismatch {
    mismatches: Vec<Mismatch>,
}

impl OrderMismatch {
    /// Every field that differs, in the order app_id, out_trade_no, total_amount, seller_id.
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// Whether `field` differs.
    pub fn has(&self, field: OrderField) -> bool {
        self.mismatches.iter().any(|m| m.field == field)
    }
}

impl fmt::Display for OrderMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the notification does not match the order: ")?;
        for (i, m) in self.mismatches.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &m.found {
                Some(found) => write!(f, "{} is {found}, expected {}", m.field, m.expected)?,
                None => write!(f, "{} is missing, expected {}", m.field, m.expected)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for OrderMismatch {}

impl TradeNotification {
    /// Compares the notification with the merchant's order; every differing field is reported.
    pub fn check(&self, order: &MerchantOrder) -> Result<(), OrderMismatch> {
        let mut mismatches = Vec::new();
        let mut compare = |field, expected: &str, found: Option<&str>| {
            if found != Some(expected) {
                mismatches.push(Mismatch {
                    field,
                    expected: expected.to_owned(),
                    found: found.map(str::to_owned),
                });
            }
        };
        compare(OrderField::AppId, &order.app_id, Some(&self.app_id));
        compare(
            OrderField::OutTradeNo,
            &order.out_trade_no,
            Some(&self.out_trade_no),
        );
        compare(
            OrderField::TotalAmount,
            &order.total_amount.to_string(),
            self.total_amount.map(|a| a.to_string()).as_deref(),
        );
        if let Some(seller) = &order.seller_id {
            compare(OrderField::SellerId, seller, self.seller_id.as_deref());
        }
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(OrderMismatch { mismatches })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::form::Form;

    fn trade(body: &str) -> TradeNotification {
        match Event::from_form(&Form::parse(body.as_bytes(), None).unwrap()).unwrap() {
            Event::Trade(t) => *t,
            other => panic!("{other:?}"),
        }
    }

    const BODY: &str = "notify_type=trade_status_sync&notify_id=n&notify_time=t&app_id=2021&trade_no=T\
        &out_trade_no=O1&trade_status=TRADE_SUCCESS&total_amount=88.80&seller_id=2088";

    #[test]
    fn matching_order() {
        let order = MerchantOrder::new("2021", "O1", Amount::from_fen(8880)).seller_id("2088");
        assert_eq!(trade(BODY).check(&order), Ok(()));
    }

    #[test]
    fn every_mismatch_is_reported() {
        let order = MerchantOrder::new("2022", "O2", Amount::from_fen(8888)).seller_id("2089");
        let err = trade(BODY).check(&order).unwrap_err();
        let fields: Vec<OrderField> = err.mismatches().iter().map(Mismatch::field).collect();
        assert_eq!(
            fields,
            [
                OrderField::AppId,
                OrderField::OutTradeNo,
                OrderField::TotalAmount,
                OrderField::SellerId
            ]
        );
        assert!(err.has(OrderField::TotalAmount));
        assert_eq!(err.mismatches()[2].expected(), "88.88");
        assert_eq!(err.mismatches()[2].found(), Some("88.80"));
        assert_eq!(
            err.to_string(),
            "the notification does not match the order: app_id is 2021, expected 2022; out_trade_no is O1, expected O2; total_amount is 88.80, expected 88.88; seller_id is 2088, expected 2089"
        );
    }

    #[test]
    fn missing_amount_is_a_mismatch() {
        let t = trade(&BODY.replace("&total_amount=88.80", ""));
        let err = t
            .check(&MerchantOrder::new("2021", "O1", Amount::from_fen(8880)))
            .unwrap_err();
        assert_eq!(err.mismatches().len(), 1);
        assert_eq!(err.mismatches()[0].found(), None);
        assert_eq!(
            err.to_string(),
            "the notification does not match the order: total_amount is missing, expected 88.80"
        );
    }
}
