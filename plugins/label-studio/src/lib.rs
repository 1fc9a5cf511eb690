//! taskport converter for Label Studio task files.
//!
//! Formats `label-studio-json`, `label-studio-jsonl` and `label-studio-csv`
//! (CSV and TSV); see [`formats`] for each one's rules and [`task`] for how
//! a JSON task becomes a record. Records carry no media key: the host takes
//! the first link in the data as the main media reference.

pub mod detect;
pub mod formats;
pub mod task;

use std::io::Read;

use taskport_plugin_sdk::media::MEDIA_KINDS;
use taskport_plugin_sdk::{Converter, Detection, Emit, FormatInfo, Options, PluginInfo};

/// Label Studio JSON: a list of tasks or one task.
pub const JSON: &str = "label-studio-json";
/// Label Studio JSON Lines: one task per line.
pub const JSONL: &str = "label-studio-jsonl";
/// Label Studio CSV / TSV with a header row.
pub const CSV: &str = "label-studio-csv";

/// The Label Studio converter.
pub struct LabelStudio;

fn format(id: &str, title: &str, extensions: &[&str]) -> FormatInfo {
    FormatInfo {
        id: id.into(),
        title: title.into(),
        extensions: extensions.iter().map(|ext| (*ext).into()).collect(),
        media_kinds: MEDIA_KINDS.iter().map(|kind| (*kind).into()).collect(),
        directory: false,
    }
}

impl Converter for LabelStudio {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "label-studio".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Label Studio tasks: JSON list or object, JSON Lines, CSV/TSV with a header".into(),
            formats: vec![
                format(JSON, "Label Studio JSON tasks", &["json"]),
                format(JSONL, "Label Studio JSON Lines tasks", &["jsonl", "ndjson"]),
                format(CSV, "Label Studio CSV/TSV tasks", &["csv", "tsv"]),
            ],
            options: Vec::new(),
        }
    }

    fn detect(file_name: &str, head: &[u8]) -> Vec<Detection> {
        detect::detect(file_name, head)
    }

    fn convert(
        format: &str,
        _options: &Options,
        _source_name: &str,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        match format {
            JSON => formats::convert_json(input, out),
            JSONL => formats::convert_jsonl(input, out),
            CSV => formats::convert_csv(input, out),
            _ => Err(format!("unknown format `{format}`")),
        }
    }
}

taskport_plugin_sdk::export_converter!(LabelStudio);
