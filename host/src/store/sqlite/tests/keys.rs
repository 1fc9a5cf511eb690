//! Ids and names that share a key. Unit tests keep two bits of every key
//! (see `keys`), so nearly every task shares its keys with others.

use rusqlite::Connection;

use super::{all_tasks, import, stored, task, temp_store};
use crate::records::Task;
use crate::store::{NamePolicy, SqliteStore, TaskStore};

/// `count` tasks with distinct ids, half of them 32-digit hex ids (stored
/// as bytes), half text ids, and distinct names.
fn distinct_tasks(count: usize) -> Vec<Task> {
    (0..count)
        .map(|n| {
            let id = if n % 2 == 0 {
                format!("{n:032x}")
            } else {
                format!("text-{n}")
            };
            task(&id, &format!("{n}.jpg"), false, n as u64 + 1)
        })
        .collect()
}

fn overflow_rows(conn: &Connection, dataset_id: i64) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM task_key_overflow WHERE dataset_id = ?1",
        [dataset_id],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn ids_sharing_a_key_stay_apart_and_duplicates_are_still_found() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = distinct_tasks(40);
    assert_eq!(import(&mut store, "a", &tasks), stored(40, 0));
    let conn = Connection::open(&path).unwrap();
    assert!(overflow_rows(&conn, 1) >= 36, "4 keys for 40 ids");
    assert_eq!(all_tasks(&store, "a"), tasks);

    // Again, and within one import: all duplicates.
    let twice: Vec<Task> = tasks.iter().chain(&tasks).cloned().collect();
    assert_eq!(import(&mut store, "a", &twice), stored(0, 80));
    // The same ids in another dataset are other tasks.
    assert_eq!(import(&mut store, "b", &tasks), stored(40, 0));

    // Deleting "a" frees keys that ids of "b" in the overflow share: they
    // are found there, not added again.
    store.delete_dataset("a").unwrap();
    assert_eq!(overflow_rows(&conn, 1), 0);
    assert_eq!(import(&mut store, "b", &tasks), stored(0, 40));
    assert_eq!(import(&mut store, "a", &tasks), stored(40, 0));
    assert_eq!(all_tasks(&store, "b"), tasks);
}

#[test]
fn names_sharing_a_key_do_not_collide() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = distinct_tasks(40);
    let mut session = store.begin_import(super::new_import("d")).unwrap();
    for t in &tasks {
        session.add_task(t).unwrap();
    }
    assert_eq!(session.resolve_names(NamePolicy::Error).unwrap(), 0);
    session.commit(Default::default()).unwrap();

    // A real collision among them is still found, in a later import too.
    let again = task("another", "7.jpg", false, 1);
    let mut session = store.begin_import(super::new_import("d")).unwrap();
    session.add_task(&again).unwrap();
    assert_eq!(session.resolve_names(NamePolicy::Suffix).unwrap(), 1);
    session.commit(Default::default()).unwrap();
    let names: Vec<String> = all_tasks(&store, "d").into_iter().map(|t| t.name).collect();
    assert_eq!(names[40], "7_1.jpg");
}
