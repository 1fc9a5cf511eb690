//! Name collisions.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::{all_tasks, import, new_import, run_entries, task, temp_store};
use crate::records::Task;
use crate::records::names::with_suffix;
use crate::store::sqlite::names::RENAMES_PER_PASS;
use crate::store::sqlite::runs::RunKind;
use crate::store::sqlite::writer::BATCH_TASKS;
use crate::store::{NamePolicy, SqliteStore, StoreError, TaskStore};

/// Imports `tasks`, settles names with `policy` and commits; returns the
/// renamed count.
fn import_named(
    store: &mut SqliteStore,
    tasks: &[Task],
    policy: NamePolicy,
) -> Result<u64, StoreError> {
    let mut session = store.begin_import(new_import("d")).unwrap();
    for t in tasks {
        session.add_task(t).unwrap();
    }
    match session.resolve_names(policy) {
        Ok(renamed) => {
            session.commit(Default::default()).unwrap();
            Ok(renamed)
        }
        Err(e) => {
            session.rollback(None).unwrap();
            Err(e)
        }
    }
}

fn names(store: &SqliteStore) -> Vec<(String, String)> {
    all_tasks(store, "d")
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(id, name)| (id.to_string(), name.to_string()))
        .collect()
}

#[test]
fn explicit_names_are_reserved_first_and_suffixes_are_smallest_free() {
    let tasks = [
        task("1", "a.jpg", false, 1),
        task("2", "a.jpg", true, 2),
        task("3", "a.jpg", false, 3),
        task("4", "a_2.jpg", false, 4),
        task("5", "README", false, 5),
        task("6", "README", false, 6),
        task("7", "b.jpg", false, 7),
    ];
    let mut results = Vec::new();
    for _ in 0..2 {
        let (_dir, path) = temp_store();
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            import_named(&mut store, &tasks, NamePolicy::Suffix).unwrap(),
            3
        );
        results.push(names(&store));
    }
    let expected = pairs(&[
        ("1", "a_1.jpg"),
        ("2", "a.jpg"),
        ("3", "a_3.jpg"),
        ("4", "a_2.jpg"),
        ("5", "README"),
        ("6", "README_1"),
        ("7", "b.jpg"),
    ]);
    assert_eq!(results[0], expected);
    assert_eq!(results[1], expected, "deterministic");
}

#[test]
fn earlier_imports_keep_their_names() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    import(
        &mut store,
        "d",
        &[task("1", "a.jpg", false, 1), task("2", "a_1.jpg", false, 2)],
    );
    let later = [task("3", "a.jpg", true, 1), task("4", "a.jpg", false, 2)];
    assert_eq!(
        import_named(&mut store, &later, NamePolicy::Suffix).unwrap(),
        2
    );
    assert_eq!(
        names(&store),
        pairs(&[
            ("1", "a.jpg"),
            ("2", "a_1.jpg"),
            ("3", "a_2.jpg"),
            ("4", "a_3.jpg")
        ])
    );
    // The renamed tasks read back whole, with their explicit flag.
    let tasks = all_tasks(&store, "d");
    assert!(tasks[2].explicit_name && !tasks[3].explicit_name);
    // Duplicates are not stored, so they cannot collide.
    assert_eq!(
        import_named(&mut store, &later, NamePolicy::Error).unwrap(),
        0
    );
}

#[test]
fn error_policy_names_both_origins_and_stores_nothing() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let tasks = [
        task("1", "a.jpg", false, 1),
        task("2", "b.jpg", false, 2),
        task("3", "b.jpg", true, 3),
        task("4", "a.jpg", false, 4),
    ];
    let err = import_named(&mut store, &tasks, NamePolicy::Error).unwrap_err();
    match &err {
        StoreError::NameCollision {
            dataset,
            name,
            first,
            again,
        } => {
            assert_eq!((dataset.as_str(), name.as_str()), ("d", "a.jpg"));
            assert_eq!(
                (first.as_str(), again.as_str()),
                ("links.csv:1", "links.csv:4")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(store.datasets().unwrap().is_empty());

    import(&mut store, "d", &[task("9", "c.jpg", false, 7)]);
    let err = import_named(
        &mut store,
        &[task("10", "c.jpg", true, 2)],
        NamePolicy::Error,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("first at links.csv:7, again at links.csv:2"),
        "{err}"
    );
}

#[test]
fn renames_spanning_many_blocks_keep_every_other_task() {
    // Every other task collides, over many blocks; the rest keep their names.
    let batch = |from: u64, to: u64| -> Vec<Task> {
        (from..to)
            .map(|n| {
                let name = if n % 2 == 0 {
                    "same.jpg".to_string()
                } else {
                    format!("{n}.jpg")
                };
                task(&format!("id-{n}"), &name, false, n)
            })
            .collect()
    };
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    // Into a new dataset, then into one with earlier tasks.
    assert_eq!(
        import_named(&mut store, &batch(0, 400), NamePolicy::Suffix).unwrap(),
        199
    );
    assert_eq!(
        import_named(&mut store, &batch(400, 700), NamePolicy::Suffix).unwrap(),
        150
    );
    let mut suffix = 0;
    let expected: Vec<(String, String)> = (0..700)
        .map(|n| {
            let name = match n % 2 {
                0 if n == 0 => "same.jpg".to_string(),
                0 => {
                    suffix += 1;
                    format!("same_{suffix}.jpg")
                }
                _ => format!("{n}.jpg"),
            };
            (format!("id-{n}"), name)
        })
        .collect();
    assert_eq!(names(&store), expected);
}

#[test]
fn more_renames_than_one_pass_rewrites_are_all_stored_and_indexed() {
    // One name held by every task: renames span several passes over the
    // blocks, and a pass can end in the middle of a block.
    let count = 2 * RENAMES_PER_PASS as u64 + 777;
    let tasks: Vec<Task> = (0..count)
        .map(|n| task(&format!("id-{n}"), "same.jpg", n == 5, n + 2))
        .collect();
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        import_named(&mut store, &tasks, NamePolicy::Suffix).unwrap(),
        count - 1
    );
    // The explicit name keeps it; the others take suffixes in import order.
    let mut suffix = 0;
    let expected: Vec<(String, String)> = (0..count)
        .map(|n| {
            let name = if n == 5 {
                "same.jpg".to_string()
            } else {
                suffix += 1;
                format!("same_{suffix}.jpg")
            };
            (format!("id-{n}"), name)
        })
        .collect();
    assert_eq!(names(&store), expected);
    // The name index holds each task once, under its new name.
    let conn = Connection::open(&path).unwrap();
    let mut indexed: Vec<(Vec<u8>, i64, bool)> = expected
        .iter()
        .enumerate()
        .map(|(n, (_, name))| (name.clone().into_bytes(), n as i64 + 1, n == 5))
        .collect();
    indexed.sort();
    assert_eq!(run_entries(&conn, 1, RunKind::Names), indexed);
}

/// What a dataset should hold after imports settled by suffix, computed
/// in memory: ids and names in import order.
#[derive(Default)]
struct Model {
    tasks: Vec<(String, String)>,
}

impl Model {
    /// Applies one import; returns `(added, duplicates, renamed)`.
    fn import(&mut self, tasks: &[Task]) -> (u64, u64, u64) {
        let mut ids: HashSet<String> = self.tasks.iter().map(|(id, _)| id.clone()).collect();
        let held_before: HashSet<String> =
            self.tasks.iter().map(|(_, name)| name.clone()).collect();
        let new: Vec<&Task> = tasks.iter().filter(|t| ids.insert(t.id.clone())).collect();
        let mut holders: HashMap<&str, usize> = HashMap::new();
        for t in &new {
            *holders.entry(&t.name).or_default() += 1;
        }
        let mut colliding: Vec<usize> = (0..new.len())
            .filter(|&k| holders[new[k].name.as_str()] > 1 || held_before.contains(&new[k].name))
            .collect();
        colliding.sort_by_key(|&k| (!new[k].explicit_name, k));
        let mut names: Vec<String> = new.iter().map(|t| t.name.clone()).collect();
        let mut kept = HashSet::new();
        let mut given = HashSet::new();
        let mut renamed = 0;
        for k in colliding {
            let name = &new[k].name;
            if !held_before.contains(name) && kept.insert(name.clone()) {
                continue;
            }
            let free = (1..)
                .map(|n| with_suffix(name, n))
                .find(|c| {
                    !held_before.contains(c)
                        && !holders.contains_key(c.as_str())
                        && !given.contains(c)
                })
                .unwrap();
            given.insert(free.clone());
            names[k] = free;
            renamed += 1;
        }
        let added = new.len() as u64;
        self.tasks
            .extend(new.iter().zip(names).map(|(t, name)| (t.id.clone(), name)));
        (added, tasks.len() as u64 - added, renamed)
    }
}

#[test]
fn imports_over_many_batches_dedupe_and_settle_names_as_a_model_does() {
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    let mut model = Model::default();
    let per_import = BATCH_TASKS + 4_000;
    for i in 0..4 {
        // Ids repeat within the import (across batches too) and overlap
        // the earlier imports; names collide both ways, some given.
        let tasks: Vec<Task> = (0..per_import)
            .map(|n| {
                let id = format!("id-{}", n % 15_000 + i * 7_000);
                let name = format!("img{}.jpg", (n * 7) % 11_000 + i * 2_000);
                task(&id, &name, n % 13 == 0, n as u64 + 2)
            })
            .collect();
        let (added, duplicates, renamed) = model.import(&tasks);
        assert!(duplicates > 0 && renamed > 0, "{i}: {duplicates} {renamed}");
        let mut session = store.begin_import(new_import("d")).unwrap();
        for t in &tasks {
            session.add_task(t).unwrap();
        }
        let stored = session.flush().unwrap();
        assert_eq!(
            (stored.added, stored.duplicates),
            (added, duplicates),
            "{i}"
        );
        assert_eq!(
            session.resolve_names(NamePolicy::Suffix).unwrap(),
            renamed,
            "{i}"
        );
        session.commit(Default::default()).unwrap();
        assert_eq!(names(&store), model.tasks, "{i}");
    }
    assert_eq!(store.datasets().unwrap()[0].tasks, model.tasks.len() as u64);
}
