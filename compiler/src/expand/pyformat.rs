//! Python's `str % mapping` operator, reproduced for the conversions a config can use.
//!
//! Grammar of one conversion: `%` [`(` key `)`] flags* [width] [`.` precision] [`h`|`l`|`L`]
//! type, with flags `-+ #0` and types `s r a c d i u o x X e E f F g G %`. A `*` width or
//! precision, a missing `)`, a trailing `%` and an unknown type are errors, as in Python.
//! Unlike Python, a conversion with no `(key)` is an error ([`FormatErrorKind::MissingName`]):
//! Python would format the whole mapping into the value.
//!
//! Name errors do not stop the scan, so every unknown name is reported; a syntax error does.

/// A value a name expands to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameValue {
    /// A string (`here`, `program_name`, `ENV_*`, ...), shared.
    Str(std::sync::Arc<str>),
    /// An integer (`process_num`, `numprocs`).
    Int(i64),
}

/// One `%(name)...` reference in a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'f> {
    /// Byte offset of the `%`.
    pub start: usize,
    /// Byte offset after the conversion type.
    pub end: usize,
    /// The name between the parentheses (a slice of the format string).
    pub name: &'f str,
}

/// A successful expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted<'f> {
    /// The expanded text.
    pub text: String,
    /// Every name reference, in order.
    pub references: Vec<Reference<'f>>,
}

/// What went wrong with one conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatErrorKind {
    /// `%(name)s` with a name the mapping lacks.
    UnknownName(String),
    /// `%s` (no name) against a mapping.
    MissingName,
    /// A `%` at the very end.
    Incomplete,
    /// `%(` without `)`.
    IncompleteKey,
    /// `*` width or precision.
    StarWithMapping,
    /// An unknown conversion type.
    UnsupportedCharacter(char, usize),
    /// A number conversion applied to a string, or `%c` to a long string.
    TypeMismatch(String),
}

impl FormatErrorKind {
    /// Python's wording, for messages.
    pub fn describe(&self) -> String {
        match self {
            FormatErrorKind::UnknownName(name) => format!("unknown name '{name}'"),
            FormatErrorKind::MissingName => "a conversion without a (name)".into(),
            FormatErrorKind::Incomplete => "incomplete format".into(),
            FormatErrorKind::IncompleteKey => "incomplete format key".into(),
            FormatErrorKind::StarWithMapping => "* wants int".into(),
            FormatErrorKind::UnsupportedCharacter(c, index) => format!(
                "unsupported format character '{c}' (0x{:x}) at index {index}",
                u32::from(*c)
            ),
            FormatErrorKind::TypeMismatch(message) => message.clone(),
        }
    }

    /// A short label for the span.
    pub fn label(&self) -> &'static str {
        match self {
            FormatErrorKind::Incomplete => "lone `%`",
            FormatErrorKind::IncompleteKey => "`%(` is never closed",
            FormatErrorKind::StarWithMapping => "`*` is not allowed here",
            FormatErrorKind::UnsupportedCharacter(..) => "unknown conversion",
            FormatErrorKind::TypeMismatch(_) => "wrong type for this conversion",
            FormatErrorKind::UnknownName(_) | FormatErrorKind::MissingName => "here",
        }
    }
}

/// An error at `start..end` of the format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Byte offset of the offending `%`.
    pub start: usize,
    /// Byte offset after the offending conversion.
    pub end: usize,
    /// What.
    pub kind: FormatErrorKind,
}

impl FormatError {
    /// The text of the offending conversion.
    pub fn text<'t>(&self, format: &'t str) -> &'t str {
        format.get(self.start..self.end).unwrap_or("")
    }
}

#[derive(Debug, Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// `format % mapping`, where `lookup` is the mapping.
///
/// Every character of the conversion syntax is ASCII, so the scan works on bytes and copies
/// the text between conversions as slices.
pub fn format<'f>(
    format: &'f str,
    lookup: impl Fn(&str) -> Option<NameValue>,
) -> Result<Formatted<'f>, Vec<FormatError>> {
    let bytes = format.as_bytes();
    let mut text = String::with_capacity(format.len());
    let mut references = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(offset) = format[i..].find('%') else {
            text.push_str(&format[i..]);
            break;
        };
        text.push_str(&format[i..i + offset]);
        let start = i + offset;
        i = start + 1;
        let Some(&next) = bytes.get(i) else {
            errors.push(FormatError {
                start,
                end: format.len(),
                kind: FormatErrorKind::Incomplete,
            });
            break;
        };
        if next == b'%' {
            text.push('%');
            i += 1;
            continue;
        }
        let mut name = None;
        if next == b'(' {
            let mut depth = 1;
            let key_start = i + 1;
            let mut j = key_start;
            while j < bytes.len() && depth > 0 {
                match bytes[j] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                errors.push(FormatError {
                    start,
                    end: format.len(),
                    kind: FormatErrorKind::IncompleteKey,
                });
                break;
            }
            name = Some(&format[key_start..j - 1]);
            i = j;
        }
        let mut spec = Spec::default();
        while let Some(flag) = bytes.get(i) {
            match flag {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alternate = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        let mut star = false;
        if bytes.get(i) == Some(&b'*') {
            star = true;
            i += 1;
        } else {
            while let Some(digit) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
                spec.width = spec
                    .width
                    .saturating_mul(10)
                    .saturating_add(usize::from(digit - b'0'));
                i += 1;
            }
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            let mut precision = 0usize;
            if bytes.get(i) == Some(&b'*') {
                star = true;
                i += 1;
            } else {
                while let Some(digit) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
                    precision = precision
                        .saturating_mul(10)
                        .saturating_add(usize::from(digit - b'0'));
                    i += 1;
                }
            }
            spec.precision = Some(precision);
        }
        if matches!(bytes.get(i), Some(b'h' | b'l' | b'L')) {
            i += 1;
        }
        let Some(conversion) = format[i..].chars().next() else {
            errors.push(FormatError {
                start,
                end: format.len(),
                kind: FormatErrorKind::Incomplete,
            });
            break;
        };
        let conversion_at = i;
        i += conversion.len_utf8();
        let end = i;
        if star {
            errors.push(FormatError {
                start,
                end,
                kind: FormatErrorKind::StarWithMapping,
            });
            break;
        }
        if conversion == '%' {
            text.push('%');
            continue;
        }
        if !"sracdiuoxXeEfFgG".contains(conversion) {
            // Python reports the index in characters of the conversion type.
            let index = format[..conversion_at].chars().count();
            errors.push(FormatError {
                start,
                end,
                kind: FormatErrorKind::UnsupportedCharacter(conversion, index),
            });
            break;
        }
        let Some(name) = name else {
            errors.push(FormatError {
                start,
                end,
                kind: FormatErrorKind::MissingName,
            });
            continue;
        };
        references.push(Reference { start, end, name });
        let Some(value) = lookup(name) else {
            errors.push(FormatError {
                start,
                end,
                kind: FormatErrorKind::UnknownName(name.to_string()),
            });
            continue;
        };
        if let (NameValue::Str(value), 's', None, 0) =
            (&value, conversion, spec.precision, spec.width)
        {
            // The common plain `%(name)s`: copied with no intermediate String.
            text.push_str(value);
            continue;
        }
        match convert(&value, conversion, &spec) {
            Ok(converted) => text.push_str(&converted),
            Err(message) => errors.push(FormatError {
                start,
                end,
                kind: FormatErrorKind::TypeMismatch(message),
            }),
        }
    }
    if errors.is_empty() {
        Ok(Formatted { text, references })
    } else {
        Err(errors)
    }
}

fn convert(value: &NameValue, conversion: char, spec: &Spec) -> Result<String, String> {
    match (value, conversion) {
        (NameValue::Str(s), 's') => Ok(pad_text(s, spec)),
        (NameValue::Str(s), 'r') => Ok(pad_text(&svc_schema::python::repr(s), spec)),
        (NameValue::Str(s), 'a') => Ok(pad_text(&svc_schema::python::ascii(s), spec)),
        (NameValue::Int(n), 's' | 'r' | 'a') => Ok(pad_text(&n.to_string(), spec)),
        (NameValue::Str(s), 'c') => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(pad_text(&c.to_string(), spec)),
                _ => Err("%c requires int or char".into()),
            }
        }
        (NameValue::Int(n), 'c') => u32::try_from(*n)
            .ok()
            .and_then(char::from_u32)
            .map(|c| pad_text(&c.to_string(), spec))
            .ok_or_else(|| "%c arg not in range(0x110000)".into()),
        (NameValue::Str(_), 'o' | 'x' | 'X') => Err(format!(
            "%{conversion} format: an integer is required, not str"
        )),
        (NameValue::Str(_), _) => Err(format!(
            "%{conversion} format: a real number is required, not str"
        )),
        (NameValue::Int(n), 'd' | 'i' | 'u' | 'o' | 'x' | 'X') => {
            Ok(format_int(*n, conversion, spec))
        }
        (NameValue::Int(n), _) => Ok(format_float(*n as f64, conversion, spec)),
    }
}

fn pad_text(text: &str, spec: &Spec) -> String {
    let truncated: String = match spec.precision {
        Some(precision) => text.chars().take(precision).collect(),
        None => text.to_string(),
    };
    let len = truncated.chars().count();
    if len >= spec.width {
        return truncated;
    }
    let fill = " ".repeat(spec.width - len);
    if spec.left {
        truncated + &fill
    } else {
        fill + &truncated
    }
}

fn format_int(n: i64, conversion: char, spec: &Spec) -> String {
    let magnitude = n.unsigned_abs();
    let mut digits = match conversion {
        'o' => format!("{magnitude:o}"),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    if let Some(precision) = spec.precision
        && digits.len() < precision
    {
        digits = "0".repeat(precision - digits.len()) + &digits;
    }
    let prefix = match (spec.alternate, conversion) {
        (true, 'o') => "0o",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    sign_and_pad(n < 0, prefix, &digits, spec)
}

fn sign_and_pad(negative: bool, prefix: &str, digits: &str, spec: &Spec) -> String {
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let body_len = sign.len() + prefix.len() + digits.chars().count();
    if body_len >= spec.width {
        return format!("{sign}{prefix}{digits}");
    }
    let fill = spec.width - body_len;
    if spec.left {
        format!("{sign}{prefix}{digits}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{sign}{prefix}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{sign}{prefix}{digits}", " ".repeat(fill))
    }
}

fn format_float(value: f64, conversion: char, spec: &Spec) -> String {
    let precision = spec.precision.unwrap_or(6);
    let magnitude = value.abs();
    let mut body = match conversion {
        'e' | 'E' => exponent_form(magnitude, precision, spec.alternate),
        'f' | 'F' => {
            let mut text = format!("{magnitude:.precision$}");
            if spec.alternate && precision == 0 {
                text.push('.');
            }
            text
        }
        _ => general_form(magnitude, precision, spec.alternate),
    };
    if conversion.is_ascii_uppercase() {
        body = body.to_uppercase();
    }
    sign_and_pad(value.is_sign_negative() && value != 0.0, "", &body, spec)
}

fn exponent_form(magnitude: f64, precision: usize, alternate: bool) -> String {
    let text = format!("{magnitude:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    let dot = if alternate && precision == 0 { "." } else { "" };
    format!("{mantissa}{dot}e{sign}{:02}", exponent.abs())
}

fn general_form(magnitude: f64, precision: usize, alternate: bool) -> String {
    let precision = precision.max(1);
    let probe = format!("{magnitude:.*e}", precision - 1);
    let exponent: i64 = probe
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let mut text = if exponent >= -4 && exponent < precision as i64 {
        let decimals = (precision as i64 - 1 - exponent).max(0) as usize;
        format!("{magnitude:.decimals$}")
    } else {
        exponent_form(magnitude, precision - 1, false)
    };
    if !alternate {
        let (number, exponent_part) = match text.find('e') {
            Some(at) => (text[..at].to_string(), text[at..].to_string()),
            None => (text.clone(), String::new()),
        };
        let number = if number.contains('.') {
            number
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            number
        };
        text = number + &exponent_part;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(format_string: &str) -> Result<String, Vec<FormatErrorKind>> {
        format(format_string, |name| match name {
            "here" => Some(NameValue::Str("/etc/sv".into())),
            "program_name" => Some(NameValue::Str("web".into())),
            "process_num" => Some(NameValue::Int(7)),
            "numprocs" => Some(NameValue::Int(12)),
            _ => None,
        })
        .map(|f| f.text)
        .map_err(|errors| errors.into_iter().map(|e| e.kind).collect())
    }

    #[test]
    fn python_conversions() {
        assert_eq!(expand("%(here)s/x").as_deref(), Ok("/etc/sv/x"));
        assert_eq!(expand("%(process_num)02d").as_deref(), Ok("07"));
        assert_eq!(expand("%(process_num)3d|").as_deref(), Ok("  7|"));
        assert_eq!(expand("%(process_num)-3d|").as_deref(), Ok("7  |"));
        assert_eq!(expand("%(process_num)+d").as_deref(), Ok("+7"));
        assert_eq!(
            expand("%(numprocs)x %(numprocs)#X %(numprocs)o").as_deref(),
            Ok("c 0XC 14")
        );
        assert_eq!(expand("%(process_num).3d").as_deref(), Ok("007"));
        assert_eq!(expand("%(process_num)s").as_deref(), Ok("7"));
        assert_eq!(expand("%(program_name)r").as_deref(), Ok("'web'"));
        assert_eq!(expand("%(program_name).2s").as_deref(), Ok("we"));
        assert_eq!(expand("%(program_name)5s|").as_deref(), Ok("  web|"));
        assert_eq!(expand("%(process_num)f").as_deref(), Ok("7.000000"));
        assert_eq!(expand("%(process_num)e").as_deref(), Ok("7.000000e+00"));
        assert_eq!(expand("%(process_num)g").as_deref(), Ok("7"));
        assert_eq!(expand("%(process_num)ld").as_deref(), Ok("7"));
        assert_eq!(expand("100%%").as_deref(), Ok("100%"));
    }

    #[test]
    fn python_errors() {
        assert_eq!(expand("100%"), Err(vec![FormatErrorKind::Incomplete]));
        assert_eq!(expand("%(here"), Err(vec![FormatErrorKind::IncompleteKey]));
        assert_eq!(
            expand("%(here)q"),
            Err(vec![FormatErrorKind::UnsupportedCharacter('q', 7)])
        );
        assert_eq!(
            expand("%(here)*s"),
            Err(vec![FormatErrorKind::StarWithMapping])
        );
        assert_eq!(expand("%s"), Err(vec![FormatErrorKind::MissingName]));
        assert!(matches!(
            expand("%(program_name)d").map_err(|e| e.len()),
            Err(1)
        ));
        assert_eq!(
            expand("%(a)s %(b)s"),
            Err(vec![
                FormatErrorKind::UnknownName("a".into()),
                FormatErrorKind::UnknownName("b".into())
            ])
        );
    }

    #[test]
    fn reference_spans_are_byte_offsets() {
        let formatted = format("é %(here)s", |_| Some(NameValue::Str("x".into()))).expect("ok");
        assert_eq!(formatted.references[0].start, 3);
        assert_eq!(formatted.references[0].end, 11);
    }
}
