//! The emulator's cashier in a real browser: Debian's headless Chromium, driven over the W3C
//! WebDriver protocol (a small HTTP/1.1 client on a `TcpStream`, talking to `chromedriver`),
//! goes through a checkout the way a buyer does:
//!
//! merchant page (the auto-submitting form from `Client::page_pay`, served by a merchant
//! server in this test) → the emulator's cashier → Pay → `return_url` on the merchant server,
//! which verifies the signed synchronous parameters with alipay-sign (rule V1) and queries the
//! trade through the facade → the page shows the verified result. Also: Cancel, a tampered
//! return, the wap layout, and the dashboard refreshing by itself.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `CHROMIUM` / `CHROMEDRIVER`)
//! it prints "browser test not run: chromium not installed", unless `REQUIRE_BROWSER=1`.
//! `UPDATE_SCREENSHOTS=1` writes the screenshots shown in docs/emulator.md to docs/img/.
//! 127.0.0.1 only; every wait is bounded.

// Test-only code: clippy's allow-*-in-tests settings apply to the whole module.
#![cfg(test)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alipay::model::trade::{
    PagePayRequest, PrecreateRequest, QueryRequest, RefundRequest, WapPayRequest,
};
use alipay::model::{Amount, TradeRef};
use alipay::{Client, RequestOptions};
use alipay_emulator::{AppSpec, Emulator};
use alipay_sign::{Charset, PublicKey, RsaVerifier, Rule, SignType, verify_params};
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::support::report;

/// Set to `1` to make a missing Chromium a failure (CI).
const REQUIRE_BROWSER_ENV: &str = "REQUIRE_BROWSER";
/// Set to `1` to write the screenshots to docs/img/.
const UPDATE_SCREENSHOTS_ENV: &str = "UPDATE_SCREENSHOTS";
/// The longest any single wait (page load, element, process start) may take.
const WAIT: Duration = Duration::from_secs(60);
/// The W3C element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The flags the machine notes give for headless Chromium as root on a closed network.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--hide-scrollbars",
    "--lang=zh-CN",
];

fn start_time() -> SystemTime {
    // 2024-05-13 10:00:00 UTC+8.
    UNIX_EPOCH + Duration::from_secs(1_715_565_600)
}

fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `(chromium, chromedriver)` when both are installed.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let pick = |env: &str, default: &str| {
        let p = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
        p.is_file().then_some(p)
    };
    Some((
        pick("CHROMIUM", "/usr/bin/chromium")?,
        pick("CHROMEDRIVER", "/usr/bin/chromedriver")?,
    ))
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client (one request per connection) for WebDriver's JSON
// ---------------------------------------------------------------------------------------------

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line without CRLF")?;
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|e| e.to_string())?;
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|e| format!("bad chunk size {size_hex:?}: {e}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            return Err("a chunk is cut short".into());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// Sends one request with `Connection: close` and reads the whole answer: `(status, body)`.
async fn http_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Vec<u8>), String> {
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if body.is_some() {
        let _ = write!(
            head,
            "Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n",
            payload.len()
        );
    }
    head.push_str("\r\n");
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(payload.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        // chromedriver keeps the connection open despite `Connection: close`: the body ends
        // by Content-Length (or the last chunk), not by EOF.
        let mut raw = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if let Some(answer) = complete_answer(&raw)? {
                return Ok(answer);
            }
            let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return complete_answer(&raw)?.map_or_else(
                    || Err(format!("connection closed after {} bytes", raw.len())),
                    Ok,
                );
            }
            raw.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(WAIT * 2, Box::pin(exchange))
        .await
        .map_err(|_| format!("{method} {path}: no answer within {:?}", WAIT * 2))?
        .map_err(|e| format!("{method} {path}: {e}"))
}

/// `(status, body)` once `raw` holds a whole HTTP/1.1 answer; `None` while more is needed.
fn complete_answer(raw: &[u8]) -> Result<Option<(u16, Vec<u8>)>, String> {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let body = &raw[split + 4..];
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        if !body.ends_with(b"0\r\n\r\n") {
            return Ok(None);
        }
        return Ok(Some((status, dechunk(body)?)));
    }
    let len = match header("content-length") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|e| format!("bad Content-Length {v:?}: {e}"))?,
        None => 0,
    };
    if body.len() < len {
        return Ok(None);
    }
    Ok(Some((status, body[..len].to_vec())))
}

// ---------------------------------------------------------------------------------------------
// WebDriver
// ---------------------------------------------------------------------------------------------

/// A running chromedriver with one Chromium session. Dropping it ends the session's processes
/// (the chromedriver child, which takes its Chromium with it) and removes the profile folder.
struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    profile: PathBuf,
    log: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver leads its own process group, which its Chromium processes join: end
        // the group (all started by this test), then the driver itself.
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.driver.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let profile =
            std::env::temp_dir().join(format!("alipay-browser-test-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(profile.join("user-data")).unwrap();
        let log = profile.join("chromedriver.log");
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            profile,
            log,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok((200, body)) = http_call(addr, "GET", "/status", None).await {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within {WAIT:?}\n{}",
                browser.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser.profile.join("user-data").display()
        ));
        args.push("--window-size=1000,720".to_owned());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args},
        }}});
        let session = browser.command("POST", "/session", Some(&caps)).await;
        browser.session = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {session}"))
            .to_owned();
        browser
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// A WebDriver command; panics with the driver's error and log on failure.
    async fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        match self.try_command(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("WebDriver {method} {path}: {e}\n{}", self.log_tail()),
        }
    }

    /// A WebDriver command: `value` of the answer, or the error.
    async fn try_command(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let (status, raw) = http_call(self.addr, method, path, body).await?;
        let v: Value = serde_json::from_slice(&raw).map_err(|e| {
            format!(
                "HTTP {status}, not JSON ({e}): {}",
                String::from_utf8_lossy(&raw)
            )
        })?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "HTTP {status}: {} {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    async fn goto(&self, url: &str) {
        self.command(
            "POST",
            &self.session_path("/url"),
            Some(&json!({"url": url})),
        )
        .await;
    }

    async fn current_url(&self) -> String {
        self.command("GET", &self.session_path("/url"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            &self.session_path("/window/rect"),
            Some(&json!({"width": width, "height": height})),
        )
        .await;
    }

    async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .try_command(
                "POST",
                &self.session_path("/element"),
                Some(&json!({"using": "css selector", "value": css})),
            )
            .await?;
        v[ELEMENT_KEY]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element reference in {v}"))
    }

    async fn text_of(&self, css: &str) -> Result<String, String> {
        let id = self.find(css).await?;
        let v = self
            .try_command(
                "GET",
                &self.session_path(&format!("/element/{id}/text")),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Waits (bounded) until `css` exists on the current page; returns its text.
    async fn wait_text(&self, css: &str) -> String {
        self.wait_until(css, |_| true).await
    }

    /// Waits (bounded) until the text of `css` satisfies `ok`; returns it.
    async fn wait_until(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = self.text_of(css).await;
            if let Ok(text) = &last
                && ok(text)
            {
                return text.clone();
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await;
                let page = self
                    .text_of("body")
                    .await
                    .unwrap_or_else(|e| format!("(no body: {e})"));
                panic!("waited {WAIT:?} for {css} at {url}; last: {last:?}; page text:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        // The element may not be there yet right after a navigation.
        self.wait_text(css).await;
        let id = self.find(css).await.unwrap();
        self.command(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            Some(&json!({})),
        )
        .await;
    }

    /// A PNG of the viewport.
    async fn screenshot(&self) -> Vec<u8> {
        let v = self
            .command("GET", &self.session_path("/screenshot"), None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        png
    }

    async fn quit(&self) {
        let _ = self
            .try_command("DELETE", &self.session_path(""), None)
            .await;
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Keeps a screenshot: in docs/img/ with `UPDATE_SCREENSHOTS=1`, else in the target folder's
/// `tmp/browser-screenshots`.
fn keep_screenshot(name: &str, png: &[u8]) -> PathBuf {
    let dir = if std::env::var(UPDATE_SCREENSHOTS_ENV).as_deref() == Ok("1") {
        repo_root().join("docs").join("img")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// The merchant's web site
// ---------------------------------------------------------------------------------------------

/// A notification the merchant received: `(out_trade_no, trade_status, verified)`.
type Notified = Arc<Mutex<Vec<(String, String, bool)>>>;

/// The merchant's site: `/checkout/<order>` (the auto-submitting form), `/return` (verifies
/// the synchronous parameters and queries the trade), `/notify` (verifies and answers
/// `success`).
struct Merchant {
    addr: SocketAddr,
    pages: Arc<Mutex<HashMap<String, String>>>,
    notified: Notified,
}

struct Site {
    client: Client,
    verifier: RsaVerifier,
    pages: Arc<Mutex<HashMap<String, String>>>,
    notified: Notified,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn merchant_page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
<body style=\"font-family:sans-serif;margin:40px\">{content}</body></html>",
        escape(title)
    )
}

fn page_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Verifies the signed parameters of a synchronous return (rule V1) with the Alipay public key.
fn verify_return(verifier: &RsaVerifier, params: &[(String, String)]) -> Result<(), String> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sign_type: SignType = get("sign_type")
        .unwrap_or("RSA2")
        .parse()
        .map_err(|e| format!("sign_type: {e}"))?;
    let charset =
        Charset::from_label(get("charset").unwrap_or("utf-8")).map_err(|e| e.to_string())?;
    verify_params(
        verifier,
        params.iter().cloned(),
        Rule::NotifyV1,
        sign_type,
        charset,
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

impl Site {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        if let Some(order) = path.strip_prefix("/checkout/") {
            let form = self.pages.lock().unwrap().get(order).cloned();
            return match form {
                Some(form) => page_response(
                    StatusCode::OK,
                    merchant_page(
                        "Tea House checkout",
                        &format!("<p id=\"checkout\">Redirecting to Alipay…</p>{form}"),
                    ),
                ),
                None => page_response(StatusCode::NOT_FOUND, merchant_page("?", "no such order")),
            };
        }
        if path == "/notify" {
            let body = req
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            let params: Vec<(String, String)> = form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let get = |k: &str| {
                params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let verified = verify_return(&self.verifier, &params).is_ok();
            self.notified.lock().unwrap().push((
                get("out_trade_no"),
                get("trade_status"),
                verified,
            ));
            return page_response(StatusCode::OK, "success".to_owned());
        }
        if path == "/return" {
            return self.return_page(&query).await;
        }
        page_response(StatusCode::NOT_FOUND, merchant_page("?", "not found"))
    }

    /// The page the buyer comes back to: the verified result, and the trade as queried.
    async fn return_page(&self, query: &str) -> Response<Full<Bytes>> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        let order = get("out_trade_no").to_owned();
        let (result, reason) = if get("sign").is_empty() {
            (
                "Not paid".to_owned(),
                "no signed parameters came back".to_owned(),
            )
        } else {
            match verify_return(&self.verifier, &params) {
                Ok(()) => ("Payment verified".to_owned(), String::new()),
                Err(e) => ("Signature invalid".to_owned(), e),
            }
        };
        // A merchant trusts the query, not the browser: ask Alipay (the emulator).
        let status = if order.is_empty() {
            String::new()
        } else {
            match self
                .client
                .execute(&QueryRequest::new(TradeRef::out_trade_no(order.clone())))
                .await
            {
                Ok(q) => q.trade_status.map(|s| s.to_string()).unwrap_or_default(),
                Err(e) => format!("query failed: {e}"),
            }
        };
        let content = format!(
            "<h1 id=\"result\">{}</h1><p id=\"reason\">{}</p><dl>\
<dt>out_trade_no</dt><dd id=\"out_trade_no\">{}</dd>\
<dt>total_amount</dt><dd id=\"total_amount\">{}</dd>\
<dt>trade_no</dt><dd id=\"trade_no\">{}</dd>\
<dt>method</dt><dd id=\"method\">{}</dd>\
<dt>trade_status (alipay.trade.query)</dt><dd id=\"trade_status\">{}</dd></dl>",
            escape(&result),
            escape(&reason),
            escape(&order),
            escape(get("total_amount")),
            escape(get("trade_no")),
            escape(get("method")),
            escape(&status),
        );
        page_response(StatusCode::OK, merchant_page("Tea House", &content))
    }
}

impl Merchant {
    async fn start(client: Client, alipay_public_key_pem: &str) -> Merchant {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pages = Arc::new(Mutex::new(HashMap::new()));
        let notified: Notified = Arc::new(Mutex::new(Vec::new()));
        let key = PublicKey::from_pem_or_der(alipay_public_key_pem.as_bytes()).unwrap();
        let site = Arc::new(Site {
            client,
            verifier: RsaVerifier::new(&key).unwrap(),
            pages: Arc::clone(&pages),
            notified: Arc::clone(&notified),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let site = Arc::clone(&site);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let site = Arc::clone(&site);
                        async move { Ok::<_, std::convert::Infallible>(site.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Merchant {
            addr,
            pages,
            notified,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn add_checkout(&self, order: &str, form: String) -> String {
        self.pages.lock().unwrap().insert(order.to_owned(), form);
        self.url(&format!("/checkout/{order}"))
    }

    /// Waits (bounded) until the merchant has received `n` notifications.
    async fn wait_notified(&self, n: usize) -> Vec<(String, String, bool)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self.notified.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{n} notifications expected, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

async fn tea_house() -> (Emulator, Client) {
    let emu = Emulator::builder()
        .time_scale(0.0)
        .start_time(start_time())
        .app(
            AppSpec::new()
                .app_id("2021004100000001")
                .name("Tea House 茶馆"),
        )
        .start()
        .await
        .unwrap();
    let app = emu.app();
    let client = Client::builder()
        .app_id(app.app_id.clone())
        .app_private_key(app.app_private_key_pem.as_deref().unwrap().as_bytes())
        .alipay_public_key(app.alipay_public_key_pem.as_bytes())
        .gateway(&emu.gateway_url())
        .build()
        .unwrap();
    (emu, client)
}

/// The dashboard over plain HTTP (runs with or without Chromium): the trade, its refund and its
/// notification, the reload interval and its switch.
#[tokio::test]
async fn the_dashboard_lists_trades_refunds_and_notifications() {
    let (emu, client) = tea_house().await;
    client
        .execute(&PrecreateRequest::new(
            "D1",
            Amount::from_fen(1999),
            "Oolong <b>",
        ))
        .await
        .unwrap();
    emu.control().pay("D1").await.unwrap();
    client
        .execute(
            &RefundRequest::new(TradeRef::out_trade_no("D1"), Amount::from_fen(500))
                .out_request_no("D1R1"),
        )
        .await
        .unwrap();
    let get = |path: &'static str| {
        let addr = emu.addr();
        async move {
            let (status, body) = http_call(addr, "GET", path, None).await.unwrap();
            assert_eq!(status, 200);
            String::from_utf8(body).unwrap()
        }
    };
    let page = get("/dashboard").await;
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"2\">"));
    assert!(page.contains("<b id=\"count-trades\">1</b>"), "{page}");
    assert!(page.contains("<b id=\"sum-paid\">¥19.99</b>"), "{page}");
    assert!(page.contains("<b id=\"count-refunds\">1</b>"), "{page}");
    assert!(page.contains("<b id=\"sum-refunded\">¥5.00</b>"), "{page}");
    assert!(
        page.contains("<td>Oolong &lt;b&gt;</td>"),
        "escaped: {page}"
    );
    assert!(
        page.contains("<td>D1</td><td>D1R1</td><td class=\"num\">5.00</td>"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"badge TRADE_SUCCESS\">TRADE_SUCCESS</span>"),
        "{page}"
    );
    let quiet = get("/dashboard?refresh=0").await;
    assert!(!quiet.contains("http-equiv=\"refresh\""));
    assert!(quiet.contains("<span id=\"refresh\">auto-refresh off</span>"));
    assert_eq!(get("/").await.len(), page.len(), "/ is the dashboard");
}

/// What the browser steps share.
struct Checkout {
    emu: Emulator,
    client: Client,
    merchant: Merchant,
    options: RequestOptions,
    browser: Browser,
}

/// The whole checkout in headless Chromium: pay, a tampered return, cancel, wap, dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_pays_and_cancels_in_headless_chromium() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        let msg = "browser test not run: chromium not installed";
        assert!(
            std::env::var(REQUIRE_BROWSER_ENV).as_deref() != Ok("1"),
            "{msg} ({REQUIRE_BROWSER_ENV}=1 requires it)"
        );
        report(msg);
        return;
    };
    // Each step is boxed: one future for the whole test overflows a debug build's stack.
    let (emu, client) = Box::pin(tea_house()).await;
    let merchant = Box::pin(Merchant::start(
        client.clone(),
        &emu.app().alipay_public_key_pem,
    ))
    .await;
    let options = RequestOptions::new()
        .notify_url(merchant.url("/notify"))
        .return_url(merchant.url("/return"));
    let browser = Box::pin(Browser::start(&chromium, &chromedriver)).await;
    let c = Checkout {
        emu,
        client,
        merchant,
        options,
        browser,
    };
    Box::pin(pay(&c)).await;
    Box::pin(tampered_return(&c)).await;
    Box::pin(cancel(&c)).await;
    Box::pin(wap(&c)).await;
    let saved = Box::pin(dashboard(&c)).await;
    report(&format!(
        "browser test: pay, tampered return, cancel, wap and dashboard checked in {}; screenshots in {}",
        chromium.display(),
        saved.parent().unwrap_or(&saved).display()
    ));
    Box::pin(c.browser.quit()).await;
    let Checkout { emu, browser, .. } = c;
    drop(browser);
    emu.shutdown().await.unwrap();
}

/// Merchant page → auto-submitted form → cashier → Pay → the verified return page.
async fn pay(c: &Checkout) {
    let (browser, merchant) = (&c.browser, &c.merchant);
    let form = c
        .client
        .page_pay(
            &PagePayRequest::new("B1001", Amount::from_fen(8888), "绿茶 Green tea × 2"),
            &c.options,
        )
        .unwrap();
    browser.goto(&merchant.add_checkout("B1001", form)).await;
    assert_eq!(browser.wait_text("#amount").await, "¥88.88");
    assert!(
        browser
            .current_url()
            .await
            .starts_with(&format!("{}/cashier/", c.emu.base_url())),
        "the form landed on the emulator's cashier"
    );
    assert_eq!(
        browser.text_of("#merchant").await.unwrap(),
        "Tea House 茶馆"
    );
    assert_eq!(
        browser.text_of("#subject").await.unwrap(),
        "绿茶 Green tea × 2"
    );
    assert_eq!(browser.text_of("#out-trade-no").await.unwrap(), "B1001");
    assert_eq!(browser.text_of("#pay").await.unwrap(), "确认付款");
    assert_eq!(browser.text_of("#cancel").await.unwrap(), "取消");
    assert!(
        browser.find("main.mobile").await.is_err(),
        "page.pay is the desktop layout"
    );
    let png = browser.screenshot().await;
    assert_eq!(png_size(&png).0, 1000, "the window width");
    keep_screenshot("emulator-cashier.png", &png);
    let trade_no = browser.text_of("#trade-no").await.unwrap();

    browser.click("#pay").await;
    assert_eq!(browser.wait_text("#result").await, "Payment verified");
    assert!(
        browser
            .current_url()
            .await
            .starts_with(&merchant.url("/return?")),
        "back on the merchant's return_url"
    );
    assert_eq!(browser.text_of("#reason").await.unwrap(), "");
    assert_eq!(browser.text_of("#out_trade_no").await.unwrap(), "B1001");
    assert_eq!(browser.text_of("#total_amount").await.unwrap(), "88.88");
    assert_eq!(browser.text_of("#trade_no").await.unwrap(), trade_no);
    assert_eq!(
        browser.text_of("#method").await.unwrap(),
        "alipay.trade.page.pay.return"
    );
    assert_eq!(
        browser.text_of("#trade_status").await.unwrap(),
        "TRADE_SUCCESS"
    );
    let notified = merchant.wait_notified(1).await;
    assert_eq!(
        notified[0],
        ("B1001".to_owned(), "TRADE_SUCCESS".to_owned(), true),
        "the notification arrived and verified"
    );
}

/// The same return URL with the amount changed: the merchant's signature check catches it.
async fn tampered_return(c: &Checkout) {
    let browser = &c.browser;
    let returned = browser.current_url().await;
    assert!(returned.contains("total_amount=88.88"), "{returned}");
    browser
        .goto(&returned.replace("total_amount=88.88", "total_amount=0.01"))
        .await;
    assert_eq!(browser.wait_text("#result").await, "Signature invalid");
    assert_eq!(browser.text_of("#total_amount").await.unwrap(), "0.01");
}

/// The cashier of a second order → Cancel → back to the merchant, not paid.
async fn cancel(c: &Checkout) {
    let browser = &c.browser;
    let form = c
        .client
        .page_pay(
            &PagePayRequest::new("B1002", Amount::from_fen(1200), "乌龙茶 Oolong"),
            &c.options,
        )
        .unwrap();
    browser.goto(&c.merchant.add_checkout("B1002", form)).await;
    assert_eq!(browser.wait_text("#amount").await, "¥12.00");
    browser.click("#cancel").await;
    assert_eq!(browser.wait_text("#status").await, "您已取消支付");
    assert!(
        browser.find("#pay").await.is_err(),
        "no Pay button any more"
    );
    browser.click("#back").await;
    assert_eq!(browser.wait_text("#result").await, "Not paid");
    assert_eq!(
        browser.text_of("#reason").await.unwrap(),
        "no signed parameters came back"
    );
    let trade = c.emu.control().trade("B1002").await.unwrap();
    assert_eq!(
        trade["trade_status"], "WAIT_BUYER_PAY",
        "cancelling pays nothing"
    );
    // Reopening the cashier does not offer the payment again.
    browser.goto(trade["cashier_url"].as_str().unwrap()).await;
    assert_eq!(
        browser.wait_text("#status").await,
        "您已取消支付，订单将在超时后关闭。"
    );
}

/// wap.pay: the mobile layout in a phone-sized window, then Pay.
async fn wap(c: &Checkout) {
    let browser = &c.browser;
    browser.resize(390, 844).await;
    let form = c
        .client
        .wap_pay(
            &WapPayRequest::new("B1003", Amount::from_fen(1500), "抹茶 Matcha"),
            &c.options,
        )
        .unwrap();
    browser.goto(&c.merchant.add_checkout("B1003", form)).await;
    assert_eq!(browser.wait_text("#amount").await, "¥15.00");
    browser.find("main.mobile").await.unwrap();
    let png = browser.screenshot().await;
    let (w, h) = png_size(&png);
    assert!(w < 500 && h > w, "a phone-shaped screenshot: {w}x{h}");
    keep_screenshot("emulator-cashier-wap.png", &png);
    browser.click("#pay").await;
    assert_eq!(browser.wait_text("#result").await, "Payment verified");
    assert_eq!(
        browser.text_of("#method").await.unwrap(),
        "alipay.trade.wap.pay.return"
    );
    assert_eq!(
        browser.text_of("#trade_status").await.unwrap(),
        "TRADE_SUCCESS"
    );
}

/// The dashboard: what happened, and it refreshes by itself when a refund is made.
async fn dashboard(c: &Checkout) -> PathBuf {
    let browser = &c.browser;
    browser.resize(1280, 900).await;
    browser.goto(&c.emu.dashboard_url()).await;
    assert_eq!(browser.wait_text("#count-trades").await, "3");
    assert_eq!(browser.text_of("#count-refunds").await.unwrap(), "0");
    let trades = browser.text_of("#trades").await.unwrap();
    for want in [
        "B1001",
        "B1002",
        "B1003",
        "TRADE_SUCCESS",
        "WAIT_BUYER_PAY",
        "88.88",
    ] {
        assert!(trades.contains(want), "{want} in {trades}");
    }
    c.client
        .execute(
            &RefundRequest::new(TradeRef::out_trade_no("B1001"), Amount::from_fen(888))
                .out_request_no("B1001R1"),
        )
        .await
        .unwrap();
    // No navigation by the test: the page reloads itself.
    browser.wait_until("#count-refunds", |t| t == "1").await;
    assert_eq!(browser.text_of("#sum-refunded").await.unwrap(), "¥8.88");
    let refunds = browser.text_of("#refunds").await.unwrap();
    assert!(refunds.contains("B1001R1"), "{refunds}");
    // Three notifications (two payments, one refund), all delivered to the merchant.
    c.merchant.wait_notified(3).await;
    browser
        .wait_until("#count-notifications", |t| t == "3 / 0")
        .await;
    let png = browser.screenshot().await;
    assert_eq!(png_size(&png).0, 1280);
    keep_screenshot("emulator-dashboard.png", &png)
}
