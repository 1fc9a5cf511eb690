//! Every built-in plugin on garbage: no panic, whatever the bytes.

use taskport_audio_dir::AudioDir;
use taskport_image_dir::ImageDir;
use taskport_label_studio::LabelStudio;
use taskport_links_csv::LinksCsv;
use taskport_links_json::LinksJson;
use taskport_plugin_sdk::{Converter, convert_bytes};
use taskport_txt::Txt;

/// Pieces that steer the parsers into their less travelled paths.
const PIECES: &[&[u8]] = &[
    b"\"",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b"s3://",
    b"https://h/a,b@@c.jpg",
    b"/abs",
    b"C:\\x",
    b"item_link",
    b"url",
    b"data",
    b"\"data\":",
    b"\xEF\xBB\xBF",
    b"\xff",
    b"\xe2\x82",
    b"\\u00e9",
    b" ",
    b"#",
    b"null",
    b"1e999",
    b"\"path\"",
    b"\"uri\"",
    b"a.jpg",
    b"\xc3\xa9",
    b"{\"path\": \"a.png\", \"uri\": \"file:///a.png\"}",
];

/// A small deterministic generator (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn run_all(bytes: &[u8]) {
    let formats = [
        "links-csv",
        "links-json",
        "txt",
        "image-dir",
        "audio-dir",
        "label-studio-json",
        "label-studio-jsonl",
        "label-studio-csv",
    ];
    for format in formats {
        let _ = convert_bytes::<LinksCsv>(format, &[], bytes);
        let _ = convert_bytes::<LinksJson>(format, &[], bytes);
        let _ = convert_bytes::<Txt>(format, &[], bytes);
        let _ = convert_bytes::<ImageDir>(format, &[], bytes);
        let _ = convert_bytes::<AudioDir>(format, &[], bytes);
        let _ = convert_bytes::<LabelStudio>(format, &[], bytes);
    }
    for name in ["a.csv", "a.json", "a.txt", "a.jsonl", "a.tsv", "folder"] {
        LinksCsv::detect(name, bytes);
        LinksJson::detect(name, bytes);
        Txt::detect(name, bytes);
        ImageDir::detect(name, bytes);
        AudioDir::detect(name, bytes);
        LabelStudio::detect(name, bytes);
    }
}

#[test]
fn garbage_never_panics() {
    let mut random = Lcg(42);
    for _ in 0..400 {
        let mut bytes = Vec::new();
        for _ in 0..random.next() % 40 {
            if random.next().is_multiple_of(4) {
                bytes.push((random.next() % 256) as u8);
            } else {
                bytes.extend_from_slice(PIECES[random.next() % PIECES.len()]);
            }
        }
        run_all(&bytes);
    }
}
