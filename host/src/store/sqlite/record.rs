//! How a task is laid out in its block, and how it is rebuilt on read.
//!
//! - `id`: a 32-digit lowercase hex id (what the normalizer makes) is kept
//!   as its 16 bytes; any other id is kept as text. SQLite never takes a
//!   blob and a text for equal, and neither does the id index (see
//!   [`StoredId::key`]).
//! - `name` and `explicit_name` are kept beside the record (see
//!   [`super::blocks`]).
//! - `record` is JSON holding only what cannot be recomputed: not `links`
//!   (derived from `data` by [`extract`], see [`Task::links`]), the origin's
//!   source, format and plugin only when they differ from the import's, and
//!   empty lists and objects not at all.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::blocks::BlockTask;
use super::db_error;
use crate::records::links::extract;
use crate::records::{MediaKind, Origin, Task};
use crate::store::{StoreError, StoreResult};

/// Length of a task id in hex digits when it is kept as bytes.
const HEX_ID_LEN: usize = 32;

/// A task id as stored. Ordered as SQLite orders the stored values among
/// themselves, so that sorting a batch by it sorts the id index's inserts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum StoredId {
    /// Any id that is not 32 lowercase hex digits (SQLite sorts text first).
    Text(String),
    /// A 32-digit lowercase hex id, as its 16 bytes.
    Bytes([u8; HEX_ID_LEN / 2]),
}

impl StoredId {
    /// The stored form of `id`.
    pub(super) fn new(id: &str) -> Self {
        match lowercase_hex_bytes(id) {
            Some(bytes) => StoredId::Bytes(bytes),
            None => StoredId::Text(id.to_string()),
        }
    }

    /// Appends the id's key in the id index (see [`super::runs`]): a tag
    /// byte (text 0, bytes 1), then the id's bytes, so that keys sort as
    /// ids do.
    pub(super) fn key(&self, out: &mut Vec<u8>) {
        match self {
            StoredId::Text(text) => {
                out.push(0);
                out.extend_from_slice(text.as_bytes());
            }
            StoredId::Bytes(bytes) => {
                out.push(1);
                out.extend_from_slice(bytes);
            }
        }
    }
}

/// The 16 bytes of a 32-digit lowercase hex id (what the normalizer makes);
/// `None` for any other id, uppercase hex included, which is kept as text.
fn lowercase_hex_bytes(id: &str) -> Option<[u8; HEX_ID_LEN / 2]> {
    let digit = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let digits = id.as_bytes();
    if digits.len() != HEX_ID_LEN {
        return None;
    }
    let mut bytes = [0; HEX_ID_LEN / 2];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(bytes)
}

impl FromSql for StoredId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(bytes) => {
                bytes
                    .try_into()
                    .map(StoredId::Bytes)
                    .map_err(|_| FromSqlError::InvalidBlobSize {
                        expected_size: HEX_ID_LEN / 2,
                        blob_size: bytes.len(),
                    })
            }
            _ => String::column_result(value).map(StoredId::Text),
        }
    }
}

impl ToSql for StoredId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            StoredId::Bytes(bytes) => ValueRef::Blob(bytes),
            StoredId::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

/// The origin every task of one import shares.
#[derive(Clone, PartialEq)]
pub(super) struct ImportOrigin {
    pub(super) source: String,
    pub(super) format: String,
    /// `name@version`.
    pub(super) plugin: String,
}

/// A task's `record` as written. Keys are one letter to keep rows small:
/// `m` media, `d` data, `a` annotations, `p` predictions, `x` meta, `n`
/// line, `i` index, `s` source, `f` format, `g` plugin.
#[derive(Serialize)]
struct RecordOut<'a> {
    m: MediaKind,
    d: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    a: &'a [Value],
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    p: &'a [Value],
    #[serde(skip_serializing_if = "Map::is_empty")]
    x: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    i: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    f: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<&'a str>,
}

/// A task's `record` as read.
#[derive(Deserialize)]
struct RecordIn {
    m: MediaKind,
    d: Map<String, Value>,
    #[serde(default)]
    a: Vec<Value>,
    #[serde(default)]
    p: Vec<Value>,
    #[serde(default)]
    x: Map<String, Value>,
    n: Option<u64>,
    i: Option<u64>,
    s: Option<String>,
    f: Option<String>,
    g: Option<String>,
}

/// Appends the `record` of `task`, imported with `origin`, to `out`.
pub(super) fn encode<'a>(
    task: &'a Task,
    origin: &ImportOrigin,
    out: &mut Vec<u8>,
) -> StoreResult<()> {
    let differs = |value: &'a str, import: &str| (value != import).then_some(value);
    let record = RecordOut {
        m: task.media,
        d: &task.data,
        a: &task.annotations,
        p: &task.predictions,
        x: &task.meta,
        n: task.origin.line,
        i: task.origin.index,
        s: differs(&task.origin.source, &origin.source),
        f: differs(&task.origin.format, &origin.format),
        g: differs(&task.origin.plugin, &origin.plugin),
    };
    serde_json::to_writer(out, &record)
        .map_err(|e| StoreError::Database(format!("cannot encode task {}: {e}", task.id)))
}

/// Rebuilds tasks from their rows, looking up each import's origin once.
pub(super) struct Origins<'c> {
    conn: &'c Connection,
    /// The import last looked up: rows come grouped by import.
    last: Option<(i64, ImportOrigin)>,
}

impl<'c> Origins<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        Origins { conn, last: None }
    }

    /// The task `stored` in a block of import `import_id`.
    pub(super) fn task(&mut self, import_id: i64, stored: BlockTask<'_>) -> StoreResult<Task> {
        let id = match stored.id {
            StoredId::Bytes(bytes) => hex::encode(bytes),
            StoredId::Text(text) => text,
        };
        let record: RecordIn = serde_json::from_slice(stored.record)
            .map_err(|e| StoreError::Database(format!("task {id} is unreadable: {e}")))?;
        let origin = self.origin(import_id)?;
        Ok(Task {
            links: extract(&record.d),
            id,
            name: stored.name.to_owned(),
            media: record.m,
            data: record.d,
            annotations: record.a,
            predictions: record.p,
            meta: record.x,
            origin: Origin {
                source: record.s.unwrap_or_else(|| origin.source.clone()),
                line: record.n,
                index: record.i,
                format: record.f.unwrap_or_else(|| origin.format.clone()),
                plugin: record.g.unwrap_or_else(|| origin.plugin.clone()),
            },
            explicit_name: stored.explicit_name,
        })
    }

    fn origin(&mut self, import_id: i64) -> StoreResult<&ImportOrigin> {
        if self.last.as_ref().is_none_or(|(id, _)| *id != import_id) {
            let origin = import_origin(self.conn, import_id)?;
            self.last = Some((import_id, origin));
        }
        Ok(&self.last.as_ref().expect("looked up above").1)
    }
}

/// The origin shared by the tasks of import `import_id`.
pub(super) fn import_origin(conn: &Connection, import_id: i64) -> StoreResult<ImportOrigin> {
    conn.query_row(
        "SELECT source, format, plugin_name || '@' || plugin_version FROM imports WHERE id = ?1",
        [import_id],
        |row| {
            Ok(ImportOrigin {
                source: row.get(0)?,
                format: row.get(1)?,
                plugin: row.get(2)?,
            })
        },
    )
    .map_err(db_error)
}
