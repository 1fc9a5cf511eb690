//! One import: a single `BEGIN IMMEDIATE` transaction from start to commit.

use rusqlite::{Connection, Statement, params};

use super::record::{self, ImportOrigin, Origins, StoredId, TASK_COLUMNS};
use super::{MAX_STORED_DIAGNOSTICS, NOW, db_error, names, severity_str};
use crate::records::{Diagnostic, Task};
use crate::store::{
    ImportCounts, ImportSession, ImportStatus, NamePolicy, NewImport, StoreError, StoreResult,
};

/// An import in progress. Dropped without [`ImportSession::commit`], it
/// rolls back.
pub(super) struct SqliteImport<'a> {
    conn: &'a Connection,
    insert: Statement<'a>,
    import: NewImport,
    import_id: i64,
    dataset_id: i64,
    /// Tasks of this import are exactly those with `seq >= first_seq`: the
    /// transaction holds the write lock, so nothing else inserts meanwhile.
    first_seq: i64,
    /// `seq` of the last task added so far.
    last_seq: Option<i64>,
    /// What every task of this import shares, left out of its record.
    origin: ImportOrigin,
    started_at: String,
    /// The first [`MAX_STORED_DIAGNOSTICS`], kept so that a failed import can
    /// still be recorded after its transaction is rolled back.
    diagnostics: Vec<Diagnostic>,
    /// Reused buffer for the JSON record.
    record: Vec<u8>,
    /// The transaction is still open.
    open: bool,
}

impl<'a> SqliteImport<'a> {
    /// Opens the transaction, creates the dataset if needed and the import's
    /// history row.
    pub(super) fn begin(conn: &'a Connection, import: NewImport) -> StoreResult<Self> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        let started = Self::start(conn, import);
        if started.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        started
    }

    fn start(conn: &'a Connection, import: NewImport) -> StoreResult<Self> {
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
        let import_id = insert_import(conn, &import, &started_at)?;
        let first_seq: i64 = conn
            .query_row("SELECT coalesce(max(seq), 0) + 1 FROM tasks", [], |row| {
                row.get(0)
            })
            .map_err(db_error)?;
        let insert = conn
            .prepare(
                "INSERT OR IGNORE INTO tasks (dataset_id, id, import_id, name, explicit_name, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_error)?;
        let origin = ImportOrigin {
            source: import.source.clone(),
            format: import.format.clone(),
            plugin: format!("{}@{}", import.plugin_name, import.plugin_version),
        };
        Ok(SqliteImport {
            conn,
            insert,
            import,
            import_id,
            dataset_id,
            first_seq,
            last_seq: None,
            origin,
            started_at,
            diagnostics: Vec::new(),
            record: Vec::with_capacity(1024),
            open: true,
        })
    }

    /// Ends the transaction: commits, or rolls back if committing fails.
    fn finish(&mut self, counts: ImportCounts) -> StoreResult<()> {
        let written = finish_import(
            self.conn,
            self.import_id,
            ImportStatus::Completed,
            counts,
            self.last_seq.map(|last| (self.first_seq, last)),
            &self.diagnostics,
        )
        .and_then(|()| self.conn.execute_batch("COMMIT").map_err(db_error));
        if written.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.open = false;
        written
    }
}

impl ImportSession for SqliteImport<'_> {
    fn add_task(&mut self, task: &Task) -> StoreResult<bool> {
        record::encode(task, &self.origin, &mut self.record)?;
        let inserted = self
            .insert
            .execute(params![
                self.dataset_id,
                StoredId::new(&task.id),
                self.import_id,
                task.name,
                task.explicit_name,
                self.record
            ])
            .map_err(db_error)?
            == 1;
        if inserted {
            self.last_seq = Some(self.conn.last_insert_rowid());
        }
        Ok(inserted)
    }

    fn add_diagnostic(&mut self, diagnostic: &Diagnostic) -> StoreResult<()> {
        if self.diagnostics.len() < MAX_STORED_DIAGNOSTICS {
            self.diagnostics.push(diagnostic.clone());
        }
        Ok(())
    }

    fn resolve_names(&mut self, policy: NamePolicy) -> StoreResult<u64> {
        names::resolve(
            self.conn,
            self.dataset_id,
            &self.import.dataset,
            self.first_seq,
            policy,
        )
    }

    fn added_tasks(&self, visit: &mut dyn FnMut(Task) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.seq >= ?1 ORDER BY t.seq"
            ))
            .map_err(db_error)?;
        let mut rows = stmt.query([self.first_seq]).map_err(db_error)?;
        let mut origins = Origins::new(self.conn);
        while let Some(row) = rows.next().map_err(db_error)? {
            visit(origins.task(row)?)?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>, counts: ImportCounts) -> StoreResult<i64> {
        self.finish(counts)?;
        Ok(self.import_id)
    }

    fn rollback(mut self: Box<Self>, record_failure: Option<ImportCounts>) -> StoreResult<()> {
        self.open = false;
        self.conn.execute_batch("ROLLBACK").map_err(db_error)?;
        let Some(counts) = record_failure else {
            return Ok(());
        };
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(db_error)?;
        let written = insert_import(self.conn, &self.import, &self.started_at)
            .and_then(|id| {
                finish_import(
                    self.conn,
                    id,
                    ImportStatus::Failed,
                    counts,
                    None,
                    &self.diagnostics,
                )
            })
            .and_then(|()| self.conn.execute_batch("COMMIT").map_err(db_error));
        if written.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        written
    }
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
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
