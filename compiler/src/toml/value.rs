//! One TOML value to the INI text the lowering reads, with a map back to the TOML bytes.
//!
//! The text is what an INI file would have held for the key: a string as written (a
//! template: `%(process_num)02d` and `%%` stay as they are), an integer in decimal, a
//! boolean as `true`/`false`, an array joined with `,`, an `environment` table as
//! `KEY="value",...` in the form supervisord's environment parser reads back exactly. Every
//! byte of the text maps to the TOML: a string written without escapes maps byte for byte,
//! anything else (an escape, a separator the reader added, an integer written in hex) to the
//! span of the value it stands for.

use svc_schema::{SourceId, Span};
use toml::Spanned;
use toml::de::DeValue;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ini::{Run, Value};
use crate::source::Source;
use crate::toml::keys::Kind;

/// A span of `source` from a TOML byte range.
pub(crate) fn span(source: SourceId, range: std::ops::Range<usize>) -> Span {
    Span::new(source, range.start, range.end)
}

/// The INI text of `value` for a key of `kind`; `None` (reported) if the value does not fit.
pub(crate) fn ini_value(
    source: &Source,
    key: &str,
    kind: Kind,
    value: &Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let at = span(source.id, value.span());
    let mut parts = Vec::new();
    let fits = match (kind, value.get_ref()) {
        (_, DeValue::String(_)) => scalar(source, value, &mut parts),
        (Kind::Integer | Kind::Any, DeValue::Integer(_))
        | (Kind::Boolean | Kind::Any, DeValue::Boolean(_)) => scalar(source, value, &mut parts),
        (Kind::Names | Kind::Integers, DeValue::Array(items)) => {
            let mut fits = true;
            for (index, item) in items.into_iter().enumerate() {
                let item_span = span(source.id, item.span());
                let accepted = match item.get_ref() {
                    DeValue::String(text) => {
                        if text.contains(',') {
                            diagnostics.push(
                                Diagnostic::new(
                                    &codes::TOML_UNREPRESENTABLE_VALUE,
                                    format!("an item of `{key}` contains `,`, which supervisord reads as a separator"),
                                )
                                .at(item_span, "contains `,`")
                                .help("write each name as an item of its own"),
                            );
                            fits = false;
                            continue;
                        }
                        true
                    }
                    DeValue::Integer(_) => kind == Kind::Integers,
                    _ => false,
                };
                if !accepted {
                    diagnostics.push(wrong_type(
                        &format!("an item of `{key}`"),
                        if kind == Kind::Integers {
                            "an integer (or a string)"
                        } else {
                            "a string"
                        },
                        item.get_ref(),
                        item_span,
                    ));
                    fits = false;
                    continue;
                }
                if index > 0 {
                    parts.push((
                        ",".to_string(),
                        Run::Replaced(Span {
                            end: item_span.start,
                            ..item_span
                        }),
                    ));
                }
                fits &= scalar(source, item, &mut parts);
            }
            fits
        }
        (Kind::Environment, DeValue::Table(table)) => {
            let mut fits = true;
            let mut first = true;
            for (name, item) in table.iter() {
                let name_span = span(source.id, name.span());
                let item_span = span(source.id, item.span());
                let name_text = name.get_ref().as_ref();
                if !is_environment_name(name_text) {
                    diagnostics.push(
                        Diagnostic::new(
                            &codes::TOML_UNREPRESENTABLE_VALUE,
                            format!("`{name_text}` cannot be an environment variable name for supervisord"),
                        )
                        .at(name_span, "not a name supervisord's environment parser reads")
                        .help("use letters, digits and `_` (supervisord also allows `/.+-():`)"),
                    );
                    fits = false;
                    continue;
                }
                let mut item_parts = Vec::new();
                let fits_item = match item.get_ref() {
                    DeValue::String(_) | DeValue::Integer(_) | DeValue::Boolean(_) => {
                        scalar(source, item, &mut item_parts)
                    }
                    _ => {
                        diagnostics.push(wrong_type(
                            &format!("`{key}.{name_text}`"),
                            "a string",
                            item.get_ref(),
                            item_span,
                        ));
                        false
                    }
                };
                if !fits_item {
                    fits = false;
                    continue;
                }
                let text: String = item_parts.iter().map(|(text, _)| text.as_str()).collect();
                let Some(quote) = environment_quote(&text) else {
                    diagnostics.push(
                        Diagnostic::new(
                            &codes::TOML_UNREPRESENTABLE_VALUE,
                            format!("`{key}.{name_text}` cannot be given to supervisord's environment parser"),
                        )
                        .at(item_span, "starts or ends with a quote, or holds both `\"` and `'`")
                        .help("supervisord strips quotes from both ends of a value and cannot quote a value holding both kinds; change the value"),
                    );
                    fits = false;
                    continue;
                };
                let glue = Run::Replaced(Span {
                    end: item_span.start,
                    ..item_span
                });
                if !first {
                    parts.push((
                        ",".to_string(),
                        Run::Replaced(Span {
                            end: name_span.start,
                            ..name_span
                        }),
                    ));
                }
                first = false;
                let raw_name = source.slice(name_span);
                let name_run = if raw_name == name_text {
                    Run::Copied(name_span.start as usize)
                } else {
                    Run::Replaced(name_span)
                };
                parts.push((name_text.to_string(), name_run));
                parts.push((format!("={quote}"), glue));
                parts.extend(item_parts);
                parts.push((
                    quote.to_string(),
                    Run::Replaced(Span {
                        start: item_span.end,
                        ..item_span
                    }),
                ));
            }
            fits
        }
        (_, other) => {
            diagnostics.push(wrong_type(&format!("`{key}`"), kind.expected(), other, at));
            false
        }
    };
    fits.then(|| {
        Value::from_runs(
            source.id,
            at,
            parts.iter().map(|(text, run)| (text.as_str(), *run)),
        )
    })
}

/// The runs of a string, integer or boolean. False (nothing pushed) for any other value.
fn scalar(source: &Source, value: &Spanned<DeValue<'_>>, parts: &mut Vec<(String, Run)>) -> bool {
    let at = span(source.id, value.span());
    let raw = source.slice(at);
    let text = match value.get_ref() {
        DeValue::String(text) => {
            // A one-line string without escapes is its source bytes between the quotes.
            let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
            let quoted = (raw.starts_with('"') || raw.starts_with('\''))
                && !raw.starts_with("\"\"\"")
                && !raw.starts_with("'''");
            if quoted && inner == text.as_ref() {
                parts.push((text.to_string(), Run::Copied(at.start as usize + 1)));
                return true;
            }
            text.to_string()
        }
        DeValue::Integer(integer) => {
            let digits: String = integer.as_str().chars().filter(|c| *c != '_').collect();
            match i128::from_str_radix(&digits, integer.radix()) {
                Ok(number) => number.to_string(),
                // Not reachable for a TOML integer; keep what was written.
                Err(_) => raw.to_string(),
            }
        }
        DeValue::Boolean(flag) => flag.to_string(),
        _ => return false,
    };
    let run = if raw == text {
        Run::Copied(at.start as usize)
    } else {
        Run::Replaced(at)
    };
    parts.push((text, run));
    true
}

/// The quote that makes supervisord's environment parser read `text` back exactly, if any:
/// it strips every quote from both ends of a value, and a quoted token ends at its first
/// closing quote.
pub fn environment_quote(text: &str) -> Option<char> {
    if text.starts_with(['"', '\'']) || text.ends_with(['"', '\'']) {
        return None;
    }
    match (text.contains('"'), text.contains('\'')) {
        (false, _) => Some('"'),
        (true, false) => Some('\''),
        (true, true) => None,
    }
}

/// A character supervisord's environment parser reads as part of a name (shlex's word
/// characters plus `/.+-():`).
fn is_environment_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_/.+-():".contains(c)
}

/// True if supervisord's environment parser reads `name` as one variable name.
pub fn is_environment_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_environment_name_char)
}

/// The TOML type of a value, for messages.
pub(crate) fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// `svc::toml::wrong_type` for `what` (already quoted) at `at`.
pub(crate) fn wrong_type(what: &str, expected: &str, found: &DeValue<'_>, at: Span) -> Diagnostic {
    let found = type_name(found);
    Diagnostic::new(
        &codes::TOML_WRONG_TYPE,
        format!("{what} must be {expected}, not {found}"),
    )
    .at(at, found)
    .help(format!("write {what} as {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_values_are_quoted_so_supervisord_reads_them_back() {
        assert_eq!(environment_quote("a b,c"), Some('"'));
        assert_eq!(environment_quote("say \"hi\" now"), Some('\''));
        assert_eq!(environment_quote("'x'"), None);
        assert_eq!(environment_quote("a\"b'c"), None);
        assert_eq!(environment_quote(""), Some('"'));
    }
}
