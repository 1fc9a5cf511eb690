//! The three Label Studio task formats.
//!
//! - `label-studio-json`: a JSON array of tasks, streamed element by
//!   element, or a single task object. Malformed JSON is fatal.
//! - `label-studio-jsonl`: one task object per line (JSON Lines / NDJSON);
//!   a line that is not valid JSON is a `bad-json` error for that line.
//! - `label-studio-csv`: CSV or TSV with a header row. The header's column
//!   names become data keys and every cell stays the string it is in the
//!   file (`00123`, `NA`, `True` and empty cells are not converted). A row
//!   with more or fewer fields than the header is a `field-count` error.
//!   The delimiter (`,`, tab or `;`) is the one the header row holds most of
//!   outside quotes; a one-column file uses `,`.

use std::io::{BufRead, BufReader, Read};

use taskport_plugin_sdk::csv::CsvRecords;
use taskport_plugin_sdk::diag::{error, origin, warning};
use taskport_plugin_sdk::json::{ElementAt, stream_elements};
use taskport_plugin_sdk::text::{peek_head, skip_bom};
use taskport_plugin_sdk::{Emit, Flow, Origin, TaskRecord, data_task};

use crate::task::{Element, Read as TaskRead, TaskReader};

fn read_error(error: impl std::fmt::Display) -> String {
    format!("cannot read input: {error}")
}

/// Emits a task or its error, then any warnings; answers whether to go on.
fn emit(out: &mut dyn Emit, (task, warnings): TaskRead) -> Flow {
    for diagnostic in warnings {
        if out.diagnostic(diagnostic) == Flow::Stop {
            return Flow::Stop;
        }
    }
    match task {
        Ok(record) => out.record(record),
        Err(diagnostic) => out.diagnostic(diagnostic),
    }
}

fn element_origin(at: ElementAt) -> Origin {
    Origin {
        line: Some(at.line),
        index: at.index,
        offset: Some(at.offset),
    }
}

/// `label-studio-json`.
pub fn convert_json(input: &mut dyn Read, out: &mut dyn Emit) -> Result<(), String> {
    let (input, bom) = skip_bom(input).map_err(read_error)?;
    let mut tasks = TaskReader::default();
    stream_elements::<Element, _>(input, bom, true, |element, at| {
        emit(out, tasks.read(element, element_origin(at)))
    })
}

/// `label-studio-jsonl`.
pub fn convert_jsonl(input: &mut dyn Read, out: &mut dyn Emit) -> Result<(), String> {
    let (input, bom) = skip_bom(input).map_err(read_error)?;
    let mut input = BufReader::new(input);
    let mut tasks = TaskReader::default();
    let mut line = Vec::new();
    let (mut number, mut offset) = (0, bom);
    loop {
        line.clear();
        let read = input.read_until(b'\n', &mut line).map_err(read_error)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let at = origin(number, None, offset);
        offset += read as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let flow = match serde_json::from_slice::<Element>(&line) {
            Ok(element) => emit(out, tasks.read(element, at)),
            Err(e) => {
                let message = format!("column {}: {}", e.column(), json_message(&e));
                out.diagnostic(error(at, "bad-json", message))
            }
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
}

/// A `serde_json` error message without its position.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Bytes of the file looked at to find the header's delimiter.
const HEADER_HEAD: usize = 64 * 1024;

/// `label-studio-csv`.
pub fn convert_csv(input: &mut dyn Read, out: &mut dyn Emit) -> Result<(), String> {
    let (input, bom) = skip_bom(input).map_err(read_error)?;
    let (head, input) = peek_head(input, HEADER_HEAD).map_err(read_error)?;
    let delimiter = header_delimiter(&head);
    let mut records = CsvRecords::new(BufReader::new(input), delimiter, bom);
    let mut header: Option<Vec<String>> = None;
    loop {
        let Some(record) = records.next_record().map_err(read_error)? else {
            return Ok(());
        };
        if record.is_blank() {
            continue;
        }
        let at = origin(record.line, None, record.offset);
        let fields = match record.fields() {
            Ok(fields) => fields,
            Err(e) if header.is_none() => {
                return Err(format!(
                    "line {}: header row is not valid UTF-8: {e}",
                    record.line
                ));
            }
            Err(e) => {
                if out.diagnostic(error(
                    at,
                    "bad-utf8",
                    format!("row is not valid UTF-8: {e}"),
                )) == Flow::Stop
                {
                    return Ok(());
                }
                continue;
            }
        };
        let Some(columns) = &header else {
            let columns = read_header(&fields, record.line)?;
            if columns.iter().any(String::is_empty) {
                let message = "columns without a name are ignored";
                if out.diagnostic(warning(at, "ignored-column", message)) == Flow::Stop {
                    return Ok(());
                }
            }
            header = Some(columns);
            continue;
        };
        let flow = if fields.len() == columns.len() {
            out.record(row_task(columns, &fields, at))
        } else {
            let message = format!(
                "row has {} fields, the header has {}",
                fields.len(),
                columns.len()
            );
            out.diagnostic(error(at, "field-count", message))
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
}

/// The delimiter the first line holds most of outside quotes (`,`, tab or
/// `;`, in this order on ties); `,` when it holds none.
pub fn header_delimiter(head: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0)];
    let mut quoted = false;
    let start = head
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(0);
    for &byte in &head[start..] {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if quoted => {}
            _ => {
                for (delimiter, count) in &mut counts {
                    *count += usize::from(byte == *delimiter);
                }
            }
        }
    }
    counts
        .iter()
        .fold((b',', 0), |best, &(delimiter, count)| {
            if count > best.1 {
                (delimiter, count)
            } else {
                best
            }
        })
        .0
}

/// Column names; duplicates are fatal (they would silently drop cells).
fn read_header(fields: &[&str], line: u64) -> Result<Vec<String>, String> {
    let mut columns: Vec<String> = Vec::with_capacity(fields.len());
    for field in fields {
        if !field.is_empty() && columns.iter().any(|column| column == field) {
            return Err(format!(
                "line {line}: the header names column `{field}` twice"
            ));
        }
        columns.push((*field).to_owned());
    }
    Ok(columns)
}

/// A task whose data maps each named column to its cell, as a string.
fn row_task(columns: &[String], fields: &[&str], at: Origin) -> TaskRecord {
    let mut data = String::from("{");
    for (column, field) in columns
        .iter()
        .zip(fields)
        .filter(|(column, _)| !column.is_empty())
    {
        if data.len() > 1 {
            data.push(',');
        }
        data.push_str(&serde_json::Value::from(column.as_str()).to_string());
        data.push(':');
        data.push_str(&serde_json::Value::from(*field).to_string());
    }
    data.push('}');
    data_task(data, at)
}
