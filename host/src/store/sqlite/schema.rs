//! The SQLite schema and its migrations.
//!
//! The schema version is `PRAGMA user_version`: the number of migrations
//! applied. Migrations are applied in order, each in its own transaction
//! together with the version bump, so a store is always at one exact
//! version. `PRAGMA application_id` marks the file as a taskport store.

use rusqlite::{Connection, OptionalExtension};

use super::blocks::{BlockBuilder, BlockTask};
use super::record::StoredId;
use super::runs::{Entry, Place, RunKind, RunWriter};
use super::{db_error, open_error};
use crate::store::{StoreError, StoreResult};

/// `PRAGMA application_id` of a taskport store ("tskp").
const APPLICATION_ID: i64 = 0x7473_6b70;

/// One schema change: SQL, then, when the rows must be rewritten in a way
/// SQL cannot express, a function run in the same transaction.
pub(super) struct Migration {
    pub(super) sql: &'static str,
    rewrite: Option<fn(&Connection) -> StoreResult<()>>,
}

/// Migrations in order; migration `i` brings the schema to version `i + 1`.
pub(super) const MIGRATIONS: &[Migration] = &[
    // 1: datasets, imports, tasks, diagnostics. `first_seq`/`last_seq` are
    // the range of a completed import's tasks (NULL when it added none).
    Migration {
        sql: "CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        dataset TEXT NOT NULL,
        source TEXT NOT NULL,
        format TEXT NOT NULL,
        plugin_name TEXT NOT NULL,
        plugin_version TEXT NOT NULL,
        plugin_hash TEXT NOT NULL,
        options TEXT NOT NULL,
        status TEXT NOT NULL,
        converted INTEGER NOT NULL DEFAULT 0,
        added INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        renamed INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        first_seq INTEGER,
        last_seq INTEGER
    );
    CREATE INDEX imports_dataset ON imports (dataset);
    CREATE TABLE tasks (
        seq INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id),
        id BLOB NOT NULL,
        import_id INTEGER NOT NULL REFERENCES imports (id),
        name TEXT NOT NULL,
        explicit_name INTEGER NOT NULL,
        record BLOB NOT NULL
    );
    CREATE UNIQUE INDEX tasks_id ON tasks (dataset_id, id);
    CREATE INDEX tasks_name ON tasks (dataset_id, name);
    CREATE TABLE diagnostics (
        import_id INTEGER NOT NULL REFERENCES imports (id),
        seq INTEGER NOT NULL,
        source TEXT NOT NULL,
        line INTEGER,
        item_index INTEGER,
        severity TEXT NOT NULL,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (import_id, seq)
    ) WITHOUT ROWID;",
        rewrite: None,
    },
    // 2: the dedupe and name indexes become tables of their own, written in
    // sorted batches instead of a row at a time with each task.
    Migration {
        sql: "CREATE TABLE task_ids (
        dataset_id INTEGER NOT NULL,
        id BLOB NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (dataset_id, id)
    ) WITHOUT ROWID;
    INSERT INTO task_ids (dataset_id, id, seq)
        SELECT dataset_id, id, seq FROM tasks ORDER BY dataset_id, id;
    CREATE TABLE task_names (
        dataset_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (dataset_id, name, seq)
    ) WITHOUT ROWID;
    INSERT INTO task_names (dataset_id, name, seq)
        SELECT dataset_id, name, seq FROM tasks ORDER BY dataset_id, name, seq;
    DROP INDEX tasks_id;
    DROP INDEX tasks_name;",
        rewrite: None,
    },
    // 3: tasks are kept many to a row, in blocks; `task_names` says which
    // names the plugin gave, for settling collisions without the tasks.
    Migration {
        sql: "CREATE TABLE task_blocks (
        first_seq INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        dataset_id INTEGER NOT NULL,
        import_id INTEGER NOT NULL,
        tasks BLOB NOT NULL
    );
    ALTER TABLE task_names ADD COLUMN explicit_name INTEGER NOT NULL DEFAULT 0;
    UPDATE task_names SET explicit_name = 1
        WHERE seq IN (SELECT seq FROM tasks WHERE explicit_name);",
        rewrite: Some(tasks_into_blocks),
    },
    // 4: the id and name indexes become sorted runs (see `runs`), appended
    // in chunks instead of a B-tree entry per task.
    Migration {
        sql: "CREATE TABLE key_runs (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        entries INTEGER NOT NULL
    );
    CREATE INDEX key_runs_dataset ON key_runs (dataset_id, kind);
    CREATE TABLE key_chunks (
        run_id INTEGER NOT NULL,
        first_key BLOB NOT NULL,
        first_seq INTEGER NOT NULL,
        entries BLOB NOT NULL
    );
    CREATE UNIQUE INDEX key_chunks_start ON key_chunks (run_id, first_key, first_seq);",
        rewrite: Some(indexes_into_runs),
    },
];

/// Writes the `task_ids` and `task_names` tables of schema 3 as one id run
/// and one name run per dataset, and drops them.
fn indexes_into_runs(conn: &Connection) -> StoreResult<()> {
    let mut ids = conn
        .prepare("SELECT dataset_id, id, seq FROM task_ids ORDER BY dataset_id, id")
        .map_err(db_error)?;
    let mut key = Vec::new();
    copy_into_runs(conn, RunKind::Ids, &mut ids, |row| {
        key.clear();
        row.get::<_, StoredId>(1)?.key(&mut key);
        Ok((key.clone(), row.get(2)?, false))
    })?;
    let mut names = conn
        .prepare(
            "SELECT dataset_id, name, seq, explicit_name FROM task_names
             ORDER BY dataset_id, name, seq",
        )
        .map_err(db_error)?;
    copy_into_runs(conn, RunKind::Names, &mut names, |row| {
        let name: String = row.get(1)?;
        Ok((name.into_bytes(), row.get(2)?, row.get(3)?))
    })?;
    drop((ids, names));
    conn.execute_batch("DROP TABLE task_ids; DROP TABLE task_names")
        .map_err(db_error)
}

/// Writes the rows `select` gives, in order (dataset id first, then what
/// `entry` makes of the row as `(key, seq, flag)`), as a run per dataset.
fn copy_into_runs(
    conn: &Connection,
    kind: RunKind,
    select: &mut rusqlite::Statement<'_>,
    mut entry: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, i64, bool)>,
) -> StoreResult<()> {
    let mut rows = select.query([]).map_err(db_error)?;
    let mut current: Option<(i64, RunWriter)> = None;
    while let Some(row) = rows.next().map_err(db_error)? {
        let dataset_id: i64 = row.get(0).map_err(db_error)?;
        if current.as_ref().is_none_or(|(id, _)| *id != dataset_id) {
            if let Some((_, writer)) = current.take() {
                writer.finish(conn)?;
            }
            current = Some((
                dataset_id,
                RunWriter::create(conn, Place::Store, dataset_id, kind)?,
            ));
        }
        let (key, seq, flag) = entry(row).map_err(db_error)?;
        let (_, writer) = current.as_mut().expect("set above");
        writer.push(
            conn,
            Entry {
                key: &key,
                seq,
                flag,
            },
        )?;
    }
    if let Some((_, writer)) = current {
        writer.finish(conn)?;
    }
    Ok(())
}

/// Moves the rows of the `tasks` table of schema 2 into blocks, a block
/// never holding tasks of two imports, and drops the table.
fn tasks_into_blocks(conn: &Connection) -> StoreResult<()> {
    tasks_rows_into_blocks(conn).map_err(db_error)
}

fn tasks_rows_into_blocks(conn: &Connection) -> rusqlite::Result<()> {
    let mut select = conn.prepare(
        "SELECT seq, dataset_id, import_id, id, name, explicit_name, record
         FROM tasks ORDER BY seq",
    )?;
    let mut block = BlockBuilder::default();
    // The dataset and import of the block being filled.
    let mut owner = None;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let row_owner = Some((row.get(1)?, row.get(2)?));
        if owner != row_owner || block.is_full() {
            if let Some((dataset_id, import_id)) = owner {
                block.write(conn, dataset_id, import_id)?;
            }
            owner = row_owner;
        }
        let record = row.get_ref(6)?;
        let record = match record {
            rusqlite::types::ValueRef::Text(bytes) => bytes,
            _ => record.as_blob()?,
        };
        block.push(&BlockTask {
            seq: row.get(0)?,
            id: row.get::<_, StoredId>(3)?,
            explicit_name: row.get(5)?,
            name: row.get_ref(4)?.as_str()?,
            record,
        });
    }
    if let Some((dataset_id, import_id)) = owner {
        block.write(conn, dataset_id, import_id)?;
    }
    drop(rows);
    conn.execute_batch("DROP TABLE tasks")
}

/// The schema version this build writes.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Checks that `conn` is a taskport store this build can use (or an empty
/// database) and brings its schema up to [`VERSION`].
pub(super) fn check_and_migrate(conn: &Connection, path: &str) -> StoreResult<()> {
    let version = check(conn, path)?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let target = index as i64 + 1;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_error)?;
        let applied = apply(conn, path, target, migration);
        if applied.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        applied?;
    }
    Ok(())
}

/// Returns the schema version after checking the file is a usable store.
fn check(conn: &Connection, path: &str) -> StoreResult<i64> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| open_error(path, e))?;
    if version > VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_string(),
            found: version,
            supported: VERSION,
        });
    }
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(|e| open_error(path, e))?;
    let foreign = if version == 0 {
        // A fresh store has no tables; anything else belongs to someone else.
        application_id != 0 || has_tables(conn).map_err(|e| open_error(path, e))?
    } else {
        application_id != APPLICATION_ID
    };
    if foreign {
        return Err(not_ours(path));
    }
    Ok(version)
}

/// Applies one migration inside the open transaction and commits it.
fn apply(conn: &Connection, path: &str, target: i64, migration: &Migration) -> StoreResult<()> {
    // Another process may have migrated between the check and the lock.
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db_error)?;
    if current >= target {
        return conn.execute_batch("COMMIT").map_err(db_error);
    }
    if target == 1 && has_tables(conn).map_err(db_error)? {
        return Err(not_ours(path));
    }
    conn.execute_batch(migration.sql).map_err(db_error)?;
    if let Some(rewrite) = migration.rewrite {
        rewrite(conn)?;
    }
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {target}; COMMIT"
    ))
    .map_err(db_error)
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT 1 FROM sqlite_schema LIMIT 1", [], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

fn not_ours(path: &str) -> StoreError {
    StoreError::Open {
        path: path.to_string(),
        message: "not a taskport store (a SQLite database of another program); choose another file with --store".to_string(),
    }
}
