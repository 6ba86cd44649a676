//! `alipay v3 auth` and `alipay v3 verify`.

use alipay_sign::{AuthString, RsaSigner, RsaVerifier};
use serde_json::json;

use crate::cli::{V3AuthArgs, V3VerifyArgs};
use crate::error::CliError;
use crate::input;
use crate::output::Report;

/// `{"content", "authorization"}` of a v3 request.
pub(crate) fn auth(args: &V3AuthArgs) -> Result<Report, CliError> {
    check_field("--app-id", &args.app_id)?;
    check_field("--nonce", &args.nonce)?;
    for (flag, value) in [("--app-id", &args.app_id), ("--nonce", &args.nonce)] {
        if value.contains([',', '=', ' ']) {
            return Err(CliError::new(format!(
                "{flag} \"{value}\" contains ',', '=' or a space, which would break the auth string"
            )));
        }
    }
    if args.method.is_empty() || !args.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(CliError::new(format!(
            "--method \"{}\" is not an HTTP method; expected e.g. GET or POST",
            args.method
        )));
    }
    if !args.target.starts_with('/') || args.target.contains(['\n', '\r']) {
        return Err(CliError::new(format!(
            "--target \"{}\" is not a request target; expected the path and query as sent, e.g. /v3/alipay/trade/query",
            args.target
        )));
    }
    if let Some(token) = &args.app_auth_token {
        check_field("--app-auth-token", token)?;
    }
    let key = input::private_key("--private-key", &args.private_key)?;
    let signer = RsaSigner::new(&key).map_err(|e| CliError::sign("--private-key", &e))?;
    let mut auth = AuthString::new(args.app_id.clone(), args.nonce.clone(), args.timestamp);
    if let Some(cert) = &args.app_cert {
        let (_, sn) = input::certificate_key("--app-cert", cert)?;
        auth = auth.with_app_cert_sn(sn);
    }
    let body = match &args.body_file {
        Some(path) => {
            let bytes = input::read_file("--body-file", path)?;
            String::from_utf8(bytes).map_err(|e| {
                CliError::new(format!(
                    "--body-file {} is not UTF-8 (invalid byte at offset {}); expected the exact request body",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ))
            })?
        }
        None => String::new(),
    };
    let signed = alipay_sign::v3_sign_request(
        &signer,
        &auth,
        &args.method,
        &args.target,
        &body,
        args.app_auth_token.as_deref(),
    )
    .map_err(|e| CliError::sign("cannot sign", &e))?;
    Ok(Report::json(json!({
        "content": signed.content,
        "authorization": signed.authorization,
    })))
}

/// A value that goes into the auth string or a header: not empty, no line breaks.
fn check_field(flag: &str, value: &str) -> Result<(), CliError> {
    if value.is_empty() {
        return Err(CliError::new(format!("{flag} is empty")));
    }
    if value.contains(['\n', '\r']) {
        return Err(CliError::new(format!(
            "{flag} contains a line break; expected a single-line value"
        )));
    }
    Ok(())
}

/// `{"verified": bool}` for a v3 response body on stdin; exit 1 when it does not verify.
pub(crate) fn verify(args: &V3VerifyArgs) -> Result<Report, CliError> {
    let key = input::public_key("--public-key", &args.public_key)?;
    let signature = input::signature_arg("--signature", &args.signature)?;
    let verifier = RsaVerifier::new(&key).map_err(|e| CliError::sign("--public-key", &e))?;
    let body = input::stdin_bytes("the raw response body")?;
    match alipay_sign::v3_verify_response(&verifier, &args.timestamp, &args.nonce, signature, &body)
    {
        Ok(()) => Ok(Report::json(json!({ "verified": true }))),
        Err(e) if e.is_invalid_signature() => Ok(Report::json(json!({ "verified": false }))
            .failed(format!("not verified: {}", crate::error::describe(&e)))),
        Err(e) => Err(CliError::sign("cannot verify", &e)),
    }
}
