//! The default transport: hyper 1 + hyper-util's pooled client + rustls.

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Body as _, Incoming};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::{
    BodyStream, BoxFuture, HttpRequest, HttpResponse, HttpTransport, StreamingResponse,
    TransportError,
};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
const DEFAULT_POOL_IDLE: Duration = Duration::from_secs(60);
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

type Direct = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;
type Proxied = Client<HttpsConnector<Tunnel<HttpConnector>>, Full<Bytes>>;
/// Through an `https://` proxy: TLS to the proxy, `CONNECT` inside it, then (for `https://`
/// origins) TLS to the origin inside the tunnel.
type ProxiedTls = Client<HttpsConnector<Tunnel<HttpsConnector<HttpConnector>>>, Full<Bytes>>;

#[derive(Clone)]
enum Inner {
    Direct(Direct),
    Proxied(Proxied),
    ProxiedTls(ProxiedTls),
}

/// hyper 1 + hyper-util's pooled client + rustls (aws-lc-rs, webpki roots).
///
/// Server certificates are always verified; there is no switch to turn that off. More roots can
/// be trusted with [`add_root_certificate`](HyperTransportBuilder::add_root_certificate), and
/// requests can go through an `http://` or `https://` proxy
/// ([`proxy`](HyperTransportBuilder::proxy)). `http://` URLs are allowed (for a local emulator);
/// `https://` ones always use TLS. Cheap to clone: clones share the connection pool. Needs a Tokio
/// runtime with the time driver enabled.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use alipay_transport::{HttpTransport, HyperTransport};
///
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(15))
///     .build()?;
/// let request = http::Request::get("https://openapi.alipay.com/").body(bytes::Bytes::new())?;
/// let response = transport.send(request).await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    inner: Inner,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_response_bytes: usize,
    proxy: Option<Arc<str>>,
    added_roots: usize,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy)
            .field("added_roots", &self.added_roots)
            .finish_non_exhaustive()
    }
}

/// Configures a [`HyperTransport`].
#[derive(Clone)]
#[must_use]
pub struct HyperTransportBuilder {
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_response_bytes: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    proxy: Option<String>,
    /// The inputs of `add_root_certificate`, parsed by `build`.
    roots: Vec<Vec<u8>>,
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("proxy", &self.proxy.as_deref().map(without_userinfo))
            .field("added_roots", &self.roots.len())
            .finish()
    }
}

/// The URL with any `user:password@` left out (for `Debug`).
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if scheme.is_empty() {
        format!("{host}{tail}")
    } else {
        format!("{scheme}://{host}{tail}")
    }
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        HyperTransportBuilder {
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE),
            pool_max_idle_per_host: 32,
            proxy: None,
            roots: Vec::new(),
        }
    }
}

impl HyperTransportBuilder {
    /// Total time for one exchange: connecting, sending, and reading the whole response
    /// (default 30 s). `None` waits forever. For
    /// [`send_streaming`](HttpTransport::send_streaming) it bounds the wait for the response
    /// head; the body is then bounded by [`idle_timeout`](Self::idle_timeout).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Time to establish the TCP connection (default 10 s). `None` waits forever. The TLS
    /// handshakes that follow (with the server, and with an `https://` proxy) are bounded by the
    /// total [`timeout`](Self::timeout).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// For [`send_streaming`](HttpTransport::send_streaming): the longest wait for the next
    /// chunk of the body (default 60 s); a longer silence ends the body with an error for which
    /// [`TransportError::is_timeout`] holds. `None` waits forever.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// Largest response body [`send`](HttpTransport::send) accepts (default 16 MiB); more is an
    /// error with [`TransportError::is_too_large`]. Streamed bodies are not limited: their
    /// reader decides.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// How long an idle pooled connection is kept (default 60 s).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// Most idle connections kept per host (default 32).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Sends every request through a proxy, tunnelled with `CONNECT`: TLS runs end to end
    /// between this client and the server, so the proxy sees only the host name and port.
    ///
    /// The URL is `http://[user:password@]host[:port]` (port 80 when left out) or
    /// `https://[user:password@]host[:port]` (port 443 when left out). With `https://`, the
    /// connection to the proxy is itself TLS, and the proxy's certificate is verified like any
    /// server's (against the webpki roots and those added with
    /// [`add_root_certificate`](Self::add_root_certificate); there is no switch to turn that
    /// off); the `CONNECT` and its credentials travel inside that TLS session. Credentials
    /// (percent-decoded) become a `Proxy-Authorization: Basic` header; they never appear in
    /// `Debug` output or errors. An unusable URL is an error of [`build`](Self::build).
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), alipay_transport::TransportError> {
    /// use alipay_transport::HyperTransport;
    ///
    /// let pem = std::fs::read("corporate-ca.pem").unwrap_or_default();
    /// let transport = HyperTransport::builder()
    ///     .proxy("https://alice:s3cret@proxy.corp.example:8443")
    ///     .add_root_certificate(&pem)
    ///     .build()?;
    /// # let _ = transport; Ok(()) }
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Trusts one more root certificate, in addition to Mozilla's webpki roots: for a corporate
    /// `https://` proxy, a TLS-inspecting gateway or a private CA. Used for every TLS connection
    /// of the transport (to an `https://` proxy and to `https://` servers).
    ///
    /// `pem_or_der` is either PEM text holding one or several `CERTIFICATE` sections (a bundle;
    /// other sections are skipped) or one DER certificate. May be called several times. The
    /// input is checked by [`build`](Self::build), which fails with an error for which
    /// [`TransportError::is_invalid_request`] holds, naming the call and what was wrong (not PEM
    /// and not DER, no certificate in the PEM, a certificate that cannot be a trust anchor).
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use alipay_transport::HyperTransport;
    ///
    /// let private_ca = std::fs::read("/etc/ssl/private-ca.pem")?;
    /// let transport = HyperTransport::builder()
    ///     .add_root_certificate(&private_ca)
    ///     .build()?;
    /// # let _ = transport; Ok(()) }
    /// ```
    pub fn add_root_certificate(mut self, pem_or_der: &[u8]) -> Self {
        self.roots.push(pem_or_der.to_vec());
        self
    }

    /// Builds the transport. Fails on an unusable proxy URL, root certificate or TLS
    /// configuration.
    pub fn build(self) -> Result<HyperTransport, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for (i, input) in self.roots.iter().enumerate() {
            add_roots(&mut roots, input, i + 1)?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| {
                TransportError::invalid_request("cannot configure TLS protocol versions")
                    .with_source(e)
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);

        let mut client = Client::builder(TokioExecutor::new());
        client
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host);

        let (inner, proxy) = match &self.proxy {
            None => {
                let https = HttpsConnectorBuilder::new()
                    .with_tls_config(tls)
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http);
                (Inner::Direct(client.build(https)), None)
            }
            Some(url) => {
                let ProxyUrl {
                    uri,
                    auth,
                    shown,
                    tls: proxy_tls,
                } = parse_proxy(url)?;
                let inner = if proxy_tls {
                    // TLS to the proxy (verified; `https_only`: never plain text to it).
                    let to_proxy = HttpsConnectorBuilder::new()
                        .with_tls_config(tls.clone())
                        .https_only()
                        .enable_http1()
                        .wrap_connector(http);
                    let mut tunnel = Tunnel::new(uri, to_proxy);
                    if let Some(auth) = auth {
                        tunnel = tunnel.with_auth(auth);
                    }
                    let https = HttpsConnectorBuilder::new()
                        .with_tls_config(tls)
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(tunnel);
                    Inner::ProxiedTls(client.build(https))
                } else {
                    let mut tunnel = Tunnel::new(uri, http);
                    if let Some(auth) = auth {
                        tunnel = tunnel.with_auth(auth);
                    }
                    let https = HttpsConnectorBuilder::new()
                        .with_tls_config(tls)
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(tunnel);
                    Inner::Proxied(client.build(https))
                };
                (inner, Some(Arc::from(shown)))
            }
        };
        Ok(HyperTransport {
            inner,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            idle_timeout: self.idle_timeout,
            max_response_bytes: self.max_response_bytes,
            proxy,
            added_roots: self.roots.len(),
        })
    }
}

/// Adds the certificates of one `add_root_certificate` input (the `call`-th) to `store`.
fn add_roots(
    store: &mut rustls::RootCertStore,
    input: &[u8],
    call: usize,
) -> Result<(), TransportError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    let bad = |why: String| {
        TransportError::invalid_request(format!(
            "unusable root certificate (add_root_certificate call {call}): {why}; expected PEM certificates or one DER certificate"
        ))
    };
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("the input is empty".to_owned()));
    }
    let is_pem = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .is_some_and(|start| input[start..].starts_with(b"-----BEGIN"));
    let certificates = if is_pem {
        let mut found = Vec::new();
        for (n, item) in CertificateDer::pem_slice_iter(input).enumerate() {
            let certificate = item
                .map_err(|e| bad(format!("PEM section {} is malformed", n + 1)).with_source(e))?;
            found.push(certificate);
        }
        if found.is_empty() {
            return Err(bad("the PEM text holds no CERTIFICATE section".to_owned()));
        }
        found
    } else {
        vec![CertificateDer::from(input.to_vec())]
    };
    // All or nothing: into a store of their own first.
    let mut added = rustls::RootCertStore::empty();
    let count = certificates.len();
    for (n, certificate) in certificates.into_iter().enumerate() {
        added.add(certificate).map_err(|e| {
            let which = if is_pem {
                format!("certificate {} of {count} in the PEM text", n + 1)
            } else {
                "the input (not PEM, so read as DER)".to_owned()
            };
            bad(format!("{which} cannot be a trust anchor: {e}")).with_source(e)
        })?;
    }
    store.roots.extend(added.roots);
    Ok(())
}

/// A parsed proxy URL. (`Debug` shows the header as `Sensitive`.)
#[derive(Debug)]
struct ProxyUrl {
    /// `scheme://host:port`, the port filled in.
    uri: Uri,
    /// The `Proxy-Authorization` value, marked sensitive.
    auth: Option<http::HeaderValue>,
    /// The URL without credentials (for `Debug`).
    shown: String,
    /// `https://`: TLS to the proxy.
    tls: bool,
}

/// Splits `http[s]://user:pass@host:port` into the proxy URI (with the scheme's default port
/// filled in), the `Proxy-Authorization` value, and the URL without credentials (for `Debug`).
fn parse_proxy(url: &str) -> Result<ProxyUrl, TransportError> {
    let bad = |why: &str| {
        TransportError::invalid_request(format!(
            "unusable proxy URL: {why}; expected http[s]://[user:password@]host:port"
        ))
    };
    let (scheme, default_port, rest) = if let Some(rest) = url.strip_prefix("http://") {
        ("http", 80, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        ("https", 443, rest)
    } else {
        return Err(bad("only http:// and https:// proxies are supported"));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if hostport.is_empty() {
        return Err(bad("no host"));
    }
    let given: Uri = format!("{scheme}://{hostport}")
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad("not a URI").with_source(e))?;
    let host = given
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("no host"))?;
    // `Uri::port` is `None` for a port out of range too: read the text after the host.
    let after_host = given
        .authority()
        .and_then(|a| a.as_str().get(host.len()..))
        .unwrap_or_default();
    let port = match after_host.strip_prefix(':') {
        None => default_port,
        Some(digits) => digits
            .parse::<u16>()
            .ok()
            .filter(|n| *n != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
    };
    let shown = format!("{scheme}://{host}:{port}");
    let uri: Uri = shown
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad("not a URI").with_source(e))?;
    let auth = match userinfo {
        None => None,
        Some(userinfo) => {
            let decoded: String = percent_decode(userinfo);
            let value = format!("Basic {}", base64_encode(decoded.as_bytes()));
            let mut header = http::HeaderValue::from_str(&value)
                .map_err(|_| bad("credentials are not valid header text"))?;
            header.set_sensitive(true);
            Some(header)
        }
    };
    Ok(ProxyUrl {
        uri,
        auth,
        shown,
        tls: scheme == "https",
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                b.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            // Two hex digits: at most 255.
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `http://host/…` with the port written out (`http://host:80/…`). hyper-util's proxy tunnel
/// asks for port 443 when the URI has none, whatever the scheme; with the port explicit, the
/// `CONNECT` names port 80. The `Host` header is unchanged: hyper leaves a scheme's default
/// port out of it.
fn with_explicit_port(uri: Uri) -> Uri {
    if uri.scheme() != Some(&http::uri::Scheme::HTTP) || uri.port().is_some() {
        return uri;
    }
    let Some(authority) = uri.authority().map(|a| format!("{}:80", a.as_str())) else {
        return uri;
    };
    let mut parts = uri.clone().into_parts();
    match authority.parse() {
        Ok(authority) => {
            parts.authority = Some(authority);
            Uri::from_parts(parts).unwrap_or(uri)
        }
        Err(_) => uri,
    }
}

impl HyperTransport {
    /// A builder with the defaults: 10 s connect timeout, 30 s total timeout, 16 MiB limit.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// A transport with the defaults.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// Sends the request; returns the response head with the body still to read.
    async fn head(
        &self,
        request: HttpRequest,
        described: &str,
    ) -> Result<http::Response<Incoming>, TransportError> {
        let (mut parts, body) = request.into_parts();
        if !matches!(self.inner, Inner::Direct(_)) {
            parts.uri = with_explicit_port(parts.uri);
        }
        let request = http::Request::from_parts(parts, Full::new(body));
        match &self.inner {
            Inner::Direct(c) => c.request(request).await,
            Inner::Proxied(c) => c.request(request).await,
            Inner::ProxiedTls(c) => c.request(request).await,
        }
        .map_err(|e| map_client_error(e, described))
    }

    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let described = describe(request.method(), request.uri());
        let response = self.head(request, &described).await?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, self.max_response_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    TransportError::too_large(format!(
                        "the response to {described} is larger than {} bytes",
                        self.max_response_bytes
                    ))
                } else {
                    TransportError::body(format!("reading the response to {described} failed"))
                        .with_source(e)
                }
            })?;
        Ok(http::Response::from_parts(parts, collected.to_bytes()))
    }
}

/// `POST https://host/path` without the query (which may carry signed parameters).
fn describe(method: &http::Method, uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    format!("{method} {scheme}://{authority}{}", uri.path())
}

fn map_client_error(e: hyper_util::client::legacy::Error, described: &str) -> TransportError {
    if e.is_connect() {
        TransportError::connect(format!("cannot connect for {described}")).with_source(e)
    } else {
        TransportError::other(format!("the exchange {described} failed")).with_source(e)
    }
}

fn check_absolute(request: &HttpRequest) -> Result<(), TransportError> {
    if request.uri().scheme().is_none() || request.uri().authority().is_none() {
        return Err(TransportError::invalid_request(format!(
            "the request URI \"{}\" is not absolute",
            request.uri().path()
        )));
    }
    Ok(())
}

impl HttpTransport for HyperTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            check_absolute(&request)?;
            match self.timeout {
                None => self.exchange(request).await,
                Some(limit) => {
                    let described = describe(request.method(), request.uri());
                    match tokio::time::timeout(limit, self.exchange(request)).await {
                        Ok(result) => result,
                        Err(_) => Err(TransportError::timeout(format!(
                            "no complete response to {described} within {} ms",
                            limit.as_millis()
                        ))),
                    }
                }
            }
        })
    }

    /// Returns when the response head has arrived (within the total timeout); the body's
    /// frames are then yielded as they arrive, each within the idle timeout. No size limit.
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<StreamingResponse, TransportError>> {
        Box::pin(async move {
            check_absolute(&request)?;
            let described = describe(request.method(), request.uri());
            let head = self.head(request, &described);
            let response = match self.timeout {
                None => head.await?,
                Some(limit) => match tokio::time::timeout(limit, head).await {
                    Ok(result) => result?,
                    Err(_) => {
                        return Err(TransportError::timeout(format!(
                            "no response to {described} within {} ms",
                            limit.as_millis()
                        )));
                    }
                },
            };
            let (parts, body) = response.into_parts();
            let frames = Frames {
                body,
                idle_timeout: self.idle_timeout,
                idle: None,
                received: 0,
                described,
            };
            Ok(http::Response::from_parts(
                parts,
                BodyStream::from_stream(frames),
            ))
        })
    }
}

/// The data frames of a hyper body, each awaited at most the idle timeout.
struct Frames {
    body: Incoming,
    idle_timeout: Option<Duration>,
    /// The deadline of the chunk being awaited, armed on the first `Pending`.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    received: u64,
    described: String,
}

impl futures_core::Stream for Frames {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(TransportError::body(format!(
                        "the body of the response to {} broke off after {} bytes",
                        this.described, this.received
                    ))
                    .with_source(e))));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    this.idle = None;
                    // Trailers carry no data: read on.
                    if let Ok(data) = frame.into_data() {
                        let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
                        this.received = this.received.saturating_add(n);
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Poll::Pending => {
                    let Some(limit) = this.idle_timeout else {
                        return Poll::Pending;
                    };
                    let idle = this
                        .idle
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                    if idle.as_mut().poll(cx).is_ready() {
                        this.idle = None;
                        return Poll::Ready(Some(Err(TransportError::timeout(format!(
                            "no data of the response to {} for {} ms after {} bytes",
                            this.described,
                            limit.as_millis(),
                            this.received
                        )))));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxied_http_uris_get_an_explicit_port() {
        let cases = [
            ("http://localhost/a?b=c", "http://localhost:80/a?b=c"),
            ("http://[::1]/a", "http://[::1]:80/a"),
            ("http://localhost:8080/a", "http://localhost:8080/a"),
            (
                "https://openapi.alipay.com/gateway.do",
                "https://openapi.alipay.com/gateway.do",
            ),
            ("/relative", "/relative"),
        ];
        for (given, expected) in cases {
            let uri: Uri = given.parse().unwrap();
            assert_eq!(with_explicit_port(uri).to_string(), expected, "{given}");
        }
    }

    #[test]
    fn proxy_urls() {
        let p = parse_proxy("http://u%40x:p%3Aw@127.0.0.1:3128").unwrap();
        assert_eq!(p.uri, "http://127.0.0.1:3128/");
        assert_eq!(p.shown, "http://127.0.0.1:3128");
        assert!(!p.tls);
        // base64("u@x:p:w")
        let auth = p.auth.unwrap();
        assert_eq!(auth.to_str().unwrap(), "Basic dUB4OnA6dw==");
        assert!(auth.is_sensitive());
        let p = parse_proxy("http://proxy:8080/").unwrap();
        assert!(p.auth.is_none());
        assert_eq!(p.shown, "http://proxy:8080");
        // The default ports: 80 for http://, 443 for https://.
        let p = parse_proxy("http://proxy").unwrap();
        assert_eq!(p.uri, "http://proxy:80/");
        assert_eq!(p.shown, "http://proxy:80");
        let p = parse_proxy("https://u:p@proxy.example/").unwrap();
        assert_eq!(p.uri, "https://proxy.example:443/");
        assert_eq!(p.shown, "https://proxy.example:443");
        assert!(p.tls);
        assert_eq!(p.auth.unwrap().to_str().unwrap(), "Basic dTpw");
        let p = parse_proxy("https://127.0.0.1:8443").unwrap();
        assert_eq!(p.uri, "https://127.0.0.1:8443/");
        assert!(p.tls && p.auth.is_none());
        let p = parse_proxy("https://[::1]").unwrap();
        assert_eq!(p.uri, "https://[::1]:443/");
        assert_eq!(p.shown, "https://[::1]:443");

        let err = parse_proxy("socks5://proxy:1080").unwrap_err();
        assert!(err.is_invalid_request());
        assert_eq!(
            err.to_string(),
            "unusable proxy URL: only http:// and https:// proxies are supported; expected http[s]://[user:password@]host:port"
        );
        for url in [
            "http://",
            "https://",
            "https://u:secret@",
            "https://u:secret@:8443",
        ] {
            let err = parse_proxy(url).unwrap_err();
            assert!(err.is_invalid_request(), "{url}");
            assert_eq!(
                err.to_string(),
                "unusable proxy URL: no host; expected http[s]://[user:password@]host:port",
                "{url}"
            );
        }
        for url in [
            "https://u:secret@proxy:99999",
            "http://proxy:0",
            "https://proxy:",
        ] {
            let err = parse_proxy(url).unwrap_err();
            assert_eq!(
                err.to_string(),
                "unusable proxy URL: the port is not a number from 1 to 65535; expected http[s]://[user:password@]host:port"
            );
            assert!(!format!("{err:?}").contains("secret"));
        }
        let err = parse_proxy("https://u:secret@pro xy:1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unusable proxy URL: not a URI; expected http[s]://[user:password@]host:port"
        );
        assert!(!format!("{err:?}").contains("secret"));
    }

    #[test]
    fn debug_never_shows_proxy_credentials() {
        let b = HyperTransport::builder().proxy("https://alice:s3cret@proxy.example:8443/x");
        let shown = format!("{b:?}");
        assert!(
            shown.contains(r#"proxy: Some("https://proxy.example:8443/x")"#),
            "{shown}"
        );
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        let t = b.build().unwrap();
        let shown = format!("{t:?}");
        assert!(
            shown.contains(r#"proxy: Some("https://proxy.example:8443")"#),
            "{shown}"
        );
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        assert_eq!(without_userinfo("http://a:b@h"), "http://h");
        assert_eq!(without_userinfo("a:b@h:1?x@y"), "h:1?x@y");
        assert_eq!(without_userinfo("https://h:1"), "https://h:1");
    }

    const CA_PEM: &[u8] = include_bytes!("../tests/data/ca.pem");
    const SERVER_PEM: &[u8] = include_bytes!("../tests/data/server.pem");
    const SERVER_KEY: &[u8] = include_bytes!("../tests/data/server.key");

    #[test]
    fn root_certificates_pem_bundles_der_and_bad_input() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;

        let mut store = rustls::RootCertStore::empty();
        add_roots(&mut store, CA_PEM, 1).unwrap();
        assert_eq!(store.len(), 1);
        // A bundle: every CERTIFICATE section; a private key section is skipped.
        let mut bundle = CA_PEM.to_vec();
        bundle.extend_from_slice(SERVER_KEY);
        bundle.extend_from_slice(b"\n");
        bundle.extend_from_slice(SERVER_PEM);
        let mut store = rustls::RootCertStore::empty();
        add_roots(&mut store, &bundle, 1).unwrap();
        assert_eq!(store.len(), 2);
        let der = CertificateDer::from_pem_slice(CA_PEM).unwrap();
        let mut store = rustls::RootCertStore::empty();
        add_roots(&mut store, &der, 1).unwrap();
        assert_eq!(store.len(), 1);

        let message = |input: &[u8]| {
            let mut store = rustls::RootCertStore::empty();
            let err = add_roots(&mut store, input, 3).unwrap_err();
            assert!(err.is_invalid_request());
            assert!(store.is_empty());
            err.to_string()
        };
        let tail = "; expected PEM certificates or one DER certificate";
        assert_eq!(
            message(b" \n"),
            format!(
                "unusable root certificate (add_root_certificate call 3): the input is empty{tail}"
            )
        );
        assert_eq!(
            message(SERVER_KEY),
            format!(
                "unusable root certificate (add_root_certificate call 3): the PEM text holds no CERTIFICATE section{tail}"
            )
        );
        let truncated = &CA_PEM[..CA_PEM.len() - 30];
        assert_eq!(
            message(truncated),
            format!(
                "unusable root certificate (add_root_certificate call 3): PEM section 1 is malformed{tail}"
            )
        );
        let mut second_bad = CA_PEM.to_vec();
        second_bad
            .extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let err = message(&second_bad);
        assert!(
            err.starts_with("unusable root certificate (add_root_certificate call 3): certificate 2 of 2 in the PEM text cannot be a trust anchor: "),
            "{err}"
        );
        let err = message(b"not a certificate");
        assert!(
            err.starts_with("unusable root certificate (add_root_certificate call 3): the input (not PEM, so read as DER) cannot be a trust anchor: "),
            "{err}"
        );
        assert!(err.ends_with(tail), "{err}");

        // Through the builder: the second call is named, with the cause in source().
        let err = HyperTransport::builder()
            .add_root_certificate(CA_PEM)
            .add_root_certificate(b"\x30\x03\x02\x01\x01")
            .build()
            .unwrap_err();
        assert!(err.is_invalid_request() && !err.is_connect(), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("unusable root certificate (add_root_certificate call 2): "),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_some());
        let ok = HyperTransport::builder()
            .add_root_certificate(CA_PEM)
            .add_root_certificate(&der)
            .build()
            .unwrap();
        assert!(format!("{ok:?}").contains("added_roots: 2"));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(input.as_bytes()), expected);
        }
    }

    #[test]
    fn describe_leaves_out_the_query() {
        let uri: Uri = "https://openapi.alipay.com/gateway.do?sign=secret"
            .parse()
            .unwrap();
        assert_eq!(
            describe(&http::Method::POST, &uri),
            "POST https://openapi.alipay.com/gateway.do"
        );
    }
}

#[cfg(test)]
mod loopback_tests {
    //! Against servers on 127.0.0.1: origins (hyper, plain and TLS) and CONNECT proxies (tokio,
    //! plain and TLS-terminating, with the test certificates of `tests/data`).

    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Full};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use crate::{HttpTransport, HyperTransport};

    /// The origin's service: `/echo` returns the method, the query and the body; `/slow` waits
    /// 2 s; `/big` returns 100 kB.
    async fn echo(
        req: http::Request<hyper::body::Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Infallible> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let out = match parts.uri.path() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Bytes::from_static(b"late")
            }
            "/big" => Bytes::from(vec![b'x'; 100_000]),
            _ => Bytes::from(format!(
                "{} {} {}",
                parts.method,
                parts.uri.query().unwrap_or_default(),
                String::from_utf8_lossy(&body)
            )),
        };
        Ok(http::Response::builder()
            .status(201)
            .header("x-test", "1")
            .body(Full::new(out))
            .unwrap())
    }

    /// An origin (plain HTTP) with the [`echo`] service.
    async fn origin() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            hyper_util::rt::TokioIo::new(stream),
                            hyper::service::service_fn(echo),
                        )
                        .await;
                });
            }
        });
        addr
    }

    const CA_PEM: &[u8] = include_bytes!("../tests/data/ca.pem");
    const SERVER_PEM: &[u8] = include_bytes!("../tests/data/server.pem");
    const SERVER_KEY: &[u8] = include_bytes!("../tests/data/server.key");

    /// Terminates TLS with the test server certificate (`IP:127.0.0.1`, signed by the test CA).
    fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_slice_iter(SERVER_PEM)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    /// An HTTPS origin with the [`echo`] service.
    async fn tls_origin() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tls_acceptor();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            hyper_util::rt::TokioIo::new(stream),
                            hyper::service::service_fn(echo),
                        )
                        .await;
                });
            }
        });
        addr
    }

    /// The targets of the tunnels a proxy opened, in order.
    type Tunnels = Arc<Mutex<Vec<String>>>;

    /// Serves one proxy connection: reads the `CONNECT` head (at most 8 KiB), requires
    /// `Proxy-Authorization: Basic dTpw` (`u:p`), connects to the target, records it, and relays.
    async fn serve_connect<S>(mut client: S, tunnels: Tunnels)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            if client.read_exact(&mut byte).await.is_err() {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head
            .strip_prefix("CONNECT ")
            .and_then(|r| r.split(' ').next())
            .unwrap_or_default()
            .to_owned();
        if !head
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic dtpw")
        {
            let _ = client
                .write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n",
                )
                .await;
            return;
        }
        let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
            return;
        };
        tunnels.lock().unwrap().push(target);
        let _ = client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }

    /// A plain CONNECT proxy (see [`serve_connect`]).
    async fn proxy() -> (SocketAddr, Tunnels) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Tunnels::default();
        let record = tunnels.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve_connect(client, record.clone()));
            }
        });
        (addr, tunnels)
    }

    /// A TLS-terminating CONNECT proxy (the test server certificate); counts the TLS handshakes
    /// that failed (the client refusing the certificate) or succeeded.
    async fn tls_proxy() -> (SocketAddr, Tunnels, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Tunnels::default();
        let record = tunnels.clone();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let count = handshakes.clone();
        let acceptor = tls_acceptor();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, record, count) = (acceptor.clone(), record.clone(), count.clone());
                tokio::spawn(async move {
                    let Ok(Ok(client)) =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(client)).await
                    else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    serve_connect(client, record).await;
                });
            }
        });
        (addr, tunnels, handshakes)
    }

    /// A body that yields each chunk after its pause; a `None` chunk is an error (hyper then
    /// aborts the connection).
    struct Paced {
        chunks: std::collections::VecDeque<(Duration, Option<&'static [u8]>)>,
        sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }

    impl hyper::body::Body for Paced {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
            use std::future::Future as _;
            use std::task::Poll;
            let this = self.get_mut();
            let Some(&(pause, chunk)) = this.chunks.front() else {
                return Poll::Ready(None);
            };
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
            this.chunks.pop_front();
            Poll::Ready(Some(match chunk {
                Some(chunk) => Ok(hyper::body::Frame::data(Bytes::from_static(chunk))),
                None => Err(std::io::Error::other("the origin gave up")),
            }))
        }
    }

    /// An origin with paced, chunked bodies: `/chunked` sends `alpha`, `beta`, `gamma` 30 ms
    /// apart; `/stall` sends `first`, then `late` 5 s later; `/broken` sends `part` and then
    /// breaks the connection.
    async fn paced_origin() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |req: http::Request<hyper::body::Incoming>| async move {
                            let ms = Duration::from_millis;
                            let chunks = match req.uri().path() {
                                "/chunked" => vec![
                                    (ms(30), Some(&b"alpha"[..])),
                                    (ms(30), Some(b"beta")),
                                    (ms(30), Some(b"gamma")),
                                ],
                                "/stall" => {
                                    vec![(ms(0), Some(&b"first"[..])), (ms(5000), Some(b"late"))]
                                }
                                _ => vec![(ms(0), Some(&b"part"[..])), (ms(50), None)],
                            };
                            let body = Paced {
                                chunks: chunks.into(),
                                sleep: None,
                            };
                            Ok::<_, Infallible>(
                                http::Response::builder()
                                    .status(200)
                                    .header("x-test", "paced")
                                    .body(body)
                                    .unwrap(),
                            )
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }

    fn get(url: String) -> http::Request<Bytes> {
        http::Request::get(url).body(Bytes::new()).unwrap()
    }

    #[tokio::test]
    async fn streaming_yields_the_chunks_as_they_arrive() {
        let addr = paced_origin().await;
        let t = HyperTransport::builder()
            .timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let response = t
            .send_streaming(get(format!("http://{addr}/chunked?token=secret")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-test"], "paced");
        assert_eq!(response.headers()["transfer-encoding"], "chunked");
        let mut body = response.into_body();
        let mut chunks = Vec::new();
        while let Some(chunk) = body.next_chunk().await {
            chunks.push(String::from_utf8(chunk.unwrap().to_vec()).unwrap());
        }
        // Three chunks, one per frame the origin sent (each 30 ms apart, so none coalesce).
        assert_eq!(chunks, ["alpha", "beta", "gamma"]);
        assert!(started.elapsed() >= Duration::from_millis(90));
        assert!(body.next_chunk().await.is_none());

        // The same origin through `send`: the whole body at once.
        let whole = t.send(get(format!("http://{addr}/chunked"))).await.unwrap();
        assert_eq!(whole.body().as_ref(), b"alphabetagamma");
    }

    #[tokio::test]
    async fn streaming_idle_timeout_broken_bodies_and_no_size_limit() {
        let addr = paced_origin().await;
        let t = HyperTransport::builder()
            .idle_timeout(Duration::from_millis(200))
            .max_response_bytes(4)
            .build()
            .unwrap();
        let mut body = t
            .send_streaming(get(format!("http://{addr}/stall?token=secret")))
            .await
            .unwrap()
            .into_body();
        // `first` is 5 bytes, more than `max_response_bytes`: streaming is not limited.
        assert_eq!(body.next_chunk().await.unwrap().unwrap().as_ref(), b"first");
        let started = std::time::Instant::now();
        let err = body.next_chunk().await.unwrap().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(
            err.to_string(),
            format!("no data of the response to GET http://{addr}/stall for 200 ms after 5 bytes")
        );
        assert!(body.next_chunk().await.is_none());

        let mut body = t
            .send_streaming(get(format!("http://{addr}/broken")))
            .await
            .unwrap()
            .into_body();
        assert_eq!(body.next_chunk().await.unwrap().unwrap().as_ref(), b"part");
        let err = body.next_chunk().await.unwrap().unwrap_err();
        assert!(err.is_body(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("the body of the response to GET http://{addr}/broken broke off after 4 bytes")
        );
        assert!(std::error::Error::source(&err).is_some());

        // The head timeout, a refused connection and a relative URI, as for `send`.
        let slow = origin().await;
        let t = HyperTransport::builder()
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let err = t
            .send_streaming(post(format!("http://{slow}/slow?sign=x"), ""))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("no response to POST http://{slow}/slow within 200 ms")
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let err = t
            .send_streaming(get(format!("http://{closed_addr}/")))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        let err = t
            .send_streaming(get("/relative".to_owned()))
            .await
            .unwrap_err();
        assert!(err.is_invalid_request());
    }

    fn post(url: String, body: &'static str) -> http::Request<Bytes> {
        http::Request::post(url)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[tokio::test]
    async fn round_trip_status_headers_and_body() {
        let addr = origin().await;
        let t = HyperTransport::new().unwrap();
        let r = t
            .send(post(format!("http://{addr}/echo?a=1"), "b=2"))
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-test"], "1");
        assert_eq!(r.body().as_ref(), b"POST a=1 b=2");
        // The pooled connection is reused for a second request.
        let r = t
            .send(post(format!("http://{addr}/echo"), ""))
            .await
            .unwrap();
        assert_eq!(r.body().as_ref(), b"POST  ");
    }

    #[tokio::test]
    async fn total_timeout_connect_failure_size_limit_and_bad_uri() {
        let addr = origin().await;
        let t = HyperTransport::builder()
            .timeout(Duration::from_millis(200))
            .max_response_bytes(1000)
            .build()
            .unwrap();
        let err = t
            .send(post(format!("http://{addr}/slow"), ""))
            .await
            .unwrap_err();
        assert!(err.is_timeout() && !err.is_connect(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("no complete response to POST http://{addr}/slow within 200 ms")
        );
        let err = t
            .send(post(format!("http://{addr}/big"), ""))
            .await
            .unwrap_err();
        assert!(err.is_too_large(), "{err:?}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let err = t
            .send(post(format!("http://{closed_addr}/"), ""))
            .await
            .unwrap_err();
        assert!(
            err.is_connect() && err.is_not_sent() && !err.is_timeout(),
            "{err:?}"
        );
        assert!(std::error::Error::source(&err).is_some());

        let err = t.send(post("/relative".to_owned(), "")).await.unwrap_err();
        assert!(err.is_invalid_request());
    }

    #[tokio::test]
    async fn a_portless_http_target_is_tunnelled_to_port_80() {
        // A proxy that records the CONNECT line and refuses the tunnel.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                client.read_exact(&mut byte).await.unwrap();
                head.push(byte[0]);
            }
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
            String::from_utf8_lossy(&head).into_owned()
        });
        let t = HyperTransport::builder()
            .proxy(format!("http://{addr}"))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let err = t
            .send(post("http://localhost/x".to_owned(), ""))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        let head = tokio::time::timeout(Duration::from_secs(5), seen)
            .await
            .unwrap()
            .unwrap();
        assert!(
            head.starts_with("CONNECT localhost:80 HTTP/1.1\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn requests_go_through_the_connect_proxy() {
        let origin = origin().await;
        let (proxy, tunnels) = proxy().await;
        let t = HyperTransport::builder()
            .proxy(format!("http://u:p@{proxy}"))
            .build()
            .unwrap();
        assert!(format!("{t:?}").contains(&format!("http://{proxy}")));
        assert!(!format!("{t:?}").contains("u:p"));
        let r = t
            .send(post(format!("http://{origin}/echo?via=proxy"), "x"))
            .await
            .unwrap();
        assert_eq!(r.body().as_ref(), b"POST via=proxy x");
        assert_eq!(*tunnels.lock().unwrap(), [origin.to_string()]);

        // Wrong credentials: the tunnel is refused, which is a connect error.
        let t = HyperTransport::builder()
            .proxy(format!("http://u:wrong@{proxy}"))
            .build()
            .unwrap();
        let err = t
            .send(post(format!("http://{origin}/echo"), ""))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert_eq!(tunnels.lock().unwrap().len(), 1);
    }

    /// A transport through the proxy at `url` (10 s timeout), trusting the test CA when `ca`.
    fn through(url: String, ca: bool) -> HyperTransport {
        let builder = HyperTransport::builder()
            .timeout(Duration::from_secs(10))
            .proxy(url);
        let builder = if ca {
            builder.add_root_certificate(CA_PEM)
        } else {
            builder
        };
        builder.build().unwrap()
    }

    /// The `Display` texts of an error and its causes.
    fn chain(err: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![err.to_string()];
        let mut next = err.source();
        while let Some(e) = next
            && out.len() < 32
        {
            out.push(e.to_string());
            next = e.source();
        }
        out
    }

    #[tokio::test]
    async fn https_proxy_with_the_added_root_tunnels_to_http_and_https_origins() {
        let plain = origin().await;
        let secure = tls_origin().await;
        let (proxy, tunnels, handshakes) = tls_proxy().await;
        let t = through(format!("https://u:p@{proxy}"), true);
        let shown = format!("{t:?}");
        assert!(
            shown.contains(&format!("proxy: Some(\"https://{proxy}\")")),
            "{shown}"
        );
        assert!(shown.contains("added_roots: 1"), "{shown}");
        assert!(!shown.contains("u:p"), "{shown}");

        // An http:// origin: TLS to the proxy, CONNECT inside it, plain HTTP in the tunnel.
        let r = t
            .send(post(format!("http://{plain}/echo?via=tls-proxy"), "x"))
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.body().as_ref(), b"POST via=tls-proxy x");
        assert_eq!(*tunnels.lock().unwrap(), [plain.to_string()]);
        assert_eq!(handshakes.load(Ordering::SeqCst), 1);

        // An https:// origin: TLS to the origin inside the TLS session with the proxy.
        let r = t
            .send(post(format!("https://{secure}/echo?via=tls-proxy"), "y"))
            .await
            .unwrap();
        assert_eq!(r.body().as_ref(), b"POST via=tls-proxy y");
        // The pooled connection (and its tunnel) is reused for a second request.
        let r = t
            .send(post(format!("https://{secure}/echo?again=1"), ""))
            .await
            .unwrap();
        assert_eq!(r.body().as_ref(), b"POST again=1 ");
        assert_eq!(
            *tunnels.lock().unwrap(),
            [plain.to_string(), secure.to_string()]
        );
        assert_eq!(handshakes.load(Ordering::SeqCst), 2);

        // Streaming goes the same way.
        let mut body = t
            .send_streaming(get(format!("https://{secure}/echo?s=1")))
            .await
            .unwrap()
            .into_body();
        assert_eq!(
            body.next_chunk().await.unwrap().unwrap().as_ref(),
            b"GET s=1 "
        );
    }

    #[tokio::test]
    async fn https_proxy_fails_closed_without_the_root_and_refuses_wrong_credentials() {
        let plain = origin().await;
        let secure = tls_origin().await;
        let (proxy, tunnels, handshakes) = tls_proxy().await;

        // The proxy's certificate is not signed by a webpki root: the TLS handshake with the
        // proxy fails, so nothing (not even the CONNECT with its credentials) is sent.
        let t = through(format!("https://u:p@{proxy}"), false);
        for url in [
            format!("http://{plain}/echo"),
            format!("https://{secure}/echo"),
        ] {
            let err = t.send(post(url, "")).await.unwrap_err();
            assert!(
                err.is_connect() && err.is_not_sent() && !err.is_timeout(),
                "{err:?}"
            );
            let causes = chain(&err);
            assert!(
                causes
                    .iter()
                    .any(|c| c.contains("invalid peer certificate: UnknownIssuer")),
                "{causes:?}"
            );
            assert!(!causes.iter().any(|c| c.contains("u:p")), "{causes:?}");
        }
        assert!(tunnels.lock().unwrap().is_empty());
        assert_eq!(handshakes.load(Ordering::SeqCst), 0);

        // The right CA, wrong credentials: the proxy answers 407, a connect error.
        let t = through(format!("https://u:wrong@{proxy}"), true);
        let err = t
            .send(post(format!("https://{secure}/echo"), ""))
            .await
            .unwrap_err();
        assert!(err.is_connect() && err.is_not_sent(), "{err:?}");
        assert!(!chain(&err).iter().any(|c| c.contains("wrong")));
        // No credentials at all: refused the same way.
        let t = through(format!("https://{proxy}"), true);
        let err = t
            .send(post(format!("http://{plain}/echo"), ""))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(tunnels.lock().unwrap().is_empty());
        assert_eq!(handshakes.load(Ordering::SeqCst), 2);

        // An https:// proxy URL pointing at a plain-HTTP server: it answers the TLS hello with
        // an HTTP error, which is no TLS; a connect error.
        let t = through(format!("https://u:p@{plain}"), true);
        let err = t
            .send(post(format!("http://{plain}/echo"), ""))
            .await
            .unwrap_err();
        assert!(err.is_connect() && !err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn added_roots_are_trusted_for_https_origins_too() {
        let secure = tls_origin().await;
        let without = HyperTransport::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let err = without
            .send(get(format!("https://{secure}/echo")))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(
            chain(&err)
                .iter()
                .any(|c| c.contains("invalid peer certificate: UnknownIssuer")),
            "{err:?}"
        );

        // The CA as DER works as well as PEM.
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let der = CertificateDer::from_pem_slice(CA_PEM).unwrap();
        let with = HyperTransport::builder()
            .timeout(Duration::from_secs(10))
            .add_root_certificate(&der)
            .build()
            .unwrap();
        let r = with
            .send(get(format!("https://{secure}/echo?q=1")))
            .await
            .unwrap();
        assert_eq!(r.body().as_ref(), b"GET q=1 ");
    }
}
