//! `svc::lint::missing_rpcinterface`
//!
//! **What**: an `[inet_http_server]` or `[unix_http_server]` without
//! `[rpcinterface:supervisor]`.
//!
//! **Why**: supervisord then serves no `supervisor.*` methods: supervisorctl answers
//! "Sorry, supervisord responded but did not recognize the supervisor namespace commands"
//! and exits 3. svc serves them anyway (it has no Python plugins), but the file will not
//! work with supervisord.
//!
//! **Example**:
//! ```ini
//! [unix_http_server]
//! file=/run/supervisor.sock
//! ```
//!
//! **Fix**: add
//! ```ini
//! [rpcinterface:supervisor]
//! supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
//! ```

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let graph = context.graph;
    if graph.rpcinterfaces.iter().any(|p| p.name == "supervisor") {
        return;
    }
    let span = graph
        .unix_http_servers
        .iter()
        .filter_map(|s| s.origin.section)
        .chain(
            graph
                .inet_http_servers
                .iter()
                .filter_map(|s| s.origin.section),
        )
        .next();
    let Some(span) = span else { return };
    diagnostics.push(
        Diagnostic::new(
            &codes::LINT_MISSING_RPCINTERFACE,
            "an HTTP server is configured but [rpcinterface:supervisor] is missing",
        )
        .at(span, "supervisorctl cannot control supervisord through this")
        .help("add [rpcinterface:supervisor] with supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface"),
    );
}
