//! `svc::lint::inline_comment_truncation`
//!
//! **What**: a `;` or `#` preceded by whitespace starts a comment in supervisord's INI
//! parser *even inside quotes*, so the value is cut there.
//!
//! **Why**: `command=bash -c 'a ; b'` runs `bash -c 'a` (which then fails with an
//! unterminated quote), and `environment=MSG="x ; y"` loses half the value. supervisord says
//! nothing. We fire when the text before the comment has an unbalanced quote, which is what
//! a cut inside quotes leaves behind.
//!
//! **Example**:
//! ```ini
//! [program:job]
//! command=bash -c 'sleep 1 ; echo done'
//! ```
//!
//! **Fix**: remove the space before `;`/`#` (`a; b`), or move the work into a script.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

/// True if `text` ends inside a single- or double-quoted string (shell rules, roughly).
fn has_open_quote(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match (quote, c) {
            (_, _) if escaped => escaped = false,
            (Some('"') | None, '\\') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
    }
    quote.is_some()
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for (section, entries) in context.document.all_entries() {
        for entry in entries.values().filter(|e| !e.from_default) {
            let Some(comment) = entry.stripped_comments.first() else {
                continue;
            };
            if !has_open_quote(&entry.value.text) {
                continue;
            }
            let comment_text = context
                .sources
                .get(comment.source)
                .map(|source| source.slice(*comment).to_string())
                .unwrap_or_default();
            diagnostics.push(
                Diagnostic::new(
                    &codes::LINT_INLINE_COMMENT_TRUNCATION,
                    format!("[{section}] {} is cut short by an inline comment inside quotes", entry.key),
                )
                .at(*comment, "supervisord drops everything from here")
                .also(entry.value.span(), format!("supervisord uses only `{}`", entry.value.text))
                .help(format!(
                    "a `{}` after whitespace starts a comment even inside quotes: remove the space before it (or, for a command, move the work into a script)",
                    comment_text.chars().next().unwrap_or(';')
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_open_quote;

    #[test]
    fn open_quotes() {
        assert!(has_open_quote("bash -c 'a"));
        assert!(has_open_quote("X=\"a"));
        assert!(!has_open_quote("bash -c 'a'"));
        assert!(!has_open_quote("it\\'s"));
        assert!(!has_open_quote("/bin/cat"));
    }
}
