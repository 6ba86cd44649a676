//! The shared state of one emulator: apps, trades, notifications, faults, keys, and its
//! persistence in `--state`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use alipay_sign::{Charset, SignType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::app::{App, AppCredentials, AppSpec, Grant, KeyMode, SavedApp};
use crate::clock::Clock;
use crate::crypto::{KeyPair, random_bytes, random_digits};
use crate::error::Error;
use crate::model::Trade;
use crate::x509::{Authority, SavedAuthority};

/// Emulator settings that are not state.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Emulator time after which a `…0003` bar-code payment completes by itself.
    pub(crate) auto_pay_delay_ms: i64,
    /// How long a bill download URL stays valid (emulator time).
    pub(crate) bill_url_ttl_ms: i64,
    /// How long after creation `alipay.trade.cancel` is allowed.
    pub(crate) cancel_window_ms: i64,
    /// How long after payment a trade stays refundable before it becomes `TRADE_FINISHED`.
    pub(crate) refund_window_ms: i64,
    /// The largest accepted difference between a request `timestamp` and emulator time.
    pub(crate) max_clock_skew_ms: Option<i64>,
    /// How long one notification POST may take (real time).
    pub(crate) notify_timeout: Duration,
    /// Waits between notification attempts (emulator time).
    pub(crate) notify_schedule_ms: Vec<i64>,
}

impl Default for Config {
    fn default() -> Self {
        const MIN: i64 = 60_000;
        Config {
            auto_pay_delay_ms: 5_000,
            bill_url_ttl_ms: 30_000,
            cancel_window_ms: 24 * 60 * MIN,
            refund_window_ms: 365 * 24 * 60 * MIN,
            max_clock_skew_ms: None,
            notify_timeout: Duration::from_secs(5),
            notify_schedule_ms: vec![
                4 * MIN,
                10 * MIN,
                10 * MIN,
                60 * MIN,
                120 * MIN,
                360 * MIN,
                900 * MIN,
            ],
        }
    }
}

/// What an injected fault does (the `kind` of `POST {control}/faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// `unknown_error`: `20000` `isp.unknow-error` (v3: HTTP 500 `unknow-error`).
    UnknownError,
    /// `system_error`: `40004` `ACQ.SYSTEM_ERROR` (v3: HTTP 500).
    SystemError,
    /// `business_error`: `40004` with the given `sub_code` and `sub_msg`.
    BusinessError,
    /// `delay`: the answer comes `delay_ms` late.
    Delay,
    /// `drop`: the connection is closed without an answer; for `notify`, the delivery is not
    /// sent (and retried on schedule).
    Drop,
    /// `duplicate` (`notify` only): the notification is delivered twice.
    Duplicate,
}

/// An injected fault: the next `remaining` calls of `method` fail this way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fault {
    pub(crate) method: String,
    pub(crate) kind: FaultKind,
    pub(crate) remaining: u32,
    pub(crate) delay_ms: u64,
    /// Run the call first, then fail (the change happened; the answer is lost or an error).
    pub(crate) after: bool,
    pub(crate) sub_code: Option<String>,
    pub(crate) sub_msg: Option<String>,
}

/// A trade notification waiting to be signed and queued.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) app_id: String,
    pub(crate) url: String,
    pub(crate) charset: Charset,
    pub(crate) sign_type: SignType,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) out_trade_no: String,
    pub(crate) trade_status: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Attempt {
    pub(crate) at_ms: i64,
    pub(crate) status: Option<u16>,
    pub(crate) response: String,
    pub(crate) outcome: String,
}

/// A notification and its delivery history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Notification {
    pub(crate) id: u64,
    pub(crate) notify_id: String,
    pub(crate) url: String,
    pub(crate) app_id: String,
    pub(crate) out_trade_no: String,
    pub(crate) trade_status: String,
    pub(crate) charset: String,
    pub(crate) content_type: String,
    pub(crate) body: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) next_at_ms: Option<i64>,
    pub(crate) delivered: bool,
    #[serde(skip)]
    pub(crate) in_flight: bool,
}

/// An OAuth authorization code waiting to be exchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OauthCode {
    pub(crate) app_id: String,
    pub(crate) user_id: String,
    pub(crate) open_id: String,
    pub(crate) expires_ms: i64,
}

/// An issued user access or refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserToken {
    pub(crate) app_id: String,
    pub(crate) user_id: String,
    pub(crate) open_id: String,
    pub(crate) refresh: bool,
    pub(crate) expires_ms: i64,
}

/// A bill download URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BillTicket {
    pub(crate) seller_id: String,
    pub(crate) bill_type: String,
    pub(crate) bill_date: String,
    pub(crate) expires_ms: i64,
}

/// Everything behind the one lock.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) apps: BTreeMap<String, Arc<App>>,
    pub(crate) grants: HashMap<String, Grant>,
    pub(crate) trades: Vec<Trade>,
    pub(crate) by_out: HashMap<(String, String), usize>,
    pub(crate) by_trade_no: HashMap<String, usize>,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) outbox: Vec<Draft>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) oauth_codes: HashMap<String, OauthCode>,
    pub(crate) user_tokens: HashMap<String, UserToken>,
    pub(crate) bills: HashMap<String, BillTicket>,
    pub(crate) settle_keys: HashMap<(String, String), String>,
    pub(crate) seq: u64,
    pub(crate) default_app: Option<String>,
    pub(crate) dirty: bool,
}

impl Inner {
    /// A new sequence number (trade numbers, notification ids).
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Adds a trade and indexes it.
    pub(crate) fn insert_trade(&mut self, trade: Trade) -> usize {
        let idx = self.trades.len();
        self.by_out
            .insert((trade.seller_id.clone(), trade.out_trade_no.clone()), idx);
        self.by_trade_no.insert(trade.trade_no.clone(), idx);
        self.trades.push(trade);
        self.dirty = true;
        idx
    }

    /// Finds a trade by `trade_no` (preferred) or `out_trade_no` within a merchant.
    pub(crate) fn find(
        &self,
        seller_id: &str,
        trade_no: Option<&str>,
        out_trade_no: Option<&str>,
    ) -> Option<usize> {
        if let Some(no) = trade_no {
            return self.by_trade_no.get(no).copied().filter(|i| {
                self.trades
                    .get(*i)
                    .is_some_and(|t| t.seller_id == seller_id)
            });
        }
        out_trade_no.and_then(|o| {
            self.by_out
                .get(&(seller_id.to_owned(), o.to_owned()))
                .copied()
        })
    }

    /// Finds a trade by `out_trade_no` or `trade_no` across merchants (the control API).
    pub(crate) fn find_any(&self, id: &str, app_id: Option<&str>) -> Option<usize> {
        if let Some(i) = self.by_trade_no.get(id) {
            return Some(*i);
        }
        self.trades
            .iter()
            .position(|t| t.out_trade_no == id && app_id.is_none_or(|a| t.app_id == a))
    }

    /// Takes one use of the first fault set for `method` (or `*`).
    pub(crate) fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let idx = self
            .faults
            .iter()
            .position(|f| f.method == method || (f.method == "*" && method != "notify"))?;
        let fault = self.faults.get_mut(idx)?;
        fault.remaining = fault.remaining.saturating_sub(1);
        let taken = fault.clone();
        if fault.remaining == 0 {
            self.faults.remove(idx);
        }
        Some(taken)
    }
}

/// What one emulator shares between its server, its clock task and its handle.
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) config: Config,
    pub(crate) base_url: String,
    pub(crate) alipay_key: KeyPair,
    pub(crate) ca: RwLock<Option<Authority>>,
    inner: Mutex<Inner>,
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) tick: tokio::sync::Mutex<()>,
    /// `--state` in SQLite (`crate::store`).
    store: Option<crate::store::Store>,
    errors: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The signature of an answer and the `alipay_cert_sn` to write beside it.
#[derive(Debug, Clone)]
pub(crate) struct AnswerSignature {
    pub(crate) sign: String,
    pub(crate) cert_sn: Option<String>,
}

impl Shared {
    pub(crate) fn new(
        clock: Clock,
        config: Config,
        base_url: String,
        alipay_key: KeyPair,
        ca: Option<Authority>,
        store: Option<crate::store::Store>,
    ) -> Self {
        Shared {
            clock,
            config,
            base_url,
            alipay_key,
            ca: RwLock::new(ca),
            inner: Mutex::new(Inner::default()),
            wake: tokio::sync::Notify::new(),
            tick: tokio::sync::Mutex::new(()),
            store,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Keeps an error that happened in the background (writing `--state`), for the control
    /// API's `GET status`. The last 20 are kept.
    pub(crate) fn note_error(&self, e: &Error) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        for _ in 0..4 {
            let Some(s) = source else { break };
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        errors.push(format!("{} {text}", self.clock.format_now()));
        let excess = errors.len().saturating_sub(20);
        errors.drain(..excess);
    }

    /// The background errors kept by [`Shared::note_error`].
    pub(crate) fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Locks the state. A poisoned lock (a panic while it was held) is taken over: the state
    /// is plain data and stays usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn app(&self, app_id: &str) -> Option<Arc<App>> {
        self.lock().apps.get(app_id).cloned()
    }

    /// Creates the certificate authority if certificate mode is used for the first time.
    pub(crate) fn ensure_ca(&self) -> Result<(), Error> {
        {
            let ca = self
                .ca
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if ca.is_some() {
                return Ok(());
            }
        }
        let authority = Authority::new(self.clock.now_ms())?;
        let mut ca = self
            .ca
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if ca.is_none() {
            *ca = Some(authority);
        }
        Ok(())
    }

    /// Signs `content` for an answer to `app`: with the emulator's Alipay key in public-key
    /// mode, with the current Alipay certificate's key (and its SN) in certificate mode.
    pub(crate) fn sign_answer(
        &self,
        mode: KeyMode,
        sign_type: SignType,
        content: &[u8],
    ) -> Result<AnswerSignature, Error> {
        if mode == KeyMode::Certificate {
            let ca = self
                .ca
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cert) = ca.as_ref().and_then(Authority::current) {
                return Ok(AnswerSignature {
                    sign: cert.key.sign_base64(sign_type, content)?,
                    cert_sn: Some(cert.sn.clone()),
                });
            }
        }
        Ok(AnswerSignature {
            sign: self.alipay_key.sign_base64(sign_type, content)?,
            cert_sn: None,
        })
    }

    /// The Alipay public key an app of `mode` verifies with, SPKI PEM.
    pub(crate) fn alipay_public_pem(&self, mode: KeyMode) -> String {
        if mode == KeyMode::Certificate {
            let ca = self
                .ca
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cert) = ca.as_ref().and_then(Authority::current) {
                return cert.key.public().to_pem();
            }
        }
        self.alipay_key.public().to_pem()
    }

    /// Registers an app.
    pub(crate) fn register(&self, spec: &AppSpec) -> Result<AppCredentials, Error> {
        let app_id = match &spec.app_id {
            Some(id) if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(Error::config(format!(
                    "app id \"{id}\" is not a string of digits"
                )));
            }
            Some(id) => id.clone(),
            None => format!("2021{}", random_digits(12)),
        };
        if self.lock().apps.contains_key(&app_id) {
            return Err(Error::config(format!("app {app_id} is already registered")));
        }
        let mut private_pem = None;
        let public_key = if let Some(pem_text) = &spec.public_key {
            alipay_sign::PublicKey::from_pem_or_der(pem_text.as_bytes())?
        } else if let Some(cert) = &spec.app_cert {
            alipay_sign::PublicKey::from_pem_or_der(cert.as_bytes())?
        } else {
            let pair = KeyPair::generate()?;
            private_pem = Some(pair.private().to_pkcs1_pem().to_string());
            pair.public().clone()
        };
        let app_cert = if spec.mode == KeyMode::Certificate {
            match &spec.app_cert {
                Some(c) => Some(c.clone()),
                None => {
                    self.ensure_ca()?;
                    let ca = self
                        .ca
                        .read()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let authority = ca
                        .as_ref()
                        .ok_or_else(|| Error::key("the certificate authority is missing"))?;
                    Some(
                        authority
                            .issue_app_cert(&app_id, &public_key, self.clock.now_ms())?
                            .0,
                    )
                }
            }
        } else {
            None
        };
        if spec.mode == KeyMode::Certificate {
            self.ensure_ca()?;
        }
        let aes_key = match (&spec.aes_key, spec.generate_aes_key) {
            (Some(k), _) => Some(k.clone()),
            (None, true) => Some(STANDARD.encode(random_bytes(16))),
            (None, false) => None,
        };
        let saved = SavedApp {
            app_id: app_id.clone(),
            seller_id: format!("2088{}", random_digits(12)),
            name: spec
                .name
                .clone()
                .unwrap_or_else(|| format!("Merchant {app_id}")),
            mode: spec.mode,
            public_key: public_key.to_pem(),
            app_cert,
            aes_key,
            private_key: private_pem,
        };
        let app = Arc::new(App::new(&saved)?);
        let creds = self.credentials(&app);
        let mut inner = self.lock();
        if inner.apps.contains_key(&app_id) {
            return Err(Error::config(format!("app {app_id} is already registered")));
        }
        inner.apps.insert(app_id, app);
        inner.dirty = true;
        Ok(creds)
    }

    /// The credentials of a registered app.
    pub(crate) fn credentials(&self, app: &App) -> AppCredentials {
        let (alipay_cert_pem, alipay_cert_sn, root_pem, root_sn) =
            if app.mode == KeyMode::Certificate {
                let ca = self
                    .ca
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match ca.as_ref() {
                    Some(a) => {
                        let current = a.current();
                        (
                            current.map(|c| a.alipay_chain_pem(c)),
                            current.map(|c| c.sn.clone()),
                            Some(a.root_bundle_pem()),
                            Some(a.root_sn().to_owned()),
                        )
                    }
                    None => (None, None, None, None),
                }
            } else {
                (None, None, None, None)
            };
        AppCredentials {
            app_id: app.app_id.clone(),
            seller_id: app.seller_id.clone(),
            mode: app.mode,
            app_private_key_pem: app.private_pem.clone(),
            app_public_key_pem: app.public_key.to_pem(),
            alipay_public_key_pem: self.alipay_public_pem(app.mode),
            app_cert_pem: app.app_cert_pem.clone(),
            app_cert_sn: app.app_cert_sn.clone(),
            alipay_cert_pem,
            alipay_cert_sn,
            alipay_root_cert_pem: root_pem,
            alipay_root_cert_sn: root_sn,
            aes_key: app.aes_b64.clone(),
        }
    }

    /// Writes the state to `--state` (SQLite, `crate::store`) when something changed since
    /// the last write.
    pub(crate) fn persist_if_dirty(&self) -> Result<(), Error> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let (generation, saved) = {
            let mut inner = self.lock();
            if !inner.dirty {
                return Ok(());
            }
            inner.dirty = false;
            (store.next_generation(), self.save(&inner))
        };
        store.write(generation, &saved)
    }

    fn save(&self, inner: &Inner) -> SavedState {
        let ca = self
            .ca
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        SavedState {
            version: STATE_VERSION,
            clock_ms: self.clock.now_ms(),
            alipay_key: self.alipay_key.private().to_pkcs1_pem().to_string(),
            ca: ca.as_ref().map(Authority::save),
            apps: inner.apps.values().map(|a| a.save()).collect(),
            grants: inner.grants.clone(),
            trades: inner.trades.clone(),
            notifications: inner.notifications.clone(),
            oauth_codes: inner.oauth_codes.clone(),
            user_tokens: inner.user_tokens.clone(),
            settle_keys: inner
                .settle_keys
                .iter()
                .map(|((s, r), t)| (s.clone(), r.clone(), t.clone()))
                .collect(),
            seq: inner.seq,
            default_app: inner.default_app.clone(),
        }
    }

    /// Loads apps, trades and notifications from a saved state into this (fresh) emulator.
    pub(crate) fn load(&self, saved: SavedState) -> Result<(), Error> {
        let mut apps = BTreeMap::new();
        for a in &saved.apps {
            apps.insert(a.app_id.clone(), Arc::new(App::new(a)?));
        }
        let mut inner = self.lock();
        inner.apps = apps;
        inner.grants = saved.grants;
        inner.oauth_codes = saved.oauth_codes;
        inner.user_tokens = saved.user_tokens;
        inner.settle_keys = saved
            .settle_keys
            .into_iter()
            .map(|(s, r, t)| ((s, r), t))
            .collect();
        inner.seq = saved.seq;
        inner.default_app = saved.default_app;
        for t in saved.trades {
            inner.insert_trade(t);
        }
        inner.notifications = saved.notifications;
        inner.dirty = false;
        Ok(())
    }
}

/// The JSON file in which earlier versions kept `--state` (imported into SQLite once).
pub(crate) const STATE_FILE: &str = "state.json";
pub(crate) const STATE_VERSION: u32 = 1;

/// The state as `--state` stores it.
#[derive(Serialize, Deserialize)]
pub(crate) struct SavedState {
    pub(crate) version: u32,
    pub(crate) clock_ms: i64,
    pub(crate) alipay_key: String,
    pub(crate) ca: Option<SavedAuthority>,
    pub(crate) apps: Vec<SavedApp>,
    pub(crate) grants: HashMap<String, Grant>,
    pub(crate) trades: Vec<Trade>,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) oauth_codes: HashMap<String, OauthCode>,
    pub(crate) user_tokens: HashMap<String, UserToken>,
    pub(crate) settle_keys: Vec<(String, String, String)>,
    pub(crate) seq: u64,
    pub(crate) default_app: Option<String>,
}

impl std::fmt::Debug for SavedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedState")
            .field("version", &self.version)
            .field("trades", &self.trades.len())
            .finish_non_exhaustive()
    }
}

impl SavedState {
    /// Reads `state.json` from `dir`, if there is one.
    pub(crate) fn read(dir: &std::path::Path) -> Result<Option<Self>, Error> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        let saved: SavedState = serde_json::from_str(&text).map_err(|e| {
            Error::state(format!(
                "{} is not a state this version can read",
                path.display()
            ))
            .with_source(e)
        })?;
        if saved.version != STATE_VERSION {
            return Err(Error::state(format!(
                "{} has state version {}; this emulator reads version {STATE_VERSION}",
                path.display(),
                saved.version
            )));
        }
        Ok(Some(saved))
    }

    /// The app registered first (the one `alipay emulator` prints).
    pub(crate) fn default_app(&self) -> Option<&str> {
        self.default_app.as_deref()
    }
}
