//! Which rule, which key, and the signature check.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use alipay_sign::{Certificate, PublicKey, RsaVerifier, SignType, Verifier};

use crate::error::{Error, Kind};
use crate::event::Event;
use crate::form::Form;

/// Which fields a notification signature covers (PROTOCOL §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifyRule {
    /// `rsaCheckV1`: everything but `sign` and `sign_type`. Trade (payment) notifications and
    /// `return_url` parameters.
    V1,
    /// `rsaCheckV2`: everything but `sign`. Messages pushed to the app gateway (service-market
    /// orders, `msg_method` messages).
    V2,
}

impl NotifyRule {
    /// `v1` or `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyRule::V1 => "v1",
            NotifyRule::V2 => "v2",
        }
    }
}

impl fmt::Display for NotifyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule to verify with: a fixed one, or [`RuleChoice::Auto`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RuleChoice {
    /// Pick by content (see [`RuleChoice::resolve`]); the choice is reported.
    #[default]
    Auto,
    /// Always [`NotifyRule::V1`].
    V1,
    /// Always [`NotifyRule::V2`].
    V2,
}

impl RuleChoice {
    /// The rule `Auto` picks for `form`, and why. In order:
    ///
    /// 1. a `msg_method` field: V2 ([`RuleReason::MsgMethod`]);
    /// 2. `notify_type=trade_status_sync`: V1 ([`RuleReason::TradeStatusSync`]);
    /// 3. a `method` field ending in `.return` (synchronous `return_url` parameters): V1
    ///    ([`RuleReason::ReturnUrl`]);
    /// 4. any other `method` field (service-market orders, other gateway messages): V2
    ///    ([`RuleReason::GatewayMethod`]);
    /// 5. any other `notify_type`: V1 ([`RuleReason::NotifyType`]);
    /// 6. otherwise V1 ([`RuleReason::Default`]).
    ///
    /// A fixed choice resolves to itself with [`RuleReason::Requested`].
    pub fn resolve(self, form: &Form) -> (NotifyRule, RuleReason) {
        match self {
            RuleChoice::V1 => return (NotifyRule::V1, RuleReason::Requested),
            RuleChoice::V2 => return (NotifyRule::V2, RuleReason::Requested),
            RuleChoice::Auto => {}
        }
        let present = |k: &str| form.get(k).is_some_and(|v| !v.is_empty());
        if present("msg_method") {
            return (NotifyRule::V2, RuleReason::MsgMethod);
        }
        if form.get("notify_type") == Some("trade_status_sync") {
            return (NotifyRule::V1, RuleReason::TradeStatusSync);
        }
        if let Some(method) = form.get("method").filter(|m| !m.is_empty()) {
            return if method.ends_with(".return") {
                (NotifyRule::V1, RuleReason::ReturnUrl)
            } else {
                (NotifyRule::V2, RuleReason::GatewayMethod)
            };
        }
        if present("notify_type") {
            return (NotifyRule::V1, RuleReason::NotifyType);
        }
        (NotifyRule::V1, RuleReason::Default)
    }

    /// `auto`, `v1` or `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleChoice::Auto => "auto",
            RuleChoice::V1 => "v1",
            RuleChoice::V2 => "v2",
        }
    }
}

impl FromStr for RuleChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(RuleChoice::Auto),
            "v1" => Ok(RuleChoice::V1),
            "v2" => Ok(RuleChoice::V2),
            other => Err(Error::new(
                Kind::Config,
                format!("unknown rule `{other}`; expected auto, v1 or v2"),
            )),
        }
    }
}

/// Why a rule was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleReason {
    /// The caller fixed the rule.
    Requested,
    /// A `msg_method` message: V2.
    MsgMethod,
    /// A `msg_method` message whose V2 check failed and whose V1 check passed. PROTOCOL §3.5
    /// leaves the rule of these messages unsettled (the emulator signs them V1 by default), so
    /// `Auto` accepts either and reports which one held.
    MsgMethodV1,
    /// `notify_type=trade_status_sync`: V1.
    TradeStatusSync,
    /// `method` ends in `.return`: `return_url` parameters, V1.
    ReturnUrl,
    /// Another `method` (e.g. `alipay.open.servicemarket.order.notify`): V2.
    GatewayMethod,
    /// Another `notify_type` without `method`: V1.
    NotifyType,
    /// Nothing to go by: V1, the rule of payment notifications.
    Default,
}

impl RuleReason {
    /// A stable name: `requested`, `msg_method`, `msg_method_v1`, `trade_status_sync`,
    /// `return_url`, `gateway_method`, `notify_type`, `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleReason::Requested => "requested",
            RuleReason::MsgMethod => "msg_method",
            RuleReason::MsgMethodV1 => "msg_method_v1",
            RuleReason::TradeStatusSync => "trade_status_sync",
            RuleReason::ReturnUrl => "return_url",
            RuleReason::GatewayMethod => "gateway_method",
            RuleReason::NotifyType => "notify_type",
            RuleReason::Default => "default",
        }
    }
}

impl fmt::Display for RuleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `alipay_cert_sn`, when a notification carries it, is part of the signed content.
///
/// No source settles this (PROTOCOL §3.2, §4): the Java SDK's `rsaCheckV1`/`V2` leave out only
/// `sign` (and `sign_type`), so it would be signed; smartwalle/alipay leaves it out. The field
/// only selects which trusted certificate checks the signature, so accepting either reading
/// cannot let a forgery through: a changed SN selects another key, which does not verify.
/// The default, [`CertSnPolicy::Either`], tries the Java reading first and reports which held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CertSnPolicy {
    /// Try with `alipay_cert_sn` in the content, then without.
    #[default]
    Either,
    /// Only with `alipay_cert_sn` in the content (the Java SDK reading).
    Signed,
    /// Only without it (the smartwalle/alipay reading).
    Unsigned,
}

/// The Alipay certificates of certificate mode (公钥证书模式), by SN.
///
/// A notification's `alipay_cert_sn` picks the certificate; an SN the set does not hold is an
/// error ([`Error::is_unknown_cert_sn`]), never a fallback. A notification without
/// `alipay_cert_sn` is checked with the default certificate, as the Java and Go SDKs do with
/// their configured certificate; [`CertificateSet::clear_default`] makes the SN mandatory.
///
/// ```
/// use alipay_notify::CertificateSet;
/// # let pem = include_bytes!("../tests/data/alipay_cert_chain.crt");
/// let mut certs = CertificateSet::new();
/// let sn = certs.insert_pem(pem)?; // alipayCertPublicKey_RSA2.crt: the first certificate counts
/// assert_eq!(certs.default_sn(), Some(sn.as_str()));
/// # Ok::<(), alipay_notify::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct CertificateSet {
    by_sn: BTreeMap<String, Arc<dyn Verifier>>,
    default: Option<String>,
}

impl CertificateSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a certificate under its SN and returns the SN. The first certificate added becomes
    /// the default.
    pub fn insert(&mut self, cert: &Certificate) -> Result<String, Error> {
        let key = cert.public_key().map_err(key_error)?;
        let verifier = RsaVerifier::new(&key).map_err(key_error)?;
        let sn = cert.sn();
        self.insert_verifier(sn.clone(), Arc::new(verifier));
        Ok(sn)
    }

    /// Adds the **first** certificate of a PEM (or DER) file, as every SDK does with
    /// `alipayCertPublicKey_RSA2.crt` (leaf first, then its issuer). Returns its SN.
    pub fn insert_pem(&mut self, pem: &[u8]) -> Result<String, Error> {
        let certs = Certificate::parse_bundle(pem).map_err(key_error)?;
        let first = certs
            .first()
            .ok_or_else(|| Error::new(Kind::Key, "the file holds no certificate"))?;
        self.insert(first)
    }

    /// Checks that `chain` (leaf first, as `alipay.open.app.alipaycert.download` returns it)
    /// chains to `roots` at `at`, then adds its leaf. Returns the leaf's SN.
    pub fn insert_trusted(
        &mut self,
        chain: &[Certificate],
        roots: &[Certificate],
        at: SystemTime,
    ) -> Result<String, Error> {
        alipay_sign::verify_chain(chain, roots, at).map_err(key_error)?;
        let leaf = chain
            .first()
            .ok_or_else(|| Error::new(Kind::Key, "the chain holds no certificate"))?;
        self.insert(leaf)
    }

    /// Adds any verifier (a KMS, an HSM, a cached key) under `sn`. The first entry becomes the
    /// default.
    pub fn insert_verifier(&mut self, sn: String, verifier: Arc<dyn Verifier>) {
        if self.default.is_none() {
            self.default = Some(sn.clone());
        }
        self.by_sn.insert(sn, verifier);
    }

    /// Makes `sn` the certificate for notifications without `alipay_cert_sn`.
    pub fn set_default(&mut self, sn: &str) -> Result<(), Error> {
        if !self.by_sn.contains_key(sn) {
            return Err(Error::new(
                Kind::UnknownCertSn,
                format!("no certificate with SN {sn} in the set"),
            ));
        }
        self.default = Some(sn.to_owned());
        Ok(())
    }

    /// Requires every notification to carry `alipay_cert_sn`.
    pub fn clear_default(&mut self) {
        self.default = None;
    }

    /// The SN used when a notification has no `alipay_cert_sn`.
    pub fn default_sn(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// Whether the set holds `sn`.
    pub fn contains(&self, sn: &str) -> bool {
        self.by_sn.contains_key(sn)
    }

    /// The SNs, sorted.
    pub fn sns(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_sn.keys().map(String::as_str)
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.by_sn.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.by_sn.is_empty()
    }
}

impl fmt::Debug for CertificateSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateSet")
            .field("sns", &self.by_sn.keys().collect::<Vec<_>>())
            .field("default", &self.default)
            .finish()
    }
}

/// Why a signature check failed.
enum Cause {
    Signature(alipay_sign::Error),
    Base64(base64::DecodeError),
    Nothing,
}

/// The signature bytes of `sign` (standard base64; whitespace tolerated).
fn decode_signature(sign: &str) -> Result<Signature, base64::DecodeError> {
    use base64::Engine as _;
    let engine = &base64::engine::general_purpose::STANDARD;
    if sign.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = sign.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        return engine.decode(compact).map(Signature::Heap);
    }
    // Up to RSA-8192 (1024 bytes) without allocating.
    let mut buf = [0u8; 1024];
    match engine.decode_slice(sign, &mut buf) {
        Ok(len) => Ok(Signature::Stack(buf, len)),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            engine.decode(sign).map(Signature::Heap)
        }
        Err(base64::DecodeSliceError::DecodeError(e)) => Err(e),
    }
}

/// Decoded signature bytes.
// The large variant lives on the stack on purpose: one per check, instead of an allocation.
#[allow(clippy::large_enum_variant)]
enum Signature {
    Stack([u8; 1024], usize),
    Heap(Vec<u8>),
}

impl Signature {
    fn bytes(&self) -> &[u8] {
        match self {
            Signature::Stack(buf, len) => buf.get(..*len).unwrap_or_default(),
            Signature::Heap(v) => v,
        }
    }
}

fn key_error(e: alipay_sign::Error) -> Error {
    Error::new(Kind::Key, e.to_string()).with_source(e)
}

#[derive(Debug, Clone)]
enum Keys {
    Key(Arc<dyn Verifier>),
    Certificates(Arc<CertificateSet>),
}

/// Verifies notifications: the Alipay public key (or certificates), the rule and the
/// `alipay_cert_sn` policy. Cheap to clone; share one per app.
///
/// ```
/// use alipay_notify::{NotifyVerifier, RuleChoice};
/// use alipay_sign::PublicKey;
/// # let pem = include_bytes!("../tests/data/alipay_public.pem");
/// let verifier = NotifyVerifier::new(&PublicKey::from_pem_or_der(pem).unwrap())?
///     .with_rule(RuleChoice::Auto);
/// let err = verifier.verify(b"notify_id=1&trade_status=TRADE_SUCCESS", None).unwrap_err();
/// assert!(err.is_missing_signature()); // fails closed
/// # Ok::<(), alipay_notify::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NotifyVerifier {
    keys: Keys,
    rule: RuleChoice,
    cert_sn: CertSnPolicy,
}

impl NotifyVerifier {
    /// Public-key mode: the Alipay public key (支付宝公钥), with the built-in RSA verifier.
    pub fn new(alipay_public_key: &PublicKey) -> Result<Self, Error> {
        let verifier = RsaVerifier::new(alipay_public_key).map_err(key_error)?;
        Ok(Self::from_verifier(Arc::new(verifier)))
    }

    /// Public-key mode with any [`Verifier`] (a KMS, an HSM, another backend).
    pub fn from_verifier(verifier: Arc<dyn Verifier>) -> Self {
        NotifyVerifier {
            keys: Keys::Key(verifier),
            rule: RuleChoice::Auto,
            cert_sn: CertSnPolicy::Either,
        }
    }

    /// Certificate mode: the key is chosen by `alipay_cert_sn`.
    pub fn with_certificates(certificates: CertificateSet) -> Self {
        NotifyVerifier {
            keys: Keys::Certificates(Arc::new(certificates)),
            rule: RuleChoice::Auto,
            cert_sn: CertSnPolicy::Either,
        }
    }

    /// Sets the rule (default [`RuleChoice::Auto`]).
    #[must_use]
    pub fn with_rule(mut self, rule: RuleChoice) -> Self {
        self.rule = rule;
        self
    }

    /// Sets the `alipay_cert_sn` policy (default [`CertSnPolicy::Either`]).
    #[must_use]
    pub fn with_cert_sn_policy(mut self, policy: CertSnPolicy) -> Self {
        self.cert_sn = policy;
        self
    }

    /// The certificate set, in certificate mode (to add a rotated certificate, clone, insert,
    /// and build a new verifier).
    pub fn certificates(&self) -> Option<&CertificateSet> {
        match &self.keys {
            Keys::Certificates(c) => Some(c.as_ref()),
            Keys::Key(_) => None,
        }
    }

    /// Parses the raw body ([`Form::parse`]) and verifies it ([`NotifyVerifier::check`]).
    pub fn verify(&self, body: &[u8], content_type: Option<&str>) -> Result<Verified, Error> {
        let form = Form::parse(body, content_type)?;
        let verification = self.check(&form)?;
        Ok(Verified { form, verification })
    }

    /// Verifies a parsed form. Fails closed: no `sign`, an unknown `sign_type`, an unknown
    /// certificate or a signature that does not verify are all errors.
    pub fn check(&self, form: &Form) -> Result<Verification, Error> {
        let sign = match form.get("sign") {
            Some(s) if !s.trim().is_empty() => s,
            _ => {
                return Err(Error::new(
                    Kind::MissingSignature,
                    "the notification carries no `sign`; it cannot be trusted",
                )
                .in_field("sign"));
            }
        };
        let sign_type = match form.get("sign_type") {
            None | Some("") => SignType::Rsa2,
            Some(name) => name.parse::<SignType>().map_err(|e| {
                Error::new(
                    Kind::SignType,
                    format!("sign_type `{name}` is not supported; expected RSA2 or RSA"),
                )
                .in_field("sign_type")
                .with_source(e)
            })?,
        };
        let cert_sn = form.get("alipay_cert_sn").filter(|s| !s.is_empty());
        let (verifier, used_sn) = self.pick_key(cert_sn)?;

        let (rule, reason) = self.rule.resolve(form);
        let fallback = reason == RuleReason::MsgMethod && form.get("sign_type").is_some();
        let rules = [(rule, reason), (NotifyRule::V1, RuleReason::MsgMethodV1)];
        let rules = rules
            .get(..if fallback { 2 } else { 1 })
            .unwrap_or_default();
        let sn_variants: &[bool] = match (cert_sn, self.cert_sn) {
            (None, _) | (Some(_), CertSnPolicy::Signed) => &[true],
            (Some(_), CertSnPolicy::Unsigned) => &[false],
            (Some(_), CertSnPolicy::Either) => &[true, false],
        };
        let (first_rule, first_sn) = (rule, sn_variants.first().copied().unwrap_or(true));
        let cause = match decode_signature(sign) {
            Err(e) => Cause::Base64(e),
            Ok(signature) => {
                let mut first_failure = None;
                for &(rule, reason) in rules {
                    for &with_sn in sn_variants {
                        let bytes = form.content_bytes(rule, with_sn);
                        match verifier.verify(sign_type, &bytes, signature.bytes()) {
                            Ok(()) => {
                                return Ok(Verification {
                                    rule,
                                    reason,
                                    sign_type,
                                    content: form.content_into_text(bytes, rule, with_sn),
                                    cert_sn: used_sn,
                                    cert_sn_signed: cert_sn.map(|_| with_sn),
                                });
                            }
                            Err(e) if e.is_invalid_signature() => {
                                first_failure.get_or_insert(e);
                            }
                            Err(e) => return Err(key_error(e)),
                        }
                    }
                }
                match first_failure {
                    Some(e) => Cause::Signature(e),
                    None => Cause::Nothing,
                }
            }
        };
        let (rule, with_sn) = (first_rule, first_sn);
        let content = form.content_text(rule, with_sn);
        let tried = rules
            .iter()
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        let err = Error::new(
            Kind::InvalidSignature,
            format!(
                "invalid signature ({} {}, rule {tried}{}); checked content: {}",
                sign_type.as_str(),
                form.charset().as_str(),
                if sn_variants.len() > 1 {
                    ", with and without alipay_cert_sn"
                } else {
                    ""
                },
                content
            ),
        )
        .in_field("sign")
        .with_content(content, rule);
        Err(match cause {
            Cause::Signature(e) => err.with_source(e),
            Cause::Base64(e) => err.with_source(e),
            Cause::Nothing => err,
        })
    }

    fn pick_key(&self, cert_sn: Option<&str>) -> Result<(&dyn Verifier, Option<String>), Error> {
        match &self.keys {
            Keys::Key(v) => Ok((v.as_ref(), None)),
            Keys::Certificates(set) => {
                let sn = match (cert_sn, set.default_sn()) {
                    (Some(sn), _) => sn,
                    (None, Some(default)) => default,
                    (None, None) => {
                        return Err(Error::new(
                            Kind::UnknownCertSn,
                            "the notification has no alipay_cert_sn and the certificate set has no default",
                        )
                        .in_field("alipay_cert_sn"));
                    }
                };
                match set.by_sn.get(sn) {
                    Some(v) => Ok((v.as_ref(), Some(sn.to_owned()))),
                    None => Err(Error::new(
                        Kind::UnknownCertSn,
                        format!(
                            "alipay_cert_sn {sn} names no certificate of the set ({} known); download it with alipay.open.app.alipaycert.download and check it against the root",
                            set.len()
                        ),
                    )
                    .in_field("alipay_cert_sn")),
                }
            }
        }
    }
}

/// How a notification verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// The rule whose content verified.
    pub rule: NotifyRule,
    /// Why that rule was used.
    pub reason: RuleReason,
    /// The digest used (`sign_type`, RSA2 when absent).
    pub sign_type: SignType,
    /// The exact string that verified, as text.
    pub content: String,
    /// Certificate mode: the SN of the certificate that verified.
    pub cert_sn: Option<String>,
    /// When the notification carries `alipay_cert_sn`: whether it was part of the verified
    /// content.
    pub cert_sn_signed: Option<bool>,
}

/// A notification whose signature verified: its fields and how it verified.
#[derive(Debug, Clone)]
pub struct Verified {
    form: Form,
    verification: Verification,
}

impl Verified {
    /// The decoded fields.
    pub fn form(&self) -> &Form {
        &self.form
    }

    /// The value of field `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.get(key)
    }

    /// How it verified.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }

    /// The rule whose content verified.
    pub fn rule(&self) -> NotifyRule {
        self.verification.rule
    }

    /// The exact string that verified.
    pub fn content(&self) -> &str {
        &self.verification.content
    }

    /// The typed event. Decoding errors ([`Error::is_event`]) name the field.
    pub fn event(&self) -> Result<Event, Error> {
        Event::from_form(&self.form)
    }

    /// The fields and the verification.
    pub fn into_parts(self) -> (Form, Verification) {
        (self.form, self.verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(body: &str) -> (NotifyRule, RuleReason) {
        RuleChoice::Auto.resolve(&Form::parse(body.as_bytes(), None).unwrap())
    }

    #[test]
    fn auto_rule_table() {
        use NotifyRule::{V1, V2};
        assert_eq!(
            auto("notify_type=trade_status_sync&sign_type=RSA2"),
            (V1, RuleReason::TradeStatusSync)
        );
        assert_eq!(
            auto("msg_method=alipay.trade.refund.depositback.completed&notify_type=x"),
            (V2, RuleReason::MsgMethod)
        );
        assert_eq!(
            auto(
                "method=alipay.open.servicemarket.order.notify&notify_type=servicemarket_order_notify"
            ),
            (V2, RuleReason::GatewayMethod)
        );
        assert_eq!(
            auto("method=alipay.trade.page.pay.return&out_trade_no=1"),
            (V1, RuleReason::ReturnUrl)
        );
        assert_eq!(
            auto("notify_type=fund_auth_freeze"),
            (V1, RuleReason::NotifyType)
        );
        assert_eq!(auto("bizContent=x"), (V1, RuleReason::Default));
        assert_eq!(
            auto("msg_method=&notify_type=y"),
            (V1, RuleReason::NotifyType)
        );
        let form = Form::parse(b"msg_method=m", None).unwrap();
        assert_eq!(
            RuleChoice::V1.resolve(&form),
            (NotifyRule::V1, RuleReason::Requested)
        );
        assert_eq!(
            RuleChoice::V2.resolve(&form),
            (NotifyRule::V2, RuleReason::Requested)
        );
    }

    #[test]
    fn names() {
        assert_eq!("AUTO".parse::<RuleChoice>().unwrap(), RuleChoice::Auto);
        assert_eq!("v2".parse::<RuleChoice>().unwrap(), RuleChoice::V2);
        assert!("v3".parse::<RuleChoice>().unwrap_err().is_config());
        assert_eq!(NotifyRule::V1.to_string(), "v1");
        assert_eq!(RuleReason::MsgMethodV1.to_string(), "msg_method_v1");
    }

    #[test]
    fn certificate_set_defaults() {
        let leaf = include_bytes!("../tests/data/alipay_cert_leaf.crt");
        let app = include_bytes!("../tests/data/app_cert.crt");
        let mut set = CertificateSet::new();
        assert!(set.is_empty());
        let a = set.insert_pem(leaf).unwrap();
        let b = set.insert_pem(app).unwrap();
        assert_ne!(a, b);
        assert_eq!(set.len(), 2);
        assert_eq!(set.default_sn(), Some(a.as_str()));
        set.set_default(&b).unwrap();
        assert_eq!(set.default_sn(), Some(b.as_str()));
        assert!(set.set_default("nope").unwrap_err().is_unknown_cert_sn());
        set.clear_default();
        assert_eq!(set.default_sn(), None);
        assert!(set.contains(&a));
        assert!(set.insert_pem(b"not a cert").unwrap_err().is_key());
        let debug = format!("{set:?}");
        assert!(debug.contains(&a) && !debug.contains("PRIVATE"));
    }
}
