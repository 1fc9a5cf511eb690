//! Cheap detection of the Label Studio formats.
//!
//! - JSON (`.json`): an array whose first element is an object with `data`,
//!   or an object that is not shaped like a Supervisely link item, is
//!   `label-studio-json` (high); a single task object too. An array of
//!   strings or of link items is left to `links-json`.
//! - JSON Lines (`.jsonl`, `.ndjson`, or `.json` holding one object per
//!   line) is `label-studio-jsonl`.
//! - CSV (`.csv`, `.tsv`): a header row of names that are not links and not
//!   the Supervisely link columns is `label-studio-csv` (high); a header
//!   naming a link column is low (it is more likely a links CSV); rows of
//!   links are not Label Studio CSV.

use serde_json::Value;
use taskport_plugin_sdk::detect::{detection, lower};
use taskport_plugin_sdk::json::{JsonHead, sniff_head};
use taskport_plugin_sdk::links::{LINK_COLUMNS, is_link_item, starts_like_link};
use taskport_plugin_sdk::text::{BOM, DETECT_HEAD, extension, head_lines};
use taskport_plugin_sdk::{Confidence, Detection};

use crate::formats::header_delimiter;
use crate::{CSV, JSON, JSONL};

/// Detections for all three formats.
pub fn detect(file_name: &str, head: &[u8]) -> Vec<Detection> {
    let ext = extension(file_name);
    let ext = ext.as_deref();
    let json_lines = is_json_lines(head);
    vec![
        detect_json(ext, head, json_lines),
        detect_jsonl(ext, json_lines),
        detect_csv(ext, head),
    ]
}

/// True when the first two non-blank lines are each a whole JSON object.
fn is_json_lines(head: &[u8]) -> bool {
    let lines = head_lines(head, head.len() >= DETECT_HEAD);
    let objects = lines
        .iter()
        .take(2)
        .filter(|line| matches!(serde_json::from_str::<Value>(line), Ok(Value::Object(_))))
        .count();
    objects == 2 || (objects == 1 && lines.len() == 1 && head.len() < DETECT_HEAD)
}

fn detect_json(ext: Option<&str>, head: &[u8], json_lines: bool) -> Detection {
    if json_lines && ext != Some("json") {
        return detection(JSON, Confidence::None, "one JSON object per line");
    }
    let (confidence, reason) = match sniff_head(head) {
        JsonHead::Array(Some(Value::Object(task))) if task.contains_key("data") => {
            (Confidence::High, "array of tasks with `data`")
        }
        JsonHead::Array(Some(Value::Object(task))) if is_link_item(&task) => {
            (Confidence::Low, "array of link items (Supervisely links)")
        }
        JsonHead::Array(Some(Value::Object(_))) => (Confidence::High, "array of task objects"),
        JsonHead::Array(Some(_)) => (Confidence::None, "array of non-objects"),
        JsonHead::Array(None) => (Confidence::Medium, "JSON array"),
        JsonHead::Object(_) if json_lines => (Confidence::Low, "one JSON object per line"),
        JsonHead::Object(Some(Value::Object(task))) if task.contains_key("data") => {
            (Confidence::High, "a single task with `data`")
        }
        JsonHead::Object(_) => (Confidence::Medium, "a single JSON object"),
        JsonHead::NotJson => (Confidence::None, "not JSON"),
    };
    match ext {
        Some("json") => detection(JSON, confidence, format!(".json, {reason}")),
        _ => detection(JSON, lower(confidence), reason),
    }
}

fn detect_jsonl(ext: Option<&str>, json_lines: bool) -> Detection {
    match (ext, json_lines) {
        (Some("jsonl" | "ndjson"), true) => detection(
            JSONL,
            Confidence::High,
            "JSON Lines extension, objects per line",
        ),
        (Some("jsonl" | "ndjson"), false) => {
            detection(JSONL, Confidence::Medium, "JSON Lines extension")
        }
        (Some("json"), true) => {
            detection(JSONL, Confidence::High, ".json holding one object per line")
        }
        (_, true) => detection(JSONL, Confidence::Low, "one JSON object per line"),
        (_, false) => detection(JSONL, Confidence::None, "not JSON Lines"),
    }
}

fn detect_csv(ext: Option<&str>, head: &[u8]) -> Detection {
    if !matches!(ext, Some("csv" | "tsv")) {
        return detection(CSV, Confidence::None, "not a .csv or .tsv file");
    }
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let delimiter = header_delimiter(head);
    let lines = head_lines(head, head.len() >= DETECT_HEAD);
    let Some(first) = lines.first() else {
        return detection(CSV, Confidence::Low, "empty file");
    };
    let cells: Vec<String> = first
        .split(char::from(delimiter))
        .map(|cell| cell.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    if cells.iter().any(|cell| starts_like_link(cell)) {
        return detection(
            CSV,
            Confidence::None,
            "first row holds links, not column names",
        );
    }
    if cells
        .iter()
        .any(|cell| LINK_COLUMNS.contains(&cell.as_str()))
    {
        return detection(
            CSV,
            Confidence::Low,
            "header names a link column (links CSV)",
        );
    }
    detection(CSV, Confidence::High, "header row of column names")
}
