//! The embedded task store: one SQLite database file.
//!
//! - The file is created on first use; its schema is versioned
//!   (`PRAGMA user_version`) and migrated forward on open. A store written by
//!   a newer taskport is refused, and so is a file that is not a taskport
//!   store.
//! - The journal is a write-ahead log with `synchronous=NORMAL`: every import
//!   is one transaction, so a process killed at any moment leaves the store
//!   holding the import wholly or not at all. On power loss the last
//!   committed import may be lost, never half-kept.
//! - Readers (`datasets`, `tasks`, ...) do not block an import running in
//!   another process, and see it only once it commits; two imports into one
//!   store run one after the other (the second waits up to
//!   [`BUSY_TIMEOUT`]).
//! - Tasks are numbered by `seq` (the import order) and kept many to a row
//!   in `task_blocks` (see [`blocks`]), with no index of their own. Each
//!   dataset's ids (to deduplicate) and names (to find collisions) are
//!   indexed in sorted runs (see [`runs`]): the import's [`writer`] thread
//!   checks each batch's ids against the runs of earlier imports and writes
//!   the batch's ids and names as runs of the connection's temporary
//!   database; after the last batch the [`session`] merges them into one id
//!   run and one name run of the dataset, which finds the ids repeated
//!   across batches and settles name collisions ([`names`]). An import holds
//!   the write lock, so its tasks are one `seq` range, kept on its history
//!   row: a dataset is listed by scanning its imports' ranges in order. A
//!   task keeps only what cannot be recomputed (see [`record`]).

mod blocks;
mod names;
mod record;
mod runs;
mod schema;
mod session;
#[cfg(test)]
mod tests;
mod writer;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::{
    DatasetSummary, ImportCounts, ImportSession, ImportSummary, NewImport, StoreError, StoreResult,
    TaskStore,
};
use crate::records::{Diagnostic, Severity, Task};
use blocks::BLOCKS_IN_RANGE;

/// How long an import waits for another process's import to finish.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many diagnostics are kept per import; the complete list is
/// what `--errors FILE` writes.
pub const MAX_STORED_DIAGNOSTICS: usize = 10_000;

/// Page cache per connection (KiB). Imports append and merge in order, so a
/// larger cache does not make them faster (measured: 64 MiB instead of 8 took
/// 50 MB more memory and no time off a 1M-task import).
const CACHE_KIB: i64 = 8 * 1024;

/// SQL for the current time as an RFC 3339 UTC string.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// A task store in a SQLite database file.
pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
}

impl SqliteStore {
    /// Opens the store at `path`, creating and migrating it as needed.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| open_error(&shown, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_error(&shown, e))?;
        schema::check_and_migrate(&conn, &shown)?;
        configure(&conn).map_err(|e| open_error(&shown, e))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            conn,
        })
    }

    fn dataset_id(&self, dataset: &str) -> StoreResult<i64> {
        self.conn
            .query_row(
                "SELECT id FROM datasets WHERE name = ?1",
                [dataset],
                |row| row.get(0),
            )
            .optional()
            .map_err(db_error)?
            .ok_or_else(|| StoreError::NoSuchDataset(dataset.to_string()))
    }
}

/// Another connection to the (already migrated) store at `path`.
fn connect(path: &Path) -> StoreResult<Connection> {
    let shown = path.display().to_string();
    let conn = Connection::open(path).map_err(|e| open_error(&shown, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| open_error(&shown, e))?;
    configure(&conn).map_err(|e| open_error(&shown, e))?;
    Ok(conn)
}

/// Journal, durability and cache settings of every connection.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -{CACHE_KIB};
         PRAGMA journal_size_limit = 67108864;"
    ))
}

impl TaskStore for SqliteStore {
    fn begin_import(&mut self, import: NewImport) -> StoreResult<Box<dyn ImportSession + '_>> {
        Ok(Box::new(session::SqliteImport::begin(&self.path, import)?))
    }

    fn datasets(&self) -> StoreResult<Vec<DatasetSummary>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{DATASET_SUMMARY} ORDER BY d.name"))
            .map_err(db_error)?;
        let rows = stmt.query_map([], dataset_summary).map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    fn imports(&self) -> StoreResult<Vec<ImportSummary>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, dataset, source, format, plugin_name || '@' || plugin_version,
                        plugin_hash, status, converted, added, duplicates, renamed, errors,
                        warnings, started_at, finished_at
                 FROM imports ORDER BY id",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([], |row| {
                Ok(ImportSummary {
                    id: row.get(0)?,
                    dataset: row.get(1)?,
                    source: row.get(2)?,
                    format: row.get(3)?,
                    plugin: row.get(4)?,
                    plugin_hash: row.get(5)?,
                    status: row.get(6)?,
                    counts: ImportCounts {
                        converted: row.get(7)?,
                        added: row.get(8)?,
                        duplicates: row.get(9)?,
                        renamed: row.get(10)?,
                        errors: row.get(11)?,
                        warnings: row.get(12)?,
                    },
                    started_at: row.get(13)?,
                    finished_at: row.get(14)?,
                })
            })
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    fn tasks(
        &self,
        dataset: &str,
        limit: Option<u64>,
        visit: &mut dyn FnMut(Task) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.dataset_id(dataset)?;
        let mut remaining = limit.unwrap_or(u64::MAX);
        let mut ranges = self
            .conn
            .prepare(
                "SELECT first_seq, last_seq FROM imports
                 WHERE dataset = ?1 AND status = 'completed' AND first_seq IS NOT NULL
                 ORDER BY first_seq",
            )
            .map_err(db_error)?;
        let ranges = ranges
            .query_map([dataset], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        let mut stmt = self.conn.prepare(BLOCKS_IN_RANGE).map_err(db_error)?;
        let mut origins = record::Origins::new(&self.conn);
        for (first, last) in ranges {
            let mut rows = stmt.query(params![first, last]).map_err(db_error)?;
            visit_tasks(&mut rows, &mut origins, &mut remaining, visit)?;
        }
        Ok(())
    }

    fn delete_dataset(&mut self, dataset: &str) -> StoreResult<DatasetSummary> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(db_error)?;
        let deleted = self.dataset_id(dataset).and_then(|id| {
            let summary = self
                .conn
                .query_row(
                    &format!("{DATASET_SUMMARY} WHERE d.id = ?1"),
                    [id],
                    dataset_summary,
                )
                .map_err(db_error)?;
            delete_rows(&self.conn, dataset, id)?;
            self.conn.execute_batch("COMMIT").map_err(db_error)?;
            Ok(summary)
        });
        if deleted.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        deleted
    }

    fn diagnostics(&self, import_id: i64) -> StoreResult<Vec<Diagnostic>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, line, item_index, severity, code, message
                 FROM diagnostics WHERE import_id = ?1 ORDER BY seq",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([import_id], |row| {
                let severity: String = row.get(3)?;
                Ok(Diagnostic {
                    source: row.get(0)?,
                    line: row.get(1)?,
                    index: row.get(2)?,
                    severity: if severity == "warning" {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    code: row.get(4)?,
                    message: row.get(5)?,
                })
            })
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }
}

/// Visits the tasks of the blocks in `rows` (selected by [`BLOCKS_IN_RANGE`])
/// while `remaining` is not zero, counting it down.
fn visit_tasks(
    rows: &mut rusqlite::Rows<'_>,
    origins: &mut record::Origins<'_>,
    remaining: &mut u64,
    visit: &mut dyn FnMut(Task) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if *remaining == 0 {
        return Ok(());
    }
    blocks::for_each_task(rows, |import_id, task| {
        visit(origins.task(import_id, task)?)?;
        *remaining -= 1;
        anyhow::Ok(if *remaining == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })
}

/// Selects what [`dataset_summary`] reads, from `datasets d`.
const DATASET_SUMMARY: &str = "SELECT d.name,
        (SELECT coalesce(sum(r.entries), 0) FROM key_runs r
            WHERE r.dataset_id = d.id AND r.kind = 0),
        (SELECT count(*) FROM imports i WHERE i.dataset = d.name),
        d.created_at
    FROM datasets d";

/// A dataset's summary from a [`DATASET_SUMMARY`] row.
fn dataset_summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<DatasetSummary> {
    Ok(DatasetSummary {
        name: row.get(0)?,
        tasks: row.get(1)?,
        imports: row.get(2)?,
        created_at: row.get(3)?,
    })
}

/// Deletes every row of `dataset` (id `dataset_id`) inside the open
/// transaction.
fn delete_rows(conn: &Connection, dataset: &str, dataset_id: i64) -> StoreResult<()> {
    let ranges: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT first_seq, last_seq FROM imports
             WHERE dataset = ?1 AND first_seq IS NOT NULL",
        )
        .and_then(|mut stmt| {
            stmt.query_map([dataset], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(db_error)?;
    let mut delete_range = conn
        .prepare("DELETE FROM task_blocks WHERE first_seq BETWEEN ?1 AND ?2")
        .map_err(db_error)?;
    for (first, last) in ranges {
        delete_range.execute([first, last]).map_err(db_error)?;
    }
    conn.execute_batch(&format!(
        "DELETE FROM key_chunks
             WHERE run_id IN (SELECT id FROM key_runs WHERE dataset_id = {dataset_id});
         DELETE FROM key_runs WHERE dataset_id = {dataset_id};
         DELETE FROM datasets WHERE id = {dataset_id};"
    ))
    .map_err(db_error)?;
    conn.execute(
        "DELETE FROM diagnostics WHERE import_id IN (SELECT id FROM imports WHERE dataset = ?1)",
        [dataset],
    )
    .map_err(db_error)?;
    conn.execute("DELETE FROM imports WHERE dataset = ?1", [dataset])
        .map_err(db_error)?;
    Ok(())
}

/// Stable text of a severity as stored.
fn severity_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A database error during normal operation.
fn db_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// An error while opening the store at `path`.
fn open_error(path: &str, e: rusqlite::Error) -> StoreError {
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "not a taskport store (the file is not a SQLite database); choose another file with --store".to_string()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database file is corrupt; restore it from a backup or choose another file with --store".to_string()
        }
        Some(ErrorCode::CannotOpen) => {
            "cannot open the file (does its folder exist and is it writable?)".to_string()
        }
        _ => e.to_string(),
    };
    StoreError::Open {
        path: path.to_string(),
        message,
    }
}
