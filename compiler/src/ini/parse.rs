//! configparser's `_read` state machine, over one file, into a [`Document`].
//!
//! Lines end at `\n`, `\r\n` or a lone `\r` (Python's universal newlines). Each line is a
//! blank, a comment, a continuation (indented deeper than its key's line, while a key is
//! open), a `[section]` header (first `[` to the last `]`, anything after it ignored), or a
//! `key = value` / `key : value` line split at the first delimiter.

use svc_schema::Span;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ini::Value;
use crate::ini::document::{Document, Entries, Entry, Section, insert_entry};
use crate::ini::line::Line;
use crate::source::Source;

/// Where keys currently go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Index of the section in `Document::sections`.
    Section(usize),
    Default,
}

/// The key continuation lines append to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenKey {
    /// None (after a header, or before any key).
    None,
    /// The entry at this index of the current target.
    Entry(usize),
    /// A key line that was an error: its continuations are dropped.
    Discard,
}

/// What reading one file found besides its keys.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// Spans of the names of every `[include]` header in the file.
    pub include_headers: Vec<Span>,
}

/// Splits text into lines the way Python's universal-newline reader does: `(start, end)` of
/// each line's content, terminator excluded.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut index = start;
        while index < bytes.len() && bytes[index] != b'\n' && bytes[index] != b'\r' {
            index += 1;
        }
        let line = (start, index);
        start = if bytes.get(index) == Some(&b'\r') && bytes.get(index + 1) == Some(&b'\n') {
            index + 2
        } else {
            index + 1
        };
        Some(line)
    })
}

/// Reads one source into `document`, appending diagnostics for configparser's errors.
pub fn parse_into(
    document: &mut Document,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> FileOutcome {
    let text = source.text.as_str();
    let id = source.id;
    let mut outcome = FileOutcome::default();
    let mut current: Option<Target> = None;
    let mut key = OpenKey::None;
    let mut indent_level = 0usize;
    let mut reported_missing_header = false;
    let mut touched: Vec<(Target, usize)> = Vec::new();

    let mut first_line = true;
    for (line_start, line_end) in lines(text) {
        let mut line_start = line_start;
        if first_line && text[line_start..line_end].starts_with('\u{feff}') {
            diagnostics.push(
                Diagnostic::new(
                    &codes::SOURCE_BYTE_ORDER_MARK,
                    "the file starts with a UTF-8 byte order mark",
                )
                .at(Span::new(id, 0, 3), "byte order mark")
                .help("save the file as UTF-8 without a BOM; supervisord reads the mark as text and finds no section header"),
            );
            line_start += 3;
        }
        first_line = false;
        let raw = &text[line_start..line_end];
        let line = Line::scan(raw);
        let content = &raw[line.content.0..line.content.1];
        let content_at = line_start + line.content.0;
        let comment_span = line
            .comment_start
            .filter(|_| !line.full_line_comment)
            .map(|at| Span::new(id, line_start + at, line_end));

        if content.is_empty() {
            if line.comment_start.is_none()
                && let (Some(target), OpenKey::Entry(index)) = (current, key)
                && let Some(entry) = entry_mut(document, target, index)
            {
                entry.value.push_line(line_start, "");
            }
            continue;
        }

        let continuation = current.is_some() && key != OpenKey::None && line.indent > indent_level;
        if continuation {
            if let (Some(target), OpenKey::Entry(index)) = (current, key)
                && let Some(entry) = entry_mut(document, target, index)
            {
                entry.value.push_line(content_at, content);
                entry.stripped_comments.extend(comment_span);
            }
            continue;
        }

        indent_level = line.indent;
        if let Some(name_range) = header_name(content) {
            let name = &content[name_range.0..name_range.1];
            let span = Span::new(id, content_at + name_range.0, content_at + name_range.1);
            if name == "DEFAULT" {
                document.default_headers.push(span);
                current = Some(Target::Default);
            } else {
                // Sized like the section before it: the sections of large files tend to
                // have one shape, and then the map is allocated once.
                let previous_keys = match current {
                    Some(Target::Section(previous)) => document
                        .sections
                        .get_index(previous)
                        .map_or(0, |(_, section)| section.entries.len()),
                    _ => 0,
                };
                let slot = document.sections.entry(name.to_string());
                let index = slot.index();
                let section = slot.or_insert_with(|| Section {
                    name: name.to_string(),
                    source: id,
                    headers: Vec::new(),
                    entries: Entries::with_capacity_and_hasher(previous_keys, Default::default()),
                    origin: Default::default(),
                });
                section.headers.push(span);
                if name == "include" {
                    outcome.include_headers.push(span);
                }
                current = Some(Target::Section(index));
            }
            key = OpenKey::None;
            reported_missing_header = false;
            continue;
        }

        let Some(target) = current else {
            if !reported_missing_header {
                diagnostics.push(
                    Diagnostic::new(
                        &codes::INI_MISSING_SECTION_HEADER,
                        "this line comes before any [section] header",
                    )
                    .at(Span::new(id, content_at, content_at + content.len()), "not inside a section")
                    .help("start every file (included files too) with a header such as [supervisord] or [program:name]"),
                );
                reported_missing_header = true;
            }
            continue;
        };

        let Some(delimiter) = content.bytes().position(|b| b == b'=' || b == b':') else {
            diagnostics.push(
                Diagnostic::new(
                    &codes::INI_INVALID_LINE,
                    format!("`{}` is not a key = value line", shorten(content)),
                )
                .at(Span::new(id, content_at, content_at + content.len()), "no `=` or `:` on this line")
                .help("write `key = value`; indent the line if it continues the previous value, or start it with `;` to make it a comment"),
            );
            continue;
        };
        let raw_key = &content[..delimiter];
        let key_end = raw_key.trim_end_matches(crate::ini::is_py_space).len();
        if key_end == 0 {
            diagnostics.push(
                Diagnostic::new(&codes::INI_EMPTY_KEY, "this line has a value but no key")
                    .at(
                        Span::new(id, content_at, content_at + delimiter + 1),
                        "nothing before the delimiter",
                    )
                    .help("write the key before the `=` (for example `command = ...`)"),
            );
            key = OpenKey::Discard;
            continue;
        }
        let name = document.key_name(&raw_key[..key_end]);
        let after = &content[delimiter + 1..];
        let value_offset = after.len() - after.trim_start_matches(crate::ini::is_py_space).len();
        let value_text = &after[value_offset..];
        let value_at = content_at + delimiter + 1 + value_offset;
        let entry = Entry {
            key: name,
            key_span: Span::new(id, content_at, content_at + key_end),
            value: Value::from_source(id, value_at, value_text),
            stripped_comments: comment_span.into_iter().collect(),
            replaced: Vec::new(),
            from_default: false,
        };
        let index = insert(document, target, entry);
        touched.push((target, index));
        key = OpenKey::Entry(index);
    }

    for (target, index) in touched {
        if let Some(entry) = entry_mut(document, target, index) {
            entry.value.rstrip();
            if entry.value.text.contains("%(here)s")
                && let Target::Section(section) = target
            {
                document.here_pending.push((section, index));
            }
        }
    }
    outcome
}

/// configparser's `SECTCRE = \[(?P<header>.+)\]` matched at the start: the name runs from
/// after the first `[` to before the last `]` and is at least one character.
fn header_name(content: &str) -> Option<(usize, usize)> {
    if !content.starts_with('[') {
        return None;
    }
    let close = content.rfind(']')?;
    (close > 1).then_some((1, close))
}

fn entries_mut(document: &mut Document, target: Target) -> Option<&mut Entries> {
    match target {
        Target::Default => Some(&mut document.defaults),
        Target::Section(section) => document
            .sections
            .get_index_mut(section)
            .map(|(_, s)| &mut s.entries),
    }
}

fn entry_mut(document: &mut Document, target: Target, index: usize) -> Option<&mut Entry> {
    entries_mut(document, target)?
        .get_index_mut(index)
        .map(|(_, entry)| entry)
}

/// Inserts (or replaces, last wins) an entry; returns its index.
fn insert(document: &mut Document, target: Target, entry: Entry) -> usize {
    match entries_mut(document, target) {
        Some(entries) => insert_entry(entries, entry),
        None => 0,
    }
}

/// At most 40 characters of a line, for messages.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_string()
    } else {
        let cut: String = text.chars().take(37).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;
    use std::path::Path;

    fn read(text: &str) -> (Document, Vec<Diagnostic>, Sources) {
        let mut sources = Sources::new();
        let id = sources.add(Path::new("/t.conf"), text.to_string());
        let mut document = Document::default();
        let mut diagnostics = Vec::new();
        let source = sources.get(id).cloned().expect("just added");
        parse_into(&mut document, &source, &mut diagnostics);
        (document, diagnostics, sources)
    }

    fn value<'d>(document: &'d Document, section: &str, key: &str) -> &'d str {
        &document.get(section, key).expect("key present").value.text
    }

    #[test]
    fn a_file_read_alone_and_merged_is_the_file_read_after() {
        let first = "[DEFAULT]\nd=1\n[a]\nk=1\nx=%(here)s/a\n[b]\nk=2\n";
        let second =
            "[b]\nk=3\nK=4\nnew=%(here)s/b\n[DEFAULT]\nd=2\n[c]\nz=1\n  more\n[a]\nx=%(here)s\n";
        let mut sources = Sources::new();
        let first = sources.add(Path::new("/one/1.conf"), first.to_string());
        let second = sources.add(Path::new("/two/2.conf"), second.to_string());
        let (first, second) = (
            sources.get(first).expect("added"),
            sources.get(second).expect("added"),
        );
        let mut diagnostics = Vec::new();
        let mut in_turn = Document::default();
        parse_into(&mut in_turn, first, &mut diagnostics);
        in_turn.expand_here("/one");
        parse_into(&mut in_turn, second, &mut diagnostics);
        in_turn.expand_here("/two");
        let mut merged = Document::default();
        parse_into(&mut merged, first, &mut diagnostics);
        merged.expand_here("/one");
        let mut alone = Document::default();
        parse_into(&mut alone, second, &mut diagnostics);
        merged.merge(alone);
        merged.expand_here("/two");
        assert!(diagnostics.is_empty());
        assert_eq!(merged, in_turn);
        assert_eq!(value(&merged, "a", "x"), "/two");
        assert_eq!(merged.get("b", "k").map(|e| e.replaced.len()), Some(2));
    }

    #[test]
    fn delimiters_and_case() {
        let (document, diagnostics, _) = read("[s]\nCommand : /bin/colon\nX=1\n");
        assert!(diagnostics.is_empty());
        assert_eq!(value(&document, "s", "command"), "/bin/colon");
        assert_eq!(value(&document, "s", "x"), "1");
    }

    #[test]
    fn continuation_lines_join_with_newline_and_keep_blank_lines() {
        let (document, _, _) = read("[s]\nk = a\n  b\n\n  c\n\nnext=1\n");
        assert_eq!(value(&document, "s", "k"), "a\nb\n\nc");
    }

    #[test]
    fn comment_lines_do_not_end_a_value_nor_add_blank_lines() {
        let (document, _, _) = read("[s]\nk = a\n; c\n  b\n");
        assert_eq!(value(&document, "s", "k"), "a\nb");
    }

    #[test]
    fn indented_header_is_a_continuation() {
        let (document, _, _) = read("[s]\nk = a\n  [t]\n");
        assert_eq!(value(&document, "s", "k"), "a\n[t]");
        assert!(document.section("t").is_none());
    }

    #[test]
    fn header_takes_up_to_the_last_bracket_and_ignores_the_rest() {
        let (document, diagnostics, _) = read("[a] junk\nk=v\n[b]]\n");
        assert!(diagnostics.is_empty());
        assert!(document.section("a").is_some());
        assert!(document.section("b]").is_some());
    }

    #[test]
    fn duplicates_merge_last_wins() {
        let (document, _, _) = read("[a]\nk=1\nj=0\n[b]\n[a]\nk=2\nK=3\n");
        assert_eq!(value(&document, "a", "k"), "3");
        assert_eq!(value(&document, "a", "j"), "0");
        assert_eq!(document.get("a", "k").map(|e| e.replaced.len()), Some(2));
        let names: Vec<&String> = document.sections.keys().collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn default_section_is_inherited() {
        let (document, _, _) = read("[DEFAULT]\ncommand=/bin/x\n[program:a]\n");
        assert_eq!(value(&document, "program:a", "command"), "/bin/x");
    }

    #[test]
    fn errors_have_exact_spans() {
        let (_, diagnostics, sources) = read("[s]\nk=1\n  \n junk here\nfoo\n=x\n");
        let found: Vec<(&str, &str)> = diagnostics
            .iter()
            .map(|d| {
                let span = d.primary.as_ref().expect("primary").span;
                let source = sources.get(span.source).expect("source");
                (d.code.name, source.slice(span))
            })
            .collect();
        assert_eq!(
            found,
            [
                ("svc::ini::invalid_line", "foo"),
                ("svc::ini::empty_key", "=")
            ]
        );
    }

    #[test]
    fn missing_header() {
        let (_, diagnostics, _) = read("k=v\nj=w\n[s]\n");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code.name, "svc::ini::missing_section_header");
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let (document, diagnostics, _) = read("[s]\r\nk=1\r\n  more\rj=2\r\n");
        assert!(diagnostics.is_empty());
        assert_eq!(value(&document, "s", "k"), "1\nmore");
        assert_eq!(value(&document, "s", "j"), "2");
    }

    #[test]
    fn byte_order_mark_is_an_error_but_parsing_goes_on() {
        let (document, diagnostics, _) = read("\u{feff}[s]\nk=1\n");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code.name, "svc::source::byte_order_mark");
        assert_eq!(value(&document, "s", "k"), "1");
    }

    #[test]
    fn value_span_points_at_the_value() {
        let (document, _, sources) = read("[s]\ncommand = /bin/cat ; c\n");
        let entry = document.get("s", "command").expect("present");
        let source = sources.get(entry.value.source).expect("source");
        assert_eq!(source.slice(entry.value.span()), "/bin/cat");
        assert_eq!(source.slice(entry.key_span), "command");
        assert_eq!(source.slice(entry.stripped_comments[0]), "; c");
    }
}
