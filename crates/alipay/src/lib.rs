//! # alipay
//!
//! One client for the Alipay Open Platform, v2 (`/gateway.do`) and v3 (`/v3/...`), that fails
//! closed: every answer is verified on its exact bytes before it is decoded, and nothing is
//! trusted by default.
//!
//! * [`Client`] / [`ClientBuilder`] — app id, app private key, Alipay public key **or**
//!   certificates (with automatic rotation), environment, protocol, AES, timeouts, retries,
//!   transport, clock. Cheap to clone, `Send + Sync`.
//! * [`Client::execute`] — any typed request of [`model`] (`alipay-model`), over v2 or v3.
//! * [`Client::call`] / [`Client::call_v3`] — anything not typed, as JSON.
//! * [`Client::page_pay`], [`Client::page_pay_url`], [`Client::app_pay`],
//!   [`Client::sdk_execute`] — redirect payments: an auto-submitting form, a URL, an order
//!   string.
//! * [`Client::pay_barcode`] — pay, query on an unknown outcome, cancel at the deadline.
//! * [`Client::download_bill`] / [`Client::download_bill_to_file`] (feature `bill`) — the bill
//!   URL query and the download at once; the bill as typed rows checked against its footers
//!   ([`bill::Bill`]), or streamed to a file with progress.
//! * [`Error`] — `is_api()`, `is_transport()`, `is_signature()`, `is_decode()`, `is_timeout()`.
//! * [`config::ClientConfig`] — the TOML configuration of the CLI.
//!
//! ## Example
//!
//! ```
//! # let app_key = include_bytes!("../tests/data/app_private_pkcs1.pem");
//! # let alipay_key = include_bytes!("../tests/data/alipay_public.pem");
//! use alipay::{Client, Environment, RequestOptions};
//! use alipay::model::{Amount, trade::AppPayRequest};
//!
//! let client = Client::builder()
//!     .app_id("2021000000000001")
//!     .app_private_key(app_key)
//!     .alipay_public_key(alipay_key)
//!     .environment(Environment::Sandbox)
//!     .build()?;
//! let order = AppPayRequest::new("T20240513001", Amount::from_fen(8888), "Coffee");
//! let order_string = client.app_pay(&order, &RequestOptions::new())?;
//! assert!(order_string.starts_with("app_id=2021000000000001&biz_content=%7B%22out_trade_no%22"));
//! assert!(order_string.contains("&sign="));
//! # Ok::<(), alipay::Error>(())
//! ```
//!
//! API calls are `async` and need a Tokio runtime (timers for timeouts and retries):
//!
//! ```no_run
//! # async fn demo(client: alipay::Client) -> Result<(), alipay::Error> {
//! use alipay::model::{TradeRef, trade::QueryRequest};
//! match client.execute(&QueryRequest::new(TradeRef::out_trade_no("T20240513001"))).await {
//!     Ok(trade) => println!("status: {:?}", trade.trade_status),
//!     Err(e) if e.is_api() => println!("Alipay said: {}", e.api().map(|a| a.code()).unwrap_or("")),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! * `hyper-rustls` (default) — the default HTTP transport.
//! * `aws-lc-rs` (default) / `rust-crypto` — the RSA backend of `alipay-sign`.
//! * `bill` (default) — [`Client::download_bill`], [`Client::download_bill_to_file`] and the
//!   [`bill`] module (`alipay-bill` re-exported, with [`bill::Bill`]).
//! * `test-util` — the transport test doubles, as [`transport::test_util`].
//! * `full` — every API family of `alipay-model`.

mod api;
mod barcode;
#[cfg(feature = "bill")]
pub mod bill;
mod certs;
mod client;
mod clock;
pub mod config;
mod encode;
mod error;
mod multipart;
mod redirect;
mod retry;
mod v2;
mod v3;

pub use crate::barcode::{BarcodeFlow, BarcodeOutcome};
pub use crate::certs::CERT_DOWNLOAD_METHOD;
pub use crate::client::{
    Client, ClientBuilder, Environment, PRODUCTION_GATEWAY, Protocol, RequestOptions,
    SANDBOX_GATEWAY,
};
pub use crate::clock::{Clock, FixedClock, SystemClock, format_v2_timestamp, parse_v2_timestamp};
pub use crate::encode::html_escape;
pub use crate::error::{ApiError, Error, ErrorProtocol};
pub use crate::redirect::PageMethod;
pub use crate::retry::RetryPolicy;

/// The request models (`alipay-model`).
pub use alipay_model as model;
/// The signing core (`alipay-sign`).
pub use alipay_sign as sign;
/// The HTTP layer (`alipay-transport`).
pub use alipay_transport as transport;

/// `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("alipay-rs/", env!("CARGO_PKG_VERSION"));
