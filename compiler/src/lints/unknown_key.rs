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

/// Defines a sorted key list (for suggestions) and a `match` over the same keys (for the
/// membership test, which runs for every key of every section).
macro_rules! key_set {
    ($($list:ident, $is_known:ident: [$($key:literal),* $(,)?];)*) => {
        $(
            const $list: &[&str] = &[$($key),*];
            fn $is_known(key: &str) -> bool {
                matches!(key, $($key)|*)
            }
        )*
    };
}

key_set! {
    PROGRAM_KEYS, is_program_key: [
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
        "shutdown_exitcode",
        "shutdown_on",
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
    FCGI_KEYS, is_fcgi_key: [
        "socket",
        "socket_backlog",
        "socket_mode",
        "socket_owner",
    ];
    LISTENER_KEYS, is_listener_key: [
        "buffer_size",
        "events",
        "result_handler",
    ];
    SUPERVISORD_KEYS, is_supervisord_key: [
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
    UNIX_KEYS, is_unix_key: [
        "chmod",
        "chown",
        "file",
        "password",
        "username",
    ];
    INET_KEYS, is_inet_key: [
        "password",
        "port",
        "username",
    ];
    CTL_KEYS, is_ctl_key: [
        "history_file",
        "password",
        "prompt",
        "serverurl",
        "username",
    ];
    GROUP_KEYS, is_group_key: [
        "priority",
        "programs",
    ];
    INCLUDE_KEYS, is_include_key: [
        "files",
    ];
}

/// The key sets supervisord reads in a section of this name: each as its sorted list and its
/// membership test. `None` if every key is read (plugins pass all keys to their factory) or
/// the section is not supervisord's.
pub(crate) fn known_keys(section: &str) -> Option<&'static [KeySet]> {
    let sets: &'static [KeySet] = if section.starts_with("program:") {
        &[(PROGRAM_KEYS, is_program_key)]
    } else if section.starts_with("fcgi-program:") {
        &[(PROGRAM_KEYS, is_program_key), (FCGI_KEYS, is_fcgi_key)]
    } else if section.starts_with("eventlistener:") {
        &[
            (PROGRAM_KEYS, is_program_key),
            (LISTENER_KEYS, is_listener_key),
        ]
    } else if section == "supervisord" {
        &[(SUPERVISORD_KEYS, is_supervisord_key)]
    } else if section.starts_with("unix_http_server") {
        &[(UNIX_KEYS, is_unix_key)]
    } else if section.starts_with("inet_http_server") {
        &[(INET_KEYS, is_inet_key)]
    } else if section == "supervisorctl" {
        &[(CTL_KEYS, is_ctl_key)]
    } else if section.starts_with("group:") {
        &[(GROUP_KEYS, is_group_key)]
    } else if section == "include" {
        &[(INCLUDE_KEYS, is_include_key)]
    } else {
        return None;
    };
    Some(sets)
}

/// A sorted key list and its membership test.
pub(crate) type KeySet = (&'static [&'static str], fn(&str) -> bool);

pub(crate) fn check(context: &LintContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for section in context.document.sections.values() {
        let Some(known) = known_keys(&section.name) else {
            continue;
        };
        for entry in section.entries.values().filter(|e| !e.from_default) {
            if known.iter().any(|(_, is_known)| is_known(&entry.key)) {
                continue;
            }
            let help = if entry.key.starts_with('-') {
                "this looks like the continuation of the previous value: indent the line so it continues it (unindented, it is a separate key that supervisord ignores)".to_string()
            } else {
                match crate::suggest::closest(
                    &entry.key,
                    known.iter().flat_map(|(list, _)| list.iter().copied()),
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
    fn key_lists_are_sorted_and_match_their_tests() {
        for (list, is_known) in [
            (PROGRAM_KEYS, is_program_key as fn(&str) -> bool),
            (FCGI_KEYS, is_fcgi_key),
            (LISTENER_KEYS, is_listener_key),
            (SUPERVISORD_KEYS, is_supervisord_key),
            (UNIX_KEYS, is_unix_key),
            (INET_KEYS, is_inet_key),
            (CTL_KEYS, is_ctl_key),
            (GROUP_KEYS, is_group_key),
            (INCLUDE_KEYS, is_include_key),
        ] {
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]), "{list:?}");
            assert!(list.iter().all(|key| is_known(key)), "{list:?}");
            assert!(!is_known("command ") && !is_known(""), "{list:?}");
        }
    }
}
