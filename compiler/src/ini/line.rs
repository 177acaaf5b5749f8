//! One physical line as configparser sees it.
//!
//! Python's rules, reproduced literally:
//! - a full-line comment is a line whose stripped text starts with `;` or `#`;
//! - an inline comment starts at a `;` or `#` that is at column 0 or follows whitespace. The
//!   search advances all prefixes in lock-step and stops at the first round that finds a
//!   qualifying one, so in `a#b #c ;d` the `;` wins and `#c` stays in the value (a quirk we
//!   keep: it is what supervisord reads);
//! - whitespace is Python's `str.isspace()`, which includes `\x1c`..`\x1f`.

/// Python's `str.isspace()` for one character.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`: the byte range of `text` without leading/trailing whitespace.
pub fn py_strip(text: &str) -> (usize, usize) {
    let start = text.len() - text.trim_start_matches(is_py_space).len();
    let end = text.trim_end_matches(is_py_space).len();
    if end < start {
        (start, start)
    } else {
        (start, end)
    }
}

/// The parts of a line configparser looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Byte offset of the comment's first character (`;`/`#`) within the line, if any.
    pub comment_start: Option<usize>,
    /// True if the whole line is a comment.
    pub full_line_comment: bool,
    /// Byte range (within the line) of the stripped text before the comment.
    pub content: (usize, usize),
    /// Number of characters before the first non-whitespace character.
    pub indent: usize,
}

impl Line {
    /// Scans one line (without its terminator).
    pub fn scan(line: &str) -> Line {
        let mut comment_start = inline_comment_start(line);
        let (strip_start, strip_end) = py_strip(line);
        let stripped = &line[strip_start..strip_end];
        let full_line_comment = stripped.starts_with(';') || stripped.starts_with('#');
        if full_line_comment {
            comment_start = Some(0);
        }
        let before_comment = &line[..comment_start.unwrap_or(line.len())];
        let content = py_strip(before_comment);
        let indent = line.chars().take_while(|c| is_py_space(*c)).count();
        Line {
            comment_start,
            full_line_comment,
            content,
            indent,
        }
    }
}

/// configparser's inline-comment search (see the module doc for the lock-step quirk).
fn inline_comment_start(line: &str) -> Option<usize> {
    // Two single-character searches (memchr) cost less than one for either character.
    if !line.contains(';') && !line.contains('#') {
        return None;
    }
    // Per prefix: `Some(position of its last occurrence)`, `None` once it has none left;
    // before the first round the search starts at 0.
    let prefixes = [';', '#'];
    let mut last: [Option<usize>; 2] = [None, None];
    let mut active = [true, true];
    let mut found: Option<usize> = None;
    while found.is_none() && active.iter().any(|a| *a) {
        for (slot, prefix) in prefixes.iter().enumerate() {
            if !active[slot] {
                continue;
            }
            let from = last[slot].map_or(0, |index| index + prefix.len_utf8());
            let Some(relative) = line.get(from..).and_then(|rest| rest.find(*prefix)) else {
                active[slot] = false;
                continue;
            };
            let index = from + relative;
            last[slot] = Some(index);
            let after_space = line[..index].chars().next_back().is_some_and(is_py_space);
            if index == 0 || after_space {
                found = Some(found.map_or(index, |f: usize| f.min(index)));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(line: &str) -> &str {
        let scanned = Line::scan(line);
        &line[scanned.content.0..scanned.content.1]
    }

    #[test]
    fn inline_comments_need_whitespace_before() {
        assert_eq!(content("command=/bin/cat ; comment"), "command=/bin/cat");
        assert_eq!(content("command=/bin/cat #c"), "command=/bin/cat");
        assert_eq!(
            content("command=/bin/cat;notcomment"),
            "command=/bin/cat;notcomment"
        );
        assert_eq!(content("command=/bin/cat#nc"), "command=/bin/cat#nc");
        assert_eq!(content("url=http://x/#frag"), "url=http://x/#frag");
        assert_eq!(content("a=1\t;tab"), "a=1");
    }

    #[test]
    fn quotes_do_not_protect() {
        assert_eq!(
            content("command=bash -c 'foo ; bar'"),
            "command=bash -c 'foo"
        );
    }

    #[test]
    fn lock_step_quirk_keeps_a_later_hash() {
        // Round one finds `#` at 3 (not after space) and `;` at 10 (after space): `;` wins.
        assert_eq!(content("x=a#b #c ;d"), "x=a#b #c");
    }

    #[test]
    fn full_line_comments() {
        assert!(Line::scan("   ; hello").full_line_comment);
        assert!(Line::scan("#x").full_line_comment);
        assert!(!Line::scan("x=#y").full_line_comment);
    }

    #[test]
    fn indent_counts_characters() {
        assert_eq!(Line::scan("\t  x").indent, 3);
        assert_eq!(Line::scan("x").indent, 0);
    }

    #[test]
    fn python_whitespace_includes_separators() {
        assert!(is_py_space('\u{1f}'));
        assert!(is_py_space('\u{a0}'));
        assert!(!is_py_space('\u{feff}'));
    }
}
