//! `svc::lint::unknown_section`
//!
//! **What**: a section whose name supervisord does not recognize.
//!
//! **Why**: supervisord ignores it silently. `[Program:web]` (section names are
//! case-sensitive), `[programs:web]` or `[program web]` define nothing, and the program
//! never runs.
//!
//! **Example**:
//! ```ini
//! [Program:web]
//! command=/usr/bin/web
//! ```
//!
//! **Fix**: use one of supervisord's section names: `[program:x]`, `[group:x]`,
//! `[eventlistener:x]`, `[fcgi-program:x]`, `[supervisord]`, ...

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

const EXACT: &[&str] = &["supervisord", "supervisorctl", "include"];
const STARTS: &[&str] = &["unix_http_server", "inet_http_server"];
const TYPED: &[&str] = &[
    "program",
    "group",
    "fcgi-program",
    "eventlistener",
    "rpcinterface",
    "ctlplugin",
];

fn is_known(name: &str) -> bool {
    EXACT.contains(&name)
        || STARTS.iter().any(|prefix| name.starts_with(prefix))
        || TYPED.iter().any(|kind| {
            name.strip_prefix(kind)
                .is_some_and(|rest| rest.starts_with(':'))
        })
}

fn suggestion(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    if lower != name && is_known(&lower) {
        return Some(format!("section names are case-sensitive: write [{lower}]"));
    }
    let (kind, rest) = match name.split_once([':', ' ']) {
        Some((kind, rest)) => (kind, Some(rest.trim())),
        None => (name, None),
    };
    let candidates = EXACT.iter().chain(STARTS).chain(TYPED).copied();
    let close = crate::suggest::closest(kind, candidates)?;
    Some(match (rest, TYPED.contains(&close)) {
        (Some(rest), true) => format!("did you mean [{close}:{rest}]?"),
        (None, true) => format!("did you mean [{close}:name]?"),
        _ => format!("did you mean [{close}]?"),
    })
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for section in context.document.sections.values() {
        if is_known(&section.name) {
            continue;
        }
        let help = suggestion(&section.name)
            .unwrap_or_else(|| "remove the section, or rename it to one supervisord reads".into());
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_UNKNOWN_SECTION,
                format!(
                    "[{}] is not a section supervisord knows; it is ignored",
                    section.name
                ),
            )
            .at(section.header(), "unknown section")
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggestion("Program:web").as_deref(),
            Some("section names are case-sensitive: write [program:web]")
        );
        assert_eq!(
            suggestion("programs:web").as_deref(),
            Some("did you mean [program:web]?")
        );
        assert_eq!(
            suggestion("program web").as_deref(),
            Some("did you mean [program:web]?")
        );
        assert_eq!(
            suggestion("supervisor").as_deref(),
            Some("did you mean [supervisord]?")
        );
        assert!(is_known("inet_http_server:two"));
        assert!(!is_known("program"));
    }
}
