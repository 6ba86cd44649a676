//! `alipay aes encrypt` and `alipay aes decrypt`.

use alipay_sign::AesKey;

use crate::error::CliError;
use crate::input;
use crate::output::Report;

fn key(b64: &str) -> Result<AesKey, CliError> {
    AesKey::from_base64(b64).map_err(|e| CliError::sign("--key", &e))
}

/// The base64 ciphertext of the exact bytes of stdin, one line.
pub(crate) fn encrypt(b64: &str) -> Result<Report, CliError> {
    let key = key(b64)?;
    let plain = input::stdin_bytes("the plaintext to encrypt")?;
    Ok(Report::line(key.encrypt(&plain)))
}

/// The plaintext bytes of the base64 ciphertext on stdin, exactly (no newline added).
pub(crate) fn decrypt(b64: &str) -> Result<Report, CliError> {
    let key = key(b64)?;
    let text = input::stdin_text("a base64 ciphertext")?;
    let plain = key
        .decrypt(text.trim())
        .map_err(|e| CliError::sign("stdin", &e))?;
    Ok(Report::bytes(plain))
}
