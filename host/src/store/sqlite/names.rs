//! Name collisions within a dataset, settled over the name runs (see
//! [`super::runs`]).
//!
//! This import's name runs are merged into one in name order; the pass
//! finds the names held more than once, looking each up in the dataset's
//! runs from earlier imports as it goes, and writes the colliding tasks to a
//! scratch run. Renaming then reads that run a name at a time and keeps the
//! new names in a temporary table, so memory holds one name's tasks, however
//! many tasks are renamed.
//!
//! Rules: tasks of earlier imports keep their names. Within this import the
//! colliding tasks are settled explicit names first, then derived ones, each
//! group in import order: a task keeps its name unless an earlier import or
//! an already settled task holds it, and otherwise becomes
//! `with_suffix(name, n)` with the smallest `n >= 1` that is free.
//!
//! Each name is settled on its own: [`with_suffix`] never gives two names
//! the same suffixed name (the suffix is the digits after the last `_`
//! before the extension), settling never frees a name (every colliding name
//! keeps one holder), and a name's suffixes are tried in increasing order.

use fixedbitset::FixedBitSet;
use rusqlite::{Connection, params};

use super::blocks;
use super::db_error;
use super::record::Origins;
use super::runs::{self, Entry, KeyLookup, Place, Run, RunCursor, RunKind, RunWriter};
use crate::records::names::with_suffix;
use crate::store::{NamePolicy, StoreError, StoreResult};

/// Renamed tasks whose blocks are rewritten at a time.
pub(super) const RENAMES_PER_PASS: i64 = 50_000;

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

/// What the merge keeps of the tasks whose name another task holds.
enum Collisions {
    /// Nothing: names are not settled.
    Ignored,
    /// All of them, as a scratch run, to be renamed.
    ToRename(RunWriter),
    /// The first collision in import order, for the error.
    First(Option<Collision>),
}

/// A name held twice.
struct Collision {
    name: Vec<u8>,
    /// The task of this import or, if `None`, of an earlier import that
    /// holds the name first.
    holder: Option<i64>,
    /// The task of this import that holds it again.
    again: i64,
}

impl Collision {
    /// `seq` of this import's first task holding the name.
    fn first_in_import(&self) -> i64 {
        self.holder.unwrap_or(self.again)
    }
}

/// Makes this import's names one run and, with a `policy`, settles its
/// collisions by it.
pub(super) fn settle(
    conn: &Connection,
    names: &ImportNames<'_>,
    policy: Option<NamePolicy>,
) -> StoreResult<Settled> {
    let collisions = match policy {
        None => Collisions::Ignored,
        Some(NamePolicy::Suffix) => Collisions::ToRename(RunWriter::create(
            conn,
            Place::Scratch,
            names.dataset_id,
            RunKind::Names,
        )?),
        Some(NamePolicy::Error) => Collisions::First(None),
    };
    let (run, collisions) = merge(conn, names, collisions)?;
    let unchanged = Settled { run, renamed: 0 };
    match collisions {
        Collisions::Ignored | Collisions::First(None) => Ok(unchanged),
        Collisions::First(Some(first)) => Err(collision_error(conn, names, first)?),
        Collisions::ToRename(colliding) => match (colliding.finish(conn)?, run) {
            (Some(colliding), Some(run)) => rename(conn, names, run, colliding),
            _ => Ok(unchanged),
        },
    }
}

/// Merges this import's name runs into one, leaving out repeated tasks,
/// and passes each name held more than once to `collisions`.
fn merge(
    conn: &Connection,
    names: &ImportNames<'_>,
    mut collisions: Collisions,
) -> StoreResult<(Option<Run>, Collisions)> {
    let is_repeated = |seq: i64| names.repeated.contains((seq - names.first_seq) as usize);
    let find_collisions = !matches!(collisions, Collisions::Ignored);
    let mut earlier = KeyLookup::new(conn, names.earlier)?;
    let mut group = Group::default();
    let mut track = |entry: Option<Entry<'_>>| -> StoreResult<()> {
        if !find_collisions {
            return Ok(());
        }
        if !group.holds(entry) {
            group.close(conn, &mut earlier, &mut collisions)?;
            group.open(entry);
        }
        if let Some(entry) = entry {
            group.members.push((entry.seq, entry.flag));
        }
        Ok(())
    };
    let run = runs::merge_into_one(
        conn,
        names.dataset_id,
        RunKind::Names,
        names.runs,
        |_, entry| {
            if is_repeated(entry.seq) {
                return Ok(false);
            }
            track(Some(entry))?;
            Ok(true)
        },
    )?;
    track(None)?;
    Ok((run, collisions))
}

/// The tasks of this import holding one name, while the merge passes it.
#[derive(Default)]
struct Group {
    name: Vec<u8>,
    /// `(seq, explicit name)`, in `seq` order.
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

    /// Passes the group's tasks to `collisions` if another task holds
    /// their name.
    fn close(
        &self,
        conn: &Connection,
        earlier: &mut KeyLookup,
        collisions: &mut Collisions,
    ) -> StoreResult<()> {
        let [(first, _), rest @ ..] = &self.members[..] else {
            return Ok(());
        };
        let held_earlier = earlier.contains(conn, &self.name)?;
        if rest.is_empty() && !held_earlier {
            return Ok(());
        }
        match collisions {
            Collisions::Ignored => {}
            Collisions::ToRename(colliding) => {
                for &(seq, flag) in &self.members {
                    let key = &self.name;
                    colliding.push(conn, Entry { key, seq, flag })?;
                }
            }
            Collisions::First(found) => {
                if found
                    .as_ref()
                    .is_none_or(|found| *first < found.first_in_import())
                {
                    *found = Some(match rest.first() {
                        Some(&(again, _)) if !held_earlier => Collision {
                            name: self.name.clone(),
                            holder: Some(*first),
                            again,
                        },
                        _ => Collision {
                            name: self.name.clone(),
                            holder: None,
                            again: *first,
                        },
                    });
                }
            }
        }
        Ok(())
    }
}

/// Renames the `colliding` tasks (a scratch run, by name), in the store
/// and in `run`; returns the import's name run after renaming.
fn rename(
    conn: &Connection,
    names: &ImportNames<'_>,
    run: Run,
    colliding: Run,
) -> StoreResult<Settled> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS renamed_tasks (
            seq INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            explicit_name INTEGER NOT NULL
        );
        DELETE FROM temp.renamed_tasks;",
    )
    .map_err(db_error)?;
    let mut renamer = Renamer {
        held_earlier: KeyLookup::new(conn, names.earlier)?,
        earlier: KeyLookup::new(conn, names.earlier)?,
        this_import: KeyLookup::new(conn, std::slice::from_ref(&run))?,
        first_seq: names.first_seq,
        renamed: FixedBitSet::new(),
        count: 0,
    };
    let mut cursor = RunCursor::open(conn, colliding)?;
    let mut name = Vec::new();
    let mut members = Vec::new();
    while let Some(first) = cursor.current() {
        name.clear();
        name.extend_from_slice(first.key);
        members.clear();
        while let Some(entry) = cursor.current().filter(|entry| entry.key == name) {
            members.push((entry.seq, entry.flag));
            cursor.advance(conn)?;
        }
        let text = std::str::from_utf8(&name)
            .map_err(|_| StoreError::Database("a stored task name is not UTF-8".into()))?;
        renamer.settle(conn, text, &mut members)?;
    }
    runs::delete(conn, colliding)?;
    rename_in_blocks(conn)?;
    let moved = renamed_run(conn, names.dataset_id)?;
    // The renamed tasks' entries in `run` are left out for theirs in `moved`.
    let run = runs::merge_into_one(
        conn,
        names.dataset_id,
        RunKind::Names,
        &[run, moved],
        |from, entry| Ok(from == 1 || !renamer.is_renamed(entry.seq)),
    )?;
    conn.execute_batch("DELETE FROM temp.renamed_tasks")
        .map_err(db_error)?;
    Ok(Settled {
        run,
        renamed: renamer.count,
    })
}

/// Gives colliding tasks new names, one name at a time, into
/// `temp.renamed_tasks`.
struct Renamer {
    /// Looks up the colliding names, which come in order (a lookup of its
    /// own keeps it reading each chunk once).
    held_earlier: KeyLookup,
    /// Looks up suffixed names.
    earlier: KeyLookup,
    this_import: KeyLookup,
    first_seq: i64,
    /// Renamed tasks, bit `seq - first_seq`.
    renamed: FixedBitSet,
    count: u64,
}

impl Renamer {
    /// Settles the tasks of this import holding `name`: `members` are
    /// `(seq, explicit name)`.
    fn settle(
        &mut self,
        conn: &Connection,
        name: &str,
        members: &mut [(i64, bool)],
    ) -> StoreResult<()> {
        members.sort_unstable_by_key(|&(seq, explicit_name)| (!explicit_name, seq));
        let keeper = usize::from(!self.held_earlier.contains(conn, name.as_bytes())?);
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO temp.renamed_tasks (seq, name, explicit_name) VALUES (?1, ?2, ?3)",
            )
            .map_err(db_error)?;
        let mut n = 1;
        for &(seq, explicit_name) in &members[keeper..] {
            let new_name = loop {
                let candidate = with_suffix(name, n);
                n += 1;
                let taken = self.this_import.contains(conn, candidate.as_bytes())?
                    || self.earlier.contains(conn, candidate.as_bytes())?;
                if !taken {
                    break candidate;
                }
            };
            insert
                .execute(params![seq, new_name, explicit_name])
                .map_err(db_error)?;
            self.renamed
                .grow_and_insert((seq - self.first_seq) as usize);
            self.count += 1;
        }
        Ok(())
    }

    fn is_renamed(&self, seq: i64) -> bool {
        self.renamed.contains((seq - self.first_seq) as usize)
    }
}

/// Writes the new names of `temp.renamed_tasks` into the task blocks, a
/// slice of tasks at a time.
fn rename_in_blocks(conn: &Connection) -> StoreResult<()> {
    let mut select = conn
        .prepare_cached(
            "SELECT seq, name FROM temp.renamed_tasks WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(db_error)?;
    let mut after = i64::MIN;
    loop {
        let renames = select
            .query_map([after, RENAMES_PER_PASS], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(db_error)?;
        let Some(&(last, _)) = renames.last() else {
            return Ok(());
        };
        blocks::rename(conn, &renames)?;
        after = last;
    }
}

/// The entries of `temp.renamed_tasks` under their new names, as a
/// scratch run (SQLite sorts them, spilling to disk if need be).
fn renamed_run(conn: &Connection, dataset_id: i64) -> StoreResult<Run> {
    let mut select = conn
        .prepare(
            "SELECT name, seq, explicit_name FROM temp.renamed_tasks
             ORDER BY name, seq",
        )
        .map_err(db_error)?;
    let mut rows = select.query([]).map_err(db_error)?;
    let mut moved = RunWriter::create(conn, Place::Scratch, dataset_id, RunKind::Names)?;
    while let Some(row) = rows.next().map_err(db_error)? {
        let key = row
            .get_ref(0)
            .and_then(|value| Ok(value.as_str()?))
            .map_err(db_error)?
            .as_bytes();
        let seq = row.get(1).map_err(db_error)?;
        let flag = row.get(2).map_err(db_error)?;
        moved.push(conn, Entry { key, seq, flag })?;
    }
    moved
        .finish(conn)?
        .ok_or_else(|| StoreError::Database("renamed tasks were not written".into()))
}

/// The error for `first`: the task that held the name first and the one
/// that came again.
fn collision_error(
    conn: &Connection,
    names: &ImportNames<'_>,
    first: Collision,
) -> StoreResult<StoreError> {
    let holder = match first.holder {
        Some(holder) => holder,
        None => KeyLookup::new(conn, names.earlier)?
            .first_seq(conn, &first.name)?
            .ok_or_else(|| StoreError::Database("a task name's holder is not found".into()))?,
    };
    Ok(StoreError::NameCollision {
        dataset: names.dataset.to_string(),
        name: String::from_utf8_lossy(&first.name).into_owned(),
        first: location(conn, holder)?,
        again: location(conn, first.again)?,
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
