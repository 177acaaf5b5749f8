//! A value's text together with a map back to the bytes it came from.
//!
//! configparser builds a value from several lines (continuations joined with `\n`, blank
//! lines kept) and supervisord later replaces `%(here)s` textually when `[include]` is used.
//! Neither result is a slice of the file, so a [`Value`] keeps pieces: each run of its text
//! either copies bytes of the source (same length) or replaced a span of it. Most values are
//! one line copied verbatim; they keep only where they start and allocate no piece list.

use svc_schema::{SourceId, Span};

/// One run of a value's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Where the run starts in `Value::text`.
    text_start: usize,
    /// Its length in bytes.
    len: usize,
    /// Where it came from.
    origin: PieceOrigin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PieceOrigin {
    /// Copied from the source starting at this byte offset.
    Copied(usize),
    /// Text that replaced this span of the source (a `%(here)s`, a joining newline).
    Replaced(usize, usize),
}

/// Where a run of text given to [`Value::from_runs`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// Copied from the source starting at this byte offset (the same bytes).
    Copied(usize),
    /// Stands for this span of the source (an escape, a separator added by the reader).
    Replaced(Span),
}

/// An INI value: its text as configparser returns it, and where each byte came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The value as supervisord sees it.
    pub text: String,
    /// The file it was read from.
    pub source: SourceId,
    /// Where `text` starts in the source, when `pieces` is empty.
    start: usize,
    /// The runs of `text`; empty when all of it is copied from the source at `start`.
    pieces: Vec<Piece>,
}

impl Value {
    /// A value starting as the source bytes `start..start+text.len()`.
    pub fn from_source(source: SourceId, start: usize, text: &str) -> Value {
        Value {
            text: text.to_string(),
            source,
            start,
            pieces: Vec::new(),
        }
    }

    /// A value that was not written anywhere (a default), placed at `span`.
    pub fn synthetic(span: Span, text: &str) -> Value {
        Value {
            text: text.to_string(),
            source: span.source,
            start: 0,
            pieces: vec![Piece {
                text_start: 0,
                len: text.len(),
                origin: PieceOrigin::Replaced(span.start as usize, span.end as usize),
            }],
        }
    }

    /// A value assembled from runs of text, each either copied from the source (from a byte
    /// offset, same length) or standing for a span of it (an escape sequence, a joining
    /// comma). This is how values read from a TOML file keep their map: the text is what the
    /// INI reader would have produced, every byte pointing into the TOML. `at` places an
    /// empty value.
    pub fn from_runs<'t>(
        source: SourceId,
        at: Span,
        runs: impl IntoIterator<Item = (&'t str, Run)>,
    ) -> Value {
        let mut value = Value {
            text: String::new(),
            source,
            start: 0,
            pieces: Vec::new(),
        };
        for (text, run) in runs {
            if text.is_empty() {
                continue;
            }
            let origin = match run {
                Run::Copied(start) => PieceOrigin::Copied(start),
                Run::Replaced(span) => {
                    PieceOrigin::Replaced(span.start as usize, span.end as usize)
                }
            };
            value.pieces.push(Piece {
                text_start: value.text.len(),
                len: text.len(),
                origin,
            });
            value.text.push_str(text);
        }
        if value.pieces.is_empty() {
            value.pieces.push(Piece {
                text_start: 0,
                len: 0,
                origin: PieceOrigin::Replaced(at.start as usize, at.start as usize),
            });
        }
        value
    }

    /// Appends a continuation line: `\n` then `text` copied from `start`. The newline maps
    /// to the position where the new line's text begins.
    pub fn push_line(&mut self, start: usize, text: &str) {
        if self.pieces.is_empty() {
            self.pieces.push(self.whole());
        }
        let newline_at = self.text.len();
        self.text.push('\n');
        self.pieces.push(Piece {
            text_start: newline_at,
            len: 1,
            origin: PieceOrigin::Replaced(start, start),
        });
        if !text.is_empty() {
            self.pieces.push(Piece {
                text_start: self.text.len(),
                len: text.len(),
                origin: PieceOrigin::Copied(start),
            });
            self.text.push_str(text);
        }
    }

    /// configparser's final `.rstrip()` of a joined value: drops trailing blank lines.
    pub fn rstrip(&mut self) {
        let keep = self.text.trim_end_matches(crate::ini::is_py_space).len();
        self.text.truncate(keep);
        let Some(&first) = self.pieces.first() else {
            return;
        };
        self.pieces.retain(|piece| piece.text_start < keep);
        if let Some(last) = self.pieces.last_mut() {
            last.len = last.len.min(keep - last.text_start);
        }
        if self.pieces.is_empty() {
            self.pieces.push(Piece { len: 0, ..first });
        }
        // Back to the compact form when one copied run is left.
        if let [
            Piece {
                text_start: 0,
                origin: PieceOrigin::Copied(start),
                ..
            },
        ] = self.pieces[..]
        {
            self.start = start;
            self.pieces = Vec::new();
        }
    }

    /// The whole text as one run copied from `start` (the meaning of empty `pieces`).
    fn whole(&self) -> Piece {
        Piece {
            text_start: 0,
            len: self.text.len(),
            origin: PieceOrigin::Copied(self.start),
        }
    }

    /// The runs of the text, in order.
    fn runs(&self) -> impl Iterator<Item = Piece> + '_ {
        let whole = self.pieces.is_empty().then(|| self.whole());
        whole.into_iter().chain(self.pieces.iter().copied())
    }

    /// The span of the whole value in its source. An empty value is the position where it
    /// would start.
    pub fn span(&self) -> Span {
        self.span_of(0, self.text.len())
    }

    /// The source span of the text bytes `start..end`.
    pub fn span_of(&self, start: usize, end: usize) -> Span {
        let from = self.source_offset(start, false);
        let to = if end > start {
            self.source_offset(end, true)
        } else {
            from
        };
        Span::new(self.source, from, to.max(from))
    }

    fn source_offset(&self, offset: usize, is_end: bool) -> usize {
        // For an end offset, the piece containing the byte *before* it decides.
        let probe = if is_end {
            offset.saturating_sub(1)
        } else {
            offset
        };
        if self.pieces.is_empty() {
            return self.start + offset.min(self.text.len());
        }
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|piece| piece.text_start <= probe)
            .or(self.pieces.first());
        let Some(piece) = piece else { return 0 };
        match piece.origin {
            PieceOrigin::Copied(source_start) => {
                let within = offset.saturating_sub(piece.text_start).min(piece.len);
                source_start + within
            }
            PieceOrigin::Replaced(start, end) => {
                if is_end {
                    end
                } else {
                    start
                }
            }
        }
    }

    /// Python's `text.replace(pattern, replacement)`, keeping the map: every replaced
    /// occurrence maps to the span of the text it replaced.
    pub fn replace(&self, pattern: &str, replacement: &str) -> Value {
        let Some(first) = pattern.chars().next() else {
            return self.clone();
        };
        // Values are short and the pattern rare: finding its first character (memchr) and
        // comparing is cheaper than setting up a substring searcher.
        let mut from = 0;
        let found = std::iter::from_fn(|| {
            while let Some(offset) = self.text[from..].find(first) {
                let at = from + offset;
                if self.text[at..].starts_with(pattern) {
                    from = at + pattern.len();
                    return Some(at);
                }
                from = at + first.len_utf8();
            }
            None
        });
        let mut found = found.peekable();
        if found.peek().is_none() {
            return self.clone();
        }
        let mut result = Value {
            text: String::with_capacity(self.text.len() + replacement.len()),
            source: self.source,
            start: 0,
            pieces: Vec::with_capacity(self.pieces.len() + 3),
        };
        let mut cursor = 0;
        for at in found {
            result.copy_range(self, cursor, at);
            let span = self.span_of(at, at + pattern.len());
            result.pieces.push(Piece {
                text_start: result.text.len(),
                len: replacement.len(),
                origin: PieceOrigin::Replaced(span.start as usize, span.end as usize),
            });
            result.text.push_str(replacement);
            cursor = at + pattern.len();
        }
        result.copy_range(self, cursor, self.text.len());
        result
    }

    /// Copies `from.text[start..end]` with its map onto the end of `self`.
    fn copy_range(&mut self, from: &Value, start: usize, end: usize) {
        if start >= end {
            return;
        }
        for piece in from.runs() {
            let piece_end = piece.text_start + piece.len;
            let lo = piece.text_start.max(start);
            let hi = piece_end.min(end);
            if lo >= hi {
                continue;
            }
            let origin = match piece.origin {
                PieceOrigin::Copied(source_start) => {
                    PieceOrigin::Copied(source_start + (lo - piece.text_start))
                }
                replaced => replaced,
            };
            self.pieces.push(Piece {
                text_start: self.text.len(),
                len: hi - lo,
                origin,
            });
            self.text.push_str(&from.text[lo..hi]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: SourceId = SourceId(0);

    #[test]
    fn spans_follow_continuation_lines() {
        // "command=a b\n  c d\n" : value "a b" at 8, continuation "c d" at 14.
        let mut value = Value::from_source(SOURCE, 8, "a b");
        value.push_line(14, "c d");
        assert_eq!(value.text, "a b\nc d");
        assert_eq!(value.span_of(4, 7), Span::new(SOURCE, 14, 17));
        assert_eq!(value.span_of(0, 1), Span::new(SOURCE, 8, 9));
        assert_eq!(value.span(), Span::new(SOURCE, 8, 17));
    }

    #[test]
    fn rstrip_drops_trailing_blank_lines() {
        let mut value = Value::from_source(SOURCE, 0, "x");
        value.push_line(5, "");
        value.push_line(6, "");
        value.rstrip();
        assert_eq!(value.text, "x");
        assert_eq!(value.span(), Span::new(SOURCE, 0, 1));
    }

    #[test]
    fn replace_maps_replacement_to_the_replaced_span() {
        let value = Value::from_source(SOURCE, 10, "%(here)s/x %(nope)s");
        let replaced = value.replace("%(here)s", "/etc/sv");
        assert_eq!(replaced.text, "/etc/sv/x %(nope)s");
        // "%(nope)s" now starts at text offset 10; in the file it is at 10 + 11.
        assert_eq!(replaced.span_of(10, 18), Span::new(SOURCE, 21, 29));
        // The replacement maps to the whole `%(here)s`.
        assert_eq!(replaced.span_of(0, 7), Span::new(SOURCE, 10, 18));
    }
}
