//! `alipay response verify`: the exact signed slice of a v2 response, its signature, and the
//! decoded (and, once verified, decrypted) node.

use alipay_sign::{AesKey, Charset, NodeKind, PublicKey, RsaVerifier, SignType};
use serde_json::{Value, json};

use crate::cli::ResponseVerifyArgs;
use crate::error::CliError;
use crate::input;
use crate::output::Report;

/// `{"verified", "content", "alipay_cert_sn", "response"}`; exit 1 when not verified.
pub(crate) fn verify(args: &ResponseVerifyArgs) -> Result<Report, CliError> {
    if args.method.trim().is_empty() {
        return Err(CliError::new(
            "--method is empty; expected an API method such as alipay.trade.query",
        ));
    }
    let (key, cert_sn): (PublicKey, Option<String>) = match (&args.public_key, &args.alipay_cert) {
        (Some(p), _) => (input::public_key("--public-key", p)?, None),
        (None, Some(c)) => {
            let (key, sn) = input::certificate_key("--alipay-cert", c)?;
            (key, Some(sn))
        }
        (None, None) => {
            return Err(CliError::new(
                "one of --public-key FILE or --alipay-cert FILE is required",
            ));
        }
    };
    let aes = match &args.aes_key {
        Some(k) => Some(AesKey::from_base64(k).map_err(|e| CliError::sign("--aes-key", &e))?),
        None => None,
    };
    let verifier = RsaVerifier::new(&key).map_err(|e| CliError::sign("the public key", &e))?;
    let sign_type = args.sign_type.map_or(SignType::Rsa2, SignType::from);
    let charset = args.charset.unwrap_or(Charset::Utf8);

    let body = input::stdin_bytes("a raw v2 gateway response body")?;
    let parts = alipay_sign::extract_response(&body, &args.method, charset)
        .map_err(|e| CliError::sign("stdin", &e))?;
    let content = charset.decode(parts.content).map_err(|e| {
        CliError::new(format!(
            "stdin: the signed content is not valid {charset} ({}); pass --charset to name the body's charset",
            crate::error::describe(&e)
        ))
    })?;
    let response_sn = parts.alipay_cert_sn.as_deref().map(str::to_owned);

    let mut failure = match parts.verify(&verifier, sign_type) {
        Ok(()) => None,
        Err(e) if e.is_invalid_signature() => {
            Some(format!("not verified: {}", crate::error::describe(&e)))
        }
        Err(e) => return Err(CliError::sign("cannot verify", &e)),
    };
    if failure.is_none()
        && let (Some(expected), Some(found)) = (&cert_sn, &response_sn)
        && expected != found
    {
        failure = Some(format!(
            "not verified: the response names alipay_cert_sn {found} but --alipay-cert has SN {expected}"
        ));
    }
    let verified = failure.is_none();

    let response = match parts.kind {
        NodeKind::Encrypted => {
            let ciphertext = parts.ciphertext().unwrap_or_default();
            match (&aes, verified) {
                (Some(aes), true) => decrypt_node(aes, ciphertext, charset)?,
                _ => Value::String(ciphertext.to_owned()),
            }
        }
        _ => serde_json::from_str(&content).map_err(|e| {
            CliError::new(format!("stdin: the response node is not valid JSON ({e})"))
        })?,
    };

    let report = Report::json(json!({
        "verified": verified,
        "content": content,
        "alipay_cert_sn": response_sn,
        "response": response,
    }));
    Ok(match failure {
        None => report,
        Some(reason) => report.failed(reason),
    })
}

fn decrypt_node(aes: &AesKey, ciphertext: &str, charset: Charset) -> Result<Value, CliError> {
    let plain = aes
        .decrypt(ciphertext)
        .map_err(|e| CliError::sign("--aes-key: cannot decrypt the verified response", &e))?;
    let text = charset.decode(&plain).map_err(|e| {
        CliError::new(format!(
            "the decrypted response is not valid {charset} ({})",
            crate::error::describe(&e)
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::new(format!(
            "the decrypted response is not JSON ({e}); is --aes-key the right key?"
        ))
    })
}
