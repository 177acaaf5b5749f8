//! `svc::lint::environment_truncation`
//!
//! **What**: text in `environment=` that supervisord's parser silently throws away.
//!
//! **Why**: supervisord reads `KEY`, `=`, value and then skips one token *whatever it is*.
//! `A=x y` sets `A=x`; `A=aé` sets `A=a`; `A=1,B=2 C` drops C. Values with spaces or
//! characters other than letters, digits and `_/.+-():` must be quoted. (When the skipped
//! token is followed by more pairs, as in `A=x y,B=2`, supervisord refuses the value
//! instead: that is `svc::value::invalid_environment`.)
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! environment=LANG=C.UTF-8,GREETING=hello world
//! ```
//!
//! **Fix**: quote the value (`GREETING="hello world"`) and separate pairs with commas.

use crate::codes;
use crate::convert::parse_environment;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    // Programs' values were parsed by lowering; `[supervisord]`'s is checked as written.
    let programs = context
        .facts
        .environment_truncations
        .iter()
        .map(|(value, text, dropped)| (value, text.as_str(), *dropped));
    let supervisord = context
        .document
        .get("supervisord", "environment")
        .and_then(|entry| {
            let parsed = parse_environment(&entry.value.text).ok()?;
            let dropped = *parsed.dropped.first()?;
            Some((&entry.value, entry.value.text.as_str(), dropped))
        });
    for (value, text, (start, end)) in programs.chain(supervisord) {
        if !seen.insert(value.span()) {
            continue;
        }
        let dropped = &text[start..end];
        let (span, label) = if value.text == text {
            (value.span_of(start, end), "supervisord ignores this")
        } else {
            (value.span(), "part of this is ignored")
        };
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_ENVIRONMENT_TRUNCATION,
                format!("supervisord silently drops `{dropped}` from this environment value"),
            )
            .at(span, label)
            .help("quote values that contain spaces or other characters (KEY=\"a value\") and separate pairs with commas"),
        );
    }
}
