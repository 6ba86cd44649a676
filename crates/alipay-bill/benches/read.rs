//! Streaming reader against a naive baseline (decode the whole file to a `String`, then split
//! lines and cells) over a generated GBK detail bill, in the same run.
//!
//! `BILL_BENCH_ROWS` sets the number of rows (default 1,000,000, about 280 MB of GBK).

use std::hint::black_box;

use alipay_bill::{Money, TableReader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/generate.rs"]
mod r#gen;
#[path = "support/naive.rs"]
mod naive;

use naive::naive;

fn rows() -> u64 {
    std::env::var("BILL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn streaming(bytes: &[u8]) -> (u64, Money) {
    let Ok(mut table) = TableReader::new(bytes) else {
        return (0, Money::ZERO);
    };
    let (mut count, mut sum) = (0, Money::ZERO);
    while let Ok(Some(row)) = table.read_row() {
        count += 1;
        if let Some(d) = row.as_detail() {
            sum += d.received;
        }
    }
    (count, sum)
}

fn bench(c: &mut Criterion) {
    let n = rows();
    let bytes = r#gen::write_detail(Vec::new(), n).unwrap_or_default();
    assert_eq!(streaming(&bytes), naive(&bytes), "both parsers agree");
    let mut group = c.benchmark_group(format!("detail_{n}_rows"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("streaming", |b| b.iter(|| streaming(black_box(&bytes))));
    group.bench_function("naive_whole_string", |b| {
        b.iter(|| naive(black_box(&bytes)));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
