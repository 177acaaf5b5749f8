//! `svc::lint::unexpanded_shell_variable`
//!
//! **What**: a `$VAR` or `${VAR}` in a value supervisord passes on literally: a command that
//! is not run through a shell, `directory`, log paths, `environment` values, `user`.
//!
//! **Why**: supervisord never expands shell variables. `command=/app/run --port $PORT`
//! passes the five characters `$PORT`; `environment=PATH=/opt/bin:$PATH` sets PATH to a
//! string containing `$PATH`. Only `%(ENV_PORT)s` is expanded (from supervisord's own
//! environment).
//!
//! **Example**:
//! ```ini
//! [program:app]
//! command=/app/run --port $PORT
//! ```
//!
//! **Fix**: write `%(ENV_PORT)s`, or run the command through a shell
//! (`command=/bin/sh -c 'exec /app/run --port "$PORT"'`).

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::{LintContext, shell};

const KEYS: &[&str] = &[
    "command",
    "directory",
    "stdout_logfile",
    "stderr_logfile",
    "environment",
    "user",
    "logfile",
    "pidfile",
    "childlogdir",
];

/// The byte range of the first `$NAME` / `${NAME}` in `text`, and NAME.
fn find_variable(text: &str) -> Option<(usize, usize, &str)> {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(offset) = text[index..].find('$') {
        let at = index + offset;
        let rest = &text[at + 1..];
        if let Some(inner) = rest.strip_prefix('{') {
            if let Some(close) = inner.find('}') {
                let name = &inner[..close];
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                {
                    return Some((at, at + 3 + close, name));
                }
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..len];
            if len > 0
                && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && (at == 0 || bytes[at - 1] != b'\\')
            {
                return Some((at, at + 1 + len, name));
            }
        }
        index = at + 1;
    }
    None
}

/// True if the command runs through a shell that will expand variables itself.
fn runs_in_shell(command: &str) -> bool {
    let Ok(argv) = shell::split(command) else {
        return false;
    };
    let Some(program) = argv.first() else {
        return false;
    };
    let base = program.rsplit('/').next().unwrap_or(program);
    let shell_name = matches!(base, "sh" | "bash" | "dash" | "zsh" | "ash" | "ksh");
    let via_env = base == "env"
        && argv
            .iter()
            .skip(1)
            .any(|a| matches!(a.rsplit('/').next(), Some("sh" | "bash")));
    (shell_name || via_env) && argv.iter().any(|a| a.starts_with('-') && a.contains('c'))
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for section in context.document.sections.values() {
        let relevant = section.name == "supervisord"
            || ["program:", "fcgi-program:", "eventlistener:"]
                .iter()
                .any(|p| section.name.starts_with(p));
        if !relevant {
            continue;
        }
        for entry in section.entries.values().filter(|e| !e.from_default) {
            if !KEYS.contains(&&*entry.key) {
                continue;
            }
            let Some((start, end, name)) = find_variable(&entry.value.text) else {
                continue;
            };
            if &*entry.key == "command" && runs_in_shell(&entry.value.text) {
                continue;
            }
            let written = &entry.value.text[start..end];
            let help = if &*entry.key == "command" {
                format!(
                    "write %(ENV_{name})s to use supervisord's environment, or run the command through `sh -c`"
                )
            } else {
                format!("write %(ENV_{name})s to use supervisord's environment")
            };
            diagnostics.push(
                Diagnostic::new(
                    &codes::LINT_UNEXPANDED_SHELL_VARIABLE,
                    format!("[{}] {}: supervisord does not expand `{written}`; it is passed on literally", section.name, entry.key),
                )
                .at(entry.value.span_of(start, end), "not expanded")
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables() {
        assert_eq!(find_variable("--port $PORT x"), Some((7, 12, "PORT")));
        assert_eq!(find_variable("${HOME}/x"), Some((0, 7, "HOME")));
        assert_eq!(find_variable("cost $5"), None);
        assert_eq!(find_variable("a\\$B"), None);
        assert!(runs_in_shell("bash -c 'echo $X'"));
        assert!(runs_in_shell("/bin/sh -ec 'x'"));
        assert!(!runs_in_shell("/app/run $X"));
        assert!(!runs_in_shell("/app/run.sh $X"));
    }
}
