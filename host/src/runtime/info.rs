//! What plugins say about themselves, as host types.

use serde::Serialize;

use crate::contract::taskport::plugin::types as wit;

/// How sure a plugin is that a file is in one of its formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    None,
    Low,
    Medium,
    High,
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Confidence::None => "none",
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// One format a plugin converts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormatInfo {
    pub id: String,
    pub title: String,
    pub extensions: Vec<String>,
    pub media_kinds: Vec<String>,
    /// The input is a directory listing rather than a file.
    pub directory: bool,
}

/// An option a plugin accepts as `--opt name=value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionInfo {
    pub name: String,
    pub description: String,
    pub default_value: Option<String>,
}

/// A plugin's own description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub formats: Vec<FormatInfo>,
    pub options: Vec<OptionInfo>,
}

/// A plugin's guess about one of its formats for a given file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub format: String,
    pub confidence: Confidence,
    pub reason: String,
}

impl From<wit::PluginInfo> for PluginInfo {
    fn from(info: wit::PluginInfo) -> Self {
        Self {
            name: info.name,
            version: info.version,
            description: info.description,
            formats: info
                .formats
                .into_iter()
                .map(|format| FormatInfo {
                    id: format.id,
                    title: format.title,
                    extensions: format.extensions,
                    media_kinds: format.media_kinds,
                    directory: format.directory,
                })
                .collect(),
            options: info
                .options
                .into_iter()
                .map(|option| OptionInfo {
                    name: option.name,
                    description: option.description,
                    default_value: option.default_value,
                })
                .collect(),
        }
    }
}

impl From<wit::Detection> for Detection {
    fn from(detection: wit::Detection) -> Self {
        Self {
            format: detection.format,
            confidence: match detection.confidence {
                wit::Confidence::None => Confidence::None,
                wit::Confidence::Low => Confidence::Low,
                wit::Confidence::Medium => Confidence::Medium,
                wit::Confidence::High => Confidence::High,
            },
            reason: detection.reason,
        }
    }
}
