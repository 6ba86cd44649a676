//! alipay-notify: the notification form parser, verification and typed events.
//!
//! Properties: no panic on any body or Content-Type; a parsed form reports positions inside the
//! body and gives back every field it lists; an unsigned or arbitrary body never verifies; a
//! body form-encoded from distinct fields parses back to exactly those fields; a body signed
//! with the test key verifies under the rule it was signed with, and its event decodes or fails
//! with a typed error.
#![no_main]

use std::sync::OnceLock;

use alipay_notify::{Form, NotifyBuilder, NotifyRule, NotifyVerifier, RuleChoice};
use alipay_sign::{Charset, PrivateKey, RsaSigner, SignType};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ALIPAY_PRIVATE: &[u8] =
    include_bytes!("../../crates/alipay-sign/tests/data/alipay_private_pkcs1.pem");

fn keys() -> &'static (RsaSigner, NotifyVerifier) {
    static K: OnceLock<(RsaSigner, NotifyVerifier)> = OnceLock::new();
    K.get_or_init(|| {
        let key = PrivateKey::from_pem_or_der(ALIPAY_PRIVATE).expect("key");
        (
            RsaSigner::new(&key).expect("signer"),
            NotifyVerifier::new(key.public_key()).expect("verifier"),
        )
    })
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    None,
    Form,
    FormGbk,
    Json,
    Other(String),
}

impl ContentType {
    fn header(&self) -> Option<&str> {
        match self {
            ContentType::None => None,
            ContentType::Form => Some("application/x-www-form-urlencoded; charset=utf-8"),
            ContentType::FormGbk => Some("application/x-www-form-urlencoded;charset=GBK"),
            ContentType::Json => Some("application/json"),
            ContentType::Other(s) => Some(s),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CharsetChoice {
    Utf8,
    Gbk,
    Gb18030,
}

impl CharsetChoice {
    fn charset(self) -> Charset {
        match self {
            CharsetChoice::Utf8 => Charset::Utf8,
            CharsetChoice::Gbk => Charset::Gbk,
            CharsetChoice::Gb18030 => Charset::Gb18030,
        }
    }
}

/// Field names from the protocol, so typed events and rule choices are reached.
#[derive(Arbitrary, Debug)]
enum Key {
    NotifyType,
    NotifyId,
    MsgMethod,
    Method,
    TradeStatus,
    TotalAmount,
    RefundFee,
    FundBillList,
    BizContent,
    UtcTimestamp,
    PassbackParams,
    AlipayCertSn,
    Other(String),
}

impl Key {
    fn name(&self) -> &str {
        match self {
            Key::NotifyType => "notify_type",
            Key::NotifyId => "notify_id",
            Key::MsgMethod => "msg_method",
            Key::Method => "method",
            Key::TradeStatus => "trade_status",
            Key::TotalAmount => "total_amount",
            Key::RefundFee => "refund_fee",
            Key::FundBillList => "fund_bill_list",
            Key::BizContent => "biz_content",
            Key::UtcTimestamp => "utc_timestamp",
            Key::PassbackParams => "passback_params",
            Key::AlipayCertSn => "alipay_cert_sn",
            Key::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Trade,
    DepositBack,
    Plain,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw {
        body: Vec<u8>,
        content_type: ContentType,
    },
    Fields {
        charset: CharsetChoice,
        kind: Kind,
        fields: Vec<(Key, String)>,
        /// Sign (slow: one RSA signature) instead of only encoding.
        sign: bool,
        v2: bool,
    },
}

fn encode(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
}

fn check_form(form: &Form, body_len: usize) {
    assert_eq!(form.iter().len(), form.len());
    for (k, v) in form.iter() {
        assert_eq!(form.get(k), Some(v));
        let pos = form.position(k).expect("listed field has a position");
        assert!(pos < body_len.max(1));
    }
    let v1 = form.canonical_content(NotifyRule::V1);
    let v2 = form.canonical_content(NotifyRule::V2);
    assert!(v2.len() >= v1.len());
}

fn raw(body: &[u8], content_type: &ContentType) {
    match Form::parse(body, content_type.header()) {
        Ok(form) => check_form(&form, body.len()),
        Err(e) => {
            assert!(
                e.is_content_type() || e.is_malformed() || e.is_charset(),
                "{e:?}"
            );
            if let Some(p) = e.position() {
                assert!(p <= body.len(), "{e:?}");
            }
        }
    }
    // Nothing built by the fuzzer carries a valid signature.
    let verified = keys().1.verify(body, content_type.header());
    assert!(verified.is_err());
}

fn fields(charset: CharsetChoice, kind: &Kind, fields: &[(Key, String)], sign: bool, v2: bool) {
    let mut list: Vec<(String, String)> = match kind {
        Kind::Trade => vec![
            ("notify_type".into(), "trade_status_sync".into()),
            ("notify_id".into(), "n".into()),
            ("notify_time".into(), "2024-05-13 17:49:25".into()),
            ("app_id".into(), "2021".into()),
            ("trade_no".into(), "T".into()),
            ("out_trade_no".into(), "O".into()),
            ("trade_status".into(), "TRADE_SUCCESS".into()),
        ],
        Kind::DepositBack => vec![(
            "msg_method".into(),
            "alipay.trade.refund.depositback.completed".into(),
        )],
        Kind::Plain => Vec::new(),
    };
    for (k, v) in fields {
        let name = k.name();
        if let Some(slot) = list.iter_mut().find(|(n, _)| n == name) {
            slot.1 = v.clone();
        } else {
            list.push((name.to_owned(), v.clone()));
        }
    }
    let charset = charset.charset();
    let (signer, verifier) = keys();

    if sign {
        let reserved = ["sign", "sign_type", "charset"];
        list.retain(|(k, _)| !k.is_empty() && !reserved.contains(&k.as_str()));
        let rule = if v2 { NotifyRule::V2 } else { NotifyRule::V1 };
        let Ok(body) = NotifyBuilder::new(charset)
            .fields(list)
            .sign(signer, rule, SignType::Rsa2)
        else {
            return; // a character the charset cannot hold
        };
        let fixed = if v2 { RuleChoice::V2 } else { RuleChoice::V1 };
        let verified = verifier
            .clone()
            .with_rule(fixed)
            .verify(&body, None)
            .expect("a body signed here verifies");
        assert_eq!(verified.rule(), rule);
        if let Err(e) = verified.event() {
            assert!(e.is_event(), "{e:?}");
        }
        return;
    }

    let mut body = Vec::new();
    let mut expect_ok = true;
    let mut seen = std::collections::HashSet::new();
    for (i, (k, v)) in list.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        expect_ok &= !k.is_empty() && seen.insert(k.clone()) && k != "charset";
        match (charset.encode(k), charset.encode(v)) {
            (Ok(kb), Ok(vb)) => {
                encode(&kb, &mut body);
                body.push(b'=');
                encode(&vb, &mut body);
            }
            _ => return,
        }
    }
    if !body.is_empty() {
        body.push(b'&');
    }
    body.extend_from_slice(b"charset=");
    body.extend_from_slice(charset.as_str().as_bytes());
    match Form::parse(&body, None) {
        Ok(form) => {
            assert!(expect_ok, "duplicate or empty names must not parse");
            check_form(&form, body.len());
            for (k, v) in &list {
                assert_eq!(form.get(k), Some(v.as_str()), "{k}");
            }
            assert_eq!(form.charset(), charset);
            // Never verified: without a `sign` it is missing, with one (made up here) it is
            // invalid, or its `sign_type` is unknown.
            let err = verifier.verify(&body, None).unwrap_err();
            let has_sign = form.get("sign").is_some_and(|s| !s.trim().is_empty());
            if has_sign {
                assert!(err.is_unverified(), "{err:?}");
            } else {
                assert!(err.is_missing_signature(), "{err:?}");
            }
        }
        Err(e) => assert!(!expect_ok, "{e:?} for {list:?}"),
    }
}

fuzz_target!(|input: Input| match input {
    Input::Raw { body, content_type } => raw(&body, &content_type),
    Input::Fields {
        charset,
        kind,
        fields: f,
        sign,
        v2,
    } => fields(charset, &kind, &f, sign, v2),
});
