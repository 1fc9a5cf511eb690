//! Folder listings converted by `audio-dir`.

use taskport_audio_dir::AudioDir;
use taskport_plugin_sdk::{Confidence, Converter, convert_bytes};

const LISTING: &str = "\u{feff}{\"path\": \"take 1.FLAC\", \"uri\": \"file:///rec/take%201.FLAC\", \"size\": 1}\r\n\
    {\"path\": \"cover.jpg\", \"uri\": \"file:///rec/cover.jpg\", \"size\": 2}\r\n\
    {\"path\": \"sub/b.opus\", \"uri\": \"az://c/rec/sub/b.opus\", \"size\": 3}\r\n";

#[test]
fn one_task_per_audio_file() {
    let (out, result) = convert_bytes::<AudioDir>("audio-dir", &[], LISTING.as_bytes());
    assert_eq!(result, Ok(()));
    assert_eq!(
        out.shown_records(),
        [
            r#"line 1 index 0 @3 | take 1.FLAC | audio | audio | {"audio":"file:///rec/take%201.FLAC"} | - | - | -"#,
            r#"line 3 index 2 @141 | sub/b.opus | audio | audio | {"audio":"az://c/rec/sub/b.opus"} | - | - | -"#,
        ]
    );
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].code, "skipped-files");
    let (_, result) = convert_bytes::<AudioDir>("image-dir", &[], LISTING.as_bytes());
    assert!(result.is_err());
}

#[test]
fn detection() {
    let confidence = |head: &str| AudioDir::detect("recordings", head.as_bytes())[0].confidence;
    assert_eq!(confidence(LISTING), Confidence::High);
    assert_eq!(
        confidence(
            "{\"path\": \"a.wav\", \"uri\": \"file:///a.wav\"}\n{\"path\": \"b.png\", \"uri\": \"file:///b.png\"}\n"
        ),
        Confidence::Low
    );
    assert_eq!(
        confidence("{\"path\": \"b.png\", \"uri\": \"file:///b.png\"}\n"),
        Confidence::None
    );
}
