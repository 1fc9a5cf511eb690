//! One import: a single `BEGIN IMMEDIATE` transaction from start to commit,
//! on a connection of its own so that a [`Writer`] thread can insert the
//! tasks while the importing thread prepares the next ones.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::blocks::{self, BLOCKS_IN_RANGE};
use super::record::{ImportOrigin, Origins};
use super::writer::{Target, TaskBatch, Writer, Written};
use super::{MAX_STORED_DIAGNOSTICS, NOW, connect, db_error, names, severity_str, visit_tasks};
use crate::records::{Diagnostic, Task};
use crate::store::{
    ImportCounts, ImportSession, ImportStatus, NamePolicy, NewImport, StoreError, StoreResult,
    StoredCounts,
};

/// An import in progress. Dropped without [`ImportSession::commit`], it
/// rolls back.
pub(super) struct SqliteImport {
    /// The store file, to record a failed import even after a crashed
    /// writer took the connection down.
    path: PathBuf,
    /// The import's connection while no writer holds it; `None` also after
    /// a writer crashed (closing the connection rolled the import back).
    conn: Option<Connection>,
    /// The writer inserting queued batches, once tasks have come.
    writer: Option<Writer>,
    /// Tasks queued and not yet handed to the writer.
    pending: TaskBatch,
    /// What the last writer wrote.
    written: Written,
    import: NewImport,
    target: Target,
    /// Tasks of this import are exactly those with `seq >= first_seq`: the
    /// transaction holds the write lock, so nothing else inserts meanwhile.
    first_seq: i64,
    /// What every task of this import shares, left out of its record.
    origin: ImportOrigin,
    started_at: String,
    /// The first [`MAX_STORED_DIAGNOSTICS`], kept so that a failed import can
    /// still be recorded after its transaction is rolled back.
    diagnostics: Vec<Diagnostic>,
    /// The transaction is still open.
    open: bool,
}

impl SqliteImport {
    /// Opens a connection to the store at `path` and the transaction,
    /// creates the dataset if needed and the import's history row.
    pub(super) fn begin(path: &Path, import: NewImport) -> StoreResult<Self> {
        let conn = connect(path)?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        match start(&conn, &import) {
            Ok(started) => Ok(SqliteImport {
                path: path.to_path_buf(),
                conn: Some(conn),
                writer: None,
                pending: TaskBatch::default(),
                written: Written::starting_at(started.first_seq),
                origin: ImportOrigin {
                    source: import.source.clone(),
                    format: import.format.clone(),
                    plugin: format!("{}@{}", import.plugin_name, import.plugin_version),
                },
                import,
                target: started.target,
                first_seq: started.first_seq,
                started_at: started.started_at,
                diagnostics: Vec::new(),
                open: true,
            }),
            Err(error) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// Hands the queued tasks to the writer, starting one if needed.
    fn send_pending(&mut self) -> StoreResult<()> {
        if self.pending.len() == 0 {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        if self.writer.is_none() {
            let conn = self.conn.take().ok_or_else(conn_lost)?;
            self.writer = Some(Writer::start(conn, self.target, self.written)?);
        }
        let writer = self.writer.as_ref().expect("started above");
        if writer.send(batch) {
            return Ok(());
        }
        // The writer stopped on an error: settling returns it.
        self.settle()?;
        Err(StoreError::Database("the store writer stopped".into()))
    }

    /// Waits for the writer, if one runs, and takes the connection back.
    fn settle(&mut self) -> StoreResult<()> {
        if let Some(writer) = self.writer.take() {
            let (conn, written) = writer.finish();
            self.conn = conn;
            self.written = written?;
        }
        Ok(())
    }

    /// Stores every queued task and returns the connection.
    fn flushed(&mut self) -> StoreResult<&Connection> {
        self.send_pending()?;
        self.settle()?;
        self.conn.as_ref().ok_or_else(conn_lost)
    }

    /// Ends the transaction: commits, or rolls back if committing fails.
    fn finish(&mut self, counts: ImportCounts) -> StoreResult<()> {
        self.flushed()?;
        let range = self.written.last_seq.map(|last| (self.first_seq, last));
        let conn = self.conn.as_ref().ok_or_else(conn_lost)?;
        let written = finish_import(
            conn,
            self.target.import_id,
            ImportStatus::Completed,
            counts,
            range,
            &self.diagnostics,
        )
        .and_then(|()| conn.execute_batch("COMMIT").map_err(db_error));
        if written.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.open = false;
        written
    }

    /// Rolls the transaction back, if it is still open.
    fn abandon(&mut self) {
        if !self.open {
            return;
        }
        self.open = false;
        self.pending = TaskBatch::default();
        let _ = self.settle();
        if let Some(conn) = &self.conn {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// What [`start`] set up.
struct Started {
    target: Target,
    first_seq: i64,
    started_at: String,
}

/// Creates the dataset if needed and the import's history row.
fn start(conn: &Connection, import: &NewImport) -> StoreResult<Started> {
    let started_at: String = conn
        .query_row(&format!("SELECT {NOW}"), [], |row| row.get(0))
        .map_err(db_error)?;
    conn.execute(
        "INSERT OR IGNORE INTO datasets (name, created_at) VALUES (?1, ?2)",
        params![import.dataset, started_at],
    )
    .map_err(db_error)?;
    let dataset_id: i64 = conn
        .query_row(
            "SELECT id FROM datasets WHERE name = ?1",
            [&import.dataset],
            |row| row.get(0),
        )
        .map_err(db_error)?;
    let import_id = insert_import(conn, import, &started_at)?;
    let first_seq = blocks::next_seq(conn)?;
    Ok(Started {
        target: Target {
            dataset_id,
            import_id,
        },
        first_seq,
        started_at,
    })
}

fn conn_lost() -> StoreError {
    StoreError::Database("the import's connection to the store was lost".into())
}

impl ImportSession for SqliteImport {
    fn add_task(&mut self, task: &Task) -> StoreResult<()> {
        self.pending.push(task, &self.origin)?;
        if self.pending.is_full() {
            self.send_pending()?;
        }
        Ok(())
    }

    fn stored(&self) -> StoredCounts {
        match &self.writer {
            Some(writer) => writer.stored(),
            None => self.written.counts,
        }
    }

    fn flush(&mut self) -> StoreResult<StoredCounts> {
        self.flushed()?;
        Ok(self.written.counts)
    }

    fn add_diagnostic(&mut self, diagnostic: &Diagnostic) -> StoreResult<()> {
        if self.diagnostics.len() < MAX_STORED_DIAGNOSTICS {
            self.diagnostics.push(diagnostic.clone());
        }
        Ok(())
    }

    fn resolve_names(&mut self, policy: NamePolicy) -> StoreResult<u64> {
        self.flushed()?;
        let conn = self.conn.as_ref().ok_or_else(conn_lost)?;
        names::resolve(
            conn,
            self.target.dataset_id,
            &self.import.dataset,
            self.first_seq,
            policy,
        )
    }

    fn added_tasks(
        &mut self,
        limit: Option<u64>,
        visit: &mut dyn FnMut(Task) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let first_seq = self.first_seq;
        let conn = self.flushed()?;
        let mut stmt = conn.prepare(BLOCKS_IN_RANGE).map_err(db_error)?;
        let mut rows = stmt.query([first_seq, i64::MAX]).map_err(db_error)?;
        let mut remaining = limit.unwrap_or(u64::MAX);
        visit_tasks(&mut rows, &mut Origins::new(conn), &mut remaining, visit)
    }

    fn commit(mut self: Box<Self>, counts: ImportCounts) -> StoreResult<i64> {
        self.finish(counts)?;
        Ok(self.target.import_id)
    }

    fn rollback(mut self: Box<Self>, record_failure: Option<ImportCounts>) -> StoreResult<()> {
        self.abandon();
        let Some(counts) = record_failure else {
            return Ok(());
        };
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        let written = insert_import(&conn, &self.import, &self.started_at)
            .and_then(|id| {
                finish_import(
                    &conn,
                    id,
                    ImportStatus::Failed,
                    counts,
                    None,
                    &self.diagnostics,
                )
            })
            .and_then(|()| conn.execute_batch("COMMIT").map_err(db_error));
        if written.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        written
    }
}

impl Drop for SqliteImport {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Writes the history row of an import that has just started.
fn insert_import(conn: &Connection, import: &NewImport, started_at: &str) -> StoreResult<i64> {
    let options = serde_json::to_string(&import.options)
        .map_err(|e| StoreError::Database(format!("cannot encode import options: {e}")))?;
    conn.execute(
        "INSERT INTO imports (dataset, source, format, plugin_name, plugin_version,
                              plugin_hash, options, status, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8)",
        params![
            import.dataset,
            import.source,
            import.format,
            import.plugin_name,
            import.plugin_version,
            import.plugin_hash,
            options,
            started_at
        ],
    )
    .map_err(db_error)?;
    Ok(conn.last_insert_rowid())
}

/// Completes an import's history row, with the `seq` range of its tasks, and
/// stores its diagnostics.
fn finish_import(
    conn: &Connection,
    import_id: i64,
    status: ImportStatus,
    counts: ImportCounts,
    range: Option<(i64, i64)>,
    diagnostics: &[Diagnostic],
) -> StoreResult<()> {
    conn.execute(
        &format!(
            "UPDATE imports SET status = ?2, converted = ?3, added = ?4, duplicates = ?5,
                    renamed = ?6, errors = ?7, warnings = ?8, first_seq = ?9,
                    last_seq = ?10, finished_at = {NOW}
             WHERE id = ?1"
        ),
        params![
            import_id,
            status.as_str(),
            counts.converted,
            counts.added,
            counts.duplicates,
            counts.renamed,
            counts.errors,
            counts.warnings,
            range.map(|(first, _)| first),
            range.map(|(_, last)| last)
        ],
    )
    .map_err(db_error)?;
    let mut insert = conn
        .prepare(
            "INSERT INTO diagnostics (import_id, seq, source, line, item_index, severity, code, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db_error)?;
    for (seq, d) in diagnostics.iter().enumerate() {
        insert
            .execute(params![
                import_id,
                seq as i64,
                d.source,
                d.line,
                d.index,
                severity_str(d.severity),
                d.code,
                d.message
            ])
            .map_err(db_error)?;
    }
    Ok(())
}
