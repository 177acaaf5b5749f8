//! svc's compiler: supervisord.conf (INI) to a [`svc_schema::Graph`] plus diagnostics.
#![warn(missing_docs, missing_debug_implementations)]

pub mod codes;
pub mod diagnostic;
pub mod expand;
pub mod host;
pub mod ini;
pub mod paths;
pub mod source;
pub mod suggest;
