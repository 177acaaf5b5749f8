//! `svc::lint::unknown_key`
//!
//! **What**: a key that supervisord does not read in this kind of section.
//!
//! **Why**: supervisord ignores unknown keys silently, so a typo (`autorestrat=true`,
//! `stdout_logfile_maxbyte=0`) quietly leaves the default in force.
//!
//! **Example**:
//! ```ini
//! [program:web]
//! command=/usr/bin/web
//! autorestrat=true
//! ```
//!
//! **Fix**: correct the spelling (the message suggests the closest known key) or delete it.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lints::LintContext;

const PROGRAM_KEYS: &[&str] = &[
    "autorestart",
    "autostart",
    "command",
    "directory",
    "environment",
    "exitcodes",
    "killasgroup",
    "numprocs",
    "numprocs_start",
    "priority",
    "process_name",
    "redirect_stderr",
    "serverurl",
    "startretries",
    "startsecs",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_logfile",
    "stderr_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_syslog",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_logfile",
    "stdout_logfile_backups",
    "stdout_logfile_maxbytes",
    "stdout_syslog",
    "stopasgroup",
    "stopsignal",
    "stopwaitsecs",
    "umask",
    "user",
];
const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_mode", "socket_owner"];
const LISTENER_KEYS: &[&str] = &["buffer_size", "events", "result_handler"];
const SUPERVISORD_KEYS: &[&str] = &[
    "childlogdir",
    "directory",
    "environment",
    "identifier",
    "logfile",
    "logfile_backups",
    "logfile_maxbytes",
    "loglevel",
    "minfds",
    "minprocs",
    "nocleanup",
    "nodaemon",
    "pidfile",
    "profile_options",
    "silent",
    "strip_ansi",
    "umask",
    "user",
];
const UNIX_KEYS: &[&str] = &["chmod", "chown", "file", "password", "username"];
const INET_KEYS: &[&str] = &["password", "port", "username"];
const CTL_KEYS: &[&str] = &[
    "history_file",
    "password",
    "prompt",
    "serverurl",
    "username",
];
const GROUP_KEYS: &[&str] = &["priority", "programs"];
const INCLUDE_KEYS: &[&str] = &["files"];

/// The sorted key lists supervisord reads in a section of this name, or `None` if every key
/// is read (plugins pass all keys to their factory) or the section is not supervisord's.
pub(crate) fn known_keys(section: &str) -> Option<&'static [&'static [&'static str]]> {
    let lists: &'static [&'static [&'static str]] = if section.starts_with("program:") {
        &[PROGRAM_KEYS]
    } else if section.starts_with("fcgi-program:") {
        &[PROGRAM_KEYS, FCGI_KEYS]
    } else if section.starts_with("eventlistener:") {
        &[PROGRAM_KEYS, LISTENER_KEYS]
    } else if section == "supervisord" {
        &[SUPERVISORD_KEYS]
    } else if section.starts_with("unix_http_server") {
        &[UNIX_KEYS]
    } else if section.starts_with("inet_http_server") {
        &[INET_KEYS]
    } else if section == "supervisorctl" {
        &[CTL_KEYS]
    } else if section.starts_with("group:") {
        &[GROUP_KEYS]
    } else if section == "include" {
        &[INCLUDE_KEYS]
    } else {
        return None;
    };
    Some(lists)
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for section in context.document.sections.values() {
        let Some(known) = known_keys(&section.name) else {
            continue;
        };
        for entry in section.entries.values().filter(|e| !e.from_default) {
            if known
                .iter()
                .any(|list| list.binary_search(&&*entry.key).is_ok())
            {
                continue;
            }
            let help = if entry.key.starts_with('-') {
                "this looks like the continuation of the previous value: indent the line so it continues it (unindented, it is a separate key that supervisord ignores)".to_string()
            } else {
                match crate::suggest::closest(
                    &entry.key,
                    known.iter().flat_map(|list| list.iter().copied()),
                ) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("remove it; [{}] does not use `{}`", section.name, entry.key),
                }
            };
            diagnostics.push(
                Diagnostic::new(
                    &codes::LINT_UNKNOWN_KEY,
                    format!(
                        "[{}] has an unknown key `{}`; {} ignores it",
                        section.name,
                        entry.key,
                        if section.name == "supervisorctl" {
                            "supervisorctl"
                        } else {
                            "supervisord"
                        }
                    ),
                )
                .at(entry.key_span, "unknown key")
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_are_sorted_for_binary_search() {
        for list in [
            PROGRAM_KEYS,
            FCGI_KEYS,
            LISTENER_KEYS,
            SUPERVISORD_KEYS,
            UNIX_KEYS,
            INET_KEYS,
            CTL_KEYS,
            GROUP_KEYS,
            INCLUDE_KEYS,
        ] {
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]), "{list:?}");
        }
    }
}
