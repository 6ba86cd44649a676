//! Black-box tests of the payment commands (`page-pay`, `app-pay`, `call`, `bill download`) and
//! of `notify verify`, against an `alipay-emulator` started in the test on 127.0.0.1: its
//! credentials are written to a temporary folder, a client config TOML points at it, and the
//! `alipay` binary is driven as a user would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // a test binary: a failed unwrap is a failed test

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use alipay_emulator::{AppCredentials, Emulator, EmulatorBuilder};
use alipay_notify::{NotifyBuilder, NotifyRule};
use alipay_sign::{Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, Rule, SignType};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Harness

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {:?}", self.stdout))
    }
}

fn alipay_in(dir: Option<&Path>, args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_alipay"));
    cmd.args(args)
        .env("RUST_BACKTRACE", "full")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().expect("the alipay binary runs");
    {
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("stack backtrace"),
        "{args:?} panicked: {}",
        run.stderr
    );
    if run.code != 0 {
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{args:?}: one line on stderr: {:?}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with("error: ") || run.code == 1,
            "{}",
            run.stderr
        );
    }
    run
}

fn alipay(args: &[&str], stdin: &[u8]) -> Run {
    alipay_in(None, args, stdin)
}

/// Exit 0 with nothing on stderr; the stdout.
#[track_caller]
fn ok(args: &[&str], stdin: &[u8]) -> String {
    let run = alipay(args, stdin);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    run.stdout
}

/// Exit `code`, nothing on stdout, one line on stderr containing `needle`.
#[track_caller]
fn fails_with(code: i32, args: &[&str], stdin: &[u8], needle: &str) {
    let run = alipay(args, stdin);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (code, ""),
        "{args:?}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "{args:?}: {:?} lacks {needle:?}",
        run.stderr
    );
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alipay-sign/tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// An emulator on a runtime of the test, its credential files, and client configs for it.
struct Gateway {
    emulator: Option<Emulator>,
    rt: tokio::runtime::Runtime,
    app: AppCredentials,
    dir: PathBuf,
}

impl Gateway {
    fn start(name: &str, configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let builder = Emulator::builder()
            .host("127.0.0.1".parse().unwrap())
            .time_scale(0.0);
        let emulator = rt.block_on(configure(builder).start()).unwrap();
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("alipay-cli-payments-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let app = emulator.app().clone();
        app.write_files(&dir).unwrap();
        Gateway {
            emulator: Some(emulator),
            rt,
            app,
            dir,
        }
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Writes a config: the emulator's app and gateway in public-key mode, then `extra` lines
    /// (which may replace a key: the first occurrence of a key wins, so `extra` goes first).
    fn config(&self, name: &str, extra: &str) -> String {
        let mut text = String::from(extra);
        let set = |text: &mut String, key: &str, value: &str| {
            if !text.lines().any(|l| l.starts_with(&format!("{key} "))) {
                text.push_str(&format!("{key} = '{value}'\n"));
            }
        };
        set(&mut text, "app_id", &self.app.app_id);
        set(&mut text, "private_key", "app_private_key.pem");
        if !text.contains("app_cert") {
            set(&mut text, "alipay_public_key", "alipay_public_key.pem");
        }
        set(&mut text, "gateway", &self.emulator().gateway_url());
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn cert_config(&self, name: &str, extra: &str) -> String {
        self.config(
            name,
            &format!(
                "{extra}app_cert = 'app_cert.crt'\nalipay_cert = 'alipay_cert.crt'\nalipay_root_cert = 'alipay_root_cert.crt'\n"
            ),
        )
    }

    fn pay(&self, out_trade_no: &str) -> Value {
        self.rt
            .block_on(self.emulator().control().pay(out_trade_no))
            .unwrap()
    }

    /// The emulator's notification log entries for `out_trade_no` (bounded wait).
    fn notification(&self, out_trade_no: &str) -> Value {
        for _ in 0..100 {
            let log = self
                .rt
                .block_on(self.emulator().control().notifications())
                .unwrap();
            if let Some(n) = log
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["out_trade_no"] == out_trade_no)
            {
                return n.clone();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no notification for {out_trade_no} within 5 s");
    }

    fn app_verifier(&self) -> RsaVerifier {
        RsaVerifier::new(
            &PublicKey::from_pem_or_der(self.app.app_public_key_pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            let _ = self.rt.block_on(emulator.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One HTTP/1.1 exchange with the emulator: (status, headers, body).
fn http(method: &str, url: &str, content_type: Option<&str>, body: &[u8]) -> (u16, String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    assert!(host.starts_with("127.0.0.1:"), "{url}");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .expect("a Location header")
}

/// `application/x-www-form-urlencoded` pairs, decoded (UTF-8).
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------------------------
// page-pay, app-pay

const PAGE_BIZ: &str = r#"{"out_trade_no":"PAGE1","total_amount":"88.88","subject":"Coffee <beans> 'dark'","product_code":"FAST_INSTANT_TRADE_PAY"}"#;

#[test]
fn page_pay_form_and_url() {
    let gw = Gateway::start("page", |b| b);
    let config = gw.config("client.toml", "");
    let gateway = gw.emulator().gateway_url();
    let app_id = gw.app.app_id.clone();

    // The form, with a pinned timestamp: its exact structure, and a signature that verifies
    // with the app public key over every parameter.
    let html = ok(
        &[
            "page-pay",
            "--config",
            &config,
            "--timestamp",
            "2024-05-13 17:49:20",
            "--notify-url",
            "http://127.0.0.1:9/notify",
            "--return-url",
            "http://127.0.0.1:9/return?a=1&b=2",
        ],
        PAGE_BIZ.as_bytes(),
    );
    let sign_at = html.find("&amp;sign=").unwrap() + "&amp;sign=".len();
    let sign_end = sign_at + html[sign_at..].find('"').unwrap();
    let sign = &html[sign_at..sign_end];
    let expected = format!(
        "<form name=\"punchout_form\" method=\"post\" action=\"{gateway}?app_id={app_id}&amp;method=alipay.trade.page.pay&amp;charset=utf-8&amp;sign_type=RSA2&amp;timestamp=2024-05-13+17%3A49%3A20&amp;version=1.0&amp;notify_url=http%3A%2F%2F127.0.0.1%3A9%2Fnotify&amp;return_url=http%3A%2F%2F127.0.0.1%3A9%2Freturn%3Fa%3D1%26b%3D2&amp;sign={sign}\">\n\
<input type=\"hidden\" name=\"biz_content\" value=\"{{&quot;out_trade_no&quot;:&quot;PAGE1&quot;,&quot;total_amount&quot;:&quot;88.88&quot;,&quot;subject&quot;:&quot;Coffee &lt;beans&gt; &#39;dark&#39;&quot;,&quot;product_code&quot;:&quot;FAST_INSTANT_TRADE_PAY&quot;}}\">\n\
<input type=\"submit\" value=\"立即支付\" style=\"display:none\" >\n</form>\n<script>document.forms[0].submit();</script>\n"
    );
    assert_eq!(html, expected);
    let action = html_unescape(&html[html.find('?').unwrap() + 1..sign_end]);
    let mut params = form_pairs(&action);
    params.push(("biz_content".into(), PAGE_BIZ.into()));
    let content = alipay_sign::verify_params(
        &gw.app_verifier(),
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    assert!(content.starts_with(&format!("app_id={app_id}&biz_content={PAGE_BIZ}&charset=utf-8&method=alipay.trade.page.pay&notify_url=http://127.0.0.1:9/notify&return_url=http://127.0.0.1:9/return?a=1&b=2&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0")), "{content}");

    // The form as a browser submits it (current time): the emulator answers with its cashier.
    let html = ok(
        &[
            "page-pay",
            "--config",
            &config,
            "--return-url",
            "http://127.0.0.1:9/return",
        ],
        PAGE_BIZ.as_bytes(),
    );
    let action =
        html_unescape(&html[html.find("action=\"").unwrap() + 8..html.find("\">\n").unwrap()]);
    let biz_at = html.find("name=\"biz_content\" value=\"").unwrap() + 26;
    let biz = html_unescape(&html[biz_at..biz_at + html[biz_at..].find('"').unwrap()]);
    let body = format!(
        "biz_content={}",
        percent_encoding::utf8_percent_encode(&biz, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, head, answer) = http(
        "POST",
        &action,
        Some("application/x-www-form-urlencoded"),
        body.as_bytes(),
    );
    assert_eq!(status, 302, "{head}{answer}");
    let cashier = location(&head);
    assert!(cashier.starts_with("/cashier/"), "{cashier}");
    let (status, _, page) = http(
        "GET",
        &format!("{}{cashier}", gw.emulator().base_url()),
        None,
        b"",
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("<dd id=\"subject\">Coffee &lt;beans&gt; "),
        "{page}"
    );
    assert!(
        page.contains("<div class=\"amount\" id=\"amount\">¥88.88</div>"),
        "{page}"
    );
    assert!(page.contains("<button id=\"pay\""), "{page}");
    assert!(page.contains("<button id=\"cancel\""), "{page}");

    // --wap --get: one line, the URL, every parameter sorted with sign last; the emulator's
    // cashier takes it as a GET.
    let wap_biz = r#"{"out_trade_no":"WAP1","total_amount":"1.50","subject":"Tea","product_code":"QUICK_WAP_WAY"}"#;
    let url = ok(
        &["page-pay", "--config", &config, "--wap", "--get"],
        wap_biz.as_bytes(),
    );
    assert!(url.ends_with('\n') && url.lines().count() == 1, "{url:?}");
    let url = url.trim_end();
    let prefix = format!(
        "{gateway}?app_id={app_id}&biz_content=%7B%22out_trade_no%22%3A%22WAP1%22%2C%22total_amount%22%3A%221.50%22%2C%22subject%22%3A%22Tea%22%2C%22product_code%22%3A%22QUICK_WAP_WAY%22%7D&charset=utf-8&method=alipay.trade.wap.pay&sign_type=RSA2&timestamp="
    );
    assert!(url.starts_with(&prefix), "{url}");
    let query = form_pairs(url.split_once('?').unwrap().1);
    let keys: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "app_id",
            "biz_content",
            "charset",
            "method",
            "sign_type",
            "timestamp",
            "version",
            "sign"
        ]
    );
    alipay_sign::verify_params(
        &gw.app_verifier(),
        query.clone(),
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    let (status, head, _) = http("GET", url, None, b"");
    assert_eq!(status, 302, "{head}");
    let (status, _, page) = http(
        "GET",
        &format!("{}{}", gw.emulator().base_url(), location(&head)),
        None,
        b"",
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("<dd id=\"subject\">Tea</dd>") && page.contains("¥1.50"),
        "{page}"
    );

    // Unusable input: exit 2, one line naming what was expected.
    fails_with(
        2,
        &["page-pay", "--config", &config],
        b"[1]",
        "stdin is a JSON array; expected a biz_content JSON object",
    );
    fails_with(
        2,
        &["page-pay", "--config", &config],
        b"{",
        "stdin is not JSON",
    );
    fails_with(
        2,
        &[
            "page-pay",
            "--config",
            &config,
            "--timestamp",
            "2024-05-13T17:49:20",
        ],
        PAGE_BIZ.as_bytes(),
        "--timestamp: \"2024-05-13T17:49:20\" is not a timestamp of the form yyyy-MM-dd HH:mm:ss (UTC+8)",
    );
}

#[test]
fn app_pay_order_string() {
    let gw = Gateway::start("app", |b| b);
    let config = gw.config("client.toml", "");
    let app_id = gw.app.app_id.clone();
    let biz = r#"{"out_trade_no":"APP1","total_amount":"9.99","subject":"奶茶 + 🍵","product_code":"QUICK_MSECURITY_PAY"}"#;
    let out = ok(
        &[
            "app-pay",
            "--config",
            &config,
            "--timestamp",
            "2024-05-13 17:49:20",
            "--notify-url",
            "http://127.0.0.1:9/n",
        ],
        biz.as_bytes(),
    );
    let line = out.strip_suffix('\n').unwrap();
    let (head, sign) = line.rsplit_once("&sign=").unwrap();
    assert_eq!(
        head,
        format!(
            "app_id={app_id}&biz_content=%7B%22out_trade_no%22%3A%22APP1%22%2C%22total_amount%22%3A%229.99%22%2C%22subject%22%3A%22%E5%A5%B6%E8%8C%B6+%2B+%F0%9F%8D%B5%22%2C%22product_code%22%3A%22QUICK_MSECURITY_PAY%22%7D&charset=utf-8&method=alipay.trade.app.pay&notify_url=http%3A%2F%2F127.0.0.1%3A9%2Fn&sign_type=RSA2&timestamp=2024-05-13+17%3A49%3A20&version=1.0"
        )
    );
    assert!(!sign.contains('&'));
    // alipay-sign verifies it with the app public key.
    let pairs = form_pairs(line);
    assert_eq!(pairs[1], ("biz_content".to_owned(), biz.to_owned()));
    let content = alipay_sign::verify_params(
        &gw.app_verifier(),
        pairs,
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    assert_eq!(
        content,
        format!(
            "app_id={app_id}&biz_content={biz}&charset=utf-8&method=alipay.trade.app.pay&notify_url=http://127.0.0.1:9/n&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"
        )
    );

    // The emulator's Alipay app takes a fresh order string and pays it; the trade is then
    // TRADE_SUCCESS.
    let out = ok(&["app-pay", "--config", &config], biz.as_bytes());
    let paid = gw
        .rt
        .block_on(gw.emulator().control().app_pay(out.trim_end(), true))
        .unwrap();
    assert_eq!(paid["resultStatus"], "9000", "{paid}");
    assert_eq!(paid["trade"]["trade_status"], "TRADE_SUCCESS", "{paid}");
    assert_eq!(paid["trade"]["subject"], "奶茶 + 🍵", "{paid}");
    let q = ok(
        &["call", "alipay.trade.query", "--config", &config],
        br#"{"out_trade_no":"APP1"}"#,
    );
    let q: Value = serde_json::from_str(&q).unwrap();
    assert_eq!(
        (q["trade_status"].as_str(), q["total_amount"].as_str()),
        (Some("TRADE_SUCCESS"), Some("9.99"))
    );
}

// ---------------------------------------------------------------------------------------------
// call

#[test]
fn call_v2_and_v3() {
    let gw = Gateway::start("call", |b| b);
    let config = gw.config("client.toml", "");
    let base = gw.emulator().base_url().to_owned();

    let out = ok(
        &["call", "alipay.trade.precreate", "--config", &config],
        br#"{"out_trade_no":"C1","total_amount":"12.30","subject":"Cake"}"#,
    );
    let node: Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = node
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "msg", "out_trade_no", "qr_code"]);
    assert_eq!(
        (
            node["code"].as_str(),
            node["msg"].as_str(),
            node["out_trade_no"].as_str()
        ),
        (Some("10000"), Some("Success"), Some("C1"))
    );
    assert!(
        node["qr_code"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/qr/")),
        "{node}"
    );
    assert!(out.ends_with("}\n") && out.lines().count() == 1);

    gw.pay("C1");
    let out = ok(
        &["call", "alipay.trade.query", "--config", &config],
        br#"{"out_trade_no":"C1"}"#,
    );
    let node: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(node["trade_status"], "TRADE_SUCCESS", "{node}");
    assert_eq!(node["total_amount"], "12.30");

    // A business failure: exit 1, the API error as JSON on stdout, the message on stderr.
    let run = alipay(
        &["call", "alipay.trade.query", "--config", &config],
        br#"{"out_trade_no":"NOPE"}"#,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\"code\":\"40004\",\"msg\":\"Business Failed\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\",\"sub_msg\":\"交易不存在\"}\n"
    );
    assert_eq!(
        run.stderr,
        "Alipay returned an error: 40004 Business Failed: ACQ.TRADE_NOT_EXIST (交易不存在)\n"
    );

    // v3: POST /v3/alipay/trade/query with the body; the answer verified from its headers.
    let out = ok(
        &["call", "alipay.trade.query", "--config", &config, "--v3"],
        br#"{"out_trade_no":"C1"}"#,
    );
    let node: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            node["out_trade_no"].as_str(),
            node["trade_status"].as_str(),
            node["total_amount"].as_str()
        ),
        (Some("C1"), Some("TRADE_SUCCESS"), Some("12.30")),
        "{node}"
    );
    assert!(node.get("code").is_none(), "{node}");
    let run = alipay(
        &["call", "alipay.trade.query", "--config", &config, "--v3"],
        br#"{"out_trade_no":"NOPE"}"#,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\"code\":\"ACQ.TRADE_NOT_EXIST\",\"message\":\"交易不存在\",\"http_status\":400}\n"
    );
    assert!(
        run.stderr
            .starts_with("Alipay returned an error: HTTP 400 ACQ.TRADE_NOT_EXIST 交易不存在"),
        "{}",
        run.stderr
    );
    // v3 GET, asked for with --http-method or taken from the operation's generated route: the
    // JSON object becomes the query string.
    for http_method in [&["--http-method", "GET"][..], &[]] {
        let mut args = vec![
            "call",
            "alipay.data.dataservice.bill.downloadurl.query",
            "--config",
            &config,
            "--v3",
        ];
        args.extend_from_slice(http_method);
        let out = ok(&args, br#"{"bill_type":"trade","bill_date":"2024-05"}"#);
        let node: Value = serde_json::from_str(&out).unwrap();
        assert!(
            node["bill_download_url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/downloadBillFile.resource?bizType=trade&")),
            "{http_method:?}: {node}"
        );
    }
    fails_with(
        2,
        &[
            "call",
            "alipay.data.dataservice.bill.downloadurl.query",
            "--config",
            &config,
            "--v3",
            "--notify-url",
            "http://127.0.0.1:9/n",
        ],
        br#"{"bill_type":"trade","bill_date":"2024-05"}"#,
        "--notify-url needs a request body; a v3 GET or DELETE has none",
    );
    // --notify-url over v3: a notify_url field in the body; the payment's notification goes
    // there.
    let out = ok(
        &[
            "call",
            "alipay.trade.precreate",
            "--config",
            &config,
            "--v3",
            "--notify-url",
            "http://127.0.0.1:9/v3-notify",
        ],
        br#"{"out_trade_no":"C3","total_amount":"1.00","subject":"v3"}"#,
    );
    assert!(out.contains("\"out_trade_no\":\"C3\""), "{out}");
    gw.pay("C3");
    assert_eq!(gw.notification("C3")["url"], "http://127.0.0.1:9/v3-notify");
    // protocol = "v3" in the config makes v3 the default.
    let v3_config = gw.config("client-v3.toml", "protocol = 'v3'\n");
    let out = ok(
        &["call", "alipay.trade.query", "--config", &v3_config],
        br#"{"out_trade_no":"C1"}"#,
    );
    assert!(!out.contains("\"code\""), "{out}");
    assert!(out.contains("\"trade_status\":\"TRADE_SUCCESS\""), "{out}");

    // Usage and config errors: exit 2.
    let missing = gw.path("missing.toml");
    let bad = gw.config("bad.toml", "sign_type = 'MD5'\n");
    let unknown = gw.config("unknown.toml", "alipay_key = 'x'\n");
    let both = gw.config(
        "both.toml",
        "alipay_public_key = 'alipay_public_key.pem'\napp_cert = 'app_private_key.pem'\n",
    );
    for (config, extra, stdin, needle) in [
        (
            &config,
            &[][..],
            &b"\"x\""[..],
            "stdin is a JSON string; expected the biz_content as a JSON object (or null for none)",
        ),
        (
            &config,
            &["--http-method", "GET"],
            b"{}",
            "--http-method applies to v3 calls",
        ),
        (
            &missing,
            &[],
            b"{}",
            "--config: cannot read the client config",
        ),
        (&bad, &[], b"{}", "sign_type:"),
        (&unknown, &[], b"{}", "unknown field `alipay_key`"),
        (
            &both,
            &[],
            b"{}",
            "sets both alipay_public_key and certificates",
        ),
    ] {
        let mut args = vec!["call", "alipay.trade.query", "--config", config];
        args.extend_from_slice(extra);
        fails_with(2, &args, stdin, needle);
    }
    fails_with(2, &["call", "alipay.trade.query"], b"{}", "--config <FILE>");
}

#[test]
fn call_untrusted_and_transport_failures_exit_3() {
    let gw = Gateway::start("untrusted", |b| b);
    // The config's Alipay key is another key: the emulator's signature does not verify.
    let wrong = gw.config(
        "wrong.toml",
        &format!("alipay_public_key = '{}'\n", data("alipay_public.pem")),
    );
    fails_with(
        3,
        &["call", "alipay.trade.query", "--config", &wrong],
        br#"{"out_trade_no":"X"}"#,
        "error: the answer cannot be trusted: the signature of the alipay.trade.query response does not verify",
    );
    fails_with(
        3,
        &["call", "alipay.trade.query", "--config", &wrong, "--v3"],
        br#"{"out_trade_no":"X"}"#,
        "error: the answer cannot be trusted: the signature of the v3 response to alipay.trade.query does not verify",
    );
    fails_with(
        3,
        &[
            "bill",
            "download",
            "--config",
            &wrong,
            "--type",
            "trade",
            "--date",
            "2024-05-13",
            "--out",
            &gw.path("never.zip"),
        ],
        b"",
        "cannot be trusted",
    );
    assert!(!Path::new(&gw.path("never.zip")).exists());

    // Nothing listens: a transport failure, exit 3.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let down = gw.config(
        "down.toml",
        &format!("gateway = 'http://{closed}/gateway.do'\n"),
    );
    fails_with(
        3,
        &["call", "alipay.trade.precreate", "--config", &down],
        br#"{"out_trade_no":"X","total_amount":"1.00","subject":"x"}"#,
        &format!("cannot connect for POST http://{closed}/gateway.do"),
    );
}

#[test]
fn call_with_aes() {
    let gw = Gateway::start("aes", |b| b.aes(true));
    let key = gw.app.aes_key.as_deref().unwrap().to_owned();
    let config = gw.config("client.toml", &format!("encrypt_key = '{key}'\n"));
    let out = ok(
        &["call", "alipay.trade.precreate", "--config", &config],
        r#"{"out_trade_no":"E1","total_amount":"3.00","subject":"加密"}"#.as_bytes(),
    );
    let node: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (node["code"].as_str(), node["out_trade_no"].as_str()),
        (Some("10000"), Some("E1")),
        "{node}"
    );
    gw.pay("E1");
    let out = ok(
        &["call", "alipay.trade.query", "--config", &config, "--v3"],
        br#"{"out_trade_no":"E1"}"#,
    );
    let node: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(node["trade_status"], "TRADE_SUCCESS", "{node}");
    // Another AES key: the gateway cannot decrypt what we sent (so it was encrypted).
    let other = gw.config("other.toml", "encrypt_key = 'aYA0GP8JEW+D7/UFaskCWA=='\n");
    let run = alipay(
        &["call", "alipay.trade.query", "--config", &other],
        br#"{"out_trade_no":"E1"}"#,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\"code\":\"40003\",\"msg\":\"Insufficient Conditions\",\"sub_code\":\"isv.decryption-error-unknown\",\"sub_msg\":\"解密出错, 未知错误\"}\n"
    );
    // A key that is not base64 AES: a config error.
    let broken = gw.config("broken.toml", "encrypt_key = 'not a key'\n");
    fails_with(
        2,
        &["call", "alipay.trade.query", "--config", &broken],
        b"{}",
        "the AES key is unusable",
    );
}

#[test]
fn call_in_cert_mode_with_rotation() {
    let gw = Gateway::start("cert", |b| b.cert_mode(true));
    let config = gw.cert_config("client.toml", "");
    let out = ok(
        &[
            "call",
            "alipay.trade.precreate",
            "--config",
            &config,
            "--notify-url",
            "http://127.0.0.1:9/notify",
        ],
        br#"{"out_trade_no":"K1","total_amount":"5.00","subject":"cert"}"#,
    );
    assert!(
        out.starts_with("{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"K1\""),
        "{out}"
    );
    // The emulator issues a new Alipay certificate: the client downloads it, checks it against
    // the root, and verifies with it.
    let rotated = gw
        .rt
        .block_on(gw.emulator().control().rotate_alipay_cert())
        .unwrap();
    assert_ne!(
        rotated["alipay_cert_sn"],
        rotated["previous_alipay_cert_sn"]
    );
    gw.pay("K1");
    let out = ok(
        &["call", "alipay.trade.query", "--config", &config],
        br#"{"out_trade_no":"K1"}"#,
    );
    assert!(out.contains("\"trade_status\":\"TRADE_SUCCESS\""), "{out}");
    let out = ok(
        &["call", "alipay.trade.query", "--config", &config, "--v3"],
        br#"{"out_trade_no":"K1"}"#,
    );
    assert!(out.contains("\"trade_status\":\"TRADE_SUCCESS\""), "{out}");

    // The notification of that payment is signed with the current (rotated) certificate's key
    // and, as the emulator sends it, carries no alipay_cert_sn: the first --alipay-cert checks
    // it.
    let n = gw.notification("K1");
    let body = n["body"].as_str().unwrap().as_bytes();
    assert!(n["params"].get("alipay_cert_sn").is_none(), "{n}");
    let fresh = gw.dir.join("rotated_alipay_cert.crt");
    std::fs::write(&fresh, rotated["alipay_cert"].as_str().unwrap()).unwrap();
    let fresh = fresh.to_string_lossy().into_owned();
    let old = gw.path("alipay_cert.crt");
    for certs in [vec![fresh.as_str()], vec![fresh.as_str(), old.as_str()]] {
        let mut args = vec!["notify", "verify"];
        for c in &certs {
            args.extend(["--alipay-cert", c]);
        }
        let run = alipay(&args, body);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
        let out = run.json();
        assert_eq!(
            (out["verified"].as_bool(), out["rule"].as_str()),
            (Some(true), Some("v1"))
        );
        assert_eq!(out["params"]["out_trade_no"], "K1");
        assert_eq!(&out["params"], &n["params"]);
    }
    // The certificate from before the rotation holds the old key: not verified.
    let run = alipay(&["notify", "verify", "--alipay-cert", &old], body);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["verified"], false);
}

// ---------------------------------------------------------------------------------------------
// bill download

#[test]
fn bill_download_then_parse() {
    let gw = Gateway::start("bill", |b| b);
    let config = gw.config("client.toml", "");
    let out_path = gw.path("trade-2024-05-13.zip");
    let out = ok(
        &[
            "bill",
            "download",
            "--config",
            &config,
            "--type",
            "trade",
            "--date",
            "2024-05-13",
            "--out",
            &out_path,
        ],
        b"",
    );
    let size = std::fs::metadata(&out_path).unwrap().len();
    assert_eq!(
        out,
        format!(
            "{{\"path\":\"{out_path}\",\"bytes\":{size},\"bill_type\":\"trade\",\"bill_date\":\"2024-05-13\"}}\n"
        )
    );
    let zip = std::fs::read(&out_path).unwrap();
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert!(!Path::new(&format!("{out_path}.part")).exists());
    // The saved file is a bill whose rows add up to its footers.
    let run = alipay(&["bill", "parse", "--check", &out_path], b"");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let last: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["table"], "footer");
    assert!(run.stdout.contains("\"entry\":\""), "{}", run.stdout);

    // A month of the account-flow bill, saved under the default name in the current folder.
    let run = alipay_in(
        Some(&gw.dir),
        &[
            "bill",
            "download",
            "--config",
            &config,
            "--type",
            "signcustomer",
            "--date",
            "2024-04",
        ],
        b"",
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let saved = gw.dir.join("alipay_bill_signcustomer_2024-04.zip");
    assert_eq!(run.json()["path"], "alipay_bill_signcustomer_2024-04.zip");
    assert_eq!(
        run.json()["bytes"],
        std::fs::metadata(&saved).unwrap().len()
    );
    let run = alipay(&["bill", "parse", "--check", &saved.to_string_lossy()], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);

    // A bill that does not exist yet: the API error, exit 1.
    let run = alipay(
        &[
            "bill",
            "download",
            "--config",
            &config,
            "--type",
            "trade",
            "--date",
            "2099-01-01",
            "--out",
            &gw.path("future.zip"),
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\"code\":\"40004\",\"msg\":\"Business Failed\",\"sub_code\":\"isp.bill_not_exist\",\"sub_msg\":\"账单不存在\"}\n"
    );
    assert!(!Path::new(&gw.path("future.zip")).exists());
    // Usage errors: exit 2.
    let bad_dir = gw.path("no/such/dir/x.zip");
    for (args, needle) in [
        (
            &["--type", "trade", "--date", "2024-13-01"][..],
            "--date is \"2024-13-01\"; expected a day yyyy-MM-dd or a month yyyy-MM",
        ),
        (
            &["--type", "fund", "--date", "2024-05"],
            "invalid value 'fund'",
        ),
        (
            &["--type", "trade", "--date", "2024-05-13", "--out", &bad_dir],
            "--out: cannot create",
        ),
    ] {
        let mut all = vec!["bill", "download", "--config", &config];
        all.extend_from_slice(args);
        fails_with(2, &all, b"", needle);
    }
}

// ---------------------------------------------------------------------------------------------
// notify verify

fn alipay_signer() -> RsaSigner {
    let pem = std::fs::read(data("alipay_private_pkcs1.pem")).unwrap();
    RsaSigner::new(&PrivateKey::from_pem_or_der(&pem).unwrap()).unwrap()
}

fn trade_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2024051300222102023008121054923345"),
        ("notify_time", "2024-05-13 17:49:25"),
        ("app_id", "2021000000000001"),
        ("out_trade_no", "T20240513001"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.88"),
        ("subject", "咖啡 100% & more=好 + 😀"),
        (
            "fund_bill_list",
            r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
    ]
}

/// The exact output for a verified (or not) notification.
fn notify_output(
    verified: bool,
    rule: &str,
    content: &str,
    body: &[u8],
    charset: Option<Charset>,
) -> String {
    let form = alipay_notify::Form::parse(body, None).unwrap();
    if let Some(c) = charset {
        assert_eq!(form.charset(), c);
    }
    let mut params = serde_json::Map::new();
    for (k, v) in form.iter() {
        params.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    format!(
        "{}\n",
        json!({"verified": verified, "rule": rule, "content": content, "params": params})
    )
}

#[test]
fn notify_verify_bodies_from_notify_builder() {
    let key = data("alipay_public.pem");
    let signer = alipay_signer();
    for charset in [Charset::Utf8, Charset::Gbk, Charset::Gb18030] {
        let fields: Vec<(&str, &str)> = trade_fields()
            .into_iter()
            // GBK has no emoji: GB18030 and UTF-8 do.
            .map(|(k, v)| if charset == Charset::Gbk && k == "subject" { (k, "咖啡 100% & more=好 +") } else { (k, v) })
            .collect();
        let builder = NotifyBuilder::new(charset).fields(fields);
        let body = builder
            .sign(&signer, NotifyRule::V1, SignType::Rsa2)
            .unwrap();
        let v1 = builder.content(NotifyRule::V1, SignType::Rsa2, true);
        let v2 = builder.content(NotifyRule::V2, SignType::Rsa2, true);
        let expected = notify_output(true, "v1", &v1, &body, Some(charset));
        for rule in ["auto", "v1"] {
            let run = alipay(
                &["notify", "verify", "--public-key", &key, "--rule", rule],
                &body,
            );
            assert_eq!(
                (run.code, run.stdout.as_str(), run.stderr.as_str()),
                (0, expected.as_str(), ""),
                "{charset:?} {rule}"
            );
        }
        // The charset named only by the Content-Type header, when the body has none.
        if charset != Charset::Utf8 {
            let header = format!(
                "application/x-www-form-urlencoded; charset={}",
                charset.as_str()
            );
            let run = alipay(
                &[
                    "notify",
                    "verify",
                    "--public-key",
                    &key,
                    "--content-type",
                    &header,
                ],
                &body,
            );
            assert_eq!(run.code, 0, "{}", run.stderr);
        }
        // Rule v2 keeps sign_type, which this notification did not sign: not verified.
        let run = alipay(
            &["notify", "verify", "--public-key", &key, "--rule", "v2"],
            &body,
        );
        assert_eq!(
            (run.code, run.stdout),
            (1, notify_output(false, "v2", &v2, &body, None)),
            "{charset:?}"
        );
        assert!(
            run.stderr
                .starts_with("not verified (rule v2): invalid signature"),
            "{}",
            run.stderr
        );
        // A changed amount: not verified, whatever the rule.
        let text =
            String::from_utf8_lossy(&body).replace("total_amount=88.88", "total_amount=0.01");
        let run = alipay(&["notify", "verify", "--public-key", &key], text.as_bytes());
        assert_eq!(run.code, 1, "{charset:?}");
        assert_eq!(run.json()["verified"], false);
        assert!(
            run.stderr
                .starts_with("not verified (neither rule v1 nor v2): invalid signature"),
            "{}",
            run.stderr
        );
    }

    // A gateway message signed under rule v2: auto finds it by msg_method, and without any hint
    // by trying v1 first and then v2.
    for fields in [
        vec![
            ("msg_method", "alipay.trade.refund.depositback.completed"),
            ("app_id", "2021000000000001"),
            ("biz_content", r#"{"dback_status":"S"}"#),
        ],
        vec![
            ("app_id", "2021000000000001"),
            ("biz_content", r#"{"x":"y"}"#),
        ],
    ] {
        let builder = NotifyBuilder::new(Charset::Utf8).fields(fields);
        let body = builder
            .sign(&signer, NotifyRule::V2, SignType::Rsa2)
            .unwrap();
        let v2 = builder.content(NotifyRule::V2, SignType::Rsa2, true);
        let expected = notify_output(true, "v2", &v2, &body, None);
        for rule in ["auto", "v2"] {
            let run = alipay(
                &["notify", "verify", "--public-key", &key, "--rule", rule],
                &body,
            );
            assert_eq!(
                (run.code, run.stdout.as_str()),
                (0, expected.as_str()),
                "{rule}: {}",
                run.stderr
            );
        }
        let run = alipay(
            &["notify", "verify", "--public-key", &key, "--rule", "v1"],
            &body,
        );
        assert_eq!(run.code, 1);
    }

    // Legacy sign_type=RSA (SHA1withRSA).
    let builder = NotifyBuilder::new(Charset::Utf8).fields(trade_fields());
    let body = builder
        .sign(&signer, NotifyRule::V1, SignType::Rsa)
        .unwrap();
    {
        let run = alipay(&["notify", "verify", "--public-key", &key], &body);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json()["params"]["sign_type"], "RSA");
    }
}

#[test]
fn notify_verify_cert_mode() {
    let chain = data("alipay_cert_chain.crt");
    let other = data("app_cert.crt");
    let sn = alipay_sign::cert_sn(&std::fs::read(&chain).unwrap()).unwrap();
    let signer = alipay_signer();
    let builder = NotifyBuilder::new(Charset::Gbk)
        .fields(trade_fields().into_iter().filter(|(k, _)| *k != "subject"))
        .field("subject", "中文")
        .field("alipay_cert_sn", sn.clone());
    let body = builder
        .sign(&signer, NotifyRule::V1, SignType::Rsa2)
        .unwrap();
    let content = builder.content(NotifyRule::V1, SignType::Rsa2, true);
    assert!(content.contains(&format!("alipay_cert_sn={sn}")));
    let expected = notify_output(true, "v1", &content, &body, Some(Charset::Gbk));
    // The SN picks the certificate, whichever order they are given in.
    for args in [
        vec!["notify", "verify", "--alipay-cert", chain.as_str()],
        vec![
            "notify",
            "verify",
            "--alipay-cert",
            other.as_str(),
            "--alipay-cert",
            chain.as_str(),
        ],
    ] {
        let run = alipay(&args, &body);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, expected.as_str(), ""),
            "{args:?}"
        );
    }
    // Signed without alipay_cert_sn in the content (the smartwalle reading): still verified,
    // and the content reported is the one that verified.
    let body2 = builder
        .sign_with(&signer, NotifyRule::V1, SignType::Rsa2, false)
        .unwrap();
    let run = alipay(&["notify", "verify", "--alipay-cert", &chain], &body2);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["content"],
        builder.content(NotifyRule::V1, SignType::Rsa2, false)
    );
    // An SN none of the given certificates has: not verified (exit 1), the SN named.
    let run = alipay(&["notify", "verify", "--alipay-cert", &other], &body);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        notify_output(false, "v1", &content, &body, None)
    );
    assert!(
        run.stderr
            .contains(&format!("alipay_cert_sn {sn} names no certificate")),
        "{}",
        run.stderr
    );
    // Not a certificate: exit 2.
    fails_with(
        2,
        &[
            "notify",
            "verify",
            "--alipay-cert",
            &data("alipay_public.pem"),
        ],
        &body,
        "--alipay-cert",
    );
}

#[test]
fn notify_verify_emulator_notification_and_garbage() {
    let gw = Gateway::start("notify", |b| b);
    let config = gw.config("client.toml", "");
    ok(
        &[
            "call",
            "alipay.trade.precreate",
            "--config",
            &config,
            "--notify-url",
            "http://127.0.0.1:9/notify",
        ],
        r#"{"out_trade_no":"N1","total_amount":"7.70","subject":"通知"}"#.as_bytes(),
    );
    gw.pay("N1");
    let n = gw.notification("N1");
    let body = n["body"].as_str().unwrap();
    let key = gw.path("alipay_public_key.pem");
    let run = alipay(
        &[
            "notify",
            "verify",
            "--public-key",
            &key,
            "--content-type",
            n["content_type"]
                .as_str()
                .unwrap_or("application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json();
    assert_eq!(out["rule"], "v1");
    assert_eq!(out["params"]["out_trade_no"], "N1");
    assert_eq!(out["params"]["subject"], "通知");
    assert_eq!(&out["params"], &n["params"]);
    // Another key: not verified.
    let run = alipay(
        &[
            "notify",
            "verify",
            "--public-key",
            &data("alipay_public.pem"),
        ],
        body.as_bytes(),
    );
    assert_eq!(run.code, 1);

    // Garbage: exit 2, nothing on stdout.
    let args = ["notify", "verify", "--public-key", key.as_str()];
    fails_with(2, &args, b"\x00\x01\x02garbage", "has no `=`");
    fails_with(2, &args, b"%%%", "broken percent-escape");
    fails_with(2, &args, b"{\"notify_id\":\"1\"}", "the body is JSON");
    fails_with(2, &args, b"a=1&a=1&sign=x", "appears twice");
    fails_with(2, &args, b"charset=big5&a=1", "unsupported charset `big5`");
    fails_with(2, &args, b"charset=gbk&a=%FF", "is not valid GBK");
    fails_with(2, &args, b"", "stdin is empty");
    fails_with(
        2,
        &[
            "notify",
            "verify",
            "--public-key",
            &key,
            "--content-type",
            "multipart/form-data; boundary=x",
        ],
        body.as_bytes(),
        "--content-type",
    );
    fails_with(2, &["notify", "verify"], body.as_bytes(), "--public-key");
}
