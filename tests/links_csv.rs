//! links-csv end to end: the real embedded plugin, through the real binary,
//! on every CSV shape of the Supervisely "Links" seed.

mod common;

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// The record SPEC shows for an S3 berries image, minus the id.
fn berries(number: u32, name: &str, source: &str, line: u64) -> Value {
    let uri = format!("s3://remote-img-test/test_img/berries-0{number}.jpeg");
    json!({
        "name": name,
        "media": "image",
        "data": {"image": uri},
        "links": [{"field": "image", "uri": uri, "provider": "s3",
                   "bucket": "remote-img-test", "path": format!("test_img/berries-0{number}.jpeg"),
                   "signed": false}],
        "annotations": [], "predictions": [], "meta": {},
        "origin": {"source": source, "line": line, "format": "links-csv", "plugin": "links-csv@0.1.0"},
    })
}

/// Converts an example by its file name and splits off the ids.
fn convert_example(name: &str) -> (Vec<String>, Vec<Value>) {
    let (output, records) = common::convert(&common::manifests(), name.as_ref(), &[]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    records
        .into_iter()
        .map(|mut record| {
            let id = record["id"].as_str().expect("id").to_string();
            record.as_object_mut().unwrap().remove("id");
            (id, record)
        })
        .unzip()
}

#[test]
fn every_csv_shape_of_the_links_seed_imports_to_the_exact_records() {
    let mut ids = BTreeSet::new();
    for (file, named, first_line) in [
        ("supervisely-links-two-columns.csv", true, 1),
        ("supervisely-links-two-columns-semicolon.csv", true, 1),
        ("supervisely-links-one-column.csv", false, 1),
        ("supervisely-links-header.csv", true, 2),
        ("supervisely-links-header-semicolon.csv", true, 2),
    ] {
        let (file_ids, records) = convert_example(file);
        let expected: Vec<Value> = (1..=2)
            .map(|n| {
                let name = if named {
                    format!("image{n}.jpg")
                } else {
                    format!("berries-0{n}.jpeg")
                };
                berries(n, &name, file, first_line + u64::from(n) - 1)
            })
            .collect();
        assert_eq!(records, expected, "{file}");
        ids.extend(file_ids);
    }
    // The same two objects in every file: the same two stable ids.
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids.iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    );
}

#[test]
fn a_bad_link_is_an_error_on_its_line_and_the_other_rows_still_convert() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("links.csv"),
        "image1.jpg,s3://remote-img-test/test_img/berries-01.jpeg\n\
         image2.jpg,not a link\n\
         \n\
         image3.jpg,https://bucket.s3.eu-west-1.amazonaws.com/a/b,c@@d.png\n",
    )
    .unwrap();
    let errors = dir.path().join("errors.jsonl");
    let (output, records) = common::convert(
        dir.path(),
        "links.csv".as_ref(),
        &["--errors", errors.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(3), "{}", common::stderr(&output));
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["name"], "image1.jpg");
    // The unquoted comma belongs to the URL; S3 virtual-hosted form is recognised.
    let link = &records[1]["links"][0];
    assert_eq!(records[1]["origin"]["line"], 4);
    assert_eq!(
        link["uri"],
        "https://bucket.s3.eu-west-1.amazonaws.com/a/b,c@@d.png"
    );
    assert_eq!(link["provider"], "s3");
    assert_eq!(link["bucket"], "bucket");
    assert_eq!(link["path"], "a/b,c@@d.png");

    let stderr = common::stderr(&output);
    assert!(stderr.contains("links.csv:2: error [bad-link]"), "{stderr}");
    let diagnostics: Vec<Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0],
        json!({"source": "links.csv", "line": 2, "index": null, "severity": "error",
               "code": "bad-link", "message": diagnostics[0]["message"]})
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("not a link")
    );
}

#[test]
fn a_missing_file_is_one_clear_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::run(common::taskport(dir.path()).args(["import", "nope.csv"]));
    common::assert_clean_error(&output);
    assert!(common::stderr(&output).contains("cannot read nope.csv: no such file"));
}
