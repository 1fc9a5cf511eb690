use serde_json::{Value, json};

use super::*;
use crate::coco::read_document;

const SAMPLE: &str = include_str!("../../sample/instances.json");

fn settings(options: &[(&str, &str)]) -> Result<Settings, String> {
    let options: Vec<(String, String)> = options
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    Settings::from_options(&options)
}

fn convert(text: &str, options: &[(&str, &str)]) -> (Vec<TaskRecord>, Vec<Diagnostic>) {
    let doc = read_document(text.as_bytes()).expect("a COCO document");
    convert_document(&doc, &settings(options).expect("valid options"))
}

fn predictions(record: &TaskRecord) -> Value {
    serde_json::from_str(record.predictions.as_deref().expect("predictions")).expect("JSON")
}

/// `index | code | message` of each diagnostic, all errors.
fn shown(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|diagnostic| {
            assert_eq!(diagnostic.severity, Severity::Error);
            assert_eq!(diagnostic.origin.line, None);
            let index = diagnostic.origin.index.expect("an index");
            format!("{index} | {} | {}", diagnostic.code, diagnostic.message)
        })
        .collect()
}

#[test]
fn sample_becomes_one_task_per_image() {
    let (records, diagnostics) = convert(SAMPLE, &[]);
    assert!(diagnostics.is_empty());
    assert_eq!(records.len(), 3);

    let first = &records[0];
    assert_eq!(first.origin.index, Some(0));
    assert_eq!(first.origin.line, None);
    assert_eq!(first.name.as_deref(), Some("berries-01.jpeg"));
    assert_eq!(first.data, r#"{"image":"berries-01.jpeg"}"#);
    assert_eq!(first.media_key.as_deref(), Some("image"));
    assert_eq!(first.media_kind.as_deref(), Some("image"));
    assert_eq!(first.annotations, None);
    assert_eq!(first.meta, None);
    let region = |id: &str, label: &str, at: f64, size: f64, score: f64| {
        json!({
            "id": id, "from_name": "label", "to_name": "image", "type": "rectanglelabels",
            "original_width": 640, "original_height": 480, "image_rotation": 0,
            "value": {"x": at, "y": at, "width": size, "height": size, "rotation": 0,
                      "rectanglelabels": [label]},
            "score": score,
        })
    };
    assert_eq!(
        predictions(first),
        json!([{
            "model_version": "coco-import",
            "score": (0.9 + 0.7) / 2.0,
            "result": [
                region("101", "Blueberry", 10.0, 20.0, 0.9),
                region("102", "Raspberry", 50.0, 25.0, 0.7),
            ],
        }])
    );

    let second = predictions(&records[1]);
    assert_eq!(second[0]["score"], json!(0.85));
    assert_eq!(second[0]["result"][0]["original_width"], json!(800));
    assert_eq!(
        second[0]["result"][0]["value"]["width"],
        json!(50.0),
        "400 of 800 pixels"
    );

    let empty = &records[2];
    assert_eq!(empty.origin.index, Some(2));
    assert_eq!(empty.name.as_deref(), Some("empty-basket.jpeg"));
    assert_eq!(
        empty.predictions, None,
        "an image without boxes has no prediction"
    );
}

#[test]
fn options_name_the_tags_and_root_the_links() {
    let options = [
        ("image-root", "s3://berries/coco/"),
        ("from-name", "box"),
        ("to-name", "photo"),
    ];
    let (records, _) = convert(SAMPLE, &options);
    assert_eq!(
        records[0].data,
        r#"{"image":"s3://berries/coco/berries-01.jpeg"}"#
    );
    let result = &predictions(&records[0])[0]["result"][0];
    assert_eq!(
        (&result["from_name"], &result["to_name"]),
        (&json!("box"), &json!("photo"))
    );

    let (records, _) = convert(SAMPLE, &[("image-root", "https://cdn.example.com/img")]);
    assert_eq!(
        records[0].data,
        r#"{"image":"https://cdn.example.com/img/berries-01.jpeg"}"#
    );

    assert_eq!(
        settings(&[("from-name", "")]),
        Err("option `from-name` must not be empty".into())
    );
    assert_eq!(
        settings(&[("image-root", "")]).map(|s| s.image_root),
        Ok(None)
    );
}

#[test]
fn broken_items_are_diagnostics() {
    let doc = r#"{
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 100, "height": 50},
            {"id": 2, "file_name": "b.jpg", "width": 100},
            {"id": 1, "file_name": "c.jpg", "width": 100, "height": 50},
            {"id": "d", "file_name": "d.jpg", "width": 0, "height": 50}
        ],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 5]},
            {"id": 11, "image_id": 9, "category_id": 7, "bbox": [0, 0, 1, 1]},
            {"id": 12, "image_id": 1, "category_id": 8, "bbox": [0, 0, 1, 1]},
            {"id": 13, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1]},
            {"id": 14, "image_id": 1, "category_id": 7, "bbox": [0, 0, -1, 1]},
            {"id": 15, "image_id": 1, "category_id": 7},
            {"image_id": 2, "category_id": 7, "bbox": [0, 0, 1, 1]}
        ],
        "categories": [{"id": 7, "name": "cat"}]
    }"#;
    let (records, diagnostics) = convert(doc, &[]);
    let names: Vec<_> = records.iter().map(|r| r.name.as_deref()).collect();
    assert_eq!(names, [Some("a.jpg")]);
    let result = &predictions(&records[0])[0];
    assert_eq!(result["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        result["result"][0]["value"],
        json!({"x": 10.0, "y": 20.0, "width": 20.0, "height": 10.0, "rotation": 0,
               "rectanglelabels": ["cat"]})
    );
    assert_eq!(result.get("score"), None, "no annotation has a score");
    assert_eq!(result["result"][0].get("score"), None);
    assert_eq!(
        shown(&diagnostics),
        [
            "2 | duplicate-id | images[2]: image id 1 appears twice",
            "1 | bad-reference | annotations[1] (id 11) refers to unknown image 9",
            "2 | bad-reference | annotations[2] (id 12) refers to unknown category 8",
            "3 | bad-bbox | annotations[3] (id 13) has no `bbox` [x, y, width, height] \
             with a non-negative size",
            "4 | bad-bbox | annotations[4] (id 14) has no `bbox` [x, y, width, height] \
             with a non-negative size",
            "5 | bad-bbox | annotations[5] (id 15) has no `bbox` [x, y, width, height] \
             with a non-negative size",
            "1 | missing-size | images[1] `b.jpg` has no positive width and height, \
             so its boxes cannot be converted to percentages",
            "3 | missing-size | images[3] `d.jpg` has no positive width and height, \
             so its boxes cannot be converted to percentages",
        ]
    );
}

#[test]
fn string_ids_missing_ids_and_partial_scores() {
    let doc = r#"{
        "images": [{"id": "img-1", "file_name": "x/a.png", "width": 200.0, "height": 100}],
        "annotations": [
            {"image_id": "img-1", "category_id": "c", "bbox": [0, 0, 50, 50], "score": 0.5},
            {"id": "b", "image_id": "img-1", "category_id": "c", "bbox": [0, 0, 50, 50]}
        ],
        "categories": [{"id": "c", "name": "thing"}]
    }"#;
    let (records, diagnostics) = convert(doc, &[]);
    assert!(diagnostics.is_empty());
    let prediction = &predictions(&records[0])[0];
    assert_eq!(
        prediction["score"],
        json!(0.5),
        "the mean of the scores given"
    );
    assert_eq!(
        prediction["result"][0]["id"],
        json!("0"),
        "the annotation's index"
    );
    assert_eq!(prediction["result"][1]["id"], json!("b"));
    assert_eq!(prediction["result"][0]["original_width"], json!(200.0));
    assert_eq!(prediction["result"][0]["value"]["width"], json!(25.0));
}

#[test]
fn other_documents_are_fatal() {
    for text in [
        "",
        "not json",
        "[]",
        r#"[{"data": {"image": "a.jpg"}}]"#,
        r#"{"annotations": [], "categories": []}"#,
        r#"{"images": {"id": 1}}"#,
        r#"{"images": [{"id": 1}]}"#,
        r#"{"images": []} trailing"#,
        &format!(r#"{{"images": {}"#, "[".repeat(100_000)),
    ] {
        let error = read_document(text.as_bytes()).expect_err(text);
        assert!(error.starts_with("not a COCO document: "), "{error}");
    }
    let error = read_document(&br#"{"images": [{"id": 1, "#[..]).expect_err("cut");
    assert!(error.contains("EOF"), "{error}");
}

#[test]
fn arrays_are_not_coco() {
    for text in ["[1, 2]", " \n [{\"data\": {}}]"] {
        assert_eq!(
            read_document(text.as_bytes()).map(|_| ()),
            Err("not a COCO document: expected a JSON object with an `images` array".into())
        );
    }
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = format!("\u{feff}{SAMPLE}");
    let doc = read_document(text.as_bytes()).expect("a COCO document");
    assert_eq!(doc.images.len(), 3);
}

#[test]
fn an_empty_document_has_no_tasks() {
    let (records, diagnostics) = convert(r#"{"images": []}"#, &[]);
    assert!(records.is_empty() && diagnostics.is_empty());
}
