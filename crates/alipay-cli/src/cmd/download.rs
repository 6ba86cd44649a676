//! A streaming `GET` to a file, for bill ZIPs: the body goes to disk as it arrives (a bill can
//! be larger than any sensible in-memory limit), with a progress callback per chunk.
//!
//! The client's transport reads whole bodies, so this uses the same stack directly: hyper 1,
//! hyper-util's client, rustls with aws-lc-rs and the webpki roots (server certificates always
//! verified). The file is written next to its destination as `<name>.part` and renamed once
//! complete, so a failed download never leaves a truncated ZIP under the final name.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait for the response head, and then between two chunks of the body.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;
/// A bill is never this large; a body that goes on past it is not a bill.
const MAX_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// Why a download failed. Messages name the host and path, never the query (bill URLs carry
/// a short-lived token).
#[derive(Debug)]
pub(crate) enum DownloadError {
    /// No usable HTTP answer (connect, TLS, status, timeout, truncated body).
    Transport(String),
    /// The file could not be written.
    Io(String),
}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownloadError::Transport(m) | DownloadError::Io(m) => f.write_str(m),
        }
    }
}

/// `GET url` into `out`; `progress(done, total)` after each chunk (`total` from
/// Content-Length, when sent). Returns the number of bytes written.
pub(crate) async fn to_file(
    url: &str,
    out: &Path,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<u64, DownloadError> {
    let client = http_client()?;
    let mut uri: http::Uri = url
        .parse()
        .map_err(|e| DownloadError::Transport(format!("the download URL is not a URL: {e}")))?;
    let mut redirects = 0;
    let response = loop {
        let shown = shown(&uri);
        let request = http::Request::get(uri.clone())
            .header(
                http::header::USER_AGENT,
                concat!("alipay-cli/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| DownloadError::Transport(format!("cannot request {shown}: {e}")))?;
        let response = tokio::time::timeout(IDLE_TIMEOUT, client.request(request))
            .await
            .map_err(|_| {
                DownloadError::Transport(format!(
                    "no answer from {shown} within {} s",
                    IDLE_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| {
                DownloadError::Transport(format!(
                    "GET {shown} failed: {}",
                    crate::error::describe(&e)
                ))
            })?;
        let status = response.status();
        if status.is_redirection() && redirects < MAX_REDIRECTS {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    DownloadError::Transport(format!(
                        "GET {shown} answered HTTP {} without a Location",
                        status.as_u16()
                    ))
                })?;
            uri = resolve(&uri, location).ok_or_else(|| {
                DownloadError::Transport(format!("GET {shown} redirected to an unusable Location"))
            })?;
            redirects += 1;
            continue;
        }
        if status != http::StatusCode::OK {
            return Err(DownloadError::Transport(format!(
                "GET {shown} answered HTTP {}; expected 200 with the bill (the URL is valid for about 30 s)",
                status.as_u16()
            )));
        }
        break response;
    };
    let shown = shown(&uri);
    let total = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());

    let part = part_path(out);
    let file = std::fs::File::create(&part)
        .map_err(|e| DownloadError::Io(format!("cannot create {}: {e}", part.display())))?;
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
    let result = async {
        let mut body = response.into_body();
        let mut done: u64 = 0;
        progress(0, total);
        loop {
            let frame = tokio::time::timeout(IDLE_TIMEOUT, body.frame())
                .await
                .map_err(|_| {
                    DownloadError::Transport(format!(
                        "GET {shown}: no data for {} s after {done} bytes",
                        IDLE_TIMEOUT.as_secs()
                    ))
                })?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| {
                DownloadError::Transport(format!(
                    "GET {shown}: the body broke off after {done} bytes: {}",
                    crate::error::describe(&e)
                ))
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            done = done.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
            if done > MAX_BYTES {
                return Err(DownloadError::Transport(format!(
                    "GET {shown}: the body is larger than {MAX_BYTES} bytes; not a bill"
                )));
            }
            writer
                .write_all(&data)
                .map_err(|e| DownloadError::Io(format!("cannot write {}: {e}", part.display())))?;
            progress(done, total);
        }
        if let Some(expected) = total
            && expected != done
        {
            return Err(DownloadError::Transport(format!(
                "GET {shown}: {done} bytes received, Content-Length said {expected}"
            )));
        }
        writer
            .flush()
            .map_err(|e| DownloadError::Io(format!("cannot write {}: {e}", part.display())))?;
        Ok(done)
    }
    .await;
    match result {
        Ok(done) => {
            drop(writer);
            std::fs::rename(&part, out).map_err(|e| {
                DownloadError::Io(format!(
                    "cannot rename {} to {}: {e}",
                    part.display(),
                    out.display()
                ))
            })?;
            Ok(done)
        }
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

fn http_client() -> Result<HttpsClient, DownloadError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DownloadError::Transport(format!("cannot configure TLS: {e}")))?
        .with_webpki_roots()
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .build(https))
}

/// `scheme://host/path`, without the query.
fn shown(uri: &http::Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map(|a| a.as_str()).unwrap_or_default(),
        uri.path()
    )
}

/// A `Location` header against the URL that sent it: absolute, or absolute-path.
fn resolve(base: &http::Uri, location: &str) -> Option<http::Uri> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.parse().ok();
    }
    if location.starts_with('/') {
        let scheme = base.scheme_str()?;
        let authority = base.authority()?;
        return format!("{scheme}://{authority}{location}").parse().ok();
    }
    None
}

/// `bill.zip` → `bill.zip.part`, in the same folder (so the rename stays on one file system).
fn part_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    out.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        let base: http::Uri = "https://dl.example:8443/a/b?token=secret".parse().unwrap();
        assert_eq!(shown(&base), "https://dl.example:8443/a/b");
        assert_eq!(
            resolve(&base, "/c?d=1").unwrap().to_string(),
            "https://dl.example:8443/c?d=1"
        );
        assert_eq!(
            resolve(&base, "http://other/x").unwrap().to_string(),
            "http://other/x"
        );
        assert!(resolve(&base, "relative").is_none());
        assert_eq!(
            part_path(Path::new("/tmp/x/bill.zip")),
            PathBuf::from("/tmp/x/bill.zip.part")
        );
    }
}
