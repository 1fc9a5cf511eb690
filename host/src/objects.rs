//! The cloud objects tasks link to (`s3`, `gcs` and `azure` links, in any of
//! their spellings), for `--verify` and `--presign`.
//!
//! - Verifying looks every object up with a HEAD request,
//!   [`CONCURRENT_REQUESTS`] at a time. A task linking to a missing object
//!   fails (`missing-object`); so does one whose object cannot be looked up
//!   (access denied, unreachable store), with the reason. A found object's
//!   size and etag go into the task's meta by link field:
//!   `"meta": {"objects": {"image": {"size": 1234, "etag": "\"9b2c…\""}}}`.
//! - Presigning replaces each link in `data` by a signed https URL that
//!   lets anyone read the object for the given time, as Label Studio
//!   advises for private buckets; the links as written are kept in
//!   `"meta": {"original_links": {"image": "s3://…"}}`. The task's id is
//!   still that of the original link, so a re-import is still a duplicate.
//!   A link that cannot be signed (no key to sign with) fails the task
//!   (`presign-failed`).
//! - Each store is built once per bucket, from the same settings as sources
//!   (see [`crate::sources::stores`]); requests are retried as sources' are.

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
use crate::records::links::{Provider, extract};
use crate::sources::CloudSettings;
use crate::sources::stores::{
    ConfiguredStore, RemoteError, canonical_url, describe, locate, network_runtime, open_store,
};

/// Requests in flight at once.
pub const CONCURRENT_REQUESTS: usize = 32;

/// The meta key holding what verifying found.
pub const OBJECTS_KEY: &str = "objects";

/// The meta key holding the links as written, once presigned.
pub const ORIGINAL_LINKS_KEY: &str = "original_links";

/// The longest validity a presigned URL may have (S3's limit).
pub const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The error codes of tasks that fail here.
pub const MISSING_OBJECT: &str = "missing-object";
pub const PRESIGN_FAILED: &str = "presign-failed";

/// Why a task failed: its error code and message.
pub type Failure = (&'static str, String);

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
    /// Its store and path, or why there is none.
    target: Result<(ConfiguredStore, ObjectPath), RemoteError>,
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
    /// or why it fails.
    pub fn verify(&mut self, tasks: &mut [Task]) -> Vec<Option<Failure>> {
        let linked = self.linked(tasks);
        let looked_up = self.for_each(linked, |store, path| async move {
            store.store.head(&path).await.map_err(|e| describe(&e))
        });
        let mut failures: Vec<Option<Failure>> = vec![None; tasks.len()];
        let mut found: Vec<Vec<(String, Value)>> = vec![Vec::new(); tasks.len()];
        for (linked, result) in looked_up {
            match result {
                Ok(object) => found[linked.task].push((
                    linked.field,
                    json!({"size": object.size, "etag": object.e_tag}),
                )),
                Err(reason) => {
                    failures[linked.task]
                        .get_or_insert((MISSING_OBJECT, format!("{}: {reason}", linked.uri)));
                }
            }
        }
        for ((task, failure), found) in tasks.iter_mut().zip(&failures).zip(found) {
            if failure.is_none() && !found.is_empty() {
                insert_by_field(&mut task.meta, OBJECTS_KEY, found);
            }
        }
        failures
    }

    /// Replaces the cloud links of `tasks` by URLs signed for `valid_for`.
    /// For each task, `None` when every link was signed, or why it fails.
    pub fn presign(&mut self, tasks: &mut [Task], valid_for: Duration) -> Vec<Option<Failure>> {
        let linked = self.linked(tasks);
        let signed = self.for_each(linked, |store, path| async move {
            match &store.signer {
                Some(signer) => signer
                    .signed_url(Method::GET, &path, valid_for)
                    .await
                    .map_err(|e| describe(&e)),
                None => Err(RemoteError::from("this store cannot sign URLs")),
            }
        });
        let mut failures: Vec<Option<Failure>> = vec![None; tasks.len()];
        let mut signed_by_task: Vec<Vec<(Linked, Url)>> =
            (0..tasks.len()).map(|_| Vec::new()).collect();
        for (linked, result) in signed {
            match result {
                Ok(url) => signed_by_task[linked.task].push((linked, url)),
                Err(reason) => {
                    failures[linked.task]
                        .get_or_insert((PRESIGN_FAILED, format!("{}: {reason}", linked.uri)));
                }
            }
        }
        for ((task, failure), signed) in tasks.iter_mut().zip(&failures).zip(signed_by_task) {
            if failure.is_some() || signed.is_empty() {
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
        failures
    }

    /// Every cloud object `tasks` link to, with its store.
    fn linked(&mut self, tasks: &[Task]) -> Vec<Linked> {
        let mut linked = Vec::new();
        for (index, task) in tasks.iter().enumerate() {
            let cloud_links = task.links.iter().filter(|link| {
                matches!(
                    link.provider,
                    Provider::S3 | Provider::Gcs | Provider::Azure
                )
            });
            for link in cloud_links {
                linked.push(Linked {
                    task: index,
                    field: link.field.clone(),
                    uri: link.uri.clone(),
                    target: self.target(&link.uri),
                });
            }
        }
        linked
    }

    /// Runs `request` for every linked object that has a store, many at a
    /// time; pairs each with its result.
    fn for_each<T, F, Fut>(
        &self,
        linked: Vec<Linked>,
        request: F,
    ) -> Vec<(Linked, Result<T, RemoteError>)>
    where
        F: Fn(ConfiguredStore, ObjectPath) -> Fut,
        Fut: Future<Output = Result<T, RemoteError>>,
    {
        self.runtime.block_on(
            futures_util::stream::iter(linked)
                .map(|linked| {
                    let pending = match &linked.target {
                        Ok((store, path)) => Ok(request(store.clone(), path.clone())),
                        Err(error) => Err(error.clone()),
                    };
                    async move {
                        let result = match pending {
                            Ok(pending) => pending.await,
                            Err(error) => Err(error),
                        };
                        (linked, result)
                    }
                })
                // In order, so that a task's first failing link is the one reported.
                .buffered(CONCURRENT_REQUESTS)
                .collect(),
        )
    }

    /// The store and path of the object `uri` names.
    fn target(&mut self, uri: &str) -> Result<(ConfiguredStore, ObjectPath), RemoteError> {
        let url = canonical_url(uri)?;
        let (_, path) = locate(&url)?;
        let bucket = bucket_url(&url);
        if let Some(store) = self.stores.get(&bucket) {
            return Ok((store.clone(), path));
        }
        let (store, _) = open_store(&url, &self.cloud)?;
        self.stores.insert(bucket, store.clone());
        Ok((store, path))
    }
}

/// The part of an object URL that names its bucket: `s3://bucket`, or for
/// https URLs the host and the first path segment (path-style URLs name
/// the bucket there).
fn bucket_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    if !matches!(url.scheme(), "http" | "https") {
        return format!("{}://{host}", url.scheme());
    }
    let first = url
        .path_segments()
        .and_then(|mut segments| segments.next())
        .unwrap_or_default();
    format!("{}://{host}/{first}", url.scheme())
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
