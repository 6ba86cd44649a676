//! The barcode (当面付) flow: pay with the code the buyer shows; when the outcome is unknown
//! (`10003`, `20000`, a timeout), query until the deadline, then cancel.
//!
//! `cargo run -p alipay --example barcode`
#![allow(clippy::print_stdout, reason = "an example shows its results")]

#[path = "support/emulator.rs"]
mod common;

use std::time::Duration;

use alipay::model::Amount;
use alipay::model::trade::PayRequest;
use alipay::{BarcodeFlow, BarcodeOutcome};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = common::emulator_and_client().await?;
    let flow = BarcodeFlow::default()
        .polling(Duration::from_millis(200), Duration::from_secs(2))
        .cancelling(3, Duration::from_millis(200));

    // The emulator's outcome depends on the auth code: a plain valid code pays at once,
    // `...0005` is an invalid code.
    for (no, code) in [
        ("EX_BAR_1", "281234567890123456"),
        ("EX_BAR_2", "281234567890120005"),
    ] {
        let pay = PayRequest::new(no, Amount::from_fen(1_500), "Lunch", code);
        match client.pay_barcode(&pay, &flow).await? {
            BarcodeOutcome::Paid { trade_no } => println!("{no}: paid, trade_no {trade_no:?}"),
            BarcodeOutcome::Failed(e) => println!("{no}: failed: {e}"),
            other => println!("{no}: {other:?}"),
        }
    }
    emulator.shutdown().await?;
    Ok(())
}
