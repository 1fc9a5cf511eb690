//! Every example manifest of the seed documents (Supervisely "Links", Label
//! Studio's import guides) imports without `--format` to the records the
//! seeds describe, through the real binary and the real embedded plugins; and
//! the example folders import as image and audio folders.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Every file of `examples/manifests/`, each checked below.
const MANIFESTS: [&str; 22] = [
    "label-studio-audio-task.json",
    "label-studio-audios.txt",
    "label-studio-images.txt",
    "label-studio-opossum-task.json",
    "label-studio-opossum.csv",
    "label-studio-opossum.json",
    "label-studio-plain.txt",
    "label-studio-preannotations.json",
    "label-studio-remote-tasks.json",
    "label-studio-tasks.csv",
    "label-studio-texts.json",
    "label-studio-time-series.txt",
    "supervisely-links-header-semicolon.csv",
    "supervisely-links-header.csv",
    "supervisely-links-item-objects.json",
    "supervisely-links-list.json",
    "supervisely-links-name-link-pairs.json",
    "supervisely-links-one-column.csv",
    "supervisely-links-one-column.txt",
    "supervisely-links-two-columns-semicolon.csv",
    "supervisely-links-two-columns.csv",
    "supervisely-links-two-columns.txt",
];

/// Where a record came from: the physical line its item starts on and, for
/// JSON arrays, its element index.
struct At {
    line: u64,
    index: Option<u64>,
}

fn at(line: u64) -> At {
    At { line, index: None }
}

fn element(line: u64, index: u64) -> At {
    At {
        line,
        index: Some(index),
    }
}

/// A classified link.
fn link(field: &str, uri: &str, provider: &str, bucket: Option<&str>, path: &str) -> Value {
    json!({"field": field, "uri": uri, "provider": provider, "bucket": bucket,
           "path": path, "signed": false})
}

/// An http(s) link: no bucket, the URL's path.
fn http_link(field: &str, uri: &str) -> Value {
    let path = &uri[uri.find("://").unwrap() + 3..];
    let path = &path[path.find('/').unwrap()..];
    link(field, uri, "http", None, path)
}

/// A whole normalized record, without its id.
fn record(
    source: &str,
    (format, plugin): (&str, &str),
    name: &str,
    media: &str,
    data: Value,
    links: Vec<Value>,
    at: At,
) -> Value {
    let mut origin = json!({"source": source, "line": at.line});
    if let Some(index) = at.index {
        origin["index"] = json!(index);
    }
    origin["format"] = json!(format);
    origin["plugin"] = json!(plugin);
    json!({"name": name, "media": media, "data": data, "links": links,
           "annotations": [], "predictions": [], "meta": {}, "origin": origin})
}

const LINKS_CSV: (&str, &str) = ("links-csv", "links-csv@0.1.0");
const LINKS_JSON: (&str, &str) = ("links-json", "links-json@0.1.0");
const TXT: (&str, &str) = ("txt", "txt@0.1.0");
const LS_JSON: (&str, &str) = ("label-studio-json", "label-studio@0.1.0");
const LS_CSV: (&str, &str) = ("label-studio-csv", "label-studio@0.1.0");

/// The Supervisely seed's two berries images, named `image1.jpg`,
/// `image2.jpg` when the file names them.
fn berries(source: &str, format: (&str, &str), named: bool, at: [At; 2]) -> Vec<Value> {
    at.into_iter()
        .zip(1..)
        .map(|(at, n)| {
            let uri = format!("s3://remote-img-test/test_img/berries-0{n}.jpeg");
            let name = if named {
                format!("image{n}.jpg")
            } else {
                format!("berries-0{n}.jpeg")
            };
            let path = format!("test_img/berries-0{n}.jpeg");
            let links = vec![link("image", &uri, "s3", Some("remote-img-test"), &path)];
            record(
                source,
                format,
                &name,
                "image",
                json!({"image": uri}),
                links,
                at,
            )
        })
        .collect()
}

/// Label Studio's lists of URLs, one per line: the data key follows the
/// media kind of the link's extension.
fn url_lines(source: &str, media: &str, key: &str, uris: &[&str]) -> Vec<Value> {
    uris.iter()
        .zip(1..)
        .map(|(uri, line)| {
            let name = &uri[uri.rfind('/').unwrap() + 1..];
            let data = json!({key: uri});
            record(
                source,
                TXT,
                name,
                media,
                data,
                vec![http_link(key, uri)],
                at(line),
            )
        })
        .collect()
}

/// The manifest parsed as JSON, to compare pass-through parts with.
fn input_json(file: &str) -> Value {
    let text = std::fs::read_to_string(common::manifest(file)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The records each example must import to, in order, without ids.
fn expected(file: &str) -> Vec<Value> {
    match file {
        "supervisely-links-two-columns.csv" | "supervisely-links-two-columns-semicolon.csv" => {
            berries(file, LINKS_CSV, true, [at(1), at(2)])
        }
        "supervisely-links-one-column.csv" => berries(file, LINKS_CSV, false, [at(1), at(2)]),
        "supervisely-links-header.csv" | "supervisely-links-header-semicolon.csv" => {
            berries(file, LINKS_CSV, true, [at(2), at(3)])
        }
        "supervisely-links-item-objects.json" => {
            berries(file, LINKS_JSON, true, [element(2, 0), element(6, 1)])
        }
        "supervisely-links-name-link-pairs.json" => {
            berries(file, LINKS_JSON, true, [element(2, 0), element(3, 1)])
        }
        "supervisely-links-list.json" => {
            berries(file, LINKS_JSON, false, [element(2, 0), element(3, 1)])
        }
        "supervisely-links-two-columns.txt" => berries(file, TXT, true, [at(1), at(2)]),
        "supervisely-links-one-column.txt" => berries(file, TXT, false, [at(1), at(2)]),
        "label-studio-images.txt" => url_lines(
            file,
            "image",
            "image",
            &[
                "https://my.domain.com/image1.jpg",
                "https://my.domain.com/image2.jpg",
                "https://my.domain.com/image3.jpg",
            ],
        ),
        // The seed's audio list holds `.jpg` links: the extension decides.
        "label-studio-audios.txt" => url_lines(
            file,
            "image",
            "image",
            &[
                "https://my.domain.com/audio1.jpg",
                "https://my.domain.com/audio2.jpg",
                "https://my.domain.com/audio3.jpg",
            ],
        ),
        "label-studio-time-series.txt" => url_lines(
            file,
            "timeseries",
            "timeseries",
            &[
                "https://my.domain.com/time-series1.csv",
                "https://my.domain.com/time-series2.csv",
                "https://my.domain.com/time-series3.csv",
            ],
        ),
        "label-studio-plain.txt" => ["this is a first task", "this is a second task"]
            .into_iter()
            .zip(1..)
            .map(|(text, line)| {
                let name = format!("line-{line}");
                let data = json!({"text": text});
                record(file, TXT, &name, "text", data, vec![], at(line))
            })
            .collect(),
        "label-studio-texts.json" => ["1st text", "2nd text", "3rd text"]
            .into_iter()
            .zip(0..)
            .map(|(text, index)| {
                let name = format!("item-{index}");
                let data = json!({"text": text});
                record(
                    file,
                    LS_JSON,
                    &name,
                    "text",
                    data,
                    vec![],
                    element(index + 2, index),
                )
            })
            .collect(),
        // One task object, wrapped whole as data: a single object has no
        // element index.
        "label-studio-opossum-task.json" => {
            let data = input_json(file);
            assert!(data.get("data").is_none());
            vec![record(file, LS_JSON, "line-1", "text", data, vec![], at(1))]
        }
        "label-studio-audio-task.json" => {
            let uri = "https://host.name/myaudio.wav";
            let data = input_json(file)["data"].clone();
            assert_eq!(data, json!({"audio": uri}));
            let links = vec![http_link("audio", uri)];
            vec![record(
                file,
                LS_JSON,
                "myaudio.wav",
                "audio",
                data,
                links,
                at(1),
            )]
        }
        "label-studio-opossum.csv" => vec![record(
            file,
            LS_CSV,
            "line-2",
            "text",
            json!({"text": "My awesome opossum"}),
            vec![],
            at(2),
        )],
        "label-studio-tasks.csv" => [
            ("this is a first task", "123"),
            ("this is a second task", "456"),
        ]
        .into_iter()
        .zip(2..)
        .map(|((text, field), line)| {
            let name = format!("line-{line}");
            let data = json!({"my_text": text, "optional_field": field});
            record(file, LS_CSV, &name, "unknown", data, vec![], at(line))
        })
        .collect(),
        "label-studio-remote-tasks.json" => (1..=2)
            .map(|n| {
                let uri = format!("s3://bucket/text{n}.csv");
                let path = format!("text{n}.csv");
                let links = vec![link("remote", &uri, "s3", Some("bucket"), &path)];
                let data = json!({"remote": uri});
                let at = element(n + 1, n - 1);
                record(file, LS_JSON, &path, "timeseries", data, links, at)
            })
            .collect(),
        "label-studio-preannotations.json" => {
            let input = input_json(file);
            let uri = "https://my.domain.com/image1.jpg";
            assert_eq!(input[0]["data"], json!({"image_url": uri}));
            let links = vec![http_link("image_url", uri)];
            let data = input[0]["data"].clone();
            let mut task = record(
                file,
                LS_JSON,
                "image1.jpg",
                "image",
                data,
                links,
                element(1, 0),
            );
            task["predictions"] = input[0]["predictions"].clone();
            vec![task]
        }
        "label-studio-opossum.json" => {
            let input = input_json(file);
            let data = input[0]["data"].clone();
            let mut task = record(
                file,
                LS_JSON,
                "item-0",
                "unknown",
                data,
                vec![],
                element(1, 0),
            );
            task["annotations"] = input[0]["completions"].clone();
            task["predictions"] = input[0]["predictions"].clone();
            vec![task]
        }
        other => panic!("no expectation for {other}"),
    }
}

/// Imports an example without `--format`; returns the records, their ids
/// and the diagnostics written with `--errors`.
fn import(file: &str) -> (Output, Vec<Value>, Vec<String>, Vec<Value>) {
    let scratch = tempfile::tempdir().unwrap();
    let errors = scratch.path().join("errors.jsonl");
    let (output, records) = common::convert(
        &common::manifests(),
        file.as_ref(),
        &["--errors", errors.to_str().unwrap()],
    );
    let diagnostics = common::json_lines_in(&errors);
    let (ids, records) = records
        .into_iter()
        .map(|mut record| {
            let id = record["id"].as_str().expect("id").to_owned();
            record.as_object_mut().unwrap().remove("id");
            (id, record)
        })
        .unzip();
    (output, records, ids, diagnostics)
}

fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What makes two records the same object: the canonical form of their
/// main link, or their data when they have none.
fn object_key(record: &Value) -> String {
    match record["links"].get(0) {
        Some(link) => format!(
            "{} {} {}",
            link["provider"],
            link["bucket"],
            link["path"].as_str().unwrap()
        ),
        None => record["data"].to_string(),
    }
}

#[test]
fn the_examples_folder_holds_exactly_the_manifests_under_test() {
    let mut found: Vec<String> = std::fs::read_dir(common::manifests())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = MANIFESTS.iter().map(|name| (*name).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn every_example_manifest_imports_without_format_to_the_records_its_seed_describes() {
    let mut ids_by_object: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in MANIFESTS {
        let (output, records, ids, diagnostics) = import(file);
        let stderr = common::stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{file}: {stderr}");
        assert_eq!(records, expected(file), "{file}");
        if file == "label-studio-opossum.json" {
            // The seed's reserved `"id": 123` is ignored with a warning, and
            // a warning alone does not fail the import.
            assert_eq!(diagnostics.len(), 1, "{file}: {diagnostics:?}");
            let warning = &diagnostics[0];
            assert_eq!(
                (&warning["severity"], &warning["code"]),
                (&json!("warning"), &json!("ignored-key"))
            );
            assert_eq!(
                (&warning["line"], &warning["index"]),
                (&json!(1), &json!(0))
            );
            assert!(warning["message"].as_str().unwrap().contains("`id`"));
            assert!(
                stderr.contains("label-studio-opossum.json:1: warning [ignored-key]"),
                "{stderr}"
            );
        } else {
            assert_eq!(diagnostics, Vec::<Value>::new(), "{file}");
        }
        for (id, record) in ids.iter().zip(&records) {
            assert!(is_id(id), "{file}: {id}");
            ids_by_object
                .entry(object_key(record))
                .or_default()
                .insert(id.clone());
        }
    }
    // One object, one id, whichever file and format it came from; distinct
    // objects, distinct ids.
    for (object, ids) in &ids_by_object {
        assert_eq!(ids.len(), 1, "{object}: {ids:?}");
    }
    let distinct: BTreeSet<_> = ids_by_object.values().flatten().collect();
    assert_eq!(distinct.len(), ids_by_object.len());
    let shared = |uri_path: &str| {
        ids_by_object
            .keys()
            .filter(|key| key.ends_with(uri_path))
            .count()
    };
    // The berries of the Supervisely seed, the first image of Label Studio's
    // URL list and its pre-annotated task, and the opossum text in JSON and
    // CSV are each one object.
    assert_eq!(shared("test_img/berries-01.jpeg"), 1);
    assert_eq!(shared("/image1.jpg"), 1);
    assert!(ids_by_object.contains_key(&json!({"text": "My awesome opossum"}).to_string()));
}

#[test]
fn label_studio_predictions_and_completions_survive_the_import_unchanged() {
    for (file, from, to) in [
        (
            "label-studio-preannotations.json",
            "predictions",
            "predictions",
        ),
        ("label-studio-opossum.json", "predictions", "predictions"),
        ("label-studio-opossum.json", "completions", "annotations"),
    ] {
        let (output, records, _, _) = import(file);
        assert!(output.status.success(), "{}", common::stderr(&output));
        let input = input_json(file);
        assert!(!input[0][from].as_array().unwrap().is_empty());
        // Equal as values and in key order.
        assert_eq!(records[0][to], input[0][from], "{file} {from}");
        assert_eq!(
            records[0][to].to_string(),
            input[0][from].to_string(),
            "{file} {from}"
        );
    }
}

/// `examples/folders/NAME`.
fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/folders")
        .join(name)
}

/// The records a folder must import to: one per media file, named by its
/// path relative to the folder, linked by an absolute `file://` URI.
fn folder_records(name: &str, format: &str, media: &str, files: &[&str]) -> Vec<Value> {
    let root = folder(name).canonicalize().unwrap();
    let source = format!("examples/folders/{name}");
    files
        .iter()
        .map(|file| {
            let path = root.join(file);
            let uri = url::Url::from_file_path(&path).unwrap().to_string();
            let path = path.to_str().unwrap();
            json!({
                "name": file, "media": media, "data": {media: uri},
                "links": [link(media, &uri, "file", None, path)],
                "annotations": [], "predictions": [], "meta": {},
                "format": format, "plugin": format!("{format}@0.1.0"), "source": source,
            })
        })
        .collect()
}

/// Imports an example folder from the repository root and keeps what
/// `folder_records` describes. Each example folder holds one visible file
/// of another media kind.
fn import_folder(name: &str) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = format!("examples/folders/{name}");
    let (output, records) = common::convert(&root, source.as_ref(), &[]);
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // The one visible file of another kind is reported, as a warning.
    assert!(
        stderr.contains(&format!(
            "{source}: warning [skipped-files]: 1 file(s) skipped"
        )),
        "{stderr}"
    );
    records
        .into_iter()
        .map(|mut record| {
            assert!(is_id(record["id"].as_str().unwrap()));
            let origin = record["origin"].clone();
            let object = record.as_object_mut().unwrap();
            object.remove("id");
            object.remove("origin");
            assert!(origin["line"].as_u64().is_some(), "{origin}");
            for key in ["format", "plugin", "source"] {
                object.insert(key.to_owned(), origin[key].clone());
            }
            record
        })
        .collect()
}

#[test]
fn an_image_folder_imports_its_visible_images_with_absolute_file_uris() {
    let records = import_folder("photos");
    let expected = folder_records(
        "photos",
        "image-dir",
        "image",
        &["berries-01.jpg", "nested/berries-02.PNG"],
    );
    assert_eq!(records, expected);
    for record in &records {
        let uri = record["data"]["image"].as_str().unwrap();
        assert!(uri.starts_with("file:///"), "{uri}");
        assert!(!uri.contains("/."), "a hidden entry was listed: {uri}");
    }
    // The skipped entries exist, so skipping them is what was proven.
    for hidden in [".hidden.jpg", ".cache/skip.jpg", "notes.txt"] {
        assert!(folder("photos").join(hidden).is_file(), "{hidden}");
    }
}

#[test]
fn an_audio_folder_imports_its_recordings_and_not_its_cover_image() {
    let records = import_folder("recordings");
    let expected = folder_records(
        "recordings",
        "audio-dir",
        "audio",
        &["take-1.wav", "take-2.MP3"],
    );
    assert_eq!(records, expected);
    assert!(folder("recordings").join("cover.jpg").is_file());
}

#[test]
fn symlinks_in_a_folder_are_followed_and_loops_neither_hang_nor_crash_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(photos.join("album")).unwrap();
    std::fs::write(photos.join("album/cat.jpg"), b"placeholder").unwrap();
    std::os::unix::fs::symlink("..", photos.join("album/up")).unwrap();
    std::os::unix::fs::symlink("loop-b", photos.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", photos.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("album/cat.jpg", photos.join("linked.jpg")).unwrap();
    std::os::unix::fs::symlink("nowhere.jpg", photos.join("dangling.jpg")).unwrap();

    let mut child = common::taskport(dir.path())
        .args(["import", "photos", "--no-store", "--out", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("the import did not finish on a symlink loop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let records = common::json_lines(&output);
    let names: Vec<_> = records.iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names, [json!("album/cat.jpg"), json!("linked.jpg")]);
}
