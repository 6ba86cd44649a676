//! v2 canonicalization over arbitrary parameter lists.
//!
//! Properties: no panic; the output equals a direct model of PROTOCOL §1.4 (drop the rule's
//! keys, drop empty values unless kept, sort by key bytes, join raw `k=v` with `&`); the order of
//! the input never matters; when keys hold no `&`/`=` and values no `&`, the output parses back
//! into sorted pairs; charset encoding either round-trips or names the character; verification
//! of the parameters fails cleanly.
#![no_main]

use std::sync::OnceLock;

use alipay_sign::{
    Charset, EmptyValues, PublicKey, RsaVerifier, Rule, SignType, canonical_string,
    canonical_string_with, verify_params,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ALIPAY_PUBLIC: &[u8] =
    include_bytes!("../../crates/alipay-sign/tests/data/alipay_public.pem");

fn verifier() -> &'static RsaVerifier {
    static V: OnceLock<RsaVerifier> = OnceLock::new();
    V.get_or_init(|| {
        RsaVerifier::new(&PublicKey::from_pem_or_der(ALIPAY_PUBLIC).expect("key"))
            .expect("verifier")
    })
}

/// Keys from the protocol mixed with arbitrary ones, so `sign`/`sign_type` and prefix keys occur.
#[derive(Arbitrary, Debug)]
enum Key {
    Sign,
    SignType,
    AppId,
    App,
    Empty,
    Other(String),
}

impl Key {
    fn text(&self) -> &str {
        match self {
            Key::Sign => "sign",
            Key::SignType => "sign_type",
            Key::AppId => "app_id",
            Key::App => "app",
            Key::Empty => "",
            Key::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Case {
    params: Vec<(Key, String)>,
    rule: u8,
    keep_empty: bool,
    rotate: u8,
    verify: bool,
}

fn model(params: &[(&str, &str)], rule: Rule, empty: EmptyValues) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(k, v)| {
            let excluded = match rule {
                Rule::NotifyV1 => *k == "sign" || *k == "sign_type",
                _ => *k == "sign",
            };
            !k.is_empty() && !excluded && (empty == EmptyValues::Keep || !v.is_empty())
        })
        .collect();
    kept.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then(a.1.as_bytes().cmp(b.1.as_bytes()))
    });
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fuzz_target!(|case: Case| {
    let rule = match case.rule % 3 {
        0 => Rule::Request,
        1 => Rule::NotifyV1,
        _ => Rule::NotifyV2,
    };
    let empty = if case.keep_empty {
        EmptyValues::Keep
    } else {
        EmptyValues::Drop
    };
    let params: Vec<(&str, &str)> = case
        .params
        .iter()
        .map(|(k, v)| (k.text(), v.as_str()))
        .collect();

    let out = canonical_string_with(params.iter().copied(), rule, empty);
    assert_eq!(out, model(&params, rule, empty));
    if empty == EmptyValues::Drop {
        assert_eq!(out, canonical_string(params.iter().copied(), rule));
    }

    // Order never matters: reversed and rotated inputs give the same string.
    let reversed: Vec<(&str, &str)> = params.iter().rev().copied().collect();
    assert_eq!(canonical_string_with(reversed, rule, empty), out);
    if !params.is_empty() {
        let mut rotated = params.clone();
        rotated.rotate_left(usize::from(case.rotate) % params.len());
        assert_eq!(canonical_string_with(rotated, rule, empty), out);
    }
    // Owned and borrowed inputs agree.
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(canonical_string_with(owned, rule, empty), out);

    // When the separators cannot be confused, the output parses back into sorted pairs.
    let plain = params
        .iter()
        .all(|(k, v)| !k.contains(['&', '=']) && !v.contains('&'));
    if plain && !out.is_empty() {
        let mut prev: Option<&str> = None;
        for pair in out.split('&') {
            let (k, v) = pair.split_once('=').expect("every pair has '='");
            assert!(!k.is_empty());
            assert_ne!(k, "sign");
            if rule == Rule::NotifyV1 {
                assert_ne!(k, "sign_type");
            }
            if empty == EmptyValues::Drop {
                assert!(!v.is_empty());
            }
            if let Some(p) = prev {
                assert!(p.as_bytes() <= k.as_bytes(), "{p} > {k}");
            }
            prev = Some(k);
        }
    }

    // Charset encoding round-trips or names the offending character.
    for charset in [Charset::Utf8, Charset::Gbk, Charset::Gb18030] {
        match charset.encode(&out) {
            Ok(bytes) => assert_eq!(
                charset.decode(&bytes).expect("decode what was encoded"),
                out
            ),
            Err(e) => {
                assert!(e.is_charset());
                assert_eq!(charset, Charset::Gbk, "{e}");
            }
        }
    }

    if case.verify {
        let err = verify_params(
            verifier(),
            params.iter().copied(),
            rule,
            SignType::Rsa2,
            Charset::Utf8,
        )
        .expect_err("fuzzed parameters carry no valid signature");
        assert!(err.is_invalid_signature(), "{err}");
    }
});
