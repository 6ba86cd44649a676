//! RSA signing and verification behind object-safe traits, with two interchangeable backends.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Base64Source, Error};
use crate::key::{PrivateKey, PublicKey};

/// The `sign_type` of a v2 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignType {
    /// `RSA2`: SHA256withRSA (PKCS#1 v1.5). The default and the only type new apps get.
    #[default]
    Rsa2,
    /// `RSA`: legacy SHA1withRSA (PKCS#1 v1.5). Signing needs the `rust-crypto` feature.
    Rsa,
}

impl SignType {
    /// The wire name: `RSA2` or `RSA`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Rsa2 => "RSA2",
            SignType::Rsa => "RSA",
        }
    }

    pub(crate) fn hash(self) -> HashAlg {
        match self {
            SignType::Rsa2 => HashAlg::Sha256,
            SignType::Rsa => HashAlg::Sha1,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "RSA2" | "rsa2" => Ok(SignType::Rsa2),
            "RSA" | "rsa" => Ok(SignType::Rsa),
            other => Err(Error::unsupported(format!(
                "unknown sign_type \"{other}\"; expected RSA2 or RSA"
            ))),
        }
    }
}

/// Digests used by PKCS#1 v1.5 signatures here (certificates may use the SHA-384/512 ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// A crypto implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// aws-lc-rs (feature `aws-lc-rs`, default): constant-time, blinded; RSA2 with keys of at
    /// least 2048 bits.
    AwsLc,
    /// The pure-Rust `rsa` crate 0.10 (feature `rust-crypto`): blinded; also SHA1withRSA and
    /// keys under 2048 bits.
    RustCrypto,
}

impl Backend {
    /// Backends compiled into this build, preferred first.
    pub fn available() -> &'static [Backend] {
        &[
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc,
            #[cfg(feature = "rust-crypto")]
            Backend::RustCrypto,
        ]
    }
}

/// Produces RSA signatures. Object-safe, so a KMS or HSM can implement it.
///
/// ```
/// use alipay_sign::{PrivateKey, RsaSigner, SignType, Signer};
/// # let pem = include_bytes!("../tests/data/app_private_pkcs1.pem");
/// let signer = RsaSigner::new(&PrivateKey::from_pem_or_der(pem)?)?;
/// let signer: &dyn Signer = &signer;
/// let sig = signer.sign_base64(SignType::Rsa2, b"hello")?;
/// assert_eq!(sig.len(), 344);
/// # Ok::<(), alipay_sign::Error>(())
/// ```
pub trait Signer: Send + Sync + fmt::Debug {
    /// Signs `message` with PKCS#1 v1.5 and the digest of `sign_type`.
    fn try_sign(&self, sign_type: SignType, message: &[u8]) -> Result<Vec<u8>, Error>;

    /// [`Signer::try_sign`], base64-encoded (standard alphabet, padded), as Alipay sends it.
    fn sign_base64(&self, sign_type: SignType, message: &[u8]) -> Result<String, Error> {
        self.try_sign(sign_type, message)
            .map(|sig| STANDARD.encode(sig))
    }
}

/// Checks RSA signatures. Object-safe.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// `Ok(())` when `signature` is a valid PKCS#1 v1.5 signature of `message`; otherwise an
    /// error with [`Error::is_invalid_signature`].
    fn verify(&self, sign_type: SignType, message: &[u8], signature: &[u8]) -> Result<(), Error>;

    /// [`Verifier::verify`] for a base64 signature. Malformed base64 is an invalid signature.
    fn verify_base64(
        &self,
        sign_type: SignType,
        message: &[u8],
        signature_b64: &str,
    ) -> Result<(), Error> {
        let sig = decode_signature(signature_b64)?;
        self.verify(sign_type, message, &sig)
    }
}

/// Decodes a base64 signature; tolerates whitespace, refuses anything else.
pub(crate) fn decode_signature(signature_b64: &str) -> Result<Vec<u8>, Error> {
    let compact: std::borrow::Cow<'_, str> =
        if signature_b64.bytes().any(|b| b.is_ascii_whitespace()) {
            signature_b64
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
                .into()
        } else {
            signature_b64.into()
        };
    if compact.is_empty() {
        return Err(Error::invalid_signature("the signature is empty"));
    }
    STANDARD.decode(compact.as_bytes()).map_err(|e| {
        Error::invalid_signature("the signature is not valid base64").with_source(Base64Source(e))
    })
}

/// The built-in RSA signer over a [`PrivateKey`]. Chooses the backend per call: aws-lc-rs for
/// RSA2 with keys of 2048 bits or more, `rsa` otherwise (when compiled in).
pub struct RsaSigner {
    bits: usize,
    backend: Option<Backend>,
    #[cfg(feature = "aws-lc-rs")]
    aws: Option<crate::backend::aws::AwsSigner>,
    #[cfg(feature = "rust-crypto")]
    rc: Option<crate::backend::rc::RcSigner>,
}

impl RsaSigner {
    /// Prepares a signer with every backend compiled in.
    pub fn new(key: &PrivateKey) -> Result<Self, Error> {
        Self::build(key, None)
    }

    /// Prepares a signer that uses only `backend` (for comparisons and benchmarks).
    pub fn with_backend(key: &PrivateKey, backend: Backend) -> Result<Self, Error> {
        Self::build(key, Some(require_backend(backend)?))
    }

    #[allow(unused_variables, unused_mut)] // which fields exist depends on the features
    fn build(key: &PrivateKey, only: Option<Backend>) -> Result<Self, Error> {
        let want = |b: Backend| only.is_none_or(|o| o == b);
        let mut s = RsaSigner {
            bits: key.bits(),
            backend: only,
            #[cfg(feature = "aws-lc-rs")]
            aws: None,
            #[cfg(feature = "rust-crypto")]
            rc: None,
        };
        #[cfg(feature = "aws-lc-rs")]
        if want(Backend::AwsLc) && key.bits() >= 2048 {
            s.aws = Some(crate::backend::aws::AwsSigner::new(key)?);
        }
        #[cfg(feature = "rust-crypto")]
        if want(Backend::RustCrypto) {
            s.rc = Some(crate::backend::rc::RcSigner::new(key)?);
        }
        Ok(s)
    }

    /// Key size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("bits", &self.bits)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Signer for RsaSigner {
    fn try_sign(&self, sign_type: SignType, message: &[u8]) -> Result<Vec<u8>, Error> {
        #[cfg(feature = "aws-lc-rs")]
        if sign_type == SignType::Rsa2
            && let Some(aws) = &self.aws
        {
            return aws.sign_sha256(message);
        }
        #[cfg(feature = "rust-crypto")]
        if let Some(rc) = &self.rc {
            return rc.sign(sign_type.hash(), message);
        }
        let _ = message;
        Err(match (sign_type, self.bits < 2048) {
            (SignType::Rsa, _) => Error::unsupported(
                "signing with sign_type RSA (SHA1withRSA) needs the `rust-crypto` feature of alipay-sign",
            ),
            (_, true) => Error::unsupported(format!(
                "signing with a {}-bit key needs the `rust-crypto` feature of alipay-sign (aws-lc-rs signs with keys of 2048 bits or more)",
                self.bits
            )),
            _ => Error::unsupported(
                "no RSA backend is compiled in; enable the `aws-lc-rs` or `rust-crypto` feature of alipay-sign",
            ),
        })
    }
}

/// The built-in RSA verifier over a [`PublicKey`], parsed once.
pub struct RsaVerifier {
    key: PublicKey,
    backend: Option<Backend>,
    #[cfg(feature = "aws-lc-rs")]
    aws: Option<crate::backend::aws::AwsVerifier>,
    #[cfg(feature = "rust-crypto")]
    rc: Option<crate::backend::rc::RcVerifier>,
}

impl RsaVerifier {
    /// Parses the key for every backend compiled in (aws-lc-rs preferred).
    pub fn new(key: &PublicKey) -> Result<Self, Error> {
        Self::build(key, None)
    }

    /// Uses only `backend`.
    pub fn with_backend(key: &PublicKey, backend: Backend) -> Result<Self, Error> {
        Self::build(key, Some(require_backend(backend)?))
    }

    #[allow(unused_variables, unused_mut)] // which fields exist depends on the features
    fn build(key: &PublicKey, only: Option<Backend>) -> Result<Self, Error> {
        let want = |b: Backend| only.is_none_or(|o| o == b);
        let mut v = RsaVerifier {
            key: key.clone(),
            backend: only,
            #[cfg(feature = "aws-lc-rs")]
            aws: None,
            #[cfg(feature = "rust-crypto")]
            rc: None,
        };
        #[cfg(feature = "aws-lc-rs")]
        if want(Backend::AwsLc) {
            v.aws = Some(crate::backend::aws::AwsVerifier::new(key)?);
        }
        #[cfg(feature = "rust-crypto")]
        if want(Backend::RustCrypto) && (only.is_some() || !cfg!(feature = "aws-lc-rs")) {
            v.rc = Some(crate::backend::rc::RcVerifier::new(key)?);
        }
        Ok(v)
    }

    /// The key this verifier checks against.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    pub(crate) fn verify_hash(
        &self,
        hash: HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let expected = self.key.modulus().len();
        if signature.len() != expected {
            return Err(Error::invalid_signature(format!(
                "invalid signature: {} bytes where the {}-bit key gives {} bytes",
                signature.len(),
                self.key.bits(),
                expected
            )));
        }
        #[cfg(feature = "aws-lc-rs")]
        if let Some(aws) = &self.aws {
            return aws.verify(hash, message, signature);
        }
        #[cfg(feature = "rust-crypto")]
        if let Some(rc) = &self.rc {
            return rc.verify(hash, message, signature);
        }
        let _ = (hash, message);
        Err(Error::unsupported(
            "no RSA backend is compiled in; enable the `aws-lc-rs` or `rust-crypto` feature of alipay-sign",
        ))
    }
}

impl fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaVerifier")
            .field("bits", &self.key.bits())
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Verifier for RsaVerifier {
    fn verify(&self, sign_type: SignType, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.verify_hash(sign_type.hash(), message, signature)
    }
}

/// One-off verification with any supported digest (certificate signatures).
pub(crate) fn verify_with_hash(
    key: &PublicKey,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    RsaVerifier::new(key)?.verify_hash(hash, message, signature)
}

/// `backend` if it is compiled in; otherwise an error naming the feature to enable.
fn require_backend(backend: Backend) -> Result<Backend, Error> {
    if Backend::available().contains(&backend) {
        Ok(backend)
    } else {
        Err(Error::unsupported(format!(
            "the {} backend is not compiled in; enable the `{}` feature of alipay-sign",
            backend_name(backend),
            backend_feature(backend)
        )))
    }
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::AwsLc => "aws-lc-rs",
        Backend::RustCrypto => "rsa (RustCrypto)",
    }
}

fn backend_feature(b: Backend) -> &'static str {
    match b {
        Backend::AwsLc => "aws-lc-rs",
        Backend::RustCrypto => "rust-crypto",
    }
}
