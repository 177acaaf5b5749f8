//! The line editor of the interactive shell on a terminal: rustyline in emacs mode, with
//! readline's history (in memory; the file is `History`'s) and supervisorctl's Tab
//! completion (`completion`).
//!
//! - Tab completes as readline's `complete` does: one match is inserted; several insert
//!   their common prefix and ring the bell, and a second Tab lists them under the line.
//! - The process list comes from `getAllProcessInfo`, fetched the first time a line needs it
//!   and kept until the next line is read (supervisorctl's `_complete_info`). A failed fetch
//!   completes nothing, as an exception in a readline completer does.
//! - Ctrl-C ends the line as [`Edited::Interrupted`] and Ctrl-D on an empty line as
//!   [`Edited::Eof`]; the editor has already moved to the next line in both cases.
//!
//! **Boundary:** used only when stdin is a terminal; piped input never reaches rustyline.

use std::cell::RefCell;

use rustyline::completion::Completer;
use rustyline::config::{CompletionType, Config, Configurer as _, EditMode};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{History as _, MemHistory};
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use super::super::api::Supervisor;
use super::completion::{self, ProcessName};

/// How reading a line ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edited {
    /// A line, without its newline.
    Line(String),
    /// Ctrl-C.
    Interrupted,
    /// Ctrl-D on an empty line.
    Eof,
}

/// The completer rustyline calls: the server to ask and this line's process list.
struct Completion {
    supervisor: Option<Supervisor>,
    processes: RefCell<Option<Vec<ProcessName>>>,
}

impl Completion {
    fn processes(&self) -> Vec<ProcessName> {
        let mut cached = self.processes.borrow_mut();
        if cached.is_none() {
            let Some(fetched) = self
                .supervisor
                .as_ref()
                .and_then(|supervisor| supervisor.get_all_process_info().ok())
            else {
                return Vec::new();
            };
            *cached = Some(
                fetched
                    .into_iter()
                    .map(|info| ProcessName {
                        group: info.group,
                        name: info.name,
                    })
                    .collect(),
            );
        }
        cached.clone().unwrap_or_default()
    }
}

impl Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        cursor: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let start = completion::word_start(line, cursor);
        let wanted = completion::wanted(line);
        let processes = if wanted.needs_processes() {
            self.processes()
        } else {
            Vec::new()
        };
        Ok((
            start,
            completion::matches(wanted, &line[start..cursor], &processes),
        ))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

/// rustyline's editor with supervisorctl's completion.
pub(crate) struct LineEditor {
    editor: Editor<Completion, MemHistory>,
}

impl LineEditor {
    /// An editor whose history starts with `history` (oldest first); `None` if the terminal
    /// cannot be set up.
    pub(crate) fn new(history: &[String]) -> Option<LineEditor> {
        let mut builder = Config::builder()
            .edit_mode(EditMode::Emacs)
            .completion_type(CompletionType::List)
            .auto_add_history(false)
            // readline keeps every line (`history_length` unlimited).
            .max_history_size(usize::MAX)
            .ok()?;
        // Plain redraws, as readline's (no DEC 2026 brackets around them).
        builder.enable_synchronized_output(false);
        let config = builder.build();
        let history_config = MemHistory::with_config(&config);
        let mut editor = Editor::with_history(config, history_config).ok()?;
        for line in history {
            let _ = editor.history_mut().add(line);
        }
        editor.set_helper(Some(Completion {
            supervisor: None,
            processes: RefCell::new(None),
        }));
        Some(LineEditor { editor })
    }

    /// Reads one line after `prompt`, completing against `supervisor` (a fresh process list
    /// for each line).
    pub(crate) fn read_line(&mut self, prompt: &str, supervisor: Option<Supervisor>) -> Edited {
        if let Some(helper) = self.editor.helper_mut() {
            helper.supervisor = supervisor;
            helper.processes = RefCell::new(None);
        }
        match self.editor.readline(prompt) {
            Ok(line) => Edited::Line(line),
            Err(ReadlineError::Interrupted) => Edited::Interrupted,
            Err(_) => Edited::Eof,
        }
    }

    /// Adds a line to the history that the arrow keys walk.
    pub(crate) fn remember(&mut self, line: &str) {
        let _ = self.editor.history_mut().add(line);
    }
}
