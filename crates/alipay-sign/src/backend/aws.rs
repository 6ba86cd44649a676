//! aws-lc-rs: constant-time, blinded RSA from AWS-LC (the library rustls already builds).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaKeyPair};

use crate::error::Error;
use crate::key::{PrivateKey, PublicKey};
use crate::signer::HashAlg;

pub(crate) struct AwsSigner {
    pair: RsaKeyPair,
    rng: SystemRandom,
}

impl AwsSigner {
    pub(crate) fn new(key: &PrivateKey) -> Result<Self, Error> {
        let pair = RsaKeyPair::from_der(key.pkcs1_der())
            .map_err(|e| Error::key(format!("aws-lc-rs rejected the RSA private key: {e}")))?;
        Ok(AwsSigner {
            pair,
            rng: SystemRandom::new(),
        })
    }

    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
            .map_err(|_| Error::crypto("aws-lc-rs failed to sign"))?;
        Ok(sig)
    }
}

pub(crate) struct AwsVerifier {
    sha1: ParsedPublicKey,
    sha256: ParsedPublicKey,
    sha384: ParsedPublicKey,
    sha512: ParsedPublicKey,
}

impl AwsVerifier {
    pub(crate) fn new(key: &PublicKey) -> Result<Self, Error> {
        let parse = |alg: &'static signature::RsaParameters| {
            ParsedPublicKey::new(alg, key.pkcs1_der())
                .map_err(|e| Error::key(format!("aws-lc-rs rejected the RSA public key: {e}")))
        };
        Ok(AwsVerifier {
            sha1: parse(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY)?,
            sha256: parse(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)?,
            sha384: parse(&signature::RSA_PKCS1_2048_8192_SHA384)?,
            sha512: parse(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY)?,
        })
    }

    pub(crate) fn verify(
        &self,
        hash: HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let key = match hash {
            HashAlg::Sha1 => &self.sha1,
            HashAlg::Sha256 => &self.sha256,
            HashAlg::Sha384 => &self.sha384,
            HashAlg::Sha512 => &self.sha512,
        };
        key.verify_sig(message, signature)
            .map_err(|_| Error::invalid_signature("invalid signature"))
    }
}
