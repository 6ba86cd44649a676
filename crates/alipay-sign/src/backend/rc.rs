//! The pure-Rust `rsa` crate 0.10 (blinded with the OS RNG through its `getrandom` feature).

use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use crate::error::Error;
use crate::key::{PrivateKey, PublicKey};
use crate::signer::HashAlg;

pub(crate) struct RcSigner {
    sha1: SigningKey<Sha1>,
    sha256: SigningKey<Sha256>,
}

impl RcSigner {
    pub(crate) fn new(key: &PrivateKey) -> Result<Self, Error> {
        let k = rsa::PrivateKey::from_pkcs1_der(key.pkcs1_der())
            .map_err(|e| Error::key(format!("the rsa crate rejected the RSA private key: {e}")))?;
        Ok(RcSigner {
            sha1: SigningKey::<Sha1>::new(k.clone()),
            sha256: SigningKey::<Sha256>::new(k),
        })
    }

    pub(crate) fn sign(&self, hash: HashAlg, message: &[u8]) -> Result<Vec<u8>, Error> {
        let sig: Signature = match hash {
            HashAlg::Sha1 => self.sha1.try_sign(message),
            HashAlg::Sha256 => self.sha256.try_sign(message),
            HashAlg::Sha384 | HashAlg::Sha512 => {
                return Err(Error::unsupported(
                    "only SHA1withRSA and SHA256withRSA signing is offered",
                ));
            }
        }
        .map_err(|_| Error::crypto("the rsa crate failed to sign"))?;
        Ok(sig.to_vec())
    }
}

pub(crate) struct RcVerifier {
    sha1: VerifyingKey<Sha1>,
    sha256: VerifyingKey<Sha256>,
    sha384: VerifyingKey<Sha384>,
    sha512: VerifyingKey<Sha512>,
}

impl RcVerifier {
    pub(crate) fn new(key: &PublicKey) -> Result<Self, Error> {
        let key = rsa::PublicKey::from_pkcs1_der(key.pkcs1_der())
            .map_err(|e| Error::key(format!("the rsa crate rejected the RSA public key: {e}")))?;
        Ok(Self {
            sha1: VerifyingKey::new(key.clone()),
            sha256: VerifyingKey::new(key.clone()),
            sha384: VerifyingKey::new(key.clone()),
            sha512: VerifyingKey::new(key),
        })
    }

    pub(crate) fn verify(
        &self,
        hash: HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let sig = Signature::try_from(signature)
            .map_err(|_| Error::invalid_signature("invalid signature"))?;
        let ok = match hash {
            HashAlg::Sha1 => self.sha1.verify(message, &sig),
            HashAlg::Sha256 => self.sha256.verify(message, &sig),
            HashAlg::Sha384 => self.sha384.verify(message, &sig),
            HashAlg::Sha512 => self.sha512.verify(message, &sig),
        };
        ok.map_err(|_| Error::invalid_signature("invalid signature"))
    }
}
