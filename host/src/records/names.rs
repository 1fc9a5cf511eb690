//! Task names: explicit, or derived from the main link; collision suffixes.
//!
//! Names come from untrusted input, so terminal escapes and control
//! characters (including percent-decoded ones such as `%0A`) are removed and
//! surrounding whitespace trimmed; a name that ends up empty counts as no
//! name.

use super::clean;
use super::links::{Link, Provider, decode};

/// The name given to the `n`-th task whose name collides with `name`:
/// `photo.jpg` → `photo_1.jpg`, `README` → `README_1`.
pub fn with_suffix(name: &str, n: u64) -> String {
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{}_{}{}", &name[..dot], n, &name[dot..]),
        _ => format!("{name}_{n}"),
    }
}

/// The explicit name, else the last path segment of the main link,
/// percent-decoded, without query or fragment; `None` when neither gives a
/// non-empty name (e.g. `https://example.com/`).
pub fn derive_name(explicit: Option<&str>, main_link: Option<&Link>) -> Option<String> {
    explicit
        .and_then(tidy)
        .or_else(|| main_link.and_then(link_name))
}

/// The last segment of a link's path. Cloud and file paths are already
/// decoded; `http` paths are decoded here. Bare Windows paths split on `\`.
fn link_name(link: &Link) -> Option<String> {
    let separators: &[char] = match link.provider {
        Provider::File => &['/', '\\'],
        _ => &['/'],
    };
    let last = link.path.rsplit(separators).next()?;
    match link.provider {
        Provider::Http => tidy(&decode(last)),
        _ => tidy(last),
    }
}

/// Removes escapes and control characters and trims; `None` when nothing
/// is left.
fn tidy(name: &str) -> Option<String> {
    let safe = clean::safe_text(name);
    let trimmed = safe.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(uri: &str) -> Option<String> {
        let link = Link::new("image", uri).expect("a link");
        derive_name(None, Some(&link))
    }

    #[test]
    fn suffixes() {
        assert_eq!(with_suffix("photo.jpg", 1), "photo_1.jpg");
        assert_eq!(with_suffix("a.tar.gz", 2), "a.tar_2.gz");
        assert_eq!(with_suffix("README", 1), "README_1");
        assert_eq!(with_suffix(".hidden", 3), ".hidden_3");
    }

    #[test]
    fn explicit_name_wins() {
        let link = Link::new("image", "s3://b/x/berries-01.jpeg").unwrap();
        assert_eq!(
            derive_name(Some("image1.jpg"), Some(&link)).as_deref(),
            Some("image1.jpg")
        );
        assert_eq!(
            derive_name(Some("  "), Some(&link)).as_deref(),
            Some("berries-01.jpeg")
        );
        assert_eq!(
            derive_name(Some("a\u{1b}[1mb\n"), None).as_deref(),
            Some("ab")
        );
        assert_eq!(derive_name(None, None), None);
    }

    #[test]
    fn last_segment_decoded_without_query_or_fragment() {
        let cases = [
            (
                "s3://remote-img-test/test_img/berries-01.jpeg",
                "berries-01.jpeg",
            ),
            (
                "https://example.com/a/my%20cat.jpg?size=2#top",
                "my cat.jpg",
            ),
            (
                "https://b.s3.amazonaws.com/dir/my%20cat.jpg?X-Amz-Signature=f",
                "my cat.jpg",
            ),
            ("gs://b/%D1%84%D0%BE%D1%82%D0%BE.png", "фото.png"),
            ("file:///data/scan%201.pdf", "scan 1.pdf"),
            ("/data/my photos/a.jpg", "a.jpg"),
            ("C:\\data\\b.png", "b.png"),
            ("https://example.com/100%25.png", "100%.png"),
            ("https://example.com/bad%FF.png", "bad%FF.png"),
        ];
        for (uri, name) in cases {
            assert_eq!(name_of(uri).as_deref(), Some(name), "{uri}");
        }
    }

    #[test]
    fn no_segment_no_name() {
        assert_eq!(name_of("https://example.com/"), None);
        assert_eq!(name_of("https://example.com"), None);
        assert_eq!(name_of("s3://bucket"), None);
        assert_eq!(name_of("s3://bucket/dir/"), None);
        assert_eq!(name_of("https://example.com/x%0A"), Some("x".into()));
    }
}
