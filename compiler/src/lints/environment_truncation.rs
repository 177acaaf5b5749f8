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
    let supervisord = context
        .document
        .get("supervisord", "environment")
        .map(|entry| (entry.value.clone(), entry.value.text.clone()));
    for (value, text) in context
        .facts
        .environments
        .iter()
        .cloned()
        .chain(supervisord)
    {
        let Ok(parsed) = parse_environment(&text) else {
            continue;
        };
        let Some((start, end)) = parsed.dropped.first().copied() else {
            continue;
        };
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
