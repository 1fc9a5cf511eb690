//! The scanner behind [`super::stream_elements`]: it reads the input in
//! blocks, finds where each value ends by following strings, escapes and
//! brackets only, and counts lines as `serde_json` does, so that errors
//! between values can be worded and placed as `serde_json` would.

use std::fmt;
use std::io::{self, Cursor, Read};

use serde::de::{self, MapAccess, SeqAccess, Visitor};

use super::{ElementAt, message_of};

/// Where a value starts in the input.
#[derive(Clone, Copy)]
pub(super) struct Start {
    offset: u64,
    line: u64,
    /// Bytes before it on its line.
    column: u64,
}

impl Start {
    pub(super) fn at(self, base: u64, index: Option<u64>) -> ElementAt {
        ElementAt {
            index,
            line: self.line,
            offset: base + self.offset,
        }
    }

    /// `serde_json`'s error about the value, at its place in the input.
    pub(super) fn locate(self, error: &serde_json::Error) -> String {
        let (line, column) = (error.line() as u64, error.column() as u64);
        let (line, column) = match line {
            0 | 1 => (self.line, self.column + column),
            _ => (self.line + line - 1, column),
        };
        format!("line {line} column {column}: {}", message_of(error))
    }
}

/// Reads the input in blocks and scans JSON structure, keeping count of
/// lines the way `serde_json` does for its errors.
pub(super) struct Scanner<R> {
    input: R,
    buffer: Box<[u8]>,
    /// Bytes of `buffer` read from the input, and of those consumed.
    filled: usize,
    position: usize,
    /// Input offset of `buffer[0]`.
    buffer_offset: u64,
    /// 1-based line of the next byte, and the input offset where it starts.
    line: u64,
    line_start: u64,
    /// Closing brackets expected, innermost last (scanning a value).
    closers: Vec<u8>,
}

/// Bytes read from the input at a time.
const BLOCK_BYTES: usize = 64 * 1024;

impl<R: Read> Scanner<R> {
    pub(super) fn new(input: R) -> Self {
        Self {
            input,
            buffer: vec![0; BLOCK_BYTES].into_boxed_slice(),
            filled: 0,
            position: 0,
            buffer_offset: 0,
            line: 1,
            line_start: 0,
            closers: Vec::new(),
        }
    }

    /// The unconsumed bytes of the buffer, reading a block when it has none
    /// (empty at the end of the input).
    fn available(&mut self) -> Result<&[u8], String> {
        if self.position == self.filled {
            self.buffer_offset += self.filled as u64;
            self.position = 0;
            self.filled = loop {
                match self.input.read(&mut self.buffer) {
                    Ok(read) => break read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(format!("cannot read input: {error}")),
                }
            };
        }
        Ok(&self.buffer[self.position..self.filled])
    }

    pub(super) fn peek(&mut self) -> Result<Option<u8>, String> {
        Ok(self.available()?.first().copied())
    }

    /// Consumes `count` available bytes, counting lines.
    pub(super) fn take(&mut self, count: usize) {
        let taken = &self.buffer[self.position..self.position + count];
        if let Some(last) = memchr::memrchr(b'\n', taken) {
            self.line += memchr::memchr_iter(b'\n', taken).count() as u64;
            self.line_start = self.buffer_offset + (self.position + last + 1) as u64;
        }
        self.position += count;
    }

    fn offset(&self) -> u64 {
        self.buffer_offset + self.position as u64
    }

    pub(super) fn start(&self) -> Start {
        Start {
            offset: self.offset(),
            line: self.line,
            column: self.offset() - self.line_start,
        }
    }

    pub(super) fn skip_whitespace(&mut self) -> Result<(), String> {
        loop {
            let available = self.available()?;
            let blank = available
                .iter()
                .take_while(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            let all = blank == available.len();
            self.take(blank);
            if !all || blank == 0 {
                return Ok(());
            }
        }
    }

    /// Consumes one value into `out`: a string, an object or array up to
    /// its closing bracket (or the first bracket that does not close it),
    /// or a scalar up to the next delimiter; the rest of the input when the
    /// value does not end.
    pub(super) fn value(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        let mut closers = std::mem::take(&mut self.closers);
        closers.clear();
        let mut state = Scan::Start;
        let result = loop {
            let available = match self.available() {
                Ok([]) => break Ok(()),
                Ok(available) => available,
                Err(error) => break Err(error),
            };
            let mut end = None;
            let mut at = 0;
            while at < available.len() {
                // Inside a string only `"` and `\` matter: jump to the next.
                if let Scan::Text | Scan::NestedText = state {
                    match memchr::memchr2(b'"', b'\\', &available[at..]) {
                        Some(skipped) => at += skipped,
                        None => break,
                    }
                }
                let byte = available[at];
                at += 1;
                state = match (state, byte) {
                    (Scan::Start | Scan::Nested, b'{' | b'[') => {
                        closers.push(if byte == b'{' { b'}' } else { b']' });
                        Scan::Nested
                    }
                    (Scan::Start, b'"') => Scan::Text,
                    (Scan::Start, _) => Scan::Scalar,
                    (Scan::Scalar, byte) if is_delimiter(byte) => {
                        end = Some(at - 1);
                        break;
                    }
                    (Scan::Text, b'"') => {
                        end = Some(at);
                        break;
                    }
                    (Scan::Text, b'\\') => Scan::TextEscape,
                    (Scan::TextEscape, _) => Scan::Text,
                    (Scan::Nested, b'"') => Scan::NestedText,
                    (Scan::Nested, b'}' | b']') => {
                        if closers.pop() != Some(byte) || closers.is_empty() {
                            end = Some(at);
                            break;
                        }
                        Scan::Nested
                    }
                    (Scan::NestedText, b'"') => Scan::Nested,
                    (Scan::NestedText, b'\\') => Scan::NestedTextEscape,
                    (Scan::NestedTextEscape, _) => Scan::NestedText,
                    (state, _) => state,
                };
            }
            let count = end.unwrap_or(available.len());
            out.extend_from_slice(&available[..count]);
            self.take(count);
            if end.is_some() {
                break Ok(());
            }
        };
        self.closers = closers;
        result
    }

    /// After the closing `]`: nothing but whitespace.
    pub(super) fn end(&mut self) -> Result<(), String> {
        self.skip_whitespace()?;
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.error_here("trailing characters")),
        }
    }

    /// An error at the next byte, which `serde_json` would have read.
    pub(super) fn error_here(&self, message: &str) -> String {
        let column = self.offset() - self.line_start + 1;
        format!("line {} column {column}: {message}", self.line)
    }

    /// An error at the end of the input, placed at its last byte.
    pub(super) fn error_at_end(&self, message: &str) -> String {
        let column = self.offset() - self.line_start;
        format!("line {} column {column}: {message}", self.line)
    }

    /// `serde_json`'s error for a top-level value that is not an array (or
    /// an object when one is allowed), which the scanner is on.
    pub(super) fn not_an_array(&mut self, allow_object: bool) -> String {
        let start = self.start();
        let rest = Cursor::new(&self.buffer[self.position..self.filled]).chain(&mut self.input);
        let mut deserializer = serde_json::Deserializer::from_reader(rest);
        let refusal = NotAnArray { allow_object };
        match de::Deserializer::deserialize_any(&mut deserializer, refusal) {
            Err(error) => start.locate(&error),
            Ok(never) => match never {},
        }
    }
}

/// Where the scan of a value is.
#[derive(Clone, Copy)]
enum Scan {
    /// Before its first byte.
    Start,
    /// In a number or literal.
    Scalar,
    /// In a string, or just after a backslash in it.
    Text,
    TextEscape,
    /// In an object or array, in a string within it, or just after a
    /// backslash in that string.
    Nested,
    NestedText,
    NestedTextEscape,
}

/// Whether a scalar ends before `byte`: JSON structure or whitespace.
fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b',' | b']' | b'}' | b'[' | b'{' | b'"' | b':' | b' ' | b'\t' | b'\n' | b'\r'
    )
}

/// Refuses whatever top-level value it is given, saying what was expected.
struct NotAnArray {
    allow_object: bool,
}

/// A value that cannot exist: [`NotAnArray`] never accepts.
enum Never {}

impl<'de> Visitor<'de> for NotAnArray {
    type Value = Never;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        if self.allow_object {
            formatter.write_str("a JSON array or object")
        } else {
            formatter.write_str("a JSON array")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Never, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Never, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &self))
    }
}
