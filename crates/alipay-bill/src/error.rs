//! The one error type of the crate.

use core::fmt;

/// An error reading or writing a bill.
///
/// It says where: the ZIP entry (or file name), the 1-based line, and for a cell the 1-based column
/// number with its header name; and what was expected. The cause (an I/O or ZIP error) is available
/// through [`std::error::Error::source`]. Use the `is_*` predicates to branch.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: Kind,
    entry: Option<String>,
    line: Option<u64>,
    column: Option<(usize, String)>,
}

#[derive(Debug)]
enum Kind {
    Io(std::io::Error),
    Zip(zip::result::ZipError),
    /// Bytes that are not valid in the file's encoding.
    Encoding {
        encoding: &'static str,
        /// 1-based byte offset in the line.
        at: usize,
    },
    /// The layout of the file: a missing header, marker or column, an unexpected line.
    Format {
        expected: String,
        found: Option<String>,
    },
    /// A cell whose text is not of its column's type.
    Value {
        expected: &'static str,
        found: String,
    },
    /// The input ended before the end marker.
    Truncated {
        expected: &'static str,
    },
    /// The writer met text that GBK cannot represent.
    Unencodable {
        text: String,
    },
    /// The writer was given a value it cannot write in the bill format.
    Invalid {
        what: String,
    },
}

/// Keeps quoted input in messages short.
fn snippet(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

impl Error {
    fn new(kind: Kind) -> Self {
        Self(Box::new(Inner {
            kind,
            entry: None,
            line: None,
            column: None,
        }))
    }

    pub(crate) fn io(err: std::io::Error) -> Self {
        Self::new(Kind::Io(err))
    }

    pub(crate) fn zip(err: zip::result::ZipError) -> Self {
        Self::new(Kind::Zip(err))
    }

    pub(crate) fn encoding(encoding: &'static str, at: usize) -> Self {
        Self::new(Kind::Encoding { encoding, at })
    }

    pub(crate) fn format(expected: impl Into<String>, found: Option<&str>) -> Self {
        Self::new(Kind::Format {
            expected: expected.into(),
            found: found.map(snippet),
        })
    }

    pub(crate) fn value(expected: &'static str, found: &str) -> Self {
        Self::new(Kind::Value {
            expected,
            found: snippet(found),
        })
    }

    pub(crate) fn truncated(expected: &'static str) -> Self {
        Self::new(Kind::Truncated { expected })
    }

    pub(crate) fn unencodable(text: &str) -> Self {
        Self::new(Kind::Unencodable {
            text: snippet(text),
        })
    }

    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        Self::new(Kind::Invalid { what: what.into() })
    }

    pub(crate) fn at_entry(mut self, entry: &str) -> Self {
        if self.0.entry.is_none() && !entry.is_empty() {
            self.0.entry = Some(entry.to_owned());
        }
        self
    }

    pub(crate) fn at_line(mut self, line: u64) -> Self {
        if self.0.line.is_none() {
            self.0.line = Some(line);
        }
        self
    }

    pub(crate) fn at_column(mut self, index: usize, name: &str) -> Self {
        if self.0.column.is_none() {
            self.0.column = Some((index + 1, name.to_owned()));
        }
        self
    }

    /// The ZIP entry or file name the error is in, when known.
    #[must_use]
    pub fn entry(&self) -> Option<&str> {
        self.0.entry.as_deref()
    }

    /// The 1-based line number, when the error is about a line.
    #[must_use]
    pub fn line(&self) -> Option<u64> {
        self.0.line
    }

    /// The 1-based column number and the column's header name, when the error is about a cell.
    #[must_use]
    pub fn column(&self) -> Option<(usize, &str)> {
        self.0.column.as_ref().map(|(n, name)| (*n, name.as_str()))
    }

    /// An I/O error of the underlying reader or writer.
    #[must_use]
    pub fn is_io(&self) -> bool {
        matches!(self.0.kind, Kind::Io(_))
    }

    /// The input is not a readable ZIP archive.
    #[must_use]
    pub fn is_zip(&self) -> bool {
        matches!(self.0.kind, Kind::Zip(_))
    }

    /// Bytes that are not valid GBK or UTF-8.
    #[must_use]
    pub fn is_encoding(&self) -> bool {
        matches!(self.0.kind, Kind::Encoding { .. })
    }

    /// The file's layout is not a bill's: a missing header row, marker or column, an unexpected line,
    /// a row with the wrong number of cells.
    #[must_use]
    pub fn is_format(&self) -> bool {
        matches!(self.0.kind, Kind::Format { .. })
    }

    /// A cell whose text is not of its column's type (an amount, a count, a time).
    #[must_use]
    pub fn is_value(&self) -> bool {
        matches!(self.0.kind, Kind::Value { .. })
    }

    /// The input ended before the table's end marker.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        matches!(self.0.kind, Kind::Truncated { .. })
    }

    /// The writer was given text that GBK cannot represent, or a value the format cannot hold.
    #[must_use]
    pub fn is_unwritable(&self) -> bool {
        matches!(self.0.kind, Kind::Unencodable { .. } | Kind::Invalid { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.entry, self.0.line) {
            (Some(entry), Some(line)) => write!(f, "{entry}:{line}: ")?,
            (Some(entry), None) => write!(f, "{entry}: ")?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        if let Some((n, name)) = &self.0.column {
            write!(f, "column {n} ({name}): ")?;
        }
        match &self.0.kind {
            Kind::Io(_) => f.write_str("I/O error"),
            Kind::Zip(_) => f.write_str("not a readable bill ZIP"),
            Kind::Encoding { encoding, at } => {
                write!(f, "invalid {encoding} bytes at byte {at} of the line")
            }
            Kind::Format {
                expected,
                found: Some(found),
            } => {
                write!(f, "expected {expected}, found {found:?}")
            }
            Kind::Format {
                expected,
                found: None,
            } => write!(f, "expected {expected}"),
            Kind::Value { expected, found } => write!(f, "expected {expected}, found {found:?}"),
            Kind::Truncated { expected } => {
                write!(f, "the file ends early: expected {expected}")
            }
            Kind::Unencodable { text } => write!(f, "GBK cannot encode {text:?}"),
            Kind::Invalid { what } => write!(f, "cannot write {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            Kind::Io(err) => Some(err),
            Kind::Zip(err) => Some(err),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Self::io(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_entry_line_and_column() {
        let err = Error::value("an amount like 0.01", "abc")
            .at_column(12, "商家实收（元）")
            .at_line(7)
            .at_entry("x_业务明细.csv");
        assert_eq!(
            err.to_string(),
            "x_业务明细.csv:7: column 13 (商家实收（元）): expected an amount like 0.01, found \"abc\""
        );
        assert!(err.is_value());
        assert_eq!(err.line(), Some(7));
        assert_eq!(err.column(), Some((13, "商家实收（元）")));
        assert_eq!(err.entry(), Some("x_业务明细.csv"));
    }

    #[test]
    fn long_input_is_cut() {
        let long = "长".repeat(100);
        let err = Error::format("a header row", Some(&long));
        assert_eq!(
            err.to_string(),
            format!("expected a header row, found \"{}…\"", "长".repeat(60))
        );
    }
}
