//! `Client::download_bill` and `Client::download_bill_to_file` end to end: the URL query against
//! the embedded emulator, the download over the hyper transport's streaming path (directly, or
//! through a misbehaving mirror on 127.0.0.1 that redirects, fails or truncates), and the bill
//! read back as the exact rows of the trades made.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use alipay::bill::{BillType, DetailRow, Money, SavedBill, TableKind};
use alipay::transport::test_util::CapturingTransport;
use alipay::transport::{
    BoxFuture, HttpRequest, HttpResponse, HttpTransport, HyperTransport, StreamingResponse,
    TransportError,
};
use alipay::{Client, Protocol, RetryPolicy};
use alipay_emulator::Emulator;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// 2024-05-13 10:00:00 UTC+8.
const START_S: u64 = 1_715_565_600;

async fn emulator() -> Emulator {
    Emulator::builder()
        .time_scale(0.0)
        .start_time(UNIX_EPOCH + Duration::from_secs(START_S))
        .start()
        .await
        .unwrap()
}

fn client(emu: &Emulator, protocol: Protocol, transport: Arc<dyn HttpTransport>) -> Client {
    let creds = emu.app();
    Client::builder()
        .app_id(creds.app_id.clone())
        .app_private_key(creds.app_private_key_pem.as_deref().unwrap().as_bytes())
        .alipay_public_key(creds.alipay_public_key_pem.as_bytes())
        .gateway(&emu.gateway_url())
        .protocol(protocol)
        .timeout(Duration::from_secs(20))
        .retry_policy(RetryPolicy::none())
        .transport(transport)
        .build()
        .unwrap()
}

/// Two payments and a partial refund on 2024-05-13; returns their `trade_no`s.
async fn trades(c: &Client) -> (String, String) {
    let mut nos = Vec::new();
    for (no, amount) in [("D1", "10.00"), ("D2", "5.50")] {
        let node: Value = c
            .call(
                "alipay.trade.pay",
                &json!({"out_trade_no": no, "total_amount": amount, "subject": "账单, \"下载\"", "auth_code": "286123456789012345"}),
            )
            .await
            .unwrap();
        nos.push(node["trade_no"].as_str().unwrap().to_owned());
    }
    c.call(
        "alipay.trade.refund",
        &json!({"out_trade_no":"D1","refund_amount":"1.25","out_request_no":"DR1"}),
    )
    .await
    .unwrap();
    (nos[0].clone(), nos[1].clone())
}

/// The rows that matter, as (trade_no, out_trade_no, 业务类型, subject, 订单金额, 商家实收, 退款请求号).
type Key = (String, String, String, String, Money, Money, String);

fn key(row: &DetailRow) -> Key {
    (
        row.trade_no.clone(),
        row.out_trade_no.clone(),
        row.business_type.as_str().to_owned(),
        row.subject.clone(),
        row.order_amount,
        row.received,
        row.refund_request_no.clone(),
    )
}

fn expected(d1: &str, d2: &str) -> Vec<Key> {
    let row = |trade_no: &str, no: &str, kind: &str, order: i64, received: i64, refund: &str| {
        (
            trade_no.to_owned(),
            no.to_owned(),
            kind.to_owned(),
            "账单, \"下载\"".to_owned(),
            Money::from_fen(order),
            Money::from_fen(received),
            refund.to_owned(),
        )
    };
    vec![
        row(d1, "D1", "交易", 1000, 1000, ""),
        row(d2, "D2", "交易", 550, 550, ""),
        row(d1, "D1", "退款", -125, -125, "DR1"),
    ]
}

/// The detail rows of a saved bill file, read with alipay-bill, and whether every table adds up.
fn read_file(path: &Path) -> (Vec<Key>, bool) {
    let file = std::fs::File::open(path).unwrap();
    let mut keys = Vec::new();
    let mut ok = true;
    alipay::bill::read_tables(std::io::BufReader::new(file), "bill", |table| {
        while let Some(row) = table.read_row()? {
            if let Some(d) = row.as_detail() {
                keys.push(key(d));
            }
        }
        ok &= table.check().is_ok();
        Ok::<_, alipay::bill::Error>(())
    })
    .unwrap();
    (keys, ok)
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bill-download-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn bills_of_the_emulator_in_memory_and_on_disk() {
    let emu = emulator().await;
    let hyper: Arc<dyn HttpTransport> = Arc::new(HyperTransport::new().unwrap());
    let capture = CapturingTransport::wrapping(hyper);
    let c = client(&emu, Protocol::V2, Arc::new(capture.clone()));
    let (d1, d2) = trades(&c).await;

    // The day is not over: no bill yet, the API error, and nothing downloaded or written.
    let dir = scratch("emulator");
    let out = dir.join("trade.zip");
    let err = c
        .download_bill(BillType::Trade, "2024-05-13".parse().unwrap())
        .await
        .unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!(
        (api.code(), api.sub_code()),
        ("40004", Some("isp.bill_not_exist"))
    );
    let err = c
        .download_bill_to_file("trade", "2024-05-13".parse().unwrap(), &out, |_, _| {
            panic!("nothing to download")
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.api().and_then(|a| a.sub_code()),
        Some("isp.bill_not_exist")
    );
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());

    emu.advance(Duration::from_secs(14 * 3600)).await; // 2024-05-14 00:00
    for protocol in [Protocol::V2, Protocol::V3] {
        let c = client(&emu, protocol, Arc::new(capture.clone()));
        capture.clear();
        let mut bill = c
            .download_bill(BillType::Trade, "2024-05-13".parse().unwrap())
            .await
            .unwrap();
        // The query, then the download: a GET of the URL with its token, streamed.
        let sent = capture.requests();
        assert_eq!(sent.len(), 2, "{protocol:?}");
        assert_eq!(sent[1].method, "GET");
        assert_eq!(sent[1].uri.path(), "/downloadBillFile.resource");
        assert!(sent[1].query("token").is_some_and(|t| !t.is_empty()));
        assert!(bill.is_zip());
        let account = format!("{}0156", emu.app().seller_id);
        assert_eq!(
            bill.tables()[0].name,
            format!("{account}_20240513_业务明细.csv")
        );
        let rows: Vec<Key> = bill
            .detail_rows()
            .unwrap()
            .map(|r| key(&r.unwrap()))
            .collect();
        assert_eq!(rows, expected(&d1, &d2), "{protocol:?}");
        let mut detail = bill.detail().unwrap().unwrap();
        assert_eq!(detail.header().account.as_deref(), Some(account.as_str()));
        detail.skip_to_end().unwrap();
        let footer = detail.footer().unwrap();
        let (trade, refund) = (footer.trade.unwrap(), footer.refund.unwrap());
        assert_eq!((trade.count, trade.received), (2, Money::from_fen(1550)));
        assert_eq!((refund.count, refund.received), (1, Money::from_fen(-125)));
        drop(detail);
        let check = bill.check().unwrap();
        assert!(check.is_ok(), "{check}");
        assert!(
            check.tables().any(|(_, kind, _)| kind == TableKind::Detail),
            "{check}"
        );
    }

    // On disk, with progress.
    let (saved, progress) = save_with_progress(&c, BillType::Trade, &out).await;
    let size = std::fs::metadata(&out).unwrap().len();
    assert_eq!((saved.path.as_path(), saved.bytes), (out.as_path(), size));
    assert!(!dir.join("trade.zip.part").exists());
    assert_eq!(progress.first(), Some(&(0, Some(size))));
    assert_eq!(progress.last(), Some(&(size, Some(size))));
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0), "{progress:?}");
    assert_eq!(read_file(&out), (expected(&d1, &d2), true));

    // The account-flow bill of the same day.
    let mut bill = c
        .download_bill(BillType::Signcustomer, "2024-05-13".parse().unwrap())
        .await
        .unwrap();
    let flows: Vec<(String, String, String)> = bill
        .account_rows()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (
                r.income.to_string(),
                r.expense.to_string(),
                r.balance.to_string(),
            )
        })
        .collect();
    assert_eq!(
        flows,
        [
            ("10.00".to_owned(), "0.00".to_owned(), "10.00".to_owned()),
            ("5.50".to_owned(), "0.00".to_owned(), "15.50".to_owned()),
            ("0.00".to_owned(), "-1.25".to_owned(), "14.25".to_owned()),
        ]
    );
    assert!(bill.check().unwrap().is_ok());
    assert!(bill.detail().unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
    emu.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// A mirror between the client and the emulator's download

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `302` to a relative Location, then the bill in paced chunks (chunked encoding).
    Redirect,
    /// `500`.
    Fail,
    /// The bill's `Content-Length`, half of its bytes, then the connection closes.
    Truncate,
}

/// Sends bill downloads (and the mirror's redirect targets under `/files/`) to the mirror
/// instead of the emulator; everything else goes straight through. The client does not see the
/// detour: it resolves the relative Location against the emulator's URL.
#[derive(Debug)]
struct Router {
    inner: HyperTransport,
    mirror: SocketAddr,
}

impl HttpTransport for Router {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        self.inner.send(request)
    }

    fn send_streaming(
        &self,
        mut request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        let path = request.uri().path();
        if path == "/downloadBillFile.resource" || path.starts_with("/files/") {
            let target = request.uri().path_and_query().unwrap().as_str();
            *request.uri_mut() = format!("http://{}{target}", self.mirror).parse().unwrap();
        }
        self.inner.send_streaming(request)
    }
}

/// A mirror on 127.0.0.1 that fetches the real bill from the emulator and serves it as `mode`
/// says; it records the targets it was asked for.
async fn mirror(emulator: String, mode: Mode) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let emulator = emulator.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await
                    {
                        Ok(Ok(1)) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(target.clone());
                let query = target.split_once('?').map_or("", |(_, q)| q);
                let fetch = || async {
                    let url = format!("{emulator}/downloadBillFile.resource?{query}");
                    let request = http::Request::get(url).body(bytes::Bytes::new()).unwrap();
                    let r = HyperTransport::new().unwrap().send(request).await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.into_body()
                };
                match mode {
                    Mode::Fail => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy")
                            .await;
                    }
                    Mode::Truncate => {
                        let bill = fetch().await;
                        let half = bill.len() / 2;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            bill.len()
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(&bill[..half]).await;
                        let _ = stream.flush().await;
                    }
                    Mode::Redirect if target.starts_with("/downloadBillFile.resource") => {
                        let head = format!(
                            "HTTP/1.1 302 Found\r\nlocation: files/bill.zip?{query}\r\ncontent-length: 0\r\n\r\n"
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                    }
                    Mode::Redirect => {
                        let bill = fetch().await;
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
                            .await;
                        for chunk in bill.chunks(bill.len().div_ceil(4)) {
                            let _ = stream
                                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                                .await;
                            let _ = stream.write_all(chunk).await;
                            let _ = stream.write_all(b"\r\n").await;
                            let _ = stream.flush().await;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        let _ = stream.write_all(b"0\r\n\r\n").await;
                    }
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn redirects_failures_and_truncation_over_the_hyper_transport() {
    let emu = emulator().await;
    let direct = client(&emu, Protocol::V2, Arc::new(HyperTransport::new().unwrap()));
    let (d1, d2) = trades(&direct).await;
    emu.advance(Duration::from_secs(14 * 3600)).await;
    let dir = scratch("mirror");
    let out = dir.join("bill.zip");

    // A redirect to a relative Location, then the bill in four chunks.
    let (addr, seen) = mirror(emu.base_url().to_owned(), Mode::Redirect).await;
    let router = Router {
        inner: HyperTransport::new().unwrap(),
        mirror: addr,
    };
    let c = client(&emu, Protocol::V2, Arc::new(router));
    let (saved, progress) = save_with_progress(&c, "trade", &out).await;
    let targets = seen.lock().unwrap().clone();
    assert_eq!(targets.len(), 2);
    assert!(targets[0].starts_with("/downloadBillFile.resource?"));
    assert!(targets[1].starts_with("/files/bill.zip?"));
    let size = std::fs::metadata(&out).unwrap().len();
    assert_eq!(saved.bytes, size);
    // No Content-Length: the total is unknown; one call per chunk after the first.
    assert_eq!(progress.first(), Some(&(0, None)));
    assert_eq!(progress.last(), Some(&(size, None)));
    assert_eq!(progress.len(), 5, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(read_file(&out), (expected(&d1, &d2), true));
    let mut bill = c
        .download_bill(BillType::Trade, "2024-05-13".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(u64::try_from(bill.as_bytes().len()).unwrap(), size);
    assert!(bill.check().unwrap().is_ok());
    std::fs::remove_file(&out).unwrap();

    // HTTP 500 and a truncated body: errors that name the URL without its token, and no file.
    for mode in [Mode::Fail, Mode::Truncate] {
        let (addr, _) = mirror(emu.base_url().to_owned(), mode).await;
        let router = Router {
            inner: HyperTransport::new().unwrap(),
            mirror: addr,
        };
        let c = client(&emu, Protocol::V2, Arc::new(router));
        let err = c
            .download_bill_to_file("trade", "2024-05-13".parse().unwrap(), &out, |_, _| {})
            .await
            .unwrap_err();
        assert!(err.is_transport() && !err.is_io(), "{mode:?}: {err:?}");
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        assert!(!chain.contains("token"), "{chain}");
        // The client names the URL it asked for (the router's detour is invisible to it).
        let prefix = format!("GET {}/downloadBillFile.resource", emu.base_url());
        assert!(chain.starts_with(&prefix), "{chain}");
        match mode {
            Mode::Fail => assert_eq!(err.http_status(), Some(500)),
            _ => assert!(chain.contains("the body broke off after"), "{chain}"),
        }
        assert!(
            std::fs::read_dir(&dir).unwrap().next().is_none(),
            "{mode:?}"
        );
        let err = c
            .download_bill(BillType::Trade, "2024-05-13".parse().unwrap())
            .await
            .unwrap_err();
        assert!(err.is_transport(), "{mode:?}: {err:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    emu.shutdown().await.unwrap();
}

/// `download_bill_to_file` of the bill of 2024-05-13 to `out`, with the progress calls it made.
async fn save_with_progress(
    c: &Client,
    bill_type: impl Into<BillType>,
    out: &Path,
) -> (SavedBill, Vec<(u64, Option<u64>)>) {
    let mut progress = Vec::new();
    let saved = c
        .download_bill_to_file(
            bill_type,
            "2024-05-13".parse().unwrap(),
            out,
            |done, total| {
                progress.push((done, total));
            },
        )
        .await
        .unwrap();
    (saved, progress)
}
