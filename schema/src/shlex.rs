//! Python's `shlex.split(command)` (POSIX mode, no comments): how supervisord turns
//! `command=` into argv at spawn time. Unlike the `shlex` crate, a word-initial `#` is an
//! ordinary character here, as in Python.

/// Why a command cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote is never closed.
    NoClosingQuotation,
    /// A backslash ends the command.
    NoEscapedCharacter,
}

impl SplitError {
    /// Python's message.
    pub fn message(&self) -> &'static str {
        match self {
            SplitError::NoClosingQuotation => "No closing quotation",
            SplitError::NoEscapedCharacter => "No escaped character",
        }
    }
}

/// Splits like `shlex.split`.
pub fn split(command: &str) -> Result<Vec<String>, SplitError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape(EscapedFrom),
    }
    #[derive(Clone, Copy, PartialEq)]
    enum EscapedFrom {
        Word,
        DoubleQuote,
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    for c in command.chars() {
        state = match state {
            State::Space | State::Word if is_space(c) => {
                if state == State::Word || quoted {
                    words.push(std::mem::take(&mut word));
                    quoted = false;
                }
                State::Space
            }
            State::Space | State::Word => match c {
                '\\' => State::Escape(EscapedFrom::Word),
                '\'' | '"' => {
                    quoted = true;
                    State::Quote(c)
                }
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Quote(quote) if c == quote => State::Word,
            State::Quote('"') if c == '\\' => State::Escape(EscapedFrom::DoubleQuote),
            State::Quote(quote) => {
                word.push(c);
                State::Quote(quote)
            }
            State::Escape(from) => {
                if from == EscapedFrom::DoubleQuote && c != '\\' && c != '"' {
                    word.push('\\');
                }
                word.push(c);
                match from {
                    EscapedFrom::Word => State::Word,
                    EscapedFrom::DoubleQuote => State::Quote('"'),
                }
            }
        };
    }
    match state {
        State::Quote(_) => Err(SplitError::NoClosingQuotation),
        State::Escape(_) => Err(SplitError::NoEscapedCharacter),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Space => {
            if quoted {
                words.push(word);
            }
            Ok(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &str) -> Vec<String> {
        split(command).expect("splits")
    }

    #[test]
    fn like_python_shlex_split() {
        assert_eq!(words("a 'b c' \"d e\""), ["a", "b c", "d e"]);
        assert_eq!(words("a\\ b"), ["a b"]);
        assert_eq!(words("\"a\\\"b\""), ["a\"b"]);
        assert_eq!(words("\"a\\nb\""), ["a\\nb"]);
        assert_eq!(words("'a\\nb'"), ["a\\nb"]);
        assert_eq!(words("x #y"), ["x", "#y"]);
        assert_eq!(words("a;b"), ["a;b"]);
        assert_eq!(words("''"), [""]);
        assert_eq!(words("a\n  b"), ["a", "b"]);
        assert_eq!(words("   "), Vec::<String>::new());
        assert_eq!(split("bash -c 'a"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("a\\"), Err(SplitError::NoEscapedCharacter));
    }
}
