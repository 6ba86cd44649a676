//! Benchmarks of the signing core (`cargo bench -p alipay-sign --all-features`).
//!
//! Every RSA figure comes in two forms so that overheads can be read as ratios from one run:
//!
//! * `sign/<backend>` — the bare RSA operation: SHA256withRSA over the canonical string of a
//!   12-parameter request (`Signer::try_sign`, raw signature bytes).
//! * `canonicalize+sign/<backend>` — the full request path over the same parameters:
//!   [`alipay_sign::sign_params`] (canonicalize, charset, sign, base64).
//! * `verify/<backend>` — the bare RSA check of the signed node of a 1 KiB response
//!   (`Verifier::verify` with the decoded signature).
//! * `extract+verify/<backend>` — the full response path over the raw 1 KiB body:
//!   [`alipay_sign::extract_response`] then `ResponseParts::verify` (base64 decode included).
//! * `canonicalize/12-params`, `extract/1KiB` and `verify_base64/<backend>` (the bare check plus
//!   base64 decoding of the signature) — the non-RSA stages, to see where overhead goes.
//!
//! Backends: `aws-lc-rs` and `rust-crypto`, each compiled only with its feature and pinned with
//! `RsaSigner::with_backend` / `RsaVerifier::with_backend`. `docs/performance.md` records a run
//! next to `openssl speed -seconds 3 rsa2048`.
#![allow(
    clippy::expect_used,
    reason = "the fixtures are committed test keys and fixed strings; a failure is a broken benchmark, not bad outside input"
)]

use std::hint::black_box;

use alipay_sign::{
    Backend, Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, Rule, SignType, Signer,
    Verifier, canonical_string, extract_response, sign_params,
};
use criterion::{Criterion, criterion_group, criterion_main};

const APP_PRIVATE: &[u8] = include_bytes!("../tests/data/app_private_pkcs1.pem");
const ALIPAY_PRIVATE: &[u8] = include_bytes!("../tests/data/alipay_private_pkcs1.pem");
const ALIPAY_PUBLIC: &[u8] = include_bytes!("../tests/data/alipay_public.pem");

const METHOD: &str = "alipay.trade.query";
const NODE: &str = "alipay_trade_query_response";
/// Size of the whole response body, signature included.
const RESPONSE_BYTES: usize = 1024;

/// A typical 12-parameter v2 request, in the (unsorted) order an SDK builds it.
const REQUEST: [(&str, &str); 12] = [
    ("app_id", "2021000000000000"),
    ("method", "alipay.trade.page.pay"),
    ("format", "JSON"),
    ("charset", "utf-8"),
    ("sign_type", "RSA2"),
    ("timestamp", "2024-05-13 17:49:20"),
    ("version", "1.0"),
    ("notify_url", "https://merchant.example.com/alipay/notify"),
    ("return_url", "https://merchant.example.com/alipay/return"),
    ("app_auth_token", "202405BBd5f3a6a6c1e84b4fa1d6f1cbd0a4cX42"),
    ("alipay_sdk", "alipay-rs/0.1.0"),
    (
        "biz_content",
        r#"{"out_trade_no":"20240513174920000001","total_amount":"88.88","subject":"年货礼盒 Gift box","product_code":"FAST_INSTANT_TRADE_PAY","timeout_express":"90m"}"#,
    ),
];

/// The signed node of a trade query response, padded so the whole body is exactly
/// [`RESPONSE_BYTES`] long once the 2048-bit signature is appended.
fn response_node() -> String {
    let head = concat!(
        r#"{"code":"10000","msg":"Success","buyer_logon_id":"159****5620","#,
        r#""buyer_pay_amount":"88.88","buyer_user_id":"2088101117955611","#,
        r#""fund_bill_list":[{"amount":"80.00","fund_channel":"ALIPAYACCOUNT"},"#,
        r#"{"amount":"8.88","fund_channel":"MDISCOUNT"}],"#,
        r#""invoice_amount":"88.88","out_trade_no":"20240513174920000001","#,
        r#""point_amount":"0.00","receipt_amount":"88.88","send_pay_date":"2024-05-13 17:50:02","#,
        r#""total_amount":"88.88","trade_no":"2024051322001411111111111111","#,
        r#""trade_status":"TRADE_SUCCESS","store_name":"杭州西湖店 \/ Hangzhou West Lake","#,
        r#""ext_infos":"{\"biz\":\"a,b}\"}","body":""#
    );
    let tail = r#""}"#;
    // {"<node>":<content>,"sign":"<344 base64 chars>"}
    let fixed = 2 + NODE.len() + 2 + r#","sign":""#.len() + 344 + 2;
    let pad = RESPONSE_BYTES - fixed - head.len() - tail.len();
    let mut s = String::with_capacity(RESPONSE_BYTES);
    s.push_str(head);
    s.extend((b'a'..=b'z').cycle().take(pad).map(char::from));
    s.push_str(tail);
    s
}

struct Fixture {
    canonical: String,
    response_body: Vec<u8>,
    node_content: Vec<u8>,
    node_signature: Vec<u8>,
    node_sign_b64: String,
}

fn fixture() -> Fixture {
    let alipay_key = PrivateKey::from_pem_or_der(ALIPAY_PRIVATE).expect("alipay test key");
    let alipay_signer = RsaSigner::new(&alipay_key).expect("alipay signer");
    let node = response_node();
    let node_signature = alipay_signer
        .try_sign(SignType::Rsa2, node.as_bytes())
        .expect("sign the response node");
    let sign_b64 = alipay_signer
        .sign_base64(SignType::Rsa2, node.as_bytes())
        .expect("sign the response node");
    let body = format!(r#"{{"{NODE}":{node},"sign":"{sign_b64}"}}"#);
    assert_eq!(body.len(), RESPONSE_BYTES, "response fixture size");
    Fixture {
        canonical: canonical_string(REQUEST, Rule::Request),
        response_body: body.into_bytes(),
        node_content: node.into_bytes(),
        node_signature,
        node_sign_b64: sign_b64,
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::AwsLc => "aws-lc-rs",
        _ => "rust-crypto",
    }
}

fn bench_stages(c: &mut Criterion, fx: &Fixture) {
    c.bench_function("canonicalize/12-params", |b| {
        b.iter(|| canonical_string(black_box(REQUEST), Rule::Request));
    });
    c.bench_function("extract/1KiB", |b| {
        b.iter(|| {
            extract_response(black_box(&fx.response_body), METHOD, Charset::Utf8)
                .map(|p| p.content.len())
        });
    });
}

fn bench_backend(c: &mut Criterion, fx: &Fixture, backend: Backend) {
    let name = backend_name(backend);
    let app_key = PrivateKey::from_pem_or_der(APP_PRIVATE).expect("app test key");
    let signer = RsaSigner::with_backend(&app_key, backend).expect("signer");
    let alipay_public = PublicKey::from_pem_or_der(ALIPAY_PUBLIC).expect("alipay public key");
    let verifier = RsaVerifier::with_backend(&alipay_public, backend).expect("verifier");

    // The measured paths must succeed, or the figures mean nothing.
    let parts = extract_response(&fx.response_body, METHOD, Charset::Utf8).expect("extract");
    assert_eq!(parts.content, fx.node_content.as_slice());
    parts
        .verify(&verifier, SignType::Rsa2)
        .expect("the response verifies");
    let signed = sign_params(&signer, REQUEST, SignType::Rsa2, Charset::Utf8).expect("sign_params");
    assert_eq!(signed.content, fx.canonical);

    let mut group = c.benchmark_group("sign");
    group.bench_function(name, |b| {
        b.iter(|| signer.try_sign(SignType::Rsa2, black_box(fx.canonical.as_bytes())));
    });
    group.finish();

    let mut group = c.benchmark_group("canonicalize+sign");
    group.bench_function(name, |b| {
        b.iter(|| sign_params(&signer, black_box(REQUEST), SignType::Rsa2, Charset::Utf8));
    });
    group.finish();

    let mut group = c.benchmark_group("verify");
    group.bench_function(name, |b| {
        b.iter(|| {
            verifier.verify(
                SignType::Rsa2,
                black_box(&fx.node_content),
                black_box(&fx.node_signature),
            )
        });
    });
    group.finish();

    // Where the full response path spends its time beyond the RSA check: base64 decoding of
    // `sign` (this group) and the extraction itself (`extract/1KiB`).
    let mut group = c.benchmark_group("verify_base64");
    group.bench_function(name, |b| {
        b.iter(|| {
            verifier.verify_base64(
                SignType::Rsa2,
                black_box(&fx.node_content),
                black_box(&fx.node_sign_b64),
            )
        });
    });
    group.finish();

    let mut group = c.benchmark_group("extract+verify");
    group.bench_function(name, |b| {
        b.iter(|| {
            extract_response(black_box(&fx.response_body), METHOD, Charset::Utf8)
                .and_then(|p| p.verify(&verifier, SignType::Rsa2))
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    bench_stages(c, &fx);
    #[cfg(feature = "aws-lc-rs")]
    bench_backend(c, &fx, Backend::AwsLc);
    #[cfg(feature = "rust-crypto")]
    bench_backend(c, &fx, Backend::RustCrypto);
}

criterion_group!(sign_benches, benches);
criterion_main!(sign_benches);
