//! Every built-in plugin's `detect` on the example manifests: the expected
//! format must be the single most confident answer (the host refuses ties).

use taskport_audio_dir::AudioDir;
use taskport_image_dir::ImageDir;
use taskport_label_studio::LabelStudio;
use taskport_links_csv::LinksCsv;
use taskport_links_json::LinksJson;
use taskport_plugin_sdk::{Confidence, Converter, Detection};
use taskport_txt::Txt;

macro_rules! manifest {
    ($name:literal) => {
        (
            $name,
            &include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/manifests/",
                $name
            ))[..],
        )
    };
}

fn rank(confidence: Confidence) -> u8 {
    match confidence {
        Confidence::None => 0,
        Confidence::Low => 1,
        Confidence::Medium => 2,
        Confidence::High => 3,
    }
}

fn all_detections(name: &str, head: &[u8]) -> Vec<Detection> {
    [
        LinksCsv::detect,
        LinksJson::detect,
        Txt::detect,
        LabelStudio::detect,
        ImageDir::detect,
        AudioDir::detect,
    ]
    .iter()
    .flat_map(|detect| detect(name, head))
    .collect()
}

fn winner(name: &str, head: &[u8]) -> String {
    let found = all_detections(name, head);
    let best = found.iter().map(|d| rank(d.confidence)).max().unwrap_or(0);
    let top: Vec<&Detection> = found
        .iter()
        .filter(|d| rank(d.confidence) == best)
        .collect();
    assert!(best > 0, "{name}: nothing detected: {found:?}");
    assert_eq!(top.len(), 1, "{name}: tie: {top:?}");
    top[0].format.clone()
}

#[test]
fn examples_have_one_best_format() {
    let expected = [
        ("links-csv", manifest!("supervisely-links-two-columns.csv")),
        ("links-csv", manifest!("supervisely-links-one-column.csv")),
        (
            "links-csv",
            manifest!("supervisely-links-two-columns-semicolon.csv"),
        ),
        ("links-csv", manifest!("supervisely-links-header.csv")),
        (
            "links-csv",
            manifest!("supervisely-links-header-semicolon.csv"),
        ),
        (
            "links-json",
            manifest!("supervisely-links-item-objects.json"),
        ),
        (
            "links-json",
            manifest!("supervisely-links-name-link-pairs.json"),
        ),
        ("links-json", manifest!("supervisely-links-list.json")),
        ("txt", manifest!("supervisely-links-two-columns.txt")),
        ("txt", manifest!("supervisely-links-one-column.txt")),
        ("txt", manifest!("label-studio-images.txt")),
        ("txt", manifest!("label-studio-audios.txt")),
        ("txt", manifest!("label-studio-time-series.txt")),
        ("txt", manifest!("label-studio-plain.txt")),
        ("label-studio-json", manifest!("label-studio-texts.json")),
        (
            "label-studio-json",
            manifest!("label-studio-preannotations.json"),
        ),
        ("label-studio-json", manifest!("label-studio-opossum.json")),
        (
            "label-studio-json",
            manifest!("label-studio-opossum-task.json"),
        ),
        (
            "label-studio-json",
            manifest!("label-studio-audio-task.json"),
        ),
        (
            "label-studio-json",
            manifest!("label-studio-remote-tasks.json"),
        ),
        ("label-studio-csv", manifest!("label-studio-tasks.csv")),
        ("label-studio-csv", manifest!("label-studio-opossum.csv")),
    ];
    for (format, (name, bytes)) in expected {
        assert_eq!(winner(name, bytes), format, "{name}");
    }
}

#[test]
fn other_inputs_have_one_best_format() {
    let image_listing = "{\"path\": \"a.jpg\", \"uri\": \"file:///p/a.jpg\", \"size\": 1}\n\
                         {\"path\": \"b.wav\", \"uri\": \"file:///p/b.wav\", \"size\": 1}\n";
    let audio_listing = "{\"path\": \"a.mp3\", \"uri\": \"s3://b/a.mp3\", \"size\": 1}\n";
    let cases: [(&str, &str, &[u8]); 6] = [
        (
            "label-studio-jsonl",
            "tasks.jsonl",
            b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n",
        ),
        ("label-studio-csv", "tasks.tsv", b"text\tlabel\nhello\tx\n"),
        (
            "links-csv",
            "links",
            b"a.jpg,s3://b/a.jpg\nb.jpg,s3://b/b.jpg\n",
        ),
        ("image-dir", "photos", image_listing.as_bytes()),
        ("audio-dir", "recordings", audio_listing.as_bytes()),
        (
            "label-studio-json",
            "one.json",
            b"[{\"image\": \"s3://b/a.png\"}]",
        ),
    ];
    for (format, name, bytes) in cases {
        assert_eq!(winner(name, bytes), format, "{name}");
    }
}
