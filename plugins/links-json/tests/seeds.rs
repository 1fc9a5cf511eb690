//! The Supervisely "Links" JSON examples and edge cases.

use taskport_links_json::LinksJson;
use taskport_plugin_sdk::{Collector, Confidence, Converter, convert_bytes};

macro_rules! manifest {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/manifests/",
            $name
        ))
    };
}

fn convert(bytes: &[u8]) -> Collector {
    let (collector, result) = convert_bytes::<LinksJson>("links-json", &[], bytes);
    assert_eq!(result, Ok(()));
    collector
}

fn task(origin: &str, name: &str, number: u8) -> String {
    format!(
        r#"{origin} | {name} | image | image | {{"image":"s3://remote-img-test/test_img/berries-0{number}.jpeg"}} | - | - | -"#
    )
}

#[test]
fn item_objects() {
    let out = convert(manifest!("supervisely-links-item-objects.json"));
    assert_eq!(
        out.shown_records(),
        [
            task("line 2 index 0 @4", "image1.jpg", 1),
            task("line 6 index 1 @109", "image2.jpg", 2),
        ]
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn name_link_pairs() {
    let out = convert(manifest!("supervisely-links-name-link-pairs.json"));
    assert_eq!(
        out.shown_records(),
        [
            task("line 2 index 0 @4", "image1.jpg", 1),
            task("line 3 index 1 @73", "image2.jpg", 2),
        ]
    );
}

#[test]
fn list_of_links() {
    let out = convert(manifest!("supervisely-links-list.json"));
    assert_eq!(
        out.shown_records(),
        [
            task("line 2 index 0 @4", "-", 1),
            task("line 3 index 1 @55", "-", 2)
        ]
    );
}

#[test]
fn mixed_shapes_aliases_and_errors() {
    let input = "\u{feff}[\r\n\"https://h/a,b@@c.mp3\",\r\n{\"Name\": \"n\", \"URL\": \"gs://b/v.mp4\", \"split\": 1},\r\n\
        {\"title\": \"\", \"path\": \"/data/x\"},\r\n{\"a.jpg\": \"relative.jpg\"},\r\n42,\r\n{\"a\": 1, \"b\": 2},\r\n\
        {\"link\": 5},\r\n{\"name\": 5, \"link\": \"s3://b/k\"}\r\n]";
    let out = convert(input.as_bytes());
    assert_eq!(
        out.shown_records(),
        [
            r#"line 2 index 0 @6 | - | audio | audio | {"audio":"https://h/a,b@@c.mp3"} | - | - | -"#,
            r#"line 3 index 1 @31 | n | video | video | {"video":"gs://b/v.mp4"} | - | - | {"split":1}"#,
            r#"line 4 index 2 @82 | - | url | - | {"url":"/data/x"} | - | - | -"#,
        ]
    );
    assert_eq!(
        out.shown_diagnostics(),
        [
            r#"line 5 index 3 @117 | error | bad-link | "relative.jpg" is neither a URL nor an absolute path"#,
            r#"line 6 index 4 @145 | error | bad-shape | expected a link, {"item_name": name, "item_link": link} or {name: link}, found a number"#,
            r#"line 7 index 5 @150 | error | bad-shape | expected a link, {"item_name": name, "item_link": link} or {name: link}, found another object"#,
            "line 8 index 6 @169 | error | bad-shape | `link` must be a string, found a number",
            "line 9 index 7 @183 | error | bad-shape | `name` must be a string, found a number",
        ]
    );
}

#[test]
fn key_option() {
    let (out, result) =
        convert_bytes::<LinksJson>("links-json", &[("key", "img")], b"[\"s3://b/a.png\"]");
    assert_eq!(result, Ok(()));
    assert_eq!(out.records[0].data, r#"{"img":"s3://b/a.png"}"#);
}

#[test]
fn fatal_errors() {
    let (_, result) = convert_bytes::<LinksJson>("links-json", &[], b"{\"a.jpg\": \"s3://b/a\"}");
    assert_eq!(
        result,
        Err("line 1 column 2: invalid type: map, expected a JSON array".into())
    );
    let (out, result) =
        convert_bytes::<LinksJson>("links-json", &[], b"[\"s3://b/a\",\n\"s3://b/b\"");
    assert_eq!(out.records.len(), 2);
    assert_eq!(
        result,
        Err("line 2 column 10: EOF while parsing a list".into())
    );
}

#[test]
fn detection() {
    let confidence = |name: &str, head: &[u8]| LinksJson::detect(name, head)[0].confidence;
    for seed in [
        &manifest!("supervisely-links-item-objects.json")[..],
        manifest!("supervisely-links-name-link-pairs.json"),
        manifest!("supervisely-links-list.json"),
    ] {
        assert_eq!(confidence("links.json", seed), Confidence::High);
    }
    for other in [
        &manifest!("label-studio-texts.json")[..],
        manifest!("label-studio-opossum.json"),
        manifest!("label-studio-preannotations.json"),
        manifest!("label-studio-remote-tasks.json"),
        manifest!("label-studio-audio-task.json"),
        manifest!("supervisely-links-two-columns.csv"),
    ] {
        assert_eq!(confidence("tasks.json", other), Confidence::None);
    }
    assert_eq!(
        confidence("x.json", b"[{\"image\": \"s3://b/a.png\"}]"),
        Confidence::None
    );
    assert_eq!(confidence("x", b"[\"s3://b/a.png\"]"), Confidence::Medium);
}
