//! Label Studio task files end to end: the real embedded plugin through the
//! real binary, on the rules of Label Studio's import guide that differ from
//! a naive reading (wrapping, pass-through, cells as strings, row errors).

mod common;

use std::process::Output;

use serde_json::{Value, json};

/// Writes `name` into a fresh folder and imports it without `--format`;
/// returns the output, the records and the `--errors` diagnostics.
fn import(name: &str, content: &str) -> (Output, Vec<Value>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), content).unwrap();
    let errors = dir.path().join("errors.jsonl");
    let (output, records) = common::convert(
        dir.path(),
        name.as_ref(),
        &["--errors", errors.to_str().unwrap()],
    );
    (output, records, common::json_lines_in(&errors))
}

fn assert_success(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(output));
}

#[test]
fn a_task_without_data_is_wrapped_whole_as_its_data() {
    let tasks = json!([
        {"image": "s3://bucket/cats/1.jpg", "caption": "a cat", "ref_id": 7,
         "nested": {"tags": ["a", "b"], "score": 0.5}},
        {"data": {"image": "s3://bucket/cats/2.jpg"}, "meta": {"batch": 3}},
    ]);
    let (output, records, diagnostics) = import("tasks.json", &tasks.to_string());
    assert_success(&output);
    assert_eq!(diagnostics, Vec::<Value>::new());
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["data"], tasks[0]);
    assert_eq!(records[0]["data"].to_string(), tasks[0].to_string());
    assert_eq!(records[0]["name"], "1.jpg");
    assert_eq!(records[0]["links"][0]["field"], "image");
    assert_eq!(records[0]["origin"]["format"], "label-studio-json");
    // A task with `data` uses it and keeps its `meta`.
    assert_eq!(records[1]["data"], tasks[1]["data"]);
    assert_eq!(records[1]["meta"], tasks[1]["meta"]);
}

#[test]
fn predictions_with_results_scores_and_model_versions_survive_unchanged() {
    let text = r#"[
  {"data": {"image": "https://example.com/street/0001.jpg"},
   "predictions": [
     {"model_version": "yolo-v8.1 2024-05-01", "score": 0.8734,
      "result": [
        {"id": "r1", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
         "original_width": 1920, "original_height": 1080, "image_rotation": 0,
         "value": {"x": 12.5, "y": 40, "width": 7.25, "height": 3.125, "rotation": 0,
                   "rectanglelabels": ["Car"]},
         "score": 0.91},
        {"id": "r2", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
         "value": {"x": 1e-3, "y": 99.999, "width": 0.5, "height": 0.5,
                   "rectanglelabels": ["Pedestrian \u00e9\u2603"]},
         "score": 1}
      ]},
     {"model_version": "7", "score": 0, "result": []}
   ]},
  {"data": {"text": "short form"},
   "predictions": [{"result": "Cat", "score": 0.5, "model_version": null}]}
]"#;
    let input: Value = serde_json::from_str(text).unwrap();
    let (output, records, diagnostics) = import("predictions.json", text);
    assert_success(&output);
    assert_eq!(diagnostics, Vec::<Value>::new());
    assert_eq!(records.len(), 2);
    for (record, task) in records.iter().zip(input.as_array().unwrap()) {
        // Equal as JSON values, and serialized the same way (key order kept).
        assert_eq!(record["predictions"], task["predictions"]);
        assert_eq!(
            record["predictions"].to_string(),
            task["predictions"].to_string()
        );
        assert_eq!(record["annotations"], json!([]));
    }
}

#[test]
fn completions_are_accepted_as_annotations() {
    let tasks = json!([
        {"data": {"text": "old export"},
         "completions": [{"result": [{"from_name": "sentiment", "to_name": "text",
                                      "type": "choices", "value": {"choices": ["Positive"]}}],
                          "lead_time": 3.2}]},
        {"data": {"text": "new export"},
         "annotations": [{"result": [], "completed_by": 1}]},
    ]);
    let (output, records, diagnostics) = import("tasks.json", &tasks.to_string());
    assert_success(&output);
    assert_eq!(diagnostics, Vec::<Value>::new());
    assert_eq!(records[0]["annotations"], tasks[0]["completions"]);
    assert_eq!(records[1]["annotations"], tasks[1]["annotations"]);
    for record in &records {
        assert!(record["data"].get("completions").is_none());
    }
}

#[test]
fn reserved_and_unknown_top_level_keys_are_warnings_once_per_key() {
    let tasks = json!([
        {"id": 1, "created_at": "2024-01-01", "data": {"text": "one"}},
        {"id": 2, "data": {"text": "two"}},
    ]);
    let (output, records, diagnostics) = import("tasks.json", &tasks.to_string());
    assert_success(&output);
    assert_eq!(records.len(), 2);
    let codes: Vec<_> = diagnostics
        .iter()
        .map(|d| (d["severity"].clone(), d["code"].clone(), d["index"].clone()))
        .collect();
    let warning = (json!("warning"), json!("ignored-key"), json!(0));
    assert_eq!(codes, [warning.clone(), warning]);
    let messages: String = diagnostics
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains("`id`") && messages.contains("`created_at`"));
}

#[test]
fn csv_cells_stay_the_strings_written_in_the_file() {
    let (output, records, diagnostics) =
        import("cells.csv", "code,status,flag,note\n00123,NA,True,\n");
    assert_success(&output);
    assert_eq!(diagnostics, Vec::<Value>::new());
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["data"],
        json!({"code": "00123", "status": "NA", "flag": "True", "note": ""})
    );
    assert_eq!(records[0]["origin"]["format"], "label-studio-csv");
    assert_eq!(records[0]["origin"]["line"], 2);
}

#[test]
fn tsv_cells_stay_strings_too() {
    let (output, records, _) = import("cells.tsv", "text\tcode\nhello, world\t007\n");
    assert_success(&output);
    assert_eq!(
        records[0]["data"],
        json!({"text": "hello, world", "code": "007"})
    );
    assert_eq!(records[0]["origin"]["format"], "label-studio-csv");
}

#[test]
fn short_and_long_csv_rows_are_field_count_errors_on_their_lines_and_the_rest_imports() {
    let (output, records, diagnostics) = import(
        "rows.csv",
        "text,code\nfirst,1\nshort\nsecond,2\nlong,3,extra\n\nthird,3\n",
    );
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let texts: Vec<_> = records.iter().map(|r| r["data"]["text"].clone()).collect();
    assert_eq!(texts, [json!("first"), json!("second"), json!("third")]);
    let lines: Vec<_> = records
        .iter()
        .map(|r| r["origin"]["line"].clone())
        .collect();
    assert_eq!(lines, [json!(2), json!(4), json!(7)]);

    for line in [3, 5] {
        let named = format!("rows.csv:{line}: error [field-count]");
        assert!(stderr.contains(&named), "{named} not in {stderr}");
    }
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    for (diagnostic, (line, fields)) in diagnostics.iter().zip([(3, 1), (5, 3)]) {
        assert_eq!(
            diagnostic,
            &json!({"source": "rows.csv", "line": line, "index": null, "severity": "error",
                    "code": "field-count", "message": diagnostic["message"]})
        );
        let message = diagnostic["message"].as_str().unwrap();
        assert!(message.contains(&format!("{fields} field")), "{message}");
    }
}

#[test]
fn one_bad_json_line_is_an_error_on_that_line_and_the_other_lines_import() {
    let (output, records, diagnostics) = import(
        "tasks.jsonl",
        "{\"data\": {\"image\": \"s3://b/1.jpg\"}}\n\
         {\"data\": {\"image\": \"s3://b/2.jpg\"\n\
         \n\
         {\"image\": \"s3://b/3.jpg\", \"caption\": \"wrapped\"}\n",
    );
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let names: Vec<_> = records.iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names, [json!("1.jpg"), json!("3.jpg")]);
    assert_eq!(records[1]["origin"]["line"], 4);
    assert_eq!(records[1]["origin"]["format"], "label-studio-jsonl");
    assert_eq!(
        records[1]["data"],
        json!({"image": "s3://b/3.jpg", "caption": "wrapped"})
    );
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["line"], 2);
    assert_eq!(diagnostics[0]["severity"], "error");
    assert!(stderr.contains("tasks.jsonl:2: error"), "{stderr}");
}
