//! Media kinds and Label Studio's file-extension table.

use serde::{Deserialize, Serialize};
use url::Url;

/// What kind of media a task holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Text,
    Html,
    Pdf,
    Timeseries,
    Unknown,
}

impl MediaKind {
    /// The lowercase name used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Text => "text",
            MediaKind::Html => "html",
            MediaKind::Pdf => "pdf",
            MediaKind::Timeseries => "timeseries",
            MediaKind::Unknown => "unknown",
        }
    }

    /// The kind of a file extension (without the dot, any case), per Label
    /// Studio's table; `None` for extensions not in it.
    pub fn from_extension(ext: &str) -> Option<MediaKind> {
        let mut buf = [0; LONGEST_NAME];
        let kind = match ascii_lowercase(ext, &mut buf)? {
            "bmp" | "gif" | "jpg" | "jpeg" | "png" | "svg" | "webp" | "tif" | "tiff" | "avif" => {
                MediaKind::Image
            }
            "wav" | "aiff" | "aif" | "mp3" | "au" | "flac" | "m4a" | "ogg" | "opus" => {
                MediaKind::Audio
            }
            "mp4" | "webm" | "mov" | "avi" | "mkv" | "m4v" => MediaKind::Video,
            "txt" => MediaKind::Text,
            "html" | "htm" | "xml" => MediaKind::Html,
            "pdf" => MediaKind::Pdf,
            "csv" | "tsv" => MediaKind::Timeseries,
            _ => return None,
        };
        Some(kind)
    }

    /// A kind named by a plugin's hint or a data key: a kind's name in any
    /// case, surrounding whitespace ignored, `time-series`/`time_series` and
    /// `hypertext` accepted. `unknown` and anything else say nothing: `None`.
    pub fn from_hint(hint: &str) -> Option<MediaKind> {
        let mut buf = [0; LONGEST_NAME];
        let kind = match ascii_lowercase(hint.trim(), &mut buf)? {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            "text" => MediaKind::Text,
            "html" | "hypertext" => MediaKind::Html,
            "pdf" => MediaKind::Pdf,
            "timeseries" | "time-series" | "time_series" => MediaKind::Timeseries,
            _ => return None,
        };
        Some(kind)
    }

    /// The kind of the file a URI or absolute path names, from the extension
    /// of its last path segment; query and fragment are ignored.
    pub fn from_uri(uri: &str) -> Option<MediaKind> {
        let parsed = Url::parse(uri).ok().filter(|url| url.scheme().len() > 1);
        let path = parsed.as_ref().map_or(uri, Url::path);
        let file_name = path.rsplit(['/', '\\']).next()?;
        let (stem, ext) = file_name.rsplit_once('.')?;
        if stem.is_empty() {
            return None;
        }
        MediaKind::from_extension(ext)
    }
}

/// Longer than any extension or kind name in the tables above.
const LONGEST_NAME: usize = 16;

/// `text` with ASCII letters lowercased, in `buf`; `None` when it does not
/// fit, and so cannot be in the tables.
fn ascii_lowercase<'a>(text: &str, buf: &'a mut [u8; LONGEST_NAME]) -> Option<&'a str> {
    let lowered = buf.get_mut(..text.len())?;
    lowered.copy_from_slice(text.as_bytes());
    lowered.make_ascii_lowercase();
    std::str::from_utf8(lowered).ok()
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::MediaKind::{self, *};

    #[test]
    fn extension_table() {
        let table: [(&[&str], MediaKind); 7] = [
            (
                &[
                    "bmp", "gif", "jpg", "jpeg", "png", "svg", "webp", "tif", "tiff", "avif",
                ],
                Image,
            ),
            (
                &[
                    "wav", "aiff", "aif", "mp3", "au", "flac", "m4a", "ogg", "opus",
                ],
                Audio,
            ),
            (&["mp4", "webm", "mov", "avi", "mkv", "m4v"], Video),
            (&["txt"], Text),
            (&["html", "htm", "xml"], Html),
            (&["pdf"], Pdf),
            (&["csv", "tsv"], Timeseries),
        ];
        for (exts, kind) in table {
            for ext in exts {
                assert_eq!(MediaKind::from_extension(ext), Some(kind), "{ext}");
                let upper = ext.to_ascii_uppercase();
                assert_eq!(MediaKind::from_extension(&upper), Some(kind), "{upper}");
            }
        }
        for ext in [
            "",
            "json",
            "gz",
            "exe",
            "jpgx",
            ".jpg",
            "jpé",
            "jpgjpgjpgjpgjpgjpg",
            "ｊｐｇ",
        ] {
            assert_eq!(MediaKind::from_extension(ext), None, "{ext}");
        }
    }

    #[test]
    fn hints() {
        assert_eq!(MediaKind::from_hint("image"), Some(Image));
        assert_eq!(MediaKind::from_hint(" Audio "), Some(Audio));
        assert_eq!(MediaKind::from_hint("time-series"), Some(Timeseries));
        assert_eq!(MediaKind::from_hint("HyperText"), Some(Html));
        assert_eq!(MediaKind::from_hint("unknown"), None);
        assert_eq!(MediaKind::from_hint(""), None);
        assert_eq!(MediaKind::from_hint("url"), None);
        assert_eq!(MediaKind::from_hint("  TIME_SERIES\n"), Some(Timeseries));
        assert_eq!(MediaKind::from_hint("imagé"), None);
        assert_eq!(MediaKind::from_hint(&"image".repeat(4)), None);
    }

    #[test]
    fn from_uri_uses_last_segment_without_query_or_fragment() {
        let cases = [
            ("s3://bucket/dir/berries-01.jpeg", Some(Image)),
            (
                "https://x.example/a/b.MP3?X-Amz-Signature=abc.png",
                Some(Audio),
            ),
            ("https://x.example/clip.mp4#t=10", Some(Video)),
            ("https://x.example/download?file=a.jpg", None),
            ("https://x.example/dir.jpg/", None),
            ("https://x.example/", None),
            ("https://x.example/.png", None),
            ("gs://b/report.pdf", Some(Pdf)),
            ("file:///data/series.csv", Some(Timeseries)),
            ("/data/my photos/page.html", Some(Html)),
            ("C:\\data\\notes.txt", Some(Text)),
            ("azure-blob://c/archive.tar.gz", None),
        ];
        for (uri, kind) in cases {
            assert_eq!(MediaKind::from_uri(uri), kind, "{uri}");
        }
    }

    #[test]
    fn serializes_lowercase() {
        for kind in [Image, Video, Audio, Text, Html, Pdf, Timeseries, Unknown] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }
}
