use std::time::Instant;

use super::{new_import, temp_store};
use crate::records::{Link, MediaKind, Origin, Task};
use crate::store::{ImportCounts, NamePolicy, SqliteStore, TaskStore};
use serde_json::{Map, json};

fn t(n: u64) -> Task {
    let uri = format!("s3://remote-img-test/test_img/berries-{n:07}.jpeg");
    let mut data = Map::new();
    data.insert("image".into(), json!(uri));
    let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n << 17);
    Task {
        id: format!("{h:016x}{:016x}", h.rotate_left(29)),
        name: format!("berries-{n:07}.jpeg"),
        media: MediaKind::Image,
        data,
        links: vec![Link::new("image", &uri).unwrap()],
        annotations: vec![],
        predictions: vec![],
        meta: Map::new(),
        origin: Origin {
            source: "links.csv".into(),
            line: Some(n + 1),
            index: None,
            format: "links-csv".into(),
            plugin: "links-csv@0.1.0".into(),
        },
        explicit_name: false,
    }
}

#[test]
#[ignore]
fn bench_million() {
    let n: u64 = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tasks: Vec<Task> = (0..n).map(t).collect();
    println!(
        "record bytes {}",
        serde_json::to_string(&tasks[0]).unwrap().len()
    );
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    if let Ok(extra) = std::env::var("BENCH_SQL") {
        store.conn.execute_batch(&extra).unwrap();
    }
    let start = Instant::now();
    let mut bytes = 0;
    for task in &tasks {
        bytes += serde_json::to_vec(task).unwrap().len();
    }
    println!("serialize only {:?} ({bytes})", start.elapsed());
    for round in 0..2 {
        let start = Instant::now();
        let mut s = store.begin_import(new_import("d")).unwrap();
        let mut added = 0;
        for task in &tasks {
            added += s.add_task(task).unwrap() as u64;
        }
        let a = start.elapsed();
        let r = s.resolve_names(NamePolicy::Suffix).unwrap();
        let b = start.elapsed();
        s.commit(ImportCounts::default()).unwrap();
        let c = start.elapsed();
        println!(
            "round {round}: added {added} renamed {r}: insert {a:?} names {:?} commit {:?} total {c:?} -> {:.0} rows/s",
            b - a,
            c - b,
            n as f64 / c.as_secs_f64()
        );
    }
    println!(
        "db size {} MB",
        std::fs::metadata(&path).unwrap().len() / 1_000_000
    );
}
