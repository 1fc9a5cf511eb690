//! Folder listings converted by `image-dir`.

use taskport_image_dir::ImageDir;
use taskport_plugin_sdk::{Confidence, Converter, convert_bytes};

const LISTING: &str = r#"{"path": "a/b.JPG", "uri": "file:///data/photos/a/b.JPG", "size": 123}
{"path": "notes.txt", "uri": "file:///data/photos/notes.txt", "size": 5}

{"path": "c d.webp", "uri": "s3://bucket/photos/c%20d.webp", "size": 9}
{"path": "song.mp3", "uri": "file:///data/photos/song.mp3", "size": 7}
not json
{"path": "x.tiff", "uri": "gs://b/x.tiff"}
"#;

#[test]
fn one_task_per_image() {
    let (out, result) = convert_bytes::<ImageDir>("image-dir", &[], LISTING.as_bytes());
    assert_eq!(result, Ok(()));
    assert_eq!(
        out.shown_records(),
        [
            r#"line 1 index 0 @0 | a/b.JPG | image | image | {"image":"file:///data/photos/a/b.JPG"} | - | - | -"#,
            r#"line 4 index 2 @145 | c d.webp | image | image | {"image":"s3://bucket/photos/c%20d.webp"} | - | - | -"#,
            r#"line 7 index 5 @297 | x.tiff | image | image | {"image":"gs://b/x.tiff"} | - | - | -"#,
        ]
    );
    let diagnostics = out.shown_diagnostics();
    assert_eq!(diagnostics.len(), 2);
    assert!(
        diagnostics[0].starts_with("line 6 index 4 @288 | error | bad-json | not a listing entry")
    );
    assert_eq!(
        diagnostics[1],
        " | warning | skipped-files | 2 file(s) skipped: \
         not image files (bmp, gif, jpg, jpeg, png, svg, webp, tif, tiff, avif)"
    );
}

#[test]
fn key_option() {
    let (out, _) = convert_bytes::<ImageDir>("image-dir", &[("key", "img")], LISTING.as_bytes());
    assert_eq!(
        out.records[0].data,
        r#"{"img":"file:///data/photos/a/b.JPG"}"#
    );
    assert_eq!(out.records[0].media_key.as_deref(), Some("img"));
}

#[test]
fn detection() {
    let confidence = |head: &str| ImageDir::detect("photos", head.as_bytes())[0].confidence;
    assert_eq!(confidence(LISTING), Confidence::High);
    assert_eq!(
        confidence(
            "{\"path\": \"a.wav\", \"uri\": \"file:///a.wav\"}\n{\"path\": \"b.png\", \"uri\": \"file:///b.png\"}\n"
        ),
        Confidence::Medium
    );
    assert_eq!(
        confidence("{\"path\": \"a.wav\", \"uri\": \"file:///a.wav\"}\n"),
        Confidence::None
    );
    assert_eq!(confidence("image1.jpg,s3://b/a.jpg\n"), Confidence::None);
    assert!(ImageDir::describe().formats[0].directory);
}
