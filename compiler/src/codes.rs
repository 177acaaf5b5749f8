//! The registry of diagnostic codes: every code svc can emit, exactly once.
//!
//! Codes look like `svc::<area>::<problem>` and are never reused or renamed; a code that is
//! retired stays here with `removed_since` set. Each code has a fixture under
//! `tests/fixtures/<area>/<name>.conf`, a snapshot under `snapshots/`, and its documentation
//! in `docs/diagnostics.md` (generated from this file; a test fails when it is stale). Lints
//! additionally have their own module under `lints/` with What / Why / Example / Fix.

use crate::diagnostic::Severity;

/// A registered diagnostic code.
#[derive(Debug, PartialEq, Eq)]
pub struct Code {
    /// `svc::area::name`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what the code means.
    pub summary: &'static str,
    /// The svc version that retired the code, if any.
    pub removed_since: Option<&'static str>,
}

impl Code {
    /// The area part of the name (`ini` for `svc::ini::invalid_line`).
    pub fn area(&self) -> &'static str {
        self.name.split("::").nth(1).unwrap_or("")
    }

    /// The last part of the name (`invalid_line`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit("::").next().unwrap_or("")
    }
}

macro_rules! codes {
    ($( $ident:ident = $name:literal, $severity:ident, $summary:literal; )*) => {
        $(
            #[doc = $summary]
            pub static $ident: Code = Code {
                name: $name,
                severity: Severity::$severity,
                summary: $summary,
                removed_since: None,
            };
        )*
        /// Every registered code, in registry order.
        pub static ALL: &[&Code] = &[ $( &$ident ),* ];
    };
}

codes! {
    // Reading files.
    SOURCE_NOT_FOUND = "svc::source::not_found", Error, "The configuration file does not exist.";
    SOURCE_UNREADABLE = "svc::source::unreadable", Error, "The configuration file exists but cannot be read.";
    SOURCE_NO_CONFIG_FOUND = "svc::source::no_config_found", Error, "No FILE was given and none of supervisord's default paths exists.";
    SOURCE_INVALID_UTF8 = "svc::source::invalid_utf8", Error, "The file is not valid UTF-8; supervisord refuses to decode it.";
    SOURCE_BYTE_ORDER_MARK = "svc::source::byte_order_mark", Error, "The file starts with a UTF-8 byte order mark, which supervisord reads as part of the first line.";

    // INI syntax (configparser).
    INI_INVALID_LINE = "svc::ini::invalid_line", Error, "A line is neither a [section] header, a key=value pair, a comment nor a continuation.";
    INI_EMPTY_KEY = "svc::ini::empty_key", Error, "A key=value line has no key before the delimiter.";
    INI_MISSING_SECTION_HEADER = "svc::ini::missing_section_header", Error, "A key appears before any [section] header of its file.";

    // [include].
    INCLUDE_MISSING_FILES = "svc::include::missing_files", Error, "An [include] section has no files= key.";
    INCLUDE_NO_MATCH = "svc::include::no_match", Warning, "An [include] pattern matches no file.";
    INCLUDE_UNREADABLE_FILE = "svc::include::unreadable_file", Warning, "An included file matched but cannot be read; supervisord skips it silently.";
    INCLUDE_NESTED_IGNORED = "svc::include::nested_ignored", Warning, "An included file has its own [include], which supervisord ignores.";
    INCLUDE_INCLUDES_ITSELF = "svc::include::includes_itself", Warning, "An [include] pattern matches the main configuration file, which is then read a second time.";

    // %(name)s expansion.
    EXPAND_UNKNOWN_NAME = "svc::expand::unknown_name", Error, "A %(name)s expansion names something supervisord does not define.";
    EXPAND_NAME_NOT_AVAILABLE = "svc::expand::name_not_available", Error, "A %(name)s expansion names something that exists but not for this key.";
    EXPAND_BAD_FORMAT = "svc::expand::bad_format", Error, "A % in a value is not a valid Python format (a lone %, an unclosed %(, a bad conversion).";
    EXPAND_MISSING_NAME = "svc::expand::missing_name", Error, "A % conversion has no (name), so supervisord would format its whole expansion table into the value.";

    // Host checks (errors by default, skipped by --no-host-checks).
    HOST_UNSET_ENV_VAR = "svc::host::unset_env_var", Error, "%(ENV_X)s names an environment variable that is not set.";
    HOST_UNKNOWN_USER = "svc::host::unknown_user", Error, "A user name or uid does not exist on this host.";
    HOST_UNKNOWN_GROUP = "svc::host::unknown_group", Error, "A group name or gid does not exist on this host.";
    HOST_MISSING_DIRECTORY = "svc::host::missing_directory", Error, "A directory setting names a directory that does not exist on this host.";
    HOST_MISSING_PARENT_DIRECTORY = "svc::host::missing_parent_directory", Error, "A file path's directory does not exist on this host.";

    // Typed values.
    VALUE_INVALID_BOOLEAN = "svc::value::invalid_boolean", Error, "A boolean is not one of true/false/yes/no/on/off/1/0.";
    VALUE_INVALID_INTEGER = "svc::value::invalid_integer", Error, "An integer setting is not an integer.";
    VALUE_INVALID_BYTE_SIZE = "svc::value::invalid_byte_size", Error, "A byte size is not an integer with an optional KB/MB/GB suffix.";
    VALUE_INVALID_OCTAL = "svc::value::invalid_octal", Error, "An octal setting (umask, chmod) is not an octal number.";
    VALUE_INVALID_SIGNAL = "svc::value::invalid_signal", Error, "A signal is not a known signal name or number.";
    VALUE_INVALID_EXITCODES = "svc::value::invalid_exitcodes", Error, "exitcodes is not a comma-separated list of integers 0-255.";
    VALUE_INVALID_AUTORESTART = "svc::value::invalid_autorestart", Error, "autorestart is not true, false or unexpected.";
    VALUE_INVALID_ENVIRONMENT = "svc::value::invalid_environment", Error, "environment is not a list of KEY=value pairs.";
    VALUE_INVALID_LOGLEVEL = "svc::value::invalid_loglevel", Error, "loglevel is not a supervisord log level.";
    VALUE_INVALID_PORT = "svc::value::invalid_port", Error, "A port is not an integer in 1-65535.";
    VALUE_INVALID_NAME = "svc::value::invalid_name", Error, "A program, group or process name contains a space, ':' or '/'.";
    VALUE_INVALID_OWNER = "svc::value::invalid_owner", Error, "An owner is not user or user:group.";
    VALUE_INVALID_SHUTDOWN_ON = "svc::value::invalid_shutdown_on", Error, "shutdown_on (svc only) is not fatal or unexpected.";
    VALUE_INVALID_SHUTDOWN_EXITCODE = "svc::value::invalid_shutdown_exitcode", Error, "shutdown_exitcode (svc only) is not an integer 0-255.";

    // Sections and their required keys.
    SUPERVISORD_MISSING_SECTION = "svc::supervisord::missing_section", Error, "The configuration has no [supervisord] section.";
    PROGRAM_MISSING_COMMAND = "svc::program::missing_command", Error, "A program has no command=.";
    PROGRAM_STOPASGROUP_WITHOUT_KILLASGROUP = "svc::program::stopasgroup_without_killasgroup", Error, "stopasgroup=true with killasgroup=false.";
    PROGRAM_SHUTDOWN_EXITCODE_WITHOUT_SHUTDOWN_ON = "svc::program::shutdown_exitcode_without_shutdown_on", Error, "shutdown_exitcode (svc only) is set but shutdown_on is not, so it would never be used.";
    NUMPROCS_MISSING_PROCESS_NUM = "svc::numprocs::missing_process_num", Error, "numprocs > 1 but process_name does not contain %(process_num).";
    GROUP_UNKNOWN_PROGRAM = "svc::group::unknown_program", Error, "[group:x] programs= names a program that does not exist.";
    GROUP_AMBIGUOUS_PROGRAM = "svc::group::ambiguous_program", Error, "[group:x] programs= names both a [program:x] and a [fcgi-program:x].";
    GROUP_DUPLICATE_NAME = "svc::group::duplicate_name", Error, "Two sections define a group with the same name; supervisord silently drops one.";
    GROUP_DUPLICATE_PROCESS_NAME = "svc::group::duplicate_process_name", Error, "Two processes of one group have the same name; supervisord silently drops one.";
    EVENTLISTENER_MISSING_EVENTS = "svc::eventlistener::missing_events", Error, "An [eventlistener:x] has no events=.";
    EVENTLISTENER_UNKNOWN_EVENT_TYPE = "svc::eventlistener::unknown_event_type", Error, "events= names an event type that does not exist.";
    EVENTLISTENER_INVALID_BUFFER_SIZE = "svc::eventlistener::invalid_buffer_size", Error, "buffer_size is below 1.";
    EVENTLISTENER_REDIRECT_STDERR = "svc::eventlistener::redirect_stderr", Error, "An event listener sets redirect_stderr=true, which would corrupt the listener protocol.";
    FCGI_MISSING_SOCKET = "svc::fcgi::missing_socket", Error, "An [fcgi-program:x] has no socket=.";
    FCGI_INVALID_SOCKET = "svc::fcgi::invalid_socket", Error, "socket= is not unix:///absolute/path or tcp://host:port.";
    FCGI_INVALID_SOCKET_BACKLOG = "svc::fcgi::invalid_socket_backlog", Error, "socket_backlog is not in 1-65535.";
    FCGI_UNIX_OPTION_ON_TCP = "svc::fcgi::unix_option_on_tcp", Error, "socket_owner or socket_mode is set for a TCP socket.";
    SERVER_MISSING_PORT = "svc::server::missing_port", Error, "An [inet_http_server] has no port=.";
    SERVER_MISSING_FILE = "svc::server::missing_file", Error, "A [unix_http_server] has no file=.";
    SERVER_INCOMPLETE_AUTH = "svc::server::incomplete_auth", Error, "Only one of username= and password= is set.";
    PLUGIN_MISSING_FACTORY = "svc::plugin::missing_factory", Error, "An [rpcinterface:x] has no supervisor.rpcinterface_factory (or [ctlplugin:x] no supervisor.ctl_factory).";
    PLUGIN_UNRESOLVABLE = "svc::plugin::unresolvable", Error, "A module:callable (factory or result_handler) is not one supervisor 4.3.0 provides.";
    SUPERVISORCTL_INVALID_SERVERURL = "svc::supervisorctl::invalid_serverurl", Warning, "[supervisorctl] serverurl is not a URL; supervisorctl would refuse it.";

    // Lints: warnings about what supervisord accepts silently. One module each under lints/.
    LINT_INLINE_COMMENT_TRUNCATION = "svc::lint::inline_comment_truncation", Warning, "A ; or # after whitespace cut a value short, inside quotes.";
    LINT_UNKNOWN_KEY = "svc::lint::unknown_key", Warning, "A key supervisord does not know; it is ignored.";
    LINT_UNKNOWN_SECTION = "svc::lint::unknown_section", Warning, "A section supervisord does not know; it is ignored.";
    LINT_DAEMONIZING_COMMAND = "svc::lint::daemonizing_command", Warning, "The command puts itself in the background, so supervisord loses track of it.";
    LINT_UNAUTHENTICATED_INET_SERVER = "svc::lint::unauthenticated_inet_server", Warning, "[inet_http_server] listens beyond loopback without a password.";
    LINT_SHARED_ROTATED_LOGFILE = "svc::lint::shared_rotated_logfile", Warning, "Two processes write one rotated log file.";
    LINT_ROTATED_SPECIAL_FILE = "svc::lint::rotated_special_file", Warning, "A /dev/stdout-style log file has rotation on (maxbytes > 0).";
    LINT_STARTSECS_ZERO_RETRIES = "svc::lint::startsecs_zero_retries", Warning, "startsecs=0 makes startretries meaningless.";
    LINT_PROGRAM_IN_TWO_GROUPS = "svc::lint::program_in_two_groups", Warning, "A program is listed in two [group:x] sections and runs twice.";
    LINT_UNEXPANDED_SHELL_VARIABLE = "svc::lint::unexpanded_shell_variable", Warning, "A $VAR that supervisord passes literally (it only expands %(ENV_VAR)s).";
    LINT_DUPLICATE_KEY = "svc::lint::duplicate_key", Warning, "A key is set twice in one section; the last one wins.";
    LINT_AUTO_LOG_WITHOUT_ROTATION = "svc::lint::auto_log_without_rotation", Warning, "An AUTO child log has maxbytes=0 and grows without bound.";
    LINT_REDIRECTED_STDERR_LOGFILE = "svc::lint::redirected_stderr_logfile", Warning, "stderr_logfile is set but redirect_stderr=true ignores it.";
    LINT_DEPRECATED_SYSLOG_LOGFILE = "svc::lint::deprecated_syslog_logfile", Warning, "*_logfile=syslog is deprecated; use *_syslog=true.";
    LINT_ENVIRONMENT_TRUNCATION = "svc::lint::environment_truncation", Warning, "supervisord's environment= parser silently drops part of a value.";
    LINT_EMPTY_GROUP = "svc::lint::empty_group", Warning, "A group has no processes (numprocs <= 0 or an empty programs=).";
    LINT_UNPARSABLE_COMMAND = "svc::lint::unparsable_command", Warning, "The command cannot be split like a shell would; every spawn will fail.";
    LINT_MISSING_RPCINTERFACE = "svc::lint::missing_rpcinterface", Warning, "An HTTP server is configured without [rpcinterface:supervisor]; supervisorctl cannot talk to it.";
    NUMPROCS_TOO_LARGE = "svc::numprocs::too_large", Error, "numprocs is above 100,000; svc refuses to expand it (supervisord would try and exhaust memory).";
    LINT_DEFAULT_SECTION = "svc::lint::default_section", Warning, "A [DEFAULT] section silently adds its keys to every section.";

    // svc's TOML format (compiler/src/toml/): strict where INI is lenient.
    TOML_SYNTAX = "svc::toml::syntax", Error, "A .toml file is not valid TOML (every error is reported, the first of each line).";
    TOML_UNKNOWN_KEY = "svc::toml::unknown_key", Error, "A table or key the TOML format does not have (in INI this is only a warning).";
    TOML_WRONG_TYPE = "svc::toml::wrong_type", Error, "A TOML value has a type its key does not accept (a float for startsecs, a number for command).";
    TOML_UNREPRESENTABLE_VALUE = "svc::toml::unrepresentable_value", Error, "A TOML value that supervisord's own readers cannot hold (a , in a list item, an environment value with both kinds of quotes).";
    TOML_DUPLICATE_TABLE = "svc::toml::duplicate_table", Error, "Two TOML files define the same table (INI would merge them silently).";
    TOML_INCLUDE_CYCLE = "svc::toml::include_cycle", Error, "TOML includes form a cycle: a file includes itself, directly or through others.";
}

/// Looks a code up by name.
pub fn by_name(name: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|code| code.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code.name), "duplicate code {}", code.name);
            let parts: Vec<&str> = code.name.split("::").collect();
            assert_eq!(parts.len(), 3, "{}", code.name);
            assert_eq!(parts[0], "svc");
            assert!(
                parts[2]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                code.name
            );
        }
    }
}
