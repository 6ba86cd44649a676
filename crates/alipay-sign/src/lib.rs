//! # alipay-sign
//!
//! The signing core of alipay-rs: every rule by which the Alipay Open Platform signs and checks
//! bytes, as pure functions with no I/O and no clock.
//!
//! * **Keys** — [`PrivateKey`], [`PublicKey`], [`load`]: PKCS#1 and PKCS#8 private keys, SPKI
//!   and PKCS#1 public keys, X.509 certificates and bundles; PEM (wrapped or one-line, LF or
//!   CRLF), bare base64, or DER. Wrong kinds are errors that say what was found.
//! * **v2 signing** — [`canonical_string`] (drop `sign`, drop empty values, sort by key bytes,
//!   raw `k=v&…`), [`sign_params`], [`verify_params`], in the request [`Charset`].
//! * **Signatures** — the object-safe [`Signer`] and [`Verifier`] traits (a KMS or HSM can
//!   implement them), [`RsaSigner`] and [`RsaVerifier`] for RSA2 (SHA256withRSA) and legacy RSA
//!   (SHA1withRSA).
//! * **Responses** — [`extract_response`]: the exact signed byte slice of a gateway response.
//! * **Certificates** — [`cert_sn`], [`root_cert_sn`], [`verify_chain`].
//! * **AES** — [`AesKey`]: CBC, zero IV, PKCS#7, base64.
//! * **v3** — [`AuthString`], [`v3_signing_content`], [`v3_sign_request`],
//!   [`v3_response_content`], [`v3_verify_response`].
//!
//! ## Example
//!
//! ```
//! use alipay_sign::{sign_params, Charset, PrivateKey, RsaSigner, RsaVerifier, SignType, Verifier};
//! # let pem = include_bytes!("../tests/data/app_private_pkcs1.pem");
//! let key = PrivateKey::from_pem_or_der(pem)?;
//! let signer = RsaSigner::new(&key)?;
//! let signed = sign_params(
//!     &signer,
//!     [("app_id", "2021000000000000"), ("method", "alipay.trade.query"), ("sign_type", "RSA2")],
//!     SignType::Rsa2,
//!     Charset::Utf8,
//! )?;
//! assert_eq!(signed.content, "app_id=2021000000000000&method=alipay.trade.query&sign_type=RSA2");
//! let verifier = RsaVerifier::new(key.public_key())?;
//! verifier.verify_base64(SignType::Rsa2, signed.content.as_bytes(), &signed.sign)?;
//! # Ok::<(), alipay_sign::Error>(())
//! ```
//!
//! ## Features
//!
//! * `aws-lc-rs` (default) — RSA through aws-lc-rs: constant-time and blinded, several times
//!   faster than the pure-Rust crate, and the library the rustls stack already compiles. It
//!   signs RSA2 with keys of 2048 bits or more.
//! * `rust-crypto` — RSA through the pure-Rust `rsa` crate 0.10 (no C toolchain; wasm). It also
//!   signs with legacy `sign_type=RSA` (SHA1withRSA) and keys under 2048 bits; without it those
//!   give an error that names this feature. With both features, aws-lc-rs is used wherever it
//!   can be. Both backends produce identical signatures (PKCS#1 v1.5 is deterministic).

mod aes;
mod backend;
mod canonical;
mod cert;
mod charset;
mod der;
mod error;
mod extract;
mod key;
mod pem;
mod signer;
mod v3;

pub use crate::aes::AesKey;
pub use crate::canonical::{
    EmptyValues, Rule, SignedContent, canonical_string, canonical_string_with, sign_params,
    verify_params,
};
pub use crate::cert::{Certificate, cert_sn, root_cert_sn, root_cert_sn_of, verify_chain};
pub use crate::charset::Charset;
pub use crate::error::Error;
pub use crate::extract::{
    NodeKind, NodeName, ResponseParts, extract_response, extract_response_node, response_node_name,
};
pub use crate::key::{KeyInfo, KeyKind, Loaded, PrivateKey, PublicKey, load};
pub use crate::pem::Encoding;
pub use crate::signer::{Backend, RsaSigner, RsaVerifier, SignType, Signer, Verifier};
pub use crate::v3::{
    AUTH_SCHEME, AuthString, V3Signed, v3_authorization, v3_parse_authorization,
    v3_response_content, v3_sign_request, v3_signing_content, v3_verify_response,
};
