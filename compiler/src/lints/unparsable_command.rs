//! `svc::lint::unparsable_command`
//!
//! **What**: a `command=` that cannot be split into arguments (an unclosed quote, a
//! trailing backslash) or that is empty.
//!
//! **Why**: supervisord accepts the file but every spawn fails with "can't parse command"
//! (or "command is empty"), and the program goes FATAL. Often the result of an inline
//! comment cutting the command inside quotes.
//!
//! **Example**:
//! ```ini
//! [program:job]
//! command=bash -c 'echo hi
//! ```
//!
//! **Fix**: close the quote (or escape the character).

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = rustc_hash::FxHashSet::default();
    for (process, argv) in context.commands() {
        let written = process.origin.keys.get("command").and_then(|span| {
            context
                .sources
                .get(span.source)
                .map(|source| source.slice(*span))
        });
        let problem = match argv {
            Err(error) => format!("can't parse command: {}", error.message()),
            // An empty result from a non-empty value means its expansion failed, which is
            // reported already.
            Ok(argv) if argv.is_empty() && written.is_some_and(|text| text.trim().is_empty()) => {
                "command is empty".to_string()
            }
            Ok(_) => continue,
        };
        let Some(span) = process
            .origin
            .keys
            .get("command")
            .copied()
            .or(process.origin.section)
        else {
            continue;
        };
        if !seen.insert(span) {
            continue;
        }
        let empty = problem == "command is empty";
        let (label, help) = if empty {
            (
                "empty command",
                "write the program to run and its arguments after `command=`",
            )
        } else {
            (
                "cannot be split into arguments",
                "close every quote and escape; the command is split like a POSIX shell would",
            )
        };
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_UNPARSABLE_COMMAND,
                format!("program `{}` will never start: {problem}", process.program),
            )
            .at(span, label)
            .help(help),
        );
    }
}
