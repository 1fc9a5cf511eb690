//! The `taskport` command line.
//!
//! Exit codes: 0 success; 1 failure (nothing was stored, or the command
//! could not run); 2 usage error; 3 import stored its good items but some
//! items failed and were skipped (`--on-error skip`).

mod import;
mod plugin;
mod progress;
mod query;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::catalog::{self, Catalog};
use crate::runtime::Limits;
use crate::sources::CloudSettings;
use crate::store::SqliteStore;

/// Import annotation-task manifests through sandboxed converter plugins.
#[derive(Debug, Parser)]
#[command(name = "taskport", version, about, max_term_width = 100)]
pub struct Cli {
    /// The task store (a SQLite file, created on first use).
    #[arg(
        long,
        global = true,
        env = "TASKPORT_STORE",
        default_value = "taskport.db"
    )]
    store: PathBuf,

    /// Say more about what happens (plugin loading, compile cache).
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert a manifest (file, folder, `-` or URL) and store its tasks.
    Import(import::ImportArgs),
    /// List every format with the plugin that converts it.
    Formats,
    /// Explain which format a source would be imported as, and why.
    Detect(query::DetectArgs),
    /// List datasets with their task counts.
    Datasets,
    /// Show the import history.
    Imports,
    /// Print a dataset's tasks as normalized JSON lines.
    Tasks(query::TasksArgs),
    /// Write a dataset's tasks as Label Studio JSON or normalized JSON lines.
    Export(query::ExportArgs),
    /// Delete a dataset: its tasks and its import history.
    Delete(query::DeleteArgs),
    /// Install, list, inspect and remove converter plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

/// Parses arguments, runs the command, prints any error as one line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("taskport: error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Import(args) => import::run(cli, args),
        Command::Formats => query::formats(cli),
        Command::Detect(args) => query::detect(cli, args),
        Command::Datasets => query::datasets(cli),
        Command::Imports => query::imports(cli),
        Command::Tasks(args) => query::tasks(cli, args),
        Command::Export(args) => query::export(cli, args),
        Command::Delete(args) => query::delete(cli, args),
        Command::Plugin(command) => plugin::run(cli, command),
    }
}

/// The error and its causes on one line, without repeating a cause that
/// the message already includes.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

/// A buffered writer to `path`, or to standard output for `-`.
fn create_output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(io::stdout().lock())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

/// The settings of `--env FILE`, or none.
fn cloud_settings(env_file: Option<&Path>) -> anyhow::Result<CloudSettings> {
    Ok(match env_file {
        Some(path) => CloudSettings::from_env_file(path)?,
        None => CloudSettings::default(),
    })
}

impl Cli {
    /// Loads the plugin catalog, warning about installed plugins that cannot
    /// load and, with `--verbose`, saying what the compile cache did.
    fn catalog(&self, limits: &Limits) -> anyhow::Result<Catalog> {
        let catalog = Catalog::open(catalog::home_dir()?, limits)?;
        for warning in &catalog.warnings {
            eprintln!("taskport: warning: {warning}");
        }
        if self.verbose {
            for entry in catalog.plugins() {
                let how = match entry.cache {
                    catalog::CacheOutcome::Hit => "loaded from the compile cache",
                    catalog::CacheOutcome::Compiled => "compiled",
                };
                eprintln!("taskport: plugin {} {how}", entry.plugin.label());
            }
        }
        Ok(catalog)
    }

    /// Opens the task store named by `--store`.
    fn open_store(&self) -> anyhow::Result<SqliteStore> {
        Ok(SqliteStore::open(&self.store)?)
    }
}
