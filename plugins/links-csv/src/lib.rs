//! taskport converter for Supervisely "Links" CSV files.
//!
//! Format `links-csv`: one link per row, `item_link` or
//! `item_name,item_link`, delimited by `,` or `;` (sniffed from the first
//! non-blank lines, see [`sniff`]), quoted per RFC 4180, with an optional
//! header row (see [`rows`]). Each row becomes a link task
//! `{KEY: link}` where KEY is the link's media kind (`image`, `video`, ...)
//! or `url`, or the `key` option. A row whose link is not a URL with a
//! supported scheme nor an absolute path is a `bad-link` error; a row with
//! the wrong number of fields is a `field-count` error. Origins carry the
//! physical line where the row starts and its byte offset.

pub mod detect;
pub mod rows;
pub mod sniff;

use std::io::{BufReader, Read};

use taskport_plugin_sdk::csv::CsvRecords;
use taskport_plugin_sdk::diag::{error, origin};
use taskport_plugin_sdk::links::link_task;
use taskport_plugin_sdk::text::{head_lines, peek_head};
use taskport_plugin_sdk::{
    Converter, Detection, Emit, Flow, Options, PluginInfo, link_list_plugin, open_link_list,
};

use rows::{Header, Layout, read_row};

/// The format this plugin converts.
pub const FORMAT: &str = "links-csv";

/// Bytes looked at to sniff the delimiter.
const SNIFF_BYTES: usize = 16 * 1024;

/// The `links-csv` converter.
pub struct LinksCsv;

impl Converter for LinksCsv {
    fn describe() -> PluginInfo {
        link_list_plugin(
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            "Supervisely \"Links\" CSV: rows of item_link or item_name,item_link",
            "Links CSV (Supervisely)",
            "csv",
        )
    }

    fn detect(file_name: &str, head: &[u8]) -> Vec<Detection> {
        vec![detect::detect(file_name, head)]
    }

    fn convert(
        format: &str,
        options: &Options,
        _source_name: &str,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        let (key, input, bom) = open_link_list(format, FORMAT, options, input)?;
        let (head, input) =
            peek_head(input, SNIFF_BYTES).map_err(|e| format!("cannot read input: {e}"))?;
        let lines = head_lines(&head, head.len() == SNIFF_BYTES);
        let delimiter = sniff::sniff_delimiter(lines.iter().map(String::as_str));
        convert_rows(input, delimiter, bom, key, out)
    }
}

/// Streams the rows of `input` (BOM already dropped: `bom` bytes).
fn convert_rows(
    input: impl Read,
    delimiter: u8,
    bom: u64,
    key: Option<&str>,
    out: &mut dyn Emit,
) -> Result<(), String> {
    let mut records = CsvRecords::new(BufReader::new(input), delimiter, bom);
    let mut layout = None;
    loop {
        let record = match records.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("cannot read input: {e}")),
        };
        if record.is_blank() {
            continue;
        }
        let at = origin(record.line, None, record.offset);
        let flow = match record.fields() {
            Err(e) => out.diagnostic(error(
                at,
                "bad-utf8",
                format!("row is not valid UTF-8: {e}"),
            )),
            Ok(fields) => {
                if layout.is_none() {
                    let header = Header::recognise(&fields);
                    let is_header = header.is_some();
                    layout = Some(header.map_or(Layout::Plain, Layout::Header));
                    if is_header {
                        continue;
                    }
                }
                let Some(layout) = &layout else { continue };
                match read_row(layout, &fields, delimiter) {
                    Ok(item) => {
                        let mut task = link_task(&item.link, item.name, key, at);
                        if !item.meta.is_empty() {
                            task.meta = Some(meta_json(item.meta));
                        }
                        out.record(task)
                    }
                    Err((code, message)) => out.diagnostic(error(at, code, message)),
                }
            }
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
}

/// Meta columns as a JSON object of strings.
fn meta_json(meta: Vec<(String, String)>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = meta
        .into_iter()
        .map(|(key, value)| (key, value.into()))
        .collect();
    serde_json::Value::Object(object).to_string()
}

taskport_plugin_sdk::export_converter!(LinksCsv);
