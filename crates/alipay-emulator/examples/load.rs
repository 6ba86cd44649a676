//! Load test of `alipay.trade.query` on the emulator: sustained requests per second and latency
//! percentiles, on 127.0.0.1 only, bounded in time.
//!
//! ```text
//! cargo run --release -p alipay-emulator --example load -- \
//!     [--seconds 10] [--connections 8] [--rate R] [--openssl-sign-per-s S]
//! ```
//!
//! The emulator runs in this process on a two-worker tokio runtime (its own threads); the load
//! comes from a single-threaded runtime on the main thread over keep-alive HTTP/1.1
//! connections. The request — a v2 `alipay.trade.query` form POST, RSA2-signed once with the
//! app key — is replayed unchanged (the emulator does not check timestamps unless told to), so
//! the load generator spends no CPU on RSA: each answer costs the emulator one RSA2 signature
//! (plus one verification of the request). Every answer must be HTTP 200 with
//! `"code":"10000"`; the first answer on each connection has its signature verified with the
//! Alipay public key.
//!
//! Phases: 1 s of warm-up; `--seconds` closed-loop at full speed with `--connections`
//! connections (the sustained rate, with the CPU time the emulator's threads and the whole
//! process used, from `/proc/self/task`); then `--seconds` open-loop at `--rate` requests per
//! second (default `--openssl-sign-per-s`, i.e. half the two-core ceiling of 2 × sign/s) and
//! `--seconds` open-loop at half the sustained rate. Open-loop latency is measured from the moment
//! each request was due, so queueing counts; a phase that falls more than `--seconds` behind
//! stops and counts what it did not send. Prints one JSON object.

use std::error::Error;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use alipay_emulator::Emulator;
use alipay_sign::{
    Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, SignType, extract_response, sign_params,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

type BoxError = Box<dyn Error + Send + Sync>;

const METHOD: &str = "alipay.trade.query";
const OUT_TRADE_NO: &str = "LOAD0001";
/// What every answer must contain.
const SUCCESS: &[u8] = b"\"code\":\"10000\"";

#[derive(Debug)]
struct Args {
    seconds: u64,
    connections: usize,
    rate: Option<f64>,
    openssl_sign_per_s: Option<f64>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        seconds: 10,
        connections: 8,
        rate: None,
        openssl_sign_per_s: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => args.seconds = value()?.parse()?,
            "--connections" => args.connections = value()?.parse()?,
            "--rate" => args.rate = Some(value()?.parse()?),
            "--openssl-sign-per-s" => args.openssl_sign_per_s = Some(value()?.parse()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if !(1..=120).contains(&args.seconds) {
        return Err(format!("--seconds {} is not in 1..=120", args.seconds).into());
    }
    if !(1..=256).contains(&args.connections) {
        return Err(format!("--connections {} is not in 1..=256", args.connections).into());
    }
    for (name, v) in [
        ("--rate", args.rate),
        ("--openssl-sign-per-s", args.openssl_sign_per_s),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0 && v <= 1e6)
        {
            return Err(format!("{name} {v} is not a rate in (0, 1e6]").into());
        }
    }
    Ok(args)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU seconds (user + system) used so far by this process's threads: `(emulator threads,
/// all threads)`, from `/proc/self/task/*/stat` (Linux; zeros elsewhere). The emulator's
/// runtime threads are named `emulator`; the load generator is the main thread.
fn cpu_seconds() -> (f64, f64) {
    // USER_HZ, 100 on every Linux architecture this runs on.
    const TICKS_PER_S: f64 = 100.0;
    let mut emulator = 0u64;
    let mut all = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid … utime is field 14, stime 15 (1-based), counted after the ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let used = ticks(11) + ticks(12);
        all += used;
        if head.contains("(emulator") {
            emulator += used;
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "clock ticks, far below 2^52")]
    (emulator as f64 / TICKS_PER_S, all as f64 / TICKS_PER_S)
}

/// A signed v2 request as raw HTTP/1.1 bytes.
fn signed_request(
    addr: SocketAddr,
    app_id: &str,
    key_pem: &str,
    method: &str,
    biz: &Value,
) -> Result<Vec<u8>, BoxError> {
    let key = PrivateKey::from_pem_or_der(key_pem.as_bytes())?;
    let signer = RsaSigner::new(&key)?;
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), app_id.into()),
        ("method".into(), method.into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), "2024-05-13 10:00:00".into()),
        ("version".into(), "1.0".into()),
        ("biz_content".into(), biz.to_string()),
    ];
    let signed = sign_params(
        &signer,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignType::Rsa2,
        Charset::Utf8,
    )?;
    params.push(("sign".into(), signed.sign));
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let mut request = format!(
        "POST /gateway.do HTTP/1.1\r\nHost: {addr}\r\n\
Content-Type: application/x-www-form-urlencoded;charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    Ok(request)
}

/// One keep-alive connection: sends `request`, reads one answer, repeatedly.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Conn, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    /// Sends `request` and returns `(status, body)` of the answer, within 30 s.
    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>), BoxError> {
        tokio::time::timeout(Duration::from_secs(30), self.exchange_unbounded(request))
            .await
            .map_err(|_| "no answer within 30 s")?
    }

    async fn exchange_unbounded(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>), BoxError> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(split) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..split])?;
                let status: u16 = head
                    .split_whitespace()
                    .nth(1)
                    .ok_or("no status line")?
                    .parse()?;
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .ok_or("no Content-Length")?;
                while self.buf.len() < split + 4 + len {
                    let n = self.stream.read(&mut chunk).await?;
                    if n == 0 {
                        return Err("connection closed mid-body".into());
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return Ok((status, self.buf[split + 4..split + 4 + len].to_vec()));
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err("connection closed before an answer".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// What one connection saw in a phase.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    verified: u64,
    not_sent: u64,
    first_error: Option<String>,
}

fn check_answer(
    status: u16,
    body: &[u8],
    verifier: Option<&RsaVerifier>,
    tally: &mut Tally,
) -> bool {
    let ok = status == 200 && body.windows(SUCCESS.len()).any(|w| w == SUCCESS);
    if !ok {
        tally.errors += 1;
        if tally.first_error.is_none() {
            tally.first_error = Some(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        return false;
    }
    if let Some(v) = verifier {
        match extract_response(body, METHOD, Charset::Utf8)
            .and_then(|parts| parts.verify(v, SignType::Rsa2))
        {
            Ok(()) => tally.verified += 1,
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(format!("signature: {e}"));
                return false;
            }
        }
    }
    true
}

/// Closed loop: each connection sends the next request as soon as the answer is in.
async fn closed_loop(
    addr: SocketAddr,
    request: &[u8],
    verifier: &Arc<RsaVerifier>,
    connections: usize,
    length: Duration,
) -> Result<(Tally, Duration), BoxError> {
    let start = Instant::now();
    let deadline = start + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let request = request.to_vec();
        let verifier = Arc::clone(verifier);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut conn = Conn::open(addr).await?;
            let mut first = true;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let (status, body) = conn.exchange(&request).await?;
                let took = sent.elapsed();
                if check_answer(status, &body, first.then_some(&*verifier), &mut tally) {
                    tally
                        .latencies_us
                        .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                }
                first = false;
            }
            Ok::<_, BoxError>(tally)
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        merge(&mut total, t.await??);
    }
    Ok((total, start.elapsed()))
}

/// Open loop at `rate`: request k of connection i is due at start + (k·C + i)/rate; its
/// latency runs from when it was due, so a late start counts.
async fn open_loop(
    addr: SocketAddr,
    request: &[u8],
    verifier: &Arc<RsaVerifier>,
    connections: usize,
    rate: f64,
    length: Duration,
) -> Result<(Tally, Duration), BoxError> {
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let deadline = start + length;
    let hard_stop = deadline + length;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let request = request.to_vec();
        let verifier = Arc::clone(verifier);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut conn = Conn::open(addr).await?;
            let mut first = true;
            let mut k: u32 = 0;
            loop {
                let slot = u32::try_from(i).unwrap_or(u32::MAX).saturating_add(
                    k.saturating_mul(u32::try_from(connections).unwrap_or(u32::MAX)),
                );
                let due = start + interval * slot;
                if due >= deadline {
                    break;
                }
                // Overloaded: give up on what is far behind schedule rather than run on.
                if tokio::time::Instant::now() >= hard_stop {
                    let per_conn = u32::try_from(connections).unwrap_or(u32::MAX).max(1);
                    let left = (deadline - due).as_secs_f64() * rate / f64::from(per_conn);
                    #[allow(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "a small non-negative count of requests"
                    )]
                    let left = left.ceil() as u64;
                    tally.not_sent += left;
                    break;
                }
                tokio::time::sleep_until(due).await;
                let (status, body) = conn.exchange(&request).await?;
                let took = due.elapsed();
                if check_answer(status, &body, first.then_some(&*verifier), &mut tally) {
                    tally
                        .latencies_us
                        .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                }
                first = false;
                k += 1;
            }
            Ok::<_, BoxError>(tally)
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        merge(&mut total, t.await??);
    }
    Ok((total, start.elapsed()))
}

fn merge(total: &mut Tally, t: Tally) {
    total.latencies_us.extend(t.latencies_us);
    total.errors += t.errors;
    total.verified += t.verified;
    total.not_sent += t.not_sent;
    if total.first_error.is_none() {
        total.first_error = t.first_error;
    }
}

/// The `q` quantile (0..=1) of sorted microseconds, in milliseconds with three decimals.
fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a non-empty slice, from q in 0..=1"
    )]
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    #[allow(clippy::cast_precision_loss, reason = "microseconds, far below 2^52")]
    let us = sorted[idx.min(sorted.len() - 1)] as f64;
    (us / 1000.0 * 1000.0).round() / 1000.0
}

fn summary(mut tally: Tally, elapsed: Duration) -> Value {
    tally.latencies_us.sort_unstable();
    let n = tally.latencies_us.len();
    #[allow(clippy::cast_precision_loss, reason = "a request count")]
    let rps = n as f64 / elapsed.as_secs_f64();
    json!({
        "requests": n,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "signatures_verified": tally.verified,
        "not_sent_overloaded": tally.not_sent,
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "requests_per_s": rps.round(),
        "p50_ms": quantile_ms(&tally.latencies_us, 0.50),
        "p90_ms": quantile_ms(&tally.latencies_us, 0.90),
        "p99_ms": quantile_ms(&tally.latencies_us, 0.99),
        "max_ms": quantile_ms(&tally.latencies_us, 1.0),
    })
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let load_before = load_average();
    // The emulator: its own two worker threads.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("emulator")
        .enable_all()
        .build()?;
    let start_time = UNIX_EPOCH + Duration::from_secs(1_715_565_600);
    let emu = server.block_on(
        Emulator::builder()
            .time_scale(0.0)
            .start_time(start_time)
            .start(),
    )?;
    // The load: one thread.
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = client.block_on(run(&emu, &args, &load_before));
    server.block_on(emu.shutdown())?;
    let report = result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}")?;
    Ok(())
}

async fn run(emu: &Emulator, args: &Args, load_before: &str) -> Result<Value, BoxError> {
    let app = emu.app();
    let key = app
        .app_private_key_pem
        .as_deref()
        .ok_or("the emulator generated no app private key")?;
    let addr = emu.addr();
    let verifier = Arc::new(RsaVerifier::new(&PublicKey::from_pem_or_der(
        app.alipay_public_key_pem.as_bytes(),
    )?)?);

    // A paid trade to query.
    let precreate = signed_request(
        addr,
        &app.app_id,
        key,
        "alipay.trade.precreate",
        &json!({"out_trade_no": OUT_TRADE_NO, "total_amount": "88.88", "subject": "load"}),
    )?;
    let (status, body) = Conn::open(addr).await?.exchange(&precreate).await?;
    if status != 200 || !String::from_utf8_lossy(&body).contains("\"code\":\"10000\"") {
        return Err(format!("precreate failed: {}", String::from_utf8_lossy(&body)).into());
    }
    emu.control().pay(OUT_TRADE_NO).await?;
    let query = signed_request(
        addr,
        &app.app_id,
        key,
        METHOD,
        &json!({"out_trade_no": OUT_TRADE_NO}),
    )?;

    let length = Duration::from_secs(args.seconds);
    let _warm = closed_loop(
        addr,
        &query,
        &verifier,
        args.connections,
        Duration::from_secs(1),
    )
    .await?;
    let (emu_cpu0, all_cpu0) = cpu_seconds();
    let (tally, elapsed) = closed_loop(addr, &query, &verifier, args.connections, length).await?;
    let (emu_cpu1, all_cpu1) = cpu_seconds();
    let mut sustained = summary(tally, elapsed);
    let sustained_rps = sustained["requests_per_s"].as_f64().unwrap_or(0.0);
    let requests = sustained["requests"].as_f64().unwrap_or(0.0).max(1.0);
    let emu_cpu = emu_cpu1 - emu_cpu0;
    sustained["cpu_s_emulator_threads"] = json!((emu_cpu * 100.0).round() / 100.0);
    sustained["cpu_s_all_threads"] = json!(((all_cpu1 - all_cpu0) * 100.0).round() / 100.0);
    sustained["cores_busy"] =
        json!(((all_cpu1 - all_cpu0) / elapsed.as_secs_f64() * 100.0).round() / 100.0);
    sustained["emulator_cpu_us_per_request"] = json!((emu_cpu / requests * 1e7).round() / 10.0);
    sustained["all_cpu_us_per_request"] =
        json!(((all_cpu1 - all_cpu0) / requests * 1e7).round() / 10.0);

    // Latency at fixed rates: the one asked for (default half the ceiling), and half of what
    // was sustained here.
    let mut paced = Vec::new();
    let half_sustained = (sustained_rps / 2.0).max(1.0);
    for (label, rate) in [
        ("asked", args.rate.or(args.openssl_sign_per_s)),
        ("half_sustained", Some(half_sustained)),
    ] {
        let Some(rate) = rate else { continue };
        let (tally, elapsed) =
            open_loop(addr, &query, &verifier, args.connections, rate, length).await?;
        let mut phase = summary(tally, elapsed);
        phase["target_rate"] = json!(rate.round());
        phase["label"] = json!(label);
        paced.push(phase);
    }

    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mut report = json!({
        "method": METHOD,
        "backend": "aws-lc-rs",
        "connections": args.connections,
        "cores": cores,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "sustained": sustained,
        "paced": paced,
    });
    if let Some(sign) = args.openssl_sign_per_s {
        let ceiling = 2.0 * sign;
        report["openssl_rsa2048_sign_per_s"] = json!(sign);
        report["ceiling_requests_per_s"] = json!(ceiling.round());
        report["sustained_percent_of_ceiling"] =
            json!((sustained_rps / ceiling * 1000.0).round() / 10.0);
        // CPU-normalised: OpenSSL's figure is per CPU second (it divides by user CPU time), so
        // compare it with the emulator's CPU per request rather than with wall-clock rates
        // on a shared machine.
        if emu_cpu > 0.0 {
            let per_cpu_s = requests / emu_cpu;
            report["emulator_requests_per_cpu_s"] = json!(per_cpu_s.round());
            report["emulator_two_core_projection_percent_of_ceiling"] =
                json!((2.0 * per_cpu_s / ceiling * 1000.0).round() / 10.0);
        }
    }
    Ok(report)
}
