//! `svc::lint::program_in_two_groups`
//!
//! **What**: one `[program:x]` listed in the `programs=` of two `[group:...]` sections.
//!
//! **Why**: supervisord builds an independent copy of the program in each group: it runs
//! twice, with two pids, and both copies log under the same name.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! [group:a]
//! programs=web
//! [group:b]
//! programs=web
//! ```
//!
//! **Fix**: list the program in one group only (make a second `[program:y]` if two copies
//! are really wanted).

use std::collections::HashMap;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, (&str, svc_schema::Span)> = HashMap::new();
    for (program, group, span) in &context.facts.group_memberships {
        match first.get(program.as_str()) {
            Some((first_group, first_span)) if first_group != group => {
                diagnostics.push(
                    Diagnostic::new(
                        &codes::LINT_PROGRAM_IN_TWO_GROUPS,
                        format!("[{program}] is in [{first_group}] and [{group}]: supervisord runs it twice"),
                    )
                    .at(*span, "second membership")
                    .also(*first_span, "first membership")
                    .help("list each program in one group only"),
                );
            }
            Some(_) => {}
            None => {
                first.insert(program, (group, *span));
            }
        }
    }
}
