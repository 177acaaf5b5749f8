//! Lowering: the merged INI [`Document`] to the typed, expanded [`Graph`].
//!
//! One module per section family, in the order supervisord reads them
//! (`ServerOptions.read_config`): `supervisord`, `plugins`, `groups` (which calls `program`
//! for each program-like section), `servers`, then `supervisorctl`, which supervisord itself
//! never reads. [`Lowering`] is the shared context: it reads a key, expands it with the
//! key's names, converts it, runs host checks and records every diagnostic.
//!
//! Threads: `groups` lowers the `[program:x]` sections in chunks, taken in turn by the
//! calling thread and a scoped worker thread, each with a [`Lowering::fork`]; the chunks'
//! groups, diagnostics and lint facts are joined in section order, so the result is the one
//! a single pass gives. Hence the shared context is `Arc`, and [`Host`] is `Sync`.
//!
//! Invariant: lowering never stops at an error. A bad value is reported and replaced by
//! supervisord's default so that later keys are still checked; the Graph is only handed out
//! when no error was recorded.

pub(crate) mod groups;
pub(crate) mod host_checks;
pub(crate) mod plugins;
pub(crate) mod program;
pub(crate) mod servers;
pub(crate) mod supervisorctl;
pub(crate) mod supervisord;

use std::sync::Arc;

use indexmap::IndexMap;
use svc_schema::Span;

use crate::CompileOptions;
use crate::convert::Problem;
use crate::diagnostic::Diagnostic;
use crate::expand::{EnvPolicy, Names, expand};
use crate::host::Host;
use crate::ini::{Document, Entry, Section, Value};

/// A key's value after expansion.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// Expanded text.
    pub text: String,
    /// Span of the value as written.
    pub span: Span,
}

/// A part of a `before:after` value (see [`Lowering::part_span`]): before the first `:`
/// (`user` in `user:group`), after the first `:` (`group`), after the last `:` (`port` in
/// `host:port`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    /// `user` in `user:group`.
    User,
    /// `group` in `user:group`.
    Group,
    /// `port` in `host:port`.
    Port,
}

/// The shared state of one lowering.
pub(crate) struct Lowering<'a> {
    pub document: &'a Document,
    pub host: &'a dyn Host,
    pub options: &'a CompileOptions,
    pub diagnostics: Vec<Diagnostic>,
    /// Directory of the main config file (`%(here)s`).
    pub here: Arc<str>,
    /// `%(host_node_name)s`.
    pub node_name: Arc<str>,
    /// The daemon's environment at startup.
    pub os_env: Arc<IndexMap<String, String>>,
    /// `[supervisord] environment=`, once read (added to `ENV_*` for later sections and under
    /// every child's environment).
    pub supervisord_env: Arc<IndexMap<String, String>>,
    /// The working directory, for relative paths.
    pub cwd: String,
}

impl<'a> Lowering<'a> {
    /// A lowering with the same context and no diagnostics yet, for a worker thread.
    pub fn fork(&self) -> Lowering<'a> {
        Lowering {
            document: self.document,
            host: self.host,
            options: self.options,
            diagnostics: Vec::new(),
            here: Arc::clone(&self.here),
            node_name: Arc::clone(&self.node_name),
            os_env: Arc::clone(&self.os_env),
            supervisord_env: Arc::clone(&self.supervisord_env),
            cwd: self.cwd.clone(),
        }
    }

    pub fn env_policy(&self) -> EnvPolicy {
        if self.options.host_checks {
            EnvPolicy::Strict
        } else {
            EnvPolicy::Lenient
        }
    }

    /// The raw entry of a key: the section's own, then `[DEFAULT]`'s. `section` is `None`
    /// when the section does not exist; then no key is found, not even in `[DEFAULT]`
    /// (configparser's `get` fails on the section first).
    pub fn entry<'s>(&self, section: impl Into<Option<&'s Section>>, key: &str) -> Option<&'s Entry>
    where
        'a: 's,
    {
        self.document.get_in(section.into()?, key)
    }

    /// Reads and expands a key. `None` if missing or if expansion failed (reported).
    pub fn field<'s>(
        &mut self,
        section: impl Into<Option<&'s Section>>,
        key: &str,
        names: Option<&Names>,
    ) -> Option<Field>
    where
        'a: 's,
    {
        let section = section.into()?;
        let entry = self.document.get_in(section, key)?;
        let text = self.expand_value(
            &entry.value,
            names,
            &crate::expand::KeyName {
                section: &section.name,
                key,
            },
        )?;
        Some(Field {
            text,
            span: entry.value.span(),
        })
    }

    /// Expands a value (or returns it verbatim with `names = None`), reporting errors.
    pub fn expand_value(
        &mut self,
        value: &Value,
        names: Option<&Names>,
        key: &dyn std::fmt::Display,
    ) -> Option<String> {
        let Some(names) = names else {
            return Some(value.text.clone());
        };
        let (text, diagnostics) = expand(value, names, key, self.env_policy());
        self.diagnostics.extend(diagnostics);
        text
    }

    /// Reads, expands and converts a key; returns the value and the span of the text as
    /// written. `None` if missing or invalid (reported).
    pub fn typed<'s, T>(
        &mut self,
        section: impl Into<Option<&'s Section>>,
        key: &str,
        names: Option<&Names>,
        convert: impl Fn(&str) -> Result<T, Problem>,
    ) -> Option<(T, Span)>
    where
        'a: 's,
    {
        let section = section.into()?;
        let entry = self.document.get_in(section, key)?;
        let span = entry.value.span();
        // Without a `%` the expansion is the text itself: convert it in place.
        let text = match names {
            Some(_) if entry.value.text.contains('%') => {
                let key = crate::expand::KeyName {
                    section: &section.name,
                    key,
                };
                std::borrow::Cow::Owned(self.expand_value(&entry.value, names, &key)?)
            }
            _ => std::borrow::Cow::Borrowed(entry.value.text.as_str()),
        };
        match convert(&text) {
            Ok(value) => Some((value, span)),
            Err(problem) => {
                self.report(problem, key, span);
                None
            }
        }
    }

    /// A typed key or its default.
    pub fn typed_or<'s, T>(
        &mut self,
        section: impl Into<Option<&'s Section>>,
        key: &str,
        names: Option<&Names>,
        default: T,
        convert: impl Fn(&str) -> Result<T, Problem>,
    ) -> T
    where
        'a: 's,
    {
        self.typed(section, key, names, convert)
            .map_or(default, |(value, _)| value)
    }

    /// Turns a conversion problem into a diagnostic on the value.
    pub fn report(&mut self, problem: Problem, key: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(problem.code, format!("`{key}`: {}", problem.message))
                .at(span, "invalid value")
                .help(problem.help),
        );
    }

    /// The span of one part of a `before:after` value, when the value was written without
    /// `%` (its text is then the source text); the whole value's span otherwise.
    pub fn part_span<'s>(&self, section: &'s Section, key: &str, part: Part) -> Option<Span>
    where
        'a: 's,
    {
        let value = &self.document.get_in(section, key)?.value;
        let text = value.text.as_str();
        if text.contains('%') {
            return Some(value.span());
        }
        let range = match part {
            Part::User => 0..text.find(':').unwrap_or(text.len()),
            Part::Group => match text.find(':') {
                Some(colon) => colon + 1..text.len(),
                None => return Some(value.span()),
            },
            Part::Port => text.rfind(':').map_or(0, |colon| colon + 1)..text.len(),
        };
        Some(value.span_of(range.start, range.end))
    }

    /// Names for `[supervisord]` keys and everything read before its `environment=`.
    pub fn early_names(&self) -> Names {
        Names::new()
            .with_str("here", self.here.clone())
            .with_env(&self.os_env)
    }

    /// `ENV_*` only, as seen after `[supervisord] environment=` was read.
    pub fn env_names(&self) -> Names {
        Names::new()
            .with_env(&self.os_env)
            .with_env(&self.supervisord_env)
    }

    /// `here` and `ENV_*`, after `[supervisord] environment=`.
    pub fn here_names(&self) -> Names {
        self.env_names().with_str("here", self.here.clone())
    }

    /// supervisord's `normalize_path`: `normpath(abspath(expanduser(path)))`.
    pub fn normalize_path(&self, path: &str) -> String {
        let expanded = crate::paths::expanduser(path, |user| self.host.home_dir(user));
        crate::paths::abspath(&expanded, &self.cwd)
    }
}

#[cfg(test)]
mod tests;
