//! `alipay demo`: the whole checkout against an embedded emulator, one printed step at a time.
//!
//! The merchant side uses the `alipay` facade (client), `alipay-notify` (webhook) and
//! `alipay-bill` (reconciliation); the buyer is played over plain HTTP against the emulator's
//! cashier page, as a browser would.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipay::model::trade::{
    CloseRequest, FastpayRefundQueryRequest, PagePayRequest, QueryRequest, RefundRequest,
};
use alipay::model::{Amount, CodeEnum as _, TradeRef};
use alipay::{Client, RequestOptions};
use alipay_bill::{BillArchive, BusinessType, Row, TableKind};
use alipay_emulator::Emulator;
use alipay_notify::{Event, NotifyVerifier};
use alipay_sign::{Charset, PublicKey, RsaVerifier, Rule, SignType};
use clap::Args;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::error::{CliError, describe};
use crate::output::Report;

/// `alipay demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

fn fail(step: &str, e: &dyn std::error::Error) -> CliError {
    CliError::new(format!("{step}: {}", describe(e)))
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Runs the demo.
pub(crate) fn run(_args: &DemoArgs) -> Result<Report, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(demo())?;
    Ok(Report::bytes(Vec::new()))
}

/// A notification the webhook received and verified.
#[derive(Debug, Clone)]
struct Received {
    out_trade_no: String,
    trade_status: String,
    total_amount: String,
    refund_fee: Option<String>,
}

async fn demo() -> Result<(), CliError> {
    // 1. The emulator: a stopped clock, moved only when the demo says so.
    let emulator = Emulator::builder()
        .time_scale(0.0)
        .start()
        .await
        .map_err(|e| fail("starting the emulator", &e))?;
    let app = emulator.app().clone();
    say(&format!(
        "1. Emulator listening: gateway {}, app {} (keys generated)",
        emulator.gateway_url(),
        app.app_id
    ));

    // 2. The merchant's webhook: verifies each notification from its raw body.
    let alipay_key = PublicKey::from_pem_or_der(app.alipay_public_key_pem.as_bytes())
        .map_err(|e| fail("reading the Alipay public key", &e))?;
    let verifier =
        NotifyVerifier::new(&alipay_key).map_err(|e| fail("preparing the verifier", &e))?;
    let received: Arc<Mutex<Vec<Received>>> = Arc::new(Mutex::new(Vec::new()));
    let hook = start_webhook(verifier, Arc::clone(&received))
        .await
        .map_err(|e| fail("starting the webhook", &e))?;
    let notify_url = format!("http://{hook}/alipay/notify");
    say(&format!("2. Webhook listening at {notify_url}"));

    // 3. The client.
    let private = app
        .app_private_key_pem
        .as_deref()
        .ok_or_else(|| CliError::new("the emulator did not generate an app key"))?;
    let client = Client::builder()
        .app_id(app.app_id.clone())
        .app_private_key(private.as_bytes())
        .alipay_public_key(app.alipay_public_key_pem.as_bytes())
        .gateway(&emulator.gateway_url())
        .build()
        .map_err(|e| fail("building the client", &e))?;
    let out_trade_no = format!("DEMO{}", emulator.clock().now_ms());
    let options = RequestOptions::new()
        .notify_url(notify_url.clone())
        .return_url("http://merchant.example/return");
    let form = client
        .page_pay(
            &PagePayRequest::new(
                out_trade_no.clone(),
                Amount::from_fen(8888),
                "Coffee beans 1kg",
            ),
            &options,
        )
        .map_err(|e| fail("signing the page-pay form", &e))?;
    say(&format!(
        "3. Page-pay order {out_trade_no} for 88.88: an auto-submitting form of {} bytes",
        form.len()
    ));

    // 4. The buyer's browser submits the form, lands on the cashier and clicks Pay.
    let addr = emulator.addr();
    let base = emulator.base_url().to_owned();
    let cashier = submit_form(addr, &base, &form).await?;
    let page = get(addr, &cashier).await?;
    if !page.1.contains("id=\"pay\"") {
        return Err(CliError::new(format!(
            "the cashier page {cashier} has no Pay button"
        )));
    }
    let paid = post(addr, &format!("{cashier}/pay")).await?;
    let back = paid
        .0
        .ok_or_else(|| CliError::new("paying did not redirect back to the merchant"))?;
    let query = back
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let params = decode_query(&query);
    let sync = RsaVerifier::new(&alipay_key).map_err(|e| fail("preparing the verifier", &e))?;
    alipay_sign::verify_params(
        &sync,
        params.clone(),
        Rule::NotifyV1,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .map_err(|e| fail("verifying the return_url parameters", &e))?;
    let trade_no = params
        .iter()
        .find(|(k, _)| k == "trade_no")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    say(&format!(
        "4. The buyer opened {cashier}, clicked Pay and came back to return_url with verified parameters (trade_no {trade_no})"
    ));

    // 5. The notification.
    let first = wait_for(&received, 1).await?;
    say(&format!(
        "5. Notification received and verified: {} {} {}",
        first.out_trade_no, first.trade_status, first.total_amount
    ));

    // 6. Query.
    let trade = TradeRef::out_trade_no(out_trade_no.clone());
    let q = client
        .execute(&QueryRequest::new(trade.clone()))
        .await
        .map_err(|e| fail("querying the trade", &e))?;
    say(&format!(
        "6. Query: {} paid {} at {}",
        q.trade_status.as_ref().map_or("?", |s| s.as_str()),
        q.total_amount
            .map_or_else(|| "?".to_owned(), |a| a.to_string()),
        q.send_pay_date.as_deref().unwrap_or("?")
    ));

    // 7. Refund part of it.
    let refund =
        RefundRequest::new(trade.clone(), Amount::from_fen(1000)).out_request_no("REFUND1");
    let r = client
        .execute(&refund)
        .await
        .map_err(|e| fail("refunding", &e))?;
    let refunded = wait_for(&received, 2).await?;
    say(&format!(
        "7. Refunded 10.00 (fund_change {}, refunded so far {}); notification {} with refund_fee {}",
        r.fund_change.as_deref().unwrap_or("?"),
        r.refund_fee
            .map_or_else(|| "?".to_owned(), |a| a.to_string()),
        refunded.trade_status,
        refunded.refund_fee.as_deref().unwrap_or("?")
    ));

    // 8. Query the refund.
    let rq = client
        .execute(&FastpayRefundQueryRequest::new(trade.clone(), "REFUND1"))
        .await
        .map_err(|e| fail("querying the refund", &e))?;
    say(&format!(
        "8. Refund query: {} of {}",
        rq.refund_status.as_deref().unwrap_or("not found"),
        rq.refund_amount
            .map_or_else(|| "?".to_owned(), |a| a.to_string())
    ));

    // 9. A second order, left unpaid, is closed.
    let second = format!("{out_trade_no}B");
    let form = client
        .page_pay(
            &PagePayRequest::new(second.clone(), Amount::from_fen(1999), "Mug"),
            &RequestOptions::new(),
        )
        .map_err(|e| fail("signing the second form", &e))?;
    submit_form(addr, &base, &form).await?;
    client
        .execute(&CloseRequest::new(TradeRef::out_trade_no(second.clone())))
        .await
        .map_err(|e| fail("closing the second trade", &e))?;
    let q2 = client
        .execute(&QueryRequest::new(TradeRef::out_trade_no(second.clone())))
        .await
        .map_err(|e| fail("querying the second trade", &e))?;
    say(&format!(
        "9. Second order {second} (19.99) left unpaid and closed: {}",
        q2.trade_status.as_ref().map_or("?", |s| s.as_str())
    ));

    // 10. The next morning: the day's bill.
    let now = emulator.clock().format_now();
    let day = now.get(..10).unwrap_or(&now).to_owned();
    emulator.advance(Duration::from_secs(24 * 3600)).await;
    let url = client
        .bill_download_url("trade", &day)
        .await
        .map_err(|e| fail("asking for the bill URL", &e))?;
    let zip = client
        .download(&url)
        .await
        .map_err(|e| fail("downloading the bill", &e))?;
    say(&format!(
        "10. Bill of {day} downloaded: {} bytes of ZIP",
        zip.len()
    ));
    reconcile(&zip, &out_trade_no)?;
    emulator
        .shutdown()
        .await
        .map_err(|e| fail("stopping the emulator", &e))?;
    say("Done.");
    Ok(())
}

fn reconcile(zip: &[u8], out_trade_no: &str) -> Result<(), CliError> {
    let mut archive =
        BillArchive::new(std::io::Cursor::new(zip)).map_err(|e| fail("opening the bill", &e))?;
    let entries = archive.entries().to_vec();
    let detail = entries
        .iter()
        .find(|e| e.kind == Some(TableKind::Detail))
        .ok_or_else(|| CliError::new("the bill has no detail table"))?;
    let mut table = archive
        .open(detail)
        .map_err(|e| fail("reading the bill", &e))?;
    let mut lines = Vec::new();
    let mut net = 0i64;
    while let Some(row) = table.read_row().map_err(|e| fail("reading the bill", &e))? {
        if let Row::Detail(d) = row {
            net += d.received.fen();
            let kind = match d.business_type {
                BusinessType::Refund => "refund ",
                _ => "payment",
            };
            lines.push(format!(
                "      {kind} {:>10}  {}  {}",
                d.received.to_string(),
                d.out_trade_no,
                d.refund_request_no
            ));
        }
    }
    let check = table.check();
    say(&format!("11. Reconciliation of {}:", detail.name));
    for l in &lines {
        say(l);
    }
    let ours = lines.iter().filter(|l| l.contains(out_trade_no)).count();
    say(&format!(
        "      net received {}.{:02}; footer totals {}; {ours} rows of this demo's order",
        net / 100,
        (net % 100).abs(),
        if check.is_ok() {
            "match the rows"
        } else {
            "DO NOT match"
        }
    ));
    if !check.is_ok() {
        return Err(CliError::new(format!("the bill does not add up: {check}")));
    }
    Ok(())
}

async fn wait_for(received: &Arc<Mutex<Vec<Received>>>, n: usize) -> Result<Received, CliError> {
    for _ in 0..500 {
        let got = received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if got.len() >= n {
            return got
                .get(n - 1)
                .cloned()
                .ok_or_else(|| CliError::new("no notification"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(CliError::new(format!(
        "notification {n} did not arrive within 5 s"
    )))
}

/// The merchant's webhook: verifies the raw body with alipay-notify and answers `success`.
async fn start_webhook(
    verifier: NotifyVerifier,
    received: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let verifier = Arc::new(verifier);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let verifier = Arc::clone(&verifier);
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                let _ = serve_notification(stream, &verifier, &received).await;
            });
        }
    });
    Ok(addr)
}

async fn serve_notification(
    mut stream: TcpStream,
    verifier: &NotifyVerifier,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut stream).await?;
    let content_type = header(&head, "content-type");
    let answer = match verifier.verify(&body, content_type.as_deref()) {
        Ok(verified) => match verified.event() {
            Ok(Event::Trade(t)) => {
                received
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(Received {
                        out_trade_no: t.out_trade_no.clone(),
                        trade_status: t.trade_status.as_str().to_owned(),
                        total_amount: t.total_amount.map(|a| a.to_string()).unwrap_or_default(),
                        refund_fee: t.refund_fee.map(|a| a.to_string()),
                    });
                "success"
            }
            _ => "fail",
        },
        Err(_) => "fail",
    };
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    stream.write_all(reply.as_bytes()).await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, len) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("the connection closed mid-request"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).into_owned();
            let len = header(&head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            break (p + 4, len);
        }
        if buf.len() > 1 << 20 {
            return Err(std::io::Error::other("request head too large"));
        }
    };
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let end = (head_end + len).min(buf.len());
    Ok((head, buf[head_end..end].to_vec()))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// One HTTP/1.1 exchange: `(Location, body)`.
async fn exchange(
    addr: SocketAddr,
    request: String,
    body: &[u8],
) -> Result<(Option<String>, String), CliError> {
    let io = |e: std::io::Error| CliError::new(format!("talking to the emulator: {e}"));
    let mut s = TcpStream::connect(addr).await.map_err(io)?;
    s.write_all(request.as_bytes()).await.map_err(io)?;
    s.write_all(body).await.map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.map_err(io)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| CliError::new("the emulator sent no complete answer"))?;
    Ok((header(head, "location"), rest.to_owned()))
}

async fn get(addr: SocketAddr, target: &str) -> Result<(Option<String>, String), CliError> {
    exchange(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await
}

async fn post(addr: SocketAddr, target: &str) -> Result<(Option<String>, String), CliError> {
    exchange(
        addr,
        format!("POST {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        b"",
    )
    .await
}

/// Submits an auto-submitting form as a browser does; returns the cashier path.
async fn submit_form(addr: SocketAddr, base: &str, form: &str) -> Result<String, CliError> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let action = form
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(unescape)
        .ok_or_else(|| CliError::new("the page-pay form has no action"))?;
    let target = action.strip_prefix(base).unwrap_or(&action).to_owned();
    let mut fields = Vec::new();
    for input in form.split("<input type=\"hidden\" name=\"").skip(1) {
        let Some((name, rest)) = input.split_once("\" value=\"") else {
            continue;
        };
        let value = rest.split('"').next().map(unescape).unwrap_or_default();
        fields.push(format!(
            "{}={}",
            percent_encoding::utf8_percent_encode(
                &unescape(name),
                percent_encoding::NON_ALPHANUMERIC
            ),
            percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
        ));
    }
    let body = fields.join("&");
    let (location, page) = exchange(
        addr,
        format!(
            "POST {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        body.as_bytes(),
    )
    .await?;
    location.ok_or_else(|| {
        CliError::new(format!(
            "the gateway did not send the buyer to the cashier: {}",
            page.chars().take(300).collect::<String>()
        ))
    })
}

fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}
