//! Loading RSA keys and certificates in every form users paste, with diagnostics that say
//! what was found and what was needed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::der::{self, Reader, Tlv};
use crate::error::{DerSource, Error};
use crate::pem::{self, Encoding};

/// What a key or certificate file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// `RSAPrivateKey` (PKCS#1, `BEGIN RSA PRIVATE KEY`).
    RsaPrivatePkcs1,
    /// `PrivateKeyInfo` holding an RSA key (PKCS#8, `BEGIN PRIVATE KEY`).
    RsaPrivatePkcs8,
    /// `SubjectPublicKeyInfo` holding an RSA key (`BEGIN PUBLIC KEY`).
    RsaPublicSpki,
    /// `RSAPublicKey` (PKCS#1, `BEGIN RSA PUBLIC KEY`).
    RsaPublicPkcs1,
    /// One X.509 certificate.
    X509Certificate,
    /// Several X.509 certificates (a chain or a root bundle).
    X509Bundle,
}

impl KeyKind {
    /// The stable name used by the CLI (`rsa-private-pkcs1`, …, `x509-bundle`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::RsaPrivatePkcs1 => "rsa-private-pkcs1",
            KeyKind::RsaPrivatePkcs8 => "rsa-private-pkcs8",
            KeyKind::RsaPublicSpki => "rsa-public-spki",
            KeyKind::RsaPublicPkcs1 => "rsa-public-pkcs1",
            KeyKind::X509Certificate => "x509-certificate",
            KeyKind::X509Bundle => "x509-bundle",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            KeyKind::RsaPrivatePkcs1 => "an RSA private key (PKCS#1)",
            KeyKind::RsaPrivatePkcs8 => "an RSA private key (PKCS#8)",
            KeyKind::RsaPublicSpki => "a public key (SubjectPublicKeyInfo)",
            KeyKind::RsaPublicPkcs1 => "a public key (PKCS#1)",
            KeyKind::X509Certificate => "an X.509 certificate",
            KeyKind::X509Bundle => "several X.509 certificates",
        }
    }

    /// Whether this kind holds a private key.
    pub fn is_private(self) -> bool {
        matches!(self, KeyKind::RsaPrivatePkcs1 | KeyKind::RsaPrivatePkcs8)
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A summary of a key or certificate file (what `alipay keys inspect` prints).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// What the file holds.
    pub kind: KeyKind,
    /// RSA modulus size in bits (of the first certificate's key for certificate files; 0 when
    /// that key is not RSA).
    pub bits: usize,
    /// How the file is written.
    pub encoding: Encoding,
    /// Number of certificates for certificate files, else 1.
    pub count: usize,
}

/// Whatever [`load`] found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Loaded {
    /// An RSA private key.
    Private(PrivateKey),
    /// An RSA public key.
    Public(PublicKey),
    /// One or more certificates, in file order.
    Certificates(Vec<Certificate>),
}

/// Reads any supported key or certificate file and reports what it holds.
///
/// ```
/// # let pem = include_bytes!("../tests/data/app_private_pkcs1.pem");
/// let (loaded, info) = alipay_sign::load(pem)?;
/// assert_eq!(info.kind.as_str(), "rsa-private-pkcs1");
/// assert_eq!(info.bits, 2048);
/// assert!(matches!(loaded, alipay_sign::Loaded::Private(_)));
/// # Ok::<(), alipay_sign::Error>(())
/// ```
pub fn load(input: &[u8]) -> Result<(Loaded, KeyInfo), Error> {
    let (encoding, blocks) = pem::decode_blocks(input)?;
    if blocks.len() > 1 {
        let mut certs = Vec::with_capacity(blocks.len());
        for (i, block) in blocks.iter().enumerate() {
            let cert = Certificate::from_der(&block.der).map_err(|e| {
                Error::key(format!(
                    "block {} of {} is not a certificate ({}); a file with several blocks must hold only certificates",
                    i + 1,
                    blocks.len(),
                    e
                ))
            })?;
            certs.push(cert);
        }
        let bits = certs
            .first()
            .and_then(|c| c.public_key().ok())
            .map_or(0, |k| k.bits());
        let info = KeyInfo {
            kind: KeyKind::X509Bundle,
            bits,
            encoding,
            count: certs.len(),
        };
        return Ok((Loaded::Certificates(certs), info));
    }
    let Some(block) = blocks.into_iter().next() else {
        return Err(Error::key("no key or certificate found"));
    };
    let (loaded, kind, bits) = classify_der(&block.der, block.label.as_deref())?;
    Ok((
        loaded,
        KeyInfo {
            kind,
            bits,
            encoding,
            count: 1,
        },
    ))
}

fn classify_der(der: &[u8], label: Option<&str>) -> Result<(Loaded, KeyKind, usize), Error> {
    if label == Some("ENCRYPTED PRIVATE KEY") {
        return Err(Error::unsupported(
            "found an encrypted PKCS#8 private key; export it without a passphrase (e.g. `openssl pkcs8 -nocrypt`)",
        ));
    }
    if let Ok(cert) = Certificate::from_der(der) {
        let bits = cert.public_key().map_or(0, |k| k.bits());
        return Ok((
            Loaded::Certificates(vec![cert]),
            KeyKind::X509Certificate,
            bits,
        ));
    }
    match parse_pkcs8(der) {
        Ok(pkcs1) => {
            let key = PrivateKey::from_pkcs1_der_inner(pkcs1, KeyKind::RsaPrivatePkcs8)?;
            let bits = key.bits();
            return Ok((Loaded::Private(key), KeyKind::RsaPrivatePkcs8, bits));
        }
        Err(Pkcs8Error::NotRsa(oid)) => {
            return Err(Error::unsupported(format!(
                "found a PKCS#8 private key for algorithm {oid}; only RSA keys are supported"
            )));
        }
        Err(Pkcs8Error::NotPkcs8) => {}
    }
    if let Ok(key) = PrivateKey::from_pkcs1_der_inner(der, KeyKind::RsaPrivatePkcs1) {
        let bits = key.bits();
        return Ok((Loaded::Private(key), KeyKind::RsaPrivatePkcs1, bits));
    }
    match parse_spki(der) {
        Ok(key) => {
            let bits = key.bits();
            return Ok((Loaded::Public(key), KeyKind::RsaPublicSpki, bits));
        }
        Err(SpkiError::NotRsa(oid)) => {
            return Err(Error::unsupported(format!(
                "found a public key for algorithm {oid}; only RSA keys are supported"
            )));
        }
        Err(SpkiError::NotSpki) => {}
    }
    if let Ok(key) = PublicKey::from_pkcs1_der(der) {
        let bits = key.bits();
        return Ok((Loaded::Public(key), KeyKind::RsaPublicPkcs1, bits));
    }
    Err(Error::key(match label {
        Some(l) => {
            format!("the PEM block \"{l}\" holds no RSA key or certificate that can be read")
        }
        None => {
            "the data is not an RSA key (PKCS#1, PKCS#8, SPKI) or an X.509 certificate".to_owned()
        }
    }))
}

enum Pkcs8Error {
    NotPkcs8,
    NotRsa(String),
}

/// Returns the PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`.
fn parse_pkcs8(der: &[u8]) -> Result<&[u8], Pkcs8Error> {
    let outer = der::parse_single(der, der::TAG_SEQUENCE, "PrivateKeyInfo")
        .map_err(|_| Pkcs8Error::NotPkcs8)?;
    let mut r = outer.reader();
    let version = r
        .read(der::TAG_INTEGER, "version")
        .map_err(|_| Pkcs8Error::NotPkcs8)?;
    if version.content != [0] && version.content != [1] {
        return Err(Pkcs8Error::NotPkcs8);
    }
    let alg = r
        .read(der::TAG_SEQUENCE, "algorithm")
        .map_err(|_| Pkcs8Error::NotPkcs8)?;
    let key = r
        .read(der::TAG_OCTET_STRING, "privateKey")
        .map_err(|_| Pkcs8Error::NotPkcs8)?;
    let oid = alg
        .reader()
        .read(der::TAG_OID, "algorithm oid")
        .map_err(|_| Pkcs8Error::NotPkcs8)?;
    if oid.content != der::RSA_ENCRYPTION_OID {
        return Err(Pkcs8Error::NotRsa(
            der::oid_to_string(oid.content).unwrap_or_else(|| "(malformed)".to_owned()),
        ));
    }
    Ok(key.content)
}

enum SpkiError {
    NotSpki,
    NotRsa(String),
}

fn parse_spki(der: &[u8]) -> Result<PublicKey, SpkiError> {
    let outer = der::parse_single(der, der::TAG_SEQUENCE, "SubjectPublicKeyInfo")
        .map_err(|_| SpkiError::NotSpki)?;
    public_key_from_spki_tlv(&outer)
}

fn public_key_from_spki_tlv(outer: &Tlv<'_>) -> Result<PublicKey, SpkiError> {
    let mut r = outer.reader();
    let alg = r
        .read(der::TAG_SEQUENCE, "algorithm")
        .map_err(|_| SpkiError::NotSpki)?;
    let bits = r
        .read(der::TAG_BIT_STRING, "subjectPublicKey")
        .map_err(|_| SpkiError::NotSpki)?;
    r.finish("trailing").map_err(|_| SpkiError::NotSpki)?;
    let oid = alg
        .reader()
        .read(der::TAG_OID, "algorithm oid")
        .map_err(|_| SpkiError::NotSpki)?;
    if oid.content != der::RSA_ENCRYPTION_OID {
        return Err(SpkiError::NotRsa(
            der::oid_to_string(oid.content).unwrap_or_else(|| "(malformed)".to_owned()),
        ));
    }
    let Some((&0, pkcs1)) = bits.content.split_first() else {
        return Err(SpkiError::NotSpki);
    };
    PublicKey::from_pkcs1_der(pkcs1).map_err(|_| SpkiError::NotSpki)
}

/// The public key inside a certificate's `SubjectPublicKeyInfo` (DER of the whole SPKI).
pub(crate) fn public_key_from_spki_der(spki: &[u8]) -> Result<PublicKey, Error> {
    match parse_spki(spki) {
        Ok(k) => Ok(k),
        Err(SpkiError::NotRsa(oid)) => Err(Error::unsupported(format!(
            "the certificate holds a key for algorithm {oid}; only RSA keys are supported"
        ))),
        Err(SpkiError::NotSpki) => Err(Error::certificate(
            "the certificate's SubjectPublicKeyInfo is malformed",
        )),
    }
}

/// An RSA private key (the app private key). Its `Debug` shows only the size.
///
/// Accepted input: PKCS#1 or PKCS#8, as PEM (wrapped or one-line, LF or CRLF), bare base64, or
/// DER.
#[derive(Clone)]
pub struct PrivateKey {
    pkcs1: Zeroizing<Vec<u8>>,
    public: PublicKey,
    source: KeyKind,
}

impl PrivateKey {
    /// Reads a private key from any supported encoding.
    ///
    /// A public key or certificate gives an error that says so:
    /// "found a public key (SubjectPublicKeyInfo); the app private key is needed here".
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, Error> {
        match load(input)?.0 {
            Loaded::Private(k) => Ok(k),
            other => Err(Error::key(format!(
                "found {}; the app private key (PKCS#1 or PKCS#8) is needed here",
                describe_loaded(&other)
            ))),
        }
    }

    fn from_pkcs1_der_inner(der: &[u8], source: KeyKind) -> Result<Self, Error> {
        let outer = der::parse_single(der, der::TAG_SEQUENCE, "RSAPrivateKey is not a SEQUENCE")
            .map_err(|e| Error::key("malformed RSA private key").with_source(DerSource(e)))?;
        let mut r = outer.reader();
        let mut ints = Vec::with_capacity(9);
        for _ in 0..9 {
            let t = r
                .read(der::TAG_INTEGER, "RSAPrivateKey field is not an INTEGER")
                .map_err(|e| Error::key("malformed RSA private key").with_source(DerSource(e)))?;
            ints.push(t);
        }
        if ints[0].content != [0] {
            return Err(Error::unsupported(
                "multi-prime RSA private keys are not supported",
            ));
        }
        let n = der::unsigned_integer(&ints[1])
            .map_err(|e| Error::key("malformed RSA modulus").with_source(DerSource(e)))?;
        let e = der::unsigned_integer(&ints[2])
            .map_err(|e| Error::key("malformed RSA exponent").with_source(DerSource(e)))?;
        let public = PublicKey::from_components(n, e)?;
        Ok(PrivateKey {
            pkcs1: Zeroizing::new(outer.raw.to_vec()),
            public,
            source,
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Whether `public` is this key's public half (same modulus and exponent).
    pub fn matches(&self, public: &PublicKey) -> bool {
        self.public == *public
    }

    /// How the key was stored when it was read.
    pub fn source_kind(&self) -> KeyKind {
        self.source
    }

    /// The PKCS#1 DER, for the backends. Never exposed publicly.
    pub(crate) fn pkcs1_der(&self) -> &[u8] {
        &self.pkcs1
    }

    /// The key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`). The text is secret: it is returned in a
    /// buffer that is wiped on drop.
    pub fn to_pkcs1_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode_pem("RSA PRIVATE KEY", &self.pkcs1))
    }

    /// The key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), wiped on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let mut content = Zeroizing::new(Vec::with_capacity(self.pkcs1.len() + 32));
        content.extend_from_slice(&der::encode(der::TAG_INTEGER, &[0]));
        content.extend_from_slice(der::RSA_ALGORITHM_ID);
        content.extend_from_slice(&Zeroizing::new(der::encode(
            der::TAG_OCTET_STRING,
            &self.pkcs1,
        )));
        let outer = Zeroizing::new(der::encode(der::TAG_SEQUENCE, &content));
        Zeroizing::new(pem::encode_pem("PRIVATE KEY", &outer))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

fn describe_loaded(l: &Loaded) -> &'static str {
    match l {
        Loaded::Private(k) => k.source.describe(),
        Loaded::Public(_) => "a public key",
        Loaded::Certificates(c) if c.len() == 1 => KeyKind::X509Certificate.describe(),
        Loaded::Certificates(_) => KeyKind::X509Bundle.describe(),
    }
}

/// An RSA public key (the Alipay public key, or an app public key).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
    spki: Vec<u8>,
    pkcs1: Vec<u8>,
}

impl PublicKey {
    /// Reads a public key from an SPKI or PKCS#1 public key, or from a certificate (its first
    /// certificate), in any supported encoding.
    ///
    /// A private key gives an error: "found an RSA private key (PKCS#1); a public key or
    /// certificate is needed here".
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, Error> {
        match load(input)?.0 {
            Loaded::Public(k) => Ok(k),
            Loaded::Certificates(certs) => match certs.first() {
                Some(c) => c.public_key(),
                None => Err(Error::key("the certificate file is empty")),
            },
            other @ Loaded::Private(_) => Err(Error::key(format!(
                "found {}; a public key or certificate is needed here",
                describe_loaded(&other)
            ))),
        }
    }

    /// Builds a key from the big-endian modulus and public exponent.
    pub fn from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, Error> {
        let n = strip_zeros(modulus);
        let e = strip_zeros(exponent);
        if n.is_empty() || der::bit_length(n) < 512 {
            return Err(Error::key("the RSA modulus is too small (under 512 bits)"));
        }
        if e.is_empty() || e.len() > 8 || (e.len() == 1 && e[0] < 3) || e[e.len() - 1] & 1 == 0 {
            return Err(Error::key("the RSA public exponent is not usable"));
        }
        let mut seq = Vec::with_capacity(n.len() + e.len() + 8);
        seq.extend_from_slice(&der::encode(der::TAG_INTEGER, &positive(n)));
        seq.extend_from_slice(&der::encode(der::TAG_INTEGER, &positive(e)));
        let pkcs1 = der::encode(der::TAG_SEQUENCE, &seq);
        let mut bit_string = Vec::with_capacity(pkcs1.len() + 1);
        bit_string.push(0);
        bit_string.extend_from_slice(&pkcs1);
        let mut spki_content = der::RSA_ALGORITHM_ID.to_vec();
        spki_content.extend_from_slice(&der::encode(der::TAG_BIT_STRING, &bit_string));
        let spki = der::encode(der::TAG_SEQUENCE, &spki_content);
        Ok(PublicKey {
            n: n.to_vec(),
            e: e.to_vec(),
            spki,
            pkcs1,
        })
    }

    fn from_pkcs1_der(der_bytes: &[u8]) -> Result<Self, Error> {
        let outer = der::parse_single(
            der_bytes,
            der::TAG_SEQUENCE,
            "RSAPublicKey is not a SEQUENCE",
        )
        .map_err(|e| Error::key("malformed RSA public key").with_source(DerSource(e)))?;
        let mut r: Reader<'_> = outer.reader();
        let n = r
            .read(der::TAG_INTEGER, "modulus is not an INTEGER")
            .map_err(|e| Error::key("malformed RSA public key").with_source(DerSource(e)))?;
        let e = r
            .read(der::TAG_INTEGER, "exponent is not an INTEGER")
            .map_err(|e| Error::key("malformed RSA public key").with_source(DerSource(e)))?;
        r.finish("trailing data in RSAPublicKey")
            .map_err(|e| Error::key("malformed RSA public key").with_source(DerSource(e)))?;
        let n = der::unsigned_integer(&n)
            .map_err(|e| Error::key("malformed RSA modulus").with_source(DerSource(e)))?;
        let e = der::unsigned_integer(&e)
            .map_err(|e| Error::key("malformed RSA exponent").with_source(DerSource(e)))?;
        Self::from_components(n, e)
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        der::bit_length(&self.n)
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// DER PKCS#1 `RSAPublicKey`.
    pub fn pkcs1_der(&self) -> &[u8] {
        &self.pkcs1
    }

    /// Base64 of the SPKI DER: the one-line form Alipay's console shows ("支付宝公钥").
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.spki)
    }

    /// SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn to_pem(&self) -> String {
        pem::encode_pem("PUBLIC KEY", &self.spki)
    }

    /// Big-endian modulus.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// Big-endian public exponent.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

fn strip_zeros(v: &[u8]) -> &[u8] {
    let skip = v.iter().take_while(|b| **b == 0).count();
    &v[skip..]
}

/// DER INTEGER content for a non-negative magnitude.
fn positive(mag: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(mag.len() + 1);
    if mag.first().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(mag);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS1: &[u8] = include_bytes!("../tests/data/app_private_pkcs1.pem");
    const PKCS8: &[u8] = include_bytes!("../tests/data/app_private_pkcs8.pem");
    const SPKI: &[u8] = include_bytes!("../tests/data/app_public.pem");
    const OTHER_SPKI: &[u8] = include_bytes!("../tests/data/alipay_public.pem");

    fn body(pem_text: &[u8]) -> String {
        std::str::from_utf8(pem_text)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect()
    }

    #[test]
    fn every_encoding_of_the_private_key_loads_to_the_same_key() {
        let a = PrivateKey::from_pem_or_der(PKCS1).unwrap();
        let b = PrivateKey::from_pem_or_der(PKCS8).unwrap();
        let c = PrivateKey::from_pem_or_der(body(PKCS1).as_bytes()).unwrap();
        let d = PrivateKey::from_pem_or_der(body(PKCS8).as_bytes()).unwrap();
        let crlf = String::from_utf8(PKCS1.to_vec())
            .unwrap()
            .replace('\n', "\r\n");
        let e = PrivateKey::from_pem_or_der(crlf.as_bytes()).unwrap();
        let der = crate::pem::decode_base64_lenient(&body(PKCS8)).unwrap();
        let f = PrivateKey::from_pem_or_der(&der).unwrap();
        for k in [&b, &c, &d, &e, &f] {
            assert_eq!(k.pkcs1_der(), a.pkcs1_der());
        }
        assert_eq!(a.source_kind(), KeyKind::RsaPrivatePkcs1);
        assert_eq!(b.source_kind(), KeyKind::RsaPrivatePkcs8);
        assert_eq!(a.bits(), 2048);
    }

    #[test]
    fn pem_round_trips() {
        let a = PrivateKey::from_pem_or_der(PKCS1).unwrap();
        assert_eq!(a.to_pkcs1_pem().as_bytes(), PKCS1);
        assert_eq!(a.to_pkcs8_pem().as_bytes(), PKCS8);
        assert_eq!(a.public_key().to_pem().as_bytes(), SPKI);
    }

    #[test]
    fn inspect_reports_kind_bits_encoding() {
        let (_, info) = load(PKCS8).unwrap();
        assert_eq!(
            info,
            KeyInfo {
                kind: KeyKind::RsaPrivatePkcs8,
                bits: 2048,
                encoding: Encoding::Pem,
                count: 1
            }
        );
        let (_, info) = load(body(SPKI).as_bytes()).unwrap();
        assert_eq!(info.kind, KeyKind::RsaPublicSpki);
        assert_eq!(info.encoding, Encoding::Base64);
        let pub_key = PublicKey::from_pem_or_der(SPKI).unwrap();
        let pkcs1_pub = pem::encode_pem("RSA PUBLIC KEY", pub_key.pkcs1_der());
        let (loaded, info) = load(pkcs1_pub.as_bytes()).unwrap();
        assert_eq!(info.kind, KeyKind::RsaPublicPkcs1);
        match loaded {
            Loaded::Public(k) => assert_eq!(k, pub_key),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_kind_errors_name_what_was_found() {
        let err = PrivateKey::from_pem_or_der(SPKI).unwrap_err();
        assert!(err.is_key());
        assert_eq!(
            err.to_string(),
            "found a public key; the app private key (PKCS#1 or PKCS#8) is needed here"
        );
        let err = PublicKey::from_pem_or_der(PKCS1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "found an RSA private key (PKCS#1); a public key or certificate is needed here"
        );
    }

    #[test]
    fn pair_check() {
        let k = PrivateKey::from_pem_or_der(PKCS1).unwrap();
        assert!(k.matches(&PublicKey::from_pem_or_der(SPKI).unwrap()));
        assert!(!k.matches(&PublicKey::from_pem_or_der(OTHER_SPKI).unwrap()));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let k = PrivateKey::from_pem_or_der(PKCS1).unwrap();
        let dbg = format!("{k:?}");
        assert_eq!(
            dbg,
            "PrivateKey { bits: 2048, source: RsaPrivatePkcs1, .. }"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01",
            b"MIIB",
            b"-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(load(input).is_err());
        }
    }
}
