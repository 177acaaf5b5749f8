//! Source positions: which file and which bytes a Graph item came from.
//!
//! Spans are byte offsets into the text of one source (0-based, half-open). They are shown
//! 1-based (line:column) only when rendered. `SourceId`s are handed out by the compiler's
//! source loader; this crate only carries them.

use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Identifies one loaded source file (the main config or an included file).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct SourceId(pub u32);

/// A half-open byte range `start..end` inside one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// The source the bytes belong to.
    pub source: SourceId,
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span over `start..end` of `source`.
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// True for a zero-width span (a position).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The smallest span covering both `self` and `other` (same source assumed).
    pub fn cover(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Provenance of a Graph item: the section that defined it and the span of every key that
/// set one of its values. Keys missing from `keys` took supervisord's default.
///
/// Never serialized, and never part of equality: the Graph is values only, so two Graphs
/// with the same meaning are equal wherever their values were written (a reload compares
/// groups this way).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The section header (`[program:web]`) the item came from.
    pub section: Option<Span>,
    /// Key name -> span of the value that set it (shared: every process of a program has
    /// the same map; the names are shared with the compiler's document).
    pub keys: Arc<IndexMap<Arc<str>, Span, rustc_hash::FxBuildHasher>>,
}

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Eq for Origin {}
