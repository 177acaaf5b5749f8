//! `--format github`: GitHub Actions workflow commands, one line per diagnostic:
//! `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::MESSAGE (help: ...)`.

use crate::diagnostic::{Diagnostic, Severity};
use crate::render::location;
use crate::source::Sources;

/// Escapes a message (data) for a workflow command.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value for a workflow command.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Renders one workflow command per diagnostic.
pub fn github(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let kind = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some((file, (line, column), (end_line, end_column))) = location(diagnostic, sources)
        {
            properties.push(format!("file={}", escape_property(&file)));
            properties.push(format!("line={line}"));
            properties.push(format!("col={column}"));
            properties.push(format!("endLine={end_line}"));
            properties.push(format!("endColumn={end_column}"));
        }
        properties.push(format!("title={}", escape_property(diagnostic.code.name)));
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{kind} {}::{}\n",
            properties.join(","),
            escape_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("svc::x,y"), "svc%3A%3Ax%2Cy");
    }
}
