//! Import progress: a bar on a terminal, JSON lines on request, else quiet.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::importer::ProgressUpdate;
use crate::store::ImportCounts;

/// How often JSON progress lines are written.
const JSON_INTERVAL: Duration = Duration::from_millis(500);

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, nothing otherwise.
    Auto,
    /// JSON lines on standard error.
    Json,
    /// Nothing.
    None,
}

/// A running progress report.
pub enum Progress {
    Bar(ProgressBar),
    Json {
        started: Instant,
        last: Instant,
        bytes: u64,
        counts: ImportCounts,
    },
    Quiet,
}

impl Progress {
    /// Starts reporting in `mode`.
    pub fn start(mode: ProgressMode) -> Self {
        match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {elapsed_precise} {binary_bytes} read ({binary_bytes_per_sec}) {msg}",
                    )
                    .expect("valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(200));
                Progress::Bar(bar)
            }
            ProgressMode::Json => Progress::Json {
                started: Instant::now(),
                last: Instant::now(),
                bytes: 0,
                counts: ImportCounts::default(),
            },
            ProgressMode::Auto | ProgressMode::None => Progress::Quiet,
        }
    }

    /// Notes where the import stands.
    pub fn update(&mut self, update: &ProgressUpdate) {
        let (bytes, counts) = (update.bytes_read, &update.counts);
        match self {
            Progress::Bar(bar) => {
                if bar.length().is_none()
                    && let Some(total) = update.total_bytes
                {
                    bar.set_length(total);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, eta {eta}) {msg}",
                        )
                        .expect("valid template"),
                    );
                }
                bar.set_position(bytes);
                let seconds = bar.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "{} tasks ({:.0}/s), {} errors",
                    counts.converted,
                    counts.converted as f64 / seconds,
                    counts.errors
                ));
            }
            Progress::Json {
                started,
                last,
                bytes: seen,
                counts: kept,
            } => {
                *seen = bytes;
                *kept = *counts;
                if last.elapsed() >= JSON_INTERVAL {
                    *last = Instant::now();
                    emit_json(*started, bytes, counts, false);
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Ends the report (a final JSON line, or clears the bar).
    pub fn finish(&mut self) {
        match self {
            Progress::Bar(bar) => bar.finish_and_clear(),
            Progress::Json {
                started,
                bytes,
                counts,
                ..
            } => emit_json(*started, *bytes, counts, true),
            Progress::Quiet => {}
        }
    }
}

fn emit_json(started: Instant, bytes: u64, counts: &ImportCounts, done: bool) {
    let elapsed = started.elapsed().as_secs_f64();
    let line = serde_json::json!({
        "event": if done { "done" } else { "progress" },
        "bytes_read": bytes,
        "tasks": counts.converted,
        "added": counts.added,
        "duplicates": counts.duplicates,
        "errors": counts.errors,
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "tasks_per_s": if elapsed > 0.0 { (counts.converted as f64 / elapsed).round() } else { 0.0 },
    });
    eprintln!("{line}");
}
