//! Python's `repr()` and `ascii()` of a string: supervisord and supervisorctl show values
//! this way in their messages (`XML-RPC request data 'x' is invalid`, `<Fault 10: 'BAD_NAME:
//! x'>`), and `%(name)r` expands to it.

/// `repr(text)`: single quotes unless the text has a `'` and no `"`; backslash escapes for
/// the quote, `\\`, `\n`, `\r`, `\t` and the other control characters (C0, DEL, C1).
pub fn repr(text: &str) -> String {
    quoted(text, false)
}

/// `ascii(text)`: `repr`, with every non-ASCII character escaped as `\xNN`, `\uNNNN` or
/// `\UNNNNNNNN`.
pub fn ascii(text: &str) -> String {
    quoted(text, true)
}

fn quoted(text: &str, ascii_only: bool) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        let code = c as u32;
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if code < 0x20 || (0x7f..0xa0).contains(&code) || (ascii_only && code > 0x7f) => {
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(data)` of `bytes`: `b'...'` (double quotes when the data has a `'` and no `"`),
/// with `\\`, `\n`, `\r`, `\t`, the quote and every byte outside 0x20-0x7e escaped.
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &byte in data {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ if byte == quote => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_python() {
        assert_eq!(repr("abc"), "'abc'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("'\""), "'\\'\"'");
        assert_eq!(repr("a\nb\\"), "'a\\nb\\\\'");
        assert_eq!(repr("\u{1}\u{85}é"), "'\\x01\\x85é'");
        assert_eq!(ascii("é€😀"), "'\\xe9\\u20ac\\U0001f600'");
    }

    #[test]
    fn bytes_like_python() {
        assert_eq!(bytes_repr(b"READY\n"), "b'READY\\n'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"'\""), "b'\\'\"'");
        assert_eq!(bytes_repr(b"\xff\x00\\"), "b'\\xff\\x00\\\\'");
    }
}
