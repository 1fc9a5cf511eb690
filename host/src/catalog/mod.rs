//! The plugins available to this process: the built-in ones embedded in
//! the binary and those installed in the plugin home. Both go through the
//! same path: compile (or load from the compile cache), check the contract
//! version, pre-instantiate, describe.
//!
//! Format ids are unique: a built-in format is converted by its built-in
//! plugin unless an installed plugin was installed with
//! `--override-builtin` for it; two installed plugins cannot claim the same
//! format.

pub mod cache;
pub mod installed;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use crate::contract::parse_version;
use crate::runtime::{FormatInfo, Limits, LoadedPlugin, PluginError, Runtime};
pub use cache::{CacheOutcome, CompileCache};
use installed::InstallManifest;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
}

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Embedded in the taskport binary.
    BuiltIn,
    /// Installed with `taskport plugin install`.
    Installed {
        dir: PathBuf,
        /// Built-in formats it converts instead of the built-in plugin.
        overrides: Vec<String>,
    },
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

/// How `install` treats conflicts.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstallChoices {
    /// Convert built-in formats the plugin also claims with this plugin.
    pub override_builtin: bool,
    /// Install even if the same or a newer version is installed.
    pub force: bool,
}

/// All plugins this process can use.
pub struct Catalog {
    home: PathBuf,
    runtime: Runtime,
    cache: CompileCache,
    plugins: Vec<CatalogPlugin>,
    /// Installed plugins that could not be loaded, one line each.
    pub warnings: Vec<String>,
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
            home,
            runtime,
            cache,
            plugins: Vec::new(),
            warnings: Vec::new(),
        };
        for (name, bytes) in embedded::BUILTIN_PLUGINS {
            let plugin = catalog
                .load(
                    &format!("built-in plugin {name}"),
                    bytes,
                    PluginOrigin::BuiltIn,
                    limits,
                )
                .with_context(|| format!("built-in plugin {name} failed to load"))?;
            catalog.plugins.push(plugin);
        }
        for entry in installed::list(&catalog.home) {
            match entry.and_then(|(dir, manifest)| catalog.load_installed(dir, manifest, limits)) {
                Ok(plugin) => catalog.plugins.push(plugin),
                Err(warning) => catalog.warnings.push(warning),
            }
        }
        Ok(catalog)
    }

    fn load_installed(
        &self,
        dir: PathBuf,
        manifest: InstallManifest,
        limits: &Limits,
    ) -> Result<CatalogPlugin, String> {
        let path = installed::component_path(&dir);
        let bytes = std::fs::read(&path)
            .map_err(|error| format!("installed plugin {}: {error}", manifest.name))?;
        if cache::sha256_hex(&bytes) != manifest.sha256 {
            return Err(format!(
                "installed plugin {} was modified after installation ({} no longer matches its recorded sha256); reinstall it",
                manifest.name,
                path.display()
            ));
        }
        let origin = PluginOrigin::Installed {
            dir,
            overrides: manifest.overrides,
        };
        self.load(
            &format!("installed plugin {}", manifest.name),
            &bytes,
            origin,
            limits,
        )
        .map_err(|error| format!("installed plugin {} skipped: {error}", manifest.name))
    }

    /// Compiles (or fetches from the cache) and loads one component.
    fn load(
        &self,
        source_name: &str,
        bytes: &[u8],
        origin: PluginOrigin,
        limits: &Limits,
    ) -> Result<CatalogPlugin, PluginError> {
        let (plugin, hash, cache) = self.compile_and_load(source_name, bytes, limits)?;
        Ok(CatalogPlugin {
            plugin,
            hash,
            origin,
            cache,
        })
    }

    /// The loaded plugin, its sha256 and how the compile cache served it.
    fn compile_and_load(
        &self,
        source_name: &str,
        bytes: &[u8],
        limits: &Limits,
    ) -> Result<(LoadedPlugin, String, CacheOutcome), PluginError> {
        let hash = cache::sha256_hex(bytes);
        let (component, cache) = self
            .cache
            .component(&self.runtime, source_name, &hash, bytes)?;
        let plugin = self.runtime.load(source_name, &component, limits)?;
        Ok((plugin, hash, cache))
    }

    /// Every plugin, built-in ones first.
    pub fn plugins(&self) -> &[CatalogPlugin] {
        &self.plugins
    }

    /// The plugin named `name`.
    pub fn plugin(&self, name: &str) -> Option<&CatalogPlugin> {
        self.plugins
            .iter()
            .find(|entry| entry.plugin.info().name == name)
    }

    /// The plugin that converts `format`, with the format's description: an
    /// installed plugin that overrides the built-in one, else the first
    /// plugin (built-in ones first) that has it.
    pub fn find_format(&self, format: &str) -> Option<(&CatalogPlugin, &FormatInfo)> {
        let has = |entry: &&CatalogPlugin| matches!(&entry.origin, PluginOrigin::Installed { overrides, .. } if overrides.iter().any(|id| id == format));
        let overriding = self.plugins.iter().find(has);
        overriding
            .into_iter()
            .chain(&self.plugins)
            .find_map(|entry| {
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

    /// Validates a component file and installs it into the plugin home,
    /// precompiled. Returns the installed plugin's manifest.
    pub fn install(
        &self,
        file: &Path,
        choices: InstallChoices,
        limits: &Limits,
    ) -> anyhow::Result<InstallManifest> {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let (candidate, hash, _) =
            self.compile_and_load(&file.display().to_string(), &bytes, limits)?;
        let info = candidate.info();
        if !installed::is_valid_name(&info.name) {
            bail!(
                "{} calls itself {:?}; plugin names are lower-case letters, digits and '-'",
                file.display(),
                info.name
            );
        }
        if info.formats.is_empty() {
            bail!(
                "{} describes no formats, so it could convert nothing",
                file.display()
            );
        }
        let overrides = self.check_conflicts(info, choices)?;
        let manifest = InstallManifest {
            name: info.name.clone(),
            version: info.version.clone(),
            sha256: hash,
            contract: candidate.contract_version().to_string(),
            installed_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
            overrides,
        };
        installed::write(
            &installed::plugin_dir(&self.home, &info.name),
            &bytes,
            &manifest,
        )
        .with_context(|| format!("cannot write to the plugin home {}", self.home.display()))?;
        Ok(manifest)
    }

    /// Refuses installs that would silently shadow or downgrade something;
    /// returns the built-in formats the plugin will override.
    fn check_conflicts(
        &self,
        info: &crate::runtime::PluginInfo,
        choices: InstallChoices,
    ) -> anyhow::Result<Vec<String>> {
        let mut overrides = Vec::new();
        for existing in &self.plugins {
            let theirs = existing.plugin.info();
            let same_plugin = theirs.name == info.name;
            match &existing.origin {
                PluginOrigin::BuiltIn if same_plugin => bail!(
                    "{} is the name of a built-in plugin; give yours another name",
                    info.name
                ),
                PluginOrigin::Installed { .. } if same_plugin => {
                    let newer = parse_version(&info.version) > parse_version(&theirs.version);
                    if !newer && !choices.force {
                        bail!(
                            "{}@{} is already installed and {} is not newer; use --force to replace it",
                            theirs.name,
                            theirs.version,
                            info.version
                        );
                    }
                    continue;
                }
                _ => {}
            }
            for format in &info.formats {
                if !theirs.formats.iter().any(|other| other.id == format.id) {
                    continue;
                }
                match existing.origin {
                    PluginOrigin::BuiltIn if choices.override_builtin => {
                        overrides.push(format.id.clone())
                    }
                    PluginOrigin::BuiltIn => bail!(
                        "{} claims format {:?}, which the built-in plugin {} converts; install with --override-builtin to convert it with {} instead, or give the format another id",
                        info.name,
                        format.id,
                        theirs.name,
                        info.name
                    ),
                    PluginOrigin::Installed { .. } => bail!(
                        "{} claims format {:?}, which the installed plugin {} converts; remove that one first (taskport plugin remove {})",
                        info.name,
                        format.id,
                        theirs.name,
                        theirs.name
                    ),
                }
            }
        }
        Ok(overrides)
    }

    /// Removes an installed plugin.
    pub fn remove(&self, name: &str) -> anyhow::Result<()> {
        match self.plugin(name).map(|entry| &entry.origin) {
            Some(PluginOrigin::BuiltIn) => bail!("{name} is built in and cannot be removed"),
            Some(PluginOrigin::Installed { dir, .. }) => std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove {}", dir.display())),
            None => {
                let dir = installed::plugin_dir(&self.home, name);
                if installed::is_valid_name(name) && dir.is_dir() {
                    // Installed but not loadable (e.g. corrupt): still removable.
                    return std::fs::remove_dir_all(&dir)
                        .with_context(|| format!("cannot remove {}", dir.display()));
                }
                bail!("no plugin named {name} is installed (see `taskport plugin list`)")
            }
        }
    }
}
