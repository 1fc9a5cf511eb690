//! Commands that read: `formats`, `detect`, `datasets`, `imports`, `tasks`,
//! `export`.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Cli;
use crate::detect;
use crate::records::Task;
use crate::runtime::Limits;
use crate::sources::Source;
use crate::store::TaskStore;

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// A manifest file, a folder, `-`, or an object-store or web URL.
    source: String,

    /// Cloud connection settings (PROVIDER, API_TOKEN, BUCKET, ...; see the
    /// README), on top of the environment's.
    #[arg(long = "env", value_name = "FILE")]
    env_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    dataset: String,
    /// Print at most N tasks.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    dataset: String,
    /// `label-studio`: a JSON task list Label Studio imports as is;
    /// `jsonl`: normalized records, one per line.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The dataset to delete, with its tasks and import history.
    dataset: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    LabelStudio,
    Jsonl,
}

/// `taskport formats`.
pub fn formats(cli: &Cli) -> anyhow::Result<ExitCode> {
    let catalog = cli.catalog(&Limits::default())?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<22} {:<18} title",
        "FORMAT", "PLUGIN", "EXTENSIONS"
    )?;
    for entry in catalog.plugins() {
        let info = entry.plugin.info();
        for format in &info.formats {
            let extensions = if format.directory {
                "(folder)".to_string()
            } else {
                format.extensions.join(",")
            };
            writeln!(
                out,
                "{:<20} {:<22} {:<18} {}",
                format.id,
                entry.plugin.label(),
                extensions,
                format.title
            )?;
        }
        for option in &info.options {
            let default = option
                .default_value
                .as_deref()
                .map(|value| format!(" (default {value})"))
                .unwrap_or_default();
            writeln!(
                out,
                "{:<20}   --opt {}=...: {}{default}",
                "", option.name, option.description
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `taskport detect SOURCE`: every candidate with its confidence and
/// reason, then the choice (or why there is none).
pub fn detect(cli: &Cli, args: &DetectArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let catalog = cli.catalog(&limits)?;
    let source = Source::parse(&args.source)?;
    let cloud = super::cloud_settings(args.env_file.as_deref())?;
    let opened = source.open(&cloud)?;
    let candidates = detect::candidates(&catalog, &source, &opened, &limits);
    let mut out = io::stdout().lock();
    for candidate in &candidates {
        writeln!(
            out,
            "{:<7} {:<20} {:<22} {}",
            candidate.confidence, candidate.format, candidate.plugin, candidate.reason
        )?;
    }
    let chosen = detect::choose(&source.display_name(), &candidates)?;
    writeln!(out, "chosen: {} ({})", chosen.format, chosen.reason)?;
    Ok(ExitCode::SUCCESS)
}

/// `taskport datasets`.
pub fn datasets(cli: &Cli) -> anyhow::Result<ExitCode> {
    let store = cli.open_store()?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:<24} {:>10} {:>8}  created",
        "DATASET", "TASKS", "IMPORTS"
    )?;
    for dataset in store.datasets()? {
        writeln!(
            out,
            "{:<24} {:>10} {:>8}  {}",
            dataset.name, dataset.tasks, dataset.imports, dataset.created_at
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `taskport delete DATASET`.
pub fn delete(cli: &Cli, args: &DeleteArgs) -> anyhow::Result<ExitCode> {
    let mut store = cli.open_store()?;
    let deleted = store.delete_dataset(&args.dataset)?;
    eprintln!(
        "taskport: deleted dataset {:?}: {} tasks, {} imports",
        deleted.name, deleted.tasks, deleted.imports
    );
    Ok(ExitCode::SUCCESS)
}

/// `taskport imports`.
pub fn imports(cli: &Cli) -> anyhow::Result<ExitCode> {
    let store = cli.open_store()?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:>4}  {:<24} {:<10} {:>8} {:>8} {:>6} {:>6}  {:<20} {:<18} source",
        "ID", "STARTED", "STATUS", "ADDED", "DUPS", "ERRS", "WARNS", "DATASET", "FORMAT"
    )?;
    for import in store.imports()? {
        let counts = import.counts;
        writeln!(
            out,
            "{:>4}  {:<24} {:<10} {:>8} {:>8} {:>6} {:>6}  {:<20} {:<18} {}",
            import.id,
            import.started_at,
            import.status,
            counts.added,
            counts.duplicates,
            counts.errors,
            counts.warnings,
            import.dataset,
            import.format,
            import.source
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `taskport tasks DATASET`: normalized JSON lines.
pub fn tasks(cli: &Cli, args: &TasksArgs) -> anyhow::Result<ExitCode> {
    let store = cli.open_store()?;
    let mut out = BufWriter::new(io::stdout().lock());
    store.tasks(&args.dataset, args.limit, &mut |task| {
        write_jsonl(&mut out, &task)
    })?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `taskport export DATASET --format label-studio|jsonl`.
pub fn export(cli: &Cli, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let store = cli.open_store()?;
    let mut out = super::create_output(args.out.as_deref().unwrap_or(Path::new("-")))?;
    match args.format {
        ExportFormat::Jsonl => {
            store.tasks(&args.dataset, None, &mut |task| {
                write_jsonl(&mut out, &task)
            })?;
        }
        ExportFormat::LabelStudio => {
            let mut first = true;
            out.write_all(b"[")?;
            store.tasks(&args.dataset, None, &mut |task| {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                serde_json::to_writer(&mut out, &label_studio_task(task))?;
                Ok(())
            })?;
            out.write_all(b"\n]\n")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_jsonl(out: &mut impl Write, task: &Task) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, task)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// A task as Label Studio imports it: data, annotations, predictions, meta.
fn label_studio_task(task: Task) -> serde_json::Value {
    serde_json::json!({
        "data": task.data,
        "annotations": task.annotations,
        "predictions": task.predictions,
        "meta": task.meta,
    })
}
