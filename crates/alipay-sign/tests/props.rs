//! Property tests: canonicalization is order-independent, signatures round-trip for any
//! parameter map (UTF-8 and GBK), extraction returns exactly the signed slice for any JSON value
//! however it is written, AES round-trips for any bytes and key size, and the v3 strings keep
//! their structure. Case counts are modest so the file runs in seconds in debug builds.

// Test-only code: clippy's allow-*-in-tests settings apply to the helpers too.
#![cfg(test)]

use std::fmt::Write as _;

use alipay_sign::{
    AUTH_SCHEME, AesKey, AuthString, Charset, EmptyValues, NodeKind, NodeName, Rule,
    canonical_string, canonical_string_with, extract_response, response_node_name,
    v3_parse_authorization, v3_response_content, v3_signing_content,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

// ---------------------------------------------------------------------------------------------
// strategies

/// GBK-representable text: ASCII (with the characters that matter in the protocol), common
/// Chinese, full-width punctuation, and characters whose GBK trail byte is `\` (0x5C).
fn gbk_text(max: usize) -> impl Strategy<Value = String> {
    const CHARS: &[char] = &[
        'a', 'Z', '0', '9', ' ', '&', '=', '%', '+', '"', '\\', '/', '{', '}', ':', ',', '.', '-',
        '_', '测', '试', '商', '品', '中', '文', '支', '付', '宝', '元', '，', '。', '（', '）',
        '：', '￥', '乗', '俓', '僜', '刓', '匼',
    ];
    prop::collection::vec(prop::sample::select(CHARS), 0..max).prop_map(String::from_iter)
}

/// Any text, including emoji, other scripts and the protocol's special characters.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => gbk_text(max),
        2 => prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter),
        1 => prop::collection::vec(
            prop::sample::select(&['😀', 'é', 'ß', 'я', '\u{2028}', '\t', '\n', '\u{0}', '"'][..]),
            0..max
        )
        .prop_map(String::from_iter),
    ]
}

fn param_key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z][a-z_]{0,14}",
        1 => prop::sample::select(&["sign", "sign_type", "charset", "a", "a_b", "aB", "A"][..])
            .prop_map(str::to_owned),
    ]
}

/// A parameter list with possibly repeated keys and empty values.
fn param_list(
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            param_key(),
            prop_oneof![1 => Just(String::new()), 6 => value],
        ),
        0..14,
    )
}

/// A parameter map (unique keys, never `sign`) as a gateway request would carry it.
fn param_map(value: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(param_key(), value, 1..14).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| k != "sign")
            .collect::<Vec<_>>()
    })
}

// ---------------------------------------------------------------------------------------------
// canonicalization

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parameter_order_never_changes_the_canonical_string(
        (params, shuffled) in param_list(any_text(12)).prop_flat_map(|p| {
            let s = Just(p.clone()).prop_shuffle();
            (Just(p), s)
        })
    ) {
        for rule in [Rule::Request, Rule::NotifyV1, Rule::NotifyV2] {
            for empty in [EmptyValues::Drop, EmptyValues::Keep] {
                prop_assert_eq!(
                    canonical_string_with(params.clone(), rule, empty),
                    canonical_string_with(shuffled.clone(), rule, empty)
                );
            }
        }
        let reversed: Vec<_> = params.iter().rev().cloned().collect();
        prop_assert_eq!(
            canonical_string(params, Rule::Request),
            canonical_string(reversed, Rule::Request)
        );
    }

    #[test]
    fn canonical_string_is_the_sorted_kept_pairs(params in param_list(any_text(12))) {
        for (rule, dropped) in [
            (Rule::Request, &["sign"][..]),
            (Rule::NotifyV2, &["sign"][..]),
            (Rule::NotifyV1, &["sign", "sign_type"][..]),
        ] {
            let mut kept: Vec<&(String, String)> = params
                .iter()
                .filter(|(k, v)| !dropped.contains(&k.as_str()) && !v.is_empty())
                .collect();
            kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
            let expected = kept
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            prop_assert_eq!(canonical_string(params.clone(), rule), expected);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sign, then verify

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
mod signing {
    use super::*;
    use alipay_sign::{
        PrivateKey, RsaSigner, RsaVerifier, SignType, Verifier, sign_params, verify_params,
    };
    use std::sync::OnceLock;

    pub(super) struct Keys {
        pub(super) signer: RsaSigner,
        pub(super) verifier: RsaVerifier,
    }

    pub(super) fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let key =
                PrivateKey::from_pem_or_der(include_bytes!("data/app_private_pkcs8.pem")).unwrap();
            Keys {
                signer: RsaSigner::new(&key).unwrap(),
                verifier: RsaVerifier::new(key.public_key()).unwrap(),
            }
        })
    }

    fn round_trip(
        params: &[(String, String)],
        sign_type: SignType,
        charset: Charset,
    ) -> Result<(), TestCaseError> {
        let k = keys();
        let signed = sign_params(&k.signer, params.to_vec(), sign_type, charset).unwrap();
        prop_assert_eq!(
            &signed.content,
            &canonical_string(params.to_vec(), Rule::Request)
        );
        let mut form = params.to_vec();
        form.push(("sign".to_owned(), signed.sign.clone()));
        let content =
            verify_params(&k.verifier, form.clone(), Rule::Request, sign_type, charset).unwrap();
        prop_assert_eq!(&content, &signed.content);
        // Any change to a signed value is detected.
        if let Some(i) = form.iter().position(|(k, v)| k != "sign" && !v.is_empty()) {
            form[i].1.push('x');
            let err =
                verify_params(&k.verifier, form, Rule::Request, sign_type, charset).unwrap_err();
            prop_assert!(err.is_invalid_signature());
        }
        // The signature is over the charset's bytes.
        let bytes = charset.encode(&signed.content).unwrap();
        k.verifier
            .verify_base64(sign_type, &bytes, &signed.sign)
            .unwrap();
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        #[test]
        fn rsa2_round_trips_in_utf8(params in param_map(any_text(16))) {
            round_trip(&params, SignType::Rsa2, Charset::Utf8)?;
        }

        #[test]
        fn rsa2_round_trips_in_gbk(params in param_map(gbk_text(16))) {
            round_trip(&params, SignType::Rsa2, Charset::Gbk)?;
        }
    }

    #[cfg(feature = "rust-crypto")]
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20))]

        #[test]
        fn legacy_rsa_round_trips_in_utf8_and_gbk(
            utf8 in param_map(any_text(16)),
            gbk in param_map(gbk_text(16)),
        ) {
            round_trip(&utf8, SignType::Rsa, Charset::Utf8)?;
            round_trip(&gbk, SignType::Rsa, Charset::Gbk)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// response extraction

/// Strings that stress a response scanner.
fn tricky_string() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(
        &[
            "\"sign\"",
            "\"sign\":\"x\"}",
            ",\"sign\":\"abc\"",
            "{",
            "}",
            "[",
            "]",
            "\\",
            "\\\"",
            "/",
            "http://a/b",
            "_response\"",
            "\"alipay_cert_sn\":",
            "中文",
            "😀",
            "\u{2028}",
            "\n",
            "\t",
            "\u{1}",
            " ",
            ":",
            ",",
            "乗",
        ][..],
    );
    prop_oneof![
        2 => prop::collection::vec(fragments, 0..6).prop_map(|v| v.concat()),
        1 => any_text(10),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(&[0.01, 88.88, -1.5, 1e-7, 12345.678][..])
            .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((tricky_string(), json_value()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
}

/// Writes JSON with random (but valid) whitespace, optional `\/` escapes and optional `\uXXXX`
/// escapes, as different gateways and proxies might.
struct Writer {
    state: u64,
    out: String,
}

impl Writer {
    fn new(seed: u64) -> Self {
        Writer {
            state: seed | 1,
            out: String::new(),
        }
    }

    fn roll(&mut self, n: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % n
    }

    fn ws(&mut self) {
        let pick = self.roll(8);
        let ws =
            ["", "", "", " ", "\n", "\r\n  ", "\t", "  \n    "][usize::try_from(pick).unwrap()];
        self.out.push_str(ws);
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '/' if self.roll(2) == 0 => self.out.push_str("\\/"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                c if u32::from(c) < 0x20 || (!c.is_ascii() && self.roll(3) == 0) => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        let _ = write!(self.out, "\\u{unit:04x}");
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&n.to_string()),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.out.push('[');
                self.ws();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.ws();
                        self.out.push(',');
                        self.ws();
                    }
                    self.value(item);
                }
                self.ws();
                self.out.push(']');
            }
            Value::Object(map) => {
                self.out.push('{');
                self.ws();
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.ws();
                        self.out.push(',');
                        self.ws();
                    }
                    self.string(k);
                    self.ws();
                    self.out.push(':');
                    self.ws();
                    self.value(item);
                }
                self.ws();
                self.out.push('}');
            }
        }
    }
}

/// The node of a generated response: a plain object or an encrypted (base64 string) node.
#[derive(Debug, Clone)]
enum Node {
    Plain(Value),
    Encrypted(Vec<u8>),
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        3 => json_object().prop_map(Node::Plain),
        1 => prop::collection::vec(any::<u8>(), 1..80).prop_map(Node::Encrypted),
    ]
}

#[derive(Debug, Clone)]
struct Response {
    method: String,
    node: Node,
    sign: Vec<u8>,
    cert_sn: Option<String>,
    extra: Option<Value>,
    /// Field order: a permutation of 0 (node), 1 (cert_sn), 2 (sign), 3 (extra).
    order: Vec<usize>,
    style: u64,
}

fn response() -> impl Strategy<Value = Response> {
    (
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,3}",
        node(),
        prop::collection::vec(any::<u8>(), 1..64),
        prop::option::of("[0-9a-f]{32}"),
        prop::option::of(json_value()),
        Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        any::<u64>(),
    )
        .prop_map(
            |(method, node, sign, cert_sn, extra, order, style)| Response {
                method,
                node,
                sign,
                cert_sn,
                extra,
                order,
                style,
            },
        )
}

/// Renders the response; returns the body and the exact text of the node's value.
fn render(r: &Response) -> (String, String) {
    let mut w = Writer::new(r.style);
    let node_text = {
        let mut nw = Writer::new(r.style.rotate_left(17));
        match &r.node {
            Node::Plain(v) => nw.value(v),
            Node::Encrypted(ct) => nw.string(&STANDARD.encode(ct)),
        }
        nw.out
    };
    w.ws();
    w.out.push('{');
    let mut first = true;
    for field in &r.order {
        let mut sep = |w: &mut Writer| {
            w.ws();
            if !first {
                w.out.push(',');
                w.ws();
            }
            first = false;
        };
        match field {
            0 => {
                sep(&mut w);
                w.string(&response_node_name(&r.method));
                w.ws();
                w.out.push(':');
                w.ws();
                w.out.push_str(&node_text);
            }
            1 => {
                if let Some(sn) = &r.cert_sn {
                    sep(&mut w);
                    w.string("alipay_cert_sn");
                    w.ws();
                    w.out.push(':');
                    w.ws();
                    w.string(sn);
                }
            }
            2 => {
                sep(&mut w);
                w.string("sign");
                w.ws();
                w.out.push(':');
                w.ws();
                w.string(&STANDARD.encode(&r.sign));
            }
            _ => {
                if let Some(extra) = &r.extra {
                    sep(&mut w);
                    w.string("trace_info");
                    w.ws();
                    w.out.push(':');
                    w.ws();
                    w.value(extra);
                }
            }
        }
    }
    w.ws();
    w.out.push('}');
    w.ws();
    (w.out, node_text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn extraction_returns_exactly_the_node_text(r in response()) {
        let (body, node_text) = render(&r);
        // The generator writes valid JSON, and the node text is that value.
        let parsed: Value = serde_json::from_str(&body).unwrap();
        let node_name = response_node_name(&r.method);
        let original = match &r.node {
            Node::Plain(v) => v.clone(),
            Node::Encrypted(ct) => Value::String(STANDARD.encode(ct)),
        };
        prop_assert_eq!(&parsed[&node_name], &original);

        let parts = extract_response(body.as_bytes(), &r.method, Charset::Utf8).unwrap();
        prop_assert_eq!(parts.content, node_text.as_bytes());
        prop_assert_eq!(&body.as_bytes()[parts.offset..parts.offset + parts.content.len()], parts.content);
        prop_assert_eq!(parts.node, NodeName::Method);
        let sign_b64 = STANDARD.encode(&r.sign);
        prop_assert_eq!(parts.sign.as_deref(), Some(sign_b64.as_str()));
        prop_assert_eq!(parts.alipay_cert_sn.as_deref(), r.cert_sn.as_deref());
        match &r.node {
            Node::Plain(_) => {
                prop_assert_eq!(parts.kind, NodeKind::Object);
                prop_assert_eq!(parts.ciphertext(), None);
            }
            Node::Encrypted(ct) => {
                prop_assert_eq!(parts.kind, NodeKind::Encrypted);
                // The signed content keeps the quotes; the ciphertext is inside them.
                prop_assert!(node_text.starts_with('"') && node_text.ends_with('"'));
                let inner = parts.ciphertext().unwrap().replace("\\/", "/");
                prop_assert_eq!(STANDARD.decode(inner).unwrap(), ct.clone());
            }
        }
    }

    #[test]
    fn extraction_of_gbk_bodies_returns_the_gbk_slice(
        fields in prop::collection::vec((gbk_text(8), gbk_text(16)), 0..6),
        style in any::<u64>(),
    ) {
        let value = Value::Object(
            fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
        );
        let mut nw = Writer::new(style);
        nw.value(&value);
        let node_text = nw.out;
        let body = format!(
            "{{\"alipay_trade_query_response\":{node_text},\"sign\":\"c2ln\"}}"
        );
        let gbk_body = Charset::Gbk.encode(&body).unwrap();
        let gbk_node = Charset::Gbk.encode(&node_text).unwrap();
        let parts = extract_response(&gbk_body, "alipay.trade.query", Charset::Gbk).unwrap();
        prop_assert_eq!(parts.content, &gbk_node[..]);
        prop_assert_eq!(parts.sign.as_deref(), Some("c2ln"));
    }
}

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Signing the node text as Alipay does, then extracting and verifying, always succeeds.
    #[test]
    fn signed_responses_verify_after_extraction(mut r in response()) {
        use alipay_sign::{SignType, Signer};
        let k = signing::keys();
        let (_, node_text) = render(&r);
        r.sign = k.signer.try_sign(SignType::Rsa2, node_text.as_bytes()).unwrap();
        let (body, _) = render(&r);
        let parts = extract_response(body.as_bytes(), &r.method, Charset::Utf8).unwrap();
        prop_assert!(parts.verify(&k.verifier, SignType::Rsa2).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// AES

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aes_round_trips_any_bytes_with_any_key_size(
        key in prop::sample::select(&[16usize, 24, 32][..])
            .prop_flat_map(|n| prop::collection::vec(any::<u8>(), n)),
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let k = AesKey::from_bytes(&key).unwrap();
        prop_assert_eq!(k.bits(), key.len() * 8);
        let ct = k.encrypt(&plaintext);
        // zero IV: deterministic; PKCS#7 always adds 1..=16 bytes
        prop_assert_eq!(&k.encrypt(&plaintext), &ct);
        let raw = STANDARD.decode(&ct).unwrap();
        prop_assert_eq!(raw.len(), (plaintext.len() / 16 + 1) * 16);
        prop_assert_eq!(&k.decrypt(&ct).unwrap(), &plaintext);
        let via_b64 = AesKey::from_base64(&STANDARD.encode(&key)).unwrap();
        prop_assert_eq!(via_b64.decrypt(&ct).unwrap(), plaintext);
    }

    #[test]
    fn aes_rejects_bad_lengths(len in 0usize..64) {
        prop_assume!(![16, 24, 32].contains(&len));
        let err = AesKey::from_bytes(&vec![7u8; len]).unwrap_err();
        prop_assert!(err.is_aes());
    }
}

// ---------------------------------------------------------------------------------------------
// v3

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn v3_signing_content_structure(
        app_id in "[0-9]{16}",
        cert_sn in prop::option::of("[0-9a-f]{32}"),
        nonce in "[0-9a-f]{32}",
        timestamp in any::<u64>(),
        method in prop::sample::select(&["GET", "POST", "PUT", "DELETE", "PATCH"][..]),
        target in "/v3/[a-z/]{1,30}(\\?[a-z_]{1,8}=[a-z0-9%+]{0,8}){0,1}",
        body in any_text(40),
        token in prop::option::of("[0-9A-Za-z]{8,40}"),
    ) {
        let mut auth = AuthString::new(app_id.clone(), nonce.clone(), timestamp);
        if let Some(sn) = &cert_sn {
            auth = auth.with_app_cert_sn(sn.clone());
        }
        let rendered = auth.render();
        let expected_auth = match &cert_sn {
            Some(sn) => format!("app_id={app_id},app_cert_sn={sn},nonce={nonce},timestamp={timestamp}"),
            None => format!("app_id={app_id},nonce={nonce},timestamp={timestamp}"),
        };
        prop_assert_eq!(&rendered, &expected_auth);

        let content = v3_signing_content(&rendered, method, &target, &body, token.as_deref());
        let head = format!("{rendered}\n{method}\n{target}\n");
        prop_assert!(content.starts_with(&head));
        let rest = &content[head.len()..];
        let tail = match &token {
            Some(t) => format!("{body}\n{t}\n"),
            None => format!("{body}\n"),
        };
        prop_assert_eq!(rest, tail.as_str());
        prop_assert!(content.ends_with('\n'));
        if !body.contains('\n') {
            let lines = content.matches('\n').count();
            prop_assert_eq!(lines, if token.is_some() { 5 } else { 4 });
        }

        let resp = v3_response_content(&timestamp.to_string(), &nonce, body.as_bytes());
        prop_assert_eq!(resp, format!("{timestamp}\n{nonce}\n{body}\n").into_bytes());
    }
}

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn v3_authorization_parses_back_and_verifies(
        nonce in "[0-9a-f]{32}",
        timestamp in any::<u64>(),
        body in any_text(40),
        token in prop::option::of("[0-9A-Za-z]{8,40}"),
    ) {
        use alipay_sign::{SignType, Verifier, v3_sign_request};
        let k = signing::keys();
        let auth = AuthString::new("2021000000000001", nonce, timestamp);
        let signed = v3_sign_request(&k.signer, &auth, "POST", "/v3/alipay/trade/query", &body, token.as_deref()).unwrap();
        let scheme = format!("{AUTH_SCHEME} ");
        let starts_with_scheme = signed.authorization.starts_with(&scheme);
        prop_assert!(starts_with_scheme);
        let (auth_string, sign) = v3_parse_authorization(&signed.authorization).unwrap();
        prop_assert_eq!(auth_string, auth.render());
        prop_assert!(k.verifier.verify_base64(SignType::Rsa2, signed.content.as_bytes(), sign).is_ok());
    }
}
