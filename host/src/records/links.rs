//! Links: which strings in a task's data reference media, and where it lives.
//!
//! Every string value in `data` that is clearly a link is classified into a
//! [`Link`]: provider, bucket or container, object key or file path, and
//! whether the URL is signed. The original string is kept verbatim in
//! [`Link::uri`]; it is never re-encoded.
//!
//! `path` is the object key (or file path) the storage knows the object by:
//! for `s3`, `gcs`, `azure` and `file` URLs it is the URL path percent-decoded
//! (so `s3://b/my%20cat.jpg` and `s3://b/my cat.jpg` name the same key,
//! `my cat.jpg`); for `http` links it is the URL path as the URL spells it
//! (percent-encoded); a bare absolute path is kept as written. URLs are
//! parsed per the WHATWG URL standard, so `.`/`..` segments are resolved and
//! `?`/`#` start the query and fragment even in `s3://` URLs.

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

mod hosts;

/// Where linked media is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Amazon S3 (`s3://` or an `amazonaws.com` https URL).
    S3,
    /// Google Cloud Storage (`gs://`, `gcs://`, `google://` or `storage.googleapis.com`).
    Gcs,
    /// Azure Blob Storage (`az://`, `azure://`, `azure-blob://` or `*.blob.core.windows.net`).
    Azure,
    /// Any other http(s) URL.
    Http,
    /// A local file: `file://` URL or absolute path.
    File,
}

impl Provider {
    /// The lowercase name used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::Gcs => "gcs",
            Provider::Azure => "azure",
            Provider::Http => "http",
            Provider::File => "file",
        }
    }
}

/// What [`classify`] makes of one URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Where the media is stored.
    pub provider: Provider,
    /// Bucket or container; `None` for `http` and `file`.
    pub bucket: Option<String>,
    /// Object key or file path (see the module docs for its encoding).
    pub path: String,
    /// The URL carries a signature (`X-Amz-Signature`, `X-Goog-Signature`,
    /// Azure `sig`, or a legacy `Signature` with an access id).
    pub signed: bool,
}

/// One link found in a task's data, serialized as a record's `links` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Where in `data` the link is, in Label Studio's notation:
    /// `image`, `audio.url`, `texts[2]`.
    pub field: String,
    /// The string exactly as written in `data`.
    pub uri: String,
    /// Where the media is stored.
    pub provider: Provider,
    /// Bucket or container; `None` for `http` and `file`.
    pub bucket: Option<String>,
    /// Object key or file path (see the module docs for its encoding).
    pub path: String,
    /// The URL carries a signature.
    pub signed: bool,
}

impl Link {
    /// Classifies `uri` found at `field`; `None` when it is not a link.
    pub fn new(field: impl Into<String>, uri: &str) -> Option<Link> {
        let location = classify(uri)?;
        Some(Link {
            field: field.into(),
            uri: uri.to_owned(),
            provider: location.provider,
            bucket: location.bucket,
            path: location.path,
            signed: location.signed,
        })
    }

    /// The AWS region an S3 https link names in its hostname
    /// (`bucket.s3.eu-west-1.amazonaws.com`); `None` for other links.
    pub fn s3_region(&self) -> Option<String> {
        if self.provider != Provider::S3 {
            return None;
        }
        hosts::s3_region(&Url::parse(&self.uri).ok()?)
    }
}

/// URL schemes that make a string a link, lowercase.
const SCHEMES: [&str; 10] = [
    "s3",
    "gs",
    "gcs",
    "google",
    "az",
    "azure",
    "azure-blob",
    "http",
    "https",
    "file",
];

/// Schemes of bucket URLs, lowercase, with their provider.
const BUCKET_SCHEMES: [(&str, Provider); 7] = [
    ("s3", Provider::S3),
    ("gs", Provider::Gcs),
    ("gcs", Provider::Gcs),
    ("google", Provider::Gcs),
    ("az", Provider::Azure),
    ("azure", Provider::Azure),
    ("azure-blob", Provider::Azure),
];

/// Classifies one URI: a URL with a known scheme written as `scheme://…`,
/// or an absolute local path (`/data/x.jpg`, `C:\data\x.jpg`). Anything
/// else, including strings with control characters or surrounding
/// whitespace, is not a link.
pub fn classify(uri: &str) -> Option<Location> {
    plain_bucket_url(uri).or_else(|| classify_parsed(uri))
}

/// A bucket URL that URL parsing would leave exactly as written:
/// `scheme://bucket/key` with a bucket scheme (any case), a non-empty
/// bucket, and bucket and key made only of ASCII letters, digits and
/// `-._~` (plus `/` in the key), with no `.` or `..` key segment. Such a
/// URL has no userinfo, port, query, fragment or percent-escape, and the
/// parser keeps the host of these non-special schemes as written, so this
/// gives what [`classify_parsed`] gives, without parsing. `None` for any
/// other URI, which [`classify`] then parses.
fn plain_bucket_url(uri: &str) -> Option<Location> {
    let (provider, rest) = BUCKET_SCHEMES.iter().find_map(|&(scheme, provider)| {
        let written = uri.get(..scheme.len())?;
        let rest = uri[scheme.len()..].strip_prefix("://")?;
        written
            .eq_ignore_ascii_case(scheme)
            .then_some((provider, rest))
    })?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let plain = |segment: &[u8]| {
        segment
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    let plain_key = key
        .as_bytes()
        .split(|&b| b == b'/')
        .all(|segment| plain(segment) && segment != b"." && segment != b"..");
    if bucket.is_empty() || !plain(bucket.as_bytes()) || !plain_key {
        return None;
    }
    Some(Location {
        provider,
        bucket: Some(bucket.to_owned()),
        path: key.to_owned(),
        signed: false,
    })
}

/// [`classify`] by parsing the URL per the WHATWG URL standard; right for
/// every URI.
fn classify_parsed(uri: &str) -> Option<Location> {
    if uri.trim() != uri || uri.chars().any(char::is_control) {
        return None;
    }
    if is_absolute_path(uri) {
        return Some(Location {
            provider: Provider::File,
            bucket: None,
            path: uri.to_owned(),
            signed: false,
        });
    }
    let (scheme, _) = uri.split_once("://")?;
    if !SCHEMES
        .iter()
        .any(|known| scheme.eq_ignore_ascii_case(known))
    {
        return None;
    }
    let url = Url::parse(uri).ok()?;
    let signed = is_signed(&url);
    let (provider, bucket, path) = match url.scheme() {
        "s3" => bucket_url(Provider::S3, &url)?,
        "gs" | "gcs" | "google" => bucket_url(Provider::Gcs, &url)?,
        "az" | "azure" | "azure-blob" => bucket_url(Provider::Azure, &url)?,
        "file" => (Provider::File, None, decode(url.path())),
        _ => match hosts::cloud_object(&url) {
            Some(object) => (object.provider, Some(object.bucket), object.key),
            None => (Provider::Http, None, url.path().to_owned()),
        },
    };
    Some(Location {
        provider,
        bucket,
        path,
        signed,
    })
}

/// `scheme://bucket/key`: the host is the bucket, the path the key.
fn bucket_url(provider: Provider, url: &Url) -> Option<(Provider, Option<String>, String)> {
    let bucket = url.host_str().filter(|host| !host.is_empty())?;
    let key = url.path().strip_prefix('/').unwrap_or(url.path());
    Some((provider, Some(decode(bucket)), decode(key)))
}

/// Percent-decodes a URL component; keeps it as written when the decoded
/// bytes are not UTF-8.
pub(crate) fn decode(component: &str) -> String {
    match percent_decode_str(component).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => component.to_owned(),
    }
}

/// `/abs/path` (not `//host`) or a Windows drive path `C:\…` / `C:/…`.
fn is_absolute_path(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes {
        [b'/', second, ..] => *second != b'/',
        [b'/'] => true,
        [drive, b':', sep, ..] => drive.is_ascii_alphabetic() && matches!(sep, b'\\' | b'/'),
        _ => false,
    }
}

/// Whether the query carries a URL signature.
fn is_signed(url: &Url) -> bool {
    let mut legacy_signature = false;
    let mut access_id = false;
    for (name, _) in url.query_pairs() {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is("X-Amz-Signature") || is("X-Goog-Signature") || is("sig") {
            return true;
        }
        legacy_signature |= is("Signature");
        access_id |= is("AWSAccessKeyId") || is("GoogleAccessId");
    }
    legacy_signature && access_id
}

/// Every link in `data`, in document order, found recursively through
/// nested objects and arrays.
///
/// A string counts as a link when [`classify`] accepts it, with one extra
/// guard for bare absolute paths, which text can resemble (`/help`): they
/// need at least two segments and no whitespace, unless their file name has
/// a known media extension (`/data/my photos/a.jpg`).
pub fn extract(data: &Map<String, Value>) -> Vec<Link> {
    let mut links = Vec::new();
    for (key, value) in data {
        collect(key, value, &mut links);
    }
    links
}

fn collect(field: &str, value: &Value, links: &mut Vec<Link>) {
    match value {
        Value::String(s) if is_link_like(s) => links.extend(Link::new(field, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(&format!("{field}[{i}]"), item, links);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                collect(&format!("{field}.{key}"), item, links);
            }
        }
        _ => {}
    }
}

fn is_link_like(s: &str) -> bool {
    if !is_absolute_path(s) {
        return true;
    }
    let has_media_extension = super::media::MediaKind::from_uri(s).is_some();
    let segments = s.split(['/', '\\']).filter(|seg| !seg.is_empty()).count();
    has_media_extension || (segments >= 2 && !s.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests;
