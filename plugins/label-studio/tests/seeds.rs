//! The Label Studio import examples and edge cases.

use taskport_label_studio::LabelStudio;
use taskport_plugin_sdk::{Collector, Converter, Detection, convert_bytes};

macro_rules! manifest {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/manifests/",
            $name
        ))
    };
}

fn convert(format: &str, bytes: &[u8]) -> Collector {
    let (collector, result) = convert_bytes::<LabelStudio>(format, &[], bytes);
    assert_eq!(result, Ok(()));
    collector
}

/// A record without name, media key, media kind, annotations, predictions or meta.
fn plain(origin: &str, data: &str) -> String {
    format!("{origin} | - | - | - | {data} | - | - | -")
}

#[test]
fn texts_json() {
    let out = convert("label-studio-json", manifest!("label-studio-texts.json"));
    assert_eq!(
        out.shown_records(),
        [
            plain("line 2 index 0 @2", r#"{"text":"1st text"}"#),
            plain("line 3 index 1 @25", r#"{"text":"2nd text"}"#),
            plain("line 4 index 2 @48", r#"{"text":"3rd text"}"#),
        ]
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn remote_tasks_json() {
    let out = convert(
        "label-studio-json",
        manifest!("label-studio-remote-tasks.json"),
    );
    assert_eq!(
        out.shown_records(),
        [
            plain("line 2 index 0 @2", r#"{"remote":"s3://bucket/text1.csv"}"#),
            plain(
                "line 3 index 1 @41",
                r#"{"remote":"s3://bucket/text2.csv"}"#
            ),
        ]
    );
}

#[test]
fn single_task_objects() {
    let out = convert(
        "label-studio-json",
        manifest!("label-studio-opossum-task.json"),
    );
    assert_eq!(
        out.shown_records(),
        [plain("line 1 @0", r#"{"text":"My awesome opossum"}"#)]
    );
    let out = convert(
        "label-studio-json",
        manifest!("label-studio-audio-task.json"),
    );
    assert_eq!(
        out.shown_records(),
        [plain(
            "line 1 @0",
            "{\n\"audio\": \"https://host.name/myaudio.wav\"\n}"
        )]
    );
}

#[test]
fn preannotations_pass_through() {
    let file = manifest!("label-studio-preannotations.json");
    let out = convert("label-studio-json", file);
    assert!(out.diagnostics.is_empty());
    let [task] = &out.records[..] else {
        panic!("one task expected")
    };
    assert_eq!(task.origin.line, Some(1));
    assert_eq!(task.origin.index, Some(0));
    assert_eq!(
        task.data,
        "{\n    \"image_url\": \"https://my.domain.com/image1.jpg\"\n  }"
    );
    let text = std::str::from_utf8(file).unwrap();
    let start = text.find("[{\n    \"result\"").unwrap();
    let end = text.rfind("}]\n}]").unwrap() + 2;
    assert_eq!(task.predictions.as_deref(), Some(&text[start..end]));
    assert_eq!(task.annotations, None);
}

#[test]
fn opossum_completions_and_ignored_keys() {
    let file = manifest!("label-studio-opossum.json");
    let out = convert("label-studio-json", file);
    let [task] = &out.records[..] else {
        panic!("one task expected")
    };
    let data: serde_json::Value = serde_json::from_str(&task.data).unwrap();
    assert_eq!(data["my_text"], "Opossum is great");
    assert_eq!(data["ref_id"], 456);
    assert_eq!(data["meta_info"]["location"], "North Pole");
    assert!(task.data.find("my_text") < task.data.find("ref_id"));
    let annotations: serde_json::Value =
        serde_json::from_str(task.annotations.as_deref().unwrap()).unwrap();
    assert_eq!(
        annotations[0]["result"][0]["value"]["choices"][0],
        "Positive"
    );
    let predictions: serde_json::Value =
        serde_json::from_str(task.predictions.as_deref().unwrap()).unwrap();
    assert_eq!(predictions[0]["score"], 0.95);
    assert_eq!(
        out.shown_diagnostics(),
        [
            "line 1 index 0 @1 | warning | ignored-key | top-level key `id` is ignored (reported once per file)"
        ]
    );
}

#[test]
fn task_rules() {
    let input = br#"[
  {"id": 1, "data": {"image": "s3://b/1.png"}, "created_at": "x", "meta": {"a": 1}},
  {"id": 2, "data": {"image": "s3://b/2.png"}, "annotations": [{"result": []}], "completions": []},
  {"data": {"text": "x"}, "predictions": [{"result": "Cat"}]},
  {"image": "s3://b/3.png", "predictions": []},
  "s3://b/4.png",
  {"data": "s3://b/5.png"},
  {"data": {}},
  {}
]"#;
    let out = convert("label-studio-json", input);
    assert_eq!(
        out.shown_records(),
        [
            r#"line 2 index 0 @4 | - | - | - | {"image": "s3://b/1.png"} | - | - | {"a": 1}"#,
            r#"line 3 index 1 @89 | - | - | - | {"image": "s3://b/2.png"} | [{"result": []}] | - | -"#,
            r#"line 4 index 2 @189 | - | - | - | {"text": "x"} | - | [{"result": "Cat"}] | -"#,
            r#"line 5 index 3 @252 | - | - | - | {"image":"s3://b/3.png","predictions":[]} | - | - | -"#,
        ]
    );
    assert_eq!(
        out.shown_diagnostics(),
        [
            "line 2 index 0 @4 | warning | ignored-key | top-level key `id` is ignored (reported once per file)",
            "line 2 index 0 @4 | warning | ignored-key | top-level key `created_at` is ignored (reported once per file)",
            "line 3 index 1 @89 | warning | ignored-key | top-level key `completions` is ignored (reported once per file)",
            "line 6 index 4 @300 | error | bad-shape | a task must be a JSON object, found a string",
            "line 7 index 5 @318 | error | bad-shape | `data` must be a JSON object",
            "line 8 index 6 @346 | error | missing-data | `data` is empty",
            "line 9 index 7 @362 | error | missing-data | the task is an empty object",
        ]
    );
}

#[test]
fn malformed_json_is_fatal() {
    let (out, result) = convert_bytes::<LabelStudio>(
        "label-studio-json",
        &[],
        b"[{\"data\": {\"a\": 1}},\n{\"data\": }]",
    );
    assert_eq!(out.records.len(), 1);
    assert_eq!(result, Err("line 2 column 10: expected value".into()));
    let (_, result) = convert_bytes::<LabelStudio>("label-studio-json", &[], b"\"just a string\"");
    assert!(
        result
            .unwrap_err()
            .contains("expected a JSON array or object")
    );
}

#[test]
fn bom_and_crlf_json() {
    let out = convert(
        "label-studio-json",
        b"\xEF\xBB\xBF[\r\n{\"text\": \"a\"},\r\n\r\n{\"text\": \"b\"}]\r\n",
    );
    assert_eq!(
        out.shown_records(),
        [
            plain("line 2 index 0 @6", r#"{"text":"a"}"#),
            plain("line 4 index 1 @24", r#"{"text":"b"}"#),
        ]
    );
}

#[test]
fn json_lines() {
    let input = b"\xEF\xBB\xBF{\"data\": {\"text\": \"a\"}, \"id\": 7}\r\n\r\n{\"text\": \"b\"}\n{broken\n[1]\n{\"id\": 8, \"data\": {\"t\": 1}}";
    let out = convert("label-studio-jsonl", input);
    assert_eq!(
        out.shown_records(),
        [
            plain("line 1 @3", r#"{"text": "a"}"#),
            plain("line 3 @39", r#"{"text":"b"}"#),
            plain("line 6 @65", r#"{"t": 1}"#),
        ]
    );
    assert_eq!(
        out.shown_diagnostics(),
        [
            "line 1 @3 | warning | ignored-key | top-level key `id` is ignored (reported once per file)",
            "line 4 @53 | error | bad-json | column 2: key must be a string",
            "line 5 @61 | error | bad-shape | a task must be a JSON object, found an array",
        ]
    );
}

#[test]
fn csv_tasks() {
    let out = convert("label-studio-csv", manifest!("label-studio-tasks.csv"));
    assert_eq!(
        out.shown_records(),
        [
            plain(
                "line 2 @23",
                r#"{"my_text":"this is a first task","optional_field":"123"}"#
            ),
            plain(
                "line 3 @48",
                r#"{"my_text":"this is a second task","optional_field":"456"}"#
            ),
        ]
    );
    let out = convert("label-studio-csv", manifest!("label-studio-opossum.csv"));
    assert_eq!(
        out.shown_records(),
        [plain("line 2 @5", r#"{"text":"My awesome opossum"}"#)]
    );
}

#[test]
fn csv_cells_stay_strings() {
    let input = b"\xEF\xBB\xBFid,flag,note,empty\r\n00123,True,NA,\r\n\r\n\"1,5\",\"say \"\"hi\"\"\nthere\",null,\"\"\r\n";
    let out = convert("label-studio-csv", input);
    assert_eq!(
        out.shown_records(),
        [
            plain(
                "line 2 @23",
                r#"{"id":"00123","flag":"True","note":"NA","empty":""}"#
            ),
            plain(
                "line 4 @41",
                r#"{"id":"1,5","flag":"say \"hi\"\nthere","note":"null","empty":""}"#
            ),
        ]
    );
}

#[test]
fn csv_field_counts_and_tsv() {
    let out = convert("label-studio-csv", b"a\tb\n1\t2\n1\n1\t2\t3\n");
    assert_eq!(
        out.shown_records(),
        [plain("line 2 @4", r#"{"a":"1","b":"2"}"#)]
    );
    assert_eq!(
        out.shown_diagnostics(),
        [
            "line 3 @8 | error | field-count | row has 1 fields, the header has 2",
            "line 4 @10 | error | field-count | row has 3 fields, the header has 2",
        ]
    );
    let out = convert("label-studio-csv", b"x;y\n1;2\n");
    assert_eq!(out.records[0].data, r#"{"x":"1","y":"2"}"#);
}

#[test]
fn csv_headers() {
    let out = convert("label-studio-csv", b",text\n0,hi\n");
    assert_eq!(
        out.shown_records(),
        [plain("line 2 @6", r#"{"text":"hi"}"#)]
    );
    assert_eq!(out.diagnostics[0].code, "ignored-column");
    let (_, result) = convert_bytes::<LabelStudio>("label-studio-csv", &[], b"a,a\n1,2\n");
    assert_eq!(
        result,
        Err("line 1: the header names column `a` twice".into())
    );
}

fn confidences(name: &str, head: &[u8]) -> Vec<(String, taskport_plugin_sdk::Confidence)> {
    LabelStudio::detect(name, head)
        .into_iter()
        .map(
            |Detection {
                 format, confidence, ..
             }| (format, confidence),
        )
        .collect()
}

fn best(name: &str, head: &[u8]) -> Option<String> {
    use taskport_plugin_sdk::Confidence::High;
    let found = confidences(name, head);
    let high: Vec<_> = found.iter().filter(|(_, c)| *c == High).collect();
    assert!(high.len() <= 1, "{name}: {found:?}");
    high.first().map(|(format, _)| format.clone())
}

#[test]
fn detection() {
    let json = Some("label-studio-json".to_owned());
    let csv = Some("label-studio-csv".to_owned());
    let jsonl = Some("label-studio-jsonl".to_owned());
    assert_eq!(best("t.json", manifest!("label-studio-texts.json")), json);
    assert_eq!(best("t.json", manifest!("label-studio-opossum.json")), json);
    assert_eq!(
        best("t.json", manifest!("label-studio-preannotations.json")),
        json
    );
    assert_eq!(
        best("t.json", manifest!("label-studio-audio-task.json")),
        json
    );
    assert_eq!(
        best("t.json", manifest!("label-studio-remote-tasks.json")),
        json
    );
    assert_eq!(best("t.csv", manifest!("label-studio-tasks.csv")), csv);
    assert_eq!(best("t.csv", manifest!("label-studio-opossum.csv")), csv);
    assert_eq!(
        best("t.jsonl", b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n"),
        jsonl
    );
    assert_eq!(
        best("t.json", b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n"),
        jsonl
    );
    for (name, links) in [
        (
            "l.json",
            &manifest!("supervisely-links-item-objects.json")[..],
        ),
        (
            "l.json",
            manifest!("supervisely-links-name-link-pairs.json"),
        ),
        ("l.json", manifest!("supervisely-links-list.json")),
        ("l.csv", manifest!("supervisely-links-two-columns.csv")),
        ("l.csv", manifest!("supervisely-links-one-column.csv")),
        ("l.csv", manifest!("supervisely-links-header.csv")),
        ("l.csv", manifest!("supervisely-links-header-semicolon.csv")),
    ] {
        assert_eq!(best(name, links), None, "{name}");
    }
}
