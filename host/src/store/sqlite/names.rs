//! Name collisions within a dataset, settled in SQL.
//!
//! Only the rows of this import whose name is held by another task of the
//! dataset are loaded; every other check goes through `task_names`, keyed by
//! `(dataset_id, name, seq)`, so memory does not grow with the dataset.
//!
//! Rules: tasks of earlier imports keep their names. Within this import the
//! colliding tasks are settled explicit names first, then derived ones, each
//! group in import order: a task keeps its name unless an earlier import or
//! an already settled task holds it, and otherwise becomes
//! `with_suffix(name, n)` with the smallest `n >= 1` that is free.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, params};

use super::db_error;
use super::record::{Origins, TASK_COLUMNS};
use crate::records::names::with_suffix;
use crate::store::{NamePolicy, StoreError, StoreResult};

/// Settles collisions of the tasks with `seq >= first_seq` (this import);
/// returns how many were renamed.
pub(super) fn resolve(
    conn: &Connection,
    dataset_id: i64,
    dataset: &str,
    first_seq: i64,
    policy: NamePolicy,
) -> StoreResult<u64> {
    let colliding = colliding_rows(conn, dataset_id, dataset, first_seq)?;
    if colliding.is_empty() {
        return Ok(0);
    }
    match policy {
        NamePolicy::Error => Err(collision_error(conn, dataset_id, dataset, &colliding)?),
        NamePolicy::Suffix => rename(conn, dataset_id, first_seq, colliding),
    }
}

/// `(seq, name)` of this import's tasks whose name another task holds, in
/// settling order: explicit names first, then by seq.
fn colliding_rows(
    conn: &Connection,
    dataset_id: i64,
    dataset: &str,
    first_seq: i64,
) -> StoreResult<Vec<(i64, String)>> {
    let earlier_tasks = conn
        .prepare_cached(
            "SELECT 1 FROM imports
             WHERE dataset = ?1 AND status = 'completed' AND first_seq IS NOT NULL LIMIT 1",
        )
        .map_err(db_error)?
        .exists([dataset])
        .map_err(db_error)?;
    // Into a new dataset, one ordered pass over its names finds the repeated
    // ones faster than a lookup per task; into a dataset with earlier tasks,
    // the lookups keep the work proportional to the import.
    let sql = if earlier_tasks {
        "SELECT t.seq, t.name FROM tasks t
         WHERE t.seq >= ?1 AND EXISTS (
             SELECT 1 FROM task_names o
             WHERE o.dataset_id = ?2 AND o.name = t.name AND o.seq <> t.seq)
         ORDER BY t.explicit_name DESC, t.seq"
    } else {
        "SELECT t.seq, t.name FROM tasks t
         WHERE t.seq IN (
             SELECT n.seq FROM task_names n
             WHERE n.dataset_id = ?2 AND n.name IN (
                 SELECT name FROM task_names WHERE dataset_id = ?2
                 GROUP BY name HAVING count(*) > 1))
         AND t.seq >= ?1
         ORDER BY t.explicit_name DESC, t.seq"
    };
    let mut stmt = conn.prepare(sql).map_err(db_error)?;
    let rows = stmt
        .query_map(params![first_seq, dataset_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(db_error)?;
    rows.collect::<Result<_, _>>().map_err(db_error)
}

fn rename(
    conn: &Connection,
    dataset_id: i64,
    first_seq: i64,
    colliding: Vec<(i64, String)>,
) -> StoreResult<u64> {
    let mut held_earlier = conn
        .prepare_cached(
            "SELECT 1 FROM task_names WHERE dataset_id = ?1 AND name = ?2 AND seq < ?3 LIMIT 1",
        )
        .map_err(db_error)?;
    let mut taken = conn
        .prepare_cached("SELECT 1 FROM task_names WHERE dataset_id = ?1 AND name = ?2 LIMIT 1")
        .map_err(db_error)?;
    let mut update = conn
        .prepare_cached("UPDATE tasks SET name = ?2 WHERE seq = ?1")
        .map_err(db_error)?;
    let mut update_index = conn
        .prepare_cached(
            "UPDATE task_names SET name = ?4 WHERE dataset_id = ?1 AND name = ?2 AND seq = ?3",
        )
        .map_err(db_error)?;
    // Names kept by settled tasks of this import.
    let mut kept: HashSet<String> = HashSet::new();
    // Next suffix to try per name. Settling never frees a name (every
    // colliding name keeps one holder), so smaller suffixes stay taken.
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    let mut renamed = 0;
    for (seq, name) in colliding {
        if !kept.contains(&name)
            && !held_earlier
                .exists(params![dataset_id, name, first_seq])
                .map_err(db_error)?
        {
            kept.insert(name);
            continue;
        }
        let mut n = next_suffix.get(&name).copied().unwrap_or(1);
        let new_name = loop {
            let candidate = with_suffix(&name, n);
            n += 1;
            if !taken
                .exists(params![dataset_id, candidate])
                .map_err(db_error)?
            {
                break candidate;
            }
        };
        update.execute(params![seq, new_name]).map_err(db_error)?;
        update_index
            .execute(params![dataset_id, name, seq, new_name])
            .map_err(db_error)?;
        next_suffix.insert(name, n);
        renamed += 1;
    }
    Ok(renamed)
}

/// The error for the first collision in import order: the task that held the
/// name first and the one that came again.
fn collision_error(
    conn: &Connection,
    dataset_id: i64,
    dataset: &str,
    colliding: &[(i64, String)],
) -> StoreResult<StoreError> {
    let (seq, name) = colliding
        .iter()
        .min_by_key(|(seq, _)| *seq)
        .expect("colliding rows are not empty");
    let holder: i64 = conn
        .query_row(
            "SELECT min(seq) FROM task_names WHERE dataset_id = ?1 AND name = ?2 AND seq <> ?3",
            params![dataset_id, name, seq],
            |row| row.get(0),
        )
        .map_err(db_error)?;
    Ok(StoreError::NameCollision {
        dataset: dataset.to_string(),
        name: name.clone(),
        first: location(conn, holder.min(*seq))?,
        again: location(conn, holder.max(*seq))?,
    })
}

/// `source:line` (or `source[index]`) of a stored task.
fn location(conn: &Connection, seq: i64) -> StoreResult<String> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.seq = ?1"
        ))
        .map_err(db_error)?;
    let mut rows = stmt.query([seq]).map_err(db_error)?;
    let row = rows
        .next()
        .map_err(db_error)?
        .ok_or_else(|| StoreError::Database(format!("task {seq} is unreadable")))?;
    let origin = Origins::new(conn).task(row)?.origin;
    Ok(match (origin.line, origin.index) {
        (Some(line), _) => format!("{}:{line}", origin.source),
        (None, Some(index)) => format!("{}[{index}]", origin.source),
        (None, None) => origin.source,
    })
}
