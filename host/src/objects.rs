//! The cloud objects tasks link to (`s3`, `gcs` and `azure` links, in any of
//! their spellings), for `--verify` and `--presign`.
//!
//! - Verifying looks every object up with a HEAD request,
//!   [`CONCURRENT_REQUESTS`] at a time. A task linking to a missing object
//!   fails (`missing-object`); a lookup failing otherwise (credentials,
//!   access, network) fails the import, as every link of that store would
//!   fail alike. A found object's
//!   size and etag go into the task's meta by link field:
//!   `"meta": {"objects": {"image": {"size": 1234, "etag": "\"9b2c…\""}}}`.
//! - Presigning replaces each link in `data` by a signed https URL that
//!   lets anyone read the object for the given time, as Label Studio
//!   advises for private buckets; the links as written are kept in
//!   `"meta": {"original_links": {"image": "s3://…"}}`. The task's id is
//!   still that of the original link, so a re-import is still a duplicate.
//!   A link that cannot be signed (no key to sign with) fails the import.
//! - Each store is built once per bucket from the link as classified, so
//!   every spelling of a link reaches it, with the same settings as sources
//!   (see [`crate::sources::stores`]); requests are retried as sources' are.
//!   An S3 https link naming a region (`bucket.s3.eu-west-1.amazonaws.com`)
//!   gets a store in that region, whatever `AWS_REGION` says.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use object_store::signer::Method;
use serde_json::{Map, Value, json};
use tokio::runtime::Runtime;
use url::Url;

use crate::records::Task;
use crate::records::links::{Link, Provider, extract};
use crate::sources::CloudSettings;
use crate::sources::stores::{
    ConfiguredStore, RemoteError, describe, network_runtime, open_store_with,
};

/// Requests in flight at once.
pub const CONCURRENT_REQUESTS: usize = 32;

/// The meta key holding what verifying found.
pub const OBJECTS_KEY: &str = "objects";

/// The meta key holding the links as written, once presigned.
pub const ORIGINAL_LINKS_KEY: &str = "original_links";

/// The longest validity a presigned URL may have (S3's limit).
pub const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The error code of a task linking to a missing object.
pub const MISSING_OBJECT: &str = "missing-object";

/// Verifies and presigns the objects tasks link to.
pub struct LinkedObjects {
    runtime: Runtime,
    cloud: CloudSettings,
    /// Stores by the part of a link that names the bucket (`s3://bucket`,
    /// `https://bucket.s3.amazonaws.com/`, ...).
    stores: HashMap<String, ConfiguredStore>,
}

/// One object a task links to.
struct Linked {
    task: usize,
    field: String,
    uri: String,
    store: ConfiguredStore,
    path: ObjectPath,
}

impl LinkedObjects {
    /// Uses the environment's settings and `cloud`'s.
    pub fn new(cloud: CloudSettings) -> Result<Self, RemoteError> {
        Ok(LinkedObjects {
            runtime: network_runtime()?,
            cloud,
            stores: HashMap::new(),
        })
    }

    /// Looks up the cloud objects of `tasks`. For each task, `None` when
    /// every object was found (their size and etag are then in its meta),
    /// or the [`MISSING_OBJECT`] message. A lookup that fails otherwise than by a missing
    /// object (credentials, access, network) concerns the whole store, and
    /// is an error of the import.
    pub fn verify(&mut self, tasks: &mut [Task]) -> Result<Vec<Option<String>>, RemoteError> {
        let linked = self.linked(tasks)?;
        let looked_up = self.for_each(linked, |linked| {
            let (store, path) = (linked.store.store.clone(), linked.path.clone());
            async move { store.head(&path).await }
        });
        let mut failures: Vec<Option<String>> = vec![None; tasks.len()];
        let mut found: Vec<Vec<(String, Value)>> = vec![Vec::new(); tasks.len()];
        for (linked, result) in looked_up {
            match result {
                Ok(object) => found[linked.task].push((
                    linked.field,
                    json!({"size": object.size, "etag": object.e_tag}),
                )),
                Err(error @ object_store::Error::NotFound { .. }) => {
                    failures[linked.task]
                        .get_or_insert_with(|| format!("{}: {}", linked.uri, describe(&error)));
                }
                Err(error) => {
                    let message = format!("cannot look up {}: {}", linked.uri, describe(&error));
                    return Err(message.into());
                }
            }
        }
        for ((task, failure), found) in tasks.iter_mut().zip(&failures).zip(found) {
            if failure.is_none() && !found.is_empty() {
                insert_by_field(&mut task.meta, OBJECTS_KEY, found);
            }
        }
        Ok(failures)
    }

    /// Replaces the cloud links of `tasks` by URLs signed for `valid_for`.
    /// A link that cannot be signed (no key to sign with) is an error of
    /// the import: every other link of its store would fail alike.
    pub fn presign(&mut self, tasks: &mut [Task], valid_for: Duration) -> Result<(), RemoteError> {
        let linked = self.linked(tasks)?;
        let signed = self.for_each(linked, |linked| {
            let (signer, path) = (linked.store.signer.clone(), linked.path.clone());
            async move {
                match signer {
                    Some(signer) => signer.signed_url(Method::GET, &path, valid_for).await,
                    None => Err(object_store::Error::NotImplemented {
                        operation: "signing URLs".into(),
                        implementer: "this store".into(),
                    }),
                }
            }
        });
        let mut signed_by_task: Vec<Vec<(Linked, Url)>> =
            (0..tasks.len()).map(|_| Vec::new()).collect();
        for (linked, result) in signed {
            match result {
                Ok(url) => signed_by_task[linked.task].push((linked, url)),
                Err(error) => {
                    let message = format!("cannot sign {}: {}", linked.uri, describe(&error));
                    return Err(message.into());
                }
            }
        }
        for (task, signed) in tasks.iter_mut().zip(signed_by_task) {
            if signed.is_empty() {
                continue;
            }
            let replacements: HashMap<&str, &str> = signed
                .iter()
                .map(|(linked, url)| (linked.uri.as_str(), url.as_str()))
                .collect();
            for value in task.data.values_mut() {
                replace_strings(value, &replacements);
            }
            let originals = signed
                .iter()
                .map(|(linked, _)| (linked.field.clone(), Value::from(linked.uri.clone())))
                .collect();
            insert_by_field(&mut task.meta, ORIGINAL_LINKS_KEY, originals);
            task.links = extract(&task.data);
        }
        Ok(())
    }

    /// Every cloud object `tasks` link to, with its store; a store that
    /// cannot be configured is an error of the import.
    fn linked(&mut self, tasks: &[Task]) -> Result<Vec<Linked>, RemoteError> {
        let mut linked = Vec::new();
        for (index, task) in tasks.iter().enumerate() {
            for link in &task.links {
                let Some(store) = self.store_of(link)? else {
                    continue;
                };
                linked.push(Linked {
                    task: index,
                    field: link.field.clone(),
                    uri: link.uri.clone(),
                    store,
                    path: ObjectPath::from(link.path.as_str()),
                });
            }
        }
        Ok(linked)
    }

    /// Runs `request` for every linked object, many at a time, in order (so
    /// that a task's first failing link is the one reported); pairs each
    /// with its result.
    fn for_each<T, F, Fut>(
        &self,
        linked: Vec<Linked>,
        request: F,
    ) -> Vec<(Linked, object_store::Result<T>)>
    where
        F: Fn(&Linked) -> Fut,
        Fut: Future<Output = object_store::Result<T>>,
    {
        self.runtime.block_on(
            futures_util::stream::iter(linked)
                .map(|linked| {
                    let pending = request(&linked);
                    async move { (linked, pending.await) }
                })
                .buffered(CONCURRENT_REQUESTS)
                .collect(),
        )
    }

    /// The store of a cloud link's bucket (`None` for other links), built
    /// from the link as classified, so every spelling of an object reaches
    /// the same store: `s3://bucket`, `gs://bucket`, and for Azure the
    /// container with its account when the link names one.
    fn store_of(&mut self, link: &Link) -> Result<Option<ConfiguredStore>, RemoteError> {
        let Some(bucket) = &link.bucket else {
            return Ok(None);
        };
        let bucket_url = match link.provider {
            Provider::S3 => format!("s3://{bucket}"),
            Provider::Gcs => format!("gs://{bucket}"),
            Provider::Azure => match Url::parse(&link.uri) {
                Ok(url) if url.scheme() == "https" => {
                    format!("https://{}/{bucket}", url.host_str().unwrap_or_default())
                }
                _ => format!("az://{bucket}"),
            },
            Provider::Http | Provider::File => return Ok(None),
        };
        // A region in an S3 hostname says where the bucket is, over
        // `AWS_REGION`.
        let region = link.s3_region();
        let key = match &region {
            Some(region) => format!("{bucket_url} in {region}"),
            None => bucket_url.clone(),
        };
        if let Some(store) = self.stores.get(&key) {
            return Ok(Some(store.clone()));
        }
        let overrides: Vec<(&str, &str)> = region
            .iter()
            .map(|region| ("aws_region", region.as_str()))
            .collect();
        let configured = Url::parse(&bucket_url)
            .map_err(|e| RemoteError::from(e.to_string()))
            .and_then(|url| open_store_with(&url, &self.cloud, &overrides));
        let (store, _) = configured
            .map_err(|e| RemoteError::from(format!("cannot reach {key} for {}: {e}", link.uri)))?;
        self.stores.insert(key, store.clone());
        Ok(Some(store))
    }
}

/// Adds `{field: value}` entries under `key` of `meta` (an object there is
/// kept and added to; anything else is replaced).
fn insert_by_field(meta: &mut Map<String, Value>, key: &str, entries: Vec<(String, Value)>) {
    let slot = meta.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let map = slot.as_object_mut().expect("made an object above");
    map.extend(entries);
}

/// Replaces, anywhere in `value`, every string that is a key of
/// `replacements` by its value.
fn replace_strings(value: &mut Value, replacements: &HashMap<&str, &str>) {
    match value {
        Value::String(text) => {
            if let Some(new) = replacements.get(text.as_str()) {
                *text = (*new).to_string();
            }
        }
        Value::Array(items) => {
            for item in items {
                replace_strings(item, replacements);
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                replace_strings(item, replacements);
            }
        }
        _ => {}
    }
}
