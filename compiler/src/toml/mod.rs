//! svc's TOML format: a `.toml` file (and its includes) to the same [`Document`] the INI
//! reader builds, so that everything after it (expansion, typing, defaults, validation,
//! lints) is the INI lowering itself and a TOML file means what its INI twin means.
//!
//! - `keys`: the tables and keys of the format and the TOML types each key accepts.
//! - `value`: one TOML value to the INI text of its key, every byte mapped to the TOML.
//!
//! The reader checks the whole tree before anything is lowered and reports every problem at
//! once: TOML syntax (`svc::toml::syntax`, each error the parser recovers from), unknown
//! tables and keys (`svc::toml::unknown_key`, errors with did-you-mean, where INI only
//! warns), values of the wrong type (`svc::toml::wrong_type`), values supervisord's own
//! readers cannot hold (`svc::toml::unrepresentable_value`), a section defined in two files
//! (`svc::toml::duplicate_table`) and include cycles (`svc::toml::include_cycle`).
//!
//! Meaning, as in INI: `[programs.web]` is `[program:web]` (likewise `groups`,
//! `eventlisteners`, `fcgi_programs`, `rpcinterfaces`, `ctlplugins`), `[defaults]` is
//! `[DEFAULT]`. Values are templates (`%(process_num)02d`, `%%`) expanded by the lowering.
//! Unlike INI, an included file may include others (patterns relative to the including
//! file, matches in sorted order); `%(here)s` in an included file is its own directory (the
//! replacement supervisord makes in each included file), in the main file the main file's.
//!
//! Invariant: the reader never fails and never panics; a value that cannot be read is
//! reported and left out, so the lowering applies supervisord's default and goes on.

pub mod keys;
mod value;

use std::path::Path;

use rustc_hash::FxHashMap;
use svc_schema::{SourceId, Span};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Context;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expand::Names;
use crate::host::Host;
use crate::ini::{Document, Entries, Entry, Section, Value};
use crate::paths;
use crate::source::{Source, Sources};
use crate::toml::keys::{Kind, TOP_LEVEL, Table};
pub use crate::toml::value::{environment_quote, is_environment_name};
use crate::toml::value::{ini_value, span, wrong_type};

/// True if `path` names a file of svc's TOML format (by its extension, `.toml`).
pub fn is_toml_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("toml"))
}

/// Reads the TOML file `main` (already in `sources`) and every file it includes into one
/// document. Also returns the headers of the tables whose required key (`command`,
/// `events`) had a value of the wrong type: that problem is reported already, so the
/// lowering's "missing key" error about the same table is not (one diagnostic per problem).
pub(crate) fn read(
    host: &dyn Host,
    sources: &mut Sources,
    main: SourceId,
    context: &Context,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Document, Vec<Span>) {
    let mut reader = Reader {
        host,
        context,
        sources,
        diagnostics,
        document: Document::default(),
        headers: FxHashMap::default(),
        failed: Vec::new(),
        silenced: Vec::new(),
    };
    let mut chain = Vec::new();
    reader.file(main, &mut chain);
    (reader.document, reader.silenced)
}

/// The keys a table cannot do without; the lowering reports them missing.
const REQUIRED_KEYS: &[&str] = &["command", "events"];

/// One include in the chain of files being read: the file and the pattern that included
/// the next one.
#[derive(Debug, Clone)]
struct Link {
    absolute: String,
    site: Option<Span>,
}

/// A section read from one file, before it joins the document.
#[derive(Debug)]
struct ReadSection {
    name: String,
    header: Span,
    entries: Vec<(String, Span, Value)>,
}

struct Reader<'r> {
    host: &'r dyn Host,
    context: &'r Context,
    sources: &'r mut Sources,
    diagnostics: &'r mut Vec<Diagnostic>,
    document: Document,
    /// The header of each section's first definition, by section name.
    headers: FxHashMap<String, Span>,
    /// Keys of the table being read whose value was refused (reported).
    failed: Vec<String>,
    /// Headers of tables whose required key was refused (see [`read`]).
    silenced: Vec<Span>,
}

impl Reader<'_> {
    fn file(&mut self, id: SourceId, chain: &mut Vec<Link>) {
        let Some(source) = self.sources.get(id).cloned() else {
            return;
        };
        let included = !chain.is_empty();
        // `%(here)s` of an included file is the directory of the path its pattern matched,
        // as written (supervisord does not normalize it); the main file's is absolute.
        let directory = if included {
            paths::dirname(&source.path.to_string_lossy()).to_string()
        } else {
            paths::dirname(&source.absolute).to_string()
        };
        let (root, errors) = DeTable::parse_recoverable(&source.text);
        // One diagnostic per problem: the parser's recovery can report the rest of a bad
        // line again (`a = = 1`: an extra `=`, then an unexpected value), so only the first
        // error of each line is kept.
        let mut reported_lines = Vec::new();
        for error in errors {
            let at = error
                .span()
                .map_or(Span::new(id, 0, 0), |range| span(id, range));
            let line = source.line_col(at.start as usize).0;
            if reported_lines.contains(&line) {
                continue;
            }
            reported_lines.push(line);
            let message = error.message().trim_end().to_string();
            self.diagnostics.push(
                Diagnostic::new(&codes::TOML_SYNTAX, format!("invalid TOML: {message}"))
                    .at(at, "here")
                    .help("fix the TOML syntax: `key = value` pairs under `[table]` headers, strings in quotes, each table and key defined once per file"),
            );
        }
        let mut sections = Vec::new();
        let mut defaults = Vec::new();
        let mut patterns = Vec::new();
        for (top, item) in root.get_ref().iter() {
            let top_span = span(id, top.span());
            let name = top.get_ref().as_ref();
            let Some(&(_, table, prefix)) = TOP_LEVEL.iter().find(|(known, _, _)| *known == name)
            else {
                self.unknown(
                    top_span,
                    format!("unknown table `{name}`"),
                    name,
                    TOP_LEVEL.iter().map(|(known, _, _)| *known).collect(),
                    "the tables are supervisord, unix_http_server(s), inet_http_server(s), supervisorctl, programs, groups, eventlisteners, fcgi_programs, rpcinterfaces, ctlplugins, include and defaults",
                );
                continue;
            };
            let Some(contents) = self.table_of(id, item, &format!("`{name}`")) else {
                continue;
            };
            match (table, prefix) {
                (Table::Include, _) => patterns.extend(self.include_patterns(&source, contents)),
                (Table::Defaults, _) => {
                    self.document.default_headers.push(top_span);
                    defaults
                        .extend(self.entries(&source, table, name, contents, included, &directory));
                    self.failed.clear();
                }
                (_, None) => {
                    let entries =
                        self.entries(&source, table, name, contents, included, &directory);
                    self.note_refused_required(top_span);
                    sections.push(ReadSection {
                        name: name.to_string(),
                        header: top_span,
                        entries,
                    });
                }
                (_, Some(prefix)) => {
                    for (item_name, item) in contents.iter() {
                        let item_name_text = item_name.get_ref().as_ref();
                        let described = format!("`{name}.{item_name_text}`");
                        let Some(item_contents) = self.table_of(id, item, &described) else {
                            continue;
                        };
                        let entries = self.entries(
                            &source,
                            table,
                            &format!("{name}.{item_name_text}"),
                            item_contents,
                            included,
                            &directory,
                        );
                        let header = span(id, item_name.span());
                        self.note_refused_required(header);
                        sections.push(ReadSection {
                            name: format!("{prefix}{item_name_text}"),
                            header,
                            entries,
                        });
                    }
                }
            }
        }
        // Sections in the order they are written (TOML groups them by table).
        sections.sort_by_key(|section| section.header.start);
        for (key, key_span, value) in defaults {
            let entry = self.entry(&key, key_span, value);
            crate::ini::insert_entry(&mut self.document.defaults, entry);
        }
        for section in sections {
            self.add_section(id, section);
        }
        chain.push(Link {
            absolute: source.absolute.clone(),
            site: None,
        });
        for (pattern, pattern_span) in patterns {
            self.include(&directory, &pattern, pattern_span, chain);
        }
        chain.pop();
    }

    /// The table a top-level or named item must be, or `None` (reported).
    fn table_of<'v, 'i>(
        &mut self,
        id: SourceId,
        item: &'v Spanned<DeValue<'i>>,
        described: &str,
    ) -> Option<&'v DeTable<'i>> {
        match item.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.diagnostics.push(wrong_type(
                    described,
                    "a table",
                    other,
                    span(id, item.span()),
                ));
                None
            }
        }
    }

    /// After a table's entries were read: if its required key was refused, its header is
    /// silenced (see [`read`]).
    fn note_refused_required(&mut self, header: Span) {
        if self
            .failed
            .drain(..)
            .any(|key| REQUIRED_KEYS.contains(&key.as_str()))
        {
            self.silenced.push(header);
        }
    }

    /// Reports an unknown table or key, with the closest known name if there is one.
    fn unknown(
        &mut self,
        at: Span,
        message: String,
        name: &str,
        candidates: Vec<&str>,
        otherwise: &str,
    ) {
        let help = match crate::suggest::closest(name, candidates) {
            Some(close) => format!("did you mean `{close}`?"),
            None => otherwise.to_string(),
        };
        self.diagnostics.push(
            Diagnostic::new(&codes::TOML_UNKNOWN_KEY, message)
                .at(at, "unknown")
                .help(help),
        );
    }

    /// The keys of one section, checked against `table` and turned into INI values.
    fn entries(
        &mut self,
        source: &Source,
        table: Table,
        path: &str,
        contents: &DeTable<'_>,
        included: bool,
        directory: &str,
    ) -> Vec<(String, Span, Value)> {
        let mut entries = Vec::new();
        for (key, item) in contents.iter() {
            let key_text = key.get_ref().as_ref();
            let key_span = span(source.id, key.span());
            let Some(kind) = keys::kind(table, key_text) else {
                let (what, otherwise) = if table == Table::Defaults {
                    (
                        "[defaults]".to_string(),
                        "[defaults] holds keys that other tables have".to_string(),
                    )
                } else {
                    (
                        format!("[{path}]"),
                        format!("remove it; [{path}] has no `{key_text}`"),
                    )
                };
                self.unknown(
                    key_span,
                    format!("unknown key `{key_text}` in {what}"),
                    key_text,
                    keys::names(table),
                    &otherwise,
                );
                continue;
            };
            let Some(mut value) = ini_value(source, key_text, kind, item, self.diagnostics) else {
                self.failed.push(key_text.to_string());
                continue;
            };
            if included && value.text.contains("%(here)s") {
                value = value.replace("%(here)s", directory);
            }
            entries.push((key_text.to_string(), key_span, value));
        }
        entries
    }

    fn entry(&mut self, key: &str, key_span: Span, value: Value) -> Entry {
        Entry {
            key: self.document.key_name(key),
            key_span,
            value,
            stripped_comments: Vec::new(),
            replaced: Vec::new(),
            from_default: false,
        }
    }

    /// Adds a section read from file `id`; a section another file already defined is an
    /// error (INI would merge the two silently).
    fn add_section(&mut self, id: SourceId, read: ReadSection) {
        if let Some(&first) = self.headers.get(&read.name) {
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::TOML_DUPLICATE_TABLE,
                    format!("[{}] is defined a second time", shown_name(&read.name)),
                )
                .at(read.header, "defined again here")
                .also(first, "first defined here")
                .help("define each table once: merge the two, or rename one"),
            );
            return;
        }
        self.headers.insert(read.name.clone(), read.header);
        let mut entries = Entries::default();
        for (key, key_span, value) in read.entries {
            let entry = self.entry(&key, key_span, value);
            crate::ini::insert_entry(&mut entries, entry);
        }
        self.document.sections.insert(
            read.name.clone(),
            Section {
                name: read.name,
                source: id,
                headers: vec![read.header],
                entries,
                origin: std::sync::OnceLock::new(),
            },
        );
    }

    /// The patterns of `[include] files = [...]`, each with its span.
    fn include_patterns(&mut self, source: &Source, contents: &DeTable<'_>) -> Vec<(Value, Span)> {
        let mut patterns = Vec::new();
        for (key, item) in contents.iter() {
            let key_text = key.get_ref().as_ref();
            if key_text != "files" {
                self.unknown(
                    span(source.id, key.span()),
                    format!("unknown key `{key_text}` in [include]"),
                    key_text,
                    vec!["files"],
                    "[include] has one key, `files`",
                );
                continue;
            }
            let DeValue::Array(items) = item.get_ref() else {
                self.diagnostics.push(wrong_type(
                    "`include.files`",
                    "an array of strings",
                    item.get_ref(),
                    span(source.id, item.span()),
                ));
                continue;
            };
            for pattern in items {
                let at = span(source.id, pattern.span());
                match ini_value(
                    source,
                    "include.files",
                    Kind::Text,
                    pattern,
                    self.diagnostics,
                ) {
                    Some(value) => patterns.push((value, at)),
                    None => continue,
                }
            }
        }
        patterns
    }

    /// Reads the files one pattern matches (relative to `directory`, the including file's).
    fn include(&mut self, directory: &str, pattern: &Value, at: Span, chain: &mut Vec<Link>) {
        let names = Names::new()
            .with_str("here", directory)
            .with_str("host_node_name", self.context.node_name.clone())
            .with_env(&self.context.os_env);
        let (text, expansion) =
            crate::expand::expand(pattern, &names, &"include.files", self.context.policy);
        self.diagnostics.extend(expansion);
        let Some(text) = text else { return };
        let joined = paths::join(directory, &text);
        if let Some(last) = chain.last_mut() {
            last.site = Some(at);
        }
        let mut matches = self.host.glob(&joined);
        if matches.is_empty() {
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::INCLUDE_NO_MATCH,
                    format!("No file matches via include \"{joined}\""),
                )
                .at(at, "matches nothing")
                .help("check the pattern (it is relative to the file containing [include])"),
            );
            return;
        }
        matches.sort();
        for path in matches {
            let absolute = paths::normpath(&path.to_string_lossy());
            if let Some(start) = chain.iter().position(|link| link.absolute == absolute) {
                let cycle: Vec<&str> = chain[start..]
                    .iter()
                    .map(|link| link.absolute.as_str())
                    .chain(std::iter::once(absolute.as_str()))
                    .collect();
                let mut diagnostic = Diagnostic::new(
                    &codes::TOML_INCLUDE_CYCLE,
                    format!("include cycle: {}", cycle.join(" -> ")),
                )
                .at(at, "includes a file that is already being read")
                .help("remove one of the includes of the cycle (a file cannot include itself, directly or through others)");
                // The sites of the files before this one in the cycle (this one's is `at`).
                let before = &chain[start..chain.len().saturating_sub(1)];
                for link in before {
                    if let Some(site) = link.site {
                        diagnostic = diagnostic.also(site, "included from here");
                    }
                }
                self.diagnostics.push(diagnostic);
                continue;
            }
            let bytes = match self.host.read(&path) {
                Ok(bytes) => bytes,
                Err(error) => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            &codes::INCLUDE_UNREADABLE_FILE,
                            format!("included file {} cannot be read: {error}", path.display()),
                        )
                        .at(at, "matched here")
                        .help("fix the file's permissions or narrow the pattern"),
                    );
                    continue;
                }
            };
            let id = crate::load::decode(bytes, self.sources, &path, absolute, self.diagnostics);
            self.file(id, chain);
        }
    }
}

/// A section name as the TOML table that defines it (`program:web` is `programs.web`).
fn shown_name(section: &str) -> String {
    for (top, _, prefix) in TOP_LEVEL {
        if let Some(name) = prefix.and_then(|prefix| section.strip_prefix(prefix)) {
            return format!("{top}.{name}");
        }
    }
    section.to_string()
}

#[cfg(test)]
mod tests;
