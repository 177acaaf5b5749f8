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
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
];
const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];
const LISTENER_KEYS: &[&str] = &["events", "buffer_size", "result_handler"];
const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    "profile_options",
];
const UNIX_KEYS: &[&str] = &["file", "chmod", "chown", "username", "password"];
const INET_KEYS: &[&str] = &["port", "username", "password"];
const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
const GROUP_KEYS: &[&str] = &["programs", "priority"];
const INCLUDE_KEYS: &[&str] = &["files"];

/// The keys supervisord reads in a section of this name, or `None` if every key is read
/// (plugins pass all keys to their factory) or the section is not supervisord's.
pub(crate) fn known_keys(section: &str) -> Option<Vec<&'static str>> {
    let keys: Vec<&'static str> = if section.starts_with("program:") {
        PROGRAM_KEYS.to_vec()
    } else if section.starts_with("fcgi-program:") {
        [PROGRAM_KEYS, FCGI_KEYS].concat()
    } else if section.starts_with("eventlistener:") {
        [PROGRAM_KEYS, LISTENER_KEYS].concat()
    } else if section == "supervisord" {
        SUPERVISORD_KEYS.to_vec()
    } else if section.starts_with("unix_http_server") {
        UNIX_KEYS.to_vec()
    } else if section.starts_with("inet_http_server") {
        INET_KEYS.to_vec()
    } else if section == "supervisorctl" {
        CTL_KEYS.to_vec()
    } else if section.starts_with("group:") {
        GROUP_KEYS.to_vec()
    } else if section == "include" {
        INCLUDE_KEYS.to_vec()
    } else {
        return None;
    };
    Some(keys)
}

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for section in context.document.sections.values() {
        let Some(known) = known_keys(&section.name) else {
            continue;
        };
        for entry in section.entries.values().filter(|e| !e.from_default) {
            if known.contains(&entry.key.as_str()) {
                continue;
            }
            let help = if entry.key.starts_with('-') {
                "this looks like the continuation of the previous value: indent the line so it continues it (unindented, it is a separate key that supervisord ignores)".to_string()
            } else {
                match crate::suggest::closest(&entry.key, known.iter().copied()) {
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
