//! TOML lexical output: keys, strings, integers and comments written so that a TOML parser
//! reads back exactly the text given.
//!
//! Strings pick the form a person reads best: a basic string `"..."` by default, a literal
//! string `'...'` when the text has `\` or `"` (commands with regular expressions, quoted
//! arguments), a multi-line literal string when the INI value spanned several lines.

/// A key, bare when TOML allows (`command`), quoted otherwise
/// (`"supervisor.rpcinterface_factory"`).
pub fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { basic(name) }
}

/// A string value that reads back as `text`.
pub fn string(text: &str) -> String {
    let plain = |c: char| !c.is_control() || c == '\t';
    if text.contains('\n')
        && !text.contains("'''")
        && !text.ends_with('\'')
        && text.chars().all(|c| c == '\n' || plain(c))
    {
        return format!("'''\n{text}'''");
    }
    if (text.contains('\\') || text.contains('"'))
        && !text.contains('\'')
        && text.chars().all(plain)
    {
        return format!("'{text}'");
    }
    basic(text)
}

/// A basic string with every character TOML requires escaped.
fn basic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The comment lines for `text` (one `# ` line per line of text).
pub fn comment_lines(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {line}\n")
            }
        })
        .collect()
}

/// An INI comment (`; note`, `# note`) as a TOML comment (`# note`); an empty one (a
/// paragraph break between comments) stays empty.
pub fn comment(ini: &str) -> String {
    let trimmed = ini.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let body = trimmed
        .strip_prefix(';')
        .or_else(|| trimmed.strip_prefix('#'))
        .unwrap_or(trimmed);
    let body: String = body
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    format!("#{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(value: &str) -> String {
        let document = format!("k = {value}\n");
        let table: toml::Table = match toml::from_str(&document) {
            Ok(table) => table,
            Err(error) => panic!("{document}: {error}"),
        };
        table
            .get("k")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn strings_read_back_exactly() {
        for text in [
            "",
            "/usr/bin/web --port 80",
            "bash -c 'a ; b'",
            r#"grep "x\d" file"#,
            "it's \"both\" \\ here",
            "line one\nline two",
            "ends with quote'\nnext",
            "tab\there",
            "bell\u{7}",
            "%(program_name)s_%(process_num)02d %%",
            "del\u{7f}",
        ] {
            assert_eq!(read_back(&string(text)), text, "{}", string(text));
        }
    }

    #[test]
    fn keys_are_bare_when_they_can_be() {
        assert_eq!(key("command"), "command");
        assert_eq!(
            key("supervisor.rpcinterface_factory"),
            "\"supervisor.rpcinterface_factory\""
        );
        assert_eq!(key("my app"), "\"my app\"");
    }

    #[test]
    fn ini_comments_become_toml_comments() {
        assert_eq!(comment("; note"), "# note");
        assert_eq!(comment("#note"), "#note");
        assert_eq!(comment(";; two"), "#; two");
    }
}
