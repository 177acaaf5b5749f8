//! Lints: warnings about what supervisord accepts silently. One module per lint, each with
//! What / Why / Example / Fix in its doc, its check and its tests.
//!
//! Lints run after lowering, on the merged [`Document`], the (possibly partial) [`Graph`]
//! and [`LintFacts`], which lowering records when it meets something a lint reports
//! (supervisord's own parse warnings among them).
//!
//! Threads: [`run`] shares the lints between the calling thread and a scoped worker thread;
//! each lint writes its own list, and the lists are joined in the registry's order, so the
//! diagnostics do not depend on which thread ran what.

mod auto_log_without_rotation;
mod daemonizing_command;
mod default_section;
mod deprecated_syslog_logfile;
mod duplicate_key;
mod empty_group;
mod environment_truncation;
mod inline_comment_truncation;
mod missing_rpcinterface;
mod program_in_two_groups;
mod redirected_stderr_logfile;
mod rotated_special_file;
mod shared_rotated_logfile;
mod startsecs_zero_retries;
mod unauthenticated_inet_server;
mod unexpanded_shell_variable;
pub(crate) mod unknown_key;
mod unknown_section;
mod unparsable_command;

pub use svc_schema::shlex as shell;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use svc_schema::{Graph, Process, Span};

use crate::diagnostic::Diagnostic;
use crate::ini::Document;
use crate::source::Sources;

/// What lowering noticed for lints.
#[derive(Debug, Clone, Default)]
pub struct LintFacts {
    /// `(section, logfile key, span)` of AUTO logs with maxbytes=0.
    pub auto_logs_without_rotation: Vec<(String, String, Span)>,
    /// `(section, span of stderr_logfile)` ignored because of redirect_stderr.
    pub redirected_stderr_logfiles: Vec<(String, Span)>,
    /// `(section, key, span)` of `*_logfile=syslog`.
    pub deprecated_syslog: Vec<(String, String, Span)>,
    /// The three facts above as the WARN lines supervisord writes into its log at startup,
    /// in its order: per process, per stream (`*_logfile=syslog`, then AUTO without
    /// rotation), then the ignored `stderr_logfile`.
    pub supervisord_warnings: Vec<String>,
    /// `(value, its expansion, the first byte range of the expansion that supervisord
    /// drops)` of program `environment=` values that lose text (once per distinct
    /// expansion of a program).
    pub environment_truncations: Vec<(crate::ini::Value, String, (usize, usize))>,
    /// `(section, span)` of groups that end up with no process.
    pub empty_groups: Vec<(String, Span)>,
    /// `(program section, group section, span in programs=)` for each membership.
    pub group_memberships: Vec<(String, String, Span)>,
}

impl LintFacts {
    /// Appends the facts `other` recorded after the ones recorded here.
    pub fn extend(&mut self, other: LintFacts) {
        let LintFacts {
            auto_logs_without_rotation,
            redirected_stderr_logfiles,
            deprecated_syslog,
            supervisord_warnings,
            environment_truncations,
            empty_groups,
            group_memberships,
        } = other;
        self.auto_logs_without_rotation
            .extend(auto_logs_without_rotation);
        self.redirected_stderr_logfiles
            .extend(redirected_stderr_logfiles);
        self.deprecated_syslog.extend(deprecated_syslog);
        self.supervisord_warnings.extend(supervisord_warnings);
        self.environment_truncations.extend(environment_truncations);
        self.empty_groups.extend(empty_groups);
        self.group_memberships.extend(group_memberships);
    }
}

/// Everything a lint may look at.
#[derive(Debug)]
pub struct LintContext<'a> {
    /// The merged INI.
    pub document: &'a Document,
    /// The files.
    pub sources: &'a Sources,
    /// The Graph as lowered (complete even when errors were found).
    pub graph: &'a Graph,
    /// Facts from lowering.
    pub facts: &'a LintFacts,
    /// The first process of each distinct command text and that command split as
    /// supervisord splits it; see [`LintContext::commands`].
    commands: OnceLock<Vec<Command<'a>>>,
}

/// A process and its command split as supervisord splits it.
pub(crate) type Command<'a> = (&'a Process, Result<Vec<String>, shell::SplitError>);

impl<'a> LintContext<'a> {
    /// The context of one compilation's lints.
    pub fn new(
        document: &'a Document,
        sources: &'a Sources,
        graph: &'a Graph,
        facts: &'a LintFacts,
    ) -> LintContext<'a> {
        LintContext {
            document,
            sources,
            graph,
            facts,
            commands: OnceLock::new(),
        }
    }

    /// The first process of each distinct command text (the processes of a program
    /// usually share one command) and that command split, for the lints that look at
    /// commands: each command is split once, by the first lint that asks.
    pub(crate) fn commands(&self) -> &[Command<'a>] {
        self.commands.get_or_init(|| {
            let mut seen = rustc_hash::FxHashSet::default();
            processes(self.graph)
                .filter(|process| seen.insert(process.command.as_str()))
                .map(|process| (process, shell::split(&process.command)))
                .collect()
        })
    }
}

/// One lint: looks at the context and appends what it finds.
type Lint = fn(&LintContext<'_>, &mut Vec<Diagnostic>);

/// Every lint, in the order their diagnostics are reported.
const LINTS: &[Lint] = &[
    inline_comment_truncation::check,
    unknown_key::check,
    unknown_section::check,
    daemonizing_command::check,
    unauthenticated_inet_server::check,
    shared_rotated_logfile::check,
    rotated_special_file::check,
    startsecs_zero_retries::check,
    program_in_two_groups::check,
    unexpanded_shell_variable::check,
    duplicate_key::check,
    auto_log_without_rotation::check,
    redirected_stderr_logfile::check,
    deprecated_syslog_logfile::check,
    environment_truncation::check,
    empty_group::check,
    unparsable_command::check,
    missing_rpcinterface::check,
    default_section::check,
];

/// Runs every lint. The lints are independent: this thread and a scoped worker thread take
/// them one at a time, and the diagnostics are put back in the order of `LINTS`.
pub fn run(context: &LintContext<'_>) -> Vec<Diagnostic> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(lint) = LINTS.get(index) else {
                break;
            };
            let mut diagnostics = Vec::new();
            lint(context, &mut diagnostics);
            done.push((index, diagnostics));
        }
        done
    };
    let mut done = std::thread::scope(|scope| {
        let worker = scope.spawn(work);
        let mut done = work();
        match worker.join() {
            Ok(more) => done.extend(more),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        done
    });
    done.sort_by_key(|(index, _)| *index);
    done.into_iter()
        .flat_map(|(_, diagnostics)| diagnostics)
        .collect()
}

/// Every process in the Graph, for lints over processes.
pub(crate) fn processes(graph: &Graph) -> impl Iterator<Item = &Process> {
    graph.groups.iter().flat_map(|group| group.processes.iter())
}
