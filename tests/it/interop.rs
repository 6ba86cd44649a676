//! Interop against the official Alipay Node SDK (npm `alipay-sdk` 4.14.0).
//!
//! `tests/interop/setup.sh` installs the SDK into `<repo>/.cache/interop-node` (or
//! `$INTEROP_NODE_DIR`); `tests/interop/oracle.mjs` answers questions with the SDK's own functions
//! over JSON lines. This test generates random cases from a seed (`$INTEROP_SEED`, printed) and
//! checks, case by case, that alipay-rs produces and accepts exactly what the SDK does:
//!
//! * v2 strings to sign and signatures (RSA2 and RSA; PKCS#1, PKCS#8 and bare keys; Chinese
//!   text, `&`, `=`, `%`, `+`, spaces, quotes, emoji, empty values, JSON `biz_content`, AES
//!   `biz_content`, certificate mode) — the SDK keeps empty values, so they are compared with
//!   [`EmptyValues::Keep`], and our default is checked to drop them;
//! * each side verifies the other's signatures (plain `rsaCheck`, `checkNotifySignV2`,
//!   `checkResponseSign`, and the v3 response check inside `AlipaySdk#curl`);
//! * AES ciphertexts, both ways;
//! * the v3 `Authorization` header of a real `AlipaySdk#curl` request with pinned nonce and time;
//! * certificate SNs, root SNs and certificate public keys of certificates generated per run with
//!   `openssl` (random DNs and serials, including serials with the high bit set).
//!
//! Without the oracle the test prints "interop oracle not installed; run tests/interop/setup.sh;
//! not run" and passes, unless `REQUIRE_INTEROP=1` makes that a failure. Signing with legacy
//! `sign_type=RSA` and with 1024-bit keys needs the `rust-crypto` feature; without it those cases
//! check that signing fails with an `unsupported` error and still compare everything else.

// The helpers below are test code too: cfg(test) lets clippy's allow-*-in-tests cover them.
#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use crate::support::Rng;
use alipay_sign::{
    AesKey, AuthString, Certificate, Charset, EmptyValues, PrivateKey, PublicKey, RsaSigner,
    RsaVerifier, Rule, SignType, Signer, Verifier, canonical_string, canonical_string_with,
    cert_sn, extract_response, root_cert_sn, sign_params, v3_response_content, v3_sign_request,
    v3_verify_response, verify_params,
};
use serde_json::{Map, Value, json};

/// Seed used when `$INTEROP_SEED` is not set.
const DEFAULT_SEED: u64 = 20_240_513_174_920;
/// The SDK version the oracle must report.
const SDK_VERSION: &str = "4.14.0";

const SIGN_CASES: usize = 150;
const NOTIFY_CASES: usize = 40;
const RESPONSE_CASES: usize = 30;
const AES_CASES: usize = 60;
const V3_CASES: usize = 50;
const CERT_CASES: usize = 14;
const BUNDLE_CASES: usize = 5;
const MIN_CASES: usize = 300;

/// Parameter names the SDK sets itself from its configuration (or treats specially).
const RESERVED: [&str; 14] = [
    "app_id",
    "method",
    "charset",
    "version",
    "sign_type",
    "timestamp",
    "sign",
    "biz_content",
    "encrypt_type",
    "app_cert_sn",
    "alipay_root_cert_sn",
    "need_encrypt",
    "ws_service_url",
    "alipay_sdk",
];

/// Realistic optional request parameters.
const COMMON_PARAMS: [&str; 9] = [
    "notify_url",
    "return_url",
    "app_auth_token",
    "auth_token",
    "format",
    "prod_code",
    "terminal_type",
    "terminal_info",
    "target_app_id",
];

#[test]
fn official_node_sdk() {
    let required = std::env::var("REQUIRE_INTEROP").as_deref() == Ok("1");
    let install = install_dir();
    if !install
        .join("node_modules")
        .join("alipay-sdk")
        .join("package.json")
        .is_file()
    {
        assert!(
            !required,
            "REQUIRE_INTEROP=1 but the interop oracle is not installed in {}; run tests/interop/setup.sh",
            install.display()
        );
        println!("interop oracle not installed; run tests/interop/setup.sh; not run");
        return;
    }
    if Command::new(openssl_binary())
        .arg("version")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        assert!(
            !required,
            "REQUIRE_INTEROP=1 but `openssl` is not available"
        );
        println!("interop: `openssl` not found; not run");
        return;
    }

    let seed = match std::env::var("INTEROP_SEED") {
        Ok(s) => s
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("INTEROP_SEED={s:?} is not a u64: {e}")),
        Err(_) => DEFAULT_SEED,
    };
    println!("interop: seed {seed} (set INTEROP_SEED={seed} to replay)");
    let started = Instant::now();

    let mut oracle = Oracle::spawn(&install).unwrap_or_else(|e| panic!("{e}"));
    let hello = oracle
        .call("hello", json!({}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hello["sdk_version"], SDK_VERSION, "oracle SDK version");
    println!(
        "interop: oracle alipay-sdk {} on Node {}",
        hello["sdk_version"].as_str().unwrap_or("?"),
        hello["node_version"].as_str().unwrap_or("?")
    );

    let mut rng = Rng::new(seed);
    let scratch = Scratch::create(seed);
    let fixtures = Fixtures::generate(&scratch.0, &mut rng);
    let mut ctx = Ctx {
        rng,
        oracle,
        fx: fixtures,
        tally: Tally::default(),
    };

    for i in 0..CERT_CASES {
        cert_case(&mut ctx, i);
    }
    for i in 0..BUNDLE_CASES {
        bundle_case(&mut ctx, i);
    }
    for i in 0..SIGN_CASES {
        sign_case(&mut ctx, i);
    }
    for i in 0..NOTIFY_CASES {
        notify_case(&mut ctx, i);
    }
    for i in 0..RESPONSE_CASES {
        response_case(&mut ctx, i);
    }
    for i in 0..AES_CASES {
        aes_case(&mut ctx, i);
    }
    for i in 0..V3_CASES {
        v3_case(&mut ctx, i);
    }

    let cases = CERT_CASES
        + BUNDLE_CASES
        + SIGN_CASES
        + NOTIFY_CASES
        + RESPONSE_CASES
        + AES_CASES
        + V3_CASES;
    let tally = &ctx.tally;
    for (check, (passed, failed)) in &tally.counts {
        println!("interop: {check}: {passed} passed, {failed} failed");
    }
    let passed: usize = tally.counts.values().map(|c| c.0).sum();
    let failed: usize = tally.counts.values().map(|c| c.1).sum();
    println!(
        "interop: {cases} cases, {passed} checks passed, {failed} failed (seed {seed}, rust-crypto {}, {:.1} s)",
        if rust_crypto() { "on" } else { "off" },
        started.elapsed().as_secs_f64()
    );
    assert!(cases >= MIN_CASES, "only {cases} cases");
    assert!(
        tally.failures.is_empty(),
        "interop: {failed} checks failed (seed {seed}); first failures:\n{}",
        tally.failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

struct Ctx {
    rng: Rng,
    oracle: Oracle,
    fx: Fixtures,
    tally: Tally,
}

impl Ctx {
    fn call(&mut self, op: &str, req: Value) -> Result<Value, String> {
        self.oracle.call(op, req)
    }
}

/// Certificate SN and public key of one generated certificate.
fn cert_case(ctx: &mut Ctx, i: usize) {
    let cert = &ctx.fx.certs[i % ctx.fx.certs.len()];
    let case = format!("cert #{i} ({})", cert.label);
    let pem = cert.pem.clone();
    let rsa_key = cert.rsa_key.is_some();
    let node = match ctx.call("cert_sn", json!({ "pem": pem })) {
        Ok(v) => v,
        Err(e) => return ctx.tally.fail("cert sn", &case, &e),
    };
    let ours = cert_sn(pem.as_bytes()).map_err(|e| e.to_string());
    ctx.tally.record(
        "cert sn",
        &case,
        same(
            "sn",
            ours.as_deref().map_err(Clone::clone),
            field(&node, "sn"),
        ),
    );
    let our_key = Certificate::parse_bundle(pem.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|c| {
            c.first()
                .cloned()
                .ok_or_else(|| "no certificate".to_owned())
        })
        .and_then(|c| c.public_key().map_err(|e| e.to_string()))
        .map(|k| k.to_base64());
    if rsa_key {
        ctx.tally.record(
            "cert public key",
            &case,
            same(
                "public key",
                our_key.as_deref().map_err(Clone::clone),
                field(&node, "public_key"),
            ),
        );
    }
}

/// `alipay_root_cert_sn` of a bundle of generated certificates (file order, RSA-signed only).
fn bundle_case(ctx: &mut Ctx, i: usize) {
    let (label, pem, has_rsa) = if i == 0 {
        // A bundle without RSA-signed certificates: the SDK answers "", we refuse it.
        let ec: Vec<&CertFile> = ctx.fx.certs.iter().filter(|c| !c.rsa_signed).collect();
        let pem = ec
            .iter()
            .map(|c| c.pem.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        ("ec-only".to_owned(), pem, false)
    } else {
        let b = &ctx.fx.bundles[i % ctx.fx.bundles.len()];
        (b.label.clone(), b.pem.clone(), true)
    };
    let case = format!("bundle #{i} ({label})");
    let node = match ctx.call("root_sn", json!({ "pem": pem })) {
        Ok(v) => v,
        Err(e) => return ctx.tally.fail("root cert sn", &case, &e),
    };
    let node_sn = node["sn"].as_str().unwrap_or("?");
    let ours = root_cert_sn(pem.as_bytes());
    let outcome = if has_rsa {
        same(
            "root sn",
            ours.as_deref().map_err(ToString::to_string),
            Ok(node_sn),
        )
    } else {
        match ours {
            Err(e) if e.is_certificate() && node_sn.is_empty() => Ok(()),
            other => Err(format!(
                "bundle without RSA certificates: ours {other:?}, Node {node_sn:?}"
            )),
        }
    };
    ctx.tally.record("root cert sn", &case, outcome);
}

/// One v2 request: string to sign and signature against `sdkExecute`, both verifications.
fn sign_case(ctx: &mut Ctx, i: usize) {
    let rng = &mut ctx.rng;
    let key = ctx.fx.pick_key_form(rng);
    let sign_type = if rng.chance(25) {
        SignType::Rsa
    } else {
        SignType::Rsa2
    };
    let app_id = format!("2021{:012}", rng.below(1_000_000_000_000));
    let method = random_method(rng);
    let timestamp = random_timestamp(rng);
    let mut params: Vec<(String, String)> = Vec::new();
    let mut used: BTreeSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    for _ in 0..rng.below(9) {
        let k = if rng.chance(40) {
            (*rng.pick(&COMMON_PARAMS)).to_owned()
        } else {
            ident(rng)
        };
        if used.insert(k.clone()) {
            let v = if rng.chance(15) {
                String::new()
            } else {
                text(rng, 24)
            };
            params.push((k, v));
        }
    }
    let biz = if rng.chance(75) {
        Some(serde_json::to_string(&json_object(rng, 0)).unwrap())
    } else {
        None
    };
    let aes = if biz.is_some() && rng.chance(20) {
        Some(random_aes_key(rng))
    } else {
        None
    };
    let cert_mode = rng.chance(20);
    let (app_cert, alipay_cert, root) = if cert_mode {
        let (a, b, r) = ctx.fx.pick_cert_mode(rng);
        (Some(a), Some(b), Some(r))
    } else {
        (None, None, None)
    };
    let case = format!(
        "sign #{i} ({}, {}, {} params{}{}{})",
        key.label,
        sign_type,
        params.len(),
        if biz.is_some() { ", biz_content" } else { "" },
        if aes.is_some() { ", AES" } else { "" },
        if cert_mode { ", cert mode" } else { "" }
    );

    let mut req = json!({
        "private_key": key.text,
        "key_type": key.key_type,
        "sign_type": sign_type.as_str(),
        "app_id": app_id,
        "method": method,
        "charset": "utf-8",
        "version": "1.0",
        "params": params_object(&params, &timestamp),
    });
    if let Some(b) = &biz {
        req["biz_content"] = json!(b);
    }
    if let Some(k) = &aes {
        req["need_encrypt"] = json!(true);
        req["encrypt_key"] = json!(k);
    }
    if let (Some(a), Some(b), Some(r)) = (&app_cert, &alipay_cert, &root) {
        req["app_cert"] = json!(a);
        req["alipay_public_cert"] = json!(b);
        req["alipay_root_cert"] = json!(r);
    }
    let node = match ctx.call("sign_v2", req) {
        Ok(v) => v,
        Err(e) => return ctx.tally.fail("v2 sign (Node)", &case, &e),
    };
    let node_content = node["content"].as_str().unwrap_or_default().to_owned();
    let node_sign = node["sign"].as_str().unwrap_or_default().to_owned();
    let node_pairs: Vec<(String, String)> = node["pairs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_owned(),
                        p[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();

    // Our parameter set, built independently of the SDK's answer.
    let mut ours: Vec<(String, String)> = vec![
        ("app_id".into(), app_id),
        ("method".into(), method),
        ("charset".into(), "utf-8".into()),
        ("version".into(), "1.0".into()),
        ("sign_type".into(), sign_type.as_str().into()),
        ("timestamp".into(), timestamp),
    ];
    ours.extend(params.iter().cloned());
    if let Some(b) = &biz {
        match &aes {
            Some(k) => {
                let ct = AesKey::from_base64(k).unwrap().encrypt(b.as_bytes());
                ours.push(("biz_content".into(), ct));
                ours.push(("encrypt_type".into(), "AES".into()));
            }
            None => ours.push(("biz_content".into(), b.clone())),
        }
    }
    if let (Some(a), Some(r)) = (&app_cert, &root) {
        match (cert_sn(a.as_bytes()), root_cert_sn(r.as_bytes())) {
            (Ok(a_sn), Ok(r_sn)) => {
                ours.push(("app_cert_sn".into(), a_sn));
                ours.push(("alipay_root_cert_sn".into(), r_sn));
            }
            (a_sn, r_sn) => {
                return ctx.tally.fail(
                    "v2 canonical (keep empty) == Node",
                    &case,
                    &format!("cert SNs failed: {a_sn:?} {r_sn:?}"),
                );
            }
        }
    }
    // A `sign` parameter must never be part of the string.
    let mut with_sign = ours.clone();
    with_sign.push(("sign".into(), "c2lnbg==".into()));

    let keep = canonical_string_with(with_sign.iter().cloned(), Rule::Request, EmptyValues::Keep);
    ctx.tally.record(
        "v2 canonical (keep empty) == Node",
        &case,
        same("string to sign", Ok(&keep), Ok(&node_content)),
    );
    let expected_default = node_pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let default = canonical_string(with_sign.iter().cloned(), Rule::Request);
    ctx.tally.record(
        "v2 canonical (default) drops empty values",
        &case,
        same("string to sign", Ok(&default), Ok(&expected_default)),
    );

    // We verify the SDK's signature, and refuse it over altered content.
    let verifier = RsaVerifier::new(&key.public).unwrap();
    let verified = verifier.verify_base64(sign_type, node_content.as_bytes(), &node_sign);
    let tampered =
        verifier.verify_base64(sign_type, format!("{node_content}&").as_bytes(), &node_sign);
    ctx.tally.record(
        "v2 we verify Node's signature",
        &case,
        match (verified, tampered) {
            (Ok(()), Err(e)) if e.is_invalid_signature() => Ok(()),
            (v, t) => Err(format!("verify {v:?}, tampered {t:?}")),
        },
    );
    let has_empty = node_pairs.iter().any(|(_, v)| v.is_empty());
    if !has_empty {
        let mut signed = node_pairs;
        signed.push(("sign".into(), node_sign.clone()));
        ctx.tally.record(
            "v2 verify_params accepts Node's parameters",
            &case,
            verify_params(&verifier, signed, Rule::Request, sign_type, Charset::Utf8)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
    }

    // Our signatures: identical bytes, and the SDK accepts them.
    let signer = RsaSigner::new(&key.key).unwrap();
    let ours_keep = signer.sign_base64(sign_type, keep.as_bytes());
    if !can_sign(sign_type, key.bits) {
        ctx.tally.record(
            "without rust-crypto: RSA/short-key signing is unsupported",
            &case,
            match ours_keep {
                Err(e) if e.is_unsupported() => Ok(()),
                other => Err(format!("expected an unsupported error, got {other:?}")),
            },
        );
        return;
    }
    ctx.tally.record(
        "v2 signature == Node",
        &case,
        same(
            "sign",
            ours_keep.as_deref().map_err(ToString::to_string),
            Ok(&node_sign),
        ),
    );
    if !has_empty {
        let signed = sign_params(&signer, with_sign.iter().cloned(), sign_type, Charset::Utf8);
        ctx.tally.record(
            "v2 sign_params == Node (no empty values)",
            &case,
            match signed {
                Ok(s) if s.sign == node_sign && s.content == node_content => Ok(()),
                other => Err(format!("sign_params gave {other:?}")),
            },
        );
    }
    let our_sign = match signer.sign_base64(sign_type, default.as_bytes()) {
        Ok(s) => s,
        Err(e) => {
            return ctx
                .tally
                .fail("v2 Node verifies our signature", &case, &e.to_string());
        }
    };
    let public = if ctx.rng.chance(50) {
        key.public.to_pem()
    } else {
        key.public.to_base64()
    };
    let good = ctx.call(
        "verify",
        json!({ "public_key": public, "content": default, "sign": our_sign, "sign_type": sign_type.as_str() }),
    );
    let bad = ctx.call(
        "verify",
        json!({ "public_key": public, "content": format!("{default}x"), "sign": our_sign, "sign_type": sign_type.as_str() }),
    );
    ctx.tally.record(
        "v2 Node verifies our signature",
        &case,
        match (good, bad) {
            (Ok(g), Ok(b)) if g["verified"] == json!(true) && b["verified"] == json!(false) => {
                Ok(())
            }
            (g, b) => Err(format!("Node said {g:?} / tampered {b:?}")),
        },
    );
}

/// A notification signed by us (rule V1 or V2) checked by `checkNotifySignV2`.
fn notify_case(ctx: &mut Ctx, i: usize) {
    let rng = &mut ctx.rng;
    let key = ctx.fx.pick_key_form(rng);
    let sign_type = if rust_crypto() && rng.chance(25) {
        SignType::Rsa
    } else {
        SignType::Rsa2
    };
    if !can_sign(sign_type, key.bits) {
        return notify_case(ctx, i);
    }
    let rule = if rng.chance(50) {
        Rule::NotifyV1
    } else {
        Rule::NotifyV2
    };
    let mut fields: Vec<(String, String)> = vec![
        ("notify_time".into(), random_timestamp(rng)),
        ("notify_type".into(), "trade_status_sync".into()),
        ("notify_id".into(), format!("2024{:020}", rng.next_u64())),
        (
            "app_id".into(),
            format!("2021{:012}", rng.below(1_000_000_000_000)),
        ),
        ("charset".into(), "utf-8".into()),
        ("version".into(), "1.0".into()),
        ("sign_type".into(), sign_type.as_str().into()),
        ("trade_no".into(), format!("2024{:024}", rng.next_u64())),
        ("out_trade_no".into(), text(rng, 16).replace(' ', "_") + "x"),
        (
            "trade_status".into(),
            (*rng.pick(&[
                "TRADE_SUCCESS",
                "TRADE_CLOSED",
                "WAIT_BUYER_PAY",
                "TRADE_FINISHED",
            ]))
            .into(),
        ),
        (
            "total_amount".into(),
            format!("{}.{:02}", rng.below(100_000), rng.below(100)),
        ),
        ("subject".into(), text(rng, 20) + "商品"),
    ];
    let mut used: BTreeSet<String> = fields.iter().map(|(k, _)| k.clone()).collect();
    used.insert("sign".into());
    for _ in 0..rng.below(5) {
        let k = ident(rng);
        if used.insert(k.clone()) {
            fields.push((k, text(rng, 20) + "v"));
        }
    }
    if rng.chance(30) {
        fields.push((
            "fund_bill_list".into(),
            r#"[{"amount":"0.01","fundChannel":"ALIPAYACCOUNT"}]"#.into(),
        ));
    }
    let case = format!("notify #{i} ({}, {sign_type}, {rule:?})", key.label);
    let signer = RsaSigner::new(&key.key).unwrap();
    let content = canonical_string(fields.iter().cloned(), rule);
    let sign = match signer.sign_base64(sign_type, content.as_bytes()) {
        Ok(s) => s,
        Err(e) => {
            return ctx
                .tally
                .fail("notify Node verifies ours", &case, &e.to_string());
        }
    };
    let mut post = Map::new();
    for (k, v) in &fields {
        post.insert(k.clone(), json!(v));
    }
    post.insert("sign".into(), json!(sign));
    let public = key.public.to_base64();
    let good = ctx.call(
        "notify_verify",
        json!({ "public_key": public, "post_data": Value::Object(post.clone()) }),
    );
    // Alter one value (not `sign_type`, which picks the digest): the SDK must refuse it.
    let alterable: Vec<&String> = fields
        .iter()
        .map(|(k, _)| k)
        .filter(|k| *k != "sign_type")
        .collect();
    let target = alterable[ctx.rng.below(alterable.len())].clone();
    if let Some(v) = post.get_mut(&target) {
        *v = json!(format!("{}!", v.as_str().unwrap_or_default()));
    }
    let bad = ctx.call(
        "notify_verify",
        json!({ "public_key": public, "post_data": Value::Object(post) }),
    );
    ctx.tally.record(
        "notify Node verifies ours (checkNotifySignV2)",
        &case,
        match (good, bad) {
            (Ok(g), Ok(b)) if g["verified"] == json!(true) && b["verified"] == json!(false) => {
                Ok(())
            }
            (g, b) => Err(format!("Node said {g:?} / altered {b:?}")),
        },
    );
}

/// A v2 response signed by us: `checkResponseSign` accepts it and extracts the same text as we do.
fn response_case(ctx: &mut Ctx, i: usize) {
    let rng = &mut ctx.rng;
    let key = ctx.fx.pick_key_form(rng);
    let sign_type = if rust_crypto() && rng.chance(20) {
        SignType::Rsa
    } else {
        SignType::Rsa2
    };
    if !can_sign(sign_type, key.bits) {
        return response_case(ctx, i);
    }
    let method = random_method(rng);
    let mut obj = Map::new();
    obj.insert("code".into(), json!("10000"));
    obj.insert("msg".into(), json!("Success"));
    if let Value::Object(extra) = json_object(rng, 0) {
        for (k, v) in extra {
            obj.entry(k).or_insert(v);
        }
    }
    obj.insert(
        "note".into(),
        json!(format!("{{\"sign\":\"x\"}} {}", text(rng, 10))),
    );
    obj.insert("url".into(), json!("https://qr.alipay.com/bax0?a=1&b=2"));
    let value = Value::Object(obj);
    let mut node_text = if rng.chance(30) {
        serde_json::to_string_pretty(&value).unwrap()
    } else {
        serde_json::to_string(&value).unwrap()
    };
    if rng.chance(50) {
        node_text = node_text.replace('/', "\\/");
    }
    let case = format!("response #{i} ({}, {sign_type}, {method})", key.label);
    let signer = RsaSigner::new(&key.key).unwrap();
    let sign = match signer.sign_base64(sign_type, node_text.as_bytes()) {
        Ok(s) => s,
        Err(e) => return ctx.tally.fail("v2 response", &case, &e.to_string()),
    };
    let name = format!("{}_response", method.replace('.', "_"));
    let body = match ctx.rng.below(3) {
        0 => format!(r#"{{"{name}":{node_text},"sign":"{sign}"}}"#),
        1 => format!(
            r#"{{"{name}":{node_text},"alipay_cert_sn":"{:032x}","sign":"{sign}"}}"#,
            ctx.rng.next_u64()
        ),
        _ => format!("{{\n  \"{name}\" : {node_text} ,\n  \"sign\" : \"{sign}\"\n}}\n"),
    };
    let node = ctx.call(
        "response_verify_v2",
        json!({ "public_key": key.public.to_pem(), "sign_type": sign_type.as_str(), "method": method, "body": body }),
    );
    ctx.tally.record(
        "v2 response: Node checkResponseSign accepts ours",
        &case,
        match node {
            Ok(n) if n["verified"] == json!(true) && n["sign_str"] == json!(node_text) => Ok(()),
            other => Err(format!("Node said {other:?}")),
        },
    );
    let verifier = RsaVerifier::new(&key.public).unwrap();
    ctx.tally.record(
        "v2 response: extract_response == signed text",
        &case,
        match extract_response(body.as_bytes(), &method, Charset::Utf8) {
            Ok(p)
                if p.content == node_text.as_bytes()
                    && p.sign.as_deref() == Some(sign.as_str()) =>
            {
                p.verify(&verifier, sign_type).map_err(|e| e.to_string())
            }
            other => Err(format!("extract gave {other:?}")),
        },
    );
}

/// AES: identical ciphertexts and decryption both ways.
fn aes_case(ctx: &mut Ctx, i: usize) {
    let rng = &mut ctx.rng;
    let key_b64 = if rng.chance(85) {
        random_aes_key(rng)
    } else {
        let n = *rng.pick(&[24usize, 32]);
        b64(&rng.bytes(n))
    };
    let plaintext = if rng.chance(5) {
        String::new()
    } else if rng.chance(50) {
        serde_json::to_string(&json_object(rng, 0)).unwrap()
    } else {
        text(rng, 80)
    };
    let case = format!(
        "aes #{i} ({} chars, {}-byte key)",
        plaintext.chars().count(),
        key_b64.len() * 3 / 4
    );
    let key = match AesKey::from_base64(&key_b64) {
        Ok(k) => k,
        Err(e) => {
            return ctx
                .tally
                .fail("aes ciphertext == Node", &case, &e.to_string());
        }
    };
    let ours = key.encrypt(plaintext.as_bytes());
    let node = ctx.call(
        "aes_encrypt",
        json!({ "key": key_b64, "plaintext": plaintext }),
    );
    let node_ct = match node {
        Ok(v) => v["ciphertext"].as_str().unwrap_or_default().to_owned(),
        Err(e) => return ctx.tally.fail("aes ciphertext == Node", &case, &e),
    };
    ctx.tally.record(
        "aes ciphertext == Node",
        &case,
        same("ciphertext", Ok(&ours), Ok(&node_ct)),
    );
    let node_pt = ctx.call("aes_decrypt", json!({ "key": key_b64, "ciphertext": ours }));
    ctx.tally.record(
        "aes Node decrypts ours",
        &case,
        match node_pt {
            Ok(v) if v["plaintext"] == json!(plaintext) => Ok(()),
            other => Err(format!("Node decrypted {other:?}")),
        },
    );
    ctx.tally.record(
        "aes we decrypt Node's",
        &case,
        match key.decrypt(&node_ct) {
            Ok(pt) if pt == plaintext.as_bytes() => Ok(()),
            other => Err(format!("we decrypted {other:?}")),
        },
    );
}

/// v3: a real `AlipaySdk#curl` request with pinned nonce and time, answered by a response we
/// sign; and a v3 signature made by the SDK, verified by us.
fn v3_case(ctx: &mut Ctx, i: usize) {
    let rng = &mut ctx.rng;
    let key = ctx.fx.pick_key_form(rng);
    if !can_sign(SignType::Rsa2, key.bits) {
        return v3_case(ctx, i);
    }
    let http_method = *rng.pick(&["GET", "POST", "POST", "PUT", "PATCH", "DELETE"]);
    let segments = 2 + rng.below(4);
    let mut path = "/v3/alipay".to_owned();
    for _ in 0..segments {
        path.push('/');
        path.push_str(&ident(rng));
    }
    let mut query: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    let n_query = if http_method == "GET" {
        rng.below(5)
    } else if rng.chance(25) {
        1 + rng.below(2)
    } else {
        0
    };
    for _ in 0..n_query {
        let k = ident(rng);
        if seen.insert(k.clone()) {
            let v = text(rng, 16);
            query.push((k, v));
        }
    }
    let body = if http_method != "GET" && rng.chance(85) {
        Some(serde_json::to_string(&json_object(rng, 0)).unwrap())
    } else {
        None
    };
    let aes = if body.is_some() && rng.chance(20) {
        Some(random_aes_key(rng))
    } else {
        None
    };
    let token = if rng.chance(30) {
        Some(format!("2024{}", hex(&rng.bytes(14))))
    } else {
        None
    };
    let nonce = hex(&rng.bytes(16));
    let timestamp_ms = 1_600_000_000_000 + rng.next_u64() % 400_000_000_000;
    let app_id = format!("2021{:012}", rng.below(1_000_000_000_000));
    let cert_mode = rng.chance(25);
    let (alipay_key_index, app_cert, alipay_cert, root) = if cert_mode {
        let (a, b, r) = ctx.fx.pick_cert_mode(rng);
        let idx = ctx
            .fx
            .certs
            .iter()
            .find(|c| c.pem == b)
            .and_then(|c| c.rsa_key)
            .unwrap_or(0);
        (idx, Some(a), Some(b), Some(r))
    } else {
        (ctx.fx.pick_signing_key(rng), None, None, None)
    };
    let alipay = &ctx.fx.keys[alipay_key_index];
    let alipay_pem = alipay.forms[0].text.clone();
    let alipay_public = alipay.public.clone();
    let alipay_signer = RsaSigner::new(&alipay.forms[0].key).unwrap();

    // Expected request, built by us.
    let mut target = path.clone();
    if !query.is_empty() {
        target.push('?');
        target.push_str(
            &query
                .iter()
                .map(|(k, v)| format!("{}={}", form_urlencode(k), form_urlencode(v)))
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    let sent_body = match (&body, &aes) {
        (Some(b), Some(k)) => AesKey::from_base64(k).unwrap().encrypt(b.as_bytes()),
        (Some(b), None) => b.clone(),
        (None, _) => String::new(),
    };

    // The response the local endpoint gives back: signed by us, sometimes wrongly.
    let rng = &mut ctx.rng;
    let response_value = json_object(rng, 0);
    let response_json = serde_json::to_string(&response_value).unwrap();
    let response_body = match &aes {
        Some(k) => AesKey::from_base64(k)
            .unwrap()
            .encrypt(response_json.as_bytes()),
        None => response_json,
    };
    let r_ts = (1_600_000_000_000 + rng.next_u64() % 400_000_000_000).to_string();
    let r_nonce = hex(&rng.bytes(16));
    let tamper = rng.chance(25);
    let signed_nonce = if tamper {
        format!("{r_nonce}0")
    } else {
        r_nonce.clone()
    };
    let r_sign = alipay_signer
        .sign_base64(
            SignType::Rsa2,
            &v3_response_content(&r_ts, &signed_nonce, response_body.as_bytes()),
        )
        .unwrap();
    let mut headers = json!({
        "alipay-timestamp": r_ts,
        "alipay-nonce": r_nonce,
        "alipay-signature": r_sign,
        "alipay-trace-id": hex(&rng.bytes(8)),
    });
    if let Some(b) = &alipay_cert {
        headers["alipay-sn"] = json!(cert_sn(b.as_bytes()).unwrap_or_default());
    }

    let case = format!(
        "v3 #{i} ({}, {http_method} {} query, {}{}{}{})",
        key.label,
        query.len(),
        if body.is_some() { "body" } else { "no body" },
        if aes.is_some() { ", AES" } else { "" },
        if token.is_some() {
            ", app_auth_token"
        } else {
            ""
        },
        if cert_mode { ", cert mode" } else { "" }
    );
    let mut req = json!({
        "private_key": key.text,
        "key_type": key.key_type,
        "app_id": app_id,
        "nonce": nonce,
        "timestamp_ms": timestamp_ms,
        "http_method": http_method,
        "path": path,
        "query": query.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "response": { "status": 200, "headers": headers, "body": response_body },
    });
    if let Some(b) = &body {
        req["body"] = json!(b);
    }
    if let Some(t) = &token {
        req["app_auth_token"] = json!(t);
    }
    if let Some(k) = &aes {
        req["need_encrypt"] = json!(true);
        req["encrypt_key"] = json!(k);
    }
    match (&app_cert, &alipay_cert, &root) {
        (Some(a), Some(b), Some(r)) => {
            req["app_cert"] = json!(a);
            req["alipay_public_cert"] = json!(b);
            req["alipay_root_cert"] = json!(r);
        }
        _ => req["alipay_public_key"] = json!(alipay_public.to_pem()),
    }
    let node = match ctx.call("v3_request", req) {
        Ok(v) => v,
        Err(e) => return ctx.tally.fail("v3 Authorization == Node", &case, &e),
    };

    ctx.tally.record(
        "v3 request target and body as expected",
        &case,
        if node["target"] == json!(target)
            && node["body"] == json!(sent_body)
            && node["method"] == json!(http_method)
        {
            Ok(())
        } else {
            Err(format!(
                "Node sent {} {} body {}; expected {http_method} {target:?} body {sent_body:?}",
                node["method"], node["target"], node["body"]
            ))
        },
    );

    let mut auth = AuthString::new(app_id, nonce, timestamp_ms);
    if let Some(a) = &app_cert {
        auth = auth.with_app_cert_sn(cert_sn(a.as_bytes()).unwrap_or_default());
    }
    let signer = RsaSigner::new(&key.key).unwrap();
    let ours = v3_sign_request(
        &signer,
        &auth,
        http_method,
        &target,
        &sent_body,
        token.as_deref(),
    );
    ctx.tally.record(
        "v3 Authorization == Node",
        &case,
        same(
            "authorization",
            ours.as_ref()
                .map(|s| s.authorization.as_str())
                .map_err(ToString::to_string),
            field(&node, "authorization"),
        ),
    );
    if let Some(r) = &root {
        ctx.tally.record(
            "v3 alipay-root-cert-sn header == ours",
            &case,
            same(
                "alipay-root-cert-sn",
                root_cert_sn(r.as_bytes())
                    .as_deref()
                    .map_err(ToString::to_string),
                field(&node, "root_cert_sn_header"),
            ),
        );
    }
    let outcome = &node["outcome"];
    ctx.tally.record(
        "v3 Node checks our response signature",
        &case,
        if tamper {
            if outcome["ok"] == json!(false)
                && outcome["code"] == json!("response-signature-verify-error")
            {
                Ok(())
            } else {
                Err(format!("tampered response accepted: {outcome}"))
            }
        } else if outcome["ok"] == json!(true) && outcome["data"] == response_value {
            Ok(())
        } else {
            Err(format!("our response refused: {outcome}"))
        },
    );

    // The SDK signs a response the way Alipay does; we verify it.
    let content = String::from_utf8(v3_response_content(
        &r_ts,
        &r_nonce,
        response_body.as_bytes(),
    ))
    .unwrap();
    let node_sign = ctx.call(
        "v3_sign",
        json!({ "private_key": alipay_pem, "content": content }),
    );
    let verifier = RsaVerifier::new(&alipay_public).unwrap();
    ctx.tally.record(
        "v3 we verify Node's response signature",
        &case,
        match node_sign {
            Ok(v) => {
                let s = v["sign"].as_str().unwrap_or_default();
                let good =
                    v3_verify_response(&verifier, &r_ts, &r_nonce, s, response_body.as_bytes());
                let bad = v3_verify_response(
                    &verifier,
                    &r_ts,
                    &r_nonce,
                    s,
                    format!("{response_body} ").as_bytes(),
                );
                match (good, bad) {
                    (Ok(()), Err(e)) if e.is_invalid_signature() => Ok(()),
                    (g, b) => Err(format!("verify {g:?}, altered body {b:?}")),
                }
            }
            Err(e) => Err(e),
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Fixtures: keys and certificates generated per run with openssl
// ---------------------------------------------------------------------------------------------

/// One textual form of a private key, as a user would paste it.
#[derive(Clone)]
struct KeyForm {
    label: String,
    text: String,
    key_type: &'static str,
    key: PrivateKey,
    public: PublicKey,
    bits: usize,
}

struct RsaMaterial {
    forms: Vec<KeyForm>,
    public: PublicKey,
    bits: usize,
    path: PathBuf,
}

struct CertFile {
    label: String,
    pem: String,
    /// Index into `Fixtures::keys` of the certified RSA key, if RSA.
    rsa_key: Option<usize>,
    rsa_signed: bool,
}

struct Bundle {
    label: String,
    pem: String,
}

struct Fixtures {
    keys: Vec<RsaMaterial>,
    certs: Vec<CertFile>,
    bundles: Vec<Bundle>,
}

impl Fixtures {
    fn generate(dir: &Path, rng: &mut Rng) -> Self {
        let mut keys = Vec::new();
        for i in 0..2 {
            let path = dir.join(format!("gen{i}_pkcs8.pem"));
            openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                path_str(&path),
            ]);
            keys.push(rsa_material(dir, &format!("gen{i}"), &path));
        }
        let data = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("crates")
            .join("alipay-sign")
            .join("tests")
            .join("data");
        keys.push(rsa_material(
            dir,
            "app",
            &data.join("app_private_pkcs8.pem"),
        ));
        keys.push(rsa_material(
            dir,
            "legacy1024",
            &data.join("legacy1024_private_pkcs8.pem"),
        ));

        let ec = dir.join("ec.pem");
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            path_str(&ec),
        ]);

        let mut certs = Vec::new();
        for i in 0..CERT_CASES {
            // Every fourth certificate is ECDSA-signed; the others use one of the 2048-bit keys.
            let (key_path, rsa_key, digest) = if i % 4 == 3 {
                (ec.clone(), None, *rng.pick(&["sha256", "sha384"]))
            } else {
                let k = rng.below(3);
                (
                    keys[k].path.clone(),
                    Some(k),
                    *rng.pick(&["sha1", "sha256", "sha256", "sha384", "sha512"]),
                )
            };
            let subject = random_dn(rng);
            let serial = random_serial(rng);
            let out = dir.join(format!("cert{i}.pem"));
            openssl(&[
                "req",
                "-x509",
                "-new",
                "-key",
                path_str(&key_path),
                "-subj",
                &subject,
                "-utf8",
                "-set_serial",
                &serial,
                "-days",
                "3650",
                &format!("-{digest}"),
                "-out",
                path_str(&out),
            ]);
            let pem = std::fs::read_to_string(&out).unwrap();
            certs.push(CertFile {
                label: format!(
                    "{} {digest} serial {serial} subject {subject}",
                    if rsa_key.is_some() { "RSA" } else { "EC" }
                ),
                pem,
                rsa_key,
                rsa_signed: rsa_key.is_some(),
            });
        }

        let mut bundles = Vec::new();
        for b in 0..4 {
            let n = 2 + rng.below(4);
            let mut chosen: Vec<&CertFile> =
                (0..n).map(|_| &certs[rng.below(certs.len())]).collect();
            if !chosen.iter().any(|c| c.rsa_signed) {
                chosen.push(&certs[0]);
            }
            let crlf = b % 2 == 1;
            let sep = *rng.pick(&["", "\n", "\n\n"]);
            let mut pem = chosen
                .iter()
                .map(|c| c.pem.as_str())
                .collect::<Vec<_>>()
                .join(sep);
            if crlf {
                pem = pem.replace('\n', "\r\n");
            }
            bundles.push(Bundle {
                label: format!(
                    "{} certs, {}, separator {sep:?}",
                    chosen.len(),
                    if crlf { "CRLF" } else { "LF" }
                ),
                pem,
            });
        }
        Fixtures {
            keys,
            certs,
            bundles,
        }
    }

    fn pick_key_form(&self, rng: &mut Rng) -> KeyForm {
        let k = &self.keys[rng.below(self.keys.len())];
        k.forms[rng.below(k.forms.len())].clone()
    }

    /// A key that can sign RSA2 in every build.
    fn pick_signing_key(&self, rng: &mut Rng) -> usize {
        let usable: Vec<usize> = (0..self.keys.len())
            .filter(|&i| self.keys[i].bits >= 2048)
            .collect();
        usable[rng.below(usable.len())]
    }

    /// App certificate, Alipay certificate (RSA key), root bundle (with an RSA-signed cert).
    fn pick_cert_mode(&self, rng: &mut Rng) -> (String, String, String) {
        let app = &self.certs[rng.below(self.certs.len())];
        let rsa: Vec<&CertFile> = self.certs.iter().filter(|c| c.rsa_key.is_some()).collect();
        let alipay = rsa[rng.below(rsa.len())];
        let root = &self.bundles[rng.below(self.bundles.len())];
        (app.pem.clone(), alipay.pem.clone(), root.pem.clone())
    }
}

/// The forms of one RSA key: PKCS#1 and PKCS#8 as PEM (LF, CRLF, one-line body) and bare base64.
fn rsa_material(dir: &Path, name: &str, pkcs8_path: &Path) -> RsaMaterial {
    let pkcs1_path = dir.join(format!("{name}_pkcs1.pem"));
    openssl(&[
        "pkey",
        "-in",
        path_str(pkcs8_path),
        "-traditional",
        "-out",
        path_str(&pkcs1_path),
    ]);
    let pkcs8 = std::fs::read_to_string(pkcs8_path).unwrap();
    let pkcs1 = std::fs::read_to_string(&pkcs1_path).unwrap();
    assert!(
        pkcs1.contains("BEGIN RSA PRIVATE KEY"),
        "openssl did not write PKCS#1"
    );
    assert!(
        pkcs8.contains("BEGIN PRIVATE KEY"),
        "not a PKCS#8 key: {}",
        pkcs8_path.display()
    );
    let texts: Vec<(String, String, &'static str)> = vec![
        (format!("{name} pkcs1-pem"), pkcs1.clone(), "PKCS1"),
        (format!("{name} pkcs8-pem"), pkcs8.clone(), "PKCS8"),
        (format!("{name} pkcs1-bare"), bare(&pkcs1), "PKCS1"),
        (format!("{name} pkcs8-bare"), bare(&pkcs8), "PKCS8"),
        (
            format!("{name} pkcs1-pem-crlf"),
            pkcs1.replace('\n', "\r\n"),
            "PKCS1",
        ),
        (
            format!("{name} pkcs8-pem-one-line"),
            one_line(&pkcs8, "PRIVATE KEY"),
            "PKCS8",
        ),
        (
            format!("{name} pkcs8-bare-wrapped"),
            bare_wrapped(&pkcs8),
            "PKCS8",
        ),
        (
            format!("{name} pkcs1-pem-indented"),
            indented(&pkcs1),
            "PKCS1",
        ),
    ];
    let mut forms = Vec::new();
    for (label, text, key_type) in texts {
        let key = PrivateKey::from_pem_or_der(text.as_bytes())
            .unwrap_or_else(|e| panic!("our loader refused {label}: {e}"));
        forms.push(KeyForm {
            label,
            public: key.public_key().clone(),
            bits: key.bits(),
            key,
            text,
            key_type,
        });
    }
    let public = forms[0].public.clone();
    assert!(
        forms.iter().all(|f| f.public == public),
        "{name}: forms load as different keys"
    );
    RsaMaterial {
        bits: forms[0].bits,
        forms,
        public,
        path: pkcs8_path.to_path_buf(),
    }
}

fn bare(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect()
}

/// The base64 body without armour, still wrapped at 64 columns.
fn bare_wrapped(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

/// PEM as pasted from a document: every line indented, trailing spaces, a blank line at the end.
fn indented(pem: &str) -> String {
    let mut s: String = pem.lines().map(|l| format!("    {l}  \n")).collect();
    s.push('\n');
    s
}

fn one_line(pem: &str, label: &str) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        bare(pem)
    )
}

fn can_sign(sign_type: SignType, bits: usize) -> bool {
    rust_crypto() || (sign_type == SignType::Rsa2 && bits >= 2048)
}

/// A random subject for `openssl req -subj`: C, ST, L, O, OU, CN in random order and number,
/// with values that need no escaping (ASCII, spaces inside, Chinese, emoji).
fn random_dn(rng: &mut Rng) -> String {
    let mut attrs: Vec<&str> = vec!["C", "ST", "L", "O", "OU", "CN"];
    let keep = 1 + rng.below(attrs.len());
    rng.shuffle(&mut attrs);
    attrs.truncate(keep);
    if rng.chance(20) {
        attrs.push("OU");
    }
    let mut s = String::new();
    for a in attrs {
        let value = if a == "C" {
            let c1 = char::from(b'A' + u8::try_from(rng.below(26)).unwrap());
            let c2 = char::from(b'A' + u8::try_from(rng.below(26)).unwrap());
            format!("{c1}{c2}")
        } else {
            dn_value(rng)
        };
        s.push('/');
        s.push_str(a);
        s.push('=');
        s.push_str(&value);
    }
    s
}

fn dn_value(rng: &mut Rng) -> String {
    const PLAIN: &[char] = &['-', '.', '_', '(', ')', '&', '\'', '!', '@', '*', '~', ':'];
    let n = 1 + rng.below(24);
    let mut s = String::new();
    for i in 0..n {
        match rng.below(8) {
            0..=3 => s.push(alnum(rng)),
            4 if i > 0 && i + 1 < n => s.push(' '),
            5 => s.push(*rng.pick(PLAIN)),
            6 => s.push(chinese(rng)),
            _ => s.push_str(if rng.chance(50) { "😀" } else { "支付宝" }),
        }
    }
    if s.starts_with(' ') || s.ends_with(' ') || s.is_empty() {
        s = format!("x{}x", s.trim());
    }
    s
}

/// A serial for `openssl req -set_serial`: small values, the high bit set (DER needs a leading
/// zero byte), a leading zero nibble, long (20-byte) values, decimal input.
fn random_serial(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => (*rng.pick(&["0", "1", "127", "128", "255", "256", "32768", "65535"])).to_owned(),
        1 => {
            let n = 1 + rng.below(20);
            let mut b = rng.bytes(n);
            b[0] |= 0x80;
            format!("0x{}", hex(&b))
        }
        2 => {
            let n = 2 + rng.below(19);
            let mut b = rng.bytes(n);
            b[0] = 1 + u8::try_from(rng.below(15)).unwrap();
            format!("0x{}", hex(&b))
        }
        3 => {
            let mut b = rng.bytes(20);
            b[0] = (b[0] & 0x7f) | 0x01;
            format!("0x{}", hex(&b))
        }
        4 => rng.next_u64().to_string(),
        _ => {
            let mut b = rng.bytes(16);
            b[0] |= 0x01;
            format!("0x{}", hex(&b))
        }
    }
}

fn openssl_binary() -> String {
    std::env::var("OPENSSL").unwrap_or_else(|_| "openssl".to_owned())
}

fn openssl(args: &[&str]) {
    let out = Command::new(openssl_binary())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl {args:?}: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A scratch directory for generated keys and certificates, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn create(seed: u64) -> Self {
        let dir =
            std::env::temp_dir().join(format!("alipay-rs-interop-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle process
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn install_dir() -> PathBuf {
    std::env::var_os("INTEROP_NODE_DIR").map_or_else(
        || repo_root().join(".cache").join("interop-node"),
        PathBuf::from,
    )
}

struct Oracle {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Oracle {
    fn spawn(install: &Path) -> Result<Self, String> {
        let script = repo_root().join("tests").join("interop").join("oracle.mjs");
        let node = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
        let mut child = Command::new(&node)
            .arg(&script)
            .arg(install)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start `{node} {}`: {e}", script.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        Ok(Oracle {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            next_id: 1,
        })
    }

    fn call(&mut self, op: &str, mut req: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        req["id"] = json!(id);
        req["op"] = json!(op);
        let stdin = self.stdin.as_mut().ok_or("oracle stdin closed")?;
        writeln!(stdin, "{req}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("oracle write failed: {e}"))?;
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("oracle read failed: {e}"))?;
        if n == 0 {
            return Err("the oracle exited".to_owned());
        }
        let resp: Value = serde_json::from_str(&line)
            .map_err(|e| format!("oracle sent bad JSON ({e}): {line}"))?;
        if resp["id"] != json!(id) {
            return Err(format!("oracle answered id {} to request {id}", resp["id"]));
        }
        if resp["ok"] == json!(true) {
            Ok(resp["result"].clone())
        } else {
            Err(format!(
                "oracle {op} failed: {}",
                resp["error"].as_str().unwrap_or("?")
            ))
        }
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // Closing stdin ends the oracle; wait for it so no process is left behind.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    counts: BTreeMap<&'static str, (usize, usize)>,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, check: &'static str, case: &str, outcome: Result<(), String>) {
        let entry = self.counts.entry(check).or_default();
        match outcome {
            Ok(()) => entry.0 += 1,
            Err(e) => {
                entry.1 += 1;
                if self.failures.len() < 25 {
                    self.failures.push(format!("  [{check}] {case}: {e}"));
                }
            }
        }
    }

    fn fail(&mut self, check: &'static str, case: &str, error: &str) {
        self.record(check, case, Err(error.to_owned()));
    }
}

/// Compares one of our values with the SDK's; an error on either side is a difference.
fn same(
    what: &str,
    ours: Result<&str, String>,
    theirs: Result<&str, String>,
) -> Result<(), String> {
    match (ours, theirs) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (ours, theirs) => Err(format!(
            "{what} differs:\n    ours: {ours:?}\n    Node: {theirs:?}"
        )),
    }
}

/// A string field of an oracle answer.
fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v[name]
        .as_str()
        .ok_or_else(|| format!("the oracle gave no string `{name}`: {v}"))
}

// ---------------------------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------------------------

const SPECIAL: &[char] = &[
    '&', '=', '%', '+', '"', '\'', '{', '}', '[', ']', ':', ',', '/', '\\', '?', '#', '@', '!',
    '~', '*', '(', ')', '<', '>', ';', '|', '^', '$', '`',
];
const EMOJI: &[&str] = &["😀", "🎉", "👍🏽", "👨‍👩‍👧", "🇨🇳", "💰", "❤️", "𠮷"];
const PERCENTISH: &[&str] = &[
    "%20",
    "%E4%B8%AD",
    "%%",
    "%zz",
    "+",
    "a=b&c=d",
    "\\u0041",
    "&amp;",
];
const MISC: &[char] = &[
    '\n', '\t', '\r', '\u{1}', '\u{1f}', '\u{7f}', '\u{3000}', '，', '。', '（', 'é', 'ß',
    '\u{200b}', '\u{2028}', '¥',
];

fn alnum(rng: &mut Rng) -> char {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char::from(*rng.pick(A))
}

fn chinese(rng: &mut Rng) -> char {
    let offset = u32::try_from(rng.below(0x9FA5 - 0x4E00)).unwrap();
    char::from_u32(0x4E00 + offset).unwrap()
}

/// Text with the characters that break naive implementations.
fn text(rng: &mut Rng, max_chars: usize) -> String {
    let n = 1 + rng.below(max_chars);
    let mut s = String::new();
    for _ in 0..n {
        match rng.below(10) {
            0..=2 => s.push(alnum(rng)),
            3 => s.push(*rng.pick(SPECIAL)),
            4 => s.push(' '),
            5 | 6 => s.push(chinese(rng)),
            7 => s.push_str(rng.pick::<&str>(EMOJI)),
            8 => s.push_str(rng.pick::<&str>(PERCENTISH)),
            _ => s.push(*rng.pick(MISC)),
        }
    }
    s
}

/// A lowercase snake_case name (the SDK snake-cases parameter names, which leaves these alone).
fn ident(rng: &mut Rng) -> String {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const LOWER_DIGIT: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::new();
    s.push(char::from(*rng.pick(LOWER)));
    for _ in 0..rng.below(8) {
        s.push(char::from(*rng.pick(LOWER_DIGIT)));
    }
    for _ in 0..rng.below(3) {
        s.push('_');
        for _ in 0..=rng.below(5) {
            s.push(char::from(*rng.pick(LOWER_DIGIT)));
        }
    }
    s
}

/// A JSON object whose compact serialisation is exactly what `JSON.stringify` gives after
/// `JSON.parse` (no integer-like keys, integers within 2^53, no floats).
fn json_object(rng: &mut Rng, depth: usize) -> Value {
    let mut map = Map::new();
    let n = if depth == 0 {
        1 + rng.below(6)
    } else {
        rng.below(4)
    };
    for _ in 0..n {
        let mut k = ident(rng);
        if rng.chance(20) {
            k.push_str("Name");
        }
        let v = json_value(rng, depth + 1);
        map.insert(k, v);
    }
    Value::Object(map)
}

fn json_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth >= 3 { 4 } else { 6 };
    match rng.below(kinds) {
        0 | 1 => json!(text(rng, 20)),
        2 => {
            let magnitude = i64::try_from(rng.next_u64() % (1 << 53)).unwrap();
            json!(if rng.chance(30) {
                -magnitude
            } else {
                magnitude
            })
        }
        3 => match rng.below(3) {
            0 => json!(true),
            1 => json!(false),
            _ => Value::Null,
        },
        4 => json_object(rng, depth),
        _ => Value::Array(
            (0..rng.below(4))
                .map(|_| json_value(rng, depth + 1))
                .collect(),
        ),
    }
}

fn params_object(params: &[(String, String)], timestamp: &str) -> Value {
    let mut map = Map::new();
    map.insert("timestamp".into(), json!(timestamp));
    for (k, v) in params {
        map.insert(k.clone(), json!(v));
    }
    Value::Object(map)
}

fn random_method(rng: &mut Rng) -> String {
    let mut m = "alipay".to_owned();
    for _ in 0..2 + rng.below(3) {
        m.push('.');
        let word = ident(rng).replace('_', "");
        m.push_str(&word);
    }
    m
}

fn random_timestamp(rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        2015 + rng.below(15),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn random_aes_key(rng: &mut Rng) -> String {
    b64(&rng.bytes(16))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `application/x-www-form-urlencoded` serialisation as the WHATWG URL standard (and so Node's
/// `URLSearchParams`) does it: space as `+`, `*-._` and alphanumerics kept, the rest `%XX`.
fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Whether alipay-sign was built with its `rust-crypto` backend. Asked at run time: cargo unifies
/// features, so `cargo test --workspace` compiles it in for this crate too (alipay-cli needs it)
/// even when this crate's own `rust-crypto` feature is off.
fn rust_crypto() -> bool {
    alipay_sign::Backend::available().contains(&alipay_sign::Backend::RustCrypto)
}
