//! `alipay page-pay` and `alipay app-pay`: the signed redirect payments of a client config —
//! the auto-submitting form (or URL) for the buyer's browser, the order string for the mobile
//! SDK. Nothing is sent.

use std::path::PathBuf;

use alipay::{PageMethod, RequestOptions};
use clap::Args;

use crate::cmd::client;
use crate::error::{CliError, describe};
use crate::output::Report;

/// `alipay page-pay --config FILE [--wap] [--get] [--timestamp T] [--notify-url U] [--return-url U]`.
#[derive(Debug, Args)]
pub(crate) struct PagePayArgs {
    /// The client config (TOML): app_id, keys, gateway, …
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// alipay.trade.wap.pay (mobile web) instead of alipay.trade.page.pay.
    #[arg(long)]
    wap: bool,
    /// Print the GET URL instead of the auto-submitting POST form.
    #[arg(long)]
    get: bool,
    /// Pins the timestamp parameter: yyyy-MM-dd HH:mm:ss in UTC+8.
    #[arg(long, value_name = "T")]
    timestamp: Option<String>,
    /// notify_url: where Alipay posts the asynchronous notification.
    #[arg(long, value_name = "U")]
    notify_url: Option<String>,
    /// return_url: where the cashier sends the buyer back.
    #[arg(long, value_name = "U")]
    return_url: Option<String>,
}

/// `alipay app-pay --config FILE [--timestamp T] [--notify-url U]`.
#[derive(Debug, Args)]
pub(crate) struct AppPayArgs {
    /// The client config (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Pins the timestamp parameter: yyyy-MM-dd HH:mm:ss in UTC+8.
    #[arg(long, value_name = "T")]
    timestamp: Option<String>,
    /// notify_url: where Alipay posts the asynchronous notification.
    #[arg(long, value_name = "U")]
    notify_url: Option<String>,
}

const BIZ: &str = "a biz_content JSON object, e.g. {\"out_trade_no\":\"T1\",\"total_amount\":\"88.88\",\"subject\":\"Coffee\",\"product_code\":\"FAST_INSTANT_TRADE_PAY\"}";

fn options(notify_url: Option<&str>, return_url: Option<&str>) -> RequestOptions {
    let mut options = RequestOptions::new();
    if let Some(u) = notify_url {
        options = options.notify_url(u);
    }
    if let Some(u) = return_url {
        options = options.return_url(u);
    }
    options
}

/// The form HTML (or with `--get` the URL), one trailing newline.
pub(crate) fn page_pay(args: &PagePayArgs) -> Result<Report, CliError> {
    let loaded = client::load(&args.config, args.timestamp.as_deref())?;
    let biz = client::stdin_json(BIZ, false)?;
    let method = if args.wap {
        "alipay.trade.wap.pay"
    } else {
        "alipay.trade.page.pay"
    };
    let page = if args.get {
        PageMethod::Get
    } else {
        PageMethod::Post
    };
    let options = options(args.notify_url.as_deref(), args.return_url.as_deref());
    let out = loaded
        .client
        .page_execute(method, &biz, &options, page)
        .map_err(|e| CliError::new(format!("cannot sign {method}: {}", describe(&e))))?;
    Ok(Report::line(out))
}

/// The order string, one line.
pub(crate) fn app_pay(args: &AppPayArgs) -> Result<Report, CliError> {
    let loaded = client::load(&args.config, args.timestamp.as_deref())?;
    let biz = client::stdin_json(BIZ, false)?;
    let options = options(args.notify_url.as_deref(), None);
    let out = loaded
        .client
        .sdk_execute("alipay.trade.app.pay", &biz, &options)
        .map_err(|e| {
            CliError::new(format!(
                "cannot sign alipay.trade.app.pay: {}",
                describe(&e)
            ))
        })?;
    Ok(Report::line(out))
}
