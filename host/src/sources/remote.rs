//! Object stores and the web: `s3://`, `gs://` (also `gcs://`, `google://`),
//! `az://` / `azure://`, and `http(s)://` sources, read with the
//! `object_store` crate.
//!
//! - An object is streamed in the chunks the server sends; nothing is
//!   downloaded first.
//! - A URL ending in `/`, or a bucket with no key, is a prefix: it is listed
//!   (recursively, in key order, hidden names skipped) as the same JSON lines
//!   a local folder gives, with each object's URL as `uri`, so that the
//!   directory formats import it unchanged. The web has no listings.
//! - Credentials and endpoints come from each provider's standard
//!   environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`), as the
//!   provider's own tools read them.
//! - A request is retried at most [`RETRIES`] times within [`RETRY_TIMEOUT`],
//!   so a wrong endpoint or a missing bucket fails in seconds.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use bytes::Buf;
use futures_util::StreamExt;
use futures_util::stream::{BoxStream, Fuse};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    ClientOptions, ObjectMeta, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig,
};
use tokio::runtime::Runtime;
use url::Url;

use super::credentials::CloudSettings;
use super::listing::{Lines, LinesReader, entry_line};

/// Retries per request after the first attempt.
pub const RETRIES: usize = 2;
/// How long a request may keep being retried.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

/// A source in an object store or on the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSource {
    /// The URL as the user wrote it, for messages and origins.
    pub written: String,
    /// The URL with the provider's canonical scheme.
    url: Url,
    /// A prefix to list rather than an object to read.
    pub is_prefix: bool,
}

/// Why a remote source could not be used: one line for the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RemoteError(String);

impl From<&str> for RemoteError {
    fn from(message: &str) -> Self {
        RemoteError(message.to_string())
    }
}

/// Parses an object or web URL, with `gcs://` and `google://` spelled as
/// the `gs://` that object stores know.
pub(crate) fn canonical_url(text: &str) -> Result<Url, RemoteError> {
    let canonical = match text.split_once("://") {
        Some(("gcs" | "google", rest)) => format!("gs://{rest}"),
        _ => text.to_string(),
    };
    Url::parse(&canonical).map_err(|e| RemoteError(format!("not a URL: {e}")))
}

/// Where `url` points: the kind of store and the path in it.
pub(crate) fn locate(url: &Url) -> Result<(ObjectStoreScheme, ObjectPath), RemoteError> {
    ObjectStoreScheme::parse(url).map_err(|_| {
        RemoteError(format!(
            "unsupported scheme {:?}; use s3://, gs://, az://, http:// or https://",
            url.scheme()
        ))
    })
}

impl RemoteSource {
    /// Parses a source argument that looks like a URL.
    pub fn parse(argument: &str) -> Result<Self, RemoteError> {
        let url = canonical_url(argument)?;
        let (scheme, path) = locate(&url)?;
        let is_prefix = scheme != ObjectStoreScheme::Http
            && (path.as_ref().is_empty() || url.path().ends_with('/'));
        Ok(RemoteSource {
            written: argument.to_string(),
            url,
            is_prefix,
        })
    }

    /// The object's or prefix's last name, for detection.
    pub fn file_name(&self) -> String {
        self.url
            .path_segments()
            .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
            .or(self.url.host_str())
            .unwrap_or_default()
            .to_string()
    }

    /// Opens the object for reading, with its size, or starts listing the
    /// prefix.
    pub fn open(
        &self,
        cloud: &CloudSettings,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>), RemoteError> {
        let runtime = network_runtime()?;
        let (ConfiguredStore { store, .. }, path) = open_store(&self.url, cloud)?;
        if self.is_prefix {
            let base = self.url.to_string();
            let listing = store.list(Some(&path)).fuse();
            let lines = PrefixListing {
                runtime,
                listing,
                prefix: path,
                base: base.trim_end_matches('/').to_string(),
            };
            return Ok((Box::new(LinesReader::new(lines)), None));
        }
        let object = runtime
            .block_on(store.get(&path))
            .map_err(|e| describe(&e))?;
        let size = object.meta.size;
        Ok((
            Box::new(ObjectReader {
                runtime,
                chunks: object.into_stream().fuse(),
                chunk: bytes::Bytes::new(),
            }),
            Some(size),
        ))
    }
}

/// A runtime for the requests of one reader, driven by whoever reads.
pub(crate) fn network_runtime() -> Result<Runtime, RemoteError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RemoteError(format!("cannot start the network runtime: {e}")))
}

/// A store configured for a URL: for requests, and for signing URLs when
/// the provider can (the web cannot).
#[derive(Debug, Clone)]
pub(crate) struct ConfiguredStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) signer: Option<Arc<dyn Signer>>,
}

/// The store for `url`, configured from the environment and `cloud`, and
/// the path within it.
pub(crate) fn open_store(
    url: &Url,
    cloud: &CloudSettings,
) -> Result<(ConfiguredStore, ObjectPath), RemoteError> {
    let (scheme, path) = locate(url)?;
    let settings = cloud.settings_for(&scheme, url);
    let retry = RetryConfig {
        max_retries: RETRIES,
        retry_timeout: RETRY_TIMEOUT,
        ..RetryConfig::default()
    };
    // The object-store builders share no trait; each is configured alike.
    macro_rules! from_env {
        ($builder:ty) => {{
            let mut builder = <$builder>::from_env();
            for (key, value) in settings {
                let key = key
                    .parse()
                    .map_err(|_| RemoteError(format!("unknown setting {key}")))?;
                builder = builder.with_config(key, value);
            }
            builder
                .with_url(url.as_str())
                .with_retry(retry)
                .build()
                .map(|store| {
                    let store = Arc::new(store);
                    ConfiguredStore {
                        store: store.clone(),
                        signer: Some(store),
                    }
                })
        }};
    }
    let built: object_store::Result<ConfiguredStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => from_env!(AmazonS3Builder),
        ObjectStoreScheme::GoogleCloudStorage => from_env!(GoogleCloudStorageBuilder),
        ObjectStoreScheme::MicrosoftAzure => from_env!(MicrosoftAzureBuilder),
        // Object stores follow their own setting for plain http
        // (`AWS_ALLOW_HTTP` and the like); a web source written as
        // http:// is read over http.
        ObjectStoreScheme::Http => HttpBuilder::new()
            .with_url(&url[..url::Position::BeforePath])
            .with_retry(retry)
            .with_client_options(ClientOptions::new().with_allow_http(url.scheme() == "http"))
            .build()
            .map(|store| ConfiguredStore {
                store: Arc::new(store),
                signer: None,
            }),
        _ => return Err(RemoteError(format!("unsupported URL {url}"))),
    };
    Ok((built.map_err(|e| describe(&e))?, path))
}

/// One line saying what went wrong with a request.
pub(crate) fn describe(error: &object_store::Error) -> RemoteError {
    let message = match error {
        object_store::Error::NotFound { .. } => "no such object (or no such bucket)".to_string(),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            "access denied; check the provider's credentials in the environment".to_string()
        }
        // Without keys, the S3 client asks the instance metadata service.
        other if other.to_string().contains("169.254.169.254") => {
            "no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (or AWS_SKIP_SIGNATURE=true for a public bucket)"
                .to_string()
        }
        other => {
            let text = other.to_string();
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    RemoteError(message)
}

/// An object's bytes as they arrive.
struct ObjectReader {
    runtime: Runtime,
    /// Fused: a reader may be read again after its end.
    chunks: Fuse<BoxStream<'static, object_store::Result<bytes::Bytes>>>,
    chunk: bytes::Bytes,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.chunks.next()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(error)) => return Err(io::Error::other(describe(&error))),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

/// A prefix's objects as folder-listing lines.
struct PrefixListing {
    runtime: Runtime,
    /// Fused: a reader may be read again after its end.
    listing: Fuse<BoxStream<'static, object_store::Result<ObjectMeta>>>,
    prefix: ObjectPath,
    /// The prefix URL without its trailing `/`.
    base: String,
}

impl Lines for PrefixListing {
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let Some(meta) = self.runtime.block_on(self.listing.next()) else {
                return Ok(None);
            };
            let meta = meta.map_err(|e| io::Error::other(describe(&e)))?;
            let relative: Vec<String> = match meta.location.prefix_match(&self.prefix) {
                Some(parts) => parts.map(|part| part.as_ref().to_string()).collect(),
                None => continue,
            };
            if relative.is_empty() || relative.iter().any(|part| part.starts_with('.')) {
                continue;
            }
            let path = relative.join("/");
            let uri = format!("{}/{path}", self.base);
            return entry_line(&path, &uri, meta.size).map(Some);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RemoteSource;

    fn parsed(url: &str) -> RemoteSource {
        RemoteSource::parse(url).unwrap()
    }

    #[test]
    fn prefixes_are_a_trailing_slash_or_a_bare_bucket() {
        assert!(parsed("s3://bucket/photos/").is_prefix);
        assert!(parsed("s3://bucket").is_prefix);
        assert!(parsed("s3://bucket/").is_prefix);
        assert!(parsed("gs://bucket/a/b/").is_prefix);
        assert!(parsed("az://container/").is_prefix);
        assert!(!parsed("s3://bucket/links.csv").is_prefix);
        // The web has no listings.
        assert!(!parsed("https://example.com/manifests/").is_prefix);
    }

    #[test]
    fn names_and_schemes() {
        assert_eq!(
            parsed("s3://bucket/team/links.csv").file_name(),
            "links.csv"
        );
        assert_eq!(parsed("s3://bucket/photos/").file_name(), "photos");
        assert_eq!(parsed("s3://bucket").file_name(), "bucket");
        let gcs = parsed("gcs://bucket/x.csv");
        assert_eq!(gcs.written, "gcs://bucket/x.csv");
        assert_eq!(gcs.url.scheme(), "gs");
        assert_eq!(parsed("google://bucket/x.csv").url.scheme(), "gs");
        let error = RemoteSource::parse("ftp://host/x.csv").unwrap_err();
        assert!(error.to_string().contains("unsupported scheme \"ftp\""));
    }
}
