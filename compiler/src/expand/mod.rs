//! `%(name)s` expansion: supervisord runs every value it reads through Python's
//! `value % expansions`. This module reproduces that operator ([`pyformat`]) and decides, per
//! key, which names exist ([`Names`]), so that every error lands on the exact `%(...)` span.
//!
//! Errors are split by cause: a name nobody defines (`unknown_name`), a supervisord name not
//! available for this key (`name_not_available`, e.g. `process_num` in `priority`), an
//! environment variable that is not set (`svc::host::unset_env_var`, a host check), and a
//! malformed format (`bad_format`).

mod names;
mod pyformat;

pub use names::{NameValue, Names, SUPERVISOR_NAMES};
pub use pyformat::{FormatError, FormatErrorKind, Formatted, Reference, format};

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::ini::Value;
use crate::suggest::closest;

/// How unset `ENV_*` names are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvPolicy {
    /// An error, as supervisord makes it.
    Strict,
    /// `--no-host-checks`: a warning, and the name expands to an empty string.
    Lenient,
}

/// `section.key`, as supervisord names a key in its messages; formatted only when a
/// message needs it.
#[derive(Debug, Clone, Copy)]
pub struct KeyName<'a> {
    /// The section (`program:web`).
    pub section: &'a str,
    /// The key (`command`).
    pub key: &'a str,
}

impl std::fmt::Display for KeyName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.section, self.key)
    }
}

/// Expands `value` with `names`. Returns the text when supervisord would accept it, and
/// every diagnostic found (warnings only when the text is returned).
/// `key` names the key in messages (`section.key`, as supervisord does).
pub fn expand(
    value: &Value,
    names: &Names,
    key: &dyn std::fmt::Display,
    policy: EnvPolicy,
) -> (Option<String>, Vec<Diagnostic>) {
    // Most values have no `%` at all: nothing to format.
    if !value.text.contains('%') {
        return (Some(value.text.clone()), Vec::new());
    }
    let lenient = |name: &str| policy == EnvPolicy::Lenient && name.starts_with("ENV_");
    let lookup = |name: &str| -> Option<NameValue> {
        names
            .get(name)
            .or_else(|| lenient(name).then(|| NameValue::Str("".into())))
    };
    match format(&value.text, lookup) {
        Ok(formatted) => {
            let warnings = formatted
                .references
                .iter()
                .filter_map(|reference| {
                    let var = reference.name.strip_prefix("ENV_")?;
                    if names.get(reference.name).is_some() {
                        return None;
                    }
                    Some(
                        unset_env(value, reference.start, reference.end, var, key)
                            .severity(Severity::Warning),
                    )
                })
                .collect();
            (Some(formatted.text), warnings)
        }
        Err(errors) => (
            None,
            errors
                .iter()
                .map(|error| describe(value, names, key, error))
                .collect(),
        ),
    }
}

fn unset_env(
    value: &Value,
    start: usize,
    end: usize,
    var: &str,
    key: &dyn std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        &codes::HOST_UNSET_ENV_VAR,
        format!("environment variable `{var}` is not set, so `{key}` cannot be expanded"),
    )
    .at(value.span_of(start, end), format!("needs ${var}"))
    .help(format!(
        "set {var} in the environment that starts supervisord (or in [supervisord] environment=), or use --no-host-checks when this machine is not the production host"
    ))
}

fn describe(
    value: &Value,
    names: &Names,
    key: &dyn std::fmt::Display,
    error: &FormatError,
) -> Diagnostic {
    let span = value.span_of(error.start, error.end);
    match &error.kind {
        FormatErrorKind::UnknownName(name) => {
            if let Some(var) = name.strip_prefix("ENV_") {
                return unset_env(value, error.start, error.end, var, key);
            }
            let available = names.available_list();
            if names.is_supervisor_name(name) {
                return Diagnostic::new(
                    &codes::EXPAND_NAME_NOT_AVAILABLE,
                    format!("`%({name})` cannot be used in `{key}`"),
                )
                .at(span, format!("`{name}` is not available here"))
                .help(format!(
                    "`{name}` is not defined for `{key}`; available here: {available}"
                ));
            }
            let mut diagnostic = Diagnostic::new(
                &codes::EXPAND_UNKNOWN_NAME,
                format!("`%({name})` is not a name supervisord can expand"),
            )
            .at(span, "unknown name");
            let candidates = names.all_names();
            let help = match closest(name, candidates.iter().map(String::as_str)) {
                Some(suggestion) => format!("did you mean `%({suggestion})s`? available here: {available}"),
                None => format!("available here: {available}; write `%%` for a literal `%`"),
            };
            diagnostic = diagnostic.help(help);
            diagnostic
        }
        FormatErrorKind::MissingName => Diagnostic::new(
            &codes::EXPAND_MISSING_NAME,
            format!("`{}` in `{key}` has no (name)", error.text(&value.text)),
        )
        .at(span, "no name")
        .help("supervisord would format its whole expansion table here; write `%%` for a literal `%`, or `%(name)s` to expand a name"),
        other => Diagnostic::new(
            &codes::EXPAND_BAD_FORMAT,
            format!("`{key}` is badly formatted: {}", other.describe()),
        )
        .at(span, other.label())
        .help("every literal `%` must be doubled (`%%`); expansions look like `%(name)s` or `%(process_num)02d`"),
    }
}
