//! `alipay sign` (parameters or `--raw` bytes) and `alipay verify`.

use alipay_sign::{Charset, RsaSigner, RsaVerifier, SignType, Signer as _, Verifier as _};
use serde_json::{Value, json};

use crate::cli::{SignArgs, VerifyArgs};
use crate::error::CliError;
use crate::input;
use crate::output::Report;

/// `{"content", "sign"}` for a JSON object of parameters, or the bare signature with `--raw`.
pub(crate) fn sign(args: &SignArgs) -> Result<Report, CliError> {
    let key = input::private_key("--private-key", &args.private_key)?;
    let signer = RsaSigner::new(&key).map_err(|e| CliError::sign("--private-key", &e))?;
    if args.raw {
        let bytes = input::stdin_bytes("the exact bytes to sign")?;
        let sign_type = args.sign_type.map_or(SignType::Rsa2, SignType::from);
        let sign = signer
            .sign_base64(sign_type, &bytes)
            .map_err(|e| CliError::sign("cannot sign", &e))?;
        return Ok(Report::line(sign));
    }
    let text = input::stdin_text("a JSON object of request parameters")?;
    let params = parse_params(&text)?;
    let sign_type = pick_sign_type(args.sign_type.map(SignType::from), &params)?;
    let charset = pick_charset(args.charset, &params)?;
    let signed = alipay_sign::sign_params(&signer, params.iter().cloned(), sign_type, charset)
        .map_err(|e| CliError::sign("cannot sign", &e))?;
    Ok(Report::json(
        json!({ "content": signed.content, "sign": signed.sign }),
    ))
}

/// The parameters of a JSON object, in input order; non-string values as `JSON.stringify`
/// prints them.
fn parse_params(text: &str) -> Result<Vec<(String, String)>, CliError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        CliError::new(format!(
            "stdin is not valid JSON ({e}); expected a JSON object of request parameters"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(CliError::new(format!(
            "stdin holds a JSON {}; expected a JSON object of request parameters",
            kind_of(&value)
        )));
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, crate::jsonstr::stringify(&other)),
        })
        .collect())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `--sign-type`, else the `sign_type` parameter, else RSA2; the two must agree.
fn pick_sign_type(
    flag: Option<SignType>,
    params: &[(String, String)],
) -> Result<SignType, CliError> {
    let from_params = match param(params, "sign_type") {
        Some(v) => Some(v.parse::<SignType>().map_err(|_| {
            CliError::new(format!(
                "the sign_type parameter is \"{v}\"; expected RSA2 or RSA"
            ))
        })?),
        None => None,
    };
    match (flag, from_params) {
        (Some(f), Some(p)) if f != p => Err(CliError::new(format!(
            "--sign-type {f} contradicts the sign_type parameter {p}; the signature must use the declared type"
        ))),
        (Some(f), _) => Ok(f),
        (None, Some(p)) => Ok(p),
        (None, None) => Ok(SignType::Rsa2),
    }
}

/// `--charset`, else the `charset` parameter, else UTF-8; the two must agree.
fn pick_charset(flag: Option<Charset>, params: &[(String, String)]) -> Result<Charset, CliError> {
    let from_params = match param(params, "charset") {
        Some(v) => Some(Charset::from_label(v).map_err(|e| {
            CliError::new(format!(
                "the charset parameter: {}",
                crate::error::describe(&e)
            ))
        })?),
        None => None,
    };
    match (flag, from_params) {
        (Some(f), Some(p)) if f != p => Err(CliError::new(format!(
            "--charset {f} contradicts the charset parameter {p}; the string must be signed in the declared charset"
        ))),
        (Some(f), _) => Ok(f),
        (None, Some(p)) => Ok(p),
        (None, None) => Ok(Charset::Utf8),
    }
}

/// `{"verified": bool}` for the exact bytes of stdin; exit 1 when the signature does not verify.
pub(crate) fn verify(args: &VerifyArgs) -> Result<Report, CliError> {
    let key = input::public_key("--public-key", &args.public_key)?;
    let sign = input::signature_arg("--sign", &args.sign)?;
    let verifier = RsaVerifier::new(&key).map_err(|e| CliError::sign("--public-key", &e))?;
    let bytes = input::stdin_bytes("the exact bytes that were signed")?;
    let sign_type = args.sign_type.map_or(SignType::Rsa2, SignType::from);
    match verifier.verify_base64(sign_type, &bytes, sign) {
        Ok(()) => Ok(Report::json(json!({ "verified": true }))),
        Err(e) if e.is_invalid_signature() => Ok(Report::json(json!({ "verified": false }))
            .failed(format!("not verified: {}", crate::error::describe(&e)))),
        Err(e) => Err(CliError::sign("cannot verify", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_order_and_stringify() {
        let p = parse_params(r#"{"b":"x","a":{"k":"中","n":1.0},"c":[1,2],"d":null,"e":true}"#)
            .unwrap();
        assert_eq!(
            p,
            vec![
                ("b".to_owned(), "x".to_owned()),
                ("a".to_owned(), r#"{"k":"中","n":1}"#.to_owned()),
                ("c".to_owned(), "[1,2]".to_owned()),
                ("d".to_owned(), "null".to_owned()),
                ("e".to_owned(), "true".to_owned()),
            ]
        );
        assert!(parse_params("[1]").is_err());
        assert!(parse_params("{").is_err());
    }

    #[test]
    fn declared_types_must_agree() {
        let p = vec![("sign_type".to_owned(), "RSA".to_owned())];
        assert_eq!(pick_sign_type(None, &p).unwrap(), SignType::Rsa);
        assert!(pick_sign_type(Some(SignType::Rsa2), &p).is_err());
        assert_eq!(pick_sign_type(None, &[]).unwrap(), SignType::Rsa2);
        let p = vec![("charset".to_owned(), "GBK".to_owned())];
        assert_eq!(pick_charset(None, &p).unwrap(), Charset::Gbk);
        assert!(pick_charset(Some(Charset::Utf8), &p).is_err());
    }
}
