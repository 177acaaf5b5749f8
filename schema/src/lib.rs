//! The svc intermediate Graph: what a supervisord configuration *means*, as plain data.
//!
//! This crate owns the types that cross every boundary of svc: the compiler produces a
//! [`Graph`], `svc check --emit graph` prints it as JSON, the runtime executes it and a reload
//! diffs two of them. It deliberately owns no behaviour — no I/O, no validation — with two
//! exceptions, pure functions every other crate needs to match supervisord: [`shlex::split`],
//! which gives `command` its meaning (argv), and [`python::repr`], how supervisord shows a
//! value in its messages.
//!
//! It also owns the types of svc's TOML configuration format ([`toml`]), from which its
//! JSON Schema is generated.
//!
//! Invariants:
//! - A `Graph` is *semantic*: it holds values only. Where a value came from (file, byte span)
//!   is kept beside it in `#[serde(skip)]` [`Origin`] fields, so an INI file and its TOML
//!   migration serialize to the same bytes.
//! - Every map is ordered (`IndexMap`) so JSON output has a stable key order.
//! - Values are already expanded, typed and defaulted exactly as supervisord 4.3.0 would hold
//!   them after reading the file; nothing here needs the config file to be interpreted.
#![warn(missing_docs, missing_debug_implementations)]

mod graph;
pub mod python;
pub mod shlex;
mod span;
pub mod toml;

pub use graph::*;
pub use span::{Origin, SourceId, Span};
