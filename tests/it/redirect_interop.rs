//! Interop of the redirect outputs: the official SDKs verify what `alipay::Client` renders.
//!
//! From a seed (`$INTEROP_SEED`, printed), this generates orders with awkward subjects (Chinese,
//! spaces, quotes, `&`, `<`, `'`, `+`, `%`, emoji), bodies and `passback_params`, optional
//! `notify_url` / `return_url` / `app_auth_token`, and renders each through the real facade as
//! all five outputs: the `page_pay` form, `page_pay_url`, the `wap_pay` form, `wap_pay_url` and
//! the `app_pay` order string. The app signs with RSA2 and a PKCS#1 key, a PKCS#8 key, or in
//! certificate mode (`app_cert_sn` / `alipay_root_cert_sn`); the key and certificates are those of
//! `crates/alipay-sign/tests/data`. The cases go to a temp folder as JSON, and then:
//!
//! * `tests/interop/redirect_verify.mjs` parses each output (form inputs HTML-unescaped, queries
//!   percent-decoded) and verifies it with the official Node SDK (`alipay-sdk` 4.14.0):
//!   `AlipaySdk#checkNotifySignV2` and `AlipaySdk#notifyRSACheck` with `sign_type` kept (the
//!   request rule), configured with the app's public key as `alipayPublicKey` (in certificate
//!   mode taken from the app certificate by the SDK's `loadPublicKey`; the SDK's `getSN` must give
//!   the SNs that were sent);
//! * `tests/interop/redirect_verify.py` does the same with the official Python SDK
//!   (`alipay-sdk-python` 3.7.1411): `SignatureUtils.get_sign_content` and `verify_with_rsa`.
//!
//! Each case must come back with exactly the parameters that were signed, verified; with one
//! byte of one parameter value flipped it must be rejected; and a control set signed with a key
//! that is not the app's must be rejected. The numbers of verified, tamper-rejected and rejected
//! cases are asserted exactly.
//!
//! Without an oracle a test prints that it was not run and passes, unless `REQUIRE_INTEROP=1`
//! (both SDKs, set by `tests/interop/run.sh`) or `REQUIRE_INTEROP_PYTHON=1` (the Python one)
//! makes that a failure.

// The helpers below are test code too: cfg(test) lets clippy's allow-*-in-tests cover them.
#![cfg(test)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::support::Rng;
use alipay::model::trade::{AppPayRequest, PagePayRequest, WapPayRequest};
use alipay::model::{Amount, RedirectRequest};
use alipay::{Client, FixedClock, RequestOptions, format_v2_timestamp};
use serde_json::{Value, json};

/// Seed used when `$INTEROP_SEED` is not set.
const DEFAULT_SEED: u64 = 20_261_126_062_500;
const NODE_SDK: &str = "alipay-sdk 4.14.0";
const PYTHON_SDK: &str = "alipay-sdk-python 3.7.1411";
const APP_ID: &str = "2021000000000001";
const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// 2026-11-26 12:00:00 UTC, inside the validity of the test certificates.
const BASE_UNIX_MS: u64 = 1_795_694_400_000;

/// Rounds per key mode; each round renders all five outputs.
const ROUNDS: usize = 12;
/// Rounds signed with a key that is not the app's (every output must be rejected).
const CONTROL_ROUNDS: usize = 2;
const OUTPUTS: [Output; 5] = [
    Output::PagePayForm,
    Output::PagePayUrl,
    Output::WapPayForm,
    Output::WapPayUrl,
    Output::AppPay,
];
const KEY_MODES: [KeyMode; 3] = [KeyMode::Pkcs1, KeyMode::Pkcs8, KeyMode::Certificate];
/// Cases that must verify: 12 rounds × 3 key modes × 5 outputs.
const VALID_CASES: usize = 180;
/// Cases that must be rejected: 2 rounds × 5 outputs.
const CONTROL_CASES: usize = 10;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/alipay-sign/tests/data")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn required(vars: &[&str]) -> bool {
    vars.iter().any(|v| std::env::var(v).as_deref() == Ok("1"))
}

fn seed() -> u64 {
    match std::env::var("INTEROP_SEED") {
        Ok(s) => s
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("INTEROP_SEED={s:?} is not a u64: {e}")),
        Err(_) => DEFAULT_SEED,
    }
}

// ---------------------------------------------------------------------------------------------
// Case generation
// ---------------------------------------------------------------------------------------------

/// One of these is in every subject, in turn, so every kind of character is covered whatever the
/// seed.
const REQUIRED_FRAGMENTS: [&str; 10] = [
    "测试商品",
    " ",
    "\"",
    "'",
    "&",
    "<",
    "+",
    "%",
    "😀",
    "a+b=c&d",
];

/// Text the generator mixes into subjects, bodies, URLs and `passback_params`.
const FRAGMENTS: [&str; 34] = [
    "测试",
    "商品",
    "订单号",
    "支付宝",
    "（含税）",
    " ",
    "  ",
    "\"",
    "'",
    "&",
    "<",
    ">",
    "+",
    "%",
    "%20",
    "%E4%B8",
    "&amp;",
    "&#39;",
    "&lt;b&gt;",
    "😀",
    "🧧",
    "👨\u{200d}👩\u{200d}👧",
    "=",
    "?",
    "#",
    "/",
    "\\",
    "Book",
    "a+b=c",
    "100%",
    "<script>x</script>",
    "é",
    "ß",
    "\t",
];

fn text(rng: &mut Rng, required: Option<&str>, max: usize) -> String {
    let n = 1 + rng.below(max);
    let at = rng.below(n + 1);
    let mut out = String::new();
    for i in 0..=n {
        if let Some(r) = required.filter(|_| i == at) {
            out.push_str(r);
        }
        if i < n {
            let fragment: &&str = rng.pick(&FRAGMENTS);
            out.push_str(fragment);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyMode {
    Pkcs1,
    Pkcs8,
    Certificate,
    /// Signs with the Alipay test key while the oracles get the app's public key.
    WrongKey,
}

impl KeyMode {
    fn name(self) -> &'static str {
        match self {
            Self::Pkcs1 => "rsa2-pkcs1",
            Self::Pkcs8 => "rsa2-pkcs8",
            Self::Certificate => "rsa2-cert",
            Self::WrongKey => "wrong-key",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    PagePayForm,
    PagePayUrl,
    WapPayForm,
    WapPayUrl,
    AppPay,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Self::PagePayForm => "page_pay",
            Self::PagePayUrl => "page_pay_url",
            Self::WapPayForm => "wap_pay",
            Self::WapPayUrl => "wap_pay_url",
            Self::AppPay => "app_pay",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::PagePayForm | Self::WapPayForm => "form",
            Self::PagePayUrl | Self::WapPayUrl => "url",
            Self::AppPay => "order_string",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::PagePayForm | Self::PagePayUrl => "alipay.trade.page.pay",
            Self::WapPayForm | Self::WapPayUrl => "alipay.trade.wap.pay",
            Self::AppPay => "alipay.trade.app.pay",
        }
    }
}

/// The business fields of one order.
struct Order {
    out_trade_no: String,
    amount: Amount,
    subject: String,
    body: Option<String>,
    passback_params: Option<String>,
}

/// One rendered output and what the SDKs must find in it.
struct Case {
    id: String,
    output: Output,
    mode: KeyMode,
    rendered: String,
    /// Every signed parameter (all but `sign`), as alipay-rs was asked to send it.
    expected: BTreeMap<String, String>,
    /// What `biz_content` must decode to, field by field.
    order: Order,
    /// One parameter with one ASCII byte of its value flipped.
    tamper: Option<(String, String)>,
}

struct Keys {
    pkcs1: Vec<u8>,
    pkcs8: Vec<u8>,
    wrong: Vec<u8>,
    app_cert: Vec<u8>,
    alipay_cert: Vec<u8>,
    root: Vec<u8>,
    alipay_public: Vec<u8>,
    app_public: Vec<u8>,
}

impl Keys {
    fn load() -> Self {
        let read = |name: &str| {
            let path = data_dir().join(name);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        Self {
            pkcs1: read("app_private_pkcs1.pem"),
            pkcs8: read("app_private_pkcs8.pem"),
            wrong: read("alipay_private_pkcs1.pem"),
            app_cert: read("app_cert.crt"),
            alipay_cert: read("alipay_cert_chain.crt"),
            root: read("root_bundle.crt"),
            alipay_public: read("alipay_public.pem"),
            app_public: read("app_public.pem"),
        }
    }

    fn client(&self, mode: KeyMode, round: usize, now_ms: u64) -> Client {
        let builder = Client::builder()
            .app_id(APP_ID)
            .clock(Arc::new(FixedClock::from_unix_millis(now_ms)));
        let builder = match mode {
            KeyMode::Pkcs1 => builder
                .app_private_key(&self.pkcs1)
                .alipay_public_key(&self.alipay_public),
            KeyMode::Pkcs8 => builder
                .app_private_key(&self.pkcs8)
                .alipay_public_key(&self.alipay_public),
            KeyMode::Certificate => builder
                .app_private_key(if round.is_multiple_of(2) {
                    &self.pkcs8
                } else {
                    &self.pkcs1
                })
                .certificates(&self.app_cert, &self.alipay_cert, &self.root),
            // Any public key but the signing key's own is accepted here.
            KeyMode::WrongKey => builder
                .app_private_key(&self.wrong)
                .alipay_public_key(&self.app_public),
        };
        builder
            .build()
            .unwrap_or_else(|e| panic!("client ({}): {e}", mode.name()))
    }
}

fn generate(seed: u64) -> Vec<Case> {
    let keys = Keys::load();
    let app_cert_sn = alipay::sign::cert_sn(&keys.app_cert).unwrap();
    let root_cert_sn = alipay::sign::root_cert_sn(&keys.root).unwrap();
    let mut rng = Rng::new(seed);
    let mut cases = Vec::new();
    let modes = KEY_MODES
        .iter()
        .flat_map(|m| std::iter::repeat_n(*m, ROUNDS))
        .chain(std::iter::repeat_n(KeyMode::WrongKey, CONTROL_ROUNDS));
    for (round, mode) in modes.enumerate() {
        // Up to a year after the base time, whole seconds (the timestamp has no fraction).
        let now_ms = BASE_UNIX_MS + (rng.next_u64() % (365 * 86_400)) * 1000;
        let client = keys.client(mode, round, now_ms);
        for output in OUTPUTS {
            let n = cases.len();
            let len = 1 + rng.below(20);
            let order = Order {
                out_trade_no: format!("T{n}{}", rng.alnum(len)),
                amount: Amount::from_fen(1 + rng.next_u64() % 10_000_000_000),
                subject: text(
                    &mut rng,
                    Some(REQUIRED_FRAGMENTS[n % REQUIRED_FRAGMENTS.len()]),
                    6,
                ),
                body: rng.chance(50).then(|| text(&mut rng, None, 8)),
                passback_params: rng
                    .chance(40)
                    .then(|| format!("a=1&b={}", text(&mut rng, None, 3))),
            };
            let mut options = RequestOptions::new();
            let mut extra: Vec<(&str, String)> = Vec::new();
            if rng.chance(60) {
                let url = format!(
                    "https://shop.example/notify?o={}&t={}",
                    rng.alnum(6),
                    text(&mut rng, None, 2)
                );
                options = options.notify_url(url.clone());
                extra.push(("notify_url", url));
            }
            if rng.chance(60) {
                let url = format!("https://shop.example/return/{}?q=<1>&r='2'", rng.alnum(4));
                options = options.return_url(url.clone());
                extra.push(("return_url", url));
            }
            if rng.chance(40) {
                let token = format!("202611BB{}", rng.alnum(24));
                options = options.app_auth_token(token.clone());
                extra.push(("app_auth_token", token));
            }
            let (rendered, biz_content) = render(&client, output, &order, &options);
            let ts = format_v2_timestamp(UNIX_EPOCH + Duration::from_millis(now_ms));
            let mut expected: BTreeMap<String, String> = [
                ("app_id", APP_ID.to_owned()),
                ("method", output.method().to_owned()),
                ("charset", "utf-8".to_owned()),
                ("sign_type", "RSA2".to_owned()),
                ("timestamp", ts),
                ("version", "1.0".to_owned()),
                ("biz_content", biz_content),
            ]
            .into_iter()
            .chain(extra)
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            if mode == KeyMode::Certificate {
                expected.insert("app_cert_sn".to_owned(), app_cert_sn.clone());
                expected.insert("alipay_root_cert_sn".to_owned(), root_cert_sn.clone());
            }
            let tamper = (mode != KeyMode::WrongKey).then(|| tamper(&mut rng, &expected));
            cases.push(Case {
                id: format!("{n:03}-{}-{}", mode.name(), output.name()),
                output,
                mode,
                rendered,
                expected,
                order,
                tamper,
            });
        }
    }
    cases
}

/// Renders one output through the facade; returns it and the `biz_content` the model serialises.
fn render(
    client: &Client,
    output: Output,
    o: &Order,
    options: &RequestOptions,
) -> (String, String) {
    fn finish<R: RedirectRequest>(
        order: &R,
        result: Result<String, alipay::Error>,
    ) -> (String, String) {
        (
            result.unwrap_or_else(|e| panic!("{}: {e}", R::METHOD)),
            order.biz_content().unwrap(),
        )
    }
    // The order of a case as a `$request`, rendered by `client.$render`.
    macro_rules! render {
        ($request:ident, $render:ident) => {{
            let mut order = $request::new(o.out_trade_no.as_str(), o.amount, o.subject.as_str());
            order.body.clone_from(&o.body);
            order.passback_params.clone_from(&o.passback_params);
            finish(&order, client.$render(&order, options))
        }};
    }
    match output {
        Output::PagePayForm => render!(PagePayRequest, page_pay),
        Output::PagePayUrl => render!(PagePayRequest, page_pay_url),
        Output::WapPayForm => render!(WapPayRequest, wap_pay),
        Output::WapPayUrl => render!(WapPayRequest, wap_pay_url),
        Output::AppPay => render!(AppPayRequest, app_pay),
    }
}

/// Picks a parameter and flips the low bit of one ASCII byte of its value (still valid UTF-8).
fn tamper(rng: &mut Rng, expected: &BTreeMap<String, String>) -> (String, String) {
    let keys: Vec<&String> = expected.keys().collect();
    let key = keys[rng.below(keys.len())].clone();
    let mut bytes = expected[&key].clone().into_bytes();
    let ascii: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] < 0x80).collect();
    assert!(!ascii.is_empty(), "{key} has no ASCII byte to flip");
    let at = ascii[rng.below(ascii.len())];
    bytes[at] ^= 0x01;
    (key, String::from_utf8(bytes).unwrap())
}

/// Writes the cases for the oracles; returns the file.
fn write_cases(dir: &Path, cases: &[Case]) -> PathBuf {
    let data = data_dir();
    let file = |name: &str| data.join(name).to_string_lossy().into_owned();
    let list: Vec<Value> = cases
        .iter()
        .map(|c| {
            let cert = c.mode == KeyMode::Certificate;
            json!({
                "id": c.id,
                "kind": c.output.kind(),
                "output": c.rendered,
                "gateway": PRODUCTION_GATEWAY,
                "public_key_file": file("app_public.pem"),
                "app_cert_file": cert.then(|| file("app_cert.crt")),
                "root_cert_file": cert.then(|| file("root_bundle.crt")),
                "tamper": c.tamper.as_ref().map(|(k, v)| json!({"key": k, "value": v})),
            })
        })
        .collect();
    let path = dir.join("cases.json");
    std::fs::write(&path, serde_json::to_vec(&list).unwrap()).unwrap();
    path
}

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn create(what: &str, seed: u64) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "alipay-redirect-interop-{what}-{}-{seed}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs an oracle with its stdout in a file (no pipe to fill), for at most two minutes, and
/// parses the one JSON object it prints.
fn run_oracle(mut command: Command, dir: &Path) -> Value {
    let out_path = dir.join("oracle.stdout");
    let err_path = dir.join("oracle.stderr");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut status = None;
    for _ in 0..1200 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{command:?} did not finish within 120 s");
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        status.success(),
        "{command:?}: {status}\n{stderr}\n{stdout}"
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{command:?} printed no JSON object ({e}):\n{stdout}\n{stderr}"))
}

// ---------------------------------------------------------------------------------------------
// Checks shared by both oracles
// ---------------------------------------------------------------------------------------------

/// Checks the parameters an SDK-side parser found against what was signed; pushes failures.
fn check_params(case: &Case, result: &Value, failures: &mut Vec<String>) {
    let id = &case.id;
    let Some(list) = result["params"].as_array() else {
        failures.push(format!("{id}: no params"));
        return;
    };
    let pairs: Vec<(String, String)> = list
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap_or_default().to_owned(),
                p[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let signs = pairs.iter().filter(|(k, _)| k == "sign").count();
    if signs != 1 {
        failures.push(format!("{id}: {signs} `sign` parameters"));
    }
    if case.output.kind() != "form" && pairs.last().map(|p| p.0.as_str()) != Some("sign") {
        failures.push(format!("{id}: `sign` is not the last parameter"));
    }
    let found: BTreeMap<String, String> = pairs.into_iter().filter(|(k, _)| k != "sign").collect();
    if found != case.expected {
        failures.push(format!(
            "{id}: the SDK side parsed other parameters\n  expected {:?}\n  found    {:?}",
            case.expected, found
        ));
        return;
    }
    // The business fields survive rendering and parsing character for character.
    let biz: Value = match serde_json::from_str(&found["biz_content"]) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("{id}: biz_content is not JSON: {e}"));
            return;
        }
    };
    let want = |field: &str, value: Option<&str>| (field.to_owned(), value.map(str::to_owned));
    for (field, value) in [
        want("out_trade_no", Some(&case.order.out_trade_no)),
        want("total_amount", Some(&case.order.amount.to_string())),
        want("subject", Some(&case.order.subject)),
        want("body", case.order.body.as_deref()),
        want("passback_params", case.order.passback_params.as_deref()),
    ] {
        let got = biz.get(&field).and_then(Value::as_str).map(str::to_owned);
        if got != value {
            failures.push(format!(
                "{id}: biz_content.{field} is {got:?}, expected {value:?}"
            ));
        }
    }
}

/// The string to sign of the request rule, computed here independently of alipay-rs.
fn request_string(expected: &BTreeMap<String, String>) -> String {
    expected
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn results<'a>(report: &'a Value, cases: &[Case], sdk: &str) -> &'a [Value] {
    assert_eq!(report["sdk"], sdk, "oracle SDK version");
    assert_eq!(
        report["cases"].as_u64(),
        Some(cases.len() as u64),
        "the oracle read another number of cases"
    );
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), cases.len(), "one result per case");
    for (case, result) in cases.iter().zip(results) {
        assert_eq!(result["id"], case.id.as_str(), "results out of order");
    }
    results
}

fn check_counts(cases: &[Case]) {
    let valid = cases.iter().filter(|c| c.mode != KeyMode::WrongKey).count();
    assert_eq!(valid, VALID_CASES, "cases produced");
    assert_eq!(cases.len() - valid, CONTROL_CASES, "control cases produced");
    assert_eq!(
        VALID_CASES,
        ROUNDS * KEY_MODES.len() * OUTPUTS.len(),
        "VALID_CASES"
    );
    assert_eq!(
        CONTROL_CASES,
        CONTROL_ROUNDS * OUTPUTS.len(),
        "CONTROL_CASES"
    );
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn official_node_sdk_verifies_forms_urls_and_order_strings() {
    let install = std::env::var_os("INTEROP_NODE_DIR")
        .map_or_else(|| repo_root().join(".cache/interop-node"), PathBuf::from);
    if !install
        .join("node_modules/alipay-sdk/package.json")
        .is_file()
    {
        let msg = format!(
            "redirect interop (Node): alipay-sdk not installed in {}; run tests/interop/setup.sh; not run",
            install.display()
        );
        assert!(!required(&["REQUIRE_INTEROP"]), "{msg}");
        crate::support::report(&msg);
        return;
    }
    let seed = seed();
    let started = Instant::now();
    let cases = generate(seed);
    check_counts(&cases);
    let scratch = Scratch::create("node", seed);
    let cases_file = write_cases(&scratch.0, &cases);
    let mut command = Command::new("node");
    command
        .arg(repo_root().join("tests/interop/redirect_verify.mjs"))
        .arg(&install)
        .arg(&cases_file);
    let report = run_oracle(command, &scratch.0);
    let results = results(&report, &cases, NODE_SDK);

    let mut failures = Vec::new();
    let (mut verified, mut tamper_rejected, mut control_rejected, mut sns) = (0, 0, 0, 0);
    for (case, r) in cases.iter().zip(results) {
        let id = &case.id;
        if !r["error"].is_null() {
            failures.push(format!("{id}: {}", r["error"]));
            continue;
        }
        check_params(case, r, &mut failures);
        let v2 = r["check_notify_sign_v2"] == true;
        let rule = r["request_rule"] == true;
        if case.mode == KeyMode::WrongKey {
            if !v2 && !rule {
                control_rejected += 1;
            } else {
                failures.push(format!(
                    "{id}: signed with the wrong key, yet accepted: {r}"
                ));
            }
            continue;
        }
        if v2 && rule {
            verified += 1;
        } else {
            failures.push(format!(
                "{id}: rejected (checkNotifySignV2 {v2}, request rule {rule}); output:\n{}",
                case.rendered
            ));
        }
        let t = &r["tampered"];
        if t["check_notify_sign_v2"] == false && t["request_rule"] == false {
            tamper_rejected += 1;
        } else {
            failures.push(format!(
                "{id}: accepted with {:?} tampered: {t}",
                case.tamper
            ));
        }
        if case.mode == KeyMode::Certificate {
            let app = r["sdk_app_cert_sn"].as_str();
            let root = r["sdk_root_cert_sn"].as_str();
            if app == Some(case.expected["app_cert_sn"].as_str())
                && root == Some(case.expected["alipay_root_cert_sn"].as_str())
            {
                sns += 1;
            } else {
                failures.push(format!("{id}: the SDK's getSN gives {app:?} / {root:?}"));
            }
        }
    }
    crate::support::report(&format!(
        "redirect interop (Node {}, {NODE_SDK}): seed {seed}: {verified} of {VALID_CASES} verified, \
         {tamper_rejected} tampered copies rejected, {control_rejected} of {CONTROL_CASES} wrong-key \
         outputs rejected, {sns} certificate SN pairs agree ({:.1} s)",
        report["node"].as_str().unwrap_or("?"),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        failures.is_empty(),
        "redirect interop (Node), seed {seed} (set INTEROP_SEED={seed} to replay): {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(verified, VALID_CASES);
    assert_eq!(tamper_rejected, VALID_CASES);
    assert_eq!(control_rejected, CONTROL_CASES);
    assert_eq!(sns, ROUNDS * OUTPUTS.len());
}

#[test]
fn official_python_sdk_verifies_forms_urls_and_order_strings() {
    let venv = std::env::var_os("INTEROP_PYTHON_DIR")
        .map_or_else(|| repo_root().join(".cache/interop-python"), PathBuf::from);
    let python = venv.join("bin/python");
    if !python.is_file() || !venv.join(".installed").is_file() {
        let msg = format!(
            "redirect interop (Python): alipay-sdk-python not installed in {}; run tests/interop/python_setup.sh; not run",
            venv.display()
        );
        assert!(
            !required(&["REQUIRE_INTEROP", "REQUIRE_INTEROP_PYTHON"]),
            "{msg}"
        );
        crate::support::report(&msg);
        return;
    }
    let seed = seed();
    let started = Instant::now();
    let cases = generate(seed);
    check_counts(&cases);
    let scratch = Scratch::create("python", seed);
    let cases_file = write_cases(&scratch.0, &cases);
    let mut command = Command::new(&python);
    command
        .arg(repo_root().join("tests/interop/redirect_verify.py"))
        .arg(&cases_file)
        .env("PYTHONIOENCODING", "utf-8");
    let report = run_oracle(command, &scratch.0);
    let results = results(&report, &cases, PYTHON_SDK);

    let mut failures = Vec::new();
    let (mut verified, mut tamper_rejected, mut control_rejected) = (0, 0, 0);
    for (case, r) in cases.iter().zip(results) {
        let id = &case.id;
        if !r["error"].is_null() {
            failures.push(format!("{id}: {}", r["error"]));
            continue;
        }
        check_params(case, r, &mut failures);
        let content = request_string(&case.expected);
        if r["sign_content"] != content.as_str() {
            failures.push(format!(
                "{id}: the SDK's get_sign_content gives {}, expected {content:?}",
                r["sign_content"]
            ));
        }
        let ok = r["verified"] == true;
        if case.mode == KeyMode::WrongKey {
            if ok {
                failures.push(format!("{id}: signed with the wrong key, yet accepted"));
            } else {
                control_rejected += 1;
            }
            continue;
        }
        if ok && r["hash"] == "SHA-256" {
            verified += 1;
        } else {
            failures.push(format!(
                "{id}: verify_with_rsa {ok}, hash {}; output:\n{}",
                r["hash"], case.rendered
            ));
        }
        if r["tampered_verified"] == false {
            tamper_rejected += 1;
        } else {
            failures.push(format!(
                "{id}: accepted with {:?} tampered: {}",
                case.tamper, r["tampered_verified"]
            ));
        }
    }
    crate::support::report(&format!(
        "redirect interop ({PYTHON_SDK}): seed {seed}: {verified} of {VALID_CASES} verified, \
         {tamper_rejected} tampered copies rejected, {control_rejected} of {CONTROL_CASES} wrong-key \
         outputs rejected ({:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    assert!(
        failures.is_empty(),
        "redirect interop (Python), seed {seed} (set INTEROP_SEED={seed} to replay): {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(verified, VALID_CASES);
    assert_eq!(tamper_rejected, VALID_CASES);
    assert_eq!(control_rejected, CONTROL_CASES);
}
