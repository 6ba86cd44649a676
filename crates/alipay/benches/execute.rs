//! The cost of one `execute`: in memory (the client's whole pipeline, RSA included, no network),
//! the RSA parts alone (sign the request, verify the answer), and a full round trip over
//! loopback against `alipay-emulator`. The client's own overhead is
//! `execute/in_memory − rsa/sign − rsa/verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use std::sync::Arc;

use alipay::model::trade::{PrecreateRequest, QueryRequest};
use alipay::model::{Amount, TradeRef};
use alipay::sign::{PrivateKey, RsaSigner, RsaVerifier, SignType, Signer as _, Verifier as _};
use alipay::transport::{BoxFuture, HttpRequest, HttpResponse, HttpTransport, TransportError};
use alipay::{Client, Environment, FixedClock};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};

const APP_KEY: &[u8] = include_bytes!("../tests/data/app_private_pkcs1.pem");
const ALIPAY_KEY: &[u8] = include_bytes!("../tests/data/alipay_private_pkcs1.pem");
const ALIPAY_PUBLIC: &[u8] = include_bytes!("../tests/data/alipay_public.pem");

const NODE: &str = r#"{"code":"10000","msg":"Success","trade_no":"2026112622001400000000000001","out_trade_no":"T20261126000001","buyer_logon_id":"159****5620","trade_status":"TRADE_SUCCESS","total_amount":"88.88","receipt_amount":"88.88","buyer_pay_amount":"88.88","send_pay_date":"2026-11-26 12:00:00","buyer_user_id":"2088102122524333"}"#;

/// Answers every request with the same signed gateway response.
#[derive(Debug)]
struct Fixed(Bytes);

impl HttpTransport for Fixed {
    fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let body = self.0.clone();
        Box::pin(async move {
            let mut response = HttpResponse::new(body);
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/html;charset=utf-8"),
            );
            Ok(response)
        })
    }
}

/// A signer that returns a constant (the gateway is not checking).
#[derive(Debug)]
struct NoRsa;

impl alipay::sign::Signer for NoRsa {
    fn try_sign(&self, _: SignType, _: &[u8]) -> Result<Vec<u8>, alipay::sign::Error> {
        Ok(vec![7u8; 256])
    }
}

fn bench(c: &mut Criterion) {
    let alipay_signer = RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap()).unwrap();
    let sign = alipay_signer
        .sign_base64(SignType::Rsa2, NODE.as_bytes())
        .unwrap();
    let body = format!("{{\"alipay_trade_query_response\":{NODE},\"sign\":\"{sign}\"}}");
    let client_body = Bytes::from(body.clone());
    let client = Client::builder()
        .app_id("2021000000000001")
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .transport(Arc::new(Fixed(Bytes::from(body))))
        .clock(Arc::new(
            FixedClock::from_v2_timestamp("2026-11-26 20:00:00").unwrap(),
        ))
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let query = QueryRequest::new(TradeRef::out_trade_no("T20261126000001"));
    c.bench_function("execute/in_memory", |b| {
        b.iter(|| rt.block_on(client.execute(&query)).unwrap());
    });

    // The same with a signer that does no RSA: what remains is the client's own work plus one
    // RSA verification.
    let fake = Client::builder()
        .app_id("2021000000000001")
        .signer(Arc::new(NoRsa))
        .alipay_public_key(ALIPAY_PUBLIC)
        .transport(Arc::new(Fixed(client_body)))
        .clock(Arc::new(
            FixedClock::from_v2_timestamp("2026-11-26 20:00:00").unwrap(),
        ))
        .build()
        .unwrap();
    c.bench_function("execute/in_memory_no_rsa_signing", |b| {
        b.iter(|| rt.block_on(fake.execute(&query)).unwrap());
    });

    let app_signer = RsaSigner::new(&PrivateKey::from_pem_or_der(APP_KEY).unwrap()).unwrap();
    let content = "alipay_root_cert_sn=&app_id=2021000000000001&biz_content={\"out_trade_no\":\"T20261126000001\"}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-11-26 20:00:00&version=1.0";
    c.bench_function("rsa/sign", |b| {
        b.iter(|| {
            app_signer
                .sign_base64(SignType::Rsa2, content.as_bytes())
                .unwrap()
        });
    });
    let verifier =
        RsaVerifier::new(&alipay::sign::PublicKey::from_pem_or_der(ALIPAY_PUBLIC).unwrap())
            .unwrap();
    c.bench_function("rsa/verify", |b| {
        b.iter(|| {
            verifier
                .verify_base64(SignType::Rsa2, NODE.as_bytes(), &sign)
                .unwrap();
        });
    });

    // A full round trip over loopback: hyper client → emulator (its own RSA verify and sign).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (emulator, client) = rt.block_on(async {
        let emulator = alipay_emulator::Emulator::start().await.unwrap();
        let app = emulator.app();
        let client = Client::builder()
            .app_id(app.app_id.clone())
            .app_private_key(app.app_private_key_pem.as_deref().unwrap().as_bytes())
            .alipay_public_key(app.alipay_public_key_pem.as_bytes())
            .environment(Environment::custom(&emulator.gateway_url()).unwrap())
            .build()
            .unwrap();
        client
            .execute(&PrecreateRequest::new(
                "BENCH_1",
                Amount::from_fen(100),
                "bench",
            ))
            .await
            .unwrap();
        emulator.control().pay("BENCH_1").await.unwrap();
        (emulator, client)
    });
    let query = QueryRequest::new(TradeRef::out_trade_no("BENCH_1"));
    c.bench_function("execute/loopback_emulator", |b| {
        b.iter(|| rt.block_on(client.execute(&query)).unwrap());
    });
    rt.block_on(emulator.shutdown()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
