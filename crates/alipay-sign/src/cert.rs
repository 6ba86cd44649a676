//! Certificate mode (公钥证书模式): certificate SNs, the root SN, and chain validation.
//!
//! * `app_cert_sn` / `alipay_cert_sn` = lowercase hex MD5 of the issuer DN in RFC 2253 order
//!   (most specific RDN first, `CN=…,OU=…,O=…,C=CN`) followed by the serial number in decimal.
//! * `alipay_root_cert_sn` = the SNs of the RSA-signed certificates of the root bundle (signature
//!   OID under `1.2.840.113549.1.1`), in file order, joined by `_`.
//! * Chain validation checks signatures and validity dates at a time the caller gives.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest as _, Md5};

use crate::der::{self, Reader, Tlv};
use crate::error::{DerSource, Error};
use crate::key::{self, KeyKind, Loaded, PublicKey};
use crate::signer::{HashAlg, verify_with_hash};

type Range = std::ops::Range<usize>;

/// A parsed X.509 certificate that keeps its exact DER.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range,
    serial: Range,
    issuer: Range,
    subject: Range,
    spki: Range,
    signature: Range,
    signature_oid: String,
    not_before: i64,
    not_after: i64,
}

const RSA_SIGNATURE_PREFIX: &str = "1.2.840.113549.1.1.";

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, Error> {
        parse_certificate(der_bytes).map_err(|e| {
            Error::certificate("malformed X.509 certificate").with_source(DerSource(e))
        })
    }

    /// Reads every certificate of a PEM (or base64/DER) file, in file order.
    pub fn parse_bundle(input: &[u8]) -> Result<Vec<Self>, Error> {
        match key::load(input)?.0 {
            Loaded::Certificates(c) => Ok(c),
            Loaded::Private(k) => Err(Error::key(format!(
                "found {}; a certificate file is needed here",
                match k.source_kind() {
                    KeyKind::RsaPrivatePkcs8 => "an RSA private key (PKCS#8)",
                    _ => "an RSA private key (PKCS#1)",
                }
            ))),
            Loaded::Public(_) => Err(Error::key(
                "found a public key; a certificate file is needed here",
            )),
        }
    }

    /// The exact DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate SN Alipay uses: `md5_hex(issuer DN (RFC 2253) + decimal serial)`.
    pub fn sn(&self) -> String {
        let mut input = self.issuer_dn();
        input.push_str(&self.serial_decimal());
        hex_lower(&Md5::digest(input.as_bytes()))
    }

    /// The issuer DN as an RFC 2253 string (`CN=…,OU=…,O=…,C=…`).
    pub fn issuer_dn(&self) -> String {
        dn_string(&self.der[self.issuer.clone()])
    }

    /// The subject DN as an RFC 2253 string.
    pub fn subject_dn(&self) -> String {
        dn_string(&self.der[self.subject.clone()])
    }

    /// The serial number in decimal (negative serials keep their sign, as Java's `BigInteger`).
    pub fn serial_decimal(&self) -> String {
        signed_decimal(&self.der[self.serial.clone()])
    }

    /// The dotted OID of the signature algorithm.
    pub fn signature_algorithm(&self) -> &str {
        &self.signature_oid
    }

    /// Whether the certificate is signed with an RSA (PKCS#1) algorithm.
    pub fn is_rsa_signed(&self) -> bool {
        self.signature_oid.starts_with(RSA_SIGNATURE_PREFIX)
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> SystemTime {
        to_system_time(self.not_before)
    }

    /// End of the validity period.
    pub fn not_after(&self) -> SystemTime {
        to_system_time(self.not_after)
    }

    /// Whether `at` lies within the validity period (bounds included).
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        let t = unix_seconds(at);
        self.not_before <= t && t <= self.not_after
    }

    /// The subject's RSA public key.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        key::public_key_from_spki_der(&self.der[self.spki.clone()])
    }

    fn issued(&self, child: &Certificate) -> bool {
        self.der[self.subject.clone()] == child.der[child.issuer.clone()]
    }

    fn is_self_issued(&self) -> bool {
        self.issued(self)
    }

    /// Checks that `issuer`'s key signed this certificate.
    fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), Error> {
        let hash = match self.signature_oid.as_str() {
            "1.2.840.113549.1.1.5" => HashAlg::Sha1,
            "1.2.840.113549.1.1.11" => HashAlg::Sha256,
            "1.2.840.113549.1.1.12" => HashAlg::Sha384,
            "1.2.840.113549.1.1.13" => HashAlg::Sha512,
            other => {
                return Err(Error::unsupported(format!(
                    "signature algorithm {other} of certificate \"{}\" is not supported",
                    self.subject_dn()
                )));
            }
        };
        let key = issuer.public_key()?;
        verify_with_hash(
            &key,
            hash,
            &self.der[self.tbs.clone()],
            &self.der[self.signature.clone()],
        )
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject_dn())
            .field("issuer", &self.issuer_dn())
            .field("serial", &self.serial_decimal())
            .finish_non_exhaustive()
    }
}

/// `app_cert_sn` / `alipay_cert_sn` of the first certificate of a PEM file.
///
/// ```
/// # let pem = include_bytes!("../tests/data/app_cert.crt");
/// let sn = alipay_sign::cert_sn(pem)?;
/// assert_eq!(sn.len(), 32);
/// # Ok::<(), alipay_sign::Error>(())
/// ```
pub fn cert_sn(pem: &[u8]) -> Result<String, Error> {
    let certs = Certificate::parse_bundle(pem)?;
    certs
        .first()
        .map(Certificate::sn)
        .ok_or_else(|| Error::certificate("the file holds no certificate"))
}

/// `alipay_root_cert_sn` of a root bundle: the SNs of its RSA-signed certificates, in file
/// order, joined by `_`. Fails when the bundle holds no RSA-signed certificate.
pub fn root_cert_sn(pem: &[u8]) -> Result<String, Error> {
    let certs = Certificate::parse_bundle(pem)?;
    root_cert_sn_of(&certs)
}

/// [`root_cert_sn`] over already parsed certificates.
pub fn root_cert_sn_of(certs: &[Certificate]) -> Result<String, Error> {
    let sns: Vec<String> = certs
        .iter()
        .filter(|c| c.is_rsa_signed())
        .map(Certificate::sn)
        .collect();
    if sns.is_empty() {
        return Err(Error::certificate(
            "the root bundle holds no RSA-signed certificate",
        ));
    }
    Ok(sns.join("_"))
}

/// Checks that `chain` (a certificate, or a leaf with its intermediates in any order, as
/// downloaded from `alipay.open.app.alipaycert.download`) chains to one of `roots`, with every
/// signature valid and every certificate of the path valid at `at`.
///
/// The leaf is the certificate of `chain` that issued no other certificate of `chain`. A
/// certificate that is itself one of `roots` (byte for byte) is trusted when valid at `at`.
/// Returns `Ok(())` when trusted; an error with [`Error::is_certificate`] says why not.
pub fn verify_chain(
    chain: &[Certificate],
    roots: &[Certificate],
    at: SystemTime,
) -> Result<(), Error> {
    if chain.is_empty() {
        return Err(Error::certificate("the chain holds no certificate"));
    }
    if roots.is_empty() {
        return Err(Error::certificate("the root bundle holds no certificate"));
    }
    // The leaf issued nothing else in the chain.
    let leaves: Vec<&Certificate> = chain
        .iter()
        .filter(|c| {
            !chain
                .iter()
                .any(|other| !std::ptr::eq(*c, other) && !other.is_self_issued() && c.issued(other))
        })
        .collect();
    let leaf = match leaves.as_slice() {
        [one] => *one,
        [] => return Err(Error::certificate("the chain has no leaf certificate")),
        _ => {
            // Several unrelated certificates: require each to be trusted on its own.
            for c in leaves {
                verify_chain(std::slice::from_ref(c), roots, at)?;
            }
            return Ok(());
        }
    };
    let mut current = leaf;
    // Bounded walk: a path never needs more steps than there are certificates.
    for _ in 0..=chain.len() {
        if !current.is_valid_at(at) {
            return Err(Error::certificate(format!(
                "certificate \"{}\" (serial {}) is not valid at the given time",
                current.subject_dn(),
                current.serial_decimal()
            )));
        }
        if roots.iter().any(|r| r.der == current.der) {
            return Ok(());
        }
        // A root that issued it ends the path.
        let mut root_error = None;
        for root in roots.iter().filter(|r| r.issued(current)) {
            match current.verify_signed_by(root) {
                Ok(()) => {
                    if root.is_valid_at(at) {
                        return Ok(());
                    }
                    root_error = Some(Error::certificate(format!(
                        "root certificate \"{}\" is not valid at the given time",
                        root.subject_dn()
                    )));
                }
                Err(e) => root_error = Some(e),
            }
        }
        let next = chain
            .iter()
            .find(|c| !std::ptr::eq(*c, current) && c.issued(current));
        match next {
            Some(issuer) => {
                current.verify_signed_by(issuer).map_err(|e| {
                    Error::certificate(format!(
                        "the signature of certificate \"{}\" does not verify with its issuer \"{}\"",
                        current.subject_dn(),
                        issuer.subject_dn()
                    ))
                    .with_source(e)
                })?;
                current = issuer;
            }
            None => {
                let msg = format!(
                    "certificate \"{}\" (issuer \"{}\") does not chain to the root bundle",
                    current.subject_dn(),
                    current.issuer_dn()
                );
                return Err(match root_error {
                    Some(e) => Error::certificate(msg).with_source(e),
                    None => Error::certificate(msg),
                });
            }
        }
    }
    Err(Error::certificate("the chain loops"))
}

fn parse_certificate(input: &[u8]) -> Result<Certificate, der::DerError> {
    let outer = der::parse_single(input, der::TAG_SEQUENCE, "certificate is not a SEQUENCE")?;
    let base = input.len() - outer.raw.len();
    let _ = base;
    let mut r = outer.reader();
    let tbs = r.read(der::TAG_SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let sig_alg = r.read(der::TAG_SEQUENCE, "signatureAlgorithm is not a SEQUENCE")?;
    let sig = r.read(der::TAG_BIT_STRING, "signature is not a BIT STRING")?;
    r.finish("trailing data in certificate")?;

    let mut t = tbs.reader();
    // version [0] EXPLICIT, optional
    t.read_optional(0xa0)?;
    let serial = t.read(der::TAG_INTEGER, "serialNumber is not an INTEGER")?;
    t.read(der::TAG_SEQUENCE, "signature algorithm is not a SEQUENCE")?;
    let issuer = t.read(der::TAG_SEQUENCE, "issuer is not a SEQUENCE")?;
    let validity = t.read(der::TAG_SEQUENCE, "validity is not a SEQUENCE")?;
    let subject = t.read(der::TAG_SEQUENCE, "subject is not a SEQUENCE")?;
    let spki = t.read(der::TAG_SEQUENCE, "subjectPublicKeyInfo is not a SEQUENCE")?;

    let mut v = validity.reader();
    let nb = v.read_any()?;
    let na = v.read_any()?;
    let not_before = parse_time(&nb)?;
    let not_after = parse_time(&na)?;

    let oid = sig_alg
        .reader()
        .read(der::TAG_OID, "signature algorithm OID missing")?;
    let signature_oid = der::oid_to_string(oid.content).ok_or(der::DerError {
        offset: oid.offset,
        what: "malformed OID",
    })?;
    if sig.content.first() != Some(&0) {
        return Err(der::DerError {
            offset: sig.offset,
            what: "signature BIT STRING has unused bits",
        });
    }
    if serial.content.is_empty() {
        return Err(der::DerError {
            offset: serial.offset,
            what: "empty serial number",
        });
    }
    let range = |tlv: &Tlv<'_>, content: bool| -> Range {
        let slice = if content { tlv.content } else { tlv.raw };
        let start = slice.as_ptr() as usize - input.as_ptr() as usize;
        start..start + slice.len()
    };
    let sig_range = {
        let r = range(&sig, true);
        r.start + 1..r.end
    };
    Ok(Certificate {
        der: input.to_vec(),
        tbs: range(&tbs, false),
        serial: range(&serial, true),
        issuer: range(&issuer, false),
        subject: range(&subject, false),
        spki: range(&spki, false),
        signature: sig_range,
        signature_oid,
        not_before,
        not_after,
    })
}

fn parse_time(tlv: &Tlv<'_>) -> Result<i64, der::DerError> {
    let bad = der::DerError {
        offset: tlv.offset,
        what: "malformed certificate time",
    };
    let s = std::str::from_utf8(tlv.content).map_err(|_| bad.clone())?;
    let digits = s.strip_suffix('Z').ok_or_else(|| bad.clone())?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let num = |a: usize, b: usize| -> Result<i64, der::DerError> {
        digits
            .get(a..b)
            .and_then(|x| x.parse::<i64>().ok())
            .ok_or_else(|| bad.clone())
    };
    let (year, rest) = match tlv.tag {
        der::TAG_UTC_TIME if digits.len() == 12 => {
            let yy = num(0, 2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        der::TAG_GENERALIZED_TIME if digits.len() == 14 => (num(0, 4)?, 4),
        _ => return Err(bad),
    };
    let month = num(rest, rest + 2)?;
    let day = num(rest + 2, rest + 4)?;
    let hour = num(rest + 4, rest + 6)?;
    let minute = num(rest + 6, rest + 8)?;
    let second = num(rest + 8, rest + 10)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// Decimal text of a two's-complement big-endian integer.
fn signed_decimal(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut mag: Vec<u8> = if negative {
        // two's complement magnitude: invert and add one
        let mut v: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for byte in v.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
        v
    } else {
        bytes.to_vec()
    };
    let mut digits = Vec::new();
    loop {
        while mag.first() == Some(&0) {
            mag.remove(0);
        }
        if mag.is_empty() {
            break;
        }
        let mut rem: u32 = 0;
        for byte in &mut mag {
            let cur = (rem << 8) | u32::from(*byte);
            *byte = u8::try_from(cur / 10).unwrap_or(0);
            rem = cur % 10;
        }
        digits.push(b'0' + u8::try_from(rem).unwrap_or(0));
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

/// RFC 2253 text of a DER `Name`: RDNs in reverse order, `TYPE=value`, joined by `,`.
fn dn_string(name_der: &[u8]) -> String {
    let Ok(name) = der::parse_single(name_der, der::TAG_SEQUENCE, "Name") else {
        return String::new();
    };
    let mut rdns: Vec<String> = Vec::new();
    let mut r = name.reader();
    while !r.is_empty() {
        let Ok(set) = r.read(der::TAG_SET, "RDN") else {
            break;
        };
        let mut parts = Vec::new();
        let mut sr: Reader<'_> = set.reader();
        while !sr.is_empty() {
            let Ok(atv) = sr.read(der::TAG_SEQUENCE, "AttributeTypeAndValue") else {
                break;
            };
            let mut ar = atv.reader();
            let (Ok(oid), Ok(value)) = (ar.read(der::TAG_OID, "type"), ar.read_any()) else {
                break;
            };
            let oid_text = der::oid_to_string(oid.content).unwrap_or_default();
            match short_name(&oid_text) {
                Some(short) => match directory_string(&value) {
                    Some(text) => parts.push(format!("{short}={}", escape_rfc4514(&text))),
                    None => parts.push(format!("{short}=#{}", hex_lower(value.raw))),
                },
                None => parts.push(format!("{oid_text}=#{}", hex_lower(value.raw))),
            }
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    rdns.join(",")
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn directory_string(value: &Tlv<'_>) -> Option<String> {
    match value.tag {
        der::TAG_UTF8_STRING | der::TAG_PRINTABLE_STRING | der::TAG_IA5_STRING => {
            std::str::from_utf8(value.content).ok().map(str::to_owned)
        }
        der::TAG_T61_STRING => Some(value.content.iter().map(|b| char::from(*b)).collect()),
        der::TAG_BMP_STRING => {
            if !value.content.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = value
                .content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        der::TAG_UNIVERSAL_STRING => {
            if !value.content.len().is_multiple_of(4) {
                return None;
            }
            value
                .content
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

fn escape_rfc4514(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[u8] = include_bytes!("../tests/data/root.crt");
    const BUNDLE: &[u8] = include_bytes!("../tests/data/root_bundle.crt");
    const CHAIN: &[u8] = include_bytes!("../tests/data/alipay_cert_chain.crt");
    const LEAF: &[u8] = include_bytes!("../tests/data/alipay_cert_leaf.crt");
    const SHORT: &[u8] = include_bytes!("../tests/data/alipay_cert_short.crt");
    const ROGUE: &[u8] = include_bytes!("../tests/data/alipay_cert_rogue.crt");
    const APP: &[u8] = include_bytes!("../tests/data/app_cert.crt");

    fn at(year: i64) -> SystemTime {
        to_system_time(days_from_civil(year, 6, 1) * 86_400)
    }

    #[test]
    fn dn_and_serial_text() {
        let leaf = &Certificate::parse_bundle(LEAF).unwrap()[0];
        assert_eq!(
            leaf.issuer_dn(),
            "CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN"
        );
        assert_eq!(leaf.serial_decimal(), "5339928086172364929");
        let ca = &Certificate::parse_bundle(CHAIN).unwrap()[1];
        assert_eq!(
            ca.serial_decimal(),
            "42665205996613197452711693005574906150"
        );
    }

    #[test]
    fn sns_match_md5_of_dn_and_serial() {
        // md5("CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN2748")
        assert_eq!(cert_sn(APP).unwrap(), "81ca06b595dea8a0b4b34102c9785861");
    }

    #[test]
    fn root_sn_keeps_rsa_signed_certs_in_file_order() {
        let certs = Certificate::parse_bundle(BUNDLE).unwrap();
        assert_eq!(certs.len(), 3);
        assert!(!certs[0].is_rsa_signed());
        assert_eq!(certs[2].signature_algorithm(), "1.2.840.113549.1.1.5");
        assert_eq!(
            root_cert_sn(BUNDLE).unwrap(),
            format!("{}_{}", certs[1].sn(), certs[2].sn())
        );
        assert!(root_cert_sn(include_bytes!("../tests/data/ec_root.crt")).is_err());
    }

    #[test]
    fn chain_validation() {
        let roots = Certificate::parse_bundle(BUNDLE).unwrap();
        let chain = Certificate::parse_bundle(CHAIN).unwrap();
        verify_chain(&chain, &roots, at(2028)).unwrap();
        // intermediate first is fine too
        let reversed: Vec<_> = chain.iter().rev().cloned().collect();
        verify_chain(&reversed, &roots, at(2028)).unwrap();
        // leaf alone does not reach the root
        let leaf = Certificate::parse_bundle(LEAF).unwrap();
        assert!(
            verify_chain(&leaf, &roots, at(2028))
                .unwrap_err()
                .is_certificate()
        );
        // expired
        let err = verify_chain(&chain, &roots, at(2035)).unwrap_err();
        assert!(
            err.to_string().contains("not valid at the given time"),
            "{err}"
        );
        // not yet valid
        assert!(verify_chain(&chain, &roots, at(2020)).is_err());
        // a 1-day certificate is expired later
        let mut short = Certificate::parse_bundle(SHORT).unwrap();
        short.push(chain[1].clone());
        assert!(verify_chain(&short, &roots, at(2028)).is_err());
        // same DN, other key
        let rogue = Certificate::parse_bundle(ROGUE).unwrap();
        let mut rogue_chain = rogue;
        rogue_chain.push(chain[1].clone());
        assert!(verify_chain(&rogue_chain, &roots, at(2028)).is_err());
        // the root itself
        let root = Certificate::parse_bundle(ROOT).unwrap();
        verify_chain(&root, &roots, at(2028)).unwrap();
    }

    #[test]
    fn time_and_decimal_helpers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(signed_decimal(&[0x00]), "0");
        assert_eq!(signed_decimal(&[0xff]), "-1");
        assert_eq!(signed_decimal(&[0x01, 0x00]), "256");
        assert_eq!(escape_rfc4514(" a,b "), "\\ a\\,b\\ ");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Certificate::from_der(&[0x30, 0x00]).is_err());
        assert!(Certificate::from_der(b"").is_err());
        assert!(
            Certificate::parse_bundle(
                b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
    }
}
