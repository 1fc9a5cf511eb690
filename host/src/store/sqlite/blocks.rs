//! Tasks stored in blocks: the tasks an import adds are kept many to a
//! `task_blocks` row, in import order.
//!
//! A row per task cost a B-tree insert per task, a third of the writer's
//! time; a block of up to [`BLOCK_TASKS`] tasks costs one. Readers decode a
//! block whole. A block holds tasks of one import; its key `first_seq` and
//! its `last_seq` are the `seq` of its first and last task.
//!
//! A block's `tasks` blob holds each task back to back:
//! - `seq - first_seq`, a little-endian `u32`;
//! - a flags byte: [`EXPLICIT_NAME`], [`BYTE_ID`];
//! - the id: its 16 bytes with [`BYTE_ID`], else its text;
//! - the name;
//! - the `record` (see [`super::record`]).
//!
//! Text and the record are preceded by their length, a little-endian `u32`.
//!
//! The `tasks` column holds that, compressed: the byte [`LZ4_BLOCK`], then
//! the LZ4 block format with the uncompressed size in front. Tasks of one
//! block repeat much (bucket, folders, field names), and a third of the
//! bytes is a third of what the write-ahead log and its checkpoint copy. A
//! column starting with a zero byte (the first task's `seq` offset) is the
//! uncompressed form, as stores written before compression hold it.

use std::borrow::Cow;
use std::ops::ControlFlow;

use rusqlite::{Connection, OptionalExtension, Row, Rows, params};

use super::db_error;
use super::record::StoredId;
use crate::store::{StoreError, StoreResult};

/// Most tasks per block: past this, larger blocks save little and make
/// reading one task (for a message) decode more.
const BLOCK_TASKS: usize = 64;

/// Most bytes per block (a block may pass it by one task).
const BLOCK_BYTES: usize = 16 << 10;

/// Flag: the plugin gave the task's name.
const EXPLICIT_NAME: u8 = 1;

/// Flag: the id is kept as 16 bytes rather than text.
const BYTE_ID: u8 = 2;

/// First byte of a compressed `tasks` column.
const LZ4_BLOCK: u8 = 1;

/// Selects, in order, the blocks of the tasks with `seq` from `?1` to `?2`
/// (the whole range of one or more imports), as [`for_each_task`] reads
/// them.
pub(super) const BLOCKS_IN_RANGE: &str = "SELECT first_seq, import_id, tasks FROM task_blocks
     WHERE first_seq BETWEEN ?1 AND ?2 ORDER BY first_seq";

/// One task as a block holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BlockTask<'b> {
    pub(super) seq: i64,
    pub(super) id: StoredId,
    pub(super) explicit_name: bool,
    pub(super) name: &'b str,
    pub(super) record: &'b [u8],
}

/// A block being filled, reused from one block to the next.
#[derive(Default)]
pub(super) struct BlockBuilder {
    first_seq: i64,
    last_seq: i64,
    tasks: usize,
    bytes: Vec<u8>,
}

impl BlockBuilder {
    /// Adds a task; `seq` must be larger than the last one's.
    pub(super) fn push(&mut self, task: &BlockTask<'_>) {
        if self.tasks == 0 {
            self.first_seq = task.seq;
        }
        self.last_seq = task.seq;
        self.tasks += 1;
        let offset = u32::try_from(task.seq - self.first_seq).expect("a block spans few seqs");
        self.bytes.extend_from_slice(&offset.to_le_bytes());
        let mut flags = 0;
        if task.explicit_name {
            flags |= EXPLICIT_NAME;
        }
        if matches!(task.id, StoredId::Bytes(_)) {
            flags |= BYTE_ID;
        }
        self.bytes.push(flags);
        match &task.id {
            StoredId::Bytes(bytes) => self.bytes.extend_from_slice(bytes),
            StoredId::Text(text) => self.push_sized(text.as_bytes()),
        }
        self.push_sized(task.name.as_bytes());
        self.push_sized(task.record);
    }

    fn push_sized(&mut self, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).expect("records are limited far below 4 GiB");
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(bytes);
    }

    /// Whether the block should be written now.
    pub(super) fn is_full(&self) -> bool {
        self.tasks >= BLOCK_TASKS || self.bytes.len() >= BLOCK_BYTES
    }

    /// Inserts the block, if it holds any task, as a row of `dataset_id` and
    /// `import_id`, and empties it.
    pub(super) fn write(
        &mut self,
        conn: &Connection,
        dataset_id: i64,
        import_id: i64,
    ) -> rusqlite::Result<()> {
        if self.tasks == 0 {
            return Ok(());
        }
        let mut insert = conn.prepare_cached(
            "INSERT INTO task_blocks (first_seq, last_seq, dataset_id, import_id, tasks)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        insert.execute(params![
            self.first_seq,
            self.last_seq,
            dataset_id,
            import_id,
            self.stored()
        ])?;
        self.clear();
        Ok(())
    }

    /// The `tasks` column of the block: its bytes, compressed.
    fn stored(&self) -> Vec<u8> {
        let mut stored = vec![LZ4_BLOCK];
        stored.extend_from_slice(&lz4_flex::block::compress_prepend_size(&self.bytes));
        stored
    }

    fn clear(&mut self) {
        self.tasks = 0;
        self.bytes.clear();
    }
}

/// The tasks of a block as its `tasks` column holds them, uncompressed.
fn uncompressed(stored: &[u8]) -> StoreResult<Cow<'_, [u8]>> {
    match stored.split_first() {
        Some((&LZ4_BLOCK, compressed)) => lz4_flex::block::decompress_size_prepended(compressed)
            .map(Cow::Owned)
            .map_err(|_| unreadable()),
        _ => Ok(Cow::Borrowed(stored)),
    }
}

/// The tasks of a block whose first task has `first_seq`, in order.
pub(super) fn decode(first_seq: i64, bytes: &[u8]) -> BlockTasks<'_> {
    BlockTasks {
        first_seq,
        rest: bytes,
    }
}

/// Iterator over a block's tasks; see [`decode`].
pub(super) struct BlockTasks<'b> {
    first_seq: i64,
    rest: &'b [u8],
}

impl<'b> BlockTasks<'b> {
    fn take(&mut self, len: usize) -> StoreResult<&'b [u8]> {
        if self.rest.len() < len {
            return Err(unreadable());
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn take_u32(&mut self) -> StoreResult<u32> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("took 4 bytes")))
    }

    fn take_sized(&mut self) -> StoreResult<&'b [u8]> {
        let len = self.take_u32()? as usize;
        self.take(len)
    }

    fn take_text(&mut self) -> StoreResult<&'b str> {
        std::str::from_utf8(self.take_sized()?).map_err(|_| unreadable())
    }

    fn next_task(&mut self) -> StoreResult<BlockTask<'b>> {
        let seq = self.first_seq + i64::from(self.take_u32()?);
        let flags = self.take(1)?[0];
        let id = if flags & BYTE_ID != 0 {
            StoredId::Bytes(self.take(16)?.try_into().expect("took 16 bytes"))
        } else {
            StoredId::Text(self.take_text()?.to_owned())
        };
        Ok(BlockTask {
            seq,
            id,
            explicit_name: flags & EXPLICIT_NAME != 0,
            name: self.take_text()?,
            record: self.take_sized()?,
        })
    }
}

impl<'b> Iterator for BlockTasks<'b> {
    type Item = StoreResult<BlockTask<'b>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let task = self.next_task();
        if task.is_err() {
            self.rest = &[];
        }
        Some(task)
    }
}

/// Visits, in order, every task of the blocks in `rows` (selected by
/// [`BLOCKS_IN_RANGE`]) with its import id, until `visit` breaks.
pub(super) fn for_each_task<E: From<StoreError>>(
    rows: &mut Rows<'_>,
    mut visit: impl FnMut(i64, BlockTask<'_>) -> Result<ControlFlow<()>, E>,
) -> Result<(), E> {
    while let Some(row) = rows.next().map_err(db_error)? {
        let (first_seq, import_id, stored) = block_columns(row)?;
        for task in decode(first_seq, &uncompressed(stored)?) {
            if visit(import_id, task?)?.is_break() {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn block_columns<'r>(row: &'r Row<'_>) -> StoreResult<(i64, i64, &'r [u8])> {
    Ok((
        row.get(0).map_err(db_error)?,
        row.get(1).map_err(db_error)?,
        row.get_ref(2)
            .map_err(db_error)?
            .as_blob()
            .map_err(|_| unreadable())?,
    ))
}

/// The block holding the task whose `seq` is `seq`.
struct HeldBlock {
    first_seq: i64,
    last_seq: i64,
    import_id: i64,
    tasks: Vec<u8>,
}

fn block_holding(conn: &Connection, seq: i64) -> StoreResult<HeldBlock> {
    let mut block = conn
        .prepare_cached(
            "SELECT first_seq, last_seq, import_id, tasks FROM task_blocks
             WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([seq], |row| {
                Ok(HeldBlock {
                    first_seq: row.get(0)?,
                    last_seq: row.get(1)?,
                    import_id: row.get(2)?,
                    tasks: row.get(3)?,
                })
            })
            .optional()
        })
        .map_err(db_error)?
        .filter(|block| seq <= block.last_seq)
        .ok_or_else(|| missing(seq))?;
    if let Cow::Owned(tasks) = uncompressed(&block.tasks)? {
        block.tasks = tasks;
    }
    Ok(block)
}

/// Calls `read` with the task whose `seq` is `seq` and its import id.
pub(super) fn read_task<T>(
    conn: &Connection,
    seq: i64,
    read: impl FnOnce(i64, BlockTask<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let block = block_holding(conn, seq)?;
    for task in decode(block.first_seq, &block.tasks) {
        let task = task?;
        if task.seq == seq {
            return read(block.import_id, task);
        }
    }
    Err(missing(seq))
}

/// Gives each task of `renames` (`seq`, new name; sorted by `seq`) its new
/// name, rewriting each block concerned once.
pub(super) fn rename(conn: &Connection, renames: &[(i64, String)]) -> StoreResult<()> {
    let mut update = conn
        .prepare_cached("UPDATE task_blocks SET tasks = ?2 WHERE first_seq = ?1")
        .map_err(db_error)?;
    let mut builder = BlockBuilder::default();
    let mut pending = renames;
    while let Some(&(seq, _)) = pending.first() {
        let block = block_holding(conn, seq)?;
        let in_block = pending.partition_point(|(seq, _)| *seq <= block.last_seq);
        let (here, rest) = pending.split_at(in_block);
        let mut renamed = 0;
        for task in decode(block.first_seq, &block.tasks) {
            let mut task = task?;
            if let Ok(k) = here.binary_search_by_key(&task.seq, |(seq, _)| *seq) {
                task.name = &here[k].1;
                renamed += 1;
            }
            builder.push(&task);
        }
        if renamed != here.len() {
            return Err(missing(here[0].0));
        }
        update
            .execute(params![block.first_seq, builder.stored()])
            .map_err(db_error)?;
        builder.clear();
        pending = rest;
    }
    Ok(())
}

/// Takes the tasks whose `seq` is in `seqs` (ascending) out of the store,
/// rewriting each block concerned once as a block of `dataset_id` and
/// `import_id`, or deleting it when none of its tasks is left.
pub(super) fn remove(
    conn: &Connection,
    dataset_id: i64,
    import_id: i64,
    seqs: impl Iterator<Item = i64>,
) -> StoreResult<()> {
    let mut delete = conn
        .prepare_cached("DELETE FROM task_blocks WHERE first_seq = ?1")
        .map_err(db_error)?;
    let mut builder = BlockBuilder::default();
    let mut seqs = seqs.peekable();
    let mut here = Vec::new();
    while let Some(&seq) = seqs.peek() {
        let block = block_holding(conn, seq)?;
        here.clear();
        while let Some(next) = seqs.next_if(|&next| next <= block.last_seq) {
            here.push(next);
        }
        delete.execute([block.first_seq]).map_err(db_error)?;
        let mut removed = 0;
        for task in decode(block.first_seq, &block.tasks) {
            let task = task?;
            if here.binary_search(&task.seq).is_ok() {
                removed += 1;
            } else {
                builder.push(&task);
            }
        }
        if removed != here.len() {
            return Err(missing(here[0]));
        }
        builder
            .write(conn, dataset_id, import_id)
            .map_err(db_error)?;
    }
    Ok(())
}

/// `seq` of the last task stored from `first_seq` on, if any.
pub(super) fn last_seq_from(conn: &Connection, first_seq: i64) -> StoreResult<Option<i64>> {
    conn.query_row(
        "SELECT max(last_seq) FROM task_blocks WHERE first_seq >= ?1",
        [first_seq],
        |row| row.get(0),
    )
    .map_err(db_error)
}

/// `seq` of the next task: one past the last stored.
pub(super) fn next_seq(conn: &Connection) -> StoreResult<i64> {
    conn.query_row(
        "SELECT coalesce((SELECT last_seq FROM task_blocks ORDER BY first_seq DESC LIMIT 1), 0) + 1",
        [],
        |row| row.get(0),
    )
    .map_err(db_error)
}

fn unreadable() -> StoreError {
    StoreError::Database("a stored task block is unreadable".into())
}

fn missing(seq: i64) -> StoreError {
    StoreError::Database(format!("task {seq} is missing from the store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(seq: i64, id: StoredId, explicit_name: bool, name: &str) -> BlockTask<'_> {
        BlockTask {
            seq,
            id,
            explicit_name,
            name,
            record: name.as_bytes(),
        }
    }

    #[test]
    fn a_block_decodes_to_what_was_pushed() {
        let tasks = [
            task(7, StoredId::Bytes([9; 16]), false, "a.jpg"),
            task(9, StoredId::Text("own-id".into()), true, "b.jpg"),
            task(10, StoredId::Bytes([1; 16]), true, ""),
        ];
        let mut builder = BlockBuilder::default();
        for t in &tasks {
            builder.push(t);
        }
        let decoded: Vec<BlockTask<'_>> = decode(builder.first_seq, &builder.bytes)
            .collect::<StoreResult<_>>()
            .unwrap();
        assert_eq!(decoded, tasks);
        assert_eq!((builder.first_seq, builder.last_seq), (7, 10));
    }

    #[test]
    fn a_block_is_stored_compressed_and_read_in_either_form() {
        let mut builder = BlockBuilder::default();
        for seq in 0..BLOCK_TASKS as i64 {
            builder.push(&task(
                seq,
                StoredId::Bytes([7; 16]),
                false,
                "same/folder/a.jpg",
            ));
        }
        let stored = builder.stored();
        assert_eq!(stored[0], LZ4_BLOCK);
        assert!(stored.len() * 2 < builder.bytes.len(), "{}", stored.len());
        assert_eq!(*uncompressed(&stored).unwrap(), *builder.bytes);
        // Stores written before compression hold the bytes as they are.
        assert!(matches!(
            uncompressed(&builder.bytes).unwrap(),
            Cow::Borrowed(_)
        ));
        let damaged = &stored[..stored.len() / 2];
        assert!(uncompressed(damaged).is_err());
    }

    #[test]
    fn a_truncated_block_is_an_error() {
        let mut builder = BlockBuilder::default();
        builder.push(&task(1, StoredId::Bytes([2; 16]), false, "a.jpg"));
        let cut = &builder.bytes[..builder.bytes.len() - 1];
        let decoded: Vec<StoreResult<BlockTask<'_>>> = decode(1, cut).collect();
        assert_eq!(decoded.len(), 1);
        assert!(decoded[0].is_err());
    }

    #[test]
    fn a_block_fills_at_its_task_or_byte_limit() {
        let mut builder = BlockBuilder::default();
        for seq in 0..BLOCK_TASKS as i64 {
            assert!(!builder.is_full());
            builder.push(&task(seq, StoredId::Bytes([0; 16]), false, "a.jpg"));
        }
        assert!(builder.is_full());
        let mut builder = BlockBuilder::default();
        let long = "x".repeat(BLOCK_BYTES);
        builder.push(&task(0, StoredId::Text("id".into()), false, &long));
        assert!(builder.is_full());
    }
}
