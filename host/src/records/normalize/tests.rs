use super::*;
use serde_json::json;

fn normalizer() -> Normalizer {
    Normalizer::new(
        "links.csv",
        "links-csv",
        "links-csv@0.1.0",
        RecordLimits::default(),
    )
}

fn raw(data: &str) -> RawRecord {
    RawRecord {
        origin: RawOrigin {
            line: Some(1),
            ..RawOrigin::default()
        },
        data: data.to_owned(),
        ..RawRecord::default()
    }
}

fn error_of(record: RawRecord) -> Diagnostic {
    normalizer()
        .normalize(record)
        .expect_err("should be rejected")
}

#[test]
fn spec_example_record() {
    let mut record = raw(r#"{"image": "s3://remote-img-test/test_img/berries-01.jpeg"}"#);
    record.name = Some("image1.jpg".into());
    record.media_key = Some("image".into());
    let task = normalizer().normalize(record).unwrap();
    let mut json = serde_json::to_value(&task).unwrap();
    assert_eq!(json["id"].as_str().unwrap().len(), 32);
    json["id"] = json!("stable id");
    let expected = json!({"id": "stable id", "name": "image1.jpg", "media": "image",
        "data": {"image": "s3://remote-img-test/test_img/berries-01.jpeg"},
        "links": [{"field": "image", "uri": "s3://remote-img-test/test_img/berries-01.jpeg",
                   "provider": "s3", "bucket": "remote-img-test", "path": "test_img/berries-01.jpeg",
                   "signed": false}],
        "annotations": [], "predictions": [], "meta": {},
        "origin": {"source": "links.csv", "line": 1, "format": "links-csv", "plugin": "links-csv@0.1.0"}});
    assert_eq!(json, expected);
    assert!(task.explicit_name);
}

#[test]
fn keeps_data_key_order() {
    let task = normalizer()
        .normalize(raw(r#"{"z": "1", "a": "2", "m": "3"}"#))
        .unwrap();
    let keys: Vec<&str> = task.data.keys().map(String::as_str).collect();
    assert_eq!(keys, ["z", "a", "m"]);
}

#[test]
fn derived_names_and_kinds() {
    let task = normalizer()
        .normalize(raw(r#"{"url": "https://h.example/a/my%20clip.MP4?t=1#x"}"#))
        .unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("my clip.MP4", MediaKind::Video)
    );
    assert!(!task.explicit_name);

    let mut record = raw(r#"{"image": "https://h.example/render?id=3"}"#);
    record.name = Some("\u{1b}[0m".into());
    let task = normalizer().normalize(record).unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("render", MediaKind::Image)
    );
    assert!(!task.explicit_name);

    let mut record = raw(r#"{"image": "s3://b/a.png"}"#);
    record.media_kind = Some("audio".into());
    assert_eq!(
        normalizer().normalize(record).unwrap().media,
        MediaKind::Audio
    );

    let mut record = raw(r#"{"image": "s3://b/a.png"}"#);
    record.media_kind = Some("nonsense".into());
    assert_eq!(
        normalizer().normalize(record).unwrap().media,
        MediaKind::Image
    );

    let task = normalizer()
        .normalize(raw(r#"{"x": "https://h.example/"}"#))
        .unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("line-1", MediaKind::Unknown)
    );
}

#[test]
fn text_tasks() {
    let mut record = raw(r#"{"text": "My awesome opossum"}"#);
    record.origin = RawOrigin {
        line: Some(4),
        index: Some(2),
        offset: Some(99),
    };
    let task = normalizer().normalize(record).unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("item-2", MediaKind::Text)
    );
    assert!(task.links.is_empty());
    assert_eq!(task.origin.index, Some(2));

    let mut record = raw(r#"{"html": "<p>hi</p>", "ref": "https://h.example/a.jpg"}"#);
    record.media_key = Some("html".into());
    let task = normalizer().normalize(record).unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("line-1", MediaKind::Html)
    );
    assert_eq!(task.links.len(), 1);
    let same = normalizer().normalize(raw(
        r#"{"ref": "https://h.example/a.jpg", "html": "<p>hi</p>"}"#,
    ));
    assert_ne!(
        task.id,
        same.unwrap().id,
        "inline main media: dedupe by data"
    );
}

#[test]
fn main_link_follows_media_key() {
    let mut record = raw(r#"{"thumb": "s3://b/t.png", "video": "s3://b/v.mp4"}"#);
    record.media_key = Some("video".into());
    let task = normalizer().normalize(record).unwrap();
    assert_eq!(
        (task.name.as_str(), task.media),
        ("v.mp4", MediaKind::Video)
    );
    let by_link = normalizer()
        .normalize(raw(r#"{"v": "s3://b/v.mp4"}"#))
        .unwrap();
    assert_eq!(task.id, by_link.id);
}

#[test]
fn annotations_predictions_meta_pass_through() {
    let mut record = raw(r#"{"text": "t"}"#);
    record.annotations = Some(r#"[{"result": []}]"#.into());
    record.predictions = Some(r#"[{"result": "Cat"}]"#.into());
    record.meta = Some(r#"{"size": 3}"#.into());
    let task = normalizer().normalize(record).unwrap();
    assert_eq!(task.annotations, [json!({"result": []})]);
    assert_eq!(task.predictions, [json!({"result": "Cat"})]);
    assert_eq!(task.meta.get("size"), Some(&json!(3)));

    let mut record = raw(r#"{"text": "t"}"#);
    record.annotations = Some("  ".into());
    assert!(
        normalizer()
            .normalize(record)
            .unwrap()
            .annotations
            .is_empty()
    );
}

#[test]
fn bad_records() {
    let cases: [(RawRecord, &str, &str); 8] = [
        (
            raw(r#"["s3://b/k.jpg"]"#),
            "bad-record",
            "data must be a JSON object, got an array",
        ),
        (raw("not json"), "bad-record", "data is not valid JSON"),
        (raw(r#""s3://b/k""#), "bad-record", "got a string"),
        (raw("{}"), "missing-data", "empty object"),
        (raw(""), "missing-data", "empty object"),
        (
            RawRecord {
                annotations: Some("{}".into()),
                ..raw(r#"{"a": "b"}"#)
            },
            "bad-record",
            "annotations must be a JSON array, got an object",
        ),
        (
            RawRecord {
                meta: Some("[1]".into()),
                ..raw(r#"{"a": "b"}"#)
            },
            "bad-record",
            "meta must be a JSON object, got an array",
        ),
        (
            RawRecord {
                predictions: Some("[1".into()),
                ..raw(r#"{"a": "b"}"#)
            },
            "bad-record",
            "predictions is not valid JSON",
        ),
    ];
    for (record, code, message) in cases {
        let d = error_of(record);
        assert_eq!(d.code, code, "{d}");
        assert!(d.message.contains(message), "{d}");
        assert_eq!(
            (d.source.as_str(), d.line, d.severity),
            ("links.csv", Some(1), Severity::Error)
        );
    }
}

#[test]
fn bad_media_key() {
    let record = RawRecord {
        media_key: Some("image".into()),
        ..raw(r#"{"url": "s3://b/k"}"#)
    };
    assert!(
        error_of(record)
            .message
            .contains(r#"media key "image" is not in data"#)
    );
    let record = RawRecord {
        media_key: Some("image".into()),
        ..raw(r#"{"image": ["s3://b/k"]}"#)
    };
    assert!(
        error_of(record)
            .message
            .contains("must hold a string, got an array")
    );
}

#[test]
fn too_large() {
    let limits = RecordLimits {
        max_record_bytes: 64,
    };
    let small = Normalizer::new("s", "f", "p@1", limits);
    let d = small
        .normalize(raw(&format!(r#"{{"text": "{}"}}"#, "x".repeat(100))))
        .unwrap_err();
    assert_eq!(d.code, "record-too-large");
    let huge = format!(r#"{{"text": "{}"}}"#, "x".repeat(2 << 20));
    assert_eq!(error_of(raw(&huge)).code, "record-too-large");
    let record = RawRecord {
        meta: Some("x".repeat(1 << 20)),
        ..raw(r#"{"a": "b"}"#)
    };
    assert_eq!(error_of(record).code, "record-too-large");
}

#[test]
fn never_panics_on_odd_input() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested = format!(r#"{{"a": {deep}}}"#);
    for data in [
        &deep,
        &nested,
        "\u{0}",
        "{\"a\": \"\u{1b}\"}",
        "{\"a\": 1e999}",
        "\u{feff}{}",
    ] {
        let _ = normalizer().normalize(raw(data));
    }
}

#[test]
fn plugin_diagnostics_are_sanitised() {
    let origin = RawOrigin {
        line: None,
        index: Some(7),
        offset: None,
    };
    let d = normalizer().diagnostic(origin, Severity::Warning, "Bad_Link", "\u{1b}[2Jno\nway");
    assert_eq!(
        (d.code.as_str(), d.message.as_str()),
        ("bad-link", "no way")
    );
    assert_eq!(
        (d.line, d.index, d.severity),
        (None, Some(7), Severity::Warning)
    );
    assert_eq!(d.location(), "links.csv[7]");
    let long = normalizer().diagnostic(origin, Severity::Error, "x", &"y".repeat(10_000));
    assert!(long.message.chars().count() <= 501);
}

#[test]
fn dedupe_by_data_option() {
    let by_data = normalizer().with_dedupe(DedupeKey::Data);
    let a = by_data
        .normalize(raw(r#"{"image": "s3://b/k.jpg", "q": "1"}"#))
        .unwrap();
    let b = by_data
        .normalize(raw(r#"{"image": "s3://b/k.jpg", "q": "2"}"#))
        .unwrap();
    assert_ne!(a.id, b.id);
}
