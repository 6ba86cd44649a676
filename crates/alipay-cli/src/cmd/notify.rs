//! `alipay notify verify`: the raw body of a notification, parsed and verified by
//! `alipay-notify` exactly as a merchant's webhook does.
//!
//! The body is split on `&` and `=` while still encoded, `+` and `%XX` are decoded once to
//! bytes, and those bytes are read in the notification's charset (its `charset` field, else the
//! `--content-type` charset, else UTF-8). A body that is not such a form is unusable input
//! (exit 2); a missing or wrong signature, or a certificate SN the given certificates do not
//! have, is a failed check (exit 1).

use std::path::PathBuf;

use alipay_notify::{CertificateSet, Form, NotifyRule, NotifyVerifier, RuleChoice, Verification};
use serde_json::{Map, Value, json};

use crate::cli::{NotifyVerifyArgs, RuleArg};
use crate::error::{CliError, describe};
use crate::input;
use crate::output::Report;

/// `{"verified", "rule", "content", "params"}`; exit 1 when not verified.
pub(crate) fn verify(args: &NotifyVerifyArgs) -> Result<Report, CliError> {
    let verifier = verifier(args.public_key.as_ref(), &args.alipay_cert)?;
    let content_type = args.content_type.as_deref();
    if let Some(header) = content_type {
        // The header alone, so that its problems name the flag rather than the body.
        Form::parse(b"a=1", Some(header)).map_err(|e| {
            CliError::new(format!("--content-type \"{header}\": {}", notify_error(&e)))
        })?;
    }

    let body =
        input::stdin_bytes("the raw body of a notification (application/x-www-form-urlencoded)")?;
    // A trailing line break (from `echo` or a file) is not part of any field: a real line
    // break inside a value is always percent-encoded.
    let end = body
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    let body = body.get(..end).unwrap_or_default();
    if body.iter().all(|b| *b == b'&') {
        return Err(CliError::new(
            "stdin holds no fields; expected an application/x-www-form-urlencoded notification body",
        ));
    }
    let form = Form::parse(body, content_type)
        .map_err(|e| CliError::new(format!("stdin: {}", notify_error(&e))))?;
    if let Some(name) = form.get("sign_type").filter(|v| !v.is_empty())
        && name.parse::<alipay_sign::SignType>().is_err()
    {
        return Err(CliError::new(format!(
            "the sign_type field is \"{name}\"; expected RSA2 or RSA"
        )));
    }

    let (first, other) = match args.rule {
        RuleArg::Auto => {
            let (first, _) = RuleChoice::Auto.resolve(&form);
            let other = match first {
                NotifyRule::V2 => RuleChoice::V1,
                _ => RuleChoice::V2,
            };
            (RuleChoice::Auto, Some(other))
        }
        RuleArg::V1 => (RuleChoice::V1, None),
        RuleArg::V2 => (RuleChoice::V2, None),
    };
    let outcome = match verifier.clone().with_rule(first).check(&form) {
        Ok(v) => Ok(v),
        Err(e) if e.is_invalid_signature() => match other {
            Some(rule) => verifier.with_rule(rule).check(&form).map_err(|_| e),
            None => Err(e),
        },
        Err(e) => Err(e),
    };

    let mut params = Map::new();
    for (k, v) in form.iter() {
        params.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    match outcome {
        Ok(Verification { rule, content, .. }) => Ok(Report::json(json!({
            "verified": true,
            "rule": rule.as_str(),
            "content": content,
            "params": params,
        }))),
        Err(e) if e.is_unverified() => {
            let rule = e.rule().unwrap_or_else(|| first.resolve(&form).0);
            let content = e
                .checked_content()
                .map_or_else(|| form.canonical_content(rule), str::to_owned);
            let tried = match args.rule {
                RuleArg::Auto if e.is_invalid_signature() => "neither rule v1 nor v2",
                _ => match rule {
                    NotifyRule::V2 => "rule v2",
                    _ => "rule v1",
                },
            };
            Ok(Report::json(json!({
                "verified": false,
                "rule": rule.as_str(),
                "content": content,
                "params": params,
            }))
            .failed(format!("not verified ({tried}): {}", describe(&e))))
        }
        Err(e) => Err(CliError::new(format!(
            "cannot verify: {}",
            notify_error(&e)
        ))),
    }
}

/// The verifier: the public key, or every given certificate by its SN (the first one is the
/// default for notifications without `alipay_cert_sn`).
fn verifier(
    public_key: Option<&PathBuf>,
    alipay_certs: &[PathBuf],
) -> Result<NotifyVerifier, CliError> {
    if let Some(path) = public_key {
        let key = input::public_key("--public-key", path)?;
        return NotifyVerifier::new(&key).map_err(|e| {
            CliError::new(format!(
                "--public-key {}: {}",
                path.display(),
                notify_error(&e)
            ))
        });
    }
    if alipay_certs.is_empty() {
        return Err(CliError::new(
            "one of --public-key FILE or --alipay-cert FILE is required",
        ));
    }
    let mut set = CertificateSet::new();
    for path in alipay_certs {
        let certs = input::certificates("--alipay-cert", path)?;
        let first = certs.first().ok_or_else(|| {
            CliError::new(format!(
                "--alipay-cert {}: no certificate found",
                path.display()
            ))
        })?;
        set.insert(first).map_err(|e| {
            CliError::new(format!(
                "--alipay-cert {}: {}",
                path.display(),
                notify_error(&e)
            ))
        })?;
    }
    Ok(NotifyVerifier::with_certificates(set))
}

/// An `alipay-notify` error and its causes as one line.
fn notify_error(e: &alipay_notify::Error) -> String {
    describe(e)
}
