//! One measurement, run in a child process; prints a JSON report.

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::json;
use taskport::catalog::Catalog;
use taskport::importer::{self, ImportOptions, ImportOutputs};
use taskport::runtime::{ConvertRequest, Limits};
use taskport::sources::Source;
use taskport::store::SqliteStore;
use taskport_plugin_sdk::{Converter, Diagnostic, Emit, Flow, TaskRecord};

/// Dispatches `--child MODE ARGS...`.
pub fn child(args: &[String]) -> anyhow::Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = match args.as_slice() {
        ["native", format, file] => native(format, file)?,
        ["wasm", format, file] => wasm(format, file)?,
        ["import", format, file, store] => import(format, file, store)?,
        ["load", home] => load(home)?,
        _ => bail!("unknown measurement {args:?}"),
    };
    println!("{report}");
    Ok(())
}

/// Counts what a converter emits.
#[derive(Default)]
struct Count {
    records: u64,
    diagnostics: u64,
}

impl Emit for Count {
    fn record(&mut self, _record: TaskRecord) -> Flow {
        self.records += 1;
        Flow::Proceed
    }

    fn diagnostic(&mut self, _diagnostic: Diagnostic) -> Flow {
        self.diagnostics += 1;
        Flow::Proceed
    }
}

/// The parser compiled natively, over a buffered file.
fn native(format: &str, file: &str) -> anyhow::Result<serde_json::Value> {
    let convert = match format {
        "links-csv" => taskport_links_csv::LinksCsv::convert,
        "label-studio-json" => taskport_label_studio::LabelStudio::convert,
        "txt" => taskport_txt::Txt::convert,
        other => bail!("no native converter for {other}"),
    };
    let mut input = BufReader::with_capacity(64 * 1024, File::open(file)?);
    let mut count = Count::default();
    let started = Instant::now();
    convert(format, &[], file, &mut input, &mut count).map_err(anyhow::Error::msg)?;
    Ok(json!({
        "seconds": started.elapsed().as_secs_f64(),
        "records": count.records,
        "diagnostics": count.diagnostics,
    }))
}

/// The same parser as the embedded WebAssembly plugin, conversion only.
fn wasm(format: &str, file: &str) -> anyhow::Result<serde_json::Value> {
    let limits = Limits::default();
    let catalog = Catalog::open(super::bench_home(), &limits)?;
    let (entry, _) = catalog.find_format(format).context("format")?;
    let request = ConvertRequest {
        format,
        options: &[],
        source_name: file,
        limits,
        bytes_read: Default::default(),
    };
    let mut records = 0u64;
    let started = Instant::now();
    let stats = entry
        .plugin
        .convert(&request, Box::new(File::open(file)?), &mut |batch| {
            records += batch.records.len() as u64;
            true
        })?;
    Ok(json!({
        "seconds": started.elapsed().as_secs_f64(),
        "records": records,
        "plugin_peak_bytes": stats.peak_memory,
    }))
}

/// A full import into a fresh SQLite store.
fn import(format: &str, file: &str, store: &str) -> anyhow::Result<serde_json::Value> {
    let limits = Limits::default();
    let catalog = Catalog::open(super::bench_home(), &limits)?;
    let mut store = SqliteStore::open(store.as_ref())?;
    let options = ImportOptions {
        dataset: "bench".into(),
        format: Some(format.into()),
        plugin_options: Vec::new(),
        on_error: Default::default(),
        max_errors: None,
        names: Default::default(),
        dedupe: Default::default(),
        limits,
        record_limits: Default::default(),
        dry_run: false,
        verify: false,
        presign: None,
        cloud: Default::default(),
    };
    let started = Instant::now();
    let report = importer::run(
        &catalog,
        &mut store,
        &Source::parse(file)?,
        &options,
        ImportOutputs::default(),
    )?;
    Ok(json!({
        "seconds": started.elapsed().as_secs_f64(),
        "added": report.counts.added,
        "plugin_peak_bytes": report.stats.peak_memory,
        "peak_rss_bytes": peak_rss_bytes()?,
    }))
}

/// Opens the catalog: compiles on a cold cache, deserializes on a warm one.
fn load(home: &str) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let catalog = Catalog::open(home.into(), &Limits::default())?;
    let seconds = started.elapsed().as_secs_f64();
    let (hits, compiled) = catalog.cache_counters();
    Ok(json!({"seconds": seconds, "cache_hits": hits, "compiled": compiled}))
}

/// This process's peak resident memory (Linux `VmHWM`).
fn peak_rss_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?;
    Ok(kib * 1024)
}
