//! `svc::lint::empty_group`
//!
//! **What**: a group that ends up with no process: `numprocs=0` (or negative), or a
//! `[group:x]` with an empty or missing `programs=`.
//!
//! **Why**: supervisord accepts it and runs nothing; with `numprocs=0` it does not even
//! check that the program has a command. Usually a leftover or a typo.
//!
//! **Example**:
//! ```ini
//! [program:worker]
//! command=/usr/bin/worker
//! numprocs=0
//! ```
//!
//! **Fix**: set `numprocs` to 1 or more, list programs in `programs=`, or delete the section.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    for (section, span) in &context.facts.empty_groups {
        if !seen.insert(section) {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_EMPTY_GROUP,
                format!("[{section}] defines no process"),
            )
            .at(*span, "nothing will run")
            .help("set numprocs to 1 or more, list programs in programs=, or remove the section"),
        );
    }
}
