//! Human output: miette's graphical reports.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::Sources;

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanStyle {
    /// Unicode and colour (a terminal).
    Colour,
    /// Unicode, no colour, no line wrapping (files, pipes, CI logs, snapshots): the text
    /// does not depend on the terminal or on path lengths.
    Plain,
}

impl HumanStyle {
    /// What diagnostics printed on stderr get: colour on a terminal unless `NO_COLOR` is
    /// set, plain otherwise.
    pub fn for_stderr() -> HumanStyle {
        use std::io::IsTerminal as _;
        if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            HumanStyle::Colour
        } else {
            HumanStyle::Plain
        }
    }
}

/// A label in a file other than the primary one, shown as a related report.
#[derive(Debug)]
struct Related {
    message: String,
    source: NamedSource<String>,
    label: LabeledSpan,
}

impl fmt::Display for Related {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Related {}

impl miette::Diagnostic for Related {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

/// A diagnostic with the sources miette needs.
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Related>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.name))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn span(label: &crate::diagnostic::Label) -> SourceSpan {
    SourceSpan::new((label.span.start as usize).into(), label.span.len())
}

fn report<'a>(diagnostic: &'a Diagnostic, sources: &Sources) -> Report<'a> {
    let primary_source = diagnostic.primary.as_ref().map(|l| l.span.source);
    let named = |id| {
        sources
            .get(id)
            .map(|s| NamedSource::new(s.path.display().to_string(), s.text.clone()))
    };
    let mut labels = Vec::new();
    let mut related = Vec::new();
    if let Some(primary) = &diagnostic.primary {
        labels.push(LabeledSpan::new_primary_with_span(
            Some(primary.text.clone()),
            span(primary),
        ));
    }
    for label in &diagnostic.secondary {
        if Some(label.span.source) == primary_source {
            labels.push(LabeledSpan::new_with_span(
                Some(label.text.clone()),
                span(label),
            ));
        } else if let Some(source) = named(label.span.source) {
            related.push(Related {
                message: label.text.clone(),
                source,
                label: LabeledSpan::new_with_span(Some(label.text.clone()), span(label)),
            });
        }
    }
    Report {
        diagnostic,
        source: primary_source.and_then(named),
        labels,
        related,
    }
}

/// Renders every diagnostic, then a summary line.
pub fn human(diagnostics: &[Diagnostic], sources: &Sources, style: HumanStyle) -> String {
    let handler = match style {
        HumanStyle::Colour => GraphicalReportHandler::new_themed(GraphicalTheme::unicode()),
        HumanStyle::Plain => GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(80)
            .with_wrap_lines(false),
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = report(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!(
                "{}: {}\n",
                diagnostic.code.name, diagnostic.message
            ));
        }
    }
    out
}
