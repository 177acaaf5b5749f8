//! `svc::lint::startsecs_zero_retries`
//!
//! **What**: `startsecs=0` together with an explicit `startretries`.
//!
//! **Why**: with `startsecs=0` a process counts as started the moment it is spawned, so it
//! can never fail to start: `startretries` is never used. A crashing program with
//! `autorestart` on restarts forever without back-off and never goes FATAL (supervisor
//! issue #1285).
//!
//! **Example**:
//! ```ini
//! [program:job]
//! command=/usr/bin/job
//! startsecs=0
//! startretries=5
//! ```
//!
//! **Fix**: set `startsecs` to how long the program needs to be considered up (1 or more),
//! or drop `startretries`.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    for process in crate::lints::processes(context.graph) {
        if process.startsecs != 0 {
            continue;
        }
        let (Some(retries), Some(startsecs)) = (
            process.origin.keys.get("startretries").copied(),
            process.origin.keys.get("startsecs").copied(),
        ) else {
            continue;
        };
        if !seen.insert(retries) {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_STARTSECS_ZERO_RETRIES,
                format!(
                    "program `{}` sets startretries, but startsecs=0 means it is never used",
                    process.program
                ),
            )
            .at(retries, "never used")
            .also(startsecs, "every spawn counts as a successful start")
            .help("set startsecs to 1 or more so failed starts are retried and then marked FATAL"),
        );
    }
}
