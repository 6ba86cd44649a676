//! The streaming reader of one bill table (one CSV file or ZIP entry).

use std::io::Read;

use crate::error::Error;
use crate::footer::{BillHeader, Check, Footer, Totals};
use crate::lines::{Encoding, Lines, Record};
use crate::rows::{Cells, Layout, Row, TableKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Rows,
    Done,
    Failed,
}

/// Reads one bill table from a byte stream, one row at a time, in constant memory.
///
/// [`TableReader::new`] reads the `#` header lines, the begin marker and the header row; then
/// [`TableReader::read_row`] (or the [`Iterator`]) yields the rows; after the end marker it reads the
/// footer lines and stops. [`TableReader::check`] then compares the rows with the footer. The
/// encoding (GBK or UTF-8, with or without BOM) is detected from the first non-ASCII line.
///
/// After an error the iterator ends; the error says the entry, the line, the column and what was
/// expected.
pub struct TableReader<R> {
    lines: Lines<R>,
    entry: String,
    header: BillHeader,
    layout: Layout,
    record: Record,
    footer: Option<Footer>,
    totals: Totals,
    state: State,
}

impl<R> core::fmt::Debug for TableReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TableReader")
            .field("entry", &self.entry)
            .field("kind", &self.layout.kind)
            .field("line", &self.lines.number)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<R: Read> TableReader<R> {
    /// Starts reading a table; reads up to and including the header row.
    ///
    /// # Errors
    /// On I/O errors, invalid bytes, a line before the begin marker that is not a `#` line, an
    /// unknown marker, a missing header row or a header row without the table's key columns.
    pub fn new(reader: R) -> Result<Self, Error> {
        Self::with_name(reader, "")
    }

    /// Like [`TableReader::new`], naming the file or ZIP entry in errors.
    ///
    /// # Errors
    /// As [`TableReader::new`].
    pub fn with_name(reader: R, name: &str) -> Result<Self, Error> {
        Self::start(reader, name).map_err(|e| e.at_entry(name))
    }

    fn start(reader: R, name: &str) -> Result<Self, Error> {
        let mut lines = Lines::new(reader);
        let mut header = BillHeader::default();
        let kind = loop {
            if !lines.next_plain()? {
                return Err(
                    Error::truncated("the begin marker #-----…列表-----").at_line(lines.number)
                );
            }
            let text = lines.text();
            let Some(comment) = text.strip_prefix('#') else {
                if text.is_empty() {
                    continue;
                }
                return Err(
                    Error::format("a # header line or the begin marker", Some(text))
                        .at_line(lines.number),
                );
            };
            if let Some(list) = marker_name(comment) {
                match TableKind::from_list_name(list) {
                    Some(kind) => break kind,
                    None => {
                        return Err(Error::format(
                            "the begin marker of 业务明细列表, 业务汇总列表 or 账务明细列表",
                            Some(text),
                        )
                        .at_line(lines.number));
                    }
                }
            }
            header
                .absorb(comment)
                .map_err(|e| e.at_line(lines.number))?;
        };
        let names = loop {
            if !lines.next_plain()? {
                return Err(Error::truncated("the header row").at_line(lines.number));
            }
            if lines.line.is_empty() {
                continue;
            }
            let mut record = Record::default();
            lines
                .split_into(&mut record)
                .map_err(|e| e.at_line(lines.number))?;
            let mut names = Vec::with_capacity(record.len());
            for i in 0..record.len() {
                names.push(record.get(i).unwrap_or_default().trim().to_owned());
            }
            break names;
        };
        let layout = Layout::new(kind, names).map_err(|e| e.at_line(lines.number))?;
        Ok(Self {
            lines,
            entry: name.to_owned(),
            header,
            layout,
            record: Record::default(),
            footer: None,
            totals: Totals::default(),
            state: State::Rows,
        })
    }

    /// Reads the next row; `Ok(None)` after the end marker and the footer.
    ///
    /// # Errors
    /// On I/O errors, invalid bytes, a row with the wrong number of cells, a cell of the wrong type,
    /// an unexpected `#` line, a malformed footer line, or input that ends before the end marker.
    pub fn read_row(&mut self) -> Result<Option<Row>, Error> {
        if self.state != State::Rows {
            return Ok(None);
        }
        match self.next_row() {
            Ok(Some(row)) => {
                self.totals.add(&row);
                Ok(Some(row))
            }
            Ok(None) => {
                self.state = State::Done;
                Ok(None)
            }
            Err(e) => {
                self.state = State::Failed;
                Err(e.at_line(self.lines.number).at_entry(&self.entry))
            }
        }
    }

    fn next_row(&mut self) -> Result<Option<Row>, Error> {
        loop {
            if !self.lines.next_plain()? {
                return Err(Error::truncated("a data row or the end marker"));
            }
            match self.lines.line.first() {
                None => continue,
                Some(b'#') => {
                    let text = self.lines.text();
                    let is_end = marker_name(&text[1..])
                        .and_then(|n| n.strip_suffix("结束"))
                        .is_some_and(|n| n == self.layout.kind.list_name());
                    if !is_end {
                        let end = self.layout.kind.end_marker();
                        return Err(Error::format(format!("a data row or {end}"), Some(text)));
                    }
                    self.read_footer()?;
                    return Ok(None);
                }
                Some(_) => {}
            }
            self.lines.split_into(&mut self.record)?;
            let expected = self.layout.names.len();
            if self.record.len() != expected {
                return Err(Error::format(
                    format!("{expected} cells as in the header row"),
                    Some(&format!("{} cells", self.record.len())),
                ));
            }
            let cells = Cells {
                record: &self.record,
                layout: &self.layout,
            };
            return Row::from_cells(&cells).map(Some);
        }
    }

    fn read_footer(&mut self) -> Result<(), Error> {
        let mut footer = Footer::default();
        while self.lines.next_plain()? {
            let text = self.lines.text();
            match text.strip_prefix('#') {
                Some(comment) => footer
                    .absorb(comment)
                    .map_err(|e| e.at_line(self.lines.number))?,
                None if text.trim().is_empty() => {}
                None => {
                    return Err(
                        Error::format("a # footer line after the end marker", Some(text))
                            .at_line(self.lines.number),
                    );
                }
            }
        }
        self.footer = Some(footer);
        Ok(())
    }

    /// Reads the remaining rows, keeping only the running totals; returns the footer.
    ///
    /// # Errors
    /// As [`TableReader::read_row`].
    pub fn skip_to_end(&mut self) -> Result<&Footer, Error> {
        while self.read_row()?.is_some() {}
        self.footer
            .as_ref()
            .ok_or_else(|| Error::truncated("the footer").at_entry(&self.entry))
    }
}

impl<R> TableReader<R> {
    /// The table in this file.
    #[must_use]
    pub fn kind(&self) -> TableKind {
        self.layout.kind
    }

    /// The `#` lines above the table.
    #[must_use]
    pub fn header(&self) -> &BillHeader {
        &self.header
    }

    /// The header row as read (names trimmed of TABs and spaces).
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.layout.names
    }

    /// The names of the columns beyond the standard ones, in file order.
    pub fn extra_columns(&self) -> impl Iterator<Item = &str> {
        self.layout
            .extras
            .iter()
            .filter_map(|&i| self.layout.names.get(i).map(String::as_str))
    }

    /// The detected encoding.
    #[must_use]
    pub fn encoding(&self) -> Encoding {
        self.lines.encoding()
    }

    /// The file or entry name given to [`TableReader::with_name`].
    #[must_use]
    pub fn name(&self) -> &str {
        &self.entry
    }

    /// The footer, once the reader has passed the end marker.
    #[must_use]
    pub fn footer(&self) -> Option<&Footer> {
        self.footer.as_ref()
    }

    /// Sums over the rows read so far.
    #[must_use]
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Whether every row and the footer have been read.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Compares the rows read with the footer totals: counts and amounts per business type
    /// (交易/退款 for the detail table, 支出/收入 for the account flow) or, for the summary, the store
    /// rows with the `合计` row (a summary without one, which real files may be, passes). Reports
    /// [`crate::Difference::NotFinished`] before the end.
    #[must_use]
    pub fn check(&self) -> Check {
        match (&self.footer, self.state) {
            (Some(footer), State::Done) => self.totals.check(self.layout.kind, footer),
            _ => Check::not_finished(),
        }
    }
}

impl<R: Read> Iterator for TableReader<R> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_row().transpose()
    }
}

/// `-----name-----` → `name` for a marker line (without its `#`).
fn marker_name(comment: &str) -> Option<&str> {
    let inner = comment.trim_start_matches('-');
    if inner.len() == comment.len() {
        return None;
    }
    let name = inner.trim_end_matches('-');
    if name.len() == inner.len() || name.is_empty() {
        return None;
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names() {
        assert_eq!(marker_name("---业务明细列表---"), Some("业务明细列表"));
        assert_eq!(
            marker_name("-----业务明细列表结束--"),
            Some("业务明细列表结束")
        );
        assert_eq!(marker_name("业务明细列表"), None);
        assert_eq!(marker_name("------"), None);
        assert_eq!(marker_name("--a"), None);
    }
}
