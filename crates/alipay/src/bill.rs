//! Bills (对账单): download one with [`Client::download_bill`] or
//! [`Client::download_bill_to_file`], then read its tables as typed rows checked against their
//! footers. Everything of `alipay-bill` is re-exported here ([`TableReader`], [`DetailRow`],
//! [`BillDate`], [`Money`], …).
//!
//! A bill download is two steps: `alipay.data.dataservice.bill.downloadurl.query` returns a URL
//! that expires about 30 seconds after it is issued, and that URL serves the file (a ZIP of GBK
//! CSV tables, or one CSV). Both methods take the two steps at once, through the client's
//! transport: the download follows up to 5 redirects, each chunk must arrive within the
//! client's timeout, and a body shorter than its `Content-Length` is an error. The URL's query
//! carries a token: errors and logs show only its scheme, host and path.
//!
//! * [`Client::download_bill`] keeps the file in memory (at most [`MAX_BILL_BYTES_IN_MEMORY`],
//!   256 MiB) and returns a [`Bill`]: its [`tables`](Bill::tables), each opened as a streaming
//!   [`TableReader`], typed rows ([`Bill::detail_rows`], [`Bill::account_rows`]), and
//!   [`Bill::check`] of every table against its footer totals.
//! * [`Client::download_bill_to_file`] streams the file to disk with a progress callback, for
//!   bills of any size; read the saved file with [`read_tables`] or [`BillArchive`].
//!
//! ```no_run
//! # async fn demo(client: alipay::Client) -> Result<(), alipay::Error> {
//! use alipay::bill::BillType;
//!
//! let mut bill = client.download_bill(BillType::Trade, "2024-05-13".parse()?).await?;
//! for row in bill.detail_rows()? {
//!     let row = row?;
//!     println!("{} {} {}", row.out_trade_no, row.business_type.as_str(), row.received);
//! }
//! let check = bill.check()?;
//! assert!(check.is_ok(), "the bill does not add up: {check}");
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[doc(inline)]
pub use alipay_bill::*;
use alipay_transport::{BodyStream, TransportError};
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt as _;

use crate::client::Client;

/// The largest bill [`Client::download_bill`] keeps in memory: 256 MiB. A larger file is an
/// error with [`Error::is_too_large`](crate::Error::is_too_large); download it with
/// [`Client::download_bill_to_file`] instead.
pub const MAX_BILL_BYTES_IN_MEMORY: u64 = 256 * 1024 * 1024;

/// The largest file [`Client::download_bill_to_file`] writes: 8 GiB. A body that goes on past
/// it is not a bill (an error with [`Error::is_too_large`](crate::Error::is_too_large)).
pub const MAX_BILL_BYTES_ON_DISK: u64 = 8 * 1024 * 1024 * 1024;

/// Redirects a download follows at most.
const MAX_REDIRECTS: usize = 5;

/// The `bill_type` of `alipay.data.dataservice.bill.downloadurl.query`.
///
/// Converts from the API's strings, so `"trade"` works wherever a `BillType` is expected.
///
/// ```
/// use alipay::bill::BillType;
/// assert_eq!(BillType::from("trade"), BillType::Trade);
/// assert_eq!(BillType::Signcustomer.as_str(), "signcustomer");
/// let other: BillType = "trade_zft_merchant".parse().unwrap();
/// assert_eq!(other, BillType::Other("trade_zft_merchant".to_owned()));
/// assert_eq!(other.to_string(), "trade_zft_merchant");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BillType {
    /// `trade`: the acquiring bill, 业务明细 (detail) and 业务明细(汇总) (summary).
    Trade,
    /// `signcustomer`: the account-flow bill, 账务明细.
    Signcustomer,
    /// Any other `bill_type`, sent as it is.
    Other(String),
}

impl BillType {
    /// The `bill_type` value as sent.
    pub fn as_str(&self) -> &str {
        match self {
            BillType::Trade => "trade",
            BillType::Signcustomer => "signcustomer",
            BillType::Other(s) => s,
        }
    }
}

impl From<&str> for BillType {
    fn from(s: &str) -> Self {
        match s {
            "trade" => BillType::Trade,
            "signcustomer" => BillType::Signcustomer,
            other => BillType::Other(other.to_owned()),
        }
    }
}

impl From<String> for BillType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "trade" => BillType::Trade,
            "signcustomer" => BillType::Signcustomer,
            _ => BillType::Other(s),
        }
    }
}

impl From<&BillType> for BillType {
    fn from(t: &BillType) -> Self {
        t.clone()
    }
}

impl FromStr for BillType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(BillType::from(s))
    }
}

impl fmt::Display for BillType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table of a [`Bill`]: a CSV member of the ZIP, or the whole file when the bill is one CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillTable {
    /// The entry name (decoded from GBK), or for a bill that is one CSV
    /// `<bill_type>_<yyyyMMdd|yyyyMM>.csv`.
    pub name: String,
    /// The table: from the entry name's suffix in a ZIP, from the begin marker in a lone CSV.
    pub kind: Option<TableKind>,
    /// The uncompressed size in bytes, as the archive declares it.
    pub size: u64,
    /// The ZIP entry (`None` for a lone CSV).
    entry: Option<Entry>,
}

/// A downloaded bill, held in memory: a ZIP of tables, or one CSV table.
///
/// Tables are read as streams ([`open`](Self::open) inflates a ZIP member as it is read), so
/// only the downloaded file itself is in memory. One table is open at a time: the readers
/// borrow the bill mutably.
///
/// ```
/// use alipay::bill::{Bill, BillType, TableKind};
/// # fn main() -> Result<(), alipay::Error> {
/// let csv = "#支付宝业务明细查询\n\
/// #账号：[20880211096256330156]\n\
/// #起始日期：[2019年09月16日 00:00:00]   终止日期：[2019年09月17日 00:00:00]\n\
/// #-----------------------------------------业务明细列表----------------------------------------\n\
/// 支付宝交易号,商户订单号,业务类型,商品名称,商家实收（元）,订单金额（元）\n\
/// 2019091622001458860515315453\t,T1\t,交易\t,Tea,0.01,0.01\n\
/// #-----------------------------------------业务明细列表结束------------------------------------\n\
/// #交易合计：1笔，商家实收共0.01元，商家优惠共0.00元\n\
/// #退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元\n";
/// let mut bill = Bill::from_bytes(BillType::Trade, "2019-09-16".parse()?, csv.as_bytes().to_vec())?;
/// assert!(!bill.is_zip());
/// assert_eq!(bill.tables()[0].kind, Some(TableKind::Detail));
/// let rows: Vec<_> = bill.detail_rows()?.collect::<Result<_, _>>()?;
/// assert_eq!((rows[0].out_trade_no.as_str(), rows[0].received.to_string()), ("T1", "0.01".to_owned()));
/// assert!(bill.check()?.is_ok());
/// # Ok(()) }
/// ```
pub struct Bill {
    bill_type: BillType,
    date: BillDate,
    bytes: Bytes,
    archive: Option<BillArchive<Cursor<Bytes>>>,
    tables: Vec<BillTable>,
}

impl fmt::Debug for Bill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bill")
            .field("bill_type", &self.bill_type)
            .field("date", &self.date)
            .field("bytes", &self.bytes.len())
            .field("zip", &self.archive.is_some())
            .field("tables", &self.tables)
            .finish()
    }
}

/// `PK\x03\x04` (a local file header) or `PK\x05\x06` (an empty archive).
fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

impl Bill {
    /// A bill from the bytes of its file: a ZIP (detected by its signature) or one CSV table
    /// (GBK or UTF-8). Reads the ZIP's directory, or a CSV's header lines, to list the tables.
    ///
    /// # Errors
    /// [`Error::is_bill`](crate::Error::is_bill) when the bytes are neither a readable ZIP nor a
    /// bill CSV.
    pub fn from_bytes(
        bill_type: impl Into<BillType>,
        date: BillDate,
        bytes: impl Into<Bytes>,
    ) -> Result<Bill, crate::Error> {
        let bill_type = bill_type.into();
        let bytes = bytes.into();
        if is_zip(&bytes) {
            let archive = BillArchive::new(Cursor::new(bytes.clone())).map_err(|e| {
                crate::Error::bill(format!(
                    "the {bill_type} bill of {date} is not a readable ZIP"
                ))
                .with_source(e)
            })?;
            let tables = archive
                .entries()
                .iter()
                .filter(|e| e.name.to_ascii_lowercase().ends_with(".csv"))
                .map(|e| BillTable {
                    name: e.name.clone(),
                    kind: e.kind,
                    size: e.size,
                    entry: Some(e.clone()),
                })
                .collect();
            return Ok(Bill {
                bill_type,
                date,
                bytes,
                archive: Some(archive),
                tables,
            });
        }
        let name = format!("{bill_type}_{}.csv", date.compact());
        let kind = TableReader::with_name(&bytes[..], &name)
            .map_err(|e| {
                crate::Error::bill(format!(
                    "the {bill_type} bill of {date} is neither a ZIP nor a bill CSV"
                ))
                .with_source(e)
            })?
            .kind();
        let table = BillTable {
            name,
            kind: Some(kind),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            entry: None,
        };
        Ok(Bill {
            bill_type,
            date,
            bytes,
            archive: None,
            tables: vec![table],
        })
    }

    /// The bill type it was downloaded as.
    pub fn bill_type(&self) -> &BillType {
        &self.bill_type
    }

    /// The day or month it covers.
    pub fn date(&self) -> BillDate {
        self.date
    }

    /// Whether the file is a ZIP (otherwise it is one CSV table).
    pub fn is_zip(&self) -> bool {
        self.archive.is_some()
    }

    /// The file as downloaded, e.g. to save it.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The file as downloaded.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The tables, in file order: the `.csv` members of a ZIP (other members are left out), or
    /// the one table of a CSV bill.
    pub fn tables(&self) -> &[BillTable] {
        &self.tables
    }

    /// Starts reading `table` (one of [`tables`](Self::tables)): the reader has read its header
    /// and yields its rows, then its footer; see [`TableReader`].
    ///
    /// # Errors
    /// [`Error::is_bill`](crate::Error::is_bill) when the member cannot be opened or its header
    /// is malformed (the source names the entry and line).
    pub fn open(&mut self, table: &BillTable) -> Result<TableReader<TableData<'_>>, crate::Error> {
        let data = match (&mut self.archive, &table.entry) {
            (Some(archive), Some(entry)) => {
                TableData(Data::Zip(archive.entry_reader(entry).map_err(|e| {
                    crate::Error::bill(format!("cannot open {} in the bill", table.name))
                        .with_source(e)
                })?))
            }
            (None, None) => TableData(Data::Csv(Cursor::new(&self.bytes[..]))),
            _ => {
                return Err(crate::Error::request(format!(
                    "{} is not a table of this bill",
                    table.name
                )));
            }
        };
        TableReader::with_name(data, &table.name).map_err(|e| {
            crate::Error::bill(format!("cannot read {} of the bill", table.name)).with_source(e)
        })
    }

    /// Starts reading the first table of `kind`, if the bill has one.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_kind(
        &mut self,
        kind: TableKind,
    ) -> Result<Option<TableReader<TableData<'_>>>, crate::Error> {
        match self.tables.iter().find(|t| t.kind == Some(kind)).cloned() {
            Some(table) => self.open(&table).map(Some),
            None => Ok(None),
        }
    }

    /// The 业务明细 (trade detail) table, if the bill has one.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn detail(&mut self) -> Result<Option<TableReader<TableData<'_>>>, crate::Error> {
        self.open_kind(TableKind::Detail)
    }

    /// The 业务明细(汇总) (per-store summary) table, if the bill has one.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn summary(&mut self) -> Result<Option<TableReader<TableData<'_>>>, crate::Error> {
        self.open_kind(TableKind::Summary)
    }

    /// The 账务明细 (account flow, `signcustomer`) table, if the bill has one.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn account_flow(&mut self) -> Result<Option<TableReader<TableData<'_>>>, crate::Error> {
        self.open_kind(TableKind::Account)
    }

    fn rows_of<T>(
        &mut self,
        kind: TableKind,
        pick: fn(Row) -> Option<T>,
    ) -> Result<Rows<'_, T>, crate::Error> {
        let names: Vec<String> = self.tables.iter().map(|t| t.name.clone()).collect();
        let (bill_type, date) = (self.bill_type.clone(), self.date);
        match self.open_kind(kind)? {
            Some(table) => Ok(Rows { table, pick }),
            None => Err(crate::Error::bill(format!(
                "the {bill_type} bill of {date} has no {} table; its tables: {}",
                kind.list_name().trim_end_matches("列表"),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ))),
        }
    }

    /// The rows of the 业务明细 (trade detail) table, typed. After the last row,
    /// [`Rows::check`] compares them with the footer.
    ///
    /// # Errors
    /// [`Error::is_bill`](crate::Error::is_bill) when the bill has no detail table, or as
    /// [`open`](Self::open).
    pub fn detail_rows(&mut self) -> Result<Rows<'_, DetailRow>, crate::Error> {
        self.rows_of(TableKind::Detail, |row| match row {
            Row::Detail(d) => Some(d),
            _ => None,
        })
    }

    /// The rows of the 业务明细(汇总) (summary) table, typed.
    ///
    /// # Errors
    /// As [`detail_rows`](Self::detail_rows), for the summary table.
    pub fn summary_rows(&mut self) -> Result<Rows<'_, SummaryRow>, crate::Error> {
        self.rows_of(TableKind::Summary, |row| match row {
            Row::Summary(s) => Some(s),
            _ => None,
        })
    }

    /// The rows of the 账务明细 (account flow) table, typed.
    ///
    /// # Errors
    /// As [`detail_rows`](Self::detail_rows), for the account-flow table.
    pub fn account_rows(&mut self) -> Result<Rows<'_, AccountRow>, crate::Error> {
        self.rows_of(TableKind::Account, |row| match row {
            Row::Account(a) => Some(a),
            _ => None,
        })
    }

    /// Reads every table to its end and compares its rows with its footer totals (counts and
    /// amounts per business type; see [`TableReader::check`]).
    ///
    /// # Errors
    /// [`Error::is_bill`](crate::Error::is_bill) when a table cannot be read to its end (a
    /// malformed row, a missing footer); the source names the entry, line and column.
    pub fn check(&mut self) -> Result<BillCheck, crate::Error> {
        let tables = self.tables.clone();
        let mut checks = Vec::with_capacity(tables.len());
        for table in tables.iter().filter(|t| t.kind.is_some()) {
            let mut reader = self.open(table)?;
            reader.skip_to_end().map_err(|e| {
                crate::Error::bill(format!("cannot read {} of the bill", table.name)).with_source(e)
            })?;
            checks.push((table.name.clone(), reader.kind(), reader.check()));
        }
        Ok(BillCheck { tables: checks })
    }
}

/// The bytes of one table of a [`Bill`], inflated as they are read: what its
/// [`TableReader`]s read.
pub struct TableData<'a>(Data<'a>);

enum Data<'a> {
    Zip(EntryReader<'a, Cursor<Bytes>>),
    Csv(Cursor<&'a [u8]>),
}

impl Read for TableData<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Data::Zip(r) => r.read(buf),
            Data::Csv(r) => r.read(buf),
        }
    }
}

impl fmt::Debug for TableData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = match &self.0 {
            Data::Zip(_) => "zip",
            Data::Csv(_) => "csv",
        };
        f.debug_struct("TableData")
            .field("from", &from)
            .finish_non_exhaustive()
    }
}

/// The typed rows of one table of a [`Bill`] ([`DetailRow`], [`SummaryRow`] or
/// [`AccountRow`]). An iterator of `Result<T, alipay_bill::Error>`; an error names the entry,
/// line and column, and ends the iteration.
pub struct Rows<'a, T> {
    table: TableReader<TableData<'a>>,
    pick: fn(Row) -> Option<T>,
}

impl<'a, T> Rows<'a, T> {
    /// The table being read: its header, columns, footer and running totals.
    pub fn table(&self) -> &TableReader<TableData<'a>> {
        &self.table
    }

    /// Compares the rows read with the footer totals; before the last row, a
    /// [`Difference::NotFinished`].
    pub fn check(&self) -> Check {
        self.table.check()
    }

    /// The table reader itself.
    pub fn into_table(self) -> TableReader<TableData<'a>> {
        self.table
    }
}

impl<T> Iterator for Rows<'_, T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.table.read_row() {
                Ok(Some(row)) => {
                    // A table holds rows of its own kind only; anything else is skipped.
                    if let Some(row) = (self.pick)(row) {
                        return Some(Ok(row));
                    }
                }
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl<T> fmt::Debug for Rows<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// The result of [`Bill::check`]: each table against its footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillCheck {
    tables: Vec<(String, TableKind, Check)>,
}

impl BillCheck {
    /// Every table adds up to its footer. Fails closed: a bill without any table is not ok.
    pub fn is_ok(&self) -> bool {
        !self.tables.is_empty() && self.tables.iter().all(|(_, _, c)| c.is_ok())
    }

    /// Each table's name, kind and check, in file order.
    pub fn tables(&self) -> impl Iterator<Item = (&str, TableKind, &Check)> {
        self.tables.iter().map(|(n, k, c)| (n.as_str(), *k, c))
    }
}

impl fmt::Display for BillCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tables.is_empty() {
            return f.write_str("the bill has no table");
        }
        for (i, (name, _, check)) in self.tables.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{name}: {check}")?;
        }
        Ok(())
    }
}

/// What [`Client::download_bill_to_file`] saved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedBill {
    /// The file, as given.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A download under way: the `200` response's body, where it came from, its announced size.
struct Download {
    body: BodyStream,
    /// `scheme://host/path` of the final URL: never the query, which carries a token.
    shown: String,
    total: Option<u64>,
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

/// A `Location` header against the URL that sent it (RFC 3986 §5.2): absolute, scheme-relative
/// (`//host/path`), absolute-path (`/path`) or relative-path (`name`, `../name`), with its own
/// query. `None` when the result is not a usable absolute URL.
fn resolve(base: &http::Uri, location: &str) -> Option<http::Uri> {
    let location = location.trim();
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return location.parse().ok();
    }
    let scheme = base.scheme_str()?;
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}").parse().ok();
    }
    let authority = base.authority()?;
    // The fragment never goes to the server.
    let location = location.split('#').next().unwrap_or_default();
    let (path, query) = match location.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (location, None),
    };
    let merged = if path.is_empty() {
        base.path().to_owned()
    } else if path.starts_with('/') {
        path.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{path}")
    };
    let mut target = remove_dot_segments(&merged);
    match query {
        Some(q) => {
            target.push('?');
            target.push_str(q);
        }
        None if path.is_empty() => {
            if let Some(q) = base.query() {
                target.push('?');
                target.push_str(q);
            }
        }
        None => {}
    }
    format!("{scheme}://{authority}{target}").parse().ok()
}

/// RFC 3986 §5.2.4 on an absolute path: `/a/b/../c/./d` → `/a/c/d`.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
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

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Client {
    /// Downloads a bill and keeps it in memory: `alipay.data.dataservice.bill.downloadurl.query`
    /// for `bill_type` and `date` (a day, or a month), then at once the file its URL serves.
    ///
    /// The file may be at most [`MAX_BILL_BYTES_IN_MEMORY`] (256 MiB; a daily trade bill of a
    /// million rows is about 40 MiB zipped); larger ones need
    /// [`download_bill_to_file`](Self::download_bill_to_file).
    ///
    /// ```no_run
    /// # async fn demo(client: alipay::Client) -> Result<(), alipay::Error> {
    /// use alipay::bill::{BillDate, BillType};
    ///
    /// let date = BillDate::day(jiff::civil::date(2024, 5, 13));
    /// let mut bill = client.download_bill(BillType::Signcustomer, date).await?;
    /// for row in bill.account_rows()? {
    ///     let row = row?;
    ///     println!("{} {} {}", row.flow_no, row.income, row.balance);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of the URL query ([`Error::is_api`](crate::Error::is_api) with `sub_code`
    /// `isp.bill_not_exist` before the bill is ready, at about 09:00 the next day);
    /// [`Error::is_transport`](crate::Error::is_transport) when the download fails
    /// ([`Error::http_status`](crate::Error::http_status) for an answer other than `200`;
    /// [`Error::is_too_large`](crate::Error::is_too_large) past the limit);
    /// [`Error::is_bill`](crate::Error::is_bill) when the file is neither a ZIP nor a bill CSV.
    pub async fn download_bill(
        &self,
        bill_type: impl Into<BillType>,
        date: BillDate,
    ) -> Result<Bill, crate::Error> {
        let bill_type = bill_type.into();
        let url = self
            .bill_download_url(bill_type.as_str(), &date.to_string())
            .await?;
        let mut download = self.fetch_bill(&url).await?;
        if let Some(total) = download.total
            && total > MAX_BILL_BYTES_IN_MEMORY
        {
            return Err(too_large(
                &download.shown,
                total,
                MAX_BILL_BYTES_IN_MEMORY,
                "Content-Length says",
            ));
        }
        let capacity = download
            .total
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(0);
        let mut data = BytesMut::with_capacity(capacity);
        while let Some(chunk) = self.bill_chunk(&mut download, as_u64(data.len())).await? {
            let done = as_u64(data.len()).saturating_add(as_u64(chunk.len()));
            if done > MAX_BILL_BYTES_IN_MEMORY {
                return Err(too_large(
                    &download.shown,
                    done,
                    MAX_BILL_BYTES_IN_MEMORY,
                    "received",
                ));
            }
            data.extend_from_slice(&chunk);
        }
        complete(&download, as_u64(data.len()))?;
        tracing::debug!(url = %download.shown, bytes = data.len(), "bill downloaded");
        Bill::from_bytes(bill_type, date, data.freeze())
    }

    /// Downloads a bill to a file, as it arrives, whatever its size: the URL query, then at once
    /// the file, written to `<path>.part` and renamed to `path` once complete — a failed
    /// download never leaves a truncated file under `path` (nor the `.part` file). `progress`
    /// is called with `(0, total)` when the download starts, then `(bytes so far, total)` after
    /// each chunk; `total` is the `Content-Length`, when the server sends one.
    ///
    /// ```no_run
    /// # async fn demo(client: alipay::Client) -> Result<(), alipay::Error> {
    /// use alipay::bill::BillType;
    ///
    /// let saved = client
    ///     .download_bill_to_file(BillType::Trade, "2024-05".parse()?, "bill-2024-05.zip", |done, total| {
    ///         eprint!("\r{done} of {} bytes", total.map_or("?".to_owned(), |t| t.to_string()));
    ///     })
    ///     .await?;
    /// println!("saved {} bytes to {}", saved.bytes, saved.path.display());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`download_bill`](Self::download_bill) (without the in-memory limit; the file may be
    /// at most [`MAX_BILL_BYTES_ON_DISK`]), and [`Error::is_io`](crate::Error::is_io) when the
    /// file cannot be created, written or renamed.
    pub async fn download_bill_to_file<F>(
        &self,
        bill_type: impl Into<BillType>,
        date: BillDate,
        path: impl AsRef<Path>,
        mut progress: F,
    ) -> Result<SavedBill, crate::Error>
    where
        F: FnMut(u64, Option<u64>),
    {
        let bill_type = bill_type.into();
        let path = path.as_ref();
        let url = self
            .bill_download_url(bill_type.as_str(), &date.to_string())
            .await?;
        let mut download = self.fetch_bill(&url).await?;
        let part = part_path(path);
        let file = tokio::fs::File::create(&part).await.map_err(|e| {
            crate::Error::io(format!("cannot create {}", part.display())).with_source(e)
        })?;
        let result = self
            .write_bill(&mut download, file, &part, &mut progress)
            .await;
        let bytes = match result {
            Ok(bytes) => bytes,
            Err(e) => {
                // Best effort: the error at hand is what the caller needs to see.
                let _ = tokio::fs::remove_file(&part).await;
                return Err(e);
            }
        };
        if let Err(e) = tokio::fs::rename(&part, path).await {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(crate::Error::io(format!(
                "cannot rename {} to {}",
                part.display(),
                path.display()
            ))
            .with_source(e));
        }
        tracing::debug!(url = %download.shown, bytes, "bill saved");
        Ok(SavedBill {
            path: path.to_owned(),
            bytes,
        })
    }

    /// Writes the body to `file` (the `.part`), reporting progress; flushes and syncs it.
    async fn write_bill<F>(
        &self,
        download: &mut Download,
        file: tokio::fs::File,
        part: &Path,
        progress: &mut F,
    ) -> Result<u64, crate::Error>
    where
        F: FnMut(u64, Option<u64>),
    {
        let write_error = |e: std::io::Error| {
            crate::Error::io(format!("cannot write {}", part.display())).with_source(e)
        };
        let mut writer = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut done: u64 = 0;
        progress(0, download.total);
        while let Some(chunk) = self.bill_chunk(download, done).await? {
            done = done.saturating_add(as_u64(chunk.len()));
            if done > MAX_BILL_BYTES_ON_DISK {
                return Err(too_large(
                    &download.shown,
                    done,
                    MAX_BILL_BYTES_ON_DISK,
                    "received",
                ));
            }
            writer.write_all(&chunk).await.map_err(write_error)?;
            progress(done, download.total);
        }
        complete(download, done)?;
        writer.flush().await.map_err(write_error)?;
        writer.get_ref().sync_all().await.map_err(write_error)?;
        Ok(done)
    }

    /// `GET url` through the client's transport, following redirects, until a `200`.
    async fn fetch_bill(&self, url: &str) -> Result<Download, crate::Error> {
        let mut uri: http::Uri = url.parse().map_err(|e| {
            crate::Error::decode(
                Some("bill_download_url".to_owned()),
                "the bill_download_url is not a URL",
            )
            .with_source(e)
        })?;
        let mut redirects = 0;
        loop {
            let shown = shown(&uri);
            let request = http::Request::get(uri.clone())
                .header(http::header::USER_AGENT, crate::USER_AGENT)
                .body(Bytes::new())
                .map_err(|e| {
                    crate::Error::request(format!("cannot request {shown}")).with_source(e)
                })?;
            let exchange = self.inner.transport.send_streaming(request);
            let response = match self.inner.timeout {
                None => exchange.await,
                Some(limit) => tokio::time::timeout(limit, exchange).await.map_err(|_| {
                    crate::Error::timeout(format!(
                        "GET {shown}: no answer within {} ms",
                        limit.as_millis()
                    ))
                })?,
            }
            .map_err(|e| crate::Error::transport_with(format!("GET {shown} failed"), e))?;
            let status = response.status();
            if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                if redirects == MAX_REDIRECTS {
                    return Err(crate::Error::status(
                        status.as_u16(),
                        format!("GET {shown}: more than {MAX_REDIRECTS} redirects"),
                    ));
                }
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        crate::Error::status(
                            status.as_u16(),
                            format!(
                                "GET {shown} answered HTTP {} without a Location",
                                status.as_u16()
                            ),
                        )
                    })?;
                uri = resolve(&uri, location).ok_or_else(|| {
                    crate::Error::status(
                        status.as_u16(),
                        format!("GET {shown} redirected to an unusable Location"),
                    )
                })?;
                redirects += 1;
                continue;
            }
            if status != http::StatusCode::OK {
                return Err(crate::Error::status(
                    status.as_u16(),
                    format!(
                        "GET {shown} answered HTTP {}; expected 200 with the bill (its URL is valid for about 30 s)",
                        status.as_u16()
                    ),
                ));
            }
            let total = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            return Ok(Download {
                body: response.into_body(),
                shown,
                total,
            });
        }
    }

    /// The next chunk of a download, within the client's timeout.
    async fn bill_chunk(
        &self,
        download: &mut Download,
        done: u64,
    ) -> Result<Option<Bytes>, crate::Error> {
        let next = download.body.next_chunk();
        let chunk = match self.inner.timeout {
            None => next.await,
            Some(limit) => tokio::time::timeout(limit, next).await.map_err(|_| {
                crate::Error::timeout(format!(
                    "GET {}: no data for {} ms after {done} bytes",
                    download.shown,
                    limit.as_millis()
                ))
            })?,
        };
        match chunk {
            None => Ok(None),
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(e)) => Err(crate::Error::transport_with(
                format!(
                    "GET {}: the body broke off after {done} bytes",
                    download.shown
                ),
                e,
            )),
        }
    }
}

/// The body ended: it must be as long as its `Content-Length`.
fn complete(download: &Download, done: u64) -> Result<(), crate::Error> {
    match download.total {
        Some(expected) if expected != done => {
            let message = format!(
                "GET {}: {done} bytes received, Content-Length said {expected}",
                download.shown
            );
            Err(crate::Error::transport_with(
                message.clone(),
                TransportError::body(message),
            ))
        }
        _ => Ok(()),
    }
}

fn too_large(shown: &str, size: u64, limit: u64, what: &str) -> crate::Error {
    let message = format!("GET {shown}: {what} {size} bytes, more than the limit of {limit}");
    crate::Error::transport_with(message.clone(), TransportError::too_large(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_url_that_sent_them() {
        let base: http::Uri = "https://dl.example:8443/a/b/file?token=secret"
            .parse()
            .unwrap();
        assert_eq!(shown(&base), "https://dl.example:8443/a/b/file");
        for (location, expected) in [
            ("/c?d=1", "https://dl.example:8443/c?d=1"),
            ("http://other/x", "http://other/x"),
            ("HTTPS://other/x", "https://other/x"),
            ("//cdn.example/y?z=1", "https://cdn.example/y?z=1"),
            ("next.zip?t=2", "https://dl.example:8443/a/b/next.zip?t=2"),
            ("../up.zip", "https://dl.example:8443/a/up.zip"),
            ("./same.zip#frag", "https://dl.example:8443/a/b/same.zip"),
            ("../../../../root.zip", "https://dl.example:8443/root.zip"),
            ("?t=3", "https://dl.example:8443/a/b/file?t=3"),
            ("", "https://dl.example:8443/a/b/file?token=secret"),
            ("..", "https://dl.example:8443/a/"),
        ] {
            assert_eq!(
                resolve(&base, location).map(|u| u.to_string()).as_deref(),
                Some(expected),
                "{location}"
            );
        }
        assert!(resolve(&base, "http://bad host/").is_none());
        assert_eq!(
            part_path(Path::new("/tmp/x/bill.zip")),
            PathBuf::from("/tmp/x/bill.zip.part")
        );
    }

    // -----------------------------------------------------------------------------------------
    // Against a replay transport: the URL query answered with a signed node, then the file.

    use std::sync::Arc;

    use alipay_sign::{PrivateKey, RsaSigner, SignType, Signer as _};
    use alipay_transport::test_util::{RecordedResponse, ReplayTransport, RequestMatcher};

    const APP_KEY: &[u8] = include_bytes!("../tests/data/app_private_pkcs1.pem");
    const ALIPAY_KEY: &[u8] = include_bytes!("../tests/data/alipay_private_pkcs1.pem");
    const ALIPAY_PUBLIC: &[u8] = include_bytes!("../tests/data/alipay_public.pem");
    const METHOD: &str = "alipay.data.dataservice.bill.downloadurl.query";
    const URL: &str =
        "https://dl.example/bills/downloadBillFile.resource?bizType=trade&token=SECRET";

    /// A v2 gateway answer with `node`, signed with the test Alipay key.
    fn signed(node: &serde_json::Value) -> String {
        let node = node.to_string();
        let signer = RsaSigner::new(&PrivateKey::from_pem_or_der(ALIPAY_KEY).unwrap()).unwrap();
        let sign = signer.sign_base64(SignType::Rsa2, node.as_bytes()).unwrap();
        format!(
            r#"{{"alipay_data_dataservice_bill_downloadurl_query_response":{node},"sign":"{sign}"}}"#
        )
    }

    fn url_answer(url: &str) -> RecordedResponse {
        RecordedResponse::new(
            200,
            signed(&serde_json::json!({"code":"10000","msg":"Success","bill_download_url":url})),
        )
    }

    fn url_query() -> RequestMatcher {
        RequestMatcher::new()
            .method("POST")
            .path("/gateway.do")
            .query("method", METHOD)
    }

    fn client(replay: &ReplayTransport) -> Client {
        Client::builder()
            .app_id("2021000000000001")
            .app_private_key(APP_KEY)
            .alipay_public_key(ALIPAY_PUBLIC)
            .gateway("https://gw.example/gateway.do")
            .transport(Arc::new(replay.clone()))
            .retry_policy(crate::RetryPolicy::none())
            .build()
            .unwrap()
    }

    fn detail(trade_no: &str, out_trade_no: &str, fen: i64, refund: &str) -> DetailRow {
        let mut row = DetailRow::default();
        row.trade_no = trade_no.to_owned();
        row.out_trade_no = out_trade_no.to_owned();
        row.business_type = if fen < 0 {
            BusinessType::Refund
        } else {
            BusinessType::Trade
        };
        row.subject = "账单, \"测试\"".to_owned();
        row.order_amount = Money::from_fen(fen);
        row.received = Money::from_fen(fen);
        row.refund_request_no = refund.to_owned();
        row
    }

    fn rows() -> Vec<DetailRow> {
        vec![
            detail("2024051322001400000000000001", "B1", 1000, ""),
            detail("2024051322001400000000000002", "B2", 550, ""),
            detail("2024051322001400000000000001", "B1", -125, "BR1"),
        ]
    }

    fn date() -> BillDate {
        "2024-05-13".parse().unwrap()
    }

    fn trade_zip() -> Vec<u8> {
        write_trade_zip(
            Cursor::new(Vec::new()),
            "20880000000000010156",
            date(),
            &rows(),
            jiff::civil::datetime(2024, 5, 14, 9, 0, 0, 0),
        )
        .unwrap()
        .into_inner()
    }

    fn detail_csv() -> Vec<u8> {
        let header = BillHeader::new(TableKind::Detail, "20880000000000010156", date()).unwrap();
        let mut w = TableWriter::new(Vec::new(), TableKind::Detail, &header).unwrap();
        for row in rows() {
            w.write_detail(&row).unwrap();
        }
        w.finish_with_totals(Some(jiff::civil::datetime(2024, 5, 14, 9, 0, 0, 0)))
            .unwrap()
    }

    fn download() -> RequestMatcher {
        RequestMatcher::new()
            .method("GET")
            .path("/bills/downloadBillFile.resource")
            .query("token", "SECRET")
    }

    /// `download_bill` of the trade bill of [`date`] through `replay`.
    async fn trade_bill(replay: &ReplayTransport) -> Result<Bill, crate::Error> {
        client(replay).download_bill("trade", date()).await
    }

    /// The URL query, then `zip` served with its length, in `chunk`-byte chunks.
    fn serving(zip: &[u8], chunk: usize) -> ReplayTransport {
        ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(
                download(),
                RecordedResponse::new(200, zip.to_vec())
                    .header("content-length", zip.len().to_string())
                    .chunk_size(chunk),
            )
    }

    #[tokio::test]
    async fn download_bill_reads_the_zip_as_typed_rows_that_add_up() {
        let zip = trade_zip();
        let replay = serving(&zip, 100);
        let mut bill = trade_bill(&replay).await.unwrap();
        assert!(replay.unused().is_empty());
        let sent = replay.requests();
        assert_eq!(
            sent[0].form("biz_content").as_deref(),
            Some(r#"{"bill_type":"trade","bill_date":"2024-05-13"}"#)
        );
        assert_eq!(sent[1].uri.to_string(), URL);
        assert_eq!(sent[1].header("user-agent"), Some(crate::USER_AGENT));

        assert!(bill.is_zip());
        assert_eq!(bill.as_bytes().as_ref(), zip.as_slice());
        assert_eq!((bill.bill_type(), bill.date()), (&BillType::Trade, date()));
        let names: Vec<(&str, Option<TableKind>)> = bill
            .tables()
            .iter()
            .map(|t| (t.name.as_str(), t.kind))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "20880000000000010156_20240513_业务明细.csv",
                    Some(TableKind::Detail)
                ),
                (
                    "20880000000000010156_20240513_业务明细(汇总).csv",
                    Some(TableKind::Summary)
                ),
            ]
        );
        let mut detail = bill.detail_rows().unwrap();
        let read: Vec<DetailRow> = detail.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(read, rows());
        assert!(detail.check().is_ok(), "{}", detail.check());
        assert_eq!(
            detail.table().header().account.as_deref(),
            Some("20880000000000010156")
        );
        drop(detail);
        let check = bill.check().unwrap();
        assert!(check.is_ok(), "{check}");
        assert_eq!(check.tables().count(), 2);
        // The summary: one store row of the emulator's writer.
        let mut summary = bill.summary().unwrap().unwrap();
        assert_eq!(summary.kind(), TableKind::Summary);
        assert!(summary.read_row().unwrap().is_some());
        drop(summary);
        assert!(bill.account_flow().unwrap().is_none());
        let err = bill.account_rows().unwrap_err();
        assert!(err.is_bill());
        assert_eq!(
            err.to_string(),
            "the trade bill of 2024-05-13 has no 账务明细 table; its tables: 20880000000000010156_20240513_业务明细.csv, 20880000000000010156_20240513_业务明细(汇总).csv"
        );
    }

    #[tokio::test]
    async fn a_bill_that_is_one_csv_has_one_table() {
        let csv = detail_csv();
        let replay = ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(download(), RecordedResponse::new(200, csv.clone()));
        let mut bill = client(&replay)
            .download_bill(BillType::Trade, date())
            .await
            .unwrap();
        assert!(!bill.is_zip());
        assert_eq!(bill.tables().len(), 1);
        assert_eq!(bill.tables()[0].name, "trade_20240513.csv");
        assert_eq!(bill.tables()[0].kind, Some(TableKind::Detail));
        assert_eq!(bill.tables()[0].size, u64::try_from(csv.len()).unwrap());
        let read: Vec<DetailRow> = bill
            .detail_rows()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read, rows());
        let mut table = bill.detail().unwrap().unwrap();
        assert_eq!(table.encoding(), Encoding::Gbk);
        assert_eq!(table.by_ref().count(), 3);
        drop(table);
        let check = bill.check().unwrap();
        assert!(check.is_ok());
        assert_eq!(check.to_string(), "trade_20240513.csv: ok");
        assert_eq!(bill.into_bytes().as_ref(), csv.as_slice());
    }

    #[tokio::test]
    async fn redirects_are_followed_up_to_five() {
        let zip = trade_zip();
        let hop = |location: &str| RecordedResponse::new(302, "").header("location", location);
        let replay = ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(download(), hop("mirror/bill.zip?sig=2"))
            .exchange(
                RequestMatcher::new().path("/bills/mirror/bill.zip"),
                hop("../../x?sig=3"),
            )
            .exchange(
                RequestMatcher::new().path("/x"),
                hop("//cdn.example/y?sig=4"),
            )
            .exchange(
                RequestMatcher::new().path("/y"),
                RecordedResponse::new(200, zip.clone()),
            );
        let bill = trade_bill(&replay).await.unwrap();
        assert_eq!(bill.as_bytes().as_ref(), zip.as_slice());
        let uris: Vec<String> = replay
            .requests()
            .iter()
            .skip(1)
            .map(|r| r.uri.to_string())
            .collect();
        assert_eq!(
            uris,
            [
                URL,
                "https://dl.example/bills/mirror/bill.zip?sig=2",
                "https://dl.example/x?sig=3",
                "https://cdn.example/y?sig=4",
            ]
        );

        // Six redirects: an error that names the last URL without its query.
        let replay = ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(download(), hop("/loop?token=SECRET"))
            .exchange(
                RequestMatcher::new().path("/loop"),
                hop("/loop?token=SECRET"),
            )
            .repeat(Some(5));
        let err = trade_bill(&replay).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "GET https://dl.example/loop: more than 5 redirects"
        );
        assert!(err.is_transport() && err.http_status() == Some(302));
        assert!(replay.unused().is_empty());

        // A redirect without a Location.
        let replay = ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(download(), RecordedResponse::new(301, ""));
        let err = trade_bill(&replay).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "GET https://dl.example/bills/downloadBillFile.resource answered HTTP 301 without a Location"
        );
    }

    #[tokio::test]
    async fn failures_name_the_url_without_its_query() {
        let cases: Vec<(RecordedResponse, &str)> = vec![
            (
                RecordedResponse::new(500, "<Error/>"),
                "GET https://dl.example/bills/downloadBillFile.resource answered HTTP 500; expected 200 with the bill (its URL is valid for about 30 s)",
            ),
            (
                RecordedResponse::new(200, trade_zip()).header("content-length", "100000"),
                "GET https://dl.example/bills/downloadBillFile.resource: ",
            ),
            (
                RecordedResponse::new(200, trade_zip())
                    .chunk_size(64)
                    .break_after(200),
                "GET https://dl.example/bills/downloadBillFile.resource: the body broke off after 200 bytes",
            ),
            (
                RecordedResponse::new(200, "PK\x03\x04 not really"),
                "the trade bill of 2024-05-13 is not a readable ZIP",
            ),
            (
                RecordedResponse::new(200, "").header("content-length", "300000000"),
                "GET https://dl.example/bills/downloadBillFile.resource: Content-Length says 300000000 bytes, more than the limit of 268435456",
            ),
        ];
        for (i, (answer, expected)) in cases.into_iter().enumerate() {
            let replay = ReplayTransport::new()
                .exchange(url_query(), url_answer(URL))
                .exchange(download(), answer);
            let err = trade_bill(&replay).await.unwrap_err();
            let chain = {
                let mut text = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    text.push_str(" / ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            };
            assert!(err.to_string().starts_with(expected), "{i}: {chain}");
            assert!(!chain.contains("SECRET"), "{i}: {chain}");
            match i {
                0 => assert_eq!(err.http_status(), Some(500)),
                1 => {
                    assert!(err.is_transport() && !err.is_too_large(), "{chain}");
                    assert!(
                        chain.ends_with("bytes received, Content-Length said 100000"),
                        "{chain}"
                    );
                }
                2 => {
                    assert!(err.is_transport(), "{chain}");
                    assert!(
                        chain.ends_with("the recorded body broke off after 200 bytes"),
                        "{chain}"
                    );
                }
                3 => assert!(err.is_bill(), "{chain}"),
                _ => assert!(err.is_too_large() && err.is_transport(), "{chain}"),
            }
        }
    }

    #[tokio::test]
    async fn a_bill_not_yet_there_is_the_api_error() {
        let replay = ReplayTransport::new().exchange(
            url_query(),
            RecordedResponse::new(
                200,
                signed(&serde_json::json!({"code":"40004","msg":"Business Failed","sub_code":"isp.bill_not_exist","sub_msg":"账单不存在"})),
            ),
        );
        let dir = scratch("not-there");
        let out = dir.join("bill.zip");
        let err = client(&replay)
            .download_bill_to_file("trade", date(), &out, |_, _| panic!("no download"))
            .await
            .unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(
            (api.code(), api.sub_code(), api.is_verified()),
            ("40004", Some("isp.bill_not_exist"), true)
        );
        assert_eq!(replay.requests().len(), 1, "no download was tried");
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh folder under the system temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "alipay-bill-download-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn download_to_file_reports_progress_and_renames_when_complete() {
        let zip = trade_zip();
        let replay = serving(&zip, 300);
        let dir = scratch("progress");
        let out = dir.join("bill.zip");
        let mut calls = Vec::new();
        let saved = client(&replay)
            .download_bill_to_file(BillType::Trade, date(), &out, |done, total| {
                calls.push((done, total));
            })
            .await
            .unwrap();
        let len = u64::try_from(zip.len()).unwrap();
        assert_eq!(
            saved,
            SavedBill {
                path: out.clone(),
                bytes: len
            }
        );
        assert_eq!(std::fs::read(&out).unwrap(), zip);
        assert!(!dir.join("bill.zip.part").exists());
        let mut expected = vec![(0, Some(len))];
        let mut done = 0;
        while done < len {
            done = (done + 300).min(len);
            expected.push((done, Some(len)));
        }
        assert_eq!(calls, expected);
        assert!(calls.len() > 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_failed_download_leaves_no_file() {
        let dir = scratch("failed");
        let out = dir.join("bill.zip");
        // An older file under the final name stays as it was.
        let before = dir.join("kept.zip");
        std::fs::write(&before, b"old").unwrap();
        for answer in [
            RecordedResponse::new(500, "busy"),
            RecordedResponse::new(200, trade_zip())
                .chunk_size(50)
                .break_after(120),
            RecordedResponse::new(200, trade_zip()).header("content-length", "999999"),
        ] {
            let replay = ReplayTransport::new()
                .exchange(url_query(), url_answer(URL))
                .exchange(download(), answer.clone());
            let mut calls = Vec::new();
            let err = client(&replay)
                .download_bill_to_file("trade", date(), &out, |d, t| calls.push((d, t)))
                .await
                .unwrap_err();
            assert!(err.is_transport(), "{err:?}");
            assert!(!out.exists() && !dir.join("bill.zip.part").exists());
            if answer.break_after.is_some() {
                assert_eq!(calls, [(0, None), (50, None), (100, None), (120, None)]);
            }
            let replay = ReplayTransport::new()
                .exchange(url_query(), url_answer(URL))
                .exchange(download(), answer);
            let err = client(&replay)
                .download_bill_to_file("trade", date(), &before, |_, _| {})
                .await
                .unwrap_err();
            assert!(err.is_transport());
            assert_eq!(std::fs::read(&before).unwrap(), b"old");
        }
        // A folder that does not exist: an I/O error naming the .part file.
        let replay = ReplayTransport::new()
            .exchange(url_query(), url_answer(URL))
            .exchange(download(), RecordedResponse::new(200, trade_zip()));
        let missing = dir.join("no/such/bill.zip");
        let err = client(&replay)
            .download_bill_to_file("trade", date(), &missing, |_, _| {})
            .await
            .unwrap_err();
        assert!(err.is_io() && !err.is_transport(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot create {}",
                dir.join("no/such/bill.zip.part").display()
            )
        );
        assert!(
            std::error::Error::source(&err)
                .unwrap()
                .is::<std::io::Error>()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bytes_that_are_not_a_bill() {
        let err = Bill::from_bytes("trade", date(), b"<html>expired</html>".to_vec()).unwrap_err();
        assert!(err.is_bill());
        assert_eq!(
            err.to_string(),
            "the trade bill of 2024-05-13 is neither a ZIP nor a bill CSV"
        );
        let source = std::error::Error::source(&err).unwrap();
        assert!(source.is::<Error>(), "the alipay-bill error: {source}");
        // `?` on alipay-bill errors in a function returning alipay::Error.
        let parse = || -> Result<BillDate, crate::Error> { Ok("2024-13".parse::<BillDate>()?) };
        assert!(parse().unwrap_err().is_bill());
        let check = BillCheck { tables: Vec::new() };
        assert!(!check.is_ok());
        assert_eq!(check.to_string(), "the bill has no table");
    }

    #[test]
    fn bill_types() {
        assert_eq!(
            BillType::from("signcustomer".to_owned()),
            BillType::Signcustomer
        );
        assert_eq!(BillType::from("trade".to_owned()), BillType::Trade);
        assert_eq!(
            BillType::from("x".to_owned()),
            BillType::Other("x".to_owned())
        );
        assert_eq!(BillType::from(&BillType::Trade).as_str(), "trade");
        assert_eq!(BillType::Other("x".into()).as_str(), "x");
    }
}
