//! Numbers: Python `int()`, `int(x, 8)`, byte sizes, signals and exit codes.

use super::Problem;
use crate::codes;

/// Python's `int(text, base)` for bases 8 and 10: surrounding whitespace, a sign, an
/// optional `0o` prefix in base 8, digits with single `_` between them. Values that do not
/// fit an i64 are refused (Python would take them; no setting can use them).
pub fn python_int(text: &str, base: u32) -> Option<i64> {
    let trimmed = text.trim_matches(crate::ini::is_py_space);
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let digits = if base == 8 {
        digits
            .strip_prefix("0o")
            .or_else(|| digits.strip_prefix("0O"))
            .map(|rest| rest.strip_prefix('_').unwrap_or(rest))
            .unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let digit = c.to_digit(base)?;
        value = value
            .checked_mul(i64::from(base))?
            .checked_add(i64::from(digit))?;
    }
    Some(if negative { -value } else { value })
}

/// `integer`: a base-10 Python int.
pub fn integer(text: &str) -> Result<i64, Problem> {
    python_int(text, 10).ok_or_else(|| {
        Problem::new(
            &codes::VALUE_INVALID_INTEGER,
            format!("`{text}` is not an integer"),
            "write a whole number such as 10",
        )
    })
}

/// `octal_type`: `int(text, 8)`, non-negative.
pub fn octal(text: &str) -> Result<u32, Problem> {
    python_int(text, 8)
        .and_then(|value| u32::try_from(value).ok())
        .ok_or_else(|| {
            Problem::new(
                &codes::VALUE_INVALID_OCTAL,
                format!("`{text}` is not an octal number"),
                "write octal digits 0-7, such as 022 or 0700",
            )
        })
}

/// `byte_size`: an integer with an optional case-insensitive `KB`/`MB`/`GB` suffix
/// (1024-based). No `B` alone, no decimals.
pub fn byte_size(text: &str) -> Result<i64, Problem> {
    let lower = text.to_lowercase();
    let (number, multiplier) = if let Some(number) = lower.strip_suffix("kb") {
        (number, 1024)
    } else if let Some(number) = lower.strip_suffix("mb") {
        (number, 1024 * 1024)
    } else if let Some(number) = lower.strip_suffix("gb") {
        (number, 1024 * 1024 * 1024)
    } else {
        (lower.as_str(), 1)
    };
    python_int(number, 10)
        .and_then(|value| value.checked_mul(multiplier))
        .ok_or_else(|| {
            Problem::new(
                &codes::VALUE_INVALID_BYTE_SIZE,
                format!("`{text}` is not a byte size"),
                "write a whole number of bytes, optionally with KB, MB or GB (such as 50MB)",
            )
        })
}

/// Signal names and numbers Python's `signal` module knows on Linux (`SIG*` attributes),
/// as `(name without SIG, number)`. Includes Python's `SIG_DFL`/`SIG_IGN`/`SIG_BLOCK`/...
/// entries, which supervisord accepts by accident.
const SIGNALS: &[(&str, i32)] = &[
    ("_BLOCK", 0),
    ("_DFL", 0),
    ("HUP", 1),
    ("_IGN", 1),
    ("_UNBLOCK", 1),
    ("INT", 2),
    ("_SETMASK", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// `signal_number`: a number Python's signal module defines, or a name with or without
/// `SIG`, case-insensitive.
pub fn signal_number(text: &str) -> Result<i32, Problem> {
    let valid = |number: i64| SIGNALS.iter().any(|(_, n)| i64::from(*n) == number);
    if let Some(number) = python_int(text, 10) {
        return if valid(number) {
            Ok(number as i32)
        } else {
            Err(Problem::new(
                &codes::VALUE_INVALID_SIGNAL,
                format!("`{text}` is not a valid signal number"),
                "use a signal name such as TERM, INT, QUIT, HUP, KILL, USR1 or USR2",
            ))
        };
    }
    let upper = text.trim_matches(crate::ini::is_py_space).to_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS
        .iter()
        .find(|(name, _)| *name == bare)
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            let names = SIGNALS
                .iter()
                .filter(|(n, _)| !n.starts_with('_'))
                .map(|(n, _)| *n);
            let help = match crate::suggest::closest(bare, names) {
                Some(close) => format!("did you mean {close}?"),
                None => "use a signal name such as TERM, INT, QUIT, HUP, KILL, USR1 or USR2".into(),
            };
            Problem::new(
                &codes::VALUE_INVALID_SIGNAL,
                format!("`{text}` is not a valid signal name"),
                help,
            )
        })
}

/// The conventional name of a signal number (`TERM` for 15), if it has one.
pub fn signal_name(number: i32) -> Option<&'static str> {
    SIGNALS
        .iter()
        .find(|(name, n)| {
            *n == number && !name.starts_with('_') && !matches!(*name, "IOT" | "CLD" | "POLL")
        })
        .map(|(name, _)| *name)
}

/// `list_of_exitcodes`: comma-separated ints 0-255; empty means none.
pub fn exitcodes(text: &str) -> Result<Vec<u8>, Problem> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| python_int(part, 10).and_then(|code| u8::try_from(code).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| {
            Problem::new(
                &codes::VALUE_INVALID_EXITCODES,
                format!("`{text}` is not a list of exit codes"),
                "write exit codes 0-255 separated by commas, such as 0,2",
            )
        })
}

/// `shutdown_exitcode` (svc only): svc's exit code, 0-255, read as Python's `int()`.
pub fn shutdown_exitcode(text: &str) -> Result<u8, Problem> {
    python_int(text, 10)
        .and_then(|code| u8::try_from(code).ok())
        .ok_or_else(|| {
            Problem::new(
                &codes::VALUE_INVALID_SHUTDOWN_EXITCODE,
                format!("`{text}` is not an exit code"),
                "write an integer from 0 to 255, such as 1",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_rules() {
        assert_eq!(python_int(" 7 ", 10), Some(7));
        assert_eq!(python_int("+5", 10), Some(5));
        assert_eq!(python_int("-1", 10), Some(-1));
        assert_eq!(python_int("010", 10), Some(10));
        assert_eq!(python_int("1_000", 10), Some(1000));
        assert_eq!(python_int("1__0", 10), None);
        assert_eq!(python_int("_1", 10), None);
        assert_eq!(python_int("1.5", 10), None);
        assert_eq!(python_int("", 10), None);
        assert_eq!(python_int("0o22", 8), Some(18));
        assert_eq!(python_int("022", 8), Some(18));
        assert_eq!(python_int("8", 8), None);
        assert_eq!(python_int("99999999999999999999", 10), None);
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("10"), Ok(10));
        assert_eq!(byte_size("1GB"), Ok(1 << 30));
        assert!(byte_size("50MBB").is_err());
        assert!(byte_size("1.5MB").is_err());
        assert!(byte_size("10B").is_err());
    }

    #[test]
    fn signals() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigkill"), Ok(9));
        assert_eq!(signal_number(" hup "), Ok(1));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(signal_number("34"), Ok(34));
        assert!(signal_number("33").is_err());
        assert!(signal_number("FOO").is_err());
        assert_eq!(signal_name(15), Some("TERM"));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exitcodes("0,2"), Ok(vec![0, 2]));
        assert_eq!(exitcodes(""), Ok(vec![]));
        assert_eq!(exitcodes(" 1 , 3"), Ok(vec![1, 3]));
        assert!(exitcodes("0,256").is_err());
        assert!(exitcodes("0,").is_err());
    }
}
