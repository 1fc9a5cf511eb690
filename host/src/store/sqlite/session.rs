//! One import: a single `BEGIN IMMEDIATE` transaction from start to commit,
//! on a connection of its own so that a [`Writer`] thread can insert the
//! tasks while the importing thread prepares the next ones.

use std::path::{Path, PathBuf};

use fixedbitset::FixedBitSet;
use rusqlite::{Connection, params};

use super::blocks::{self, BLOCKS_IN_RANGE};
use super::record::{ImportOrigin, Origins};
use super::runs::{self, Place, Run, RunKind};
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
    /// The dataset's id and name runs from earlier imports.
    earlier_ids: Vec<Run>,
    earlier_names: Vec<Run>,
    /// Tasks found to repeat an earlier task of this import (bit `seq -
    /// first_seq`), removed from the store; their names are left out of
    /// the name index.
    repeated: FixedBitSet,
    /// This import's names are one run, collisions settled.
    names_settled: bool,
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
                earlier_ids: started.earlier_ids,
                earlier_names: started.earlier_names,
                repeated: FixedBitSet::new(),
                names_settled: false,
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
        // Names settled before these tasks came are settled again with them.
        self.names_settled = false;
        if self.writer.is_none() {
            let conn = self.conn.take().ok_or_else(conn_lost)?;
            self.writer = Some(Writer::start(
                conn,
                self.target,
                self.written.clone(),
                &self.earlier_ids,
            )?);
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

    /// Stores every queued task, removes those whose id came earlier in
    /// this import, and returns the connection.
    fn flushed(&mut self) -> StoreResult<&Connection> {
        self.send_pending()?;
        self.settle()?;
        self.merge_ids()?;
        self.conn.as_ref().ok_or_else(conn_lost)
    }

    /// Merges this import's id runs into one in the dataset's index,
    /// finding the ids written by more than one batch: the first in import
    /// order is kept, the others are taken out of the store and counted as
    /// duplicates.
    fn merge_ids(&mut self) -> StoreResult<()> {
        if self
            .written
            .id_runs
            .iter()
            .all(|run| run.place == Place::Store)
        {
            return Ok(());
        }
        let conn = self.conn.as_ref().ok_or_else(conn_lost)?;
        let first_seq = self.first_seq;
        // Repeats found by this merge (earlier ones were taken out before).
        let mut repeated = FixedBitSet::with_capacity((self.written.next_seq - first_seq) as usize);
        let mut last_key: Option<Vec<u8>> = None;
        let mut count = 0;
        let merged = runs::merge_into_one(
            conn,
            self.target.dataset_id,
            RunKind::Ids,
            &self.written.id_runs,
            |_, entry| {
                if last_key.as_deref() == Some(entry.key) {
                    repeated.insert((entry.seq - first_seq) as usize);
                    count += 1;
                    return Ok(false);
                }
                let key = last_key.get_or_insert_with(Vec::new);
                key.clear();
                key.extend_from_slice(entry.key);
                Ok(true)
            },
        )?;
        self.written.id_runs = merged.into_iter().collect();
        if count > 0 {
            blocks::remove(
                conn,
                self.target.dataset_id,
                self.target.import_id,
                repeated.ones().map(|bit| first_seq + bit as i64),
            )?;
            self.repeated.grow(repeated.len());
            self.repeated.union_with(&repeated);
            self.written.counts.added -= count;
            self.written.counts.duplicates += count;
            // The import's range ends at its last task left: the next
            // import numbers its tasks from there.
            self.written.last_seq = blocks::last_seq_from(conn, first_seq)?;
        }
        Ok(())
    }

    /// Makes this import's names one run, settling collisions by `policy`
    /// if given; returns how many tasks were renamed.
    fn settle_names(&mut self, policy: Option<NamePolicy>) -> StoreResult<u64> {
        self.flushed()?;
        if self.names_settled {
            return Ok(0);
        }
        let conn = self.conn.as_ref().ok_or_else(conn_lost)?;
        let settled = names::settle(
            conn,
            &names::ImportNames {
                dataset_id: self.target.dataset_id,
                dataset: &self.import.dataset,
                earlier: &self.earlier_names,
                runs: &self.written.name_runs,
                first_seq: self.first_seq,
                repeated: &self.repeated,
            },
            policy,
        )?;
        self.written.name_runs = settled.run.into_iter().collect();
        self.names_settled = true;
        Ok(settled.renamed)
    }

    /// Ends the transaction: commits, or rolls back if committing fails.
    fn finish(&mut self, counts: ImportCounts) -> StoreResult<()> {
        self.settle_names(None)?;
        let range = self.written.last_seq.map(|last| (self.first_seq, last));
        let conn = self.conn.as_ref().ok_or_else(conn_lost)?;
        let written = runs::compact(conn, self.target.dataset_id, RunKind::Ids)
            .and_then(|()| runs::compact(conn, self.target.dataset_id, RunKind::Names))
            .and_then(|()| {
                finish_import(
                    conn,
                    self.target.import_id,
                    ImportStatus::Completed,
                    counts,
                    range,
                    &self.diagnostics,
                )
            })
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
    earlier_ids: Vec<Run>,
    earlier_names: Vec<Run>,
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
    runs::create_scratch(conn)?;
    let first_seq = blocks::next_seq(conn)?;
    Ok(Started {
        target: Target {
            dataset_id,
            import_id,
        },
        first_seq,
        started_at,
        earlier_ids: runs::runs_of(conn, dataset_id, RunKind::Ids)?,
        earlier_names: runs::runs_of(conn, dataset_id, RunKind::Names)?,
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
        self.settle_names(Some(policy))
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
