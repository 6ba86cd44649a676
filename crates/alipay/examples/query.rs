//! Precreate a QR-code order, let the buyer pay (through the emulator's control API), and query
//! it over v2 and v3.
//!
//! `cargo run -p alipay --example query`
#![allow(clippy::print_stdout, reason = "an example shows its results")]

#[path = "support/emulator.rs"]
mod common;

use alipay::model::trade::{PrecreateRequest, QueryRequest};
use alipay::model::{Amount, TradeRef};
use alipay::{Protocol, RequestOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = common::emulator_and_client().await?;

    let order = PrecreateRequest::new("EX_QUERY_1", Amount::from_fen(8888), "Coffee");
    let created = client.execute(&order).await?;
    println!("precreate: qr_code = {:?}", created.qr_code);

    emulator.control().pay("EX_QUERY_1").await?;

    let query = QueryRequest::new(TradeRef::out_trade_no("EX_QUERY_1"));
    let v2 = client.execute(&query).await?;
    println!("v2 query: {:?}, {:?}", v2.trade_status, v2.total_amount);
    let v3 = client
        .execute_with(&query, &RequestOptions::new().protocol(Protocol::V3))
        .await?;
    println!(
        "v3 query: {:?}, trade_no {:?}",
        v3.trade_status, v3.trade_no
    );

    match client
        .execute(&QueryRequest::new(TradeRef::out_trade_no("NO_SUCH_TRADE")))
        .await
    {
        Err(e) if e.is_api() => println!(
            "unknown trade: {}",
            e.api().map(|a| a.to_json()).unwrap_or_default()
        ),
        other => println!("unexpected: {other:?}"),
    }
    emulator.shutdown().await?;
    Ok(())
}
