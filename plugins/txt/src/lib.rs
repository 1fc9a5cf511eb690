//! taskport converter for TXT manifests.
//!
//! Format `txt`: one item per non-blank line; lines whose first non-blank
//! character is `#` are comments. A line that is a link or `name<delim>link`
//! (see [`lines`]) becomes a link task `{KEY: link}` (KEY from the link's
//! media kind, or `url`), as in Supervisely's TXT links files; any other
//! line becomes a text task `{"text": line}` (Label Studio's plain text
//! import), with the line kept as written and media kind `text` but no media
//! key, since the text is the content itself rather than a reference. The
//! `key` option sets the data key of both kinds of task. Origins carry the
//! line number and byte offset.

pub mod lines;

use std::io::{BufRead, BufReader, Read};

use taskport_plugin_sdk::detect::{detection, lower};
use taskport_plugin_sdk::diag::{error, origin};
use taskport_plugin_sdk::links::link_task;
use taskport_plugin_sdk::text::{DETECT_HEAD, extension, head_lines};
use taskport_plugin_sdk::{
    Confidence, Converter, Detection, Emit, Flow, Options, Origin, PluginInfo, TaskRecord,
    link_list_plugin, links, open_link_list,
};

use lines::{Line, classify};

/// The format this plugin converts.
pub const FORMAT: &str = "txt";

/// Data key of text tasks unless the `key` option says otherwise.
pub const TEXT_KEY: &str = "text";

/// The `txt` converter.
pub struct Txt;

impl Converter for Txt {
    fn describe() -> PluginInfo {
        link_list_plugin(
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            "TXT: one link, name and link, or text per line",
            "Text lines (links or texts)",
            "txt",
        )
    }

    fn detect(file_name: &str, head: &[u8]) -> Vec<Detection> {
        vec![detect(file_name, head)]
    }

    fn convert(
        format: &str,
        options: &Options,
        _source_name: &str,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        let (key, input, bom) = open_link_list(format, FORMAT, options, input)?;
        let mut input = BufReader::new(input);
        let mut bytes = Vec::new();
        let (mut number, mut offset) = (0, bom);
        loop {
            bytes.clear();
            let read = input
                .read_until(b'\n', &mut bytes)
                .map_err(|e| format!("cannot read input: {e}"))?;
            if read == 0 {
                return Ok(());
            }
            number += 1;
            let at = origin(number, None, offset);
            offset += read as u64;
            let flow = match std::str::from_utf8(&bytes) {
                Err(e) => out.diagnostic(error(
                    at,
                    "bad-utf8",
                    format!("line is not valid UTF-8: {e}"),
                )),
                Ok(line) => {
                    let line = line.strip_suffix('\n').unwrap_or(line);
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if line.trim().is_empty() || line.trim_start().starts_with('#') {
                        continue;
                    }
                    out.record(task(line, key, at))
                }
            };
            if flow == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// The task of one line.
fn task(line: &str, key: Option<&str>, at: Origin) -> TaskRecord {
    match classify(line) {
        Line::Link { name, link } => link_task(link, name.map(str::to_owned), key, at),
        Line::Text(text) => TaskRecord {
            origin: at,
            name: None,
            data: links::single_entry_object(key.unwrap_or(TEXT_KEY), text),
            media_key: None,
            media_kind: Some("text".into()),
            annotations: None,
            predictions: None,
            meta: None,
        },
    }
}

/// `.txt` files are this format whatever their lines hold. Files without
/// an extension (or with an unknown one) whose lines are links get `low`,
/// other text `low` too; files of other formats' extensions get `none`.
fn detect(file_name: &str, head: &[u8]) -> Detection {
    let lines = head_lines(head, head.len() >= DETECT_HEAD);
    let content = lines
        .iter()
        .filter(|line| !line.trim_start().starts_with('#'))
        .take(20)
        .map(|line| matches!(classify(line), Line::Link { .. }))
        .collect::<Vec<_>>();
    let links = content.iter().filter(|&&link| link).count();
    let reason = if content.is_empty() {
        "no lines to look at".to_owned()
    } else {
        format!("{links} of the first {} lines are links", content.len())
    };
    match extension(file_name).as_deref() {
        Some("txt") => detection(FORMAT, Confidence::High, format!(".txt, {reason}")),
        Some("csv" | "tsv" | "json" | "jsonl" | "ndjson") => {
            detection(FORMAT, Confidence::None, "extension of another format")
        }
        _ if std::str::from_utf8(head).is_err() && head.len() < DETECT_HEAD => {
            detection(FORMAT, Confidence::None, "not UTF-8 text")
        }
        _ => detection(FORMAT, lower(Confidence::Medium), reason),
    }
}

taskport_plugin_sdk::export_converter!(Txt);
