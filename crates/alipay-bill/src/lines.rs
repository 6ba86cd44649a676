//! Line reading with encoding detection, and the CSV cell splitter.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

use crate::error::Error;

/// The text encoding of a bill file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// GBK (decoded as GB18030, its superset), as Alipay serves bills.
    #[default]
    Gbk,
    /// UTF-8, with or without a byte-order mark.
    Utf8,
}

impl Encoding {
    /// The name used in messages: `GBK` or `UTF-8`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gbk => "GBK",
            Self::Utf8 => "UTF-8",
        }
    }
}

/// Decodes one cell or line.
pub(crate) fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Cow<'_, str>, Error> {
    match encoding {
        Encoding::Utf8 => core::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| Error::encoding("UTF-8")),
        Encoding::Gbk => encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(|| Error::encoding("GBK")),
    }
}

/// Reads lines (LF or CRLF), joining the lines of a quoted cell that spans a line break, and
/// decides the encoding at the first line that is not ASCII.
pub(crate) struct Lines<R> {
    inner: BufReader<R>,
    /// The current logical line, without its line ending.
    pub(crate) line: Vec<u8>,
    /// 1-based number of the first physical line of `line`.
    pub(crate) number: u64,
    next_number: u64,
    encoding: Option<Encoding>,
}

const BUFFER: usize = 64 * 1024;
/// A logical line longer than this is an error, so a file without line breaks cannot exhaust memory.
pub(crate) const MAX_LINE: usize = 1024 * 1024;

impl<R> Lines<R> {
    /// The encoding, once decided (GBK if every line so far was ASCII).
    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or_default()
    }
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner: BufReader::with_capacity(BUFFER, inner),
            line: Vec::with_capacity(1024),
            number: 0,
            next_number: 1,
            encoding: None,
        }
    }

    /// Reads the next physical line, appending to `self.line`. Returns false at the end of input.
    fn read_physical(&mut self) -> Result<bool, Error> {
        let start = self.line.len();
        // Read at most MAX_LINE + 1 bytes so one huge line is an error, not an allocation.
        let limit = u64::try_from(MAX_LINE + 1 - start.min(MAX_LINE)).unwrap_or(u64::MAX);
        let n = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        self.next_number += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        } else if self.line.len() > MAX_LINE {
            return Err(
                Error::format(format!("a line of at most {MAX_LINE} bytes"), None)
                    .at_line(self.number),
            );
        }
        if self.encoding.is_none() && start == 0 {
            if self.line.starts_with(b"\xEF\xBB\xBF") {
                self.line.drain(..3);
                self.encoding = Some(Encoding::Utf8);
            } else if !self.line.is_ascii() {
                self.encoding = Some(if core::str::from_utf8(&self.line).is_ok() {
                    Encoding::Utf8
                } else {
                    Encoding::Gbk
                });
            }
        }
        Ok(true)
    }

    /// Reads the next line without CSV quote handling (header and footer comment lines).
    pub(crate) fn next_plain(&mut self) -> Result<bool, Error> {
        self.line.clear();
        self.number = self.next_number;
        self.read_physical()
    }

    /// Reads the next record: lines are joined with `\n` while a quoted cell is open.
    pub(crate) fn next_record(&mut self) -> Result<bool, Error> {
        if !self.next_plain()? {
            return Ok(false);
        }
        let mut quotes = count_quotes(&self.line);
        while quotes % 2 == 1 {
            let before = self.line.len();
            self.line.push(b'\n');
            if !self.read_physical()? {
                self.line.truncate(before);
                return Err(Error::truncated("the closing quote of a cell").at_line(self.number));
            }
            quotes += count_quotes(&self.line[before + 1..]);
        }
        Ok(true)
    }

    /// The current line decoded.
    pub(crate) fn text(&self) -> Result<Cow<'_, str>, Error> {
        decode(self.encoding(), &self.line).map_err(|e| e.at_line(self.number))
    }
}

fn count_quotes(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'"').count()
}

/// The cells of one record: unquoted, trailing tabs removed, as raw bytes.
#[derive(Debug, Default)]
pub(crate) struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        self.bytes.get(start..end)
    }

    fn end_cell(&mut self) {
        while self.bytes.len() > self.ends.last().copied().unwrap_or(0)
            && self.bytes.last() == Some(&b'\t')
        {
            self.bytes.pop();
        }
        self.ends.push(self.bytes.len());
    }

    /// Splits `line` into cells. Quoted cells (`"a,""b"""`) may hold commas, quotes and line
    /// breaks; tabs after a closing quote are skipped. GBK trail bytes never collide with `,`, `"`
    /// or TAB (all below 0x40), so splitting works on the raw bytes of either encoding.
    pub(crate) fn split(&mut self, line: &[u8]) -> Result<(), Error> {
        self.bytes.clear();
        self.ends.clear();
        let mut i = 0;
        loop {
            if line.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let Some(q) = line[i..].iter().position(|&b| b == b'"') else {
                        return Err(Error::format("a closing quote", None));
                    };
                    self.bytes.extend_from_slice(&line[i..i + q]);
                    i += q + 1;
                    if line.get(i) == Some(&b'"') {
                        self.bytes.push(b'"');
                        i += 1;
                    } else {
                        break;
                    }
                }
                while line.get(i) == Some(&b'\t') {
                    i += 1;
                }
                self.end_cell();
                match line.get(i) {
                    None => return Ok(()),
                    Some(b',') => i += 1,
                    Some(_) => {
                        let rest = String::from_utf8_lossy(&line[i..]);
                        return Err(Error::format("a comma after a closing quote", Some(&rest)));
                    }
                }
            } else {
                let rest = &line[i..];
                match rest.iter().position(|&b| b == b',') {
                    Some(comma) => {
                        self.bytes.extend_from_slice(&rest[..comma]);
                        self.end_cell();
                        i += comma + 1;
                    }
                    None => {
                        self.bytes.extend_from_slice(rest);
                        self.end_cell();
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str) -> Vec<String> {
        let mut r = Record::default();
        r.split(line.as_bytes()).unwrap();
        (0..r.len())
            .map(|i| String::from_utf8(r.get(i).unwrap().to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn splits_cells_and_trims_tabs() {
        assert_eq!(cells("a\t,b,\t,,c\t\t"), ["a", "b", "", "", "c"]);
        assert_eq!(cells(""), [""]);
        assert_eq!(cells(","), ["", ""]);
        assert_eq!(cells("\"x,y\"\t,\"q\"\"\",\"\""), ["x,y", "q\"", ""]);
        assert_eq!(cells("\"a\nb\t\",z"), ["a\nb", "z"]);
        assert_eq!(cells("a\"b,c"), ["a\"b", "c"]);
    }

    #[test]
    fn split_errors() {
        let mut r = Record::default();
        assert!(r.split(b"\"open").unwrap_err().is_format());
        assert!(r.split(b"\"a\"b,c").unwrap_err().is_format());
    }

    #[test]
    fn lines_detect_encoding_and_join_quoted_breaks() {
        let (gbk, _, _) = encoding_rs::GBK.encode("#支付宝\r\n\"a\nb\",c\nlast");
        let mut lines = Lines::new(&gbk[..]);
        assert!(lines.next_plain().unwrap());
        assert_eq!(lines.encoding(), Encoding::Gbk);
        assert_eq!(lines.text().unwrap(), "#支付宝");
        assert!(lines.next_record().unwrap());
        assert_eq!((lines.number, &lines.line[..]), (2, &b"\"a\nb\",c"[..]));
        assert!(lines.next_record().unwrap());
        assert_eq!((lines.number, &lines.line[..]), (4, &b"last"[..]));
        assert!(!lines.next_record().unwrap());

        let mut lines = Lines::new("\u{feff}#支付宝\n".as_bytes());
        assert!(lines.next_plain().unwrap());
        assert_eq!(lines.encoding(), Encoding::Utf8);
        assert_eq!(lines.text().unwrap(), "#支付宝");

        let mut lines = Lines::new(&b"\"open\nstill open"[..]);
        assert!(lines.next_record().unwrap_err().is_truncated());
    }

    #[test]
    fn overlong_line_is_an_error() {
        let big = vec![b'a'; MAX_LINE + 10];
        let mut lines = Lines::new(&big[..]);
        assert!(lines.next_plain().unwrap_err().is_format());
    }
}
