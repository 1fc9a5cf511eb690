//! Writes benchmark manifests.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `rows` items of `format` to `path`.
pub fn manifest(format: &str, path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    match format {
        "links-csv" => {
            writeln!(out, "item_name,item_link")?;
            for n in 0..rows {
                writeln!(
                    out,
                    "item{n}.jpg,s3://bench-bucket/images/{:03}/item{n}.jpg",
                    n % 997
                )?;
            }
        }
        "label-studio-json" => {
            writeln!(out, "[")?;
            for n in 0..rows {
                let separator = if n + 1 == rows { "" } else { "," };
                writeln!(
                    out,
                    r#"{{"data": {{"image": "s3://bench-bucket/images/{n}.jpg", "caption": "item {n}"}}, "predictions": [{{"model_version": "v1", "score": 0.5, "result": [{{"from_name": "label", "to_name": "image", "type": "choices", "value": {{"choices": ["cat"]}}}}]}}]}}{separator}"#
                )?;
            }
            writeln!(out, "]")?;
        }
        "txt" => {
            for n in 0..rows {
                writeln!(out, "https://cdn.example.com/audio/{n}.wav")?;
            }
        }
        other => panic!("no generator for {other}"),
    }
    out.flush()
}
