//! Streaming: a million-item manifest goes through a real built-in plugin
//! while the plugin's linear memory, as the runtime accounts it, stays small.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use taskport::catalog::Catalog;
use taskport::runtime::{ConversionStats, ConvertRequest, Limits};

const ROWS: u64 = 1_000_000;
const MEMORY_BOUND: usize = 16 << 20;

/// A manifest produced line by line, never held whole.
struct Generated<F: FnMut(u64) -> String> {
    line: F,
    next: u64,
    total: u64,
    suffix: &'static str,
    pending: Vec<u8>,
    consumed: usize,
    finished: bool,
}

impl<F: FnMut(u64) -> String> Generated<F> {
    fn new(total: u64, prefix: &'static str, suffix: &'static str, line: F) -> Self {
        Self {
            line,
            next: 0,
            total,
            suffix,
            pending: prefix.as_bytes().to_vec(),
            consumed: 0,
            finished: false,
        }
    }
}

impl<F: FnMut(u64) -> String> Read for Generated<F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.consumed == self.pending.len() {
            self.consumed = 0;
            self.pending.clear();
            while self.pending.len() < 64 * 1024 && self.next < self.total {
                self.pending.extend((self.line)(self.next).bytes());
                self.next += 1;
            }
            if self.pending.is_empty() && !self.finished {
                self.finished = true;
                self.pending.extend(self.suffix.bytes());
            }
        }
        let count = buf.len().min(self.pending.len() - self.consumed);
        buf[..count].copy_from_slice(&self.pending[self.consumed..self.consumed + count]);
        self.consumed += count;
        Ok(count)
    }
}

fn convert(format: &str, input: impl Read + Send + 'static) -> (u64, ConversionStats) {
    let limits = Limits::default();
    let catalog = Catalog::open(common::shared_home(), &limits).expect("catalog");
    let (entry, _) = catalog.find_format(format).expect("format");
    let request = ConvertRequest {
        format,
        options: &[],
        source_name: "generated",
        limits,
        bytes_read: Arc::new(AtomicU64::new(0)),
    };
    let mut records = 0;
    let stats = entry
        .plugin
        .convert(&request, Box::new(input), &mut |batch| {
            assert!(
                batch.diagnostics.is_empty(),
                "{:?}",
                batch.diagnostics.first()
            );
            records += batch.records.len() as u64;
            true
        })
        .expect("conversion");
    (records, stats)
}

#[test]
fn a_million_csv_rows_convert_in_bounded_plugin_memory() {
    let input = Generated::new(ROWS, "", "", |n| {
        format!("item{n}.jpg,s3://bucket/images/{n:07}/item{n}.jpg\n")
    });
    let (records, stats) = convert("links-csv", input);
    assert_eq!(records, ROWS);
    assert!(stats.bytes_read > 50_000_000, "read {}", stats.bytes_read);
    assert!(
        stats.peak_memory < MEMORY_BOUND,
        "peak plugin memory {} bytes",
        stats.peak_memory
    );
}

#[test]
fn a_million_element_label_studio_array_converts_in_bounded_plugin_memory() {
    let input = Generated::new(ROWS, "[\n", "]\n", |n| {
        let separator = if n + 1 < ROWS { "," } else { "" };
        format!(
            "{{\"data\":{{\"image\":\"s3://b/i/{n}.jpg\"}},\"predictions\":[{{\"result\":\
             [{{\"type\":\"choices\",\"value\":{{\"choices\":[\"Cat\"]}}}}],\"score\":0.5}}]}}\
             {separator}\n"
        )
    });
    let (records, stats) = convert("label-studio-json", input);
    assert_eq!(records, ROWS);
    assert!(stats.bytes_read > 100_000_000, "read {}", stats.bytes_read);
    assert!(
        stats.peak_memory < MEMORY_BOUND,
        "peak plugin memory {} bytes",
        stats.peak_memory
    );
}
