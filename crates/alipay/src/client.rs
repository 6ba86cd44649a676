//! [`Client`], its builder, the environment and per-call options.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use alipay_sign::{
    AesKey, Certificate, Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, SignType, Signer,
};
use alipay_transport::HttpTransport;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::retry::RetryPolicy;

/// Production v2 gateway.
pub const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// Sandbox v2 gateway.
pub const SANDBOX_GATEWAY: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";

/// Where the client sends requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://openapi.alipay.com` (v2 at `/gateway.do`, v3 under `/v3/`).
    #[default]
    Production,
    /// `https://openapi-sandbox.dl.alipaydev.com`.
    Sandbox,
    /// Any gateway: an emulator, a proxy, a private deployment.
    Custom {
        /// The v2 URL, ending in `/gateway.do`.
        gateway: String,
        /// The v3 base URL (scheme, host and port); paths `/v3/...` are appended.
        v3_endpoint: String,
    },
}

impl Environment {
    /// A custom gateway URL; `/gateway.do` is appended when the URL has no path, and the v3
    /// endpoint is the URL's scheme, host and port.
    ///
    /// ```
    /// use alipay::Environment;
    /// let env = Environment::custom("http://127.0.0.1:8080")?;
    /// assert_eq!(env.gateway(), "http://127.0.0.1:8080/gateway.do");
    /// assert_eq!(env.v3_endpoint(), "http://127.0.0.1:8080");
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn custom(gateway: &str) -> Result<Self, Error> {
        let uri: http::Uri = gateway.parse().map_err(|e| {
            Error::config(format!("the gateway \"{gateway}\" is not a URL")).with_source(e)
        })?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(Error::config(format!(
                "the gateway \"{gateway}\" is not an absolute http(s) URL"
            )));
        };
        if scheme != "http" && scheme != "https" {
            return Err(Error::config(format!(
                "the gateway \"{gateway}\" is not an http(s) URL"
            )));
        }
        if uri.query().is_some() {
            return Err(Error::config(format!(
                "the gateway \"{gateway}\" has a query string; give the bare URL"
            )));
        }
        let base = format!("{scheme}://{authority}");
        let path = uri.path();
        let gateway = if path.is_empty() || path == "/" {
            format!("{base}/gateway.do")
        } else {
            format!("{base}{path}")
        };
        Ok(Environment::Custom {
            gateway,
            v3_endpoint: base,
        })
    }

    /// A custom gateway with an explicit v3 endpoint.
    pub fn custom_with_v3(gateway: &str, v3_endpoint: &str) -> Result<Self, Error> {
        let Environment::Custom { gateway, .. } = Self::custom(gateway)? else {
            return Err(Error::config("unreachable: custom() returns Custom"));
        };
        let Environment::Custom { v3_endpoint, .. } = Self::custom(v3_endpoint)? else {
            return Err(Error::config("unreachable: custom() returns Custom"));
        };
        Ok(Environment::Custom {
            gateway,
            v3_endpoint,
        })
    }

    /// The v2 gateway URL.
    pub fn gateway(&self) -> &str {
        match self {
            Environment::Production => PRODUCTION_GATEWAY,
            Environment::Sandbox => SANDBOX_GATEWAY,
            Environment::Custom { gateway, .. } => gateway,
        }
    }

    /// The v3 base URL.
    pub fn v3_endpoint(&self) -> &str {
        match self {
            Environment::Production => "https://openapi.alipay.com",
            Environment::Sandbox => "https://openapi-sandbox.dl.alipaydev.com",
            Environment::Custom { v3_endpoint, .. } => v3_endpoint,
        }
    }
}

/// The protocol `execute` uses for operations that have a v3 route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `/gateway.do` with signed form parameters (every operation has it).
    #[default]
    V2,
    /// `/v3/...` REST with the `Authorization` header; operations without a v3 route still go
    /// through v2.
    V3,
}

impl Protocol {
    /// `v2` or `v3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::V2 => "v2",
            Protocol::V3 => "v3",
        }
    }
}

/// Per-call parameters that are not part of the business model.
///
/// ```
/// use alipay::RequestOptions;
/// let options = RequestOptions::new()
///     .notify_url("https://shop.example/alipay/notify")
///     .app_auth_token("201509BBeff9351ad1874306903e96b91d248A36");
/// assert!(!format!("{options:?}").contains("201509BB"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct RequestOptions {
    /// `notify_url` (v2).
    pub notify_url: Option<String>,
    /// `return_url` (v2 page payments).
    pub return_url: Option<String>,
    /// `app_auth_token`: an ISV acting for a merchant (v2 parameter, v3 `alipay-app-auth-token`).
    pub app_auth_token: Option<String>,
    /// `auth_token`: a user's token (v2).
    pub auth_token: Option<String>,
    /// Use this protocol instead of the client's default.
    pub protocol: Option<Protocol>,
    /// Encrypt (`Some(true)`), do not encrypt (`Some(false)`), or follow the client (`None`:
    /// encrypt API calls when an AES key is configured; redirect APIs only when asked).
    pub encrypt: Option<bool>,
    /// More v2 parameters, signed and sent in the query string (e.g. `format=JSON`,
    /// `terminal_type`).
    pub extra_params: Vec<(String, String)>,
    /// A fixed `alipay-request-id` (v3); by default a random one per call, kept across retries.
    pub request_id: Option<String>,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("notify_url", &self.notify_url)
            .field("return_url", &self.return_url)
            .field(
                "app_auth_token",
                &self.app_auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("protocol", &self.protocol)
            .field("encrypt", &self.encrypt)
            .field("extra_params", &self.extra_params)
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl RequestOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `notify_url`.
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Sets `return_url`.
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Sets `app_auth_token`.
    pub fn app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.app_auth_token = Some(token.into());
        self
    }

    /// Sets `auth_token`.
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.auth_token = Some(token.into());
        self
    }

    /// Chooses the protocol for this call.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Forces encryption on or off for this call.
    pub fn encrypt(mut self, encrypt: bool) -> Self {
        self.encrypt = Some(encrypt);
        self
    }

    /// Adds a signed v2 parameter.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// Fixes the v3 `alipay-request-id`.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// The Alipay keys used to verify responses.
pub(crate) enum AlipayKeys {
    /// Public-key mode: one key.
    PublicKey(Arc<RsaVerifier>),
    /// Certificate mode: keys by certificate SN, with rotation.
    Certificates(Arc<CertStore>),
}

/// Certificate mode state: the SNs sent with requests, the root bundle, and the Alipay keys by SN.
pub(crate) struct CertStore {
    pub(crate) app_cert_sn: String,
    pub(crate) root_cert_sn: String,
    pub(crate) roots: Vec<Certificate>,
    pub(crate) known: RwLock<HashMap<String, Arc<RsaVerifier>>>,
    /// Serialises certificate downloads, so concurrent calls download an SN once.
    pub(crate) download: tokio::sync::Mutex<()>,
}

impl CertStore {
    pub(crate) fn get(&self, sn: &str) -> Option<Arc<RsaVerifier>> {
        self.known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sn)
            .cloned()
    }

    pub(crate) fn insert(&self, sn: String, verifier: Arc<RsaVerifier>) {
        self.known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sn, verifier);
    }

    pub(crate) fn known_sns(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }
}

/// The Alipay client: v2 and v3, verified responses, certificate rotation, redirect payments.
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Several apps in one process are several clients.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) app_id: String,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) sign_type: SignType,
    pub(crate) charset: Charset,
    pub(crate) keys: AlipayKeys,
    pub(crate) environment: Environment,
    pub(crate) protocol: Protocol,
    pub(crate) aes: Option<AesKey>,
    pub(crate) retry: RetryPolicy,
    pub(crate) transport: Arc<dyn HttpTransport>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Client");
        d.field("app_id", &i.app_id)
            .field("environment", &i.environment)
            .field("protocol", &i.protocol)
            .field("sign_type", &i.sign_type)
            .field("charset", &i.charset)
            .field("aes", &i.aes.as_ref().map(|_| "<redacted>"));
        match &i.keys {
            AlipayKeys::PublicKey(_) => d.field("mode", &"public key"),
            AlipayKeys::Certificates(c) => d
                .field("mode", &"certificate")
                .field("app_cert_sn", &c.app_cert_sn)
                .field("alipay_root_cert_sn", &c.root_cert_sn),
        };
        d.field("retry", &i.retry)
            .field("timeout", &i.timeout)
            .field("transport", &i.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The `app_id`.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// The default protocol of `execute`.
    pub fn protocol(&self) -> Protocol {
        self.inner.protocol
    }

    /// In certificate mode, `app_cert_sn` and `alipay_root_cert_sn`.
    pub fn cert_sns(&self) -> Option<(&str, &str)> {
        match &self.inner.keys {
            AlipayKeys::Certificates(c) => Some((&c.app_cert_sn, &c.root_cert_sn)),
            AlipayKeys::PublicKey(_) => None,
        }
    }

    /// In certificate mode, the SNs of the Alipay certificates known so far (configured and
    /// downloaded), sorted.
    pub fn known_alipay_cert_sns(&self) -> Vec<String> {
        match &self.inner.keys {
            AlipayKeys::Certificates(c) => c.known_sns(),
            AlipayKeys::PublicKey(_) => Vec::new(),
        }
    }

    pub(crate) fn encrypt_call(&self, options: &RequestOptions) -> Result<bool, Error> {
        match (options.encrypt, &self.inner.aes) {
            (Some(true), None) => Err(Error::config(
                "encryption was requested but no AES key is configured",
            )),
            (Some(e), _) => Ok(e),
            (None, aes) => Ok(aes.is_some()),
        }
    }
}

/// The key material a builder was given, parsed when given; errors are reported by `build`.
#[derive(Default)]
enum Pending<T> {
    #[default]
    Unset,
    Set(T),
    Failed(Error),
}

/// Configures a [`Client`]. Keys are parsed when given and checked at [`build`](Self::build),
/// with `alipay-sign`'s diagnostics ("found a public key; the app private key is needed here").
///
/// ```
/// # let app_key = include_bytes!("../tests/data/app_private_pkcs1.pem");
/// # let alipay_key = include_bytes!("../tests/data/alipay_public.pem");
/// use alipay::{Client, Environment};
/// let client = Client::builder()
///     .app_id("2021000000000001")
///     .app_private_key(app_key)
///     .alipay_public_key(alipay_key)
///     .environment(Environment::Sandbox)
///     .build()?;
/// assert_eq!(client.app_id(), "2021000000000001");
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    app_id: Option<String>,
    app_key: Pending<PrivateKey>,
    signer: Option<Arc<dyn Signer>>,
    alipay_public_key: Pending<PublicKey>,
    certificates: Pending<(Vec<Certificate>, Vec<Certificate>, Vec<Certificate>)>,
    environment: Option<Result<Environment, Error>>,
    protocol: Protocol,
    sign_type: SignType,
    charset: Charset,
    aes: Pending<AesKey>,
    retry: Option<RetryPolicy>,
    transport: Option<Arc<dyn HttpTransport>>,
    clock: Option<Arc<dyn Clock>>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    proxy: Option<String>,
    tls_roots: Vec<Vec<u8>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("app_id", &self.app_id)
            .field("protocol", &self.protocol)
            .field("sign_type", &self.sign_type)
            .field("charset", &self.charset)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn pending<T>(r: Result<T, alipay_sign::Error>, what: &str) -> Pending<T> {
    match r {
        Ok(v) => Pending::Set(v),
        Err(e) => Pending::Failed(Error::config(format!("{what}: {e}")).with_source(e)),
    }
}

impl ClientBuilder {
    /// The app's `app_id`. Required.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app private key (PKCS#1 or PKCS#8; PEM, bare base64 or DER). Required unless a
    /// [`signer`](Self::signer) is given.
    pub fn app_private_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.app_key = pending(
            PrivateKey::from_pem_or_der(key.as_ref()),
            "the app private key is unusable",
        );
        self
    }

    /// A custom signer (KMS, HSM) instead of an app private key.
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Public-key mode: the Alipay public key (SPKI, PKCS#1, or a certificate).
    pub fn alipay_public_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.alipay_public_key = pending(
            PublicKey::from_pem_or_der(key.as_ref()),
            "the Alipay public key is unusable",
        );
        self
    }

    /// Certificate mode: the app certificate (`appCertPublicKey_*.crt`), the Alipay certificate
    /// (`alipayCertPublicKey_RSA2.crt`, leaf first) and the root bundle (`alipayRootCert.crt`).
    pub fn certificates(
        mut self,
        app_cert: impl AsRef<[u8]>,
        alipay_cert: impl AsRef<[u8]>,
        root_cert: impl AsRef<[u8]>,
    ) -> Self {
        let parse = |bytes: &[u8], what: &str| {
            Certificate::parse_bundle(bytes)
                .map_err(|e| Error::config(format!("the {what} is unusable: {e}")).with_source(e))
        };
        self.certificates = match (
            parse(app_cert.as_ref(), "app certificate"),
            parse(alipay_cert.as_ref(), "Alipay certificate"),
            parse(root_cert.as_ref(), "Alipay root certificate bundle"),
        ) {
            (Ok(a), Ok(b), Ok(c)) => Pending::Set((a, b, c)),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Pending::Failed(e),
        };
        self
    }

    /// Production (default), sandbox, or a custom gateway.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(Ok(environment));
        self
    }

    /// A custom gateway URL (see [`Environment::custom`]).
    pub fn gateway(mut self, url: &str) -> Self {
        self.environment = Some(Environment::custom(url));
        self
    }

    /// The default protocol of `execute` (v2 unless set).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// v2 `sign_type`: RSA2 (default) or the legacy RSA.
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.sign_type = sign_type;
        self
    }

    /// v2 `charset`: UTF-8 (default) or GBK.
    pub fn charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// The AES content-encryption key (base64, as the console shows it). When set, API calls
    /// encrypt their business content (v2 `biz_content`, v3 body) unless a call says otherwise.
    pub fn aes_key(mut self, key_base64: &str) -> Self {
        self.aes = pending(AesKey::from_base64(key_base64), "the AES key is unusable");
        self
    }

    /// Total time for one attempt of a call (default 30 s). Also the default transport's total
    /// timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Connect timeout of the default transport (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// A proxy for the default transport, tunnelled with `CONNECT` (TLS to the gateway runs end
    /// to end): `http://[user:password@]host[:port]` (port 80 by default) or
    /// `https://[user:password@]host[:port]` (port 443 by default; TLS to the proxy too, its
    /// certificate verified like any server's — add a corporate CA with
    /// [`add_root_certificate`](Self::add_root_certificate)). An unusable URL fails
    /// [`build`](Self::build); credentials never show in `Debug` output or errors.
    ///
    /// ```no_run
    /// # fn demo(app_key: &[u8], alipay_key: &[u8]) -> Result<(), alipay::Error> {
    /// let corporate_ca = std::fs::read("corporate-ca.pem").unwrap_or_default();
    /// let client = alipay::Client::builder()
    ///     .app_id("2021000000000001")
    ///     .app_private_key(app_key)
    ///     .alipay_public_key(alipay_key)
    ///     .proxy("https://alice:s3cret@proxy.corp.example:8443")
    ///     .add_root_certificate(corporate_ca)
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Makes the default transport trust one more TLS root certificate besides Mozilla's webpki
    /// roots — a corporate `https://` proxy's, a TLS-inspecting gateway's or a private CA's —
    /// for every TLS connection (to the proxy and to the gateway). PEM text with one or several
    /// certificates, or one DER certificate; may be called several times. Unusable input fails
    /// [`build`](Self::build) with a configuration error naming the problem.
    ///
    /// This is about TLS only; it has nothing to do with the Alipay root certificate of
    /// certificate mode ([`certificates`](Self::certificates)), which checks signatures.
    pub fn add_root_certificate(mut self, pem_or_der: impl AsRef<[u8]>) -> Self {
        self.tls_roots.push(pem_or_der.as_ref().to_vec());
        self
    }

    /// The retry policy (default: 3 attempts, where retrying is safe).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A custom HTTP transport (then `connect_timeout`, `proxy` and `add_root_certificate` do
    /// not apply).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Checks everything and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let app_id = self
            .app_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::config("the app_id is not set"))?;
        let environment = self.environment.unwrap_or(Ok(Environment::Production))?;

        let app_key = match self.app_key {
            Pending::Failed(e) => return Err(e),
            Pending::Set(k) => Some(k),
            Pending::Unset => None,
        };
        let signer: Arc<dyn Signer> = match (&self.signer, &app_key) {
            (Some(s), _) => s.clone(),
            (None, Some(k)) => Arc::new(RsaSigner::new(k).map_err(|e| {
                Error::config(format!("the app private key cannot sign: {e}")).with_source(e)
            })?),
            (None, None) => {
                return Err(Error::config(
                    "no app private key (or signer) is set; the client cannot sign requests",
                ));
            }
        };

        let keys = match (self.alipay_public_key, self.certificates) {
            (Pending::Failed(e), _) | (_, Pending::Failed(e)) => return Err(e),
            (Pending::Set(_), Pending::Set(_)) => {
                return Err(Error::config(
                    "both an Alipay public key and certificates are set; choose public-key mode or certificate mode",
                ));
            }
            (Pending::Unset, Pending::Unset) => {
                return Err(Error::config(
                    "neither an Alipay public key nor certificates are set; responses could not be verified",
                ));
            }
            (Pending::Set(public), Pending::Unset) => {
                if app_key.as_ref().is_some_and(|k| k.matches(&public)) {
                    return Err(Error::config(
                        "the Alipay public key is the app's own public key; use the Alipay public key from the console",
                    ));
                }
                AlipayKeys::PublicKey(Arc::new(RsaVerifier::new(&public)?))
            }
            (Pending::Unset, Pending::Set((app_cert, alipay_cert, roots))) => {
                cert_store(app_key.as_ref(), &app_cert, &alipay_cert, roots)?
            }
        };

        let aes = match self.aes {
            Pending::Failed(e) => return Err(e),
            Pending::Set(k) => Some(k),
            Pending::Unset => None,
        };
        let timeout = self.timeout.unwrap_or(Duration::from_secs(30));
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport(timeout, self.connect_timeout, self.proxy, &self.tls_roots)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                app_id,
                signer,
                sign_type: self.sign_type,
                charset: self.charset,
                keys,
                environment,
                protocol: self.protocol,
                aes,
                retry: self.retry.unwrap_or_default(),
                transport,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                timeout: Some(timeout),
            }),
        })
    }
}

fn cert_store(
    app_key: Option<&PrivateKey>,
    app_cert: &[Certificate],
    alipay_cert: &[Certificate],
    roots: Vec<Certificate>,
) -> Result<AlipayKeys, Error> {
    let app = app_cert
        .first()
        .ok_or_else(|| Error::config("the app certificate file holds no certificate"))?;
    if let Some(key) = app_key {
        let public = app.public_key()?;
        if !key.matches(&public) {
            return Err(Error::config(
                "the app private key does not match the public key of the app certificate",
            ));
        }
    }
    let alipay = alipay_cert
        .first()
        .ok_or_else(|| Error::config("the Alipay certificate file holds no certificate"))?;
    let root_cert_sn = alipay_sign::root_cert_sn_of(&roots).map_err(|e| {
        Error::config(format!(
            "the Alipay root certificate bundle is unusable: {e}"
        ))
        .with_source(e)
    })?;
    let verifier = Arc::new(RsaVerifier::new(&alipay.public_key()?)?);
    let mut known = HashMap::new();
    known.insert(alipay.sn(), verifier);
    Ok(AlipayKeys::Certificates(Arc::new(CertStore {
        app_cert_sn: app.sn(),
        root_cert_sn,
        roots,
        known: RwLock::new(known),
        download: tokio::sync::Mutex::new(()),
    })))
}

#[cfg(feature = "hyper-rustls")]
fn default_transport(
    timeout: Duration,
    connect_timeout: Option<Duration>,
    proxy: Option<String>,
    tls_roots: &[Vec<u8>],
) -> Result<Arc<dyn HttpTransport>, Error> {
    let mut b = alipay_transport::HyperTransport::builder().timeout(timeout);
    if let Some(c) = connect_timeout {
        b = b.connect_timeout(c);
    }
    if let Some(p) = proxy {
        b = b.proxy(p);
    }
    for root in tls_roots {
        b = b.add_root_certificate(root);
    }
    let t = b.build().map_err(|e| {
        Error::config(format!("cannot build the HTTP transport: {e}")).with_source(e)
    })?;
    Ok(Arc::new(t))
}

#[cfg(not(feature = "hyper-rustls"))]
fn default_transport(
    _timeout: Duration,
    _connect_timeout: Option<Duration>,
    _proxy: Option<String>,
    _tls_roots: &[Vec<u8>],
) -> Result<Arc<dyn HttpTransport>, Error> {
    Err(Error::config(
        "no transport is set and the default one is not compiled in; enable the `hyper-rustls` feature or call ClientBuilder::transport",
    ))
}

#[cfg(all(test, feature = "hyper-rustls"))]
mod tests {
    use super::*;

    const APP_KEY: &[u8] = include_bytes!("../tests/data/app_private_pkcs1.pem");
    const ALIPAY_KEY: &[u8] = include_bytes!("../tests/data/alipay_public.pem");
    /// A self-signed P-256 certificate (key discarded), made with
    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null
    /// -subj "/CN=alipay-rs facade test root" -days 36500`.
    const TEST_CA: &[u8] = include_bytes!("../tests/data/tls_root.pem");

    fn builder() -> ClientBuilder {
        Client::builder()
            .app_id("2021000000000001")
            .app_private_key(APP_KEY)
            .alipay_public_key(ALIPAY_KEY)
    }

    #[test]
    fn https_proxy_and_tls_roots_reach_the_default_transport() {
        let client = builder()
            .proxy("https://alice:s3cret@proxy.corp.example")
            .add_root_certificate(TEST_CA)
            .build()
            .unwrap();
        let shown = format!("{client:?}");
        assert!(
            shown.contains(r#"proxy: Some("https://proxy.corp.example:443")"#),
            "{shown}"
        );
        assert!(shown.contains("added_roots: 1"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");

        let err = builder()
            .add_root_certificate(TEST_CA)
            .add_root_certificate(b"not a certificate")
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err:?}");
        let message = err.to_string();
        assert!(
            message.starts_with(
                "cannot build the HTTP transport: unusable root certificate (add_root_certificate call 2): the input (not PEM, so read as DER) cannot be a trust anchor: "
            ),
            "{message}"
        );
        assert!(std::error::Error::source(&err).is_some());

        let err = builder()
            .proxy("socks5://alice:s3cret@proxy:1080")
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "cannot build the HTTP transport: unusable proxy URL: only http:// and https:// proxies are supported; expected http[s]://[user:password@]host:port"
        );
        assert!(!format!("{err:?}").contains("s3cret"));

        // A custom transport: the proxy and the roots are not used (nor checked).
        let custom: Arc<dyn HttpTransport> =
            Arc::new(alipay_transport::HyperTransport::new().unwrap());
        assert!(
            builder()
                .transport(custom)
                .add_root_certificate(b"not a certificate")
                .build()
                .is_ok()
        );
    }
}
