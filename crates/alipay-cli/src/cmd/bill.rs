//! `alipay bill parse FILE [--format jsonl|csv] [--check]`.

use std::io::{BufWriter, Write as _};
use std::path::Path;

use alipay_bill::{Check, TableKind};

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
