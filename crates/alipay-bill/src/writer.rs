//! Writing bills in Alipay's exact format: a table as CSV, and the ZIP around it.

use std::io::{Seek, SeekFrom, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use jiff::civil::DateTime;

use crate::error::Error;
use crate::footer::{BillHeader, Footer, Totals};
use crate::lines::Encoding;
use crate::rows::{Cell, DetailRow, Row, TableKind};
use crate::summary::Summary;
use crate::time::{BillDate, CellTime};

/// Options of a [`TableWriter`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// The output encoding; GBK (the default) is what Alipay serves.
    pub encoding: Encoding,
    /// Columns written after the standard ones; each row's value is looked up by name in its
    /// `extra` (empty when absent) and written with a trailing TAB like other text cells.
    pub extra_columns: Vec<String>,
}

impl WriteOptions {
    /// Sets the encoding.
    #[must_use]
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets the extra columns.
    #[must_use]
    pub fn extra_columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.extra_columns = names.into_iter().map(Into::into).collect();
        self
    }
}

/// Writes one bill table line by line, as Alipay does: the `#` header lines, the begin marker,
/// the header row, the rows (text cells followed by a TAB where Alipay puts one), the end marker
/// and the footer, LF line endings, GBK bytes.
///
/// Cells holding a comma, a quote or a line break are quoted (`"a,""b"""`), with the TAB inside the
/// quotes; a text cell that starts with `#` is quoted too, so it never reads as a comment line.
#[derive(Debug)]
pub struct TableWriter<W: Write> {
    out: W,
    kind: TableKind,
    options: WriteOptions,
    line: String,
    totals: Totals,
}

impl<W: Write> TableWriter<W> {
    /// Starts a GBK table: writes the header lines, the begin marker and the header row.
    ///
    /// # Errors
    /// On I/O errors, or header text that GBK cannot encode.
    pub fn new(out: W, kind: TableKind, header: &BillHeader) -> Result<Self, Error> {
        Self::with_options(out, kind, header, WriteOptions::default())
    }

    /// Like [`TableWriter::new`], with options.
    ///
    /// # Errors
    /// As [`TableWriter::new`].
    pub fn with_options(
        out: W,
        kind: TableKind,
        header: &BillHeader,
        options: WriteOptions,
    ) -> Result<Self, Error> {
        let mut w = Self {
            out,
            kind,
            options,
            line: String::with_capacity(512),
            totals: Totals::default(),
        };
        for line in header.lines() {
            w.line.push_str(&line);
            w.emit()?;
        }
        w.line.push_str(&kind.begin_marker());
        w.emit()?;
        let names: Vec<&str> = kind
            .columns()
            .iter()
            .copied()
            .chain(w.options.extra_columns.iter().map(String::as_str))
            .collect();
        let mut line = core::mem::take(&mut w.line);
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            push_text(&mut line, name, false)?;
        }
        w.line = line;
        w.emit()?;
        Ok(w)
    }

    /// Encodes `self.line` plus LF and writes it.
    fn emit(&mut self) -> Result<(), Error> {
        self.line.push('\n');
        let result = match self.options.encoding {
            Encoding::Utf8 => self.out.write_all(self.line.as_bytes()).map_err(Error::io),
            Encoding::Gbk => {
                let (bytes, _, unmappable) = encoding_rs::GBK.encode(&self.line);
                if unmappable {
                    let bad: String = self
                        .line
                        .chars()
                        .filter(|c| {
                            let mut b = [0u8; 4];
                            encoding_rs::GBK.encode(c.encode_utf8(&mut b)).2
                        })
                        .collect();
                    Err(Error::unencodable(&bad))
                } else {
                    self.out.write_all(&bytes).map_err(Error::io)
                }
            }
        };
        self.line.clear();
        result
    }

    /// Writes one row.
    ///
    /// # Errors
    /// When the row is of another table, on I/O errors, on text that GBK cannot encode, or on text
    /// that could not be read back: ending with a TAB (readers strip trailing TABs) or holding a
    /// CR (readers take CRLF as a line break).
    pub fn write_row(&mut self, row: &Row) -> Result<(), Error> {
        if row.kind() != self.kind {
            return Err(Error::invalid(format!(
                "a {} row into a {} table",
                row.kind().as_str(),
                self.kind.as_str()
            )));
        }
        let mut line = core::mem::take(&mut self.line);
        let result = self.fill(&mut line, row);
        self.line = line;
        if let Err(e) = result {
            self.line.clear();
            return Err(e);
        }
        self.emit()?;
        self.totals.add(row);
        Ok(())
    }

    /// Writes one detail row.
    ///
    /// # Errors
    /// As [`TableWriter::write_row`].
    pub fn write_detail(&mut self, row: &DetailRow) -> Result<(), Error> {
        self.write_row(&Row::Detail(row.clone()))
    }

    fn fill(&self, line: &mut String, row: &Row) -> Result<(), Error> {
        let tabs = self.kind.tabbed();
        let mut write_cells = |cells: &[Cell<'_>]| -> Result<(), Error> {
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_cell(line, cell, tabs.get(i).copied().unwrap_or(false))?;
            }
            Ok(())
        };
        match row {
            Row::Detail(r) => write_cells(&r.cells())?,
            Row::Summary(r) => write_cells(&r.cells())?,
            Row::Account(r) => write_cells(&r.cells())?,
        }
        for name in &self.options.extra_columns {
            line.push(',');
            let value = row
                .extra()
                .iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str());
            push_text(line, value, true)?;
        }
        Ok(())
    }

    /// Sums over the rows written so far.
    #[must_use]
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Writes the end marker and `footer`, and returns the output.
    ///
    /// # Errors
    /// On I/O errors or footer text that GBK cannot encode.
    pub fn finish(mut self, footer: &Footer) -> Result<W, Error> {
        self.line.push_str(&self.kind.end_marker());
        self.emit()?;
        for line in footer.lines() {
            self.line.push_str(&line);
            self.emit()?;
        }
        self.out.flush().map_err(Error::io)?;
        Ok(self.out)
    }

    /// Writes the end marker and the footer computed from the rows written (counts and sums per
    /// business type), with `exported_at` as 导出时间.
    ///
    /// # Errors
    /// As [`TableWriter::finish`].
    pub fn finish_with_totals(self, exported_at: Option<DateTime>) -> Result<W, Error> {
        let footer = self.totals.footer(self.kind, exported_at);
        self.finish(&footer)
    }
}

fn push_cell(line: &mut String, cell: &Cell<'_>, tab: bool) -> Result<(), Error> {
    use core::fmt::Write as _;
    match cell {
        Cell::Text(text) => return push_text(line, text, tab),
        Cell::Money(m) => {
            let _ = write!(line, "{m}");
        }
        Cell::Count(n) => {
            let _ = write!(line, "{n}");
        }
        Cell::Time(Some(t)) => {
            let _ = write!(line, "{}", CellTime(*t));
        }
        Cell::Time(None) => {}
    }
    if tab {
        line.push('\t');
    }
    Ok(())
}

fn push_text(line: &mut String, text: &str, tab: bool) -> Result<(), Error> {
    if text.ends_with('\t') || text.contains('\r') {
        return Err(Error::invalid(format!(
            "text with a CR or ending with a TAB: {text:?}"
        )));
    }
    let quote = text.starts_with('#') || text.contains([',', '"', '\n']);
    if quote {
        line.push('"');
        for c in text.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        if tab {
            line.push('\t');
        }
        line.push('"');
    } else {
        line.push_str(text);
        if tab {
            line.push('\t');
        }
    }
    Ok(())
}

/// The header line of a plain UTF-8 CSV of `kind` rows (what `alipay bill parse --format csv`
/// prints): the standard column names, then `extra_columns`, comma-separated, no line ending.
#[must_use]
pub fn csv_header(kind: TableKind, extra_columns: &[&str]) -> String {
    let mut line = String::new();
    for (i, name) in kind.columns().iter().chain(extra_columns).enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_plain(&mut line, name);
    }
    line
}

/// One row as a plain CSV line (no TABs, no line ending): amounts `-0.01`, times
/// `2019-09-16 10:55:16`, cells quoted RFC 4180 style when they hold `,`, `"`, CR or LF; then the
/// row's values for `extra_columns` (empty when absent).
#[must_use]
pub fn csv_record(row: &Row, extra_columns: &[&str]) -> String {
    use core::fmt::Write as _;
    let mut line = String::with_capacity(256);
    let cells: &[Cell<'_>] = match row {
        Row::Detail(r) => &r.cells(),
        Row::Summary(r) => &r.cells(),
        Row::Account(r) => &r.cells(),
    };
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let _ = match cell {
            Cell::Text(t) => {
                push_plain(&mut line, t);
                Ok(())
            }
            Cell::Money(m) => write!(line, "{m}"),
            Cell::Count(n) => write!(line, "{n}"),
            Cell::Time(Some(t)) => write!(line, "{}", CellTime(*t)),
            Cell::Time(None) => Ok(()),
        };
    }
    for name in extra_columns {
        line.push(',');
        let value = row
            .extra()
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str());
        push_plain(&mut line, value);
    }
    line
}

fn push_plain(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// Writes a bill ZIP exactly as Alipay packs it: deflated entries, GBK entry names without the
/// UTF-8 flag, DOS timestamps, Unix `rw-------` attributes, no extra fields, no data descriptors.
///
/// Each entry's local header is written first and its CRC and sizes patched in when the entry is
/// finished (hence `Seek`); compressed data goes straight to the output, so memory stays flat.
#[derive(Debug)]
pub struct ZipWriter<W: Write + Seek> {
    out: W,
    central: Vec<u8>,
    entries: u16,
}

struct Pending {
    name: Vec<u8>,
    dos_time: u16,
    dos_date: u16,
    offset: u32,
}

/// One ZIP entry being written; write the uncompressed bytes, then call [`ZipEntry::finish`].
pub struct ZipEntry<'a, W: Write + Seek> {
    zip: &'a mut ZipWriter<W>,
    encoder: DeflateEncoder<Vec<u8>>,
    crc: flate2::Crc,
    compressed: u64,
    pending: Pending,
}

impl<W: Write + Seek> core::fmt::Debug for ZipEntry<'_, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZipEntry")
            .field("written", &self.crc.amount())
            .finish_non_exhaustive()
    }
}

const FLUSH_AT: usize = 64 * 1024;
const VERSION_MADE_BY: u16 = 0x0314; // Unix, ZIP 2.0, as in the sample
const VERSION_NEEDED: u16 = 20;
const DEFLATE: u16 = 8;
const UNIX_RW_OWNER: u32 = 0o600 << 16;

fn dos_time(t: DateTime) -> Result<(u16, u16), Error> {
    let year = u16::try_from(t.year())
        .ok()
        .and_then(|y| y.checked_sub(1980))
        .filter(|y| *y < 128);
    let Some(year) = year else {
        return Err(Error::invalid(format!("a ZIP time in year {}", t.year())));
    };
    let small = |v: i8| u16::try_from(v).unwrap_or(0);
    let date = (year << 9) | (small(t.month()) << 5) | small(t.day());
    let time = (small(t.hour()) << 11) | (small(t.minute()) << 5) | (small(t.second()) / 2);
    Ok((time, date))
}

fn u32_of(v: u64, what: &str) -> Result<u32, Error> {
    u32::try_from(v)
        .map_err(|_| Error::invalid(format!("{what} over 4 GiB (ZIP64 is not written)")))
}

impl<W: Write + Seek> ZipWriter<W> {
    /// Starts an archive at the current position of `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            central: Vec::new(),
            entries: 0,
        }
    }

    /// Starts an entry named `name` (written in GBK) with `modified` as its DOS time (2-second
    /// precision, rounded down, like the sample).
    ///
    /// # Errors
    /// When GBK cannot encode the name, the time is outside 1980–2107, or on I/O errors.
    pub fn start_entry(
        &mut self,
        name: &str,
        modified: DateTime,
    ) -> Result<ZipEntry<'_, W>, Error> {
        let (raw, _, unmappable) = encoding_rs::GBK.encode(name);
        if unmappable {
            return Err(Error::unencodable(name));
        }
        let name = raw.into_owned();
        let name_len =
            u16::try_from(name.len()).map_err(|_| Error::invalid("an entry name over 64 KiB"))?;
        if self.entries == u16::MAX {
            return Err(Error::invalid("more than 65535 entries"));
        }
        let (dos_time, dos_date) = dos_time(modified)?;
        let offset = u32_of(self.out.stream_position().map_err(Error::io)?, "an archive")?;
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        h.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // flags: no UTF-8 bit, no data descriptor
        h.extend_from_slice(&DEFLATE.to_le_bytes());
        h.extend_from_slice(&dos_time.to_le_bytes());
        h.extend_from_slice(&dos_date.to_le_bytes());
        h.extend_from_slice(&[0; 12]); // CRC and sizes, patched by finish
        h.extend_from_slice(&name_len.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&name);
        self.out.write_all(&h).map_err(Error::io)?;
        Ok(ZipEntry {
            zip: self,
            encoder: DeflateEncoder::new(Vec::with_capacity(FLUSH_AT * 2), Compression::default()),
            crc: flate2::Crc::new(),
            compressed: 0,
            pending: Pending {
                name,
                dos_time,
                dos_date,
                offset,
            },
        })
    }

    /// Writes the central directory and returns the output.
    ///
    /// # Errors
    /// On I/O errors.
    pub fn finish(mut self) -> Result<W, Error> {
        let offset = u32_of(self.out.stream_position().map_err(Error::io)?, "an archive")?;
        let size = u32_of(self.central.len() as u64, "a central directory")?;
        self.out.write_all(&self.central).map_err(Error::io)?;
        let mut e = Vec::with_capacity(22);
        e.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
        e.extend_from_slice(&[0; 4]); // disk numbers
        e.extend_from_slice(&self.entries.to_le_bytes());
        e.extend_from_slice(&self.entries.to_le_bytes());
        e.extend_from_slice(&size.to_le_bytes());
        e.extend_from_slice(&offset.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&e).map_err(Error::io)?;
        self.out.flush().map_err(Error::io)?;
        Ok(self.out)
    }
}

impl<W: Write + Seek> ZipEntry<'_, W> {
    fn drain(&mut self) -> std::io::Result<()> {
        let buf = self.encoder.get_mut();
        self.zip.out.write_all(buf)?;
        self.compressed += buf.len() as u64;
        buf.clear();
        Ok(())
    }

    /// Completes the entry: flushes the compressed data and patches CRC and sizes.
    ///
    /// # Errors
    /// On I/O errors, or an entry over 4 GiB.
    pub fn finish(mut self) -> Result<(), Error> {
        self.encoder.try_finish().map_err(Error::io)?;
        self.drain().map_err(Error::io)?;
        let crc = self.crc.sum();
        let size = u32_of(u64::from(self.crc.amount()), "an entry")?;
        let csize = u32_of(self.compressed, "an entry")?;
        let p = &self.pending;
        let out = &mut self.zip.out;
        out.seek(SeekFrom::Start(u64::from(p.offset) + 14))
            .map_err(Error::io)?;
        let mut sizes = [0u8; 12];
        sizes[..4].copy_from_slice(&crc.to_le_bytes());
        sizes[4..8].copy_from_slice(&csize.to_le_bytes());
        sizes[8..].copy_from_slice(&size.to_le_bytes());
        out.write_all(&sizes).map_err(Error::io)?;
        out.seek(SeekFrom::End(0)).map_err(Error::io)?;

        let c = &mut self.zip.central;
        c.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        c.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        c.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&DEFLATE.to_le_bytes());
        c.extend_from_slice(&p.dos_time.to_le_bytes());
        c.extend_from_slice(&p.dos_date.to_le_bytes());
        c.extend_from_slice(&sizes);
        let name_len = u16::try_from(p.name.len()).unwrap_or(u16::MAX);
        c.extend_from_slice(&name_len.to_le_bytes());
        c.extend_from_slice(&[0; 8]); // extra and comment lengths, disk, internal attributes
        c.extend_from_slice(&UNIX_RW_OWNER.to_le_bytes());
        c.extend_from_slice(&p.offset.to_le_bytes());
        c.extend_from_slice(&p.name);
        self.zip.entries += 1;
        Ok(())
    }
}

impl<W: Write + Seek> Write for ZipEntry<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.encoder.write(buf)?;
        self.crc.update(&buf[..n]);
        if self.encoder.get_ref().len() >= FLUSH_AT {
            self.drain()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`write_trade_zip_with`] puts in a trade bill ZIP besides the 业务明细 entry.
///
/// The default is the real layout: the detail entry, then the 业务明细(汇总) entry ending with the
/// `合计` row. `TradeZipOptions::default().summary(false)` gives the detail entry alone (what
/// `write_trade_zip` wrote before it wrote the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TradeZipOptions {
    /// Write the `…_业务明细(汇总).csv` entry after the detail entry (default `true`).
    pub summary: bool,
    /// End the summary with the `合计` row (default `true`; whether real files have it is
    /// unverified, see [`Summary`]).
    pub summary_total: bool,
}

impl Default for TradeZipOptions {
    fn default() -> Self {
        Self {
            summary: true,
            summary_total: true,
        }
    }
}

impl TradeZipOptions {
    /// Sets whether the summary entry is written.
    #[must_use]
    pub fn summary(mut self, summary: bool) -> Self {
        self.summary = summary;
        self
    }

    /// Sets whether the summary ends with the `合计` row.
    #[must_use]
    pub fn summary_total(mut self, total: bool) -> Self {
        self.summary_total = total;
        self
    }
}

/// Writes a trade bill ZIP of `rows` as Alipay packs it and the emulator serves it: the entry
/// `<account>_<date>_业务明细.csv` (the rows, footer totals computed from them), then the entry
/// `<account>_<date>_业务明细(汇总).csv` (the per-store [`Summary`] of the rows and its `合计` row);
/// GBK entry names, a header for `date` (a day or a month), 导出时间 `exported_at`, which is also the
/// entries' timestamp. Same as [`write_trade_zip_with`] with the default [`TradeZipOptions`].
///
/// ```
/// use alipay_bill::{BillArchive, DetailRow, Money, Row, TableKind};
/// # fn main() -> Result<(), alipay_bill::Error> {
/// let mut row = DetailRow::default();
/// row.trade_no = "2019091622001458860515315453".into();
/// row.subject = "下单测试".into();
/// row.store_id = "alipay_store".into();
/// row.order_amount = Money::from_fen(1);
/// row.received = Money::from_fen(1);
/// let exported = jiff::civil::datetime(2019, 9, 17, 5, 46, 49, 0);
/// let zip = alipay_bill::write_trade_zip(
///     std::io::Cursor::new(Vec::new()),
///     "20880211096256330156",
///     "2019-09-16".parse()?,
///     &[row.clone()],
///     exported,
/// )?;
/// let mut archive = BillArchive::new(std::io::Cursor::new(zip.into_inner()))?;
/// let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
/// assert_eq!(
///     names,
///     [
///         "20880211096256330156_20190916_业务明细.csv",
///         "20880211096256330156_20190916_业务明细(汇总).csv",
///     ]
/// );
/// let mut table = archive.open_kind(TableKind::Detail)?.expect("a detail entry");
/// assert_eq!(table.read_row()?.and_then(|r| r.as_detail().cloned()), Some(row));
/// drop(table);
/// let mut summary = archive.open_kind(TableKind::Summary)?.expect("a summary entry");
/// let store = summary.read_row()?.and_then(|r| r.as_summary().cloned()).expect("a store row");
/// assert_eq!((store.store_id.as_str(), store.trade_count), ("alipay_store", 1));
/// assert_eq!(store.received.to_string(), "0.01");
/// # Ok(()) }
/// ```
///
/// # Errors
/// On I/O errors, text that GBK cannot encode, or a 门店编号 `合计` (see
/// [`Summary::write_table`]).
pub fn write_trade_zip<W: Write + Seek>(
    out: W,
    account: &str,
    date: BillDate,
    rows: &[DetailRow],
    exported_at: DateTime,
) -> Result<W, Error> {
    write_trade_zip_with(
        out,
        account,
        date,
        rows,
        exported_at,
        TradeZipOptions::default(),
    )
}

/// Like [`write_trade_zip`], with `options` choosing the summary entry and its `合计` row.
///
/// ```
/// use alipay_bill::{BillArchive, TradeZipOptions};
/// # fn main() -> Result<(), alipay_bill::Error> {
/// let exported = jiff::civil::datetime(2019, 9, 17, 5, 46, 49, 0);
/// let zip = alipay_bill::write_trade_zip_with(
///     std::io::Cursor::new(Vec::new()),
///     "20880211096256330156",
///     "2019-09-16".parse()?,
///     &[],
///     exported,
///     TradeZipOptions::default().summary(false),
/// )?;
/// let archive = BillArchive::new(std::io::Cursor::new(zip.into_inner()))?;
/// assert_eq!(archive.entries().len(), 1);
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`write_trade_zip`].
pub fn write_trade_zip_with<W: Write + Seek>(
    out: W,
    account: &str,
    date: BillDate,
    rows: &[DetailRow],
    exported_at: DateTime,
    options: TradeZipOptions,
) -> Result<W, Error> {
    let mut zip = ZipWriter::new(out);
    let mut summary = Summary::new();
    {
        let kind = TableKind::Detail;
        let header = BillHeader::new(kind, account, date)?;
        let entry = zip.start_entry(&kind.entry_name(account, date), exported_at)?;
        let mut table = TableWriter::new(entry, kind, &header)?;
        for row in rows {
            table.write_detail(row)?;
            summary.add(row);
        }
        table.finish_with_totals(Some(exported_at))?.finish()?;
    }
    if options.summary {
        let kind = TableKind::Summary;
        let header = BillHeader::new(kind, account, date)?;
        let entry = zip.start_entry(&kind.entry_name(account, date), exported_at)?;
        summary
            .write_table(
                entry,
                &header,
                Some(exported_at),
                options.summary_total,
                WriteOptions::default(),
            )?
            .finish()?;
    }
    zip.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::datetime;

    #[test]
    fn plain_csv() {
        assert_eq!(
            csv_header(TableKind::Account, &["x,y"]).split(',').count(),
            14
        );
        let row = crate::AccountRow {
            flow_no: "1".into(),
            subject: "a,\"b\"".into(),
            income: crate::Money::from_fen(-1),
            occurred_at: Some(datetime(2012, 12, 29, 21, 2, 6, 0)),
            extra: vec![("x,y".into(), "z".into())],
            ..Default::default()
        };
        assert_eq!(
            csv_record(&Row::Account(row), &["x,y", "missing"]),
            "1,,,\"a,\"\"b\"\"\",2012-12-29 21:02:06,,-0.01,0.00,0.00,,,,z,"
        );
    }

    #[test]
    fn dos_times_round_seconds_down() {
        assert_eq!(
            dos_time(datetime(2019, 9, 17, 5, 46, 49, 0)).unwrap(),
            (0x2dd8, 0x4f31)
        );
        assert!(dos_time(datetime(1979, 12, 31, 0, 0, 0, 0)).is_err());
        assert!(dos_time(datetime(2108, 1, 1, 0, 0, 0, 0)).is_err());
    }

    #[test]
    fn text_cells_are_quoted_when_needed() {
        let mut line = String::new();
        push_text(&mut line, "a,\"b\"", true).unwrap();
        line.push(',');
        push_text(&mut line, "#x", false).unwrap();
        line.push(',');
        push_text(&mut line, "plain", true).unwrap();
        assert_eq!(line, "\"a,\"\"b\"\"\t\",\"#x\",plain\t");
        assert!(
            push_text(&mut line, "tab\t", false)
                .unwrap_err()
                .is_unwritable()
        );
    }

    #[test]
    fn wrong_kind_and_unencodable_text_are_errors() {
        let header =
            BillHeader::new(TableKind::Detail, "2088", "2019-09-16".parse().unwrap()).unwrap();
        let mut w = TableWriter::new(Vec::new(), TableKind::Detail, &header).unwrap();
        let err = w
            .write_row(&Row::Account(crate::AccountRow::default()))
            .unwrap_err();
        assert!(err.is_unwritable());
        let row = DetailRow {
            subject: "emoji 😀".into(),
            ..DetailRow::default()
        };
        let err = w.write_detail(&row).unwrap_err();
        assert!(err.is_unwritable());
        assert_eq!(err.to_string(), "GBK cannot encode \"😀\"");
        // Nothing of the failed rows was written.
        let out = w.finish(&Footer::default()).unwrap();
        let text = encoding_rs::GBK.decode(&out).0;
        assert_eq!(text.lines().count(), 6, "{text}");
    }
}
