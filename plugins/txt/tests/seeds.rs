//! The TXT examples (Supervisely links, Label Studio URL lists and plain
//! text) and edge cases.

use taskport_plugin_sdk::{Collector, Confidence, Converter, convert_bytes};
use taskport_txt::Txt;

macro_rules! manifest {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/manifests/",
            $name
        ))
    };
}

fn convert_with(options: &[(&str, &str)], bytes: &[u8]) -> Collector {
    let (collector, result) = convert_bytes::<Txt>("txt", options, bytes);
    assert_eq!(result, Ok(()));
    collector
}

fn convert(bytes: &[u8]) -> Collector {
    convert_with(&[], bytes)
}

fn berry(origin: &str, name: &str, number: u8) -> String {
    format!(
        r#"{origin} | {name} | image | image | {{"image":"s3://remote-img-test/test_img/berries-0{number}.jpeg"}} | - | - | -"#
    )
}

#[test]
fn supervisely_links() {
    let out = convert(manifest!("supervisely-links-two-columns.txt"));
    assert_eq!(
        out.shown_records(),
        [
            berry("line 1 @0", "image1.jpg", 1),
            berry("line 2 @57", "image2.jpg", 2)
        ]
    );
    let out = convert(manifest!("supervisely-links-one-column.txt"));
    assert_eq!(
        out.shown_records(),
        [berry("line 1 @0", "-", 1), berry("line 2 @46", "-", 2)]
    );
}

#[test]
fn label_studio_url_lists() {
    let out = convert(manifest!("label-studio-images.txt"));
    assert_eq!(
        out.shown_records(),
        (1..=3)
            .map(|n| format!(
                r#"line {n} @{} | - | image | image | {{"image":"https://my.domain.com/image{n}.jpg"}} | - | - | -"#,
                (n - 1) * 33
            ))
            .collect::<Vec<_>>()
    );
    let out = convert(manifest!("label-studio-audios.txt"));
    assert_eq!(
        out.records[2].data,
        r#"{"image":"https://my.domain.com/audio3.jpg"}"#
    );
    let out = convert(manifest!("label-studio-time-series.txt"));
    assert_eq!(
        out.shown_records()[0],
        r#"line 1 @0 | - | timeseries | timeseries | {"timeseries":"https://my.domain.com/time-series1.csv"} | - | - | -"#
    );
}

#[test]
fn plain_text() {
    let out = convert(manifest!("label-studio-plain.txt"));
    assert_eq!(
        out.shown_records(),
        [
            r#"line 1 @0 | - | - | text | {"text":"this is a first task"} | - | - | -"#,
            r#"line 2 @21 | - | - | text | {"text":"this is a second task"} | - | - | -"#,
        ]
    );
    assert!(out.diagnostics.is_empty());
}

#[test]
fn bom_crlf_blanks_comments_and_mixed_lines() {
    let input = b"\xEF\xBB\xBF# links and texts\r\n\r\n  \r\na.png;s3://b/a.png\r\n  a \"quoted\" text, kept\t\r\n # indented comment\r\n\xff\r\nhttps://h/a,b@@c.jpg";
    let out = convert(input);
    assert_eq!(
        out.shown_records(),
        [
            r#"line 4 @28 | a.png | image | image | {"image":"s3://b/a.png"} | - | - | -"#,
            r#"line 5 @48 | - | - | text | {"text":"  a \"quoted\" text, kept\t"} | - | - | -"#,
            r#"line 8 @98 | - | image | image | {"image":"https://h/a,b@@c.jpg"} | - | - | -"#,
        ]
    );
    assert_eq!(
        out.shown_diagnostics(),
        [
            "line 7 @95 | error | bad-utf8 | line is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 0"
        ]
    );
}

#[test]
fn key_option() {
    let out = convert_with(&[("key", "my_text")], b"hello\ns3://b/a.wav\n");
    assert_eq!(out.records[0].data, r#"{"my_text":"hello"}"#);
    assert_eq!(out.records[1].data, r#"{"my_text":"s3://b/a.wav"}"#);
    assert_eq!(out.records[1].media_kind.as_deref(), Some("audio"));
}

#[test]
fn detection() {
    let confidence = |name: &str, head: &[u8]| Txt::detect(name, head)[0].confidence;
    assert_eq!(
        confidence("a.txt", manifest!("label-studio-plain.txt")),
        Confidence::High
    );
    assert_eq!(
        confidence("a.TXT", manifest!("supervisely-links-two-columns.txt")),
        Confidence::High
    );
    assert_eq!(confidence("a", b"hello\n"), Confidence::Low);
    assert_eq!(
        confidence("a.csv", manifest!("supervisely-links-two-columns.csv")),
        Confidence::None
    );
    assert_eq!(confidence("a.json", b"[]"), Confidence::None);
}
