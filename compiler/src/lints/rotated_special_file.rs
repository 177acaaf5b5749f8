//! `svc::lint::rotated_special_file`
//!
//! **What**: a log file under `/dev/` (`/dev/stdout`, `/dev/stderr`, `/dev/fd/1`) with
//! rotation on (`*_logfile_maxbytes` > 0, the default is 50MB).
//!
//! **Why**: supervisord calls `tell()` on the file after each write to decide on rotation;
//! on a pipe that fails with "Illegal seek" and supervisord stops reading the child's
//! output (supervisor issues #1224, #935, #1602). The usual container setup hits this.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! stdout_logfile=/dev/stdout
//! ```
//!
//! **Fix**: add `stdout_logfile_maxbytes=0` (and `logfile_maxbytes=0` for the main log).

use svc_schema::{LogFile, MainLog};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::{LintContext, processes};

fn diagnostic(path: &str, key: &str, span: svc_schema::Span) -> Diagnostic {
    Diagnostic::new(
        &codes::LINT_ROTATED_SPECIAL_FILE,
        format!("{path} cannot be rotated, but {key} is above 0"),
    )
    .at(span, "not a regular file")
    .help(format!(
        "set {key}=0: supervisord's rotation check fails on pipes and stops capturing output"
    ))
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    for process in processes(context.graph) {
        for (stream, name) in [(&process.stdout, "stdout"), (&process.stderr, "stderr")] {
            let LogFile::File(path) = &stream.logfile else {
                continue;
            };
            if !path.starts_with("/dev/") || stream.logfile_maxbytes <= 0 || path == "/dev/null" {
                continue;
            }
            let Some(span) = process
                .origin
                .keys
                .get(format!("{name}_logfile").as_str())
                .copied()
            else {
                continue;
            };
            if seen.insert(span) {
                diagnostics.push(diagnostic(path, &format!("{name}_logfile_maxbytes"), span));
            }
        }
    }
    let supervisord = &context.graph.supervisord;
    if let MainLog::File(path) = &supervisord.logfile
        && path.starts_with("/dev/")
        && path != "/dev/null"
        && supervisord.logfile_maxbytes > 0
        && let Some(entry) = context.document.get("supervisord", "logfile")
    {
        diagnostics.push(diagnostic(path, "logfile_maxbytes", entry.value.span()));
    }
}
