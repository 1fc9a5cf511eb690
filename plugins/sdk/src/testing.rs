//! One-line renderings of records and diagnostics, for readable assertions
//! in converter tests.

use crate::{Diagnostic, Origin, Severity, TaskRecord};

fn show_origin(origin: &Origin) -> String {
    let part = |label: &str, value: Option<u64>| value.map(|v| format!("{label}{v}"));
    [
        part("line ", origin.line),
        part("index ", origin.index),
        part("@", origin.offset),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// `line 1 @0 | name | key | kind | data | annotations | predictions | meta`,
/// with `-` for absent parts.
pub fn show_record(record: &TaskRecord) -> String {
    let part = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    format!(
        "{} | {} | {} | {} | {} | {} | {} | {}",
        show_origin(&record.origin),
        part(&record.name),
        part(&record.media_key),
        part(&record.media_kind),
        record.data,
        part(&record.annotations),
        part(&record.predictions),
        part(&record.meta),
    )
}

/// `line 3 @40 | error | code | message`.
pub fn show_diagnostic(diagnostic: &Diagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{} | {severity} | {} | {}",
        show_origin(&diagnostic.origin),
        diagnostic.code,
        diagnostic.message
    )
}
