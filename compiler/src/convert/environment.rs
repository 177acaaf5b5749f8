//! `environment=KEY=val,KEY2="val 2"`: supervisord's `dict_of_key_value_pairs`.
//!
//! supervisord tokenizes with Python's `shlex.shlex` in its legacy (non-POSIX) mode, with
//! `/.+-():` added to the word characters, then reads tokens four at a time: key, `=`, value,
//! and one separator that is skipped *whatever it is*. Quotes stay in the token and are then
//! stripped from both ends of the value (not the key). Consequences we reproduce because
//! they are what supervisord runs, and report through the `environment_truncation` lint:
//! `A=x y` sets A to `x` (the `y` is the skipped separator), `A=aé` sets A to `a`, and
//! `#` starts a comment that runs to the end of the line.

use std::borrow::Cow;

use indexmap::IndexMap;

use super::Problem;
use crate::codes;

/// One token and where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token<'t> {
    /// The token: a slice of the text, unless a comment inside a word split it.
    text: Cow<'t, str>,
    start: usize,
    end: usize,
}

impl<'t> Token<'t> {
    fn slice(text: &'t str, start: usize, end: usize) -> Token<'t> {
        Token {
            text: Cow::Borrowed(&text[start..end]),
            start,
            end,
        }
    }
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
fn tokenize<'t>(
    text: &'t str,
    dropped: &mut Vec<(usize, usize)>,
) -> Result<Vec<Token<'t>>, (usize, String)> {
    enum State {
        Space,
        Word,
        Quote(char),
    }
    let mut chars = text.char_indices();
    let mut tokens = Vec::new();
    let mut state = State::Space;
    // The current token starts at `current_start`; its text is `text[segment_start..]`,
    // after `split_word` when a comment inside the word cut it in two.
    let mut current_start = 0;
    let mut segment_start = 0;
    let mut split_word: Option<String> = None;
    // Skips a `#` comment up to and including the next newline (shlex's readline());
    // returns where the text after it starts.
    let mut skip_comment = |start: usize, chars: &mut std::str::CharIndices<'_>| {
        let mut end = text.len();
        for (at, c) in chars.by_ref() {
            if c == '\n' {
                end = at;
                break;
            }
        }
        dropped.push((start, end));
        (end + 1).min(text.len())
    };
    while let Some((at, c)) = chars.next() {
        match state {
            State::Space => match c {
                c if is_shlex_space(c) => {}
                '#' => {
                    skip_comment(at, &mut chars);
                }
                c if is_word_char(c) => {
                    current_start = at;
                    segment_start = at;
                    state = State::Word;
                }
                '"' | '\'' => {
                    current_start = at;
                    state = State::Quote(c);
                }
                _ => tokens.push(Token::slice(text, at, at + c.len_utf8())),
            },
            State::Quote(quote) => {
                if c == quote {
                    tokens.push(Token::slice(text, current_start, at + 1));
                    state = State::Space;
                }
            }
            State::Word => match c {
                c if is_shlex_space(c) => {
                    tokens.push(word(
                        text,
                        current_start,
                        segment_start,
                        at,
                        &mut split_word,
                    ));
                    state = State::Space;
                }
                '#' => {
                    // Legacy mode stays in the word after the comment: the word goes on
                    // with whatever follows the newline.
                    split_word
                        .get_or_insert_with(String::new)
                        .push_str(&text[segment_start..at]);
                    segment_start = skip_comment(at, &mut chars);
                }
                c if is_word_char(c) || c == '"' || c == '\'' => {}
                _ => {
                    tokens.push(word(
                        text,
                        current_start,
                        segment_start,
                        at,
                        &mut split_word,
                    ));
                    // The pushed-back character comes out as a token of its own.
                    tokens.push(Token::slice(text, at, at + c.len_utf8()));
                    state = State::Space;
                }
            },
        }
    }
    match state {
        State::Quote(_) => return Err((current_start, "No closing quotation".into())),
        State::Word => tokens.push(word(
            text,
            current_start,
            segment_start,
            text.len(),
            &mut split_word,
        )),
        State::Space => {}
    }
    Ok(tokens)
}

/// The word token `start..end` whose last segment starts at `segment_start`.
fn word<'t>(
    text: &'t str,
    start: usize,
    segment_start: usize,
    end: usize,
    split_word: &mut Option<String>,
) -> Token<'t> {
    let last = &text[segment_start.min(end)..end];
    let text = match split_word.take() {
        Some(mut before) => {
            before.push_str(last);
            Cow::Owned(before)
        }
        None => Cow::Borrowed(last),
    };
    Token { text, start, end }
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
        result.pairs.insert(triple[0].text.to_string(), value);
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
