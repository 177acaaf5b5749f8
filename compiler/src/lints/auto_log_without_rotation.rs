//! `svc::lint::auto_log_without_rotation`
//!
//! **What**: a child log left on AUTO (the default) with `*_logfile_maxbytes=0`.
//!
//! **Why**: AUTO logs go to `childlogdir` (usually /tmp) and, with no rotation, grow until
//! the disk is full. supervisord logs this as a warning at startup; svc says it at check
//! time, on the line.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! stdout_logfile_maxbytes=0
//! ```
//!
//! **Fix**: set `stdout_logfile` to a real path (or `NONE`, or `/dev/stdout`), or give
//! `stdout_logfile_maxbytes` a size.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for (section, key, span) in &context.facts.auto_logs_without_rotation {
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_AUTO_LOG_WITHOUT_ROTATION,
                format!("For [{section}], AUTO logging used for {key} without rollover"),
            )
            .at(*span, "no rotation")
            .help(format!("set {key}_maxbytes > 0, or name a file (or NONE) in {key}, to avoid filling up the disk")),
        );
    }
}
