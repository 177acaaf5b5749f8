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

use std::path::Path;

use svc_schema::Span;

use crate::Context;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expand::Names;
use crate::host::Host;
use crate::ini::{Document, parse_into};
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
            read_included(
                lowering_host,
                document,
                sources,
                &path,
                span,
                main_absolute.as_str(),
                diagnostics,
            );
        }
    }
}

fn read_included(
    host: &dyn Host,
    document: &mut Document,
    sources: &mut Sources,
    path: &Path,
    include_span: Span,
    main_absolute: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
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
            return;
        }
    };
    let absolute = paths::normpath(&path.to_string_lossy());
    let rereading_main = absolute == main_absolute;
    let id = decode(bytes, sources, path, absolute, diagnostics);
    let Some(source) = sources.get(id) else {
        return;
    };
    let outcome = parse_into(document, source, diagnostics);
    for header in outcome
        .include_headers
        .into_iter()
        .filter(|_| !rereading_main)
    {
        diagnostics.push(
            Diagnostic::new(
                &codes::INCLUDE_NESTED_IGNORED,
                "this [include] is ignored: included files cannot include others",
            )
            .at(header, "ignored")
            .also(include_span, "included from here")
            .help("move these patterns into the [include] of the main configuration file"),
        );
    }
    let directory = paths::dirname(&path.to_string_lossy()).to_string();
    document.expand_here(&directory);
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
