//! The 64-bit keys of the dedupe and name tables.
//!
//! SQLite inserts an integer key into a rowid table, or into a table whose
//! primary key is all integers, markedly faster than a blob or text key
//! (measured: about 30% less time per row), so `task_keys` and
//! `task_name_keys` are keyed by hashes rather than by ids and names:
//! - an id key is the first 8 bytes of a 16-byte stored id (itself the start
//!   of a sha256), else of the sha256 of the id, mixed with the dataset id;
//! - a name key is the first 8 bytes of the sha256 of the name.
//!
//! Two ids or names can share a key, so a key is only ever a hint: the task
//! it leads to is compared in full (see the writer and [`super::names`]).
//!
//! The same functions are registered on every connection as
//! `taskport_id_key(dataset_id, id)` and `taskport_name_key(name)`, for
//! migrations and for queries that derive keys from stored rows.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

/// Unit tests keep only a few bits of every key, so that shared keys, rare
/// with 64 bits, happen all the time and their handling is exercised.
#[cfg(not(test))]
const KEY_MASK: i64 = -1;
#[cfg(test)]
const KEY_MASK: i64 = 0b11;

/// The dedupe key of the stored id `id` (a 16-byte blob or a text) in
/// dataset `dataset_id`.
pub(super) fn id_key(dataset_id: i64, id: ValueRef<'_>) -> i64 {
    let hashed = match id {
        ValueRef::Blob(bytes) if bytes.len() >= 8 => leading_i64(bytes),
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => leading_i64(&Sha256::digest(bytes)),
        _ => 0,
    };
    // Fibonacci hashing spreads consecutive dataset ids over the key space.
    (hashed ^ dataset_id.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as i64)) & KEY_MASK
}

/// The name key of `name`.
pub(super) fn name_key(name: &str) -> i64 {
    leading_i64(&Sha256::digest(name.as_bytes())) & KEY_MASK
}

fn leading_i64(bytes: &[u8]) -> i64 {
    let mut leading = [0; 8];
    leading.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(leading)
}

/// Registers `taskport_id_key` and `taskport_name_key` on `conn`.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("taskport_id_key", 2, flags, |ctx| {
        Ok(id_key(ctx.get(0)?, ctx.get_raw(1)))
    })?;
    conn.create_scalar_function("taskport_name_key", 1, flags, |ctx| {
        let name: String = ctx.get(0)?;
        Ok(name_key(&name))
    })
}
