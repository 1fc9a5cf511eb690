//! Imports larger than one writer batch, a writer that fails, and stores
//! written by an older schema.

use rusqlite::{Connection, params};

use super::{all_tasks, import, new_import, run_entries, snapshot, stored, task, temp_store};
use crate::records::Task;
use crate::store::sqlite::record::StoredId;
use crate::store::sqlite::runs::RunKind;
use crate::store::sqlite::schema::{self, MIGRATIONS};
use crate::store::sqlite::writer::BATCH_TASKS;
use crate::store::{NamePolicy, SqliteStore, StoreError, TaskStore};

/// Task `n` of a long import: ids repeat with period `distinct`.
fn nth(n: usize, distinct: usize) -> Task {
    task(
        &format!("id-{}", n % distinct),
        &format!("{n}.jpg"),
        false,
        n as u64 + 1,
    )
}

#[test]
fn duplicates_across_batches_keep_the_first_in_import_order() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let distinct = BATCH_TASKS + BATCH_TASKS / 2;
    let total = 2 * BATCH_TASKS + 100;
    let tasks: Vec<Task> = (0..total).map(|n| nth(n, distinct)).collect();
    assert_eq!(
        import(&mut store, "d", &tasks),
        stored(distinct as u64, (total - distinct) as u64)
    );
    let kept = all_tasks(&store, "d");
    assert_eq!(kept, tasks[..distinct]);
    assert_eq!(store.datasets().unwrap()[0].tasks, distinct as u64);

    // Read back after a later import, still in import order.
    let later = vec![task("id-later", "later.jpg", false, 1), nth(7, distinct)];
    assert_eq!(import(&mut store, "d", &later), stored(1, 1));
    let kept = all_tasks(&store, "d");
    assert_eq!(kept.len(), distinct + 1);
    assert_eq!(kept[distinct].id, "id-later");
}

#[test]
fn tasks_added_after_a_flush_are_deduplicated_with_the_rest() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let distinct = BATCH_TASKS + 10;
    let first: Vec<Task> = (0..distinct + 50).map(|n| nth(n, distinct)).collect();
    // Two batches more: 200 new ids, each repeated across them.
    let more: Vec<Task> = (0..2 * BATCH_TASKS)
        .map(|k| {
            let id = format!("id-{}", distinct + k % 200);
            task(&id, &format!("more-{k}.jpg"), false, k as u64)
        })
        .collect();
    let mut session = store.begin_import(new_import("d")).unwrap();
    for t in &first {
        session.add_task(t).unwrap();
    }
    assert_eq!(session.flush().unwrap(), stored(distinct as u64, 50));
    assert_eq!(session.resolve_names(NamePolicy::Suffix).unwrap(), 0);
    for t in &more {
        session.add_task(t).unwrap();
    }
    let repeats = (2 * BATCH_TASKS - 200) as u64;
    assert_eq!(
        session.flush().unwrap(),
        stored(distinct as u64 + 200, 50 + repeats)
    );
    assert_eq!(session.resolve_names(NamePolicy::Suffix).unwrap(), 0);
    session.commit(Default::default()).unwrap();
    let kept = all_tasks(&store, "d");
    let expected: Vec<&Task> = first[..distinct].iter().chain(&more[..200]).collect();
    assert_eq!(kept.iter().collect::<Vec<_>>(), expected);
    assert_eq!(store.datasets().unwrap()[0].tasks, distinct as u64 + 200);
}

#[test]
fn a_failing_write_stores_nothing() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    import(&mut store, "d", &[task("a", "a.jpg", false, 1)]);
    // A real SQLite error inside the writer thread, in its second batch:
    // the block holding the task named "boom.jpg" (the first import took
    // seq 1, so this one's task `n` gets `seq = n + 2`).
    let boom_seq = BATCH_TASKS + 5 + 2;
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON task_blocks
             WHEN NEW.first_seq <= {boom_seq} AND NEW.last_seq >= {boom_seq}
             BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;"
        ))
        .unwrap();
    let before = snapshot(&path);

    let mut session = store.begin_import(new_import("d")).unwrap();
    let mut failed = None;
    for n in 0..3 * BATCH_TASKS {
        let name = if n == BATCH_TASKS + 5 {
            "boom.jpg".to_string()
        } else {
            format!("{n}.jpg")
        };
        if let Err(e) = session.add_task(&task(&format!("id-{n}"), &name, false, 1)) {
            failed = Some(e);
            break;
        }
    }
    let error = match failed {
        Some(error) => error,
        None => session.flush().unwrap_err(),
    };
    assert!(
        matches!(&error, StoreError::Database(m) if m.contains("simulated write failure")),
        "{error}"
    );
    session.rollback(None).unwrap();
    assert_eq!(snapshot(&path), before);
}

#[test]
fn a_schema_1_store_is_migrated_with_its_tasks() {
    let (_dir, path) = temp_store();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(MIGRATIONS[0].sql).unwrap();
    conn.execute_batch(
        "PRAGMA application_id = 1953721200; PRAGMA user_version = 1;
         INSERT INTO datasets (id, name, created_at) VALUES (1, 'd', '2026-01-01T00:00:00.000Z');
         INSERT INTO imports (id, dataset, source, format, plugin_name, plugin_version,
                              plugin_hash, options, status, converted, added,
                              started_at, finished_at, first_seq, last_seq)
         VALUES (1, 'd', 'links.csv', 'links-csv', 'links-csv', '0.1.0', 'ab12', '[]',
                 'completed', 2, 2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 1, 2),
                (2, 'd', 'more.csv', 'links-csv', 'links-csv', '0.1.0', 'ab12', '[]',
                 'completed', 1, 1, '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:01.000Z', 3, 3);",
    )
    .unwrap();
    let old_tasks = [
        (1, "old-1", 1, "a.jpg", false),
        (2, "0123456789abcdef0123456789abcdef", 1, "b.jpg", true),
        (3, "old-3", 2, "c.jpg", false),
    ];
    for (seq, id, import_id, name, explicit_name) in old_tasks {
        conn.execute(
            "INSERT INTO tasks (seq, dataset_id, id, import_id, name, explicit_name, record)
             VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
            params![
                seq,
                id,
                import_id,
                name,
                explicit_name,
                format!(r#"{{"m":"image","d":{{"image":"s3://bucket/{name}"}},"n":{seq}}}"#)
            ],
        )
        .unwrap();
    }
    drop(conn);

    let mut store = SqliteStore::open(&path).unwrap();
    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
    let migrated: Vec<_> = all_tasks(&store, "d")
        .into_iter()
        .map(|t| {
            (
                t.id,
                t.name,
                t.explicit_name,
                t.origin.source,
                t.origin.line,
            )
        })
        .collect();
    let expected: Vec<_> = old_tasks
        .iter()
        .map(|&(seq, id, import_id, name, explicit_name)| {
            let source = if import_id == 1 {
                "links.csv"
            } else {
                "more.csv"
            };
            let line = Some(seq as u64);
            (
                id.to_string(),
                name.to_string(),
                explicit_name,
                source.to_string(),
                line,
            )
        })
        .collect();
    assert_eq!(migrated, expected);
    let conn = Connection::open(&path).unwrap();
    let ids = run_entries(&conn, 1, RunKind::Ids);
    let mut expected_ids: Vec<(Vec<u8>, i64, bool)> = old_tasks
        .iter()
        .map(|&(seq, id, ..)| {
            // The old rows hold every id as text.
            let mut key = Vec::new();
            StoredId::Text(id.to_string()).key(&mut key);
            (key, seq, false)
        })
        .collect();
    expected_ids.sort();
    assert_eq!(ids, expected_ids);
    let names = run_entries(&conn, 1, RunKind::Names);
    let expected_names: Vec<(Vec<u8>, i64, bool)> = old_tasks
        .iter()
        .map(|&(seq, _, _, name, explicit_name)| (name.as_bytes().to_vec(), seq, explicit_name))
        .collect();
    assert_eq!(names, expected_names);
    // The old ids still deduplicate, and the old names still collide.
    let mut session = store.begin_import(new_import("d")).unwrap();
    session
        .add_task(&task("old-1", "again.jpg", false, 1))
        .unwrap();
    session.add_task(&task("new", "a.jpg", false, 2)).unwrap();
    assert_eq!(session.flush().unwrap(), stored(1, 1));
    assert_eq!(session.resolve_names(NamePolicy::Suffix).unwrap(), 1);
    session.commit(Default::default()).unwrap();
    let names: Vec<String> = all_tasks(&store, "d").into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["a.jpg", "b.jpg", "c.jpg", "a_1.jpg"]);
}
