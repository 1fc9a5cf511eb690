//! Streaming the elements of a top-level JSON array.
//!
//! A JSON manifest can be far larger than memory, so it is never read
//! whole: [`stream_elements`] hands the elements of the top-level array to a
//! callback one by one as `serde_json` parses them, each with the physical
//! line and byte offset where it starts and its 0-based index. A syntax error
//! is fatal and reads `line L column C: ...`.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
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

/// Lines (`\n`) and bytes read so far.
#[derive(Clone, Copy, Default)]
struct Consumed {
    newlines: u64,
    bytes: u64,
}

/// Counts what `serde_json` consumes. `serde_json` reads one byte at a time
/// and peeks one byte ahead, so when it starts on a value the value's first
/// byte is the last one counted.
struct Counting<'a, R> {
    inner: R,
    consumed: &'a Cell<Consumed>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        let mut consumed = self.consumed.get();
        consumed.bytes += count as u64;
        consumed.newlines += buf[..count].iter().filter(|&&b| b == b'\n').count() as u64;
        self.consumed.set(consumed);
        Ok(count)
    }
}

/// Position of the value whose first byte was just read.
fn value_start(consumed: &Cell<Consumed>, base: u64, index: Option<u64>) -> ElementAt {
    let consumed = consumed.get();
    ElementAt {
        index,
        line: consumed.newlines + 1,
        offset: base + consumed.bytes.saturating_sub(1),
    }
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
    each: F,
) -> Result<(), String>
where
    T: DeserializeOwned,
    F: FnMut(T, ElementAt) -> Flow,
{
    let consumed = Cell::new(Consumed::default());
    let reader = Counting {
        inner: BufReader::new(input),
        consumed: &consumed,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let stopped = Cell::new(false);
    let visitor = TopVisitor {
        each,
        consumed: &consumed,
        base,
        allow_object,
        stopped: &stopped,
        element: PhantomData,
    };
    let result = de::Deserializer::deserialize_any(&mut deserializer, visitor)
        .and_then(|()| deserializer.end());
    match result {
        Err(_) if stopped.get() => Ok(()),
        Err(error) => Err(describe_error(&error)),
        Ok(()) => Ok(()),
    }
}

/// `line L column C: message` for a `serde_json` error.
pub fn describe_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    format!("line {} column {}: {message}", error.line(), error.column())
}

struct TopVisitor<'a, T, F> {
    each: F,
    consumed: &'a Cell<Consumed>,
    base: u64,
    allow_object: bool,
    stopped: &'a Cell<bool>,
    element: PhantomData<fn() -> T>,
}

impl<'de, T, F> Visitor<'de> for TopVisitor<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T, ElementAt) -> Flow,
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        if self.allow_object {
            formatter.write_str("a JSON array or object")
        } else {
            formatter.write_str("a JSON array")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let seed = ElementSeed {
                consumed: self.consumed,
                base: self.base,
                index,
                element: PhantomData,
            };
            let Some((element, at)) = seq.next_element_seed(seed)? else {
                return Ok(());
            };
            if (self.each)(element, at) == Flow::Stop {
                self.stopped.set(true);
                return Err(de::Error::custom("stopped"));
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        if !self.allow_object {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let at = value_start(self.consumed, self.base, None);
        let element = T::deserialize(MapAccessDeserializer::new(map))?;
        (self.each)(element, at);
        Ok(())
    }
}

struct ElementSeed<'a, T> {
    consumed: &'a Cell<Consumed>,
    base: u64,
    index: u64,
    element: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ElementSeed<'_, T> {
    type Value = (T, ElementAt);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let at = value_start(self.consumed, self.base, Some(self.index));
        Ok((T::deserialize(deserializer)?, at))
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
