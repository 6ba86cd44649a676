//! The bill ZIP: entries with GBK names, each a table read as a stream.

use std::io::{Read, Seek, SeekFrom};

use crate::error::Error;
use crate::reader::TableReader;
use crate::rows::TableKind;

/// One member of a bill ZIP.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The entry name, decoded from GBK (Alipay sets no UTF-8 flag) or UTF-8.
    pub name: String,
    /// Position in the archive.
    pub index: usize,
    /// The table the name announces (`…_业务明细.csv`, `…_业务明细(汇总).csv`, `…_账务明细.csv`).
    pub kind: Option<TableKind>,
    /// Uncompressed size in bytes, as the archive declares it.
    pub size: u64,
}

/// A bill ZIP opened for reading.
///
/// Opening reads only the central directory. [`BillArchive::open`] returns a [`TableReader`] that
/// inflates the entry as it reads, so memory stays flat whatever the size of the entry.
pub struct BillArchive<R> {
    zip: zip::ZipArchive<R>,
    entries: Vec<Entry>,
}

impl<R> core::fmt::Debug for BillArchive<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BillArchive")
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

/// Decodes a ZIP entry name: UTF-8 when it is valid UTF-8, GBK otherwise.
fn entry_name(raw: &[u8]) -> String {
    match core::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let (text, _, _) = encoding_rs::GBK.decode(raw);
            text.into_owned()
        }
    }
}

impl<R: Read + Seek> BillArchive<R> {
    /// Opens a bill ZIP.
    ///
    /// # Errors
    /// When the input is not a ZIP archive (or uses a compression other than stored and deflate).
    pub fn new(reader: R) -> Result<Self, Error> {
        let mut zip = zip::ZipArchive::new(reader).map_err(Error::zip)?;
        let mut entries = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let file = zip.by_index_raw(index).map_err(Error::zip)?;
            if file.is_dir() {
                continue;
            }
            let name = entry_name(file.name_raw());
            let kind = TableKind::from_entry_name(&name);
            entries.push(Entry {
                name,
                index,
                kind,
                size: file.size(),
            });
        }
        Ok(Self { zip, entries })
    }

    /// The file entries, in archive order.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Starts reading the table in `entry` (one of [`BillArchive::entries`]).
    ///
    /// # Errors
    /// As [`TableReader::new`], and when the entry cannot be opened.
    pub fn open(&mut self, entry: &Entry) -> Result<TableReader<EntryReader<'_, R>>, Error> {
        let name = entry.name.clone();
        TableReader::with_name(self.entry_reader(entry)?, &name)
    }

    /// The raw (inflated) bytes of `entry`, as a stream: to save the CSV as Alipay sent it.
    ///
    /// # Errors
    /// When the entry cannot be opened.
    pub fn entry_reader(&mut self, entry: &Entry) -> Result<EntryReader<'_, R>, Error> {
        let file = self
            .zip
            .by_index(entry.index)
            .map_err(|e| Error::zip(e).at_entry(&entry.name))?;
        Ok(EntryReader(file))
    }

    /// Starts reading the first entry whose name announces `kind`, if there is one.
    ///
    /// # Errors
    /// As [`BillArchive::open`].
    pub fn open_kind(
        &mut self,
        kind: TableKind,
    ) -> Result<Option<TableReader<EntryReader<'_, R>>>, Error> {
        match self.entries.iter().find(|e| e.kind == Some(kind)).cloned() {
            Some(entry) => self.open(&entry).map(Some),
            None => Ok(None),
        }
    }
}

/// The inflating byte stream of one ZIP entry.
pub struct EntryReader<'a, R: Read>(zip::read::ZipFile<'a, R>);

impl<R: Read> Read for EntryReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> core::fmt::Debug for EntryReader<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EntryReader").finish_non_exhaustive()
    }
}

/// Reads every table of a bill, whether `input` is a ZIP or a single CSV file (GBK or UTF-8).
///
/// `f` is called once per table with a reader positioned on the first row; the tables are read
/// one after the other, each as a stream. `name` names a single CSV in errors (entry names are
/// used for ZIP members). Entries whose names are not bill tables (not `.csv`) are skipped. This is
/// what `alipay bill parse FILE` runs.
///
/// ```
/// # fn main() -> Result<(), alipay_bill::Error> {
/// let csv = "#支付宝业务明细查询\n#-----------------------------------------业务明细列表----------------------------------------\n支付宝交易号,业务类型,商家实收（元）\n2019091622001458860515315453\t,交易\t,0.01\n#-----------------------------------------业务明细列表结束------------------------------------\n#交易合计：1笔，商家实收共0.01元，商家优惠共0.00元\n#退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元\n";
/// let mut rows = 0;
/// alipay_bill::read_tables(std::io::Cursor::new(csv), "bill.csv", |table| {
///     for row in table.by_ref() {
///         row?;
///         rows += 1;
///     }
///     assert!(table.check().is_ok());
///     Ok::<_, alipay_bill::Error>(())
/// })?;
/// assert_eq!(rows, 1);
/// # Ok(()) }
/// ```
///
/// # Errors
/// The first error of opening or reading, or of `f`.
pub fn read_tables<R, F, E>(mut input: R, name: &str, mut f: F) -> Result<(), E>
where
    R: Read + Seek,
    F: FnMut(&mut TableReader<&mut dyn Read>) -> Result<(), E>,
    E: From<Error>,
{
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..]).map_err(Error::io)? {
            0 => break,
            n => got += n,
        }
    }
    input.seek(SeekFrom::Start(0)).map_err(Error::io)?;
    if got == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        let mut archive = BillArchive::new(input)?;
        let entries: Vec<Entry> = archive.entries().to_vec();
        for entry in entries.iter().filter(|e| is_table_name(&e.name)) {
            let mut file = archive
                .zip
                .by_index(entry.index)
                .map_err(|e| Error::zip(e).at_entry(&entry.name))?;
            let mut reader = TableReader::with_name(&mut file as &mut dyn Read, &entry.name)?;
            f(&mut reader)?;
        }
        Ok(())
    } else {
        let mut reader = TableReader::with_name(&mut input as &mut dyn Read, name)?;
        f(&mut reader)
    }
}

/// Reads every table of a bill ZIP from a non-seekable stream (an HTTP body being downloaded), entry
/// after entry through the local headers, without a temporary file. Otherwise like [`read_tables`]:
/// `f` is called once per `.csv` entry; other entries are skipped.
///
/// Alipay's archives carry the sizes in the local headers, as the stream reader needs. The central
/// directory at the end is not consulted.
///
/// # Errors
/// The first error of reading the archive or a table, or of `f`.
pub fn read_zip_stream<R, F, E>(mut input: R, mut f: F) -> Result<(), E>
where
    R: Read,
    F: FnMut(&mut TableReader<&mut dyn Read>) -> Result<(), E>,
    E: From<Error>,
{
    loop {
        let next = zip::read::read_zipfile_from_stream(&mut input).map_err(Error::zip)?;
        let Some(mut file) = next else { return Ok(()) };
        let name = entry_name(file.name_raw());
        if file.is_dir() || !is_table_name(&name) {
            continue; // dropping the entry skips its data
        }
        let mut reader = TableReader::with_name(&mut file as &mut dyn Read, &name)?;
        f(&mut reader)?;
    }
}

fn is_table_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".csv")
}
