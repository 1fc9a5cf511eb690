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
use std::ops::ControlFlow;

use rusqlite::{Connection, params};

use super::blocks::{self, BLOCKS_IN_RANGE};
use super::db_error;
use super::record::Origins;
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
    // `(explicit name, seq, name)` of the colliding tasks.
    let mut colliding: Vec<(bool, i64, String)> = if earlier_tasks {
        // Into a dataset with earlier tasks, a lookup per task of this import
        // keeps the work proportional to the import.
        let mut held = conn
            .prepare_cached(
                "SELECT 1 FROM task_names WHERE dataset_id = ?1 AND name = ?2 AND seq <> ?3",
            )
            .map_err(db_error)?;
        let mut stmt = conn.prepare(BLOCKS_IN_RANGE).map_err(db_error)?;
        let mut rows = stmt.query([first_seq, i64::MAX]).map_err(db_error)?;
        let mut colliding = Vec::new();
        blocks::for_each_task(&mut rows, |_, task| {
            if held
                .exists(params![dataset_id, task.name, task.seq])
                .map_err(db_error)?
            {
                colliding.push((task.explicit_name, task.seq, task.name.to_owned()));
            }
            StoreResult::Ok(ControlFlow::Continue(()))
        })?;
        colliding
    } else {
        // Into a new dataset, one ordered pass over its names finds the
        // repeated ones faster than a lookup per task.
        let mut stmt = conn
            .prepare(
                "SELECT explicit_name, seq, name FROM task_names
                 WHERE dataset_id = ?1 AND name IN (
                     SELECT name FROM task_names WHERE dataset_id = ?1
                     GROUP BY name HAVING count(*) > 1)",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([dataset_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)?
    };
    colliding.sort_unstable_by_key(|&(explicit_name, seq, _)| (!explicit_name, seq));
    Ok(colliding
        .into_iter()
        .map(|(_, seq, name)| (seq, name))
        .collect())
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
    // `(seq, new name)` of the renamed tasks.
    let mut renamed = Vec::new();
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
        update_index
            .execute(params![dataset_id, name, seq, new_name])
            .map_err(db_error)?;
        next_suffix.insert(name, n);
        renamed.push((seq, new_name));
    }
    renamed.sort_unstable_by_key(|&(seq, _)| seq);
    blocks::rename(conn, &renamed)?;
    Ok(renamed.len() as u64)
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
    let origin = blocks::read_task(conn, seq, |import_id, task| {
        Origins::new(conn).task(import_id, task)
    })?
    .origin;
    Ok(match (origin.line, origin.index) {
        (Some(line), _) => format!("{}:{line}", origin.source),
        (None, Some(index)) => format!("{}[{index}]", origin.source),
        (None, None) => origin.source,
    })
}
