//! Line reading with encoding detection, and the CSV cell splitter.

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

/// Decodes `bytes` into `out` (cleared first). On invalid bytes, says at which byte.
pub(crate) fn decode_into(encoding: Encoding, bytes: &[u8], out: &mut String) -> Result<(), Error> {
    out.clear();
    if encoding == Encoding::Gbk && !bytes.is_ascii() {
        let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
        let needed = decoder.max_utf8_buffer_length_without_replacement(bytes.len());
        out.reserve(needed.unwrap_or(bytes.len().saturating_mul(3)));
        let (result, read) = decoder.decode_to_string_without_replacement(bytes, out, true);
        return match result {
            encoding_rs::DecoderResult::InputEmpty => Ok(()),
            encoding_rs::DecoderResult::Malformed(bad, _) => {
                let at = read.saturating_sub(usize::from(bad));
                Err(Error::encoding("GBK", at + 1))
            }
            encoding_rs::DecoderResult::OutputFull => Err(Error::encoding("GBK", read + 1)),
        };
    }
    match core::str::from_utf8(bytes) {
        Ok(text) => {
            out.push_str(text);
            Ok(())
        }
        Err(e) => Err(Error::encoding("UTF-8", e.valid_up_to() + 1)),
    }
}

/// Reads lines (LF or CRLF), joining the lines of a quoted cell that spans a line break, and
/// decides the encoding at the first line that is not ASCII.
pub(crate) struct Lines<R> {
    inner: BufReader<R>,
    /// The current logical line, without its line ending.
    pub(crate) line: Vec<u8>,
    /// `line` decoded.
    text: String,
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
            text: String::with_capacity(1024),
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

    /// Reads and decodes the next line. Returns false at the end of input.
    pub(crate) fn next_plain(&mut self) -> Result<bool, Error> {
        self.line.clear();
        self.number = self.next_number;
        if !self.read_physical()? {
            return Ok(false);
        }
        self.decode()?;
        Ok(true)
    }

    fn decode(&mut self) -> Result<(), Error> {
        decode_into(self.encoding(), &self.line, &mut self.text).map_err(|e| e.at_line(self.number))
    }

    /// Splits the current line into `record`; while a quoted cell is open at the end of the line,
    /// appends a line break and the next line, and splits again.
    pub(crate) fn split_into(&mut self, record: &mut Record) -> Result<(), Error> {
        while record.split(&self.text)? == Split::Open {
            self.line.push(b'\n');
            if !self.read_physical()? {
                self.line.pop();
                return Err(Error::truncated("the closing quote of a cell"));
            }
            self.decode()?;
        }
        Ok(())
    }

    /// The current line decoded.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// Whether a split record is complete or ends inside a quoted cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    Complete,
    Open,
}

/// The cells of one record: unquoted, trailing tabs removed.
#[derive(Debug, Default)]
pub(crate) struct Record {
    text: String,
    spans: Vec<(usize, usize)>,
}

impl Record {
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let &(start, end) = self.spans.get(index)?;
        self.text.get(start..end)
    }

    /// Ends the cell that started at `start` in `bytes`, trimming its trailing TABs.
    fn push_span(&mut self, start: usize, mut end: usize) {
        while end > start && self.text.as_bytes().get(end - 1) == Some(&b'\t') {
            end -= 1;
        }
        self.spans.push((start, end));
    }

    /// Splits the decoded `text` into cells. Quoted cells (`"a,""b"""`) may hold commas, quotes
    /// and line breaks; tabs after a closing quote are skipped. Cells are cut at ASCII bytes only,
    /// so every span is on a character boundary.
    pub(crate) fn split(&mut self, text: &str) -> Result<Split, Error> {
        self.text.clear();
        self.spans.clear();
        let line = text.as_bytes();
        if !line.contains(&b'"') {
            // The common case: one copy of the line, cells are spans between commas.
            self.text.push_str(text);
            let mut start = 0;
            for (at, &b) in line.iter().enumerate() {
                if b == b',' {
                    self.push_span(start, at);
                    start = at + 1;
                }
            }
            self.push_span(start, line.len());
            return Ok(Split::Complete);
        }
        let mut i = 0;
        loop {
            let start = self.text.len();
            if line.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let Some(q) = line[i..].iter().position(|&b| b == b'"') else {
                        return Ok(Split::Open);
                    };
                    self.text.push_str(text.get(i..i + q).unwrap_or_default());
                    i += q + 1;
                    if line.get(i) == Some(&b'"') {
                        self.text.push('"');
                        i += 1;
                    } else {
                        break;
                    }
                }
                while line.get(i) == Some(&b'\t') {
                    i += 1;
                }
                self.push_span(start, self.text.len());
                match line.get(i) {
                    None => return Ok(Split::Complete),
                    Some(b',') => i += 1,
                    Some(_) => {
                        let rest = text.get(i..).unwrap_or_default();
                        return Err(Error::format("a comma after a closing quote", Some(rest)));
                    }
                }
            } else {
                let rest = text.get(i..).unwrap_or_default();
                let comma = rest.bytes().position(|b| b == b',');
                self.text
                    .push_str(rest.get(..comma.unwrap_or(rest.len())).unwrap_or_default());
                self.push_span(start, self.text.len());
                match comma {
                    Some(comma) => i += comma + 1,
                    None => return Ok(Split::Complete),
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
        assert_eq!(r.split(line).unwrap(), Split::Complete);
        (0..r.len()).map(|i| r.get(i).unwrap().to_owned()).collect()
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
        assert_eq!(r.split("a,\"open").unwrap(), Split::Open);
        assert!(r.split("\"a\"b,c").unwrap_err().is_format());
    }

    #[test]
    fn lines_detect_encoding_and_join_quoted_breaks() {
        let (gbk, _, _) = encoding_rs::GBK.encode("#支付宝\r\n\"a\nb\",c\nlast");
        let mut lines = Lines::new(&gbk[..]);
        assert!(lines.next_plain().unwrap());
        assert_eq!(lines.encoding(), Encoding::Gbk);
        assert_eq!(lines.text(), "#支付宝");
        let mut record = Record::default();
        assert!(lines.next_plain().unwrap());
        lines.split_into(&mut record).unwrap();
        assert_eq!(
            (lines.number, record.len(), record.get(0)),
            (2, 2, Some("a\nb"))
        );
        assert!(lines.next_plain().unwrap());
        lines.split_into(&mut record).unwrap();
        assert_eq!((lines.number, &lines.line[..]), (4, &b"last"[..]));
        assert!(!lines.next_plain().unwrap());

        let mut lines = Lines::new("\u{feff}#支付宝\n".as_bytes());
        assert!(lines.next_plain().unwrap());
        assert_eq!(lines.encoding(), Encoding::Utf8);
        assert_eq!(lines.text(), "#支付宝");

        let mut lines = Lines::new(&b"\"open\nstill open"[..]);
        assert!(lines.next_plain().unwrap());
        assert!(lines.split_into(&mut record).unwrap_err().is_truncated());
    }

    #[test]
    fn overlong_line_is_an_error() {
        let big = vec![b'a'; MAX_LINE + 10];
        let mut lines = Lines::new(&big[..]);
        assert!(lines.next_plain().unwrap_err().is_format());
    }
}
