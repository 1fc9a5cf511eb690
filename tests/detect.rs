//! `taskport detect`: on every example it names the format the seeds call
//! for, with the reason; when formats tie it refuses and lists them.

mod common;

use std::path::{Path, PathBuf};

/// Every example and the format it is in.
const EXAMPLES: [(&str, &str); 24] = [
    (
        "manifests/label-studio-audio-task.json",
        "label-studio-json",
    ),
    ("manifests/label-studio-audios.txt", "txt"),
    ("manifests/label-studio-images.txt", "txt"),
    (
        "manifests/label-studio-opossum-task.json",
        "label-studio-json",
    ),
    ("manifests/label-studio-opossum.csv", "label-studio-csv"),
    ("manifests/label-studio-opossum.json", "label-studio-json"),
    ("manifests/label-studio-plain.txt", "txt"),
    (
        "manifests/label-studio-preannotations.json",
        "label-studio-json",
    ),
    (
        "manifests/label-studio-remote-tasks.json",
        "label-studio-json",
    ),
    ("manifests/label-studio-tasks.csv", "label-studio-csv"),
    ("manifests/label-studio-texts.json", "label-studio-json"),
    ("manifests/label-studio-time-series.txt", "txt"),
    (
        "manifests/supervisely-links-header-semicolon.csv",
        "links-csv",
    ),
    ("manifests/supervisely-links-header.csv", "links-csv"),
    (
        "manifests/supervisely-links-item-objects.json",
        "links-json",
    ),
    ("manifests/supervisely-links-list.json", "links-json"),
    (
        "manifests/supervisely-links-name-link-pairs.json",
        "links-json",
    ),
    ("manifests/supervisely-links-one-column.csv", "links-csv"),
    ("manifests/supervisely-links-one-column.txt", "txt"),
    (
        "manifests/supervisely-links-two-columns-semicolon.csv",
        "links-csv",
    ),
    ("manifests/supervisely-links-two-columns.csv", "links-csv"),
    ("manifests/supervisely-links-two-columns.txt", "txt"),
    ("folders/photos", "image-dir"),
    ("folders/recordings", "audio-dir"),
];

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The `chosen: FORMAT (REASON)` line of a detection.
fn chosen(stdout: &str) -> Option<(&str, &str)> {
    let rest = stdout.lines().find_map(|l| l.strip_prefix("chosen: "))?;
    let (format, reason) = rest.split_once(" (")?;
    Some((format, reason.strip_suffix(')')?))
}

#[test]
fn every_manifest_example_is_listed_here() {
    let mut found: Vec<String> = std::fs::read_dir(examples().join("manifests"))
        .unwrap()
        .map(|entry| {
            let name = entry.unwrap().file_name();
            format!("manifests/{}", name.to_string_lossy())
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = EXAMPLES
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .filter(|path| path.starts_with("manifests/"))
        .collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn detect_names_the_right_format_with_its_reason_for_every_example() {
    for (example, format) in EXAMPLES {
        let output = common::run(common::taskport(&examples()).args(["detect", example]));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{example}: {stdout}{}",
            common::stderr(&output)
        );
        let (named, reason) =
            chosen(&stdout).unwrap_or_else(|| panic!("{example}: no chosen line in {stdout}"));
        assert_eq!(named, format, "{example}: {stdout}");
        assert!(!reason.trim().is_empty(), "{example}: {stdout}");
        // The reason is the one the chosen format's plugin gave, in the table
        // of every candidate.
        let row = stdout
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(format))
            .unwrap_or_else(|| panic!("{example}: no row for {format} in {stdout}"));
        assert!(row.ends_with(reason), "{example}: {row} / {reason}");
        assert!(
            row.starts_with("high") || row.starts_with("medium"),
            "{example}: {row}"
        );
    }
}

#[test]
fn an_empty_csv_is_ambiguous_and_detect_lists_the_tied_candidates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), "").unwrap();
    let output = common::run(common::taskport(dir.path()).args(["detect", "x.csv"]));
    common::assert_clean_error(&output);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(chosen(&stdout).is_none(), "{stdout}");
    let stderr = common::stderr(&output);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("taskport: error: "))
        .unwrap();
    assert!(line.contains("cannot tell the format of x.csv"), "{line}");
    assert!(line.contains("are equally likely"), "{line}");
    for candidate in ["links-csv", "label-studio-csv"] {
        assert!(line.contains(candidate), "{candidate} not in {line}");
    }
}

#[test]
fn an_ambiguous_file_is_refused_by_import_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), "").unwrap();
    let (output, records) = common::convert(dir.path(), "x.csv".as_ref(), &[]);
    common::assert_clean_error(&output);
    assert!(records.is_empty());
    assert!(common::stderr(&output).contains("are equally likely"));
}
