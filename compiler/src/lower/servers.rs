//! `[inet_http_server]` and `[unix_http_server]` (`server_configs_from_parser`).
//!
//! As in supervisord, any section whose name *starts with* the server type is a server; the
//! part after `:` (if any) is its name.

use svc_schema::{Credentials, InetHttpServer, UnixHttpServer};

use crate::codes;
use crate::convert::{inet_address, octal, owner_spec};
use crate::diagnostic::Diagnostic;
use crate::lower::{Lowering, Part};

fn server_sections<'d>(
    lowering: &Lowering<'d>,
    prefix: &str,
) -> Vec<(Option<String>, &'d crate::ini::Section)> {
    lowering
        .document
        .sections
        .values()
        .filter(|section| section.name.starts_with(prefix))
        .map(|section| {
            (
                section.name.split_once(':').map(|(_, n)| n.to_string()),
                section,
            )
        })
        .collect()
}

/// `_parse_username_and_password`.
fn credentials(lowering: &mut Lowering<'_>, section: &crate::ini::Section) -> Option<Credentials> {
    let username = lowering.entry(section, "username");
    let password = lowering.entry(section, "password");
    match (username, password) {
        (Some(_), Some(_)) => {
            // A value whose expansion fails is reported by `field`; no credentials then.
            let names = lowering.env_names();
            let username = lowering.field(section, "username", Some(&names));
            let password = lowering.field(section, "password", Some(&names));
            Some(Credentials {
                username: username?.text,
                password: password?.text,
            })
        }
        (None, None) => None,
        (one, other) => {
            let (present, missing) = if one.is_some() {
                ("username", "password")
            } else {
                ("password", "username")
            };
            let span = one
                .or(other)
                .map_or(section.header(), |entry| entry.key_span);
            lowering.diagnostics.push(
                Diagnostic::new(
                    &codes::SERVER_INCOMPLETE_AUTH,
                    format!("[{}] sets {present} but not {missing}", section.name),
                )
                .at(span, format!("{present} without {missing}"))
                .help(format!(
                    "set both username and password, or neither; add `{missing} = ...`"
                )),
            );
            None
        }
    }
}

/// Every `[inet_http_server*]`.
pub(crate) fn lower_inet(lowering: &mut Lowering<'_>) -> Vec<InetHttpServer> {
    let mut servers = Vec::new();
    for (name, section) in server_sections(lowering, "inet_http_server") {
        let auth = credentials(lowering, section);
        let names = lowering.env_names();
        let Some(field) = lowering.field(section, "port", Some(&names)) else {
            if lowering.entry(section, "port").is_none() {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::SERVER_MISSING_PORT,
                        format!("section [{}] has no port value", section.name),
                    )
                    .at(section.header(), "no port=")
                    .help("add `port = 127.0.0.1:9001`"),
                );
            }
            continue;
        };
        match inet_address(&field.text) {
            Ok(address) => servers.push(InetHttpServer {
                name,
                host: address.host,
                port: address.port,
                auth,
                origin: section.origin(),
            }),
            Err(problem) => {
                let span = lowering
                    .part_span(section, "port", Part::Port)
                    .unwrap_or(field.span);
                lowering.report(problem, "port", span)
            }
        }
    }
    servers
}

/// Every `[unix_http_server*]`.
pub(crate) fn lower_unix(lowering: &mut Lowering<'_>) -> Vec<UnixHttpServer> {
    let mut servers = Vec::new();
    for (name, section) in server_sections(lowering, "unix_http_server") {
        let names = lowering.here_names();
        let file = lowering.field(section, "file", Some(&names));
        let auth = credentials(lowering, section);
        let env_names = lowering.env_names();
        let chown = lowering
            .typed(section, "chown", Some(&env_names), owner_spec)
            .map(|(spec, span)| {
                let user_span = lowering
                    .part_span(section, "chown", Part::User)
                    .unwrap_or(span);
                lowering.check_user(&spec.user, user_span);
                if let Some(group) = &spec.group {
                    let group_span = lowering
                        .part_span(section, "chown", Part::Group)
                        .unwrap_or(span);
                    lowering.check_group(group, group_span);
                }
                spec
            });
        let chmod = lowering.typed_or(section, "chmod", Some(&env_names), 0o700, octal);
        let Some(file) = file else {
            if lowering.entry(section, "file").is_none() {
                lowering.diagnostics.push(
                    Diagnostic::new(
                        &codes::SERVER_MISSING_FILE,
                        format!("section [{}] has no file value", section.name),
                    )
                    .at(section.header(), "no file=")
                    .help("add `file = /run/supervisor.sock`"),
                );
            }
            continue;
        };
        let path = file.text.trim_matches(crate::ini::is_py_space);
        servers.push(UnixHttpServer {
            name,
            file: lowering.normalize_path(path),
            chmod,
            chown,
            auth,
            origin: section.origin(),
        });
    }
    servers
}
