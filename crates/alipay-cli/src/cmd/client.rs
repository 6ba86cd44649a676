//! What the payment commands share: the TOML client config, the async runtime, and the
//! mapping of facade errors to exit codes (1 API error, 2 usage or config, 3 untrusted answer
//! or transport failure).

use std::path::Path;
use std::sync::Arc;

use alipay::config::ClientConfig;
use alipay::{Client, FixedClock, Protocol};
use serde_json::Value;

use crate::error::{CliError, describe};
use crate::output::Report;

/// The exit code of an answer that cannot be trusted (bad or missing signature, certificate
/// not chained to the root) or of a failed transport.
const EXIT_UNTRUSTED: i32 = 3;

/// Why a payment command did not produce its output.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Unusable arguments or config (exit 2).
    Usage(CliError),
    /// The answer cannot be trusted, or no usable answer came (exit 3); the reason goes to
    /// stderr.
    Untrusted(String),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Usage(e)
    }
}

/// Ends a command: a report or a usage error go back to `main`; an untrusted answer or a
/// transport failure ends the process with exit code 3 and its reason on stderr (the report
/// type knows only 0 and 1).
pub(crate) fn finish(result: Result<Report, Failure>) -> Result<Report, CliError> {
    match result {
        Ok(report) => Ok(report),
        Err(Failure::Usage(e)) => Err(e),
        Err(Failure::Untrusted(reason)) => {
            crate::output::error_line(&format!("error: {reason}"));
            std::process::exit(EXIT_UNTRUSTED)
        }
    }
}

/// A small runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
}

/// A loaded `--config FILE`: the client and the protocol the file asks for.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) client: Client,
    pub(crate) protocol: Protocol,
}

/// Reads `--config FILE` and builds the client; `timestamp` (`yyyy-MM-dd HH:mm:ss`, UTC+8)
/// pins the clock the client signs with.
pub(crate) fn load(path: &Path, timestamp: Option<&str>) -> Result<Loaded, CliError> {
    let config = ClientConfig::from_toml_file(path)
        .map_err(|e| CliError::new(format!("--config: {}", describe(&e))))?;
    let mut builder = config
        .builder()
        .map_err(|e| CliError::new(format!("--config {}: {}", path.display(), describe(&e))))?;
    if let Some(t) = timestamp {
        let clock = FixedClock::from_v2_timestamp(t)
            .map_err(|e| CliError::new(format!("--timestamp: {}", describe(&e))))?;
        builder = builder.clock(Arc::new(clock));
    }
    let client = builder
        .build()
        .map_err(|e| CliError::new(format!("--config {}: {}", path.display(), describe(&e))))?;
    let protocol = client.protocol();
    Ok(Loaded { client, protocol })
}

/// stdin as a JSON value: `what` names what was expected. `allow_null` accepts `null` (no
/// business content).
pub(crate) fn stdin_json(what: &str, allow_null: bool) -> Result<Value, CliError> {
    let text = crate::input::stdin_text(what)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::new(format!(
            "stdin is not JSON ({e}, line {} column {}); expected {what}",
            e.line(),
            e.column()
        ))
    })?;
    match &value {
        Value::Object(_) => Ok(value),
        Value::Null if allow_null => Ok(value),
        other => Err(CliError::new(format!(
            "stdin is a JSON {}; expected {what}",
            json_kind(other)
        ))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Maps a failed call: an API error is a report with exit 1 (its JSON on stdout, the message on
/// stderr); an untrusted answer, a transport failure or an answer that cannot be read is exit 3;
/// a config or request problem is exit 2.
pub(crate) fn call_failure(e: &alipay::Error) -> Result<Report, Failure> {
    if let Some(api) = e.api() {
        return Ok(Report::json(api.to_json()).failed(describe(e)));
    }
    if e.is_signature() {
        return Err(Failure::Untrusted(format!(
            "the answer cannot be trusted: {}",
            describe(e)
        )));
    }
    if e.is_transport() || e.is_decode() {
        return Err(Failure::Untrusted(describe(e)));
    }
    Err(Failure::Usage(CliError::new(describe(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kinds() {
        assert_eq!(json_kind(&Value::Null), "null");
        assert_eq!(json_kind(&serde_json::json!([1])), "array");
        assert_eq!(json_kind(&serde_json::json!("x")), "string");
    }
}
