//! `alipay notify verify`: the content rules of PROTOCOL §3.2 over the raw form body.
//!
//! The body is split on `&` and `=`, `+` becomes a space and `%XX` becomes a byte, once; the
//! bytes are then decoded in the notification's charset (its `charset` field, else the
//! Content-Type charset, else UTF-8). A malformed body is unusable input (exit 2); a missing or
//! wrong signature is a failed check (exit 1).

use alipay_sign::{Charset, PublicKey, RsaVerifier, Rule, SignType};
use percent_encoding::percent_decode;
use serde_json::{Map, Value, json};

use crate::cli::{NotifyVerifyArgs, RuleArg};
use crate::error::CliError;
use crate::input;
use crate::output::Report;

const FORM: &str = "application/x-www-form-urlencoded";

/// `{"verified", "rule", "content", "params"}`; exit 1 when not verified.
pub(crate) fn verify(args: &NotifyVerifyArgs) -> Result<Report, CliError> {
    let key: PublicKey = match (&args.public_key, &args.alipay_cert) {
        (Some(p), _) => input::public_key("--public-key", p)?,
        (None, Some(c)) => input::certificate_key("--alipay-cert", c)?.0,
        (None, None) => {
            return Err(CliError::new(
                "one of --public-key FILE or --alipay-cert FILE is required",
            ));
        }
    };
    let header_charset = match &args.content_type {
        Some(h) => content_type_charset(h)?,
        None => None,
    };
    let verifier = RsaVerifier::new(&key).map_err(|e| CliError::sign("the public key", &e))?;

    let body =
        input::stdin_bytes("the raw body of a notification (application/x-www-form-urlencoded)")?;
    let (params, charset) = decode_form(&body, header_charset)?;
    let sign_type = match params.iter().find(|(k, _)| k == "sign_type") {
        Some((_, v)) if !v.is_empty() => v.parse::<SignType>().map_err(|_| {
            CliError::new(format!(
                "the sign_type field is \"{v}\"; expected RSA2 or RSA"
            ))
        })?,
        _ => SignType::Rsa2,
    };
    let rules: &[(Rule, &str)] = match args.rule {
        RuleArg::Auto => &[(Rule::NotifyV1, "v1"), (Rule::NotifyV2, "v2")],
        RuleArg::V1 => &[(Rule::NotifyV1, "v1")],
        RuleArg::V2 => &[(Rule::NotifyV2, "v2")],
    };

    let mut outcome: Option<(&str, String, Option<String>)> = None;
    for &(rule, name) in rules {
        let content = alipay_sign::canonical_string(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            rule,
        );
        let result = alipay_sign::verify_params(
            &verifier,
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            rule,
            sign_type,
            charset,
        );
        match result {
            Ok(_) => {
                outcome = Some((name, content, None));
                break;
            }
            Err(e) if e.is_invalid_signature() => {
                if outcome.is_none() {
                    let reason = format!(
                        "not verified ({}): {}",
                        match args.rule {
                            RuleArg::Auto => "neither rule v1 nor v2",
                            RuleArg::V1 => "rule v1",
                            RuleArg::V2 => "rule v2",
                        },
                        crate::error::describe(&e)
                    );
                    outcome = Some((name, content, Some(reason)));
                }
            }
            Err(e) => return Err(CliError::sign("cannot verify", &e)),
        }
    }
    let Some((rule, content, failure)) = outcome else {
        return Err(CliError::new("no content rule was applied"));
    };
    let mut fields = Map::new();
    for (k, v) in &params {
        fields.insert(k.clone(), Value::String(v.clone()));
    }
    let report = Report::json(json!({
        "verified": failure.is_none(),
        "rule": rule,
        "content": content,
        "params": fields,
    }));
    Ok(match failure {
        None => report,
        Some(reason) => report.failed(reason),
    })
}

/// The charset named by a Content-Type header, after checking it is a form.
fn content_type_charset(header: &str) -> Result<Option<Charset>, CliError> {
    let mut parts = header.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case(FORM) {
        return Err(CliError::new(format!(
            "--content-type is \"{media}\"; a notification body is {FORM}"
        )));
    }
    for p in parts {
        if let Some((name, value)) = p.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
        {
            let label = value.trim().trim_matches('"');
            return Charset::from_label(label)
                .map(Some)
                .map_err(|e| CliError::sign("--content-type", &e));
        }
    }
    Ok(None)
}

/// Splits and decodes the form; returns the fields in body order and the charset used.
fn decode_form(
    body: &[u8],
    header_charset: Option<Charset>,
) -> Result<(Vec<(String, String)>, Charset), CliError> {
    // A trailing line break (from `echo` or a file) is not part of any field: a real line
    // break inside a value is always percent-encoded.
    let end = body
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    let body = &body[..end];
    let mut raw: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (i, segment) in body.split(|b| *b == b'&').enumerate() {
        if segment.is_empty() {
            continue;
        }
        let Some(eq) = segment.iter().position(|b| *b == b'=') else {
            return Err(CliError::new(format!(
                "stdin is not {FORM}: field {} has no '='; expected key=value pairs joined by '&'",
                i + 1
            )));
        };
        let key = form_decode(&segment[..eq]);
        if key.is_empty() {
            return Err(CliError::new(format!(
                "stdin is not {FORM}: field {} has an empty name",
                i + 1
            )));
        }
        raw.push((key, form_decode(&segment[eq + 1..])));
    }
    if raw.is_empty() {
        return Err(CliError::new(format!(
            "stdin holds no fields; expected a {FORM} notification body"
        )));
    }
    let charset = match raw.iter().find(|(k, _)| k == b"charset") {
        Some((_, v)) if !v.is_empty() => {
            let label = std::str::from_utf8(v).map_err(|_| {
                CliError::new("the charset field is not ASCII; expected utf-8, GBK or GB18030")
            })?;
            Charset::from_label(label).map_err(|e| CliError::sign("the charset field", &e))?
        }
        _ => header_charset.unwrap_or(Charset::Utf8),
    };
    let mut params: Vec<(String, String)> = Vec::with_capacity(raw.len());
    for (i, (k, v)) in raw.iter().enumerate() {
        let decode = |bytes: &[u8], what: &str| {
            charset.decode(bytes).map(|s| s.into_owned()).map_err(|_| {
                CliError::new(format!(
                    "stdin: the {what} of field {} is not valid {charset}; expected a notification in the charset it declares",
                    i + 1
                ))
            })
        };
        let key = decode(k, "name")?;
        let value = decode(v, "value")?;
        if params.iter().any(|(existing, _)| *existing == key) {
            return Err(CliError::new(format!(
                "stdin: the field \"{key}\" appears twice; a notification names each field once"
            )));
        }
        params.push((key, value));
    }
    Ok((params, charset))
}

/// `application/x-www-form-urlencoded` decoding of one name or value, to bytes.
fn form_decode(raw: &[u8]) -> Vec<u8> {
    let plus: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&plus).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_gbk_forms() {
        let (p, cs) = decode_form(b"a=1+2%2B3&b=%E4%B8%AD&c=&sign=x%3D%3D\n", None).unwrap();
        assert_eq!(cs, Charset::Utf8);
        assert_eq!(
            p,
            vec![
                ("a".into(), "1 2+3".into()),
                ("b".into(), "中".into()),
                ("c".into(), String::new()),
                ("sign".into(), "x==".into()),
            ]
        );
        let (p, cs) = decode_form(b"charset=gbk&s=%D6%D0%CE%C4", None).unwrap();
        assert_eq!(cs, Charset::Gbk);
        assert_eq!(p[1], ("s".into(), "中文".into()));
        // The header charset applies when the body has none.
        let (p, _) = decode_form(b"s=%D6%D0", Some(Charset::Gbk)).unwrap();
        assert_eq!(p[0].1, "中");
    }

    #[test]
    fn malformed_forms() {
        assert!(decode_form(b"hello", None).is_err());
        assert!(decode_form(b"=x", None).is_err());
        assert!(decode_form(b"a=1&a=2", None).is_err());
        assert!(decode_form(b"a=%FF", None).is_err());
        assert!(decode_form(b"&&\n", None).is_err());
        assert!(decode_form(b"charset=latin1&a=1", None).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_charset(FORM).unwrap(), None);
        assert_eq!(
            content_type_charset("application/x-www-form-urlencoded; charset=\"GBK\"").unwrap(),
            Some(Charset::Gbk)
        );
        assert!(content_type_charset("application/json").is_err());
    }
}
