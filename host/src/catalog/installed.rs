//! Installed plugins on disk: `<home>/plugins/<name>/plugin.wasm` beside a
//! `manifest.json` recording what was validated at install time.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What `plugin install` recorded about a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallManifest {
    pub name: String,
    pub version: String,
    /// sha256 of `plugin.wasm`, hex; checked on every load.
    pub sha256: String,
    /// The contract version it was built against.
    pub contract: String,
    /// Seconds since the Unix epoch.
    pub installed_at: u64,
    /// Formats it claims that a built-in plugin also provides; the user
    /// chose (`--override-builtin`) to have this plugin convert them.
    #[serde(default)]
    pub overrides: Vec<String>,
}

/// The folder holding one installed plugin.
pub fn plugin_dir(home: &Path, name: &str) -> PathBuf {
    home.join("plugins").join(name)
}

/// The component file of an installed plugin.
pub fn component_path(dir: &Path) -> PathBuf {
    dir.join("plugin.wasm")
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("manifest.json")
}

/// Every installed plugin's folder and manifest, by name. Folders without a
/// readable manifest are reported as `Err` entries.
pub fn list(home: &Path) -> Vec<Result<(PathBuf, InstallManifest), String>> {
    let Ok(entries) = fs::read_dir(home.join("plugins")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let manifest = read_manifest(&dir)?;
            Ok((dir, manifest))
        })
        .collect()
}

/// Reads one plugin folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<InstallManifest, String> {
    let text = fs::read_to_string(manifest_path(dir))
        .map_err(|error| format!("{}: cannot read manifest.json: {error}", dir.display()))?;
    serde_json::from_str(&text)
        .map_err(|error| format!("{}: manifest.json is corrupt: {error}", dir.display()))
}

/// Writes a plugin folder: component first, manifest last, each atomically,
/// so a folder with a manifest always has the component it describes.
pub fn write(dir: &Path, bytes: &[u8], manifest: &InstallManifest) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    super::cache::write_atomically(&component_path(dir), bytes)?;
    let text = serde_json::to_vec_pretty(manifest)?;
    super::cache::write_atomically(&manifest_path(dir), &text)?;
    Ok(())
}

/// A plugin name usable as a folder name: lower-case letters, digits, `-`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}
