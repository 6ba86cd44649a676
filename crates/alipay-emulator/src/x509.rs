//! A small certificate authority for certificate mode (公钥证书模式): a root bundle, the
//! intermediates, the Alipay certificate (rotatable) and app certificates, written as minimal
//! X.509 v3 DER.
//!
//! Issuer and subject DNs hold only C, O, OU and CN with plain ASCII values (PROTOCOL §4.1), so
//! every SDK computes the same SN. The root bundle holds an ECDSA-signed root first and the
//! RSA-signed root second, like Alipay's real bundle, so `alipay_root_cert_sn` exercises the
//! "RSA-signed certificates only" rule.

use alipay_sign::{Certificate, PublicKey, SignType};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

use crate::crypto::{KeyPair, random_bytes};
use crate::error::Error;

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_UTF8: u8 = 0x0c;
const TAG_PRINTABLE: u8 = 0x13;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;

const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10_045, 4, 3, 2];

const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let n = bytes.len() - skip;
        out.push(0x80 | u8::try_from(n).unwrap_or(0));
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &parts.concat())
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push_arc = |mut v: u64| {
        let mut tmp = vec![u8::try_from(v & 0x7f).unwrap_or(0)];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | u8::try_from(v & 0x7f).unwrap_or(0));
            v >>= 7;
        }
        tmp.reverse();
        body.extend_from_slice(&tmp);
    };
    if let [a, b, rest @ ..] = arcs {
        push_arc(a * 40 + b);
        for arc in rest {
            push_arc(*arc);
        }
    }
    tlv(TAG_OID, &body)
}

fn unsigned_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = bytes
            .iter()
            .take_while(|b| **b == 0)
            .count()
            .min(bytes.len().saturating_sub(1));
        &bytes[skip..]
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(TAG_INTEGER, &content)
}

/// A distinguished name: C=CN, O, OU, CN (in this order in the certificate, so the RFC 2253
/// string Alipay hashes is `CN=…,OU=…,O=…,C=CN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dn {
    pub(crate) o: String,
    pub(crate) ou: String,
    pub(crate) cn: String,
}

impl Dn {
    fn new(o: &str, ou: &str, cn: &str) -> Self {
        Dn {
            o: ascii(o),
            ou: ascii(ou),
            cn: ascii(cn),
        }
    }

    fn der(&self) -> Vec<u8> {
        let rdn = |arc: u64, tag: u8, value: &str| {
            tlv(
                TAG_SET,
                &seq(&[&oid(&[2, 5, 4, arc]), &tlv(tag, value.as_bytes())]),
            )
        };
        seq(&[
            &rdn(6, TAG_PRINTABLE, "CN"),
            &rdn(10, TAG_UTF8, &self.o),
            &rdn(11, TAG_UTF8, &self.ou),
            &rdn(3, TAG_UTF8, &self.cn),
        ])
    }
}

/// Keeps letters, digits, spaces and `-._` so every SDK renders the DN the same way.
fn ascii(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | '_'))
        .collect();
    if kept.is_empty() {
        "app".to_owned()
    } else {
        kept
    }
}

fn x509_time(ms: i64) -> Vec<u8> {
    let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let t = Offset::UTC.to_datetime(ts);
    let (tag, year) = if (1950..2050).contains(&t.year()) {
        (TAG_UTC_TIME, format!("{:02}", t.year() % 100))
    } else {
        (TAG_GENERALIZED_TIME, format!("{:04}", t.year()))
    };
    let text = format!(
        "{year}{:02}{:02}{:02}{:02}{:02}Z",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    tlv(tag, text.as_bytes())
}

fn serial_number() -> Vec<u8> {
    let mut serial = random_bytes(16);
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x10;
    }
    serial
}

#[derive(Clone, Copy)]
enum Usage {
    Ca,
    Leaf,
}

fn extensions(usage: Usage) -> Vec<u8> {
    let critical = tlv(TAG_BOOLEAN, &[0xff]);
    let key_usage_bits: &[u8] = match usage {
        // keyCertSign | cRLSign
        Usage::Ca => &[0x01, 0x06],
        // digitalSignature | nonRepudiation | keyEncipherment | dataEncipherment
        Usage::Leaf => &[0x04, 0xf0],
    };
    let key_usage = seq(&[
        &oid(&[2, 5, 29, 15]),
        &critical,
        &tlv(TAG_OCTET_STRING, &tlv(TAG_BIT_STRING, key_usage_bits)),
    ]);
    let mut exts = vec![key_usage];
    if let Usage::Ca = usage {
        exts.push(seq(&[
            &oid(&[2, 5, 29, 19]),
            &critical,
            &tlv(TAG_OCTET_STRING, &seq(&[&tlv(TAG_BOOLEAN, &[0xff])])),
        ]));
    }
    let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    tlv(0xa3, &seq(&refs))
}

enum Issuer<'a> {
    Rsa(&'a KeyPair),
    Ec(&'a EcdsaKeyPair),
}

struct Template<'a> {
    issuer: &'a Dn,
    subject: &'a Dn,
    spki: &'a [u8],
    not_before_ms: i64,
    not_after_ms: i64,
    usage: Usage,
}

fn issue(t: &Template<'_>, signer: &Issuer<'_>) -> Result<Vec<u8>, Error> {
    let alg = match signer {
        Issuer::Rsa(_) => seq(&[&oid(SHA256_WITH_RSA), &tlv(TAG_NULL, &[])]),
        Issuer::Ec(_) => seq(&[&oid(ECDSA_WITH_SHA256)]),
    };
    let tbs = seq(&[
        &tlv(0xa0, &unsigned_integer(&[2])),
        &unsigned_integer(&serial_number()),
        &alg,
        &t.issuer.der(),
        &seq(&[&x509_time(t.not_before_ms), &x509_time(t.not_after_ms)]),
        &t.subject.der(),
        t.spki,
        &extensions(t.usage),
    ]);
    let signature = match signer {
        Issuer::Rsa(key) => key.sign(SignType::Rsa2, &tbs)?,
        Issuer::Ec(key) => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            key.sign(&rng, &tbs)
                .map_err(|_| Error::key("aws-lc-rs could not sign with the ECDSA root key"))?
                .as_ref()
                .to_vec()
        }
    };
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&signature);
    Ok(seq(&[&tbs, &alg, &tlv(TAG_BIT_STRING, &bits)]))
}

/// PEM text of one DER certificate.
pub(crate) fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn sn_of(der: &[u8]) -> Result<String, Error> {
    Ok(Certificate::from_der(der)?.sn())
}

/// An Alipay certificate (a leaf under "Class 2") with its key.
#[derive(Debug)]
pub(crate) struct AlipayCert {
    pub(crate) key: KeyPair,
    pub(crate) der: Vec<u8>,
    pub(crate) sn: String,
}

/// The emulator's certificate authority.
#[derive(Debug)]
pub(crate) struct Authority {
    root_key: KeyPair,
    root_dn: Dn,
    root_der: Vec<u8>,
    root_ec_der: Vec<u8>,
    class1_key: KeyPair,
    class1_dn: Dn,
    class1_der: Vec<u8>,
    class2_key: KeyPair,
    class2_dn: Dn,
    class2_der: Vec<u8>,
    alipay: Vec<AlipayCert>,
    root_sn: String,
}

const ORG: &str = "Alipay Emulator";

impl Authority {
    /// A new CA with one Alipay certificate, valid from a day before `now_ms`.
    pub(crate) fn new(now_ms: i64) -> Result<Self, Error> {
        let start = now_ms - DAY_MS;
        let root_key = KeyPair::generate()?;
        let root_dn = Dn::new(ORG, "Certification Authority", "Alipay Emulator Root CA R1");
        let root_der = issue(
            &Template {
                issuer: &root_dn,
                subject: &root_dn,
                spki: root_key.public().spki_der(),
                not_before_ms: start,
                not_after_ms: start + 30 * YEAR_MS,
                usage: Usage::Ca,
            },
            &Issuer::Rsa(&root_key),
        )?;
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| Error::key("aws-lc-rs could not generate an ECDSA key"))?;
        let ec_spki = ec
            .public_key()
            .as_der()
            .map_err(|_| Error::key("aws-lc-rs could not export the ECDSA public key"))?;
        let ec_dn = Dn::new(ORG, "Certification Authority", "Alipay Emulator Root CA E1");
        let root_ec_der = issue(
            &Template {
                issuer: &ec_dn,
                subject: &ec_dn,
                spki: ec_spki.as_ref(),
                not_before_ms: start,
                not_after_ms: start + 30 * YEAR_MS,
                usage: Usage::Ca,
            },
            &Issuer::Ec(&ec),
        )?;
        let intermediate = |cn: &str| -> Result<(KeyPair, Dn, Vec<u8>), Error> {
            let key = KeyPair::generate()?;
            let dn = Dn::new(ORG, "Certification Authority", cn);
            let der = issue(
                &Template {
                    issuer: &root_dn,
                    subject: &dn,
                    spki: key.public().spki_der(),
                    not_before_ms: start,
                    not_after_ms: start + 20 * YEAR_MS,
                    usage: Usage::Ca,
                },
                &Issuer::Rsa(&root_key),
            )?;
            Ok((key, dn, der))
        };
        let (class1_key, class1_dn, class1_der) = intermediate("Alipay Emulator Class 1 CA R1")?;
        let (class2_key, class2_dn, class2_der) = intermediate("Alipay Emulator Class 2 CA R1")?;
        let root_sn = sn_of(&root_der)?;
        let mut ca = Authority {
            root_key,
            root_dn,
            root_der,
            root_ec_der,
            class1_key,
            class1_dn,
            class1_der,
            class2_key,
            class2_dn,
            class2_der,
            alipay: Vec::new(),
            root_sn,
        };
        ca.rotate(now_ms)?;
        Ok(ca)
    }

    /// Issues a new Alipay certificate (new key, new serial) under the same root; the previous
    /// ones stay downloadable by SN.
    pub(crate) fn rotate(&mut self, now_ms: i64) -> Result<&AlipayCert, Error> {
        let key = KeyPair::generate()?;
        let subject = Dn::new(ORG, "Alipay Open Platform", "alipay-emulator");
        let der = issue(
            &Template {
                issuer: &self.class2_dn,
                subject: &subject,
                spki: key.public().spki_der(),
                not_before_ms: now_ms - DAY_MS,
                not_after_ms: now_ms + 5 * YEAR_MS,
                usage: Usage::Leaf,
            },
            &Issuer::Rsa(&self.class2_key),
        )?;
        let sn = sn_of(&der)?;
        self.alipay.push(AlipayCert { key, der, sn });
        self.current()
            .ok_or_else(|| Error::key("no Alipay certificate after rotation"))
    }

    /// Issues an app certificate ("Class 1") for `public`.
    pub(crate) fn issue_app_cert(
        &self,
        app_id: &str,
        public: &PublicKey,
        now_ms: i64,
    ) -> Result<(String, String), Error> {
        let subject = Dn::new(ORG, "Alipay Open Platform App", app_id);
        let der = issue(
            &Template {
                issuer: &self.class1_dn,
                subject: &subject,
                spki: public.spki_der(),
                not_before_ms: now_ms - DAY_MS,
                not_after_ms: now_ms + 5 * YEAR_MS,
                usage: Usage::Leaf,
            },
            &Issuer::Rsa(&self.class1_key),
        )?;
        let sn = sn_of(&der)?;
        Ok((pem(&der), sn))
    }

    /// The Alipay certificate responses are signed with now.
    pub(crate) fn current(&self) -> Option<&AlipayCert> {
        self.alipay.last()
    }

    /// An Alipay certificate by SN (current or earlier).
    pub(crate) fn find(&self, sn: &str) -> Option<&AlipayCert> {
        self.alipay.iter().find(|c| c.sn == sn)
    }

    /// `alipayCertPublicKey_RSA2.crt`: the leaf, then the "Class 2" intermediate.
    pub(crate) fn alipay_chain_pem(&self, cert: &AlipayCert) -> String {
        let mut s = pem(&cert.der);
        s.push_str(&pem(&self.class2_der));
        s
    }

    /// `alipayRootCert.crt`: the ECDSA root, then the RSA root.
    pub(crate) fn root_bundle_pem(&self) -> String {
        let mut s = pem(&self.root_ec_der);
        s.push_str(&pem(&self.root_der));
        s
    }

    /// `alipay_root_cert_sn`: the SN of the RSA root (the ECDSA one is not RSA-signed).
    pub(crate) fn root_sn(&self) -> &str {
        &self.root_sn
    }

    /// What `--state` keeps.
    pub(crate) fn save(&self) -> SavedAuthority {
        let key = |k: &KeyPair| k.private().to_pkcs1_pem().to_string();
        SavedAuthority {
            root_key: key(&self.root_key),
            root_dn: self.root_dn.clone(),
            root_der: STANDARD.encode(&self.root_der),
            root_ec_der: STANDARD.encode(&self.root_ec_der),
            class1_key: key(&self.class1_key),
            class1_dn: self.class1_dn.clone(),
            class1_der: STANDARD.encode(&self.class1_der),
            class2_key: key(&self.class2_key),
            class2_dn: self.class2_dn.clone(),
            class2_der: STANDARD.encode(&self.class2_der),
            alipay: self
                .alipay
                .iter()
                .map(|c| SavedAlipayCert {
                    key: key(&c.key),
                    der: STANDARD.encode(&c.der),
                })
                .collect(),
        }
    }

    /// Reads back what [`Authority::save`] wrote.
    pub(crate) fn restore(s: &SavedAuthority) -> Result<Self, Error> {
        let key = |pem: &str| -> Result<KeyPair, Error> {
            KeyPair::from_private(alipay_sign::PrivateKey::from_pem_or_der(pem.as_bytes())?)
        };
        let der = |b64: &str| -> Result<Vec<u8>, Error> {
            STANDARD
                .decode(b64)
                .map_err(|_| Error::state("a saved certificate is not valid base64"))
        };
        let mut alipay = Vec::new();
        for c in &s.alipay {
            let d = der(&c.der)?;
            alipay.push(AlipayCert {
                key: key(&c.key)?,
                sn: sn_of(&d)?,
                der: d,
            });
        }
        if alipay.is_empty() {
            return Err(Error::state(
                "the saved authority holds no Alipay certificate",
            ));
        }
        let root_der = der(&s.root_der)?;
        Ok(Authority {
            root_key: key(&s.root_key)?,
            root_dn: s.root_dn.clone(),
            root_sn: sn_of(&root_der)?,
            root_der,
            root_ec_der: der(&s.root_ec_der)?,
            class1_key: key(&s.class1_key)?,
            class1_dn: s.class1_dn.clone(),
            class1_der: der(&s.class1_der)?,
            class2_key: key(&s.class2_key)?,
            class2_dn: s.class2_dn.clone(),
            class2_der: der(&s.class2_der)?,
            alipay,
        })
    }
}

/// The authority as `--state` stores it (keys as PKCS#1 PEM, certificates as base64 DER).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SavedAuthority {
    root_key: String,
    root_dn: Dn,
    root_der: String,
    root_ec_der: String,
    class1_key: String,
    class1_dn: Dn,
    class1_der: String,
    class2_key: String,
    class2_dn: Dn,
    class2_der: String,
    alipay: Vec<SavedAlipayCert>,
}

impl std::fmt::Debug for SavedAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedAuthority").finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SavedAlipayCert {
    key: String,
    der: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn der_primitives() {
        assert_eq!(
            oid(SHA256_WITH_RSA),
            [
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
            ]
        );
        assert_eq!(unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[0x00, 0x00, 0x05]), [0x02, 0x01, 0x05]);
        assert_eq!(unsigned_integer(&[0x00]), [0x02, 0x01, 0x00]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(
            x509_time(1_715_593_760_000),
            tlv(TAG_UTC_TIME, b"240513094920Z")
        );
        assert_eq!(
            x509_time(2_524_608_000_000),
            tlv(TAG_GENERALIZED_TIME, b"20500101000000Z")
        );
    }

    #[test]
    fn authority_chains_and_sns() {
        let now = 1_715_593_760_000;
        let mut ca = Authority::new(now).unwrap();
        let roots = Certificate::parse_bundle(ca.root_bundle_pem().as_bytes()).unwrap();
        assert_eq!(roots.len(), 2);
        assert!(!roots[0].is_rsa_signed());
        assert!(roots[1].is_rsa_signed());
        assert_eq!(
            alipay_sign::root_cert_sn(ca.root_bundle_pem().as_bytes()).unwrap(),
            ca.root_sn()
        );
        assert_eq!(
            roots[1].issuer_dn(),
            "CN=Alipay Emulator Root CA R1,OU=Certification Authority,O=Alipay Emulator,C=CN"
        );
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap());
        let first_sn = ca.current().unwrap().sn.clone();
        let chain_pem = ca.alipay_chain_pem(ca.current().unwrap());
        let chain = Certificate::parse_bundle(chain_pem.as_bytes()).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].sn(), first_sn);
        alipay_sign::verify_chain(&chain, &roots, at).unwrap();
        assert_eq!(
            chain[0].public_key().unwrap(),
            *ca.current().unwrap().key.public()
        );

        let second = ca.rotate(now).unwrap().sn.clone();
        assert_ne!(second, first_sn);
        assert!(ca.find(&first_sn).is_some());

        let app = KeyPair::generate().unwrap();
        let (app_pem, app_sn) = ca
            .issue_app_cert("2021000000000000", app.public(), now)
            .unwrap();
        assert_eq!(alipay_sign::cert_sn(app_pem.as_bytes()).unwrap(), app_sn);
        let app_cert = Certificate::parse_bundle(app_pem.as_bytes()).unwrap();
        assert_eq!(
            app_cert[0].subject_dn(),
            "CN=2021000000000000,OU=Alipay Open Platform App,O=Alipay Emulator,C=CN"
        );
        let restored = Authority::restore(&ca.save()).unwrap();
        assert_eq!(restored.root_sn(), ca.root_sn());
        assert_eq!(restored.current().unwrap().sn, second);
    }
}
