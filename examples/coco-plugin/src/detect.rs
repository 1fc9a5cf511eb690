//! Cheap detection from the first bytes of a file.
//!
//! A COCO file is a JSON object whose top-level keys include `images` and
//! `annotations` or `categories`. In a large file those two usually come
//! after an `images` array longer than the head, so entries of `images`
//! with a `file_name` key count too.

use crate::taskport::plugin::types::Confidence;

/// The confidence that `head` starts a COCO document, and why.
pub fn detect(head: &[u8]) -> (Confidence, &'static str) {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let head = head.trim_ascii_start();
    if !head.starts_with(b"{") {
        return (Confidence::None, "not a JSON object");
    }
    let keys = keys(head);
    let top_level = |name: &[u8]| keys.iter().any(|&(depth, key)| depth == 1 && key == name);
    let image_entry_key = |name: &[u8]| keys.iter().any(|&(depth, key)| depth == 3 && key == name);
    if !top_level(b"images") {
        return (Confidence::None, "JSON object without an `images` key");
    }
    if top_level(b"annotations") || top_level(b"categories") {
        (
            Confidence::High,
            "JSON object with `images` and `annotations`/`categories` keys",
        )
    } else if image_entry_key(b"file_name") {
        (
            Confidence::High,
            "JSON object with an `images` array of entries with `file_name`",
        )
    } else {
        (
            Confidence::None,
            "JSON object with `images` but no `annotations`, `categories` or `file_name`",
        )
    }
}

/// The object keys in `json` (which may be cut anywhere) with their nesting
/// depth: 1 for the keys of the outermost object.
fn keys(json: &[u8]) -> Vec<(usize, &[u8])> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut at = 0;
    while at < json.len() {
        match json[at] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let Some(end) = string_end(json, at + 1) else {
                    break;
                };
                let rest = json[end + 1..].trim_ascii_start();
                if rest.starts_with(b":") {
                    keys.push((depth, &json[at + 1..end]));
                }
                at = end;
            }
            _ => {}
        }
        at += 1;
    }
    keys
}

/// The index of the quote closing the string whose content starts at `start`.
fn string_end(json: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    while at < json.len() {
        match json[at] {
            b'\\' => at += 2,
            b'"' => return Some(at),
            _ => at += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coco_heads_are_high() {
        let small = br#"{"images": [], "annotations": [], "categories": []}"#;
        assert_eq!(detect(small).0, Confidence::High);
        let cut = br#"  {"info": {"year": 2017}, "images": [{"id": 1, "file_name": "a.jpg", "wid"#;
        assert_eq!(detect(cut).0, Confidence::High);
        let bom = b"\xEF\xBB\xBF{\"categories\": [], \"images\": [";
        assert_eq!(detect(bom).0, Confidence::High);
    }

    #[test]
    fn other_json_is_none() {
        for head in [
            &br#"[{"data": {"image": "s3://b/a.jpg"}}]"#[..],
            br#"{"data": {"images": [], "annotations": []}}"#,
            br#"{"note": "\"images\": [], \"annotations\": []"}"#,
            br#"{"images": ["s3://b/a.jpg"]}"#,
            b"images,annotations\n",
            b"",
            b"{\"images\\",
        ] {
            assert_eq!(detect(head).0, Confidence::None, "{head:?}");
        }
    }
}
