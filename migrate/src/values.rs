//! One INI value (its raw text, a template) to the TOML value a person would write for the
//! key, with the same meaning.
//!
//! A value becomes its natural TOML type only when the TOML reader gives the lowering text
//! with the same meaning back: `startsecs=10` is `10` but `numprocs=%(ENV_N)s` stays a
//! string, `autostart=yes` stays `"yes"`; lists are split on `,` the way supervisord
//! splits them; `environment=` becomes a table with the variables supervisord's own parser
//! reads from it (the text it silently drops is named in a note), or stays a string when
//! it holds `%` (its expansion happens before parsing, so its meaning depends on values
//! only known at run time).

use svc_compiler::convert::parse_environment;
use svc_compiler::toml::keys::Kind;

use crate::write;

/// A TOML value and the notes to write above its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The TOML text of the value.
    pub value: String,
    /// A long table written as one dotted key per entry (`environment.PORT = "80"`), which
    /// reads better than a long inline table: `(subkey, value)` pairs, `value` unused.
    pub dotted: Option<Vec<(String, String)>>,
    /// Why the value is not what the INI seemed to say, if it is not.
    pub notes: Vec<String>,
}

impl Written {
    fn plain(value: String) -> Written {
        Written {
            value,
            dotted: None,
            notes: Vec::new(),
        }
    }
}

/// An inline table longer than this is written as dotted keys.
const INLINE_TABLE_WIDTH: usize = 60;

/// The TOML value of a key of `kind` whose INI text is `raw`.
pub fn value(kind: Kind, raw: &str) -> Written {
    match kind {
        Kind::Text | Kind::Any => Written::plain(write::string(raw)),
        Kind::Integer => Written::plain(if is_plain_integer(raw) {
            raw.to_string()
        } else {
            write::string(raw)
        }),
        Kind::Boolean => Written::plain(match raw {
            "true" | "false" => raw.to_string(),
            _ => write::string(raw),
        }),
        Kind::Names => Written::plain(if raw.is_empty() {
            "[]".to_string()
        } else {
            let items: Vec<String> = raw
                .split(',')
                .map(|item| write::string(item.trim_matches(svc_compiler::ini::is_py_space)))
                .collect();
            format!("[{}]", items.join(", "))
        }),
        Kind::Integers => Written::plain(if raw.is_empty() {
            "[]".to_string()
        } else {
            let items: Vec<&str> = raw
                .split(',')
                .map(|item| item.trim_matches(svc_compiler::ini::is_py_space))
                .collect();
            if items.iter().all(|item| is_plain_integer(item)) {
                format!("[{}]", items.join(", "))
            } else {
                write::string(raw)
            }
        }),
        Kind::Environment => environment(raw),
    }
}

/// `environment=` as a table when supervisord's parser reads the same variables back from
/// the TOML reader's text, else as a string.
fn environment(raw: &str) -> Written {
    let as_text = || Written::plain(write::string(raw));
    if raw.contains('%') {
        return as_text();
    }
    let Ok(parsed) = parse_environment(raw) else {
        return as_text();
    };
    // What the TOML reader can give supervisord's parser back (the same rule it applies).
    let representable = parsed.pairs.iter().all(|(name, value)| {
        svc_compiler::toml::is_environment_name(name)
            && svc_compiler::toml::environment_quote(value).is_some()
    });
    if !representable {
        return as_text();
    }
    let pairs: Vec<(String, String)> = parsed
        .pairs
        .iter()
        .map(|(name, value)| (write::key(name), write::string(value)))
        .collect();
    let items: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    let value = if items.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", items.join(", "))
    };
    let dotted = (value.len() > INLINE_TABLE_WIDTH || pairs.len() > 3).then_some(pairs);
    let mut notes = Vec::new();
    if !parsed.dropped.is_empty() {
        let dropped: Vec<String> = parsed
            .dropped
            .iter()
            .filter_map(|&(start, end)| raw.get(start..end))
            .map(|text| format!("`{}`", text.replace('\n', "\\n")))
            .collect();
        notes.push(format!(
            "supervisord's environment parser silently drops {} of the INI value `{}`; these are the variables it reads",
            dropped.join(", "),
            raw.replace('\n', "\\n")
        ));
    }
    Written {
        value,
        dotted,
        notes,
    }
}

/// A decimal integer TOML and Python read alike (no leading zeros, no `_`, fits 64 bits).
fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text.parse::<i64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_their_natural_type_only_when_it_means_the_same() {
        assert_eq!(value(Kind::Integer, "10").value, "10");
        assert_eq!(value(Kind::Integer, "010").value, "\"010\"");
        assert_eq!(value(Kind::Integer, "50MB").value, "\"50MB\"");
        assert_eq!(value(Kind::Boolean, "true").value, "true");
        assert_eq!(value(Kind::Boolean, "yes").value, "\"yes\"");
        assert_eq!(value(Kind::Names, "a, b").value, "[\"a\", \"b\"]");
        assert_eq!(value(Kind::Integers, "0,2").value, "[0, 2]");
        assert_eq!(value(Kind::Integers, "0,x").value, "\"0,x\"");
    }

    #[test]
    fn environment_becomes_a_table_of_what_supervisord_reads() {
        assert_eq!(
            value(Kind::Environment, "A=1,B=\"x y\"").value,
            "{ A = \"1\", B = \"x y\" }"
        );
        let truncated = value(Kind::Environment, "A=x y");
        assert_eq!(truncated.value, "{ A = \"x\" }");
        assert_eq!(truncated.notes.len(), 1, "{truncated:?}");
        let long = value(Kind::Environment, "A=1,B=2,C=3,D=4");
        assert_eq!(
            long.dotted,
            Some(
                [
                    ("A", "\"1\""),
                    ("B", "\"2\""),
                    ("C", "\"3\""),
                    ("D", "\"4\"")
                ]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .to_vec()
            )
        );
        assert_eq!(
            value(Kind::Environment, "A=%(ENV_HOME)s").value,
            "\"A=%(ENV_HOME)s\""
        );
    }
}
