//! Name collisions within a dataset, settled over the name runs (see
//! [`super::runs`]).
//!
//! This import's name runs are merged into one in name order; the pass
//! finds the names held more than once, looking each up in the dataset's
//! runs from earlier imports as it goes, so memory holds only the colliding
//! tasks.
//!
//! Rules: tasks of earlier imports keep their names. Within this import the
//! colliding tasks are settled explicit names first, then derived ones, each
//! group in import order: a task keeps its name unless an earlier import or
//! an already settled task holds it, and otherwise becomes
//! `with_suffix(name, n)` with the smallest `n >= 1` that is free.

use std::collections::{HashMap, HashSet};

use fixedbitset::FixedBitSet;
use rusqlite::Connection;

use super::blocks;
use super::record::Origins;
use super::runs::{self, Entry, KeyLookup, Place, Run, RunKind, RunWriter};
use crate::records::names::with_suffix;
use crate::store::{NamePolicy, StoreError, StoreResult};

/// The names of one import, before they are settled.
pub(super) struct ImportNames<'a> {
    pub(super) dataset_id: i64,
    /// The dataset's name, for messages.
    pub(super) dataset: &'a str,
    /// The dataset's name runs from earlier imports.
    pub(super) earlier: &'a [Run],
    /// This import's name runs.
    pub(super) runs: &'a [Run],
    /// `seq` of this import's first task.
    pub(super) first_seq: i64,
    /// Tasks taken out as duplicates (bit `seq - first_seq`), whose names
    /// are left out.
    pub(super) repeated: &'a FixedBitSet,
}

/// What [`settle`] did.
pub(super) struct Settled {
    /// This import's names, as one run (none if it has no task).
    pub(super) run: Option<Run>,
    pub(super) renamed: u64,
}

/// A task of this import whose name another task holds.
struct Colliding {
    explicit_name: bool,
    seq: i64,
    name: String,
    /// A task of an earlier import holds the name.
    held_earlier: bool,
}

/// Makes this import's names one run and, with a `policy`, settles its
/// collisions by it.
pub(super) fn settle(
    conn: &Connection,
    names: &ImportNames<'_>,
    policy: Option<NamePolicy>,
) -> StoreResult<Settled> {
    let (run, colliding) = merge(conn, names, policy.is_some())?;
    if colliding.is_empty() {
        return Ok(Settled { run, renamed: 0 });
    }
    let run = run.expect("colliding tasks are in the run");
    match policy {
        Some(NamePolicy::Suffix) => rename(conn, names, run, colliding),
        _ => Err(collision_error(conn, names, &colliding)?),
    }
}

/// Merges this import's name runs into one, leaving out repeated tasks;
/// with `find_collisions`, also returns the colliding tasks.
fn merge(
    conn: &Connection,
    names: &ImportNames<'_>,
    find_collisions: bool,
) -> StoreResult<(Option<Run>, Vec<Colliding>)> {
    let is_repeated = |seq: i64| names.repeated.contains((seq - names.first_seq) as usize);
    let mut earlier = KeyLookup::new(conn, names.earlier)?;
    let mut group = Group::default();
    let mut colliding = Vec::new();
    let mut track = |entry: Option<Entry<'_>>| -> StoreResult<()> {
        if find_collisions && !group.holds(entry) {
            group.close(conn, &mut earlier, &mut colliding)?;
            group.open(entry);
        }
        if let Some(entry) = entry.filter(|_| find_collisions) {
            group.members.push((entry.seq, entry.flag));
        }
        Ok(())
    };
    let run = runs::merge_into_one(
        conn,
        names.dataset_id,
        RunKind::Names,
        names.runs,
        |entry| {
            if is_repeated(entry.seq) {
                return Ok(false);
            }
            track(Some(entry))?;
            Ok(true)
        },
    )?;
    track(None)?;
    Ok((run, colliding))
}

/// The tasks of this import holding one name, while the merge passes it.
#[derive(Default)]
struct Group {
    name: Vec<u8>,
    /// `(seq, explicit name)`.
    members: Vec<(i64, bool)>,
}

impl Group {
    fn holds(&self, entry: Option<Entry<'_>>) -> bool {
        entry.is_some_and(|entry| !self.members.is_empty() && entry.key == self.name)
    }

    fn open(&mut self, entry: Option<Entry<'_>>) {
        self.members.clear();
        self.name.clear();
        if let Some(entry) = entry {
            self.name.extend_from_slice(entry.key);
        }
    }

    /// Adds the group's tasks to `colliding` if another task holds their
    /// name.
    fn close(
        &self,
        conn: &Connection,
        earlier: &mut KeyLookup,
        colliding: &mut Vec<Colliding>,
    ) -> StoreResult<()> {
        if self.members.is_empty() {
            return Ok(());
        }
        let held_earlier = earlier.contains(conn, &self.name)?;
        if self.members.len() == 1 && !held_earlier {
            return Ok(());
        }
        let name = String::from_utf8(self.name.clone())
            .map_err(|_| StoreError::Database("a stored task name is not UTF-8".into()))?;
        colliding.extend(self.members.iter().map(|&(seq, explicit_name)| Colliding {
            explicit_name,
            seq,
            name: name.clone(),
            held_earlier,
        }));
        Ok(())
    }
}

/// Renames the colliding tasks, in the store and in `run`; returns the
/// import's name run after renaming.
fn rename(
    conn: &Connection,
    names: &ImportNames<'_>,
    run: Run,
    mut colliding: Vec<Colliding>,
) -> StoreResult<Settled> {
    colliding.sort_unstable_by_key(|task| (!task.explicit_name, task.seq));
    let mut earlier = KeyLookup::new(conn, names.earlier)?;
    let mut this_import = KeyLookup::new(conn, std::slice::from_ref(&run))?;
    // Names kept by settled tasks of this import.
    let mut kept: HashSet<String> = HashSet::new();
    // Names given by renaming.
    let mut given: HashSet<String> = HashSet::new();
    // Next suffix to try per name. Settling never frees a name (every
    // colliding name keeps one holder), so smaller suffixes stay taken.
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    // `(seq, new name, explicit name)` of the renamed tasks.
    let mut renamed = Vec::new();
    for task in colliding {
        if !task.held_earlier && !kept.contains(&task.name) {
            kept.insert(task.name);
            continue;
        }
        let mut n = next_suffix.get(&task.name).copied().unwrap_or(1);
        let new_name = loop {
            let candidate = with_suffix(&task.name, n);
            n += 1;
            let taken = given.contains(&candidate)
                || this_import.contains(conn, candidate.as_bytes())?
                || earlier.contains(conn, candidate.as_bytes())?;
            if !taken {
                break candidate;
            }
        };
        given.insert(new_name.clone());
        next_suffix.insert(task.name, n);
        renamed.push((task.seq, new_name, task.explicit_name));
    }
    renamed.sort_unstable_by_key(|&(seq, ..)| seq);
    let renames: Vec<(i64, String)> = renamed
        .iter()
        .map(|(seq, name, _)| (*seq, name.clone()))
        .collect();
    blocks::rename(conn, &renames)?;
    // The renamed tasks' entries, under their new names, replace the old.
    renamed.sort_unstable_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    let mut moved = RunWriter::create(conn, Place::Scratch, names.dataset_id, RunKind::Names)?;
    for (seq, name, explicit_name) in &renamed {
        moved.push(
            conn,
            Entry {
                key: name.as_bytes(),
                seq: *seq,
                flag: *explicit_name,
            },
        )?;
    }
    let moved = moved.finish(conn)?.expect("renamed tasks were written");
    let new_names: HashMap<i64, &str> = renames
        .iter()
        .map(|(seq, name)| (*seq, name.as_str()))
        .collect();
    let run = runs::merge_into_one(
        conn,
        names.dataset_id,
        RunKind::Names,
        &[run, moved],
        |entry| {
            Ok(new_names
                .get(&entry.seq)
                .is_none_or(|name| name.as_bytes() == entry.key))
        },
    )?;
    Ok(Settled {
        run,
        renamed: renames.len() as u64,
    })
}

/// The error for the first collision in import order: the task that held the
/// name first and the one that came again.
fn collision_error(
    conn: &Connection,
    names: &ImportNames<'_>,
    colliding: &[Colliding],
) -> StoreResult<StoreError> {
    let again = colliding
        .iter()
        .min_by_key(|task| task.seq)
        .expect("colliding tasks are not empty");
    let holder = if again.held_earlier {
        KeyLookup::new(conn, names.earlier)?
            .first_seq(conn, again.name.as_bytes())?
            .expect("an earlier import holds the name")
    } else {
        colliding
            .iter()
            .filter(|task| task.name == again.name && task.seq != again.seq)
            .map(|task| task.seq)
            .min()
            .expect("another task of this import holds the name")
    };
    Ok(StoreError::NameCollision {
        dataset: names.dataset.to_string(),
        name: again.name.clone(),
        first: location(conn, holder.min(again.seq))?,
        again: location(conn, holder.max(again.seq))?,
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
