//! `environment=KEY=val,KEY2="val 2"`: supervisord's `dict_of_key_value_pairs`.
//!
//! supervisord tokenizes with Python's `shlex.shlex` in its legacy (non-POSIX) mode, with
//! `/.+-():` added to the word characters, then reads tokens four at a time: key, `=`, value,
//! and one separator that is skipped *whatever it is*. Quotes stay in the token and are then
//! stripped from both ends of the value (not the key). Consequences we reproduce because
//! they are what supervisord runs, and report through the `environment_truncation` lint:
//! `A=x y` sets A to `x` (the `y` is the skipped separator), `A=aé` sets A to `a`, and
//! `#` starts a comment that runs to the end of the line.

use indexmap::IndexMap;

use super::Problem;
use crate::codes;

/// One token and where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    start: usize,
    end: usize,
}

/// The result of parsing an environment value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvironmentParse {
    /// The variables, in order (a repeated key keeps its first position, last value).
    pub pairs: IndexMap<String, String>,
    /// Byte ranges of text supervisord silently ignored: separators other than `,`, and
    /// `#` comments.
    pub dropped: Vec<(usize, usize)>,
}

const WORD_CHARS_EXTRA: &str = "/.+-():";

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || WORD_CHARS_EXTRA.contains(c)
}

fn is_shlex_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Legacy-mode `shlex.shlex` tokens of `text` (with the extra word characters).
fn tokenize(text: &str, dropped: &mut Vec<(usize, usize)>) -> Result<Vec<Token>, (usize, String)> {
    enum State {
        Space,
        Word,
        Quote(char),
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut state = State::Space;
    let mut current = String::new();
    let mut current_start = 0;
    let mut i = 0;
    // Skips a `#` comment up to and including the next newline (shlex's readline()).
    let skip_comment = |i: &mut usize, dropped: &mut Vec<(usize, usize)>| {
        let start = chars[*i].0;
        while *i < chars.len() && chars[*i].1 != '\n' {
            *i += 1;
        }
        let end = chars.get(*i).map_or(text.len(), |(at, _)| *at);
        dropped.push((start, end));
        *i += 1;
    };
    while i < chars.len() {
        let (at, c) = chars[i];
        match state {
            State::Space => {
                if is_shlex_space(c) {
                    i += 1;
                } else if c == '#' {
                    skip_comment(&mut i, dropped);
                } else if is_word_char(c) {
                    current.push(c);
                    current_start = at;
                    state = State::Word;
                    i += 1;
                } else if c == '"' || c == '\'' {
                    current.push(c);
                    current_start = at;
                    state = State::Quote(c);
                    i += 1;
                } else {
                    tokens.push(Token {
                        text: c.to_string(),
                        start: at,
                        end: at + c.len_utf8(),
                    });
                    i += 1;
                }
            }
            State::Quote(quote) => {
                current.push(c);
                i += 1;
                if c == quote {
                    tokens.push(Token {
                        text: std::mem::take(&mut current),
                        start: current_start,
                        end: at + 1,
                    });
                    state = State::Space;
                }
            }
            State::Word => {
                if is_shlex_space(c) {
                    tokens.push(Token {
                        text: std::mem::take(&mut current),
                        start: current_start,
                        end: at,
                    });
                    state = State::Space;
                    i += 1;
                } else if c == '#' {
                    // Legacy mode stays in the word after the comment: the word goes on
                    // with whatever follows the newline.
                    skip_comment(&mut i, dropped);
                } else if is_word_char(c) || c == '"' || c == '\'' {
                    current.push(c);
                    i += 1;
                } else {
                    tokens.push(Token {
                        text: std::mem::take(&mut current),
                        start: current_start,
                        end: at,
                    });
                    // The pushed-back character comes out as a token of its own.
                    tokens.push(Token {
                        text: c.to_string(),
                        start: at,
                        end: at + c.len_utf8(),
                    });
                    state = State::Space;
                    i += 1;
                }
            }
        }
    }
    match state {
        State::Quote(_) => return Err((current_start, "No closing quotation".into())),
        State::Word => tokens.push(Token {
            text: current,
            start: current_start,
            end: text.len(),
        }),
        State::Space => {}
    }
    Ok(tokens)
}

/// Parses `text` as supervisord would. On error, the byte offset of the offending token.
pub fn parse_environment(text: &str) -> Result<EnvironmentParse, (usize, Problem)> {
    let mut result = EnvironmentParse::default();
    let tokens = tokenize(text, &mut result.dropped).map_err(|(at, message)| {
        (
            at,
            Problem::new(
                &codes::VALUE_INVALID_ENVIRONMENT,
                format!("`environment` has an unterminated quote: {message}"),
                "close the quote, e.g. KEY=\"value, with comma\"",
            ),
        )
    })?;
    let mut i = 0;
    while i < tokens.len() {
        let triple = &tokens[i..tokens.len().min(i + 3)];
        if triple.len() != 3 || triple[1].text != "=" {
            let at = triple.get(1).map_or(triple[0].end, |t| t.start);
            let after = &triple[0].text;
            return Err((
                at,
                Problem::new(
                    &codes::VALUE_INVALID_ENVIRONMENT,
                    format!(
                        "`environment` is not a list of KEY=value pairs: expected `=` and a value after `{after}`"
                    ),
                    "write KEY=value pairs separated by commas; quote values that contain spaces, commas or characters other than letters, digits and _/.+-():",
                ),
            ));
        }
        let value = triple[2].text.trim_matches(['\'', '"']).to_string();
        result.pairs.insert(triple[0].text.clone(), value);
        if let Some(separator) = tokens.get(i + 3)
            && separator.text != ","
        {
            result.dropped.push((separator.start, separator.end));
        }
        i += 4;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_environment(text)
            .expect("parses")
            .pairs
            .into_iter()
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn supervisord_examples() {
        assert_eq!(pairs("A=1,B=2"), [pair("A", "1"), pair("B", "2")]);
        assert_eq!(
            pairs("PATH=\"/a:/b\",X='y z'"),
            [pair("PATH", "/a:/b"), pair("X", "y z")]
        );
        assert_eq!(pairs("A=\"1,2\""), [pair("A", "1,2")]);
        assert_eq!(pairs(""), []);
        assert_eq!(pairs("A=1,\n  B=2"), [pair("A", "1"), pair("B", "2")]);
    }

    #[test]
    fn quirks_that_drop_text() {
        let parsed = parse_environment("A=x y").expect("parses");
        assert_eq!(parsed.pairs.get("A").map(String::as_str), Some("x"));
        assert_eq!(parsed.dropped, [(4, 5)]);
        let parsed = parse_environment("A=aé").expect("parses");
        assert_eq!(parsed.pairs.get("A").map(String::as_str), Some("a"));
        assert_eq!(parsed.dropped.len(), 1);
        // The comment runs to the end of the line and the word goes on after it.
        let parsed = parse_environment("A=foo#bar\n,B=x").expect("parses");
        assert_eq!(parsed.pairs.get("A").map(String::as_str), Some("foo"));
        assert_eq!(parsed.pairs.get("B").map(String::as_str), Some("x"));
        assert!(parse_environment("A=foo#bar\nB=x").is_err());
        assert_eq!(pairs("\"A\"=1"), [pair("\"A\"", "1")]);
    }

    #[test]
    fn errors() {
        assert!(parse_environment("A=1,B").is_err());
        assert!(parse_environment("A=\"x").is_err());
        assert!(parse_environment("A=a@b").is_err());
    }
}
