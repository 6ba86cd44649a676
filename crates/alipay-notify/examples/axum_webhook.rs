//! An Alipay notification webhook on axum.
//!
//! Run: `cargo run -p alipay-notify --example axum_webhook --features axum`
//!
//! The example plays both sides: it starts the webhook on 127.0.0.1, then posts notifications to
//! it the way Alipay does (signed with a test key standing in for Alipay's private key): a payment,
//! the same payment again (a resend, acknowledged without processing it twice), and a forged one
//! (rejected with 400). In a real service, load the Alipay public key (or certificates) from your
//! configuration and keep only the server half.

// An example shows what happens by printing it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use alipay_model::Amount;
use alipay_notify::{
    Ack, AlipayNotification, Claim, Event, MemoryStore, MerchantOrder, NotificationStore,
    NotifyBuilder, NotifyKey, NotifyRejection, NotifyRule, NotifyVerifier,
};
use alipay_sign::{Charset, PrivateKey, RsaSigner, SignType};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const APP_ID: &str = "2021000000000000";
/// Stands in for Alipay's private key; a real service never has it.
const TEST_ALIPAY_PRIVATE: &[u8] = include_bytes!("../tests/data/alipay_private_pkcs1.pem");

#[derive(Clone)]
struct AppState {
    verifier: NotifyVerifier,
    store: Arc<MemoryStore>,
    /// The merchant's orders: out_trade_no → (amount, paid).
    orders: Arc<Mutex<HashMap<String, (Amount, bool)>>>,
}

impl FromRef<AppState> for NotifyVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

async fn alipay_notify(
    State(state): State<AppState>,
    notification: Result<AlipayNotification, NotifyRejection>,
) -> Response {
    let notification = match notification {
        Ok(AlipayNotification(n)) => n,
        Err(rejection) => {
            eprintln!("webhook: rejected: {}", rejection.error());
            return rejection.into_response();
        }
    };
    let event = match notification.event() {
        Ok(event) => event,
        Err(e) => {
            eprintln!("webhook: verified but not understood: {e}");
            return Ack::Fail.into_response();
        }
    };
    let Event::Trade(trade) = event else {
        return Ack::Success.into_response(); // nothing to do for other messages here
    };
    let Some(key) = NotifyKey::of(&Event::Trade(trade.clone())) else {
        return Ack::Fail.into_response();
    };
    match state.store.claim(&key).await {
        Ok(Claim::New) => {}
        Ok(Claim::Done) => {
            println!("webhook: {key} already processed; acknowledging the resend");
            return Ack::Success.into_response();
        }
        Ok(_) | Err(_) => return Ack::Fail.into_response(),
    }
    let processed = {
        let mut orders = state
            .orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match orders.get_mut(&trade.out_trade_no) {
            None => Err(format!("unknown order {}", trade.out_trade_no)),
            Some((amount, paid)) => {
                let order = MerchantOrder::new(APP_ID, trade.out_trade_no.clone(), *amount);
                match trade.check(&order) {
                    Err(mismatch) => Err(mismatch.to_string()),
                    Ok(()) => {
                        if trade.trade_status.is_paid() {
                            *paid = true;
                        }
                        println!(
                            "webhook: order {} is {} ({} paid)",
                            trade.out_trade_no,
                            trade.trade_status,
                            trade.total_amount.unwrap_or_default()
                        );
                        Ok(())
                    }
                }
            }
        }
    };
    match processed {
        Ok(()) => {
            let _ = state.store.complete(&key).await;
            Ack::Success.into_response()
        }
        Err(reason) => {
            // Not ours or not what we sold: never fulfil. Alert a human; retrying will not help.
            eprintln!("webhook: ALERT {reason}");
            let _ = state.store.complete(&key).await;
            Ack::Success.into_response()
        }
    }
}

/// Posts `body` the way Alipay does and returns the status line and the reply body.
async fn post_form(addr: std::net::SocketAddr, body: &[u8]) -> std::io::Result<(String, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /alipay/notify HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.lines().next().unwrap_or_default().to_owned();
    let body = reply
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((status, body))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let alipay_key = PrivateKey::from_pem_or_der(TEST_ALIPAY_PRIVATE)?;
    let state = AppState {
        verifier: NotifyVerifier::new(alipay_key.public_key())?,
        store: Arc::new(MemoryStore::new(100_000)),
        orders: Arc::new(Mutex::new(HashMap::from([(
            "T20240513001".to_owned(),
            (Amount::from_fen(8888), false),
        )]))),
    };
    let app = Router::new()
        .route("/alipay/notify", post(alipay_notify))
        .with_state(state);

    // What Alipay would send for a payment of order T20240513001.
    let signer = RsaSigner::new(&alipay_key)?;
    let payment = NotifyBuilder::new(Charset::Utf8)
        .fields([
            ("notify_type", "trade_status_sync"),
            ("notify_id", "2024051300222174925012345678901234"),
            ("notify_time", "2024-05-13 17:49:25"),
            ("app_id", APP_ID),
            ("trade_no", "2024051322001404160500000001"),
            ("out_trade_no", "T20240513001"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "88.88"),
            ("subject", "咖啡 & 茶"),
            (
                "fund_bill_list",
                r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#,
            ),
        ])
        .sign(&signer, NotifyRule::V1, SignType::Rsa2)?;
    let forged = String::from_utf8(payment.clone())?
        .replace("total_amount=88.88", "total_amount=0.01")
        .into_bytes();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("webhook listening on http://{addr}/alipay/notify");
        tokio::spawn(async move { axum::serve(listener, app).await });

        for (what, body) in [
            ("payment", &payment),
            ("resend", &payment),
            ("forged", &forged),
        ] {
            let (status, reply) = post_form(addr, body).await?;
            println!("{what}: {status} → {reply:?}");
        }
        Ok(())
    })
}
