//! Media kinds by file extension.
//!
//! The table follows Label Studio's list of importable file types, widened
//! with the usual spellings (`jpeg`, `tif`, `aif`, ...). It decides the data
//! key of a link task (`image`, `audio`, ...) and the media kind hint.

/// Every media kind a task can have.
pub const MEDIA_KINDS: &[&str] = &[
    "image",
    "video",
    "audio",
    "text",
    "html",
    "pdf",
    "timeseries",
];

/// Extensions (lower case, without the dot) of each media kind.
pub const MEDIA_EXTENSIONS: &[(&str, &[&str])] = &[
    ("image", IMAGE_EXTENSIONS),
    ("audio", AUDIO_EXTENSIONS),
    ("video", &["mp4", "webm", "mov", "m4v", "mkv", "avi", "ogv"]),
    ("text", &["txt"]),
    ("html", &["html", "htm", "xml"]),
    ("pdf", &["pdf"]),
    ("timeseries", &["csv", "tsv"]),
];

/// Image file extensions (the `image-dir` format takes these).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "bmp", "gif", "jpg", "jpeg", "png", "svg", "webp", "tif", "tiff", "avif",
];

/// Audio file extensions (the `audio-dir` format takes these).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "aiff", "aif", "mp3", "au", "flac", "m4a", "ogg", "opus",
];

/// The extension (as written, without the dot) of the last path segment of
/// a link or path, ignoring a URL query (`?...`) and fragment (`#...`)
/// after a scheme.
pub fn link_extension(link: &str) -> Option<&str> {
    // Byte searches: every delimiter is ASCII, so each position found is a
    // character boundary.
    let bytes = link.as_bytes();
    let has_scheme = memchr::memchr_iter(b':', bytes).any(|at| bytes[at + 1..].starts_with(b"//"));
    let end = match has_scheme {
        true => memchr::memchr2(b'?', b'#', bytes).unwrap_or(bytes.len()),
        false => bytes.len(),
    };
    let path = &bytes[..end];
    let start = memchr::memrchr2(b'/', b'\\', path).map_or(0, |at| at + 1);
    let dot = start + memchr::memrchr(b'.', &path[start..])?;
    let ext = &link[dot + 1..end];
    (!ext.is_empty()).then_some(ext)
}

/// True when the link's extension is one of `extensions` (lower case),
/// compared case-insensitively.
pub fn has_extension(link: &str, extensions: &[&str]) -> bool {
    link_extension(link).is_some_and(|ext| extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The media kind of a link or path by its extension (case-insensitive).
pub fn kind_of_link(link: &str) -> Option<&'static str> {
    let ext = link_extension(link)?;
    MEDIA_EXTENSIONS
        .iter()
        .find(|(_, extensions)| extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
        .map(|(kind, _)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(
            kind_of_link("s3://b/test_img/berries-01.jpeg"),
            Some("image")
        );
        assert_eq!(kind_of_link("https://h/a.MP3?sig=x.png#t"), Some("audio"));
        assert_eq!(kind_of_link("https://h/v.mp4"), Some("video"));
        assert_eq!(kind_of_link("https://h/series.csv"), Some("timeseries"));
        assert_eq!(kind_of_link("C:\\data\\page.HTML"), Some("html"));
        assert_eq!(kind_of_link("https://h/dir.d/file"), None);
        assert_eq!(kind_of_link("https://h/file."), None);
        assert_eq!(kind_of_link("https://h/a.bin"), None);
    }

    #[test]
    fn extensions_of_links_and_paths() {
        for (link, expected) in [
            ("s3://b/k/photo.tar.gz", Some("gz")),
            ("https://h/a.png?x=b.jpg", Some("png")),
            ("https://h/a#b.jpg", None),
            // Without a scheme, `?` and `#` belong to the file name.
            ("/data/a?b.png", Some("png")),
            ("/data/b.d/c", None),
            ("C:\\x\\y.Jpg", Some("Jpg")),
            ("s3://b/.hidden", Some("hidden")),
            ("https://h/ünïcode.wav", Some("wav")),
            ("file:///a.b/", None),
            ("", None),
        ] {
            assert_eq!(link_extension(link), expected, "{link}");
        }
    }
}
