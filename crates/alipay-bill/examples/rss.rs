//! Peak-memory check of the streaming reader: generate a big bill, then read it.
//!
//! ```text
//! cargo build --release -p alipay-bill --example rss
//! target/release/examples/rss generate /tmp/bill.zip 1000000   # a ZIP (or .csv) of N detail rows
//! /usr/bin/time -v target/release/examples/rss read /tmp/bill.zip   # "Maximum resident set size"
//! ```
//! `read` streams every table of the file and prints the row count, the MB/s and the check;
//! `naive FILE.csv` runs the baseline (whole file to a `String`, then parse) for comparison.

#![allow(
    clippy::print_stdout,
    reason = "an example that reports what it measured"
)]

use std::fs::File;
use std::io::{BufWriter, Read};
use std::time::Instant;

use alipay_bill::{Error, TableKind, ZipWriter};

#[path = "../benches/support/generate.rs"]
mod r#gen;
#[path = "../benches/support/naive.rs"]
mod naive;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("generate"), Some(path)) => {
            let rows = args
                .get(3)
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000);
            let file = BufWriter::new(File::create(path)?);
            if path.ends_with(".zip") {
                let mut zip = ZipWriter::new(file);
                let name =
                    TableKind::Detail.entry_name("20880211096256330156", "2019-09-16".parse()?);
                let modified = jiff::civil::datetime(2019, 9, 17, 5, 46, 49, 0);
                let entry = r#gen::write_detail(zip.start_entry(&name, modified)?, rows)?;
                entry.finish()?;
                zip.finish()?;
            } else {
                r#gen::write_detail(file, rows)?;
            }
            println!("wrote {rows} rows to {path}");
        }
        (Some("read"), Some(path)) => {
            let start = Instant::now();
            let mut rows = 0u64;
            let mut bytes = 0u64;
            alipay_bill::read_tables(File::open(path)?, path, |table| {
                for row in table.by_ref() {
                    row?;
                    rows += 1;
                }
                println!("{}: {}", table.name(), table.check());
                Ok::<_, Error>(())
            })?;
            let elapsed = start.elapsed().as_secs_f64();
            // Input bytes: the CSV size (the uncompressed size for a ZIP).
            let mut f = File::open(path)?;
            let mut magic = [0u8; 2];
            f.read_exact(&mut magic)?;
            if &magic == b"PK" {
                let archive = alipay_bill::BillArchive::new(File::open(path)?)?;
                bytes = archive.entries().iter().map(|e| e.size).sum();
            } else {
                bytes += std::fs::metadata(path)?.len();
            }
            #[allow(clippy::cast_precision_loss, reason = "a throughput figure")]
            let mb = bytes as f64 / 1e6;
            println!(
                "{rows} rows, {mb:.1} MB in {elapsed:.2} s: {:.0} MB/s",
                mb / elapsed
            );
        }
        (Some("naive"), Some(path)) => {
            // The baseline: the whole CSV in memory, decoded to one String, then parsed.
            let start = Instant::now();
            let bytes = std::fs::read(path)?;
            let (rows, received) = naive::naive(&bytes);
            let elapsed = start.elapsed().as_secs_f64();
            #[allow(clippy::cast_precision_loss, reason = "a throughput figure")]
            let mb = bytes.len() as f64 / 1e6;
            println!(
                "{rows} rows (商家实收 {received}), {mb:.1} MB in {elapsed:.2} s: {:.0} MB/s",
                mb / elapsed
            );
        }
        _ => println!(
            "usage: rss generate FILE.zip|FILE.csv [ROWS] | rss read FILE | rss naive FILE.csv"
        ),
    }
    Ok(())
}
