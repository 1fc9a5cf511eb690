//! From a plugin's raw record to a validated, normalized [`Task`].
//!
//! Decisions applied to every record:
//! - size: the sum of all text fields must be within
//!   [`RecordLimits::max_record_bytes`] (`record-too-large`);
//! - `data` must be a non-empty JSON object (`bad-record`, or `missing-data`
//!   for `{}`); `annotations` and `predictions` JSON arrays and `meta` a JSON
//!   object when given (empty or blank text counts as not given);
//!   `media_key`, when given, must name a string in `data` (`bad-record`);
//! - main link: the link at `media_key` when given (none when that value is
//!   inline content rather than a link), else the first link in data order;
//! - name: see [`derive_name`]; without one, `item-N` from the 0-based index
//!   when the format has one, else `line-N`, else `task`;
//! - media kind: the plugin's hint when it names a kind, else the main
//!   link's extension, else the kind named by the main field (the media key,
//!   the main link's top-level field, or `text` when data has a `text`
//!   string and no link), else `unknown`;
//! - id: see [`task_id`].

use serde_json::{Map, Value};

use super::identity::{DedupeKey, task_id};
use super::links::{Link, extract};
use super::media::MediaKind;
use super::names::derive_name;
use super::{Diagnostic, Origin, RawOrigin, RawRecord, Severity, Task, clean};

/// Size limits applied to each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLimits {
    /// Largest record, all text fields together, in bytes.
    pub max_record_bytes: usize,
}

impl Default for RecordLimits {
    /// 1 MiB per record.
    fn default() -> Self {
        RecordLimits {
            max_record_bytes: 1 << 20,
        }
    }
}

/// Turns one conversion's raw records and diagnostics into the host's.
#[derive(Debug, Clone)]
pub struct Normalizer {
    source: String,
    format: String,
    plugin: String,
    limits: RecordLimits,
    dedupe: DedupeKey,
}

impl Normalizer {
    /// For records of `format` read from `source` (as the user named it) by
    /// `plugin` (`name@version`, e.g. `links-csv@0.1.0`).
    pub fn new(
        source: impl Into<String>,
        format: impl Into<String>,
        plugin: impl Into<String>,
        limits: RecordLimits,
    ) -> Self {
        Normalizer {
            source: source.into(),
            format: format.into(),
            plugin: plugin.into(),
            limits,
            dedupe: DedupeKey::default(),
        }
    }

    /// Uses `dedupe` instead of the default [`DedupeKey::MainLink`].
    pub fn with_dedupe(mut self, dedupe: DedupeKey) -> Self {
        self.dedupe = dedupe;
        self
    }

    /// A diagnostic at `origin`, with the code and message sanitised (they
    /// may come from an untrusted plugin).
    pub fn diagnostic(
        &self,
        origin: RawOrigin,
        severity: Severity,
        code: &str,
        message: &str,
    ) -> Diagnostic {
        Diagnostic {
            source: self.source.clone(),
            line: origin.line,
            index: origin.index,
            severity,
            code: clean::code(code),
            message: clean::message(message),
        }
    }

    /// Validates and normalizes one record; an error diagnostic when the
    /// record cannot become a task. Never panics.
    pub fn normalize(&self, raw: RawRecord) -> Result<Task, Diagnostic> {
        let error = |code: &str, message: String| {
            self.diagnostic(raw.origin, Severity::Error, code, &message)
        };
        let size = record_size(&raw);
        if size > self.limits.max_record_bytes {
            let limit = self.limits.max_record_bytes;
            let message = format!("record is {size} bytes, more than the limit of {limit} bytes");
            return Err(error("record-too-large", message));
        }
        let data = parse_object("data", Some(&raw.data))
            .map_err(|message| error("bad-record", message))?
            .unwrap_or_default();
        if data.is_empty() {
            return Err(error("missing-data", "data is an empty object".into()));
        }
        let annotations = parse_array("annotations", raw.annotations.as_deref())
            .map_err(|message| error("bad-record", message))?;
        let predictions = parse_array("predictions", raw.predictions.as_deref())
            .map_err(|message| error("bad-record", message))?;
        let meta = parse_object("meta", raw.meta.as_deref())
            .map_err(|message| error("bad-record", message))?
            .unwrap_or_default();
        let media_key = non_empty(raw.media_key.as_deref());
        let main_value = media_key
            .map(|key| media_value(&data, key).map(|value| (key, value)))
            .transpose()
            .map_err(|message| error("bad-record", message))?;

        let links = extract(&data);
        let main_link = match main_value {
            Some((key, value)) => links.iter().find(|l| l.field == key && l.uri == value),
            None => links.first(),
        };
        let explicit = derive_name(raw.name.as_deref(), None);
        let explicit_name = explicit.is_some();
        let name = explicit
            .or_else(|| derive_name(None, main_link))
            .unwrap_or_else(|| fallback_name(raw.origin));
        let media = media_kind(raw.media_kind.as_deref(), media_key, main_link, &data);
        let id = task_id(self.dedupe, main_link, &data);
        Ok(Task {
            id,
            name,
            media,
            data,
            links,
            annotations,
            predictions,
            meta,
            origin: Origin {
                source: self.source.clone(),
                line: raw.origin.line,
                index: raw.origin.index,
                format: self.format.clone(),
                plugin: self.plugin.clone(),
            },
            explicit_name,
        })
    }
}

fn record_size(raw: &RawRecord) -> usize {
    let optional = [
        &raw.name,
        &raw.media_key,
        &raw.media_kind,
        &raw.annotations,
        &raw.predictions,
        &raw.meta,
    ];
    optional
        .iter()
        .filter_map(|field| field.as_ref().map(String::len))
        .fold(raw.data.len(), usize::saturating_add)
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// A JSON value's type, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse(field: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{field} is not valid JSON: {e}"))
}

/// `Ok(None)` when absent or blank (only possible for optional fields).
fn parse_object(field: &str, text: Option<&str>) -> Result<Option<Map<String, Value>>, String> {
    let Some(text) = non_empty(text) else {
        return Ok(None);
    };
    match parse(field, text)? {
        Value::Object(map) => Ok(Some(map)),
        other => Err(format!(
            "{field} must be a JSON object, got {}",
            type_name(&other)
        )),
    }
}

fn parse_array(field: &str, text: Option<&str>) -> Result<Vec<Value>, String> {
    let Some(text) = non_empty(text) else {
        return Ok(Vec::new());
    };
    match parse(field, text)? {
        Value::Array(items) => Ok(items),
        other => Err(format!(
            "{field} must be a JSON array, got {}",
            type_name(&other)
        )),
    }
}

/// The string at `key` in `data`.
fn media_value<'a>(data: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match data.get(key) {
        Some(Value::String(value)) => Ok(value),
        Some(other) => Err(format!(
            "media key {key:?} must hold a string, got {}",
            type_name(other)
        )),
        None => Err(format!("media key {key:?} is not in data")),
    }
}

fn fallback_name(origin: RawOrigin) -> String {
    match (origin.index, origin.line) {
        (Some(index), _) => format!("item-{index}"),
        (None, Some(line)) => format!("line-{line}"),
        (None, None) => "task".to_owned(),
    }
}

fn media_kind(
    hint: Option<&str>,
    media_key: Option<&str>,
    main_link: Option<&Link>,
    data: &Map<String, Value>,
) -> MediaKind {
    let has_text = matches!(data.get("text"), Some(Value::String(_)));
    let main_field = media_key
        .or(main_link.map(|link| link.field.as_str()))
        .or((has_text && main_link.is_none()).then_some("text"));
    hint.and_then(MediaKind::from_hint)
        .or_else(|| main_link.and_then(|link| MediaKind::from_uri(&link.uri)))
        .or_else(|| main_field.and_then(MediaKind::from_hint))
        .unwrap_or(MediaKind::Unknown)
}

#[cfg(test)]
mod tests;
