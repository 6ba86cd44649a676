//! Pay, then refund in two parts, each with its own `out_request_no` (which also makes the
//! refund safe to retry), and query one refund.
//!
//! `cargo run -p alipay --example refund`
#![allow(clippy::print_stdout, reason = "an example shows its results")]

#[path = "support/emulator.rs"]
mod common;

use alipay::model::trade::{FastpayRefundQueryRequest, PrecreateRequest, RefundRequest};
use alipay::model::{Amount, TradeRef};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = common::emulator_and_client().await?;
    client
        .execute(&PrecreateRequest::new(
            "EX_REFUND_1",
            Amount::from_fen(10_000),
            "Book",
        ))
        .await?;
    emulator.control().pay("EX_REFUND_1").await?;

    let trade = TradeRef::out_trade_no("EX_REFUND_1");
    for (no, fen) in [("R1", 3_000), ("R2", 2_000)] {
        let refund = RefundRequest::new(trade.clone(), Amount::from_fen(fen)).out_request_no(no);
        let done = client.execute(&refund).await?;
        println!(
            "refund {no}: fund_change={:?} refund_fee={:?}",
            done.fund_change, done.refund_fee
        );
    }
    let found = client
        .execute(&FastpayRefundQueryRequest::new(trade, "R1"))
        .await?;
    println!(
        "refund R1: status {:?}, amount {:?}",
        found.refund_status, found.refund_amount
    );
    emulator.shutdown().await?;
    Ok(())
}
