//! svc's compiler: supervisord.conf (INI), or svc's TOML format, to a [`svc_schema::Graph`]
//! plus diagnostics.
//!
//! Pipeline (one module per pass): `load` reads the main file and its `[include]`s into
//! [`source::Sources`] → `ini` parses them with configparser's semantics into one merged
//! [`ini::Document`] → `lower` expands (`expand`), types (`convert`) and validates every
//! section into the Graph, running host checks (`lower::host_checks`) → `lints` look for
//! what supervisord accepts silently. A `.toml` file is read by `toml` into the same
//! [`ini::Document`] instead, so that it goes through the same lowering and lints. `render`
//! turns diagnostics into text, JSON or GitHub annotations.
//!
//! Invariant: [`compile`] never fails and never panics on input; it returns what it could
//! build and every diagnostic. The Graph is returned only when no error was found.
#![warn(missing_docs, missing_debug_implementations)]

pub mod codes;
pub mod convert;
pub mod diagnostic;
pub mod expand;
pub mod host;
pub mod ini;
pub mod lints;
mod load;
mod lower;
pub mod paths;
pub mod render;
pub mod search;
pub mod source;
pub mod suggest;
pub mod toml;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use svc_schema::Graph;

use crate::diagnostic::Diagnostic;
use crate::expand::EnvPolicy;
use crate::host::Host;
use crate::ini::Document;
use crate::source::Sources;

/// How to compile.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Check users, groups, directories and environment variables against this host
    /// (supervisord does). Off for CI machines that are not the production host.
    pub host_checks: bool,
    /// `[supervisord] user=` is overridden (`svc run -u`): supervisord checks only the user
    /// it runs as, so the key's value is not checked against this host.
    pub user_overridden: bool,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            host_checks: true,
            user_overridden: false,
        }
    }
}

/// The result of a compilation.
#[derive(Debug)]
pub struct Compilation {
    /// The Graph, when no error was found.
    pub graph: Option<Graph>,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read.
    pub sources: Sources,
    /// The merged INI, for tools that need more than the Graph (comments, raw values).
    pub document: Document,
    /// True when the main file could not be read at all (an I/O problem, not a config
    /// problem: `svc check` exits 2).
    pub unreadable: bool,
    /// The WARN lines supervisord writes into its log at startup, in its order: include
    /// patterns that match nothing, then per process `*_logfile=syslog`, AUTO logs without
    /// rotation and an ignored `stderr_logfile` (`svc run` writes them too).
    pub startup_warnings: Vec<String>,
}

impl Compilation {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// What every pass may need to know about the run.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// Directory of the main file (`%(here)s`).
    pub here: Arc<str>,
    /// `%(host_node_name)s`.
    pub node_name: Arc<str>,
    /// The daemon's environment.
    pub os_env: Arc<IndexMap<String, String>>,
    /// Working directory.
    pub cwd: String,
    /// How unset `ENV_*` are treated.
    pub policy: EnvPolicy,
}

/// Compiles the configuration file at `path` as supervisord 4.3.0 would read it on `host`.
/// A path ending in `.toml` is read as svc's TOML format, anything else as INI.
pub fn compile(path: &Path, host: &dyn Host, options: &CompileOptions) -> Compilation {
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    let bytes = match host.read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let (code, message, help) = if error.kind() == std::io::ErrorKind::NotFound {
                (
                    &codes::SOURCE_NOT_FOUND,
                    format!("could not find config file {}", path.display()),
                    "check the path (a relative path starts from the current directory)",
                )
            } else {
                (
                    &codes::SOURCE_UNREADABLE,
                    format!("could not read config file {}: {error}", path.display()),
                    "check that the path names a regular file that the user running svc may read",
                )
            };
            diagnostics.push(Diagnostic::new(code, message).help(help));
            return Compilation {
                graph: None,
                diagnostics,
                sources,
                document: Document::default(),
                unreadable: true,
                startup_warnings: Vec::new(),
            };
        }
    };
    let cwd = host.current_dir().to_string_lossy().into_owned();
    let absolute = paths::abspath(&path.to_string_lossy(), &cwd);
    let main = load::decode(
        bytes,
        &mut sources,
        path,
        absolute.clone(),
        &mut diagnostics,
    );
    let context = Context {
        here: paths::dirname(&absolute).into(),
        node_name: host.node_name().into(),
        os_env: Arc::new(host.environment()),
        cwd,
        policy: if options.host_checks {
            EnvPolicy::Strict
        } else {
            EnvPolicy::Lenient
        },
    };
    let mut silenced = Vec::new();
    let document = if toml::is_toml_path(path) {
        let (document, refused) = toml::read(host, &mut sources, main, &context, &mut diagnostics);
        silenced = refused;
        document
    } else {
        let mut document = Document::default();
        if let Some(source) = sources.get(main) {
            ini::parse_into(&mut document, source, &mut diagnostics);
        }
        load::includes(
            host,
            &mut document,
            &mut sources,
            path,
            &context,
            &mut diagnostics,
        );
        document
    };

    let (graph, facts, mut lowering_diagnostics) =
        lower_document(&document, host, options, &context, main);
    // A required key refused for its TOML type is reported once, not again as missing.
    lowering_diagnostics.retain(|d| {
        let missing = [
            codes::PROGRAM_MISSING_COMMAND.name,
            codes::EVENTLISTENER_MISSING_EVENTS.name,
        ];
        !(missing.contains(&d.code.name)
            && d.primary
                .as_ref()
                .is_some_and(|l| silenced.contains(&l.span)))
    });
    diagnostics.extend(lowering_diagnostics);
    let lint_context = lints::LintContext::new(&document, &sources, &graph, &facts);
    diagnostics.extend(lints::run(&lint_context));
    let mut compilation = finish(graph, diagnostics, sources, document);
    compilation.startup_warnings = compilation
        .diagnostics
        .iter()
        .filter(|d| d.code.name == codes::INCLUDE_NO_MATCH.name)
        .map(|d| d.message.clone())
        .chain(facts.supervisord_warnings)
        .collect();
    compilation
}

/// Lowers a document; returns the Graph (even if errors were found), lint facts and the
/// diagnostics.
fn lower_document(
    document: &Document,
    host: &dyn Host,
    options: &CompileOptions,
    context: &Context,
    main: svc_schema::SourceId,
) -> (Graph, lints::LintFacts, Vec<Diagnostic>) {
    let mut lowering = lower::Lowering {
        document,
        host,
        options,
        diagnostics: Vec::new(),
        here: context.here.clone(),
        node_name: context.node_name.clone(),
        os_env: Arc::clone(&context.os_env),
        supervisord_env: Arc::new(IndexMap::new()),
        cwd: context.cwd.clone(),
    };
    let mut facts = lints::LintFacts::default();
    if document.section("supervisord").is_none() {
        lowering.diagnostics.push(
            Diagnostic::new(&codes::SUPERVISORD_MISSING_SECTION, ".ini file does not include supervisord section")
                .at(svc_schema::Span::new(main, 0, 0), "in this file")
                .help("add a [supervisord] section (it may be empty); a conf.d fragment must be included from a file that has one"),
        );
    }
    let supervisord = lower::supervisord::lower(&mut lowering);
    let rpcinterfaces = lower::plugins::lower(
        &mut lowering,
        "rpcinterface:",
        "supervisor.rpcinterface_factory",
    );
    let groups = lower::groups::lower(&mut lowering, &mut facts);
    let inet_http_servers = lower::servers::lower_inet(&mut lowering);
    let unix_http_servers = lower::servers::lower_unix(&mut lowering);
    let supervisorctl = lower::supervisorctl::lower(&mut lowering);
    let ctlplugins = lower::plugins::lower(&mut lowering, "ctlplugin:", "supervisor.ctl_factory");
    let graph = Graph {
        supervisord,
        unix_http_servers,
        inet_http_servers,
        supervisorctl,
        rpcinterfaces,
        ctlplugins,
        groups,
    };
    (graph, facts, lowering.diagnostics)
}

/// Deduplicates and sorts diagnostics, and keeps the Graph only if there is no error.
fn finish(
    graph: Graph,
    diagnostics: Vec<Diagnostic>,
    sources: Sources,
    document: Document,
) -> Compilation {
    let mut seen = HashSet::new();
    let mut unique: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|d| {
            seen.insert((
                d.code.name,
                d.primary.as_ref().map(|l| l.span),
                d.message.clone(),
            ))
        })
        .collect();
    unique.sort_by_key(|d| {
        let span = d.primary.as_ref().map(|l| l.span).unwrap_or_default();
        (span.source, span.start, span.end)
    });
    let has_errors = unique.iter().any(Diagnostic::is_error);
    Compilation {
        graph: (!has_errors).then_some(graph),
        diagnostics: unique,
        sources,
        document,
        unreadable: false,
        startup_warnings: Vec::new(),
    }
}

/// `(code, 1-based line, 1-based column, text under the span)` of every diagnostic: what
/// the unit tests of the passes assert.
#[cfg(test)]
pub(crate) fn found(compilation: &Compilation) -> Vec<(&'static str, usize, usize, String)> {
    compilation
        .diagnostics
        .iter()
        .filter_map(|d| {
            let span = d.primary.as_ref()?.span;
            let source = compilation.sources.get(span.source)?;
            let (line, column) = source.line_col(span.start as usize);
            Some((
                d.code.name,
                line + 1,
                column + 1,
                source.slice(span).to_string(),
            ))
        })
        .collect()
}
