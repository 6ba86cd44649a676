//! `alipay bill parse FILE [--format jsonl|csv] [--check]` and
//! `alipay bill download --config FILE --type trade|signcustomer --date D [--out FILE]`.

use std::io::{BufWriter, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use alipay_bill::{BillDate, Check, TableKind};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cmd::client::{self, Failure};

use crate::cli::BillFormat;
use crate::error::{CliError, describe};
use crate::output::Report;

/// Streams every table of a bill ZIP or CSV to stdout, as JSON lines or as UTF-8 CSV of the
/// detail rows. With `check`, a bill whose rows do not add up to its footers exits 1.
pub(crate) fn parse(file: &Path, format: BillFormat, check: bool) -> Result<Report, CliError> {
    let input = std::fs::File::open(file).map_err(|e| {
        CliError::new(format!(
            "cannot open the bill file {}: {e}; a bill ZIP or CSV was expected",
            file.display()
        ))
    })?;
    let name = file.file_name().map_or_else(
        || "bill.csv".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut checks: Vec<(String, Check)> = Vec::new();
    let mut header_written = false;
    let result = alipay_bill::read_tables(std::io::BufReader::new(input), &name, |table| {
        match format {
            BillFormat::Jsonl => {
                let c = alipay_bill::json::write_table(table, &mut out)?;
                checks.push((table.name().to_owned(), c));
            }
            BillFormat::Csv => {
                let is_detail = table.kind() == TableKind::Detail;
                if is_detail && !header_written {
                    let line = alipay_bill::csv_header(TableKind::Detail, &[]);
                    writeln!(out, "{line}")?;
                    header_written = true;
                }
                while let Some(row) = table.read_row()? {
                    if is_detail {
                        writeln!(out, "{}", alipay_bill::csv_record(&row, &[]))?;
                    }
                }
                checks.push((table.name().to_owned(), table.check()));
            }
        }
        Ok::<_, alipay_bill::Error>(())
    });
    out.flush()
        .map_err(|e| CliError::new(format!("cannot write to stdout: {e}")))?;
    drop(out);
    result.map_err(|e| {
        CliError::new(format!(
            "{}: {}; a bill ZIP or detail/summary CSV was expected",
            file.display(),
            describe(&e)
        ))
    })?;
    if checks.is_empty() {
        return Err(CliError::new(format!(
            "{}: no bill table found; a bill ZIP or detail/summary CSV was expected",
            file.display()
        )));
    }
    let report = Report::bytes(Vec::new());
    if check {
        let failed: Vec<String> = checks
            .iter()
            .filter(|(_, c)| !c.is_ok())
            .map(|(name, c)| format!("{name}: {c}"))
            .collect();
        if !failed.is_empty() {
            return Ok(report.failed(format!(
                "the rows do not add up to the footer totals: {}",
                failed.join("; ")
            )));
        }
    }
    Ok(report)
}

/// The bill types of `alipay.data.dataservice.bill.downloadurl.query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BillType {
    /// Trade bill: detail and per-store summary (业务明细).
    Trade,
    /// Account-flow bill (账务明细).
    Signcustomer,
}

impl BillType {
    fn as_str(self) -> &'static str {
        match self {
            BillType::Trade => "trade",
            BillType::Signcustomer => "signcustomer",
        }
    }
}

/// `alipay bill download --config FILE --type trade|signcustomer --date YYYY-MM-DD|YYYY-MM [--out FILE]`.
#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The client config (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The bill type.
    #[arg(long = "type", value_enum, value_name = "trade|signcustomer")]
    bill_type: BillType,
    /// A day (yyyy-MM-dd) or a month (yyyy-MM), in UTC+8.
    #[arg(long, value_name = "YYYY-MM-DD|YYYY-MM")]
    date: String,
    /// Where to save the ZIP (default: `alipay_bill_<type>_<date>.zip` in the current folder).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Queries the download URL (verified like any call), then streams the ZIP to `--out` through
/// the client's transport ([`alipay::Client::download_bill_to_file`]: `<out>.part`, renamed
/// once complete), with a progress bar when stderr is a terminal. Prints
/// `{"path", "bytes", "bill_type", "bill_date"}`.
pub(crate) fn download(args: &DownloadArgs) -> Result<Report, CliError> {
    client::finish(run_download(args))
}

fn run_download(args: &DownloadArgs) -> Result<Report, Failure> {
    let date: BillDate = args.date.parse().map_err(|_| {
        CliError::new(format!(
            "--date is \"{}\"; expected a day yyyy-MM-dd or a month yyyy-MM",
            args.date
        ))
    })?;
    let bill_type = args.bill_type.as_str();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("alipay_bill_{bill_type}_{date}.zip")));
    let runtime = client::runtime()?;
    let loaded = client::load(&args.config, None)?;

    let bar = progress_bar();
    bar.set_message("asking for the download URL");
    let mut started = false;
    let result = runtime.block_on(loaded.client.download_bill_to_file(
        bill_type,
        date,
        &out,
        |done, total| {
            if !started {
                bar.set_message(format!("{bill_type} bill {date}"));
                started = true;
            }
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(done);
        },
    ));
    drop(runtime);
    match result {
        Ok(saved) => {
            bar.finish_and_clear();
            Ok(Report::json(json!({
                "path": out.to_string_lossy(),
                "bytes": saved.bytes,
                "bill_type": bill_type,
                "bill_date": date.to_string(),
            })))
        }
        Err(e) => {
            bar.abandon();
            download_failure(&e, bill_type, date)
        }
    }
}

/// Exit codes of a failed download: the API error (exit 1) or an untrusted answer (exit 3) as
/// for any call; the file not writable (exit 2, `--out: …`); any other failure of the download
/// (exit 3).
fn download_failure(e: &alipay::Error, bill_type: &str, date: BillDate) -> Result<Report, Failure> {
    if e.is_io() {
        return Err(Failure::Usage(CliError::new(format!(
            "--out: {}",
            describe(e)
        ))));
    }
    if e.is_api() || e.is_signature() || e.is_config() || e.is_request() {
        return client::call_failure(e);
    }
    Err(Failure::Untrusted(format!(
        "downloading the {bill_type} bill of {date}: {}",
        describe(e)
    )))
}

/// A byte progress bar on stderr when it is a terminal; hidden otherwise (pipes, CI, tests).
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
