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

use std::collections::HashMap;

use svc_schema::{LogFile, Span};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::{LintContext, processes};

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // path -> (first writer, its span)
    let mut writers: HashMap<&str, (String, Option<Span>)> = HashMap::new();
    let mut reported = std::collections::HashSet::new();
    for process in processes(context.graph) {
        for (stream, key) in [
            (&process.stdout, "stdout_logfile"),
            (&process.stderr, "stderr_logfile"),
        ] {
            let LogFile::File(path) = &stream.logfile else {
                continue;
            };
            if path.starts_with("/dev/") || stream.logfile_maxbytes <= 0 {
                continue;
            }
            let span = process.origin.keys.get(key).copied();
            let writer = format!("{} ({})", process.name, &key[..6]);
            match writers.get(path.as_str()) {
                None => {
                    writers.insert(path, (writer, span));
                }
                Some((first, first_span)) => {
                    let Some(primary) = span.or(*first_span) else {
                        continue;
                    };
                    if !reported.insert(path.clone()) {
                        continue;
                    }
                    let same_process = first.starts_with(&format!("{} (", process.name));
                    let help = if same_process {
                        "set redirect_stderr=true (and drop stderr_logfile) to send both streams into one file safely"
                    } else {
                        "give each process its own file (add %(process_num)d to the path) or set *_logfile_maxbytes=0"
                    };
                    let mut diagnostic = Diagnostic::new(
                        &codes::LINT_SHARED_ROTATED_LOGFILE,
                        format!("{first} and {writer} both write the rotated log file {path}"),
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
    }
}
