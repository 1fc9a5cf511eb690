//! Streaming CSV records with exact origins.
//!
//! Wraps the `csv-core` parser (RFC 4180 quoting, `\n`, `\r\n` or `\r` line
//! ends, any number of fields per row) and adds what the `csv` crate does not
//! give: the physical line and byte offset where each record really starts.
//! Empty lines between records are skipped here and counted, so a record
//! after blank lines reports its own line, not the first blank one. Lines are
//! counted by `\n`.

use std::io::{self, BufRead};
use std::str::Utf8Error;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

/// Reads CSV records one by one from a buffered input.
pub struct CsvRecords<R> {
    input: R,
    parser: Reader,
    line: u64,
    offset: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// One record, borrowed from the reader until the next call.
pub struct CsvRecord<'a> {
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// Byte offset where the record starts.
    pub offset: u64,
    bytes: &'a [u8],
    ends: &'a [usize],
}

impl<R: BufRead> CsvRecords<R> {
    /// Reads `input` with `delimiter`; offsets start at `offset` (the bytes
    /// already taken from the input, such as a BOM).
    pub fn new(input: R, delimiter: u8, offset: u64) -> Self {
        Self {
            input,
            parser: ReaderBuilder::new().delimiter(delimiter).build(),
            line: 1,
            offset,
            bytes: vec![0; 4096],
            ends: vec![0; 64],
        }
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<CsvRecord<'_>>> {
        self.skip_line_ends()?;
        let (line, offset) = (self.line, self.offset);
        let (mut bytes_len, mut ends_len) = (0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let (result, read, written, ended) = self.parser.read_record(
                input,
                &mut self.bytes[bytes_len..],
                &mut self.ends[ends_len..],
            );
            self.line += count_newlines(&input[..read]);
            self.offset += read as u64;
            self.input.consume(read);
            bytes_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.bytes.resize(self.bytes.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    return Ok(Some(CsvRecord {
                        line,
                        offset,
                        bytes: &self.bytes[..bytes_len],
                        ends: &self.ends[..ends_len],
                    }));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Consumes line terminators before a record, counting lines.
    fn skip_line_ends(&mut self) -> io::Result<()> {
        loop {
            let input = self.input.fill_buf()?;
            let blank = input
                .iter()
                .take_while(|&&byte| byte == b'\n' || byte == b'\r')
                .count();
            let more = blank == input.len() && blank > 0;
            self.line += count_newlines(&input[..blank]);
            self.offset += blank as u64;
            self.input.consume(blank);
            if !more {
                return Ok(());
            }
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

impl CsvRecord<'_> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True for a record without fields (never returned by [`CsvRecords`]).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The fields as text, or the UTF-8 error of the first invalid one.
    pub fn fields(&self) -> Result<Vec<&str>, Utf8Error> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let field = std::str::from_utf8(&self.bytes[start..end]);
                start = end;
                field
            })
            .collect()
    }

    /// True when every field is empty or whitespace.
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], delimiter: u8) -> Vec<(u64, u64, Vec<String>)> {
        let mut reader = CsvRecords::new(input, delimiter, 0);
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            let fields = record
                .fields()
                .unwrap()
                .into_iter()
                .map(str::to_owned)
                .collect();
            out.push((record.line, record.offset, fields));
        }
        out
    }

    #[test]
    fn origins_skip_blank_lines() {
        let rows = records(b"\r\na,b\r\n\r\n\r\nc\n\n\"d\nd\";\"e\"\"\"\nf", b';');
        let expected: Vec<(u64, u64, Vec<String>)> = vec![
            (2, 2, vec!["a,b".into()]),
            (5, 11, vec!["c".into()]),
            (7, 14, vec!["d\nd".into(), "e\"".into()]),
            (9, 26, vec!["f".into()]),
        ];
        assert_eq!(rows, expected);
    }

    #[test]
    fn long_records_grow_buffers() {
        let long = "x".repeat(10_000);
        let many = vec!["y"; 200].join(",");
        let input = format!("{long},{long}\n{many}\n");
        let rows = records(input.as_bytes(), b',');
        assert_eq!(rows[0].2, [long.clone(), long]);
        assert_eq!(rows[1].2.len(), 200);
        assert_eq!((rows[1].0, rows[1].1), (2, 20_002));
    }

    #[test]
    fn empty_input() {
        assert!(records(b"", b',').is_empty());
        assert!(records(b"\n\r\n", b',').is_empty());
    }

    #[test]
    fn invalid_utf8_and_blank_records() {
        let mut reader = CsvRecords::new(&b"\xff,a\n  ,\t\n"[..], b',', 0);
        assert!(reader.next_record().unwrap().unwrap().fields().is_err());
        assert!(reader.next_record().unwrap().unwrap().is_blank());
    }
}
