//! `svc::lint::shared_rotated_logfile`
//!
//! **What**: two processes (or both streams of one) write the same log file, and it is
//! rotated (`*_logfile_maxbytes > 0`).
//!
//! **Why**: each writer rotates on its own count: one renames the file under the other,
//! which keeps writing into the renamed backup, and output is lost or interleaved across
//! backups. Typical cause: `numprocs > 1` with a log path without `%(process_num)`.
//!
//! **Example**:
//! ```ini
//! [program:worker]
//! command=/usr/bin/worker
//! numprocs=2
//! process_name=%(program_name)s_%(process_num)d
//! stdout_logfile=/var/log/worker.log
//! ```
//!
//! **Fix**: put `%(process_num)d` (or `%(process_name)s`) in the path, or set
//! `*_logfile_maxbytes=0` and rotate externally.

use rustc_hash::{FxHashMap, FxHashSet};
use svc_schema::{LogFile, Process};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::{LintContext, processes};

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // path -> the first writer: (process, stream name)
    let writers_at_most = 2 * processes(context.graph).count();
    let mut writers: FxHashMap<&str, (&Process, &str)> =
        FxHashMap::with_capacity_and_hasher(writers_at_most, Default::default());
    let mut reported: FxHashSet<&str> = FxHashSet::default();
    let logfile_span = |process: &Process, name: &str| {
        let key = if name == "stdout" {
            "stdout_logfile"
        } else {
            "stderr_logfile"
        };
        process.origin.keys.get(key).copied()
    };
    for process in processes(context.graph) {
        for (stream, name) in [(&process.stdout, "stdout"), (&process.stderr, "stderr")] {
            let LogFile::File(path) = &stream.logfile else {
                continue;
            };
            if path.starts_with("/dev/") || stream.logfile_maxbytes <= 0 {
                continue;
            }
            let Some(&(first, first_name)) = writers.get(path.as_str()) else {
                writers.insert(path, (process, name));
                continue;
            };
            let span = logfile_span(process, name);
            let first_span = logfile_span(first, first_name);
            let Some(primary) = span.or(first_span) else {
                continue;
            };
            if !reported.insert(path) {
                continue;
            }
            let help = if std::ptr::eq(first, process) {
                "set redirect_stderr=true (and drop stderr_logfile) to send both streams into one file safely"
            } else {
                "give each process its own file (add %(process_num)d to the path) or set *_logfile_maxbytes=0"
            };
            let mut diagnostic = Diagnostic::new(
                &codes::LINT_SHARED_ROTATED_LOGFILE,
                format!(
                    "{} ({first_name}) and {} ({name}) both write the rotated log file {path}",
                    first.name, process.name
                ),
            )
            .at(primary, "shared by several writers")
            .help(help);
            if let Some(first_span) = first_span.filter(|s| *s != primary) {
                diagnostic = diagnostic.also(first_span, "also written here");
            }
            diagnostics.push(diagnostic);
        }
    }
}
