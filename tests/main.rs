//! The one integration-test binary of svc: real `svc` processes, real files, real
//! supervisord (the Python reference) where compatibility is the point.
//!
//! Each module owns one concern; `support` holds the shared `Test` builder.

mod browser;
mod check_cli;
mod ctl;
mod ctl_shell;
mod events;
mod migrate;
mod oracle;
mod properties;
mod rpc;
mod run;
mod run_cli;
mod run_control;
mod run_logs;
mod run_signals;
mod snapshots;
mod support;
mod svc_ctl;
mod tidy;
mod web;
