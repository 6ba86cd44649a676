//! Reading what the user hands over: key and certificate files, stdin, base64 arguments.
//! Every failure is a [`CliError`] that names the flag, the file and what was expected.

use std::io::Read as _;
use std::path::Path;

use alipay_sign::{Certificate, PrivateKey, PublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::CliError;

/// Reads a file named by `flag` (`--private-key`, or `FILE` for a positional argument).
pub(crate) fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| {
        CliError::new(format!(
            "cannot read {flag} {}: {}",
            path.display(),
            crate::error::describe(&e)
        ))
    })
}

fn context(flag: &str, path: &Path) -> String {
    format!("{flag} {}", path.display())
}

/// An RSA private key (PKCS#1 or PKCS#8, any encoding).
pub(crate) fn private_key(flag: &str, path: &Path) -> Result<PrivateKey, CliError> {
    let bytes = read_file(flag, path)?;
    PrivateKey::from_pem_or_der(&bytes).map_err(|e| CliError::sign(&context(flag, path), &e))
}

/// A public key, or the key of the first certificate of a certificate file.
pub(crate) fn public_key(flag: &str, path: &Path) -> Result<PublicKey, CliError> {
    let bytes = read_file(flag, path)?;
    PublicKey::from_pem_or_der(&bytes).map_err(|e| CliError::sign(&context(flag, path), &e))
}

/// Every certificate of a certificate file, in file order (at least one).
pub(crate) fn certificates(flag: &str, path: &Path) -> Result<Vec<Certificate>, CliError> {
    let bytes = read_file(flag, path)?;
    let certs =
        Certificate::parse_bundle(&bytes).map_err(|e| CliError::sign(&context(flag, path), &e))?;
    if certs.is_empty() {
        return Err(CliError::new(format!(
            "{}: no certificate found; a PEM, base64 or DER X.509 certificate was expected",
            context(flag, path)
        )));
    }
    Ok(certs)
}

/// The first certificate of a certificate file: its public key and its SN.
pub(crate) fn certificate_key(flag: &str, path: &Path) -> Result<(PublicKey, String), CliError> {
    let certs = certificates(flag, path)?;
    let first = certs
        .first()
        .ok_or_else(|| CliError::new(format!("{}: no certificate found", context(flag, path))))?;
    let key = first
        .public_key()
        .map_err(|e| CliError::sign(&context(flag, path), &e))?;
    Ok((key, first.sn()))
}

/// All of stdin. Empty input is unusable: `what` says what was expected.
pub(crate) fn stdin_bytes(what: &str) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf).map_err(|e| {
        CliError::new(format!(
            "cannot read stdin: {}; expected {what}",
            crate::error::describe(&e)
        ))
    })?;
    if buf.is_empty() {
        return Err(CliError::new(format!("stdin is empty; expected {what}")));
    }
    Ok(buf)
}

/// All of stdin as UTF-8 text (not empty, not only whitespace).
pub(crate) fn stdin_text(what: &str) -> Result<String, CliError> {
    let bytes = stdin_bytes(what)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::new(format!(
            "stdin is not UTF-8 text (invalid byte at offset {}); expected {what}",
            e.utf8_error().valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(CliError::new(format!(
            "stdin holds only whitespace; expected {what}"
        )));
    }
    Ok(text)
}

/// Checks that a signature argument is base64 and returns it unchanged.
pub(crate) fn signature_arg<'a>(flag: &str, value: &'a str) -> Result<&'a str, CliError> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(CliError::new(format!(
            "{flag} is empty; a base64 signature was expected"
        )));
    }
    match STANDARD.decode(compact.as_bytes()) {
        Ok(_) => Ok(value),
        Err(e) => Err(CliError::new(format!(
            "{flag} is not valid base64 ({e}); a base64 signature was expected"
        ))),
    }
}
