//! Reading files: the main config, then `[include]` exactly as supervisord does it.
//!
//! - `files=` is expanded (`here`, `host_node_name`, the daemon's `ENV_*`) and split on
//!   whitespace; each pattern is joined to the main file's directory and globbed with
//!   Python's rules; matches are read in sorted order, patterns in listed order.
//! - A pattern matching nothing is a warning; an unreadable match is a warning too
//!   (configparser skips it silently).
//! - Included files cannot include further files (supervisord computes the list first); an
//!   `[include]` inside one is reported as ignored. So there are no include cycles; the same
//!   file matched twice is read twice.
//! - After the main file and after each included file, `%(here)s` is replaced textually in
//!   every value by that file's directory (`expand_here`), but only when `[include]` exists.
//!
//! Threads: the included files are read in order, then parsed each into a document of its
//! own, the second half on a scoped worker thread; the documents are merged in reading
//! order, each followed by its `expand_here`, which gives the document one reader going
//! through the files gives.

use std::path::Path;

use svc_schema::{SourceId, Span};

use crate::Context;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expand::Names;
use crate::host::Host;
use crate::ini::{Document, FileOutcome, parse_into};
use crate::paths;
use crate::source::Sources;

/// Decodes file bytes as Python would (UTF-8), reporting the first invalid byte.
pub(crate) fn decode(
    bytes: Vec<u8>,
    sources: &mut Sources,
    path: &Path,
    absolute: String,
    diagnostics: &mut Vec<Diagnostic>,
) -> svc_schema::SourceId {
    let id = decode_text(bytes, sources, path, diagnostics);
    sources.set_absolute(id, absolute);
    id
}

fn decode_text(
    bytes: Vec<u8>,
    sources: &mut Sources,
    path: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> svc_schema::SourceId {
    match String::from_utf8(bytes) {
        Ok(text) => sources.add(path, text),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let id = sources.add(path, text);
            diagnostics.push(
                Diagnostic::new(&codes::SOURCE_INVALID_UTF8, "the file is not valid UTF-8")
                    .at(
                        Span::new(id, valid, valid + '\u{fffd}'.len_utf8()),
                        "invalid byte here",
                    )
                    .help(
                        "save the file as UTF-8; supervisord cannot decode it and refuses to start",
                    ),
            );
            id
        }
    }
}

/// Reads the included files into `document`.
pub(crate) fn includes(
    lowering_host: &dyn Host,
    document: &mut Document,
    sources: &mut Sources,
    main_path: &Path,
    lowering: &Context,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if document.section("include").is_none() {
        return;
    }
    let here = lowering.here.clone();
    document.expand_here(&here);
    let Some(entry) = document.get("include", "files").cloned() else {
        let header = document
            .section("include")
            .map(|s| s.header())
            .unwrap_or_default();
        diagnostics.push(
            Diagnostic::new(&codes::INCLUDE_MISSING_FILES, ".ini file has [include] section, but no files setting")
                .at(header, "no files=")
                .help("add `files = conf.d/*.conf` (patterns relative to this file), or remove the section"),
        );
        return;
    };
    let names = Names::new()
        .with_str("here", here)
        .with_str("host_node_name", lowering.node_name.clone())
        .with_env(&lowering.os_env);
    let (text, expansion_diagnostics) =
        crate::expand::expand(&entry.value, &names, &"include.files", lowering.policy);
    diagnostics.extend(expansion_diagnostics);
    let Some(text) = text else { return };
    let precise = text == entry.value.text;
    let main_absolute = paths::abspath(&main_path.to_string_lossy(), &lowering.cwd);
    let base = paths::dirname(&main_absolute).to_string();
    let mut files = Vec::new();
    for (offset, pattern) in split_whitespace_with_offsets(&text) {
        let span = if precise {
            entry.value.span_of(offset, offset + pattern.len())
        } else {
            entry.value.span()
        };
        let joined = paths::join(&base, pattern);
        let mut matches = lowering_host.glob(&joined);
        if matches.is_empty() {
            diagnostics.push(
                Diagnostic::new(&codes::INCLUDE_NO_MATCH, format!("No file matches via include \"{joined}\""))
                    .at(span, "matches nothing")
                    .help("check the pattern (it is relative to the file containing [include]); supervisord starts anyway"),
            );
            continue;
        }
        matches.sort();
        for path in matches {
            if paths::normpath(&path.to_string_lossy()) == main_absolute {
                diagnostics.push(
                    Diagnostic::new(
                        &codes::INCLUDE_INCLUDES_ITSELF,
                        format!("\"{joined}\" matches the main configuration file itself"),
                    )
                    .at(span, "matches this file")
                    .help("narrow the pattern (e.g. conf.d/*.conf); supervisord reads the file a second time, which changes nothing but is surely not meant"),
                );
            }
            files.extend(read_included(
                lowering_host,
                sources,
                &path,
                span,
                main_absolute.as_str(),
                diagnostics,
            ));
        }
    }
    parse_included(document, sources, &files, diagnostics);
}

/// An included file that was read.
#[derive(Debug)]
struct Included {
    /// Its source.
    id: SourceId,
    /// The `files=` pattern that matched it.
    include_span: Span,
    /// True if it is the main file, matched a second time.
    rereading_main: bool,
    /// Its directory (its `%(here)s`).
    directory: String,
}

/// What parsing one included file on its own gave.
type Parsed = (Document, Vec<Diagnostic>, FileOutcome);

/// Parses the included files, each into a document of its own (the second half on a worker
/// thread), and merges them into `document` in reading order, each followed by its
/// `expand_here`: the document configparser and supervisord build reading them one by one.
fn parse_included(
    document: &mut Document,
    sources: &Sources,
    files: &[Included],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let parse = |files: &[Included]| -> Vec<Parsed> {
        files
            .iter()
            .map(|file| {
                let mut parsed = Document::default();
                let mut parse_diagnostics = Vec::new();
                let outcome = match sources.get(file.id) {
                    Some(source) => parse_into(&mut parsed, source, &mut parse_diagnostics),
                    None => FileOutcome::default(),
                };
                (parsed, parse_diagnostics, outcome)
            })
            .collect()
    };
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        let worker = (!second.is_empty()).then(|| scope.spawn(|| parse(second)));
        for (file, parsed) in first.iter().zip(parse(first)) {
            merge_included(document, file, parsed, diagnostics);
        }
        let second_parsed = match worker.map(|worker| worker.join()) {
            Some(Ok(parsed)) => parsed,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Vec::new(),
        };
        for (file, parsed) in second.iter().zip(second_parsed) {
            merge_included(document, file, parsed, diagnostics);
        }
    });
}

/// Adds one parsed included file to `document`.
fn merge_included(
    document: &mut Document,
    file: &Included,
    (parsed, parse_diagnostics, outcome): Parsed,
    diagnostics: &mut Vec<Diagnostic>,
) {
    document.merge(parsed);
    diagnostics.extend(parse_diagnostics);
    for header in outcome
        .include_headers
        .into_iter()
        .filter(|_| !file.rereading_main)
    {
        diagnostics.push(
            Diagnostic::new(
                &codes::INCLUDE_NESTED_IGNORED,
                "this [include] is ignored: included files cannot include others",
            )
            .at(header, "ignored")
            .also(file.include_span, "included from here")
            .help("move these patterns into the [include] of the main configuration file"),
        );
    }
    document.expand_here(&file.directory);
}

/// Reads and decodes one included file into `sources`; `None` if it cannot be read.
fn read_included(
    host: &dyn Host,
    sources: &mut Sources,
    path: &Path,
    include_span: Span,
    main_absolute: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Included> {
    let bytes = match host.read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            diagnostics.push(
                Diagnostic::new(
                    &codes::INCLUDE_UNREADABLE_FILE,
                    format!("included file {} cannot be read: {error}", path.display()),
                )
                .at(include_span, "matched here")
                .help("fix the file's permissions or narrow the pattern; supervisord skips this file silently"),
            );
            return None;
        }
    };
    let absolute = paths::normpath(&path.to_string_lossy());
    let rereading_main = absolute == main_absolute;
    let id = decode(bytes, sources, path, absolute, diagnostics);
    Some(Included {
        id,
        include_span,
        rereading_main,
        directory: paths::dirname(&path.to_string_lossy()).to_string(),
    })
}

/// Python's `str.split()` with the byte offset of each word.
fn split_whitespace_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (index, c) in text.char_indices() {
        match (crate::ini::is_py_space(c), start) {
            (true, Some(s)) => {
                words.push((s, &text[s..index]));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, &text[s..]));
    }
    words
}
