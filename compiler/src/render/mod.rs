//! Renderers: one diagnostic model, one module per output format.
//!
//! - `human`: miette's graphical report (colour only when asked for; tests pin the
//!   unicode, no-colour theme at width 80);
//! - `json`: a stable JSON document for tools;
//! - `github`: GitHub Actions workflow commands (`::error file=...::message`).
//!
//! Positions are 0-based inside svc and shown 1-based here.

mod github;
mod human;
mod json;

pub use github::github;
pub use human::{HumanStyle, human};
pub use json::json;

use crate::diagnostic::Diagnostic;
use crate::source::Sources;

/// A 1-based `(line, column)`.
pub(crate) type Position = (usize, usize);

/// The file path and 1-based start and end of a diagnostic's primary span.
pub(crate) fn location(
    diagnostic: &Diagnostic,
    sources: &Sources,
) -> Option<(String, Position, Position)> {
    let label = diagnostic.primary.as_ref()?;
    let source = sources.get(label.span.source)?;
    let (line, column) = source.line_col(label.span.start as usize);
    let (end_line, end_column) = source.line_col(label.span.end as usize);
    Some((
        source.path.display().to_string(),
        (line + 1, column + 1),
        (end_line + 1, end_column + 1),
    ))
}
