//! Looking keys up in runs, by the chunk that can hold them.

use rusqlite::Connection;

use super::{Chunk, Run, unreadable};
use crate::store::StoreResult;
use crate::store::sqlite::db_error;

/// Finds keys in a set of runs. The first entry of every chunk is held in
/// memory (about 1/100 of a run), so a lookup reads at most one chunk per
/// run, by its row id; the chunk last read is kept, so keys asked in
/// ascending order read each chunk once.
pub(in crate::store::sqlite) struct KeyLookup {
    runs: Vec<ChunkDirectory>,
}

/// The chunks of one run, in order.
struct ChunkDirectory {
    run: Run,
    /// Each chunk's row id, first key (where it starts and ends in `keys`)
    /// and first `seq`.
    chunks: Vec<(i64, usize, usize, i64)>,
    keys: Vec<u8>,
    /// The chunk last read, and its position in `chunks`.
    cached: Option<(usize, Chunk)>,
}

impl ChunkDirectory {
    fn load(conn: &Connection, run: Run) -> StoreResult<Self> {
        let mut directory = ChunkDirectory {
            run,
            chunks: Vec::new(),
            keys: Vec::new(),
            cached: None,
        };
        let mut stmt = conn
            .prepare_cached(&run.place.sql(
                "SELECT rowid, first_key, first_seq FROM {schema}.key_chunks
                 WHERE run_id = ?1 ORDER BY first_key, first_seq",
            ))
            .map_err(db_error)?;
        let mut rows = stmt.query([run.id]).map_err(db_error)?;
        while let Some(row) = rows.next().map_err(db_error)? {
            let key = row
                .get_ref(1)
                .and_then(|value| Ok(value.as_blob()?))
                .map_err(db_error)?;
            let start = directory.keys.len();
            directory.keys.extend_from_slice(key);
            directory.chunks.push((
                row.get(0).map_err(db_error)?,
                start,
                directory.keys.len(),
                row.get(2).map_err(db_error)?,
            ));
        }
        Ok(directory)
    }

    fn first_key(&self, k: usize) -> &[u8] {
        let (_, start, end, _) = self.chunks[k];
        &self.keys[start..end]
    }

    /// The smallest `seq` held under `key`.
    fn first_seq(&mut self, conn: &Connection, key: &[u8]) -> StoreResult<Option<i64>> {
        // Chunks starting below `key`: the last of them holds its first
        // entry, unless that entry starts the chunk after it.
        let starts_below = |k: usize| self.first_key(k) < key;
        // Keys asked in ascending order mostly fall in the chunk last read.
        let below = match &self.cached {
            Some((k, _))
                if starts_below(*k) && (*k + 1 == self.chunks.len() || !starts_below(*k + 1)) =>
            {
                *k + 1
            }
            _ => self
                .chunks
                .partition_point(|&(_, start, end, _)| &self.keys[start..end] < key),
        };
        if below > 0 {
            let k = below - 1;
            if self.cached.as_ref().is_none_or(|(cached, _)| *cached != k) {
                let mut chunk = self
                    .cached
                    .take()
                    .map(|(_, chunk)| chunk)
                    .unwrap_or_default();
                let mut stmt = conn
                    .prepare_cached(
                        &self
                            .run
                            .place
                            .sql("SELECT entries FROM {schema}.key_chunks WHERE rowid = ?1"),
                    )
                    .map_err(db_error)?;
                let mut rows = stmt.query([self.chunks[k].0]).map_err(db_error)?;
                let row = rows.next().map_err(db_error)?.ok_or_else(unreadable)?;
                let bytes = row
                    .get_ref(0)
                    .and_then(|value| Ok(value.as_blob()?))
                    .map_err(db_error)?;
                chunk.load(bytes)?;
                self.cached = Some((k, chunk));
            }
            let (_, chunk) = self.cached.as_ref().expect("loaded above");
            let at = chunk.position(key, i64::MIN);
            if at < chunk.len() && chunk.entry(at).key == key {
                return Ok(Some(chunk.entry(at).seq));
            }
        }
        Ok((below < self.chunks.len() && self.first_key(below) == key)
            .then(|| self.chunks[below].3))
    }
}

impl KeyLookup {
    /// Looks keys up in `runs`, reading where their chunks start.
    pub(in crate::store::sqlite) fn new(conn: &Connection, runs: &[Run]) -> StoreResult<Self> {
        Ok(KeyLookup {
            runs: runs
                .iter()
                .map(|&run| ChunkDirectory::load(conn, run))
                .collect::<StoreResult<_>>()?,
        })
    }

    /// The smallest `seq` held under `key` by any of the runs.
    pub(in crate::store::sqlite) fn first_seq(
        &mut self,
        conn: &Connection,
        key: &[u8],
    ) -> StoreResult<Option<i64>> {
        let mut first: Option<i64> = None;
        for run in &mut self.runs {
            if let Some(seq) = run.first_seq(conn, key)? {
                first = Some(first.map_or(seq, |first| first.min(seq)));
            }
        }
        Ok(first)
    }

    /// Whether any of the runs holds `key`.
    pub(in crate::store::sqlite) fn contains(
        &mut self,
        conn: &Connection,
        key: &[u8],
    ) -> StoreResult<bool> {
        Ok(self.first_seq(conn, key)?.is_some())
    }
}
