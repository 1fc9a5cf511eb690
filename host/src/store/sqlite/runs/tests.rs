//! Writing, reading, looking up, merging and compacting runs.

use super::*;

/// A connection with the store's tables and the scratch tables.
fn connection() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for migration in super::super::schema::MIGRATIONS {
        conn.execute_batch(migration.sql).unwrap();
    }
    create_scratch(&conn).unwrap();
    conn
}

fn write(conn: &Connection, place: Place, entries: &[(Vec<u8>, i64)]) -> Run {
    let mut writer = RunWriter::create(conn, place, 1, RunKind::Names).unwrap();
    for (key, seq) in entries {
        let entry = Entry {
            key,
            seq: *seq,
            flag: seq % 3 == 0,
        };
        writer.push(conn, entry).unwrap();
    }
    writer.finish(conn).unwrap().unwrap()
}

fn read(conn: &Connection, runs: &[Run]) -> Vec<(Vec<u8>, i64, bool)> {
    let mut merge = Merge::open(conn, runs).unwrap();
    let mut read = Vec::new();
    while let Some((_, entry)) = merge.next(conn).unwrap() {
        read.push((entry.key.to_vec(), entry.seq, entry.flag));
    }
    read
}

/// Keys `k0000`.. each held by `per_key` tasks: enough entries to fill
/// many chunks, a key's entries often spanning two.
fn entries(keys: usize, per_key: usize) -> Vec<(Vec<u8>, i64)> {
    (0..keys)
        .flat_map(|k| {
            (0..per_key).map(move |n| (format!("k{k:04}").into_bytes(), (n * keys + k) as i64))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn a_run_of_many_chunks_reads_back_in_order_from_either_place() {
    let conn = connection();
    let written = entries(500, 3);
    for place in [Place::Store, Place::Scratch] {
        let run = write(&conn, place, &written);
        assert_eq!(run.entries, 1500);
        let read = read(&conn, &[run]);
        let expected: Vec<_> = written
            .iter()
            .map(|(key, seq)| (key.clone(), *seq, seq % 3 == 0))
            .collect();
        assert_eq!(read, expected);
    }
    let chunks: i64 = conn
        .query_row("SELECT count(*) FROM main.key_chunks", [], |r| r.get(0))
        .unwrap();
    assert!(chunks > 5, "{chunks} chunks");
}

#[test]
fn lookups_find_the_first_seq_of_a_key_across_chunk_boundaries() {
    let conn = connection();
    let written = entries(400, 4);
    let run = write(&conn, Place::Store, &written);
    // In ascending order (chunks reused), then in descending order.
    let mut lookup = KeyLookup::new(&conn, &[run]).unwrap();
    for k in (0..400).chain((0..400).rev()) {
        let key = format!("k{k:04}");
        assert_eq!(
            lookup.first_seq(&conn, key.as_bytes()).unwrap(),
            Some(k as i64),
            "{key}"
        );
    }
    for absent in ["", "a", "k0000x", "k0399\0", "l"] {
        assert!(
            !lookup.contains(&conn, absent.as_bytes()).unwrap(),
            "{absent}"
        );
    }
}

#[test]
fn merging_interleaves_runs_and_keep_leaves_entries_out() {
    let conn = connection();
    let all = entries(200, 3);
    let (odd, even): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|(_, seq)| seq % 2 == 1);
    let runs = [
        write(&conn, Place::Scratch, &odd),
        write(&conn, Place::Scratch, &even),
    ];
    let merged = merge_into_one(&conn, 1, RunKind::Names, &runs, |run, entry| {
        assert_eq!(run, usize::from(entry.seq % 2 == 0), "{entry:?}");
        Ok(entry.seq % 5 != 0)
    })
    .unwrap()
    .unwrap();
    assert_eq!(merged.place, Place::Store);
    let expected: Vec<_> = all
        .iter()
        .filter(|(_, seq)| seq % 5 != 0)
        .map(|(key, seq)| (key.clone(), *seq, seq % 3 == 0))
        .collect();
    assert_eq!(read(&conn, &[merged]), expected);
    let scratch_left: i64 = conn
        .query_row("SELECT count(*) FROM temp.key_chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(scratch_left, 0);
}

#[test]
fn compaction_keeps_few_runs_and_every_entry() {
    let conn = connection();
    let mut expected = Vec::new();
    for import in 0..40i64 {
        let entries: Vec<(Vec<u8>, i64)> = (0..=import)
            .map(|n| {
                (
                    format!("i{import:02}-{n:02}").into_bytes(),
                    import * 100 + n,
                )
            })
            .collect();
        expected.extend(entries.iter().map(|(k, s)| (k.clone(), *s, s % 3 == 0)));
        write(&conn, Place::Store, &entries);
        compact(&conn, 1, RunKind::Names).unwrap();
        let runs = runs_of(&conn, 1, RunKind::Names).unwrap();
        assert!(runs.len() <= 8, "{} runs after {import}", runs.len());
        for pair in runs.windows(2) {
            assert!(pair[0].entries > 2 * pair[1].entries, "{runs:?}");
        }
    }
    expected.sort();
    let runs = runs_of(&conn, 1, RunKind::Names).unwrap();
    assert_eq!(read(&conn, &runs), expected);
}

#[test]
fn an_empty_run_is_not_kept_and_a_damaged_chunk_is_an_error() {
    let conn = connection();
    let writer = RunWriter::create(&conn, Place::Store, 1, RunKind::Ids).unwrap();
    assert_eq!(writer.finish(&conn).unwrap(), None);
    assert!(runs_of(&conn, 1, RunKind::Ids).unwrap().is_empty());

    let run = write(&conn, Place::Store, &entries(3, 1));
    conn.execute("UPDATE main.key_chunks SET entries = X'0500000061'", [])
        .unwrap();
    let error = Merge::open(&conn, &[run]).err().unwrap();
    assert!(error.to_string().contains("unreadable"), "{error}");
}
