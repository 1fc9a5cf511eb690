//! A process killed in the middle of an import leaves the store as it was.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::{import, new_import, snapshot, task, temp_store};
use crate::store::{SqliteStore, TaskStore};

/// Set in the child process: the store it imports into.
const CHILD_STORE: &str = "TASKPORT_TEST_KILLED_IMPORT_STORE";
/// The child prints this once it is well into its import.
const READY: &str = "import under way";
const TEST: &str = "store::sqlite::tests::kill::killed_import_leaves_the_store_as_before";

fn big_import(store: &mut SqliteStore, tasks: u64, on_progress: impl Fn(u64)) -> u64 {
    let mut session = store.begin_import(new_import("d")).unwrap();
    for n in 0..tasks {
        let t = task(&format!("id-{n}"), &format!("{n}.jpg"), false, n + 1);
        session.add_task(&t).unwrap();
        on_progress(n);
    }
    let added = session.flush().unwrap().added;
    session.commit(Default::default()).unwrap();
    added
}

#[test]
fn killed_import_leaves_the_store_as_before() {
    if let Some(path) = std::env::var_os(CHILD_STORE) {
        // The child: a long import, killed well before it ends.
        let mut store = SqliteStore::open(path.as_ref()).unwrap();
        big_import(&mut store, 3_000_000, |n| {
            if n == 200_000 {
                println!("{READY}");
            }
        });
        return;
    }
    let (_dir, path) = temp_store();
    let mut store = SqliteStore::open(&path).unwrap();
    import(&mut store, "d", &[task("id-0", "0.jpg", false, 1)]);
    let before = snapshot(&path);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_STORE, &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let ready = stdout
        .lines()
        .any(|line| line.is_ok_and(|l| l.contains(READY)));
    // `kill` sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ready, "the child import did not get under way");

    assert_eq!(snapshot(&path), before);
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(big_import(&mut store, 1_000, |_| ()), 999);
    assert_eq!(store.datasets().unwrap()[0].tasks, 1_000);
}
