//! The INI reader: supervisord.conf text to a [`Document`] with exactly the meaning Python
//! 3.11's `configparser.RawConfigParser` gives it under supervisord 4.3.0's settings
//! (`inline_comment_prefixes=(';', '#')`, `strict=False`, `empty_lines_in_values=True`).
//!
//! - `line`: one physical line: its comment, its stripped content and its indent.
//! - `document`: the merged sections/keys/values of every file read, with spans.
//! - `parse`: the configparser state machine that feeds lines into a document.
//! - `value`: a value's text with a map back to the bytes it came from.
//!
//! Invariants: the reader never fails; every problem is a diagnostic and parsing goes on with
//! the next line. Every section, key and value keeps its file and byte span.

mod document;
mod line;
mod parse;
mod value;

pub(crate) use document::insert_entry;
pub use document::{Document, Entries, Entry, Section};
pub use line::{is_py_space, py_strip};
pub use parse::{FileOutcome, parse_into};
pub use value::{Run, Value};
