//! The TOML client configuration used by the `alipay` CLI (`--config FILE`).
//!
//! ```toml
//! app_id = "2021000000000001"
//! private_key = "keys/app_private.pem"
//! alipay_public_key = "keys/alipay_public.pem"   # or app_cert + alipay_cert + alipay_root_cert
//! gateway = "https://openapi.alipay.com/gateway.do"  # default
//! # v3_endpoint = "https://openapi.alipay.com"     # default: scheme, host and port of gateway
//! # encrypt_key = "aYA0GP8JEW+D7/UFaskCWA=="        # when set, every call encrypts
//! # sign_type = "RSA2"   # or RSA
//! # charset = "utf-8"    # or gbk
//! # protocol = "v2"      # or v3
//! ```
//!
//! Relative paths are relative to the configuration file's folder.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::{ClientBuilder, Environment, Protocol};
use crate::error::Error;
use crate::{Client, PRODUCTION_GATEWAY};

/// A client configuration read from TOML.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `app_id`.
    pub app_id: String,
    /// Path of the app private key.
    pub private_key: PathBuf,
    /// Path of the Alipay public key (public-key mode).
    #[serde(default)]
    pub alipay_public_key: Option<PathBuf>,
    /// Path of the app certificate (certificate mode).
    #[serde(default)]
    pub app_cert: Option<PathBuf>,
    /// Path of the Alipay certificate (certificate mode).
    #[serde(default)]
    pub alipay_cert: Option<PathBuf>,
    /// Path of the Alipay root bundle (certificate mode).
    #[serde(default)]
    pub alipay_root_cert: Option<PathBuf>,
    /// The v2 gateway URL (default production).
    #[serde(default)]
    pub gateway: Option<String>,
    /// The v3 base URL (default: scheme, host and port of `gateway`).
    #[serde(default)]
    pub v3_endpoint: Option<String>,
    /// AES key (base64); when set, every call encrypts.
    #[serde(default)]
    pub encrypt_key: Option<String>,
    /// `RSA2` (default) or `RSA`.
    #[serde(default)]
    pub sign_type: Option<String>,
    /// `utf-8` (default) or `gbk`.
    #[serde(default)]
    pub charset: Option<String>,
    /// `v2` (default) or `v3`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The folder relative paths are resolved against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key)
            .field("alipay_public_key", &self.alipay_public_key)
            .field("app_cert", &self.app_cert)
            .field("alipay_cert", &self.alipay_cert)
            .field("alipay_root_cert", &self.alipay_root_cert)
            .field("gateway", &self.gateway)
            .field("v3_endpoint", &self.v3_endpoint)
            .field(
                "encrypt_key",
                &self.encrypt_key.as_ref().map(|_| "<redacted>"),
            )
            .field("sign_type", &self.sign_type)
            .field("charset", &self.charset)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl ClientConfig {
    /// Reads a configuration file.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the client config {}: {e}",
                path.display()
            ))
            .with_source(e)
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml_str(&text, base)
            .map_err(|e| Error::config(format!("{}: {e}", path.display())).with_source(e))
    }

    /// Parses configuration text; relative paths will be resolved against `base_dir`.
    pub fn from_toml_str(text: &str, base_dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let mut config: ClientConfig = toml::from_str(text).map_err(|e| {
            Error::config(format!("invalid client config: {}", e.message().trim())).with_source(e)
        })?;
        config.base_dir = base_dir.into();
        Ok(config)
    }

    fn read(&self, path: &Path, what: &str) -> Result<Vec<u8>, Error> {
        let full = self.base_dir.join(path);
        std::fs::read(&full).map_err(|e| {
            Error::config(format!("cannot read the {what} {}: {e}", full.display())).with_source(e)
        })
    }

    /// A builder with everything the file says (keys read and parsed now; checked at `build`).
    pub fn builder(&self) -> Result<ClientBuilder, Error> {
        let mut b = Client::builder()
            .app_id(self.app_id.clone())
            .app_private_key(self.read(&self.private_key, "app private key")?);
        let certs = (&self.app_cert, &self.alipay_cert, &self.alipay_root_cert);
        b = match (&self.alipay_public_key, certs) {
            (Some(key), (None, None, None)) => {
                b.alipay_public_key(self.read(key, "Alipay public key")?)
            }
            (None, (Some(app), Some(alipay), Some(root))) => b.certificates(
                self.read(app, "app certificate")?,
                self.read(alipay, "Alipay certificate")?,
                self.read(root, "Alipay root certificate")?,
            ),
            (Some(_), _) => {
                return Err(Error::config(
                    "the client config sets both alipay_public_key and certificates; choose one mode",
                ));
            }
            (None, _) => {
                return Err(Error::config(
                    "the client config needs alipay_public_key, or all of app_cert, alipay_cert and alipay_root_cert",
                ));
            }
        };
        let gateway = self.gateway.as_deref().unwrap_or(PRODUCTION_GATEWAY);
        let env = match &self.v3_endpoint {
            Some(v3) => Environment::custom_with_v3(gateway, v3)?,
            None if self.gateway.is_none() => Environment::Production,
            None => Environment::custom(gateway)?,
        };
        b = b.environment(env);
        if let Some(key) = &self.encrypt_key {
            b = b.aes_key(key);
        }
        if let Some(s) = &self.sign_type {
            b = b.sign_type(s.parse().map_err(|e: alipay_sign::Error| {
                Error::config(format!("sign_type: {e}")).with_source(e)
            })?);
        }
        if let Some(c) = &self.charset {
            b = b.charset(
                alipay_sign::Charset::from_label(c)
                    .map_err(|e| Error::config(format!("charset: {e}")).with_source(e))?,
            );
        }
        if let Some(p) = &self.protocol {
            b = b.protocol(match p.to_ascii_lowercase().as_str() {
                "v2" => Protocol::V2,
                "v3" => Protocol::V3,
                other => {
                    return Err(Error::config(format!(
                        "protocol \"{other}\" is unknown; expected v2 or v3"
                    )));
                }
            });
        }
        Ok(b)
    }

    /// Builds the client.
    pub fn into_client(&self) -> Result<Client, Error> {
        self.builder()?.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_build() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let text = r#"
            app_id = "2021000000000001"
            private_key = "app_private_pkcs8.pem"
            alipay_public_key = "alipay_public.pem"
            gateway = "http://127.0.0.1:9/gateway.do"
            encrypt_key = "aYA0GP8JEW+D7/UFaskCWA=="
            protocol = "v3"
        "#;
        let config = ClientConfig::from_toml_str(text, data).unwrap();
        assert!(!format!("{config:?}").contains("aYA0"));
        let client = config.into_client().unwrap();
        assert_eq!(
            client.environment().gateway(),
            "http://127.0.0.1:9/gateway.do"
        );
        assert_eq!(client.environment().v3_endpoint(), "http://127.0.0.1:9");
        assert_eq!(client.protocol(), Protocol::V3);

        let err = ClientConfig::from_toml_str(
            "app_id = \"1\"\nprivate_key = \"k\"\nalipay_key = \"x\"",
            data,
        )
        .unwrap_err();
        assert!(err.is_config());
        assert!(
            err.to_string()
                .starts_with("invalid client config: unknown field `alipay_key`"),
            "{err}"
        );

        let text = "app_id = \"1\"\nprivate_key = \"alipay_public.pem\"\nalipay_public_key = \"alipay_public.pem\"";
        let err = ClientConfig::from_toml_str(text, data)
            .unwrap()
            .into_client()
            .unwrap_err();
        assert!(err.is_config());
        assert!(err.to_string().contains("found a public key"), "{err}");
    }
}
