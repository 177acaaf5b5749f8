//! `svc migrate`: a supervisord.conf (with its includes) to svc's TOML format, with the same
//! meaning.
//!
//! Input is a clean [`Compilation`] of the INI: the migration refuses a configuration with
//! errors (the caller shows the diagnostics). Output is TOML text written for people:
//!
//! - only the keys written in the INI, with their text as written (templates stay
//!   templates: `%(process_num)02d`, `%%`), in the TOML type a person would use when it
//!   means the same (`values`);
//! - every comment of the INI next to the section or key it belonged to (`comments`),
//!   inline comments at the end of the key's line, anything unclaimed at the end;
//! - a `#` note above a value whose meaning a check questioned (a command cut at an inline
//!   `;`, environment text supervisord drops): the value is migrated with the meaning
//!   supervisord gives it, never "fixed";
//! - keys and sections supervisord ignores (unknown ones) are kept as comments, since the
//!   TOML format rejects them.
//!
//! By default the included files are folded into one file; with
//! [`Options::keep_includes`] each INI file becomes a TOML file of its own (beside it, with
//! the extension `.toml`) and `[include]` stays, its patterns pointing at the TOML files.
//! `%(here)s` means the directory of the file a value is written in, in TOML as in INI, so
//! a value folded in from another directory is rewritten (`%(here)s/conf.d`, or the
//! directory itself) to keep its meaning.
//!
//! Invariant: for every configuration the compiler accepts, compiling the migration gives
//! the same Graph (the integration tests check this over every fixture and every corpus
//! file); anything the TOML format cannot say is refused with [`Refusal`], never
//! approximated.
#![warn(missing_docs, missing_debug_implementations)]

mod comments;
mod values;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use svc_compiler::Compilation;
use svc_compiler::diagnostic::Severity;
use svc_compiler::ini::{Document, Entry, Section};
use svc_compiler::paths;
use svc_compiler::source::Sources;
use svc_compiler::toml::keys::{self, Kind, TOP_LEVEL, Table};
use svc_schema::{SourceId, Span};

use crate::comments::Comments;

/// How to migrate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep one TOML file per INI file, with `[include]` kept, instead of folding
    /// everything into one file.
    pub keep_includes: bool,
    /// Where the main TOML file will be written: an absolute path (its directory is
    /// `%(here)s`). `None`: beside the INI file, with the extension `.toml`.
    pub output: Option<PathBuf>,
}

/// One TOML file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigratedFile {
    /// The INI file it comes from (the main file for a folded migration).
    pub from: PathBuf,
    /// Where it goes (absolute, or as given in [`Options::output`]).
    pub path: PathBuf,
    /// The TOML text.
    pub text: String,
}

/// Why a configuration was not migrated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The configuration has errors (the compilation's diagnostics say which).
    Errors,
    /// The file is already in svc's TOML format.
    AlreadyToml,
    /// Something the TOML format cannot say.
    Unsupported {
        /// What and why.
        message: String,
        /// Where, when it has a place.
        span: Option<Span>,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Errors => write!(f, "the configuration has errors; fix them first"),
            Refusal::AlreadyToml => write!(f, "the file is already in svc's TOML format"),
            Refusal::Unsupported { message, .. } => write!(f, "{message}"),
        }
    }
}

/// Migrates a compiled INI configuration.
pub fn migrate(compilation: &Compilation, options: &Options) -> Result<Vec<MigratedFile>, Refusal> {
    let Some(main) = compilation.sources.get(SourceId(0)) else {
        return Err(Refusal::Errors);
    };
    if svc_compiler::toml::is_toml_path(&main.path) {
        return Err(Refusal::AlreadyToml);
    }
    if compilation.graph.is_none() || compilation.error_count() > 0 {
        return Err(Refusal::Errors);
    }
    let main_path = main.path.clone();
    let main_directory = paths::dirname(&main.absolute).to_string();
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| main_path.with_extension("toml"));
    let output_directory = match &options.output {
        Some(path) => paths::dirname(&paths::normpath(&path.to_string_lossy())).to_string(),
        None => main_directory.clone(),
    };
    let mut migration = Migration::new(compilation);
    if options.keep_includes {
        migration.keep_includes(&main_path, &output, &main_directory, &output_directory)
    } else {
        let text = migration.folded(&output_directory)?;
        Ok(vec![MigratedFile {
            from: main_path,
            path: output,
            text,
        }])
    }
}

/// The TOML table a section becomes.
#[derive(Debug, Clone)]
enum Target {
    /// A table of the format, with its header (`programs.web`).
    Table(Table, String),
    /// `[include]`.
    Include,
    /// A section supervisord does not read: kept as comments.
    Ignored,
}

/// Where an INI section goes in TOML.
fn target(name: &str) -> Result<Target, String> {
    for (top, table, prefix) in TOP_LEVEL {
        match prefix {
            Some(prefix) => {
                if let Some(item) = name.strip_prefix(prefix) {
                    return Ok(Target::Table(*table, format!("{top}.{}", write::key(item))));
                }
            }
            None if name == *top && *table != Table::Include && *table != Table::Defaults => {
                return Ok(Target::Table(*table, (*top).to_string()));
            }
            None => {}
        }
    }
    if name == "include" {
        return Ok(Target::Include);
    }
    for server in ["unix_http_server", "inet_http_server"] {
        if name.starts_with(server) {
            return Err(format!(
                "[{name}]: supervisord reads a section whose name starts with `{server}` as a server, but only [{server}] and [{server}:NAME] have a TOML form; rename the section"
            ));
        }
    }
    Ok(Target::Ignored)
}

/// The state of one migration.
struct Migration<'c> {
    compilation: &'c Compilation,
    sources: &'c Sources,
    /// Each file parsed on its own: the values as written (before `%(here)s` replacement).
    raw: Vec<Document>,
    comments: Comments,
    /// Lint warnings by `(source, 0-based line)` of their primary span.
    notes: BTreeMap<(SourceId, usize), Vec<String>>,
}

impl<'c> Migration<'c> {
    fn new(compilation: &'c Compilation) -> Migration<'c> {
        let sources = &compilation.sources;
        let raw = sources
            .iter()
            .map(|source| {
                let mut document = Document::default();
                let mut ignored = Vec::new();
                svc_compiler::ini::parse_into(&mut document, source, &mut ignored);
                document
            })
            .collect();
        let mut notes: BTreeMap<(SourceId, usize), Vec<String>> = BTreeMap::new();
        for diagnostic in &compilation.diagnostics {
            // Lints question a value's meaning; other warnings (a host check skipped with
            // `--no-host-checks`, an include matching nothing) are about the machine.
            if diagnostic.severity != Severity::Warning || diagnostic.code.area() != "lint" {
                continue;
            }
            let Some(label) = &diagnostic.primary else {
                continue;
            };
            let Some(source) = sources.get(label.span.source) else {
                continue;
            };
            let line = source.line_col(label.span.start as usize).0;
            notes.entry((source.id, line)).or_default().push(format!(
                "svc check: {} [{}]",
                diagnostic.message, diagnostic.code.name
            ));
        }
        Migration {
            compilation,
            sources,
            raw,
            comments: Comments::scan(sources),
            notes,
        }
    }

    fn line(&self, span: Span) -> usize {
        self.sources
            .get(span.source)
            .map_or(0, |source| source.line_col(span.start as usize).0)
    }

    fn last_line(&self, span: Span) -> usize {
        self.sources.get(span.source).map_or(0, |source| {
            source
                .line_col(
                    (span.end as usize)
                        .saturating_sub(1)
                        .max(span.start as usize),
                )
                .0
        })
    }

    /// The directory `%(here)s` means in a file: the main file's absolute directory, an
    /// included file's directory as its pattern matched it (not normalized, as supervisord
    /// uses it).
    fn directory_of(&self, source: SourceId) -> String {
        self.sources
            .get(source)
            .map(|file| {
                if source == SourceId(0) {
                    paths::dirname(&file.absolute).to_string()
                } else {
                    paths::dirname(&file.path.to_string_lossy()).to_string()
                }
            })
            .unwrap_or_default()
    }

    /// A path as shown in notes: relative to the main file's directory when under it.
    fn shown_path(&self, source: SourceId) -> String {
        let main_directory = self.directory_of(SourceId(0));
        self.sources
            .get(source)
            .map(|file| {
                file.absolute
                    .strip_prefix(&format!("{}/", main_directory.trim_end_matches('/')))
                    .unwrap_or(&file.absolute)
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// The raw (as written) value of `key` of `section` in the file `source`, or `None`
    /// if that file does not set it there.
    fn raw_value(&self, source: SourceId, section: Option<&str>, key: &str) -> Option<&str> {
        let document = self.raw.get(source.0 as usize)?;
        let entries = match section {
            Some(name) => &document.section(name)?.entries,
            None => &document.defaults,
        };
        entries.get(key).map(|entry| entry.value.text.as_str())
    }

    /// The notes (warnings) on lines `lines` of `source`, handed out once.
    fn take_notes(
        &mut self,
        source: SourceId,
        lines: std::ops::RangeInclusive<usize>,
    ) -> Vec<String> {
        comments::take_lines(&mut self.notes, source, lines)
    }

    /// The whole configuration folded into one TOML file.
    fn folded(&mut self, output_directory: &str) -> Result<String, Refusal> {
        let document = &self.compilation.document;
        let mut out = String::new();
        out.push_str(&format!(
            "# Migrated from {} by `svc migrate`: the same configuration in svc's TOML format.\n",
            self.sources
                .get(SourceId(0))
                .map(|source| source.path.display().to_string())
                .unwrap_or_default()
        ));
        // Copies of `[DEFAULT]` values holding `%(here)s` are written in the section: their
        // `%(here)s` is the directory of the file being read when they were made.
        out.push_str(&self.tables(document, output_directory, |_| None)?);
        // A file read twice (matched by two patterns) has its comments written once.
        let mut seen = Vec::new();
        let mut files = Vec::new();
        for source in self.sources.iter() {
            if !seen.contains(&source.absolute) {
                seen.push(source.absolute.clone());
                files.push(source.id);
            }
        }
        let mut rest = Vec::new();
        for &id in &files {
            rest.extend(self.comments.take_trailer(id));
        }
        for &id in &files {
            rest.extend(self.comments.rest(id));
        }
        push_trailing_comments(&mut out, rest);
        Ok(out)
    }

    /// `document`'s `[defaults]` and sections as TOML tables, each after a blank line;
    /// `include_patterns` gives a section the patterns of a real `[include]` table.
    fn tables(
        &mut self,
        document: &Document,
        directory: &str,
        include_patterns: impl Fn(&Section) -> Option<Vec<String>>,
    ) -> Result<String, Refusal> {
        let mut out = String::new();
        if !document.default_headers.is_empty() {
            let entries: Vec<&Entry> = document.defaults.values().collect();
            out.push('\n');
            out.push_str(&self.defaults_section(&document.default_headers, &entries, directory)?);
        }
        for section in document.sections.values() {
            let entries: Vec<&Entry> = section.entries.values().collect();
            let patterns = include_patterns(section);
            out.push('\n');
            out.push_str(&self.section(section, &entries, directory, patterns.as_deref())?);
        }
        Ok(out)
    }

    /// `[defaults]` from INI's `[DEFAULT]`.
    fn defaults_section(
        &mut self,
        headers: &[Span],
        entries: &[&Entry],
        output_directory: &str,
    ) -> Result<String, Refusal> {
        let mut out = self.header_comments(headers);
        out.push_str("[defaults]\n");
        for entry in entries {
            let kind = keys::kind(Table::Defaults, &entry.key);
            out.push_str(&self.key_value(None, entry, kind, output_directory)?);
        }
        Ok(out)
    }

    /// The comments and notes that stand before a section's headers, as TOML comments.
    fn header_comments(&mut self, headers: &[Span]) -> String {
        let mut out = String::new();
        for header in headers {
            let line = self.line(*header);
            for comment in self.comments.take_before(header.source, line) {
                out.push_str(&write::comment(&comment));
                out.push('\n');
            }
            for note in self.take_notes(header.source, line..=line) {
                out.push_str(&write::comment_lines(&note));
            }
        }
        out
    }

    /// One section as TOML text. `include_patterns` replaces `[include]`'s comment with a
    /// real table (keep-includes mode).
    fn section(
        &mut self,
        section: &Section,
        entries: &[&Entry],
        output_directory: &str,
        include_patterns: Option<&[String]>,
    ) -> Result<String, Refusal> {
        let target = target(&section.name).map_err(|message| Refusal::Unsupported {
            message,
            span: Some(section.header()),
        })?;
        let mut out = self.header_comments(&section.headers);
        if section.source != SourceId(0) && include_patterns.is_none() {
            out.push_str(&format!("# from {}\n", self.shown_path(section.source)));
        }
        let header_inline: Vec<String> = section
            .headers
            .iter()
            .filter_map(|header| {
                let line = self.line(*header);
                self.comments.take_header_inline(header.source, line)
            })
            .map(|comment| write::comment(&comment))
            .collect();
        let inline = if header_inline.is_empty() {
            String::new()
        } else {
            format!("  {}", header_inline.join(" "))
        };
        match target {
            Target::Table(table, header) => {
                out.push_str(&format!("[{header}]{inline}\n"));
                for entry in entries {
                    let kind = keys::kind(table, &entry.key);
                    out.push_str(&self.key_value(
                        Some(&section.name),
                        entry,
                        kind,
                        output_directory,
                    )?);
                }
            }
            Target::Include => match include_patterns {
                Some(patterns) => {
                    out.push_str(&format!("[include]{inline}\n"));
                    let items: Vec<String> = patterns.iter().map(|p| write::string(p)).collect();
                    out.push_str(&format!("files = [{}]\n", items.join(", ")));
                    for entry in entries.iter().filter(|entry| !entry.from_default) {
                        self.claim_entry(entry);
                    }
                }
                None => {
                    // Each file's own [include] as it wrote it (the merged section holds
                    // only the last `files`).
                    let mut seen = Vec::new();
                    for header in &section.headers {
                        if seen.contains(&header.source) {
                            continue;
                        }
                        seen.push(header.source);
                        out.push_str(&if header.source == SourceId(0) {
                            format!(
                                "# [include]{inline}: the files it matched are folded into this file.\n"
                            )
                        } else {
                            format!(
                                "# [include] of {}: ignored by supervisord (an included file cannot include others).\n",
                                self.shown_path(header.source)
                            )
                        });
                        let written: Vec<Entry> = self
                            .raw
                            .get(header.source.0 as usize)
                            .and_then(|document| document.section("include"))
                            .map(|include| include.entries.values().cloned().collect())
                            .unwrap_or_default();
                        for entry in &written {
                            for line in self.claim_entry(entry) {
                                out.push_str(&line);
                            }
                        }
                    }
                }
            },
            Target::Ignored => {
                out.push_str(&format!(
                    "# [{}]{inline}\n# supervisord does not read this section; kept as a comment.\n",
                    section.name
                ));
                for entry in entries.iter().filter(|entry| !entry.from_default) {
                    for line in self.claim_entry(entry) {
                        out.push_str(&line);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Comments out an entry that is not migrated (as `# key = value` lines), claiming its
    /// comments and notes.
    fn claim_entry(&mut self, entry: &Entry) -> Vec<String> {
        let source = entry.key_span.source;
        let first = self.line(entry.key_span);
        let last = self.last_line(entry.value.span()).max(first);
        let mut lines: Vec<String> = self
            .comments
            .take_before(source, first)
            .iter()
            .map(|comment| format!("{}\n", write::comment(comment)))
            .collect();
        lines.extend(
            self.comments
                .take_within(source, first + 1..=last)
                .iter()
                .map(|comment| format!("{}\n", write::comment(comment))),
        );
        self.take_notes(source, first..=last);
        let raw = self.sources.get(source).map_or("", |file| {
            file.slice(Span {
                end: entry
                    .stripped_comments
                    .last()
                    .map_or(entry.value.span().end, |span| span.end)
                    .max(entry.value.span().end),
                ..entry.key_span
            })
        });
        for text in raw.lines() {
            lines.push(format!("# {text}\n"));
        }
        lines
    }

    /// One `key = value` line (with its comments and notes above it).
    fn key_value(
        &mut self,
        section: Option<&str>,
        entry: &Entry,
        kind: Option<Kind>,
        output_directory: &str,
    ) -> Result<String, Refusal> {
        let source = entry.value.source;
        if entry.from_default {
            // A copy of a `[DEFAULT]` value (written in `[defaults]` with its comments).
            let Some(kind) = kind else {
                return Ok(String::new());
            };
            let Some((raw, directory)) = self.default_copy(entry) else {
                return Err(Refusal::Unsupported {
                    message: format!(
                        "[DEFAULT] {}: cannot tell which directory %(here)s stands for in [{}]",
                        entry.key,
                        section.unwrap_or("DEFAULT")
                    ),
                    span: Some(entry.key_span),
                });
            };
            let (text, rehomed) = Migration::rehome(
                &raw,
                &directory,
                "the file read when supervisord copied [DEFAULT] here",
                output_directory,
            );
            let written = values::value(kind, &text);
            let mut out = "# from [DEFAULT], with %(here)s as supervisord reads it in this section
"
            .to_string();
            for note in written.notes.iter().chain(&rehomed) {
                out.push_str(&write::comment_lines(note));
            }
            out.push_str(&format!("{} = {}\n", write::key(&entry.key), written.value));
            return Ok(out);
        }
        let key_source = entry.key_span.source;
        let first = self.line(entry.key_span);
        let last = self.last_line(entry.value.span()).max(first);
        let mut out = String::new();
        for comment in self.comments.take_before(key_source, first) {
            out.push_str(&write::comment(&comment));
            out.push('\n');
        }
        for comment in self.comments.take_within(key_source, first + 1..=last) {
            out.push_str(&write::comment(&comment));
            out.push('\n');
        }
        let notes = self.take_notes(key_source, first..=last);
        let Some(kind) = kind else {
            for note in notes {
                out.push_str(&write::comment_lines(&note));
            }
            out.push_str(&format!(
                "# `{}` is not a key of this table: supervisord ignores it, so it is kept as a comment.\n",
                entry.key
            ));
            for line in self.claim_entry(entry) {
                out.push_str(&line);
            }
            return Ok(out);
        };
        let raw = self
            .raw_value(source, section, &entry.key)
            .unwrap_or(entry.value.text.as_str())
            .to_string();
        let (text, rehomed) = Migration::rehome(
            &raw,
            &self.directory_of(source),
            &self.shown_path(source),
            output_directory,
        );
        let written = values::value(kind, &text);
        for note in notes.iter().chain(&written.notes) {
            out.push_str(&write::comment_lines(note));
        }
        if let Some(note) = rehomed {
            out.push_str(&write::comment_lines(&note));
        }
        let inline: Vec<String> = entry
            .stripped_comments
            .iter()
            .filter_map(|span| self.sources.get(span.source).map(|file| file.slice(*span)))
            .map(write::comment)
            .collect();
        let key = write::key(&entry.key);
        match &written.dotted {
            Some(pairs) => {
                let lines: Vec<String> = pairs
                    .iter()
                    .map(|(name, value)| format!("{key}.{name} = {value}"))
                    .collect();
                out.push_str(&lines.join("\n"));
            }
            None => out.push_str(&format!("{key} = {}", written.value)),
        }
        if !inline.is_empty() {
            out.push_str("  ");
            out.push_str(&inline.join(" "));
        }
        out.push('\n');
        Ok(out)
    }

    /// `raw` with `%(here)s` meaning `directory` (the directory of `origin`), rewritten for a
    /// file in `output_directory`: kept when both directories are one, `%(here)s/sub` below
    /// it, the directory itself otherwise (with a note). The directory goes in as text, as
    /// supervisord's own textual replacement puts it.
    fn rehome(
        raw: &str,
        directory: &str,
        origin: &str,
        output_directory: &str,
    ) -> (String, Option<String>) {
        const HERE: &str = "%(here)s";
        if !raw.contains(HERE) || directory == output_directory {
            return (raw.to_string(), None);
        }
        let below = directory
            .strip_prefix(output_directory.trim_end_matches('/'))
            .filter(|rest| rest.starts_with('/'));
        match below {
            Some(rest) => (raw.replace(HERE, &format!("{HERE}{rest}")), None),
            None => (
                raw.replace(HERE, directory),
                Some(format!(
                    "`%(here)s` was {directory} (the directory of {origin}); written out, since this file is elsewhere"
                )),
            ),
        }
    }

    /// The raw text and the `%(here)s` directory of an entry copied from `[DEFAULT]` into a
    /// section (supervisord copies a `[DEFAULT]` value holding `%(here)s` into every section
    /// when it reads an included file, with that file's directory): the directory is found
    /// by matching the raw text against the copied one.
    fn default_copy(&self, entry: &Entry) -> Option<(String, String)> {
        const HERE: &str = "%(here)s";
        let raw = self.raw_value(entry.value.source, None, &entry.key)?;
        let count = raw.matches(HERE).count();
        if count == 0 {
            return Some((raw.to_string(), self.directory_of(SourceId(0))));
        }
        let copied = entry.value.text.as_str();
        let grown = copied.len().checked_sub(raw.len() - HERE.len() * count)?;
        let length = grown / count;
        let start = raw.find(HERE)?;
        let directory = copied.get(start..start + length)?;
        (raw.replace(HERE, directory) == copied).then(|| (raw.to_string(), directory.to_string()))
    }

    /// One TOML file per INI file, `[include]` kept.
    fn keep_includes(
        &mut self,
        main_path: &Path,
        output: &Path,
        main_directory: &str,
        output_directory: &str,
    ) -> Result<Vec<MigratedFile>, Refusal> {
        // A section defined in two files merges in INI; in TOML it is an error.
        let mut first: BTreeMap<&str, SourceId> = BTreeMap::new();
        let raw: Vec<Document> = self.raw.clone();
        for (index, document) in raw.iter().enumerate() {
            for section in document.sections.values() {
                if let Some(other) = first.insert(section.name.as_str(), SourceId(index as u32))
                    && other != SourceId(index as u32)
                {
                    return Err(Refusal::Unsupported {
                        message: format!(
                            "[{}] is defined in {} and in {}: TOML files cannot share a table; migrate without --keep-includes to fold them into one",
                            section.name,
                            self.shown_path(other),
                            self.shown_path(SourceId(index as u32)),
                        ),
                        span: Some(section.header()),
                    });
                }
            }
        }
        let copied_default = self
            .compilation
            .document
            .sections
            .values()
            .flat_map(|section| section.entries.values())
            .find(|entry| entry.from_default);
        if let Some(entry) = copied_default {
            return Err(Refusal::Unsupported {
                message: format!(
                    "[DEFAULT] {} holds %(here)s, which supervisord replaces with the directory of each included file in turn; migrate without --keep-includes to write each section's value",
                    entry.key
                ),
                span: Some(entry.key_span),
            });
        }
        let mut files = Vec::new();
        let mut seen = Vec::new();
        for (index, document) in raw.iter().enumerate() {
            let id = SourceId(index as u32);
            let Some(source) = self.sources.get(id) else {
                continue;
            };
            if seen.contains(&source.absolute) {
                continue;
            }
            seen.push(source.absolute.clone());
            let (path, directory) = if index == 0 {
                (output.to_path_buf(), output_directory.to_string())
            } else {
                // Its `%(here)s` is its own directory, as the TOML reader will see it.
                (toml_path(&source.path), self.directory_of(id))
            };
            let mut out = String::new();
            out.push_str(&format!(
                "# Migrated from {} by `svc migrate --keep-includes`.\n",
                source.path.display()
            ));
            out.push_str(&self.tables(document, &directory, |section| {
                // The main file's `[include]` becomes a real table of TOML patterns.
                (section.name == "include" && index == 0).then(|| {
                    document
                        .get("include", "files")
                        .map(|entry| entry.value.text.clone())
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(|pattern| toml_pattern(pattern, main_directory, output_directory))
                        .collect()
                })
            })?);
            let rest: Vec<String> = self
                .comments
                .take_trailer(id)
                .into_iter()
                .chain(self.comments.rest(id))
                .collect();
            push_trailing_comments(&mut out, rest);
            files.push(MigratedFile {
                from: if index == 0 {
                    main_path.to_path_buf()
                } else {
                    source.path.clone()
                },
                path,
                text: out,
            });
        }
        Ok(files)
    }
}

/// The TOML file of an included INI file: beside it, with the extension `.toml`.
fn toml_path(path: &Path) -> PathBuf {
    path.with_extension("toml")
}

/// An `[include]` pattern for the TOML files: the extension becomes `.toml` (`*` gains
/// it), and a relative pattern stays relative to the main file's directory.
fn toml_pattern(pattern: &str, main_directory: &str, output_directory: &str) -> String {
    let (directory, name) = match pattern.rfind('/') {
        Some(slash) => (&pattern[..=slash], &pattern[slash + 1..]),
        None => ("", pattern),
    };
    let stem = match name.rfind('.') {
        Some(dot) if !name[dot..].contains(['*', '?', '[']) => &name[..dot],
        _ => name,
    };
    let renamed = format!("{directory}{stem}.toml");
    if renamed.starts_with('/') || renamed.starts_with('%') || main_directory == output_directory {
        renamed
    } else {
        paths::join(main_directory, &renamed)
    }
}

/// The comments left over at the end of a file, after a blank line.
fn push_trailing_comments(out: &mut String, rest: Vec<String>) {
    if rest.is_empty() {
        return;
    }
    out.push('\n');
    for comment in rest {
        out.push_str(&write::comment(&comment));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_patterns_point_at_toml_files() {
        assert_eq!(
            toml_pattern("conf.d/*.conf", "/etc", "/etc"),
            "conf.d/*.toml"
        );
        assert_eq!(toml_pattern("/etc/sv/*", "/etc", "/etc"), "/etc/sv/*.toml");
        assert_eq!(toml_pattern("a.ini", "/etc", "/tmp"), "/etc/a.toml");
        assert_eq!(toml_pattern("x.d/*.conf", "/etc", "/etc"), "x.d/*.toml");
    }

    #[test]
    fn here_keeps_its_meaning_in_the_output_directory() {
        let rehome = |raw, directory| Migration::rehome(raw, directory, "x.conf", "/etc/sv");
        assert_eq!(
            rehome("%(here)s/run", "/etc/sv"),
            ("%(here)s/run".into(), None)
        );
        assert_eq!(
            rehome("%(here)s/run", "/etc/sv/conf.d"),
            ("%(here)s/conf.d/run".into(), None)
        );
        assert_eq!(
            rehome("%(here)s/../x", "/etc/sv/../opt"),
            ("%(here)s/../opt/../x".into(), None)
        );
        let (text, note) = rehome("%(here)s/run", "/opt/app");
        assert_eq!(text, "/opt/app/run");
        assert!(note.is_some_and(|note| note.contains("x.conf")));
        assert_eq!(rehome("/bin/cat", "/opt/app"), ("/bin/cat".into(), None));
    }

    #[test]
    fn sections_map_to_tables() {
        assert!(
            matches!(target("program:web"), Ok(Target::Table(Table::Program, h)) if h == "programs.web")
        );
        assert!(
            matches!(target("fcgi-program:x y"), Ok(Target::Table(Table::FcgiProgram, h)) if h == "fcgi_programs.\"x y\"")
        );
        assert!(matches!(target("include"), Ok(Target::Include)));
        assert!(matches!(target("foo"), Ok(Target::Ignored)));
        assert!(
            matches!(target("inet_http_server:two"), Ok(Target::Table(Table::InetHttpServer, h)) if h == "inet_http_servers.two")
        );
        assert!(target("inet_http_serverx").is_err());
    }
}
