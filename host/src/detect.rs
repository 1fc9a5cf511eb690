//! Format detection: every plugin rates every one of its formats for a
//! source; the most confident wins, and a tie at the top is an error.

use crate::catalog::Catalog;
use crate::runtime::{Confidence, Limits};
use crate::sources::{OpenSource, Source};

/// One format's rating for a source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub format: String,
    /// `name@version` of the plugin.
    pub plugin: String,
    pub confidence: Confidence,
    pub reason: String,
}

/// Why no single format could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(
        "cannot tell the format of {source_name}: no plugin recognises it; name one with --format (`taskport formats` lists them)"
    )]
    Unknown { source_name: String },
    #[error("cannot tell the format of {source_name}: {} are equally likely ({confidence}); choose one with --format", list(.candidates))]
    Ambiguous {
        source_name: String,
        confidence: Confidence,
        candidates: Vec<String>,
    },
}

fn list(candidates: &[String]) -> String {
    candidates.join(", ")
}

/// Every format's rating for `source`, most confident first. Folders are
/// rated only by directory formats and files only by file formats. A
/// plugin whose `detect` fails rates its formats `none`, with the failure
/// as the reason.
pub fn candidates(
    catalog: &Catalog,
    source: &Source,
    opened: &OpenSource,
    limits: &Limits,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for entry in catalog.plugins() {
        let plugin = &entry.plugin;
        let formats: Vec<_> = plugin
            .info()
            .formats
            .iter()
            .filter(|format| format.directory == source.is_directory())
            .collect();
        if formats.is_empty() {
            continue;
        }
        let detections = plugin.detect(&opened.file_name, &opened.head, limits);
        for format in formats {
            let (confidence, reason) = match &detections {
                Ok(detections) => detections
                    .iter()
                    .find(|detection| detection.format == format.id)
                    .map(|detection| (detection.confidence, detection.reason.clone()))
                    .unwrap_or((Confidence::None, "no answer for this format".into())),
                Err(error) => (Confidence::None, format!("detection failed: {error}")),
            };
            candidates.push(Candidate {
                format: format.id.clone(),
                plugin: plugin.label().to_string(),
                confidence,
                reason: crate::records::clean::message(&reason),
            });
        }
    }
    candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.confidence));
    candidates
}

/// The single most confident candidate.
pub fn choose<'a>(
    source_name: &str,
    candidates: &'a [Candidate],
) -> Result<&'a Candidate, DetectError> {
    let best = candidates
        .first()
        .filter(|best| best.confidence > Confidence::None)
        .ok_or_else(|| DetectError::Unknown {
            source_name: source_name.into(),
        })?;
    let tied: Vec<String> = candidates
        .iter()
        .filter(|candidate| candidate.confidence == best.confidence)
        .map(|candidate| format!("{} ({})", candidate.format, candidate.plugin))
        .collect();
    if tied.len() > 1 {
        return Err(DetectError::Ambiguous {
            source_name: source_name.into(),
            confidence: best.confidence,
            candidates: tied,
        });
    }
    Ok(best)
}
