//! `svc::lint::default_section`
//!
//! **What**: a `[DEFAULT]` section.
//!
//! **Why**: it is inherited from Python's configparser and undocumented by supervisord:
//! every key in it silently applies to *every* section, `[supervisord]`, servers and
//! plugins included (an `[rpcinterface:x]` even passes it to its factory).
//!
//! **Example**:
//! ```ini
//! [DEFAULT]
//! autorestart=true
//! ```
//!
//! **Fix**: set the keys in the sections that need them.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for header in &context.document.default_headers {
        let keys: Vec<&str> = context.document.defaults.keys().map(|key| &**key).collect();
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_DEFAULT_SECTION,
                format!(
                    "[DEFAULT] applies its keys ({}) to every section",
                    keys.join(", ")
                ),
            )
            .at(*header, "inherited by every section")
            .help("move the keys into the sections that need them"),
        );
    }
}
