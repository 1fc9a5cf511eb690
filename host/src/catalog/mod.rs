//! The plugins available to this process: the built-in ones embedded in
//! the binary and (see [`installed`]) those installed in the plugin home.
//! Both go through the same path: compile (or load from the compile cache),
//! check the contract version, pre-instantiate, describe.

pub mod cache;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::runtime::{FormatInfo, Limits, LoadedPlugin, PluginError, Runtime};
pub use cache::{CacheOutcome, CompileCache};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
}

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Embedded in the taskport binary.
    BuiltIn,
}

/// A loaded plugin with its provenance.
pub struct CatalogPlugin {
    pub plugin: LoadedPlugin,
    /// sha256 of the component, hex.
    pub hash: String,
    pub origin: PluginOrigin,
    /// Whether loading it compiled it or used the cache.
    pub cache: CacheOutcome,
}

/// All plugins this process can use.
pub struct Catalog {
    runtime: Runtime,
    cache: CompileCache,
    plugins: Vec<CatalogPlugin>,
}

/// The plugin home: `TASKPORT_HOME`, else the platform's data directory
/// (`~/.local/share/taskport` on Linux).
pub fn home_dir() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("TASKPORT_HOME").filter(|home| !home.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    directories::ProjectDirs::from("", "", "taskport")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("cannot find a home directory for taskport; set TASKPORT_HOME")
}

impl Catalog {
    /// Loads every plugin, using the compile cache under `home`.
    pub fn open(home: PathBuf, limits: &Limits) -> anyhow::Result<Self> {
        let runtime = Runtime::new().context("cannot start the WebAssembly runtime")?;
        let cache = CompileCache::new(home.join("cache"), &runtime);
        let mut catalog = Self {
            runtime,
            cache,
            plugins: Vec::new(),
        };
        for (name, bytes) in embedded::BUILTIN_PLUGINS {
            let plugin = catalog
                .load(&format!("built-in plugin {name}"), bytes, limits)
                .with_context(|| format!("built-in plugin {name} failed to load"))?;
            catalog.plugins.push(CatalogPlugin {
                origin: PluginOrigin::BuiltIn,
                ..plugin
            });
        }
        Ok(catalog)
    }

    /// Compiles (or fetches from the cache) and loads one component.
    fn load(
        &self,
        source_name: &str,
        bytes: &[u8],
        limits: &Limits,
    ) -> Result<CatalogPlugin, PluginError> {
        let hash = cache::sha256_hex(bytes);
        let (component, cache) = self
            .cache
            .component(&self.runtime, source_name, &hash, bytes)?;
        let plugin = self.runtime.load(source_name, &component, limits)?;
        Ok(CatalogPlugin {
            plugin,
            hash,
            origin: PluginOrigin::BuiltIn,
            cache,
        })
    }

    /// Every plugin, built-in ones first.
    pub fn plugins(&self) -> &[CatalogPlugin] {
        &self.plugins
    }

    /// The plugin that converts `format`, with the format's description.
    pub fn find_format(&self, format: &str) -> Option<(&CatalogPlugin, &FormatInfo)> {
        self.plugins.iter().find_map(|entry| {
            entry
                .plugin
                .info()
                .formats
                .iter()
                .find(|info| info.id == format)
                .map(|info| (entry, info))
        })
    }

    /// The compile cache's (hits, compilations) in this process.
    pub fn cache_counters(&self) -> (u64, u64) {
        self.cache.counters()
    }
}
