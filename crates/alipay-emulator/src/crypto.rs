//! Keys the emulator generates and signs with, and random identifiers.

use std::fmt;

use alipay_sign::{PrivateKey, SignType};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};

use crate::error::Error;

/// An RSA key pair of the emulator (its Alipay key, a CA key) or one it generated for an app.
///
/// RSA2 signatures go through aws-lc-rs (fast even in debug builds); legacy SHA1withRSA
/// signatures through the pure-Rust `rsa` crate (blinded). `Debug` shows only the size.
pub(crate) struct KeyPair {
    private: PrivateKey,
    aws: RsaKeyPair,
    legacy: rsa::pkcs1v15::SigningKey<sha1::Sha1>,
}

fn legacy_signer(private: &PrivateKey) -> Result<rsa::pkcs1v15::SigningKey<sha1::Sha1>, Error> {
    let der = pem_body(&private.to_pkcs1_pem())?;
    let key = rsa::PrivateKey::from_pkcs1_der(&der)
        .map_err(|e| Error::key(format!("the rsa crate rejected the RSA private key: {e}")))?;
    Ok(rsa::pkcs1v15::SigningKey::new(key))
}

impl KeyPair {
    /// A fresh 2048-bit key.
    pub(crate) fn generate() -> Result<Self, Error> {
        let aws = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| Error::key("aws-lc-rs could not generate an RSA key"))?;
        let der = aws
            .as_der()
            .map_err(|_| Error::key("aws-lc-rs could not export the generated RSA key"))?;
        let private = PrivateKey::from_pem_or_der(der.as_ref())?;
        let legacy = legacy_signer(&private)?;
        Ok(KeyPair {
            private,
            aws,
            legacy,
        })
    }

    /// Wraps an existing private key (read back from `--state`).
    pub(crate) fn from_private(private: PrivateKey) -> Result<Self, Error> {
        let der = pem_body(&private.to_pkcs1_pem())?;
        let aws = RsaKeyPair::from_der(&der)
            .map_err(|e| Error::key(format!("aws-lc-rs rejected the RSA private key: {e}")))?;
        let legacy = legacy_signer(&private)?;
        Ok(KeyPair {
            private,
            aws,
            legacy,
        })
    }

    pub(crate) fn private(&self) -> &PrivateKey {
        &self.private
    }

    pub(crate) fn public(&self) -> &alipay_sign::PublicKey {
        self.private.public_key()
    }
}

/// Decodes the base64 body of a one-block PEM (the text is secret: wiped on drop).
fn pem_body(pem: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let body = zeroize::Zeroizing::new(
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    );
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| Error::key("the private key PEM does not hold valid base64"))
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("bits", &self.private.bits())
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A PKCS#1 v1.5 signature with the digest of `sign_type` (`RSA2`: SHA-256, `RSA`: SHA-1).
    pub(crate) fn sign(&self, sign_type: SignType, message: &[u8]) -> Result<Vec<u8>, Error> {
        if sign_type == SignType::Rsa2 {
            let mut sig = vec![0u8; self.aws.public_modulus_len()];
            let rng = aws_lc_rs::rand::SystemRandom::new();
            return self
                .aws
                .sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                .map(|()| sig)
                .map_err(|_| Error::key("aws-lc-rs failed to sign"));
        }
        self.legacy
            .try_sign(message)
            .map(|s| s.to_vec())
            .map_err(|_| Error::key("the rsa crate failed to sign"))
    }

    /// [`KeyPair::sign`], base64-encoded.
    pub(crate) fn sign_base64(&self, sign_type: SignType, message: &[u8]) -> Result<String, Error> {
        self.sign(sign_type, message)
            .map(|s| base64::engine::general_purpose::STANDARD.encode(s))
    }
}

/// `len` random bytes.
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        // The system RNG never fails in practice; fall back to a time-derived fill rather
        // than panicking (identifiers only, never keys).
        let seed = crate::clock::system_now_ms().unsigned_abs();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = seed
                .rotate_left(u32::try_from(i % 64).unwrap_or(0))
                .to_le_bytes()[i % 8];
        }
    }
    buf
}

/// `len` random lowercase hex digits.
pub(crate) fn random_hex(len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    random_bytes(len)
        .iter()
        .map(|b| char::from(HEX[usize::from(b & 0x0f)]))
        .collect()
}

/// `len` random decimal digits.
pub(crate) fn random_digits(len: usize) -> String {
    random_bytes(len)
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect()
}

/// `len` random characters of `[0-9a-z]`.
pub(crate) fn random_alnum(len: usize) -> String {
    const SET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    random_bytes(len)
        .iter()
        .map(|b| char::from(SET[usize::from(*b) % SET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alipay_sign::{RsaVerifier, Verifier};

    #[test]
    fn generated_keys_sign_both_types() {
        let k = KeyPair::generate().unwrap();
        assert_eq!(k.private().bits(), 2048);
        let v = RsaVerifier::new(k.public()).unwrap();
        for t in [SignType::Rsa2, SignType::Rsa] {
            let sig = k.sign(t, b"hello").unwrap();
            assert_eq!(sig.len(), 256);
            v.verify(t, b"hello", &sig).unwrap();
        }
        let again = KeyPair::from_private(k.private().clone()).unwrap();
        assert_eq!(
            again.sign(SignType::Rsa, b"x").unwrap(),
            k.sign(SignType::Rsa, b"x").unwrap()
        );
        assert!(!format!("{k:?}").contains("MII"));
    }

    #[test]
    fn random_ids() {
        assert_eq!(random_hex(32).len(), 32);
        assert!(random_digits(12).bytes().all(|b| b.is_ascii_digit()));
        assert!(
            random_alnum(20)
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_ne!(random_hex(32), random_hex(32));
    }
}
