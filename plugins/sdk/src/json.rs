//! Streaming the elements of a top-level JSON array.
//!
//! A JSON manifest can be far larger than memory, so it is never read
//! whole: [`stream_elements`] hands the elements of the top-level array to a
//! callback one by one, each with the physical line and byte offset where it
//! starts and its 0-based index. A syntax error is fatal and reads
//! `line L column C: ...`, as `serde_json` words it.
//!
//! `serde_json` reads an `io::Read` a byte at a time through calls that cost
//! far more than the parsing, so the array is not parsed from the reader:
//! a scanner finds where each element ends (strings, escapes and brackets
//! only) and `serde_json` parses the element's bytes as a slice. Errors
//! inside an element are `serde_json`'s own, moved to the element's place in
//! the file; the scanner words the few errors between elements as
//! `serde_json` does.

use std::fmt;
use std::io::{self, Cursor, Read};

use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::Flow;
use crate::text::BOM;

/// Where an element starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementAt {
    /// 0-based index in the top-level array; `None` for a top-level object.
    pub index: Option<u64>,
    /// 1-based physical line.
    pub line: u64,
    /// Byte offset from the start of the input.
    pub offset: u64,
}

/// Streams the elements of the top-level array of `input` into `each`.
///
/// `base` is the number of bytes already taken from the input (a BOM).
/// With `allow_object`, a top-level object is accepted too and handed to
/// `each` as a single element without index. `T` must accept any JSON value
/// (e.g. [`serde_json::Value`]): a value `T` refuses ends the conversion.
/// Stops early, with `Ok`, when `each` answers [`Flow::Stop`].
pub fn stream_elements<T, F>(
    input: impl Read,
    base: u64,
    allow_object: bool,
    mut each: F,
) -> Result<(), String>
where
    T: DeserializeOwned,
    F: FnMut(T, ElementAt) -> Flow,
{
    let mut scanner = Scanner::new(input);
    let mut element = Vec::new();
    scanner.skip_whitespace()?;
    match scanner.peek()? {
        Some(b'[') => scanner.take(1),
        Some(b'{') if allow_object => {
            let start = scanner.start();
            scanner.value(&mut element)?;
            let value = parse::<T>(&mut element, start, scanner.peek()?)?;
            scanner.skip_whitespace()?;
            if scanner.peek()?.is_some() {
                return Err(scanner.error_here("trailing characters"));
            }
            each(value, start.at(base, None));
            return Ok(());
        }
        _ => return Err(scanner.not_an_array(allow_object)),
    }
    scanner.skip_whitespace()?;
    match scanner.peek()? {
        Some(b']') => {
            scanner.take(1);
            return scanner.end();
        }
        None => return Err(scanner.error_at_end("EOF while parsing a list")),
        Some(_) => {}
    }
    let mut index = 0;
    loop {
        scanner.skip_whitespace()?;
        match scanner.peek()? {
            None => return Err(scanner.error_at_end("EOF while parsing a value")),
            Some(b']') => return Err(scanner.error_here("trailing comma")),
            Some(b'}' | b',' | b':') => return Err(scanner.error_here("expected value")),
            Some(_) => {}
        }
        let start = scanner.start();
        scanner.value(&mut element)?;
        let value = parse::<T>(&mut element, start, scanner.peek()?)?;
        if each(value, start.at(base, Some(index))) == Flow::Stop {
            return Ok(());
        }
        scanner.skip_whitespace()?;
        match scanner.peek()? {
            Some(b',') => scanner.take(1),
            Some(b']') => {
                scanner.take(1);
                return scanner.end();
            }
            None => return Err(scanner.error_at_end("EOF while parsing a list")),
            Some(_) => return Err(scanner.error_here("expected `,` or `]`")),
        }
        index += 1;
    }
}

/// `line L column C: message` for a `serde_json` error.
pub fn describe_error(error: &serde_json::Error) -> String {
    let (line, column) = (error.line() as u64, error.column() as u64);
    format!("line {line} column {column}: {}", message_of(error))
}

/// A `serde_json` error's message without its position.
fn message_of(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Parses one value's bytes, placing errors where the value starts. A value
/// cut short by the byte after it (`tru]`) is an error about that byte, as
/// when `serde_json` reads on: the byte is added to find it.
fn parse<T: DeserializeOwned>(
    value: &mut Vec<u8>,
    start: Start,
    next: Option<u8>,
) -> Result<T, String> {
    let error = match serde_json::from_slice(value) {
        Ok(parsed) => return Ok(parsed),
        Err(error) => error,
    };
    if let (true, Some(next)) = (error.is_eof(), next) {
        value.push(next);
        if let Err(error) = serde_json::from_slice::<de::IgnoredAny>(value) {
            return Err(start.locate(&error));
        }
    }
    Err(start.locate(&error))
}

/// Where a value starts in the input.
#[derive(Clone, Copy)]
struct Start {
    offset: u64,
    line: u64,
    /// Bytes before it on its line.
    column: u64,
}

impl Start {
    fn at(self, base: u64, index: Option<u64>) -> ElementAt {
        ElementAt {
            index,
            line: self.line,
            offset: base + self.offset,
        }
    }

    /// `serde_json`'s error about the value, at its place in the input.
    fn locate(self, error: &serde_json::Error) -> String {
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
struct Scanner<R> {
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
    fn new(input: R) -> Self {
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

    fn peek(&mut self) -> Result<Option<u8>, String> {
        Ok(self.available()?.first().copied())
    }

    /// Consumes `count` available bytes, counting lines.
    fn take(&mut self, count: usize) {
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

    fn start(&self) -> Start {
        Start {
            offset: self.offset(),
            line: self.line,
            column: self.offset() - self.line_start,
        }
    }

    fn skip_whitespace(&mut self) -> Result<(), String> {
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
    fn value(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
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
    fn end(&mut self) -> Result<(), String> {
        self.skip_whitespace()?;
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.error_here("trailing characters")),
        }
    }

    /// An error at the next byte, which `serde_json` would have read.
    fn error_here(&self, message: &str) -> String {
        let column = self.offset() - self.line_start + 1;
        format!("line {} column {column}: {message}", self.line)
    }

    /// An error at the end of the input, placed at its last byte.
    fn error_at_end(&self, message: &str) -> String {
        let column = self.offset() - self.line_start;
        format!("line {} column {column}: {message}", self.line)
    }

    /// `serde_json`'s error for a top-level value that is not an array (or
    /// an object when one is allowed), which the scanner is on.
    fn not_an_array(&mut self, allow_object: bool) -> String {
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

/// What the first bytes of a JSON file show (for `detect`).
#[derive(Debug, PartialEq)]
pub enum JsonHead {
    /// A top-level array, with its first element when the head holds it whole.
    Array(Option<Value>),
    /// A top-level object, parsed when the head holds it whole.
    Object(Option<Value>),
    /// Something else.
    NotJson,
}

/// Looks at the start of a JSON file.
pub fn sniff_head(head: &[u8]) -> JsonHead {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    match head.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'[') => {
            let mut first = None;
            let _cut_or_complete = stream_elements::<Value, _>(head, 0, false, |element, _| {
                first = Some(element);
                Flow::Stop
            });
            JsonHead::Array(first)
        }
        Some(b'{') => JsonHead::Object(serde_json::from_slice(head).ok()),
        _ => JsonHead::NotJson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(input: &str, allow_object: bool) -> (Vec<(String, ElementAt)>, Result<(), String>) {
        let mut seen = Vec::new();
        let result = stream_elements::<Value, _>(input.as_bytes(), 3, allow_object, |value, at| {
            seen.push((value.to_string(), at));
            Flow::Proceed
        });
        (seen, result)
    }

    fn at(index: Option<u64>, line: u64, offset: u64) -> ElementAt {
        ElementAt {
            index,
            line,
            offset,
        }
    }

    #[test]
    fn elements_with_origins() {
        let (seen, result) = elements("[\n  \"a\",\r\n  {\"b\": [1,\n2]} ,3\n]\n", false);
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen,
            [
                ("\"a\"".into(), at(Some(0), 2, 7)),
                ("{\"b\":[1,2]}".into(), at(Some(1), 3, 15)),
                ("3".into(), at(Some(2), 4, 30)),
            ]
        );
    }

    #[test]
    fn single_objects() {
        let (seen, result) = elements("\n {\"a\": 1}", true);
        assert_eq!(result, Ok(()));
        assert_eq!(seen, [("{\"a\":1}".into(), at(None, 2, 5))]);
        let (seen, result) = elements("{\"a\": 1}", false);
        assert!(seen.is_empty());
        assert_eq!(
            result,
            Err("line 1 column 2: invalid type: map, expected a JSON array".into())
        );
    }

    #[test]
    fn syntax_errors_are_fatal() {
        let (seen, result) = elements("[1,\n2,\n}", false);
        assert_eq!(seen.len(), 2);
        assert_eq!(result, Err("line 3 column 1: expected value".into()));
        let (_, result) = elements("[1] x", false);
        assert_eq!(result, Err("line 1 column 5: trailing characters".into()));
        let (_, result) = elements("", false);
        assert_eq!(
            result,
            Err("line 1 column 0: EOF while parsing a value".into())
        );
        let (_, result) = elements("\"a\"", true);
        assert!(
            result
                .unwrap_err()
                .contains("expected a JSON array or object")
        );
    }

    #[test]
    fn elements_and_errors_are_those_of_parsing_the_whole_array() {
        let inputs = [
            r#"[1.5e3, -0, true, false, null, "a\"]", "\\", "é\u00e9"]"#,
            "[[],[[]],{},{\"a\": [1, {\"b\": \"]}\"}]}]\r\n",
            "[\n\t{\"x\":\n\"y\"}\n]  \n",
            "[1 2]",
            "[1,]",
            "[,1]",
            "[1,",
            "[",
            "[]]",
            "[}",
            "[{\"a\":1]",
            "[{\"a\":}]",
            "[{\"a\": 1,\n \"b\" 2}]",
            "[tru]",
            "[1]x",
            "[-]",
            "[\"unterminated",
            "[{\"a\": [1, 2",
            "[1\"2\"]",
            "[{\"a\":1}{\"b\":2}]",
            "[\"a\"\n,\n\"b\nc\"]",
            "  [ 1 , 2 ]",
            r#"[{"a":"\\"}, "\\\"", {"b": "}"}]"#,
            "[[[[[[1]]]]], [[[[2]]]]]]",
            "[12345678901234567890, 1e400]",
        ];
        let long = format!(
            "[{}]",
            (0..300)
                .map(|n| format!("{{\"k\": \"v{n} \\\" ]}}\\\\\", \"n\": [{n}, -{n}.5e1]}}"))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        // Blocks of a few bytes put every byte at a block boundary once.
        for (input, block) in inputs
            .iter()
            .flat_map(|input| [(*input, 1), (*input, 3), (*input, 4096)])
            .chain([(long.as_str(), 7), (long.as_str(), 4096)])
        {
            let mut seen = Vec::new();
            let result = stream_elements::<Value, _>(
                Trickle(input.as_bytes(), block),
                0,
                false,
                |value, _| {
                    seen.push(value.to_string());
                    Flow::Proceed
                },
            );
            match serde_json::from_str::<Vec<Value>>(input) {
                Ok(whole) => {
                    assert_eq!(result, Ok(()), "{input:?}");
                    let whole: Vec<String> = whole.iter().map(Value::to_string).collect();
                    assert_eq!(seen, whole, "{input:?}");
                }
                Err(error) => assert_eq!(result, Err(describe_error(&error)), "{input:?}"),
            }
        }
    }

    /// Reads at most `.1` bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let count = out.len().min(self.1).min(self.0.len());
            out[..count].copy_from_slice(&self.0[..count]);
            self.0 = &self.0[count..];
            Ok(count)
        }
    }

    #[test]
    fn stops_when_told() {
        let mut count = 0;
        let result = stream_elements::<Value, _>(&b"[1,2,3]"[..], 0, false, |_, _| {
            count += 1;
            Flow::Stop
        });
        assert_eq!((result, count), (Ok(()), 1));
    }

    #[test]
    fn heads() {
        assert_eq!(
            sniff_head(b"\xEF\xBB\xBF [\"s3://b/k\", "),
            JsonHead::Array(Some("s3://b/k".into()))
        );
        assert_eq!(sniff_head(b"[{\"a\": "), JsonHead::Array(None));
        assert_eq!(sniff_head(b"[]"), JsonHead::Array(None));
        assert!(matches!(
            sniff_head(b"{\"data\": {}}"),
            JsonHead::Object(Some(_))
        ));
        assert_eq!(sniff_head(b"{\"data\": "), JsonHead::Object(None));
        assert_eq!(sniff_head(b"a,b"), JsonHead::NotJson);
    }
}
