//! Helpers for `detect` answers.

use crate::{Confidence, Detection};

/// One step less sure (`high` → `medium` → `low` → `none`): for content
/// that looks right in a file whose extension says nothing.
pub fn lower(confidence: Confidence) -> Confidence {
    match confidence {
        Confidence::High => Confidence::Medium,
        Confidence::Medium => Confidence::Low,
        Confidence::Low | Confidence::None => Confidence::None,
    }
}

/// A detection answer.
pub fn detection(format: &str, confidence: Confidence, reason: impl Into<String>) -> Detection {
    Detection {
        format: format.into(),
        confidence,
        reason: reason.into(),
    }
}
