//! Stable task ids: the sha256 of a dedupe key, as 32 hex characters
//! (the first 128 bits).
//!
//! The default key is the canonical main link, so the same object imported
//! twice gets the same id however it is written:
//! - `s3`, `gcs`, `azure`: provider, bucket (lowercased) and decoded key. The
//!   query is ignored, so `s3://b/k`, `https://b.s3.amazonaws.com/k` and a
//!   presigned URL of it are one task, as are `gs://`, `gcs://`, `google://`;
//! - `file`: the path;
//! - `http`: the parsed URL (lowercase scheme and host, default port
//!   dropped) without fragment; a signed URL also without its query.
//!
//! Tasks without a main link (and every task under [`DedupeKey::Data`]) use
//! the hash of their canonical data: JSON with object keys sorted
//! recursively, so key order does not matter but every value does.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::links::{Link, Provider};

/// Hex characters kept from the sha256 digest.
pub const ID_HEX_LEN: usize = 32;

/// What decides that two tasks are the same task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DedupeKey {
    /// The canonical main link; the data when there is no link.
    #[default]
    MainLink,
    /// Always the canonical data (tasks that share media but differ in
    /// other fields stay apart).
    Data,
}

/// The stable id of a task.
pub fn task_id(key: DedupeKey, main_link: Option<&Link>, data: &Map<String, Value>) -> String {
    let mut hasher = Sha256::new();
    match (key, main_link) {
        (DedupeKey::MainLink, Some(link)) => {
            hasher.update(b"link\0");
            write_canonical_link(link, |part| hasher.update(part));
        }
        _ => {
            hasher.update(b"data\0");
            hash_object(&mut hasher, data);
        }
    }
    let digest = hasher.finalize();
    let mut id = [0; ID_HEX_LEN];
    hex::encode_to_slice(&digest[..ID_HEX_LEN / 2], &mut id).expect("the buffer fits the digest");
    String::from_utf8(id.to_vec()).expect("hex digits are ASCII")
}

/// The canonical text of a link, as described in the module docs.
pub fn canonical_link(link: &Link) -> String {
    let mut text = String::new();
    write_canonical_link(link, |part| text.push_str(part));
    text
}

/// Hands [`canonical_link`] to `write` in consecutive parts, without
/// building it.
fn write_canonical_link(link: &Link, mut write: impl FnMut(&str)) {
    match link.provider {
        Provider::S3 | Provider::Gcs | Provider::Azure => {
            let bucket = link.bucket.as_deref().unwrap_or_default();
            write(link.provider.as_str());
            write("://");
            // ASCII without uppercase letters is its own lowercase.
            if bucket
                .bytes()
                .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
            {
                write(&bucket.to_lowercase());
            } else {
                write(bucket);
            }
            write("/");
            write(&link.path);
        }
        Provider::File => {
            write("file://");
            write(&link.path);
        }
        Provider::Http => match Url::parse(&link.uri) {
            Ok(mut url) => {
                url.set_fragment(None);
                if link.signed {
                    url.set_query(None);
                }
                write(url.as_str());
            }
            Err(_) => write(&link.uri),
        },
    }
}

fn hash_object(hasher: &mut Sha256, map: &Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    hasher.update(b"{");
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hash_scalar(hasher, key);
        hasher.update(b":");
        hash_value(hasher, value);
    }
    hasher.update(b"}");
}

fn hash_value(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Object(map) => hash_object(hasher, map),
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                hash_value(hasher, item);
            }
            hasher.update(b"]");
        }
        scalar => hash_scalar(hasher, scalar),
    }
}

/// Strings, numbers, booleans and null, as serde_json writes them.
fn hash_scalar<T: serde::Serialize + ?Sized>(hasher: &mut Sha256, value: &T) {
    // Writing to a hasher cannot fail, and scalars always serialize.
    let _ = serde_json::to_writer(HashWriter(hasher), value);
}

/// Feeds serialized bytes straight into the hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id_of(uri: &str) -> String {
        let link = Link::new("image", uri).expect("a link");
        task_id(DedupeKey::MainLink, Some(&link), &Map::new())
    }

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().expect("an object").clone()
    }

    #[test]
    fn ids_are_32_hex_chars() {
        let id = id_of("s3://b/k.jpg");
        assert_eq!(id.len(), ID_HEX_LEN);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn same_s3_object_same_id() {
        let id = id_of("s3://bucket/dir/k.jpg");
        for uri in [
            "https://bucket.s3.amazonaws.com/dir/k.jpg",
            "https://bucket.s3.eu-west-1.amazonaws.com/dir/k.jpg",
            "https://bucket.s3-eu-west-1.amazonaws.com/dir/k.jpg",
            "https://s3.amazonaws.com/bucket/dir/k.jpg",
            "https://s3.us-east-2.amazonaws.com/bucket/dir/k.jpg",
            "https://BUCKET.s3.amazonaws.com/dir/k.jpg?X-Amz-Signature=abc&X-Amz-Expires=60",
            "s3://bucket/dir/k.jpg?X-Amz-Signature=def",
            "s3://bucket/dir/%6B.jpg",
        ] {
            assert_eq!(id_of(uri), id, "{uri}");
        }
        assert_ne!(id_of("s3://bucket/dir/K.jpg"), id);
        assert_ne!(id_of("s3://other/dir/k.jpg"), id);
    }

    #[test]
    fn gcs_and_azure_forms_agree() {
        let gcs = id_of("gs://b/k.png");
        for uri in [
            "gcs://b/k.png",
            "google://b/k.png",
            "https://storage.googleapis.com/b/k.png",
            "https://b.storage.googleapis.com/k.png?X-Goog-Signature=1",
        ] {
            assert_eq!(id_of(uri), gcs, "{uri}");
        }
        let azure = id_of("az://c/p/k.png");
        for uri in [
            "azure://c/p/k.png",
            "azure-blob://c/p/k.png",
            "https://acct.blob.core.windows.net/c/p/k.png?sv=2021&sig=x",
        ] {
            assert_eq!(id_of(uri), azure, "{uri}");
        }
        assert_ne!(gcs, id_of("s3://b/k.png"));
        assert_ne!(azure, id_of("gs://c/p/k.png"));
    }

    #[test]
    fn http_ids_keep_query_unless_signed() {
        let base = id_of("https://example.com/img?id=1");
        assert_eq!(id_of("HTTPS://EXAMPLE.com:443/img?id=1#frag"), base);
        assert_ne!(id_of("https://example.com/img?id=2"), base);
        assert_eq!(
            id_of("https://cdn.example.com/a.jpg?sig=1"),
            id_of("https://cdn.example.com/a.jpg?sig=2&se=2030")
        );
    }

    #[test]
    fn ids_are_stable() {
        for (uri, id) in [
            (
                "s3://bench-bucket/images/042/item42.jpg",
                "ffaf2ae31fb2877f97ca33d04caba513",
            ),
            (
                "S3://Bench-Bucket/Images/K.JPG",
                "e142e2d53bbb82cc6faf9f8f10966af0",
            ),
            ("gs://ÀBucket/k.png", "226fe9b2042a53f7d7a8a6a43f81ce87"),
            (
                "azure-blob://c/dir/my%20cat.jpg",
                "5eb75b9032101ffe1c3cd6c85fbd38fb",
            ),
            (
                "https://Example.com:443/a/b.jpg?x=1#f",
                "906e0c8ea88f6af89ccf574a24dc7d71",
            ),
            (
                "https://b.s3.amazonaws.com/k.jpg?X-Amz-Signature=1",
                "eeb9ee0ad53e8bb33e4a24e536d93bd2",
            ),
            (
                "file:///data/scan%201.pdf",
                "4058e0919fa5c88faaddeccd7055e29b",
            ),
            ("/data/set/a.jpg", "3fced76442e6b04de8b11da92dd5d243"),
        ] {
            assert_eq!(id_of(uri), id, "{uri}");
        }
    }

    #[test]
    fn canonical_links() {
        for (uri, canonical) in [
            ("S3://Bench-Bucket/K.JPG", "s3://bench-bucket/K.JPG"),
            ("google://ÀB/my%20k", "gcs://àb/my k"),
            ("az://c/k?sig=1", "azure://c/k"),
            ("FILE:///data/a%201.jpg", "file:///data/a 1.jpg"),
            ("C:\\data\\a.jpg", "file://C:\\data\\a.jpg"),
            (
                "HTTPS://EXAMPLE.com:443/a?x=1#f",
                "https://example.com/a?x=1",
            ),
            ("https://example.com/a?sig=1#f", "https://example.com/a"),
        ] {
            let link = Link::new("image", uri).expect("a link");
            assert_eq!(canonical_link(&link), canonical, "{uri}");
            let mut hasher = Sha256::new();
            hasher.update(b"link\0");
            hasher.update(canonical.as_bytes());
            let id = hex::encode(&hasher.finalize()[..ID_HEX_LEN / 2]);
            assert_eq!(id_of(uri), id, "{uri}");
        }
    }

    #[test]
    fn data_ids_ignore_key_order_only() {
        let a = data(json!({"text": "hi", "n": {"x": 1, "y": [1, 2]}}));
        let b = data(json!({"n": {"y": [1, 2], "x": 1}, "text": "hi"}));
        let c = data(json!({"n": {"y": [2, 1], "x": 1}, "text": "hi"}));
        let id = |d: &Map<String, Value>| task_id(DedupeKey::MainLink, None, d);
        assert_eq!(id(&a), id(&b));
        assert_ne!(id(&a), id(&c));
        assert_ne!(
            id(&data(json!({"text": "1"}))),
            id(&data(json!({"text": 1})))
        );
    }

    #[test]
    fn data_key_ignores_links() {
        let link = Link::new("image", "s3://b/k.jpg").unwrap();
        let one = data(json!({"image": "s3://b/k.jpg", "q": "what?"}));
        let two = data(json!({"image": "s3://b/k.jpg", "q": "where?"}));
        let by_link = |d| task_id(DedupeKey::MainLink, Some(&link), d);
        let by_data = |d| task_id(DedupeKey::Data, Some(&link), d);
        assert_eq!(by_link(&one), by_link(&two));
        assert_ne!(by_data(&one), by_data(&two));
    }
}
