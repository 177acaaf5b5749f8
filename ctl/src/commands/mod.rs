//! supervisorctl's commands, one file per family: `process` (status, start, stop, restart,
//! signal, pid, clear), `logs` (tail, maintail, fg), `config` (avail, reread, update, add,
//! remove), `daemon` (reload, shutdown, version, open).
//!
//! Each command is `fn(&mut Controller, argument) -> Result<(), Failure>` and follows its
//! `do_<command>` in supervisorctl 4.3.0 step by step: the same calls in the same order,
//! the same faults caught, the same messages and exit statuses. What it does not catch is
//! returned and printed by `Controller::onecmd`.

pub(crate) mod config;
pub(crate) mod daemon;
pub(crate) mod logs;
pub(crate) mod process;

/// Python's `arg.split()`.
pub(crate) fn words(argument: &str) -> Vec<&str> {
    argument.split_whitespace().collect()
}
