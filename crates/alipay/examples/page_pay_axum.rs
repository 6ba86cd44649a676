//! Page pay in an axum handler: `GET /pay` answers the auto-submitting form that takes the
//! buyer's browser to the cashier (here: the emulator's).
//!
//! `cargo run -p alipay --example page_pay_axum` (serves once, fetches `/pay`, prints the form)
#![allow(clippy::print_stdout, reason = "an example shows its results")]

#[path = "support/emulator.rs"]
mod common;

use alipay::model::Amount;
use alipay::model::trade::PagePayRequest;
use alipay::transport::HttpTransport as _;
use alipay::{Client, RequestOptions};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;

async fn pay(State(client): State<Client>) -> Result<Html<String>, (StatusCode, String)> {
    let order = PagePayRequest::new("EX_PAGE_1", Amount::from_fen(19_900), "Headphones");
    let options = RequestOptions::new()
        .return_url("https://shop.example/alipay/return")
        .notify_url("https://shop.example/alipay/notify");
    client
        .page_pay(&order, &options)
        .map(Html)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = common::emulator_and_client().await?;
    let app = axum::Router::new()
        .route("/pay", get(pay))
        .with_state(client);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let transport = alipay::transport::HyperTransport::new()?;
    let request = http::Request::get(format!("http://{addr}/pay")).body(bytes::Bytes::new())?;
    let response = transport.send(request).await?;
    println!(
        "{}\n{}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );

    server.abort();
    emulator.shutdown().await?;
    Ok(())
}
