//! One import, end to end: source → plugin → validation → store.
//!
//! The plugin converts on its own thread; batches come back here, where
//! every record is normalized and added to the store's open transaction.
//! The error policy decides at the end whether the transaction commits.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::catalog::Catalog;
use crate::detect;
use crate::objects::{LinkedObjects, MISSING_OBJECT};
use crate::records::{DedupeKey, Diagnostic, Normalizer, RecordLimits, Severity};
use crate::runtime::{Batch, ConversionStats, ConvertRequest, Limits};
use crate::sources::{CloudSettings, Source};
use crate::store::{ImportCounts, ImportSession, ImportStatus, NamePolicy, NewImport, TaskStore};

/// What happens to the import when items fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorPolicy {
    /// Bad items are reported and skipped; the rest is stored.
    #[default]
    Skip,
    /// Any error: nothing is stored.
    Fail,
}

/// How many diagnostics a report keeps for printing.
const REPORTED_DIAGNOSTICS: usize = 10;

/// Everything an import needs besides the catalog and store.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dataset: String,
    /// `None`: detect the format.
    pub format: Option<String>,
    /// `--opt key=value` pairs for the plugin.
    pub plugin_options: Vec<(String, String)>,
    pub on_error: ErrorPolicy,
    /// Stop (and store nothing) once this many errors were seen.
    pub max_errors: Option<u64>,
    pub names: NamePolicy,
    /// What makes two tasks the same.
    pub dedupe: DedupeKey,
    pub limits: Limits,
    pub record_limits: RecordLimits,
    /// Convert and validate, but store nothing.
    pub dry_run: bool,
    /// Look up every linked cloud object before storing its task (see
    /// [`crate::objects`]).
    pub verify: bool,
    /// Replace cloud links by URLs signed for this long (see
    /// [`crate::objects`]).
    pub presign: Option<Duration>,
    /// Object-store settings beyond the environment's (`--env FILE`).
    pub cloud: CloudSettings,
}

/// Where an import's by-products go.
#[derive(Default)]
pub struct ImportOutputs<'a> {
    /// Every diagnostic as a JSON line (`--errors FILE`).
    pub errors: Option<&'a mut dyn Write>,
    /// The tasks this import added, as JSON lines (`--out`).
    pub records: Option<&'a mut dyn Write>,
    /// At most this many tasks are written to `records`.
    pub records_limit: Option<u64>,
    /// Called after each batch.
    pub progress: Option<&'a mut dyn FnMut(&ProgressUpdate)>,
}

/// Where an import stands, for progress reports.
#[derive(Debug, Clone, Copy)]
pub struct ProgressUpdate {
    pub bytes_read: u64,
    /// The source's size, when known.
    pub total_bytes: Option<u64>,
    pub counts: ImportCounts,
}

/// How an import went.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub source: String,
    pub dataset: String,
    pub format: String,
    /// `name@version` of the plugin.
    pub plugin: String,
    pub status: ImportStatus,
    /// Why nothing was stored, when the status is failed.
    pub failure: Option<String>,
    pub counts: ImportCounts,
    /// The first diagnostics, errors before warnings.
    pub first_diagnostics: Vec<Diagnostic>,
    /// The store's id for the import (none for dry runs).
    pub import_id: Option<i64>,
    pub stats: ConversionStats,
    pub elapsed: Duration,
    pub dry_run: bool,
}

/// Imports `source` into `store`.
pub fn run(
    catalog: &Catalog,
    store: &mut dyn TaskStore,
    source: &Source,
    options: &ImportOptions,
    outputs: ImportOutputs<'_>,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let opened = source.open(&options.cloud)?;
    let format = match &options.format {
        Some(format) => format.clone(),
        None => detected_format(catalog, source, &opened, options)?,
    };
    let (entry, _) = catalog.find_format(&format).with_context(|| {
        format!("unknown format {format:?}; `taskport formats` lists the formats available")
    })?;
    let plugin = &entry.plugin;
    let source_name = source.display_name();
    let mut session = store.begin_import(NewImport {
        dataset: options.dataset.clone(),
        source: source_name.clone(),
        format: format.clone(),
        plugin_name: plugin.info().name.clone(),
        plugin_version: plugin.info().version.clone(),
        plugin_hash: entry.hash.clone(),
        options: options.plugin_options.clone(),
    })?;
    let normalizer = Normalizer::new(&source_name, &format, plugin.label(), options.record_limits)
        .with_dedupe(options.dedupe);
    let ImportOutputs {
        errors,
        records,
        records_limit,
        mut progress,
    } = outputs;
    let mut tally = Tally::new(errors);
    let mut linked = (options.verify || options.presign.is_some())
        .then(|| LinkedObjects::new(options.cloud.clone()))
        .transpose()?;
    let bytes_read = Arc::new(AtomicU64::new(0));
    let total_bytes = opened.size;
    let request = ConvertRequest {
        format: &format,
        options: &options.plugin_options,
        source_name: &source_name,
        limits: options.limits,
        bytes_read: bytes_read.clone(),
    };
    let mut failure: Option<anyhow::Error> = None;
    let mut consume = |batch: Batch| -> bool {
        let step = tally.absorb(
            batch,
            &normalizer,
            linked.as_mut(),
            options,
            session.as_mut(),
        );
        if let Some(report) = progress.as_deref_mut() {
            let stored = session.stored();
            report(&ProgressUpdate {
                bytes_read: bytes_read.load(std::sync::atomic::Ordering::Relaxed),
                total_bytes,
                counts: ImportCounts {
                    added: stored.added,
                    duplicates: stored.duplicates,
                    ..tally.counts
                },
            });
        }
        match step {
            Ok(()) => !tally.should_stop(options),
            Err(error) => {
                failure = Some(error);
                false
            }
        }
    };
    let conversion = plugin.convert(&request, opened.reader, &mut consume);
    if let Some(error) = failure {
        session.rollback(None)?;
        return Err(error);
    }
    let stored = match session.flush() {
        Ok(stored) => stored,
        Err(error) => {
            session.rollback(None)?;
            return Err(error.into());
        }
    };
    tally.counts.added = stored.added;
    tally.counts.duplicates = stored.duplicates;
    let mut report = ImportReport {
        source: source_name,
        dataset: options.dataset.clone(),
        format,
        plugin: plugin.label().to_string(),
        status: ImportStatus::Completed,
        failure: None,
        counts: tally.counts,
        first_diagnostics: tally.first_diagnostics(),
        import_id: None,
        stats: ConversionStats::default(),
        elapsed: Duration::ZERO,
        dry_run: options.dry_run,
    };
    let failure = match conversion {
        Err(error) => Some(error.to_string()),
        Ok(stats) => {
            report.stats = stats;
            policy_failure(options, &report.counts)
        }
    };
    let failure = match failure {
        Some(failure) => Some(failure),
        None => match session.resolve_names(options.names) {
            Ok(renamed) => {
                report.counts.renamed = renamed;
                None
            }
            Err(error @ crate::store::StoreError::NameCollision { .. }) => Some(error.to_string()),
            Err(error) => return Err(error.into()),
        },
    };
    if let Some(failure) = failure {
        report.status = ImportStatus::Failed;
        report.failure = Some(failure);
        let record = (!options.dry_run).then_some(report.counts);
        session.rollback(record)?;
    } else {
        if let Some(out) = records {
            session.added_tasks(records_limit, &mut |task| {
                serde_json::to_writer(&mut *out, &task)?;
                out.write_all(b"\n")?;
                Ok(())
            })?;
            out.flush()?;
        }
        if options.dry_run {
            session.rollback(None)?;
        } else {
            report.import_id = Some(session.commit(report.counts)?);
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Why the error policy refuses to store the import, if it does.
fn policy_failure(options: &ImportOptions, counts: &ImportCounts) -> Option<String> {
    if counts.errors == 0 {
        return None;
    }
    if options.on_error == ErrorPolicy::Fail {
        return Some(format!(
            "{} item(s) failed and --on-error fail is set, so nothing was stored",
            counts.errors
        ));
    }
    match options.max_errors {
        Some(max) if counts.errors >= max => Some(format!(
            "stopped after {} errors (--max-errors {max}); nothing was stored",
            counts.errors
        )),
        _ => None,
    }
}

/// Running counts, the first diagnostics, and the `--errors` file.
struct Tally<'a> {
    counts: ImportCounts,
    first_errors: Vec<Diagnostic>,
    first_warnings: Vec<Diagnostic>,
    errors: Option<&'a mut dyn Write>,
}

/// The format detection picks for `source`.
fn detected_format(
    catalog: &Catalog,
    source: &Source,
    opened: &crate::sources::OpenSource,
    options: &ImportOptions,
) -> anyhow::Result<String> {
    let candidates = detect::candidates(catalog, source, opened, &options.limits);
    Ok(detect::choose(&source.display_name(), &candidates)?
        .format
        .clone())
}

impl<'a> Tally<'a> {
    fn new(errors: Option<&'a mut dyn Write>) -> Self {
        Self {
            counts: ImportCounts::default(),
            first_errors: Vec::new(),
            first_warnings: Vec::new(),
            errors,
        }
    }

    /// Normalizes, verifies and presigns if asked, and stores one batch from
    /// the plugin.
    fn absorb(
        &mut self,
        batch: Batch,
        normalizer: &Normalizer,
        linked: Option<&mut LinkedObjects>,
        options: &ImportOptions,
        session: &mut dyn ImportSession,
    ) -> anyhow::Result<()> {
        for reported in batch.diagnostics {
            let diagnostic = normalizer.diagnostic(
                reported.origin,
                reported.severity,
                &reported.code,
                &reported.message,
            );
            self.diagnostic(&diagnostic, session)?;
        }
        // Records in order: a task (by its place in `tasks`) or why there
        // is none, so that diagnostics keep the manifest's order.
        let mut tasks = Vec::with_capacity(batch.records.len());
        let mut items = Vec::with_capacity(batch.records.len());
        for raw in batch.records {
            match normalizer.normalize(raw) {
                Ok(task) => {
                    items.push(Ok(tasks.len()));
                    tasks.push(task);
                }
                Err(diagnostic) => items.push(Err(diagnostic)),
            }
        }
        let mut failures = vec![None; tasks.len()];
        if let Some(linked) = linked {
            if options.verify {
                failures = linked.verify(&mut tasks)?;
            }
            if let Some(valid_for) = options.presign {
                linked.presign(&mut tasks, valid_for)?;
            }
        }
        for item in items {
            let diagnostic = match item {
                Err(diagnostic) => diagnostic,
                Ok(k) => match failures[k].take() {
                    None => {
                        self.counts.converted += 1;
                        session.add_task(&tasks[k])?;
                        continue;
                    }
                    Some(message) => Diagnostic {
                        source: tasks[k].origin.source.clone(),
                        line: tasks[k].origin.line,
                        index: tasks[k].origin.index,
                        severity: Severity::Error,
                        code: MISSING_OBJECT.into(),
                        message,
                    },
                },
            };
            self.diagnostic(&diagnostic, session)?;
        }
        Ok(())
    }

    fn diagnostic(
        &mut self,
        diagnostic: &Diagnostic,
        session: &mut dyn ImportSession,
    ) -> anyhow::Result<()> {
        match diagnostic.severity {
            Severity::Error => self.counts.errors += 1,
            Severity::Warning => self.counts.warnings += 1,
        }
        if let Some(out) = self.errors.as_mut() {
            serde_json::to_writer(&mut **out, diagnostic)?;
            out.write_all(b"\n")?;
        }
        session.add_diagnostic(diagnostic)?;
        let kept = match diagnostic.severity {
            Severity::Error => &mut self.first_errors,
            Severity::Warning => &mut self.first_warnings,
        };
        if kept.len() < REPORTED_DIAGNOSTICS {
            kept.push(diagnostic.clone());
        }
        Ok(())
    }

    /// The first errors, then the first warnings, at most
    /// [`REPORTED_DIAGNOSTICS`] in all.
    fn first_diagnostics(&self) -> Vec<Diagnostic> {
        let mut first = self.first_errors.clone();
        first.extend(self.first_warnings.iter().cloned());
        first.truncate(REPORTED_DIAGNOSTICS);
        first
    }

    fn should_stop(&self, options: &ImportOptions) -> bool {
        policy_failure(options, &self.counts).is_some()
    }
}
