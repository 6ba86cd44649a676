//! Alipay bill files (对账单), read as streams into typed, checked rows, and written in the exact
//! format Alipay serves.
//!
//! `alipay.data.dataservice.bill.downloadurl.query` returns a URL to a ZIP of GBK CSV files:
//! the trade detail (业务明细), its per-store summary (业务明细(汇总)), or for `signcustomer` bills
//! the account flow (账务明细). This crate turns such a ZIP, or one of its CSV files (GBK or UTF-8),
//! into rows with exact money and reconciles them with the footer totals, in flat memory whatever
//! the file size. It does no I/O of its own beyond the readers and writers it is given.
//!
//! # Overview
//! - [`BillArchive`] opens a bill ZIP (GBK entry names) and hands out a [`TableReader`] per entry;
//!   [`read_tables`] does the same for a ZIP or a single CSV, [`read_zip_stream`] for a ZIP arriving
//!   on a non-seekable stream (a download in progress).
//! - [`TableReader`] reads the `#` header ([`BillHeader`]: account, period), the header row (columns
//!   matched by name; extra columns kept), then yields [`Row`]s — [`DetailRow`], [`SummaryRow`],
//!   [`AccountRow`] — and reads the [`Footer`]; [`TableReader::check`] reports each [`Difference`]
//!   between the rows and the footer totals.
//! - [`Money`] is an exact signed amount in fen; [`BillDate`] a daily or monthly bill date.
//! - [`TableWriter`] and [`ZipWriter`] write the real format back (GBK, TABs, markers, footers);
//!   [`write_trade_zip`] makes a whole trade bill ZIP from rows (the 业务明细 entry and its
//!   业务明细(汇总) entry, derived by [`Summary`]); [`csv_header`] and [`csv_record`] render plain
//!   UTF-8 CSV.
//! - [`Error`] names the entry, line and column of a problem and what was expected.
//!
//! # Example
//! ```
//! use alipay_bill::{Row, TableReader};
//! # fn main() -> Result<(), alipay_bill::Error> {
//! let csv = "#支付宝业务明细查询\n\
//! #账号：[20880211096256330156]\n\
//! #起始日期：[2019年09月16日 00:00:00]   终止日期：[2019年09月17日 00:00:00]\n\
//! #-----------------------------------------业务明细列表----------------------------------------\n\
//! 支付宝交易号,商户订单号,业务类型,商品名称,商家实收（元）,订单金额（元）,退款批次号/请求号\n\
//! 2019091622001458860515315453\t,service_1568601259302\t,交易\t,下单测试,0.01,0.01,\t\n\
//! 2019091622001458860515315453\t,service_1568601259302\t,退款\t,下单测试,-0.01,-0.01,re_test_1568602607356\t\n\
//! #-----------------------------------------业务明细列表结束------------------------------------\n\
//! #交易合计：1笔，商家实收共0.01元，商家优惠共0.00元\n\
//! #退款合计：1笔，商家实收退款共-0.01元，商家优惠退款共0.00元\n\
//! #导出时间：[2019年09月17日 05:46:49]\n";
//! let (gbk, _, _) = encoding_rs::GBK.encode(csv); // Alipay serves GBK; UTF-8 works too
//! let mut table = TableReader::new(&gbk[..])?;
//! assert_eq!(table.header().account.as_deref(), Some("20880211096256330156"));
//! let mut refunds = Vec::new();
//! while let Some(row) = table.read_row()? {
//!     if let Row::Detail(d) = row {
//!         if d.received.is_negative() {
//!             refunds.push((d.refund_request_no, d.received.to_string()));
//!         }
//!     }
//! }
//! assert_eq!(refunds, [("re_test_1568602607356".to_owned(), "-0.01".to_owned())]);
//! assert!(table.check().is_ok(), "{}", table.check());
//! # Ok(()) }
//! ```
//!
//! # Features
//! - `serde` (default): `serde::Serialize` for rows, header, footer, checks and [`Money`] (as a
//!   string), and the [`json`] module that renders JSON lines as `alipay bill parse` prints them.
//!
//! The format, the tables and reconciliation recipes are described in `docs/bills.md`.

mod archive;
mod error;
mod footer;
#[cfg(feature = "serde")]
pub mod json;
mod lines;
mod money;
mod reader;
mod rows;
mod summary;
mod time;
mod writer;

pub use archive::{BillArchive, Entry, EntryReader, read_tables, read_zip_stream};
pub use error::Error;
pub use footer::{BillHeader, Check, Difference, Figure, FlowTotals, Footer, Totals, TradeTotals};
pub use lines::Encoding;
pub use money::{Money, ParseMoneyError};
pub use reader::TableReader;
pub use rows::{AccountRow, BusinessType, DetailRow, Row, SummaryRow, TableKind};
pub use summary::Summary;
pub use time::{BillDate, Period};
pub use writer::{
    TableWriter, TradeZipOptions, WriteOptions, ZipEntry, ZipWriter, csv_header, csv_record,
    write_trade_zip, write_trade_zip_with,
};

#[cfg(test)]
mod tests;
