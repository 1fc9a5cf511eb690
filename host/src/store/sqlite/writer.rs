//! The background writer: an import's tasks are inserted on their own
//! thread while the importing thread validates the next ones.
//!
//! Tasks arrive encoded, in batches. A batch's tasks are put in id order;
//! a task whose id comes again in the batch, or is in the dataset's id
//! index from earlier imports, is a duplicate. The new tasks are appended
//! to `task_blocks` in import order, many to a row (see [`super::blocks`]),
//! and each batch writes a run of their ids and a run of their names (see
//! [`super::runs`]). An id repeated across batches of one import is found
//! when the import's id runs are merged, after the last batch (see
//! [`super::session`]).
//!
//! Every task of a batch is given `seq = batch's first seq + its position`,
//! so a duplicate leaves a gap in the import's `seq` range; the range stays
//! in import order, which is all that listing needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::blocks::{BlockBuilder, BlockTask};
use super::db_error;
use super::record::{self, ImportOrigin, StoredId};
use super::runs::{Entry, KeyLookup, Place, Run, RunKind, RunWriter};
use crate::records::Task;
use crate::store::{StoreError, StoreResult, StoredCounts};

/// Most tasks per batch handed to the writer: enough for its per-batch work
/// to be small, few enough to keep memory flat.
pub(super) const BATCH_TASKS: usize = 16_384;

/// Most encoded bytes per batch (a batch may pass it by one task): with at
/// most three batches alive at once (one filling, one queued, one being
/// written), large tasks still keep memory flat.
pub(super) const BATCH_BYTES: usize = 8 << 20;

/// Tasks encoded for their rows, in import order.
#[derive(Default)]
pub(super) struct TaskBatch {
    ids: Vec<StoredId>,
    explicit_names: Vec<bool>,
    /// Every name back to back; the k-th ends at `name_ends[k]`.
    names: String,
    name_ends: Vec<usize>,
    /// Every `record` column back to back; the k-th ends at `record_ends[k]`.
    records: Vec<u8>,
    record_ends: Vec<usize>,
}

impl TaskBatch {
    /// Encodes `task`, imported with `origin`, at the end of the batch.
    pub(super) fn push(&mut self, task: &Task, origin: &ImportOrigin) -> StoreResult<()> {
        record::encode(task, origin, &mut self.records)?;
        self.record_ends.push(self.records.len());
        self.ids.push(StoredId::new(&task.id));
        self.explicit_names.push(task.explicit_name);
        self.names.push_str(&task.name);
        self.name_ends.push(self.names.len());
        Ok(())
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch should be handed over now.
    pub(super) fn is_full(&self) -> bool {
        self.len() >= BATCH_TASKS || self.records.len() + self.names.len() >= BATCH_BYTES
    }

    fn name(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.name_ends[k - 1] };
        &self.names[start..self.name_ends[k]]
    }

    fn record(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.record_ends[k - 1] };
        &self.records[start..self.record_ends[k]]
    }
}

/// Where an import's tasks go.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    pub(super) dataset_id: i64,
    pub(super) import_id: i64,
}

/// What has been written so far.
#[derive(Debug, Clone)]
pub(super) struct Written {
    pub(super) counts: StoredCounts,
    /// `seq` for the next task given.
    pub(super) next_seq: i64,
    /// `seq` of the last task stored.
    pub(super) last_seq: Option<i64>,
    /// The runs of ids and of names written by this import, oldest first.
    pub(super) id_runs: Vec<Run>,
    pub(super) name_runs: Vec<Run>,
}

impl Written {
    /// Nothing written yet; the first task gets `first_seq`.
    pub(super) fn starting_at(first_seq: i64) -> Self {
        Written {
            counts: StoredCounts::default(),
            next_seq: first_seq,
            last_seq: None,
            id_runs: Vec::new(),
            name_runs: Vec::new(),
        }
    }
}

/// Counts the writer publishes as it goes, for progress reports.
#[derive(Default)]
struct Published {
    added: AtomicU64,
    duplicates: AtomicU64,
}

/// A running writer thread holding the import's connection.
pub(super) struct Writer {
    batches: SyncSender<TaskBatch>,
    published: Arc<Published>,
    thread: JoinHandle<(Connection, StoreResult<Written>)>,
}

impl Writer {
    /// Starts writing through `conn`, whose transaction is open, continuing
    /// from `written`; `earlier_ids` are the dataset's id runs from earlier
    /// imports.
    pub(super) fn start(
        conn: Connection,
        target: Target,
        written: Written,
        earlier_ids: &[Run],
    ) -> StoreResult<Self> {
        // One batch queued while one is written: the importing thread runs
        // at most a batch ahead.
        let (batches, received) = sync_channel(1);
        let published = Arc::new(Published::default());
        publish(&published, written.counts);
        let shared = published.clone();
        let earlier_ids = KeyLookup::new(&conn, earlier_ids)?;
        let thread = std::thread::Builder::new()
            .name("taskport-store".into())
            .spawn(move || {
                let result = write(&conn, target, earlier_ids, written, received, &shared);
                (conn, result)
            })
            .map_err(|e| StoreError::Database(format!("cannot start the store writer: {e}")))?;
        Ok(Writer {
            batches,
            published,
            thread,
        })
    }

    /// Hands `batch` over; `false` when the writer has stopped on an error,
    /// which [`Writer::finish`] returns.
    pub(super) fn send(&self, batch: TaskBatch) -> bool {
        self.batches.send(batch).is_ok()
    }

    /// The counts written so far.
    pub(super) fn stored(&self) -> StoredCounts {
        StoredCounts {
            added: self.published.added.load(Ordering::Relaxed),
            duplicates: self.published.duplicates.load(Ordering::Relaxed),
        }
    }

    /// Waits until every batch sent is written; returns the connection (none
    /// if the writer crashed, which closes it and so rolls the import back)
    /// and what was written.
    pub(super) fn finish(self) -> (Option<Connection>, StoreResult<Written>) {
        drop(self.batches);
        match self.thread.join() {
            Ok((conn, written)) => (Some(conn), written),
            Err(_) => (
                None,
                Err(StoreError::Database(
                    "the store writer stopped unexpectedly; nothing was stored".into(),
                )),
            ),
        }
    }
}

fn publish(published: &Published, counts: StoredCounts) {
    published.added.store(counts.added, Ordering::Relaxed);
    published
        .duplicates
        .store(counts.duplicates, Ordering::Relaxed);
}

/// The writer thread: writes batches until the sender is dropped.
fn write(
    conn: &Connection,
    target: Target,
    earlier_ids: KeyLookup,
    mut written: Written,
    batches: Receiver<TaskBatch>,
    published: &Published,
) -> StoreResult<Written> {
    let mut rows = Rows {
        conn,
        target,
        earlier_ids,
        block: BlockBuilder::default(),
        order: Vec::new(),
        new: Vec::new(),
        key: Vec::new(),
    };
    for batch in batches {
        rows.write(&batch, &mut written)?;
        publish(published, written.counts);
    }
    Ok(written)
}

/// What the writer keeps from one batch to the next.
struct Rows<'c> {
    conn: &'c Connection,
    target: Target,
    /// The dataset's ids from earlier imports.
    earlier_ids: KeyLookup,
    /// Reused per block.
    block: BlockBuilder,
    /// Reused per batch: positions in id (later name) order, which are new,
    /// and the key of one id.
    order: Vec<usize>,
    new: Vec<bool>,
    key: Vec<u8>,
}

impl Rows<'_> {
    fn write(&mut self, batch: &TaskBatch, written: &mut Written) -> StoreResult<()> {
        let Target {
            dataset_id,
            import_id,
        } = self.target;
        let conn = self.conn;
        let first_seq = written.next_seq;
        let seq = |k: usize| first_seq + k as i64;
        // Stable: of equal ids, the first in import order is the one kept.
        self.order.clear();
        self.order.extend(0..batch.len());
        self.order.sort_by(|&a, &b| batch.ids[a].cmp(&batch.ids[b]));
        self.new.clear();
        self.new.resize(batch.len(), false);
        let mut ids = RunWriter::create(conn, Place::Scratch, dataset_id, RunKind::Ids)?;
        let mut previous: Option<usize> = None;
        for &k in &self.order {
            let repeated = previous.is_some_and(|p| batch.ids[p] == batch.ids[k]);
            previous = Some(k);
            if repeated {
                continue;
            }
            self.key.clear();
            batch.ids[k].key(&mut self.key);
            if self.earlier_ids.contains(conn, &self.key)? {
                continue;
            }
            self.new[k] = true;
            ids.push(
                conn,
                Entry {
                    key: &self.key,
                    seq: seq(k),
                    flag: false,
                },
            )?;
        }
        written.id_runs.extend(ids.finish(conn)?);
        for k in (0..batch.len()).filter(|&k| self.new[k]) {
            self.block.push(&BlockTask {
                seq: seq(k),
                id: batch.ids[k].clone(),
                explicit_name: batch.explicit_names[k],
                name: batch.name(k),
                record: batch.record(k),
            });
            if self.block.is_full() {
                self.block
                    .write(conn, dataset_id, import_id)
                    .map_err(db_error)?;
            }
            written.last_seq = Some(seq(k));
        }
        self.block
            .write(conn, dataset_id, import_id)
            .map_err(db_error)?;
        let new = &self.new;
        self.order.retain(|&k| new[k]);
        // Stable: of equal names, in import order.
        self.order
            .sort_by(|&a, &b| batch.name(a).cmp(batch.name(b)));
        let mut names = RunWriter::create(conn, Place::Scratch, dataset_id, RunKind::Names)?;
        for &k in &self.order {
            names.push(
                conn,
                Entry {
                    key: batch.name(k).as_bytes(),
                    seq: seq(k),
                    flag: batch.explicit_names[k],
                },
            )?;
        }
        written.name_runs.extend(names.finish(conn)?);
        let added = self.order.len() as u64;
        written.counts.added += added;
        written.counts.duplicates += batch.len() as u64 - added;
        written.next_seq += batch.len() as i64;
        Ok(())
    }
}
