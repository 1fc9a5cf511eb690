//! The compile cache: native code for plugin components, so a second run
//! does not compile again.
//!
//! Entries are keyed by the component's sha256 and the engine's
//! compatibility hash (taskport, wasmtime and CPU features), so a new build
//! or another machine never reuses stale code. Only files this cache wrote
//! are deserialized: each artifact has a sidecar holding its own sha256,
//! checked before wasmtime sees the bytes; an entry that fails the check or
//! does not deserialize is compiled again and rewritten.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::runtime::{PluginError, Runtime};

/// Compiled components on disk.
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
    hits: AtomicU64,
    compiles: AtomicU64,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache: no compilation.
    Hit,
    /// Compiled (and written to the cache).
    Compiled,
}

impl CompileCache {
    /// A cache in `dir` for components run by `runtime`.
    pub fn new(dir: PathBuf, runtime: &Runtime) -> Self {
        let mut hasher = DefaultHasher::new();
        runtime
            .engine()
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
            hits: AtomicU64::new(0),
            compiles: AtomicU64::new(0),
        }
    }

    /// (cache hits, compilations) so far.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.compiles.load(Ordering::Relaxed),
        )
    }

    /// The compiled component for `bytes` (whose sha256 is `hash`), from the
    /// cache when possible.
    pub fn component(
        &self,
        runtime: &Runtime,
        source_name: &str,
        hash: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginError> {
        let artifact = self.dir.join(format!("{hash}-{}.cwasm", self.engine_key));
        if let Some(component) = self.load(runtime, &artifact) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((component, CacheOutcome::Hit));
        }
        let component = runtime.compile(source_name, bytes)?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        // A cache that cannot be written only costs time on the next run.
        let _ = self.store(&component, &artifact);
        Ok((component, CacheOutcome::Compiled))
    }

    fn load(&self, runtime: &Runtime, artifact: &Path) -> Option<Component> {
        let bytes = fs::read(artifact).ok()?;
        let recorded = fs::read_to_string(sidecar(artifact)).ok()?;
        if recorded.trim() != sha256_hex(&bytes) {
            return None;
        }
        // SAFETY: the bytes are an artifact this cache serialized itself
        // (their sha256 matches the sidecar written with them), and wasmtime
        // checks the engine configuration and version in its header.
        unsafe { Component::deserialize(runtime.engine(), &bytes) }.ok()
    }

    fn store(&self, component: &Component, artifact: &Path) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        write_atomically(&sidecar(artifact), sha256_hex(&bytes).as_bytes())?;
        write_atomically(artifact, &bytes)?;
        Ok(())
    }
}

fn sidecar(artifact: &Path) -> PathBuf {
    artifact.with_extension("cwasm.sha256")
}

/// Writes through a temporary file and a rename, so readers never see a
/// half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temporary, bytes)?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
