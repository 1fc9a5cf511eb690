//! Sorted runs: how a dataset's task ids (for deduplication) and task names
//! (for name collisions) are indexed.
//!
//! A run is a list of entries `(key, seq, flag)` sorted by `(key, seq)`,
//! kept in chunks of up to [`CHUNK_BYTES`], one `key_chunks` row each,
//! found by their first entry. Writing a run appends, a row per chunk,
//! where an SQL index costs a B-tree insert per task (measured: the largest
//! share of an import's CPU, when ids and names were indexed so). A dataset
//! holds a few runs of each [`RunKind`]: every import adds one, and
//! [`compact`] merges the newest two while the older is at most twice the
//! size of the newer, so a dataset of `n` tasks has `O(log n)` runs and
//! each entry is rewritten `O(log n)` times.
//!
//! An entry's bytes: the key's length (a little-endian `u32`), the key,
//! `seq` (a little-endian `i64`) and the flag (one byte).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;

use rusqlite::{Connection, params};

use super::db_error;
use crate::store::{StoreError, StoreResult};

mod lookup;

pub(super) use lookup::KeyLookup;

/// Most bytes of a chunk's entries and first key together: with the row's
/// other columns (under 40 bytes) a chunk row stays within the 4,061 bytes a
/// 4 KiB page keeps in place, so it fills one page and needs no overflow page
/// (only a chunk of one entry longer than that does).
const CHUNK_BYTES: usize = 4000;

/// What a run indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RunKind {
    /// Keys are task ids (see [`super::record::StoredId::key`]); the flag
    /// is unused. A dataset's id runs hold each id once.
    Ids = 0,
    /// Keys are task names; the flag says the plugin gave the name.
    Names = 1,
}

/// One entry of a run, ordered by key, then `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry<'a> {
    pub(super) key: &'a [u8],
    pub(super) seq: i64,
    pub(super) flag: bool,
}

/// Where a run is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// The store: a dataset's index.
    Store,
    /// The connection's temporary database (see [`create_scratch`]): an
    /// import's runs until they are merged, neither logged nor synced.
    Scratch,
}

impl Place {
    /// `template` with `{schema}` naming the database of this place.
    fn sql(self, template: &str) -> String {
        template.replace(
            "{schema}",
            match self {
                Place::Store => "main",
                Place::Scratch => "temp",
            },
        )
    }
}

/// Creates the tables of [`Place::Scratch`] on `conn`, if not there yet.
pub(super) fn create_scratch(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS key_runs (
            id INTEGER PRIMARY KEY,
            dataset_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            entries INTEGER NOT NULL
        );
        CREATE TEMP TABLE IF NOT EXISTS key_chunks (
            run_id INTEGER NOT NULL,
            first_key BLOB NOT NULL,
            first_seq INTEGER NOT NULL,
            entries BLOB NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS temp.key_chunks_start
            ON key_chunks (run_id, first_key, first_seq);",
    )
    .map_err(db_error)
}

/// A stored run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) id: i64,
    pub(super) entries: i64,
    pub(super) place: Place,
}

/// The runs of `kind` of a dataset, oldest first.
pub(super) fn runs_of(conn: &Connection, dataset_id: i64, kind: RunKind) -> StoreResult<Vec<Run>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, entries FROM main.key_runs WHERE dataset_id = ?1 AND kind = ?2 ORDER BY id",
        )
        .map_err(db_error)?;
    let runs = stmt
        .query_map(params![dataset_id, kind as i64], |row| {
            Ok(Run {
                id: row.get(0)?,
                entries: row.get(1)?,
                place: Place::Store,
            })
        })
        .map_err(db_error)?;
    runs.collect::<Result<_, _>>().map_err(db_error)
}

/// Deletes `run` and its chunks.
pub(super) fn delete(conn: &Connection, run: Run) -> StoreResult<()> {
    let place = run.place;
    conn.prepare_cached(&place.sql("DELETE FROM {schema}.key_chunks WHERE run_id = ?1"))
        .and_then(|mut stmt| stmt.execute([run.id]))
        .and_then(|_| {
            conn.prepare_cached(&place.sql("DELETE FROM {schema}.key_runs WHERE id = ?1"))
        })
        .and_then(|mut stmt| stmt.execute([run.id]))
        .map_err(db_error)?;
    Ok(())
}

/// A run being written, entries in order.
pub(super) struct RunWriter {
    run: Run,
    chunk: Vec<u8>,
    /// Key and seq of the chunk's first entry.
    first_key: Vec<u8>,
    first_seq: i64,
}

impl RunWriter {
    /// Starts a new, empty run of `kind` in the dataset, kept in `place`.
    pub(super) fn create(
        conn: &Connection,
        place: Place,
        dataset_id: i64,
        kind: RunKind,
    ) -> StoreResult<Self> {
        conn.prepare_cached(
            &place.sql(
                "INSERT INTO {schema}.key_runs (dataset_id, kind, entries) VALUES (?1, ?2, 0)",
            ),
        )
        .and_then(|mut stmt| stmt.execute(params![dataset_id, kind as i64]))
        .map_err(db_error)?;
        Ok(RunWriter {
            run: Run {
                id: conn.last_insert_rowid(),
                entries: 0,
                place,
            },
            chunk: Vec::new(),
            first_key: Vec::new(),
            first_seq: 0,
        })
    }

    /// Appends `entry`, which must not sort before the last one appended.
    pub(super) fn push(&mut self, conn: &Connection, entry: Entry<'_>) -> StoreResult<()> {
        let entry_bytes = 4 + entry.key.len() + 9;
        if !self.chunk.is_empty()
            && self.chunk.len() + entry_bytes + self.first_key.len() > CHUNK_BYTES
        {
            self.write_chunk(conn)?;
        }
        if self.chunk.is_empty() {
            self.first_key.clear();
            self.first_key.extend_from_slice(entry.key);
            self.first_seq = entry.seq;
        }
        let len = u32::try_from(entry.key.len())
            .map_err(|_| StoreError::Database("a task id or name is too long to index".into()))?;
        self.chunk.extend_from_slice(&len.to_le_bytes());
        self.chunk.extend_from_slice(entry.key);
        self.chunk.extend_from_slice(&entry.seq.to_le_bytes());
        self.chunk.push(u8::from(entry.flag));
        self.run.entries += 1;
        Ok(())
    }

    fn write_chunk(&mut self, conn: &Connection) -> StoreResult<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        conn.prepare_cached(&self.run.place.sql(
            "INSERT INTO {schema}.key_chunks (run_id, first_key, first_seq, entries)
             VALUES (?1, ?2, ?3, ?4)",
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                self.run.id,
                self.first_key,
                self.first_seq,
                self.chunk
            ])
        })
        .map_err(db_error)?;
        self.chunk.clear();
        Ok(())
    }

    /// Writes what is left and records the run's size; an empty run is
    /// deleted instead.
    pub(super) fn finish(mut self, conn: &Connection) -> StoreResult<Option<Run>> {
        if self.run.entries == 0 {
            delete(conn, self.run)?;
            return Ok(None);
        }
        self.write_chunk(conn)?;
        conn.prepare_cached(
            &self
                .run
                .place
                .sql("UPDATE {schema}.key_runs SET entries = ?2 WHERE id = ?1"),
        )
        .and_then(|mut stmt| stmt.execute([self.run.id, self.run.entries]))
        .map_err(db_error)?;
        Ok(Some(self.run))
    }
}

/// One chunk as read, with where each of its entries starts.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

impl Chunk {
    /// Replaces the chunk with `bytes`, checking its entries.
    fn load(&mut self, bytes: &[u8]) -> StoreResult<()> {
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        self.starts.clear();
        let mut at = 0;
        while at < bytes.len() {
            self.starts.push(at);
            let len = bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                .ok_or_else(unreadable)?;
            at += 4 + len + 9;
        }
        if at != bytes.len() || self.starts.is_empty() {
            return Err(unreadable());
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn entry(&self, k: usize) -> Entry<'_> {
        let at = self.starts[k];
        let len = u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let key = &self.bytes[at + 4..at + 4 + len];
        let seq_at = at + 4 + len;
        Entry {
            key,
            seq: i64::from_le_bytes(self.bytes[seq_at..seq_at + 8].try_into().expect("8 bytes")),
            flag: self.bytes[seq_at + 8] != 0,
        }
    }

    /// Position of the first entry not sorting before `(key, seq)`.
    fn position(&self, key: &[u8], seq: i64) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            let entry = self.entry(mid);
            if (entry.key, entry.seq) < (key, seq) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

/// Reads a run's entries in order, from any position.
pub(super) struct RunCursor {
    run: Run,
    chunk: Chunk,
    /// Position in `chunk`; past its end once the run is read.
    at: usize,
}

impl RunCursor {
    /// A cursor on the first entry of `run`.
    pub(super) fn open(conn: &Connection, run: Run) -> StoreResult<Self> {
        let mut cursor = RunCursor {
            run,
            chunk: Chunk::default(),
            at: 0,
        };
        // Every chunk starts after `(empty key, i64::MIN)`: `seq`s are positive.
        cursor.load(conn, NEXT_CHUNK, &[], i64::MIN)?;
        Ok(cursor)
    }

    /// Loads the chunk `sql` selects for `(key, seq)`; `false` if none.
    fn load(&mut self, conn: &Connection, sql: &str, key: &[u8], seq: i64) -> StoreResult<bool> {
        let mut stmt = conn
            .prepare_cached(&self.run.place.sql(sql))
            .map_err(db_error)?;
        let mut rows = stmt
            .query(params![self.run.id, key, seq])
            .map_err(db_error)?;
        match rows.next().map_err(db_error)? {
            Some(row) => {
                let bytes = row
                    .get_ref(0)
                    .and_then(|value| Ok(value.as_blob()?))
                    .map_err(db_error)?;
                self.chunk.load(bytes)?;
                self.at = 0;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Moves to the chunk after the current one, or past the end.
    fn next_chunk(&mut self, conn: &Connection) -> StoreResult<()> {
        if self.chunk.len() == 0 {
            return Ok(());
        }
        let first = self.chunk.entry(0);
        let (key, seq) = (first.key.to_vec(), first.seq);
        if !self.load(conn, NEXT_CHUNK, &key, seq)? {
            self.at = self.chunk.len();
        }
        Ok(())
    }

    /// The entry under the cursor; `None` past the end of the run.
    pub(super) fn current(&self) -> Option<Entry<'_>> {
        (self.at < self.chunk.len()).then(|| self.chunk.entry(self.at))
    }

    /// Moves to the next entry.
    pub(super) fn advance(&mut self, conn: &Connection) -> StoreResult<()> {
        if self.at >= self.chunk.len() {
            return Ok(());
        }
        self.at += 1;
        if self.at == self.chunk.len() {
            self.next_chunk(conn)?;
        }
        Ok(())
    }
}

/// Selects the chunk after the one starting at `(?2, ?3)`.
const NEXT_CHUNK: &str = "SELECT entries FROM {schema}.key_chunks
     WHERE run_id = ?1 AND (first_key, first_seq) > (?2, ?3)
     ORDER BY first_key, first_seq LIMIT 1";

/// The entries of several runs in one order.
pub(super) struct Merge {
    cursors: Vec<RunCursor>,
    heap: BinaryHeap<Reverse<Head>>,
    /// The top of `heap` has been returned; its cursor moves on at the next
    /// call.
    returned: bool,
}

/// The current entry of one cursor, copied.
struct Head {
    /// The key's first 16 bytes (zero-padded) as a big-endian number: it
    /// orders most keys without comparing them byte by byte.
    prefix: u128,
    key: Vec<u8>,
    seq: i64,
    flag: bool,
    cursor: usize,
}

impl Head {
    fn set(&mut self, entry: Entry<'_>) {
        let mut prefix = [0; 16];
        let len = entry.key.len().min(16);
        prefix[..len].copy_from_slice(&entry.key[..len]);
        self.prefix = u128::from_be_bytes(prefix);
        self.key.clear();
        self.key.extend_from_slice(entry.key);
        self.seq = entry.seq;
        self.flag = entry.flag;
    }
}

// Ordered as the entries are, ties (never within one run) by cursor.
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.key.cmp(&other.key))
            .then(self.seq.cmp(&other.seq))
            .then(self.cursor.cmp(&other.cursor))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head {}

impl Merge {
    /// Merges `runs`.
    pub(super) fn open(conn: &Connection, runs: &[Run]) -> StoreResult<Self> {
        let mut merge = Merge {
            cursors: Vec::with_capacity(runs.len()),
            heap: BinaryHeap::with_capacity(runs.len()),
            returned: false,
        };
        for run in runs {
            let cursor = RunCursor::open(conn, *run)?;
            let index = merge.cursors.len();
            if let Some(entry) = cursor.current() {
                let mut head = Head {
                    prefix: 0,
                    key: Vec::new(),
                    seq: 0,
                    flag: false,
                    cursor: index,
                };
                head.set(entry);
                merge.heap.push(Reverse(head));
            }
            merge.cursors.push(cursor);
        }
        Ok(merge)
    }

    /// The next entry of all the runs with the index of its run in the
    /// runs merged; `None` after the last.
    pub(super) fn next(&mut self, conn: &Connection) -> StoreResult<Option<(usize, Entry<'_>)>> {
        // The entry returned last is at the top: its cursor moves on, and
        // the top sinks to its place (one sift instead of a pop and a push).
        if self.returned
            && let Some(mut top) = self.heap.peek_mut()
        {
            let cursor = &mut self.cursors[top.0.cursor];
            cursor.advance(conn)?;
            match cursor.current() {
                Some(entry) => top.0.set(entry),
                None => drop(PeekMut::pop(top)),
            }
        }
        self.returned = true;
        Ok(self.heap.peek().map(|Reverse(head)| {
            let entry = Entry {
                key: &head.key,
                seq: head.seq,
                flag: head.flag,
            };
            (head.cursor, entry)
        }))
    }
}

/// Writes the entries of `runs` that `keep` keeps as one new run of `kind`
/// in the dataset's index (none if it keeps none), then deletes `runs`.
/// `keep` is given each entry with the index of its run in `runs`.
pub(super) fn merge_into_one(
    conn: &Connection,
    dataset_id: i64,
    kind: RunKind,
    runs: &[Run],
    mut keep: impl FnMut(usize, Entry<'_>) -> StoreResult<bool>,
) -> StoreResult<Option<Run>> {
    let mut merge = Merge::open(conn, runs)?;
    let mut writer = RunWriter::create(conn, Place::Store, dataset_id, kind)?;
    while let Some((run, entry)) = merge.next(conn)? {
        if keep(run, entry)? {
            writer.push(conn, entry)?;
        }
    }
    let merged = writer.finish(conn)?;
    for &run in runs {
        delete(conn, run)?;
    }
    Ok(merged)
}

/// Merges the dataset's newest runs of `kind` while the older of the two is
/// at most twice the size of the newer.
pub(super) fn compact(conn: &Connection, dataset_id: i64, kind: RunKind) -> StoreResult<()> {
    let mut runs = runs_of(conn, dataset_id, kind)?;
    while let [.., older, newer] = runs[..] {
        if older.entries > 2 * newer.entries {
            break;
        }
        let merged = merge_into_one(conn, dataset_id, kind, &[older, newer], |_, _| Ok(true))?;
        runs.truncate(runs.len() - 2);
        runs.extend(merged);
    }
    Ok(())
}

fn unreadable() -> StoreError {
    StoreError::Database("a stored index chunk is unreadable".into())
}

#[cfg(test)]
mod tests;
