//! The source loader: every file the compiler reads gets a [`SourceId`] and stays here, so
//! diagnostics can render any span of any file.
//!
//! Invariants:
//! - `Source::text` is what spans index into. For a file that is not valid UTF-8 it is the
//!   lossy decoding; the bytes before the first bad sequence are identical, which is the only
//!   part a diagnostic ever points into.
//! - Sources are never removed: a `SourceId` stays valid for the life of a [`Sources`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use svc_schema::{SourceId, Span};

/// One loaded file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its id.
    pub id: SourceId,
    /// The path as supervisord would print it (absolute for included files).
    pub path: PathBuf,
    /// The normalized absolute path: the file's identity (one file read twice has one).
    pub absolute: String,
    /// The text (see the module invariant for non-UTF-8 files).
    pub text: String,
    /// Byte offset of each line start, for offset -> line:column; computed on the first
    /// use (only diagnostics being rendered need it).
    line_starts: OnceLock<Vec<usize>>,
}

impl Source {
    /// 0-based (line, column in chars) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts.get_or_init(|| line_starts(&self.text));
        let line = match line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line, column)
    }

    /// The text under a span (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// Byte offset of each line start of `text` (lines end at `\n`, `\r\n` or a lone `\r`).
fn line_starts(text: &str) -> Vec<usize> {
    let mut line_starts = vec![0];
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\n' => line_starts.push(index + 1),
            b'\r' if bytes.get(index + 1) != Some(&b'\n') => line_starts.push(index + 1),
            _ => {}
        }
        index += 1;
    }
    line_starts
}

/// All files read during one compilation.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Registers a file's text and returns its id.
    pub fn add(&mut self, path: &Path, text: String) -> SourceId {
        let id = SourceId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(Source {
            id,
            absolute: path.to_string_lossy().into_owned(),
            path: path.to_path_buf(),
            text,
            line_starts: OnceLock::new(),
        });
        id
    }

    /// Records the normalized absolute path of a source.
    pub fn set_absolute(&mut self, id: SourceId, absolute: String) {
        if let Some(source) = self.files.get_mut(id.0 as usize) {
            source.absolute = absolute;
        }
    }

    /// The source with this id.
    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.files.get(id.0 as usize)
    }

    /// Every source, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Source> {
        self.files.iter()
    }
}
