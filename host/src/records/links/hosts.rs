//! Cloud storage https hostnames: S3, Google Cloud Storage, Azure Blob.

use url::Url;

use super::{Provider, decode};

/// An object addressed by an https URL on a cloud storage host.
pub(super) struct CloudObject {
    pub provider: Provider,
    pub bucket: String,
    pub key: String,
}

/// Azure Blob endpoint suffixes (public cloud, China, US government).
const AZURE_BLOB: [&str; 3] = [
    ".blob.core.windows.net",
    ".blob.core.chinacloudapi.cn",
    ".blob.core.usgovcloudapi.net",
];

/// Path-style Google Cloud Storage hosts.
const GCS_PATH_STYLE: [&str; 2] = ["storage.googleapis.com", "storage.cloud.google.com"];

/// Recognises S3 (virtual-hosted and path-style), GCS and Azure Blob https
/// URLs; `None` for any other host, or when the URL names no bucket.
pub(super) fn cloud_object(url: &Url) -> Option<CloudObject> {
    let host = url.host_str()?;
    let path = url.path().strip_prefix('/').unwrap_or(url.path());
    let (provider, bucket, key) = if let Some(prefix) = s3_prefix(host) {
        s3(prefix, path)?
    } else if GCS_PATH_STYLE.contains(&host) {
        path_style(Provider::Gcs, path)
    } else if let Some(bucket) = host.strip_suffix(".storage.googleapis.com") {
        (Provider::Gcs, bucket, path)
    } else if AZURE_BLOB.iter().any(|suffix| host.ends_with(suffix)) {
        path_style(Provider::Azure, path)
    } else {
        return None;
    };
    if bucket.is_empty() {
        return None;
    }
    Some(CloudObject {
        provider,
        bucket: decode(bucket),
        key: decode(key),
    })
}

/// The part of an AWS hostname before `.amazonaws.com` (or `.com.cn`).
fn s3_prefix(host: &str) -> Option<&str> {
    host.strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
}

/// `bucket.s3.amazonaws.com`, `bucket.s3.REGION.amazonaws.com`,
/// `bucket.s3-REGION.amazonaws.com` (the bucket may contain dots), or
/// path-style `s3[.-]REGION.amazonaws.com/bucket/key`. The service label is
/// the rightmost `s3` or `s3-…` label.
fn s3<'a>(prefix: &'a str, path: &'a str) -> Option<(Provider, &'a str, &'a str)> {
    let labels: Vec<&str> = prefix.split('.').collect();
    let service = labels
        .iter()
        .rposition(|label| *label == "s3" || label.starts_with("s3-"))?;
    if service == 0 {
        return Some(path_style(Provider::S3, path));
    }
    let bucket_len = labels[..service].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    Some((Provider::S3, &prefix[..bucket_len], path))
}

/// `/bucket/key…` (leading slash already removed).
fn path_style(provider: Provider, path: &str) -> (Provider, &str, &str) {
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    (provider, bucket, key)
}
