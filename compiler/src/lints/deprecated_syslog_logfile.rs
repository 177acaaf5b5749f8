//! `svc::lint::deprecated_syslog_logfile`
//!
//! **What**: `stdout_logfile=syslog` / `stderr_logfile=syslog`.
//!
//! **Why**: this spelling is deprecated in supervisord (it warns and converts it to
//! `*_syslog=true` with no file); it may be removed.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! stdout_logfile=syslog
//! ```
//!
//! **Fix**: `stdout_syslog=true` (and `stdout_logfile=NONE` if no file is wanted).

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    for (section, key, span) in &context.facts.deprecated_syslog {
        if !seen.insert(*span) {
            continue;
        }
        let stream = key.trim_end_matches("_logfile");
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_DEPRECATED_SYSLOG_LOGFILE,
                format!("For [{section}], {key}=syslog but this is deprecated and will be removed"),
            )
            .at(*span, "deprecated")
            .help(format!(
                "write {stream}_syslog=true (and {key}=NONE if no file is wanted)"
            )),
        );
    }
}
