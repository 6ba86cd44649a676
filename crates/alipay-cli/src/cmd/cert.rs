//! `alipay cert sn`, `alipay cert root-sn` and `alipay cert verify-chain`.

use std::path::Path;
use std::time::SystemTime;

use jiff::Timestamp;
use serde_json::json;

use crate::error::CliError;
use crate::input;
use crate::output::Report;

/// The SN of the first certificate, one line.
pub(crate) fn sn(file: &Path) -> Result<Report, CliError> {
    let certs = input::certificates("FILE", file)?;
    let first = certs
        .first()
        .ok_or_else(|| CliError::new(format!("FILE {}: no certificate found", file.display())))?;
    Ok(Report::line(first.sn()))
}

/// The `alipay_root_cert_sn` of a root bundle, one line.
pub(crate) fn root_sn(file: &Path) -> Result<Report, CliError> {
    let certs = input::certificates("FILE", file)?;
    let sn = alipay_sign::root_cert_sn_of(&certs)
        .map_err(|e| CliError::sign(&format!("FILE {}", file.display()), &e))?;
    Ok(Report::line(sn))
}

/// `{"trusted": bool, "at": RFC3339}`; exit 1 when the chain is not trusted at that time.
pub(crate) fn verify_chain(root: &Path, at: Option<&str>, file: &Path) -> Result<Report, CliError> {
    let roots = input::certificates("--root", root)?;
    let chain = input::certificates("FILE", file)?;
    let (at_time, at_text) = match at {
        Some(text) => {
            let ts = parse_at(text)?;
            let time = SystemTime::try_from(ts).map_err(|e| {
                CliError::new(format!(
                    "--at {text}: {}; a time this system can represent was expected",
                    crate::error::describe(&e)
                ))
            })?;
            (time, ts.to_string())
        }
        None => {
            let now = crate::clock::system_now();
            let text = Timestamp::try_from(now).map_or_else(|_| String::new(), |t| t.to_string());
            (now, text)
        }
    };
    match alipay_sign::verify_chain(&chain, &roots, at_time) {
        Ok(()) => Ok(Report::json(json!({ "trusted": true, "at": at_text }))),
        Err(e) => Ok(Report::json(json!({ "trusted": false, "at": at_text }))
            .failed(format!("not trusted: {}", crate::error::describe(&e)))),
    }
}

/// RFC 3339 (`2027-01-01T00:00:00Z`, `2027-01-01T08:00:00+08:00`), or a bare date taken as
/// midnight UTC.
fn parse_at(text: &str) -> Result<Timestamp, CliError> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if t.len() == 10
        && let Ok(ts) = format!("{t}T00:00:00Z").parse::<Timestamp>()
    {
        return Ok(ts);
    }
    Err(CliError::new(format!(
        "--at \"{text}\" is not an RFC 3339 time; expected e.g. 2027-01-01T00:00:00Z"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_formats() {
        assert_eq!(
            parse_at("2027-01-01T08:00:00+08:00").unwrap().to_string(),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            parse_at("2019-12-01").unwrap().to_string(),
            "2019-12-01T00:00:00Z"
        );
        assert!(parse_at("yesterday").is_err());
        assert!(parse_at("2019-12-01T00:00:00").is_err());
    }
}
