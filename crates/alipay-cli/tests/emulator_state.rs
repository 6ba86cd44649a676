//! `alipay emulator --state DIR` survives its process: trades are created and paid, the process
//! is killed (SIGKILL, no chance to save anything on the way out), a new process on the same
//! folder answers queries and refunds for them, and a notification that could not be
//! delivered before the kill is delivered by the new process. 127.0.0.1 only; bounded waits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test binary

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipay::model::trade::{
    FastpayRefundQueryRequest, PrecreateRequest, QueryRequest, RefundRequest,
};
use alipay::model::{Amount, TradeRef, TradeStatus};
use alipay::{Client, RequestOptions};
use alipay_emulator::ControlClient;
use serde_json::Value;

/// Starts `alipay emulator --state DIR --time-scale 0`; returns the child and its JSON line.
fn start(state: &Path) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alipay"))
        .arg("emulator")
        .arg("--state")
        .arg(state)
        .args(["--time-scale", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

/// SIGKILL: the process gets no chance to write anything more.
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn client(line: &Value) -> Client {
    let read = |k: &str| std::fs::read(line[k].as_str().unwrap()).unwrap();
    Client::builder()
        .app_id(line["app_id"].as_str().unwrap())
        .app_private_key(read("app_private_key"))
        .alipay_public_key(read("alipay_public_key"))
        .gateway(line["gateway"].as_str().unwrap())
        .build()
        .unwrap()
}

/// A notify_url that answers `success` and records each body, on `listener`.
fn hook(listener: TcpListener) -> Arc<Mutex<Vec<String>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let bodies = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= p + 4 + len {
                    break Some(String::from_utf8_lossy(&buf[p + 4..p + 4 + len]).into_owned());
                }
            };
            if let Some(body) = body {
                bodies.lock().unwrap().push(body);
            }
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nsuccess",
            );
        }
    });
    got
}

fn notification_for<'a>(log: &'a Value, out_trade_no: &str) -> Vec<&'a Value> {
    log.as_array()
        .unwrap()
        .iter()
        .filter(|n| n["out_trade_no"] == out_trade_no)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_refunds_and_notifications_survive_a_killed_process() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("alipay-cli-emulator-sqlite-state");
    let _ = std::fs::remove_dir_all(&dir);
    // A notify_url port with nothing listening yet: the first delivery fails.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let notify_url = format!("http://127.0.0.1:{port}/notify");

    // First process: three trades, two paid, one notification left undelivered.
    let (first, line) = start(&dir);
    let c = client(&line);
    let control = ControlClient::new(line["control"].as_str().unwrap());
    let options = RequestOptions::new().notify_url(notify_url.clone());
    c.execute_with(
        &PrecreateRequest::new("S1", Amount::from_fen(1234), "绿茶"),
        &options,
    )
    .await
    .unwrap();
    c.execute(&PrecreateRequest::new(
        "S2",
        Amount::from_fen(5678),
        "Coffee",
    ))
    .await
    .unwrap();
    c.execute(&PrecreateRequest::new(
        "S3",
        Amount::from_fen(900),
        "unpaid",
    ))
    .await
    .unwrap();
    control.pay("S1").await.unwrap();
    control.pay("S2").await.unwrap();
    control.scan("S3").await.unwrap();
    let log = control.notifications().await.unwrap();
    let pending = notification_for(&log, "S1");
    assert_eq!(pending.len(), 1, "{log}");
    assert_eq!(pending[0]["delivered"], false);
    assert_eq!(pending[0]["attempts"], 1);
    let next_attempt = pending[0]["next_attempt_at"].clone();
    assert!(next_attempt.is_string(), "a retry is scheduled: {log}");
    kill(first);

    let db = dir.join("state.sqlite3");
    assert!(db.is_file(), "the state is in SQLite");
    assert!(!dir.join("state.json").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the database holds private keys");
    }

    // Second process on the same folder: the same app, the trades, the pending notification.
    let (second, again) = start(&dir);
    assert_eq!(again["app_id"], line["app_id"]);
    let c = client(&again);
    let control = ControlClient::new(again["control"].as_str().unwrap());
    for (no, fen, status) in [
        ("S1", 1234, TradeStatus::TradeSuccess),
        ("S2", 5678, TradeStatus::TradeSuccess),
        ("S3", 900, TradeStatus::WaitBuyerPay),
    ] {
        let q = c
            .execute(&QueryRequest::new(TradeRef::out_trade_no(no)))
            .await
            .unwrap_or_else(|e| panic!("{no}: {e}"));
        assert_eq!(q.trade_status, Some(status), "{no}");
        assert_eq!(q.total_amount, Some(Amount::from_fen(fen)), "{no}");
    }
    let log = control.notifications().await.unwrap();
    let pending = notification_for(&log, "S1");
    assert_eq!(pending.len(), 1, "{log}");
    assert_eq!(pending[0]["delivered"], false);
    assert_eq!(pending[0]["attempts"], 1);
    assert_eq!(pending[0]["next_attempt_at"], next_attempt);

    // The merchant's server is up now; the retry 4 minutes later is delivered.
    let received = hook(TcpListener::bind(("127.0.0.1", port)).unwrap());
    control.advance(Duration::from_secs(300)).await.unwrap();
    let log = control.notifications().await.unwrap();
    let s1 = notification_for(&log, "S1");
    assert_eq!(s1[0]["delivered"], true, "{log}");
    assert_eq!(s1[0]["attempts"], 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no delivery reached the hook");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(received.lock().unwrap()[0].contains("out_trade_no=S1"));

    // Refunds on the reloaded trades: part of S1, all of S2.
    let r = c
        .execute(
            &RefundRequest::new(TradeRef::out_trade_no("S1"), Amount::from_fen(234))
                .out_request_no("S1R1"),
        )
        .await
        .unwrap();
    assert_eq!(r.fund_change.as_deref(), Some("Y"));
    assert_eq!(r.refund_fee, Some(Amount::from_fen(234)));
    c.execute(
        &RefundRequest::new(TradeRef::out_trade_no("S2"), Amount::from_fen(5678))
            .out_request_no("S2R1"),
    )
    .await
    .unwrap();
    kill(second);

    // Third process: the refunds are there, and repeating one changes nothing.
    let (third, last) = start(&dir);
    let c = client(&last);
    let rq = c
        .execute(&FastpayRefundQueryRequest::new(
            TradeRef::out_trade_no("S1"),
            "S1R1",
        ))
        .await
        .unwrap();
    assert_eq!(rq.refund_status.as_deref(), Some("REFUND_SUCCESS"));
    assert_eq!(rq.refund_amount, Some(Amount::from_fen(234)));
    let q = c
        .execute(&QueryRequest::new(TradeRef::out_trade_no("S2")))
        .await
        .unwrap();
    assert_eq!(
        q.trade_status,
        Some(TradeStatus::TradeClosed),
        "fully refunded"
    );
    let again = c
        .execute(
            &RefundRequest::new(TradeRef::out_trade_no("S1"), Amount::from_fen(234))
                .out_request_no("S1R1"),
        )
        .await
        .unwrap();
    assert_eq!(
        again.fund_change.as_deref(),
        Some("N"),
        "the refund was kept"
    );
    assert_eq!(again.refund_fee, Some(Amount::from_fen(234)));
    let trade = ControlClient::new(last["control"].as_str().unwrap())
        .trade("S1")
        .await
        .unwrap();
    assert_eq!(trade["refunds"].as_array().unwrap().len(), 1);
    kill(third);
    let _ = std::fs::remove_dir_all(&dir);
}
