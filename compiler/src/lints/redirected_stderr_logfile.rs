//! `svc::lint::redirected_stderr_logfile`
//!
//! **What**: `stderr_logfile` names a file although `redirect_stderr=true`.
//!
//! **Why**: with redirect_stderr, stderr goes into the stdout log and `stderr_logfile` is
//! ignored (supervisord warns at startup). The file named will stay empty.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! redirect_stderr=true
//! stderr_logfile=/var/log/web.err
//! ```
//!
//! **Fix**: remove `stderr_logfile`, or remove `redirect_stderr`.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    for (section, span) in &context.facts.redirected_stderr_logfiles {
        if !seen.insert(*span) {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_REDIRECTED_STDERR_LOGFILE,
                format!("For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"),
            )
            .at(*span, "ignored")
            .help("remove stderr_logfile (stderr goes to the stdout log), or remove redirect_stderr=true"),
        );
    }
}
