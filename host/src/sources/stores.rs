//! Object stores, configured for a URL from each provider's standard
//! environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`, as the provider's
//! own tools read them) and `--env` settings (see [`super::credentials`]),
//! with the `object_store` crate.
//!
//! A request is retried at most [`RETRIES`] times within [`RETRY_TIMEOUT`],
//! so a wrong endpoint or a missing bucket fails in seconds.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{ClientOptions, ObjectStore, ObjectStoreScheme, RetryConfig};
use tokio::runtime::Runtime;
use url::Url;

use super::credentials::CloudSettings;

/// Retries per request after the first attempt.
pub const RETRIES: usize = 2;
/// How long a request may keep being retried.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an object store or web source could not be used: one line for the
/// user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RemoteError(String);

impl From<&str> for RemoteError {
    fn from(message: &str) -> Self {
        RemoteError(message.to_string())
    }
}

impl From<String> for RemoteError {
    fn from(message: String) -> Self {
        RemoteError(message)
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
    let unsupported = || {
        RemoteError(format!(
            "unsupported scheme {:?}; use s3://, gs://, az://, http:// or https://",
            url.scheme()
        ))
    };
    match ObjectStoreScheme::parse(url) {
        Ok((ObjectStoreScheme::Local | ObjectStoreScheme::Memory, _)) | Err(_) => {
            Err(unsupported())
        }
        Ok(located) => Ok(located),
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
    open_store_with(url, cloud, &[])
}

/// [`open_store`] with `overrides` (`object_store` configuration keys such
/// as `aws_region`) set over the environment's and `cloud`'s settings.
pub(crate) fn open_store_with(
    url: &Url,
    cloud: &CloudSettings,
    overrides: &[(&str, &str)],
) -> Result<(ConfiguredStore, ObjectPath), RemoteError> {
    let (scheme, path) = locate(url)?;
    let settings = cloud.settings_for(&scheme, url);
    let retry = retry_config();
    // The object-store builders share no trait; each is configured alike.
    macro_rules! from_env {
        ($builder:ty) => {{
            // An env file's settings replace the environment's.
            let mut builder = match settings {
                Some(_) => <$builder>::new(),
                None => <$builder>::from_env(),
            };
            let overrides = overrides.iter().map(|&(key, value)| (key, value));
            let settings = settings
                .unwrap_or_default()
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()));
            for (key, value) in settings.chain(overrides) {
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
        ObjectStoreScheme::Http => web_store(url, &url[..url::Position::BeforePath]),
        _ => return Err(RemoteError(format!("unsupported URL {url}"))),
    };
    Ok((built.map_err(|e| describe(&e))?, path))
}

/// A plain web store that reads `url` exactly as written, query included,
/// and the path that reads it: for a URL that carries its own
/// authorization (a presigned URL, a shared access signature, a token), so
/// no provider's credentials are added.
pub(crate) fn open_as_written(url: &Url) -> Result<(ConfiguredStore, ObjectPath), RemoteError> {
    let store = web_store(url, url.as_str()).map_err(|e| describe(&e))?;
    Ok((store, ObjectPath::default()))
}

/// A web store on `base` (the URL's origin, or the whole URL): plain http
/// only when `url` is written so.
fn web_store(url: &Url, base: &str) -> object_store::Result<ConfiguredStore> {
    HttpBuilder::new()
        .with_url(base)
        .with_retry(retry_config())
        .with_client_options(ClientOptions::new().with_allow_http(url.scheme() == "http"))
        .build()
        .map(|store| ConfiguredStore {
            store: Arc::new(store),
            signer: None,
        })
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        max_retries: RETRIES,
        retry_timeout: RETRY_TIMEOUT,
        ..RetryConfig::default()
    }
}

/// One line saying what went wrong with a request.
pub(crate) fn describe(error: &object_store::Error) -> RemoteError {
    let message = match error {
        object_store::Error::NotFound { .. } => "no such object (or no such bucket)".to_string(),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            "access denied; check the provider's credentials in the environment".to_string()
        }
        // Without credentials, each client asks the instance metadata service.
        object_store::Error::Generic { store, source }
            if source.to_string().contains("169.254.169.254") =>
        {
            let set = match *store {
                "S3" => "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_SKIP_SIGNATURE=true)",
                "GCS" => "GOOGLE_SERVICE_ACCOUNT (or GOOGLE_SKIP_SIGNATURE=true)",
                _ => "AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_KEY",
            };
            format!("no credentials found; set {set}, or use --env FILE")
        }
        other => {
            let text = other.to_string();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            // Drop the retry bookkeeping between the request and its cause:
            // "… GET URL in 1.2s, after 2 retries, … - cause".
            match (text.find(" in "), text.rfind(" - ")) {
                (Some(timing), Some(cause)) if timing < cause => {
                    format!("{}{}", &text[..timing], &text[cause..])
                }
                _ => text,
            }
        }
    };
    RemoteError(message)
}
