//! Cheap format detection from a file name and its first bytes.
//!
//! `.csv` files whose first row is a header naming a link column, or whose
//! rows are links (`item_link` or `item_name,item_link`), are `links-csv`.
//! Other extensions (except those of other formats: `txt`, `tsv`, `json`,
//! `jsonl`, `ndjson`) get one step less confidence.

use taskport_plugin_sdk::csv::CsvRecords;
use taskport_plugin_sdk::detect::lower;
use taskport_plugin_sdk::text::{DETECT_HEAD, extension, head_lines};
use taskport_plugin_sdk::{Confidence, Detection};

use crate::FORMAT;
use crate::rows::{Header, Layout, read_row};
use crate::sniff::sniff_delimiter;

/// Rows looked at.
const DETECT_ROWS: usize = 20;

/// Extensions that belong to other formats.
const OTHER_FORMATS: &[&str] = &["txt", "tsv", "json", "jsonl", "ndjson"];

/// How likely `links-csv` is for this file.
pub fn detect(file_name: &str, head: &[u8]) -> Detection {
    let ext = extension(file_name);
    let answer = |confidence, reason: String| Detection {
        format: FORMAT.into(),
        confidence,
        reason,
    };
    if ext
        .as_deref()
        .is_some_and(|ext| OTHER_FORMATS.contains(&ext))
    {
        return answer(
            Confidence::None,
            format!("`.{}` is not a CSV extension", ext.unwrap_or_default()),
        );
    }
    let is_csv = ext.as_deref() == Some("csv");
    let (confidence, reason) = sniff_rows(head);
    let confidence = if is_csv {
        confidence
    } else {
        lower(confidence)
    };
    let ext_note = if is_csv { ".csv, " } else { "" };
    answer(confidence, format!("{ext_note}{reason}"))
}

/// Confidence and reason from the content alone.
fn sniff_rows(head: &[u8]) -> (Confidence, String) {
    let lines = head_lines(head, head.len() >= DETECT_HEAD);
    let lines: Vec<&str> = lines.iter().map(String::as_str).take(DETECT_ROWS).collect();
    if lines.is_empty() {
        return (Confidence::Low, "no rows to look at".into());
    }
    let delimiter = sniff_delimiter(lines.iter().copied());
    let text = lines.join("\n");
    let mut records = CsvRecords::new(text.as_bytes(), delimiter, 0);
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Ok(Some(record)) = records.next_record() {
        let Ok(fields) = record.fields() else {
            continue;
        };
        rows.push(fields.into_iter().map(str::to_owned).collect());
    }
    let Some(first) = rows.first() else {
        return (Confidence::None, "not CSV".into());
    };
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    if let Some(header) = Header::recognise(&first) {
        return if header.is_plain() {
            (Confidence::High, "header row of link columns".into())
        } else {
            (
                Confidence::Medium,
                "header row with a link column and other columns".into(),
            )
        };
    }
    let links = |row: &Vec<String>| {
        let fields: Vec<&str> = row.iter().map(String::as_str).collect();
        read_row(&Layout::Plain, &fields, delimiter).is_ok()
    };
    let good = rows.iter().filter(|row| links(row)).count();
    let delimiter = char::from(delimiter);
    let confidence = match good {
        0 => return (Confidence::None, "rows are not links".into()),
        _ if good == rows.len() => Confidence::High,
        _ if !links(&rows[0]) => Confidence::Low,
        _ if good * 2 >= rows.len() => Confidence::Medium,
        _ => Confidence::Low,
    };
    let reason = format!(
        "{good} of the first {} rows are `{delimiter}`-separated links",
        rows.len()
    );
    (confidence, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confidence(name: &str, head: &str) -> Confidence {
        detect(name, head.as_bytes()).confidence
    }

    #[test]
    fn links_files() {
        let two = "image1.jpg,s3://b/1.jpeg\nimage2.jpg,s3://b/2.jpeg\n";
        assert_eq!(confidence("links.csv", two), Confidence::High);
        assert_eq!(confidence("links", two), Confidence::Medium);
        assert_eq!(confidence("links.txt", two), Confidence::None);
        assert_eq!(
            confidence("l.csv", "s3://b/1.jpeg\ns3://b/2.jpeg"),
            Confidence::High
        );
        assert_eq!(
            confidence("l.csv", "item_name;item_link\na;s3://b/1"),
            Confidence::High
        );
        assert_eq!(
            confidence("l.csv", "url,split\ns3://b/1,train"),
            Confidence::Medium
        );
        assert_eq!(confidence("l.csv", "s3://b/1\nfoo\nbar\n"), Confidence::Low);
    }

    #[test]
    fn other_csv_files() {
        assert_eq!(
            confidence("t.csv", "my_text,optional_field\nfirst,123\n"),
            Confidence::None
        );
        assert_eq!(
            confidence("t.csv", "image,caption\nhttps://h/a.jpg,hi\n"),
            Confidence::Low
        );
        assert_eq!(confidence("t.json", "[\"s3://b/k\"]"), Confidence::None);
    }
}
