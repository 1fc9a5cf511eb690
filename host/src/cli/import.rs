//! `taskport import`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::Cli;
use super::progress::{Progress, ProgressMode};
use crate::importer::{self, ErrorPolicy, ImportOptions, ImportOutputs, ImportReport};
use crate::objects::MAX_PRESIGN;
use crate::records::{DedupeKey, RecordLimits};
use crate::runtime::Limits;
use crate::runtime::limits::{MAX_MEMORY_CEILING, parse_bytes};
use crate::sources::Source;
use crate::store::{ImportStatus, NamePolicy, SqliteStore, TaskStore};

/// Exit code of an import that stored its good items and skipped bad ones.
const EXIT_SKIPPED_ERRORS: u8 = 3;

/// Lines of a plugin's own stdout/stderr shown after an import.
const PLUGIN_OUTPUT_LINES: usize = 5;

/// Tasks a dry run shows.
const DRY_RUN_SAMPLES: u64 = 3;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A manifest file, a folder of media, `-` for standard input, or a URL:
    /// `s3://bucket/key`, `gs://…`, `az://…`, `https://…` (ending in `/`: a
    /// prefix of media, listed like a folder).
    source: String,

    /// The format to read (see `taskport formats`); detected when omitted.
    #[arg(long)]
    format: Option<String>,

    /// The dataset to import into; default: the source's file name without
    /// extension.
    #[arg(long)]
    dataset: Option<String>,

    /// Also write the tasks this import adds as normalized JSON lines to
    /// FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Write every diagnostic as a JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// A plugin option, KEY=VALUE (repeatable; `taskport formats` shows them).
    #[arg(long = "opt", value_name = "KEY=VALUE", value_parser = parse_option)]
    options: Vec<(String, String)>,

    /// What bad items do to the import.
    #[arg(long, value_enum, default_value_t = ErrorPolicy::Skip)]
    on_error: ErrorPolicy,

    /// Give up, storing nothing, after N errors.
    #[arg(long, value_name = "N")]
    max_errors: Option<u64>,

    /// How a task whose name is already taken in the dataset is handled.
    #[arg(long, value_enum, default_value_t = NameCollisions::Suffix)]
    name_collisions: NameCollisions,

    /// What makes two tasks the same: the main link, or the whole data.
    #[arg(long, value_enum, default_value_t = Dedupe::Link)]
    dedupe: Dedupe,

    /// Convert and validate, print the summary and sample tasks, store nothing.
    #[arg(long)]
    dry_run: bool,

    /// Do not store (use with --out).
    #[arg(long)]
    no_store: bool,

    /// Cloud connection settings (PROVIDER, API_TOKEN, BUCKET, ...; see the
    /// README), on top of the environment's.
    #[arg(long = "env", value_name = "FILE")]
    env_file: Option<PathBuf>,

    /// Replace each S3, GCS or Azure link by an https URL signed for this
    /// long (e.g. 12h, 7d; at most 7 days), keeping the link as written in
    /// meta.original_links.
    #[arg(long, value_name = "DURATION", value_parser = parse_presign)]
    presign: Option<Duration>,

    /// Check that every linked S3, GCS or Azure object exists (HEAD
    /// requests); a task with a missing one is an error for its row, and
    /// found objects' size and etag go into meta.objects.
    #[arg(long)]
    verify: bool,

    /// Linear-memory cap per plugin, e.g. 64MiB.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_memory)]
    max_memory: usize,

    /// Seconds a plugin may compute without reading input.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,

    /// Most records plus diagnostics a plugin may hand over at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_batch_items)]
    max_batch: usize,

    /// Most stdout/stderr output a plugin may write, e.g. 64KiB.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = parse_bytes)]
    max_output: usize,

    /// Largest task record, e.g. 1MiB.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_bytes)]
    max_record_size: usize,

    /// Progress reporting: a bar on a terminal (auto), JSON lines on stderr, or none.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum NameCollisions {
    /// `photo.jpg` becomes `photo_1.jpg`; explicit names are kept first.
    Suffix,
    /// A collision fails the import.
    Error,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Dedupe {
    /// Tasks with the same main link (same cloud object) are duplicates.
    Link,
    /// Only tasks with identical data are duplicates.
    Data,
}

fn parse_option(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(key, value)| (key.trim().to_string(), value.to_string()))
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))
}

fn parse_presign(text: &str) -> Result<Duration, String> {
    let valid_for = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if valid_for.is_zero() || valid_for > MAX_PRESIGN {
        return Err("a signed URL is valid for more than 0 seconds and at most 7 days".into());
    }
    Ok(valid_for)
}

fn parse_memory(text: &str) -> Result<usize, String> {
    let bytes = parse_bytes(text)?;
    if bytes > MAX_MEMORY_CEILING {
        return Err("at most 4GiB".into());
    }
    Ok(bytes)
}

/// Runs the import and prints its summary.
pub fn run(cli: &Cli, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    if !args.timeout.is_finite() || args.timeout <= 0.0 {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let source = Source::parse(&args.source)?;
    let limits = Limits {
        max_memory: args.max_memory,
        timeout: Duration::from_secs_f64(args.timeout),
        max_batch_items: args.max_batch,
        max_output: args.max_output,
    };
    let options = ImportOptions {
        dataset: args
            .dataset
            .clone()
            .unwrap_or_else(|| default_dataset(&source)),
        format: args.format.clone(),
        plugin_options: args.options.clone(),
        on_error: args.on_error,
        max_errors: args.max_errors,
        names: match args.name_collisions {
            NameCollisions::Suffix => NamePolicy::Suffix,
            NameCollisions::Error => NamePolicy::Error,
        },
        dedupe: match args.dedupe {
            Dedupe::Link => DedupeKey::MainLink,
            Dedupe::Data => DedupeKey::Data,
        },
        limits,
        record_limits: RecordLimits {
            max_record_bytes: args.max_record_size,
        },
        dry_run: args.dry_run,
        verify: args.verify,
        presign: args.presign,
        cloud: super::cloud_settings(args.env_file.as_deref())?,
    };
    let catalog = cli.catalog(&limits)?;
    let scratch;
    let mut store: Box<dyn TaskStore> = if args.no_store || args.dry_run {
        scratch = tempfile::tempdir().context("cannot create a scratch store")?;
        Box::new(SqliteStore::open(&scratch.path().join("scratch.db"))?)
    } else {
        Box::new(cli.open_store()?)
    };

    let mut errors_file = args
        .errors
        .as_ref()
        .map(|path| super::create_output(path))
        .transpose()?;
    let mut out = match (&args.out, args.dry_run) {
        (Some(path), _) => Some(super::create_output(path)?),
        (None, true) => Some(Box::new(SampleWriter::default()) as Box<dyn Write>),
        (None, false) => None,
    };
    let mut progress = Progress::start(args.progress);
    let mut report_progress = |update: &_| progress.update(update);
    let outputs = ImportOutputs {
        errors: errors_file.as_deref_mut().map(|out| out as &mut dyn Write),
        records: out.as_deref_mut().map(|out| out as &mut dyn Write),
        records_limit: (args.dry_run && args.out.is_none()).then_some(DRY_RUN_SAMPLES),
        progress: Some(&mut report_progress),
    };
    let report = importer::run(&catalog, store.as_mut(), &source, &options, outputs)?;
    progress.finish();
    if let Some(mut file) = errors_file {
        file.flush().context("cannot write the errors file")?;
    }
    print_summary(&report);
    Ok(match report.status {
        ImportStatus::Failed => ExitCode::FAILURE,
        ImportStatus::Completed if report.counts.errors > 0 => ExitCode::from(EXIT_SKIPPED_ERRORS),
        ImportStatus::Completed => ExitCode::SUCCESS,
    })
}

/// `links` for `links.csv` or `s3://bucket/links.csv`, `photos` for
/// `photos/` or `s3://bucket/photos/`, `stdin` for `-`.
fn default_dataset(source: &Source) -> String {
    let stem = |path: &Path| {
        path.file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .filter(|stem| !stem.is_empty())
            .unwrap_or_else(|| "default".into())
    };
    match source {
        Source::Stdin => "stdin".into(),
        Source::File(path) | Source::Directory(path) => stem(path),
        Source::Remote(remote) => stem(Path::new(&remote.file_name())),
    }
}

/// Prints the sample tasks of a dry run (JSON lines, of which the importer
/// writes only the first few), pretty, to standard output.
#[derive(Default)]
struct SampleWriter {
    line: Vec<u8>,
}

impl Write for SampleWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &byte in buf {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let task: serde_json::Value =
                serde_json::from_slice(&self.line).map_err(io::Error::other)?;
            let mut stdout = io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &task).map_err(io::Error::other)?;
            writeln!(stdout)?;
            self.line.clear();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

fn print_summary(report: &ImportReport) {
    let counts = &report.counts;
    let verb = match (report.status, report.dry_run) {
        (ImportStatus::Failed, _) => "import failed",
        (ImportStatus::Completed, true) => "dry run (nothing stored)",
        (ImportStatus::Completed, false) => "imported",
    };
    eprintln!(
        "taskport: {verb}: {} as {} ({}) into dataset {:?}",
        report.source, report.format, report.plugin, report.dataset
    );
    eprintln!(
        "  {} converted, {} added, {} duplicates skipped, {} renamed, {} errors, {} warnings in {:.2}s",
        counts.converted,
        counts.added,
        counts.duplicates,
        counts.renamed,
        counts.errors,
        counts.warnings,
        report.elapsed.as_secs_f64()
    );
    if counts.added == 0 && counts.duplicates > 0 && report.status == ImportStatus::Completed {
        eprintln!("  nothing new: every task was already in the dataset");
    }
    for diagnostic in &report.first_diagnostics {
        eprintln!("  {diagnostic}");
    }
    let shown = report.first_diagnostics.len() as u64;
    let total = counts.errors + counts.warnings;
    if total > shown {
        eprintln!(
            "  ... and {} more (--errors FILE writes them all)",
            total - shown
        );
    }
    let plugin_lines: Vec<&str> = report.stats.output.lines().collect();
    for line in plugin_lines.iter().take(PLUGIN_OUTPUT_LINES) {
        eprintln!("  [{}] {line}", report.plugin);
    }
    if plugin_lines.len() > PLUGIN_OUTPUT_LINES {
        eprintln!(
            "  [{}] ... ({} more lines)",
            report.plugin,
            plugin_lines.len() - PLUGIN_OUTPUT_LINES
        );
    }
    if let Some(failure) = &report.failure {
        eprintln!("taskport: error: {failure}");
    }
}
