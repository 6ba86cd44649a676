//! `alipay keys inspect` and `alipay keys check`.

use std::path::Path;

use serde_json::json;

use crate::error::CliError;
use crate::input;
use crate::output::Report;

/// `{"kind", "bits", "encoding", "count"}` of a key or certificate file.
pub(crate) fn inspect(file: &Path) -> Result<Report, CliError> {
    let bytes = input::read_file("FILE", file)?;
    let (_, info) = alipay_sign::load(&bytes)
        .map_err(|e| CliError::sign(&format!("FILE {}", file.display()), &e))?;
    Ok(Report::json(json!({
        "kind": info.kind.as_str(),
        "bits": info.bits,
        "encoding": info.encoding.as_str(),
        "count": info.count,
    })))
}

/// `{"pair": bool}`; exit 1 when the keys are not a pair.
pub(crate) fn check(
    private: &Path,
    public: Option<&Path>,
    cert: Option<&Path>,
) -> Result<Report, CliError> {
    let key = input::private_key("--private", private)?;
    let (public_key, what) = match (public, cert) {
        (Some(p), _) => (input::public_key("--public", p)?, "public key"),
        (None, Some(c)) => (input::certificate_key("--cert", c)?.0, "certificate"),
        (None, None) => {
            return Err(CliError::new(
                "one of --public FILE or --cert FILE is required",
            ));
        }
    };
    let pair = key.matches(&public_key);
    let report = Report::json(json!({ "pair": pair }));
    if pair {
        Ok(report)
    } else {
        Ok(report.failed(format!(
            "the {}-bit private key is not the pair of the {}-bit {what} (the moduli differ)",
            key.bits(),
            public_key.bits()
        )))
    }
}
