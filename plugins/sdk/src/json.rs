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

use std::io::Read;

use serde::de::{self, DeserializeOwned};
use serde_json::Value;

use crate::Flow;
use crate::text::BOM;

mod scan;

use scan::{Scanner, Start};

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
    use std::io;

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
