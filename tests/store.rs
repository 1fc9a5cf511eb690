//! The task store through the real binary: idempotent re-imports, the
//! error policy, atomicity under SIGKILL, and the Label Studio round trip.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn stdout(command: &mut Command) -> String {
    let output = common::run(command);
    assert!(output.status.success(), "{}", common::stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// Tasks stored in `dataset`; 0 when the dataset does not exist.
fn task_count(dir: &Path, dataset: &str) -> usize {
    let datasets = stdout(common::taskport(dir).arg("datasets"));
    if !datasets
        .lines()
        .skip(1)
        .any(|line| line.split_whitespace().next() == Some(dataset))
    {
        return 0;
    }
    stdout(common::taskport(dir).args(["tasks", dataset]))
        .lines()
        .count()
}

const LINKS: &str = "image1.jpg,s3://remote-img-test/test_img/berries-01.jpeg\n\
                     image2.jpg,s3://remote-img-test/test_img/berries-02.jpeg\n";

#[test]
fn importing_the_same_manifest_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "links.csv", LINKS);
    let first = common::run(common::taskport(dir.path()).args(["import", "links.csv"]));
    assert!(first.status.success(), "{}", common::stderr(&first));
    assert!(common::stderr(&first).contains("2 added, 0 duplicates skipped"));

    let second = common::run(common::taskport(dir.path()).args(["import", "links.csv"]));
    assert!(second.status.success(), "{}", common::stderr(&second));
    let text = common::stderr(&second);
    assert!(text.contains("0 added, 2 duplicates skipped"), "{text}");
    assert!(text.contains("nothing new"), "{text}");
    assert_eq!(task_count(dir.path(), "links"), 2);

    let imports = stdout(common::taskport(dir.path()).arg("imports"));
    assert_eq!(
        imports.lines().count(),
        3,
        "header and two imports: {imports}"
    );
}

#[test]
fn on_error_fail_stores_nothing_and_skip_stores_the_good_rows() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "links.csv",
        &format!("{LINKS}image3.jpg,no-link-here\n"),
    );

    let fail = common::run(common::taskport(dir.path()).args([
        "import",
        "links.csv",
        "--on-error",
        "fail",
    ]));
    assert_eq!(fail.status.code(), Some(1), "{}", common::stderr(&fail));
    let text = common::stderr(&fail);
    assert!(text.contains("links.csv:3: error [bad-link]"), "{text}");
    assert!(text.contains("nothing was stored"), "{text}");
    assert_eq!(task_count(dir.path(), "links"), 0);
    let imports = stdout(common::taskport(dir.path()).arg("imports"));
    assert!(
        imports.contains("failed"),
        "the failure is in the history: {imports}"
    );

    let skip = common::run(common::taskport(dir.path()).args(["import", "links.csv"]));
    assert_eq!(skip.status.code(), Some(3), "{}", common::stderr(&skip));
    assert!(common::stderr(&skip).contains("links.csv:3: error [bad-link]"));
    assert_eq!(task_count(dir.path(), "links"), 2);
}

#[test]
fn max_errors_gives_up_early_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad: String = (0..50)
        .map(|n| format!("bad{n}.jpg,nowhere{n}\n"))
        .collect();
    write(dir.path(), "links.csv", &format!("{LINKS}{bad}"));
    let output = common::run(common::taskport(dir.path()).args([
        "import",
        "links.csv",
        "--max-errors",
        "5",
    ]));
    assert_eq!(output.status.code(), Some(1));
    assert!(common::stderr(&output).contains("--max-errors 5"));
    assert_eq!(task_count(dir.path(), "links"), 0);
}

#[test]
fn a_dry_run_shows_samples_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "links.csv", LINKS);
    let output =
        common::run(common::taskport(dir.path()).args(["import", "links.csv", "--dry-run"]));
    assert!(output.status.success(), "{}", common::stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("\"name\": \"image1.jpg\""), "{shown}");
    assert!(common::stderr(&output).contains("dry run (nothing stored)"));
    assert_eq!(
        stdout(common::taskport(dir.path()).arg("datasets"))
            .lines()
            .count(),
        1
    );
}

#[test]
fn a_killed_import_leaves_the_store_as_it_was_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.csv", LINKS);
    assert!(
        common::run(common::taskport(dir.path()).args(["import", "small.csv"]))
            .status
            .success()
    );
    let snapshot = |dir: &Path| {
        (
            stdout(common::taskport(dir).arg("datasets")),
            stdout(common::taskport(dir).arg("imports")),
            stdout(common::taskport(dir).args(["tasks", "small"])),
        )
    };
    let before = snapshot(dir.path());

    let rows = 1_000_000;
    let mut big =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("big.csv")).unwrap());
    for n in 0..rows {
        writeln!(big, "item{n}.jpg,s3://bucket/big/{n:07}.jpg").unwrap();
    }
    big.flush().unwrap();
    drop(big);

    let mut child = common::taskport(dir.path())
        .args(["import", "big.csv", "--progress", "json"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it has stored a first batch of tasks, well before the end.
    let mut progress = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut killed_at = None;
    for line in progress.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let added = event["added"].as_u64().unwrap();
        if event["event"] == "progress" && added > 0 {
            child.kill().unwrap();
            killed_at = Some(added);
            break;
        }
    }
    child.wait().unwrap();
    let added = killed_at.expect("the import reported progress before finishing");
    assert!(added < rows, "killed mid-import, after {added} tasks");

    assert_eq!(
        snapshot(dir.path()),
        before,
        "the store is exactly as before"
    );

    let rerun = common::run(common::taskport(dir.path()).args(["import", "big.csv"]));
    assert!(rerun.status.success(), "{}", common::stderr(&rerun));
    assert!(common::stderr(&rerun).contains(&format!("{rows} added")));
}

#[test]
fn a_label_studio_export_reimports_to_the_same_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::manifest("label-studio-preannotations.json");
    let opossum = common::manifest("label-studio-opossum.json");
    for (file, dataset) in [(&source, "original"), (&opossum, "original")] {
        let output = common::run(
            common::taskport(dir.path())
                .arg("import")
                .arg(file)
                .args(["--dataset", dataset]),
        );
        assert!(
            output.status.code() == Some(0),
            "{}",
            common::stderr(&output)
        );
    }
    let exported = dir.path().join("exported.json");
    stdout(
        common::taskport(dir.path())
            .args(["export", "original", "--format", "label-studio", "--out"])
            .arg(&exported),
    );
    let output = common::run(
        common::taskport(dir.path())
            .arg("import")
            .arg(&exported)
            .args(["--dataset", "copy"]),
    );
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert!(common::stderr(&output).contains("as label-studio-json"));

    let content = |dataset: &str| -> Vec<Value> {
        stdout(common::taskport(dir.path()).args(["tasks", dataset]))
            .lines()
            .map(|line| {
                let task: Value = serde_json::from_str(line).unwrap();
                serde_json::json!([
                    task["id"],
                    task["data"],
                    task["annotations"],
                    task["predictions"],
                    task["meta"]
                ])
            })
            .collect()
    };
    let original = content("original");
    assert_eq!(original.len(), 2);
    assert_eq!(content("copy"), original);
}

#[test]
fn colliding_names_get_suffixes_with_explicit_names_reserved_first() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "names.csv",
        "s3://one/cat.jpg\n\
         s3://two/cat.jpg\n",
    );
    write(dir.path(), "named.csv", "cat.jpg,s3://three/dog.jpg\n");
    let names = |dir: &Path| -> Vec<String> {
        stdout(common::taskport(dir).args(["tasks", "pets"]))
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    for file in ["names.csv", "named.csv"] {
        let output =
            common::run(common::taskport(dir.path()).args(["import", file, "--dataset", "pets"]));
        assert!(output.status.success(), "{}", common::stderr(&output));
    }
    // Earlier imports keep their names; the later explicit name is suffixed.
    assert_eq!(names(dir.path()), ["cat.jpg", "cat_1.jpg", "cat_2.jpg"]);

    let strict = common::run(common::taskport(dir.path()).args([
        "import",
        "names.csv",
        "--dataset",
        "strict",
        "--name-collisions",
        "error",
    ]));
    common::assert_clean_error(&strict);
    assert!(
        common::stderr(&strict).contains("\"cat.jpg\""),
        "{}",
        common::stderr(&strict)
    );
}

#[test]
fn tasks_limit_and_jsonl_export_print_the_stored_records() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "links.csv", LINKS);
    assert!(
        common::run(common::taskport(dir.path()).args(["import", "links.csv"]))
            .status
            .success()
    );
    let limited = stdout(common::taskport(dir.path()).args(["tasks", "links", "--limit", "1"]));
    assert_eq!(limited.lines().count(), 1);
    let all = stdout(common::taskport(dir.path()).args(["tasks", "links"]));
    let exported =
        stdout(common::taskport(dir.path()).args(["export", "links", "--format", "jsonl"]));
    assert_eq!(exported, all);
    assert!(all.starts_with(&limited));
    let first: Value = serde_json::from_str(all.lines().next().unwrap()).unwrap();
    assert_eq!(first["name"], "image1.jpg");
    assert_eq!(first["origin"]["line"], 1);
}

#[test]
fn delete_removes_a_dataset_and_frees_its_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "links.csv", LINKS);
    stdout(common::taskport(dir.path()).args(["import", "links.csv"]));
    stdout(common::taskport(dir.path()).args(["import", "links.csv", "--dataset", "kept"]));

    let deleted = common::run(common::taskport(dir.path()).args(["delete", "links"]));
    assert!(deleted.status.success(), "{}", common::stderr(&deleted));
    assert!(common::stderr(&deleted).contains("deleted dataset \"links\": 2 tasks, 1 imports"));
    assert_eq!(task_count(dir.path(), "links"), 0);
    assert_eq!(task_count(dir.path(), "kept"), 2);
    let imports = stdout(common::taskport(dir.path()).arg("imports"));
    assert_eq!(
        imports.lines().count(),
        2,
        "header and one import: {imports}"
    );

    let again = common::run(common::taskport(dir.path()).args(["import", "links.csv"]));
    assert!(common::stderr(&again).contains("2 added, 0 duplicates skipped"));

    let missing = common::run(common::taskport(dir.path()).args(["delete", "nope"]));
    common::assert_clean_error(&missing);
    assert!(common::stderr(&missing).contains("dataset \"nope\" does not exist"));
}
