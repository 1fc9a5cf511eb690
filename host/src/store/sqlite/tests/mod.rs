//! Tests against real SQLite files in temporary folders.

mod batches;
mod kill;
mod names;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::{Map, Value, json};
use tempfile::TempDir;

use super::runs::{self, RunKind};
use super::{MAX_STORED_DIAGNOSTICS, SqliteStore, schema};
use crate::records::{Diagnostic, MediaKind, Origin, Severity, Task};
use crate::store::{ImportCounts, NewImport, StoreError, StoredCounts, TaskStore};

/// A temporary folder and the store path inside it.
fn temp_store() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("taskport.db");
    (dir, path)
}

fn new_import(dataset: &str) -> NewImport {
    NewImport {
        dataset: dataset.to_string(),
        source: "links.csv".to_string(),
        format: "links-csv".to_string(),
        plugin_name: "links-csv".to_string(),
        plugin_version: "0.1.0".to_string(),
        plugin_hash: "ab12".to_string(),
        options: vec![("key".to_string(), "image".to_string())],
    }
}

/// A link task named `name` from line `line` of `links.csv`.
fn task(id: &str, name: &str, explicit: bool, line: u64) -> Task {
    let mut data = Map::new();
    data.insert(
        "image".to_string(),
        json!(format!("s3://bucket/{id}/{name}")),
    );
    Task {
        id: id.to_string(),
        name: name.to_string(),
        media: MediaKind::Image,
        links: crate::records::links::extract(&data),
        data,
        annotations: vec![json!({"result": []})],
        predictions: Vec::new(),
        meta: Map::new(),
        origin: Origin {
            source: "links.csv".to_string(),
            line: Some(line),
            index: None,
            format: "links-csv".to_string(),
            plugin: "links-csv@0.1.0".to_string(),
        },
        explicit_name: explicit,
    }
}

fn diagnostic(line: u64) -> Diagnostic {
    Diagnostic {
        source: "links.csv".to_string(),
        line: Some(line),
        index: None,
        severity: Severity::Error,
        code: "bad-link".to_string(),
        message: "not a link".to_string(),
    }
}

/// Imports `tasks` into `dataset` and commits; returns what was stored.
fn import(store: &mut SqliteStore, dataset: &str, tasks: &[Task]) -> StoredCounts {
    let mut session = store.begin_import(new_import(dataset)).unwrap();
    for t in tasks {
        session.add_task(t).unwrap();
    }
    let stored = session.flush().unwrap();
    let counts = ImportCounts {
        converted: tasks.len() as u64,
        added: stored.added,
        duplicates: stored.duplicates,
        ..ImportCounts::default()
    };
    session.commit(counts).unwrap();
    stored
}

fn stored(added: u64, duplicates: u64) -> StoredCounts {
    StoredCounts { added, duplicates }
}

fn all_tasks(store: &SqliteStore, dataset: &str) -> Vec<Task> {
    let mut tasks = Vec::new();
    store
        .tasks(dataset, None, &mut |t| {
            tasks.push(t);
            Ok(())
        })
        .unwrap();
    tasks
}

/// The entries of a dataset's runs of `kind`, in order, as
/// `(key, seq, flag)`.
fn run_entries(conn: &Connection, dataset_id: i64, kind: RunKind) -> Vec<(Vec<u8>, i64, bool)> {
    let runs = runs::runs_of(conn, dataset_id, kind).unwrap();
    let mut merge = runs::Merge::open(conn, &runs).unwrap();
    let mut entries = Vec::new();
    while let Some((_, entry)) = merge.next(conn).unwrap() {
        entries.push((entry.key.to_vec(), entry.seq, entry.flag));
    }
    entries
}

/// Every row of every table, for comparing whole stores.
fn snapshot(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut rows = Vec::new();
    for table in [
        "datasets",
        "imports",
        "task_blocks",
        "key_runs",
        "key_chunks",
        "diagnostics",
    ] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<rusqlite::types::Value> =
                (0..columns).map(|i| row.get(i).unwrap()).collect();
            rows.push(format!("{table} {values:?}"));
        }
    }
    rows
}

#[test]
fn open_creates_migrates_and_reopens() {
    let (_dir, path) = temp_store();
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.exists());
    assert!(store.datasets().unwrap().is_empty());
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.imports().unwrap().is_empty());
}

#[test]
fn import_commits_and_reads_back() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = vec![
        task("c", "c.jpg", false, 1),
        task("a", "a.jpg", true, 2),
        task("b", "b.jpg", false, 3),
    ];
    let mut session = store.begin_import(new_import("berries")).unwrap();
    for t in &tasks {
        session.add_task(t).unwrap();
    }
    assert_eq!(session.flush().unwrap(), stored(3, 0));
    assert_eq!(session.stored(), stored(3, 0));
    session.add_diagnostic(&diagnostic(4)).unwrap();
    let mut added = Vec::new();
    session
        .added_tasks(None, &mut |t| {
            added.push(t);
            Ok(())
        })
        .unwrap();
    assert_eq!(added, tasks);
    let mut first = Vec::new();
    session
        .added_tasks(Some(2), &mut |t| {
            first.push(t);
            Ok(())
        })
        .unwrap();
    assert_eq!(first, tasks[..2]);
    let counts = ImportCounts {
        converted: 3,
        added: 3,
        errors: 1,
        ..ImportCounts::default()
    };
    let id = session.commit(counts).unwrap();
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(all_tasks(&store, "berries"), tasks);
    let mut first = Vec::new();
    store
        .tasks("berries", Some(2), &mut |t| {
            first.push(t.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(first, ["c", "a"]);
    let datasets = store.datasets().unwrap();
    assert_eq!(datasets.len(), 1);
    assert_eq!(
        (datasets[0].name.as_str(), datasets[0].tasks),
        ("berries", 3)
    );
    assert_eq!(datasets[0].imports, 1);
    let imports = store.imports().unwrap();
    assert_eq!(imports.len(), 1);
    let summary = &imports[0];
    assert_eq!((summary.id, summary.status.as_str()), (id, "completed"));
    assert_eq!(summary.plugin, "links-csv@0.1.0");
    assert_eq!(summary.counts, counts);
    assert!(summary.started_at.ends_with('Z') && summary.started_at.contains('T'));
    assert!(summary.finished_at.is_some());
    assert_eq!(store.diagnostics(id).unwrap(), vec![diagnostic(4)]);
    assert!(matches!(
        store
            .tasks("nope", None, &mut |_| Ok(()))
            .unwrap_err()
            .downcast::<StoreError>(),
        Ok(StoreError::NoSuchDataset(_))
    ));
}

#[test]
fn reimport_adds_only_new_ids() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = vec![task("a", "a.jpg", false, 1), task("b", "b.jpg", false, 2)];
    assert_eq!(import(&mut store, "d", &tasks), stored(2, 0));
    assert_eq!(import(&mut store, "d", &tasks), stored(0, 2));
    // Within one import (the first one is kept), and per dataset.
    let again = vec![task("c", "c.jpg", false, 1), task("c", "c2.jpg", false, 2)];
    assert_eq!(import(&mut store, "d", &again), stored(1, 1));
    assert_eq!(import(&mut store, "other", &tasks), stored(2, 0));
    let names: Vec<String> = all_tasks(&store, "d").into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["a.jpg", "b.jpg", "c.jpg"]);
    let duplicates: Vec<u64> = store
        .imports()
        .unwrap()
        .iter()
        .map(|i| i.counts.duplicates)
        .collect();
    assert_eq!(duplicates, [0, 2, 1, 0]);
}

#[test]
fn rollback_and_drop_leave_the_store_unchanged() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    import(&mut store, "d", &[task("a", "a.jpg", false, 1)]);
    let before = snapshot(&path);

    let mut session = store.begin_import(new_import("d")).unwrap();
    session.add_task(&task("b", "b.jpg", false, 1)).unwrap();
    session.add_diagnostic(&diagnostic(2)).unwrap();
    session.rollback(None).unwrap();
    assert_eq!(snapshot(&path), before);

    let mut session = store.begin_import(new_import("new-dataset")).unwrap();
    session.add_task(&task("c", "c.jpg", false, 1)).unwrap();
    drop(session);
    assert_eq!(snapshot(&path), before);
    // The store is usable afterwards.
    import(&mut store, "d", &[task("b", "b.jpg", false, 1)]);
    assert_eq!(all_tasks(&store, "d").len(), 2);
}

#[test]
fn failed_import_is_recorded_without_tasks() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let mut session = store.begin_import(new_import("fresh")).unwrap();
    session.add_task(&task("a", "a.jpg", false, 1)).unwrap();
    for line in 0..MAX_STORED_DIAGNOSTICS as u64 + 5 {
        session.add_diagnostic(&diagnostic(line)).unwrap();
    }
    let counts = ImportCounts {
        converted: 1,
        errors: MAX_STORED_DIAGNOSTICS as u64 + 5,
        ..ImportCounts::default()
    };
    session.rollback(Some(counts)).unwrap();

    let imports = store.imports().unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].status, "failed");
    assert_eq!(imports[0].counts, counts);
    assert_eq!(imports[0].dataset, "fresh");
    let diagnostics = store.diagnostics(imports[0].id).unwrap();
    assert_eq!(diagnostics.len(), MAX_STORED_DIAGNOSTICS);
    assert_eq!(diagnostics[0], diagnostic(0));
    // No tasks, and the dataset it would have created does not exist.
    assert!(store.datasets().unwrap().is_empty());
    let conn = Connection::open(&path).unwrap();
    let tasks: i64 = conn
        .query_row("SELECT count(*) FROM task_blocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tasks, 0);
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, path) = temp_store();
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == schema::VERSION + 1));
    assert!(err.to_string().contains("newer taskport"));
}

#[test]
fn other_files_are_refused() {
    let (dir, path) = temp_store();
    std::fs::write(&path, "item_name,item_link\n".repeat(100)).unwrap();
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Open { .. }));
    let message = err.to_string();
    assert!(message.contains("not a taskport store"), "{message}");
    assert!(!message.contains('\n'));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        "item_name,item_link\n".repeat(100).as_bytes()
    );

    let foreign = dir.path().join("other.db");
    let conn = Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE notes (text TEXT)")
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&foreign).err().unwrap();
    assert!(err.to_string().contains("not a taskport store"), "{err}");

    let missing = dir.path().join("no/such/folder/taskport.db");
    assert!(matches!(
        SqliteStore::open(&missing),
        Err(StoreError::Open { .. })
    ));
}

/// The JSON record of a stored task is what it was given.
#[test]
fn record_round_trips_as_json() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let mut t = task("a", "a.jpg", false, 1);
    t.meta.insert("size".to_string(), Value::from(12));
    t.origin.index = Some(0);
    import(&mut store, "d", std::slice::from_ref(&t));
    assert_eq!(all_tasks(&store, "d"), [t]);
}

#[test]
fn compact_rows_read_back_whole() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    // Hex ids are kept as bytes, others as text; uppercase hex stays text.
    let hex = "0123456789abcdef0123456789abcdef";
    let normalized = task(hex, "n.jpg", false, 1);
    assert!(!normalized.links.is_empty());
    let mut upper = task(&hex.to_uppercase(), "u.jpg", false, 2);
    upper.origin.source = "other.csv".to_string();
    upper.origin.plugin = "other@1.0.0".to_string();
    let plain = task("plain", "p.jpg", true, 3);
    let mut session = store.begin_import(new_import("d")).unwrap();
    for t in [&normalized, &upper, &plain, &normalized] {
        session.add_task(t).unwrap();
    }
    assert_eq!(session.flush().unwrap(), stored(3, 1));
    session.commit(ImportCounts::default()).unwrap();
    import(&mut store, "d", &[task("later", "l.jpg", false, 4)]);
    let tasks = all_tasks(&store, "d");
    assert_eq!(tasks[..3], [normalized, upper, plain]);
    assert_eq!(tasks[3].id, "later");
    let mut limited = Vec::new();
    store
        .tasks("d", Some(2), &mut |t| {
            limited.push(t.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(limited, [hex, &hex.to_uppercase()]);
}

#[test]
fn deleting_a_dataset_takes_its_tasks_and_history_only() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = vec![task("a", "a.jpg", false, 1), task("b", "b.jpg", false, 2)];
    import(&mut store, "d", &tasks);
    let mut session = store.begin_import(new_import("d")).unwrap();
    session.add_task(&task("c", "c.jpg", false, 1)).unwrap();
    session.add_diagnostic(&diagnostic(2)).unwrap();
    session.commit(ImportCounts::default()).unwrap();
    import(&mut store, "other", &tasks);
    let before_other = all_tasks(&store, "other");

    let deleted = store.delete_dataset("d").unwrap();
    assert_eq!(
        (deleted.name.as_str(), deleted.tasks, deleted.imports),
        ("d", 3, 2)
    );
    let names: Vec<String> = store
        .datasets()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["other"]);
    assert!(
        store
            .imports()
            .unwrap()
            .iter()
            .all(|i| i.dataset == "other")
    );
    assert_eq!(all_tasks(&store, "other"), before_other);
    let conn = Connection::open(&path).unwrap();
    let other_id: i64 = conn
        .query_row("SELECT id FROM datasets WHERE name = 'other'", [], |r| {
            r.get(0)
        })
        .unwrap();
    for kind in [RunKind::Ids, RunKind::Names] {
        assert_eq!(run_entries(&conn, other_id, kind).len(), 2, "{kind:?}");
    }
    let entries: i64 = conn
        .query_row("SELECT sum(entries) FROM key_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 4);
    let orphan_chunks: i64 = conn
        .query_row(
            "SELECT count(*) FROM key_chunks WHERE run_id NOT IN (SELECT id FROM key_runs)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphan_chunks, 0);
    let blocks_of_others: i64 = conn
        .query_row(
            "SELECT count(*) FROM task_blocks
             WHERE dataset_id <> (SELECT id FROM datasets WHERE name = 'other')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(blocks_of_others, 0);
    let diagnostics: i64 = conn
        .query_row("SELECT count(*) FROM diagnostics", [], |r| r.get(0))
        .unwrap();
    assert_eq!(diagnostics, 0);

    // The name is free again, and so are its ids.
    assert_eq!(import(&mut store, "d", &tasks), stored(2, 0));
    assert!(matches!(
        store.delete_dataset("nope"),
        Err(StoreError::NoSuchDataset(_))
    ));
}
