//! Folder formats (`image-dir`, `audio-dir`): one task per media file.
//!
//! The host walks the folder and hands the plugin a listing, one JSON
//! object per line: `{"path": "a/b.jpg", "uri": "file:///...", "size": 123}`.
//! Every file whose extension (case-insensitive) is one of the format's
//! becomes a task `{KIND: uri}` named by its path relative to the folder,
//! with media key and media kind `KIND` (the `key` option overrides the data
//! key) and origin index = its position in the listing. Other files are
//! skipped; one `skipped-files` warning at the end says how many. A listing
//! line that is not such an object is a `bad-json` error.

use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;

use crate::detect::detection;
use crate::diag::{error, origin, warning};
use crate::media::has_extension;
use crate::text::{DETECT_HEAD, head_lines, skip_bom};
use crate::{
    Confidence, Detection, Emit, Flow, FormatInfo, Options, Origin, PluginInfo, TaskRecord,
    key_option, key_option_info, links,
};

/// One folder format.
pub struct MediaDir {
    /// Format id and plugin name, e.g. `image-dir`.
    pub format: &'static str,
    /// Human readable title.
    pub title: &'static str,
    /// Media kind of the files, also the default data key.
    pub kind: &'static str,
    /// Extensions taken, lower case.
    pub extensions: &'static [&'static str],
    /// Extensions of the other folder format, weighed by `detect`.
    pub rival_extensions: &'static [&'static str],
    /// Whether this format wins `detect` when a listing holds as many of its
    /// files as of the other folder format's (images win over audio).
    pub wins_ties: bool,
}

/// One line of the listing.
#[derive(Deserialize)]
struct Entry {
    path: String,
    uri: String,
}

impl MediaDir {
    /// The plugin's description.
    pub fn describe(&self) -> PluginInfo {
        PluginInfo {
            name: self.format.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: format!(
                "A folder or cloud prefix of {} files ({}), one task per file",
                self.kind,
                self.extensions.join(", ")
            ),
            formats: vec![FormatInfo {
                id: self.format.into(),
                title: self.title.into(),
                extensions: Vec::new(),
                media_kinds: vec![self.kind.into()],
                directory: true,
            }],
            options: vec![key_option_info()],
        }
    }

    fn takes(&self, path: &str) -> bool {
        has_extension(path, self.extensions)
    }

    /// Converts a listing.
    pub fn convert(
        &self,
        format: &str,
        options: &Options,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        if format != self.format {
            return Err(format!("unknown format `{format}`"));
        }
        let key = key_option(options)?.unwrap_or(self.kind);
        let (input, bom) = skip_bom(input).map_err(|e| format!("cannot read input: {e}"))?;
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        let (mut number, mut offset, mut index, mut skipped) = (0, bom, 0, 0u64);
        loop {
            line.clear();
            let read = input
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("cannot read input: {e}"))?;
            if read == 0 {
                break;
            }
            number += 1;
            let at = origin(number, Some(index), offset);
            offset += read as u64;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            index += 1;
            let flow = match serde_json::from_slice::<Entry>(&line) {
                Err(e) => {
                    let message = format!("not a listing entry {{\"path\", \"uri\"}}: {e}");
                    out.diagnostic(error(at, "bad-json", message))
                }
                Ok(entry) if self.takes(&entry.path) => out.record(self.task(entry, key, at)),
                Ok(_) => {
                    skipped += 1;
                    Flow::Proceed
                }
            };
            if flow == Flow::Stop {
                return Ok(());
            }
        }
        if skipped > 0 {
            let nowhere = Origin {
                line: None,
                index: None,
                offset: None,
            };
            let message = format!(
                "{skipped} file(s) skipped: not {} files ({})",
                self.kind,
                self.extensions.join(", ")
            );
            out.diagnostic(warning(nowhere, "skipped-files", message));
        }
        Ok(())
    }

    fn task(&self, entry: Entry, key: &str, at: Origin) -> TaskRecord {
        TaskRecord {
            origin: at,
            data: links::single_entry_object(key, &entry.uri),
            name: Some(entry.path),
            media_key: Some(key.into()),
            media_kind: Some(self.kind.into()),
            annotations: None,
            predictions: None,
            meta: None,
        }
    }

    /// How likely a listing is this format: `high` when most listed files
    /// are of its kind, lower when the other folder format's files are as
    /// many or more; `none` when no line is a listing entry of its kind.
    pub fn detect(&self, head: &[u8]) -> Vec<Detection> {
        let lines = head_lines(head, head.len() >= DETECT_HEAD);
        let paths: Vec<String> = lines
            .iter()
            .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
            .map(|entry| entry.path)
            .collect();
        let count = |extensions: &[&str]| {
            paths
                .iter()
                .filter(|path| has_extension(path, extensions))
                .count()
        };
        let mine = count(self.extensions);
        let other = count(self.rival_extensions);
        let confidence = match mine {
            0 => Confidence::None,
            _ if mine > other && mine * 2 >= paths.len() => Confidence::High,
            _ if mine > other || (mine == other && self.wins_ties) => Confidence::Medium,
            _ => Confidence::Low,
        };
        let reason = if paths.is_empty() {
            "not a folder listing".to_owned()
        } else {
            format!(
                "{mine} of {} listed files are {} files",
                paths.len(),
                self.kind
            )
        };
        vec![detection(self.format, confidence, reason)]
    }
}
