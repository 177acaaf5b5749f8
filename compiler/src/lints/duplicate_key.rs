//! `svc::lint::duplicate_key`
//!
//! **What**: a key set twice in the same section (also across two `[x]` headers of the
//! same name, or across files).
//!
//! **Why**: supervisord keeps the last value without a word; the first one is dead text
//! that readers will believe.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web --old
//! command=/usr/bin/web --new
//! ```
//!
//! **Fix**: delete the definition that should not apply.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // `[include]` keys of included files are ignored, which `nested_ignored` reports.
    let all = context
        .document
        .all_entries()
        .filter(|(name, _)| *name != "include");
    for (section, entries) in all {
        for entry in entries.values().filter(|e| !e.from_default) {
            let Some(previous) = entry.replaced.last() else {
                continue;
            };
            // The same file read twice (an include matching the main file) repeats every key
            // at the same offsets; that is not a user's duplicate.
            let same_place = |a: svc_schema::Span, b: svc_schema::Span| {
                let path = |s: svc_schema::Span| {
                    context.sources.get(s.source).map(|f| f.absolute.as_str())
                };
                a.start == b.start && path(a) == path(b)
            };
            if same_place(*previous, entry.key_span) {
                continue;
            }
            diagnostics.push(
                Diagnostic::new(
                    &codes::LINT_DUPLICATE_KEY,
                    format!(
                        "[{section}] sets `{}` more than once; the last value wins",
                        entry.key
                    ),
                )
                .at(entry.key_span, "this one wins")
                .also(*previous, "this one is ignored")
                .help("delete the definition that should not apply"),
            );
        }
    }
}
