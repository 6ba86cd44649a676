//! `alipay call METHOD --config FILE [--v3]`: any API method, its answer verified before it is
//! printed.
//!
//! v2: stdin is the `biz_content` object (`null`: none). v3: a method of the OpenAPI description
//! is routed by its generated route (`alipay.data.dataservice.bill.downloadurl.query` →
//! `GET /v3/alipay/data/dataservice/bill/downloadurl/query?…`): stdin holds its fields, which go to
//! the path, the query and the body as the route says. With `--http-method`, or for a method the
//! description does not know, the method becomes the path (`alipay.x.y` → `POST /v3/alipay/x/y`;
//! a METHOD starting with `/` is taken as the path); stdin is the JSON body, or for
//! `--http-method GET`/`DELETE` the query parameters as a JSON object. With `encrypt_key` in the config every call encrypts. `--notify-url` sets the
//! v2 `notify_url` parameter, or the v3 body's `notify_url` field.

use std::path::PathBuf;

use alipay::{Protocol, RequestOptions};
use clap::Args;
use serde_json::Value;

use crate::cmd::client::{self, Failure};
use crate::error::CliError;
use crate::output::Report;

/// `alipay call METHOD --config FILE [--v3] [--http-method M]`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The API method, e.g. alipay.trade.query (with --v3 also a path such as /v3/alipay/trade/query).
    #[arg(value_name = "METHOD")]
    method: String,
    /// The client config (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Call over v3 (/v3/… REST) even when the config says protocol = "v2".
    #[arg(long)]
    v3: bool,
    /// v3: the HTTP method (default: the operation's own, else POST), sent to the path made
    /// from METHOD. With GET or DELETE, stdin holds the query parameters as a JSON object.
    #[arg(long, value_name = "GET|POST|PUT|PATCH|DELETE", value_parser = ["GET", "POST", "PUT", "PATCH", "DELETE"], ignore_case = true)]
    http_method: Option<String>,
    /// notify_url for the asynchronous notifications of this call (v2: the protocol
    /// parameter; v3: a notify_url field added to the body).
    #[arg(long, value_name = "U")]
    notify_url: Option<String>,
}

/// The verified response node (exit 0), the API error (exit 1), or exit 3 when the answer cannot
/// be trusted.
pub(crate) fn call(args: &CallArgs) -> Result<Report, CliError> {
    client::finish(run(args))
}

fn run(args: &CallArgs) -> Result<Report, Failure> {
    let method = args.method.trim();
    if method.is_empty() {
        return Err(CliError::new(
            "METHOD is empty; expected an API method such as alipay.trade.query",
        )
        .into());
    }
    let runtime = client::runtime()?;
    let loaded = client::load(&args.config, None)?;
    let v3 = args.v3 || loaded.protocol == Protocol::V3;
    if args.http_method.is_some() && !v3 {
        return Err(CliError::new(
            "--http-method applies to v3 calls; add --v3 (v2 calls always POST to the gateway)",
        )
        .into());
    }
    if !v3 && method.starts_with('/') {
        return Err(CliError::new(format!(
            "METHOD \"{method}\" is a path; a v2 call takes a method name such as alipay.trade.query (or add --v3)"
        ))
        .into());
    }
    // The generated route of a known operation, unless --http-method asks for a plain call.
    let route = if v3 && args.http_method.is_none() && !method.starts_with('/') {
        alipay::model::v3_route(method)
    } else {
        None
    };
    let http_method = match (&args.http_method, route) {
        (Some(m), _) => m.to_ascii_uppercase(),
        (None, Some(route)) => route.method.as_str().to_owned(),
        (None, None) => "POST".to_owned(),
    };
    let query_params = matches!(http_method.as_str(), "GET" | "DELETE");
    let what = if !v3 {
        "the biz_content as a JSON object (or null for none)"
    } else if route.is_some() {
        "the request fields as a JSON object (or null for none)"
    } else if query_params {
        "the query parameters as a JSON object"
    } else {
        "the request body as a JSON object (or null for none)"
    };
    let mut input = client::stdin_json(what, !query_params || route.is_some())?;
    let mut options = RequestOptions::new();
    if let Some(url) = &args.notify_url {
        match (&mut input, v3 && !query_params) {
            (Value::Object(body), true) => {
                body.insert("notify_url".to_owned(), Value::String(url.clone()));
            }
            (_, true) => {
                let mut body = serde_json::Map::new();
                body.insert("notify_url".to_owned(), Value::String(url.clone()));
                input = Value::Object(body);
            }
            (_, false) if v3 => {
                return Err(CliError::new(
                    "--notify-url needs a request body; a v3 GET or DELETE has none",
                )
                .into());
            }
            (_, false) => options = options.notify_url(url.clone()),
        }
    }

    let client = loaded.client;
    let result = runtime.block_on(async {
        if route.is_some() {
            client.call_v3_method(method, &input, &options).await
        } else if v3 {
            let path = if method.starts_with('/') {
                method.to_owned()
            } else {
                format!("/v3/{}", method.replace('.', "/"))
            };
            let (query, body) = if query_params {
                (query_pairs(&input), None)
            } else if input.is_null() {
                (Vec::new(), None)
            } else {
                (Vec::new(), Some(&input))
            };
            client
                .call_v3(&http_method, &path, &query, body, &options)
                .await
        } else {
            client.call_with(method, &input, &options).await
        }
    });
    drop(runtime);
    match result {
        Ok(node) => Ok(Report::json(node)),
        Err(e) => client::call_failure(&e),
    }
}

/// A JSON object as query parameters: strings as they are, other values as JSON text, nulls
/// left out.
fn query_pairs(input: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = input else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k.clone(), s.clone())),
            other => Some((k.clone(), other.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_from_json() {
        let v = serde_json::json!({"bill_type": "trade", "n": 3, "x": null, "o": {"a": 1}});
        assert_eq!(
            query_pairs(&v),
            vec![
                ("bill_type".to_owned(), "trade".to_owned()),
                ("n".to_owned(), "3".to_owned()),
                ("o".to_owned(), "{\"a\":1}".to_owned()),
            ]
        );
        assert!(query_pairs(&Value::Null).is_empty());
    }
}
