//! `taskport plugin install|list|info|remove`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::Cli;
use crate::catalog::{InstallChoices, PluginOrigin};
use crate::contract::{CONTRACT_PACKAGE, CONTRACT_VERSION};
use crate::runtime::Limits;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate a component, copy it into the plugin home and precompile it.
    Install {
        /// The plugin component (`.wasm`).
        file: PathBuf,
        /// Let this plugin convert built-in formats it also claims.
        #[arg(long)]
        override_builtin: bool,
        /// Replace an installed plugin even if this version is not newer.
        #[arg(long)]
        force: bool,
    },
    /// List built-in and installed plugins.
    List,
    /// Show a plugin's version, hash, contract, formats and options.
    Info { name: String },
    /// Remove an installed plugin.
    Remove { name: String },
}

/// Runs a plugin subcommand.
pub fn run(cli: &Cli, command: &PluginCommand) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let catalog = cli.catalog(&limits)?;
    let mut out = io::stdout().lock();
    match command {
        PluginCommand::Install {
            file,
            override_builtin,
            force,
        } => {
            let choices = InstallChoices {
                override_builtin: *override_builtin,
                force: *force,
            };
            let manifest = catalog.install(file, choices, &limits)?;
            writeln!(
                out,
                "installed {}@{} (sha256 {}, contract {CONTRACT_PACKAGE}@{})",
                manifest.name, manifest.version, manifest.sha256, manifest.contract
            )?;
            for format in &manifest.overrides {
                writeln!(
                    out,
                    "  converts built-in format {format} instead of the built-in plugin"
                )?;
            }
        }
        PluginCommand::List => {
            writeln!(
                out,
                "{:<16} {:<10} {:<10} formats",
                "PLUGIN", "VERSION", "ORIGIN"
            )?;
            for entry in catalog.plugins() {
                let info = entry.plugin.info();
                let formats: Vec<_> = info.formats.iter().map(|f| f.id.as_str()).collect();
                writeln!(
                    out,
                    "{:<16} {:<10} {:<10} {}",
                    info.name,
                    info.version,
                    origin_label(&entry.origin),
                    formats.join(", ")
                )?;
            }
        }
        PluginCommand::Info { name } => {
            let entry = catalog.plugin(name).ok_or_else(|| {
                anyhow::anyhow!("no plugin named {name} (see `taskport plugin list`)")
            })?;
            let info = entry.plugin.info();
            writeln!(out, "name:        {}", info.name)?;
            writeln!(out, "version:     {}", info.version)?;
            writeln!(out, "description: {}", info.description)?;
            writeln!(out, "origin:      {}", origin_label(&entry.origin))?;
            if let PluginOrigin::Installed { dir, overrides } = &entry.origin {
                writeln!(out, "location:    {}", dir.display())?;
                if !overrides.is_empty() {
                    writeln!(out, "overrides:   {}", overrides.join(", "))?;
                }
            }
            writeln!(out, "sha256:      {}", entry.hash)?;
            writeln!(
                out,
                "contract:    {CONTRACT_PACKAGE}@{} (this taskport: {CONTRACT_VERSION})",
                entry.plugin.contract_version()
            )?;
            writeln!(out, "formats:")?;
            for format in &info.formats {
                let kind = if format.directory { "folder" } else { "file" };
                writeln!(
                    out,
                    "  {:<20} {} ({kind}; extensions: {}; media: {})",
                    format.id,
                    format.title,
                    format.extensions.join(","),
                    format.media_kinds.join(",")
                )?;
            }
            writeln!(out, "options:")?;
            for option in &info.options {
                let default = option.default_value.as_deref().unwrap_or("none");
                writeln!(
                    out,
                    "  {:<20} {} (default: {default})",
                    option.name, option.description
                )?;
            }
        }
        PluginCommand::Remove { name } => {
            catalog.remove(name)?;
            writeln!(out, "removed {name}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn origin_label(origin: &PluginOrigin) -> &'static str {
    match origin {
        PluginOrigin::BuiltIn => "built-in",
        PluginOrigin::Installed { .. } => "installed",
    }
}
