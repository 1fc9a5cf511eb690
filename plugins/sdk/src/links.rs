//! What counts as a link, and link tasks.
//!
//! A link is a URL whose scheme is one of [`SCHEMES`] (`scheme://` followed by
//! a non-empty authority, or a path for `file:`), or an absolute local path
//! (`/data/a.jpg`, `C:\data\a.jpg`, `C:/data/a.jpg`, `\\server\share\a.jpg`).
//! Links are checked here only for shape; the host classifies them fully.
//!
//! A link task stores the link under a data key named after its media kind
//! (`image`, `video`, `audio`, `text`, `html`, `pdf`, `timeseries`, see
//! [`crate::media`]), or `url` when the extension says nothing; the `key`
//! option overrides the key.

use crate::media::kind_of_link;
use crate::{Origin, TaskRecord};

/// URL schemes a link may have (compared case-insensitively).
pub const SCHEMES: &[&str] = &[
    "s3",
    "gs",
    "google",
    "gcs",
    "azure",
    "az",
    "azure-blob",
    "http",
    "https",
    "file",
];

/// Header words that name the link column of a links table, by preference.
pub const LINK_COLUMNS: &[&str] = &["item_link", "link", "url", "path"];

/// Header words that name the item name column of a links table, by preference.
pub const NAME_COLUMNS: &[&str] = &["item_name", "name", "title"];

/// The data key used when a link's media kind is unknown.
pub const DEFAULT_KEY: &str = "url";

/// The option that overrides the data key of link tasks.
pub const KEY_OPTION: &str = "key";

/// The URL scheme at the start of `text` (`https` in `https://...`), as
/// written, if it has a syntactically valid one followed by `:`.
fn scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

fn is_known_scheme(scheme: &str) -> bool {
    SCHEMES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(scheme))
}

fn is_windows_path(text: &str) -> bool {
    let bytes = text.as_bytes();
    (bytes.len() > 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/'))
        || (text.starts_with("\\\\") && text.len() > 2)
}

fn is_unix_path(text: &str) -> bool {
    text.len() > 1 && text.starts_with('/') && !text.starts_with("//")
}

/// True when `text` starts the way a link does: a known scheme followed by
/// `://`, or an absolute local path. Used to decide where a link begins in a
/// row that was split at delimiters the link itself contains.
pub fn starts_like_link(text: &str) -> bool {
    let text = text.trim_start();
    match scheme(text) {
        Some(found) if is_known_scheme(found) => text[found.len()..].starts_with("://"),
        _ => is_unix_path(text) || is_windows_path(text),
    }
}

/// Checks that `text` is a link; the error says why not.
pub fn check_link(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("empty link".into());
    }
    if text
        .bytes()
        .fold(false, |control, byte| control | byte.is_ascii_control())
    {
        return Err(format!("link {text:?} contains a control character"));
    }
    if is_unix_path(text) || is_windows_path(text) {
        return Ok(());
    }
    let Some(found) = scheme(text).filter(|s| s.len() > 1) else {
        return Err(format!("{text:?} is neither a URL nor an absolute path"));
    };
    if !is_known_scheme(found) {
        return Err(format!(
            "{text:?} has unsupported scheme `{found}` (expected one of {})",
            SCHEMES.join(", ")
        ));
    }
    let Some(rest) = text[found.len() + 1..].strip_prefix("//") else {
        return Err(format!("{text:?} lacks `//` after `{found}:`"));
    };
    let authority =
        &rest[..memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len())];
    if found.eq_ignore_ascii_case("file") {
        if rest.len() <= authority.len() + 1 {
            return Err(format!("{text:?} has no file path"));
        }
    } else if authority.is_empty() || has_whitespace(authority) {
        return Err(format!("{text:?} has no valid host or bucket"));
    }
    Ok(())
}

/// `text.contains(char::is_whitespace)`, a byte at a time for ASCII text.
fn has_whitespace(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().fold(false, |space, byte| {
            space | matches!(byte, b' ' | b'\t'..=b'\r')
        })
    } else {
        text.contains(char::is_whitespace)
    }
}

/// A task whose data is `{KEY: link}`, KEY from the link's media kind or
/// `key` when given. Sets the media key and the media kind hint.
pub fn link_task(
    link: &str,
    name: Option<String>,
    key: Option<&str>,
    origin: Origin,
) -> TaskRecord {
    let kind = kind_of_link(link);
    let key = key.unwrap_or(kind.unwrap_or(DEFAULT_KEY));
    TaskRecord {
        origin,
        name,
        data: single_entry_object(key, link),
        media_key: Some(key.to_owned()),
        media_kind: kind.map(str::to_owned),
        annotations: None,
        predictions: None,
        meta: None,
    }
}

/// True for a JSON object shaped like a Supervisely link item: only
/// link-table keys with one naming the link (`{"item_name": n, "item_link": l}`,
/// aliases `name`, `title`, `link`, `url`, `path`), or a single pair
/// `{name: link}` whose key is not an identifier-like data key (so
/// `{"image1.jpg": "s3://..."}` is a link item but `{"image": "s3://..."}`
/// is a Label Studio task). Detection of both formats relies on this.
pub fn is_link_item(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    let lower = |key: &String| key.to_ascii_lowercase();
    let is_link_key = |key: &String| LINK_COLUMNS.contains(&lower(key).as_str());
    let is_word = |key: &String| is_link_key(key) || NAME_COLUMNS.contains(&lower(key).as_str());
    let single_pair = match object.iter().next() {
        Some((key, serde_json::Value::String(link))) if object.len() == 1 => {
            starts_like_link(link) && !is_identifier(key)
        }
        _ => false,
    };
    single_pair || (object.keys().any(is_link_key) && object.keys().all(is_word))
}

/// `image`, `my_text`, `audio-url`: an identifier-like key rather than an
/// item name such as `image1.jpg`.
pub fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// JSON text of the object `{key: value}` with both strings escaped.
pub fn single_entry_object(key: &str, value: &str) -> String {
    // JSON escapes only control characters, `"` and `\`: strings without
    // them (almost every link) go in as they are, without the serializer.
    // (A fold without early exit, which compilers vectorize.)
    let verbatim = |text: &str| {
        !text.bytes().fold(false, |escape, b| {
            escape | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    };
    if verbatim(key) && verbatim(value) {
        return ["{\"", key, "\":\"", value, "\"}"].concat();
    }
    // Serializing strings into memory cannot fail; an empty text would be
    // refused by the host as invalid data.
    serde_json::to_string(&SingleEntry(key, value)).unwrap_or_default()
}

/// A one-entry JSON object.
struct SingleEntry<'a>(&'a str, &'a str);

impl serde::Serialize for SingleEntry<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_entry_objects_are_the_json_serde_writes() {
        for (key, value) in [
            ("image", "s3://b/a b/ü.jpg?x=1#f"),
            ("url", "https://h/say \"hi\"\\now"),
            ("text", "tab\there\u{1}\u{7f}"),
            ("", ""),
        ] {
            let expected = serde_json::json!({ key: value }).to_string();
            assert_eq!(single_entry_object(key, value), expected, "{value:?}");
        }
    }

    #[test]
    fn good_links() {
        for link in [
            "s3://remote-img-test/test_img/berries-01.jpeg",
            "gs://b/k.png",
            "GCS://b/k",
            "google://b/k",
            "azure://c/k",
            "az://c/k",
            "azure-blob://c/k",
            "http://h",
            "https://host/a,b@@c.jpg",
            "https://host/my image.jpg",
            "file:///abs/a.jpg",
            "file://host/share/a.jpg",
            "/abs/a.jpg",
            "C:\\data\\a.jpg",
            "d:/data/a.jpg",
            "\\\\server\\share\\a.jpg",
        ] {
            assert_eq!(check_link(link), Ok(()), "{link}");
            assert!(starts_like_link(link), "{link}");
        }
    }

    #[test]
    fn bad_links() {
        for link in [
            "",
            "image1.jpg",
            "relative/a.jpg",
            "ftp://h/a.jpg",
            "s3:/b/k",
            "s3://",
            "s3:///k",
            "https://ho st/a",
            "file://",
            "file:///",
            "//host/a",
            "/",
            "C:",
            "https://h/a\nb",
        ] {
            assert!(check_link(link).is_err(), "{link}");
        }
        assert!(!starts_like_link("ftp://h/a"));
        assert!(!starts_like_link("image1.jpg"));
    }

    #[test]
    fn link_items() {
        let item = |json: &str| match serde_json::from_str(json).unwrap() {
            serde_json::Value::Object(object) => is_link_item(&object),
            _ => unreachable!("test objects only"),
        };
        assert!(item(
            r#"{"item_name": "a.jpg", "item_link": "s3://b/a.jpg"}"#
        ));
        assert!(item(r#"{"URL": "s3://b/a.jpg"}"#));
        assert!(item(r#"{"a.jpg": "s3://b/a.jpg"}"#));
        assert!(!item(r#"{"image": "s3://b/a.jpg"}"#));
        assert!(!item(r#"{"a.jpg": "not a link"}"#));
        assert!(!item(r#"{"url": "s3://b/a.jpg", "split": "train"}"#));
        assert!(!item(r#"{"name": "a.jpg"}"#));
    }

    #[test]
    fn link_task_keys() {
        let origin = Origin {
            line: Some(1),
            index: None,
            offset: Some(0),
        };
        let task = link_task("s3://b/a.jpeg", Some("n".into()), None, origin);
        assert_eq!(task.data, r#"{"image":"s3://b/a.jpeg"}"#);
        assert_eq!(task.media_key.as_deref(), Some("image"));
        assert_eq!(task.media_kind.as_deref(), Some("image"));
        let task = link_task("s3://b/a", None, None, origin);
        assert_eq!(task.data, r#"{"url":"s3://b/a"}"#);
        assert_eq!(task.media_kind, None);
        let task = link_task("s3://b/\"q\".mp3", None, Some("sound"), origin);
        assert_eq!(task.data, r#"{"sound":"s3://b/\"q\".mp3"}"#);
        assert_eq!(task.media_kind.as_deref(), Some("audio"));
    }
}
