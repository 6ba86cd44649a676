//! Signed responses built from arbitrary JSON: the extractor must return exactly the bytes that
//! were signed, and verification must pass, whatever the layout.
//!
//! The fuzzer chooses the node's JSON (strings with braces, quotes, `"sign"`, `_response"`,
//! Chinese text), whitespace between every token, other top-level members around the node,
//! `alipay_cert_sn` before or after `sign`, the `error_response` node instead of the method's,
//! an AES-encrypted node (a quoted ciphertext string), `\/` escaping of every `/` in the body
//! (signature over the unescaped text, as the gateway produces it), and UTF-8, GBK or GB18030.
#![no_main]

use std::sync::OnceLock;

use alipay_sign::{
    AesKey, Charset, NodeKind, NodeName, PrivateKey, PublicKey, RsaSigner, RsaVerifier, SignType,
    Signer, extract_response,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ALIPAY_PRIVATE: &[u8] =
    include_bytes!("../../crates/alipay-sign/tests/data/alipay_private_pkcs1.pem");
const ALIPAY_PUBLIC: &[u8] =
    include_bytes!("../../crates/alipay-sign/tests/data/alipay_public.pem");
const METHOD: &str = "alipay.trade.query";
const NODE: &str = "alipay_trade_query_response";

struct Keys {
    signer: RsaSigner,
    verifier: RsaVerifier,
    aes: AesKey,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        signer: RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_PRIVATE).expect("key"))
            .expect("signer"),
        verifier: RsaVerifier::new(&PublicKey::from_pem_or_der(ALIPAY_PUBLIC).expect("key"))
            .expect("verifier"),
        aes: AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").expect("aes key"),
    })
}

/// Text that trips naive extractors.
const TRICKY: [&str; 12] = [
    "\"sign\"",
    "{\"sign\":\"x\"}",
    "}",
    "{",
    "\\",
    "\\/",
    "_response\"",
    "alipay_trade_query_response",
    ",\"sign\":\"",
    "中文 支付宝",
    "https://example.com/a/b",
    "\"",
];

#[derive(Arbitrary, Debug)]
enum Key {
    Sign,
    CertSn,
    Node,
    ErrorResponse,
    Tricky(u8),
    Other(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Sign => "sign".into(),
            Key::CertSn => "alipay_cert_sn".into(),
            Key::Node => NODE.into(),
            Key::ErrorResponse => "error_response".into(),
            Key::Tricky(i) => TRICKY[usize::from(*i) % TRICKY.len()].into(),
            Key::Other(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(i32, u16),
    Str(String),
    Tricky(u8),
    Arr(Vec<Json>),
    Obj(Vec<(Key, Json)>),
}

#[derive(Arbitrary, Debug)]
struct Case {
    /// Members of the node object.
    node: Vec<(Key, Json)>,
    /// Other top-level members (special names are skipped).
    extras: Vec<(String, Json)>,
    /// Where the node goes among the extras.
    node_at: u8,
    cert_sn: Option<String>,
    cert_sn_after_sign: bool,
    sign_first: bool,
    error_node: bool,
    encrypted: bool,
    escape_slashes: bool,
    charset: u8,
    /// Whitespace between tokens, one choice per token, cycled.
    ws: Vec<u8>,
}

struct Writer<'a> {
    out: String,
    ws: &'a [u8],
    at: usize,
}

impl Writer<'_> {
    fn ws(&mut self) {
        if self.ws.is_empty() {
            return;
        }
        let choice = self.ws[self.at % self.ws.len()];
        self.at += 1;
        self.out.push_str(match choice % 6 {
            0 | 1 => "",
            2 => " ",
            3 => "\n",
            4 => "\r\n  ",
            _ => "\t",
        });
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c if u32::from(c) < 0x20 => self.out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, v: &Json) {
        match v {
            Json::Null => self.out.push_str("null"),
            Json::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => self.out.push_str(&i.to_string()),
            Json::Decimal(i, f) => self.out.push_str(&format!("{i}.{f}")),
            Json::Str(s) => self.string(s),
            Json::Tricky(i) => self.string(TRICKY[usize::from(*i) % TRICKY.len()]),
            Json::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.value(item);
                    self.ws();
                }
                self.out.push(']');
            }
            Json::Obj(members) => self.object(members.iter().map(|(k, v)| (k.text(), v))),
        }
    }

    fn object<'j>(&mut self, members: impl Iterator<Item = (String, &'j Json)>) {
        self.out.push('{');
        for (i, (k, v)) in members.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.ws();
            self.string(&k);
            self.ws();
            self.out.push(':');
            self.ws();
            self.value(v);
            self.ws();
        }
        self.out.push('}');
    }
}

fn encode(charset: Charset, text: &str) -> Option<Vec<u8>> {
    charset.encode(text).ok().map(|c| c.into_owned())
}

fuzz_target!(|case: Case| {
    let charset = match case.charset % 3 {
        0 => Charset::Utf8,
        1 => Charset::Gbk,
        _ => Charset::Gb18030,
    };
    let k = keys();
    // Real SNs are hex; in GBK bodies a non-ASCII SN is refused (it is read as UTF-8).
    let cert_sn: Option<String> = case.cert_sn.as_ref().map(|sn| {
        if charset == Charset::Utf8 {
            sn.clone()
        } else {
            sn.chars().filter(char::is_ascii).collect()
        }
    });
    let mut w = Writer {
        out: String::new(),
        ws: &case.ws,
        at: 0,
    };

    // The node text as Alipay signs it (never with `\/`).
    w.object(case.node.iter().map(|(k, v)| (k.text(), v)));
    let plain = std::mem::take(&mut w.out);
    let Some(plain_bytes) = encode(charset, &plain) else {
        return; // not representable in this charset
    };
    let signed_text = if case.encrypted {
        format!("\"{}\"", k.aes.encrypt(&plain_bytes))
    } else {
        plain.clone()
    };
    let Some(signed_bytes) = encode(charset, &signed_text) else {
        return;
    };
    let sign = k
        .signer
        .sign_base64(SignType::Rsa2, &signed_bytes)
        .expect("sign");

    // The body: extras around the node, then alipay_cert_sn and sign.
    let node_key = if case.error_node {
        "error_response"
    } else {
        NODE
    };
    let special = ["sign", "alipay_cert_sn", NODE, "error_response"];
    let extras: Vec<(&String, &Json)> = case
        .extras
        .iter()
        .filter(|(key, _)| !special.contains(&key.as_str()))
        .map(|(key, v)| (key, v))
        .collect();
    let node_at = usize::from(case.node_at) % (extras.len() + 1);
    let mut body = String::from("{");
    let mut first = true;
    let mut member = |body: &mut String, w: &mut Writer<'_>, key: &str, raw: &str| {
        if !first {
            body.push(',');
        }
        first = false;
        w.ws();
        w.string(key);
        body.push_str(&std::mem::take(&mut w.out));
        w.ws();
        body.push_str(&std::mem::take(&mut w.out));
        body.push(':');
        w.ws();
        body.push_str(&std::mem::take(&mut w.out));
        body.push_str(raw);
        w.ws();
        body.push_str(&std::mem::take(&mut w.out));
    };
    let mut tail: Vec<(&str, String)> = Vec::new();
    {
        let mut sign_raw = Writer {
            out: String::new(),
            ws: &[],
            at: 0,
        };
        sign_raw.string(&sign);
        let sn_raw = cert_sn.as_ref().map(|sn| {
            let mut x = Writer {
                out: String::new(),
                ws: &[],
                at: 0,
            };
            x.string(sn);
            x.out
        });
        tail.push(("sign", sign_raw.out));
        if let Some(sn) = sn_raw {
            if case.cert_sn_after_sign {
                tail.push(("alipay_cert_sn", sn));
            } else {
                tail.insert(0, ("alipay_cert_sn", sn));
            }
        }
    }
    if case.sign_first {
        for (key, raw) in &tail {
            member(&mut body, &mut w, key, raw);
        }
    }
    for i in 0..=extras.len() {
        if i == node_at {
            member(&mut body, &mut w, node_key, &signed_text);
        }
        if let Some((key, v)) = extras.get(i) {
            let mut x = Writer {
                out: String::new(),
                ws: &case.ws,
                at: i,
            };
            x.value(v);
            member(&mut body, &mut w, key, &x.out);
        }
    }
    if !case.sign_first {
        for (key, raw) in &tail {
            member(&mut body, &mut w, key, raw);
        }
    }
    body.push('}');

    // `\/` everywhere: a slash only ever appears inside strings, so this keeps the JSON valid.
    let (body, expected_content) = if case.escape_slashes {
        (body.replace('/', "\\/"), signed_text.replace('/', "\\/"))
    } else {
        (body, signed_text.clone())
    };
    let Some(body_bytes) = encode(charset, &body) else {
        return;
    };
    let expected_bytes = encode(charset, &expected_content).expect("a part of an encodable text");

    let parts = match extract_response(&body_bytes, METHOD, charset) {
        Ok(p) => p,
        Err(e) => panic!("extraction failed: {e}\nbody: {body}"),
    };
    assert_eq!(parts.content, expected_bytes.as_slice(), "body: {body}");
    assert_eq!(
        parts.node,
        if case.error_node {
            NodeName::ErrorResponse
        } else {
            NodeName::Method
        }
    );
    assert_eq!(
        parts.kind,
        if case.encrypted {
            NodeKind::Encrypted
        } else {
            NodeKind::Object
        }
    );
    assert_eq!(parts.sign.as_deref(), Some(sign.as_str()));
    assert_eq!(parts.alipay_cert_sn.as_deref(), cert_sn.as_deref());
    if let Err(e) = parts.verify(&k.verifier, SignType::Rsa2) {
        panic!("verification failed: {e}\nbody: {body}");
    }
    if case.encrypted {
        let ct = parts
            .ciphertext()
            .expect("an encrypted node has base64 text");
        // ciphertext() is the raw string content: `\/` escapes are the caller's to undo.
        let ct = ct.replace("\\/", "/");
        assert_eq!(k.aes.decrypt(&ct).expect("decrypt"), plain_bytes);
    }
});
