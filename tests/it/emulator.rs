//! alipay-emulator over raw HTTP: every operation and error path, signed and verified with
//! alipay-sign only (independent of the facade), in both key modes, with AES, v3, faults,
//! notification retries and timeouts. 127.0.0.1 only; every wait is bounded.

// Test-only code: clippy's allow-*-in-tests settings apply to the whole module.
#![cfg(test)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alipay_emulator::{AppCredentials, AppSpec, Emulator, FaultSpec, KeyMode};
use alipay_sign::{
    AesKey, AuthString, Certificate, Charset, NodeKind, PrivateKey, PublicKey, RsaSigner,
    RsaVerifier, Rule, SignType, extract_response, extract_response_node, v3_sign_request,
    v3_verify_response,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// 2024-05-13 10:00:00 UTC+8.
const START_S: u64 = 1_715_565_600;

fn start_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(START_S)
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .time_scale(0.0)
        .start_time(start_time())
        .start()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client and a webhook
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One request on a fresh connection; `Err` when the server closes without an answer.
async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Resp, String> {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(body).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        parse_response(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .map_err(|_| "timed out".to_owned())?
}

fn parse_response(raw: &[u8]) -> Result<Resp, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete answer ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("bad status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// What a webhook received: `(Content-Type, body)` per POST.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A notify_url: records each POST and answers from a script (then `success`).
#[derive(Clone)]
struct Hook {
    addr: SocketAddr,
    received: Received,
}

impl Hook {
    async fn start(script: &[&'static str]) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers: Arc<Mutex<VecDeque<&'static str>>> =
            Arc::new(Mutex::new(script.iter().copied().collect()));
        let rec = Arc::clone(&received);
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    break;
                };
                let rec = Arc::clone(&rec);
                let answers = Arc::clone(&answers);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read the head, then the body by Content-Length.
                    let (head_end, len) = loop {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (p + 4, len);
                        }
                    };
                    while buf.len() < head_end + len {
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let ct = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-type")
                                .then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default();
                    rec.lock().unwrap().push((ct, buf[head_end..].to_vec()));
                    let answer = answers.lock().unwrap().pop_front().unwrap_or("success");
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        Hook { addr, received }
    }

    fn url(&self) -> String {
        format!("http://{}/notify", self.addr)
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits (bounded) until `n` notifications arrived.
    async fn wait_for(&self, n: usize) -> Vec<(String, Vec<u8>)> {
        for _ in 0..400 {
            if self.count() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let got = self.received.lock().unwrap().clone();
        assert!(
            got.len() >= n,
            "expected {n} notifications, got {}",
            got.len()
        );
        got
    }
}

/// Decodes a form in `charset` (percent-decoded bytes first).
fn decode_form(body: &[u8], charset: Charset) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|b| *b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &[][..]),
            };
            let dec = |x: &[u8]| {
                let plus: Vec<u8> = x
                    .iter()
                    .map(|b| if *b == b'+' { b' ' } else { *b })
                    .collect();
                let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
                charset.decode(&bytes).unwrap().into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn field<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------
// Signing requests and verifying answers with alipay-sign only
// ---------------------------------------------------------------------------------------------

struct Caller {
    addr: SocketAddr,
    app_id: String,
    signer: RsaSigner,
    alipay: RsaVerifier,
    cert: Option<(String, String)>,
    aes: Option<AesKey>,
    sign_type: SignType,
    charset: Charset,
}

impl Caller {
    fn new(emulator: &Emulator, creds: &AppCredentials) -> Caller {
        let key =
            PrivateKey::from_pem_or_der(creds.app_private_key_pem.as_deref().unwrap().as_bytes())
                .unwrap();
        let alipay = PublicKey::from_pem_or_der(creds.alipay_public_key_pem.as_bytes()).unwrap();
        Caller {
            addr: emulator.addr(),
            app_id: creds.app_id.clone(),
            signer: RsaSigner::new(&key).unwrap(),
            alipay: RsaVerifier::new(&alipay).unwrap(),
            cert: creds
                .app_cert_sn
                .clone()
                .zip(creds.alipay_root_cert_sn.clone()),
            aes: creds
                .aes_key
                .as_deref()
                .map(|k| AesKey::from_base64(k).unwrap()),
            sign_type: SignType::Rsa2,
            charset: Charset::Utf8,
        }
    }

    /// The signed parameters of a call (`biz` already a string; encrypted when `encrypt`).
    fn params(
        &self,
        method: &str,
        biz: Option<&str>,
        extra: &[(&str, &str)],
        encrypt: bool,
    ) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = vec![
            ("app_id".into(), self.app_id.clone()),
            ("method".into(), method.into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), self.charset.as_str().into()),
            ("sign_type".into(), self.sign_type.as_str().into()),
            ("timestamp".into(), "2024-05-13 10:00:00".into()),
            ("version".into(), "1.0".into()),
        ];
        if let Some((app_sn, root_sn)) = &self.cert {
            p.push(("app_cert_sn".into(), app_sn.clone()));
            p.push(("alipay_root_cert_sn".into(), root_sn.clone()));
        }
        for (k, v) in extra {
            p.push(((*k).into(), (*v).into()));
        }
        if let Some(biz) = biz {
            if encrypt {
                let key = self.aes.as_ref().unwrap();
                p.push(("encrypt_type".into(), "AES".into()));
                p.push((
                    "biz_content".into(),
                    key.encrypt(&self.charset.encode(biz).unwrap()),
                ));
            } else {
                p.push(("biz_content".into(), biz.into()));
            }
        }
        let signed =
            alipay_sign::sign_params(&self.signer, p.clone(), self.sign_type, self.charset)
                .unwrap();
        p.push(("sign".into(), signed.sign));
        p
    }

    fn form(&self, params: &[(String, String)]) -> String {
        params
            .iter()
            .map(|(k, v)| {
                let kb = self.charset.encode(k).unwrap();
                let vb = self.charset.encode(v).unwrap();
                format!(
                    "{}={}",
                    form_urlencoded::byte_serialize(&kb).collect::<String>(),
                    form_urlencoded::byte_serialize(&vb).collect::<String>()
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    async fn post(&self, params: &[(String, String)]) -> Resp {
        let ct = format!(
            "application/x-www-form-urlencoded;charset={}",
            self.charset.as_str()
        );
        http(
            self.addr,
            "POST",
            "/gateway.do",
            &[("Content-Type", &ct)],
            self.form(params).as_bytes(),
        )
        .await
        .unwrap()
    }

    /// Calls `method` and returns the verified node (decrypted when encrypted).
    async fn call(&self, method: &str, biz: &Value) -> Value {
        self.call_with(method, biz, &[], false).await.0
    }

    /// The `trade_status` that `alipay.trade.query` answers for `out_trade_no`.
    async fn trade_status(&self, out_trade_no: &str) -> Value {
        let q = self
            .call(
                "alipay.trade.query",
                &json!({ "out_trade_no": out_trade_no }),
            )
            .await;
        q["trade_status"].clone()
    }

    async fn call_with(
        &self,
        method: &str,
        biz: &Value,
        extra: &[(&str, &str)],
        encrypt: bool,
    ) -> (Value, Resp) {
        let text = serde_json::to_string(biz).unwrap();
        let params = self.params(method, Some(&text), extra, encrypt);
        let resp = self.post(&params).await;
        (self.verify(method, &resp), resp)
    }

    /// Verifies a gateway answer's signature and returns its node.
    fn verify(&self, method: &str, resp: &Resp) -> Value {
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some(format!("application/json;charset={}", self.charset.as_str()).as_str())
        );
        let parts = extract_response(&resp.body, method, self.charset).unwrap();
        parts.verify(&self.alipay, self.sign_type).unwrap();
        if self.cert.is_some() {
            assert!(
                parts.alipay_cert_sn.is_some(),
                "certificate mode answers carry alipay_cert_sn"
            );
        }
        match parts.kind {
            NodeKind::Object => {
                let text = self.charset.decode(parts.content).unwrap();
                serde_json::from_str(&text).unwrap()
            }
            _ => {
                let plain = self
                    .aes
                    .as_ref()
                    .unwrap()
                    .decrypt(parts.ciphertext().unwrap())
                    .unwrap();
                serde_json::from_str(&self.charset.decode(&plain).unwrap()).unwrap()
            }
        }
    }
}

fn alipay_public(creds: &AppCredentials) -> PublicKey {
    PublicKey::from_pem_or_der(creds.alipay_public_key_pem.as_bytes()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn precreate_scan_pay_query_and_the_notification() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&[]).await;
    let biz = json!({"out_trade_no":"T1","total_amount":"88.88","subject":"Coffee 咖啡"});
    let text = serde_json::to_string(&biz).unwrap();
    let params = app.params(
        "alipay.trade.precreate",
        Some(&text),
        &[("notify_url", &hook.url())],
        false,
    );
    let resp = app.post(&params).await;
    let body = resp.text();
    // Compact, node first, sign last, literal '/'.
    let qr = format!("{}/qr/bax0", emu.base_url());
    assert!(
        body.starts_with(&format!(
            r#"{{"alipay_trade_precreate_response":{{"code":"10000","msg":"Success","out_trade_no":"T1","qr_code":"{qr}"#
        )),
        "{body}"
    );
    assert!(!body.contains("\\/"));
    let node = app.verify("alipay.trade.precreate", &resp);
    let qr_code = node["qr_code"].as_str().unwrap().to_owned();
    assert_eq!(qr_code.len(), qr.len() + 21);
    let again = app.call("alipay.trade.precreate", &biz).await;
    assert_eq!(
        again["qr_code"],
        qr_code.as_str(),
        "an identical precreate answers the same QR code"
    );

    // Before the buyer scans, Alipay does not know the trade.
    let q = app
        .call("alipay.trade.query", &json!({"out_trade_no":"T1"}))
        .await;
    assert_eq!(q["sub_code"], "ACQ.TRADE_NOT_EXIST");
    assert_eq!(q["code"], "40004");
    assert_eq!(q["msg"], "Business Failed");

    // The buyer opens the QR URL (scan) and lands on the cashier.
    let path = qr_code.trim_start_matches(emu.base_url());
    let scan = http(emu.addr(), "GET", path, &[], b"").await.unwrap();
    assert_eq!(scan.status, 302);
    let cashier = scan.header("location").unwrap().to_owned();
    let page = http(emu.addr(), "GET", &cashier, &[], b"").await.unwrap();
    assert!(page.text().contains("<button id=\"pay\""));
    assert!(page.text().contains("88.88"));
    assert_eq!(app.trade_status("T1").await, "WAIT_BUYER_PAY");

    let paid = emu.control().pay("T1").await.unwrap();
    assert_eq!(paid["trade"]["trade_status"], "TRADE_SUCCESS");
    let q = app
        .call(
            "alipay.trade.query",
            &json!({"out_trade_no":"T1","query_options":["fund_bill_list"]}),
        )
        .await;
    assert_eq!(q["code"], "10000");
    assert_eq!(q["trade_status"], "TRADE_SUCCESS");
    assert_eq!(q["total_amount"], "88.88");
    assert_eq!(q["receipt_amount"], "88.88");
    assert_eq!(q["send_pay_date"], "2024-05-13 10:00:00");
    assert_eq!(
        q["fund_bill_list"],
        json!([{"fund_channel":"ALIPAYACCOUNT","amount":"88.88"}])
    );
    let by_trade_no = app
        .call(
            "alipay.trade.query",
            &json!({"trade_no": q["trade_no"], "out_trade_no": "ignored"}),
        )
        .await;
    assert_eq!(
        by_trade_no["out_trade_no"], "T1",
        "trade_no wins over out_trade_no"
    );

    // The notification: a form, V1-signed (without sign and sign_type), no empty fields.
    let got = hook.wait_for(1).await;
    let (ct, body) = &got[0];
    assert_eq!(ct, "application/x-www-form-urlencoded; charset=utf-8");
    let fields = decode_form(body, Charset::Utf8);
    assert!(fields.iter().all(|(_, v)| !v.is_empty()));
    assert_eq!(field(&fields, "trade_status"), Some("TRADE_SUCCESS"));
    assert_eq!(field(&fields, "notify_type"), Some("trade_status_sync"));
    assert_eq!(field(&fields, "subject"), Some("Coffee 咖啡"));
    assert_eq!(field(&fields, "total_amount"), Some("88.88"));
    assert_eq!(field(&fields, "app_id"), Some(emu.app().app_id.as_str()));
    assert_eq!(
        field(&fields, "seller_id"),
        Some(emu.app().seller_id.as_str())
    );
    assert_eq!(
        field(&fields, "fund_bill_list"),
        Some(r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#)
    );
    let verifier = RsaVerifier::new(&alipay_public(emu.app())).unwrap();
    let content = alipay_sign::verify_params(
        &verifier,
        fields.clone(),
        Rule::NotifyV1,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    assert!(!content.contains("sign_type="));
    assert!(
        alipay_sign::verify_params(
            &verifier,
            fields.clone(),
            Rule::NotifyV2,
            SignType::Rsa2,
            Charset::Utf8
        )
        .is_err(),
        "signed without sign_type"
    );
    // And alipay-notify accepts it from the raw body.
    let nv = alipay_notify::NotifyVerifier::new(&alipay_public(emu.app())).unwrap();
    let verified = nv.verify(body, Some(ct)).unwrap();
    assert_eq!(verified.get("out_trade_no"), Some("T1"));

    let log = emu.control().notifications().await.unwrap();
    assert_eq!(log[0]["delivered"], true);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn gateway_errors_as_alipay_sends_them() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let alipay = alipay_public(emu.app());

    // Unknown app: an unsigned error_response.
    let mut p = app.params(
        "alipay.trade.query",
        Some(r#"{"out_trade_no":"T1"}"#),
        &[],
        false,
    );
    p[0].1 = "2021999999999999".into();
    let r = app.post(&p).await;
    assert_eq!(
        r.text(),
        r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数 2021999999999999"}}"#
    );
    // Missing app_id.
    let p: Vec<(String, String)> = vec![("method".into(), "alipay.trade.query".into())];
    assert_eq!(
        app.post(&p).await.text(),
        r#"{"error_response":{"code":"40001","msg":"Missing Required Arguments","sub_code":"isv.missing-app-id","sub_msg":"缺少appId参数"}}"#
    );
    // Missing method, known app: signed.
    let p: Vec<(String, String)> = vec![
        ("app_id".into(), app.app_id.clone()),
        ("sign_type".into(), "RSA2".into()),
    ];
    let r = app.post(&p).await;
    let parts = extract_response_node(&r.body, "error_response", Charset::Utf8).unwrap();
    assert_eq!(
        parts.content,
        r#"{"code":"40001","msg":"Missing Required Arguments","sub_code":"isv.missing-method","sub_msg":"缺少方法名参数"}"#.as_bytes()
    );
    parts
        .verify(&RsaVerifier::new(&alipay).unwrap(), SignType::Rsa2)
        .unwrap();

    // A bad signature: 40002 isv.invalid-signature quoting the verified string, & as &amp;.
    let mut p = app.params(
        "alipay.trade.query",
        Some(r#"{"out_trade_no":"T1"}"#),
        &[],
        false,
    );
    p.iter_mut().find(|(k, _)| k == "timestamp").unwrap().1 = "2024-05-13 10:00:01".into();
    let r = app.post(&p).await;
    let node = app.verify("alipay.trade.query", &r);
    let expected_content = format!(
        r#"app_id={}&biz_content={{"out_trade_no":"T1"}}&charset=utf-8&format=JSON&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-05-13 10:00:01&version=1.0"#,
        app.app_id
    );
    assert_eq!(node["code"], "40002");
    assert_eq!(node["msg"], "Invalid Arguments");
    assert_eq!(node["sub_code"], "isv.invalid-signature");
    assert_eq!(
        node["sub_msg"],
        format!(
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{}",
            expected_content.replace('&', "&amp;")
        )
    );

    // Missing common parameters.
    for (drop, sub_code) in [
        ("sign", "isv.missing-signature"),
        ("timestamp", "isv.missing-timestamp"),
        ("version", "isv.missing-version"),
    ] {
        let p: Vec<(String, String)> = app
            .params(
                "alipay.trade.query",
                Some(r#"{"out_trade_no":"T1"}"#),
                &[],
                false,
            )
            .into_iter()
            .filter(|(k, _)| k != drop)
            .collect();
        let node = app.verify("alipay.trade.query", &app.post(&p).await);
        assert_eq!(node["code"], "40001", "{drop}");
        assert_eq!(node["sub_code"], sub_code);
    }
    // Bad values.
    let mut p = app.params("alipay.trade.query", Some("{}"), &[], false);
    p.iter_mut().find(|(k, _)| k == "timestamp").unwrap().1 = "13/05/2024".into();
    let node = app.verify("alipay.trade.query", &app.post(&p).await);
    assert_eq!(node["sub_code"], "isv.invalid-timestamp");
    let node = app.call("alipay.trade.nonexistent", &json!({})).await;
    assert_eq!(node["sub_code"], "isv.invalid-method");
    let mut p = app.params("alipay.trade.query", Some("{}"), &[], false);
    p.iter_mut().find(|(k, _)| k == "sign_type").unwrap().1 = "MD5".into();
    let node = app.verify("alipay.trade.query", &app.post(&p).await);
    assert_eq!(node["sub_code"], "isv.invalid-signature-type");

    // Business rules.
    let cases = [
        (
            json!({"out_trade_no":"T-1","total_amount":"1.00","subject":"x"}),
            "ACQ.INVALID_PARAMETER",
        ),
        (
            json!({"out_trade_no":"T2","total_amount":"0.001","subject":"x"}),
            "ACQ.INVALID_PARAMETER",
        ),
        (
            json!({"out_trade_no":"T2","total_amount":"0","subject":"x"}),
            "ACQ.INVALID_PARAMETER",
        ),
        (
            json!({"out_trade_no":"T2","total_amount":"100000000.01","subject":"x"}),
            "ACQ.TOTAL_FEE_EXCEED",
        ),
        (
            json!({"out_trade_no":"T2","total_amount":"1.00","subject":"a/b"}),
            "ACQ.INVALID_PARAMETER",
        ),
        (
            json!({"out_trade_no":"T2","subject":"x"}),
            "ACQ.INVALID_PARAMETER",
        ),
    ];
    for (biz, sub_code) in cases {
        let node = app.call("alipay.trade.precreate", &biz).await;
        assert_eq!(node["sub_code"], sub_code, "{biz}");
        assert_eq!(node["code"], "40004");
    }
    // A number amount is read from its exact text.
    let node = app
        .call(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"T3","total_amount":0.1,"subject":"x"}),
        )
        .await;
    assert_eq!(node["code"], "10000");
    let node = app
        .call(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"T3","total_amount":"0.20","subject":"x"}),
        )
        .await;
    assert_eq!(node["sub_code"], "ACQ.CONTEXT_INCONSISTENT");
    emu.control().pay("T3").await.unwrap();
    let node = app
        .call(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"T3","total_amount":"0.10","subject":"x"}),
        )
        .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_HAS_SUCCESS");
    let node = app.call("alipay.trade.query", &json!({})).await;
    assert_eq!(node["sub_code"], "ACQ.INVALID_PARAMETER");
    let node = app
        .call("alipay.trade.close", &json!({"out_trade_no":"T3"}))
        .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_STATUS_ERROR");
}

#[tokio::test]
async fn bar_code_outcomes_follow_the_auth_code() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let pay = |no: &str, code: &str| json!({"out_trade_no": no, "total_amount": "10.00", "subject": "Bar", "scene": "bar_code", "auth_code": code});
    let ok = app
        .call("alipay.trade.pay", &pay("P1", "286123456789012345"))
        .await;
    assert_eq!(ok["code"], "10000");
    assert_eq!(ok["msg"], "Success");
    assert_eq!(ok["total_amount"], "10.00");
    assert_eq!(ok["receipt_amount"], "10.00");
    assert_eq!(ok["gmt_payment"], "2024-05-13 10:00:00");
    assert_eq!(ok["fund_bill_list"][0]["fund_channel"], "ALIPAYACCOUNT");

    let waiting = app
        .call("alipay.trade.pay", &pay("P2", "281234567890120003"))
        .await;
    assert_eq!(waiting["code"], "10003");
    assert_eq!(app.trade_status("P2").await, "WAIT_BUYER_PAY");
    emu.advance(Duration::from_secs(4)).await;
    assert_eq!(app.trade_status("P2").await, "WAIT_BUYER_PAY");
    emu.advance(Duration::from_secs(1)).await;
    let q = app
        .call("alipay.trade.query", &json!({"out_trade_no":"P2"}))
        .await;
    assert_eq!(
        q["trade_status"], "TRADE_SUCCESS",
        "paid by itself after 5 s"
    );
    assert_eq!(q["send_pay_date"], "2024-05-13 10:00:05");

    let poor = app
        .call("alipay.trade.pay", &pay("P3", "281234567890120004"))
        .await;
    assert_eq!(poor["sub_code"], "ACQ.BUYER_BALANCE_NOT_ENOUGH");
    for code in [
        "281234567890120005",
        "12345",
        "311234567890123456",
        "28123456789012345a",
    ] {
        let bad = app.call("alipay.trade.pay", &pay("P4", code)).await;
        assert_eq!(bad["sub_code"], "ACQ.PAYMENT_AUTH_CODE_INVALID", "{code}");
    }

    // The documented recovery for 10003: query, then cancel (retry_flag tells whether to retry).
    let waiting = app
        .call("alipay.trade.pay", &pay("P5", "251234567890120003"))
        .await;
    assert_eq!(waiting["code"], "10003");
    let c = app
        .call("alipay.trade.cancel", &json!({"out_trade_no":"P5"}))
        .await;
    assert_eq!(c["code"], "10000");
    assert_eq!(c["action"], "close");
    assert_eq!(c["retry_flag"], "N");
    emu.advance(Duration::from_secs(10)).await;
    assert_eq!(app.trade_status("P5").await, "TRADE_CLOSED");
}

#[tokio::test]
async fn refunds_are_partial_cumulative_and_idempotent() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&[]).await;
    let created = app
        .call_with(
            "alipay.trade.create",
            &json!({"out_trade_no":"R1","total_amount":"100.00","subject":"Shoes","buyer_id":"2088000000000001"}),
            &[("notify_url", &hook.url())],
            false,
        )
        .await
        .0;
    assert_eq!(created["code"], "10000");
    let node = app
        .call(
            "alipay.trade.create",
            &json!({"out_trade_no":"R2","total_amount":"1.00","subject":"x"}),
        )
        .await;
    assert_eq!(
        node["sub_code"], "ACQ.INVALID_PARAMETER",
        "create needs a buyer"
    );

    let refund = |no: &str, amount: &str| json!({"out_trade_no":"R1","refund_amount":amount,"out_request_no":no});
    let node = app
        .call("alipay.trade.refund", &refund("RF1", "10.00"))
        .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_STATUS_ERROR", "unpaid");
    emu.control().pay("R1").await.unwrap();

    let r1 = app
        .call("alipay.trade.refund", &refund("RF1", "30.00"))
        .await;
    assert_eq!(r1["code"], "10000");
    assert_eq!(r1["fund_change"], "Y");
    assert_eq!(r1["refund_fee"], "30.00");
    let again = app
        .call("alipay.trade.refund", &refund("RF1", "30.00"))
        .await;
    assert_eq!(
        again["fund_change"], "N",
        "same out_request_no: refunded once"
    );
    assert_eq!(again["refund_fee"], "30.00");
    let discordant = app
        .call("alipay.trade.refund", &refund("RF1", "31.00"))
        .await;
    assert_eq!(discordant["sub_code"], "ACQ.DISCORDANT_REPEAT_REQUEST");
    let over = app
        .call("alipay.trade.refund", &refund("RF2", "70.01"))
        .await;
    assert_eq!(over["sub_code"], "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    let rq = app
        .call(
            "alipay.trade.fastpay.refund.query",
            &json!({"out_trade_no":"R1","out_request_no":"RF1","query_options":["gmt_refund_pay"]}),
        )
        .await;
    assert_eq!(rq["refund_status"], "REFUND_SUCCESS");
    assert_eq!(rq["refund_amount"], "30.00");
    assert_eq!(rq["total_amount"], "100.00");
    assert_eq!(rq["gmt_refund_pay"], "2024-05-13 10:00:00");
    let unknown = app
        .call(
            "alipay.trade.fastpay.refund.query",
            &json!({"out_trade_no":"R1","out_request_no":"NOPE"}),
        )
        .await;
    assert_eq!(unknown["code"], "10000");
    assert!(unknown.get("refund_status").is_none());

    let r2 = app
        .call("alipay.trade.refund", &refund("RF2", "70.00"))
        .await;
    assert_eq!(r2["refund_fee"], "100.00");
    assert_eq!(
        app.trade_status("R1").await,
        "TRADE_CLOSED",
        "a full refund closes the trade"
    );

    // Paid, partial refund, full refund: three notifications.
    let got = hook.wait_for(3).await;
    let n: Vec<Vec<(String, String)>> = got
        .iter()
        .map(|(_, b)| decode_form(b, Charset::Utf8))
        .collect();
    assert_eq!(field(&n[0], "trade_status"), Some("TRADE_SUCCESS"));
    assert_eq!(field(&n[0], "refund_fee"), None);
    assert_eq!(field(&n[1], "trade_status"), Some("TRADE_SUCCESS"));
    assert_eq!(field(&n[1], "refund_fee"), Some("30.00"));
    assert_eq!(field(&n[1], "out_biz_no"), Some("RF1"));
    assert_eq!(field(&n[1], "gmt_refund"), Some("2024-05-13 10:00:00.000"));
    assert_eq!(field(&n[2], "trade_status"), Some("TRADE_CLOSED"));
    assert_eq!(field(&n[2], "refund_fee"), Some("100.00"));
    assert_eq!(field(&n[2], "gmt_close"), Some("2024-05-13 10:00:00"));
    let verifier = RsaVerifier::new(&alipay_public(emu.app())).unwrap();
    for fields in &n {
        alipay_sign::verify_params(
            &verifier,
            fields.clone(),
            Rule::NotifyV1,
            SignType::Rsa2,
            Charset::Utf8,
        )
        .unwrap();
    }
}

#[tokio::test]
async fn cancel_close_and_settle() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let f2f = |no: &str| json!({"out_trade_no": no, "total_amount": "5.00", "subject": "x", "auth_code": "286123456789012345"});
    // Cancel of a paid trade refunds it.
    app.call("alipay.trade.pay", &f2f("C1")).await;
    let c = app
        .call("alipay.trade.cancel", &json!({"out_trade_no":"C1"}))
        .await;
    assert_eq!(c["action"], "refund");
    assert_eq!(c["retry_flag"], "N");
    assert_eq!(c["gmt_refund_pay"], "2024-05-13 10:00:00");
    assert_eq!(app.trade_status("C1").await, "TRADE_CLOSED");
    // Cancel of an unknown out_trade_no: no action, and the number is burnt.
    let c = app
        .call("alipay.trade.cancel", &json!({"out_trade_no":"C2"}))
        .await;
    assert_eq!(c["code"], "10000");
    assert!(c.get("action").is_none());
    let late = app.call("alipay.trade.pay", &f2f("C2")).await;
    assert_eq!(late["sub_code"], "ACQ.TRADE_HAS_CLOSE");
    // The cancel window.
    app.call("alipay.trade.pay", &f2f("C3")).await;
    emu.advance(Duration::from_secs(24 * 3600 + 1)).await;
    let c = app
        .call("alipay.trade.cancel", &json!({"out_trade_no":"C3"}))
        .await;
    assert_eq!(c["sub_code"], "ACQ.TRADE_CANCEL_TIME_OUT");

    // Close.
    app.call(
        "alipay.trade.precreate",
        &json!({"out_trade_no":"K1","total_amount":"1.00","subject":"x"}),
    )
    .await;
    let c = app
        .call("alipay.trade.close", &json!({"out_trade_no":"K1"}))
        .await;
    assert_eq!(c["sub_code"], "ACQ.TRADE_NOT_EXIST", "not scanned yet");
    emu.control().scan("K1").await.unwrap();
    let c = app
        .call("alipay.trade.close", &json!({"out_trade_no":"K1"}))
        .await;
    assert_eq!(c["code"], "10000");
    assert_eq!(c["out_trade_no"], "K1");
    let c = app
        .call("alipay.trade.close", &json!({"out_trade_no":"K1"}))
        .await;
    assert_eq!(c["sub_code"], "ACQ.TRADE_STATUS_ERROR");
    let err = emu.control().pay("K1").await.unwrap_err();
    assert!(err.is_control());

    // Settle.
    let paid = app.call("alipay.trade.pay", &f2f("S1")).await;
    let trade_no = paid["trade_no"].as_str().unwrap();
    let settle = |no: &str, amount: &str| json!({"out_request_no": no, "trade_no": trade_no, "royalty_parameters": [{"trans_in":"2088000000000002","amount": amount}]});
    let s = app
        .call("alipay.trade.order.settle", &settle("ST1", "2.00"))
        .await;
    assert_eq!(s["code"], "10000");
    assert_eq!(s["trade_no"], trade_no);
    let dup = app
        .call("alipay.trade.order.settle", &settle("ST1", "1.00"))
        .await;
    assert_eq!(dup["sub_code"], "ACQ.DUP_OUT_REQUEST_NO");
    let over = app
        .call("alipay.trade.order.settle", &settle("ST2", "3.01"))
        .await;
    assert_eq!(over["sub_code"], "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR");
    let q = app
        .call(
            "alipay.trade.query",
            &json!({"out_trade_no":"S1","query_options":["trade_settle_info"]}),
        )
        .await;
    assert_eq!(
        q["trade_settle_info"]["trade_settle_detail_list"][0]["amount"],
        "2.00"
    );
}

#[tokio::test]
async fn timeouts_close_unpaid_trades() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&[]).await;
    let (node, _) = app
        .call_with(
            "alipay.trade.create",
            &json!({"out_trade_no":"E1","total_amount":"1.00","subject":"x","buyer_id":"2088000000000001","timeout_express":"1m"}),
            &[("notify_url", &hook.url())],
            false,
        )
        .await;
    assert_eq!(node["code"], "10000");
    app.call(
        "alipay.trade.create",
        &json!({"out_trade_no":"E2","total_amount":"1.00","subject":"x","buyer_id":"2088000000000001","time_expire":"2024-05-13 10:30:00","timeout_express":"1m"}),
    )
    .await;
    let past = app
        .call(
            "alipay.trade.create",
            &json!({"out_trade_no":"E3","total_amount":"1.00","subject":"x","buyer_id":"2088000000000001","time_expire":"2024-05-13 09:00:00"}),
        )
        .await;
    assert_eq!(past["sub_code"], "ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR");
    let bad = app
        .call(
            "alipay.trade.create",
            &json!({"out_trade_no":"E4","total_amount":"1.00","subject":"x","buyer_id":"2088000000000001","timeout_express":"1.5h"}),
        )
        .await;
    assert_eq!(bad["sub_code"], "ACQ.INVALID_PARAMETER");

    emu.advance(Duration::from_secs(59)).await;
    assert_eq!(app.trade_status("E1").await, "WAIT_BUYER_PAY");
    emu.advance(Duration::from_secs(1)).await;
    assert_eq!(app.trade_status("E1").await, "TRADE_CLOSED");
    assert_eq!(
        app.trade_status("E2").await,
        "WAIT_BUYER_PAY",
        "time_expire wins over timeout_express"
    );
    emu.advance(Duration::from_secs(29 * 60)).await;
    assert_eq!(app.trade_status("E2").await, "TRADE_CLOSED");
    let got = hook.wait_for(1).await;
    let fields = decode_form(&got[0].1, Charset::Utf8);
    assert_eq!(field(&fields, "trade_status"), Some("TRADE_CLOSED"));
    assert_eq!(field(&fields, "gmt_close"), Some("2024-05-13 10:01:00"));
    let err = emu.control().pay("E1").await.unwrap_err();
    assert!(err.to_string().contains("TRADE_CLOSED"), "{err}");
}

#[tokio::test]
async fn notifications_retry_on_the_real_schedule() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&["fail", "oops", "fail"]).await;
    app.call_with(
        "alipay.trade.pay",
        &json!({"out_trade_no":"N1","total_amount":"1.00","subject":"x","auth_code":"286123456789012345"}),
        &[("notify_url", &hook.url())],
        false,
    )
    .await;
    hook.wait_for(1).await;
    let schedule = [240u64, 600, 600];
    for (i, wait) in schedule.iter().enumerate() {
        // Just before the retry is due nothing is sent.
        emu.advance(Duration::from_secs(wait - 1)).await;
        assert_eq!(hook.count(), i + 1);
        emu.advance(Duration::from_secs(1)).await;
        assert_eq!(hook.count(), i + 2, "retry {} after {wait} s", i + 1);
    }
    let log = emu.control().notifications().await.unwrap();
    assert_eq!(log[0]["attempts"], 4);
    assert_eq!(log[0]["delivered"], true);
    let history: Vec<&str> = log[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "2024-05-13 10:00:00",
            "2024-05-13 10:04:00",
            "2024-05-13 10:14:00",
            "2024-05-13 10:24:00"
        ]
    );
    assert_eq!(log[0]["history"][1]["response"], "oops");
    // Identical bodies on every attempt (the same notify_id).
    let got = hook.received.lock().unwrap().clone();
    assert!(got.windows(2).all(|w| w[0].1 == w[1].1));

    // Dropped and duplicated deliveries.
    emu.control()
        .fault(&FaultSpec::drop_notification())
        .await
        .unwrap();
    emu.control()
        .fault(&FaultSpec::duplicate_notification())
        .await
        .unwrap();
    app.call_with(
        "alipay.trade.pay",
        &json!({"out_trade_no":"N2","total_amount":"1.00","subject":"x","auth_code":"286123456789012345"}),
        &[("notify_url", &hook.url())],
        false,
    )
    .await;
    emu.advance(Duration::from_secs(0)).await;
    assert_eq!(hook.count(), 4, "dropped");
    emu.advance(Duration::from_secs(240)).await;
    hook.wait_for(6).await;
    let log = emu.control().notifications().await.unwrap();
    assert_eq!(log[1]["history"][0]["outcome"], "dropped (injected fault)");
    assert_eq!(log[1]["attempts"], 3);
    assert_eq!(log[1]["delivered"], true);
}

#[tokio::test]
async fn notification_retries_run_on_a_scaled_clock() {
    // 3000x: the 4-minute retry takes 80 ms of real time.
    let emu = Emulator::builder()
        .time_scale(3000.0)
        .start()
        .await
        .unwrap();
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&["fail"]).await;
    app.call_with(
        "alipay.trade.pay",
        &json!({"out_trade_no":"N1","total_amount":"1.00","subject":"x","auth_code":"286123456789012345"}),
        &[("notify_url", &hook.url())],
        false,
    )
    .await;
    let t0 = std::time::Instant::now();
    hook.wait_for(2).await;
    let elapsed = t0.elapsed();
    assert!(elapsed >= Duration::from_millis(60), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn legacy_rsa_and_gbk() {
    let emu = emulator().await;
    // Signing SHA1withRSA requests needs alipay-sign's `rust-crypto` backend; the emulator's
    // side (verifying, and signing its answers and notifications with SHA1) always works.
    let legacy = alipay_sign::Backend::available().contains(&alipay_sign::Backend::RustCrypto);
    let mut types = vec![SignType::Rsa2];
    if legacy {
        types.push(SignType::Rsa);
    } else {
        crate::support::report(
            "emulator: sign_type=RSA requests not sent (alipay-sign built without rust-crypto)",
        );
    }
    for (i, sign_type) in types.into_iter().enumerate() {
        let mut app = Caller::new(&emu, emu.app());
        app.sign_type = sign_type;
        app.charset = Charset::Gbk;
        let no = format!("G{i}");
        let hook = Hook::start(&[]).await;
        let (node, resp) = app
            .call_with(
                "alipay.trade.pay",
                &json!({"out_trade_no":no,"total_amount":"2.00","subject":"中文商品","auth_code":"286123456789012345"}),
                &[("notify_url", &hook.url())],
                false,
            )
            .await;
        assert_eq!(node["code"], "10000");
        assert_eq!(
            resp.header("content-type"),
            Some("application/json;charset=GBK")
        );
        // The body is GBK, signed over the GBK bytes with the request's sign_type
        // (Caller::verify checked it).
        let (q, resp) = app
            .call_with(
                "alipay.trade.query",
                &json!({"out_trade_no":no}),
                &[],
                false,
            )
            .await;
        assert_eq!(q["subject"], "中文商品");
        let gbk = Charset::Gbk.encode("中文商品").unwrap();
        assert!(resp.body.windows(gbk.len()).any(|w| w == &gbk[..]));
        let got = hook.wait_for(1).await;
        assert_eq!(got[0].0, "application/x-www-form-urlencoded; charset=GBK");
        let fields = decode_form(&got[0].1, Charset::Gbk);
        assert_eq!(field(&fields, "subject"), Some("中文商品"));
        assert_eq!(field(&fields, "charset"), Some("GBK"));
        assert_eq!(field(&fields, "sign_type"), Some(sign_type.as_str()));
        let verifier = RsaVerifier::new(&alipay_public(emu.app())).unwrap();
        alipay_sign::verify_params(&verifier, fields, Rule::NotifyV1, sign_type, Charset::Gbk)
            .unwrap();
        if sign_type == SignType::Rsa {
            // Without sign_type the gateway assumes RSA.
            let mut p = app.params(
                "alipay.trade.query",
                Some(&json!({"out_trade_no":no}).to_string()),
                &[],
                false,
            );
            p.retain(|(k, _)| k != "sign_type" && k != "sign");
            let signed =
                alipay_sign::sign_params(&app.signer, p.clone(), SignType::Rsa, Charset::Gbk)
                    .unwrap();
            p.push(("sign".into(), signed.sign));
            let node = app.verify("alipay.trade.query", &app.post(&p).await);
            assert_eq!(node["trade_status"], "TRADE_SUCCESS");
        }
    }
    // Answers to a request without sign_type are SHA1withRSA, verifiable with any backend.
    let app = Caller::new(&emu, emu.app());
    let body = format!("app_id={}&method=alipay.trade.query", app.app_id);
    let r = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await
    .unwrap();
    let parts = extract_response(&r.body, "alipay.trade.query", Charset::Utf8).unwrap();
    parts.verify(&app.alipay, SignType::Rsa).unwrap();
    assert!(parts.verify(&app.alipay, SignType::Rsa2).is_err());
}

#[tokio::test]
async fn aes_requests_and_answers() {
    let emu = Emulator::builder()
        .time_scale(0.0)
        .start_time(start_time())
        .aes(true)
        .start()
        .await
        .unwrap();
    let app = Caller::new(&emu, emu.app());
    let (node, resp) = app
        .call_with(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"A1","total_amount":"1.00","subject":"加密"}),
            &[],
            true,
        )
        .await;
    assert_eq!(node["code"], "10000");
    let parts = extract_response(&resp.body, "alipay.trade.precreate", Charset::Utf8).unwrap();
    assert_eq!(parts.kind, NodeKind::Encrypted);
    assert!(parts.content.starts_with(b"\"") && parts.content.ends_with(b"\""));
    // Errors stay plaintext objects.
    let (node, resp) = app
        .call_with(
            "alipay.trade.query",
            &json!({"out_trade_no":"NONE"}),
            &[],
            true,
        )
        .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_NOT_EXIST");
    assert_eq!(
        extract_response(&resp.body, "alipay.trade.query", Charset::Utf8)
            .unwrap()
            .kind,
        NodeKind::Object
    );
    // Ciphertext under another key: 40003 decryption error.
    let mut p = app.params(
        "alipay.trade.query",
        None,
        &[("encrypt_type", "AES")],
        false,
    );
    p.pop();
    let other = AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap();
    p.push((
        "biz_content".into(),
        other.encrypt(br#"{"out_trade_no":"A1"}"#),
    ));
    let signed =
        alipay_sign::sign_params(&app.signer, p.clone(), SignType::Rsa2, Charset::Utf8).unwrap();
    p.push(("sign".into(), signed.sign));
    let node = app.verify("alipay.trade.query", &app.post(&p).await);
    assert_eq!(node["code"], "40003");
    assert_eq!(node["sub_code"], "isv.decryption-error-unknown");
    // An app without a key.
    let plain = emu.register_app(&AppSpec::new()).unwrap();
    let mut plain_caller = Caller::new(&emu, &plain);
    plain_caller.aes = Some(other);
    let (node, _) = plain_caller
        .call_with(
            "alipay.trade.query",
            &json!({"out_trade_no":"A1"}),
            &[],
            true,
        )
        .await;
    assert_eq!(
        node["sub_code"],
        "isv.decryption-error-not-valid-encrypt-key"
    );
}

#[tokio::test]
async fn certificate_mode_sns_rotation_and_download() {
    let emu = Emulator::builder()
        .time_scale(0.0)
        .start_time(start_time())
        .cert_mode(true)
        .start()
        .await
        .unwrap();
    let creds = emu.app().clone();
    assert_eq!(creds.mode, KeyMode::Certificate);
    let root_pem = creds.alipay_root_cert_pem.clone().unwrap();
    assert_eq!(
        alipay_sign::root_cert_sn(root_pem.as_bytes()).unwrap(),
        creds.alipay_root_cert_sn.clone().unwrap()
    );
    assert_eq!(
        alipay_sign::cert_sn(creds.app_cert_pem.as_deref().unwrap().as_bytes()).unwrap(),
        creds.app_cert_sn.clone().unwrap()
    );
    let alipay_cert_pem = creds.alipay_cert_pem.clone().unwrap();
    let first_sn = alipay_sign::cert_sn(alipay_cert_pem.as_bytes()).unwrap();
    assert_eq!(Some(first_sn.clone()), creds.alipay_cert_sn);
    let roots = Certificate::parse_bundle(root_pem.as_bytes()).unwrap();
    let chain = Certificate::parse_bundle(alipay_cert_pem.as_bytes()).unwrap();
    alipay_sign::verify_chain(&chain, &roots, start_time()).unwrap();

    let app = Caller::new(&emu, &creds);
    let (node, resp) = app
        .call_with(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"Z1","total_amount":"1.00","subject":"x"}),
            &[],
            false,
        )
        .await;
    assert_eq!(node["code"], "10000");
    // node → alipay_cert_sn → sign.
    let body = resp.text();
    let cert_at = body.find(r#","alipay_cert_sn":""#).unwrap();
    assert!(body[cert_at..].starts_with(&format!(r#","alipay_cert_sn":"{first_sn}","sign":""#)));

    // Wrong SNs.
    let mut wrong = Caller::new(&emu, &creds);
    wrong.cert = Some((
        "0123456789abcdef0123456789abcdef".into(),
        creds.alipay_root_cert_sn.clone().unwrap(),
    ));
    assert_eq!(
        wrong
            .call("alipay.trade.query", &json!({"out_trade_no":"Z1"}))
            .await["sub_code"],
        "isv.app-cert-not-exist"
    );
    wrong.cert = Some((
        creds.app_cert_sn.clone().unwrap(),
        "687b59193f3f462dd5336e5abf83c5d8".into(),
    ));
    assert_eq!(
        wrong
            .call("alipay.trade.query", &json!({"out_trade_no":"Z1"}))
            .await["sub_code"],
        "isv.invalid-alipay-root-cert-sn"
    );

    // Rotation: answers now carry the new SN and verify with the new certificate only.
    let rotated = emu.control().rotate_alipay_cert().await.unwrap();
    let new_sn = rotated["alipay_cert_sn"].as_str().unwrap().to_owned();
    assert_eq!(rotated["previous_alipay_cert_sn"], first_sn.as_str());
    assert_ne!(new_sn, first_sn);
    let params = app.params(
        "alipay.trade.query",
        Some(r#"{"out_trade_no":"Z1"}"#),
        &[],
        false,
    );
    let resp = app.post(&params).await;
    let parts = extract_response(&resp.body, "alipay.trade.query", Charset::Utf8).unwrap();
    assert_eq!(parts.alipay_cert_sn.as_deref(), Some(new_sn.as_str()));
    assert!(
        parts.verify(&app.alipay, SignType::Rsa2).is_err(),
        "the old key no longer verifies"
    );

    // The client downloads the certificate named by the SN and checks it against the root.
    let params = app.params(
        "alipay.open.app.alipaycert.download",
        Some(&json!({"alipay_cert_sn": new_sn}).to_string()),
        &[],
        false,
    );
    let resp = app.post(&params).await;
    let parts = extract_response(
        &resp.body,
        "alipay.open.app.alipaycert.download",
        Charset::Utf8,
    )
    .unwrap();
    let node: Value = serde_json::from_slice(parts.content).unwrap();
    use base64::Engine as _;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(node["alipay_cert_content"].as_str().unwrap())
        .unwrap();
    let downloaded = Certificate::parse_bundle(&pem).unwrap();
    assert_eq!(downloaded[0].sn(), new_sn);
    alipay_sign::verify_chain(&downloaded, &roots, start_time()).unwrap();
    let key = downloaded[0].public_key().unwrap();
    parts
        .verify(&RsaVerifier::new(&key).unwrap(), SignType::Rsa2)
        .unwrap();
    // The old certificate stays downloadable.
    let params = app.params(
        "alipay.open.app.alipaycert.download",
        Some(&json!({"alipay_cert_sn": first_sn}).to_string()),
        &[],
        false,
    );
    let resp = app.post(&params).await;
    let parts = extract_response(
        &resp.body,
        "alipay.open.app.alipaycert.download",
        Charset::Utf8,
    )
    .unwrap();
    parts
        .verify(&RsaVerifier::new(&key).unwrap(), SignType::Rsa2)
        .unwrap();
    let node: Value = serde_json::from_slice(parts.content).unwrap();
    assert_eq!(node["code"], "10000");
    // An unknown SN.
    let params = app.params(
        "alipay.open.app.alipaycert.download",
        Some(r#"{"alipay_cert_sn":"00000000000000000000000000000000"}"#),
        &[],
        false,
    );
    let resp = app.post(&params).await;
    let parts = extract_response(
        &resp.body,
        "alipay.open.app.alipaycert.download",
        Charset::Utf8,
    )
    .unwrap();
    let node: Value = serde_json::from_slice(parts.content).unwrap();
    assert_eq!(node["sub_code"], "isv.alipay-cert-not-exist");
    // Credentials reflect the rotation.
    let now = emu.credentials(&creds.app_id).unwrap();
    assert_eq!(now.alipay_cert_sn.as_deref(), Some(new_sn.as_str()));
}

/// One v3 call: signed `Authorization`, answer verified when 2xx.
async fn v3_call(
    emu: &Emulator,
    creds: &AppCredentials,
    method: &str,
    target: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let key = PrivateKey::from_pem_or_der(creds.app_private_key_pem.as_deref().unwrap().as_bytes())
        .unwrap();
    let signer = RsaSigner::new(&key).unwrap();
    let mut auth = AuthString::new(
        creds.app_id.clone(),
        "0123456789abcdef0123456789abcdef",
        1_715_565_600_000,
    );
    if let Some(sn) = &creds.app_cert_sn {
        auth = auth.with_app_cert_sn(sn.clone());
    }
    let token = extra
        .iter()
        .find(|(k, _)| *k == "alipay-app-auth-token")
        .map(|(_, v)| *v);
    let signed = v3_sign_request(&signer, &auth, method, target, body, token).unwrap();
    let mut headers = vec![
        ("Authorization", signed.authorization.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    if let Some(root) = &creds.alipay_root_cert_sn {
        headers.push(("alipay-root-cert-sn", root.as_str()));
    }
    headers.extend_from_slice(extra);
    let resp = http(emu.addr(), method, target, &headers, body.as_bytes())
        .await
        .unwrap();
    assert!(resp.header("alipay-trace-id").is_some());
    if resp.status == 200 {
        let verifier = RsaVerifier::new(&alipay_public(creds)).unwrap();
        v3_verify_response(
            &verifier,
            resp.header("alipay-timestamp").unwrap(),
            resp.header("alipay-nonce").unwrap(),
            resp.header("alipay-signature").unwrap(),
            &resp.body,
        )
        .unwrap();
    }
    resp
}

#[tokio::test]
async fn v3_endpoints() {
    let emu = emulator().await;
    let creds = emu.app().clone();
    let r = v3_call(
        &emu,
        &creds,
        "POST",
        "/v3/alipay/trade/precreate",
        r#"{"out_trade_no":"V1","total_amount":"9.90","subject":"v3"}"#,
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["out_trade_no"], "V1");
    assert!(body.get("code").is_none(), "v3 bodies carry no code/msg");
    emu.control().pay("V1").await.unwrap();
    let r = v3_call(
        &emu,
        &creds,
        "POST",
        "/v3/alipay/trade/query",
        r#"{"out_trade_no":"V1"}"#,
        &[],
    )
    .await;
    assert_eq!(r.json()["trade_status"], "TRADE_SUCCESS");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    // Business errors: 4xx with {code, message, links}.
    let r = v3_call(
        &emu,
        &creds,
        "POST",
        "/v3/alipay/trade/query",
        r#"{"out_trade_no":"NONE"}"#,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    let e = r.json();
    assert_eq!(e["code"], "ACQ.TRADE_NOT_EXIST");
    assert_eq!(e["message"], "交易不存在");
    assert!(
        e["links"][0]["link"]
            .as_str()
            .unwrap()
            .starts_with("https://open.alipay.com/api/errCheck?traceId=")
    );

    // A bad signature: 401 invalid-signature.
    let key = PrivateKey::from_pem_or_der(creds.app_private_key_pem.as_deref().unwrap().as_bytes())
        .unwrap();
    let auth = AuthString::new(creds.app_id.clone(), "n1", 1);
    let signed = v3_sign_request(
        &RsaSigner::new(&key).unwrap(),
        &auth,
        "POST",
        "/v3/alipay/trade/query",
        "{}",
        None,
    )
    .unwrap();
    let r = http(
        emu.addr(),
        "POST",
        "/v3/alipay/trade/query",
        &[("Authorization", &signed.authorization)],
        br#"{"x":1}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "invalid-signature");
    let r = http(emu.addr(), "POST", "/v3/alipay/trade/query", &[], b"{}")
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "missing-signature");

    // GET with the query as sent (space as '+').
    let target =
        "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2024-05-12";
    let r = v3_call(&emu, &creds, "GET", target, "", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["bill_download_url"]
            .as_str()
            .unwrap()
            .contains("downloadBillFile.resource")
    );

    // Faults keep their v3 shape.
    emu.control()
        .fault(&FaultSpec::unknown_error("alipay.trade.query"))
        .await
        .unwrap();
    let r = v3_call(
        &emu,
        &creds,
        "POST",
        "/v3/alipay/trade/query",
        r#"{"out_trade_no":"V1"}"#,
        &[],
    )
    .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["code"], "unknow-error");
}

#[tokio::test]
async fn v3_aes_and_certificate_mode() {
    let emu = Emulator::builder()
        .time_scale(0.0)
        .start_time(start_time())
        .cert_mode(true)
        .aes(true)
        .start()
        .await
        .unwrap();
    let creds = emu.app().clone();
    let key = AesKey::from_base64(creds.aes_key.as_deref().unwrap()).unwrap();
    let cipher = key.encrypt(br#"{"out_trade_no":"W1","total_amount":"1.00","subject":"x"}"#);
    let r = v3_call(
        &emu,
        &creds,
        "POST",
        "/v3/alipay/trade/precreate",
        &cipher,
        &[("alipay-encrypt-type", "AES")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("alipay-sn"), creds.alipay_cert_sn.as_deref());
    let plain: Value = serde_json::from_slice(&key.decrypt(&r.text()).unwrap()).unwrap();
    assert_eq!(plain["out_trade_no"], "W1");
}

#[tokio::test]
async fn injected_faults() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let control = emu.control();
    control
        .fault(&FaultSpec::unknown_error("alipay.trade.precreate"))
        .await
        .unwrap();
    let biz = json!({"out_trade_no":"F1","total_amount":"1.00","subject":"x"});
    let n = app.call("alipay.trade.precreate", &biz).await;
    assert_eq!(n["code"], "20000");
    assert_eq!(n["msg"], "Service Currently Unavailable");
    assert_eq!(n["sub_code"], "isp.unknow-error");
    assert_eq!(
        app.call("alipay.trade.precreate", &biz).await["code"],
        "10000",
        "one call only"
    );

    control
        .fault(&FaultSpec::system_error("alipay.trade.cancel").count(2))
        .await
        .unwrap();
    for _ in 0..2 {
        let c = app
            .call("alipay.trade.cancel", &json!({"out_trade_no":"F1"}))
            .await;
        assert_eq!(c["sub_code"], "ACQ.SYSTEM_ERROR");
        assert_eq!(c["retry_flag"], "Y");
    }
    control
        .fault(&FaultSpec::business_error(
            "alipay.trade.refund",
            "ACQ.SELLER_BALANCE_NOT_ENOUGH",
            "卖家余额不足",
        ))
        .await
        .unwrap();
    let r = app
        .call(
            "alipay.trade.refund",
            &json!({"out_trade_no":"F1","refund_amount":"1.00"}),
        )
        .await;
    assert_eq!(r["sub_code"], "ACQ.SELLER_BALANCE_NOT_ENOUGH");
    assert_eq!(r["sub_msg"], "卖家余额不足");

    // A dropped connection, before the change: nothing happened.
    control
        .fault(&FaultSpec::drop_connection("alipay.trade.pay"))
        .await
        .unwrap();
    let pay = json!({"out_trade_no":"F2","total_amount":"1.00","subject":"x","auth_code":"286123456789012345"});
    let params = app.params("alipay.trade.pay", Some(&pay.to_string()), &[], false);
    let form = app.form(&params);
    let err = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
    .await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(
        app.call("alipay.trade.query", &json!({"out_trade_no":"F2"}))
            .await["sub_code"],
        "ACQ.TRADE_NOT_EXIST"
    );

    // After the change: the refund happened but the answer is lost; the retry with the same
    // out_request_no must not refund twice.
    app.call("alipay.trade.pay", &pay).await;
    control
        .fault(&FaultSpec::unknown_error("alipay.trade.refund").after())
        .await
        .unwrap();
    let refund = json!({"out_trade_no":"F2","refund_amount":"0.40","out_request_no":"RQ1"});
    assert_eq!(
        app.call("alipay.trade.refund", &refund).await["code"],
        "20000"
    );
    let again = app.call("alipay.trade.refund", &refund).await;
    assert_eq!(again["fund_change"], "N");
    assert_eq!(again["refund_fee"], "0.40");

    // A delay.
    control
        .fault(&FaultSpec::delay(
            "alipay.trade.query",
            Duration::from_millis(300),
        ))
        .await
        .unwrap();
    let t0 = std::time::Instant::now();
    app.call("alipay.trade.query", &json!({"out_trade_no":"F2"}))
        .await;
    assert!(t0.elapsed() >= Duration::from_millis(300));

    let listed = control.call("GET", "faults", None).await.unwrap();
    assert_eq!(listed, json!([]));
    let bad = control
        .call(
            "POST",
            "faults",
            Some(&json!({"method":"x","kind":"explode"})),
        )
        .await
        .unwrap_err();
    assert!(
        bad.is_control() && bad.to_string().contains("explode"),
        "{bad}"
    );
}

#[tokio::test]
async fn page_pay_lands_on_the_cashier_and_returns_signed() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&[]).await;
    let biz = json!({"out_trade_no":"W1","total_amount":"66.00","subject":"网页支付","product_code":"FAST_INSTANT_TRADE_PAY"});
    let params = app.params(
        "alipay.trade.page.pay",
        Some(&biz.to_string()),
        &[
            ("return_url", "http://merchant.test/return?x=1"),
            ("notify_url", &hook.url()),
        ],
        false,
    );
    // As the Java SDK's form does: protocol parameters in the action URL, biz_content in the body.
    let (query, body): (Vec<_>, Vec<_>) = params.into_iter().partition(|(k, _)| k != "biz_content");
    let target = format!("/gateway.do?{}", app.form(&query));
    let r = http(
        emu.addr(),
        "POST",
        &target,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        app.form(&body).as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 302, "{}", r.text());
    let cashier = r.header("location").unwrap().to_owned();
    assert!(cashier.starts_with("/cashier/"));
    let page = http(emu.addr(), "GET", &cashier, &[], b"")
        .await
        .unwrap()
        .text();
    assert!(page.contains(r#"<button id="pay""#) && page.contains(r#"<button id="cancel""#));
    assert!(page.contains("网页支付") && page.contains("66.00"));

    let paid = http(emu.addr(), "POST", &format!("{cashier}/pay"), &[], b"")
        .await
        .unwrap();
    assert_eq!(paid.status, 302);
    let location = paid.header("location").unwrap();
    let (base, query) = location.split_once("?x=1&").unwrap();
    assert_eq!(base, "http://merchant.test/return");
    let fields = decode_form(query.as_bytes(), Charset::Utf8);
    assert_eq!(
        field(&fields, "method"),
        Some("alipay.trade.page.pay.return")
    );
    assert_eq!(field(&fields, "total_amount"), Some("66.00"));
    assert_eq!(field(&fields, "out_trade_no"), Some("W1"));
    let verifier = RsaVerifier::new(&alipay_public(emu.app())).unwrap();
    alipay_sign::verify_params(
        &verifier,
        fields,
        Rule::NotifyV1,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    hook.wait_for(1).await;

    // The GET variant, with a bad signature: Alipay's error page.
    let mut params = app.params(
        "alipay.trade.wap.pay",
        Some(&json!({"out_trade_no":"W2","total_amount":"1.00","subject":"x"}).to_string()),
        &[],
        false,
    );
    params.iter_mut().find(|(k, _)| k == "sign").unwrap().1 = "AAAA".into();
    let r = http(
        emu.addr(),
        "GET",
        &format!("/gateway.do?{}", app.form(&params)),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("alipay-emulator-error"),
        Some("isv.invalid-signature")
    );
    assert!(r.text().contains("isv.invalid-signature"));
    // Cancel on the cashier: nothing is paid.
    let params = app.params(
        "alipay.trade.wap.pay",
        Some(&json!({"out_trade_no":"W3","total_amount":"1.00","subject":"x"}).to_string()),
        &[],
        false,
    );
    let r = http(
        emu.addr(),
        "GET",
        &format!("/gateway.do?{}", app.form(&params)),
        &[],
        b"",
    )
    .await
    .unwrap();
    let cashier = r.header("location").unwrap().to_owned();
    let page = http(emu.addr(), "GET", &cashier, &[], b"")
        .await
        .unwrap()
        .text();
    assert!(
        page.contains("width=device-width"),
        "wap.pay gets a mobile layout"
    );
    let c = http(emu.addr(), "POST", &format!("{cashier}/cancel"), &[], b"")
        .await
        .unwrap();
    assert!(c.text().contains("您已取消支付"));
    assert_eq!(
        emu.control().trade("W3").await.unwrap()["trade_status"],
        "WAIT_BUYER_PAY"
    );
}

#[tokio::test]
async fn app_pay_order_strings() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let biz = json!({"out_trade_no":"AP1","total_amount":"3.00","subject":"App","product_code":"QUICK_MSECURITY_PAY"});
    let params = app.params("alipay.trade.app.pay", Some(&biz.to_string()), &[], false);
    let order = app.form(&params);
    // Not through the gateway.
    let node = app.verify("alipay.trade.app.pay", &app.post(&params).await);
    assert_eq!(node["sub_code"], "isv.invalid-method");
    let result = emu.control().app_pay(&order, true).await.unwrap();
    assert_eq!(result["resultStatus"], "9000");
    assert_eq!(result["trade"]["trade_status"], "TRADE_SUCCESS");
    let text = result["result"].as_str().unwrap();
    let parts = extract_response(text.as_bytes(), "alipay.trade.app.pay", Charset::Utf8).unwrap();
    parts.verify(&app.alipay, SignType::Rsa2).unwrap();
    let node: Value = serde_json::from_slice(parts.content).unwrap();
    assert_eq!(node["out_trade_no"], "AP1");
    assert_eq!(node["total_amount"], "3.00");
    // Submitted only, then paid by out_trade_no.
    let biz = json!({"out_trade_no":"AP2","total_amount":"3.00","subject":"App"});
    let order = app.form(&app.params("alipay.trade.app.pay", Some(&biz.to_string()), &[], false));
    let result = emu.control().app_pay(&order, false).await.unwrap();
    assert_eq!(result["resultStatus"], "6001");
    assert_eq!(result["trade"]["trade_status"], "WAIT_BUYER_PAY");
    emu.control().pay("AP2").await.unwrap();
    // A tampered order string.
    let tampered = order.replace("3.00", "0.01");
    let result = emu.control().app_pay(&tampered, true).await.unwrap();
    assert_eq!(result["resultStatus"], "4000");
    assert!(
        result["result"]
            .as_str()
            .unwrap()
            .contains("isv.invalid-signature")
    );
}

#[tokio::test]
async fn bills_from_the_trades_held() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    for (no, amount) in [("B1", "10.00"), ("B2", "5.50")] {
        app.call(
            "alipay.trade.pay",
            &json!({"out_trade_no": no, "total_amount": amount, "subject": "账单", "auth_code": "286123456789012345"}),
        )
        .await;
    }
    app.call(
        "alipay.trade.refund",
        &json!({"out_trade_no":"B1","refund_amount":"1.25","out_request_no":"BR1"}),
    )
    .await;
    let url = |date: &str| json!({"bill_type":"trade","bill_date":date});
    let today = app
        .call(
            "alipay.data.dataservice.bill.downloadurl.query",
            &url("2024-05-13"),
        )
        .await;
    assert_eq!(
        today["sub_code"], "isp.bill_not_exist",
        "no bill for the current day"
    );
    emu.advance(Duration::from_secs(14 * 3600)).await; // 2024-05-14 00:00
    let node = app
        .call(
            "alipay.data.dataservice.bill.downloadurl.query",
            &url("2024-05-13"),
        )
        .await;
    let link = node["bill_download_url"].as_str().unwrap().to_owned();
    let target = link.trim_start_matches(emu.base_url()).to_owned();
    let zip = http(emu.addr(), "GET", &target, &[], b"").await.unwrap();
    assert_eq!(zip.status, 200);
    let mut archive =
        alipay_bill::BillArchive::new(std::io::Cursor::new(zip.body.clone())).unwrap();
    let entries = archive.entries().to_vec();
    let account = format!("{}0156", emu.app().seller_id);
    assert_eq!(
        entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
        [
            format!("{account}_20240513_业务明细.csv"),
            format!("{account}_20240513_业务明细(汇总).csv")
        ]
    );
    let mut table = archive.open(&entries[0]).unwrap();
    let mut rows = Vec::new();
    while let Some(row) = table.read_row().unwrap() {
        if let alipay_bill::Row::Detail(d) = row {
            rows.push((
                d.out_trade_no,
                d.business_type.as_str().to_owned(),
                d.received.to_string(),
                d.refund_request_no,
            ));
        }
    }
    assert_eq!(
        rows,
        [
            (
                "B1".to_owned(),
                "交易".to_owned(),
                "10.00".to_owned(),
                String::new()
            ),
            (
                "B2".to_owned(),
                "交易".to_owned(),
                "5.50".to_owned(),
                String::new()
            ),
            (
                "B1".to_owned(),
                "退款".to_owned(),
                "-1.25".to_owned(),
                "BR1".to_owned()
            ),
        ]
    );
    assert!(table.check().is_ok(), "{}", table.check());
    assert_eq!(table.header().account.as_deref(), Some(account.as_str()));
    drop(table);
    // The URL expires after 30 s of emulator time.
    emu.advance(Duration::from_secs(31)).await;
    let expired = http(emu.addr(), "GET", &target, &[], b"").await.unwrap();
    assert_eq!(expired.status, 403);
    assert!(expired.text().contains("Request has expired"));
    // The account flow bill.
    let node = app
        .call(
            "alipay.data.dataservice.bill.downloadurl.query",
            &json!({"bill_type":"signcustomer","bill_date":"2024-05-13"}),
        )
        .await;
    let target = node["bill_download_url"]
        .as_str()
        .unwrap()
        .trim_start_matches(emu.base_url())
        .to_owned();
    let zip = http(emu.addr(), "GET", &target, &[], b"").await.unwrap();
    let mut archive = alipay_bill::BillArchive::new(std::io::Cursor::new(zip.body)).unwrap();
    let entries = archive.entries().to_vec();
    let mut table = archive.open(&entries[0]).unwrap();
    let mut balances = Vec::new();
    while let Some(row) = table.read_row().unwrap() {
        if let alipay_bill::Row::Account(a) = row {
            balances.push(a.balance.to_string());
        }
    }
    assert_eq!(balances, ["10.00", "15.50", "14.25"]);
    assert!(table.check().is_ok(), "{}", table.check());
    let bad = app
        .call(
            "alipay.data.dataservice.bill.downloadurl.query",
            &json!({"bill_type":"x","bill_date":"2024-05-13"}),
        )
        .await;
    assert_eq!(bad["sub_code"], "isv.invalid-parameter");
}

#[tokio::test]
async fn oauth_tokens_and_app_auth_tokens() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let code = emu.control().oauth_code(&app.app_id).await.unwrap();
    let params_with = |code: &str| {
        app.params(
            "alipay.system.oauth.token",
            None,
            &[("grant_type", "authorization_code"), ("code", code)],
            false,
        )
    };
    let resp = app.post(&params_with(code["code"].as_str().unwrap())).await;
    let node = app.verify("alipay.system.oauth.token", &resp);
    assert_eq!(node["user_id"], code["user_id"]);
    assert_eq!(node["expires_in"], "1296000");
    assert!(
        node["access_token"]
            .as_str()
            .unwrap()
            .starts_with("authusrB")
    );
    // A code works once; then error_response, signed.
    let resp = app.post(&params_with(code["code"].as_str().unwrap())).await;
    let parts = extract_response_node(&resp.body, "error_response", Charset::Utf8).unwrap();
    parts.verify(&app.alipay, SignType::Rsa2).unwrap();
    assert_eq!(
        parts.content,
        r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}"#.as_bytes()
    );
    // Refresh.
    let refresh = node["refresh_token"].as_str().unwrap();
    let p = app.params(
        "alipay.system.oauth.token",
        None,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        false,
    );
    let n2 = app.verify("alipay.system.oauth.token", &app.post(&p).await);
    assert_eq!(n2["user_id"], node["user_id"]);

    // An ISV acting for a merchant: trades belong to the merchant.
    let grant = emu.control().app_auth_token(&app.app_id).await.unwrap();
    let token = grant["app_auth_token"].as_str().unwrap();
    let (n, _) = app
        .call_with(
            "alipay.trade.precreate",
            &json!({"out_trade_no":"I1","total_amount":"1.00","subject":"x"}),
            &[("app_auth_token", token)],
            false,
        )
        .await;
    assert_eq!(n["code"], "10000");
    let t = emu.control().trade("I1").await.unwrap();
    assert_eq!(t["seller_id"], grant["user_id"]);
    assert_eq!(t["auth_app_id"], grant["auth_app_id"]);
    // Not visible to the ISV's own merchant.
    emu.control().scan("I1").await.unwrap();
    assert_eq!(
        app.call("alipay.trade.query", &json!({"out_trade_no":"I1"}))
            .await["sub_code"],
        "ACQ.TRADE_NOT_EXIST"
    );
    let (n, _) = app
        .call_with(
            "alipay.trade.query",
            &json!({"out_trade_no":"I1"}),
            &[("app_auth_token", token)],
            false,
        )
        .await;
    assert_eq!(n["trade_status"], "WAIT_BUYER_PAY");
    let (n, _) = app
        .call_with(
            "alipay.trade.query",
            &json!({"out_trade_no":"I1"}),
            &[("app_auth_token", "202bogus")],
            false,
        )
        .await;
    assert_eq!(n["code"], "20001");
    assert_eq!(n["sub_code"], "aop.invalid-app-auth-token");
}

#[tokio::test]
async fn a_restarted_emulator_continues_from_its_state_dir() {
    let dir = std::env::temp_dir().join(format!("alipay-emulator-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Emulator::builder().state_dir(&dir).start().await.unwrap();
    let creds = first.app().clone();
    let app = Caller::new(&first, &creds);
    app.call("alipay.trade.pay", &json!({"out_trade_no":"D1","total_amount":"8.00","subject":"x","auth_code":"286123456789012345"}))
        .await;
    first.shutdown().await.unwrap();

    let second = Emulator::builder().state_dir(&dir).start().await.unwrap();
    assert_eq!(second.app().app_id, creds.app_id);
    assert_eq!(
        second.app().alipay_public_key_pem,
        creds.alipay_public_key_pem
    );
    let app = Caller::new(&second, second.app());
    assert_eq!(app.trade_status("D1").await, "TRADE_SUCCESS");
    let r = app
        .call(
            "alipay.trade.refund",
            &json!({"out_trade_no":"D1","refund_amount":"8.00"}),
        )
        .await;
    assert_eq!(r["refund_fee"], "8.00");
    second.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn control_api_errors_and_state_forcing() {
    let emu = emulator().await;
    let control = emu.control();
    let err = control.pay("NOPE").await.unwrap_err();
    assert!(err.is_control());
    assert_eq!(
        err.to_string(),
        "no trade with out_trade_no or trade_no \"NOPE\""
    );
    let app = Caller::new(&emu, emu.app());
    let hook = Hook::start(&[]).await;
    app.call_with(
        "alipay.trade.create",
        &json!({"out_trade_no":"X1","total_amount":"1.00","subject":"x","buyer_id":"2088000000000001"}),
        &[("notify_url", &hook.url())],
        false,
    )
    .await;
    let forced = control.force_status("X1", "TRADE_FINISHED").await.unwrap();
    assert_eq!(forced["trade"]["trade_status"], "TRADE_FINISHED");
    let r = app
        .call(
            "alipay.trade.refund",
            &json!({"out_trade_no":"X1","refund_amount":"1.00"}),
        )
        .await;
    assert_eq!(r["sub_code"], "ACQ.TRADE_HAS_FINISHED");
    let got = hook.wait_for(1).await;
    assert_eq!(
        field(&decode_form(&got[0].1, Charset::Utf8), "trade_status"),
        Some("TRADE_FINISHED")
    );
    let bad = control
        .call("POST", "clock/advance", Some(&json!({})))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("seconds"));
    let status = control.call("GET", "status", None).await.unwrap();
    assert_eq!(status["gateway"], emu.gateway_url());
    assert_eq!(status["default_app"], emu.app().app_id);
    let clock = control.call("GET", "clock", None).await.unwrap();
    assert_eq!(clock["now"], "2024-05-13 10:00:00");
    assert_eq!(clock["time_scale"], "0");
    let reg = control
        .call("POST", "apps", Some(&json!({"mode":"cert","aes":true})))
        .await
        .unwrap();
    assert!(
        reg["app_private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    assert!(reg["app_cert_sn"].is_string() && reg["aes_key"].is_string());
    let list = control.call("GET", "apps", None).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list[0]["app_private_key"].is_null(), "never listed");
    let dash = http(emu.addr(), "GET", "/dashboard", &[], b"")
        .await
        .unwrap();
    assert!(dash.text().contains("X1"));
}

// ---------------------------------------------------------------------------------------------
// End to end through the `alipay` facade
// ---------------------------------------------------------------------------------------------

mod facade {
    use std::time::Duration;

    use alipay::model::trade::{
        CancelRequest, CloseRequest, FastpayRefundQueryRequest, PagePayRequest, PrecreateRequest,
        QueryRequest, RefundRequest,
    };
    use alipay::model::{Amount, TradeRef, TradeStatus};
    use alipay::{Client, Protocol, RequestOptions, RetryPolicy};
    use alipay_emulator::{AppCredentials, Emulator, FaultSpec, KeyMode};

    use super::{Hook, decode_form, field, http, start_time};

    fn client(emu: &Emulator, creds: &AppCredentials, protocol: Protocol) -> Client {
        let mut b = Client::builder()
            .app_id(creds.app_id.clone())
            .app_private_key(creds.app_private_key_pem.as_deref().unwrap().as_bytes())
            .gateway(&emu.gateway_url())
            .protocol(protocol)
            .retry_policy(
                RetryPolicy::new(3).backoff(Duration::from_millis(1), Duration::from_millis(5)),
            );
        b = match creds.mode {
            KeyMode::Certificate => b.certificates(
                creds.app_cert_pem.as_deref().unwrap(),
                creds.alipay_cert_pem.as_deref().unwrap(),
                creds.alipay_root_cert_pem.as_deref().unwrap(),
            ),
            _ => b.alipay_public_key(creds.alipay_public_key_pem.as_bytes()),
        };
        if let Some(k) = &creds.aes_key {
            b = b.aes_key(k);
        }
        b.build().unwrap()
    }

    async fn emulator(cert: bool, aes: bool) -> Emulator {
        Emulator::builder()
            .time_scale(0.0)
            .start_time(start_time())
            .cert_mode(cert)
            .aes(aes)
            .start()
            .await
            .unwrap()
    }

    /// Precreate, pay, query, refund part, query the refund, cancel and close other trades,
    /// fetch the bill: in both protocols, both key modes, with and without AES.
    #[tokio::test]
    async fn every_flow_in_both_protocols_and_key_modes() {
        for (cert, aes) in [(false, false), (true, false), (false, true), (true, true)] {
            let emu = emulator(cert, aes).await;
            for protocol in [Protocol::V2, Protocol::V3] {
                let c = client(&emu, emu.app(), protocol);
                let tag = format!("cert={cert} aes={aes} {protocol:?}");
                let no = format!("E{}{}{}", u8::from(cert), u8::from(aes), protocol.as_str());
                let r = c
                    .execute(&PrecreateRequest::new(
                        no.clone(),
                        Amount::from_fen(1234),
                        "Tea",
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert!(r.qr_code.unwrap().starts_with(emu.base_url()), "{tag}");
                emu.control().pay(&no).await.unwrap();
                let q = c
                    .execute(&QueryRequest::new(TradeRef::out_trade_no(no.clone())))
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert_eq!(q.trade_status, Some(TradeStatus::TradeSuccess), "{tag}");
                assert_eq!(q.total_amount, Some(Amount::from_fen(1234)), "{tag}");
                let refund =
                    RefundRequest::new(TradeRef::out_trade_no(no.clone()), Amount::from_fen(234))
                        .out_request_no("R1");
                let r = c
                    .execute(&refund)
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert_eq!(r.fund_change.as_deref(), Some("Y"), "{tag}");
                assert_eq!(r.refund_fee, Some(Amount::from_fen(234)), "{tag}");
                let rq = c
                    .execute(&FastpayRefundQueryRequest::new(
                        TradeRef::out_trade_no(no.clone()),
                        "R1",
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert_eq!(rq.refund_status.as_deref(), Some("REFUND_SUCCESS"), "{tag}");
                // A second, unpaid trade is closed; a third is cancelled.
                let second = format!("{no}b");
                c.execute(&PrecreateRequest::new(
                    second.clone(),
                    Amount::from_fen(100),
                    "x",
                ))
                .await
                .unwrap();
                emu.control().scan(&second).await.unwrap();
                c.execute(&CloseRequest::new(TradeRef::out_trade_no(second.clone())))
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                let err = c
                    .execute(&CloseRequest::new(TradeRef::out_trade_no(second.clone())))
                    .await
                    .unwrap_err();
                assert!(err.is_api(), "{tag}: {err}");
                let third = format!("{no}c");
                let cancelled = c
                    .execute(&CancelRequest::new(TradeRef::out_trade_no(third)))
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert_eq!(cancelled.retry_flag.as_deref(), Some("N"), "{tag}");
            }
            // The day's bill, next day.
            emu.advance(Duration::from_secs(14 * 3600)).await;
            let c = client(&emu, emu.app(), Protocol::V2);
            let url = c.bill_download_url("trade", "2024-05-13").await.unwrap();
            let zip = c.download(&url).await.unwrap();
            let mut archive =
                alipay_bill::BillArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
            let entries = archive.entries().to_vec();
            let mut table = archive.open(&entries[0]).unwrap();
            let mut n = 0;
            while table.read_row().unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 4, "two payments and two refunds");
            assert!(table.check().is_ok());
            emu.shutdown().await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_client_follows_an_alipay_certificate_rotation() {
        let emu = emulator(true, false).await;
        let c = client(&emu, emu.app(), Protocol::V2);
        c.execute(&PrecreateRequest::new("ROT1", Amount::from_fen(100), "x"))
            .await
            .unwrap();
        let before = c.known_alipay_cert_sns();
        let rotated = emu.control().rotate_alipay_cert().await.unwrap();
        let new_sn = rotated["alipay_cert_sn"].as_str().unwrap().to_owned();
        assert!(!before.contains(&new_sn));
        // The next answer names an unknown SN: the client downloads it, checks it against the
        // root and verifies with it.
        c.execute(&PrecreateRequest::new("ROT2", Amount::from_fen(100), "x"))
            .await
            .unwrap();
        assert!(c.known_alipay_cert_sns().contains(&new_sn));
    }

    #[tokio::test]
    async fn retries_neither_lose_nor_duplicate_a_refund() {
        let emu = emulator(false, false).await;
        let c = client(&emu, emu.app(), Protocol::V2);
        c.execute(&PrecreateRequest::new("RT1", Amount::from_fen(1000), "x"))
            .await
            .unwrap();
        emu.control().pay("RT1").await.unwrap();
        let control = emu.control();
        // The refund happens, the answer is 20000; then the connection drops after the next
        // attempt; the third attempt sees the refund already made (fund_change N).
        control
            .fault(&FaultSpec::unknown_error("alipay.trade.refund").after())
            .await
            .unwrap();
        control
            .fault(&FaultSpec::drop_connection("alipay.trade.refund").after())
            .await
            .unwrap();
        let refund = RefundRequest::new(TradeRef::out_trade_no("RT1"), Amount::from_fen(300))
            .out_request_no("RQ1");
        let r = c.execute(&refund).await.unwrap();
        assert_eq!(r.fund_change.as_deref(), Some("N"));
        assert_eq!(r.refund_fee, Some(Amount::from_fen(300)));
        let trade = control.trade("RT1").await.unwrap();
        assert_eq!(
            trade["refunds"].as_array().unwrap().len(),
            1,
            "refunded exactly once"
        );
        assert_eq!(trade["refund_fee"], "3.00");
        // Without out_request_no the client does not retry: the 20000 comes back.
        control
            .fault(&FaultSpec::unknown_error("alipay.trade.refund"))
            .await
            .unwrap();
        let err = c
            .execute(&RefundRequest::new(
                TradeRef::out_trade_no("RT1"),
                Amount::from_fen(100),
            ))
            .await
            .unwrap_err();
        assert!(
            err.is_api() && err.api().unwrap().is_unknown_outcome(),
            "{err}"
        );
        // Queries are retried through system errors.
        control
            .fault(&FaultSpec::system_error("alipay.trade.query").count(2))
            .await
            .unwrap();
        let q = c
            .execute(&QueryRequest::new(TradeRef::out_trade_no("RT1")))
            .await
            .unwrap();
        assert_eq!(q.trade_status, Some(TradeStatus::TradeSuccess));
    }

    #[tokio::test]
    async fn page_pay_forms_and_urls_land_on_the_cashier() {
        let emu = emulator(false, false).await;
        let c = client(&emu, emu.app(), Protocol::V2);
        let hook = Hook::start(&[]).await;
        let options = RequestOptions::new()
            .notify_url(hook.url())
            .return_url("http://merchant.test/return");
        let form = c
            .page_pay(
                &PagePayRequest::new("PP1", Amount::from_fen(5000), "网页"),
                &options,
            )
            .unwrap();
        // Submit the form as a browser would: the action URL and the hidden inputs.
        let action = form
            .split("action=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let target = action.trim_start_matches(emu.base_url()).to_owned();
        let mut body = Vec::new();
        for input in form.split("<input type=\"hidden\" name=\"").skip(1) {
            let (name, rest) = input.split_once("\" value=\"").unwrap();
            let value = rest
                .split('"')
                .next()
                .unwrap()
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            body.push(format!(
                "{}={}",
                form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>(),
                form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
            ));
        }
        let r = http(
            emu.addr(),
            "POST",
            &target,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.join("&").as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 302, "{}", r.text());
        let paid = emu.control().pay("PP1").await.unwrap();
        let back = paid["return_url"].as_str().unwrap();
        assert!(back.starts_with("http://merchant.test/return?"));
        let got = hook.wait_for(1).await;
        let fields = decode_form(&got[0].1, alipay_sign::Charset::Utf8);
        assert_eq!(field(&fields, "out_trade_no"), Some("PP1"));

        let url = c
            .page_pay_url(
                &PagePayRequest::new("PP2", Amount::from_fen(100), "x"),
                &RequestOptions::new(),
            )
            .unwrap();
        let r = http(
            emu.addr(),
            "GET",
            url.trim_start_matches(emu.base_url()),
            &[],
            b"",
        )
        .await
        .unwrap();
        assert_eq!(r.status, 302, "{}", r.text());
        assert_eq!(
            emu.control().trade("PP2").await.unwrap()["trade_status"],
            "WAIT_BUYER_PAY"
        );

        let order = c
            .app_pay(
                &alipay::model::trade::AppPayRequest::new("AP1", Amount::from_fen(300), "x"),
                &RequestOptions::new(),
            )
            .unwrap();
        let result = emu.control().app_pay(&order, true).await.unwrap();
        assert_eq!(result["resultStatus"], "9000", "{result}");
        let q = c
            .execute(&QueryRequest::new(TradeRef::out_trade_no("AP1")))
            .await
            .unwrap();
        assert_eq!(q.trade_status, Some(TradeStatus::TradeSuccess));
    }
}

// ---------------------------------------------------------------------------------------------
// The official Node SDK as a client (tests/interop/emulator_node.mjs)
// ---------------------------------------------------------------------------------------------

/// Runs `tests/interop/emulator_node.mjs` against a fresh emulator: the Node SDK's `exec` with
/// `validateSign`, `curl` (v3), `pageExec` GET and `checkNotifySign`, in both key modes. Without
/// the SDK (tests/interop/setup.sh) it prints that it was not run, unless `REQUIRE_INTEROP=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_interop_against_the_emulator() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let install = std::env::var_os("INTEROP_NODE_DIR").map_or_else(
        || repo.join(".cache").join("interop-node"),
        std::path::PathBuf::from,
    );
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let sdk_ok = install
        .join("node_modules/alipay-sdk/package.json")
        .is_file();
    if !node_ok || !sdk_ok {
        let msg = "emulator interop: Node or alipay-sdk not installed (run tests/interop/setup.sh); not run";
        assert!(
            std::env::var("REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{msg}"
        );
        crate::support::report(msg);
        return;
    }
    let emu = Emulator::builder().start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("alipay-emulator-node-{}", std::process::id()));
    let files = emu.app().write_files(&dir).unwrap();
    let config = json!({
        "gateway": emu.gateway_url(),
        "v3": emu.v3_url(),
        "control": emu.control_url(),
        "app_id": emu.app().app_id,
        "app_private_key": files.app_private_key.unwrap(),
        "alipay_public_key": files.alipay_public_key,
    });
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let script = repo.join("tests/interop/emulator_node.mjs");
    let mut command = std::process::Command::new("node");
    command.arg(script).arg(install).arg(&config_path);
    // Bounded: the script finishes in about a second.
    let output = tokio::task::spawn_blocking(move || {
        crate::support::run_bounded(command, "emulator_node.mjs", Duration::from_secs(120))
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    let names: Vec<&str> = result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "exec precreate (validateSign)",
        "exec query (validateSign)",
        "exec refund (validateSign)",
        "exec close (validateSign)",
        "curl v3 query (verified)",
        "pageExec GET URL accepted",
        "checkNotifySign TRADE_SUCCESS",
        "checkNotifySign TRADE_SUCCESS NR1",
        "certificate mode exec query (validateSign)",
        "certificate mode curl v3 query (alipay-sn checked)",
    ] {
        assert!(names.contains(&want), "missing check {want}: {names:?}");
    }
    crate::support::report(&format!(
        "emulator interop: {} Node SDK checks passed",
        names.len()
    ));
}

#[tokio::test]
async fn hostile_input_gets_an_answer_not_a_crash() {
    let emu = emulator().await;
    let app = Caller::new(&emu, emu.app());
    let form = "application/x-www-form-urlencoded";
    // Bytes that are not UTF-8 in a UTF-8 request.
    let body = format!(
        "app_id={}&method=alipay.trade.query&charset=utf-8&sign_type=RSA2&biz_content=%FF%FE",
        app.app_id
    );
    let r = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", form)],
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        app.verify("alipay.trade.query", &r)["sub_code"],
        "isv.invalid-charset"
    );
    // An unknown charset.
    let body = format!(
        "app_id={}&method=alipay.trade.query&charset=latin1",
        app.app_id
    );
    let r = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", form)],
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert!(r.text().contains("isv.invalid-charset"), "{}", r.text());
    // Broken escapes, empty pairs, a body with no '='.
    let r = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", form)],
        b"%zz&&=&method",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"error_response":{"code":"40001","msg":"Missing Required Arguments","sub_code":"isv.missing-method","sub_msg":"缺少方法名参数"}}"#
    );
    // biz_content that is not a JSON object, and odd timeouts.
    for biz in [
        "[1,2]",
        "{",
        "\"x\"",
        r#"{"out_trade_no":"H1","total_amount":"1","subject":"x","timeout_express":"1中"}"#,
    ] {
        let p = app.params("alipay.trade.precreate", Some(biz), &[], false);
        let node = app.verify("alipay.trade.precreate", &app.post(&p).await);
        assert_eq!(node["sub_code"], "ACQ.INVALID_PARAMETER", "{biz}");
    }
    // Too large a body.
    let big = vec![b'a'; 5 * 1024 * 1024];
    let r = http(
        emu.addr(),
        "POST",
        "/gateway.do",
        &[("Content-Type", form)],
        &big,
    )
    .await;
    assert!(r.map_or(true, |r| r.status == 413));
    // Unknown paths and control routes.
    let r = http(emu.addr(), "GET", "/nowhere", &[], b"").await.unwrap();
    assert_eq!(r.status, 404);
    let r = http(emu.addr(), "DELETE", "/control/trades", &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let r = http(
        emu.addr(),
        "POST",
        "/control/faults",
        &[("Content-Type", "application/json")],
        b"{not json",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    let r = http(
        emu.addr(),
        "GET",
        "/v3/alipay/trade/query",
        &[("Authorization", "ALIPAY-SHA256withRSA garbage")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404, "GET is not a route for query");
    let r = http(
        emu.addr(),
        "POST",
        "/v3/alipay/trade/query",
        &[("Authorization", "ALIPAY-SHA256withRSA garbage")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    // Still serving.
    assert_eq!(
        app.call("alipay.trade.query", &json!({"out_trade_no":"H1"}))
            .await["sub_code"],
        "ACQ.TRADE_NOT_EXIST"
    );
}
