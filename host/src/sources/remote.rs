//! Sources in object stores and on the web: `s3://`, `gs://` (also
//! `gcs://`, `google://`), `az://` / `azure://`, and `http(s)://` URLs.
//!
//! - An object is streamed in the chunks the server sends; nothing is
//!   downloaded first.
//! - A URL ending in `/`, or a bucket with no key, is a prefix: it is listed
//!   (recursively, in key order, hidden names skipped) as the same JSON lines
//!   a local folder gives, with each object's URL as `uri`, so that the
//!   directory formats import it unchanged. The web has no listings.
//! - A web URL with a query (a presigned URL, a shared access signature, a
//!   token) is read with a plain GET of the whole URL, whatever its host:
//!   the query carries the authorization, so no provider's credentials are
//!   added. Messages and task origins name it without the query, which
//!   keeps signatures out of the store.
//! - Stores are configured as [`super::stores`] says.

use std::io::{self, Read};

use bytes::Buf;
use futures_util::StreamExt;
use futures_util::stream::{BoxStream, Fuse};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStoreExt, ObjectStoreScheme};
use tokio::runtime::Runtime;
use url::Url;

use super::credentials::CloudSettings;
use super::listing::{Lines, LinesReader, entry_line};
use super::stores::{
    ConfiguredStore, RemoteError, canonical_url, describe, locate, network_runtime,
    open_as_written, open_store,
};

/// A source in an object store or on the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSource {
    /// The URL as the user wrote it, without its query, for messages and
    /// origins.
    pub written: String,
    /// The URL with the provider's canonical scheme.
    url: Url,
    /// A prefix to list rather than an object to read.
    pub is_prefix: bool,
    /// A web URL whose query authorizes the request: it is read as written.
    authorized_by_query: bool,
}

impl RemoteSource {
    /// Parses a source argument that looks like a URL.
    pub fn parse(argument: &str) -> Result<Self, RemoteError> {
        let url = canonical_url(argument)?;
        let (scheme, path) = locate(&url)?;
        let authorized_by_query = url.query().is_some();
        if authorized_by_query && !matches!(url.scheme(), "http" | "https") {
            return Err(RemoteError::from(format!(
                "{}:// URLs take no query; a signed URL or one with a token is read \
                 as an https:// URL",
                url.scheme()
            )));
        }
        let is_prefix = scheme != ObjectStoreScheme::Http
            && !authorized_by_query
            && (path.as_ref().is_empty() || url.path().ends_with('/'));
        let written = argument
            .split_once('?')
            .map_or(argument, |(before, _)| before);
        Ok(RemoteSource {
            written: written.to_string(),
            url,
            is_prefix,
            authorized_by_query,
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

    /// One line for a failed request: a refused URL that carries its own
    /// authorization says so, since no credentials of the environment were
    /// used.
    fn request_error(&self, error: &object_store::Error) -> RemoteError {
        match error {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
                if self.authorized_by_query =>
            {
                RemoteError::from(
                    "access denied: the server did not accept the URL's query (its signature \
                     or token), which may have expired",
                )
            }
            _ => describe(error),
        }
    }

    /// Opens the object for reading, with its size, or starts listing the
    /// prefix.
    pub fn open(
        &self,
        cloud: &CloudSettings,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>), RemoteError> {
        let runtime = network_runtime()?;
        let (ConfiguredStore { store, .. }, path) = if self.authorized_by_query {
            open_as_written(&self.url)?
        } else {
            open_store(&self.url, cloud)?
        };
        if self.is_prefix {
            let base = self.url.clone();
            let listing = store.list(Some(&path)).fuse();
            let lines = PrefixListing {
                runtime,
                listing,
                prefix: path,
                base,
            };
            return Ok((Box::new(LinesReader::new(lines)), None));
        }
        let object = runtime
            .block_on(store.get(&path))
            .map_err(|e| self.request_error(&e))?;
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
    /// The prefix URL.
    base: Url,
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
            // Segment by segment, so that `#`, `?` and `%` in keys are
            // escaped rather than read as URL syntax.
            let mut uri = self.base.clone();
            if let Ok(mut segments) = uri.path_segments_mut() {
                segments.pop_if_empty().extend(&relative);
            }
            return entry_line(&relative.join("/"), uri.as_str(), meta.size).map(Some);
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

    #[test]
    fn a_query_is_read_on_web_urls_only_and_never_recorded() {
        let signed =
            parsed("https://bucket.s3.amazonaws.com/team/?X-Amz-Signature=abc&X-Amz-Expires=60");
        assert!(signed.authorized_by_query);
        // A signed prefix URL names an object: listings are not signed.
        assert!(!signed.is_prefix);
        assert_eq!(signed.written, "https://bucket.s3.amazonaws.com/team/");
        assert_eq!(signed.file_name(), "team");
        assert!(!parsed("https://bucket.s3.amazonaws.com/team/links.csv").authorized_by_query);
        let error = RemoteSource::parse("s3://bucket/links.csv?versionId=3").unwrap_err();
        assert!(
            error.to_string().starts_with("s3:// URLs take no query"),
            "{error}"
        );
    }
}
