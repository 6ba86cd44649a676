//! # alipay-notify
//!
//! Verifies Alipay asynchronous notifications (异步通知) from the **raw body**, in any charset
//! Alipay uses, and turns them into typed events.
//!
//! "Notification verification always fails" is the most common Alipay support question: a wrong
//! key, a framework that URL-decoded twice or HTML-escaped the form, a GBK body, `sign_type`
//! kept or dropped. This crate avoids every one of them by never letting a framework touch the
//! body: it parses the bytes itself, decodes each field exactly once, in the charset the
//! notification signs, and checks the signature over the exact bytes Alipay signed.
//!
//! * [`Form`] — the body split on `&`/`=` before any decoding; the signed `charset` field
//!   (UTF-8, GBK, GB2312, GB18030) decides how the percent-decoded bytes become text. Broken
//!   escapes, duplicate fields, non-form bodies: typed errors with byte positions.
//! * [`NotifyVerifier`] — the Alipay public key or a [`CertificateSet`] chosen by
//!   `alipay_cert_sn`; rule V1 (trade notifications: without `sign`, `sign_type`), V2 (gateway
//!   messages: without `sign`) or [`RuleChoice::Auto`], which reports its choice. Fails closed.
//! * [`Event`] — [`TradeNotification`] (amounts as exact [`Amount`],
//!   `fund_bill_list` parsed, refund fields), [`GatewayMessage`] for `msg_method` messages
//!   (typed [`DepositBackCompleted`]), anything else kept raw.
//! * [`TradeNotification::check`] — the checks Alipay asks for (app_id, out_trade_no,
//!   total_amount, seller_id) against the merchant's [`MerchantOrder`].
//! * [`Ack`] — the `success` / `fail` reply; [`NotificationStore`] and [`MemoryStore`] — drop
//!   Alipay's resends by `notify_id`.
//! * [`NotifyBuilder`] — signed bodies as Alipay sends them, for tests and emulators.
//!
//! ## Example
//!
//! ```
//! use alipay_model::{Amount, TradeStatus};
//! use alipay_notify::{Ack, Event, MerchantOrder, NotifyBuilder, NotifyRule, NotifyVerifier};
//! use alipay_sign::{Charset, PrivateKey, PublicKey, RsaSigner, SignType};
//! # let alipay_private = PrivateKey::from_pem_or_der(include_bytes!("../tests/data/alipay_private_pkcs1.pem")).unwrap();
//! # let body = NotifyBuilder::new(Charset::Utf8).fields([
//! #     ("notify_type", "trade_status_sync"), ("notify_id", "2024051300222102023008121054923345"),
//! #     ("notify_time", "2024-05-13 17:49:25"), ("app_id", "2021000000000000"),
//! #     ("trade_no", "2024051322001404160500000001"), ("out_trade_no", "T20240513001"),
//! #     ("trade_status", "TRADE_SUCCESS"), ("total_amount", "88.88"),
//! #     ("fund_bill_list", r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#),
//! # ]).sign(&RsaSigner::new(&alipay_private).unwrap(), NotifyRule::V1, SignType::Rsa2)?;
//! # let alipay_public_key_pem = alipay_private.public_key().to_pem();
//!
//! // Once, at start-up: the Alipay public key (支付宝公钥).
//! let verifier = NotifyVerifier::new(&PublicKey::from_pem_or_der(alipay_public_key_pem.as_bytes()).unwrap())?;
//!
//! // Per request: the raw body and the Content-Type header, untouched by the framework.
//! let notification = verifier.verify(&body, Some("application/x-www-form-urlencoded; charset=utf-8"))?;
//! assert_eq!(notification.rule(), NotifyRule::V1); // chosen from notify_type=trade_status_sync
//!
//! let Event::Trade(trade) = notification.event()? else { panic!("a trade notification") };
//! assert_eq!(trade.trade_status, TradeStatus::TradeSuccess);
//! assert_eq!(trade.total_amount, Some(Amount::from_fen(8888)));
//! assert_eq!(trade.fund_bill_list[0].fund_channel, "ALIPAYACCOUNT");
//!
//! let order = MerchantOrder::new("2021000000000000", "T20240513001", Amount::from_fen(8888));
//! assert!(trade.check(&order).is_ok());
//! assert_eq!(Ack::Success.body(), "success");
//! # Ok::<(), alipay_notify::Error>(())
//! ```
//!
//! See `docs/notifications.md` for the rules, the pitfalls, and recipes for axum, actix-web and
//! hyper.
//!
//! ## Features
//!
//! * `aws-lc-rs` (default) — RSA through aws-lc-rs (via `alipay-sign`).
//! * `rust-crypto` — RSA through the pure-Rust `rsa` crate (via `alipay-sign`).
//! * `axum` — [`AlipayNotification`], an extractor that verifies the raw body and rejects with
//!   400; `IntoResponse` for [`Ack`]. Depends on `axum-core` only.

mod ack;
#[cfg(feature = "axum")]
mod axum;
mod build;
mod check;
mod error;
mod event;
mod form;
mod store;
mod verify;

/// The money and status types of the events, from `alipay-model`.
pub use alipay_model::{Amount, TradeStatus};

pub use crate::ack::Ack;
#[cfg(feature = "axum")]
pub use crate::axum::{AlipayNotification, NotifyRejection};
pub use crate::build::NotifyBuilder;
pub use crate::check::{MerchantOrder, Mismatch, OrderField, OrderMismatch};
pub use crate::error::Error;
pub use crate::event::{
    DbackStatus, DepositBackCompleted, Event, FundBill, GatewayMessage, MessagePayload,
    TradeNotification, UnknownNotification,
};
pub use crate::form::{CharsetSource, FORM_CONTENT_TYPE, Form};
pub use crate::store::{Claim, MemoryStore, Never, NotificationStore, NotifyKey};
pub use crate::verify::{
    CertSnPolicy, CertificateSet, NotifyRule, NotifyVerifier, RuleChoice, RuleReason, Verification,
    Verified,
};
