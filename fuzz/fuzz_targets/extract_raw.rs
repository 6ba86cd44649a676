//! Response extraction over arbitrary bytes, in UTF-8, GBK and GB18030, then verification of
//! whatever was extracted.
//!
//! Properties: no panic; errors are typed (`is_response`); the content is the body's own bytes
//! at `offset` (never a copy), an object or a quoted string; verification of fuzzed input fails
//! with `is_invalid_signature`. For UTF-8 bodies that serde_json reads as an object, the
//! extractor agrees with serde_json: it succeeds exactly when the node is usable and returns the
//! node's raw text, `sign` and `alipay_cert_sn`.
#![no_main]

use std::fmt;
use std::sync::OnceLock;

use alipay_sign::{
    Charset, NodeKind, NodeName, PublicKey, RsaVerifier, SignType, extract_response,
};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

const ALIPAY_PUBLIC: &[u8] =
    include_bytes!("../../crates/alipay-sign/tests/data/alipay_public.pem");

fn verifier() -> &'static RsaVerifier {
    static V: OnceLock<RsaVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let key = PublicKey::from_pem_or_der(ALIPAY_PUBLIC).expect("test key");
        RsaVerifier::new(&key).expect("verifier")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let charset = match flags % 3 {
        0 => Charset::Utf8,
        1 => Charset::Gbk,
        _ => Charset::Gb18030,
    };
    let method = if flags & 0x10 == 0 {
        "alipay.trade.query"
    } else {
        "m"
    };
    let result = extract_response(body, method, charset);
    match &result {
        Ok(parts) => {
            let end = parts.offset + parts.content.len();
            assert_eq!(&body[parts.offset..end], parts.content);
            // The content is a view into the body, not a copy.
            assert_eq!(parts.content.as_ptr(), body[parts.offset..].as_ptr());
            match parts.kind {
                NodeKind::Object => {
                    assert_eq!(parts.content.first(), Some(&b'{'));
                    assert_eq!(parts.content.last(), Some(&b'}'));
                    assert_eq!(parts.ciphertext(), None);
                }
                NodeKind::Encrypted => {
                    assert!(parts.content.len() >= 2);
                    assert_eq!(parts.content.first(), Some(&b'"'));
                    assert_eq!(parts.content.last(), Some(&b'"'));
                }
                _ => {}
            }
            let _ = format!("{parts:?}");
            for sign_type in [SignType::Rsa2, SignType::Rsa] {
                let err = parts
                    .verify(verifier(), sign_type)
                    .expect_err("fuzzed input carries no valid signature");
                assert!(err.is_invalid_signature(), "{err}");
            }
        }
        Err(e) => {
            assert!(e.is_response(), "{e}");
            let _ = e.to_string();
        }
    }
    if charset == Charset::Utf8 {
        oracle(body, method, &result);
    }
});

/// The top-level members of an object in document order, duplicates kept.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    v.push(entry);
                }
                Ok(Members(v))
            }
        }
        d.deserialize_map(V)
    }
}

fn oracle(
    body: &[u8],
    method: &str,
    result: &Result<alipay_sign::ResponseParts<'_>, alipay_sign::Error>,
) {
    // Keys are compared raw by the extractor (as the SDKs' text searches do) and unescaped by
    // serde; the two differ only for keys written with \u escapes. Deep nesting hits the two
    // parsers' depth limits at slightly different places.
    if body.windows(2).any(|w| w == b"\\u")
        || body.iter().filter(|&&b| b == b'[' || b == b'{').count() > 100
    {
        return;
    }
    let Ok(Members(members)) = serde_json::from_slice::<Members>(body) else {
        return;
    };
    let node_name = format!("{}_response", method.replace('.', "_"));
    let raw_of = |name: &str| -> Vec<&str> {
        members
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.get())
            .collect()
    };
    let nodes = raw_of(&node_name);
    let errors = raw_of("error_response");
    let signs = raw_of("sign");
    let cert_sns = raw_of("alipay_cert_sn");
    let usable = |raw: &&str| raw.starts_with('{') || raw.starts_with('"');
    let expected: Option<(&str, NodeName)> = (|| {
        if nodes.len() > 1 || errors.len() > 1 || signs.len() > 1 {
            return None;
        }
        if signs.iter().any(|s| !s.starts_with('"')) {
            return None;
        }
        if cert_sns.iter().any(|s| !s.starts_with('"') && *s != "null") {
            return None;
        }
        match (nodes.first(), errors.first()) {
            (Some(n), _) if usable(n) => Some((*n, NodeName::Method)),
            (Some(_), _) => None,
            (None, Some(e)) if usable(e) => Some((*e, NodeName::ErrorResponse)),
            _ => None,
        }
    })();
    match (expected, result) {
        (Some((raw, node)), Ok(parts)) => {
            assert_eq!(parts.content, raw.as_bytes());
            assert_eq!(parts.node, node);
            let sign: Option<String> = signs
                .first()
                .map(|s| serde_json::from_str(s).expect("a JSON string"));
            assert_eq!(parts.sign.as_deref(), sign.as_deref());
            let sn: Option<String> = cert_sns
                .iter()
                .filter(|s| s.starts_with('"'))
                .last()
                .map(|s| serde_json::from_str(s).expect("a JSON string"));
            assert_eq!(parts.alipay_cert_sn.as_deref(), sn.as_deref());
        }
        (None, Err(_)) => {}
        (Some(_), Err(e)) => panic!("serde_json reads the node but the extractor fails: {e}"),
        (None, Ok(parts)) => panic!("the extractor accepts an unusable body: {parts:?}"),
    }
}
