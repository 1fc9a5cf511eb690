//! The background writer: an import's tasks are inserted on their own
//! thread while the importing thread validates the next ones.
//!
//! Tasks arrive encoded, in batches. Each batch is checked against the
//! dedupe index (`task_ids`) in id order, so that its inserts touch the
//! index's pages in turn rather than at random (measured: under 10% faster;
//! the cost is mostly per-row B-tree work). The batch's new tasks are then
//! appended to `task_blocks` in import order, many to a row (see
//! [`super::blocks`]), and their names added to `task_names` in name order.
//!
//! Every task of a batch is given `seq = batch's first seq + its position`,
//! so a duplicate leaves a gap in the import's `seq` range; the range stays
//! in import order, which is all that listing needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, Statement, params};

use super::blocks::{BlockBuilder, BlockTask};
use super::db_error;
use super::record::{self, ImportOrigin, StoredId};
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
#[derive(Debug, Clone, Copy)]
pub(super) struct Written {
    pub(super) counts: StoredCounts,
    /// `seq` for the next task given.
    pub(super) next_seq: i64,
    /// `seq` of the last task stored.
    pub(super) last_seq: Option<i64>,
}

impl Written {
    /// Nothing written yet; the first task gets `first_seq`.
    pub(super) fn starting_at(first_seq: i64) -> Self {
        Written {
            counts: StoredCounts::default(),
            next_seq: first_seq,
            last_seq: None,
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
    /// from `written`.
    pub(super) fn start(conn: Connection, target: Target, written: Written) -> StoreResult<Self> {
        // One batch queued while one is written: the importing thread runs
        // at most a batch ahead.
        let (batches, received) = sync_channel(1);
        let published = Arc::new(Published::default());
        publish(&published, written.counts);
        let shared = published.clone();
        let thread = std::thread::Builder::new()
            .name("taskport-store".into())
            .spawn(move || {
                let result = write(&conn, target, written, received, &shared);
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
    mut written: Written,
    batches: Receiver<TaskBatch>,
    published: &Published,
) -> StoreResult<Written> {
    let mut rows = Rows::prepare(conn, target)?;
    for batch in batches {
        rows.write(&batch, &mut written)?;
        publish(published, written.counts);
    }
    Ok(written)
}

/// The prepared inserts of one import.
struct Rows<'c> {
    conn: &'c Connection,
    target: Target,
    insert_id: Statement<'c>,
    insert_name: Statement<'c>,
    /// Reused per block.
    block: BlockBuilder,
    /// Reused per batch: positions in insert order, and which are new.
    order: Vec<usize>,
    new: Vec<bool>,
}

impl<'c> Rows<'c> {
    fn prepare(conn: &'c Connection, target: Target) -> StoreResult<Self> {
        let prepare = |sql| conn.prepare(sql).map_err(db_error);
        Ok(Rows {
            conn,
            target,
            insert_id: prepare(
                "INSERT OR IGNORE INTO task_ids (dataset_id, id, seq) VALUES (?1, ?2, ?3)",
            )?,
            insert_name: prepare(
                "INSERT INTO task_names (dataset_id, name, seq, explicit_name)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            block: BlockBuilder::default(),
            order: Vec::new(),
            new: Vec::new(),
        })
    }

    fn write(&mut self, batch: &TaskBatch, written: &mut Written) -> StoreResult<()> {
        let Target {
            dataset_id,
            import_id,
        } = self.target;
        let first_seq = written.next_seq;
        let seq = |k: usize| first_seq + k as i64;
        // Stable: of equal ids, the first in import order is the one kept.
        self.order.clear();
        self.order.extend(0..batch.len());
        self.order.sort_by(|&a, &b| batch.ids[a].cmp(&batch.ids[b]));
        self.new.clear();
        self.new.resize(batch.len(), false);
        for &k in &self.order {
            let inserted = self
                .insert_id
                .execute(params![dataset_id, batch.ids[k], seq(k)])
                .map_err(db_error)?;
            self.new[k] = inserted == 1;
        }
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
                    .write(self.conn, dataset_id, import_id)
                    .map_err(db_error)?;
            }
            written.last_seq = Some(seq(k));
        }
        self.block
            .write(self.conn, dataset_id, import_id)
            .map_err(db_error)?;
        let new = &self.new;
        self.order.retain(|&k| new[k]);
        self.order
            .sort_by(|&a, &b| batch.name(a).cmp(batch.name(b)));
        for &k in &self.order {
            self.insert_name
                .execute(params![
                    dataset_id,
                    batch.name(k),
                    seq(k),
                    batch.explicit_names[k]
                ])
                .map_err(db_error)?;
        }
        let added = self.order.len() as u64;
        written.counts.added += added;
        written.counts.duplicates += batch.len() as u64 - added;
        written.next_seq += batch.len() as i64;
        Ok(())
    }
}
