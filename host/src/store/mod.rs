//! The task store: datasets, imports, tasks and diagnostics.
//!
//! Everything goes through [`TaskStore`] and [`ImportSession`] so that a
//! server database (PostgreSQL for many workers) can sit behind the same
//! interface; [`sqlite::SqliteStore`] is the embedded default.

pub mod sqlite;

use crate::records::{Diagnostic, Task};

pub use sqlite::SqliteStore;

/// Errors from the store, one line each.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task store {path}: {message}")]
    Open { path: String, message: String },
    #[error(
        "task store {path} was written by a newer taskport (schema {found}, this build knows up to {supported})"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("dataset {0:?} does not exist (see `taskport datasets`)")]
    NoSuchDataset(String),
    #[error(
        "name {name:?} is used by more than one task in dataset {dataset:?} (first at {first}, again at {again})"
    )]
    NameCollision {
        dataset: String,
        name: String,
        first: String,
        again: String,
    },
    #[error("task store: {0}")]
    Database(String),
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// What is known about an import when it starts.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub dataset: String,
    /// The source as the user named it.
    pub source: String,
    pub format: String,
    pub plugin_name: String,
    pub plugin_version: String,
    /// sha256 of the plugin component, hex.
    pub plugin_hash: String,
    /// `--opt` options as given.
    pub options: Vec<(String, String)>,
}

/// Counts kept for each import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Tasks the plugin produced that passed validation.
    pub converted: u64,
    /// Tasks newly stored.
    pub added: u64,
    /// Tasks whose id was already in the dataset (or earlier in this import).
    pub duplicates: u64,
    /// Tasks renamed because their derived name was taken.
    pub renamed: u64,
    pub errors: u64,
    pub warnings: u64,
}

/// How an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Completed,
    /// Nothing was stored: the error policy or a fatal error stopped it.
    Failed,
}

impl ImportStatus {
    /// Stable text as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }
}

/// How name collisions are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamePolicy {
    /// A later task whose name is taken becomes `stem_1.ext`, `stem_2.ext`, ...;
    /// explicit names are reserved before derived ones.
    #[default]
    Suffix,
    /// A collision is an error and nothing is stored.
    Error,
}

/// One dataset with its size.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    pub name: String,
    pub tasks: u64,
    pub imports: u64,
    /// RFC 3339 time of creation.
    pub created_at: String,
}

/// One row of import history.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub id: i64,
    pub dataset: String,
    pub source: String,
    pub format: String,
    /// `name@version`.
    pub plugin: String,
    pub plugin_hash: String,
    pub status: String,
    pub counts: ImportCounts,
    /// RFC 3339 times.
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// A store of datasets and their tasks.
pub trait TaskStore {
    /// Starts an atomic import into `import.dataset` (created if needed).
    /// Nothing of it is visible to others before [`ImportSession::commit`].
    fn begin_import(&mut self, import: NewImport) -> StoreResult<Box<dyn ImportSession + '_>>;

    /// Every dataset, by name.
    fn datasets(&self) -> StoreResult<Vec<DatasetSummary>>;

    /// Import history, oldest first.
    fn imports(&self) -> StoreResult<Vec<ImportSummary>>;

    /// Streams a dataset's tasks in import order, at most `limit` of them.
    fn tasks(
        &self,
        dataset: &str,
        limit: Option<u64>,
        visit: &mut dyn FnMut(Task) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;

    /// Diagnostics recorded for one import, in order.
    fn diagnostics(&self, import_id: i64) -> StoreResult<Vec<Diagnostic>>;

    /// Deletes a dataset with its tasks and its import history, in one
    /// transaction; returns what it held.
    fn delete_dataset(&mut self, dataset: &str) -> StoreResult<DatasetSummary>;
}

/// How many of the tasks given to an import were stored so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredCounts {
    /// Tasks newly stored.
    pub added: u64,
    /// Tasks skipped because their id was already in the dataset (or earlier
    /// in this import).
    pub duplicates: u64,
}

/// One import in progress: a transaction.
///
/// Tasks may be stored in the background while the caller prepares the next
/// ones: [`ImportSession::add_task`] only queues, [`ImportSession::stored`]
/// tells how far storing has come, and [`ImportSession::flush`] waits for it
/// to catch up.
pub trait ImportSession {
    /// Queues a task. Tasks are stored in the order given; a task whose id is
    /// already in the dataset (or earlier in this import) is a duplicate and
    /// is not stored again. A storing error from an earlier task may surface
    /// here.
    fn add_task(&mut self, task: &Task) -> StoreResult<()>;

    /// What has been stored so far; it may lag behind the tasks queued.
    fn stored(&self) -> StoredCounts;

    /// Stores every queued task; returns the final counts.
    fn flush(&mut self) -> StoreResult<StoredCounts>;

    /// Records a diagnostic of this import.
    fn add_diagnostic(&mut self, diagnostic: &Diagnostic) -> StoreResult<()>;

    /// Settles name collisions among this import's tasks and the dataset's
    /// earlier ones; returns how many tasks were renamed.
    fn resolve_names(&mut self, policy: NamePolicy) -> StoreResult<u64>;

    /// Streams the tasks this import added (the first `limit` of them, if
    /// given), in the order they were added, with their final names.
    fn added_tasks(
        &mut self,
        limit: Option<u64>,
        visit: &mut dyn FnMut(Task) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;

    /// Makes the import durable with its counts; returns its id.
    fn commit(self: Box<Self>, counts: ImportCounts) -> StoreResult<i64>;

    /// Drops everything this import added. With `record_failure`, the import
    /// is still written to the history as failed, with its diagnostics but
    /// no tasks.
    fn rollback(self: Box<Self>, record_failure: Option<ImportCounts>) -> StoreResult<()>;
}
