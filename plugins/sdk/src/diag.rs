//! Constructors for origins and diagnostics.

use crate::{Diagnostic, Origin, Severity};

/// An origin at a 1-based `line` and byte `offset`, with an optional 0-based
/// element `index`.
pub fn origin(line: u64, index: Option<u64>, offset: u64) -> Origin {
    Origin {
        line: Some(line),
        index,
        offset: Some(offset),
    }
}

/// An error: the item at `origin` produced no task.
pub fn error(origin: Origin, code: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        origin,
        severity: Severity::Error,
        code: code.to_owned(),
        message: message.into(),
    }
}

/// A warning: the item at `origin` still produced its task (or nothing was lost).
pub fn warning(origin: Origin, code: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        origin,
        severity: Severity::Warning,
        code: code.to_owned(),
        message: message.into(),
    }
}
