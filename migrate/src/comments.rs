//! The comments of the INI files, found again by scanning their text (the compiler's
//! `Document` keeps only inline comments, as spans).
//!
//! A run of full-line comments (`;` or `#` first on the line) belongs to the next line that
//! is neither a comment nor blank: a section header or a key. Comments after the last such
//! line of a file are the file's trailer. An inline comment after a section header
//! (`[program:web] ; the site`) belongs to the header. Each comment is handed out once
//! ([`Comments::take_before`]), so what no migrated line claimed can be written at the end
//! ([`Comments::rest`]): nothing is lost. A blank line between two comments is kept as an
//! empty entry (a paragraph break).

use std::collections::BTreeMap;

use svc_compiler::source::{Source, Sources};
use svc_schema::SourceId;

/// Every comment of every source, by the line it belongs to.
#[derive(Debug, Default)]
pub struct Comments {
    /// Full-line comments by `(source, 0-based line they precede)`; the trailer of a file is
    /// under `usize::MAX`.
    before: BTreeMap<(SourceId, usize), Vec<String>>,
    /// The inline comment of a header line, by `(source, line)`.
    header_inline: BTreeMap<(SourceId, usize), String>,
}

impl Comments {
    /// Scans every source.
    pub fn scan(sources: &Sources) -> Comments {
        let mut comments = Comments::default();
        for source in sources.iter() {
            comments.scan_source(source);
        }
        comments
    }

    fn scan_source(&mut self, source: &Source) {
        let mut pending = Vec::new();
        for (index, line) in source.text.lines().enumerate() {
            let trimmed = line.trim_start_matches('\u{feff}').trim();
            if trimmed.is_empty() {
                // A blank line between two comments is kept (as an empty entry): it
                // separates paragraphs.
                if pending.last().is_some_and(|last: &String| !last.is_empty()) {
                    pending.push(String::new());
                }
                continue;
            }
            if trimmed.starts_with(';') || trimmed.starts_with('#') {
                pending.push(trimmed.to_string());
                continue;
            }
            if pending.last().is_some_and(String::is_empty) {
                pending.pop();
            }
            if !pending.is_empty() {
                self.before
                    .entry((source.id, index))
                    .or_default()
                    .append(&mut pending);
            }
            if trimmed.starts_with('[')
                && let Some(close) = trimmed.rfind(']')
            {
                let rest = trimmed[close + 1..].trim();
                if rest.starts_with(';') || rest.starts_with('#') {
                    self.header_inline
                        .insert((source.id, index), rest.to_string());
                }
            }
        }
        if pending.last().is_some_and(String::is_empty) {
            pending.pop();
        }
        if !pending.is_empty() {
            self.before
                .entry((source.id, usize::MAX))
                .or_default()
                .append(&mut pending);
        }
    }

    /// The full-line comments that precede `line` of `source`, handed out once.
    pub fn take_before(&mut self, source: SourceId, line: usize) -> Vec<String> {
        self.before.remove(&(source, line)).unwrap_or_default()
    }

    /// The full-line comments of `source` that precede a line in `lines` (a multi-line
    /// value, a commented-out section), handed out once.
    pub fn take_within(
        &mut self,
        source: SourceId,
        lines: std::ops::RangeInclusive<usize>,
    ) -> Vec<String> {
        take_lines(&mut self.before, source, lines)
    }

    /// The inline comment of the header on `line` of `source`, handed out once.
    pub fn take_header_inline(&mut self, source: SourceId, line: usize) -> Option<String> {
        self.header_inline.remove(&(source, line))
    }

    /// The trailing comments of `source` (after its last header or key).
    pub fn take_trailer(&mut self, source: SourceId) -> Vec<String> {
        self.take_before(source, usize::MAX)
    }

    /// Every comment of `source` nothing claimed, in file order.
    pub fn rest(&mut self, source: SourceId) -> Vec<String> {
        let keys: Vec<(SourceId, usize)> = self
            .before
            .range((source, 0)..=(source, usize::MAX))
            .map(|(key, _)| *key)
            .collect();
        let mut rest: Vec<String> = keys
            .into_iter()
            .flat_map(|key| self.before.remove(&key).unwrap_or_default())
            .collect();
        let headers: Vec<(SourceId, usize)> = self
            .header_inline
            .range((source, 0)..=(source, usize::MAX))
            .map(|(key, _)| *key)
            .collect();
        rest.extend(
            headers
                .into_iter()
                .filter_map(|key| self.header_inline.remove(&key)),
        );
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn comments_belong_to_the_next_line() {
        let mut sources = Sources::new();
        let id = sources.add(
            Path::new("/x.conf"),
            "; head\n[supervisord] ; inline\n\n# about logfile\n\n; more\n\nlogfile=/x\n; trailer\n"
                .to_string(),
        );
        let mut comments = Comments::scan(&sources);
        assert_eq!(comments.take_before(id, 1), ["; head"]);
        assert_eq!(
            comments.take_header_inline(id, 1).as_deref(),
            Some("; inline")
        );
        assert_eq!(
            comments.take_before(id, 7),
            ["# about logfile", "", "; more"]
        );
        assert!(comments.take_before(id, 7).is_empty());
        assert_eq!(comments.take_trailer(id), ["; trailer"]);
        assert!(comments.rest(id).is_empty());
    }
}

/// Removes and returns, in line order, the texts kept for lines `lines` of `source`.
pub fn take_lines(
    by_line: &mut BTreeMap<(SourceId, usize), Vec<String>>,
    source: SourceId,
    lines: std::ops::RangeInclusive<usize>,
) -> Vec<String> {
    if lines.is_empty() {
        return Vec::new();
    }
    let keys: Vec<(SourceId, usize)> = by_line
        .range((source, *lines.start())..=(source, *lines.end()))
        .map(|(key, _)| *key)
        .collect();
    keys.into_iter()
        .flat_map(|key| by_line.remove(&key).unwrap_or_default())
        .collect()
}
