//! The `alipay` client against a local test gateway: a hyper server on 127.0.0.1 with its own
//! "Alipay" keys, written from PROTOCOL.md. It verifies every request signature (v2: the sorted
//! union of query and form parameters; v3: the `Authorization` content) with the app public key,
//! checks the certificate-mode SNs, decrypts AES requests, and signs every answer with the Alipay
//! key. Plus the `page_pay`, `app_pay` and `parse_response_v2` cases of ../shared/vectors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "test helpers: a failed unwrap is a failed test; skipped checks are reported on stdout"
)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipay::model::trade::{QueryRequest, RefundRequest};
use alipay::model::{Amount, TradeRef, TradeStatus};
use alipay::sign::{
    AesKey, Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, Rule, SignType, Signer as _,
    Verifier as _,
};
use alipay::transport::test_util::{RecordedResponse, ReplayTransport, RequestMatcher};
use alipay::{Client, ClientBuilder, FixedClock, Protocol, RequestOptions, RetryPolicy};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use serde_json::{Value, json};

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/alipay-sign/tests/data/",
            $name
        ))
    };
}

const APP_ID: &str = "2021000000000001";
const APP_KEY: &[u8] = data!("app_private_pkcs1.pem");
const APP_PUBLIC: &[u8] = data!("app_public.pem");
const ALIPAY_KEY: &[u8] = data!("alipay_private_pkcs1.pem");
const ALIPAY_PUBLIC: &[u8] = data!("alipay_public.pem");
const APP_CERT: &[u8] = data!("app_cert.crt");
const ALIPAY_CERT_SHORT: &[u8] = data!("alipay_cert_short.crt");
const ALIPAY_CERT_CHAIN: &[u8] = data!("alipay_cert_chain.crt");
const ALIPAY_CERT_ROGUE: &[u8] = data!("alipay_cert_rogue.crt");
const ROOT_BUNDLE: &[u8] = data!("root_bundle.crt");
const AES_B64: &str = "aYA0GP8JEW+D7/UFaskCWA==";
/// Inside the validity of the test certificates (2026-11-26 03:24:57Z …).
const NOW: &str = "2026-11-26 20:00:00";

// ---------------------------------------------------------------------------------------------
// The test gateway
// ---------------------------------------------------------------------------------------------

/// A request as the gateway saw it.
#[derive(Debug, Clone)]
struct Seen {
    http_method: String,
    target: String,
    /// v2: the `method` parameter; v3: the path.
    op: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    /// v2: `biz_content`, decrypted; v3: the body, decrypted.
    biz: Value,
    headers: http::HeaderMap,
    encrypted: bool,
    /// Multipart file parts: (part name, file name, bytes).
    files: Vec<(String, String, Vec<u8>)>,
}

impl Seen {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(self.form.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[allow(dead_code, reason = "every variant is used by some test")]
enum Reply {
    /// A v2 node, signed (and encrypted when the request was).
    Node(Value),
    /// A v2 node signed with the app key instead of the Alipay key.
    NodeWrongKey(Value),
    /// A v2 node with no sign.
    NodeUnsigned(Value),
    /// A v2 body written by the test (signed part given exactly).
    Raw(u16, String),
    /// A v3 answer: status, body, signed?
    V3(u16, Value, bool),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct CertMode {
    /// SN the gateway puts in `alipay_cert_sn` / `alipay-sn`.
    sign_sn: String,
    /// What `alipay.open.app.alipaycert.download` returns, by SN.
    downloads: HashMap<String, Vec<u8>>,
    app_cert_sn: String,
    root_cert_sn: String,
}

struct GatewayState {
    app_verifier: RsaVerifier,
    alipay_signer: RsaSigner,
    app_signer: RsaSigner,
    aes: AesKey,
    cert: Option<CertMode>,
    handler: Box<Handler>,
    seen: Mutex<Vec<Seen>>,
    calls: AtomicUsize,
    downloads: AtomicUsize,
}

struct Gateway {
    addr: SocketAddr,
    state: Arc<GatewayState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    async fn start(
        cert: Option<CertMode>,
        handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Gateway {
        let state = Arc::new(GatewayState {
            app_verifier: RsaVerifier::new(&PublicKey::from_pem_or_der(APP_PUBLIC).unwrap())
                .unwrap(),
            alipay_signer: RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap())
                .unwrap(),
            app_signer: RsaSigner::new(&PrivateKey::from_pem_or_der(APP_KEY).unwrap()).unwrap(),
            aes: AesKey::from_base64(AES_B64).unwrap(),
            cert,
            handler: Box::new(handler),
            seen: Mutex::new(Vec::new()),
            calls: AtomicUsize::new(0),
            downloads: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(handle(st, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Gateway { addr, state, task }
    }

    fn url(&self) -> String {
        format!("http://{}/gateway.do", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    fn downloads(&self) -> usize {
        self.state.downloads.load(Ordering::SeqCst)
    }
}

fn pairs(s: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(s).into_owned().collect()
}

/// One part of a `multipart/form-data` body: (name, file name, content).
type Part = (String, Option<String>, Vec<u8>);

/// The parts of a `multipart/form-data` body.
fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=")?;
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let at = rest
            .windows(delimiter.len())
            .position(|w| w == delimiter.as_bytes())?;
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        rest = &rest[head_end + 4..];
        let end = rest
            .windows(delimiter.len() + 2)
            .position(|w| w[2..] == *delimiter.as_bytes() && &w[..2] == b"\r\n")?;
        let content = rest[..end].to_vec();
        rest = &rest[end + 2..];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            head.find(&key).map(|i| {
                let v = &head[i + key.len()..];
                v[..v.find('"').unwrap_or(v.len())].to_owned()
            })
        };
        parts.push((attr("name")?, attr("filename"), content));
    }
}

fn node_name(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

async fn handle(
    st: Arc<GatewayState>,
    req: http::Request<hyper::body::Incoming>,
) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if parts.uri.path() == "/gateway.do" {
        handle_v2(&st, &parts, &target, &body).await
    } else {
        handle_v3(&st, &parts, &target, &body).await
    }
}

async fn handle_v2(
    st: &GatewayState,
    parts: &http::request::Parts,
    target: &str,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    let query = pairs(parts.uri.query().unwrap_or_default().as_bytes());
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut files = Vec::new();
    let form = match multipart(content_type, body) {
        Some(all) => {
            let mut text = Vec::new();
            for (name, file_name, content) in all {
                match file_name {
                    Some(f) => files.push((name, f, content)),
                    None => text.push((name, String::from_utf8(content).unwrap())),
                }
            }
            text
        }
        None => pairs(body),
    };
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    let get = |k: &str| {
        all.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let method = get("method");
    // §1.4: verify over the union of query and body parameters.
    let content = alipay::sign::canonical_string(all.iter().map(|(k, v)| (k, v)), Rule::Request);
    let sign_ok = st
        .app_verifier
        .verify_base64(SignType::Rsa2, content.as_bytes(), &get("sign"))
        .is_ok();
    let encrypted = get("encrypt_type") == "AES";
    let biz_text = if encrypted {
        String::from_utf8(st.aes.decrypt(&get("biz_content")).unwrap_or_default())
            .unwrap_or_default()
    } else {
        get("biz_content")
    };
    let seen = Seen {
        http_method: parts.method.to_string(),
        target: target.to_owned(),
        op: method.clone(),
        query,
        form,
        biz: serde_json::from_str(&biz_text).unwrap_or(Value::Null),
        headers: parts.headers.clone(),
        encrypted,
        files,
    };
    let reply = if !sign_ok {
        Reply::Node(
            json!({"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":format!("验签出错，网关生成的验签字符串为：{content}")}),
        )
    } else if let Some(cert) = st.cert.as_ref().filter(|c| {
        get("app_cert_sn") != c.app_cert_sn || get("alipay_root_cert_sn") != c.root_cert_sn
    }) {
        let _ = cert;
        Reply::Node(
            json!({"code":"40002","msg":"Invalid Arguments","sub_code":"isv.app-cert-sn-mismatch"}),
        )
    } else if method == alipay::CERT_DOWNLOAD_METHOD {
        st.downloads.fetch_add(1, Ordering::SeqCst);
        // Slow enough that concurrent callers overlap.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sn = seen.biz["alipay_cert_sn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match st.cert.as_ref().and_then(|c| c.downloads.get(&sn)) {
            Some(pem) => {
                use base64::Engine as _;
                Reply::Node(
                    json!({"code":"10000","msg":"Success","alipay_cert_content": base64::engine::general_purpose::STANDARD.encode(pem)}),
                )
            }
            None => Reply::Node(
                json!({"code":"40004","msg":"Business Failed","sub_code":"isv.cert-not-exist"}),
            ),
        }
    } else {
        let n = st.calls.fetch_add(1, Ordering::SeqCst);
        let r = (st.handler)(&seen, n);
        st.seen.lock().unwrap().push(seen);
        r
    };
    render_v2(st, &method, reply, encrypted).await
}

fn sign_alipay(st: &GatewayState, content: &[u8]) -> String {
    st.alipay_signer
        .sign_base64(SignType::Rsa2, content)
        .unwrap()
}

async fn render_v2(
    st: &GatewayState,
    method: &str,
    mut reply: Reply,
    encrypted: bool,
) -> http::Response<Full<Bytes>> {
    while let Reply::Delay(d, inner) = reply {
        tokio::time::sleep(d).await;
        reply = *inner;
    }
    let node = node_name(method);
    let cert_part = st
        .cert
        .as_ref()
        .map(|c| format!(",\"alipay_cert_sn\":\"{}\"", c.sign_sn))
        .unwrap_or_default();
    let body = match reply {
        Reply::Node(v) => {
            let text = v.to_string();
            let success = v["code"] == "10000";
            let signed = if encrypted && success {
                format!("\"{}\"", st.aes.encrypt(text.as_bytes()))
            } else {
                text
            };
            let sign = sign_alipay(st, signed.as_bytes());
            format!("{{\"{node}\":{signed}{cert_part},\"sign\":\"{sign}\"}}")
        }
        Reply::NodeWrongKey(v) => {
            let text = v.to_string();
            let sign = st
                .app_signer
                .sign_base64(SignType::Rsa2, text.as_bytes())
                .unwrap();
            format!("{{\"{node}\":{text}{cert_part},\"sign\":\"{sign}\"}}")
        }
        Reply::NodeUnsigned(v) => format!("{{\"{node}\":{v}}}"),
        Reply::Raw(status, body) => {
            return http::Response::builder()
                .status(status)
                .header("content-type", "application/json;charset=utf-8")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
        }
        Reply::V3(..) | Reply::Delay(..) => "{}".to_owned(),
    };
    http::Response::builder()
        .header("content-type", "text/html;charset=utf-8")
        .header("alipay-trace-id", "v2trace")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn handle_v3(
    st: &GatewayState,
    parts: &http::request::Parts,
    target: &str,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    let header = |k: &str| {
        parts
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let authorization = header("authorization");
    let mut files = Vec::new();
    let body_text = match multipart(&header("content-type"), body) {
        Some(all) => {
            let mut data = String::new();
            for (name, file_name, content) in all {
                match file_name {
                    Some(f) => files.push((name, f, content)),
                    None if name == "data" => data = String::from_utf8(content).unwrap(),
                    None => panic!("unexpected v3 text part {name}"),
                }
            }
            data
        }
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let token = parts
        .headers
        .get("alipay-app-auth-token")
        .and_then(|v| v.to_str().ok());
    let sign_ok =
        alipay::sign::v3_parse_authorization(&authorization).is_some_and(|(auth, sig)| {
            let content = alipay::sign::v3_signing_content(
                auth,
                parts.method.as_str(),
                target,
                &body_text,
                token,
            );
            let cert_ok = st.cert.as_ref().is_none_or(|c| {
                auth.contains(&format!(",app_cert_sn={},", c.app_cert_sn))
                    && header("alipay-root-cert-sn") == c.root_cert_sn
            });
            auth.starts_with(&format!("app_id={APP_ID},"))
                && cert_ok
                && st
                    .app_verifier
                    .verify_base64(SignType::Rsa2, content.as_bytes(), sig)
                    .is_ok()
        });
    let encrypted = header("alipay-encrypt-type") == "AES";
    let plain = if encrypted {
        String::from_utf8(st.aes.decrypt(&body_text).unwrap_or_default()).unwrap_or_default()
    } else {
        body_text
    };
    let seen = Seen {
        http_method: parts.method.to_string(),
        target: target.to_owned(),
        op: parts.uri.path().to_owned(),
        query: pairs(parts.uri.query().unwrap_or_default().as_bytes()),
        form: Vec::new(),
        biz: serde_json::from_str(&plain).unwrap_or(Value::Null),
        headers: parts.headers.clone(),
        encrypted,
        files,
    };
    let mut reply = if sign_ok {
        let n = st.calls.fetch_add(1, Ordering::SeqCst);
        let r = (st.handler)(&seen, n);
        st.seen.lock().unwrap().push(seen);
        r
    } else {
        Reply::V3(
            401,
            json!({"code":"invalid-signature","message":"验签失败"}),
            false,
        )
    };
    while let Reply::Delay(d, inner) = reply {
        tokio::time::sleep(d).await;
        reply = *inner;
    }
    let Reply::V3(status, value, signed) = reply else {
        return http::Response::builder()
            .status(500)
            .body(Full::new(Bytes::new()))
            .unwrap();
    };
    let mut text = value.to_string();
    if encrypted && status < 300 {
        text = st.aes.encrypt(text.as_bytes());
    }
    let mut b = http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("alipay-trace-id", "0b8e2a5c17000000000000001");
    if signed {
        let (ts, nonce) = ("1764158400000", "gatewaynonce");
        let content = alipay::sign::v3_response_content(ts, nonce, text.as_bytes());
        b = b
            .header("alipay-timestamp", ts)
            .header("alipay-nonce", nonce)
            .header("alipay-signature", sign_alipay(st, &content));
        if let Some(c) = &st.cert {
            b = b.header("alipay-sn", c.sign_sn.as_str());
        }
    }
    b.body(Full::new(Bytes::from(text))).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::from_v2_timestamp(NOW).unwrap())
}

fn builder(gw: &Gateway) -> ClientBuilder {
    Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .gateway(&gw.url())
        .clock(clock())
        .timeout(Duration::from_secs(5))
        .retry_policy(
            RetryPolicy::new(3).backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}

fn cert_builder(gw: &Gateway) -> ClientBuilder {
    Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .certificates(APP_CERT, ALIPAY_CERT_SHORT, ROOT_BUNDLE)
        .gateway(&gw.url())
        .clock(clock())
        .timeout(Duration::from_secs(5))
}

fn cert_mode(sign_with: &[u8], downloads: &[&[u8]]) -> CertMode {
    CertMode {
        sign_sn: alipay::sign::cert_sn(sign_with).unwrap(),
        downloads: downloads
            .iter()
            .map(|pem| (alipay::sign::cert_sn(pem).unwrap(), pem.to_vec()))
            .collect(),
        app_cert_sn: alipay::sign::cert_sn(APP_CERT).unwrap(),
        root_cert_sn: alipay::sign::root_cert_sn(ROOT_BUNDLE).unwrap(),
    }
}

fn query_success(out_trade_no: &str) -> Value {
    json!({"code":"10000","msg":"Success","trade_no":"2026112622001400000000000001","out_trade_no":out_trade_no,
           "trade_status":"TRADE_SUCCESS","total_amount":"88.88","buyer_logon_id":"159****5620"})
}

fn query() -> QueryRequest {
    QueryRequest::new(TradeRef::out_trade_no("T1"))
}

// ---------------------------------------------------------------------------------------------
// v2
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn v2_success_sends_the_protocol_parameters_and_decodes_the_verified_node() {
    let gw = Gateway::start(None, |s, _| {
        Reply::Node(query_success(s.biz["out_trade_no"].as_str().unwrap_or("?")))
    })
    .await;
    let client = builder(&gw).build().unwrap();
    let options = RequestOptions::new()
        .notify_url("https://shop.example/notify?a=1&b=2")
        .app_auth_token("201509BBeff9351ad1874306903e96b91d248A36");
    let trade = client.execute_with(&query(), &options).await.unwrap();
    assert_eq!(
        trade.trade_no.as_deref(),
        Some("2026112622001400000000000001")
    );
    assert_eq!(trade.trade_status, Some(TradeStatus::TradeSuccess));
    assert_eq!(trade.total_amount, Some(Amount::from_fen(8888)));

    let seen = gw.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.http_method, "POST");
    assert_eq!(
        s.query.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        [
            "app_id",
            "method",
            "charset",
            "sign_type",
            "timestamp",
            "version",
            "notify_url",
            "app_auth_token",
            "sign"
        ]
    );
    assert_eq!(s.param("app_id"), Some(APP_ID));
    assert_eq!(s.param("method"), Some("alipay.trade.query"));
    assert_eq!(s.param("charset"), Some("utf-8"));
    assert_eq!(s.param("sign_type"), Some("RSA2"));
    assert_eq!(s.param("timestamp"), Some(NOW));
    assert_eq!(s.param("version"), Some("1.0"));
    assert_eq!(
        s.param("notify_url"),
        Some("https://shop.example/notify?a=1&b=2")
    );
    assert_eq!(
        s.form,
        vec![(
            "biz_content".to_owned(),
            r#"{"out_trade_no":"T1"}"#.to_owned()
        )]
    );
    assert_eq!(
        s.headers["content-type"],
        "application/x-www-form-urlencoded;charset=utf-8"
    );

    // The generic call returns the whole verified node.
    let node = client
        .call("alipay.trade.query", &json!({"out_trade_no":"T2"}))
        .await
        .unwrap();
    assert_eq!(node, query_success("T2"));
}

#[tokio::test]
async fn v2_pretty_printed_and_escaped_slash_responses_verify() {
    let gw = Gateway::start(None, |s, _| {
        let st_sign = |text: &str| {
            RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap())
                .unwrap()
                .sign_base64(SignType::Rsa2, text.as_bytes())
                .unwrap()
        };
        match s.biz["out_trade_no"].as_str() {
            Some("pretty") => {
                let node = "{\n    \"code\" : \"10000\",\n    \"msg\" : \"Success\",\n    \"out_trade_no\" : \"pretty\",\n    \"sign\" : \"not-the-sign\"\n  }";
                Reply::Raw(200, format!("{{\n  \"alipay_trade_query_response\" : {node},\n  \"sign\" : \"{}\"\n}}\n", st_sign(node)))
            }
            Some("escaped") => {
                // Signed over the escaped text, as sent.
                let node = r#"{"code":"10000","msg":"Success","out_trade_no":"escaped","subject":"a\/b"}"#;
                Reply::Raw(200, format!("{{\"alipay_trade_query_response\":{node},\"sign\":\"{}\"}}", st_sign(node)))
            }
            _ => {
                // Signed over the unescaped text but sent with `\/` (the Java/PHP fallback).
                let signed = r#"{"code":"10000","msg":"Success","out_trade_no":"fallback","subject":"a/b"}"#;
                let sent = signed.replace('/', "\\/");
                Reply::Raw(200, format!("{{\"alipay_trade_query_response\":{sent},\"sign\":\"{}\"}}", st_sign(signed)))
            }
        }
    })
    .await;
    let client = builder(&gw).build().unwrap();
    for (no, subject) in [
        ("pretty", Value::Null),
        ("escaped", json!("a/b")),
        ("fallback", json!("a/b")),
    ] {
        let node = client
            .call("alipay.trade.query", &json!({"out_trade_no": no}))
            .await
            .unwrap();
        assert_eq!(node["out_trade_no"], no);
        assert_eq!(node.get("subject").cloned().unwrap_or(Value::Null), subject);
    }
}

#[tokio::test]
async fn v2_encrypts_then_signs_and_decrypts_verified_answers() {
    let gw = Gateway::start(None, |s, _| {
        assert!(s.encrypted);
        Reply::Node(query_success(s.biz["out_trade_no"].as_str().unwrap_or("?")))
    })
    .await;
    let client = builder(&gw).aes_key(AES_B64).build().unwrap();
    let trade = client.execute(&query()).await.unwrap();
    assert_eq!(trade.out_trade_no.as_deref(), Some("T1"));
    let s = &gw.seen()[0];
    assert_eq!(s.param("encrypt_type"), Some("AES"));
    // biz_content travels as the ciphertext of the JSON (PROTOCOL §5.1 vector).
    assert_eq!(
        s.param("biz_content"),
        Some("HJjZXDcVHUcOrByocVgEmgs+1Naj649A//Hd8HstLD4=")
    );
    assert_eq!(s.biz, json!({"out_trade_no":"T1"}));

    // Without the key, an encrypted answer cannot be read.
    let plain = builder(&gw).build().unwrap();
    let err = plain
        .execute_with(&query(), &RequestOptions::new().encrypt(true))
        .await
        .unwrap_err();
    assert!(err.is_config(), "{err}");
}

#[tokio::test]
async fn v2_business_failure_is_a_verified_api_error_with_sub_code() {
    let gw = Gateway::start(None, |_, _| {
        Reply::Node(json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}))
    })
    .await;
    let client = builder(&gw).build().unwrap();
    let err = client.execute(&query()).await.unwrap_err();
    assert!(err.is_api() && !err.is_signature() && !err.is_transport());
    let api = err.api().unwrap();
    assert_eq!((api.code(), api.msg()), ("40004", "Business Failed"));
    assert_eq!(api.sub_code(), Some("ACQ.TRADE_NOT_EXIST"));
    assert_eq!(api.sub_msg(), Some("交易不存在"));
    assert_eq!(api.trace_id(), Some("v2trace"));
    assert!(api.is_verified());
    assert!(!api.is_retryable());
    assert_eq!(
        api.to_json(),
        json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"})
    );
    assert_eq!(gw.calls(), 1, "a business failure is not retried");
}

#[tokio::test]
async fn v2_system_error_then_success_retries_queries_and_idempotent_refunds_only() {
    let gw = Gateway::start(None, |s, n| {
        // 0: query, 1: its retry, 2: refund without out_request_no, 3 and 4: refund with it, 5: pay.
        if [0, 2, 3, 5].contains(&n) {
            Reply::Node(json!({"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}))
        } else if s.op == "alipay.trade.refund" {
            Reply::Node(json!({"code":"10000","msg":"Success","fund_change":"Y","refund_fee":"1.00"}))
        } else {
            Reply::Node(query_success("T1"))
        }
    })
    .await;
    let client = builder(&gw).build().unwrap();
    // query: 20000, then success.
    let trade = client.execute(&query()).await.unwrap();
    assert_eq!(trade.trade_status, Some(TradeStatus::TradeSuccess));
    assert_eq!(gw.calls(), 2);

    // refund without out_request_no: not retried.
    let refund = RefundRequest::new(TradeRef::out_trade_no("T1"), Amount::from_fen(100));
    let err = client.execute(&refund).await.unwrap_err();
    assert_eq!(err.api().map(|a| a.code()), Some("20000"));
    assert!(err.api().unwrap().is_retryable());
    assert_eq!(gw.calls(), 3);

    // refund with out_request_no: retried with the same out_request_no.
    let refund = refund.out_request_no("R1");
    let done = client.execute(&refund).await.unwrap();
    assert_eq!(done.fund_change.as_deref(), Some("Y"));
    assert_eq!(gw.calls(), 5);
    let seen = gw.seen();
    assert_eq!(seen[3].biz["out_request_no"], "R1");
    assert_eq!(seen[4].biz["out_request_no"], "R1");

    // alipay.trade.pay is never retried, even on 20000.
    let pay =
        alipay::model::trade::PayRequest::new("T9", Amount::from_fen(1), "x", "281234567890123456");
    let before = gw.calls();
    let err = client.execute(&pay).await.unwrap_err();
    assert!(err.api().unwrap().is_unknown_outcome());
    assert_eq!(gw.calls(), before + 1);
}

#[tokio::test]
async fn v2_refuses_wrong_key_and_missing_sign_and_marks_unsigned_errors() {
    let gw = Gateway::start(None, |s, _| match s.biz["out_trade_no"].as_str() {
        Some("wrong-key") => Reply::NodeWrongKey(query_success("wrong-key")),
        Some("unsigned-success") => Reply::NodeUnsigned(query_success("unsigned-success")),
        Some("unsigned-error") => Reply::Raw(
            200,
            r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}}"#.to_owned(),
        ),
        Some("bad-json") => Reply::Raw(200, "<html>busy</html>".to_owned()),
        Some("bad-field") => Reply::Node(json!({"code":"10000","msg":"Success","trade_status":7})),
        _ => Reply::Raw(502, "bad gateway".to_owned()),
    })
    .await;
    let client = builder(&gw)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let run = |no: &'static str| {
        let client = client.clone();
        async move {
            client
                .execute(&QueryRequest::new(TradeRef::out_trade_no(no)))
                .await
                .unwrap_err()
        }
    };
    let err = run("wrong-key").await;
    assert!(err.is_signature() && !err.is_api(), "{err}");
    assert_eq!(
        err.to_string(),
        "the signature of the alipay.trade.query response does not verify"
    );
    let err = run("unsigned-success").await;
    assert!(err.is_signature(), "{err}");
    let err = run("unsigned-error").await;
    let api = err
        .api()
        .expect("an unsigned error_response is an API error");
    assert!(!api.is_verified());
    assert_eq!(
        (api.code(), api.sub_code()),
        ("40002", Some("isv.code-invalid"))
    );
    let err = run("bad-json").await;
    assert!(err.is_decode(), "{err}");
    let err = run("bad-field").await;
    assert!(err.is_decode(), "{err}");
    assert_eq!(err.decode_path(), Some("trade_status"));
    let err = run("http").await;
    assert!(err.is_transport() && !err.is_timeout());
    assert_eq!(err.http_status(), Some(502));
}

/// Percent-decodes a form component into bytes (`+` is a space).
fn form_bytes(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode(s.replace('+', " ").as_bytes()).collect()
}

#[tokio::test]
async fn v2_gbk_requests_and_answers() {
    let gbk = Charset::Gbk;
    let transport = alipay::transport::test_util::CapturingTransport::responding(move |req| {
        // Decode every parameter's bytes as GBK, verify over the GBK bytes of the canonical string.
        let mut params = Vec::new();
        for part in req
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .chain(std::str::from_utf8(&req.body).unwrap().split('&'))
        {
            let (k, v) = part.split_once('=').unwrap();
            params.push((
                k.to_owned(),
                gbk.decode(&form_bytes(v)).unwrap().into_owned(),
            ));
        }
        let content =
            alipay::sign::canonical_string(params.iter().map(|(k, v)| (k, v)), Rule::Request);
        let sign = &params.iter().find(|(k, _)| k == "sign").unwrap().1;
        let verifier = RsaVerifier::new(&PublicKey::from_pem_or_der(APP_PUBLIC).unwrap()).unwrap();
        verifier
            .verify_base64(SignType::Rsa2, &gbk.encode(&content).unwrap(), sign)
            .unwrap();
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded;charset=GBK")
        );
        let biz: Value =
            serde_json::from_str(&params.iter().find(|(k, _)| k == "biz_content").unwrap().1)
                .unwrap();
        let node =
            json!({"code":"10000","msg":"Success","out_trade_no":"T1","subject":biz["subject"]})
                .to_string();
        let node_bytes = gbk.encode(&node).unwrap().into_owned();
        let signer = RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap()).unwrap();
        let sign = signer.sign_base64(SignType::Rsa2, &node_bytes).unwrap();
        let mut body = b"{\"alipay_trade_query_response\":".to_vec();
        body.extend_from_slice(&node_bytes);
        body.extend_from_slice(format!(",\"sign\":\"{sign}\"}}").as_bytes());
        RecordedResponse::new(200, body)
            .header("content-type", "text/html;charset=GBK")
            .to_response()
    });
    let client = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .charset(Charset::Gbk)
        .transport(Arc::new(transport.clone()))
        .build()
        .unwrap();
    let node = client
        .call(
            "alipay.trade.query",
            &json!({"out_trade_no":"T1","subject":"中文商品·测试"}),
        )
        .await
        .unwrap();
    assert_eq!(node["subject"], "中文商品·测试");
    let sent = transport.requests();
    // 中 is D6D0 in GBK.
    assert!(
        std::str::from_utf8(&sent[0].body)
            .unwrap()
            .contains("%D6%D0%CE%C4"),
        "{:?}",
        sent[0].body
    );

    // A character GBK cannot encode is a request error, before anything is sent.
    let err = client
        .call("alipay.trade.query", &json!({"subject":"😀"}))
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(transport.requests().len(), 1);
}

#[tokio::test]
async fn v2_timeouts() {
    let gw = Gateway::start(None, |_, _| {
        Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::Node(query_success("T1"))),
        )
    })
    .await;
    let client = builder(&gw)
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.execute(&query()).await.unwrap_err();
    assert!(err.is_timeout() && err.is_transport(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .gateway(&format!("http://{addr}/gateway.do"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.execute(&query()).await.unwrap_err();
    assert!(err.is_transport() && !err.is_timeout(), "{err:?}");
    let cause = std::error::Error::source(&err).unwrap();
    let transport = cause
        .downcast_ref::<alipay::transport::TransportError>()
        .unwrap();
    assert!(transport.is_connect());
    assert!(err.is_not_sent());

    // A request that never left may be resent, even alipay.trade.pay.
    let capture = alipay::transport::test_util::CapturingTransport::wrapping(Arc::new(
        alipay::transport::HyperTransport::new().unwrap(),
    ));
    let client = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .gateway(&format!("http://{addr}/gateway.do"))
        .transport(Arc::new(capture.clone()))
        .retry_policy(
            RetryPolicy::new(3).backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let pay =
        alipay::model::trade::PayRequest::new("T9", Amount::from_fen(1), "x", "281234567890123456");
    let err = client.execute(&pay).await.unwrap_err();
    assert!(err.is_not_sent());
    assert_eq!(capture.requests().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Certificate mode
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cert_mode_sends_sns_and_verifies_with_the_configured_certificate() {
    let gw = Gateway::start(Some(cert_mode(ALIPAY_CERT_SHORT, &[])), |_, _| {
        Reply::Node(query_success("T1"))
    })
    .await;
    let client = cert_builder(&gw).build().unwrap();
    client.execute(&query()).await.unwrap();
    let s = &gw.seen()[0];
    assert_eq!(
        s.param("app_cert_sn"),
        Some(alipay::sign::cert_sn(APP_CERT).unwrap().as_str())
    );
    assert_eq!(
        s.param("alipay_root_cert_sn"),
        Some(alipay::sign::root_cert_sn(ROOT_BUNDLE).unwrap().as_str())
    );
    assert_eq!(gw.downloads(), 0);
}

#[tokio::test]
async fn cert_rotation_downloads_a_chained_certificate_once_under_concurrency() {
    let gw = Gateway::start(
        Some(cert_mode(ALIPAY_CERT_CHAIN, &[ALIPAY_CERT_CHAIN])),
        |_, _| Reply::Node(query_success("T1")),
    )
    .await;
    let client = cert_builder(&gw).build().unwrap();
    let new_sn = alipay::sign::cert_sn(ALIPAY_CERT_CHAIN).unwrap();
    assert!(!client.known_alipay_cert_sns().contains(&new_sn));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move { c.execute(&query()).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(gw.downloads(), 1);
    assert!(client.known_alipay_cert_sns().contains(&new_sn));
    client.execute(&query()).await.unwrap();
    assert_eq!(gw.downloads(), 1);
}

#[tokio::test]
async fn cert_rotation_refuses_an_unchained_certificate_and_an_unknown_sn() {
    // The rogue certificate has the leaf's SN but is signed by a look-alike CA.
    let gw = Gateway::start(
        Some(cert_mode(ALIPAY_CERT_CHAIN, &[ALIPAY_CERT_ROGUE])),
        |_, _| Reply::Node(query_success("T1")),
    )
    .await;
    let client = cert_builder(&gw).build().unwrap();
    let err = client.execute(&query()).await.unwrap_err();
    assert!(err.is_signature() && err.is_certificate(), "{err}");
    assert!(
        err.to_string()
            .contains("does not chain to the root bundle"),
        "{err}"
    );
    assert_eq!(gw.calls(), 1);

    // An SN the gateway cannot provide.
    let gw = Gateway::start(Some(cert_mode(ALIPAY_CERT_CHAIN, &[])), |_, _| {
        Reply::Node(query_success("T1"))
    })
    .await;
    let client = cert_builder(&gw).build().unwrap();
    let err = client.execute(&query()).await.unwrap_err();
    assert!(err.is_certificate(), "{err}");
    assert!(err.to_string().contains("could not be fetched"), "{err}");
}

#[tokio::test]
async fn cert_mode_answers_without_alipay_cert_sn() {
    let gw = Gateway::start(Some(cert_mode(ALIPAY_CERT_SHORT, &[])), |s, _| {
        let signer = RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap()).unwrap();
        let node = if s.biz["out_trade_no"] == "ok" {
            query_success("ok").to_string()
        } else {
            json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"})
                .to_string()
        };
        let sign = signer.sign_base64(SignType::Rsa2, node.as_bytes()).unwrap();
        Reply::Raw(
            200,
            format!("{{\"alipay_trade_query_response\":{node},\"sign\":\"{sign}\"}}"),
        )
    })
    .await;
    let client = cert_builder(&gw).build().unwrap();
    let err = client
        .execute(&QueryRequest::new(TradeRef::out_trade_no("ok")))
        .await
        .unwrap_err();
    assert!(err.is_signature(), "{err}");
    assert_eq!(
        err.to_string(),
        "certificate mode: the response to alipay.trade.query carries no alipay_cert_sn"
    );
    let err = client
        .execute(&QueryRequest::new(TradeRef::out_trade_no("missing")))
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.sub_code(), Some("ACQ.TRADE_NOT_EXIST"));
    assert!(!api.is_verified());
}

#[tokio::test]
async fn builder_diagnostics() {
    let err = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_PUBLIC)
        .alipay_public_key(ALIPAY_PUBLIC)
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "the app private key is unusable: found a public key; the app private key (PKCS#1 or PKCS#8) is needed here"
    );
    let err = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(APP_PUBLIC)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("is the app's own public key"),
        "{err}"
    );
    let err = Client::builder()
        .app_id(APP_ID)
        .app_private_key(ALIPAY_KEY)
        .certificates(APP_CERT, ALIPAY_CERT_SHORT, ROOT_BUNDLE)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the app private key does not match the public key of the app certificate"
    );
    let err = Client::builder()
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "the app_id is not set");
    let client = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .aes_key(AES_B64)
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(
        !debug.contains(AES_B64) && debug.contains("<redacted>"),
        "{debug}"
    );
}

// ---------------------------------------------------------------------------------------------
// v3
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn v3_success_and_4xx() {
    let gw = Gateway::start(None, |s, _| match s.biz["out_trade_no"].as_str() {
        Some("T1") => Reply::V3(200, json!({"trade_no":"2026","out_trade_no":"T1","trade_status":"WAIT_BUYER_PAY"}), true),
        Some("unsigned") => Reply::V3(200, json!({"out_trade_no":"unsigned"}), false),
        _ if s.op.ends_with("/downloadurl/query") => Reply::V3(200, json!({"bill_download_url":"http://127.0.0.1/bill.zip"}), true),
        _ => Reply::V3(404, json!({"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在","links":[{"link":"https://open.alipay.com/api/errCheck?traceId=x","desc":"解决方案"}]}), true),
    })
    .await;
    let client = builder(&gw).protocol(Protocol::V3).build().unwrap();
    let options = RequestOptions::new()
        .app_auth_token("tok")
        .request_id("req-1");
    let trade = client.execute_with(&query(), &options).await.unwrap();
    assert_eq!(trade.trade_status, Some(TradeStatus::WaitBuyerPay));
    let s = &gw.seen()[0];
    assert_eq!(
        (s.http_method.as_str(), s.target.as_str()),
        ("POST", "/v3/alipay/trade/query")
    );
    assert_eq!(s.headers["alipay-request-id"], "req-1");
    assert_eq!(s.headers["alipay-app-auth-token"], "tok");
    assert_eq!(s.headers["content-type"], "application/json");
    assert!(
        s.headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with(&format!("ALIPAY-SHA256withRSA app_id={APP_ID},nonce="))
    );
    assert!(
        s.headers["authorization"]
            .to_str()
            .unwrap()
            .contains(",timestamp=1795694400000,sign=")
    );

    let err = client
        .execute(&QueryRequest::new(TradeRef::out_trade_no("missing")))
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.code(), api.msg(), api.http_status()),
        ("ACQ.TRADE_NOT_EXIST", "交易不存在", Some(404))
    );
    assert_eq!(api.trace_id(), Some("0b8e2a5c17000000000000001"));
    assert!(api.is_verified());
    assert_eq!(
        api.to_json(),
        json!({"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在","http_status":404})
    );

    let err = client
        .execute(&QueryRequest::new(TradeRef::out_trade_no("unsigned")))
        .await
        .unwrap_err();
    assert!(err.is_signature(), "{err}");

    // Generic GET with a query string.
    let answer = client
        .call_v3(
            "GET",
            "/v3/alipay/data/dataservice/bill/downloadurl/query",
            &[
                ("bill_type".into(), "trade".into()),
                ("bill_date".into(), "2016-04-05".into()),
            ],
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(answer["bill_download_url"], "http://127.0.0.1/bill.zip");
    let s = gw.seen().last().cloned().unwrap();
    assert_eq!(
        s.target,
        "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2016-04-05"
    );
    assert!(s.headers.get("content-type").is_none());
}

#[tokio::test]
async fn v3_call_by_method_name_follows_the_generated_route() {
    let gw = Gateway::start(None, |s, _| {
        if s.op.ends_with("/downloadurl/query") {
            Reply::V3(
                200,
                json!({"bill_download_url":"http://127.0.0.1/b.zip"}),
                true,
            )
        } else if s.op.contains("/marketing/activity/") {
            Reply::V3(200, json!({"total_count":"0"}), true)
        } else {
            Reply::V3(
                200,
                json!({"out_trade_no":"T9","trade_status":"TRADE_SUCCESS"}),
                true,
            )
        }
    })
    .await;
    let client = builder(&gw).protocol(Protocol::V3).build().unwrap();
    let options = RequestOptions::new();

    // A GET route: every field is a query parameter, in route order; no body.
    let answer = client
        .call_v3_method(
            "alipay.data.dataservice.bill.downloadurl.query",
            &json!({"bill_date":"2026-11-25","bill_type":"trade"}),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(answer["bill_download_url"], "http://127.0.0.1/b.zip");
    let s = gw.seen().last().cloned().unwrap();
    assert_eq!(
        (s.http_method.as_str(), s.target.as_str()),
        (
            "GET",
            "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2026-11-25"
        )
    );
    assert!(s.headers.get("content-type").is_none());

    // A path parameter is substituted (percent-encoded) and removed from the query.
    client
        .call_v3_method(
            "alipay.marketing.activity.app.batchquery",
            &json!({"activity_id":"A 1","page_num":2,"merchant_id":"M"}),
            &options,
        )
        .await
        .unwrap();
    let s = gw.seen().last().cloned().unwrap();
    assert_eq!(
        (s.http_method.as_str(), s.target.as_str()),
        (
            "GET",
            "/v3/alipay/marketing/activity/A%201/app/batchquery?merchant_id=M&page_num=2"
        )
    );

    // A POST route keeps its JSON body.
    let answer = client
        .call_v3_method(
            "alipay.trade.query",
            &json!({"out_trade_no":"T9"}),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(answer["trade_status"], "TRADE_SUCCESS");
    let s = gw.seen().last().cloned().unwrap();
    assert_eq!(
        (s.http_method.as_str(), s.target.as_str()),
        ("POST", "/v3/alipay/trade/query")
    );
    assert_eq!(s.biz, json!({"out_trade_no":"T9"}));

    // Refused before sending: a missing path parameter, a non-object, a multipart upload.
    let sent = gw.seen().len();
    let err = client
        .call_v3_method(
            "alipay.marketing.activity.app.batchquery",
            &json!({"page_num":2}),
            &options,
        )
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert!(
        std::error::Error::source(&err).is_some_and(|e| e.to_string().contains("activity_id")),
        "{err:?}"
    );
    let err = client
        .call_v3_method("alipay.trade.query", &json!(["T9"]), &options)
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    let err = client
        .call_v3_method("alipay.merchant.image.upload", &json!({}), &options)
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(gw.seen().len(), sent);
}

#[tokio::test]
async fn v3_aes_and_cert_mode() {
    let gw = Gateway::start(Some(cert_mode(ALIPAY_CERT_SHORT, &[])), |s, _| {
        assert!(s.encrypted);
        Reply::V3(
            200,
            json!({"out_trade_no": s.biz["out_trade_no"], "trade_status":"TRADE_SUCCESS"}),
            true,
        )
    })
    .await;
    let client = cert_builder(&gw)
        .aes_key(AES_B64)
        .protocol(Protocol::V3)
        .build()
        .unwrap();
    let trade = client.execute(&query()).await.unwrap();
    assert_eq!(trade.out_trade_no.as_deref(), Some("T1"));
    let s = &gw.seen()[0];
    assert_eq!(s.headers["content-type"], "text/plain");
    assert_eq!(s.headers["alipay-encrypt-type"], "AES");
    assert_eq!(
        s.headers["alipay-root-cert-sn"],
        alipay::sign::root_cert_sn(ROOT_BUNDLE).unwrap().as_str()
    );
}

#[tokio::test]
async fn v3_rotation_by_alipay_sn() {
    let gw = Gateway::start(
        Some(cert_mode(ALIPAY_CERT_CHAIN, &[ALIPAY_CERT_CHAIN])),
        |_, _| {
            Reply::V3(
                200,
                json!({"out_trade_no":"T1","trade_status":"TRADE_SUCCESS"}),
                true,
            )
        },
    )
    .await;
    let client = cert_builder(&gw).protocol(Protocol::V3).build().unwrap();
    let trade = client.execute(&query()).await.unwrap();
    assert_eq!(trade.trade_status, Some(TradeStatus::TradeSuccess));
    assert_eq!(gw.downloads(), 1);
    assert!(
        client
            .known_alipay_cert_sns()
            .contains(&alipay::sign::cert_sn(ALIPAY_CERT_CHAIN).unwrap())
    );
}

// ---------------------------------------------------------------------------------------------
// Uploads and the barcode flow
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn multipart_uploads_v2_and_v3() {
    let gw = Gateway::start(None, |s, _| {
        let answer = json!({"code":"10000","msg":"Success","image_id":"img1","image_url":"http://127.0.0.1/i.png"});
        if s.op.starts_with("/v3/") { Reply::V3(200, answer, true) } else { Reply::Node(answer) }
    })
    .await;
    let client = builder(&gw).aes_key(AES_B64).build().unwrap();
    let mut upload = alipay::model::offline::MaterialImageUploadRequest::default();
    upload.image_type = Some("png".into());
    upload.image_name = Some("商品 1".into());
    upload.image_content = Some(alipay::model::FileContent::new(
        "a.png",
        vec![0x89, b'P', b'N', b'G', 0, 13],
    ));

    // v2: text fields are signed parameters (the gateway verified them); the file is not signed.
    let done = client.execute(&upload).await.unwrap();
    assert_eq!(done.image_id.as_deref(), Some("img1"));
    let s = &gw.seen()[0];
    assert!(
        s.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    assert_eq!(
        s.form,
        vec![
            ("image_name".to_owned(), "商品 1".to_owned()),
            ("image_type".to_owned(), "png".to_owned())
        ]
    );
    assert_eq!(
        s.files,
        vec![(
            "image_content".to_owned(),
            "a.png".to_owned(),
            vec![0x89, b'P', b'N', b'G', 0, 13]
        )]
    );
    assert_eq!(s.param("encrypt_type"), None, "uploads are never encrypted");

    // v3: the `data` part is the signed body.
    let done = client
        .execute_with(&upload, &RequestOptions::new().protocol(Protocol::V3))
        .await
        .unwrap();
    assert_eq!(done.image_url.as_deref(), Some("http://127.0.0.1/i.png"));
    let s = &gw.seen()[1];
    assert_eq!(s.target, "/v3/alipay/offline/material/image/upload");
    assert_eq!(s.biz, json!({"image_name":"商品 1","image_type":"png"}));
    assert_eq!(s.files.len(), 1);

    let err = client
        .execute_with(&upload, &RequestOptions::new().encrypt(true))
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
}

#[tokio::test]
async fn barcode_flow_pays_polls_and_cancels() {
    let polls = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let p = polls.clone();
    let gw = Gateway::start(None, move |s, _| {
        let no = s.biz["out_trade_no"].as_str().unwrap_or_default().to_owned();
        let mut polls = p.lock().unwrap();
        let count = polls.entry(format!("{}:{no}", s.op)).or_insert(0);
        *count += 1;
        let count = *count;
        match (s.op.as_str(), no.as_str()) {
            ("alipay.trade.pay", "B3") => Reply::Node(json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID","sub_msg":"支付失败，获取顾客账户信息失败"})),
            ("alipay.trade.pay", _) => Reply::Node(json!({"code":"10003","msg":"Order success pay inprocess","trade_no":"2026X","out_trade_no":no})),
            ("alipay.trade.query", "B1") if count >= 2 => Reply::Node(json!({"code":"10000","msg":"Success","trade_no":"2026X","out_trade_no":"B1","trade_status":"TRADE_SUCCESS"})),
            ("alipay.trade.query", _) => Reply::Node(json!({"code":"10000","msg":"Success","trade_no":"2026X","out_trade_no":no,"trade_status":"WAIT_BUYER_PAY"})),
            ("alipay.trade.cancel", _) if count == 1 => Reply::Node(json!({"code":"10000","msg":"Success","out_trade_no":no,"retry_flag":"Y"})),
            ("alipay.trade.cancel", _) => Reply::Node(json!({"code":"10000","msg":"Success","out_trade_no":no,"retry_flag":"N","action":"close"})),
            _ => Reply::Node(json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.INVALID_PARAMETER"})),
        }
    })
    .await;
    let client = builder(&gw).build().unwrap();
    let flow = alipay::BarcodeFlow::default()
        .polling(Duration::from_millis(10), Duration::from_millis(300))
        .cancelling(3, Duration::from_millis(5));
    let pay = |no: &str| {
        alipay::model::trade::PayRequest::new(no, Amount::from_fen(100), "x", "281234567890123456")
    };

    let outcome = client.pay_barcode(&pay("B1"), &flow).await.unwrap();
    assert_eq!(
        outcome,
        alipay::BarcodeOutcome::Paid {
            trade_no: Some("2026X".into())
        }
    );

    let outcome = client.pay_barcode(&pay("B3"), &flow).await.unwrap();
    let alipay::BarcodeOutcome::Failed(api) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(api.sub_code(), Some("ACQ.PAYMENT_AUTH_CODE_INVALID"));

    let flow = flow.polling(Duration::from_millis(10), Duration::from_millis(40));
    let outcome = client.pay_barcode(&pay("B2"), &flow).await.unwrap();
    assert_eq!(
        outcome,
        alipay::BarcodeOutcome::Cancelled {
            action: Some("close".into())
        }
    );
    let polls = polls.lock().unwrap();
    assert_eq!(polls["alipay.trade.pay:B2"], 1, "pay is never resent");
    assert!(polls["alipay.trade.query:B2"] >= 1);
    assert_eq!(
        polls["alipay.trade.cancel:B2"], 2,
        "cancel repeated while retry_flag=Y"
    );
}

// ---------------------------------------------------------------------------------------------
// Redirect APIs against the gateway's verifier
// ---------------------------------------------------------------------------------------------

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The parameters a browser would submit from the form: the action's query plus the inputs.
fn form_params(html: &str) -> (String, Vec<(String, String)>) {
    let action_start = html.find("action=\"").unwrap() + 8;
    let action =
        html_unescape(&html[action_start..action_start + html[action_start..].find('"').unwrap()]);
    let (url, query) = action.split_once('?').unwrap();
    let mut params = pairs(query.as_bytes());
    let mut rest = html;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + 27..];
        let name = &rest[..rest.find('"').unwrap()];
        let v = rest.find("value=\"").unwrap() + 7;
        let value = &rest[v..v + rest[v..].find('"').unwrap()];
        params.push((html_unescape(name), html_unescape(value)));
    }
    (url.to_owned(), params)
}

fn verify_app_signature(params: &[(String, String)]) {
    let content = alipay::sign::canonical_string(params.iter().map(|(k, v)| (k, v)), Rule::Request);
    let sign = &params.iter().find(|(k, _)| k == "sign").unwrap().1;
    let verifier = RsaVerifier::new(&PublicKey::from_pem_or_der(APP_PUBLIC).unwrap()).unwrap();
    verifier
        .verify_base64(SignType::Rsa2, content.as_bytes(), sign)
        .unwrap();
}

#[test]
fn page_pay_form_escapes_every_attribute_and_verifies() {
    let client = Client::builder()
        .app_id(APP_ID)
        .app_private_key(APP_KEY)
        .alipay_public_key(ALIPAY_PUBLIC)
        .clock(clock())
        .build()
        .unwrap();
    let order =
        alipay::model::trade::PagePayRequest::new("T<1>", Amount::from_fen(100), "It's \"A&B\"");
    let html = client
        .page_pay(
            &order,
            &RequestOptions::new().return_url("https://shop.example/r?a=1&b=<2>"),
        )
        .unwrap();
    let inside_tags: Vec<&str> = html.split('"').skip(1).step_by(2).collect();
    for value in inside_tags {
        assert!(
            !value.contains(['<', '>', '\'']),
            "unescaped attribute value {value:?}"
        );
        assert!(
            value
                .replace("&amp;", "")
                .replace("&quot;", "")
                .replace("&lt;", "")
                .replace("&gt;", "")
                .replace("&#39;", "")
                .find('&')
                .is_none(),
            "{value:?}"
        );
    }
    assert!(html.contains(r#"value="{&quot;out_trade_no&quot;:&quot;T&lt;1&gt;&quot;,&quot;total_amount&quot;:&quot;1.00&quot;,&quot;subject&quot;:&quot;It&#39;s \&quot;A&amp;B\&quot;&quot;,&quot;product_code&quot;:&quot;FAST_INSTANT_TRADE_PAY&quot;}">"#), "{html}");
    assert!(html.ends_with("</form>\n<script>document.forms[0].submit();</script>"));
    let (url, params) = form_params(&html);
    assert_eq!(url, alipay::PRODUCTION_GATEWAY);
    assert_eq!(
        params.iter().find(|(k, _)| k == "return_url").unwrap().1,
        "https://shop.example/r?a=1&b=<2>"
    );
    verify_app_signature(&params);

    let url = client.page_pay_url(&order, &RequestOptions::new()).unwrap();
    let (_, query) = url.split_once('?').unwrap();
    let params = pairs(query.as_bytes());
    assert_eq!(params.last().unwrap().0, "sign");
    verify_app_signature(&params);

    let app = alipay::model::trade::AppPayRequest::new("T2", Amount::from_fen(1), "x");
    let order_string = client
        .app_pay(
            &app,
            &RequestOptions::new().notify_url("https://shop.example/n"),
        )
        .unwrap();
    verify_app_signature(&pairs(order_string.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// Conformance: ../shared/vectors (page_pay, app_pay, parse_response_v2)
// ---------------------------------------------------------------------------------------------

fn vectors_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    dir.join("cases").is_dir().then_some(dir)
}

fn cases(op: &str) -> Option<(PathBuf, Vec<Value>)> {
    let Some(dir) = vectors_dir() else {
        println!("../shared/vectors is absent: the {op} conformance check was not run");
        return None;
    };
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if case["op"] == op {
            out.push(case);
        }
    }
    assert!(!out.is_empty(), "no {op} case in the vectors");
    Some((dir, out))
}

fn vector_client(dir: &std::path::Path, input: &Value) -> (Client, RequestOptions) {
    let key = std::fs::read(dir.join(input["private_key_file"].as_str().unwrap())).unwrap();
    let alipay_key = std::fs::read(dir.join("node/alipay-public-key.pem")).unwrap();
    let mut b = Client::builder()
        .app_id(input["app_id"].as_str().unwrap())
        .app_private_key(key)
        .alipay_public_key(alipay_key)
        .clock(Arc::new(
            FixedClock::from_v2_timestamp(input["timestamp"].as_str().unwrap()).unwrap(),
        ));
    if let Some(g) = input["gateway"].as_str() {
        b = b.gateway(g);
    }
    let mut options = RequestOptions::new();
    let mut extra: Vec<(String, String)> = Vec::new();
    for (k, v) in [
        ("notify_url", &input["notify_url"]),
        ("return_url", &input["return_url"]),
    ] {
        if let Some(v) = v.as_str() {
            extra.push((k.to_owned(), v.to_owned()));
        }
    }
    if let Some(m) = input["extra_params"].as_object() {
        extra.extend(
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())),
        );
    }
    for (k, v) in extra {
        options = match k.as_str() {
            "notify_url" => options.notify_url(v),
            "return_url" => options.return_url(v),
            _ => options.extra_param(k, v),
        };
    }
    (b.build().unwrap(), options)
}

#[test]
fn conformance_app_pay() {
    let Some((dir, cases)) = cases("app_pay") else {
        return;
    };
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let input = &case["input"];
        let (client, options) = vector_client(&dir, input);
        let method = input["method"].as_str().unwrap_or("alipay.trade.app.pay");
        let order = client
            .sdk_execute(method, &input["biz_content"], &options)
            .unwrap();
        let computed = &case["expected_computed"];
        // Same parameters as the peers that sign neither `format` nor `alipay_sdk` unless asked:
        // python-alipay-sdk (fzlee) sorts the parameters, appends `sign`, and form-encodes.
        assert_eq!(
            order,
            computed["py_fzlee.order_string"].as_str().unwrap(),
            "{id}"
        );
        let params = pairs(order.as_bytes());
        let sign = &params.last().unwrap().1;
        let expected_sign = computed["sign"]
            .as_str()
            .or(computed["node.sign"].as_str())
            .unwrap();
        assert_eq!(sign, expected_sign, "{id}");
        let content =
            alipay::sign::canonical_string(params.iter().map(|(k, v)| (k, v)), Rule::Request);
        assert_eq!(content, computed["sign_content"].as_str().unwrap(), "{id}");
        // The node test's own assertions, on the decoded parameters.
        let decoded = order.replace('+', " ");
        let decoded = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8()
            .unwrap();
        if let Some(frag) = case["expected"]["node.order_string~decoded_contains"].as_str() {
            for part in frag
                .trim_matches('&')
                .split('&')
                .filter(|p| !p.starts_with("sign="))
            {
                assert!(decoded.contains(part), "{id}: {part}");
            }
        }
    }
}

#[test]
fn conformance_page_pay() {
    let Some((dir, cases)) = cases("page_pay") else {
        return;
    };
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let input = &case["input"];
        let (client, options) = vector_client(&dir, input);
        let computed = &case["expected_computed"];
        let biz_text = serde_json::to_string(&input["biz_content"]).unwrap();
        let expected_sign = computed["py_fzlee.sign"].as_str().unwrap();
        let get = input["http_method"] == "GET";
        let page_method = if get {
            alipay::PageMethod::Get
        } else {
            alipay::PageMethod::Post
        };
        let out = client
            .page_execute(
                "alipay.trade.page.pay",
                &input["biz_content"],
                &options,
                page_method,
            )
            .unwrap();
        let (url, params) = if get {
            // fzlee renders the GET URL exactly like this client.
            assert_eq!(out, computed["py_fzlee.result"].as_str().unwrap(), "{id}");
            let (url, query) = out.split_once('?').unwrap();
            (url.to_owned(), pairs(query.as_bytes()))
        } else {
            form_params(&out)
        };
        assert_eq!(url, input["gateway"].as_str().unwrap(), "{id}");
        let get_param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get_param("sign"), Some(expected_sign), "{id}");
        assert_eq!(get_param("biz_content"), Some(biz_text.as_str()), "{id}");
        if let Some(b) = case["expected"]["node.params.biz_content"].as_str() {
            assert_eq!(get_param("biz_content"), Some(b), "{id}");
        }
        let content = alipay::sign::canonical_string(
            params
                .iter()
                .filter(|(k, _)| k != "sign")
                .map(|(k, v)| (k, v)),
            Rule::Request,
        );
        // Node also signs alipay_sdk; everything else is the same string.
        let node_content = computed["sign_content"].as_str().unwrap();
        assert_eq!(
            content,
            node_content.trim_start_matches("alipay_sdk=alipay-sdk-nodejs-4.0.0&"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn conformance_parse_response_v2() {
    let Some((dir, cases)) = cases("parse_response_v2") else {
        return;
    };
    for case in cases {
        let id = case["id"].as_str().unwrap().to_owned();
        let input = &case["input"];
        let method = input["method"].as_str().unwrap();
        let status = u16::try_from(input["status"].as_u64().unwrap_or(200)).unwrap();
        let body = input["response"].as_str().unwrap().to_owned();
        let replay = ReplayTransport::new().exchange(
            RequestMatcher::new().query("method", method),
            RecordedResponse::new(status, body.clone()),
        );
        let key_file = input["alipay_public_key_file"]
            .as_str()
            .unwrap_or("node/alipay-public-key.pem");
        let mut b = Client::builder()
            .app_id("2021000122671080")
            .app_private_key(std::fs::read(dir.join("node/app-private-key.pem")).unwrap())
            .alipay_public_key(std::fs::read(dir.join(key_file)).unwrap())
            .transport(Arc::new(replay))
            .retry_policy(RetryPolicy::none());
        if let Some(k) = input["encrypt_key"].as_str() {
            b = b.aes_key(k);
        }
        let client = b.build().unwrap();
        let result = client
            .call_with(method, &json!({}), &RequestOptions::new().encrypt(false))
            .await;
        let node_threw = case["expected"]["node.threw"].as_bool().unwrap();
        let err = result.expect_err(&id);
        match id.as_str() {
            "node-parse-empty-body" | "node-parse-missing-node" => {
                assert!(err.is_decode(), "{id}: {err}");
            }
            "node-parse-http-503" => assert_eq!(err.http_status(), Some(503), "{id}"),
            "node-parse-validate-sign-fail" => assert!(err.is_signature(), "{id}: {err}"),
            "node-parse-error-response" => {
                // Unsigned gateway-level error: reported with its codes, marked unverified.
                let api = err.api().unwrap();
                assert!(!api.is_verified());
                let expected = &case["expected"]["node.result"];
                assert_eq!(api.code(), expected["code"], "{id}");
                assert_eq!(api.msg(), expected["msg"], "{id}");
                assert_eq!(api.sub_code(), expected["sub_code"].as_str(), "{id}");
                assert_eq!(api.sub_msg(), expected["sub_msg"].as_str(), "{id}");
            }
            "node-parse-encrypted-response" | "node-parse-no-right" => {
                // Node returns these without checking the (fake) sign; we fail closed. The content
                // we would have returned is what Node returns.
                assert!(err.is_signature(), "{id}: {err}");
                let parts =
                    alipay::sign::extract_response(body.as_bytes(), method, Charset::Utf8).unwrap();
                let text = match parts.ciphertext() {
                    Some(ct) => AesKey::from_base64(input["encrypt_key"].as_str().unwrap())
                        .unwrap()
                        .decrypt(ct)
                        .unwrap(),
                    None => parts.content.to_vec(),
                };
                let value: Value = serde_json::from_slice(&text).unwrap();
                assert_eq!(value, case["expected"]["node.result"], "{id}");
            }
            other => assert!(
                node_threw,
                "{other}: a new parse case that Node accepts; decide how the client treats it"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tracing
// ---------------------------------------------------------------------------------------------

/// A span or event as a capturing subscriber saw it: its name and every field, as text.
#[derive(Debug, Clone, Default)]
struct Traced {
    name: String,
    fields: Vec<(String, String)>,
}

impl Traced {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct FieldText<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for FieldText<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

/// Records every span (with the fields recorded later) and every event, at every level.
#[derive(Default)]
struct Capture {
    spans: Mutex<Vec<Traced>>,
    metadata: Mutex<Vec<&'static tracing::Metadata<'static>>>,
    /// The entered spans, innermost last (the test runs on one thread).
    stack: Mutex<Vec<tracing::span::Id>>,
    events: Mutex<Vec<Traced>>,
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut traced = Traced {
            name: attrs.metadata().name().to_owned(),
            fields: Vec::new(),
        };
        attrs.record(&mut FieldText(&mut traced.fields));
        self.metadata.lock().unwrap().push(attrs.metadata());
        let mut spans = self.spans.lock().unwrap();
        spans.push(traced);
        tracing::span::Id::from_u64(u64::try_from(spans.len()).unwrap())
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let index = usize::try_from(span.into_u64()).unwrap() - 1;
        values.record(&mut FieldText(&mut spans[index].fields));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut traced = Traced {
            name: event.metadata().name().to_owned(),
            fields: Vec::new(),
        };
        event.record(&mut FieldText(&mut traced.fields));
        self.events.lock().unwrap().push(traced);
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.stack.lock().unwrap().push(span.clone());
    }
    fn exit(&self, span: &tracing::span::Id) {
        let mut stack = self.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|s| s == span) {
            stack.remove(at);
        }
    }
    fn current_span(&self) -> tracing_core::span::Current {
        match self.stack.lock().unwrap().last() {
            Some(id) => {
                let index = usize::try_from(id.into_u64()).unwrap() - 1;
                let metadata = self.metadata.lock().unwrap()[index];
                tracing_core::span::Current::new(id.clone(), metadata)
            }
            None => tracing_core::span::Current::none(),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tracing_spans_carry_method_protocol_trace_id_latency_and_retries_but_no_secrets() {
    let gw = Gateway::start(None, |s, n| {
        if s.op.starts_with("/v3/") {
            Reply::V3(
                404,
                json!({"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}),
                true,
            )
        } else if n == 0 {
            Reply::Node(
                json!({"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}),
            )
        } else {
            Reply::Node(query_success("T1"))
        }
    })
    .await;
    let capture = Arc::new(Capture::default());
    let _guard = tracing::subscriber::set_default(Arc::clone(&capture));
    let client = builder(&gw).build().unwrap();

    // v2: 20000, retried once, then success.
    client.execute(&query()).await.unwrap();
    // v3: a verified 404.
    let err = client
        .execute_with(&query(), &RequestOptions::new().protocol(Protocol::V3))
        .await
        .unwrap_err();
    assert!(err.is_api(), "{err}");
    // A redirect: signed locally, nothing sent, nothing logged with its signature.
    let url = client
        .page_pay_url(
            &alipay::model::trade::PagePayRequest::new("P1", Amount::from_fen(1), "x"),
            &RequestOptions::new(),
        )
        .unwrap();

    let spans = capture.spans.lock().unwrap().clone();
    let calls: Vec<&Traced> = spans.iter().filter(|s| s.name == "alipay.call").collect();
    assert_eq!(calls.len(), 2, "{spans:?}");
    let fields = |t: &Traced, names: &[&str]| -> Vec<Option<String>> {
        names
            .iter()
            .map(|n| t.field(n).map(str::to_owned))
            .collect()
    };
    let names = ["method", "protocol", "retries", "trace_id", "outcome"];
    assert_eq!(
        fields(calls[0], &names),
        [
            Some("alipay.trade.query".to_owned()),
            Some("v2".to_owned()),
            Some("1".to_owned()),
            Some("v2trace".to_owned()),
            Some("ok".to_owned()),
        ]
    );
    assert_eq!(
        fields(calls[1], &names),
        [
            Some("alipay.trade.query".to_owned()),
            Some("v3".to_owned()),
            Some("0".to_owned()),
            Some("0b8e2a5c17000000000000001".to_owned()),
            Some("api_error".to_owned()),
        ]
    );
    for call in &calls {
        let latency: u64 = call.field("latency_ms").unwrap().parse().unwrap();
        assert!(latency < 5_000, "{call:?}");
    }
    let events = capture.events.lock().unwrap().clone();
    let retries: Vec<&Traced> = events
        .iter()
        .filter(|e| e.field("message") == Some("retrying"))
        .collect();
    assert_eq!(retries.len(), 1, "{events:?}");
    assert_eq!(retries[0].field("attempt"), Some("1"));

    // Nothing recorded carries a signature, the signed URL or key material.
    let signatures: Vec<String> = gw
        .seen()
        .iter()
        .filter_map(|s| s.param("sign").map(str::to_owned))
        .chain(url.split("sign=").nth(1).map(|s| {
            percent_encoding::percent_decode_str(s.split('&').next().unwrap())
                .decode_utf8_lossy()
                .into_owned()
        }))
        .collect();
    assert_eq!(signatures.len(), 3);
    let key_body = std::str::from_utf8(APP_KEY)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap();
    for traced in spans.iter().chain(events.iter()) {
        for (name, value) in &traced.fields {
            for sig in &signatures {
                assert!(!value.contains(sig.as_str()), "{name}={value}");
                assert!(!value.contains(&sig[..16]), "{name}={value}");
            }
            assert!(!value.contains(key_body), "{name}={value}");
            assert!(!value.contains("sign="), "{name}={value}");
            assert!(!value.contains(&url[..40]), "{name}={value}");
        }
    }
}
