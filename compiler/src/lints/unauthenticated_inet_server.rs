//! `svc::lint::unauthenticated_inet_server`
//!
//! **What**: an `[inet_http_server]` bound to something other than loopback (`*:9001`,
//! `:9001`, `0.0.0.0:9001`, a public address) without `username`/`password`.
//!
//! **Why**: anyone who can reach the port can stop, start and reconfigure every process,
//! and read their logs. supervisord only logs a CRIT line at startup.
//!
//! **Example**:
//! ```ini
//! [inet_http_server]
//! port=*:9001
//! ```
//!
//! **Fix**: bind to `127.0.0.1:9001`, or set `username` and `password` (a `{SHA}` hash is
//! accepted).

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.")
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for server in &context.graph.inet_http_servers {
        if server.auth.is_some() || is_loopback(&server.host) {
            continue;
        }
        let span = server
            .origin
            .keys
            .get("port")
            .copied()
            .or(server.origin.section);
        let Some(span) = span else { continue };
        let reach = if server.host.is_empty() {
            "every interface".to_string()
        } else {
            server.host.clone()
        };
        diagnostics.push(
            Diagnostic::new(
                &codes::LINT_UNAUTHENTICATED_INET_SERVER,
                format!("the XML-RPC server listens on {reach} without a password"),
            )
            .at(span, "reachable from other machines")
            .help("bind to 127.0.0.1 (port=127.0.0.1:9001) or set username and password"),
        );
    }
}
