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
/// path-style `s3[.-]REGION.amazonaws.com/bucket/key`.
fn s3<'a>(prefix: &'a str, path: &'a str) -> Option<(Provider, &'a str, &'a str)> {
    let (labels, service) = s3_labels(prefix)?;
    if service == 0 {
        return Some(path_style(Provider::S3, path));
    }
    let bucket_len = labels[..service].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    Some((Provider::S3, &prefix[..bucket_len], path))
}

/// The labels of an AWS hostname's prefix and the position of its service
/// label: the rightmost `s3` or `s3-…` one.
fn s3_labels(prefix: &str) -> Option<(Vec<&str>, usize)> {
    let labels: Vec<&str> = prefix.split('.').collect();
    let service = labels
        .iter()
        .rposition(|label| *label == "s3" || label.starts_with("s3-"))?;
    Some((labels, service))
}

/// The AWS region an S3 https hostname names: `s3.REGION`,
/// `s3.dualstack.REGION` or `s3-REGION` (`s3-external-1` is `us-east-1`);
/// `None` for the global `s3.amazonaws.com` and other hosts.
pub(super) fn s3_region(url: &Url) -> Option<String> {
    let (labels, service) = s3_labels(s3_prefix(url.host_str()?)?)?;
    let region = match labels[service].strip_prefix("s3-") {
        Some("external-1") => "us-east-1",
        Some(dashed) => dashed,
        None => match &labels[service + 1..] {
            ["dualstack", region] | [region] => region,
            _ => return None,
        },
    };
    let is_region = region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    is_region.then(|| region.to_owned())
}

/// `/bucket/key…` (leading slash already removed).
fn path_style(provider: Provider, path: &str) -> (Provider, &str, &str) {
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    (provider, bucket, key)
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::s3_region;

    #[test]
    fn regions_of_s3_hostnames() {
        let region = |url: &str| s3_region(&Url::parse(url).unwrap());
        for (url, expected) in [
            ("https://b.s3.eu-west-1.amazonaws.com/k", Some("eu-west-1")),
            (
                "https://my.dotted.bucket.s3.us-west-2.amazonaws.com/k",
                Some("us-west-2"),
            ),
            (
                "https://b.s3-ap-southeast-2.amazonaws.com/k",
                Some("ap-southeast-2"),
            ),
            (
                "https://s3.eu-central-1.amazonaws.com/b/k",
                Some("eu-central-1"),
            ),
            ("https://s3-eu-west-1.amazonaws.com/b/k", Some("eu-west-1")),
            (
                "https://b.s3.dualstack.us-east-2.amazonaws.com/k",
                Some("us-east-2"),
            ),
            ("https://b.s3-external-1.amazonaws.com/k", Some("us-east-1")),
            (
                "https://b.s3.cn-north-1.amazonaws.com.cn/k",
                Some("cn-north-1"),
            ),
            ("https://b.s3.amazonaws.com/k", None),
            ("https://s3.amazonaws.com/b/k", None),
            ("https://b.s3-accelerate.amazonaws.com/k", None),
            ("https://storage.googleapis.com/b/k", None),
            ("https://example.com/s3.eu-west-1/k", None),
        ] {
            assert_eq!(region(url).as_deref(), expected, "{url}");
        }
    }
}
