//! `--verify`: before a task is stored, every cloud object it links to
//! (`s3`, `gcs` and `azure` links, in any of their spellings) is looked up
//! with a HEAD request, [`CONCURRENT_REQUESTS`] at a time.
//!
//! - A task linking to a missing object becomes a `missing-object` error
//!   under the error policy; so does one whose object cannot be looked up
//!   (access denied, unreachable store), with the reason.
//! - A found object's size and etag go into the task's meta, by link field:
//!   `"meta": {"objects": {"image": {"size": 1234, "etag": "\"9b2c…\""}}}`.
//! - Each store is built once per bucket, from the same environment
//!   variables as sources (see [`crate::sources::remote`]); requests are
//!   retried as sources' are.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use serde_json::{Map, Value, json};
use tokio::runtime::Runtime;
use url::Url;

use crate::records::Task;
use crate::records::links::{Link, Provider};
use crate::sources::CloudSettings;
use crate::sources::remote::{
    RemoteError, canonical_url, describe, locate, network_runtime, open_store,
};

/// HEAD requests in flight at once.
pub const CONCURRENT_REQUESTS: usize = 32;

/// The meta key holding what was found.
pub const META_KEY: &str = "objects";

/// Looks up the objects tasks link to.
pub struct Verifier {
    runtime: Runtime,
    cloud: CloudSettings,
    /// Stores by the part of a link that names the bucket (`s3://bucket`,
    /// `https://bucket.s3.amazonaws.com`, ...).
    stores: HashMap<String, Arc<dyn ObjectStore>>,
}

/// One lookup: which task and link, where.
struct Lookup {
    task: usize,
    field: String,
    uri: String,
    target: Result<(Arc<dyn ObjectStore>, ObjectPath), RemoteError>,
}

impl Verifier {
    /// A verifier using the environment's settings and `cloud`'s.
    pub fn new(cloud: CloudSettings) -> Result<Self, RemoteError> {
        Ok(Verifier {
            runtime: network_runtime()?,
            cloud,
            stores: HashMap::new(),
        })
    }

    /// Looks up the cloud objects of `tasks`. For each task, `None` when
    /// every object was found (their size and etag are then in its meta),
    /// or why it fails.
    pub fn verify(&mut self, tasks: &mut [Task]) -> Vec<Option<String>> {
        let mut lookups = Vec::new();
        for (index, task) in tasks.iter().enumerate() {
            for link in task.links.iter().filter(|link| is_cloud(link)) {
                lookups.push(Lookup {
                    task: index,
                    field: link.field.clone(),
                    uri: link.uri.clone(),
                    target: self.target(&link.uri),
                });
            }
        }
        let found: Vec<(Lookup, Result<ObjectMeta, String>)> = self.runtime.block_on(
            futures_util::stream::iter(lookups)
                .map(|lookup| async move {
                    let result = match &lookup.target {
                        Ok((store, path)) => {
                            store.head(path).await.map_err(|e| describe(&e).to_string())
                        }
                        Err(error) => Err(error.to_string()),
                    };
                    (lookup, result)
                })
                .buffer_unordered(CONCURRENT_REQUESTS)
                .collect(),
        );
        let mut failures: Vec<Option<String>> = vec![None; tasks.len()];
        let mut found_by_task: Vec<Vec<(String, ObjectMeta)>> = vec![Vec::new(); tasks.len()];
        for (lookup, result) in found {
            match result {
                Ok(meta) => found_by_task[lookup.task].push((lookup.field, meta)),
                Err(reason) => {
                    failures[lookup.task].get_or_insert(format!("{}: {reason}", lookup.uri));
                }
            }
        }
        for ((task, failure), found) in tasks.iter_mut().zip(&failures).zip(found_by_task) {
            if failure.is_none() && !found.is_empty() {
                record_objects(&mut task.meta, found);
            }
        }
        failures
    }

    /// The store and path of the object `uri` names.
    fn target(&mut self, uri: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath), RemoteError> {
        let url = canonical_url(uri)?;
        let (_, path) = locate(&url)?;
        let bucket = bucket_url(&url);
        if let Some(store) = self.stores.get(&bucket) {
            return Ok((store.clone(), path));
        }
        let (store, _) = open_store(&url, &self.cloud)?;
        let store: Arc<dyn ObjectStore> = Arc::from(store);
        self.stores.insert(bucket, store.clone());
        Ok((store, path))
    }
}

/// Links to objects in S3, GCS or Azure.
fn is_cloud(link: &Link) -> bool {
    matches!(
        link.provider,
        Provider::S3 | Provider::Gcs | Provider::Azure
    )
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

/// Adds `{field: {size, etag}}` under [`META_KEY`] of `meta`.
fn record_objects(meta: &mut Map<String, Value>, found: Vec<(String, ObjectMeta)>) {
    let objects = meta
        .entry(META_KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    if !objects.is_object() {
        *objects = Value::Object(Map::new());
    }
    let objects = objects.as_object_mut().expect("made an object above");
    for (field, object) in found {
        objects.insert(field, json!({"size": object.size, "etag": object.e_tag}));
    }
}
