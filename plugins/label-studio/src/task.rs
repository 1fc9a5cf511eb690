//! One Label Studio task, as read from JSON.
//!
//! A task with a `data` object uses it as the task data; a task without
//! `data` is wrapped whole as data (Label Studio's rule). `annotations`
//! (or its old name `completions`), `predictions` and `meta` pass through
//! as written. Any other top-level key (`id`, `created_at`, ...) is ignored
//! with an `ignored-key` warning, reported once per key name per file.
//! Values are kept as their original JSON text, so numbers, key order and
//! nesting reach the host unchanged.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use taskport_plugin_sdk::diag::{error, warning};
use taskport_plugin_sdk::{Diagnostic, Origin, TaskRecord, data_task};

/// A JSON value where a task is expected: an object's entries as raw JSON
/// text, or the kind of the non-object value.
#[derive(Debug)]
pub enum Element {
    /// An object, entries in order.
    Object(Vec<(String, Box<RawValue>)>),
    /// Any other JSON value (`"a string"`, `a number`, ...).
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
            entries.push(entry);
        }
        Ok(Element::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Element, E> {
        Ok(Element::Other("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Other("null"))
    }
}

/// Top-level keys that pass through.
const ANNOTATIONS: &str = "annotations";
const COMPLETIONS: &str = "completions";
const PREDICTIONS: &str = "predictions";
const META: &str = "meta";
const DATA: &str = "data";

/// A task or the error saying why there is none, and warnings.
pub type Read = (Result<TaskRecord, Diagnostic>, Vec<Diagnostic>);

/// Turns elements into task records, remembering which ignored keys were
/// already reported.
#[derive(Default)]
pub struct TaskReader {
    reported: BTreeSet<String>,
}

impl TaskReader {
    /// The task of one element, or the error diagnostic saying why there is
    /// none; plus warnings.
    pub fn read(&mut self, element: Element, at: Origin) -> Read {
        let entries = match element {
            Element::Object(entries) => entries,
            Element::Other(kind) => {
                let message = format!("a task must be a JSON object, found {kind}");
                return (Err(error(at, "bad-shape", message)), Vec::new());
            }
        };
        let find = |key: &str| {
            entries
                .iter()
                .rev()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.get().to_owned())
        };
        let Some(data) = find(DATA) else {
            return (whole_as_data(&entries, at), Vec::new());
        };
        if !data.starts_with('{') {
            let message = "`data` must be a JSON object".to_owned();
            return (Err(error(at, "bad-shape", message)), Vec::new());
        }
        if is_empty_object(&data) {
            return (
                Err(error(at, "missing-data", "`data` is empty")),
                Vec::new(),
            );
        }
        let annotations = find(ANNOTATIONS).or_else(|| find(COMPLETIONS));
        let mut warnings = Vec::new();
        for (key, _) in &entries {
            let passes = [DATA, ANNOTATIONS, PREDICTIONS, META].contains(&key.as_str())
                || (key == COMPLETIONS && find(ANNOTATIONS).is_none());
            if !passes && self.reported.insert(key.clone()) {
                let message = format!("top-level key `{key}` is ignored (reported once per file)");
                warnings.push(warning(at, "ignored-key", message));
            }
        }
        let record = TaskRecord {
            origin: at,
            name: None,
            data,
            media_key: None,
            media_kind: None,
            annotations,
            predictions: find(PREDICTIONS),
            meta: find(META),
        };
        (Ok(record), warnings)
    }
}

fn is_empty_object(json: &str) -> bool {
    json[1..].trim_start().starts_with('}')
}

/// Label Studio's rule for a task without `data`: the whole object is data.
fn whole_as_data(
    entries: &[(String, Box<RawValue>)],
    at: Origin,
) -> Result<TaskRecord, Diagnostic> {
    if entries.is_empty() {
        return Err(error(at, "missing-data", "the task is an empty object"));
    }
    let mut data = String::from("{");
    for (position, (key, value)) in entries.iter().enumerate() {
        if position > 0 {
            data.push(',');
        }
        data.push_str(&serde_json::Value::from(key.as_str()).to_string());
        data.push(':');
        data.push_str(value.get());
    }
    data.push('}');
    Ok(data_task(data, at))
}
