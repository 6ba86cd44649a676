//! Apps registered with the emulator: their keys, mode and credentials.

use std::fmt;

use alipay_sign::{AesKey, PublicKey, RsaVerifier};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Error;

/// How an app and the emulator authenticate each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyMode {
    /// Public-key mode (公钥模式): the app signs with its private key, the emulator verifies with
    /// the registered app public key and answers signed with its Alipay key.
    #[default]
    PublicKey,
    /// Certificate mode (公钥证书模式): requests carry `app_cert_sn` and `alipay_root_cert_sn`,
    /// which must match the app certificate and the emulator's root; answers carry
    /// `alipay_cert_sn` and are signed with the current Alipay certificate's key.
    #[serde(rename = "cert")]
    Certificate,
}

/// An app to register: [`Emulator::register_app`](crate::Emulator::register_app), or the
/// default app of [`EmulatorBuilder`](crate::EmulatorBuilder).
///
/// Without a public key or certificate, the emulator generates a key pair and returns the
/// private key in the [`AppCredentials`].
///
/// ```
/// use alipay_emulator::{AppSpec, KeyMode};
/// let spec = AppSpec::new().app_id("2021000000000001").mode(KeyMode::Certificate).with_aes_key();
/// assert_eq!(spec.app_id.as_deref(), Some("2021000000000001"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct AppSpec {
    /// The app id; generated (`2021…`, 16 digits) when absent.
    pub app_id: Option<String>,
    /// Public-key or certificate mode.
    pub mode: KeyMode,
    /// The app public key (SPKI or PKCS#1, PEM or base64) instead of a generated pair.
    pub public_key: Option<String>,
    /// The app certificate (certificate mode) instead of one issued by the emulator.
    pub app_cert: Option<String>,
    /// The AES content-encryption key (base64).
    pub aes_key: Option<String>,
    /// Generate an AES-128 key when `aes_key` is absent.
    pub generate_aes_key: bool,
    /// The merchant name shown on the cashier page.
    pub name: Option<String>,
}

impl AppSpec {
    /// A public-key-mode app with generated keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the app id.
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Sets the key mode.
    #[must_use]
    pub fn mode(mut self, mode: KeyMode) -> Self {
        self.mode = mode;
        self
    }

    /// Uses this app public key instead of generating a key pair.
    #[must_use]
    pub fn public_key(mut self, pem: impl Into<String>) -> Self {
        self.public_key = Some(pem.into());
        self
    }

    /// Uses this app certificate (certificate mode).
    #[must_use]
    pub fn app_cert(mut self, pem: impl Into<String>) -> Self {
        self.app_cert = Some(pem.into());
        self.mode = KeyMode::Certificate;
        self
    }

    /// Sets the AES key (base64).
    #[must_use]
    pub fn aes_key(mut self, key_b64: impl Into<String>) -> Self {
        self.aes_key = Some(key_b64.into());
        self
    }

    /// Generates an AES-128 key for the app.
    #[must_use]
    pub fn with_aes_key(mut self) -> Self {
        self.generate_aes_key = true;
        self
    }

    /// Sets the merchant name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl fmt::Debug for AppSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSpec")
            .field("app_id", &self.app_id)
            .field("mode", &self.mode)
            .field("public_key", &self.public_key.is_some())
            .field("app_cert", &self.app_cert.is_some())
            .field(
                "aes_key",
                &(self.aes_key.is_some() || self.generate_aes_key),
            )
            .field("name", &self.name)
            .finish()
    }
}

/// Everything a client needs to talk to the emulator as one app.
///
/// `Debug` never shows the private key or the AES key.
#[derive(Clone)]
#[non_exhaustive]
pub struct AppCredentials {
    /// `app_id`.
    pub app_id: String,
    /// The merchant's user id (`seller_id`, `2088…`).
    pub seller_id: String,
    /// The key mode.
    pub mode: KeyMode,
    /// The app private key, PKCS#1 PEM, when the emulator generated it.
    pub app_private_key_pem: Option<Zeroizing<String>>,
    /// The app public key, SPKI PEM.
    pub app_public_key_pem: String,
    /// The Alipay public key, SPKI PEM: the emulator's key in public-key mode; the current
    /// Alipay certificate's key in certificate mode.
    pub alipay_public_key_pem: String,
    /// Certificate mode: the app certificate, PEM.
    pub app_cert_pem: Option<String>,
    /// Certificate mode: `app_cert_sn`.
    pub app_cert_sn: Option<String>,
    /// Certificate mode: the Alipay certificate chain (leaf, then intermediate), PEM.
    pub alipay_cert_pem: Option<String>,
    /// Certificate mode: `alipay_cert_sn` of the current Alipay certificate.
    pub alipay_cert_sn: Option<String>,
    /// Certificate mode: the Alipay root bundle, PEM.
    pub alipay_root_cert_pem: Option<String>,
    /// Certificate mode: `alipay_root_cert_sn`.
    pub alipay_root_cert_sn: Option<String>,
    /// The AES key (base64), when the app has one.
    pub aes_key: Option<Zeroizing<String>>,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("seller_id", &self.seller_id)
            .field("mode", &self.mode)
            .field(
                "app_private_key_pem",
                &self.app_private_key_pem.as_ref().map(|_| "…"),
            )
            .field("app_cert_sn", &self.app_cert_sn)
            .field("alipay_cert_sn", &self.alipay_cert_sn)
            .field("alipay_root_cert_sn", &self.alipay_root_cert_sn)
            .field("aes_key", &self.aes_key.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// An app as the gateway sees it.
pub(crate) struct App {
    pub(crate) app_id: String,
    pub(crate) seller_id: String,
    pub(crate) name: String,
    pub(crate) mode: KeyMode,
    pub(crate) public_key: PublicKey,
    pub(crate) verifier: RsaVerifier,
    pub(crate) app_cert_pem: Option<String>,
    pub(crate) app_cert_sn: Option<String>,
    pub(crate) aes: Option<AesKey>,
    pub(crate) aes_b64: Option<Zeroizing<String>>,
    pub(crate) private_pem: Option<Zeroizing<String>>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("app_id", &self.app_id)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl App {
    pub(crate) fn new(saved: &SavedApp) -> Result<Self, Error> {
        let public_key = PublicKey::from_pem_or_der(saved.public_key.as_bytes())?;
        let verifier = RsaVerifier::new(&public_key)?;
        let aes = match &saved.aes_key {
            Some(k) => Some(AesKey::from_base64(k)?),
            None => None,
        };
        let app_cert_sn = match &saved.app_cert {
            Some(pem) => {
                let sn = alipay_sign::cert_sn(pem.as_bytes())?;
                let cert_key = PublicKey::from_pem_or_der(pem.as_bytes())?;
                if cert_key != public_key {
                    return Err(Error::config(
                        "the app certificate does not hold the app public key",
                    ));
                }
                Some(sn)
            }
            None => None,
        };
        if saved.mode == KeyMode::Certificate && app_cert_sn.is_none() {
            return Err(Error::config(
                "a certificate-mode app needs an app certificate",
            ));
        }
        Ok(App {
            app_id: saved.app_id.clone(),
            seller_id: saved.seller_id.clone(),
            name: saved.name.clone(),
            mode: saved.mode,
            public_key,
            verifier,
            app_cert_pem: saved.app_cert.clone(),
            app_cert_sn,
            aes,
            aes_b64: saved.aes_key.clone().map(Zeroizing::new),
            private_pem: saved.private_key.clone().map(Zeroizing::new),
        })
    }

    pub(crate) fn save(&self) -> SavedApp {
        SavedApp {
            app_id: self.app_id.clone(),
            seller_id: self.seller_id.clone(),
            name: self.name.clone(),
            mode: self.mode,
            public_key: self.public_key.to_pem(),
            app_cert: self.app_cert_pem.clone(),
            aes_key: self.aes_b64.as_ref().map(|k| k.to_string()),
            private_key: self.private_pem.as_ref().map(|k| k.to_string()),
        }
    }
}

/// An app as `--state` stores it.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SavedApp {
    pub(crate) app_id: String,
    pub(crate) seller_id: String,
    pub(crate) name: String,
    pub(crate) mode: KeyMode,
    pub(crate) public_key: String,
    pub(crate) app_cert: Option<String>,
    pub(crate) aes_key: Option<String>,
    pub(crate) private_key: Option<String>,
}

impl fmt::Debug for SavedApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedApp")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// An `app_auth_token` an ISV app holds for a merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub(crate) app_id: String,
    pub(crate) auth_app_id: String,
    pub(crate) seller_id: String,
}
