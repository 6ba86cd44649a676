//! Notifications verified per second: parse the raw body, pick the rule, verify RSA2.
//!
//! Two measurements: criterion's (wall clock), and a CPU-time rate per benchmark (this thread's
//! user + system time from `/proc/thread-self/stat`, over at least 3 CPU-seconds), which is what
//! `openssl speed` counts. On a shared, busy machine only the CPU-time rates are comparable with
//! `openssl speed`. `benches/compare_openssl.sh` runs both and prints the ratio recorded in
//! docs/notifications.md.

// Fixed inputs: a failed setup step is a broken benchmark, and should stop it loudly. The CPU-time
// report is the benchmark's output, printed.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;

use alipay_notify::{Form, NotifyBuilder, NotifyRule, NotifyVerifier};
use alipay_sign::{Backend, Charset, PrivateKey, RsaSigner, RsaVerifier, SignType, Verifier};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ALIPAY_PRIVATE: &[u8] = include_bytes!("../tests/data/alipay_private_pkcs1.pem");
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// A real-shaped `trade_status_sync` notification (the fields of PROTOCOL §3.1).
fn trade_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("gmt_create", "2024-05-13 17:49:20"),
        ("notify_time", "2024-05-13 17:49:25"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2024051300222174925012345678901234"),
        ("app_id", "2021000000000000"),
        ("auth_app_id", "2021000000000000"),
        ("version", "1.0"),
        ("trade_no", "2024051322001404160500000001"),
        ("out_trade_no", "T20240513174920000001"),
        ("buyer_id", "2088102534368455"),
        ("buyer_logon_id", "xud***@126.com"),
        ("seller_id", "2088721996721370"),
        ("seller_email", "shop@example.com"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.88"),
        ("receipt_amount", "88.88"),
        ("invoice_amount", "88.88"),
        ("buyer_pay_amount", "88.88"),
        ("point_amount", "0.00"),
        ("subject", "咖啡 × 2 (大杯)"),
        ("body", "拿铁 & 美式"),
        ("gmt_payment", "2024-05-13 17:49:24"),
        (
            "fund_bill_list",
            r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
        ("passback_params", "merchant%3Dshop1%26table%3D7"),
    ]
}

/// This thread's CPU time (user + system) in clock ticks (1/100 s on Linux), if readable.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Runs `f` for at least 3 CPU-seconds and prints its rate per CPU-second.
fn cpu_rate(name: &str, mut f: impl FnMut() -> bool) {
    const TICKS_PER_SECOND: f64 = 100.0;
    const MIN_TICKS: u64 = 300;
    for _ in 0..200 {
        black_box(f());
    }
    let Some(start) = thread_cpu_ticks() else {
        println!("cpu-time {name}: /proc/thread-self/stat is not readable; not measured");
        return;
    };
    let mut runs: u64 = 0;
    let mut now = start;
    while now - start < MIN_TICKS {
        for _ in 0..500 {
            assert!(black_box(f()));
        }
        runs += 500;
        now = thread_cpu_ticks().unwrap_or(u64::MAX / 2);
    }
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let rate = runs as f64 * TICKS_PER_SECOND / (now - start) as f64;
    println!("cpu-time {name}: {rate:.0} per CPU-second");
}

fn bench(c: &mut Criterion) {
    let key = PrivateKey::from_pem_or_der(ALIPAY_PRIVATE).expect("test key");
    let signer = RsaSigner::new(&key).expect("signer");
    let utf8 = NotifyBuilder::new(Charset::Utf8)
        .fields(trade_fields())
        .sign(&signer, NotifyRule::V1, SignType::Rsa2)
        .expect("sign");
    let gbk = NotifyBuilder::new(Charset::Gbk)
        .fields(trade_fields())
        .sign(&signer, NotifyRule::V1, SignType::Rsa2)
        .expect("sign");
    let aws = RsaVerifier::with_backend(key.public_key(), Backend::AwsLc).expect("aws-lc-rs");
    let verifier = NotifyVerifier::from_verifier(std::sync::Arc::new(
        RsaVerifier::with_backend(key.public_key(), Backend::AwsLc).expect("aws-lc-rs"),
    ));
    assert!(verifier.verify(&utf8, Some(CONTENT_TYPE)).is_ok());
    assert!(verifier.verify(&gbk, None).is_ok());

    let mut group = c.benchmark_group("notify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_utf8_aws_lc", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&utf8), Some(CONTENT_TYPE))
                .is_ok()
        });
    });
    group.bench_function("verify_gbk_aws_lc", |b| {
        b.iter(|| verifier.verify(black_box(&gbk), None).is_ok());
    });
    group.bench_function("parse_utf8", |b| {
        b.iter(|| Form::parse(black_box(&utf8), Some(CONTENT_TYPE)).is_ok());
    });
    // The in-run baseline: one bare RSA2 verification of the same content.
    let form = Form::parse(&utf8, None).expect("parse");
    let content = form.canonical_content(NotifyRule::V1);
    let sig = form.get("sign").expect("sign").to_owned();
    group.bench_function("rsa2048_sha256_verify_only", |b| {
        b.iter(|| {
            aws.verify_base64(SignType::Rsa2, black_box(content.as_bytes()), &sig)
                .is_ok()
        });
    });
    group.finish();

    if std::env::var_os("NOTIFY_BENCH_CPU").is_some() {
        cpu_rate("notify/verify_utf8_aws_lc", || {
            verifier
                .verify(black_box(&utf8), Some(CONTENT_TYPE))
                .is_ok()
        });
        cpu_rate("notify/verify_gbk_aws_lc", || {
            verifier.verify(black_box(&gbk), None).is_ok()
        });
        cpu_rate("notify/parse_utf8", || {
            Form::parse(black_box(&utf8), Some(CONTENT_TYPE)).is_ok()
        });
        cpu_rate("notify/rsa2048_sha256_verify_only", || {
            aws.verify_base64(SignType::Rsa2, black_box(content.as_bytes()), &sig)
                .is_ok()
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
