//! Normalized task records: what the host makes of what plugins return.
//!
//! Plugins only parse; everything here is host policy applied to every
//! plugin alike: validation, link classification, naming, media kinds and
//! the stable identity used for deduplication.

pub mod clean;
pub mod identity;
pub mod links;
pub mod media;
pub mod names;
pub mod normalize;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use identity::DedupeKey;
pub use links::{Link, Provider};
pub use media::MediaKind;
pub use normalize::{Normalizer, RecordLimits};

/// Where in its manifest a plugin says a record comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawOrigin {
    /// 1-based physical line where the item starts.
    pub line: Option<u64>,
    /// 0-based element index.
    pub index: Option<u64>,
    /// Byte offset of the item.
    pub offset: Option<u64>,
}

/// A record exactly as a plugin returned it: untrusted text fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRecord {
    pub origin: RawOrigin,
    pub name: Option<String>,
    /// Should be JSON object text.
    pub data: String,
    pub media_key: Option<String>,
    pub media_kind: Option<String>,
    /// Should be JSON array text.
    pub annotations: Option<String>,
    /// Should be JSON array text.
    pub predictions: Option<String>,
    /// Should be JSON object text.
    pub meta: Option<String>,
}

/// Where a normalized task comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The source as the user named it (file name, URL, `-`).
    pub source: String,
    /// 1-based physical line where the item starts.
    pub line: Option<u64>,
    /// 0-based element index, for formats that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// Format id, e.g. `links-csv`.
    pub format: String,
    /// `name@version` of the plugin that converted it.
    pub plugin: String,
}

/// A normalized task, serialized exactly as SPEC's record shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Stable id derived from the dedupe key.
    pub id: String,
    pub name: String,
    pub media: MediaKind,
    pub data: Map<String, Value>,
    /// Every link in `data`: always [`links::extract`] of `data`, so a store
    /// may recompute it on read rather than keep it.
    pub links: Vec<Link>,
    pub annotations: Vec<Value>,
    pub predictions: Vec<Value>,
    pub meta: Map<String, Value>,
    pub origin: Origin,
    /// True when the plugin gave the name; derived names yield to explicit
    /// ones when names collide.
    #[serde(skip)]
    pub explicit_name: bool,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The item produced no task.
    Error,
    /// The item produced a task; something was ignored or fixed up.
    Warning,
}

/// A problem with one item, as written to `--errors FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub source: String,
    pub line: Option<u64>,
    pub index: Option<u64>,
    pub severity: Severity,
    /// Stable code, e.g. `bad-link`.
    pub code: String,
    pub message: String,
}

impl Diagnostic {
    /// `source:line` (or `source[index]`, or just `source`) for messages.
    pub fn location(&self) -> String {
        match (self.line, self.index) {
            (Some(line), _) => format!("{}:{}", self.source, line),
            (None, Some(index)) => format!("{}[{}]", self.source, index),
            (None, None) => self.source.clone(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}: {severity} [{}]: {}",
            self.location(),
            self.code,
            self.message
        )
    }
}
