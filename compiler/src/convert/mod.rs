//! Typed values: supervisord's `datatypes.py` conversions, one function per type, on
//! already-expanded text. Host lookups (does this user exist?) are not here; they live in
//! `lower::host_checks` so `--no-host-checks` can skip them.
//!
//! Each function returns the value or a [`Problem`]: the code and the words for a diagnostic;
//! the caller adds the span.

mod environment;
mod numbers;
mod words;

pub use environment::{EnvironmentParse, parse_environment};
pub use numbers::{
    byte_size, exitcodes, integer, octal, python_int, shutdown_exitcode, signal_name, signal_number,
};
pub use words::{
    AddressSpec, LogTarget, autorestart, boolean, inet_address, logfile_target, loglevel,
    owner_spec, process_or_group_name, shutdown_on, url,
};

use crate::codes::Code;

/// Why a value does not convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The diagnostic code.
    pub code: &'static Code,
    /// The message (says what is wrong with the value).
    pub message: String,
    /// What to write instead.
    pub help: String,
}

impl Problem {
    /// A problem of `code`.
    pub fn new(
        code: &'static Code,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            message: message.into(),
            help: help.into(),
        }
    }
}
