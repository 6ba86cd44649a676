//! JSON lines, as `alipay bill parse --format jsonl` prints them (feature `serde`).
//!
//! One object per row with `"table"` first (`detail`, `summary` or `account`) and the row's fields
//! in column order (amounts as strings like `"-0.01"`, times as `"2019-09-16 10:55:16"`, extra
//! columns under `"extra"`); then one `{"table":"footer", …}` object per table with the entry name,
//! the table kind, the header, the footer totals and the result of the check.

use std::io::{Read, Write};

use serde::Serialize;

use crate::error::Error;
use crate::footer::{BillHeader, Check, Footer};
use crate::reader::TableReader;
use crate::rows::{Row, TableKind};

#[derive(Serialize)]
struct FooterLine<'a> {
    table: &'static str,
    entry: &'a str,
    kind: TableKind,
    header: &'a BillHeader,
    #[serde(flatten)]
    footer: &'a Footer,
    check: &'a Check,
}

/// Writes `row` as one JSON line (with the trailing `\n`).
///
/// # Errors
/// On I/O errors of `out`.
pub fn write_row<W: Write>(out: &mut W, row: &Row) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, row).map_err(|e| Error::io(e.into()))?;
    out.write_all(b"\n").map_err(Error::io)
}

/// Writes the `{"table":"footer", …}` line of a table.
///
/// # Errors
/// On I/O errors of `out`.
pub fn write_footer<W: Write>(
    out: &mut W,
    entry: &str,
    kind: TableKind,
    header: &BillHeader,
    footer: &Footer,
    check: &Check,
) -> Result<(), Error> {
    let line = FooterLine {
        table: "footer",
        entry,
        kind,
        header,
        footer,
        check,
    };
    serde_json::to_writer(&mut *out, &line).map_err(|e| Error::io(e.into()))?;
    out.write_all(b"\n").map_err(Error::io)
}

/// Streams the rest of `table` to `out` as JSON lines, then its footer line; returns the check.
///
/// ```
/// # fn main() -> Result<(), alipay_bill::Error> {
/// let csv = "#支付宝业务明细查询\n#-----------------------------------------业务明细列表----------------------------------------\n支付宝交易号,业务类型,商家实收（元）\n2019091622001458860515315453\t,交易\t,0.01\n#-----------------------------------------业务明细列表结束------------------------------------\n#交易合计：1笔，商家实收共0.01元，商家优惠共0.00元\n#退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元\n";
/// let mut table = alipay_bill::TableReader::new(csv.as_bytes())?;
/// let mut out = Vec::new();
/// let check = alipay_bill::json::write_table(&mut table, &mut out)?;
/// assert!(check.is_ok());
/// let text = String::from_utf8(out).unwrap();
/// let first = text.lines().next().unwrap();
/// assert!(first.starts_with(r#"{"table":"detail","trade_no":"2019091622001458860515315453","#));
/// assert!(text.lines().nth(1).unwrap().starts_with(r#"{"table":"footer","#));
/// # Ok(()) }
/// ```
///
/// # Errors
/// The first read error, or an I/O error of `out`.
pub fn write_table<R: Read, W: Write>(
    table: &mut TableReader<R>,
    out: &mut W,
) -> Result<Check, Error> {
    while let Some(row) = table.read_row()? {
        write_row(out, &row)?;
    }
    let check = table.check();
    let footer = table.footer().cloned().unwrap_or_default();
    write_footer(
        out,
        table.name(),
        table.kind(),
        table.header(),
        &footer,
        &check,
    )?;
    Ok(check)
}
