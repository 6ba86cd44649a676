//! The builder and the handle of a running emulator.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{AppCredentials, AppSpec, KeyMode};
use crate::clock::{Clock, SCALE_ONE, system_now_ms, system_time_ms};
use crate::control_client::ControlClient;
use crate::crypto::KeyPair;
use crate::error::Error;
use crate::state::{Config, Shared};
use crate::x509::Authority;

/// Configures and starts an [`Emulator`].
///
/// Defaults: `127.0.0.1`, a free port, real time (scale 1), one public-key-mode app with
/// generated keys, state in memory.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    host: IpAddr,
    port: u16,
    scale: Result<u64, String>,
    start_ms: Option<i64>,
    app: AppSpec,
    config: Config,
    state_dir: Option<PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            scale: Ok(SCALE_ONE),
            start_ms: None,
            app: AppSpec::new(),
            config: Config::default(),
            state_dir: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (default `127.0.0.1`).
    #[must_use]
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// The port (default 0: any free port).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How fast emulator time runs: `600.0` turns the 4-minute notification retry into 0.4 s;
    /// `0.0` stops the clock (only [`Emulator::advance`] moves it). Six decimals are kept.
    #[must_use]
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.scale = if scale.is_finite() && (0.0..=1e9).contains(&scale) {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked above: finite, in 0..=1e9, so the micro-units fit a u64"
            )]
            let micros = (scale * 1e6).round() as u64;
            Ok(micros)
        } else {
            Err(format!("time scale {scale} is not a number in 0..=1e9"))
        };
        self
    }

    /// The time scale as text (`"600"`, `"0.5"`), read exactly.
    #[must_use]
    pub fn time_scale_str(mut self, scale: &str) -> Self {
        self.scale = crate::clock::parse_scale(scale).ok_or_else(|| {
            format!("time scale \"{scale}\" is not a decimal number ≥ 0 with at most 6 decimals")
        });
        self
    }

    /// Emulator time at start (default: the system time).
    #[must_use]
    pub fn start_time(mut self, at: SystemTime) -> Self {
        self.start_ms = Some(system_time_ms(at));
        self
    }

    /// The default app (see [`Emulator::app`]).
    #[must_use]
    pub fn app(mut self, spec: AppSpec) -> Self {
        self.app = spec;
        self
    }

    /// Registers the default app in certificate mode (公钥证书模式).
    #[must_use]
    pub fn cert_mode(mut self, on: bool) -> Self {
        self.app.mode = if on {
            KeyMode::Certificate
        } else {
            KeyMode::PublicKey
        };
        self
    }

    /// Gives the default app a generated AES key.
    #[must_use]
    pub fn aes(mut self, on: bool) -> Self {
        self.app.generate_aes_key = on;
        self
    }

    /// Keeps keys, apps, trades, refunds and the notification queue in `dir/state.sqlite3`
    /// (SQLite; `dir` is created if needed, the file is readable by its owner only), written
    /// after every change, so that a new emulator on the same folder — in this process or
    /// another — continues where the last one stopped. A `state.json` from an earlier version is
    /// imported once.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// How long a `…0003` bar-code payment waits before it completes (default 5 s, emulator
    /// time).
    #[must_use]
    pub fn auto_pay_delay(mut self, delay: Duration) -> Self {
        self.config.auto_pay_delay_ms = millis(delay);
        self
    }

    /// How long a bill download URL stays valid (default 30 s, emulator time).
    #[must_use]
    pub fn bill_url_ttl(mut self, ttl: Duration) -> Self {
        self.config.bill_url_ttl_ms = millis(ttl);
        self
    }

    /// Refuses requests whose `timestamp` differs from emulator time by more than `skew`
    /// (default: any difference is accepted, since tests move the clock).
    #[must_use]
    pub fn max_clock_skew(mut self, skew: Duration) -> Self {
        self.config.max_clock_skew_ms = Some(millis(skew));
        self
    }

    /// How long one notification POST may take, real time (default 5 s).
    #[must_use]
    pub fn notify_timeout(mut self, timeout: Duration) -> Self {
        self.config.notify_timeout = timeout;
        self
    }

    /// The waits between notification attempts (default Alipay's 4m, 10m, 10m, 1h, 2h, 6h,
    /// 15h: eight attempts in all).
    #[must_use]
    pub fn notify_schedule(mut self, waits: &[Duration]) -> Self {
        self.config.notify_schedule_ms = waits.iter().map(|d| millis(*d)).collect();
        self
    }

    /// How long a paid trade stays refundable before it becomes `TRADE_FINISHED` (default 365
    /// days).
    #[must_use]
    pub fn refund_period(mut self, period: Duration) -> Self {
        self.config.refund_window_ms = millis(period);
        self
    }

    /// How long after creation `alipay.trade.cancel` is allowed (default 24 h).
    #[must_use]
    pub fn cancel_window(mut self, window: Duration) -> Self {
        self.config.cancel_window_ms = millis(window);
        self
    }

    /// Binds the port, registers (or reloads) the default app and starts serving on the
    /// current tokio runtime.
    pub async fn start(self) -> Result<Emulator, Error> {
        let scale = self.scale.map_err(Error::config)?;
        let (store, saved) = match &self.state_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
                let store = crate::store::Store::open(dir)?;
                let saved = store.read(dir)?;
                (Some(store), saved)
            }
            None => (None, None),
        };
        let origin = match (&saved, self.start_ms) {
            (_, Some(ms)) => ms,
            (Some(s), None) => s.clock_ms.max(system_now_ms()),
            (None, None) => system_now_ms(),
        };
        let clock = Clock::new(origin, scale);
        let (alipay_key, ca) = match &saved {
            Some(s) => {
                let key = KeyPair::from_private(alipay_sign::PrivateKey::from_pem_or_der(
                    s.alipay_key.as_bytes(),
                )?)?;
                let ca = s.ca.as_ref().map(Authority::restore).transpose()?;
                (key, ca)
            }
            None => (KeyPair::generate()?, None),
        };
        let listener = TcpListener::bind(SocketAddr::new(self.host, self.port))
            .await
            .map_err(|e| Error::io(format!("cannot listen on {}:{}", self.host, self.port), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the listening address", e))?;
        let url_host = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let base_url = format!("http://{}", SocketAddr::new(url_host, addr.port()));
        let shared = Arc::new(Shared::new(
            clock,
            self.config,
            base_url,
            alipay_key,
            ca,
            store,
        ));
        let mut default_app = None;
        if let Some(s) = saved {
            default_app = s.default_app().map(str::to_owned);
            shared.load(s)?;
        }
        let app = match default_app.as_deref().and_then(|id| shared.app(id)) {
            Some(app) => shared.credentials(&app),
            None => {
                let creds = shared.register(&self.app)?;
                shared.lock().default_app = Some(creds.app_id.clone());
                creds
            }
        };
        shared.persist_if_dirty()?;
        let (tx, rx) = watch::channel(false);
        let server = tokio::spawn(crate::server::serve(
            listener,
            Arc::clone(&shared),
            rx.clone(),
        ));
        let ticker = tokio::spawn(crate::notify::ticker(Arc::clone(&shared), rx));
        Ok(Emulator {
            shared,
            addr,
            app,
            shutdown: tx,
            tasks: vec![server, ticker],
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// A running emulator: an Alipay gateway (v2 and v3), a cashier, bill downloads and a control
/// API on one port.
///
/// Stops when dropped (open connections are cut) or, gracefully, with
/// [`Emulator::shutdown`].
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    app: AppCredentials,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("app_id", &self.app.app_id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with the defaults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with the defaults.
    pub async fn start() -> Result<Emulator, Error> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The v2 gateway: `<base>/gateway.do`.
    pub fn gateway_url(&self) -> String {
        format!("{}/gateway.do", self.shared.base_url)
    }

    /// The v3 endpoint, the base URL of the `/v3/...` paths.
    pub fn v3_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The control API: `<base>/control`.
    pub fn control_url(&self) -> String {
        format!("{}/control", self.shared.base_url)
    }

    /// The dashboard page: `<base>/dashboard`.
    pub fn dashboard_url(&self) -> String {
        format!("{}/dashboard", self.shared.base_url)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default app's credentials.
    pub fn app(&self) -> &AppCredentials {
        &self.app
    }

    /// A client of the control API.
    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.control_url())
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Registers another app.
    pub fn register_app(&self, spec: &AppSpec) -> Result<AppCredentials, Error> {
        let creds = self.shared.register(spec)?;
        self.shared.persist_if_dirty()?;
        Ok(creds)
    }

    /// The current credentials of an app (after an Alipay certificate rotation, the new
    /// certificate and key).
    pub fn credentials(&self, app_id: &str) -> Option<AppCredentials> {
        self.shared.app(app_id).map(|a| self.shared.credentials(&a))
    }

    /// Moves emulator time forward and runs what fell due (timeouts, automatic payments,
    /// notification retries), waiting for the deliveries.
    pub async fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
        crate::notify::run_due(&self.shared).await;
    }

    /// Stops accepting connections, lets open ones finish (at most 2 s), stops the clock task
    /// and writes the state.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        self.shared.persist_if_dirty()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
        let _ = self.shared.persist_if_dirty();
    }
}

/// Where [`AppCredentials::write_files`] put each file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialFiles {
    /// `app_private_key.pem` (PKCS#1), when the emulator generated the key.
    pub app_private_key: Option<PathBuf>,
    /// `alipay_public_key.pem` (SPKI).
    pub alipay_public_key: PathBuf,
    /// `app_cert.crt` (certificate mode).
    pub app_cert: Option<PathBuf>,
    /// `alipay_cert.crt`, leaf then intermediate (certificate mode).
    pub alipay_cert: Option<PathBuf>,
    /// `alipay_root_cert.crt` (certificate mode).
    pub alipay_root_cert: Option<PathBuf>,
}

impl AppCredentials {
    /// Writes the key and certificate files into `dir` (created if needed). The private key
    /// file is readable by its owner only (on Unix).
    pub fn write_files(&self, dir: &Path) -> Result<CredentialFiles, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        let write = |name: &str, text: &str, secret: bool| -> Result<PathBuf, Error> {
            let path = dir.join(name);
            std::fs::write(&path, text.as_bytes())
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            #[cfg(unix)]
            if secret {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::io(format!("cannot restrict {}", path.display()), e))?;
            }
            #[cfg(not(unix))]
            let _ = secret;
            Ok(path)
        };
        let opt = |name: &str, text: Option<&String>| -> Result<Option<PathBuf>, Error> {
            text.map(|t| write(name, t, false)).transpose()
        };
        Ok(CredentialFiles {
            app_private_key: self
                .app_private_key_pem
                .as_ref()
                .map(|k| write("app_private_key.pem", k, true))
                .transpose()?,
            alipay_public_key: write("alipay_public_key.pem", &self.alipay_public_key_pem, false)?,
            app_cert: opt("app_cert.crt", self.app_cert_pem.as_ref())?,
            alipay_cert: opt("alipay_cert.crt", self.alipay_cert_pem.as_ref())?,
            alipay_root_cert: opt("alipay_root_cert.crt", self.alipay_root_cert_pem.as_ref())?,
        })
    }
}
