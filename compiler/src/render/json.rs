//! `--format json`: one JSON document, stable key order.
//!
//! ```json
//! {"version": 1, "errors": 1, "warnings": 0, "diagnostics": [
//!   {"code": "svc::program::missing_command", "severity": "error", "message": "...",
//!    "file": "supervisord.conf", "line": 3, "column": 2, "end_line": 3, "end_column": 11,
//!    "offset": 20, "length": 9, "label": "...", "help": "...",
//!    "related": [{"file": "...", "line": 1, "column": 1, "label": "..."}]}]}
//! ```

use serde_json::{Value, json as object};

use crate::diagnostic::{Diagnostic, Label};
use crate::source::Sources;

fn place(label: &Label, sources: &Sources) -> Value {
    let Some(source) = sources.get(label.span.source) else {
        return Value::Null;
    };
    let (line, column) = source.line_col(label.span.start as usize);
    let (end_line, end_column) = source.line_col(label.span.end as usize);
    object!({
        "file": source.path.display().to_string(),
        "line": line + 1,
        "column": column + 1,
        "end_line": end_line + 1,
        "end_column": end_column + 1,
        "offset": label.span.start,
        "length": label.span.len(),
        "label": label.text,
    })
}

/// Renders the diagnostics as one JSON document (pretty-printed, trailing newline).
pub fn json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let mut item = object!({
                "code": diagnostic.code.name,
                "severity": diagnostic.severity.as_str(),
                "message": diagnostic.message,
            });
            if let (Some(map), Some(primary)) = (item.as_object_mut(), &diagnostic.primary)
                && let Value::Object(location) = place(primary, sources)
            {
                map.extend(location);
            }
            if let Some(map) = item.as_object_mut() {
                map.insert("help".into(), object!(diagnostic.help));
                let related: Vec<Value> = diagnostic
                    .secondary
                    .iter()
                    .map(|l| place(l, sources))
                    .collect();
                map.insert("related".into(), Value::Array(related));
            }
            item
        })
        .collect();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let document = object!({
        "version": 1,
        "errors": errors,
        "warnings": diagnostics.len() - errors,
        "diagnostics": items,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
