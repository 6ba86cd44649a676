//! # alipay-emulator
//!
//! A local Alipay Open Platform on `127.0.0.1`, faithful enough that the official SDKs cannot
//! tell it from Alipay: every flow a merchant has — pay, notify, query, refund, close, bill —
//! runs offline, in CI, in one process.
//!
//! * **v2 gateway** `GET/POST /gateway.do`: query and form parameters merged and decoded in the
//!   request charset; signatures verified with the registered app key (`RSA2` and `RSA`,
//!   public-key and certificate mode with `app_cert_sn`/`alipay_root_cert_sn` checks); AES
//!   `biz_content`; `app_auth_token`; errors as Alipay sends them (`40001`, `40002`
//!   `isv.invalid-signature` quoting the string it verified, `40004` `ACQ.*`, `20000`).
//!   Answers are compact, `node → alipay_cert_sn → sign`, signed with the emulator's own Alipay
//!   key or certificate, in the request charset.
//! * **v3** `/v3/alipay/trade/...`: `Authorization` verified, answers signed in the
//!   `alipay-*` headers, errors as `{code, message, links}`.
//! * **Trades**: precreate (a QR code URL on the emulator), bar-code pay (the `auth_code`
//!   picks the outcome), create, page/wap pay (a cashier page), app pay (an order string paid
//!   through the control API), query, cancel, close, refund (partial, idempotent), refund
//!   query, settle, timeouts; bills (`alipay-bill`'s GBK ZIP, URLs valid 30 s); the Alipay
//!   certificate download and rotation; `alipay.system.oauth.token`.
//! * **Notifications** POSTed to `notify_url`, signed (rule V1) in the request charset,
//!   retried on Alipay's schedule (4m, 10m, 10m, 1h, 2h, 6h, 15h) on an emulator [`Clock`]
//!   that a test can speed up or advance.
//! * **Control API** (`<base>/control`, JSON; [`ControlClient`]): pay or abandon a trade as the
//!   buyer, force a state, advance the clock, inject faults, read the notification log,
//!   register apps, rotate the Alipay certificate.
//!
//! `docs/emulator.md` documents every operation, outcome and control endpoint.
//!
//! ## Example
//!
//! Any client works: here a precreate is signed with `alipay-sign` and posted by hand, the
//! buyer pays through the control API, and the trade is queried.
//!
//! ```
//! use alipay_sign::{Charset, PrivateKey, RsaSigner, SignType, sign_params};
//! use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = alipay_emulator::Emulator::builder().time_scale(0.0).start().await?;
//! let app = emulator.app();
//! let key = PrivateKey::from_pem_or_der(app.app_private_key_pem.as_deref().unwrap().as_bytes())?;
//! let signer = RsaSigner::new(&key)?;
//!
//! let call = |method: &str, biz: &str| {
//!     let mut params = vec![
//!         ("app_id", app.app_id.clone()), ("method", method.to_owned()),
//!         ("charset", "utf-8".into()), ("sign_type", "RSA2".into()),
//!         ("timestamp", emulator.clock().format_now()), ("version", "1.0".into()),
//!         ("biz_content", biz.to_owned()),
//!     ];
//!     let signed = sign_params(&signer, params.clone(), SignType::Rsa2, Charset::Utf8).unwrap();
//!     params.push(("sign", signed.sign));
//!     params.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
//! };
//! # fn urlencode(v: &str) -> String {
//! #     v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
//! # }
//! # async fn post(addr: std::net::SocketAddr, form: String) -> std::io::Result<String> {
//! #     let mut s = tokio::net::TcpStream::connect(addr).await?;
//! #     let req = format!("POST /gateway.do HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded;charset=utf-8\r\nContent-Length: {}\r\n\r\n{form}", form.len());
//! #     s.write_all(req.as_bytes()).await?;
//! #     let mut out = String::new();
//! #     s.read_to_string(&mut out).await?;
//! #     Ok(out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
//! # }
//! let form = call("alipay.trade.precreate",
//!     r#"{"out_trade_no":"T1","total_amount":"88.88","subject":"Coffee"}"#);
//! let body = post(emulator.addr(), form).await?;
//! assert!(body.starts_with(r#"{"alipay_trade_precreate_response":{"code":"10000","msg":"Success","out_trade_no":"T1","qr_code":""#));
//!
//! emulator.control().pay("T1").await?; // the buyer scans and pays
//!
//! let body = post(emulator.addr(), call("alipay.trade.query", r#"{"out_trade_no":"T1"}"#)).await?;
//! assert!(body.contains(r#""trade_status":"TRADE_SUCCESS""#));
//! emulator.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! * `aws-lc-rs` (default) — request signatures are verified through aws-lc-rs (via
//!   `alipay-sign`); without it, through the pure-Rust `rsa` crate. Key generation and RSA2
//!   signing always use aws-lc-rs; legacy `RSA` (SHA1withRSA) answers are signed by the `rsa`
//!   crate, which aws-lc-rs cannot do.

mod app;
mod bill;
mod cashier;
mod clock;
mod control;
mod control_client;
mod crypto;
mod dashboard;
mod emulator;
mod error;
mod gateway;
mod http;
mod model;
mod notify;
mod ops;
mod server;
mod state;
mod store;
mod v3;
mod x509;

pub use crate::app::{AppCredentials, AppSpec, KeyMode};
pub use crate::clock::Clock;
pub use crate::control_client::{ControlClient, FaultKind, FaultSpec};
pub use crate::emulator::{CredentialFiles, Emulator, EmulatorBuilder};
pub use crate::error::Error;
